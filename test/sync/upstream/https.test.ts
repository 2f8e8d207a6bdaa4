// The HTTPS upstream against a real HTTP(S) receiver written from the contract: gzip, idempotency keys, auth, faults, parking, master polls, TLS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/core/clock.js';
import type { SyncConfig } from '../../../config/schema.js';
import type { MasterData } from '../../../sync/contract.js';
import { compound, startGate, syncConfig, until, type Gate } from './gate.js';
import { HqReceiver, type ReceiverOptions } from './hq.js';

const token = 'tok-7f3a9c2e-north';
const hmacKey = 'hmac-key-5b1d0e';
const gates: Gate[] = [];
const receivers: HqReceiver[] = [];

afterEach(async () => {
  for (const g of gates.splice(0)) await g.close();
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(opts: ReceiverOptions = { auth: { bearer: token } }): Promise<{ hq: HqReceiver; url: string }> {
  const hq = new HqReceiver(opts);
  receivers.push(hq);
  return { hq, url: await hq.listen() };
}

function gate(https: Partial<NonNullable<SyncConfig['https']>> & { url: string }, over: Partial<SyncConfig> = {}, clock?: ManualClock): Gate {
  const g = startGate(syncConfig({ transport: 'https', https: { auth: 'bearer', token, timeout_ms: 1000, poll_s: 5, ...https }, ...over }), clock ? { clock } : {});
  gates.push(g);
  return g;
}

const row = (g: Gate, seq: number) => g.store.db.prepare('SELECT sent_at, parked_at, parked_reason FROM outbox WHERE seq = ?').get(seq) as { sent_at: number | null; parked_at: number | null; parked_reason: string | null };

describe('HTTPS upstream', () => {
  it('POSTs gzip batches with an idempotency key and a bearer token; HQ gets every record once, in order', async () => {
    const { hq, url } = await receiver();
    const g = gate({ url });
    const queued = g.queue(200);
    void g.pump.start();
    await g.drive('the outbox drained', () => g.depth() === 0 && hq.ledger.has(queued));
    hq.ledger.reconcile(queued);
    expect(hq.ledger.violations).toEqual([]);
    expect(hq.ledger.duplicates).toBe(0);
    for (const [i, b] of hq.ledger.batches.entries()) {
      expect(hq.requests[i]!.idempotencyKey).toBe(`north:${b.stream}:${b.records[0]!.seq}-${b.records.at(-1)!.seq}`);
    }
    expect(g.pump.status()).toMatchObject({ state: 'online', protocol: 'https', lastError: null });
  });

  it('signs with HMAC over the timestamp and the gzipped body; a gate clock an hour ahead still gets through, sentAt by its clock', async () => {
    const { hq, url } = await receiver({ auth: { hmacKey } });
    const clock = new ManualClock(Date.now() + 3600_000);
    const g = gate({ url, auth: 'hmac', token: undefined, hmac_key: hmacKey }, {}, clock);
    const queued = g.queue(60);
    void g.pump.start();
    await g.drive('everything at HQ', () => g.depth() === 0 && hq.ledger.has(queued));
    hq.ledger.reconcile(queued);
    for (const r of hq.requests) {
      expect(r.status).toBe(200);
      expect(r.timestamp! - r.receivedAt).toBeGreaterThan(3590_000);
      expect(r.sentAt! - r.receivedAt).toBeGreaterThan(3590_000);
    }
  });

  it('500s and a request that hangs past timeout_ms: backs off, sends the same batch again, nothing lost or doubled', async () => {
    const { hq, url } = await receiver();
    hq.fault = (n) => (n <= 3 ? { status: 500, body: 'db down' } : n === 6 ? 'hang' : 'store');
    const g = gate({ url });
    const queued = g.queue(150);
    void g.pump.start();
    await g.drive('everything at HQ', () => g.depth() === 0 && hq.ledger.has(queued));
    hq.ledger.reconcile(queued);
    expect(hq.ledger.duplicates).toBe(0);
    // The same batch each time: a failed one is not skipped.
    const keys = hq.requests.map((r) => r.idempotencyKey);
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[5]).toBe(keys[6]);
    const errors = g.statuses.map((s) => s.lastError);
    expect(errors).toContain('HQ answered 500');
    expect(errors).toContain('HQ did not answer within 1000 ms');
    expect(g.pump.status().state).toBe('online');
  });

  it('an answer lost after HQ stored the batch, and answers listing ids twice or unknown ids: HQ dedupes, the gate marks once', async () => {
    const { hq, url } = await receiver();
    hq.fault = (n) => (n === 2 ? 'drop-after-store' : n === 4 ? 'store-odd-answer' : 'store');
    const g = gate({ url });
    const queued = g.queue(50);
    void g.pump.start();
    await g.drive('everything at HQ', () => g.depth() === 0 && hq.ledger.has(queued));
    hq.ledger.reconcile(queued);
    // Batch 2 arrived twice and was stored once.
    expect(hq.ledger.duplicates).toBe(7);
    expect(hq.requests[1]!.idempotencyKey).toBe(hq.requests[2]!.idempotencyKey);
    const marks = g.store.db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NOT NULL AND parked_at IS NULL').get() as { n: number };
    expect(marks.n).toBe(50);
  });

  it('parks a record HQ rejects as invalid with its reason; the rest of its batch and the stream flow on', async () => {
    const { hq, url } = await receiver();
    hq.reject = (r) => ((r.data as { bad?: boolean }).bad ? 'data/credential_value must be string' : null);
    const g = gate({ url });
    const queued = g.queue(30, ['decisions'], (id, i) => ({ id, n: i, ...(i === 9 ? { bad: true } : {}) }));
    void g.pump.start();
    await g.drive('the outbox settled', () => g.depth() === 0);
    hq.ledger.reconcile(queued.filter((q) => q.seq !== 10));
    expect(row(g, 10)).toMatchObject({ sent_at: null, parked_reason: 'HQ rejected the record: data/credential_value must be string' });
    expect(row(g, 9).sent_at).not.toBeNull();
    expect(g.pump.status()).toMatchObject({ state: 'online', parked: 1 });
    expect(g.logs.some((l) => l.msg === 'HQ rejected records as invalid: parked')).toBe(true);
  });

  it('parks a whole batch HQ refuses with another 4xx, with the status and an excerpt; later batches flow', async () => {
    const { hq, url } = await receiver();
    hq.fault = (n) => (n === 1 ? { status: 413, body: 'batch too large for this HQ' } : 'store');
    const g = gate({ url }, { batch_size: 10 });
    const queued = g.queue(30, ['audit']);
    void g.pump.start();
    await g.drive('the outbox settled', () => g.depth() === 0);
    expect(row(g, 1).parked_reason).toBe('HQ refused the batch: 413 batch too large for this HQ');
    expect(g.pump.status().parked).toBe(10);
    hq.ledger.reconcile(queued.slice(10));
  });

  it('401: auth-failed, retried at the cap, nothing marked, the token never in logs or status; drains once HQ lets it in', async () => {
    const { hq, url } = await receiver({ auth: { bearer: 'another-token' } });
    const g = gate({ url }, { max_backoff_s: 120 });
    const queued = g.queue(20);
    void g.pump.start();
    const s = await until('auth-failed', () => (g.pump.status().state === 'auth-failed' ? g.pump.status() : null));
    expect(s.nextAttemptAt! - s.lastErrorAt!).toBe(120_000);
    expect(s.lastError).toBe("HQ refused this gate's credentials (401)");
    expect(JSON.stringify(g.logs) + JSON.stringify(g.statuses)).not.toContain(token);
    expect(g.depth()).toBe(20);
    expect(hq.ledger.records).toBe(0);
    hq.auth = { bearer: token };
    await g.drive('everything at HQ', () => g.depth() === 0 && hq.ledger.has(queued), { stepMs: 10_000 });
    hq.ledger.reconcile(queued);
    expect(g.pump.status().state).toBe('online');
  });

  it('polls master data with the versions it has and applies newer ones', async () => {
    const { hq, url } = await receiver();
    const watchlist = (version: number, value: string): MasterData => ({ v: 1, compound, kind: 'watchlist', version, publishedAt: Date.now(), data: { entries: [{ id: `w${version}`, kind: 'phone', value, reason: 'harassment' }] } });
    hq.masters = [watchlist(1, '13800138000')];
    const g = gate({ url });
    void g.pump.start();
    await g.drive('version 1 applied', () => g.notices.length === 1);
    hq.masters = [watchlist(1, '13800138000'), watchlist(2, '13900139000')];
    await g.drive('version 2 applied', () => g.notices.length === 2);
    expect(g.notices).toEqual([
      { type: 'master', kind: 'watchlist', version: 1 },
      { type: 'master', kind: 'watchlist', version: 2 },
    ]);
    expect(hq.masterPolls[0]).toBe(`?compound=${compound}&site=north&have=`);
    await g.drive('a poll saying it has version 2', () => hq.masterPolls.includes(`?compound=${compound}&site=north&have=watchlist%3A2`));
    const active = g.store.db.prepare("SELECT value FROM watchlist WHERE active = 1 AND added_by = 'hq'").all();
    expect(active).toEqual([{ value: '13900139000' }]);
  });
});

describe('HTTPS upstream over TLS', () => {
  let pki: string;
  let tls: { key: Buffer; cert: Buffer };

  beforeAll(() => {
    pki = mkdtempSync(join(tmpdir(), 'gp-pki-'));
    const ssl = (...args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: pki, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
    };
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=guardpost test HQ CA');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'hq.key', '-out', 'hq.csr', '-subj', '/CN=localhost');
    writeFileSync(join(pki, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'hq.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'hq.pem', '-days', '2', '-extfile', 'san.ext');
    tls = { key: readFileSync(join(pki, 'hq.key')), cert: readFileSync(join(pki, 'hq.pem')) };
  });

  afterAll(() => rmSync(pki, { recursive: true, force: true }));

  it("trusts HQ's private CA from ca_file", async () => {
    const { hq, url } = await receiver({ auth: { bearer: token }, tls });
    const g = gate({ url, ca_file: join(pki, 'ca.pem') });
    const queued = g.queue(40);
    void g.pump.start();
    await g.drive('everything at HQ', () => g.depth() === 0 && hq.ledger.has(queued));
    hq.ledger.reconcile(queued);
  });

  it('without the CA it refuses to talk to HQ and says why, retrying at the cap', async () => {
    const { hq, url } = await receiver({ auth: { bearer: token }, tls });
    const g = gate({ url });
    g.queue(5);
    void g.pump.start();
    const s = await until('auth-failed', () => (g.pump.status().state === 'auth-failed' ? g.pump.status() : null));
    expect(s.lastError).toMatch(/certificate/i);
    expect(hq.requests).toHaveLength(0);
  });
});
