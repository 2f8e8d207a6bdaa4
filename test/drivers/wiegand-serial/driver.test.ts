// The wiegand-serial driver over a real socat pty pair with the real serialport binding: reads, debounce, noise, unplug and replug.
import { describe, expect, it } from 'vitest';
import type { BrokerClient, DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { wiegandSerialDriver, type WiegandSerialConfig } from '../../../drivers/wiegand-serial/driver.js';
import { systemClock, type Clock } from '../../../gateway/core/clock.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { waitFor } from '../../helpers/wait.js';
import { usePtyRig } from '../serial/socat.js';
import { boxStyles, ConverterBox, flipBit, wiegandFrame } from './box.js';

/** The system clock with a hand that tests may push forward, so a debounce window passes without waiting. */
function skippableClock(): { clock: Clock; skip(ms: number): void } {
  let offset = 0;
  return {
    clock: { now: () => systemClock.now() + offset, setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms), setInterval: (fn, ms) => systemClock.setInterval(fn, ms) },
    skip: (ms) => void (offset += ms),
  };
}

const rig = usePtyRig('gp-wiegand-', 'ttyWG', 'box');

async function openBox(): Promise<ConverterBox> {
  const box = new ConverterBox(rig.peer);
  await box.open();
  rig.afterwards(() => box.close());
  return box;
}

function startDriver(config: Partial<WiegandSerialConfig>, clock: Clock = systemClock) {
  const events: DeviceEvent[] = [];
  const rejects: Array<{ reason: string; raw: string }> = [];
  const reports: Array<Partial<DeviceHealth>> = [];
  const abort = new AbortController();
  const ctx: DriverContext = {
    deviceId: 'gate-reader',
    log: silentLogger(),
    emit: (e) => void events.push(e),
    emitMany: (batch) => batch.forEach((e) => void events.push(e)),
    report: (h) => void reports.push(h),
    reject: (reason, raw) => void rejects.push({ reason, raw: String(raw) }),
    broker: {} as BrokerClient,
    clock,
    signal: abort.signal,
  };
  const full: WiegandSerialConfig = { kind: 'reader', port: rig.host, preset: 'wiegand-hex', output: 'facility-card', ...config };
  const driver = wiegandSerialDriver.create(full, ctx);
  rig.afterwards(async () => {
    abort.abort();
    await driver.stop();
  });
  return { driver, events, rejects, reports };
}

const card26 = wiegandFrame('h10301', 123, 45678);
const card34 = wiegandFrame('34bit', 0x0a1b, 0x2c3d);

