// Driver for the patrol-wand cradle: asks whether a wand is docked, downloads its records as checkpoint events, corrects its clock.
import Type, { type Static } from 'typebox';
import type { Timer } from '../../gateway/core/clock.js';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';
import type { DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition, DeviceEvent } from '../contract.js';
import { LineFramer, type FramerGarbage } from '../serial/framing.js';
import { SerialLink, SerialWriteError } from '../serial/link.js';
import { checkSequence, hostCommands, maxLineLength, parseWandLine, wandErrCodes, wandErrorReasons, type WandErrCode, type WandInfo, type WandParseResult, type WandRecord } from './protocol.js';
import { formatWandTime, isTimeZone, localToUtc, parseWandTime, utcToLocal, type NaiveMs } from './time.js';

export const defaultBaud = 115200;
/**
 * The driver is told nothing about the site, and guardpost's compounds are in mainland China: one
 * zone, no daylight saving. The zone never moves a record's `at` (see README, "Clock handling"); it
 * decides only what local time the wand is set to and how its offset reads.
 */
export const defaultTimeZone = 'Asia/Shanghai';
export const defaultPollMs = 2000;
export const defaultMaxAgeDays = 30;

/** The README gives the wand 200 ms to start an answer and between lines; this adds a USB adapter's latency and a slow flash page. */
export const replyTimeoutMs = 1000;
/**
 * Records asked for per $READ. A line damaged on the wire costs at most the rest of its block
 * again, and at 115200 baud a block is about 0.7 s of wire time, so a removed wand is noticed soon.
 */
export const readBlock = 200;
/** Unanswered $INFO polls in a row before a docked wand counts as removed; one lost answer is not a removal. */
export const missesToUndock = 2;
/** A corrected record up to this far ahead of the host clock is still accepted (rounding, a host clock stepped back by NTP). */
export const futureToleranceMs = 5 * 60_000;
/** Rejected records logged one by one per docking; a wand whose clock died can carry thousands. */
const detailedRejectLogs = 20;
const dayMs = 86_400_000;

export const PatrolWandConfigSchema = Type.Object({
  port: Type.String({ pattern: '^/dev/', description: 'a serial device path' }),
  baud: Type.Optional(Type.Integer({ minimum: 1200, maximum: 921600, default: defaultBaud, description: 'the cradle line\'s baud rate (1200-921600); the guardpost wand protocol uses 115200' })),
  time_zone: Type.Optional(
    Type.String({
      minLength: 1,
      default: defaultTimeZone,
      description: 'the IANA time zone the wands\' clocks show, e.g. Asia/Shanghai (the default: the driver knows nothing of the site, and mainland China has one zone without daylight saving)',
    }),
  ),
  poll_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000, default: defaultPollMs, description: 'how often, in ms, the cradle is asked whether a wand is docked (100-60000)' })),
  max_age_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, default: defaultMaxAgeDays, description: 'records older than this many days after clock correction are rejected (1-3650)' })),
  clear_after_download: Type.Optional(Type.Boolean({ default: false, description: 'let the wand forget the records once they were downloaded intact' })),
});

export type PatrolWandConfig = Static<typeof PatrolWandConfigSchema> & { kind: DeviceKind };

/** Why a record was not passed on; one fixed text each, for ctx.reject's count and once-per-reason log. */
export const recordRejectReasons = {
  unparsable: 'record time unparsable',
  future: 'record time in the future',
  old: 'record older than max_age_days',
  clock: 'wand clock unreadable, record time cannot be corrected',
  field: 'record with a malformed field',
  corrupt: 'record corrupted on the wire twice',
} as const;

export type RecordRejectKind = keyof typeof recordRejectReasons;

type Input = { line: Buffer; parsed: WandParseResult } | { garbage: FramerGarbage };
type Outcome = 'done' | 'timeout' | 'offline' | 'stopped';

interface Pending {
  input(x: Input): void;
  abort(outcome: Outcome): void;
}

/** One wand in the cradle, from the $INFO that found it to the one that no longer did. */
interface Docking {
  /** Records of the block being read, handed to the gateway together when the block ends. */
  batch: DeviceEvent[];
  wandId: string;
  firmware: string;
  /** As the last $INFO said. */
  first: number;
  last: number;
  /** The next record to read. */
  next: number;
  /** The measurement of the $INFO this download pass started from. */
  clock: ClockReading;
  /** Records already asked for again after a damaged line: the next damage to the same one rejects it. */
  retried: Set<number>;
  /** Lowest record that never arrived intact; $CLEAR stays below it so it can be read another time. */
  firstUnread: number | null;
  emitted: number;
  rejected: number;
  damagedLines: number;
  /** Downloaded up to `last` and the clock set since. */
  synced: boolean;
}

