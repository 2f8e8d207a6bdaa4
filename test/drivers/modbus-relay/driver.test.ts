// The modbus-relay barrier driver over a real socat pty pair against a real Modbus RTU slave (pymodbus 3.0, slave.py).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerClient, DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { modbusRelayDriver, ModbusRelayBarrier, positionOf, type ModbusRelayConfig } from '../../../drivers/modbus-relay/driver.js';
import { systemClock } from '../../../gateway/core/clock.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { waitFor } from '../../helpers/wait.js';
import { startPtyPair, stopPtyPair } from '../serial/socat.js';

const slaveScript = join(packageRoot, 'test/drivers/modbus-relay/slave.py');

/** The Python slave: its stdout lines ("coil 1 0 1", "di 1 0 1") and a stdin to script it. */
interface Slave {
  proc: ChildProcess;
  lines: string[];
  send(line: string): void;
}

let dir: string;
let devPath: string;
let peerPath: string;
let socat: ChildProcess | null;
const slaves = new Set<Slave>();
const drivers = new Set<ModbusRelayBarrier>();

async function startSlave(args: string[] = []): Promise<Slave> {
  // Only Debian's interpreter has python3-pymodbus and python3-serial-asyncio.
  const proc = spawn('/usr/bin/python3', [slaveScript, '--port', peerPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  proc.stdout?.on('data', (d: Buffer) => {
    partial += String(d);
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  proc.stderr?.on('data', (d: Buffer) => void (stderr += String(d)));
  const slave: Slave = { proc, lines, send: (line) => void proc.stdin?.write(`${line}\n`) };
  slaves.add(slave);
  await waitFor(`the Modbus slave to start (${stderr})`, () => lines.includes('ready') || proc.exitCode !== null, 10_000);
  if (!lines.includes('ready')) throw new Error(`slave.py exited with ${proc.exitCode}: ${stderr}`);
  return slave;
}

async function stopSlave(slave: Slave): Promise<void> {
  slaves.delete(slave);
  if (slave.proc.exitCode !== null || slave.proc.signalCode !== null) return;
  const exited = new Promise((r) => slave.proc.once('exit', r));
  slave.proc.kill('SIGTERM');
  await exited;
}

interface Harness {
  driver: ModbusRelayBarrier;
  events: DeviceEvent[];
  health: DeviceHealth;
  rejects: { reason: string; raw: Buffer }[];
}

const noBroker: BrokerClient = {
  subscribe: () => Promise.reject(new Error('this driver has no business with MQTT')),
  publish: () => Promise.reject(new Error('this driver has no business with MQTT')),
};

function makeDriver(config: Partial<ModbusRelayConfig> = {}, deviceId = 'barrier-1'): Harness {
  const h: Harness = { driver: null as unknown as ModbusRelayBarrier, events: [], health: { state: 'stopped', lastSeen: null, lastError: null }, rejects: [] };
  const ctx: DriverContext = {
    deviceId,
    log: pino({ level: 'silent' }),
    emit: (e) => void h.events.push(e),
    emitMany: (batch) => batch.forEach((e) => void h.events.push(e)),
    report: (change) => void (h.health = { ...h.health, ...change }),
    reject: (reason, raw) => void h.rejects.push({ reason, raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw) }),
    broker: noBroker,
    clock: systemClock,
    signal: new AbortController().signal,
  };
  const full: ModbusRelayConfig = {
    port: devPath,
    unit: 1,
    open_coil: 0,
    close_coil: 1,
    up_input: 0,
    down_input: 1,
    loop_input: 2,
    pulse_ms: 150,
    poll_ms: 50,
    response_timeout_ms: 200,
    retries: 1,
    up_timeout_ms: 3000,
    ...config,
  };
  h.driver = modbusRelayDriver.create(full, ctx) as ModbusRelayBarrier;
  drivers.add(h.driver);
  return h;
}

const positions = (h: Harness): unknown[] => h.events.map((e) => (e.type === 'state' ? e.state.position : undefined));
const online = (h: Harness) => () => h.health.state === 'online';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-modbus-'));
  devPath = join(dir, 'dev');
  peerPath = join(dir, 'peer');
  socat = await startPtyPair(devPath, peerPath);
});

afterEach(async () => {
  await Promise.all([...drivers].map((d) => d.stop()));
  drivers.clear();
  await Promise.all([...slaves].map(stopSlave));
  if (socat) await stopPtyPair(socat);
  socat = null;
  await rm(dir, { recursive: true, force: true });
});

describe('modbus-relay barrier against pymodbus over a pty', () => {
  it('pulses the OPEN coil and answers ok once the up switch closes; close likewise', async () => {
    const slave = await startSlave(['--arm-ms', '300']);
    const h = makeDriver();
    await h.driver.start();
    await waitFor('the board to answer', online(h));
    await waitFor('the initial state', () => positions(h).includes('down'));
    expect(h.events[0]).toMatchObject({ type: 'state', deviceId: 'barrier-1', state: { position: 'down', loop: false } });

    const result = await h.driver.command({ type: 'open', params: { decision: 'd-1' } });
    expect(result).toEqual({ ok: true });
    // The slave saw the coil go on and then off again: a pulse, not a latch.
    const coil0 = slave.lines.filter((l) => l.startsWith('coil 1 0 '));
    expect(coil0).toEqual(['coil 1 0 1', 'coil 1 0 0']);
    expect(slave.lines.indexOf('di 1 0 1')).toBeGreaterThan(slave.lines.indexOf('coil 1 0 1'));
    expect(positions(h).at(-1)).toBe('up');

    expect(await h.driver.command({ type: 'close' })).toEqual({ ok: true });
    expect(slave.lines.filter((l) => l.startsWith('coil 1 1 '))).toEqual(['coil 1 1 1', 'coil 1 1 0']);
    expect(positions(h).at(-1)).toBe('down');
    expect(h.rejects).toEqual([]);
  });

  it('fails with the timeout detail when the arm never reaches up, still switching the coil off', async () => {
    const slave = await startSlave(['--arm', 'never']);
    const h = makeDriver({ up_timeout_ms: 1000 });
    await h.driver.start();
    await waitFor('the board to answer', online(h));

    const result = await h.driver.command({ type: 'open' });
    expect(result).toEqual({ ok: false, detail: 'barrier did not reach up within 1000 ms' });
    expect(slave.lines.filter((l) => l.startsWith('coil 1 0 '))).toEqual(['coil 1 0 1', 'coil 1 0 0']);
    // The down switch opened, the up switch never closed: the arm is stuck half-way.
    expect(positions(h).at(-1)).toBe('moving');
  });

  it('emits a state event when the vehicle loop changes', async () => {
    const slave = await startSlave();
    const h = makeDriver();
    await h.driver.start();
    await waitFor('the initial state', () => h.events.length > 0);

    slave.send('di 1 2 1');
    await waitFor('loop: true', () => h.events.some((e) => e.type === 'state' && e.state.loop === true));
    slave.send('di 1 2 0');
    await waitFor('loop: false again', () => h.events.filter((e) => e.type === 'state' && e.state.loop === false).length >= 2);
    expect(h.events.map((e) => (e.type === 'state' ? e.state : null))).toEqual([
      { position: 'down', loop: false },
      { position: 'down', loop: true },
      { position: 'down', loop: false },
    ]);
  });

  it('fails a command with the named exception when the coil does not exist on the board', async () => {
    await startSlave(['--coils', '8']);
    const h = makeDriver({ open_coil: 20, close_coil: 21 });
    await h.driver.start();
    await waitFor('the board to answer', online(h));

    const result = await h.driver.command({ type: 'open' });
    expect(result.ok).toBe(false);
    expect(result.detail).toBe('relay board unit 1 refused to switch coil 20 on: illegal data address (exception 2)');
    expect(h.rejects.map((r) => r.reason)).toContain('exception: illegal data address');
    expect(h.rejects.find((r) => r.reason.startsWith('exception'))?.raw.toString('hex')).toBe('018502c351');
  });

  it('goes offline when the slave stops, fails commands fast with a clear detail, and comes back when it answers again', async () => {
    const first = await startSlave();
    const h = makeDriver();
    await h.driver.start();
    await waitFor('the board to answer', online(h));

    await stopSlave(first);
    await waitFor('offline', () => h.health.state === 'offline');
    expect(h.health.lastError).toMatch(/^relay board unit 1 on .* is not answering: no response within 200 ms/);
    const reportedRejects = h.rejects.length;

    const result = await h.driver.command({ type: 'open' });
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^relay board unit 1 on .* is not answering: no response within 200 ms to "switch coil 0 on" \(1 try\)$/);
    // Silence is reported once as offline, not counted again for every probe.
    expect(h.rejects.length).toBe(reportedRejects);

    const second = await startSlave();
    await waitFor('back online', online(h), 10_000);
    expect(h.health.lastError).toBeNull();
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: true });
    expect(second.lines).toContain('coil 1 0 1');
  });

  it('survives an unplug: offline with the port error, commands fail at once, online within 5 s of the replug', async () => {
    const slave = await startSlave();
    const h = makeDriver();
    await h.driver.start();
    await waitFor('the board to answer', online(h));

    await stopPtyPair(socat as ChildProcess);
    socat = null;
    await stopSlave(slave);
    await waitFor('offline', () => h.health.state === 'offline' && /serial port/.test(h.health.lastError ?? ''));
    const result = await h.driver.command({ type: 'open' });
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^serial port .*\/dev is offline/);

    socat = await startPtyPair(devPath, peerPath);
    await startSlave();
    await waitFor('online after the replug', online(h), 5000);
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: true });
  });

  it('shares one port between two boards with different unit ids, serialising their transactions', async () => {
    const slave = await startSlave(['--unit', '1', '--unit', '2']);
    const a = makeDriver({ unit: 1 }, 'barrier-a');
    const b = makeDriver({ unit: 2 }, 'barrier-b');
    await Promise.all([a.driver.start(), b.driver.start()]);
    await waitFor('both boards to answer', () => online(a)() && online(b)());

    const [ra, rb] = await Promise.all([a.driver.command({ type: 'open' }), b.driver.command({ type: 'open' })]);
    expect(ra).toEqual({ ok: true });
    expect(rb).toEqual({ ok: true });
    expect(slave.lines.filter((l) => l.startsWith('coil '))).toEqual(expect.arrayContaining(['coil 1 0 1', 'coil 1 0 0', 'coil 2 0 1', 'coil 2 0 0']));
    expect(a.rejects).toEqual([]);
    expect(b.rejects).toEqual([]);

    // The port stays open for b after a leaves.
    await a.driver.stop();
    expect(await b.driver.command({ type: 'close' })).toEqual({ ok: true });

    // A third board on the same port at another baud rate is a config error, not a guess.
    const c = makeDriver({ unit: 3, baud: 19200 }, 'barrier-c');
    await expect(c.driver.start()).rejects.toThrow(/already in use at 9600 baud/);
  });

  it('switches a pulsing coil off before letting go of the port when stopped mid-pulse', async () => {
    const slave = await startSlave();
    const h = makeDriver({ pulse_ms: 10_000 });
    await h.driver.start();
    await waitFor('the board to answer', online(h));
    const pending = h.driver.command({ type: 'open' });
    await waitFor('the coil to go on', () => slave.lines.includes('coil 1 0 1'));
    await h.driver.stop();
    expect(await pending).toEqual({ ok: false, detail: 'driver stopped' });
    expect(slave.lines.filter((l) => l.startsWith('coil 1 0 '))).toEqual(['coil 1 0 1', 'coil 1 0 0']);
  });

  it('keeps trying to switch off a coil the board stopped answering for mid-pulse', async () => {
    const first = await startSlave();
    const h = makeDriver({ pulse_ms: 1000 });
    await h.driver.start();
    await waitFor('the board to answer', online(h));
    const pending = h.driver.command({ type: 'open' });
    await waitFor('the coil to go on', () => first.lines.includes('coil 1 0 1'));
    await stopSlave(first);
    const result = await pending;
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^coil 0 may still be on \(will keep trying\): relay board unit 1 on .* is not answering/);

    // The board is back (its relay may really still be on): the driver's next poll switches it off.
    const second = await startSlave();
    await waitFor('the coil switched off after the board came back', () => second.lines.includes('coil 1 0 0'), 10_000);
  });

  it('answers close without a close coil and unknown commands with a reason', async () => {
    await startSlave();
    const h = makeDriver({ close_coil: undefined });
    await h.driver.start();
    expect(await h.driver.command({ type: 'close' })).toEqual({ ok: false, detail: 'no close_coil configured: this barrier closes by itself' });
    expect(await h.driver.command({ type: 'dance' })).toEqual({ ok: false, detail: 'unknown command "dance"' });
    await h.driver.stop();
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: false, detail: 'driver not running' });
    expect(h.health.state).toBe('stopped');
  });
});

