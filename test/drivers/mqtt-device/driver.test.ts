// The topic-format driver against the real aedes broker, with mqtt.js clients acting as Tasmota and ESPHome readers.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { mqttDeviceBrokerTopics, mqttDeviceDriver, type MqttTopicDeviceConfig } from '../../../drivers/mqtt-device/driver.js';
import { createBroker, type Broker, type DeviceCredentials } from '../../../gateway/broker/broker.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { hashSecret } from '../../../gateway/core/secret.js';

const tasmota = { id: 'reader-tasmota', password: 'tasmota-pw', topic: 'tasmota-gate1' };
const esphome = { id: 'reader-esphome', password: 'esphome-pw', topic: 'gate-reader-2' };

let configs: Record<string, MqttTopicDeviceConfig>;
let broker: Broker;
let port: number;
let clients: MqttClient[];
let clock: ManualClock;

interface Harness {
  driver: ReturnType<typeof mqttDeviceDriver.create>;
  events: DeviceEvent[];
  rejects: { reason: string; topic?: string }[];
  health: DeviceHealth;
}

beforeAll(async () => {
  const cheap = { N: 1024, r: 8, p: 1 };
  configs = {
    [tasmota.id]: { kind: 'reader', password_hash: await hashSecret(tasmota.password, cheap), topic: tasmota.topic, preset: 'tasmota-rfid', card_number: 'decimal' },
    [esphome.id]: { kind: 'reader', password_hash: await hashSecret(esphome.password, cheap), topic: esphome.topic, preset: 'esphome-rfid' },
  };
});

beforeEach(async () => {
  clients = [];
  clock = new ManualClock(1_700_000_000_000);
  // As the gateway does: each device's own credentials plus the topics its mapping needs.
  const devices = new Map<string, DeviceCredentials>(Object.entries(configs).map(([id, c]) => [id, { passwordHash: c.password_hash, extraTopics: mqttDeviceBrokerTopics(c) }]));
  broker = createBroker({ host: '127.0.0.1', port: 0, maxPayloadBytes: 4096, devices, log: silentLogger(), onRejected: () => undefined });
  port = await broker.start();
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.stop();
});

function startDriver(id: string, config: MqttTopicDeviceConfig = configs[id]!): Harness {
  const h: Omit<Harness, 'driver'> = { events: [], rejects: [], health: { state: 'stopped', lastSeen: null, lastError: null } };
  const ctx: DriverContext = {
    deviceId: id,
    log: silentLogger(),
    emit: (event) => h.events.push(event),
    emitMany: (batch) => batch.forEach((event) => h.events.push(event)),
    report: (change) => Object.assign(h.health, change),
    reject: (reason, _raw, topic) => h.rejects.push(topic === undefined ? { reason } : { reason, topic }),
    broker: broker.client,
    clock,
    signal: new AbortController().signal,
  };
  return { ...h, driver: mqttDeviceDriver.create(config, ctx) };
}

