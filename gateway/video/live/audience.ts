// The viewers of one live feed, for both live hubs: joining, leaving with a linger before the feed stops, and viewer callbacks that cannot break each other.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../core/clock.js';

export interface AudienceDeps {
  camera: string;
  clock: Clock;
  log: Logger;
  /** How long the feed keeps running after the last viewer left, so flipping tiles does not restart it. */
  lingerMs: number;
  /** The linger is over and nobody came back: stop the feed. */
  idle(): void;
}

/** `S` is what the hub keeps per viewer (e.g. "waits for a key frame"). */
export class Audience<V extends { bye(reason: string, code: C): void }, C extends string, S = null> {
  private readonly viewers = new Map<V, S>();
  private linger: Timer | null = null;

  constructor(private readonly deps: AudienceDeps) {}

  get size(): number {
    return this.viewers.size;
  }

  /** Adds a viewer (cancelling a linger) and returns its leave function, which may be called more than once. */
  join(viewer: V, state: S): () => void {
    this.linger?.cancel();
    this.linger = null;
    this.viewers.set(viewer, state);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.leave(viewer);
    };
  }

  entries(): [V, S][] {
    return [...this.viewers];
  }

  /** Runs a viewer callback: false when it returned false or threw (a viewer that throws is dropped, so one broken socket cannot stop the others). */
  call(viewer: V, fn: () => unknown): boolean {
    try {
      return fn() !== false;
    } catch (err) {
      this.leave(viewer);
      this.deps.log.warn({ camera: this.deps.camera, err }, 'live: viewer failed and was dropped');
      return false;
    }
  }

  /** Every viewer hears why the feed ended and is gone from it. */
  byeAll(reason: string, code: C): void {
    const viewers = [...this.viewers.keys()];
    this.viewers.clear();
    for (const viewer of viewers) {
      try {
        viewer.bye(reason, code);
      } catch (err) {
        this.deps.log.warn({ camera: this.deps.camera, err }, 'live: viewer failed on bye');
      }
    }
  }

  /** The hub shuts down: no linger may fire afterwards. */
  cancelLinger(): void {
    this.linger?.cancel();
    this.linger = null;
  }

  private leave(viewer: V): void {
    if (!this.viewers.delete(viewer) || this.viewers.size > 0 || this.linger) return;
    this.linger = this.deps.clock.setTimeout(() => {
      this.linger = null;
      if (this.viewers.size === 0) this.deps.idle();
    }, this.deps.lingerMs);
  }
}
