// Tests of the embedded MQTT broker: real mqtt.js devices against the real aedes broker on a loopback port.
import { connect as tcpConnect, Socket } from 'node:net';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BrokerMessage } from '../../drivers/contract.js';
import { createBroker, extraTopicProblems, filtersOverlap, maySubscribe, publishRefusal, type Broker, type DeviceCredentials, type ExtraTopics } from '../../gateway/broker/broker.js';
import { topicMatches } from '../../drivers/mqtt/topics.js';
import type { RejectedInput } from '../../gateway/core/events.js';
import { createLogger } from '../../gateway/core/log.js';
import { hashSecret } from '../../gateway/core/secret.js';

// The demo site's devices and their simulator passwords (config/default.yaml).
const reader = { id: 'reader-north-in', password: 'demo-reader-pw' };
const barrier = { id: 'barrier-north', password: 'demo-barrier-pw' };
// A device with its own topic format (Tasmota, Topic "gate1") and the extra topics its driver asks for.
const tasmota = { id: 'reader-tasmota', password: 'tasmota-pw' };
const tasmotaTopics: ExtraTopics = {
  publish: ['tele/gate1/#', 'stat/gate1/#', 'cmnd/gate1/POWER'],
  subscribe: ['cmnd/gate1/#'],
  shared: ['tasmota/discovery/+/config', 'tasmota/discovery/+/sensors'],
};
const maxPayloadBytes = 256;

/** Everything of one kind that happened, and a bounded wait for the first item that matches. */
class Seen<T> {
  readonly items: T[] = [];
  private waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push = (item: T): void => {
    this.items.push(item);
    for (const w of this.waiters.filter((w) => w.match(item))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(item);
    }
  };

  first(match: (item: T) => boolean, what: string, ms = 5000): Promise<T> {
    const already = this.items.find(match);
    if (already !== undefined) return Promise.resolve(already);
    return within(new Promise<T>((resolve) => this.waiters.push({ match, resolve })), what, ms);
  }
}

function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const once = (emitter: { once(event: string, fn: (...args: unknown[]) => void): unknown }, event: string, what: string) =>
  within(new Promise<unknown[]>((resolve) => emitter.once(event, (...args) => resolve(args))), what);

let devices: Map<string, DeviceCredentials>;
let broker: Broker;
let url: string;
let port: number;
let rejected: Seen<RejectedInput>;
let logLines: Seen<Record<string, unknown>>;
let clients: MqttClient[];
let rawSockets: Socket[];

beforeAll(async () => {
  // Low scrypt cost: these tests are about the broker, not about slowing down a guesser.
  const cheap = { N: 1024, r: 8, p: 1 };
  devices = new Map([
    [reader.id, { passwordHash: await hashSecret(reader.password, cheap) }],
    [barrier.id, { passwordHash: await hashSecret(barrier.password, cheap) }],
    [tasmota.id, { passwordHash: await hashSecret(tasmota.password, cheap), extraTopics: tasmotaTopics }],
  ]);
});

beforeEach(async () => {
  rejected = new Seen();
  logLines = new Seen();
  clients = [];
  rawSockets = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  broker = createBroker({
    host: '127.0.0.1',
    port: 0,
    maxPayloadBytes,
    devices,
    log: createLogger('debug', { destination }),
    onRejected: rejected.push,
  });
  port = await broker.start();
  url = `mqtt://127.0.0.1:${port}`;
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  for (const s of rawSockets) s.destroy();
  await broker.stop();
});

let clientCounter = 0;
async function connectDevice(device: { id: string; password: string } | null, extra: IClientOptions = {}): Promise<MqttClient> {
  const opts: IClientOptions = { clientId: `test-${++clientCounter}`, reconnectPeriod: 0, connectTimeout: 5000, ...extra };
  if (device) Object.assign(opts, { username: device.id, password: device.password });
  const client = mqtt.connect(url, opts);
  clients.push(client);
  // connectAsync would leave the failed client behind; this keeps every client for afterEach.
  await within(
    new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    }),
    'CONNACK',
  );
  return client;
}

async function refusalCode(device: { id: string; password: string } | null, extra: IClientOptions = {}): Promise<unknown> {
  const err = await connectDevice(device, extra).then(
    () => new Error('connection was accepted'),
    (e: unknown) => e,
  );
  return (err as { code?: unknown }).code;
}

