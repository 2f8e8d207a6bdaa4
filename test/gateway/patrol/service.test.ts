// Patrol judged with an injected clock: each stop status, live missed alarms, late wand revision, plan versions.
import { readFileSync } from 'node:fs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import type { DeviceEvent } from '../../../drivers/contract.js';
import { Alarms } from '../../../gateway/alarms.js';
import { EventBus } from '../../../gateway/core/bus.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { defaultConfigPath } from '../../../gateway/core/paths.js';
import { zonedInstant } from '../../../gateway/core/time.js';
import type { PatrolPlan } from '../../../gateway/http/patrol-contracts.js';
import { Patrol } from '../../../gateway/patrol/service.js';
import { openStore, type Store } from '../../../gateway/store/db.js';
import { tempDir } from '../../helpers/gateway.js';

const tz = 'Asia/Shanghai';
const config = parseConfig(readFileSync(defaultConfigPath, 'utf8'), 'default.yaml', {});
const at = (hhmm: string, date = '2026-11-23') => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedInstant(y, m, d, hhmm, tz);
};
const plus = (hhmm: string, seconds: number) => at(hhmm) + seconds * 1000;

// One route at 22:00: A at +5 (on time ±2, early/late band 3), B at +10 (not before +7), C at +15.
const plan: PatrolPlan = {
  checkpoints: [
    { id: 'a', name: '车库A', tag: 'TAG-A', key_area: true },
    { id: 'b', name: '泵房B', tag: 'TAG-B', key_area: false },
    { id: 'c', name: '围墙C', tag: 'TAG-C', key_area: false },
  ],
  routes: [
    {
      id: 'night',
      name: '夜巡',
      ordered: true,
      stops: [
        { checkpoint: 'a', offset_min: 5, tolerance_min: 2, band_min: 3, min_walk_s: 30 },
        { checkpoint: 'b', offset_min: 10, tolerance_min: 2, band_min: 3, not_before_min: 7, min_walk_s: 120 },
        { checkpoint: 'c', offset_min: 15, tolerance_min: 2, band_min: 3, min_walk_s: 30 },
      ],
    },
  ],
  schedules: [{ id: 'n22', route: 'night', times: ['22:00'], window_min: 25 }],
  personnel: [{ tag: 'P-LI', person: 'guard-li', name: '李建国' }],
  wands: [{ wand: 'W-7', person: 'guard-wang', name: '王海' }],
};

let clock: ManualClock;
let store: Store;
let bus: EventBus;
let patrol: Patrol;
const stores: Store[] = [];
afterAll(() => stores.forEach((s) => s.close()));

beforeEach(() => {
  clock = new ManualClock(at('21:00'));
  store = openStore({ dataDir: tempDir(), now: () => clock.now() });
  stores.push(store);
  bus = new EventBus(silentLogger());
  patrol = new Patrol({ config, store, bus, clock, log: silentLogger(), alarms: new Alarms(store, bus, clock) });
  patrol.setPlan(plan, undefined, { id: 'sup-chen', role: 'supervisor' });
  patrol.start();
});

const tap = (tag: string, when: number, deviceId = 'cp-reader') => bus.emit('device.event', { type: 'checkpoint', deviceId, at: when, tag });
const wandRecord = (tag: string, when: number, seq: number): DeviceEvent => ({
  type: 'checkpoint',
  deviceId: 'cradle',
  at: when,
  tag,
  wand: { id: 'W-7', seq, wandTime: String(when), offsetMs: 0 },
});
const round = () => patrol.day('2026-11-23').rounds[0]!;
const statuses = () => Object.fromEntries(round().stops.map((s) => [s.checkpoint, s.status]));
const missedAlarms = () => store.alarms.list(false, 100).filter((a) => a.kind === 'patrol-missed');

