// The sync loop: connect to HQ, drain the outbox through a window of batches, back off on failure, apply what HQ sends back.
import { Pauses, type Clock, type Timer } from '../gateway/core/clock.js';
import type { MasterData, MasterKind, UpBatch } from './contract.js';
import { Backoff } from './backoff.js';
import type { BatchEnvelope, OutboxBatch, OutboxReader } from './outbox-reader.js';
import type { Inbound, Outcome, Upstream } from './upstream.js';
import { UpstreamError } from './upstream.js';

export type SyncState = 'connecting' | 'online' | 'backoff' | 'auth-failed' | 'disabled';

export interface SyncStatus {
  state: SyncState;
  /** e.g. "mqtt 5", "mqtt 3.1.1", "https"; null while disabled. */
  protocol: string | null;
  /** Unsent, unparked outbox rows (null until the worker's first count). */
  outboxDepth: number | null;
  oldestUnsentAt: number | null;
  lastSuccessAt: number | null;
  parked: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** While backing off: when the next attempt is due. */
  nextAttemptAt: number | null;
  /** Batches sent and waiting for HQ's answer. */
  inflight: number;
}

export type SyncNotice = { type: 'master'; kind: MasterKind; version: number } | { type: 'peer'; stream: string; count: number };

/** Log lines leave the worker as messages; the gateway's logger (with its redaction) writes them. */
export type SyncLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** The store's master-data functions (gateway/store/master.ts), run on the worker's own connection. */
export interface Apply {
  master(m: MasterData, now: number): { applied: boolean; reason?: string };
  peer(batch: UpBatch, now: number): number;
  /** The master-data version in force per kind. */
  versions(): Record<string, number>;
}

export interface PumpOptions {
  envelope: BatchEnvelope;
  reader: OutboxReader;
  /** Builds the transport, handing it where HQ's master data and peer records go. */
  upstream: (inbound: Inbound) => Upstream;
  apply: Apply;
  clock: Clock;
  log: SyncLog;
  maxBackoffS: number;
  onStatus?: (status: SyncStatus) => void;
  onNotice?: (notice: SyncNotice) => void;
  /** For tests that want a known jitter; Math.random otherwise. */
  random?: () => number;
}

/** How often an idle pump looks for new outbox rows. */
const idleMs = 1000;
const statusEveryMs = 5000;
const pruneEveryMs = 3600_000;
/** Acknowledged rows stay this long: enough to answer "did this reach HQ, when" for a week. */
export const keepSentMs = 7 * 86400_000;
/** How long stop() lets a batch HQ is answering finish before dropping it (it is sent again later). */
const stopGraceMs = 1500;

interface Failure {
  reason: string;
  auth: boolean;
}

export class SyncPump {
  readonly inbound: Inbound;
  private readonly upstream: Upstream;
  private readonly backoff: Backoff;
  private readonly pauses: Pauses;
  private readonly timers: Timer[] = [];
  private current: SyncStatus;
  private stopping = false;
  /** Set by a failure, cleared by the next success: so "back online" is logged once per outage. */
  private down = false;
  private done: Promise<void> | null = null;
  private inflight = 0;
  /** Master versions already judged, so a retained copy seen again on every reconnect is logged once. */
  private readonly judged = new Set<string>();

  constructor(private readonly opts: PumpOptions) {
    this.backoff = new Backoff(1000, opts.maxBackoffS * 1000, opts.random);
    this.pauses = new Pauses(opts.clock);
    this.inbound = {
      master: (m) => this.applyMaster(m),
      peer: (b) => this.applyPeer(b),
      refused: (stream, fromSeq, toSeq, rejected) => {
        const parked = opts.reader.parkSent(stream, fromSeq, toSeq, rejected, opts.clock.now());
        if (parked > 0) opts.log('warn', 'HQ refused records the broker had taken: parked', { stream, parked });
      },
      versions: () => opts.apply.versions(),
    };
    this.upstream = opts.upstream(this.inbound);
    const last = opts.reader.loadState<{ at: number }>('last_success');
    const error = opts.reader.loadState<{ at: number; message: string }>('last_error');
    this.current = {
      state: 'connecting',
      protocol: this.upstream.protocol,
      outboxDepth: null,
      oldestUnsentAt: null,
      lastSuccessAt: last?.at ?? null,
      parked: null,
      lastError: error?.message ?? null,
      lastErrorAt: error?.at ?? null,
      nextAttemptAt: null,
      inflight: 0,
    };
  }