describe('wiegand-serial driver over a socat pty pair', () => {
  it('turns box lines into credential events, online as soon as the port opens', async () => {
    await rig.plugIn();
    const { driver, events, rejects } = startDriver({ preset: 'wiegand-hex', output: 'facility-card' });
    await driver.start();
    expect(driver.health().state).toBe('online');
    const box = await openBox();

    await box.sendLine(boxStyles['wiegand-hex'](card26));
    await box.sendLine(boxStyles['wiegand-hex'](card34));
    await waitFor('two reads', () => events.length >= 2, 5000);
    expect(events.map((e) => e.type === 'credential' && e.credential)).toEqual([
      { kind: 'card', value: '123,45678', format: 'h10301' },
      { kind: 'card', value: '02587,11325', format: '34bit' },
    ]);
    expect(events[0]).toMatchObject({ type: 'credential', deviceId: 'gate-reader' });
    expect(rejects).toEqual([]);
    expect(driver.health().lastSeen).not.toBeNull();
  });

  it('reads raw bit strings with parity checked, in the 10-digit UID form', async () => {
    await rig.plugIn();
    const { driver, events, rejects } = startDriver({ preset: 'bits', output: 'uid32-decimal' });
    await driver.start();
    const box = await openBox();
    await box.sendLine(flipBit(card34, 12)); // a bit lost on the Wiegand pair: must not become some other card
    await box.sendLine(boxStyles.bits(card34));
    await waitFor('the good read', () => events.length >= 1, 5000);
    await waitFor('the parity reject', () => rejects.length >= 1, 5000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ credential: { kind: 'card', value: '0169552957', format: '34bit' } });
    expect(rejects[0]?.reason).toMatch(/^parity/);
  });

  it('passes a card held on the reader once, and again after the window or after another card', async () => {
    await rig.plugIn();
    const { clock, skip } = skippableClock();
    const { driver, events } = startDriver({ preset: 'hex', output: 'uid32-decimal', debounce_ms: 1500 }, clock);
    await driver.start();
    const box = await openBox();
    const a = boxStyles.hex(card34);
    const b = boxStyles.hex(wiegandFrame('34bit', 1, 2));

    await box.sendLine(a);
    await box.sendLine(a);
    await box.sendLine(a);
    await box.sendLine(b); // a marker: once it is in, the repeats of a before it were handled
    await waitFor('card b', () => events.length >= 2, 5000);
    await box.sendLine(a); // a again after another card: a new read
    await waitFor('card a again', () => events.length >= 3, 5000);
    await box.sendLine(a); // within the window of the last a
    skip(1600);
    await box.sendLine(a); // the window has passed
    await waitFor('card a after the window', () => events.length >= 4, 5000);
    await box.sendLine(b);
    await waitFor('the final marker', () => events.length >= 5, 5000);
    expect(events.map((e) => e.type === 'credential' && e.credential.value)).toEqual(['0169552957', '0000065538', '0169552957', '0169552957', '0000065538']);
  });

  it('counts noise, banners and over-long lines per device without inventing reads', async () => {
    await rig.plugIn();
    const { driver, events, rejects } = startDriver({ preset: 'wiegand-hex', output: 'card' });
    await driver.start();
    const box = await openBox();
    await box.sendLine('WG2RS232 V1.3'); // the box's boot banner
    await box.sendBytes(Buffer.from([0x00, 0xff, 0x7f, 0x0d, 0x0a])); // a burst at the wrong baud rate
    await box.sendLine('W'.repeat(300)); // a line that never ends in time
    await box.sendLine('W26:7BB26'); // a digit short
    await box.sendLine(boxStyles['wiegand-hex'](card26));
    await waitFor('the good read', () => events.length >= 1, 5000);
    await waitFor('four rejects', () => rejects.length >= 4, 5000);
    expect(events).toHaveLength(1);
    expect(rejects.map((r) => r.reason.split(':')[0])).toEqual(['garbage', 'garbage', 'line too long', 'bit-count']);
  });

  it('goes offline when the adapter is pulled and is back online within 5 s of the replug', async () => {
    const first = await rig.plugIn();
    const { driver, events, reports } = startDriver({ preset: 'wiegand-hex', output: 'card' });
    await driver.start();
    let box = await openBox();
    await box.sendLine(boxStyles['wiegand-hex'](card26));
    await waitFor('the first read', () => events.length >= 1, 5000);

    await box.close();
    await rig.unplug(first);
    await waitFor('offline', () => driver.health().state === 'offline', 5000);
    expect(driver.health().lastError).toBeTruthy();

    await rig.plugIn();
    await waitFor('online again', () => driver.health().state === 'online', 5000);
    // While offline the link may report again with a new reason ("port closed", then "no such file").
    const states = reports.map((r) => r.state).filter((s, i, all) => s !== undefined && s !== all.slice(0, i).filter(Boolean).at(-1));
    expect(states).toEqual(['starting', 'online', 'offline', 'online']);
    box = await openBox();
    await box.sendLine(boxStyles['wiegand-hex'](wiegandFrame('h10301', 1, 1)));
    await waitFor('a read after the replug', () => events.length >= 2, 5000);
  });

  it('refuses settings that can never produce a read', async () => {
    const { driver } = startDriver({ preset: 'decimal', output: 'card' });
    await expect(driver.start()).rejects.toThrow(/set format/);
  });
});
