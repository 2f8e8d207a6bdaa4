// The gate's timed checks: overstays, worker curfew, guards on duty, overdue keys, and the nightly purge.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../core/clock.js';
import type { Store } from '../store/db.js';
import type { Access } from './access.js';
import type { Passes } from './passes.js';
import type { Shifts } from './shifts.js';
import type { Visitors } from './visitors.js';

// Alarms must reach the console within a minute of their moment; 15 s keeps that with room to spare.
const checkEveryMs = 15_000;
const purgeEveryMs = 3600_000;

export class GateSchedule {
  private timers: Timer[] = [];

  constructor(
    private readonly deps: { clock: Clock; log: Logger; store: Store; access: Access; visitors: Visitors; passes: Passes; shifts: Shifts },
  ) {}

  start(): void {
    if (this.timers.length > 0) return;
    const { clock } = this.deps;
    this.timers.push(clock.setInterval(() => this.check(), checkEveryMs), clock.setInterval(() => this.housekeeping(), purgeEveryMs));
  }

  stop(): void {
    for (const t of this.timers.splice(0)) t.cancel();
  }

  /** Each check on its own: one failing must not stop the others. */
  check(): void {
    const { access, visitors, passes, shifts } = this.deps;
    this.guard('expired vehicle queue', () => access.expirePending());
    this.guard('overstays', () => visitors.checkOverstays());
    this.guard('worker curfew', () => passes.checkCurfew());
    this.guard('guards on duty', () => shifts.checkMinGuards());
    this.guard('overdue keys', () => shifts.checkOverdueKeys());
  }

  housekeeping(): void {
    const { visitors, store, clock } = this.deps;
    this.guard('visitor purge', () => visitors.purge());
    this.guard('idempotency keys', () => store.idempotency.prune(clock.now() - 24 * 3600_000));
  }

  private guard(what: string, fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.deps.log.error({ err, check: what }, 'gate check failed');
    }
  }
}
