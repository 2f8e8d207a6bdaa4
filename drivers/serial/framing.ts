// Transport-free framers that cut a serial byte stream into frames: by delimiter, by length header, by idle gap.
import type { Clock, Timer } from '../../gateway/core/clock.js';

/** Bytes a framer consumed without producing a frame. */
export interface FramerGarbage {
  reason: string;
  /** How many bytes were dropped (delimiters included). */
  bytes: number;
  /** The first dropped bytes (at most 64), for a log line or a capture. */
  sample: Buffer;
}

export type GarbageHandler = (garbage: FramerGarbage) => void;

/** Common shape: feed chunks in, frames come out through the onFrame callback. */
export interface Framer {
  push(chunk: Uint8Array): void;
  /** Forget any partial frame (reported as garbage), e.g. when the link went offline. */
  reset(): void;
}

const sampleMax = 64;

function garbage(reason: string, bytes: number, from: Uint8Array): FramerGarbage {
  return { reason, bytes, sample: Buffer.from(from.subarray(0, sampleMax)) };
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

const empty = Buffer.alloc(0);

export interface LineFramerOptions {
  /** Line end, e.g. "\r\n" or "\n" (the default). Not part of the emitted frame. */
  delimiter?: string | Uint8Array;
  /** Longest acceptable line, delimiter excluded; default 1024. */
  maxLength?: number;
  /** Emit empty lines too; by default they are skipped silently (devices often send bare line ends). */
  keepEmpty?: boolean;
  onFrame(line: Buffer): void;
  onGarbage?: GarbageHandler;
}

/** Cuts text-ish protocols (Wiegand-to-serial converters, wand dumps) into lines. */
export class LineFramer implements Framer {
  private readonly delimiter: Buffer;
  private readonly maxLength: number;
  private buf: Buffer = empty;
  /** Set while skipping the rest of an over-long line, up to its delimiter. */
  private overflow: { bytes: number; sample: Buffer } | null = null;

  constructor(private readonly options: LineFramerOptions) {
    this.delimiter = Buffer.from(options.delimiter ?? '\n');
    if (this.delimiter.length === 0) throw new RangeError('delimiter must not be empty');
    this.maxLength = positiveInt('maxLength', options.maxLength ?? 1024);
  }

  push(chunk: Uint8Array): void {
    const d = this.delimiter;
    // A delimiter may straddle the previous chunk and this one, so rescan a little of the old tail.
    let from = Math.max(0, this.buf.length - (d.length - 1));
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const at = this.buf.indexOf(d, from);
      if (at < 0) break;
      const line = this.buf.subarray(0, at);
      this.buf = this.buf.subarray(at + d.length);
      from = 0;
      if (this.overflow) {
        this.options.onGarbage?.({ reason: 'line too long', bytes: this.overflow.bytes + at + d.length, sample: this.overflow.sample });
        this.overflow = null;
      } else if (line.length > this.maxLength) {
        this.options.onGarbage?.(garbage('line too long', at + d.length, line));
      } else if (line.length > 0 || this.options.keepEmpty) {
        this.options.onFrame(Buffer.from(line));
      }
    }
    // Keep only what could still be the start of a delimiter once a line has grown too long,
    // so a device that never sends a line end cannot make us buffer without bound.
    const keep = d.length - 1;
    if (this.overflow) {
      const drop = this.buf.length - keep;
      if (drop > 0) {
        this.overflow.bytes += drop;
        this.buf = Buffer.from(this.buf.subarray(drop));
      }
    } else if (this.buf.length > this.maxLength + keep) {
      const drop = this.buf.length - keep;
      this.overflow = { bytes: drop, sample: Buffer.from(this.buf.subarray(0, sampleMax)) };
      this.buf = Buffer.from(this.buf.subarray(drop));
    }
  }

  reset(): void {
    const pending = (this.overflow?.bytes ?? 0) + this.buf.length;
    if (pending > 0) {
      this.options.onGarbage?.({ reason: 'incomplete line at reset', bytes: pending, sample: this.overflow?.sample ?? Buffer.from(this.buf.subarray(0, sampleMax)) });
    }
    this.buf = empty;
    this.overflow = null;
  }
}

