// Time source for everything that reads the time or waits: the system clock, or a test's manual one.
export interface Clock {
  /** UTC epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
}

export interface Timer {
  cancel(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    handle.unref?.();
    return { cancel: () => clearInterval(handle) };
  },
};

interface Pending {
  at: number;
  fn: () => void;
  every?: number;
  cancelled: boolean;
}

/** A clock that moves only when a test calls advance(); timers fire in time order. */
export class ManualClock implements Clock {
  private pending: Pending[] = [];

  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule({ at: this.current + Math.max(0, ms), fn, cancelled: false });
  }

  setInterval(fn: () => void, ms: number): Timer {
    const every = Math.max(1, ms);
    return this.schedule({ at: this.current + every, fn, every, cancelled: false });
  }

  /** Move time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.pending = this.pending.filter((p) => !p.cancelled);
      const next = this.pending.reduce<Pending | undefined>((a, p) => (!a || p.at < a.at ? p : a), undefined);
      if (!next || next.at > target) break;
      this.current = next.at;
      if (next.every) next.at += next.every;
      else next.cancelled = true;
      next.fn();
    }
    this.current = target;
  }

  private schedule(p: Pending): Timer {
    this.pending.push(p);
    return { cancel: () => void (p.cancelled = true) };
  }
}

/** Waits on a clock that a stop can cut short: wakeAll() resolves every pending wait at once. */
export class Pauses {
  private readonly waiting = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        timer.cancel();
        this.waiting.delete(wake);
        resolve();
      };
      const timer = this.clock.setTimeout(wake, ms);
      this.waiting.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }
}
