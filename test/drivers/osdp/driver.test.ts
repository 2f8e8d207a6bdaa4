// The OSDP driver against the simulated PD: poll logic on a manual clock, then everything over real socat pty pairs with the real serialport binding.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../../gateway/core/clock.js';
import type { BrokerClient, DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import type { BusTransport, TransportFactory } from '../../../drivers/osdp/bus.js';
import { createOsdpDriver, OsdpDeviceConfigSchema, osdpDriver, type OsdpDeviceConfig, type OsdpReader } from '../../../drivers/osdp/driver.js';
import { startPtyPair, stopPtyPair } from '../serial/socat.js';
import { h10301Bits, POISON_CARD, SimBus, SimulatedPd } from './pd.js';

const KEY = '00112233445566778899aabbccddeeff';

/** Polls until `cond` holds; fails with `what` after `ms`. A deadline only, never a measurement. */
async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Harness {
  ctx: DriverContext;
  events: DeviceEvent[];
  health: Array<Partial<DeviceHealth>>;
  rejects: string[];
  cards: () => string[];
}

function harness(deviceId: string, clock: Clock): Harness {
  const events: DeviceEvent[] = [];
  const health: Array<Partial<DeviceHealth>> = [];
  const rejects: string[] = [];
  const ctx: DriverContext = {
    deviceId,
    log: pino({ level: 'silent' }),
    emit: (e) => events.push(e),
    emitMany: (batch) => batch.forEach((e) => events.push(e)),
    report: (h) => health.push(h),
    reject: (reason) => rejects.push(reason),
    broker: {} as BrokerClient,
    clock,
    signal: new AbortController().signal,
  };
  const cards = () => events.flatMap((e) => (e.type === 'credential' && e.credential.kind === 'card' ? [e.credential.value] : []));
  return { ctx, events, health, rejects, cards };
}

const codes = (pd: SimulatedPd) => pd.commands.map((c) => c.code);

describe('osdpDriver definition and config schema', () => {
  // Validated the way config/load.ts does (Ajv with defaults).
  const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(OsdpDeviceConfigSchema);

  it('is type osdp for readers', () => {
    expect(osdpDriver).toMatchObject({ type: 'osdp', kinds: ['reader'] });
  });

  it('accepts a reader and fills the defaults', () => {
    const config: Record<string, unknown> = { port: '/dev/serial/by-id/usb-FTDI-if00-port0', address: 1, scbk: KEY };
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    expect(config).toMatchObject({ baud: 9600, poll_ms: 200, reply_timeout_ms: 200, offline_after: 3 });
  });

  it('refuses a bad port, baud, address or key', () => {
    for (const bad of [
      { port: 'COM3', address: 1 },
      { port: '/dev/ttyUSB0', address: 1, baud: 4800 },
      { port: '/dev/ttyUSB0', address: 127 },
      { port: '/dev/ttyUSB0', address: 1, scbk: 'xyz' },
    ]) {
      expect(validate({ ...bad }), JSON.stringify(bad)).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Poll logic on a manual clock: an in-memory wire between the bus and simulated PDs.

/** A transport that hands every written packet to the PDs and their replies back, in microtasks. */
function memoryWire(pds: SimulatedPd[]): { factory: TransportFactory; unplug(): void; replug(): void } {
  let hooks: Parameters<TransportFactory>[1] | null = null;
  let state: BusTransport['state'] = 'stopped';
  const factory: TransportFactory = (_opts, ctx) => {
    hooks = ctx;
    return {
      get state() {
        return state;
      },
      async start() {
        state = 'online';
        ctx.onState('online');
      },
      async stop() {
        state = 'stopped';
      },
      async write(bytes) {
        if (state !== 'online') throw new Error('offline');
        const frame = Buffer.from(bytes);
        queueMicrotask(() => {
          for (const pd of pds) {
            const reply = pd.handle(frame);
            if (reply && state === 'online') ctx.onData(reply);
          }
        });
      },
    };
  };
  return {
    factory,
    unplug() {
      state = 'offline';
      hooks?.onState('offline', 'unplugged');
    },
    replug() {
      state = 'online';
      hooks?.onState('online');
    },
  };
}

/** Lets microtasks and promise chains run; the manual clock does not move. */
const settle = () => new Promise((r) => setImmediate(r));

async function advance(clock: ManualClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle();
  }
}

describe('OSDP poll logic (manual clock)', () => {
  async function setup(config: Partial<OsdpDeviceConfig> = {}, pdOptions: Partial<ConstructorParameters<typeof SimulatedPd>[0]> = {}) {
    const clock = new ManualClock(1_000_000);
    const pd = new SimulatedPd({ address: 1, ...pdOptions });
    const wire = memoryWire([pd]);
    const def = createOsdpDriver({ transport: wire.factory });
    const h = harness('gate-reader', clock);
    const reader = def.create({ port: '/dev/osdp-test', address: 1, poll_ms: 100, reply_timeout_ms: 50, offline_after: 3, ...config }, h.ctx) as OsdpReader;
    await reader.start();
    await settle();
    return { clock, pd, wire, h, reader };
  }

  it('says ID, CAP, LSTAT on first contact, then polls with sequence 0,1,2,3,1,2', async () => {
    const { clock, pd, h, reader } = await setup();
    await advance(clock, 500);
    expect(reader.health().state).toBe('online');
    expect(codes(pd).slice(0, 3)).toEqual([0x61, 0x62, 0x64]);
    expect(pd.commands.slice(0, 6).map((c) => c.sequence)).toEqual([0, 1, 2, 3, 1, 2]);
    // poll_ms 100 over 500 ms: a handful of polls, not a flood.
    const polls = codes(pd).filter((c) => c === 0x60).length;
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(polls).toBeLessThanOrEqual(6);
    expect(h.events.filter((e) => e.type === 'state')).toHaveLength(1);
    await reader.stop();
  });

  it('resends the same sequence after a timeout and goes offline after exactly offline_after misses', async () => {
    const { clock, pd, h, reader } = await setup();
    await advance(clock, 300);
    expect(reader.health().state).toBe('online');
    pd.silent = true;
    const before = pd.commands.length;
    await advance(clock, 400);
    expect(reader.health().state).toBe('offline');
    expect(reader.health().lastError).toMatch(/no reply to 3 commands/);
    expect(reader.counters().timeouts).toBe(3);
    // The PD heard nothing (silent), so no new commands were recorded by it, but the driver sent 3.
    expect(pd.commands.length).toBe(before);
    expect(h.health.filter((x) => x.state === 'offline')).toHaveLength(1);

    pd.silent = false;
    await advance(clock, 1500);
    expect(reader.health().state).toBe('online');
    // Back with sequence 0 and a fresh ID.
    const again = pd.commands.slice(before);
    expect(again[0]).toMatchObject({ code: 0x61, sequence: 0 });
    await reader.stop();
  });

  it('retries a lost reply with the same sequence number, and the PD repeats its last reply', async () => {
    const { clock, pd, reader } = await setup();
    await advance(clock, 300);
    pd.inject('bad-crc');
    pd.queueCard(h10301Bits(18, 31415));
    await advance(clock, 300);
    const sent = reader.counters();
    expect(sent.timeouts).toBe(1);
    expect(sent.cards).toBe(1);
    expect(reader.health().state).toBe('online');
    await reader.stop();
  });

  it('resyncs with sequence 0 after a NAK for the sequence number (PD rebooted)', async () => {
    const { clock, pd, reader } = await setup();
    await advance(clock, 300);
    pd.reboot();
    await advance(clock, 300);
    expect(reader.counters().naks).toBeGreaterThanOrEqual(1);
    const seqs = pd.commands.map((c) => c.sequence);
    expect(seqs.lastIndexOf(0)).toBeGreaterThan(2);
    expect(reader.health().state).toBe('online');
    await reader.stop();
  });

  it('collects a PIN key by key until #', async () => {
    const { clock, pd, h, reader } = await setup();
    await advance(clock, 300);
    pd.queueKeys('12');
    pd.queueKeys('3*45');
    pd.queueKeys('67#');
    await advance(clock, 500);
    expect(h.events.filter((e) => e.type === 'credential').map((e) => e.type === 'credential' && e.credential)).toEqual([{ kind: 'pin', value: '4567' }]);
    await reader.stop();
  });

  it('reports tamper and power from osdp_LSTATR', async () => {
    const { clock, pd, h, reader } = await setup();
    await advance(clock, 300);
    pd.setStatus({ tamper: true, powerFail: true });
    await advance(clock, 300);
    const states = h.events.filter((e) => e.type === 'state');
    expect(states.at(-1)).toMatchObject({ state: { tamper: true, power: 'fail' } });
    await reader.stop();
  });

  it('goes offline at once when the port goes, and back without waiting out a backoff', async () => {
    const { clock, wire, reader } = await setup();
    await advance(clock, 300);
    wire.unplug();
    await settle();
    expect(reader.health()).toMatchObject({ state: 'offline', lastError: expect.stringMatching(/offline: unplugged/) });
    await advance(clock, 20_000, 100);
    wire.replug();
    await advance(clock, 200);
    expect(reader.health().state).toBe('online');
    await reader.stop();
  });

  it('refuses a wrong key: offline with a secure channel error, and never polls in plain text', async () => {
    const { clock, pd, reader } = await setup({ scbk: KEY }, { scbk: Buffer.from('ffeeddccbbaa99887766554433221100', 'hex') });
    await advance(clock, 500);
    expect(reader.health()).toMatchObject({ state: 'offline', lastError: expect.stringMatching(/secure channel/) });
    expect(codes(pd)).not.toContain(0x60);
    await reader.stop();
  });

  it('restarts the secure channel when a reply MAC fails, and is back with a new session', async () => {
    const { clock, pd, reader } = await setup({ scbk: KEY }, { scbk: Buffer.from(KEY, 'hex') });
    await advance(clock, 500);
    expect(reader.secure).toBe(true);
    const handshakes = () => codes(pd).filter((c) => c === 0x76).length;
    expect(handshakes()).toBe(1);
    pd.breakSession();
    await advance(clock, 500);
    expect(reader.counters().rejects['bad-mac']).toBe(1);
    expect(handshakes()).toBe(2);
    expect(reader.secure).toBe(true);
    expect(reader.health().state).toBe('online');
    await reader.stop();
  });

  it('answers a command for an offline reader at once', async () => {
    const { clock, pd, reader } = await setup();
    pd.silent = true;
    await advance(clock, 500);
    expect(reader.health().state).toBe('offline');
    expect(await reader.command({ type: 'led', params: { color: 'red', ms: 500 } })).toEqual({ ok: false, detail: 'device offline' });
    expect(await reader.command({ type: 'led', params: { color: 'purple' } })).toMatchObject({ ok: false, detail: expect.stringMatching(/color/) });
    await reader.stop();
  });

  it('rejects a mismatched baud rate and a duplicate address on one port', async () => {
    const clock = new ManualClock();
    const wire = memoryWire([]);
    const def = createOsdpDriver({ transport: wire.factory });
    const a = def.create({ port: '/dev/x', address: 1 }, harness('a', clock).ctx);
    await a.start();
    const b = def.create({ port: '/dev/x', address: 2, baud: 115200 }, harness('b', clock).ctx);
    await expect(b.start()).rejects.toThrow(/baud/);
    const c = def.create({ port: '/dev/x', address: 1 }, harness('c', clock).ctx);
    await expect(c.start()).rejects.toThrow(/address 1/);
    await a.stop();
  });
});

// ---------------------------------------------------------------------------------------------
// Over real pseudo-terminals.

let dir: string;
let devPath: string;
let pdPath: string;
const socats = new Set<ChildProcess>();
const simBuses = new Set<SimBus>();
const readers = new Set<OsdpReader>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-osdp-'));
  devPath = join(dir, 'acu');
  pdPath = join(dir, 'pd');
});

afterEach(async () => {
  await Promise.all([...readers].map((r) => r.stop()));
  readers.clear();
  await Promise.all([...simBuses].map((b) => b.close()));
  simBuses.clear();
  await Promise.all([...socats].map((p) => stopPtyPair(p)));
  socats.clear();
  await rm(dir, { recursive: true, force: true });
});

async function socat(): Promise<ChildProcess> {
  const p = await startPtyPair(devPath, pdPath);
  socats.add(p);
  return p;
}

async function simBus(baud: number, pds: SimulatedPd[]): Promise<SimBus> {
  const bus = new SimBus(pdPath, baud, pds);
  await bus.open();
  simBuses.add(bus);
  return bus;
}

async function startReader(def: ReturnType<typeof createOsdpDriver>, id: string, config: Partial<OsdpDeviceConfig> & { address: number }): Promise<{ reader: OsdpReader; h: Harness }> {
  const h = harness(id, systemClock);
  const reader = def.create({ port: devPath, poll_ms: 50, ...config }, h.ctx) as OsdpReader;
  readers.add(reader);
  await reader.start();
  return { reader, h };
}

describe('OSDP over a socat pty pair', () => {
  for (const baud of [9600, 115200] as const) {
    it(`polls a PD at ${baud} baud, turns a RAW read into a card credential, and gets an LED and a buzzer acked`, async () => {
      await socat();
      const pd = new SimulatedPd({ address: 1 });
      await simBus(baud, [pd]);
      const { reader, h } = await startReader(createOsdpDriver(), 'reader-gate', { address: 1, baud });
      await waitFor(() => reader.health().state === 'online', 'the PD online');
      pd.queueCard(h10301Bits(18, 31415));
      await waitFor(() => h.cards().length === 1, 'a card read');
      expect(h.events.find((e) => e.type === 'credential')).toMatchObject({ deviceId: 'reader-gate', credential: { kind: 'card', value: '31415', format: 'h10301' } });
      expect(await reader.command({ type: 'led', params: { color: 'green', ms: 1500 } })).toEqual({ ok: true });
      expect(pd.leds.at(-1)?.subarray(0, 9)).toEqual(Buffer.from([0, 0, 2, 15, 0, 2, 0, 15, 0]));
      expect(await reader.command({ type: 'buzzer', params: { ms: 300 } })).toEqual({ ok: true });
      expect(pd.buzzes).toHaveLength(1);
      expect(await reader.command({ type: 'open' })).toMatchObject({ ok: false });
      expect(reader.health().lastSeen).not.toBeNull();
    });
  }

  it('opens the secure channel with the configured key and reads a card through it', async () => {
    await socat();
    const pd = new SimulatedPd({ address: 3, scbk: Buffer.from(KEY, 'hex') });
    await simBus(9600, [pd]);
    const { reader, h } = await startReader(createOsdpDriver(), 'reader-secure', { address: 3, scbk: KEY });
    await waitFor(() => reader.health().state === 'online', 'the PD online');
    expect(reader.secure).toBe(true);
    expect(pd.secureActive).toBe(true);
    pd.queueCard(h10301Bits(200, 65000));
    await waitFor(() => h.cards().length === 1, 'a card read through the secure channel');
    expect(h.cards()).toEqual(['65000']);
    expect(await reader.command({ type: 'led', params: { color: 'red', ms: 500 } })).toEqual({ ok: true });
    // Every command after the handshake was MAC'd and checked by the PD.
    const afterHandshake = pd.commands.slice(pd.commands.findIndex((c) => c.code === 0x77) + 1);
    expect(afterHandshake.length).toBeGreaterThan(2);
    expect(afterHandshake.every((c) => c.secure)).toBe(true);
    expect(reader.counters().rejects).toEqual({});
  });

  it('install mode: opens with SCBK-D, installs the key with osdp_KEYSET, reopens with it', async () => {
    await socat();
    const pd = new SimulatedPd({ address: 4, installMode: true });
    await simBus(9600, [pd]);
    const { reader, h } = await startReader(createOsdpDriver(), 'reader-new', { address: 4, scbk: KEY, install_mode: true });
    await waitFor(() => reader.health().state === 'online', 'the PD online');
    expect(codes(pd)).toContain(0x75);
    expect(pd.key?.toString('hex')).toBe(KEY);
    expect(pd.installMode).toBe(false);
    expect(reader.secure).toBe(true);
    // Two handshakes: SCBK-D (key type 0), then the installed SCBK (type 1).
    expect(codes(pd).filter((c) => c === 0x76)).toHaveLength(2);
    pd.queueCard(h10301Bits(1, 2));
    await waitFor(() => h.cards().length === 1, 'a card read with the new key');
  });

  it('serves two PDs with different addresses on one bus, each as its own device', async () => {
    await socat();
    const a = new SimulatedPd({ address: 1 });
    const b = new SimulatedPd({ address: 2, scbk: Buffer.from(KEY, 'hex') });
    await simBus(38400, [a, b]);
    const def = createOsdpDriver();
    const first = await startReader(def, 'reader-in', { address: 1, baud: 38400 });
    const second = await startReader(def, 'reader-out', { address: 2, baud: 38400, scbk: KEY });
    await waitFor(() => first.reader.health().state === 'online' && second.reader.health().state === 'online', 'both PDs online');
    a.queueCard(h10301Bits(5, 111));
    b.queueCard(h10301Bits(5, 222));
    await waitFor(() => first.h.cards().length === 1 && second.h.cards().length === 1, 'one card on each');
    expect(first.h.cards()).toEqual(['111']);
    expect(second.h.cards()).toEqual(['222']);
    expect(first.h.events.every((e) => e.deviceId === 'reader-in')).toBe(true);
    expect(first.reader.counters().rejects).toEqual({});
    expect(second.reader.counters().rejects).toEqual({});
    // Stopping one keeps the port open for the other.
    await first.reader.stop();
    b.queueCard(h10301Bits(5, 333));
    await waitFor(() => second.h.cards().length === 2, 'a card after the other PD stopped');
  });

  it('marks a silent PD offline and back online when it answers again', async () => {
    await socat();
    const pd = new SimulatedPd({ address: 1 });
    await simBus(9600, [pd]);
    const { reader, h } = await startReader(createOsdpDriver(), 'reader-gate', { address: 1, reply_timeout_ms: 100, offline_after: 3 });
    await waitFor(() => reader.health().state === 'online', 'the PD online');
    pd.silent = true;
    await waitFor(() => reader.health().state === 'offline', 'the PD offline');
    expect(reader.health().lastError).toMatch(/no reply/);
    pd.silent = false;
    await waitFor(() => reader.health().state === 'online', 'the PD back online', 8000);
    expect(h.health.map((x) => x.state).filter(Boolean)).toEqual(['starting', 'online', 'offline', 'online']);
  });

  it('counts garbage, CRC errors and wrong-address replies, and never turns them into a card', async () => {
    await socat();
    const pd = new SimulatedPd({ address: 1 });
    await simBus(9600, [pd]);
    const { reader, h } = await startReader(createOsdpDriver(), 'reader-gate', { address: 1, reply_timeout_ms: 100, offline_after: 3 });
    await waitFor(() => reader.health().state === 'online', 'the PD online');
    for (const fault of ['garbage', 'bad-crc', 'wrong-address'] as const) {
      pd.inject(fault);
      await waitFor(() => (reader.counters().rejects[fault === 'bad-crc' ? 'bad-crc' : fault] ?? 0) >= 1, `the ${fault} counted`);
    }
    pd.queueCard(h10301Bits(18, 4242));
    await waitFor(() => h.cards().length === 1, 'the real card');
    expect(h.cards()).toEqual(['4242']);
    expect(h.cards()).not.toContain(POISON_CARD);
    expect(h.rejects.length).toBeGreaterThanOrEqual(3);
    expect(reader.health().state).toBe('online');
  });

  it('goes offline when the adapter is unplugged (socat killed) and back online within 5 s of the replug', async () => {
    const first = await socat();
    const pd = new SimulatedPd({ address: 1 });
    const bus = await simBus(9600, [pd]);
    const { reader, h } = await startReader(createOsdpDriver(), 'reader-gate', { address: 1 });
    await waitFor(() => reader.health().state === 'online', 'the PD online');
    await bus.close();
    simBuses.delete(bus);
    socats.delete(first);
    await stopPtyPair(first);
    await waitFor(() => reader.health().state === 'offline', 'offline after the unplug');
    await socat();
    await simBus(9600, [pd]);
    await waitFor(() => reader.health().state === 'online', 'online after the replug', 5000);
    pd.queueCard(h10301Bits(18, 777));
    await waitFor(() => h.cards().includes('777'), 'a card after the replug');
  });
});
