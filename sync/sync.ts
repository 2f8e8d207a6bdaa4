// The sync to HQ as a gateway component: runs the pump in a worker thread on its own store connection and relays its status and notices.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SyncConfig } from '../config/schema.js';
import { systemClock, type Clock, type Timer } from '../gateway/core/clock.js';
import { packageRoot } from '../gateway/core/paths.js';
import type { Store } from '../gateway/store/db.js';
import { applyMasterData, applyPeerBatch, masterVersions } from '../gateway/store/master.js';
import { Backoff } from './backoff.js';
import { HttpsUpstream } from './https-upstream.js';
import { MqttUpstream } from './mqtt-upstream.js';
import { OutboxReader } from './outbox-reader.js';
import { SyncPump, type SyncLog, type SyncNotice, type SyncStatus } from './pump.js';
import type { Upstream } from './upstream.js';

export type { SyncNotice, SyncState, SyncStatus } from './pump.js';

/** What the worker thread is started with (workerData). Holds secrets: never log it. */
export interface SyncWorkerInit {
  dataDir: string;
  site: string;
  sync: SyncConfig;
}

/** Worker to gateway. */
export type SyncWorkerMessage =
  | { type: 'status'; status: SyncStatus }
  | { type: 'notice'; notice: SyncNotice }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> };

export const defaultSyncWorkerPath = join(packageRoot, 'dist', 'sync', 'worker.js');

export interface PumpDeps {
  store: Store;
  clock: Clock;
  log: SyncLog;
  onStatus?: (status: SyncStatus) => void;
  onNotice?: (notice: SyncNotice) => void;
  /** For tests that want a known jitter. */
  random?: () => number;
}

/** Builds the pump the worker runs, from the config section; tests build the same one with their own clock. */
export function createPump(init: SyncWorkerInit, deps: PumpDeps): SyncPump {
  const { sync, site } = init;
  const { store, clock, log } = deps;
  const compound = sync.compound ?? site;
  const envelope = { compound, site };
  return new SyncPump({
    envelope,
    reader: new OutboxReader(store.db, sync.batch_size),
    // Both apply in the store's own IMMEDIATE transactions: this is a second connection to the database.
    apply: {
      master: (m, now) => applyMasterData(store, m, now),
      peer: (batch, now) => applyPeerBatch(store, batch, site, now),
      versions: () => masterVersions(store),
    },
    upstream: (inbound): Upstream => {
      if (sync.transport === 'mqtt') {
        const m = sync.mqtt;
        if (!m) throw new Error('sync.transport is mqtt: the sync.mqtt section is required');
        return new MqttUpstream({ url: m.url, username: m.username, password: m.password, clientId: m.client_id ?? `guardpost-${site}`, caFile: m.ca_file, compound, site, inbound, log });
      }
      const h = sync.https;
      if (!h) throw new Error('sync.transport is https: the sync.https section is required');
      return new HttpsUpstream({ url: h.url, auth: h.auth, token: h.token, hmacKey: h.hmac_key, caFile: h.ca_file, timeoutMs: h.timeout_ms, pollS: h.poll_s, compound, site, inbound, clock, log });
    },
    clock,
    log,
    maxBackoffS: sync.max_backoff_s,
    ...(deps.onStatus ? { onStatus: deps.onStatus } : {}),
    ...(deps.onNotice ? { onNotice: deps.onNotice } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  });
}

export interface SyncOptions {
  site: string;
  /** The gateway's data directory (the worker opens its own connection to the database there). */
  dataDir: string;
  sync: SyncConfig;
  log: Logger;
  clock?: Clock;
  /** The compiled worker script; defaults to the one in dist/. */
  workerPath?: string;
}

/** What /api/health and /metrics read. */
export interface SyncHealth extends SyncStatus {
  /** Age of the oldest unsent record by the gateway's clock, ms. */
  oldestUnsentAgeMs: number | null;
  /** The oldest unsent record is older than sync.alarm_after_s. */
  overdue: boolean;
}

/** How long stop() waits for the worker to finish its batch and close before terminating it. */
const stopWaitMs = 4000;

export class Sync {
  private readonly clock: Clock;
  private worker: Worker | null = null;
  private stopping = false;
  private restartTimer: Timer | null = null;
  private readonly restarts: Backoff;
  private last: SyncStatus;
  private readonly listeners = new Set<(n: SyncNotice) => void>();

  constructor(private readonly opts: SyncOptions) {
    this.clock = opts.clock ?? systemClock;
    // A worker that dies (a bug, a store it cannot open) is started again, slower each time.
    this.restarts = new Backoff(1000, opts.sync.max_backoff_s * 1000);
    this.last = {
      state: opts.sync.enabled ? 'connecting' : 'disabled',
      protocol: opts.sync.enabled ? opts.sync.transport : null,
      outboxDepth: null,
      oldestUnsentAt: null,
      lastSuccessAt: null,
      parked: null,
      lastError: null,
      lastErrorAt: null,
      nextAttemptAt: null,
      inflight: 0,
    };
  }

  start(): void {
    if (!this.opts.sync.enabled || this.worker || this.restartTimer) return;
    this.stopping = false;
    this.spawn();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.restartTimer?.cancel();
    this.restartTimer = null;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    // Real time: this bounds the gateway's shutdown, which systemd times in real seconds.
    const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), stopWaitMs)))]);
    clearTimeout(timer);
    if (late) {
      this.opts.log.warn('sync worker did not stop in time: terminated (its unacknowledged batch goes again next start)');
      await worker.terminate();
    }
    this.worker = null;
  }

  status(): SyncHealth {
    const s = this.last;
    const age = s.oldestUnsentAt === null ? null : Math.max(0, this.clock.now() - s.oldestUnsentAt);
    return { ...s, oldestUnsentAgeMs: age, overdue: age !== null && age > this.opts.sync.alarm_after_s * 1000 };
  }

  /** Master data applied and records from the compound's other gates, after they are in the store. */
  onNotice(cb: (notice: SyncNotice) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private spawn(): void {
    const { log } = this.opts;
    const init: SyncWorkerInit = { dataDir: this.opts.dataDir, site: this.opts.site, sync: this.opts.sync };
    // A small young generation: a drain makes short-lived batch buffers at a high rate, and collecting
    // them early kept a million-record drain about 30 MB smaller (scripts/bench/sync.ts) at no cost in speed.
    const worker = new Worker(this.opts.workerPath ?? defaultSyncWorkerPath, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.worker = worker;
    let failure: string | null = null;
    worker.on('message', (m: SyncWorkerMessage) => {
      if (m.type === 'status') {
        this.last = m.status;
        if (m.status.state === 'online') this.restarts.reset();
      } else if (m.type === 'notice') {
        for (const cb of this.listeners) {
          try {
            cb(m.notice);
          } catch (err) {
            log.error({ err }, 'sync notice listener failed');
          }
        }
      } else if (m.type === 'log') {
        log[m.level](m.fields ?? {}, m.msg);
      }
    });
    worker.on('error', (err) => {
      failure = err.message;
      log.error({ err }, 'sync worker failed');
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      if (this.stopping) return;
      const delay = this.restarts.next();
      const reason = `the sync worker stopped (${failure ?? `exit code ${code}`})`;
      this.last = { ...this.last, state: 'backoff', lastError: reason, lastErrorAt: this.clock.now(), nextAttemptAt: this.clock.now() + delay };
      log.warn({ retryInMs: delay }, reason);
      this.restartTimer = this.clock.setTimeout(() => {
        this.restartTimer = null;
        if (!this.stopping) this.spawn();
      }, delay);
    });
  }
}
