// The serial link: one real serial port kept open across unplugs and open failures, for drivers to build on.
import { SerialPort } from 'serialport';
import type { DriverContext } from '../contract.js';
import type { Timer } from '../../gateway/core/clock.js';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export interface SerialLinkOptions {
  /** Prefer the stable /dev/serial/by-id/... path over /dev/ttyUSBn, which changes with plug order. */
  path: string;
  baudRate: number;
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 'none'. */
  parity?: Parity;
  /** Default 1. */
  stopBits?: 1 | 1.5 | 2;
  /** First delay before reopening after a failure, doubling up to maxRetryMs; default 250. */
  retryMs?: number;
  /** Longest delay between reopen attempts; default 2000, which bounds how late a replugged port comes back. */
  maxRetryMs?: number;
  /** A write not drained by then rejects; default 5000. A wedged adapter must not hang a barrier command. */
  writeTimeoutMs?: number;
}

/** What the link needs from its owner: a driver passes its own log and clock plus two callbacks. */
export interface SerialLinkContext extends Pick<DriverContext, 'log' | 'clock'> {
  /** Every chunk as it arrives, in order; feed it to a framer. Exceptions are caught and logged. */
  onData(chunk: Buffer): void;
  /**
   * Called when the link goes online or offline, and again while offline when the reason changes
   * (e.g. "no such file" becomes "permission denied"). Not called by stop().
   */
  onState?(state: 'online' | 'offline', error?: string): void;
}

/** 'opening' lasts only until the first open attempt after start() settles. */
export type SerialLinkState = 'stopped' | 'opening' | 'online' | 'offline';

export type SerialWriteFailure = 'offline' | 'disconnected' | 'timeout' | 'stopped' | 'io';

/** Why a write did not reach the wire; `reason` lets a driver decide whether to retry. */
export class SerialWriteError extends Error {
  constructor(
    readonly path: string,
    readonly reason: SerialWriteFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SerialWriteError';
  }
}

const parities: readonly Parity[] = ['none', 'even', 'odd', 'mark', 'space'];

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ignore(): void {}

/** An open port and how to take our listeners off it again. */
interface Connection {
  port: SerialPort;
  openedAt: number;
  detach(): void;
}

/**
 * Owns one serial port. start() opens it; any failure or disconnect sets the link offline and
 * retries with capped exponential backoff on the injected clock until stop().
 */
export class SerialLink {
  private running = false;
  private current: SerialLinkState = 'stopped';
  private offlineReason: string | null = null;
  private lastErr: string | null = null;
  private conn: Connection | null = null;
  private retryTimer: Timer | null = null;
  private delay = 0;
  /** Opens and closes in flight; stop() waits for them so no descriptor outlives it. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly pendingWrites = new Set<(err: SerialWriteError) => void>();
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly options: SerialLinkOptions,
    private readonly ctx: SerialLinkContext,
  ) {}

  get state(): SerialLinkState {
    return this.current;
  }

  /** The most recent open, read or write error, kept after the link is back online. */
  get lastError(): string | null {
    return this.lastErr;
  }

  get path(): string {
    return this.options.path;
  }

  /**
   * Opens the port. Resolves once the first attempt settled, online or offline; an absent or
   * busy port is a transient fault handled by retrying, so only invalid options reject.
   */
  async start(): Promise<void> {
    if (this.stopping) await this.stopping;
    if (this.running) {
      while (this.inflight.size > 0) await Promise.all(this.inflight);
      return;
    }
    this.validate();
    this.running = true;
    this.current = 'opening';
    this.offlineReason = null;
    this.delay = this.options.retryMs ?? 250;
    await this.attempt();
  }