interface Block {
  from: number;
  to: number;
  expected: number;
  /** The record where the answer went wrong; the rest of the answer is ignored. */
  damagedAt: number | null;
  damagedRaw: Buffer | null;
  /** The wand ended the answer with fewer records than $INFO promised, and said so consistently. */
  short: boolean;
  err: string | null;
}

/**
 * The host's time and the wand's reading at one moment (the middle of an $INFO round trip). The
 * reading is null when the wand's clock was not a time; then no record can be corrected by it.
 */
interface ClockReading {
  hostAt: number;
  clockNaive: NaiveMs | null;
  /** hostAt − the reading as UTC in time_zone: positive when the wand is slow. */
  offsetMs: number;
}

/**
 * Records up to `through` were stamped by the wand's clock before a $TIME this run sent, and are
 * corrected by the reading that download used, not by a later one: the $TIME moved the clock they
 * were stamped by.
 */
interface Era {
  through: number;
  clock: ClockReading;
}

type InfoReply =
  | { kind: 'info'; info: WandInfo; hostAt: number; clockNaive: NaiveMs }
  | { kind: 'bad-clock'; fields: string[]; hostAt: number }
  | { kind: 'err'; code: string }
  | { kind: 'none' }
  | { kind: 'offline' };

/** One cradle on one serial port. Constructors only assign; start/stop are idempotent. */
export class PatrolWandDevice implements Driver {
  private state: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private link: SerialLink | null = null;
  private framer: LineFramer | null = null;
  private running = false;
  private pending: Pending | null = null;
  private pollTimer: Timer | null = null;
  private cycling: Promise<void> | null = null;
  private sleeping: { timer: Timer; wake(): void } | null = null;
  private docking: Docking | null = null;
  private misses = 0;
  private rejectLogs = 0;
  /** Per wand id, ascending by `through`; kept for this run only (see README, "Clock handling"). */
  private readonly eras = new Map<string, Era[]>();

  constructor(
    private readonly config: PatrolWandConfig,
    private readonly ctx: DriverContext,
  ) {}

  private get zone(): string {
    return this.config.time_zone ?? defaultTimeZone;
  }

  async start(): Promise<void> {
    if (this.link) return;
    if (!isTimeZone(this.zone)) throw new GuardpostError(ErrorCode.ConfigInvalid, `patrol-wand ${this.ctx.deviceId}: unknown time zone ${this.zone}`);
    this.running = true;
    this.update({ state: 'starting' });
    const framer = new LineFramer({
      delimiter: '\n',
      // The longest line plus its CR: anything longer is two lines run together or noise.
      maxLength: maxLineLength + 1,
      onFrame: (line) => this.onLine(line),
      onGarbage: (g) => this.onGarbage(g),
    });
    const link = new SerialLink(
      { path: this.config.port, baudRate: this.config.baud ?? defaultBaud },
      {
        log: this.ctx.log,
        clock: this.ctx.clock,
        onData: (chunk) => framer.push(chunk),
        onState: (state, error) => this.onLinkState(state, error ?? null),
      },
    );
    this.framer = framer;
    this.link = link;
    await link.start();
  }

