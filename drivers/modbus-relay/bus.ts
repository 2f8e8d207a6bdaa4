// The shared RS-485 bus: one SerialLink per port, reference-counted across relay boards, one Modbus transaction at a time.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../gateway/core/clock.js';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';
import { IdleGapFramer, idleGapMs, type FramerGarbage } from '../serial/framing.js';
import { SerialLink, SerialWriteError, type Parity, type SerialLinkState } from '../serial/link.js';
import { answerTo, crcOk, encodeRequest, describeRequest, FunctionCode, maxFrameLength, minFrameLength, type ModbusRequest } from './frame.js';

export interface BusSettings {
  path: string;
  baudRate: number;
  parity: Parity;
}

/** One relay board (one driver) on the bus. */
export interface BusMember {
  unit: number;
  /** Something on the wire nobody could use while no transaction of this member was waiting. */
  reject(reason: string, raw: Buffer): void;
  /** The port went away or came back; every member hears it. */
  onLinkState(state: 'online' | 'offline', error: string | null): void;
}

export interface TransactOptions {
  /** How long to wait for the answer after the request left, per attempt. */
  timeoutMs: number;
  /** Further attempts after a timeout or a garbled answer; exceptions are answers and never retried. */
  retries: number;
  /** Barrier commands go before queued polls, so a busy bus does not delay a gate opening. */
  urgent?: boolean;
  /**
   * Every fault on the way (timeout, bad CRC, a frame that does not answer the request, an
   * exception), including those a retry recovered from, so the driver can count them.
   */
  onFault?(reason: string, raw: Buffer): void;
}

export type TransactFailure = 'offline' | 'timeout' | 'invalid' | 'exception' | 'stopped';

export type TransactResult =
  | { ok: true; bits: boolean[] | null }
  | { ok: false; failure: TransactFailure; detail: string; exception?: { code: number; name: string } };

interface Job {
  member: BusMember;
  req: ModbusRequest;
  opts: TransactOptions;
  resolve(result: TransactResult): void;
}

type Outcome = { kind: 'frame'; frame: Buffer } | { kind: 'garbage'; garbage: FramerGarbage } | { kind: 'timeout' } | { kind: 'offline'; detail: string };

interface Exchange {
  finish(outcome: Outcome): void;
  /** Length of the normal answer to this request; an exception answer is always 5 bytes. */
  answerLength: number;
}

/**
 * The answers to the requests this driver sends have known lengths, so an answer is complete the
 * moment its last byte and a good CRC arrive: no need to sit out the 20 ms silence, which a barrier
 * command queued behind a poll would otherwise wait for.
 */
export function answerLength(request: Uint8Array): number {
  const fn = request[1];
  if (fn === FunctionCode.ReadCoils || fn === FunctionCode.ReadDiscreteInputs) return 5 + Math.ceil((((request[4] ?? 0) << 8) | (request[5] ?? 0)) / 8);
  return 8;
}

function completeAnswer(bytes: Buffer, length: number): Buffer | null {
  if (bytes.length >= 5 && (bytes[1]! & 0x80) !== 0 && crcOk(bytes.subarray(0, 5))) return Buffer.from(bytes.subarray(0, 5));
  if (bytes.length >= length && crcOk(bytes.subarray(0, length))) return Buffer.from(bytes.subarray(0, length));
  return null;
}

/** One port: its link, its framer and its queue of transactions. */
export class ModbusBus {
  private readonly link: SerialLink;
  private readonly framer: IdleGapFramer;
  private readonly members = new Set<BusMember>();
  private readonly queue: Job[] = [];
  private busy = false;
  private exchange: Exchange | null = null;
  /** Whose transaction ran last: the likeliest sender of a late or stray frame. */
  private lastMember: BusMember | null = null;
  private starting: Promise<void> | null = null;

  constructor(
    readonly settings: BusSettings,
    private readonly deps: { log: Logger; clock: Clock },
  ) {
    // USB adapters hand bytes over in bursts (FTDI: up to 16 ms), so silence much shorter than
    // 20 ms may fall inside one frame; 3.5 character times alone would cut frames apart.
    this.framer = new IdleGapFramer({
      clock: deps.clock,
      gapMs: idleGapMs(settings.baudRate, { minMs: 20 }),
      minLength: minFrameLength,
      maxLength: maxFrameLength,
      onFrame: (frame) => this.onFrame(frame),
      onGarbage: (g) => this.onGarbage(g),
    });
    this.link = new SerialLink(
      { path: settings.path, baudRate: settings.baudRate, parity: settings.parity },
      {
        log: deps.log,
        clock: deps.clock,
        onData: (chunk) => this.onData(chunk),
        onState: (state, error) => this.onLinkState(state, error ?? null),
      },
    );
  }