describe('patrol evaluation', () => {
  it('judges on time, early and late, and a point never touched as missed once its window closes', () => {
    tap('P-LI', at('21:59'));
    tap('tag-a', plus('22:03', 30)); // 1.5 min early, within tolerance (2)
    tap('TAG-B', plus('22:12', 40)); // 2m40s late: in the late band
    clock.advance(at('22:19') - clock.now());
    expect(statuses()).toEqual({ a: 'on-time', b: 'late', c: 'pending' });
    expect(round().status).toBe('in-progress');
    clock.advance(at('22:21') - clock.now());
    expect(statuses()).toEqual({ a: 'on-time', b: 'late', c: 'missed' });
    expect(round().status).toBe('incomplete');
    expect(patrol.day('2026-11-23').summary).toMatchObject({ rounds: 1, complete: 0, missed: 1 });
  });

  it('marks a stop touched before one that comes earlier in the route, and a walk too fast to be true', () => {
    tap('TAG-A', at('22:05'));
    tap('TAG-C', plus('22:10', 30)); // C before B, though both in their windows
    tap('TAG-B', at('22:12')); // 90 s after C: less than the 120 s walk to B
    clock.advance(at('22:30') - clock.now());
    const r = round();
    expect(statuses()).toEqual({ a: 'on-time', b: 'on-time', c: 'out-of-order' });
    expect(r.suspicious).toEqual([{ from: 'c', to: 'b', seconds: 90, minimum: 120 }]);
    expect(r.status).toBe('complete');
  });

  it('marks a stop reached before its "not before" time as rushed', () => {
    tap('TAG-A', at('22:05'));
    tap('TAG-B', plus('22:06', 30)); // in B's window, but B may not be done before +7 min
    tap('TAG-C', at('22:15'));
    clock.advance(at('22:30') - clock.now());
    expect(statuses()).toEqual({ a: 'on-time', b: 'not-before', c: 'on-time' });
  });

  it('alarms a missed point within 5 s of its window closing, not before', () => {
    tap('TAG-A', at('22:05'));
    tap('TAG-B', at('22:10'));
    // C's window closes at 22:20 (15 + 2 + 3).
    clock.advance(at('22:20') - clock.now() - 1000);
    expect(missedAlarms()).toEqual([]);
    clock.advance(1000 + 5000);
    const [alarm] = missedAlarms();
    expect(alarm).toMatchObject({ subject: expect.stringMatching(/^n22@\d+\|c$/), resolved_at: null });
    expect(JSON.parse(alarm!.detail).title).toBe('漏巡：围墙C（夜巡 22:15）');
    clock.advance(60_000);
    expect(missedAlarms()).toHaveLength(1);
  });

  it('revises a round when a wand docks later: the alarm resolved as late, not deleted; repeats add nothing', () => {
    clock.advance(at('22:30') - clock.now());
    expect(missedAlarms()).toHaveLength(3);
    // The wand, docked at 22:30, brings the walk it recorded; its guard is its assignment.
    for (const [i, [tag, when]] of ([['TAG-A', at('22:05')], ['TAG-B', at('22:10')]] as const).entries()) bus.emit('device.event', wandRecord(tag, when, i + 1));
    expect(statuses()).toEqual({ a: 'on-time', b: 'on-time', c: 'missed' });
    expect(round().stops[0]).toMatchObject({ hitSource: 'wand', guard: '王海' });
    const alarms = missedAlarms();
    expect(alarms).toHaveLength(3);
    expect(alarms.filter((a) => a.resolution === 'resolved-late').map((a) => a.subject.split('|')[1]).sort()).toEqual(['a', 'b']);
    expect(alarms.find((a) => a.subject.endsWith('|c'))?.resolved_at).toBeNull();
    // The same records downloaded again.
    bus.emit('device.event', wandRecord('TAG-A', at('22:05'), 1));
    expect(store.patrol.hits(0, Number.MAX_SAFE_INTEGER)).toHaveLength(2);
  });

  it("names the wand's guard from the personnel tag read first", () => {
    bus.emit('device.event', wandRecord('P-LI', at('22:01'), 1));
    bus.emit('device.event', wandRecord('TAG-A', at('22:05'), 2));
    clock.advance(at('22:30') - clock.now());
    expect(round().stops[0]).toMatchObject({ status: 'on-time', guard: '李建国' });
    expect(round().guard).toBe('李建国');
  });

  it('counts a card read at a door the plan names as a checkpoint, with its holder as the guard', () => {
    const doorPlan = structuredClone(plan);
    doorPlan.checkpoints[2] = { id: 'c', name: '围墙C门禁', device: 'reader-west-door', key_area: false };
    patrol.setPlan(doorPlan, undefined, { id: 'sup-chen', role: 'supervisor' });
    store.residents.addResident({ id: 'staff-1', unit_id: null, kind: 'staff', name: '保安王海', phone: null }, clock.now());
    store.residents.addCredential({ id: 'card-1', kind: 'card', value: '1234509876', holder_id: 'staff-1', list: 'staff', valid_from: null, valid_until: null }, clock.now());
    bus.emit('device.event', { type: 'credential', deviceId: 'reader-west-door', at: at('22:15'), credential: { kind: 'card', value: '01234509876' } });
    clock.advance(at('22:30') - clock.now());
    expect(round().stops[2]).toMatchObject({ status: 'on-time', hitSource: 'event', guard: '保安王海' });
  });

  it('keeps unknown tags, shown to supervisors, and never drops them', () => {
    tap('TAG-ZZZ', at('22:07'));
    expect(patrol.day('2026-11-23').unknownTags).toEqual([{ tag: 'TAG-ZZZ', at: at('22:07'), source: 'reader', device: 'cp-reader' }]);
  });

  it('judges each round by the plan in force when it started', () => {
    clock.advance(at('22:02') - clock.now());
    // Tonight at 22:02 the supervisor moves A to +20: the 22:00 round keeps A at +5.
    const moved = structuredClone(plan);
    moved.routes[0]!.stops[0]!.offset_min = 20;
    moved.routes[0]!.stops[0]!.band_min = 2;
    moved.schedules[0]!.times = ['22:00', '23:00'];
    expect(patrol.setPlan(moved, undefined, { id: 'sup-chen', role: 'supervisor' })).toBe(2);
    tap('TAG-A', at('22:05'));
    tap('TAG-A', at('23:20'));
    clock.advance(at('23:59') - clock.now());
    const [first, second] = patrol.day('2026-11-23').rounds;
    expect(first).toMatchObject({ planVersion: 1, start: at('22:00') });
    expect(first!.stops[0]).toMatchObject({ status: 'on-time', expectedAt: at('22:05') });
    expect(second).toMatchObject({ planVersion: 2, start: at('23:00') });
    expect(second!.stops[0]).toMatchObject({ status: 'on-time', expectedAt: at('23:20') });
  });

  it('refuses plans with overlapping or empty windows and routes through missing checkpoints, with the reasons', () => {
    const bad = structuredClone(plan);
    bad.schedules.push({ id: 'overlap', route: 'night', every_min: 20, from: '08:00', to: '10:00', window_min: 25 });
    bad.schedules.push({ id: 'empty', route: 'night', every_min: 30, from: '10:00', to: '09:00', window_min: 25 });
    bad.routes[0]!.stops.push({ checkpoint: 'nowhere', offset_min: 20, tolerance_min: 1, band_min: 1, min_walk_s: 0 });
    expect(() => patrol.setPlan(bad, undefined, { id: 'sup-chen', role: 'supervisor' })).toThrow(
      /rounds every 20 min overlap their 25-min window.*starts \(10:00\) after it ends \(09:00\): an empty window|route "night" goes to checkpoint "nowhere"/s,
    );
    try {
      patrol.setPlan(bad, undefined, { id: 'sup-chen', role: 'supervisor' });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('overlap their 25-min window');
      expect(message).toContain('an empty window');
      expect(message).toContain('goes to checkpoint "nowhere", which the plan does not have');
    }
    expect(patrol.versions()).toHaveLength(1);
  });

  it('exports the day as CSV that Excel reads, and keeps the supervisor reason on a missed point', () => {
    tap('TAG-A', at('22:05'));
    clock.advance(at('22:40') - clock.now());
    const r = round();
    patrol.setReason(r.id, 'b', '泵房门锁坏，无法进入', { id: 'sup-chen', role: 'supervisor' });
    const csv = patrol.csv('2026-11-23');
    expect(csv.startsWith('\uFEFF日期,轮次开始,路线,轮次状态,巡更点')).toBe(true);
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('2026-11-23,22:00:00,夜巡,未完成,车库A,是,22:05:00,准时,22:05:00,巡更点读卡器,,');
    expect(lines[2]).toBe('2026-11-23,22:00:00,夜巡,未完成,泵房B,否,22:10:00,漏巡,,,,泵房门锁坏，无法进入');
    expect(patrol.trend(3).days.at(-1)).toMatchObject({ date: '2026-11-23', rounds: 1, completionRate: 0, missed: 2 });
  });
});
