// HQ's side for the sync tests, written from the contract: a ledger reconciling records by id, an MQTT subscriber and an HTTP receiver that feed it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import { connectAsync, type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { packageRoot } from '../../../gateway/core/paths.js';
import type { MasterData, UpAnswer, UpBatch } from '../../../sync/contract.js';

/** The published schema files, as an HQ written in another language would use them. */
const contractDir = join(packageRoot, 'sync', 'contract');
const ajv = new Ajv({ strict: false });
const checkBatch = ajv.compile<UpBatch>(JSON.parse(readFileSync(join(contractDir, 'up-batch.schema.json'), 'utf8')) as object);

export interface QueuedRecord {
  stream: string;
  id: string;
  seq: number;
}

/** Everything HQ received, in arrival order, and what it stored (once per stream and id). */
export class Ledger {
  readonly batches: UpBatch[] = [];
  /** stream -> seqs in arrival order, resends included. */
  readonly arrivals = new Map<string, number[]>();
  /** "stream/id" -> how many times it arrived. */
  readonly stored = new Map<string, number>();
  /** Batches that broke the contract (tests expect none). */
  readonly violations: string[] = [];

  /** Null (and a violation noted) for a batch that breaks the contract. */
  take(batch: unknown): UpBatch | null {
    if (!checkBatch(batch)) {
      this.violations.push(ajv.errorsText(checkBatch.errors));
      return null;
    }
    this.batches.push(batch);
    const seqs = this.arrivals.get(batch.stream) ?? [];
    this.arrivals.set(batch.stream, seqs);
    for (const r of batch.records) {
      seqs.push(r.seq);
      const key = `${batch.stream}/${r.id}`;
      this.stored.set(key, (this.stored.get(key) ?? 0) + 1);
    }
    return batch;
  }

  get records(): number {
    return this.stored.size;
  }

  get duplicates(): number {
    return [...this.stored.values()].reduce((n, c) => n + c - 1, 0);
  }

  has(expected: readonly QueuedRecord[]): boolean {
    return expected.every((r) => this.stored.has(`${r.stream}/${r.id}`));
  }

  /**
   * Every expected record stored exactly once by id, nothing else stored, and per stream every record
   * first arrived after all lower seqs (a resent tail may repeat seqs already seen).
   */
  reconcile(expected: readonly QueuedRecord[]): void {
    expect([...this.stored.keys()].sort()).toEqual(expected.map((r) => `${r.stream}/${r.id}`).sort());
    for (const [stream, seqs] of this.arrivals) {
      let highest = 0;
      const seen = new Set<number>();
      const outOfOrder: number[] = [];
      for (const seq of seqs) {
        if (!seen.has(seq) && seq < highest) outOfOrder.push(seq);
        seen.add(seq);
        highest = Math.max(highest, seq);
      }
      expect(outOfOrder, `first arrivals out of seq order in ${stream}`).toEqual([]);
    }
  }
}

/** HQ's consumer on its broker: a persistent session, QoS 1, every gate's up topics. */
export async function mqttRecorder(url: string, username: string, password: string, ledger: Ledger): Promise<MqttClient> {
  const client = await connectAsync(url, {
    clientId: `hq-${Math.random().toString(16).slice(2, 8)}`,
    username,
    password,
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
    // Reconnected by the test once the broker is back: retrying a dead port in a loop can take that
    // very port as a local one (a TCP self-connect), and the broker then cannot listen on it again.
    reconnectPeriod: 0,
  });
  client.on('message', (topic, payload) => {
    try {
      ledger.take(JSON.parse(payload.toString('utf8')));
    } catch {
      ledger.violations.push(`${topic}: not JSON`);
    }
  });
  await client.subscribeAsync('guardpost/v1/+/+/up/#', { qos: 1 });
  return client;
}

export interface ReceiverOptions {
  auth: { bearer: string } | { hmacKey: string };
  tls?: { key: Buffer; cert: Buffer };
}

/** What the receiver does with one batch request; the default stores and answers. */
export type Fault = 'store' | 'hang' | 'drop-after-store' | 'store-then-hang' | 'store-odd-answer' | { status: number; body?: string };

export interface ReceivedRequest {
  n: number;
  idempotencyKey: string | undefined;
  timestamp: number | null;
  sentAt: number | null;
  receivedAt: number;
  status: number | 'hang' | 'dropped';
}