function inbox(): Seen<BrokerMessage> & { text(): string[] } {
  const seen = new Seen<BrokerMessage>();
  return Object.assign(seen, { text: () => seen.items.map((m) => `${m.topic} ${m.payload.toString()}${m.retained ? ' (retained)' : ''}`) });
}

function received(client: MqttClient): Seen<Packet> {
  const seen = new Seen<Packet>();
  client.on('packetreceive', seen.push);
  return seen;
}

describe('the topic ACL', () => {
  it('lets a device publish only its own events, acks and status, retained only on status', () => {
    const id = 'reader-north-in';
    expect(publishRefusal(id, 'gp/dev/reader-north-in/event/credential', false)).toBeNull();
    expect(publishRefusal(id, 'gp/dev/reader-north-in/ack', false)).toBeNull();
    expect(publishRefusal(id, 'gp/dev/reader-north-in/status', true)).toBeNull();
    expect(publishRefusal(id, 'gp/dev/reader-north-in/status', false)).toBeNull();
    expect(publishRefusal(id, 'gp/dev/reader-north-in/event/credential', true)).toBe('retain-not-allowed');
    expect(publishRefusal(id, 'gp/dev/reader-north-in/ack', true)).toBe('retain-not-allowed');
    expect(publishRefusal(id, 'gp/dev/barrier-north/event/state', false)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'gp/dev/reader-north-in-2/event/state', false)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'gp/dev/reader-north-in/cmd/open', false)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'gp/dev/reader-north-in/event/Credential', false)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'gp/dev/reader-north-in/event/a/b', false)).toBe('topic-not-allowed');
    expect(publishRefusal(id, `gp/dev/reader-north-in/event/${'a'.repeat(33)}`, false)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'gp/site/demo-compound/event/open', false)).toBe('topic-not-allowed');
    expect(publishRefusal(id, '$SYS/x', false)).toBe('topic-not-allowed');
  });

  it('lets a device subscribe only to its own commands', () => {
    const id = 'barrier-north';
    expect(maySubscribe(id, 'gp/dev/barrier-north/cmd/#')).toBe(true);
    expect(maySubscribe(id, 'gp/dev/barrier-north/cmd/open')).toBe(true);
    expect(maySubscribe(id, 'gp/dev/barrier-north/cmd/+')).toBe(false);
    expect(maySubscribe(id, 'gp/dev/barrier-north/#')).toBe(false);
    expect(maySubscribe(id, 'gp/dev/+/cmd/#')).toBe(false);
    expect(maySubscribe(id, 'gp/dev/reader-north-in/cmd/#')).toBe(false);
    expect(maySubscribe(id, '#')).toBe(false);
  });

  it('matches topic filters as MQTT does', () => {
    expect(topicMatches('gp/dev/#', 'gp/dev/a/status')).toBe(true);
    expect(topicMatches('gp/dev/#', 'gp/dev')).toBe(true);
    expect(topicMatches('gp/dev/+/status', 'gp/dev/a/status')).toBe(true);
    expect(topicMatches('gp/dev/+/status', 'gp/dev/a/b/status')).toBe(false);
    expect(topicMatches('gp/dev/a', 'gp/dev/a/status')).toBe(false);
    expect(topicMatches('#', '$SYS/broker')).toBe(false);
  });
});

