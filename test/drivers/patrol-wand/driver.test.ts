// The patrol-wand driver over a real socat pty pair with the real serialport binding, against a wand written from the README; polls and clock on a ManualClock.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { BrokerClient, DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { patrolWandDriver, recordRejectReasons, type PatrolWandConfig } from '../../../drivers/patrol-wand/driver.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { waitFor } from '../../helpers/wait.js';
import { usePtyRig } from '../serial/socat.js';
import { SimulatedWand, type WandOptions } from './wand.js';

/** 2026-01-01 08:00:00 in Shanghai: a whole second, so $TIME goes out without waiting for one. */
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const minute = 60_000;
const day = 86_400_000;

type Checkpoint = Extract<DeviceEvent, { type: 'checkpoint' }>;
type StateEvent = Extract<DeviceEvent, { type: 'state' }>;

const rig = usePtyRig('gp-wand-', 'cradle', 'wand');

async function openWand(clock: ManualClock, opts: Partial<WandOptions> = {}): Promise<SimulatedWand> {
  const wand = new SimulatedWand(rig.peer, { now: () => clock.now(), clockErrorMs: -7 * minute, ...opts });
  await wand.open();
  rig.afterwards(() => wand.close());
  return wand;
}

function startDriver(clock: ManualClock, config: Partial<PatrolWandConfig> = {}) {
  const events: DeviceEvent[] = [];
  const rejects: Array<{ reason: string; raw: string }> = [];
  const reports: Array<Partial<DeviceHealth>> = [];
  const abort = new AbortController();
  const ctx: DriverContext = {
    deviceId: 'guardhouse-cradle',
    log: silentLogger(),
    emit: (e) => void events.push(e),
    emitMany: (batch) => batch.forEach((e) => void events.push(e)),
    report: (h) => void reports.push(h),
    reject: (reason, raw) => void rejects.push({ reason, raw: String(raw) }),
    broker: {} as BrokerClient,
    clock,
    signal: abort.signal,
  };
  const driver = patrolWandDriver.create({ kind: 'checkpoint', port: rig.host, ...config }, ctx);
  rig.afterwards(async () => {
    abort.abort();
    await driver.stop();
  });
  const checkpoints = () => events.filter((e): e is Checkpoint => e.type === 'checkpoint');
  const states = () => events.filter((e): e is StateEvent => e.type === 'state').map((e) => e.state);
  /** State events that end a download (they carry `downloaded`). */
  const downloads = () => states().filter((s) => 'downloaded' in s);
  return { driver, events, rejects, reports, checkpoints, states, downloads };
}

/**
 * Moves the manual clock in small steps while the real port does its work, until `done` holds.
 * Only for waits that need the driver's timers (polls, reply timeouts, reconnects); a download in
 * progress needs none, and is left to real time with waitFor.
 */