describe('config schema', () => {
  // As config/load.ts validates: defaults filled in, every error at once.
  const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(modbusRelayDriver.configSchema);

  it('fills in the defaults of a minimal config', () => {
    const config: Record<string, unknown> = { port: '/dev/serial/by-id/usb-FTDI_FT232R_A10K1XYZ-if00-port0', unit: 3, open_coil: 0 };
    expect(validate(config)).toBe(true);
    expect(config).toEqual({ ...config, baud: 9600, parity: 'none', pulse_ms: 500, up_timeout_ms: 6000, poll_ms: 250, response_timeout_ms: 300, retries: 2 });
  });

  it('refuses a path outside /dev, a unit out of range and an odd baud rate', () => {
    expect(validate({ port: 'COM3', unit: 248, open_coil: -1, baud: 9601, parity: 'mark' })).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath).sort();
    expect(paths).toEqual(['/baud', '/open_coil', '/parity', '/port', '/unit']);
  });
});

describe('positionOf', () => {
  it('reads the limit switches', () => {
    expect(positionOf(true, false)).toBe('up');
    expect(positionOf(false, true)).toBe('down');
    expect(positionOf(false, false)).toBe('moving');
    expect(positionOf(true, true)).toBe('moving');
    expect(positionOf(true, null)).toBe('up');
    expect(positionOf(false, null)).toBe('down');
    expect(positionOf(null, true)).toBe('down');
    expect(positionOf(null, null)).toBeNull();
  });
});