  status(): SyncStatus {
    return { ...this.current, protocol: this.upstream.protocol, inflight: this.inflight };
  }

  /** Runs until stop(); never throws. */
  start(): Promise<void> {
    this.done ??= this.run();
    return this.done;
  }

  /** Lets a batch HQ is answering finish for a moment, then drops the connection; unacknowledged rows go again next time. */
  async stop(): Promise<void> {
    if (!this.done) return;
    this.stopping = true;
    this.pauses.wakeAll();
    // Real time, not the clock: this bounds the process's shutdown, which systemd times in real seconds.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise((r) => (grace = setTimeout(r, stopGraceMs)))]);
    clearTimeout(grace);
    await this.upstream.close();
    await this.done;
  }

  private async run(): Promise<void> {
    const { clock } = this.opts;
    this.timers.push(
      clock.setInterval(() => this.report(), statusEveryMs),
      clock.setInterval(() => this.prune(), pruneEveryMs),
    );
    this.prune();
    this.report();
    while (!this.stopping) {
      this.setState('connecting');
      try {
        await this.upstream.connect();
      } catch (err) {
        await this.fail({ reason: (err as Error).message, auth: err instanceof UpstreamError && err.auth });
        continue;
      }
      if (this.stopping) break;
      this.setState('online');
      const failure = await this.drain();
      if (failure && !this.stopping) await this.fail(failure);
    }
    await this.upstream.close();
    for (const t of this.timers) t.cancel();
    this.report();
  }

  /** Sends until the outbox is empty (then waits for more) or something fails; answers are settled in send order. */
  private async drain(): Promise<Failure | null> {
    const { reader, clock, envelope } = this.opts;
    const upstream = this.upstream;
    reader.rewind();
    const inflight: { batch: OutboxBatch; outcome: Promise<Outcome> }[] = [];
    let failure: Failure | null = null;
    for (;;) {
      try {
        while (!this.stopping && !failure && inflight.length < upstream.window) {
          const batch = reader.next();
          if (!batch) break;
          inflight.push({ batch, outcome: upstream.send(batch, reader.body(batch, envelope, clock.now())) });
          this.inflight = inflight.length;
        }
      } catch (err) {
        failure ??= { reason: `reading the outbox failed: ${(err as Error).message}`, auth: false };
      }
      const head = inflight.shift();
      this.inflight = inflight.length + (head ? 1 : 0);
      if (!head) {
        if (this.stopping || failure) return failure;
        if (!upstream.isUp()) return { reason: 'the connection to HQ was lost', auth: false };
        // Caught up: say so now rather than at the next periodic report.
        if (this.current.outboxDepth !== 0) this.report();
        await this.pauses.wait(idleMs);
        // Nothing is in flight: start again from the oldest unsent row, so a record an admin unparked
        // (behind the read position) goes too.
        reader.rewind();
        continue;
      }
      // Later batches may already be answered; settling strictly in order keeps the marks in seq order per stream.
      const f = this.settle(head.batch, await head.outcome);
      this.inflight = inflight.length;
      failure ??= f;
    }
  }

  private settle(batch: OutboxBatch, outcome: Outcome): Failure | null {
    const { reader, clock, log } = this.opts;
    const now = clock.now();
    try {
      switch (outcome.type) {
        case 'acked':
          reader.markSent(batch, now);
          this.succeeded(now);
          return null;
        case 'answered': {
          const r = reader.markAnswered(batch, outcome.accepted, outcome.rejected, now);
          if (r.parked > 0) {
            log('warn', 'HQ rejected records as invalid: parked', { stream: batch.stream, parked: r.parked, reasons: [...new Set(outcome.rejected.map((x) => x.reason))].slice(0, 5) });
            // Parked records wait for a person: show them now, not at the next report.
            this.report();
          }
          if (r.unanswered > 0) return { reason: `HQ answered for ${batch.seqs.length - r.unanswered} of ${batch.seqs.length} records of a ${batch.stream} batch`, auth: false };
          this.succeeded(now);
          return null;
        }
        case 'refused': {
          const parked = reader.park(batch, outcome.reason, now);
          log('warn', 'HQ refused a batch as invalid: parked', { stream: batch.stream, parked, firstSeq: batch.seqs[0], reason: outcome.reason });
          this.report();
          // HQ answered, so the line works: the rest flows on without a wait.
          this.succeeded(now);
          return null;
        }
        case 'failed':
          return { reason: outcome.reason, auth: outcome.auth };
      }
    } catch (err) {
      // Not marked: HQ has the batch and gets it again, which it deduplicates by id.
      return { reason: `marking the outbox failed: ${(err as Error).message}`, auth: false };
    }
  }