async function connect(device: { id: string; password: string }, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: device.id, password: device.password, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

async function until(what: string, probe: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A Tasmota device as its firmware connects: LWT will, retained Online, the empty POWER, its command subscription. */
async function connectTasmota(): Promise<MqttClient> {
  const lwt = `tele/${tasmota.topic}/LWT`;
  const client = await connect(tasmota, { will: { topic: lwt, payload: Buffer.from('Offline'), qos: 1, retain: true } });
  await client.publishAsync(lwt, 'Online', { qos: 1, retain: true });
  await client.publishAsync(`cmnd/${tasmota.topic}/POWER`, '', { qos: 1 });
  await client.subscribeAsync(`cmnd/${tasmota.topic}/#`, { qos: 1 });
  return client;
}

const rc522 = (uid: string) => JSON.stringify({ Time: '2024-03-05T08:15:02', RC522: { UID: uid, Data: '', Type: 'MIFARE 1KB' } });

describe('a Tasmota RFID reader', () => {
  it('goes online with its LWT, turns a card read into a credential before the PUBACK, and offline with its will', async () => {
    const h = startDriver(tasmota.id);
    await h.driver.start();
    expect(h.driver.health().state).toBe('offline');

    const device = await connectTasmota();
    await until('the LWT Online', () => h.driver.health().state === 'online');

    await device.publishAsync(`tele/${tasmota.topic}/SENSOR`, rc522('BA839D07'), { qos: 1 });
    // The handler ran before the broker acknowledged: the event is there as soon as the PUBACK is.
    expect(h.events).toEqual([{ type: 'credential', deviceId: tasmota.id, at: clock.now(), credential: { kind: 'card', value: '3129187591', format: 'uid-decimal' } }]);

    // The same card still on the reader is not a second tap; after the repeat window it is.
    await device.publishAsync(`tele/${tasmota.topic}/SENSOR`, rc522('BA839D07'), { qos: 1 });
    expect(h.events).toHaveLength(1);
    clock.advance(2000);
    await device.publishAsync(`tele/${tasmota.topic}/SENSOR`, rc522('BA839D07'), { qos: 1 });
    await device.publishAsync(`tele/${tasmota.topic}/SENSOR`, JSON.stringify({ Time: '2024-03-05T08:15:05', PN532: { UID: '94D8FC5F' } }), { qos: 1 });
    expect(h.events.map((e) => e.type === 'credential' && e.credential.value)).toEqual(['3129187591', '3129187591', '2497248351']);

    // Garbage is rejected with a fixed reason; telemetry of other sensors is neither.
    await device.publishAsync(`tele/${tasmota.topic}/SENSOR`, '{"RC522":{"UID":"04A22B1A3C5E80"}}', { qos: 1 });
    await device.publishAsync(`tele/${tasmota.topic}/SENSOR`, '{"Time":"2024-03-05T08:20:00","DS18B20":{"Temperature":23.4}}', { qos: 1 });
    expect(h.rejects).toEqual([{ reason: 'value is not a 4-byte UID', topic: `tele/${tasmota.topic}/SENSOR` }]);
    expect(h.events).toHaveLength(3);

    device.stream.destroy();
    await until('the LWT Offline', () => h.driver.health().state === 'offline');
    expect(h.driver.health().lastError).toBe('device reported offline');
    await h.driver.stop();
    expect(h.driver.health().state).toBe('stopped');
  });

  it("sends commands on the device's own topics, and none while it is offline", async () => {
    const h = startDriver(tasmota.id);
    await h.driver.start();
    expect(await h.driver.command!({ type: 'buzzer' })).toEqual({ ok: false, detail: 'device offline' });

    const device = await connectTasmota();
    await until('the LWT Online', () => h.driver.health().state === 'online');
    const received: string[] = [];
    device.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));

    expect(await h.driver.command!({ type: 'buzzer', params: { count: 2 } })).toEqual({ ok: true, detail: 'sent' });
    expect(await h.driver.command!({ type: 'open', params: { decision: '0190f0a0-0000-7000-8000-000000000001' } })).toEqual({ ok: true, detail: 'sent' });
    expect(await h.driver.command!({ type: 'selfdestruct' })).toEqual({ ok: false, detail: 'no mapping for command selfdestruct' });
    await until('both commands at the device', () => received.length === 2);
    expect(received).toEqual([`cmnd/${tasmota.topic}/Buzzer 2,1`, `cmnd/${tasmota.topic}/Power1 ON`]);
    // Our own commands passing through the broker are neither events nor rejections.
    expect(h.events).toEqual([]);
    expect(h.rejects).toEqual([]);
    await h.driver.stop();
    expect(await h.driver.command!({ type: 'buzzer' })).toEqual({ ok: false, detail: 'driver not running' });
  });

  it('starting after the device, takes its retained Online but never replays a retained card read', async () => {
    const device = await connectTasmota();
    // Tasmota with SensorRetain 1 leaves the last card on the broker.
    await device.publishAsync(`tele/${tasmota.topic}/SENSOR`, rc522('BA839D07'), { qos: 1, retain: true });
    const h = startDriver(tasmota.id);
    await h.driver.start();
    expect(h.driver.health().state).toBe('online');
    expect(h.events).toEqual([]);
    expect(h.rejects).toEqual([]);
    await h.driver.stop();
  });
});

