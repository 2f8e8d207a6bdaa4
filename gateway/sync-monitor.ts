// The sync to HQ as the gateway sees it: one view for health, metrics and screens, the backlog alarm, reloads after master data.
import type { Logger } from 'pino';
import type { Sync } from '../sync/sync.js';
import type { Alarms } from './alarms.js';
import type { Clock, Timer } from './core/clock.js';
import type { ParkedRecordView, SyncView } from './http/contracts.js';
import type { Patrol } from './patrol/service.js';
import type { Store } from './store/db.js';
import { masterVersions } from './store/master.js';

const checkEveryMs = 10_000;

export class SyncMonitor {
  private timer: Timer | null = null;
  private off: (() => void) | null = null;

  constructor(
    private readonly deps: { sync: Sync; enabled: boolean; store: Store; alarms: Alarms; clock: Clock; patrol: Patrol; log: Logger; alarmAfterS: number },
  ) {}

  start(): void {
    this.off = this.deps.sync.onNotice((notice) => {
      if (notice.type === 'master') {
        this.deps.log.info({ kind: notice.kind, version: notice.version }, 'master data from HQ applied');
        // The patrol plan is compiled in memory; residents and the watchlist are read from the store per decision.
        if (notice.kind === 'patrol_plan') this.deps.patrol.loadPlans();
      }
    });
    this.timer = this.deps.clock.setInterval(() => this.check(), checkEveryMs);
  }

  stop(): void {
    this.off?.();
    this.timer?.cancel();
  }

  view(): SyncView {
    const s = this.deps.sync.status();
    return {
      enabled: this.deps.enabled,
      state: s.state,
      protocol: s.protocol,
      outboxDepth: s.outboxDepth,
      oldestUnsentAgeS: s.oldestUnsentAgeMs === null ? null : Math.round(s.oldestUnsentAgeMs / 1000),
      lastSuccessAt: s.lastSuccessAt,
      lastError: s.lastError,
      lastErrorAt: s.lastErrorAt,
      nextAttemptAt: s.nextAttemptAt,
      parked: s.parked,
      overdue: s.overdue,
      masterVersions: masterVersions(this.deps.store),
    };
  }

  parked(limit = 200): ParkedRecordView[] {
    return this.deps.store.outbox.parked(limit).map((r) => ({ seq: r.seq, stream: r.stream, recordId: r.record_id, createdAt: r.created_at, parkedAt: r.parked_at, reason: r.parked_reason }));
  }

  /** An admin sends a parked record again; audited, since it overrides HQ's refusal. */
  retry(seq: number, by: string): boolean {
    const { store } = this.deps;
    return store.transaction(() => {
      const ok = store.outbox.unpark(seq);
      if (ok) store.audit.append({ actor: by, action: 'sync.retry_parked', target: String(seq) });
      return ok;
    });
  }

  private check(): void {
    if (!this.deps.enabled) return;
    const s = this.deps.sync.status();
    if (s.overdue) {
      this.deps.alarms.raise('sync.backlog', 'hq', `数据未同步到总部已超过 ${Math.round(this.deps.alarmAfterS / 60)} 分钟`, {
        oldestUnsentAgeS: s.oldestUnsentAgeMs === null ? null : Math.round(s.oldestUnsentAgeMs / 1000),
        outboxDepth: s.outboxDepth,
        state: s.state,
        lastError: s.lastError,
      });
    } else this.deps.alarms.clear('sync.backlog', 'hq', 'records reach HQ again');
  }
}