  private succeeded(now: number): void {
    this.backoff.reset();
    this.current.lastSuccessAt = now;
    if (this.current.state !== 'online') this.setState('online');
  }

  private async fail(f: Failure): Promise<void> {
    const { clock, log, reader } = this.opts;
    await this.upstream.close();
    if (this.stopping) return;
    const now = clock.now();
    const delay = f.auth ? this.backoff.atCap() : this.backoff.next();
    const changed = f.reason !== this.current.lastError;
    this.current.lastError = f.reason;
    this.current.lastErrorAt = now;
    this.down = true;
    this.current.nextAttemptAt = now + delay;
    try {
      reader.saveState('last_error', { at: now, message: f.reason });
    } catch {
      // The status message still carries it; the table is only for after a restart.
    }
    // Once per distinct error, not once per retry: a line down for days would otherwise fill the journal.
    if (changed) log('warn', f.auth ? 'HQ refused this gate; retrying at the longest interval' : 'sync to HQ failed; retrying', { error: f.reason, retryInMs: delay });
    this.setState(f.auth ? 'auth-failed' : 'backoff');
    await this.pauses.wait(delay);
    this.current.nextAttemptAt = null;
  }

  private setState(state: SyncState): void {
    if (this.current.state === state) return;
    this.current.state = state;
    if (state === 'online' && this.down) {
      this.down = false;
      this.opts.log('info', 'sync to HQ back online', { protocol: this.upstream.protocol });
    }
    this.report();
  }

  private report(): void {
    try {
      const c = this.opts.reader.counts();
      this.current.outboxDepth = c.depth;
      this.current.oldestUnsentAt = c.oldestUnsentAt;
      this.current.parked = c.parked;
    } catch {
      // A busy store: the last counts stand until the next report.
    }
    this.opts.onStatus?.(this.status());
  }

  private prune(): void {
    try {
      const n = this.opts.reader.prune(this.opts.clock.now() - keepSentMs);
      if (n > 0) this.opts.log('info', 'pruned outbox rows HQ acknowledged long ago', { rows: n });
    } catch (err) {
      this.opts.log('warn', 'pruning the outbox failed', { error: (err as Error).message });
    }
  }

  private applyMaster(m: MasterData): void {
    const { envelope, apply, clock, log, onNotice } = this.opts;
    if (m.compound !== envelope.compound) {
      log('warn', 'master data for another compound ignored', { compound: m.compound, kind: m.kind });
      return;
    }
    const key = `${m.kind}:${m.version}`;
    try {
      const r = apply.master(m, clock.now());
      if (r.applied) {
        log('info', 'master data applied', { kind: m.kind, version: m.version });
        onNotice?.({ type: 'master', kind: m.kind, version: m.version });
      } else if (r.reason && !this.judged.has(key)) {
        log('info', 'master data not applied', { kind: m.kind, version: m.version, reason: r.reason });
      }
    } catch (err) {
      if (!this.judged.has(key)) log('error', 'applying master data failed', { kind: m.kind, version: m.version, error: (err as Error).message });
    }
    this.judged.add(key);
  }

  private applyPeer(batch: UpBatch): void {
    const { envelope, apply, clock, log, onNotice } = this.opts;
    // Our own batches come back where the broker cannot leave them out (MQTT 3.1.1 has no no-local).
    if (batch.site === envelope.site || batch.compound !== envelope.compound) return;
    try {
      const count = apply.peer(batch, clock.now());
      if (count > 0) onNotice?.({ type: 'peer', stream: batch.stream, count });
    } catch (err) {
      log('error', "applying another gate's records failed", { site: batch.site, stream: batch.stream, error: (err as Error).message });
    }
  }
}
