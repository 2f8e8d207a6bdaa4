// The access decision: one pure function for every credential (card, plate, pass QR) at every entry point.
import type { AccessListConfig } from '../../config/schema.js';
import { localParts, parseHhmm } from '../core/time.js';

export type Outcome = 'granted' | 'denied' | 'pending';

/**
 * Why. Granted: list-auto, pass. Denied: unknown, expired, not-yet-valid, outside-window, watchlist,
 * anti-passback, list-deny. Pending (the guard decides): unknown, list-manual, outside-window, goods-check.
 */
export type ReasonCode =
  | 'list-auto'
  | 'pass'
  | 'manual'
  | 'unknown'
  | 'expired'
  | 'not-yet-valid'
  | 'outside-window'
  | 'watchlist'
  | 'anti-passback'
  | 'list-deny'
  | 'list-manual'
  | 'goods-check'
  | 'refused';

export interface Decision {
  outcome: Outcome;
  reason: ReasonCode;
  /** Who or what was recognised: resident:<id>, pass:<id>, plate:<value>; stays are kept per subject. */
  subject: string | null;
  subjectName: string | null;
  list: string | null;
}

export interface KnownCredential {
  id: string;
  holderId: string | null;
  holderName: string | null;
  list: string;
  validFrom: number | null;
  validUntil: number | null;
}

export interface KnownPass {
  id: string;
  kind: 'visitor' | 'worker' | 'goods-out';
  holderName: string;
  validFrom: number;
  validUntil: number;
  active: boolean;
  /** Worker passes: no entry after this local time of day. */
  curfew: string | null;
}

/** Everything the decision needs, looked up beforehand so the rules stay pure and testable. */
export interface DecisionFacts {
  at: number;
  direction: 'in' | 'out';
  kind: 'card' | 'plate' | 'qr';
  value: string;
  credential: KnownCredential | null;
  pass: KnownPass | null;
  watchlisted: boolean;
  /** Is the subject this credential resolves to already inside? */
  inside: (subject: string) => boolean;
}

export interface DecisionRules {
  lists: Record<string, AccessListConfig>;
  unknownVehicle: 'manual' | 'deny';
  antiPassback: boolean;
  timeZone: string;
}

export function decide(f: DecisionFacts, rules: DecisionRules): Decision {
  const result = (outcome: Outcome, reason: ReasonCode, subject: string | null = null, subjectName: string | null = null, list: string | null = null): Decision => ({
    outcome,
    reason,
    subject,
    subjectName,
    list,
  });

  if (f.watchlisted) return result('denied', 'watchlist', f.kind === 'plate' ? `plate:${f.value}` : null);

  if (f.credential) {
    const c = f.credential;
    // A car is inside or not on its own (its owner may have walked in on a card); a card stands for its holder.
    const subject = f.kind === 'plate' ? `plate:${f.value}` : c.holderId ? `resident:${c.holderId}` : `card:${f.value}`;
    const list = rules.lists[c.list];
    if (c.validFrom !== null && f.at < c.validFrom) return result('denied', 'not-yet-valid', subject, c.holderName, c.list);
    if (c.validUntil !== null && f.at > c.validUntil) return result('denied', 'expired', subject, c.holderName, c.list);
    // A list the config no longer has is treated as the strictest safe rule: the guard decides.
    if (!list) return result('pending', 'list-manual', subject, c.holderName, c.list);
    if (list.rule === 'deny') return result('denied', 'list-deny', subject, c.holderName, c.list);
    if (rules.antiPassback && f.direction === 'in' && f.inside(subject)) return result('denied', 'anti-passback', subject, c.holderName, c.list);
    if (list.rule === 'manual') return result('pending', 'list-manual', subject, c.holderName, c.list);
    if (list.windows && !inWindows(f.at, list.windows, rules.timeZone)) return result('pending', 'outside-window', subject, c.holderName, c.list);
    return result('granted', 'list-auto', subject, c.holderName, c.list);
  }

  if (f.pass) {
    const p = f.pass;
    const subject = `pass:${p.id}`;
    if (!p.active || f.at > p.validUntil) return result('denied', 'expired', subject, p.holderName);
    if (f.at < p.validFrom) return result('denied', 'not-yet-valid', subject, p.holderName);
    // Goods leave only after the guard has looked at them.
    if (p.kind === 'goods-out') return result('pending', 'goods-check', subject, p.holderName);
    if (rules.antiPassback && f.direction === 'in' && f.inside(subject)) return result('denied', 'anti-passback', subject, p.holderName);
    if (p.kind === 'worker' && f.direction === 'in' && p.curfew !== null && minuteOf(f.at, rules.timeZone) >= parseHhmm(p.curfew)) {
      return result('denied', 'outside-window', subject, p.holderName);
    }
    return result('granted', 'pass', subject, p.holderName);
  }

  if (f.kind === 'plate') {
    const subject = `plate:${f.value}`;
    // An unknown car leaving was let in by a guard earlier: let it out.
    if (f.direction === 'out' && f.inside(subject)) return result('granted', 'list-auto', subject);
    return result(rules.unknownVehicle === 'manual' ? 'pending' : 'denied', 'unknown', subject);
  }
  return result('denied', 'unknown', null);
}

function minuteOf(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return p.hour * 60 + p.minute;
}

/** Windows may cross midnight (22:00-06:00): then "to" is on the next day. */
export function inWindows(at: number, windows: NonNullable<AccessListConfig['windows']>, timeZone: string): boolean {
  const p = localParts(at, timeZone);
  const minute = p.hour * 60 + p.minute;
  const yesterday = p.weekday === 1 ? 7 : p.weekday - 1;
  return windows.some((w) => {
    const from = parseHhmm(w.from);
    const to = parseHhmm(w.to);
    if (from <= to) return (!w.days || w.days.includes(p.weekday)) && minute >= from && minute < to;
    return ((!w.days || w.days.includes(p.weekday)) && minute >= from) || ((!w.days || w.days.includes(yesterday)) && minute < to);
  });
}
