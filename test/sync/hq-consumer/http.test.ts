// The HQ consumer in HTTP mode against a real PostgreSQL: gzip batches, bearer and HMAC authentication, repeated Idempotency-Keys, per-record answers.
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpAnswer, UpBatch } from '../../../sync/contract.js';
import { startPostgres, type Postgres } from '../../helpers/postgres.js';
import { batch, Consumers, decision, idempotencyKey, visit, type RunningConsumer } from './consumer.js';

const token = 'tok-3f9c2a7e51b04d8e';
const hmacKey = 'hmac-key-9d2e7c41a0f3';
let pg: Postgres;
const consumers = new Consumers();
let consumer: RunningConsumer;
let base: string;

beforeAll(async () => {
  pg = await startPostgres();
  consumer = await consumers.start(['http', '--pg', pg.url, '--http-port', '0'], { GUARDPOST_HQ_TOKEN: token, GUARDPOST_HQ_HMAC_KEY: hmacKey });
  base = `http://127.0.0.1:${consumer.port}`;
});

afterAll(async () => {
  await consumers.stopAll();
  await pg?.stop();
});

type Auth = { bearer: string } | { hmac: string; timestamp?: number; sign?: Buffer } | null;

/** POST a batch as a gate does: gzip JSON, its Idempotency-Key, and a bearer token or an HMAC signature over the bytes sent. */
async function post(b: UpBatch | Buffer, auth: Auth, opts: { key?: string; raw?: boolean } = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const body = Buffer.isBuffer(b) ? (opts.raw ? b : gzipSync(b)) : gzipSync(JSON.stringify(b));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
  const key = opts.key ?? (Buffer.isBuffer(b) ? 'north:visits:1-1' : idempotencyKey(b));
  headers['idempotency-key'] = key;
  if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
  if (auth && 'hmac' in auth) {
    const timestamp = String(auth.timestamp ?? Date.now());
    headers['x-guardpost-timestamp'] = timestamp;
    headers['x-guardpost-signature'] = createHmac('sha256', auth.hmac).update(`${timestamp}.`).update(auth.sign ?? body).digest('hex');
  }
  const res = await fetch(`${base}/v1/batches`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const count = async (id: string) => Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM gate_records WHERE id = $1', [id]))[0]!.n);

describe('HQ consumer over HTTP', () => {
  it('stores a gzip batch sent with the bearer token and answers every record', async () => {
    const b = batch('visits', [{ id: 'h-1', seq: 1, data: visit('h-1') }, { id: 'h-2', seq: 2, data: visit('h-2') }]);
    const res = await post(b, { bearer: token });
    expect(res).toMatchObject({ status: 200, body: { accepted: ['h-1', 'h-2'], rejected: [] } });
    expect(await count('h-1')).toBe(1);
    expect(await count('h-2')).toBe(1);
  });

  it('stores a batch signed with the HMAC key over the bytes as sent (gzipped)', async () => {
    const b = batch('visits', [{ id: 'h-3', seq: 3, data: visit('h-3') }]);
    expect(await post(b, { hmac: hmacKey })).toMatchObject({ status: 200, body: { accepted: ['h-3'] } });
    // Signing the JSON before gzip is not the rule.
    const b4 = batch('visits', [{ id: 'h-4', seq: 4, data: visit('h-4') }]);
    expect((await post(b4, { hmac: hmacKey, sign: Buffer.from(JSON.stringify(b4)) })).status).toBe(401);
    expect(await count('h-4')).toBe(0);
  });

  it('refuses a wrong or missing credential with 401 and stores nothing', async () => {
    const b = batch('visits', [{ id: 'h-x', seq: 9, data: visit('h-x') }]);
    const wrongToken = await post(b, { bearer: `${token}x` });
    expect(wrongToken).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: 'wrong token' } } });
    expect((await post(b, { hmac: 'another-key' })).body).toMatchObject({ error: { message: 'wrong signature' } });
    expect((await post(b, { hmac: hmacKey, timestamp: Date.now() - 3600_000 })).body).toMatchObject({ error: { message: expect.stringContaining("HQ's clock") } });
    const none = await post(b, null);
    expect(none.status).toBe(401);
    expect(await count('h-x')).toBe(0);
    // What was refused is logged without the secret that was tried.
    expect(consumer.output()).toContain('request refused');
    expect(consumer.output()).not.toContain(token);
    expect(consumer.output()).not.toContain(hmacKey);
    expect(consumer.output()).not.toContain(pg.password);
  });

  it('serves master data to a signed GET (the signature covers an empty body)', async () => {
    const timestamp = String(Date.now());
    const signature = createHmac('sha256', hmacKey).update(`${timestamp}.`).digest('hex');
    const get = (sig: string) => fetch(`${base}/v1/master?compound=cuihu&site=north`, { headers: { 'x-guardpost-timestamp': timestamp, 'x-guardpost-signature': sig } });
    const res = await get(signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [] });
    expect((await get(signature.replace(/^./, (c) => (c === '0' ? '1' : '0')))).status).toBe(401);
  });

  it('answers a repeated Idempotency-Key the same, without storing again', async () => {
    const b = batch('decisions', [{ id: 'h-d1', seq: 20, data: decision('h-d1') }, { id: 'h-d2', seq: 21, data: { ...decision('h-d2'), direction: 'sideways' } }]);
    const first = await post(b, { bearer: token });
    expect(first.status).toBe(200);
    const received = (await pg.query<{ received_at: string }>("SELECT received_at FROM gate_records WHERE id = 'h-d1'"))[0]!.received_at;
    // A retry after a lost answer: the same records, sent later.
    const again = await post({ ...b, sentAt: b.sentAt + 5000 }, { bearer: token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replay')).toBe('true');
    expect((await pg.query<{ received_at: string }>("SELECT received_at FROM gate_records WHERE id = 'h-d1'"))[0]!.received_at).toBe(received);
  });

  it('rejects an invalid record by itself with its reason, and records it', async () => {
    const b = batch('decisions', [{ id: 'h-ok', seq: 30, data: decision('h-ok') }, { id: 'h-bad', seq: 31, data: { ...decision('h-bad'), at: -5 } }]);
    const res = await post(b, { bearer: token });
    expect(res.status).toBe(200);
    const answer = res.body as UpAnswer;
    expect(answer.accepted).toEqual(['h-ok']);
    expect(answer.rejected).toEqual([{ id: 'h-bad', reason: 'data/at must be >= 0' }]);
    expect(await count('h-bad')).toBe(0);
    expect(await pg.query("SELECT seq, transport FROM rejected_records WHERE id = 'h-bad'")).toEqual([{ seq: '31', transport: 'http' }]);
  });

  it('says what is wrong with a bad request, and survives garbage', async () => {
    const b = batch('visits', [{ id: 'h-k', seq: 40, data: visit('h-k') }]);
    expect((await post(b, { bearer: token }, { key: 'north:visits:40-41' })).body).toMatchObject({
      error: { message: 'Idempotency-Key north:visits:40-41 does not match the batch (north:visits:40-40)' },
    });
    expect((await post(b, { bearer: token }, { key: 'whatever' })).body).toMatchObject({ error: { message: expect.stringContaining('Idempotency-Key missing or not') } });
    expect((await post(Buffer.from('definitely not gzip'), { bearer: token }, { raw: true })).body).toMatchObject({ error: { message: expect.stringMatching(/^the body is not gzip/) } });
    const garbage = await post(Buffer.from('{"v":1,"compound":"cuihu","site":"north","records":[{"id":"h-g"'), { bearer: token });
    expect(garbage).toMatchObject({ status: 400, body: { error: { message: 'not JSON' } } });
    const notBatch = await post(Buffer.from(JSON.stringify({ v: 2, compound: 'cuihu', site: 'north', stream: 'visits', sentAt: 1, records: [] })), { bearer: token });
    expect(notBatch.status).toBe(400);
    expect((notBatch.body as { error: { message: string } }).error.message).toMatch(/^not a batch: \/v must be 1; \/records must NOT have fewer than 1 items/);
    const rejected = await pg.query<{ reason: string; body: Buffer; transport: string }>("SELECT reason, body, transport FROM rejected_records WHERE id IS NULL ORDER BY reason");
    expect(rejected.map((r) => [r.reason.slice(0, 12), r.transport])).toEqual([
      ['not JSON', 'http'],
      ['not a batch:', 'http'],
    ]);
    expect(rejected[0]!.body.toString()).toContain('"h-g"');
    expect(consumer.proc.exitCode).toBeNull();
  });
});
