// The HTTPS transport to HQ: batches POSTed gzipped with an idempotency key and bearer or HMAC auth; master data polled.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import type { Clock, Timer } from '../gateway/core/clock.js';
import type { MasterData } from './contract.js';
import { clip, type OutboxBatch } from './outbox-reader.js';
import type { SyncLog } from './pump.js';
import { asMasterData, isTrustError, parseUpAnswer, type Inbound, type Outcome, type Upstream } from './upstream.js';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

export interface HttpsUpstreamOptions {
  /** HQ's sync endpoint, e.g. https://hq.example.com/guardpost (the paths /v1/... go below it). */
  url: string;
  auth: 'bearer' | 'hmac';
  token?: string | undefined;
  hmacKey?: string | undefined;
  /** PEM file with HQ's CA certificate. */
  caFile?: string | undefined;
  timeoutMs: number;
  pollS: number;
  compound: string;
  site: string;
  inbound: Inbound;
  clock: Clock;
  log: SyncLog;
}

/** An answer to a batch is a list of ids; master data can be a whole compound's residents. */
const maxAnswerBytes = 4 << 20;
const maxMasterBytes = 256 << 20;

interface Reply {
  status: number;
  body: Buffer;
}

export class HttpsUpstream implements Upstream {
  /** One request at a time: a batch that timed out may still land after a later one, which would break order per stream. */
  readonly window = 1;
  readonly protocol = 'https';
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly secret: string;
  private poller: Timer | null = null;
  private polling = false;
  private lastPollError: string | null = null;

