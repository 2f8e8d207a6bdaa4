// The mqtt-relay barrier driver through the real embedded broker, against a device that follows Tasmota's MQTT protocol.
//
// The device side is a Tasmota emulation over a real mqtt.js client connected as the device
// (username = device id, LWT as its will, the broker granting mqttRelayBrokerTopics), and again over
// the broker's in-process client, which isolates the driver from the ACL.
import { connect, type MqttClient } from 'mqtt';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerClient, DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { mqttRelayBrokerTopics, mqttRelayDriver, MqttRelayBarrier, type MqttRelayConfig } from '../../../drivers/mqtt-relay/driver.js';
import { createBroker, type Broker } from '../../../gateway/broker/broker.js';
import { systemClock } from '../../../gateway/core/clock.js';
import { hashSecret } from '../../../gateway/core/secret.js';
import { waitFor } from '../../helpers/wait.js';

const deviceId = 'barrier-west';
const password = 'tasmota-barrier-pw';
const topic = 'tasmota_barrier';
const cmnd = `cmnd/${topic}/`;
const stat = `stat/${topic}/`;
const tele = `tele/${topic}/`;
const brokerTopics = mqttRelayBrokerTopics({ topic });

/** How the emulated device reaches the broker. */
interface DeviceSide {
  connect(): Promise<void>;
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): Promise<void>;
  publish(topic: string, payload: string, retain?: boolean): Promise<void>;
  /** Power cut: the broker announces the will (mqtt.js), or the test publishes it (in-process). */
  drop(): Promise<void>;
}

let broker: Broker;
let port: number;
let passwordHash: string;
const cleanups: (() => Promise<void>)[] = [];