describe('extra topics for devices with their own formats', () => {
  it('lets a device publish to its extra topics, retained too, and refuses everything else', () => {
    const id = tasmota.id;
    expect(publishRefusal(id, 'tele/gate1/SENSOR', false, tasmotaTopics)).toBeNull();
    expect(publishRefusal(id, 'tele/gate1/LWT', true, tasmotaTopics)).toBeNull();
    expect(publishRefusal(id, 'cmnd/gate1/POWER', false, tasmotaTopics)).toBeNull();
    expect(publishRefusal(id, 'tasmota/discovery/A0B1C2D3E4F5/config', true, tasmotaTopics)).toBeNull();
    expect(publishRefusal(id, 'tele/gate2/SENSOR', false, tasmotaTopics)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'tele/gate1', false, { publish: ['tele/gate1/+'] })).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'cmnd/gate1/Power1', false, tasmotaTopics)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'tasmota/discovery/A0B1C2D3E4F5/other', false, tasmotaTopics)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'homeassistant/sensor/x/config', false, tasmotaTopics)).toBe('topic-not-allowed');
    expect(publishRefusal(id, 'tele/gate1/SENSOR', false)).toBe('topic-not-allowed');
    // Its own gp/ topics keep their rules; extras never reach into gp/ or $, even when handed such filters.
    expect(publishRefusal(id, `gp/dev/${id}/event/credential`, true, tasmotaTopics)).toBe('retain-not-allowed');
    expect(publishRefusal(id, 'gp/dev/barrier-north/event/state', false, { publish: ['gp/#', '#', '+/dev/#'] })).toBe('topic-not-allowed');
    expect(publishRefusal(id, '$SYS/broker/x', false, { publish: ['#', '$SYS/#'] })).toBe('topic-not-allowed');
  });

  it('lets a device subscribe only to filters its extra subscribe filters cover', () => {
    const id = tasmota.id;
    expect(maySubscribe(id, 'cmnd/gate1/#', tasmotaTopics)).toBe(true);
    expect(maySubscribe(id, 'cmnd/gate1/Power1', tasmotaTopics)).toBe(true);
    expect(maySubscribe(id, 'cmnd/gate1/+', tasmotaTopics)).toBe(true);
    expect(maySubscribe(id, `gp/dev/${id}/cmd/#`, tasmotaTopics)).toBe(true);
    expect(maySubscribe(id, 'cmnd/#', tasmotaTopics)).toBe(false);
    expect(maySubscribe(id, 'cmnd/+/#', tasmotaTopics)).toBe(false);
    expect(maySubscribe(id, 'cmnd/tasmotas/#', tasmotaTopics)).toBe(false);
    expect(maySubscribe(id, 'tele/gate1/#', tasmotaTopics)).toBe(false);
    expect(maySubscribe(id, 'tasmota/discovery/+/config', tasmotaTopics)).toBe(false);
    expect(maySubscribe(id, '#', { subscribe: ['#'] })).toBe(false);
    expect(maySubscribe(id, 'gp/dev/barrier-north/cmd/#', { subscribe: ['gp/#'] })).toBe(false);
  });

  it('knows when two filters can match the same topic', () => {
    expect(filtersOverlap('tele/a/#', 'tele/+/SENSOR')).toBe(true);
    expect(filtersOverlap('tele/a/#', 'tele/a')).toBe(true);
    expect(filtersOverlap('tele/a/+', 'tele/a')).toBe(false);
    expect(filtersOverlap('tele/a/#', 'tele/b/#')).toBe(false);
    expect(filtersOverlap('tele/#', 'tele/a/LWT')).toBe(true);
  });

  it('refuses, at start, extra topics that reach into gp/ or overlap another device', () => {
    const cred = (extraTopics: ExtraTopics): DeviceCredentials => ({ passwordHash: 'x', extraTopics });
    expect(extraTopicProblems(new Map([['a', cred(tasmotaTopics)], ['b', cred({ publish: ['tele/gate2/#'], subscribe: ['cmnd/gate2/#'], shared: tasmotaTopics.shared ?? [] })]]))).toEqual([]);
    expect(extraTopicProblems(new Map([['a', cred({ publish: ['gp/dev/b/event/credential'] })]]))).toEqual([
      'device "a": publish topic "gp/dev/b/event/credential" must start with a fixed level other than gp or $ (gp/ topics are guardpost\'s own)',
    ]);
    expect(extraTopicProblems(new Map([['a', cred({ subscribe: ['+/dev/b/cmd/#', '#', '$SYS/#', 'a/#/b', ''] })]]))).toHaveLength(5);
    expect(extraTopicProblems(new Map([['a', cred({ publish: ['tele/gate1/#'] })], ['b', cred({ publish: ['tele/+/SENSOR'] })]]))).toEqual([
      'devices "a" and "b" would share topics: "tele/gate1/#" overlaps "tele/+/SENSOR"; give each device its own topic name',
    ]);
    // An ESPHome device named "tasmota" would own what every Tasmota device may announce on.
    expect(extraTopicProblems(new Map([['a', cred(tasmotaTopics)], ['esp', cred({ publish: ['tasmota/#'] })]]))).toHaveLength(1);
    expect(() => createBroker({ host: '127.0.0.1', port: 0, maxPayloadBytes, devices: new Map([['a', cred({ subscribe: ['gp/dev/b/cmd/#'] })]]), log: createLogger('silent'), onRejected: () => undefined })).toThrow(
      /MQTT device topics are unsafe:\ndevice "a": subscribe topic "gp\/dev\/b\/cmd\/#"/,
    );
  });

  it('accepts the extra publishes and wills of a Tasmota device, grants its command topics and still refuses the rest', async () => {
    const everything = inbox();
    await broker.client.subscribe('#', everything.push);
    const will = { topic: 'tele/gate1/LWT', payload: Buffer.from('Offline'), retain: true, qos: 1 as const };
    const device = await connectDevice(tasmota, { will });
    await device.publishAsync('tele/gate1/LWT', 'Online', { qos: 1, retain: true });
    await device.publishAsync('cmnd/gate1/POWER', '', { qos: 1 });
    await device.publishAsync('tele/gate1/SENSOR', '{"Time":"2024-03-05T08:15:02","RC522":{"UID":"A1B2C3D4"}}', { qos: 1 });
    await device.publishAsync('tasmota/discovery/A0B1C2D3E4F5/config', '{}', { qos: 1, retain: true });
    expect(everything.text()).toEqual([
      'tele/gate1/LWT Online',
      'cmnd/gate1/POWER ',
      'tele/gate1/SENSOR {"Time":"2024-03-05T08:15:02","RC522":{"UID":"A1B2C3D4"}}',
      'tasmota/discovery/A0B1C2D3E4F5/config {}',
    ]);

    const packets = received(device);
    device.subscribe({ 'cmnd/gate1/#': { qos: 1 }, 'cmnd/tasmotas/#': { qos: 1 } }, () => undefined);
    const suback = (await packets.first((p) => p.cmd === 'suback', 'SUBACK')) as Packet & { granted: number[] };
    expect(suback.granted).toEqual([1, 0x80]);
    const commands = new Seen<string>();
    device.on('message', (topic, payload) => commands.push(`${topic} ${payload.toString()}`));
    await broker.client.publish('cmnd/gate1/Buzzer', '2,1', { qos: 1 });
    await commands.first((c) => c === 'cmnd/gate1/Buzzer 2,1', 'the mapped command');

    const closed = once(device, 'close', 'the device publishing outside its topics to be disconnected');
    device.publish('tele/gate2/SENSOR', '{"RC522":{"UID":"00000000"}}', { qos: 1 });
    await closed;
    expect(rejected.items).toEqual([
      { source: tasmota.id, reason: 'subscription-not-allowed', topic: 'cmnd/tasmotas/#', bytes: 0 },
      { source: tasmota.id, reason: 'topic-not-allowed', topic: 'tele/gate2/SENSOR', bytes: 28 },
    ]);
    await everything.first((m) => m.topic === 'tele/gate1/LWT' && m.payload.toString() === 'Offline', 'the will on its own LWT topic');
    expect(everything.items.some((m) => m.topic === 'tele/gate2/SENSOR')).toBe(false);
  });

  it("refuses at CONNACK a will outside the device's extra topics", async () => {
    expect(await refusalCode(tasmota, { will: { topic: 'tele/gate2/LWT', payload: Buffer.from('Offline'), retain: true, qos: 1 } })).toBe(5);
    expect(rejected.items).toEqual([{ source: tasmota.id, reason: 'will-not-allowed', bytes: 0 }]);
  });
});

