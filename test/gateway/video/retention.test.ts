// Retention: the age sweep, the disk floor within a footage allowance, seals exempt from both, and the 24 h wait on a shorter retention.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alarms } from '../../../gateway/alarms.js';
import { EventBus } from '../../../gateway/core/bus.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { openStore, type Store } from '../../../gateway/store/db.js';
import { segmentPath } from '../../../gateway/video/layout.js';
import { footageSpace, Retention } from '../../../gateway/video/retention.js';
import { Seals } from '../../../gateway/video/seals.js';

const log = pino({ level: 'silent' });
const day = 86_400_000;
const minute = 60_000;
const supervisor = { id: 'sup-chen', name: '陈主管', role: 'supervisor' as const };

describe('retention', () => {
  let dir: string;
  let recordings: string;
  let store: Store;
  let clock: ManualClock;
  let alarms: Alarms;
  let halted: string[];
  let resumed: number;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gp-ret-'));
    recordings = join(dir, 'recordings');
    clock = new ManualClock(Date.UTC(2026, 10, 22, 12, 0, 0));
    store = openStore({ dataDir: dir, now: () => clock.now() });
    alarms = new Alarms(store, new EventBus(log), clock);
    halted = [];
    resumed = 0;
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A minute-long segment file of `bytes` at `start`, indexed. */
  function record(camera: string, start: number, bytes = 1000): string {
    const path = segmentPath(camera, start);
    mkdirSync(dirname(join(recordings, path)), { recursive: true });
    writeFileSync(join(recordings, path), Buffer.alloc(bytes, 7));
    store.video.addSegment({ camera, start_ms: start, end_ms: start + minute, path, bytes, codec: 'h264', width: 640, height: 360 });
    return path;
  }

  function retention(opts: { days?: number; floorBytes?: number; maxBytes?: number | null } = {}): Retention {
    return new Retention({
      store,
      recordingsDir: recordings,
      clock,
      log,
      alarms,
      configuredDays: opts.days ?? 60,
      floorBytes: opts.floorBytes ?? 0,
      sweepEveryMs: 300_000,
      recorders: {
        halt: async (camera) => void halted.push(camera),
        resumeAll: () => void (resumed += 1),
        cameras: () => ['north', 'south'],
      },
      space: () => footageSpace(recordings, opts.maxBytes ?? null, () => store.video.usedBytes()),
    });
  }

  function seal(camera: string, start: number, end: number, expiresAt: number | null = null): string {
    const seals = new Seals({ store, clock, ffmpeg: 'ffmpeg', recordingsDir: recordings, siteId: 'test', cameras: () => ['north', 'south'] });
    return seals.create({ title: '车辆剐蹭', reason: '业主报案，需保留证据', cameras: [camera], start, end, expiresAt }, supervisor).id;
  }

  it('deletes unsealed footage older than the retention and keeps sealed and younger footage', async () => {
    mkdirSync(recordings, { recursive: true });
    const now = clock.now();
    const old = [0, 1, 2].map((i) => record('north', now - 61 * day + i * minute));
    const sealedOld = record('south', now - 61 * day);
    const young = record('north', now - 59 * day);
    seal('south', now - 61 * day - minute, now - 61 * day + 2 * minute);
    const r = retention();
    r.start();
    const result = await r.sweepAge();
    await r.stop();
    expect(result).toEqual({ deleted: 3, bytes: 3000 });
    for (const p of old) expect(existsSync(join(recordings, p))).toBe(false);
    expect(existsSync(join(recordings, sealedOld))).toBe(true);
    expect(existsSync(join(recordings, young))).toBe(true);
    expect(store.video.segments('north', 0, now).map((s) => s.path)).toEqual([young]);
  });

  it('deletes footage again once its seal expires or is released', async () => {
    mkdirSync(recordings, { recursive: true });
    const now = clock.now();
    const path = record('north', now - 61 * day);
    seal('north', now - 62 * day, now - 60 * day, now + day);
    const r = retention();
    expect((await r.sweepAge()).deleted).toBe(0);
    clock.advance(day + 1);
    expect((await r.sweepAge()).deleted).toBe(1);
    expect(existsSync(join(recordings, path))).toBe(false);
  });

  it('a file already gone does not stop the sweep: its index row goes too', async () => {
    mkdirSync(recordings, { recursive: true });
    const now = clock.now();
    const path = record('north', now - 70 * day);
    rmSync(join(recordings, path));
    expect((await retention().sweepAge()).deleted).toBe(1);
    expect(store.video.segments('north', 0, now)).toEqual([]);
  });

  it('below the floor deletes the oldest unsealed footage first, until the floor is met, with an alarm', async () => {
    mkdirSync(recordings, { recursive: true });
    const now = clock.now();
    // A 10,000-byte allowance holding 8 segments of 1,000 bytes: 2,000 free, floor 4,500.
    const paths = Array.from({ length: 8 }, (_, i) => record(i % 2 ? 'south' : 'north', now - (8 - i) * minute));
    seal('north', now - 8 * minute, now - 7 * minute + 1);
    const r = retention({ maxBytes: 10_000, floorBytes: 4500 });
    const result = await r.enforceFloor();
    // The oldest (sealed) survives; the next three oldest go: 2,000 + 3,000 >= 4,500.
    expect(result.deleted).toBe(3);
    expect(existsSync(join(recordings, paths[0]!))).toBe(true);
    for (const p of paths.slice(1, 4)) expect(existsSync(join(recordings, p))).toBe(false);
    for (const p of paths.slice(4)) expect(existsSync(join(recordings, p))).toBe(true);
    expect(store.alarms.open('video.disk-floor', 'recordings')).toBeDefined();
    expect(halted).toEqual([]);
    // Above the floor again: the alarm clears and recorders may run.
    expect((await r.enforceFloor()).deleted).toBe(0);
    expect(store.alarms.open('video.disk-floor', 'recordings')).toBeUndefined();
    expect(resumed).toBe(1);
  });

  it('stops recording a camera rather than delete evidence when only sealed footage is left', async () => {
    mkdirSync(recordings, { recursive: true });
    const now = clock.now();
    const paths = [0, 1, 2].map((i) => record('north', now - (3 - i) * minute, 3000));
    seal('north', now - day, now);
    const r = retention({ maxBytes: 10_000, floorBytes: 5000 });
    expect((await r.enforceFloor()).deleted).toBe(0);
    for (const p of paths) expect(existsSync(join(recordings, p))).toBe(true);
    // north has only sealed footage; south has none at all, so nothing of it can be freed either.
    expect(halted).toEqual(['north', 'south']);
    expect(store.alarms.open('video.recording-stopped', 'north')).toBeDefined();
  });

  it('a shorter retention that would delete more than a day waits 24 h behind an alarm, then applies', async () => {
    mkdirSync(recordings, { recursive: true });
    const now = clock.now();
    record('north', now - 50 * day);
    retention({ days: 60 }).start();
    const shorter = retention({ days: 30 });
    shorter.start();
    expect(shorter.days()).toBe(60);
    expect(shorter.pending()).toMatchObject({ days: 30, effectiveAt: now + day, deletesBytes: 1000 });
    expect(store.alarms.open('video.retention-pending', 'recordings')).toBeDefined();
    expect((await shorter.sweepAge()).deleted).toBe(0);
    // Restarting with the same change keeps the original 24 h clock running.
    clock.advance(12 * 3600_000);
    retention({ days: 30 }).start();
    clock.advance(12 * 3600_000);
    expect((await shorter.sweepAge()).deleted).toBe(1);
    expect(shorter.days()).toBe(30);
    expect(store.alarms.open('video.retention-pending', 'recordings')).toBeUndefined();
    expect(store.audit.recent(5).some((e) => e.action === 'video.retention.apply')).toBe(true);
    await shorter.stop();
  });

  it('a shorter retention that deletes less than a day, or a longer one, applies at once', () => {
    mkdirSync(recordings, { recursive: true });
    const now = clock.now();
    record('north', now - 30 * day - 3600_000);
    retention({ days: 60 }).start();
    const r = retention({ days: 30 });
    r.start();
    expect(r.days()).toBe(30);
    const longer = retention({ days: 90 });
    longer.start();
    expect(longer.days()).toBe(90);
    expect(longer.pending()).toBeNull();
  });
});