function mqttSide(): DeviceSide {
  let client: MqttClient | null = null;
  const handlers: { filter: string; handler: (topic: string, payload: Buffer) => void }[] = [];
  return {
    async connect() {
      client = connect(`mqtt://127.0.0.1:${port}`, {
        username: deviceId,
        password,
        clientId: 'DVES_4F2A10',
        reconnectPeriod: 0,
        connectTimeout: 5000,
        // Tasmota's will: its LWT, retained.
        will: { topic: `${tele}LWT`, payload: Buffer.from('Offline'), retain: true, qos: 1 },
      });
      const c = client;
      cleanups.push(() => c.endAsync(true));
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
      c.on('message', (t, payload) => {
        for (const h of handlers) if (t.startsWith(h.filter.replace(/#$/, ''))) h.handler(t, payload);
      });
    },
    async subscribe(filter, handler) {
      handlers.push({ filter, handler });
      const granted = await (client as MqttClient).subscribeAsync(filter, { qos: 1 });
      expect(granted[0]?.qos).toBe(1);
    },
    async publish(t, payload, retain = false) {
      await (client as MqttClient).publishAsync(t, payload, { qos: 1, retain });
    },
    async drop() {
      (client as MqttClient).stream.destroy();
    },
  };
}

function inProcessSide(): DeviceSide {
  const c = broker.client;
  return {
    async connect() {},
    async subscribe(filter, handler) {
      const off = await c.subscribe(filter, (msg) => handler(msg.topic, msg.payload));
      cleanups.push(off);
    },
    publish: (t, payload, retain = false) => c.publish(t, payload, { retain, qos: 1 }),
    drop: () => c.publish(`${tele}LWT`, 'Offline', { retain: true, qos: 1 }),
  };
}

/** What a Tasmota relay does with POWER commands, as far as a barrier needs it. */
class Tasmota {
  readonly commands: string[] = [];
  readonly power = new Map<number, boolean>();
  /** mute: answers nothing; mute-off: switches on but never reports off. */
  mode: 'normal' | 'mute' | 'mute-off' = 'normal';
  /** SetOption26 0 on a one-relay device: reports "POWER", not "POWER1". */
  singleRelay = false;
  /** PulseTime: the device switches the relay off by itself after this long. */
  pulseTimeMs: number | null = null;

  constructor(readonly side: DeviceSide) {}

  async boot(): Promise<void> {
    await this.side.connect();
    await this.side.subscribe(`${cmnd}#`, (t, payload) => {
      // A reply cut off by the end of a test (the client closed) is of no interest.
      this.onCommand(t.slice(cmnd.length), payload.toString()).catch(() => undefined);
    });
    await this.side.publish(`${tele}LWT`, 'Online', true);
    // What Tasmota does on every connect: announce itself and ask for its own power state.
    await this.side.publish('tasmota/discovery/A0B1C2D3E4F5/config', '{"t":"tasmota_barrier","ft":"%prefix%/%topic%/"}', true);
    await this.side.publish(`${cmnd}POWER`, '');
  }

  send(t: string, payload: string, retain = false): Promise<void> {
    return this.side.publish(t, payload, retain);
  }

  private async onCommand(sub: string, payload: string): Promise<void> {
    this.commands.push(`${sub} ${payload}`.trim());
    const m = /^POWER(\d*)$/i.exec(sub);
    if (!m || this.mode === 'mute') return;
    const relay = m[1] ? Number(m[1]) : 1;
    const word = payload.trim().toUpperCase();
    if (word === 'ON' || word === '1') this.power.set(relay, true);
    else if (word === 'OFF' || word === '0') {
      this.power.set(relay, false);
      if (this.mode === 'mute-off') return;
    } else if (word !== '') return;
    await this.report(relay);
    if (word === 'ON' && this.pulseTimeMs !== null) {
      setTimeout(() => {
        this.power.set(relay, false);
        void this.report(relay).catch(() => undefined);
      }, this.pulseTimeMs);
    }
  }

  /** Tasmota answers with RESULT first, then the plain POWER<n> topic. */
  private async report(relay: number): Promise<void> {
    const key = this.singleRelay && relay === 1 ? 'POWER' : `POWER${relay}`;
    const state = this.power.get(relay) ? 'ON' : 'OFF';
    await this.side.publish(`${stat}RESULT`, JSON.stringify({ [key]: state }));
    await this.side.publish(`${stat}${key}`, state);
  }
}

interface Harness {
  driver: MqttRelayBarrier;
  events: DeviceEvent[];
  health: DeviceHealth;
  rejects: { reason: string; topic?: string }[];
}

function makeDriver(client: BrokerClient, config: Partial<MqttRelayConfig> = {}): Harness {
  const h: Harness = { driver: null as unknown as MqttRelayBarrier, events: [], health: { state: 'stopped', lastSeen: null, lastError: null }, rejects: [] };
  const ctx: DriverContext = {
    deviceId,
    log: pino({ level: 'silent' }),
    emit: (e) => void h.events.push(e),
    emitMany: (batch) => batch.forEach((e) => void h.events.push(e)),
    report: (change) => void (h.health = { ...h.health, ...change }),
    reject: (reason, _raw, t) => void h.rejects.push(t === undefined ? { reason } : { reason, topic: t }),
    broker: client,
    clock: systemClock,
    signal: new AbortController().signal,
  };
  h.driver = mqttRelayDriver.create({ password_hash: passwordHash, topic, pulse_ms: 100, ack_timeout_ms: 500, ...config }, ctx) as MqttRelayBarrier;
  cleanups.push(() => h.driver.stop());
  return h;
}

const relayStates = (h: Harness): unknown[] => h.events.map((e) => (e.type === 'state' ? e.state.relay : undefined));

beforeAll(async () => {
  // Low scrypt cost: these tests are about the relay, not about slowing down a guesser.
  passwordHash = await hashSecret(password, { N: 1024, r: 8, p: 1 });
});

beforeEach(async () => {
  broker = createBroker({
    host: '127.0.0.1',
    port: 0,
    maxPayloadBytes: 4096,
    devices: new Map([[deviceId, { passwordHash, extraTopics: brokerTopics }]]),
    log: pino({ level: 'silent' }),
    onRejected: () => {},
  });
  port = await broker.start();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await broker.stop();
});

describe('broker topics for a Tasmota relay', () => {
  it('asks for stat/, tele/ and the connect-time POWER query as its own, cmnd/ to listen on, discovery shared', () => {
    expect(brokerTopics).toEqual({
      publish: ['stat/tasmota_barrier/#', 'tele/tasmota_barrier/#', 'cmnd/tasmota_barrier/POWER'],
      subscribe: ['cmnd/tasmota_barrier/#'],
      shared: ['tasmota/discovery/+/config', 'tasmota/discovery/+/sensors'],
    });
    expect(mqttRelayBrokerTopics({ topic: 'gate', full_topic: 'site/%topic%/%prefix%/' }).subscribe).toEqual(['site/gate/cmnd/#']);
  });
});

const sides: [string, () => DeviceSide][] = [
  ['mqtt.js device as ' + deviceId, mqttSide],
  ['in-process device', inProcessSide],
];

describe.each(sides)('mqtt-relay barrier with a %s', (_name, makeSide) => {
  let tasmota: Tasmota;
  beforeEach(() => {
    tasmota = new Tasmota(makeSide());
  });

  it('goes online on the retained LWT, asks for the relay state, and pulses POWER1 on an open', async () => {
    await tasmota.boot();
    const h = makeDriver(broker.client);
    await h.driver.start();
    expect(h.health.state).toBe('online');
    await waitFor('the state query', () => tasmota.commands.includes('POWER1'), 5000);

    const result = await h.driver.command({ type: 'open', params: { decision: 'd-1' } });
    expect(result).toEqual({ ok: true });
    const switched = tasmota.commands.filter((c) => c === 'POWER1 ON' || c === 'POWER1 OFF');
    expect(switched).toEqual(['POWER1 ON', 'POWER1 OFF']);
    expect(tasmota.power.get(1)).toBe(false);
    expect(relayStates(h)).toEqual(['off', 'on', 'off']);
    expect(h.rejects).toEqual([]);
  });

  it('starts offline until the device connects', async () => {
    const h = makeDriver(broker.client);
    await h.driver.start();
    expect(h.health).toMatchObject({ state: 'offline', lastError: 'no LWT from the device yet' });
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: false, detail: 'device offline: no LWT from the device yet' });
    await tasmota.boot();
    await waitFor('online', () => h.health.state === 'online', 5000);
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: true });
  });

  it('fails with no acknowledgement when the device does not answer', async () => {
    await tasmota.boot();
    const h = makeDriver(broker.client, { ack_timeout_ms: 300 });
    await h.driver.start();
    tasmota.mode = 'mute';
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: false, detail: 'no acknowledgement of POWER1 ON within 300 ms' });
  });

  it('says the relay may still be on when only the OFF goes unanswered', async () => {
    await tasmota.boot();
    const h = makeDriver(broker.client, { ack_timeout_ms: 300 });
    await h.driver.start();
    tasmota.mode = 'mute-off';
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: false, detail: 'relay 1 may still be on: no acknowledgement of POWER1 OFF within 300 ms' });
  });

  it('goes offline on LWT Offline and then fails commands at once', async () => {
    await tasmota.boot();
    const h = makeDriver(broker.client);
    await h.driver.start();
    await tasmota.side.drop();
    await waitFor('offline', () => h.health.state === 'offline', 5000);
    expect(h.health.lastError).toBe('device reported offline (LWT Offline)');
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: false, detail: 'device offline: device reported offline (LWT Offline)' });
  });

  it('takes POWER without an index from a one-relay device that times its own pulse (PulseTime)', async () => {
    tasmota.singleRelay = true;
    tasmota.pulseTimeMs = 50;
    await tasmota.boot();
    const h = makeDriver(broker.client, { pulse_ms: 300 });
    await h.driver.start();
    expect(await h.driver.command({ type: 'open' })).toEqual({ ok: true });
    expect(tasmota.power.get(1)).toBe(false);
  });

  it('pulses the close relay when one is configured and explains when not', async () => {
    await tasmota.boot();
    const without = makeDriver(broker.client);
    await without.driver.start();
    expect(await without.driver.command({ type: 'close' })).toEqual({ ok: false, detail: 'no close_relay configured: this barrier closes by itself' });
    expect(await without.driver.command({ type: 'lift' })).toEqual({ ok: false, detail: 'unknown command "lift"' });
    await without.driver.stop();

    const withClose = makeDriver(broker.client, { close_relay: 2 });
    await withClose.driver.start();
    expect(await withClose.driver.command({ type: 'close' })).toEqual({ ok: true });
    expect(tasmota.commands.filter((c) => c.startsWith('POWER2 O'))).toEqual(['POWER2 ON', 'POWER2 OFF']);
  });

  it('counts a relay state it cannot read as rejected input', async () => {
    await tasmota.boot();
    const h = makeDriver(broker.client);
    await h.driver.start();
    await tasmota.send(`${stat}POWER1`, 'MAYBE');
    await waitFor('the reject', () => h.rejects.length > 0, 5000);
    expect(h.rejects).toEqual([{ reason: 'POWER1 is neither ON nor OFF', topic: `${stat}POWER1` }]);
  });

  it('still switches the relay off when stopped in the middle of a pulse', async () => {
    await tasmota.boot();
    const h = makeDriver(broker.client, { pulse_ms: 10_000 });
    await h.driver.start();
    const pending = h.driver.command({ type: 'open' });
    await waitFor('the relay on', () => tasmota.power.get(1) === true, 5000);
    await h.driver.stop();
    expect(await pending).toEqual({ ok: false, detail: 'driver stopped' });
    await waitFor('the relay off', () => tasmota.power.get(1) === false, 5000);
    expect(h.health.state).toBe('stopped');
  });
});

describe('config schema', () => {
  // As config/load.ts validates: defaults filled in, every error at once.
  const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(mqttRelayDriver.configSchema);
  const hash = 'scrypt$32768$8$1$WpPi+hIw4ThjUqReyFQCaA==$OooueQSiwJVp3OzLVSCqmoC4rlUKJUiOKtbTwj1xjsA=';

  it('fills in the defaults', () => {
    const config: Record<string, unknown> = { password_hash: hash, topic: 'tasmota_barrier' };
    expect(validate(config)).toBe(true);
    expect(config).toEqual({ password_hash: hash, topic: 'tasmota_barrier', full_topic: '%prefix%/%topic%/', relay: 1, pulse_ms: 500, ack_timeout_ms: 2000 });
  });

  it('refuses wildcards in topics, a FullTopic without %prefix% and relay 0', () => {
    expect(validate({ password_hash: 'x', topic: 'gate/#', full_topic: '%topic%/', relay: 0 })).toBe(false);
    expect((validate.errors ?? []).map((e) => e.instancePath).sort()).toEqual(['/full_topic', '/password_hash', '/relay', '/topic']);
  });
});