async function pumpUntil(clock: ManualClock, what: string, done: () => boolean, stepMs = 100, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const identity = (c: Checkpoint) => ({ tag: c.tag, id: c.wand?.id, seq: c.wand?.seq, wandTime: c.wand?.wandTime });

describe('patrol-wand driver over a socat pty pair', () => {
  it('downloads a docked wand: checkpoint events in seq order, times corrected for a clock 7 minutes slow, then sets the clock', async () => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.touch('04A1B2C3', T0 - 30 * minute);
    wand.touch('04A1B2C4', T0 - 22 * minute);
    wand.touch('04A1B2C5', T0 - 8 * minute);
    const h = startDriver(clock);
    await h.driver.start();
    expect(h.driver.health().state).toBe('online');

    await waitFor('the download to finish', () => h.downloads().length === 1, 10_000);
    expect(h.checkpoints()).toEqual([
      { type: 'checkpoint', deviceId: 'guardhouse-cradle', at: T0 - 30 * minute, tag: '04A1B2C3', wand: { id: 'W0042', seq: 1, wandTime: '20260101072300', offsetMs: 7 * minute } },
      { type: 'checkpoint', deviceId: 'guardhouse-cradle', at: T0 - 22 * minute, tag: '04A1B2C4', wand: { id: 'W0042', seq: 2, wandTime: '20260101073100', offsetMs: 7 * minute } },
      { type: 'checkpoint', deviceId: 'guardhouse-cradle', at: T0 - 8 * minute, tag: '04A1B2C5', wand: { id: 'W0042', seq: 3, wandTime: '20260101074500', offsetMs: 7 * minute } },
    ]);
    expect(h.states()).toEqual([
      { docked: true, wand: 'W0042', records: 3 },
      { docked: true, wand: 'W0042', records: 3, downloaded: 3, rejected: 0, offset_ms: 7 * minute, clock_set: true },
    ]);
    // The README's example session, command for command.
    expect(wand.heard).toEqual(['INFO', 'READ,1,3', 'TIME,20260101080000']);
    expect(wand.clockErrorMs).toBe(0);
    expect(wand.count).toBe(3); // clear_after_download is off by default
    expect(h.rejects).toEqual([]);
    expect(h.driver.health()).toMatchObject({ state: 'online', lastSeen: T0, lastError: null });

    // Docked and synced: further polls only ask $INFO.
    await pumpUntil(clock, 'two more polls', () => wand.heard.length >= 5, 500);
    expect(wand.heard.slice(3)).toEqual(['INFO', 'INFO']);
    expect(h.checkpoints()).toHaveLength(3);
  });

  it('reports a removed wand, and at its next docking emits the same records again with the same identity', async () => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.touch('04A1B2C3', T0 - 30 * minute);
    wand.touch('04A1B2C4', T0 - 22 * minute);
    const h = startDriver(clock, { poll_ms: 2000 });
    await h.driver.start();
    await waitFor('the first download', () => h.downloads().length === 1, 10_000);
    const first = h.checkpoints();

    wand.docked = false;
    await pumpUntil(clock, 'the removal', () => h.states().some((s) => s['docked'] === false));
    expect(h.states().at(-1)).toEqual({ docked: false, wand: 'W0042', records: 2 });
    // Removing the wand is not the cradle going away.
    expect(h.driver.health().state).toBe('online');
    expect(h.checkpoints()).toHaveLength(2);

    wand.docked = true;
    await pumpUntil(clock, 'the second download', () => h.downloads().length === 2);
    const second = h.checkpoints().slice(2);
    expect(second.map(identity)).toEqual(first.map(identity));
    // The wand's clock was set after the first download, but these records were stamped before
    // that: they are corrected by the reading that was valid for them, so `at` is the same too.
    expect(second.map((c) => c.at)).toEqual([T0 - 30 * minute, T0 - 22 * minute]);
    expect(h.states().filter((s) => s['docked'] === true && !('downloaded' in s))).toHaveLength(2);
  });

  it.each(['checksum', 'truncate', 'drop', 'noise'] as const)('asks again from a record whose line was damaged (%s), and delivers everything in order', async (how) => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.fill(6, T0 - 10 * minute, minute);
    wand.damage(3, how);
    const h = startDriver(clock);
    await h.driver.start();
    await waitFor('the download', () => h.downloads().length === 1, 10_000);
    expect(h.checkpoints().map((c) => c.wand?.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(wand.heard.filter((c) => c.startsWith('READ'))).toEqual(['READ,1,6', 'READ,3,4']);
    expect(h.rejects).toEqual([]);
    expect(h.checkpoints().map((c) => c.at)).toEqual([15, 14, 13, 12, 11, 10].map((m) => T0 - m * minute));
  });

  it('rejects a record damaged every time, goes on after it, and clears only below it', async () => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.fill(4, T0 - 10 * minute, minute);
    wand.damage(2, 'truncate', true);
    const h = startDriver(clock, { clear_after_download: true });
    await h.driver.start();
    await waitFor('the download', () => h.downloads().length === 1, 10_000);
    expect(h.checkpoints().map((c) => c.wand?.seq)).toEqual([1, 3, 4]);
    expect(h.rejects).toEqual([{ reason: recordRejectReasons.corrupt, raw: expect.stringMatching(/^\$REC,2,/) as unknown as string }]);
    expect(wand.heard.filter((c) => !c.startsWith('INFO'))).toEqual(['READ,1,4', 'READ,2,3', 'READ,3,2', 'TIME,20260101080000', 'CLEAR,1']);
    expect(wand.first).toBe(2);
    expect(h.downloads()[0]).toMatchObject({ records: 3, downloaded: 3, rejected: 1 });
  });

  it('rejects impossible times, counted under fixed reasons, and passes the good records on', async () => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.touch('GOOD-1', T0 - 60 * minute);
    wand.storeRaw('MONTH13', '20261301072300');
    wand.storeRaw('FEB30', '20260230072300');
    wand.touch('FUTURE', T0 + 60 * minute); // stamped before the wand's clock was wound back, say
    wand.touch('SOON', T0 + 4 * minute); // within the 5 minutes allowed
    wand.touch('OLD', T0 - 31 * day);
    wand.touch('GOOD-2', T0 - 29 * day);
    const h = startDriver(clock, { max_age_days: 30 });
    await h.driver.start();
    await waitFor('the download', () => h.downloads().length === 1, 10_000);
    expect(h.checkpoints().map((c) => c.tag)).toEqual(['GOOD-1', 'SOON', 'GOOD-2']);
    expect(h.rejects.map((r) => r.reason)).toEqual([recordRejectReasons.unparsable, recordRejectReasons.unparsable, recordRejectReasons.future, recordRejectReasons.old]);
    expect(h.rejects[0]?.raw).toMatch(/^\$REC,2,MONTH13,20261301072300\*[0-9A-F]{2}/);
    expect(h.downloads()[0]).toMatchObject({ downloaded: 3, rejected: 4 });
  });

  it('downloads 10,000 records in seq order', async () => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.fill(10_000, T0 - minute, 60_000 / 50);
    const h = startDriver(clock);
    await h.driver.start();
    await waitFor('10,000 records', () => h.downloads().length === 1, 40_000);
    const seqs = h.checkpoints().map((c) => c.wand?.seq ?? 0);
    expect(seqs).toHaveLength(10_000);
    expect(seqs.every((s, i) => s === i + 1)).toBe(true);
    expect(h.checkpoints().at(-1)?.at).toBe(T0 - minute);
    expect(h.rejects).toEqual([]);
    expect(wand.heard.filter((c) => c.startsWith('READ'))).toHaveLength(50);
  }, 60_000);

  it('rejects the records of a wand whose clock is unreadable, then repairs its clock', async () => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.touch('04A1B2C3', T0 - 30 * minute);
    wand.brokenClock = '00000000000000';
    const h = startDriver(clock, { clear_after_download: true });
    await h.driver.start();
    await waitFor('the download', () => h.downloads().length === 1, 10_000);
    expect(h.checkpoints()).toEqual([]);
    expect(h.rejects.map((r) => r.reason)).toEqual([recordRejectReasons.clock]);
    expect(wand.brokenClock).toBeNull();
    expect(wand.clockErrorMs).toBe(0);
    expect(wand.count).toBe(1); // kept for a tool that can still make sense of it
  });

  it('shows a wand that cannot read its memory in the device health, and downloads once it can', async () => {
    await rig.plugIn();
    const clock = new ManualClock(T0);
    const wand = await openWand(clock);
    wand.touch('04A1B2C3', T0 - 30 * minute);
    wand.refuse = { READ: 'MEM' };
    const h = startDriver(clock);
    await h.driver.start();
    await waitFor('the error in the health', () => h.driver.health().lastError !== null, 5000);
    expect(h.driver.health()).toMatchObject({ state: 'online', lastError: expect.stringMatching(/ERR,MEM.*could not read its record memory/) as unknown as string });
    expect(h.checkpoints()).toEqual([]);

    wand.refuse = {};
    await pumpUntil(clock, 'the download', () => h.downloads().length === 1);
    expect(h.checkpoints().map((c) => c.tag)).toEqual(['04A1B2C3']);
    expect(h.driver.health().lastError).toBeNull();
    // One docking all along: the refusal was not a removal.
    expect(h.states().filter((s) => !('downloaded' in s))).toEqual([{ docked: true, wand: 'W0042', records: 1 }]);
  });

  it('goes offline with the cradle unplugged, counts the wand as removed, and downloads it again after the replug', async () => {
    const first = await rig.plugIn();
    const clock = new ManualClock(T0);
    let wand = await openWand(clock);
    wand.touch('04A1B2C3', T0 - 30 * minute);
    const h = startDriver(clock);
    await h.driver.start();
    await waitFor('the first download', () => h.downloads().length === 1, 10_000);

    await wand.close();
    await rig.unplug(first);
    // The binding usually sees the pty hang up at once; when it does not, the next poll's write does.
    await pumpUntil(clock, 'offline', () => h.driver.health().state === 'offline');
    expect(h.states().at(-1)).toEqual({ docked: false, wand: 'W0042', records: 1 });

    await rig.plugIn();
    wand = await openWand(clock);
    wand.touch('04A1B2C3', T0 - 30 * minute);
    await pumpUntil(clock, 'the download after the replug', () => h.downloads().length === 2);
    expect(h.driver.health().state).toBe('online');
    expect(h.checkpoints().map(identity)).toEqual([
      { tag: '04A1B2C3', id: 'W0042', seq: 1, wandTime: '20260101072300' },
      { tag: '04A1B2C3', id: 'W0042', seq: 1, wandTime: '20260101072300' },
    ]);
  });

  it('refuses an unknown time zone before opening the port', async () => {
    const h = startDriver(new ManualClock(T0), { time_zone: 'Asia/Atlantis' });
    await expect(h.driver.start()).rejects.toThrow(/time zone/);
  });
});

describe('config schema', () => {
  // As config/load.ts validates: defaults filled in, every error at once.
  const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(patrolWandDriver.configSchema);

  it('fills in the defaults of a minimal config', () => {
    const config: Record<string, unknown> = { port: '/dev/serial/by-id/usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_0001-if00-port0' };
    expect(validate(config)).toBe(true);
    expect(config).toEqual({ ...config, baud: 115200, time_zone: 'Asia/Shanghai', poll_ms: 2000, max_age_days: 30, clear_after_download: false });
  });

  it('refuses a path outside /dev and values out of range', () => {
    expect(validate({ port: 'COM3', baud: 100, time_zone: '', poll_ms: 10, max_age_days: 0, clear_after_download: 'yes' })).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath).sort();
    expect(paths).toEqual(['/baud', '/clear_after_download', '/max_age_days', '/poll_ms', '/port', '/time_zone']);
  });
});