  async stop(): Promise<void> {
    const link = this.link;
    if (!link) return;
    this.running = false;
    this.link = null;
    this.pollTimer?.cancel();
    this.pollTimer = null;
    this.sleeping?.wake();
    this.pending?.abort('stopped');
    // Dropped, not reset: half a line at shutdown is not the wand's fault.
    this.framer = null;
    await link.stop();
    await this.cycling;
    this.docking = null;
    this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.state };
  }

  // ---------------------------------------------------------------------------------------------
  // Bytes in.

  private onLinkState(state: 'online' | 'offline', error: string | null): void {
    if (!this.running) return;
    this.update({ state, lastError: error });
    if (state === 'offline') {
      // Half a line from before an unplug must not glue onto the first line after it.
      this.framer?.reset();
      this.pending?.abort('offline');
      if (this.docking) this.undock('cradle port offline');
      return;
    }
    this.kick(0);
  }

  private onLine(line: Buffer): void {
    const parsed = parseWandLine(line);
    if (parsed.ok) {
      const now = this.ctx.clock.now();
      if (this.state.lastSeen !== now) this.update({ lastSeen: now });
    }
    if (this.pending) {
      this.pending.input({ line, parsed });
      return;
    }
    // Nothing was asked: a late answer after a timeout, or noise from the contacts as a wand goes in.
    if (parsed.ok) this.ctx.log.debug({ line: line.toString('latin1').trim() }, 'wand line outside an exchange ignored');
    else if (parsed.error.code !== 'empty') this.ctx.reject(`${parsed.error.code}: ${wandErrorReasons[parsed.error.code]}`, line);
  }

  private onGarbage(g: FramerGarbage): void {
    if (this.pending) this.pending.input({ garbage: g });
    else this.ctx.reject(g.reason, g.sample);
  }

  /**
   * Sends one command and feeds every line after it to `handle` until it returns true, the wand has
   * been silent for replyTimeoutMs, or the port goes. One exchange at a time: the protocol is strictly
   * command and answer.
   */
  private exchange(command: string, handle: (x: Input) => boolean): Promise<Outcome> {
    const link = this.link;
    if (!link || !this.running) return Promise.resolve('stopped');
    const clock = this.ctx.clock;
    return new Promise<Outcome>((resolve) => {
      let lastHeard = clock.now();
      let timer: Timer | null = null;
      const finish = (outcome: Outcome): void => {
        if (this.pending !== pending) return;
        this.pending = null;
        timer?.cancel();
        resolve(outcome);
      };
      // One timer per exchange that re-arms itself for the rest of the quiet time, rather than a new
      // timer for every one of thousands of lines.
      const arm = (ms: number): void => {
        timer = clock.setTimeout(() => {
          const quiet = clock.now() - lastHeard;
          if (quiet >= replyTimeoutMs) finish('timeout');
          else arm(replyTimeoutMs - quiet);
        }, ms);
      };
      const pending: Pending = {
        input: (x) => {
          lastHeard = clock.now();
          let done = true;
          try {
            done = handle(x);
          } catch (err) {
            this.ctx.log.error({ err }, 'patrol-wand answer handler threw');
          }
          if (done) finish('done');
        },
        abort: finish,
      };
      this.pending = pending;
      arm(replyTimeoutMs);
      link.write(Buffer.from(command, 'latin1')).catch((err: unknown) => finish(err instanceof SerialWriteError && err.reason === 'stopped' ? 'stopped' : 'offline'));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // The poll cycle.

  private kick(delay: number): void {
    this.pollTimer?.cancel();
    this.pollTimer = null;
    if (!this.running) return;
    if (delay <= 0) {
      void this.tick();
      return;
    }
    this.pollTimer = this.ctx.clock.setTimeout(() => {
      this.pollTimer = null;
      void this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    if (this.cycling || !this.running) return;
    const run = this.cycle().catch((err: unknown) => this.ctx.log.error({ err }, 'patrol-wand cycle failed'));
    this.cycling = run;
    await run;
    this.cycling = null;
    // The next poll counts from the end of this one, so a long download is never overlapped by a poll.
    if (this.running && this.link?.state === 'online') this.kick(this.config.poll_ms ?? defaultPollMs);
  }

  private async cycle(): Promise<void> {
    const reply = await this.askInfo();
    if (!this.running || reply.kind === 'offline') return;
    if (reply.kind === 'none') {
      if (this.docking && ++this.misses >= missesToUndock) this.undock('no answer');
      return;
    }
    this.misses = 0;
    if (reply.kind === 'err') {
      this.wandProblem(`wand ${this.docking?.wandId ?? '(unknown)'} answered $INFO with ERR,${reply.code}`, reply.code);
      return;
    }
    const info: WandInfo =
      reply.kind === 'info'
        ? reply.info
        : // The clock is unreadable but the rest of the line is good: download anyway, so the records
          // are counted and logged, and set the clock so the wand is usable again.
          { kind: 'info', wandId: reply.fields[1] ?? '', firmware: reply.fields[2] ?? '', clock: reply.fields[3] ?? '', first: Number(reply.fields[4]), last: Number(reply.fields[5]) };
    if (!(Number.isInteger(info.first) && Number.isInteger(info.last) && info.first >= 1 && info.last >= info.first - 1)) {
      this.wandProblem(`wand ${info.wandId}: $INFO with impossible sequence numbers`);
      return;
    }

    let d = this.docking;
    if (d && d.wandId !== info.wandId) {
      this.undock('another wand answered');
      d = null;
    } else if (d && info.last < d.next - 1) {
      // Sequence numbers are never reused: a lower one means the wand's memory was wiped.
      this.undock('wand memory was reset');
      d = null;
    }
    if (!d) {
      const eras = this.eras.get(info.wandId);
      // A wand that has fewer records than were stamped before its last $TIME was wiped since: its eras are void.
      if (eras && info.last < (eras.at(-1)?.through ?? 0)) this.eras.delete(info.wandId);
      d = this.dock(info);
    }
    d.first = info.first;
    d.last = info.last;
    if (!d.synced || d.next <= d.last) {
      // Each download pass corrects by the $INFO it starts from; the wand's clock is continuous until $TIME.
      d.clock =
        reply.kind === 'info'
          ? { hostAt: reply.hostAt, clockNaive: reply.clockNaive, offsetMs: reply.hostAt - localToUtc(reply.clockNaive, this.zone) }
          : { hostAt: reply.hostAt, clockNaive: null, offsetMs: 0 };
    }
    if (d.next < d.first) {
      if (d.emitted + d.rejected > 0 || d.next > 1) this.ctx.log.warn({ wand: d.wandId, lost: `${d.next}-${d.first - 1}` }, 'the wand no longer holds records not yet downloaded');
      d.next = d.first;
    }
    if (d.synced && d.next > d.last) return;

    const before = d.emitted + d.rejected;
    const complete = await this.download(d);
    if (!complete || !this.running) return;
    const clockSet = await this.setClock(d);
    if (this.config.clear_after_download && this.running) await this.clear(d);
    if (!this.running) return;
    d.synced = clockSet;
    if (d.emitted + d.rejected > before || clockSet) {
      this.ctx.log.info({ wand: d.wandId, emitted: d.emitted, rejected: d.rejected, damagedLines: d.damagedLines, offsetMs: d.clock.offsetMs, clockSet }, 'wand downloaded');
      // A clean download clears a wand problem reported earlier; the port is fine, or we would not be here.
      if (this.state.lastError !== null) this.update({ lastError: null });
      this.emitState({
        docked: true,
        wand: d.wandId,
        records: held(d),
        downloaded: d.emitted,
        rejected: d.rejected,
        offset_ms: d.clock.offsetMs,
        clock_set: clockSet,
      });
    }
  }

  /** $INFO, once more if the answer was damaged. The measured moment is the middle of the round trip. */
  private async askInfo(): Promise<InfoReply> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const sentAt = this.ctx.clock.now();
      let reply: InfoReply | null = null;
      let damaged = false;
      const outcome = await this.exchange(hostCommands.info(), (x) => {
        const hostAt = Math.round((sentAt + this.ctx.clock.now()) / 2);
        if ('garbage' in x) return (damaged = true);
        const r = x.parsed;
        if (r.ok) {
          if (r.message.kind === 'info') {
            const t = parseWandTime(r.message.clock);
            if (t.ok) reply = { kind: 'info', info: r.message, hostAt, clockNaive: t.naive };
            return true;
          }
          if (r.message.kind === 'err') {
            // CHK: our $INFO arrived damaged, which is worth asking again like a damaged answer.
            if (r.message.code === 'CHK') return (damaged = true);
            reply = { kind: 'err', code: r.message.code };
            return true;
          }
          // A late REC or END of an earlier, abandoned answer: keep listening for ours.
          return false;
        }
        if (r.error.code === 'empty') return false;
        if (r.error.code === 'bad-time' && r.error.fields?.[0] === 'INFO') {
          reply = { kind: 'bad-clock', fields: r.error.fields, hostAt };
          return true;
        }
        this.ctx.log.debug({ code: r.error.code, line: x.line.toString('latin1').trim() }, 'damaged $INFO answer');
        return (damaged = true);
      });
      if (outcome === 'offline' || outcome === 'stopped') return { kind: 'offline' };
      if (reply) return reply;
      // Silence means no wand; only a damaged answer is worth asking again at once.
      if (!damaged) return { kind: 'none' };
    }
    return { kind: 'none' };
  }

  private dock(info: WandInfo): Docking {
    const d: Docking = {
      wandId: info.wandId,
      firmware: info.firmware,
      first: info.first,
      last: info.last,
      next: info.first,
      clock: { hostAt: 0, clockNaive: null, offsetMs: 0 },
      retried: new Set(),
      firstUnread: null,
      emitted: 0,
      batch: [],
      rejected: 0,
      damagedLines: 0,
      synced: false,
    };
    this.docking = d;
    this.misses = 0;
    this.rejectLogs = 0;
    this.ctx.log.info({ wand: d.wandId, firmware: d.firmware, clock: info.clock, records: held(d) }, 'wand docked');
    this.emitState({ docked: true, wand: d.wandId, records: held(d) });
    return d;
  }

  private undock(why: string): void {
    const d = this.docking;
    if (!d) return;
    this.docking = null;
    this.misses = 0;
    if (d.next <= d.last) this.ctx.log.warn({ wand: d.wandId, why, remaining: d.last - d.next + 1 }, 'wand gone before its download finished; the rest comes at its next docking');
    else this.ctx.log.info({ wand: d.wandId, why }, 'wand removed');
    this.emitState({ docked: false, wand: d.wandId, records: held(d) });
  }

  // ---------------------------------------------------------------------------------------------
  // Download.

  /** Reads d.next..d.last block by block. True when every record was read or given up on. */
  private async download(d: Docking): Promise<boolean> {
    let commandRetries = 0;
    while (this.running && d.next <= d.last) {
      const from = d.next;
      const block: Block = { from, to: Math.min(d.last, from + readBlock - 1), expected: from, damagedAt: null, damagedRaw: null, short: false, err: null };
      const outcome = await this.exchange(hostCommands.read(from, block.to - from + 1), (x) => this.onBlockInput(d, block, x));
      // One commit for the block: the wand still holds every record until $CLEAR, which comes after.
      if (d.batch.length > 0) this.ctx.emitMany(d.batch.splice(0));
      d.next = block.expected;
      if (outcome === 'offline' || outcome === 'stopped') return false;
      if (block.err !== null) {
        // Our command arrived damaged: say it again, once.
        if (block.err === 'CHK' && commandRetries++ < 1) continue;
        this.wandProblem(`wand ${d.wandId} answered $READ,${from} with ERR,${block.err}`, block.err);
        return false;
      }
      // Silence before the block was complete: the wand may have been pulled out. What is missing
      // counts as damaged, and the next cycle's $INFO decides whether to go on.
      if (outcome === 'timeout' && block.damagedAt === null && block.expected <= block.to) block.damagedAt = block.expected;
      if (block.damagedAt !== null) {
        const seq = block.damagedAt;
        d.damagedLines++;
        if (d.retried.has(seq)) {
          this.rejectRecord(d, 'corrupt', block.damagedRaw ?? Buffer.alloc(0), seq, 'damaged again after asking once more');
          d.firstUnread ??= seq;
          d.next = seq + 1;
        } else {
          d.retried.add(seq);
          d.next = seq;
          this.ctx.log.debug({ wand: d.wandId, seq, line: block.damagedRaw?.toString('latin1').trim() }, 'damaged wand line, asking again');
        }
        if (outcome === 'timeout') return false;
        continue;
      }
      if (block.short) {
        this.ctx.log.warn({ wand: d.wandId, said: d.last, has: block.expected - 1 }, 'the wand holds fewer records than its $INFO said');
        d.last = block.expected - 1;
      }
      commandRetries = 0;
    }
    return this.running;
  }

  /** One line of a $READ answer. Records are emitted here, as they arrive, so always in seq order. */
  private onBlockInput(d: Docking, b: Block, x: Input): boolean {
    const allIn = b.expected > b.to;
    const damaged = (raw: Buffer): void => {
      if (b.damagedAt !== null) return;
      b.damagedAt = b.expected;
      b.damagedRaw = raw;
    };
    if ('garbage' in x) {
      // With every record in, a mangled line can only be the $END.
      if (allIn) return true;
      damaged(x.garbage.sample);
      return false;
    }
    const r = x.parsed;
    if (r.ok) {
      const m = r.message;
      switch (m.kind) {
        case 'end':
          if (b.damagedAt === null && !allIn) {
            // A wand that sent fewer records than promised and counts them right is telling the truth;
            // a count that disagrees with what arrived means lines were lost.
            if (m.count === b.expected - b.from) b.short = true;
            else damaged(x.line);
          }
          return true;
        case 'err':
          b.err = m.code;
          return true;
        case 'rec':
          if (b.damagedAt !== null) return false;
          if (checkSequence(b.expected, m.seq)) {
            damaged(x.line);
            return false;
          }
          this.deliver(d, m, x.line);
          b.expected++;
          return false;
        default:
          damaged(x.line);
          return false;
      }
    }
    if (r.error.code === 'empty' || b.damagedAt !== null) return false;
    const e = r.error;
    if (e.fields?.[0] === 'REC' && e.seq === b.expected) {
      // The checksum is good, so this is what the wand holds: asking again would give the same.
      this.rejectRecord(d, e.code === 'bad-time' ? 'unparsable' : 'field', x.line, e.seq, e.message);
      b.expected++;
      return false;
    }
    if (allIn) return true;
    damaged(x.line);
    return false;
  }

  /** Corrects a record's time by the docking's measurement, checks it, and emits it. */
  private deliver(d: Docking, rec: WandRecord, raw: Buffer): void {
    if (!this.running) return;
    const t = parseWandTime(rec.wandTime);
    if (!t.ok) return this.rejectRecord(d, 'unparsable', raw, rec.seq, t.why);
    const clock = this.eras.get(d.wandId)?.find((e) => e.through >= rec.seq)?.clock ?? d.clock;
    if (clock.clockNaive === null) return this.rejectRecord(d, 'clock', raw, rec.seq, 'the wand clock in $INFO was not a time');
    // The wand's clock ran continuously from the touch to the $INFO, so their difference is real
    // elapsed time; counting it back from the host's time at the $INFO places the touch.
    const at = clock.hostAt - (clock.clockNaive - t.naive);
    const now = this.ctx.clock.now();
    if (at > now + futureToleranceMs) return this.rejectRecord(d, 'future', raw, rec.seq, `corrected to ${new Date(at).toISOString()}`);
    const maxAgeDays = this.config.max_age_days ?? defaultMaxAgeDays;
    if (at < now - maxAgeDays * dayMs) return this.rejectRecord(d, 'old', raw, rec.seq, `corrected to ${new Date(at).toISOString()}`);
    d.emitted++;
    d.batch.push({
      type: 'checkpoint',
      deviceId: this.ctx.deviceId,
      at,
      tag: rec.tag,
      wand: { id: d.wandId, seq: rec.seq, wandTime: rec.wandTime, offsetMs: clock.offsetMs },
    });
  }

  private rejectRecord(d: Docking, kind: RecordRejectKind, raw: Buffer, seq: number | undefined, detail: string): void {
    d.rejected++;
    this.ctx.reject(recordRejectReasons[kind], raw);
    // A missed patrol point may hang on this record, so the first ones are logged in full.
    if (this.rejectLogs < detailedRejectLogs) {
      this.ctx.log.warn({ wand: d.wandId, seq, reason: recordRejectReasons[kind], detail, raw: raw.toString('latin1').trim() }, 'wand record rejected');
    } else if (this.rejectLogs === detailedRejectLogs) {
      this.ctx.log.warn({ wand: d.wandId }, 'more wand records rejected in this docking; only counted from here');
    }
    this.rejectLogs++;
  }

  // ---------------------------------------------------------------------------------------------
  // After the download.

  /**
   * $TIME at a whole second of the host clock, so the wand's seconds start within the line's
   * transmission time (about 2 ms at 115200 baud) of the true second. Once more if it fails.
   */
  private async setClock(d: Docking): Promise<boolean> {
    for (let attempt = 0; attempt < 2 && this.running; attempt++) {
      const now = this.ctx.clock.now();
      const wait = (1000 - (now % 1000)) % 1000;
      if (wait > 0) await this.sleep(wait);
      if (!this.running) return false;
      const second = Math.round(this.ctx.clock.now() / 1000) * 1000;
      const text = formatWandTime(utcToLocal(second, this.zone));
      if (!parseWandTime(text).ok) {
        // A host clock outside 2000-2099 (an unset RTC) must not be copied into the wand.
        this.ctx.log.error({ wand: d.wandId, hostTime: new Date(second).toISOString() }, 'host clock not settable on a wand; wand clock left alone');
        return false;
      }
      const answer = await this.simple(hostCommands.time(text));
      if (answer === 'ok') {
        this.ctx.log.info({ wand: d.wandId, offsetMs: d.clock.offsetMs }, 'wand clock set');
        this.addEra(d);
        return true;
      }
      if (answer === 'offline') return false;
      this.ctx.log.warn({ wand: d.wandId, answer }, 'wand did not take $TIME');
    }
    return false;
  }

  /** $CLEAR up to the last record that arrived intact, never past one that did not. */
  private async clear(d: Docking): Promise<void> {
    if (d.clock.clockNaive === null) {
      this.ctx.log.warn({ wand: d.wandId }, 'records read under an unreadable clock stay on the wand');
      return;
    }
    const upTo = (d.firstUnread ?? d.next) - 1;
    if (d.firstUnread !== null) this.ctx.log.warn({ wand: d.wandId, kept: `${d.firstUnread}-${d.last}` }, 'records from the first damaged one on stay on the wand');
    if (upTo < d.first) return;
    for (let attempt = 0; attempt < 2 && this.running; attempt++) {
      const answer = await this.simple(hostCommands.clear(upTo));
      if (answer === 'ok') {
        this.ctx.log.info({ wand: d.wandId, upTo }, 'wand records cleared');
        d.first = upTo + 1;
        return;
      }
      if (answer === 'offline') return;
      this.ctx.log.warn({ wand: d.wandId, answer, upTo }, 'wand did not take $CLEAR');
    }
  }

  /** A command answered by $OK or $ERR. */
  private async simple(command: string): Promise<'ok' | 'offline' | 'timeout' | 'damaged' | `ERR,${string}`> {
    let answer: 'ok' | 'damaged' | `ERR,${string}` | null = null;
    const outcome = await this.exchange(command, (x) => {
      if ('garbage' in x) {
        answer = 'damaged';
        return true;
      }
      const r = x.parsed;
      if (r.ok && r.message.kind === 'ok') answer = 'ok';
      else if (r.ok && r.message.kind === 'err') answer = `ERR,${r.message.code}`;
      else if (r.ok || r.error.code === 'empty') return false;
      else answer = 'damaged';
      return true;
    });
    if (outcome === 'offline' || outcome === 'stopped') return 'offline';
    return answer ?? 'timeout';
  }

  /** Records up to d.last were stamped by the clock this $TIME just moved: remember what corrected them. */
  private addEra(d: Docking): void {
    const eras = (this.eras.get(d.wandId) ?? []).filter((e) => e.through >= d.first);
    const previous = eras.at(-1)?.through ?? 0;
    if (d.last > previous) eras.push({ through: d.last, clock: d.clock });
    this.eras.set(d.wandId, eras);
  }

  // ---------------------------------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        timer.cancel();
        if (this.sleeping?.timer === timer) this.sleeping = null;
        resolve();
      };
      const timer = this.ctx.clock.setTimeout(wake, ms);
      this.sleeping = { timer, wake };
    });
  }

  /** A wand that answers but cannot do what was asked. BUSY is routine (it asks to be asked later); the rest shows in the device's health. */
  private wandProblem(message: string, errCode?: string): void {
    const meaning = errCode !== undefined && errCode in wandErrCodes ? ` (${wandErrCodes[errCode as WandErrCode]})` : '';
    const detail = message + meaning;
    if (errCode === 'BUSY') {
      this.ctx.log.debug({ detail }, 'wand busy');
      return;
    }
    // Asked again every poll, the same answer is news only once.
    if (detail === this.state.lastError) {
      this.ctx.log.debug({ detail }, 'wand problem persists');
      return;
    }
    this.ctx.log.warn({ detail }, 'wand problem');
    this.update({ lastError: detail });
  }

  private emitState(state: Record<string, string | number | boolean>): void {
    if (!this.running) return;
    this.ctx.emit({ type: 'state', deviceId: this.ctx.deviceId, at: this.ctx.clock.now(), state });
  }

  private update(change: Partial<DeviceHealth>): void {
    this.state = { ...this.state, ...change };
    this.ctx.report(change);
  }
}

/** Records the wand holds, as it last said. */
function held(d: Docking): number {
  return Math.max(0, d.last - d.first + 1);
}

export const patrolWandDriver: DriverDefinition<PatrolWandConfig> = {
  type: 'patrol-wand',
  kinds: ['checkpoint'],
  configSchema: PatrolWandConfigSchema,
  capabilities: ['events'],
  create: (config, ctx) => new PatrolWandDevice(config, ctx),
};
