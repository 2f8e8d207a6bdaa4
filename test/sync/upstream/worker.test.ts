// The Sync component with its real worker thread (from dist/): status and notices relayed, stop with a batch stuck at HQ, the worker killed mid-batch, a crash restarted.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../../config/schema.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { newId } from '../../../gateway/core/ids.js';
import { openStore, type Store } from '../../../gateway/store/db.js';
import type { MasterData } from '../../../sync/contract.js';
import { defaultSyncWorkerPath, Sync, type SyncNotice, type SyncWorkerInit } from '../../../sync/sync.js';
import { waitFor } from '../../helpers/wait.js';
import { compound, decisionPayload, syncConfig } from './gate.js';
import { HqReceiver, type QueuedRecord } from './hq.js';

const token = 'tok-worker-test-91c2';
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(() => {
  if (!existsSync(defaultSyncWorkerPath)) throw new Error(`${defaultSyncWorkerPath} is missing: run npm run build first`);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ dir: string; store: Store; hq: HqReceiver; config: (over?: Partial<SyncConfig>) => SyncConfig; queue: (n: number) => QueuedRecord[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'gp-syncw-'));
  const store = openStore({ dataDir: dir, now: Date.now });
  const hq = new HqReceiver({ auth: { bearer: token } });
  const url = await hq.listen();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => hq.close());
  const config = (over: Partial<SyncConfig> = {}) => syncConfig({ transport: 'https', https: { url, auth: 'bearer', token, timeout_ms: 120_000, poll_s: 1 }, ...over });
  const queue = (n: number): QueuedRecord[] => {
    store.transaction(() => {
      for (let i = 0; i < n; i++) {
        const id = newId();
        store.outbox.add('decisions', id, decisionPayload(id, Date.now(), i), Date.now());
      }
    });
    return (store.db.prepare('SELECT seq, record_id AS id, stream FROM outbox ORDER BY seq DESC LIMIT ?').all(n) as QueuedRecord[]).reverse();
  };
  return { dir, store, hq, config, queue };
}