/** HQ's HTTPS endpoint per the contract: POST /v1/batches (gzip, auth, Idempotency-Key), GET /v1/master. */
export class HqReceiver {
  readonly ledger = new Ledger();
  readonly requests: ReceivedRequest[] = [];
  readonly masterPolls: string[] = [];
  /** What to do with batch request n (1-based); unset means store and answer. */
  fault: (n: number, batch: UpBatch) => Fault = () => 'store';
  /** Per-record refusal reason, or null to store it. */
  reject: (record: UpBatch['records'][number]) => string | null = () => null;
  masters: MasterData[] = [];
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly hanging: http.ServerResponse[] = [];
  private batchRequests = 0;
  /** Who HQ lets in; a test may change it, as HQ would re-issue a gate's credentials. */
  auth: ReceiverOptions['auth'];

  constructor(private readonly opts: ReceiverOptions) {
    this.auth = opts.auth;
  }

  async listen(): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.handle(req, res);
    const server = this.opts.tls ? https.createServer({ key: this.opts.tls.key, cert: this.opts.tls.cert }, handler) : http.createServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const { port } = server.address() as AddressInfo;
    return `${this.opts.tls ? 'https' : 'http'}://localhost:${port}/hq`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private authorised(req: http.IncomingMessage, body: Buffer): boolean {
    const { auth } = this;
    if ('bearer' in auth) return req.headers.authorization === `Bearer ${auth.bearer}`;
    const ts = req.headers['x-guardpost-timestamp'];
    const sig = req.headers['x-guardpost-signature'];
    if (typeof ts !== 'string' || typeof sig !== 'string') return false;
    const want = createHmac('sha256', auth.hmacKey).update(`${ts}.`).update(body).digest();
    const got = Buffer.from(sig, 'hex');
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://hq');
    if (!this.authorised(req, body)) return void res.writeHead(401).end('unknown gate');
    if (req.method === 'GET' && url.pathname === '/hq/v1/master') {
      this.masterPolls.push(url.search);
      const have = new Map((url.searchParams.get('have') ?? '').split(',').filter(Boolean).map((kv) => [kv.split(':')[0]!, Number(kv.split(':')[1])]));
      const items = this.masters.filter((m) => m.version > (have.get(m.kind) ?? 0));
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ items }));
    }
    if (req.method !== 'POST' || url.pathname !== '/hq/v1/batches') return void res.writeHead(404).end();
    if (req.headers['content-encoding'] !== 'gzip') return void res.writeHead(415).end('gzip expected');
    let batch: UpBatch;
    try {
      batch = JSON.parse(gunzipSync(body).toString('utf8')) as UpBatch;
    } catch {
      this.ledger.violations.push('not gzipped JSON');
      return void res.writeHead(400).end('not gzipped JSON');
    }
    if (!checkBatch(batch)) {
      this.ledger.violations.push(ajv.errorsText(checkBatch.errors));
      return void res.writeHead(400).end(ajv.errorsText(checkBatch.errors));
    }
    const n = ++this.batchRequests;
    const entry: ReceivedRequest = {
      n,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      timestamp: req.headers['x-guardpost-timestamp'] ? Number(req.headers['x-guardpost-timestamp']) : null,
      sentAt: typeof batch.sentAt === 'number' ? batch.sentAt : null,
      receivedAt: Date.now(),
      status: 200,
    };
    this.requests.push(entry);
    const fault = this.fault(n, batch);
    if (fault === 'hang') {
      entry.status = 'hang';
      this.hanging.push(res);
      return;
    }
    if (typeof fault === 'object') {
      entry.status = fault.status;
      return void res.writeHead(fault.status).end(fault.body ?? '');
    }
    const accepted: string[] = [];
    const rejected: UpAnswer['rejected'] = [];
    const good = { ...batch, records: batch.records.filter((r) => {
      const reason = this.reject(r);
      if (reason) rejected.push({ id: r.id, reason });
      else accepted.push(r.id);
      return !reason;
    }) };
    if (good.records.length > 0) this.ledger.take(good);
    if (fault === 'store-then-hang') {
      // Stored, and the answer held back until the gate has gone.
      entry.status = 'hang';
      this.hanging.push(res);
      return;
    }
    if (fault === 'drop-after-store') {
      entry.status = 'dropped';
      // Stored, but the answer never reaches the gate.
      req.socket.destroy();
      return;
    }
    // Every id twice, and one this batch never had: a sloppy HQ the gate must survive.
    const answer: UpAnswer = fault === 'store-odd-answer' ? { accepted: [...accepted, ...accepted, 'no-such-record'], rejected } : { accepted, rejected };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  }
}
