// The embedded MQTT broker: the TCP listener, device authentication, the topic ACL and the gateway's in-process client.
import type { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket, type Subscription } from 'aedes';
import type { BrokerClient, BrokerMessage, ExtraTopics } from '../../drivers/contract.js';
import { topicMatches } from '../../drivers/mqtt/topics.js';

export type { ExtraTopics };
import { ErrorCode, GuardpostError } from '../core/errors.js';
import type { RejectedInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import { verifySecret } from '../core/secret.js';

export interface DeviceCredentials {
  passwordHash: string;
  /** Topics beyond the device's own gp/dev/<id>/ ones; none for a device that speaks guardpost's topics. */
  extraTopics?: ExtraTopics;
}

export interface BrokerOptions {
  host: string;
  /** 0 picks a free port; start() returns the bound one. */
  port: number;
  maxPayloadBytes: number;
  /**
   * Devices by id; the MQTT username is the device id. createBroker throws a config error when a
   * device's extra topics are malformed, reach into gp/, or overlap another device's.
   */
  devices: ReadonlyMap<string, DeviceCredentials>;
  log: Logger;
  /** Every refused connection, publish or subscription and every protocol violation, for /metrics. */
  onRejected(r: RejectedInput): void;
}

export interface Broker {
  /** Resolves with the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
  /** The gateway's own client: no credentials, no ACL. */
  readonly client: BrokerClient;
  connectedClients(): number;
}

/** Stable labels (they end up as metric labels, so never built from input). */
export type RefusalReason =
  | 'anonymous'
  | 'unknown-device'
  | 'wrong-password'
  | 'will-not-allowed'
  | 'client-id-taken'
  | 'topic-not-allowed'
  | 'retain-not-allowed'
  | 'oversize'
  | 'subscription-not-allowed'
  | 'protocol-error'
  /** The gateway could not take the message (it could not be recorded): no PUBACK, the device sends it again. */
  | 'not-accepted';

/** CONNACK return codes of MQTT 3.1.1 (aedes exports them only as an ambient const enum). */
const connack = { identifierRejected: 2, serverUnavailable: 3, badUsernameOrPassword: 4, notAuthorized: 5 } as const;

/** Event, command and ack types: what may follow `event/` or `cmd/` in a topic. */
const messageType = /^[a-z][a-z0-9-]{0,31}$/;

/** Who refused input is counted against when it is not a known device, so metrics keep a bounded label set. */
const unknownSource = 'unknown-client';

/**
 * Null when the device may publish to `topic`, otherwise why not. A device owns exactly
 * gp/dev/<id>/event/<type>, gp/dev/<id>/ack and gp/dev/<id>/status, and only its status is retained;
 * beyond gp/ it may publish (retained or not) to the topics its `extra` filters grant.
 */
export function publishRefusal(deviceId: string, topic: string, retain: boolean, extra?: ExtraTopics): 'topic-not-allowed' | 'retain-not-allowed' | null {
  if (!inGuardpostTree(topic)) {
    const granted = [...(extra?.publish ?? []), ...(extra?.shared ?? [])];
    return isValidTopic(topic) && granted.some((f) => isExtraFilter(f) && topicMatches(f, topic)) ? null : 'topic-not-allowed';
  }
  const own = `gp/dev/${deviceId}/`;
  if (!topic.startsWith(own)) return 'topic-not-allowed';
  const rest = topic.slice(own.length);
  if (rest === 'status') return null;
  const ownTopic = rest === 'ack' || (rest.startsWith('event/') && messageType.test(rest.slice('event/'.length)));
  if (!ownTopic) return 'topic-not-allowed';
  return retain ? 'retain-not-allowed' : null;
}

/**
 * A device may listen only to its own commands: gp/dev/<id>/cmd/# or gp/dev/<id>/cmd/<type>, and
 * beyond gp/ to filters that one of its `extra.subscribe` filters covers entirely.
 */
export function maySubscribe(deviceId: string, filter: string, extra?: ExtraTopics): boolean {
  if (!inGuardpostTree(filter)) {
    return isValidFilter(filter) && (extra?.subscribe ?? []).some((f) => isExtraFilter(f) && filterCovers(f, filter));
  }
  const own = `gp/dev/${deviceId}/cmd/`;
  if (!filter.startsWith(own)) return false;
  const rest = filter.slice(own.length);
  return rest === '#' || messageType.test(rest);
}

/**
 * Whether a topic or filter can touch guardpost's own tree or the broker's: gp/..., $SYS/...,
 * and anything whose first level is a wildcard. Extra topics never apply there.
 */
function inGuardpostTree(topicOrFilter: string): boolean {
  const first = topicOrFilter.split('/', 1)[0] ?? '';
  return first === 'gp' || first === '+' || first === '#' || first.startsWith('$');
}

/** An extra filter is usable only if it is well formed and stays out of gp/ and $ topics. */
function isExtraFilter(filter: string): boolean {
  return isValidFilter(filter) && !inGuardpostTree(filter);
}

/** Whether every topic `inner` matches is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    if (o[i] === '#') return true;
    if (i >= n.length) return false;
    if (n[i] === '#') return false;
    if (o[i] !== '+' && (n[i] === '+' || o[i] !== n[i])) return false;
  }
  return o.length === n.length;
}

/** Whether some topic matches both filters. */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    // "a/#" also matches "a" itself, so a filter ending where the other continues with # overlaps it.
    if (i >= x.length || i >= y.length) return x.length === y.length || x[i] === '#' || y[i] === '#';
    if (x[i] === '#' || y[i] === '#') return true;
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
}

