// The gate's side for the sync tests: a store the gateway writes its outbox into, and the sync pump on its own connection to it, on a manual clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyncConfig } from '../../../config/schema.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { newId } from '../../../gateway/core/ids.js';
import { openStore, type Store } from '../../../gateway/store/db.js';
import type { SyncNotice, SyncPump, SyncStatus } from '../../../sync/pump.js';
import { createPump } from '../../../sync/sync.js';
import { prng } from '../../helpers/prng.js';
import type { QueuedRecord } from './hq.js';

export const compound = 'c1';

export function syncConfig(over: Partial<SyncConfig>): SyncConfig {
  return { enabled: true, transport: 'mqtt', compound, batch_size: 7, max_backoff_s: 60, alarm_after_s: 3600, ...over };
}

/** A decision row as the gate queues it: about 300 bytes of JSON. */
export function decisionPayload(id: string, at: number, i: number): Record<string, unknown> {
  return {
    id,
    at,
    entry_point: 'north-gate',
    direction: i % 2 ? 'out' : 'in',
    device_id: 'reader-north-1',
    credential_kind: 'card',
    credential_value: String(3_005_127_841 + i),
    outcome: 'granted',
    reason: 'auto: residents list',
    subject: `resident:${id.slice(-12)}`,
    subject_name: '李建国',
    list: 'residents',
    barrier: 'barrier-north',
    barrier_status: 'opened',
  };
}

export interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown> | undefined;
}

export interface Gate {
  dir: string;
  /** The gateway's own connection: where records and their outbox rows are written. */
  store: Store;
  pump: SyncPump;
  clock: ManualClock;
  statuses: SyncStatus[];
  logs: LogLine[];
  notices: SyncNotice[];
  /** Queue `n` records spread over `streams`, as the gateway does (outbox.add in a transaction). */
  queue(n: number, streams?: string[], payload?: (id: string, i: number) => unknown): QueuedRecord[];
  /** Unsent, unparked rows, read on the gateway's connection. */
  depth(): number;
  /** Advance the manual clock a second at a time (real time passing too) until `probe` holds. */
  drive<T>(what: string, probe: () => T | undefined | null | false, opts?: { stepMs?: number; timeoutMs?: number }): Promise<T>;
  close(): Promise<void>;
}

export interface GateOptions {
  site?: string;
  clock?: ManualClock;
  dir?: string;
}

export function startGate(sync: SyncConfig, opts: GateOptions = {}): Gate {
  const site = opts.site ?? 'north';
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gp-sync-'));
  const clock = opts.clock ?? new ManualClock(Date.now());
  const store = openStore({ dataDir: dir, now: () => clock.now() });
  // The worker's connection, as sync/worker.ts opens it.
  const pumpStore = openStore({ dataDir: dir, now: () => clock.now() });
  const statuses: SyncStatus[] = [];
  const logs: LogLine[] = [];
  const notices: SyncNotice[] = [];
  const pump = createPump(
    { dataDir: dir, site, sync },
    {
      store: pumpStore,
      clock,
      log: (level, msg, fields) => void logs.push({ level, msg, fields }),
      onStatus: (s) => void statuses.push(s),
      onNotice: (n) => void notices.push(n),
      random: prng(7),
    },
  );
  let counter = 0;
  return {
    dir,
    store,
    pump,
    clock,
    statuses,
    logs,
    notices,
    queue(n, streams = ['decisions', 'audit', 'patrol_hits'], payload) {
      const out: QueuedRecord[] = [];
      store.transaction(() => {
        for (let i = 0; i < n; i++) {
          const id = newId();
          const stream = streams[(counter + i) % streams.length]!;
          store.outbox.add(stream, id, payload ? payload(id, counter + i) : decisionPayload(id, clock.now(), counter + i), clock.now());
        }
      });
      counter += n;
      const rows = store.db.prepare('SELECT seq, record_id AS id, stream FROM outbox ORDER BY seq DESC LIMIT ?').all(n) as QueuedRecord[];
      out.push(...rows.reverse());
      return out;
    },
    depth: () => store.outbox.depth(),
    async drive(what, probe, o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 20_000);
      for (;;) {
        const v = probe();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(statuses.at(-1))}`);
        clock.advance(o.stepMs ?? 1000);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await pump.stop();
      pumpStore.db.close();
      store.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Poll a condition in real time (5 ms) without moving the manual clock. */
export async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
