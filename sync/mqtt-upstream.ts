// The MQTT transport to HQ's broker: batches as QoS 1 publishes answered by PUBACK, master data and the other gates' records by subscription.
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { answerTopic, masterKinds, masterTopic, parseUpTopic, peerTopic, sharedStreams, upTopic } from './contract.js';
import type { OutboxBatch } from './outbox-reader.js';
import type { SyncLog } from './pump.js';
import { isTrustError, parseMasterData, parseUpAnswer, parseUpBatch, UpstreamError, type Inbound, type Outcome, type Upstream } from './upstream.js';

export interface MqttUpstreamOptions {
  /** mqtt://host:1883 or mqtts://host:8883 */
  url: string;
  username: string;
  password: string;
  clientId: string;
  /** PEM file with HQ's CA certificate, for mqtts:// with a private CA. */
  caFile?: string | undefined;
  compound: string;
  site: string;
  inbound: Inbound;
  log: SyncLog;
  /** Batches waiting for PUBACK at once (default 4). */
  window?: number;
}

/** PUBACK "Payload format invalid": HQ's broker judged the batch itself bad, so resending cannot help. */
const payloadFormatInvalid = 0x99;
/** CONNACK codes that mean "not this protocol version": 1 from a 3.1.1 broker, 0x84 from a 5 one. */
const versionRefused = new Set([1, 0x84]);
/** CONNACK codes about who we are: retrying soon cannot fix them. */
const authRefused = new Set([4, 5, 0x86, 0x87, 0x8a, 0x8c]);
/** Keep the broker's copy of our subscriptions and what arrives for them while the line is down. */
const sessionExpiryS = 7 * 86400;
const connectTimeoutMs = 10_000;
const keepaliveS = 30;

interface Pending {
  settle(outcome: Outcome): void;
}

export class MqttUpstream implements Upstream {
  readonly window: number;
  private version: 5 | 4 = 5;
  private client: MqttClient | null = null;
  private readonly pending = new Set<Pending>();
  private readonly ca: Buffer | undefined;