export interface LengthPrefixedFramerOptions {
  /** Start-of-frame byte (OSDP: 0x53). */
  start: number;
  /** Offset of the length field from the start byte (OSDP: 2). */
  lengthOffset: number;
  /** Width of the length field, 1 to 4 bytes (OSDP: 2). */
  lengthBytes: number;
  /** Byte order of the length field; default big-endian (OSDP is little-endian). */
  littleEndian?: boolean;
  /** Added to the length field to get the whole frame's size; 0 (the default) when it already counts everything (OSDP). */
  lengthAdjust?: number;
  /** Smallest and largest possible whole frame, start byte included; anything else is an impossible length. */
  minLength: number;
  maxLength: number;
  /** Bytes allowed between frames that are not garbage (OSDP 2.2 sends a 0xFF mark before each frame). */
  idleBytes?: readonly number[];
  /**
   * Checks a complete candidate frame, typically its CRC or checksum. A frame that fails is treated
   * as a false start byte: one byte is dropped and the search resumes right after it, so a real frame
   * swallowed by a bogus header is still found.
   */
  check?(frame: Buffer): boolean;
  onFrame(frame: Buffer): void;
  onGarbage?: GarbageHandler;
}

/** Cuts binary protocols with a start byte and a length header (OSDP over RS-485 and alike). */
export class LengthPrefixedFramer implements Framer {
  private buf: Buffer = empty;
  private readonly headerLength: number;
  private readonly idle: ReadonlySet<number>;

  constructor(private readonly options: LengthPrefixedFramerOptions) {
    const { start, lengthOffset, lengthBytes, minLength, maxLength } = options;
    if (!Number.isInteger(start) || start < 0 || start > 0xff) throw new RangeError(`start must be a byte, got ${start}`);
    if (!Number.isInteger(lengthOffset) || lengthOffset < 1) throw new RangeError(`lengthOffset must be at least 1, got ${lengthOffset}`);
    if (!Number.isInteger(lengthBytes) || lengthBytes < 1 || lengthBytes > 4) throw new RangeError(`lengthBytes must be 1 to 4, got ${lengthBytes}`);
    this.headerLength = lengthOffset + lengthBytes;
    if (!Number.isInteger(minLength) || minLength < this.headerLength) throw new RangeError(`minLength must cover the length field (at least ${this.headerLength}), got ${minLength}`);
    if (!Number.isInteger(maxLength) || maxLength < minLength) throw new RangeError(`maxLength must be at least minLength, got ${maxLength}`);
    this.idle = new Set(options.idleBytes ?? []);
  }

  push(chunk: Uint8Array): void {
    const o = this.options;
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    for (;;) {
      this.skipToStart();
      if (this.buf.length < this.headerLength) return;
      const field = o.littleEndian ? this.buf.readUIntLE(o.lengthOffset, o.lengthBytes) : this.buf.readUIntBE(o.lengthOffset, o.lengthBytes);
      const total = field + (o.lengthAdjust ?? 0);
      if (total < o.minLength || total > o.maxLength) {
        this.drop(1, `impossible length ${total}`);
        continue;
      }
      if (this.buf.length < total) return;
      const frame = Buffer.from(this.buf.subarray(0, total));
      if (o.check && !o.check(frame)) {
        this.drop(1, 'check failed');
        continue;
      }
      this.buf = this.buf.subarray(total);
      o.onFrame(frame);
    }
  }

  reset(): void {
    if (this.buf.length > 0) this.drop(this.buf.length, 'incomplete frame at reset');
    this.buf = empty;
  }

