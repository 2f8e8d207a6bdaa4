// The access decision rules on their own: lists and windows, validity, watchlist, anti-passback, passes.
import { describe, expect, it } from 'vitest';
import { decide, inWindows, type DecisionFacts, type DecisionRules } from '../../../gateway/gate/decide.js';
import { zonedInstant } from '../../../gateway/core/time.js';

const tz = 'Asia/Shanghai';
const at = (date: string, hhmm: string) => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedInstant(y, m, d, hhmm, tz);
};
const monday = (hhmm: string) => at('2026-11-23', hhmm);

const rules: DecisionRules = {
  lists: {
    resident: { name: '业主', rule: 'auto' },
    staff: { name: '员工', rule: 'auto', windows: [{ days: [1, 2, 3, 4, 5], from: '07:00', to: '20:00' }] },
    night: { name: '夜班', rule: 'auto', windows: [{ from: '22:00', to: '06:00' }] },
    visitor: { name: '访客', rule: 'manual' },
    blocked: { name: '禁止', rule: 'deny' },
  },
  unknownVehicle: 'manual',
  antiPassback: true,
  timeZone: tz,
};

const facts = (over: Partial<DecisionFacts>): DecisionFacts => ({
  at: monday('10:00'),
  direction: 'in',
  kind: 'card',
  value: '3005127841',
  credential: null,
  pass: null,
  watchlisted: false,
  inside: () => false,
  ...over,
});
const credential = (list: string, over: Partial<NonNullable<DecisionFacts['credential']>> = {}) => ({
  id: 'c1',
  holderId: 'r1',
  holderName: '张伟',
  list,
  validFrom: null,
  validUntil: null,
  ...over,
});

describe('decide', () => {
  it('grants auto lists, holds manual ones for the guard, refuses deny lists and unknown cards', () => {
    expect(decide(facts({ credential: credential('resident') }), rules)).toEqual({ outcome: 'granted', reason: 'list-auto', subject: 'resident:r1', subjectName: '张伟', list: 'resident' });
    expect(decide(facts({ credential: credential('visitor') }), rules)).toMatchObject({ outcome: 'pending', reason: 'list-manual' });
    expect(decide(facts({ credential: credential('blocked') }), rules)).toMatchObject({ outcome: 'denied', reason: 'list-deny' });
    expect(decide(facts({ credential: credential('gone-from-config') }), rules)).toMatchObject({ outcome: 'pending', reason: 'list-manual' });
    expect(decide(facts({}), rules)).toMatchObject({ outcome: 'denied', reason: 'unknown', subject: null });
  });

  it('applies validity dates and time windows in the site time zone, including windows across midnight', () => {
    expect(decide(facts({ credential: credential('resident', { validUntil: monday('09:59') }) }), rules)).toMatchObject({ outcome: 'denied', reason: 'expired' });
    expect(decide(facts({ credential: credential('resident', { validFrom: monday('10:01') }) }), rules)).toMatchObject({ outcome: 'denied', reason: 'not-yet-valid' });
    expect(decide(facts({ credential: credential('staff'), at: monday('19:59') }), rules)).toMatchObject({ outcome: 'granted' });
    expect(decide(facts({ credential: credential('staff'), at: monday('20:00') }), rules)).toMatchObject({ outcome: 'pending', reason: 'outside-window' });
    expect(decide(facts({ credential: credential('staff'), at: at('2026-11-22', '10:00') }), rules)).toMatchObject({ outcome: 'pending', reason: 'outside-window' });
    expect(inWindows(monday('23:30'), rules.lists.night!.windows!, tz)).toBe(true);
    expect(inWindows(monday('05:59'), rules.lists.night!.windows!, tz)).toBe(true);
    expect(inWindows(monday('06:00'), rules.lists.night!.windows!, tz)).toBe(false);
    expect(inWindows(monday('21:59'), rules.lists.night!.windows!, tz)).toBe(false);
  });

  it('refuses watchlisted plates before anything else', () => {
    expect(decide(facts({ kind: 'plate', value: '粤B88888', credential: credential('resident'), watchlisted: true }), rules)).toMatchObject({ outcome: 'denied', reason: 'watchlist', subject: 'plate:粤B88888' });
  });

  it('keeps anti-passback per person for cards and per vehicle for plates, on entry only', () => {
    const inside = new Set(['resident:r1']);
    const f = { inside: (s: string) => inside.has(s) };
    expect(decide(facts({ ...f, credential: credential('resident') }), rules)).toMatchObject({ outcome: 'denied', reason: 'anti-passback' });
    // The owner walked in; the car is still outside and may come in.
    expect(decide(facts({ ...f, kind: 'plate', value: '沪A12345', credential: credential('resident') }), rules)).toMatchObject({ outcome: 'granted', subject: 'plate:沪A12345' });
    expect(decide(facts({ ...f, direction: 'out', credential: credential('resident') }), rules)).toMatchObject({ outcome: 'granted' });
    expect(decide(facts({ ...f, credential: credential('resident') }), { ...rules, antiPassback: false })).toMatchObject({ outcome: 'granted' });
  });

  it('holds unknown cars for the guard (or refuses them), and lets out one a guard let in', () => {
    const car = { kind: 'plate' as const, value: '苏E05XY7' };
    expect(decide(facts(car), rules)).toMatchObject({ outcome: 'pending', reason: 'unknown', subject: 'plate:苏E05XY7' });
    expect(decide(facts(car), { ...rules, unknownVehicle: 'deny' })).toMatchObject({ outcome: 'denied', reason: 'unknown' });
    expect(decide(facts({ ...car, direction: 'out', inside: (s) => s === 'plate:苏E05XY7' }), rules)).toMatchObject({ outcome: 'granted' });
    expect(decide(facts({ ...car, direction: 'out' }), rules)).toMatchObject({ outcome: 'pending' });
  });

  it('honours passes: validity, goods checked by the guard, and the worker curfew on entry', () => {
    const pass = { id: 'p1', kind: 'visitor' as const, holderName: '赵强', validFrom: monday('09:00'), validUntil: monday('12:00'), active: true, curfew: null };
    expect(decide(facts({ kind: 'qr', value: 'ABC234', pass }), rules)).toMatchObject({ outcome: 'granted', reason: 'pass', subject: 'pass:p1', subjectName: '赵强' });
    expect(decide(facts({ kind: 'qr', value: 'ABC234', pass, at: monday('12:01') }), rules)).toMatchObject({ outcome: 'denied', reason: 'expired' });
    expect(decide(facts({ kind: 'qr', value: 'ABC234', pass: { ...pass, active: false } }), rules)).toMatchObject({ outcome: 'denied', reason: 'expired' });
    expect(decide(facts({ kind: 'qr', value: 'ABC234', pass: { ...pass, kind: 'goods-out' } }), rules)).toMatchObject({ outcome: 'pending', reason: 'goods-check' });
    const worker = { ...pass, kind: 'worker' as const, validUntil: monday('23:59'), curfew: '19:00' };
    expect(decide(facts({ kind: 'qr', value: 'W', pass: worker, at: monday('18:59') }), rules)).toMatchObject({ outcome: 'granted' });
    expect(decide(facts({ kind: 'qr', value: 'W', pass: worker, at: monday('19:00') }), rules)).toMatchObject({ outcome: 'denied', reason: 'outside-window' });
    expect(decide(facts({ kind: 'qr', value: 'W', pass: worker, at: monday('19:30'), direction: 'out' }), rules)).toMatchObject({ outcome: 'granted' });
  });
});