describe('an ESPHome RFID reader', () => {
  it('goes online with its birth message, maps on_tag UIDs and commands, and offline with its will', async () => {
    const h = startDriver(esphome.id);
    await h.driver.start();
    const status = `${esphome.topic}/status`;
    const device = await connect(esphome, { will: { topic: status, payload: Buffer.from('offline'), qos: 0, retain: true } });
    // ESPHome publishes its birth message and on_tag's mqtt.publish with QoS 0 by default.
    device.publish(status, 'online', { qos: 0, retain: true });
    await until('the birth message', () => h.driver.health().state === 'online');

    device.publish(`${esphome.topic}/tag`, '74-10-37-94', { qos: 0 });
    await until('the tag read', () => h.events.length === 1);
    expect(h.events).toEqual([{ type: 'credential', deviceId: esphome.id, at: clock.now(), credential: { kind: 'card', value: '74103794', format: 'uid-hex' } }]);

    device.publish(`${esphome.topic}/tag`, '', { qos: 0 });
    device.publish(`${esphome.topic}/debug`, "[D][pn532:310]: Found new tag '74-10-37-94'", { qos: 0 });
    await until('the empty tag to be rejected', () => h.rejects.length === 1);
    expect(h.rejects).toEqual([{ reason: 'value is empty', topic: `${esphome.topic}/tag` }]);

    await device.subscribeAsync(`${esphome.topic}/cmd/#`, { qos: 0 });
    const received: string[] = [];
    device.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    expect(await h.driver.command!({ type: 'open' })).toEqual({ ok: true, detail: 'sent' });
    await until('the open command at the device', () => received.length === 1);
    expect(received).toEqual([`${esphome.topic}/cmd/open ON`]);

    device.stream.destroy();
    await until('the will', () => h.driver.health().state === 'offline');
    expect(h.events).toHaveLength(1);
    await h.driver.stop();
  });

  it('as a patrol checkpoint, turns a tag into a checkpoint hit; after stop it hears nothing', async () => {
    const h = startDriver(esphome.id, { ...configs[esphome.id]!, kind: 'checkpoint' });
    await h.driver.start();
    const device = await connect(esphome);
    await device.publishAsync(`${esphome.topic}/tag`, '04-A2-2B-1A-3C-5E-80', { qos: 1 });
    // No status seen yet, but a message proves the device is there.
    expect(h.driver.health()).toMatchObject({ state: 'online', lastSeen: clock.now() });
    expect(h.events).toEqual([{ type: 'checkpoint', deviceId: esphome.id, at: clock.now(), tag: '04A22B1A3C5E80' }]);
    await h.driver.stop();
    await h.driver.stop();
    await device.publishAsync(`${esphome.topic}/tag`, '74-10-37-94', { qos: 1 });
    expect(h.events).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('fails to start with a mapping that cannot work, saying why', async () => {
    const barrier = startDriver('barrier-x', { ...configs[esphome.id]!, kind: 'barrier' });
    await expect(barrier.driver.start()).rejects.toThrow('mapping config: preset esphome-rfid is for a reader or checkpoint, not a barrier');
    const bad = startDriver('reader-x', { kind: 'reader', password_hash: 'x', topic: 'x', rules: [{ topic: 'x/tag', event: 'plate', value: 'payload' }] });
    await expect(bad.driver.start()).rejects.toThrow('mapping config: rules.0: a reader does not send plate events');
    const empty = startDriver('reader-y', { kind: 'reader', password_hash: 'x', topic: 'y' });
    await expect(empty.driver.start()).rejects.toThrow('mapping config: give a preset or rules');
  });

  it('asks the broker for exactly the topics its preset, rules and extra topics need', () => {
    expect(mqttDeviceBrokerTopics(configs[tasmota.id]!)).toEqual({
      publish: ['tele/tasmota-gate1/LWT', 'tele/tasmota-gate1/SENSOR', 'tele/tasmota-gate1/#', 'stat/tasmota-gate1/#', 'cmnd/tasmota-gate1/POWER'],
      subscribe: ['cmnd/tasmota-gate1/Buzzer', 'cmnd/tasmota-gate1/Power1', 'cmnd/tasmota-gate1/#'],
      shared: ['tasmota/discovery/+/config', 'tasmota/discovery/+/sensors'],
    });
    expect(
      mqttDeviceBrokerTopics({
        kind: 'reader',
        topic: 'door-3',
        rules: [
          { topic: 'acme/{id}/card', event: 'credential', value: '$.no' },
          { command: 'open', topic: 'acme/{id}/relay', payload: '1' },
        ],
        extra_topics: { publish: ['acme/{id}/log'], shared: ['acme/announce'] },
      }),
    ).toEqual({ publish: ['acme/door-3/card', 'acme/door-3/log'], subscribe: ['acme/door-3/relay'], shared: ['acme/announce'] });
  });
});