  get path(): string {
    return this.settings.path;
  }

  get linkState(): SerialLinkState {
    return this.link.state;
  }

  get linkError(): string | null {
    return this.link.lastError;
  }

  attach(member: BusMember): void {
    this.members.add(member);
  }

  /** Drops a member; its queued transactions fail with 'stopped'. */
  detach(member: BusMember): void {
    this.members.delete(member);
    if (this.lastMember === member) this.lastMember = null;
    for (const job of this.queue.filter((j) => j.member === member)) {
      this.queue.splice(this.queue.indexOf(job), 1);
      job.resolve({ ok: false, failure: 'stopped', detail: 'driver stopped' });
    }
  }

  get size(): number {
    return this.members.size;
  }

  /** Opens the port once for all members; later callers wait for the same first attempt. */
  start(): Promise<void> {
    this.starting ??= this.link.start();
    return this.starting;
  }

  async stop(): Promise<void> {
    this.exchange?.finish({ kind: 'offline', detail: `serial port ${this.path} was stopped` });
    this.framer.reset();
    await this.link.stop();
  }

  /** Queues one request/response exchange; resolves with the answer or why there was none. Never rejects. */
  transact(member: BusMember, req: ModbusRequest, opts: TransactOptions): Promise<TransactResult> {
    if (!this.members.has(member)) return Promise.resolve({ ok: false, failure: 'stopped', detail: 'driver stopped' });
    return new Promise<TransactResult>((resolve) => {
      const job: Job = { member, req, opts, resolve };
      if (opts.urgent) {
        const firstNormal = this.queue.findIndex((j) => !j.opts.urgent);
        this.queue.splice(firstNormal < 0 ? this.queue.length : firstNormal, 0, job);
      } else {
        this.queue.push(job);
      }
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        let result: TransactResult;
        try {
          result = await this.run(job);
        } catch (err) {
          this.deps.log.error({ err, path: this.path }, 'modbus transaction failed unexpectedly');
          result = { ok: false, failure: 'invalid', detail: `internal error: ${(err as Error).message}` };
        }
        job.resolve(result);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Modbus RTU is strictly request/response: the master sends, then waits for one answer or a timeout. */
  private async run(job: Job): Promise<TransactResult> {
    const { member, req, opts } = job;
    const bytes = encodeRequest(req);
    const what = `"${describeRequest(req)}"`;
    const fault = (reason: string, raw: Buffer): void => {
      try {
        opts.onFault?.(reason, raw);
      } catch (err) {
        this.deps.log.error({ err }, 'modbus fault handler threw');
      }
    };
    let last: TransactResult = { ok: false, failure: 'timeout', detail: `no answer to ${what}` };
    const attempts = 1 + Math.max(0, opts.retries);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (!this.members.has(member)) return { ok: false, failure: 'stopped', detail: 'driver stopped' };
      if (this.link.state !== 'online') return this.offline();
      this.lastMember = member;
      const outcome = await this.exchangeOnce(bytes, opts.timeoutMs);
      switch (outcome.kind) {
        case 'offline':
          return { ok: false, failure: 'offline', detail: outcome.detail };
        case 'timeout':
          fault('no response', bytes);
          last = { ok: false, failure: 'timeout', detail: `no response within ${opts.timeoutMs} ms to ${what} (${attempt} ${attempt === 1 ? 'try' : 'tries'})` };
          continue;
        case 'garbage': {
          const reason = outcome.garbage.reason === 'check failed' ? 'bad CRC' : outcome.garbage.reason;
          fault(reason, outcome.garbage.sample);
          last = { ok: false, failure: 'invalid', detail: `garbled answer to ${what}: ${reason}` };
          continue;
        }
        case 'frame': {
          const answer = answerTo(req, outcome.frame);
          if (answer.kind === 'bits') return { ok: true, bits: answer.bits };
          if (answer.kind === 'written') return { ok: true, bits: null };
          if (answer.kind === 'exception') {
            fault(`exception: ${answer.name}`, outcome.frame);
            return {
              ok: false,
              failure: 'exception',
              detail: `unit ${req.unit} refused to ${describeRequest(req)}: ${answer.name} (exception ${answer.code})`,
              exception: { code: answer.code, name: answer.name },
            };
          }
          fault(answer.reason, outcome.frame);
          last = { ok: false, failure: 'invalid', detail: `bad answer to ${what}: ${answer.reason}` };
          continue;
        }
      }
    }
    return last;
  }

  private offline(): TransactResult {
    return { ok: false, failure: 'offline', detail: `serial port ${this.path} is offline${this.link.lastError ? `: ${this.link.lastError}` : ''}` };
  }

  /** Writes one request and waits for the next frame, garbage, the timeout or the port going away. */
  private exchangeOnce(bytes: Buffer, timeoutMs: number): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let timer: Timer | null = null;
      let done = false;
      this.answerBytes = Buffer.alloc(0);
      const exchange: Exchange = {
        answerLength: answerLength(bytes),
        finish: (outcome) => {
          if (done) return;
          done = true;
          timer?.cancel();
          if (this.exchange === exchange) this.exchange = null;
          resolve(outcome);
        },
      };
      this.exchange = exchange;
      this.link.write(bytes).then(
        // The answer cannot start before the request has left, so the timeout runs from the drain.
        () => {
          if (!done) timer = this.deps.clock.setTimeout(() => exchange.finish({ kind: 'timeout' }), timeoutMs);
        },
        (err: unknown) => {
          const detail = err instanceof SerialWriteError ? err.message : `write to ${this.path} failed: ${String(err)}`;
          exchange.finish({ kind: 'offline', detail });
        },
      );
    });
  }

  private answerBytes = Buffer.alloc(0);

  private onData(chunk: Buffer): void {
    const exchange = this.exchange;
    if (exchange) {
      this.answerBytes = Buffer.concat([this.answerBytes, chunk]);
      const answer = completeAnswer(this.answerBytes, exchange.answerLength);
      if (answer) {
        this.answerBytes = Buffer.alloc(0);
        // The framer holds the same bytes; drop them so the answer is not delivered twice.
        this.framer.reset();
        exchange.finish({ kind: 'frame', frame: answer });
        return;
      }
    }
    this.framer.push(chunk);
  }

  private onFrame(frame: Buffer): void {
    if (this.exchange) {
      this.exchange.finish({ kind: 'frame', frame });
      return;
    }
    // A late answer to a request that already timed out, or a second master on the bus.
    this.strayReject('unsolicited frame', frame);
  }

  private onGarbage(g: FramerGarbage): void {
    // Half a frame cut off by an unplug is not the device's fault.
    if (g.reason === 'incomplete frame at reset') return;
    if (this.exchange) {
      this.exchange.finish({ kind: 'garbage', garbage: g });
      return;
    }
    this.strayReject(g.reason === 'check failed' ? 'bad CRC' : g.reason, g.sample);
  }

  private strayReject(reason: string, raw: Buffer): void {
    const member = this.lastMember ?? this.members.values().next().value;
    try {
      member?.reject(reason, raw);
    } catch (err) {
      this.deps.log.error({ err }, 'modbus reject handler threw');
    }
  }

  private onLinkState(state: 'online' | 'offline', error: string | null): void {
    if (state === 'offline') {
      this.framer.reset();
      this.exchange?.finish({ kind: 'offline', detail: `serial port ${this.path} went offline${error ? `: ${error}` : ''}` });
    }
    for (const member of [...this.members]) {
      try {
        member.onLinkState(state, error);
      } catch (err) {
        this.deps.log.error({ err }, 'modbus link state handler threw');
      }
    }
  }
}