describe('authentication', () => {
  it('accepts a device with its own password', async () => {
    await connectDevice(reader);
    expect(broker.connectedClients()).toBe(1);
    expect(rejected.items).toEqual([]);
  });

  it('refuses a wrong password at CONNACK, logs the username once and never the password', async () => {
    expect(await refusalCode({ id: reader.id, password: 'guess-1' })).toBe(4);
    expect(await refusalCode({ id: reader.id, password: 'guess-2' })).toBe(4);
    expect(broker.connectedClients()).toBe(0);
    expect(rejected.items).toEqual([
      { source: reader.id, reason: 'wrong-password', bytes: 0 },
      { source: reader.id, reason: 'wrong-password', bytes: 0 },
    ]);
    const refusals = logLines.items.filter((l) => l.msg === 'MQTT connection refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ device: reader.id, reason: 'wrong-password' });
    const everything = JSON.stringify(logLines.items);
    expect(everything).not.toContain('guess-1');
    expect(everything).not.toContain('guess-2');
  });

  it('refuses anonymous clients and unknown users', async () => {
    expect(await refusalCode(null)).toBe(5);
    expect(await refusalCode({ id: 'intruder', password: 'x' })).toBe(4);
    expect(rejected.items.map((r) => r.reason)).toEqual(['anonymous', 'unknown-device']);
    expect(rejected.items.every((r) => r.source === 'unknown-client')).toBe(true);
  });

  it("does not let one device take over another device's client id", async () => {
    const barrierClient = await connectDevice(barrier, { clientId: 'shared-id' });
    expect(await refusalCode(reader, { clientId: 'shared-id' })).toBe(2);
    expect(barrierClient.connected).toBe(true);
    expect(broker.connectedClients()).toBe(1);
  });
});

describe('what devices may publish and subscribe', () => {
  it("refuses the reader's publish to the barrier's topics: no PUBACK, never delivered, counted", async () => {
    const everything = inbox();
    await broker.client.subscribe('gp/dev/#', everything.push);
    const readerClient = await connectDevice(reader);
    const packets = received(readerClient);
    const closed = once(readerClient, 'close', 'the refused publisher to be disconnected');

    readerClient.publish('gp/dev/barrier-north/event/state', 'opened', { qos: 1 });
    await closed;
    expect(packets.items.map((p) => p.cmd)).not.toContain('puback');
    expect(rejected.items).toEqual([{ source: reader.id, reason: 'topic-not-allowed', topic: 'gp/dev/barrier-north/event/state', bytes: 6 }]);

    // A device retrying the same refused publish is counted every time but logged once.
    const retry = await connectDevice(reader);
    const retryClosed = once(retry, 'close', 'the retrying publisher to be disconnected');
    retry.publish('gp/dev/barrier-north/event/state', 'opened', { qos: 1 });
    await retryClosed;
    expect(rejected.items).toHaveLength(2);
    expect(logLines.items.filter((l) => l.msg === 'MQTT publish refused; closing the connection')).toHaveLength(1);

    // The barrier's own message goes through the same path: once it has arrived, the refused one would have too.
    const barrierClient = await connectDevice(barrier);
    await barrierClient.publishAsync('gp/dev/barrier-north/event/state', 'closed', { qos: 1 });
    await everything.first((m) => m.payload.toString() === 'closed', "the barrier's own event");
    expect(everything.text()).toEqual(['gp/dev/barrier-north/event/state closed']);
  });

  it('refuses a retained event', async () => {
    const readerClient = await connectDevice(reader);
    readerClient.publish('gp/dev/reader-north-in/event/credential', '{}', { qos: 1, retain: true });
    await rejected.first((r) => r.reason === 'retain-not-allowed', 'the retained event to be refused');
  });

  it("refuses a subscription to another device's commands in the SUBACK and grants its own", async () => {
    const readerClient = await connectDevice(reader);
    const packets = received(readerClient);
    const messages = new Seen<string>();
    readerClient.on('message', (topic) => messages.push(topic));
    readerClient.subscribe({ 'gp/dev/barrier-north/cmd/#': { qos: 1 }, 'gp/dev/reader-north-in/cmd/#': { qos: 1 } }, () => undefined);
    const suback = (await packets.first((p) => p.cmd === 'suback', 'SUBACK')) as Packet & { granted: number[] };
    expect(suback.granted).toEqual([0x80, 1]);
    expect(rejected.items).toEqual([{ source: reader.id, reason: 'subscription-not-allowed', topic: 'gp/dev/barrier-north/cmd/#', bytes: 0 }]);

    await broker.client.publish('gp/dev/barrier-north/cmd/open', '{}', { qos: 1 });
    await broker.client.publish('gp/dev/reader-north-in/cmd/led', '{}', { qos: 1 });
    await messages.first((t) => t === 'gp/dev/reader-north-in/cmd/led', 'the reader command');
    expect(messages.items).toEqual(['gp/dev/reader-north-in/cmd/led']);
  });

  it('refuses payloads over the limit and delivers those at the limit', async () => {
    const everything = inbox();
    await broker.client.subscribe('gp/dev/#', everything.push);
    const readerClient = await connectDevice(reader);
    await readerClient.publishAsync('gp/dev/reader-north-in/event/credential', Buffer.alloc(maxPayloadBytes, 'a'), { qos: 1 });

    const closed = once(readerClient, 'close', 'the oversize publisher to be disconnected');
    readerClient.publish('gp/dev/reader-north-in/event/credential', Buffer.alloc(maxPayloadBytes + 1, 'b'), { qos: 1 });
    await closed;
    expect(rejected.items).toEqual([{ source: reader.id, reason: 'oversize', topic: 'gp/dev/reader-north-in/event/credential', bytes: maxPayloadBytes + 1 }]);
    expect(everything.items.map((m) => m.payload.length)).toEqual([maxPayloadBytes]);
  });
});

describe('status and wills', () => {
  const status = `gp/dev/${barrier.id}/status`;
  const will = { topic: status, payload: Buffer.from('offline'), retain: true, qos: 1 as const };

  it('gives in-process subscribers the retained status, then the will when the device socket dies', async () => {
    const barrierClient = await connectDevice(barrier, { will });
    await barrierClient.publishAsync(status, 'online', { qos: 1, retain: true });

    const statuses = inbox();
    await broker.client.subscribe('gp/dev/+/status', statuses.push, { retained: true });
    expect(statuses.text()).toEqual([`${status} online (retained)`]);

    barrierClient.stream.destroy();
    await statuses.first((m) => m.payload.toString() === 'offline', 'the will');
    expect(statuses.text()).toEqual([`${status} online (retained)`, `${status} offline`]);

    const later = inbox();
    await broker.client.subscribe(status, later.push, { retained: true });
    expect(later.text()).toEqual([`${status} offline (retained)`]);
  });

  it("refuses at CONNACK a will on another device's topic", async () => {
    expect(await refusalCode(reader, { will })).toBe(5);
    expect(rejected.items).toEqual([{ source: reader.id, reason: 'will-not-allowed', bytes: 0 }]);
  });
});

describe('the in-process client', () => {
  it("acknowledges a device's QoS 1 publish only after the handler has finished", async () => {
    const order: string[] = [];
    let finishHandler = (): void => undefined;
    const handlerStarted = new Seen<BrokerMessage>();
    await broker.client.subscribe(`gp/dev/${reader.id}/event/#`, async (msg) => {
      order.push('handler started');
      handlerStarted.push(msg);
      await new Promise<void>((resolve) => (finishHandler = resolve));
      order.push('handler finished');
    });
    const readerClient = await connectDevice(reader);
    await readerClient.subscribeAsync(`gp/dev/${reader.id}/cmd/#`, { qos: 0 });
    const packets = received(readerClient);
    readerClient.on('packetreceive', (p) => order.push(`device got ${p.cmd}`));

    const acked = readerClient.publishAsync(`gp/dev/${reader.id}/event/credential`, '{"card":"1"}', { qos: 1 });
    await handlerStarted.first(() => true, 'the handler to start');
    // A message sent to the device now travels behind any PUBACK already written on the same TCP stream.
    await broker.client.publish(`gp/dev/${reader.id}/cmd/led`, 'green');
    await packets.first((p) => p.cmd === 'publish', 'the command behind a premature PUBACK');
    expect(order).toEqual(['handler started', 'device got publish']);

    finishHandler();
    await within(acked, 'PUBACK');
    expect(order).toEqual(['handler started', 'device got publish', 'handler finished', 'device got puback']);
  });

  it('does not acknowledge what a handler could not take: the device keeps it and is acked once it goes through', async () => {
    let storeFull = true;
    await broker.client.subscribe('gp/dev/+/event/#', () => {
      if (storeFull) throw new Error('disk full');
    });
    const first = await connectDevice(reader);
    const closed = new Promise<void>((r) => first.once('close', () => r()));
    const acked = first.publishAsync(`gp/dev/${reader.id}/event/credential`, '1', { qos: 1 }).then(() => 'acked', () => 'failed');
    await within(closed, 'the broker to close the connection instead of acknowledging');
    first.end(true);
    expect(await Promise.race([acked, new Promise((r) => setTimeout(() => r('no PUBACK'), 200))])).not.toBe('acked');
    expect(rejected.items).toContainEqual({ source: reader.id, reason: 'not-accepted', topic: `gp/dev/${reader.id}/event/credential`, bytes: 1 });
    expect(logLines.items.some((l) => l.msg === 'in-process MQTT subscriber failed; the message is not acknowledged')).toBe(true);
    // The store has room again: the device's resend goes through and is acknowledged.
    storeFull = false;
    const again = await connectDevice(reader);
    await within(again.publishAsync(`gp/dev/${reader.id}/event/credential`, '1', { qos: 1 }), 'PUBACK');
  });

  it('delivers retained messages first, stops after unsubscribing, and publishes to devices', async () => {
    await broker.client.publish('gp/site/demo-compound/event/shift', 'day', { retain: true, qos: 1 });
    const site = inbox();
    const unsubscribe = await broker.client.subscribe('gp/site/#', site.push, { retained: true });
    await broker.client.publish('gp/site/demo-compound/event/shift', 'night');
    expect(site.text()).toEqual(['gp/site/demo-compound/event/shift day (retained)', 'gp/site/demo-compound/event/shift night']);
    await unsubscribe();
    await broker.client.publish('gp/site/demo-compound/event/shift', 'day');
    expect(site.items).toHaveLength(2);

    const barrierClient = await connectDevice(barrier);
    await barrierClient.subscribeAsync(`gp/dev/${barrier.id}/cmd/open`, { qos: 1 });
    const commands = new Seen<string>();
    barrierClient.on('message', (topic, payload) => commands.push(`${topic} ${payload.toString()}`));
    await broker.client.publish(`gp/dev/${barrier.id}/cmd/open`, '{"for_s":5}', { qos: 1 });
    await commands.first((c) => c === `gp/dev/${barrier.id}/cmd/open {"for_s":5}`, 'the barrier command');
  });
});

describe('the listener', () => {
  it('drops clients that send garbage, logs them, and keeps serving others', async () => {
    const garbage = [Buffer.from([0x00, 0x00]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0x10, 0x05, 1, 2, 3, 4, 5])];
    for (const bytes of garbage) {
      const socket = tcpConnect(port, '127.0.0.1');
      rawSockets.push(socket);
      socket.on('error', () => undefined);
      await once(socket, 'connect', 'a raw TCP connection');
      const closed = once(socket, 'close', 'the broker to drop the garbage sender');
      socket.write(bytes);
      await closed;
    }
    expect(rejected.items).toEqual(garbage.map(() => ({ source: 'unknown-client', reason: 'protocol-error', bytes: 0 })));
    expect(logLines.items.some((l) => l.msg === 'MQTT client dropped: malformed or out-of-protocol input')).toBe(true);

    const everything = inbox();
    await broker.client.subscribe('gp/dev/#', everything.push);
    const readerClient = await connectDevice(reader);
    await readerClient.publishAsync(`gp/dev/${reader.id}/event/credential`, 'still here', { qos: 1 });
    expect(everything.text()).toEqual([`gp/dev/${reader.id}/event/credential still here`]);
  });

  it('sets TCP_NODELAY on every accepted socket', async () => {
    const setNoDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    try {
      await connectDevice(reader);
      await connectDevice(barrier);
      const serverSide = setNoDelay.mock.contexts.filter((s) => (s as Socket).localPort === port);
      expect(serverSide).toHaveLength(2);
      expect(setNoDelay.mock.calls.filter((_, i) => (setNoDelay.mock.contexts[i] as Socket).localPort === port)).toEqual([[true], [true]]);
    } finally {
      setNoDelay.mockRestore();
    }
  });

  it('closes every client socket on stop, and start and stop are idempotent', async () => {
    expect(await broker.start()).toBe(port);
    const readerClient = await connectDevice(reader);
    const idle = tcpConnect(port, '127.0.0.1');
    rawSockets.push(idle);
    await once(idle, 'connect', 'an idle TCP connection');
    const readerClosed = once(readerClient, 'close', 'the device to be disconnected');
    const idleClosed = once(idle, 'close', 'the idle connection to be closed');

    await Promise.all([broker.stop(), broker.stop()]);
    await Promise.all([readerClosed, idleClosed]);
    expect(broker.connectedClients()).toBe(0);
    await broker.stop();
    await expect(broker.client.publish('gp/site/x/event/y', 'z')).rejects.toThrow(/not running/);
    await expect(within(new Promise((resolve, reject) => tcpConnect(port, '127.0.0.1').once('connect', resolve).once('error', reject)), 'refusal')).rejects.toThrow(/ECONNREFUSED/);
  });
});