/**
 * Every problem with the devices' extra topics, empty when there is none: each filter must be a
 * valid MQTT filter with a literal first level outside gp/ and $, and what one device owns
 * (publish and subscribe filters) must not overlap anything another device may use, so that no
 * device can speak or listen for another. Shared filters may overlap other devices' shared ones.
 */
export function extraTopicProblems(devices: ReadonlyMap<string, DeviceCredentials>): string[] {
  const problems: string[] = [];
  const claims: { device: string; filter: string; owned: boolean }[] = [];
  for (const [device, { extraTopics }] of devices) {
    if (!extraTopics) continue;
    const lists: [string, readonly string[] | undefined, boolean][] = [
      ['publish', extraTopics.publish, true],
      ['subscribe', extraTopics.subscribe, true],
      ['shared', extraTopics.shared, false],
    ];
    for (const [list, filters, owned] of lists) {
      for (const filter of filters ?? []) {
        if (!isValidFilter(filter)) {
          problems.push(`device "${device}": ${list} topic ${JSON.stringify(filter)} is not an MQTT topic filter`);
        } else if (inGuardpostTree(filter)) {
          problems.push(`device "${device}": ${list} topic ${JSON.stringify(filter)} must start with a fixed level other than gp or $ (gp/ topics are guardpost's own)`);
        } else {
          claims.push({ device, filter, owned });
        }
      }
    }
  }
  const reported = new Set<string>();
  for (const a of claims) {
    for (const b of claims) {
      if (a.device >= b.device || !(a.owned || b.owned) || !filtersOverlap(a.filter, b.filter)) continue;
      const key = `${a.device}\u0000${b.device}`;
      if (reported.has(key)) continue;
      reported.add(key);
      problems.push(`devices "${a.device}" and "${b.device}" would share topics: ${JSON.stringify(a.filter)} overlaps ${JSON.stringify(b.filter)}; give each device its own topic name`);
    }
  }
  return problems;
}


function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\0')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => (level.includes('#') ? level === '#' && i === levels.length - 1 : !level.includes('+') || level === '+'));
}