  /** Drops everything before the next start byte; idle bytes go silently, anything else is garbage. */
  private skipToStart(): void {
    let at = this.buf.indexOf(this.options.start);
    if (at < 0) at = this.buf.length;
    if (at === 0) return;
    const skipped = this.buf.subarray(0, at);
    this.buf = this.buf.subarray(at);
    if (skipped.some((b) => !this.idle.has(b))) {
      // Idle bytes around garbage are not counted: only the run from the first to the last foreign byte is.
      let first = 0;
      let last = skipped.length - 1;
      while (this.idle.has(skipped[first] as number)) first++;
      while (this.idle.has(skipped[last] as number)) last--;
      const run = skipped.subarray(first, last + 1);
      this.options.onGarbage?.(garbage('no start byte', run.length, run));
    }
  }

  private drop(n: number, reason: string): void {
    const dropped = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.options.onGarbage?.(garbage(reason, n, dropped));
  }
}

export interface IdleGapFramerOptions {
  /** Time and timers; a frame ends once this clock has seen no byte for gapMs. */
  clock: Clock;
  /** Silence that ends a frame, in ms; see idleGapMs(). */
  gapMs: number;
  /** Shortest and longest acceptable frame; Modbus RTU: 4 and 256. */
  minLength?: number;
  maxLength?: number;
  /** Checks a complete frame, typically its CRC; a failing frame is garbage. */
  check?(frame: Buffer): boolean;
  onFrame(frame: Buffer): void;
  onGarbage?: GarbageHandler;
}

/**
 * The silence, in ms, that ends a frame: `chars` character times at `baudRate` with `bitsPerChar`
 * bits a character (start + 8 data + parity or second stop + stop = 11 for Modbus RTU).
 * Above 19200 baud Modbus fixes t3.5 at 1.75 ms, hence `minMs`. The result is rounded up to whole ms
 * because timers have ms resolution.
 *
 * Over USB adapters bytes arrive in bursts (an FTDI chip holds them up to its 16 ms latency timer),
 * so a real driver should pass a floor well above the wire timing, e.g. `{ minMs: 20 }`.
 */
export function idleGapMs(baudRate: number, opts: { chars?: number; bitsPerChar?: number; minMs?: number } = {}): number {
  positiveInt('baudRate', baudRate);
  const chars = opts.chars ?? 3.5;
  const bits = opts.bitsPerChar ?? 11;
  const minMs = opts.minMs ?? (baudRate > 19200 ? 1.75 : 0);
  return Math.ceil(Math.max((chars * bits * 1000) / baudRate, minMs));
}

/** Cuts protocols framed by silence (Modbus RTU): a frame is whatever arrived before a gap of gapMs. */
export class IdleGapFramer implements Framer {
  private parts: Buffer[] = [];
  private length = 0;
  private timer: Timer | null = null;
  private readonly minLength: number;
  private readonly maxLength: number;

  constructor(private readonly options: IdleGapFramerOptions) {
    if (!(options.gapMs > 0)) throw new RangeError(`gapMs must be positive, got ${options.gapMs}`);
    this.minLength = positiveInt('minLength', options.minLength ?? 1);
    this.maxLength = positiveInt('maxLength', options.maxLength ?? 256);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.timer?.cancel();
    // Past maxLength only the count matters: the frame is garbage whatever follows until the gap.
    if (this.length <= this.maxLength) this.parts.push(Buffer.from(chunk));
    this.length += chunk.length;
    this.timer = this.options.clock.setTimeout(() => this.end(), this.options.gapMs);
  }

  /** Drops a partial frame and cancels the gap timer; call it when the driver stops. */
  reset(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.length > 0) this.options.onGarbage?.(garbage('incomplete frame at reset', this.length, Buffer.concat(this.parts)));
    this.parts = [];
    this.length = 0;
  }

  private end(): void {
    this.timer = null;
    const o = this.options;
    const frame = Buffer.concat(this.parts);
    const length = this.length;
    this.parts = [];
    this.length = 0;
    if (length > this.maxLength) o.onGarbage?.(garbage('frame too long', length, frame));
    else if (length < this.minLength) o.onGarbage?.(garbage('frame too short', length, frame));
    else if (o.check && !o.check(frame)) o.onGarbage?.(garbage('check failed', length, frame));
    else o.onFrame(frame);
  }
}