  /** Closes the port, cancels the retry timer and rejects writes still waiting. */
  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    const stopping = (async () => {
      // Opens in flight see running=false and close what they opened themselves.
      while (this.inflight.size > 0) await Promise.all(this.inflight);
      const conn = this.conn;
      this.conn = null;
      this.failWrites('stopped', `serial port ${this.options.path} was stopped`);
      if (conn) await this.track(this.release(conn));
      this.current = 'stopped';
      this.ctx.log.info({ path: this.options.path }, 'serial port closed');
    })();
    this.stopping = stopping;
    void stopping
      .finally(() => {
        if (this.stopping === stopping) this.stopping = null;
      })
      .catch(ignore);
    return stopping;
  }

  /** Writes and waits until the OS has transmitted the bytes (tcdrain). Rejects with SerialWriteError. */
  write(bytes: Uint8Array): Promise<void> {
    const { path } = this.options;
    const port = this.conn?.port;
    if (!port || !this.running || this.current !== 'online') {
      const why = this.offlineReason ? `: ${this.offlineReason}` : '';
      return Promise.reject(new SerialWriteError(path, this.running ? 'offline' : 'stopped', `serial port ${path} is ${this.running ? 'offline' : 'stopped'}${why}`));
    }
    const timeoutMs = this.options.writeTimeoutMs ?? 5000;
    return new Promise<void>((resolve, reject) => {
      const finish = (err: SerialWriteError | null): void => {
        if (!this.pendingWrites.delete(finish)) return;
        timer.cancel();
        if (err) reject(err);
        else resolve();
      };
      const timer = this.ctx.clock.setTimeout(() => finish(new SerialWriteError(path, 'timeout', `write to serial port ${path} not drained after ${timeoutMs} ms`)), timeoutMs);
      this.pendingWrites.add(finish);
      const failed = (err: Error): void => {
        this.lastErr = err.message;
        finish(new SerialWriteError(path, 'io', `write to serial port ${path} failed: ${err.message}`));
      };
      port.write(Buffer.from(bytes), (err) => {
        if (err) return failed(err);
        port.drain((drainErr) => (drainErr ? failed(drainErr) : finish(null)));
      });
    });
  }

  private validate(): void {
    const { path, baudRate, dataBits = 8, parity = 'none', stopBits = 1 } = this.options;
    const problems: string[] = [];
    if (typeof path !== 'string' || path.length === 0) problems.push('path must be a non-empty string');
    if (!Number.isInteger(baudRate) || baudRate <= 0) problems.push(`baudRate must be a positive integer, got ${baudRate}`);
    if (![5, 6, 7, 8].includes(dataBits)) problems.push(`dataBits must be 5, 6, 7 or 8, got ${dataBits}`);
    if (!parities.includes(parity)) problems.push(`parity must be one of ${parities.join(', ')}, got ${parity}`);
    if (![1, 1.5, 2].includes(stopBits)) problems.push(`stopBits must be 1, 1.5 or 2, got ${stopBits}`);
    for (const key of ['retryMs', 'maxRetryMs', 'writeTimeoutMs'] as const) {
      const v = this.options[key];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) problems.push(`${key} must be a positive number of ms, got ${v}`);
    }
    if (problems.length > 0) throw new GuardpostError(ErrorCode.ConfigInvalid, `serial port ${path}: ${problems.join('; ')}`);
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(ignore);
    return p;
  }

  private attempt(): Promise<void> {
    return this.track(this.open().catch((err: unknown) => this.ctx.log.error({ path: this.options.path, err }, 'serial link bug while opening')));
  }

  private async open(): Promise<void> {
    const { path, baudRate, dataBits = 8, parity = 'none', stopBits = 1 } = this.options;
    let port: SerialPort;
    try {
      port = new SerialPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    } catch (err) {
      this.fail(messageOf(err));
      return;
    }
    // Stays for the port's whole life: a late error from a port we already let go must not crash the process.
    port.on('error', ignore);
    const err = await new Promise<Error | null>((resolve) => port.open(resolve));
    if (err) {
      if (this.running) this.fail(err.message);
      return;
    }
    if (!this.running) {
      await this.release({ port, openedAt: 0, detach: ignore });
      return;
    }
    const onData = (chunk: Buffer): void => {
      try {
        this.ctx.onData(chunk);
      } catch (e) {
        this.ctx.log.error({ path, err: e }, 'serial data handler threw');
      }
    };
    // 'close' carries a DisconnectedError when the device went away; an 'error' while open is fatal for this port too.
    const conn: Connection = {
      port,
      openedAt: this.ctx.clock.now(),
      detach: () => {
        port.off('data', onData);
        port.off('close', onClose);
        port.off('error', onError);
      },
    };
    const onClose = (e: Error | null): void => this.drop(conn, e?.message ?? 'port closed');
    const onError = (e: Error): void => this.drop(conn, e.message);
    port.on('data', onData);
    port.on('close', onClose);
    port.on('error', onError);
    this.conn = conn;
    this.setState('online', null);
  }

  /** The open port failed: let it go, report offline, and reopen later. */
  private drop(conn: Connection, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = null;
    // Only a port that stayed up a while earns a fast retry; one that opens and dies at once keeps backing off.
    const maxRetryMs = this.options.maxRetryMs ?? 2000;
    if (this.ctx.clock.now() - conn.openedAt >= maxRetryMs) this.delay = this.options.retryMs ?? 250;
    this.failWrites('disconnected', `serial port ${this.options.path} went offline: ${reason}`);
    const released = this.track(this.release(conn));
    // A device that vanishes while stop() runs is not news: the driver is stopping anyway.
    if (this.running) this.fail(reason, released);
  }

  /** Reports offline and schedules the next attempt, after `before` (a close) when given. */
  private fail(reason: string, before: Promise<void> = Promise.resolve()): void {
    this.lastErr = reason;
    this.setState('offline', reason);
    this.ctx.log.debug({ path: this.options.path, err: reason, retryInMs: this.delay }, 'serial port unavailable, will retry');
    void before.then(() => {
      if (!this.running || this.retryTimer) return;
      const delay = this.delay;
      this.delay = Math.min(delay * 2, this.options.maxRetryMs ?? 2000);
      this.retryTimer = this.ctx.clock.setTimeout(() => {
        this.retryTimer = null;
        if (this.running) void this.attempt();
      }, delay);
    });
  }

  private async release({ port, detach }: Connection): Promise<void> {
    detach();
    if (port.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    } else if (port.port?.isOpen) {
      // The stream was destroyed by a write error without closing its descriptor; close it underneath.
      await port.port.close().catch(ignore);
    }
  }

  private failWrites(reason: SerialWriteFailure, message: string): void {
    for (const finish of [...this.pendingWrites]) finish(new SerialWriteError(this.options.path, reason, message));
  }

  private setState(state: 'online' | 'offline', reason: string | null): void {
    if (state === this.current && reason === this.offlineReason) return;
    const was = this.current;
    this.current = state;
    this.offlineReason = reason;
    const { path } = this.options;
    if (state === 'online') this.ctx.log.info({ path }, 'serial port online');
    else this.ctx.log.warn({ path, err: reason }, was === 'offline' ? 'serial port still offline, new reason' : 'serial port offline');
    try {
      this.ctx.onState?.(state, reason ?? undefined);
    } catch (e) {
      this.ctx.log.error({ path, err: e }, 'serial state handler threw');
    }
  }
}
