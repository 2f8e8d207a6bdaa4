// How long to wait before trying HQ again: exponential with full jitter, so a compound's gates coming back together do not retry in step.
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(baseMs > 0) || !(capMs >= baseMs)) throw new Error(`backoff needs 0 < base <= cap, got base ${baseMs} ms and cap ${capMs} ms`);
  }

  /** The wait before the next attempt: uniform in [0, min(cap, base * 2^failures)). */
  next(): number {
    // The exponent stops growing once the cap is reached, so a gate down for days never overflows.
    const ceiling = this.attempt >= 31 ? this.capMs : Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  /** The wait after a refusal that retrying soon cannot fix (credentials, certificate). */
  atCap(): number {
    this.attempt++;
    return this.capMs;
  }

  /** After a success the next failure starts small again. */
  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