  constructor(private readonly opts: MqttUpstreamOptions) {
    if (!/^mqtts?:\/\//.test(opts.url)) throw new Error(`the MQTT upstream needs an mqtt:// or mqtts:// URL, got ${opts.url.replace(/\/\/[^@/]*@/, '//***@')}`);
    // Four batches in flight cover a WAN round trip at a gate's uplink speed; more only holds more memory.
    this.window = opts.window ?? 4;
    // Read once, at start, so a missing file is a clear error now instead of a TLS failure every retry.
    this.ca = opts.caFile ? readFileSync(opts.caFile) : undefined;
  }

  get protocol(): string {
    return this.version === 5 ? 'mqtt 5' : 'mqtt 3.1.1';
  }

  isUp(): boolean {
    return this.client?.connected === true;
  }

  async connect(): Promise<void> {
    await this.close();
    try {
      this.client = await this.open(this.version);
    } catch (err) {
      if (this.version !== 5 || !(err instanceof VersionRefused)) throw err;
      // Settled on 3.1.1 only once it works: a broker that merely hung up stays asked for 5 next time.
      this.client = await this.open(4);
      this.version = 4;
      this.opts.log('info', "HQ's broker refuses MQTT 5: using MQTT 3.1.1 (no PUBACK reason codes, so a refused batch cannot be told apart from a stored one)");
    }
    await this.subscribe(this.client);
  }

  private open(version: 5 | 4): Promise<MqttClient> {
    const { opts } = this;
    const options: IClientOptions = {
      protocolVersion: version,
      clientId: opts.clientId,
      username: opts.username,
      password: opts.password,
      clean: false,
      // The pump decides when to try again (with backoff on its clock), and the outbox is the resend store.
      reconnectPeriod: 0,
      connectTimeout: connectTimeoutMs,
      keepalive: keepaliveS,
      ...(this.ca ? { ca: this.ca } : {}),
      ...(version === 5 ? { properties: { sessionExpiryInterval: sessionExpiryS } } : {}),
    };
    return new Promise<MqttClient>((resolve, reject) => {
      const client = connect(opts.url, options);
      let connected = false;
      let error: Error | null = null;
      client.on('connect', () => {
        connected = true;
        // Nagle plus delayed ACKs adds 40+ ms to every QoS 1 exchange.
        (client.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true);
        resolve(client);
      });
      client.on('error', (err) => {
        error ??= err;
      });
      client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.properties?.correlationData));
      client.on('close', () => {
        if (!connected) {
          client.end(true);
          reject(connectError(error, version));
          return;
        }
        if (this.client === client) this.dropPending('the connection to HQ was lost');
      });
    });
  }

  private async subscribe(client: MqttClient): Promise<void> {
    const { compound } = this.opts;
    // no-local (MQTT 5) keeps our own batches from coming back through the peer subscriptions.
    const peer = this.version === 5 ? { qos: 1 as const, nl: true } : { qos: 1 as const };
    const topics = {
      ...Object.fromEntries(masterKinds.map((k) => [masterTopic(compound, k), { qos: 1 as const }])),
      ...(this.version === 5 ? { [answerTopic(compound, this.opts.site)]: { qos: 1 as const } } : {}),
      ...Object.fromEntries(sharedStreams.map((s) => [peerTopic(compound, s), peer])),
    };
    try {
      const granted = await client.subscribeAsync(topics);
      const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length > 0) this.opts.log('warn', "HQ's broker refused subscriptions: no master data or no other gates' records on them", { topics: refused });
    } catch (err) {
      // Sending still works without them; the next connect asks again.
      this.opts.log('warn', 'subscribing at HQ failed', { error: (err as Error).message });
    }
  }

  private onMessage(topic: string, payload: Buffer, correlation: Buffer | undefined): void {
    const { inbound, log } = this.opts;
    // Runs before mqtt.js sends the PUBACK, so what is applied is on disk before the broker forgets it.
    try {
      if (topic === answerTopic(this.opts.compound, this.opts.site)) {
        // The correlation data is the batch's Idempotency-Key: <site>:<stream>:<first seq>-<last seq>.
        const key = /^[a-z0-9-]+:([a-z_]+):(\d+)-(\d+)$/.exec(correlation?.toString('utf8') ?? '');
        const answer = parseUpAnswer(payload.toString('utf8'));
        if (key && answer.rejected.length > 0) inbound.refused(key[1]!, Number(key[2]), Number(key[3]), answer.rejected);
        return;
      }
      const up = parseUpTopic(topic);
      // Our own batches echo back under MQTT 3.1.1 (no no-local): not worth parsing.
      if (up?.site === this.opts.site) return;
      if (up) inbound.peer(parseUpBatch(payload.toString('utf8')));
      else inbound.master(parseMasterData(payload.toString('utf8')));
    } catch (err) {
      log('warn', 'message from HQ ignored', { topic, error: (err as Error).message, bytes: payload.length });
    }
  }

  send(batch: OutboxBatch, body: Buffer): Promise<Outcome> {
    const client = this.client;
    if (!client?.connected) return Promise.resolve({ type: 'failed', auth: false, reason: 'not connected to HQ' });
    const { compound, site } = this.opts;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const entry: Pending = {
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          this.pending.delete(entry);
          resolve(outcome);
        },
      };
      this.pending.add(entry);
      // MQTT 5: HQ's consumer answers on our answer topic once it has stored (or refused) the batch.
      const key = `${site}:${batch.stream}:${batch.seqs[0]}-${batch.seqs[batch.seqs.length - 1]}`;
      const properties =
        this.version === 5
          ? { properties: { payloadFormatIndicator: true, contentType: 'application/json', responseTopic: answerTopic(compound, site), correlationData: Buffer.from(key) } }
          : {};
      client.publish(upTopic(compound, site, batch.stream), body, { qos: 1, ...properties }, (err) => {
        if (!err) return entry.settle({ type: 'acked' });
        const code = (err as Error & { code?: unknown }).code;
        if (code === payloadFormatInvalid) return entry.settle({ type: 'refused', reason: `HQ's broker refused the batch: payload format invalid (0x99)` });
        if (typeof code === 'number') {
          return entry.settle({ type: 'failed', auth: code === 0x87, reason: `HQ's broker refused a ${batch.stream} batch: ${err.message} (0x${code.toString(16)})` });
        }
        entry.settle({ type: 'failed', auth: false, reason: err.message });
      });
    });
  }

  private dropPending(reason: string): void {
    for (const p of [...this.pending]) p.settle({ type: 'failed', auth: false, reason });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.dropPending('the connection to HQ was closed');
    if (!client) return;
    // Forced: a publish still waiting is not marked sent, so it goes again from the outbox.
    await new Promise<void>((resolve) => client.end(true, () => resolve()));
  }
}

class VersionRefused extends Error {}

function connectError(err: Error | null, version: 5 | 4): Error {
  if (!err) {
    // A 3.1.1 broker may drop an MQTT 5 CONNECT without a CONNACK.
    return version === 5 ? new VersionRefused('the broker closed the connection before answering') : new UpstreamError("HQ's broker closed the connection before answering", false);
  }
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'number') {
    if (version === 5 && versionRefused.has(code)) return new VersionRefused(err.message);
    return new UpstreamError(`HQ's broker refused the connection: ${err.message}`, authRefused.has(code));
  }
  return new UpstreamError(`cannot connect to HQ's broker: ${err.message}`, isTrustError(err));
}