function capture(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  return { log: pino({ level: 'info' }, { write: (s: string) => void raw.push(s) }), lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function sync(dir: string, config: SyncConfig, log: pino.Logger, clock?: ManualClock): Sync {
  const s = new Sync({ site: 'north', dataDir: dir, sync: config, log, ...(clock ? { clock } : {}) });
  cleanups.push(() => s.stop());
  return s;
}

describe('Sync (worker thread)', () => {
  it('disabled: no worker, and says so', async () => {
    const { dir, config } = await setup();
    const s = sync(dir, config({ enabled: false }), capture().log);
    s.start();
    expect(s.status()).toMatchObject({ state: 'disabled', protocol: null, overdue: false });
    await s.stop();
  });

  it('drains in its worker, relays status, master-data notices and logs, and stops', async () => {
    const { dir, store, hq, config, queue } = await setup();
    const queued = queue(120);
    const master: MasterData = { v: 1, compound, kind: 'watchlist', version: 3, publishedAt: Date.now(), data: { entries: [{ id: 'w1', kind: 'plate', value: '沪A99999', reason: 'stolen' }] } };
    hq.masters = [master];
    const { log, lines } = capture();
    const s = sync(dir, config(), log);
    const notices: SyncNotice[] = [];
    s.onNotice((n) => notices.push(n));
    s.start();
    await waitFor('the master notice', () => notices.length > 0);
    // Applying master data audits it, and the audit row goes to HQ too.
    await waitFor('the status after the drain', () => s.status().outboxDepth === 0 && s.status().state === 'online');
    const all = store.db.prepare('SELECT seq, record_id AS id, stream FROM outbox').all() as QueuedRecord[];
    expect(all.filter((r) => r.stream === 'audit')).toHaveLength(1);
    await waitFor('everything at HQ', () => hq.ledger.has(all));
    hq.ledger.reconcile(all);
    expect(queued.every((q) => all.some((r) => r.id === q.id))).toBe(true);
    expect(s.status()).toMatchObject({ protocol: 'https', parked: 0, oldestUnsentAgeMs: null, overdue: false });
    expect(s.status().lastSuccessAt).not.toBeNull();
    expect(notices).toEqual([{ type: 'master', kind: 'watchlist', version: 3 }]);
    expect(lines().some((l) => l.msg === 'master data applied' && l.kind === 'watchlist')).toBe(true);
    await s.stop();
    expect(JSON.stringify(lines())).not.toContain(token);
  });

  it('applies master data on its own connection while the gateway holds the write lock: waits for it, never fails', async () => {
    const { dir, store, hq, config } = await setup();
    const { log, lines } = capture();
    const s = sync(dir, config(), log);
    const notices: SyncNotice[] = [];
    s.onNotice((n) => notices.push(n));
    s.start();
    await waitFor('online and caught up', () => s.status().state === 'online' && s.status().outboxDepth === 0);
    // The gateway in the middle of a write: the worker's apply must queue behind it, not trip over it.
    store.db.prepare('BEGIN IMMEDIATE').run();
    store.outbox.add('decisions', newId(), { n: 1 }, Date.now());
    const polls = hq.masterPolls.length;
    hq.masters = [{ v: 1, compound, kind: 'watchlist', version: 1, publishedAt: Date.now(), data: { entries: [{ id: 'w9', kind: 'plate', value: '沪C00001', reason: 'test' }] } }];
    await waitFor('the poll that brings it', () => hq.masterPolls.length > polls);
    await new Promise((r) => setTimeout(r, 300));
    store.db.prepare('COMMIT').run();
    await waitFor('applied', () => notices.length === 1);
    expect(lines().filter((l) => l.level === 50)).toEqual([]);
  });

  it('stop() while HQ holds a batch unanswered: returns, the batch stays unsent and goes again next start', async () => {
    const { dir, store, hq, config, queue } = await setup();
    hq.fault = (n) => (n === 1 ? 'hang' : 'store');
    const queued = queue(30);
    const first = sync(dir, config(), capture().log);
    first.start();
    await waitFor('HQ holding the first batch', () => hq.requests.length === 1);
    await first.stop();
    expect(store.outbox.depth()).toBe(30);
    const second = sync(dir, config(), capture().log);
    second.start();
    await waitFor('everything at HQ', () => hq.ledger.has(queued));
    hq.ledger.reconcile(queued);
    expect(hq.requests[0]!.idempotencyKey).toBe(hq.requests[1]!.idempotencyKey);
  });

  it('the worker terminated abruptly after HQ stored a batch but before it answered: resent, deduplicated by id at HQ', async () => {
    const { dir, store, hq, config, queue } = await setup();
    hq.fault = (n) => (n === 2 ? 'store-then-hang' : 'store');
    const queued = queue(40);
    const init: SyncWorkerInit = { dataDir: dir, site: 'north', sync: config() };
    const worker = new Worker(defaultSyncWorkerPath, { workerData: init });
    await waitFor('HQ storing the second batch', () => hq.requests.length === 2);
    await worker.terminate();
    expect(store.outbox.depth()).toBe(33);
    const s = sync(dir, config(), capture().log);
    s.start();
    await waitFor('everything at HQ', () => hq.ledger.has(queued) && store.outbox.depth() === 0);
    hq.ledger.reconcile(queued);
    expect(hq.ledger.duplicates).toBe(7);
  });

  it('a worker that dies is started again after a backoff, with the reason in the status', async () => {
    const { dir, config } = await setup();
    const clock = new ManualClock(Date.now());
    const { log, lines } = capture();
    const broken = config({ transport: 'mqtt', mqtt: { url: 'mqtt://127.0.0.1:1', username: 'north', password: 'pw', ca_file: join(dir, 'missing-ca.pem') } });
    const s = sync(dir, broken, log, clock);
    s.start();
    await waitFor('the first failure', () => s.status().lastError);
    expect(s.status()).toMatchObject({ state: 'backoff' });
    expect(s.status().lastError).toMatch(/missing-ca\.pem/);
    clock.advance(s.status().nextAttemptAt! - clock.now());
    await waitFor('a second worker failing', () => lines().filter((l) => l.msg === 'sync worker failed').length === 2);
    expect(JSON.stringify(lines())).not.toContain('"pw"');
  });
});