function isValidTopic(topic: string): boolean {
  return topic.length > 0 && !/[+#\0]/.test(topic);
}

/**
 * Remembers the last value logged per key so that a repeating fault (a device retrying a refused
 * publish every second, a scanner probing the port) is logged once per change. Bounded, because
 * keys can come from the network (usernames, addresses).
 */
class LogMemo {
  readonly #last = new Map<string, string>();
  changed(key: string, value = ''): boolean {
    if (this.#last.has(key) && this.#last.get(key) === value) return false;
    if (this.#last.size >= 1024) this.#last.clear();
    this.#last.set(key, value);
    return true;
  }
}

/** A refusal we decided; aedes reports it back as a client error, which must not be counted twice. */
class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    readonly returnCode: number = connack.notAuthorized,
  ) {
    super(reason);
  }
}

interface InProcessSubscription {
  filter: string;
  handler: (msg: BrokerMessage) => void | Promise<void>;
  active: boolean;
  /** Settles when the retained replay is over; live messages wait for it so they arrive after. */
  ready: Promise<void>;
  /** So a handler failing the same way on every message is logged once. */
  lastFailure?: string;
}

/** The slice of aedes' persistence we use (the instance property is not in aedes' typings). */
interface RetainedStore {
  storeRetained(packet: PublishPacket): Promise<void>;
  createRetainedStream(filter: string): AsyncIterable<PublishPacket>;
}

interface Running {
  aedes: Aedes;
  retained: RetainedStore;
  server: Server;
  /** Every accepted socket with its peer address, authenticated or not, so stop() can close them all. */
  sockets: Map<Socket, string>;
  port: number;
  stopping: boolean;
}

type ConnectWill = ConnectPacket['will'];

const asBuffer = (payload: Buffer | string | Uint8Array): Buffer => (Buffer.isBuffer(payload) ? payload : Buffer.from(payload));

export function createBroker(opts: BrokerOptions): Broker {
  const { log, devices, maxPayloadBytes, onRejected } = opts;
  // Refused here rather than at the first publish: overlapping topics would let one device pose as another.
  const topicProblems = extraTopicProblems(devices);
  if (topicProblems.length > 0) {
    throw new GuardpostError(ErrorCode.ConfigInvalid, `MQTT device topics are unsafe:\n${topicProblems.join('\n')}`, topicProblems);
  }
  const subscriptions = new Set<InProcessSubscription>();
  const deviceOf = new WeakMap<Client, string>();
  const willOf = new WeakMap<Client, ConnectWill>();
  const keepaliveExpired = new WeakSet<Client>();
  const registeredById = new Map<string, Client>();
  const logMemo = new LogMemo();
  let running: Promise<Running> | null = null;
  let current: Running | null = null;
  let stopping: Promise<void> | null = null;

  const peerOf = (client: Client): string | undefined => current?.sockets.get(client.conn as Socket);

  function reject(source: string, reason: RefusalReason, bytes: number, topic?: string): void {
    onRejected(topic === undefined ? { source, reason, bytes } : { source, reason, topic, bytes });
  }

  async function handOver(sub: InProcessSubscription, msg: BrokerMessage): Promise<void> {
    if (!sub.active) return;
    try {
      await sub.handler(msg);
    } catch (err) {
      // Not accepted (typically: it could not be recorded). No PUBACK then: the device keeps the
      // message and sends it again after reconnecting, rather than being told it was stored.
      if (sub.lastFailure !== String(err)) {
        sub.lastFailure = String(err);
        log.error({ err, filter: sub.filter, topic: msg.topic }, 'in-process MQTT subscriber failed; the message is not acknowledged');
      }
      throw err;
    }
  }

  async function deliverInProcess(msg: BrokerMessage): Promise<void> {
    const matching = [...subscriptions].filter((s) => topicMatches(s.filter, msg.topic));
    await Promise.all(
      matching.map(async (s) => {
        await s.ready;
        await handOver(s, msg);
      }),
    );
  }

  /**
   * In-process delivery for everything published (by devices, their wills and the gateway).
   * A retained message is stored before delivery, not after as aedes would: a subscriber that
   * registers in between then finds it in its retained replay instead of missing it.
   */
  async function route(state: Running, packet: PublishPacket): Promise<void> {
    const payload = asBuffer(packet.payload);
    if (packet.retain) {
      await state.retained.storeRetained({ cmd: 'publish', topic: packet.topic, payload, qos: packet.qos, retain: true, dup: false });
    }
    await deliverInProcess({ topic: packet.topic, payload, retained: false });
  }

  async function admit(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Refusal | null> {
    if (!username) return new Refusal('anonymous', connack.notAuthorized);
    const device = devices.get(username);
    if (!device) return new Refusal('unknown-device', connack.badUsernameOrPassword);
    if (!password || !(await verifySecret(password.toString('utf8'), device.passwordHash))) {
      return new Refusal('wrong-password', connack.badUsernameOrPassword);
    }
    // aedes checks a will only when it publishes it, long after the device was told all is well.
    const will = willOf.get(client);
    if (will && (publishRefusal(username, will.topic, will.retain ?? false, device.extraTopics) !== null || asBuffer(will.payload).length > maxPayloadBytes)) {
      return new Refusal('will-not-allowed', connack.notAuthorized);
    }
    // aedes lets a new connection take over any client id, which would let one device kick another off.
    const holder = registeredById.get(client.id);
    if (holder && deviceOf.get(holder) !== username) return new Refusal('client-id-taken', connack.identifierRejected);
    return null;
  }

  function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: (err: AuthenticateError | null, ok: boolean | null) => void): void {
    const name = (username || '(anonymous)').slice(0, 64);
    admit(client, username, password).then(
      (refusal) => {
        if (refusal) {
          reject(devices.has(name) ? name : unknownSource, refusal.reason, 0);
          if (logMemo.changed(`auth:${name}`, refusal.reason)) {
            log.warn({ device: name, reason: refusal.reason, peer: peerOf(client) }, 'MQTT connection refused');
          }
          done(refusal as unknown as AuthenticateError, false);
          return;
        }
        deviceOf.set(client, name);
        if (logMemo.changed(`auth:${name}`, 'accepted')) log.info({ device: name }, 'device authenticated on MQTT');
        done(null, true);
      },
      (err: unknown) => {
        log.error({ err, device: name }, 'MQTT authentication failed unexpectedly');
        done(new Refusal('protocol-error', connack.serverUnavailable) as unknown as AuthenticateError, false);
      },
    );
  }

  /**
   * aedes 1.2 writes the PUBACK of a QoS 1 publish *before* it hands the message to subscribers
   * (lib/handlers/publish.js), so its own in-process subscriptions cannot hold the ack. This hook
   * runs before the ack, so in-process delivery happens here and the ack waits for the handlers.
   *
   * A refused publish is answered the only honest way MQTT 3.1.1 allows [MQTT-3.3.5-2]: aedes
   * closes the connection and sends no PUBACK, so the device knows it was not delivered and keeps
   * its message (aedes has no way to drop silently; a PUBACK for a dropped message would be a lie).
   * The device's will then announces it offline, which is what it is.
   */
  function authorizePublish(client: Client | null, packet: PublishPacket, callback: (err?: Error | null) => void): void {
    const state = current;
    const deviceId = client ? deviceOf.get(client) : undefined;
    const bytes = asBuffer(packet.payload).length;
    const reason: RefusalReason | null =
      deviceId === undefined
        ? 'unknown-device'
        : bytes > maxPayloadBytes
          ? 'oversize'
          : publishRefusal(deviceId, packet.topic, packet.retain, devices.get(deviceId)?.extraTopics);
    if (reason !== null || !state) {
      const refusal = reason ?? 'protocol-error';
      const source = deviceId ?? unknownSource;
      reject(source, refusal, bytes, packet.topic);
      if (logMemo.changed(`publish:${source}:${refusal}`)) {
        log.warn({ device: source, reason: refusal, topic: packet.topic, bytes }, 'MQTT publish refused; closing the connection');
      }
      callback(new Refusal(refusal));
      return;
    }
    // At shutdown the devices did not fail, the gateway is leaving: their wills are not news for it.
    if (state.stopping) {
      callback(null);
      return;
    }
    route(state, packet).then(
      () => callback(null),
      () => {
        const source = deviceId ?? unknownSource;
        reject(source, 'not-accepted', bytes, packet.topic);
        callback(new Refusal('not-accepted'));
      },
    );
  }

  function authorizeSubscribe(client: Client, sub: Subscription, callback: (err: Error | null, sub?: Subscription | null) => void): void {
    const deviceId = deviceOf.get(client);
    if (deviceId !== undefined && maySubscribe(deviceId, sub.topic, devices.get(deviceId)?.extraTopics)) {
      callback(null, sub);
      return;
    }
    const source = deviceId ?? unknownSource;
    reject(source, 'subscription-not-allowed', 0, sub.topic);
    if (logMemo.changed(`subscribe:${source}`)) {
      log.warn({ device: source, filter: sub.topic }, 'MQTT subscription refused');
    }
    // A null subscription makes aedes answer 0x80 in the SUBACK; an error would drop the connection instead.
    callback(null, null);
  }

  function onClientFault(client: Client, err: Error & { code?: unknown }): void {
    if (err instanceof Refusal) return;
    const deviceId = deviceOf.get(client);
    const who = { device: deviceId, peer: peerOf(client) };
    // Socket errors (ECONNRESET when a device loses power) and keepalive expiry are a device going away, not bad input.
    if (typeof err.code === 'string' || keepaliveExpired.has(client)) {
      log.debug({ ...who, err: err.message }, 'MQTT connection lost');
      return;
    }
    reject(deviceId ?? unknownSource, 'protocol-error', 0);
    if (logMemo.changed(`fault:${deviceId ?? who.peer ?? unknownSource}`, err.message)) {
      log.warn({ ...who, err: err.message }, 'MQTT client dropped: malformed or out-of-protocol input');
    }
  }

  async function listen(): Promise<Running> {
    const aedes = await Aedes.createBroker({
      preConnect(client, packet, callback) {
        // The CONNECT packet (and so the will) is visible only here; authenticate() checks it.
        willOf.set(client, packet.will);
        callback(null, true);
      },
      authenticate,
      authorizePublish,
      authorizeSubscribe,
    });
    aedes.on('clientError', onClientFault);
    aedes.on('connectionError', onClientFault);
    aedes.on('keepaliveTimeout', (client) => keepaliveExpired.add(client));
    aedes.on('client', (client) => registeredById.set(client.id, client));
    aedes.on('clientReady', (client) => log.debug({ device: deviceOf.get(client) }, 'MQTT device connected'));
    aedes.on('clientDisconnect', (client) => {
      if (registeredById.get(client.id) === client) registeredById.delete(client.id);
      log.debug({ device: deviceOf.get(client) }, 'MQTT device disconnected');
    });
    // Without a listener an 'error' from aedes' persistence or will sweep would crash the process
    // (aedes' typings leave this event out).
    (aedes as EventEmitter).on('error', (err: Error) => log.error({ err }, 'MQTT broker error'));

    const sockets = new Map<Socket, string>();
    const server = createServer((socket) => {
      // Nagle against the device's delayed ACK adds 40+ ms to every QoS 1 round trip (DESIGN.md).
      socket.setNoDelay(true);
      sockets.set(socket, `${socket.remoteAddress}:${socket.remotePort}`);
      socket.once('close', () => sockets.delete(socket));
      aedes.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw err;
    }
    server.on('error', (err) => log.error({ err }, 'MQTT listener error'));
    const port = (server.address() as { port: number }).port;
    const retained = (aedes as unknown as { persistence: RetainedStore }).persistence;
    const state: Running = { aedes, retained, server, sockets, port, stopping: false };
    current = state;
    log.info({ host: opts.host, port }, 'MQTT broker listening');
    return state;
  }

  async function shutdown(state: Running): Promise<void> {
    state.stopping = true;
    const serverClosed = new Promise<void>((resolve) => state.server.close(() => resolve()));
    await new Promise<void>((resolve) => state.aedes.close(() => resolve()));
    // aedes closes the clients it registered; connections that never authenticated are ours to close.
    for (const socket of state.sockets.keys()) socket.destroy();
    await serverClosed;
    if (current === state) current = null;
    registeredById.clear();
    log.info('MQTT broker stopped');
  }

  async function replayRetained(state: Running, sub: InProcessSubscription): Promise<void> {
    try {
      for await (const packet of state.retained.createRetainedStream(sub.filter)) {
        // One retained message the handler could not take must not cost it the others.
        await handOver(sub, { topic: packet.topic, payload: asBuffer(packet.payload), retained: true }).catch(() => undefined);
      }
    } catch (err) {
      log.error({ err, filter: sub.filter }, 'reading retained MQTT messages failed');
    }
  }

  const client: BrokerClient = {
    async subscribe(filter, handler, subOpts = {}) {
      if (!isValidFilter(filter)) throw new Error(`not an MQTT topic filter: ${JSON.stringify(filter)}`);
      const sub: InProcessSubscription = { filter, handler, active: true, ready: Promise.resolve() };
      subscriptions.add(sub);
      if (subOpts.retained && current) sub.ready = replayRetained(current, sub);
      await sub.ready;
      return async () => {
        sub.active = false;
        subscriptions.delete(sub);
      };
    },

    async publish(topic, payload, pubOpts = {}) {
      const state = current;
      if (!state || state.stopping) throw new Error('the MQTT broker is not running');
      if (!isValidTopic(topic)) throw new Error(`not an MQTT topic: ${JSON.stringify(topic)}`);
      const packet: PublishPacket = { cmd: 'publish', topic, payload: asBuffer(payload), qos: pubOpts.qos ?? 0, retain: pubOpts.retain ?? false, dup: false };
      await route(state, packet);
      await new Promise<void>((resolve, reject) => state.aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
    },
  };

  return {
    client,

    async start() {
      if (stopping) await stopping;
      running ??= listen().catch((err: unknown) => {
        running = null;
        throw err;
      });
      return (await running).port;
    },

    async stop() {
      if (!running) return;
      const started = running;
      stopping ??= started
        .then(shutdown, () => undefined)
        .finally(() => {
          running = null;
          stopping = null;
        });
      await stopping;
    },

    connectedClients() {
      return current && !current.stopping ? current.aedes.connectedClients : 0;
    },
  };
}