  constructor(private readonly opts: HttpsUpstreamOptions) {
    let base: URL;
    try {
      base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    } catch {
      throw new Error('sync.https.url is not a URL');
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`sync.https.url must be https:// (or http:// on a trusted network), got ${base.protocol}`);
    if (base.username || base.password) throw new Error('sync.https.url must not carry credentials: use sync.https.token or hmac_key');
    this.base = base;
    const secret = opts.auth === 'bearer' ? opts.token : opts.hmacKey;
    if (!secret) throw new Error(`sync.https.auth is ${opts.auth}: sync.https.${opts.auth === 'bearer' ? 'token' : 'hmac_key'} is required`);
    this.secret = secret;
    // Keep-alive: one TLS handshake for a whole drain instead of one per batch.
    const ca = opts.caFile ? readFileSync(opts.caFile) : undefined;
    this.agent = base.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 2, ...(ca ? { ca } : {}) }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
  }

  isUp(): boolean {
    return true;
  }

  async connect(): Promise<void> {
    // Nothing to open: each request finds out for itself. Master data is polled from the first connect on.
    if (this.poller) return;
    this.poller = this.opts.clock.setInterval(() => void this.poll(), this.opts.pollS * 1000);
    void this.poll();
  }

  async send(batch: OutboxBatch, body: Buffer): Promise<Outcome> {
    const { site } = this.opts;
    const gz = await gzip(body);
    let reply: Reply;
    try {
      reply = await this.request('POST', 'v1/batches', gz, maxAnswerBytes, {
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
        'Idempotency-Key': `${site}:${batch.stream}:${batch.seqs[0]}-${batch.seqs[batch.seqs.length - 1]}`,
      });
    } catch (err) {
      return { type: 'failed', auth: isTrustError(err), reason: (err as Error).message };
    }
    const { status } = reply;
    if (status === 200) {
      try {
        const answer = parseUpAnswer(reply.body.toString('utf8'));
        return { type: 'answered', accepted: answer.accepted, rejected: answer.rejected };
      } catch (err) {
        return { type: 'failed', auth: false, reason: `HQ answered 200 but ${(err as Error).message}` };
      }
    }
    if (status === 401 || status === 403) return { type: 'failed', auth: true, reason: `HQ refused this gate's credentials (${status})` };
    if (status >= 500 || status === 408 || status === 429) return { type: 'failed', auth: false, reason: `HQ answered ${status}` };
    if (status >= 400) return { type: 'refused', reason: clip(`HQ refused the batch: ${status} ${excerpt(reply.body)}`) };
    return { type: 'failed', auth: false, reason: `HQ answered ${status}, expected 200` };
  }

  async close(): Promise<void> {
    this.poller?.cancel();
    this.poller = null;
    // Open requests end with an error (not marked, so sent again); idle keep-alive sockets close.
    this.agent.destroy();
  }

  /** GET <url>/v1/master with the versions this gate has; HQ answers only what is newer. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const { compound, site, inbound, log } = this.opts;
    try {
      const have = Object.entries(inbound.versions())
        .map(([kind, version]) => `${kind}:${version}`)
        .join(',');
      const query = new URLSearchParams({ compound, site, have });
      const reply = await this.request('GET', `v1/master?${query.toString()}`, Buffer.alloc(0), maxMasterBytes, { Accept: 'application/json', 'Accept-Encoding': 'gzip' });
      if (reply.status === 204 || reply.status === 304) return this.pollOk();
      if (reply.status !== 200) throw new Error(reply.status === 401 || reply.status === 403 ? `HQ refused this gate's credentials (${reply.status})` : `HQ answered ${reply.status} ${excerpt(reply.body)}`);
      const items = parseItems(reply.body.toString('utf8'));
      this.pollOk();
      for (const m of items) inbound.master(m);
    } catch (err) {
      const message = `polling master data failed: ${(err as Error).message}`;
      if (message !== this.lastPollError) log('warn', message);
      this.lastPollError = message;
    } finally {
      this.polling = false;
    }
  }

  private pollOk(): void {
    if (this.lastPollError) this.opts.log('info', 'polling master data works again');
    this.lastPollError = null;
  }

  private request(method: 'GET' | 'POST', path: string, body: Buffer, maxBytes: number, headers: Record<string, string>): Promise<Reply> {
    const url = new URL(path, this.base);
    const auth: Record<string, string> = {};
    if (this.opts.auth === 'bearer') auth.Authorization = `Bearer ${this.secret}`;
    else {
      // By the gate's clock: HQ may compare it with its own, but a gate an hour off must still get through.
      const timestamp = String(this.opts.clock.now());
      const mac = createHmac('sha256', this.secret).update(`${timestamp}.`).update(body).digest('hex');
      auth['X-Guardpost-Timestamp'] = timestamp;
      auth['X-Guardpost-Signature'] = mac;
    }
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<Reply>((resolve, reject) => {
      const req = lib.request(url, { method, agent: this.agent, headers: { ...headers, ...auth, 'Content-Length': String(body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new Error(`HQ's answer is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const raw = Buffer.concat(chunks);
          if (res.headers['content-encoding'] !== 'gzip') return resolve({ status: res.statusCode ?? 0, body: raw });
          gunzip(raw).then(
            (b) => resolve({ status: res.statusCode ?? 0, body: b }),
            (err: Error) => reject(new Error(`HQ's gzip answer does not decode: ${err.message}`)),
          );
        });
        res.on('error', (err) => reject(err));
      });
      // A deadline for the whole exchange, not only for silence between packets: a slow trickle must not hold the queue.
      const timer = setTimeout(() => req.destroy(new Error(`HQ did not answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      req.on('socket', (s) => s.setNoDelay(true));
      req.on('error', (err) => {
        clearTimeout(timer);
        const code = (err as NodeJS.ErrnoException).code;
        reject(Object.assign(new Error(code && !err.message.includes(code) ? `${err.message} (${code})` : err.message), { code }));
      });
      req.end(body);
    });
  }
}

function excerpt(body: Buffer): string {
  return body.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ').trim();
}

function parseItems(text: string): MasterData[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the master-data answer is not JSON');
  }
  const items = (value as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new Error('the master-data answer has no items list');
  return items.map((item) => asMasterData(item));
}