/** Buses by port path, shared by every relay board wired to that port. */
const buses = new Map<string, ModbusBus>();
/** Ports being closed: a new bus on the same path waits, because the link takes an exclusive lock. */
const closing = new Map<string, Promise<void>>();

/**
 * Joins (or opens) the bus on `settings.path`. Boards sharing a port must agree on its baud
 * rate and parity; a mismatch is a config error, not something to guess about.
 */
export function joinBus(settings: BusSettings, member: BusMember, deps: { log: Logger; clock: Clock }): ModbusBus {
  let bus = buses.get(settings.path);
  if (bus) {
    const s = bus.settings;
    if (s.baudRate !== settings.baudRate || s.parity !== settings.parity) {
      throw new GuardpostError(
        ErrorCode.ConfigInvalid,
        `serial port ${settings.path} is already in use at ${s.baudRate} baud, parity ${s.parity} by another modbus-relay device; every board on one bus needs the same baud and parity`,
      );
    }
  } else {
    bus = new ModbusBus(settings, deps);
    buses.set(settings.path, bus);
  }
  bus.attach(member);
  return bus;
}

/** Opens the port of a freshly joined bus, after any earlier bus on that path has closed. */
export async function startBus(bus: ModbusBus): Promise<void> {
  const previous = closing.get(bus.path);
  if (previous) await previous;
  await bus.start();
}

/** Leaves the bus; the last member out closes the port. */
export async function leaveBus(bus: ModbusBus, member: BusMember): Promise<void> {
  bus.detach(member);
  if (bus.size > 0 || buses.get(bus.path) !== bus) return;
  buses.delete(bus.path);
  const done = bus.stop().finally(() => {
    if (closing.get(bus.path) === done) closing.delete(bus.path);
  });
  closing.set(bus.path, done);
  await done;
}
