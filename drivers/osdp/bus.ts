// One OSDP RS-485 bus: the serial port, the framer, and the one-transaction-at-a-time poll scheduler shared by its PDs; plus the keyed, reference-counted registry of buses.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../gateway/core/clock.js';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';
import { LengthPrefixedFramer, type FramerGarbage } from '../serial/framing.js';
import { SerialLink } from '../serial/link.js';
import { Reply } from './messages.js';
import { checkCharactersOk, MARK, MAX_PACKET, MIN_PACKET, parsePacket, SOM, type Packet, type PacketErrorKind } from './packet.js';

/** The port as the bus sees it: SerialLink in production, an in-memory pipe in logic tests. */
export interface BusTransport {
  start(): Promise<void>;
  stop(): Promise<void>;
  write(bytes: Uint8Array): Promise<void>;
  readonly state: 'stopped' | 'opening' | 'online' | 'offline';
}

export interface TransportContext {
  log: Logger;
  clock: Clock;
  onData(chunk: Buffer): void;
  onState(state: 'online' | 'offline', error?: string): void;
}

export type TransportFactory = (options: { path: string; baudRate: number }, ctx: TransportContext) => BusTransport;

/** The real thing: the shared serial layer, with its reconnect and backoff. */
export const serialTransport: TransportFactory = ({ path, baudRate }, ctx) => new SerialLink({ path, baudRate }, ctx);

/** One command on its way: the exact bytes (a retry resends them unchanged, spec sequence-number rules). */
export interface Outgoing {
  bytes: Buffer;
  sequence: number;
  replyTimeoutMs: number;
  /** The member's own note of what this was, handed back with the reply. */
  note: unknown;
}

/** What a PD session must offer the bus. */
export interface BusMember {
  readonly address: number;
  /** The earliest time this member wants the bus again (epoch ms), or null for "nothing to send". */
  dueAt(now: number): number | null;
  /** The next command to send now, or null after all. */
  next(now: number): Outgoing | null;
  /** A reply that passed framing, check characters, address and sequence checks. */
  onReply(packet: Packet, out: Outgoing): void;
  /** No valid reply within the timeout: 'retry' resends the same bytes, 'done' gives the bus up. */
  onTimeout(out: Outgoing): 'retry' | 'done';
  /** Something on the wire that was not a valid reply to this member's command. */
  onReject(kind: PacketErrorKind | 'unsolicited', detail: string, raw: Buffer): void;
  onLink(state: 'online' | 'offline', error?: string): void;
  /** The write itself failed (port gone, drain timeout). */
  onWriteError(out: Outgoing, error: Error): void;
}

export interface BusOptions {
  path: string;
  baudRate: number;
}

export interface BusDeps {
  log: Logger;
  clock: Clock;
  transport?: TransportFactory;
}

interface Transaction {
  member: BusMember;
  out: Outgoing;
  timer: Timer | null;
}

/** How the framer's drop reasons map onto the packet error kinds a PD is charged with. */
function garbageKind(reason: string): PacketErrorKind {
  if (reason === 'check failed') return 'bad-crc';
  if (reason.startsWith('impossible length')) return 'bad-length';
  if (reason.startsWith('incomplete frame')) return 'truncated';
  return 'garbage';
}

/**
 * The ACU end of one RS-485 bus. Half duplex with one master (spec, channel access): exactly one command is on
 * the wire at a time and the addressed PD alone may answer, so everything received while a command
 * is outstanding is judged against that command's address and sequence number.
 */
export class OsdpBus {
  private readonly members = new Map<number, BusMember>();
  private readonly transport: BusTransport;
  private readonly framer: LengthPrefixedFramer;
  private tx: Transaction | null = null;
  /** The member last addressed: stray bytes between transactions are charged to it. */
  private lastTarget: BusMember | null = null;
  private lastSent: Buffer | null = null;
  private idleTimer: Timer | null = null;
  private cursor = 0;
  private running = false;
  private starting: Promise<void> | null = null;
  private kickQueued = false;

  constructor(
    readonly options: BusOptions,
    private readonly deps: BusDeps,
  ) {
    this.framer = new LengthPrefixedFramer({
      start: SOM,
      lengthOffset: 2,
      lengthBytes: 2,
      littleEndian: true,
      minLength: MIN_PACKET,
      maxLength: MAX_PACKET,
      idleBytes: [MARK],
      check: checkCharactersOk,
      onFrame: (frame) => this.onFrame(frame),
      onGarbage: (g) => this.onGarbage(g),
    });
    this.transport = (deps.transport ?? serialTransport)(
      { path: options.path, baudRate: options.baudRate },
      {
        log: deps.log,
        clock: deps.clock,
        onData: (chunk) => this.framer.push(chunk),
        onState: (state, error) => this.onLinkState(state, error),
      },
    );
  }

  get linkState(): BusTransport['state'] {
    return this.transport.state;
  }

  add(member: BusMember): void {
    const other = this.members.get(member.address);
    if (other && other !== member) throw new GuardpostError(ErrorCode.ConfigInvalid, `two OSDP devices on ${this.options.path} use address ${member.address}`);
    this.members.set(member.address, member);
    this.wake();
  }

  remove(member: BusMember): void {
    if (this.members.get(member.address) !== member) return;
    this.members.delete(member.address);
    if (this.tx?.member === member) {
      this.tx.timer?.cancel();
      this.tx = null;
    }
    if (this.lastTarget === member) this.lastTarget = null;
    this.wake();
  }

  get size(): number {
    return this.members.size;
  }

  /** Opens the port once however many PDs call it; resolves after the first open attempt settled. */
  start(): Promise<void> {
    if (!this.starting) {
      this.running = true;
      this.starting = this.transport.start().then(() => this.wake());
    }
    return this.starting;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    this.tx?.timer?.cancel();
    this.tx = null;
    this.framer.reset();
    await this.starting?.catch(() => undefined);
    await this.transport.stop();
  }

  /** Something changed (a command queued, a member added): look for work soon. */
  wake(): void {
    if (this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  private kick(): void {
    if (!this.running || this.tx || this.transport.state !== 'online') return;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    const now = this.deps.clock.now();
    const list = [...this.members.values()];
    let earliest: number | null = null;
    // Round robin from the member after the last one served, so one busy PD cannot starve the others.
    for (let i = 0; i < list.length; i++) {
      const index = (this.cursor + i) % list.length;
      const member = list[index] as BusMember;
      const due = member.dueAt(now);
      if (due === null) continue;
      if (due <= now) {
        const out = member.next(now);
        if (out) {
          this.cursor = index + 1;
          this.send(member, out);
          return;
        }
        continue;
      }
      if (earliest === null || due < earliest) earliest = due;
    }
    if (earliest !== null) this.idleTimer = this.deps.clock.setTimeout(() => this.kick(), earliest - now);
  }

  private send(member: BusMember, out: Outgoing): void {
    // Half duplex: nothing received before this command can be its reply, so a half frame is dropped here.
    this.framer.reset();
    const tx: Transaction = { member, out, timer: null };
    this.tx = tx;
    this.lastTarget = member;
    this.lastSent = out.bytes;
    this.transport.write(out.bytes).then(
      () => {
        // The reply clock starts when the last byte left (write resolves after drain): at 9600 baud a
        // 30-byte command alone takes 31 ms on the wire.
        if (this.tx === tx) tx.timer = this.deps.clock.setTimeout(() => this.onTimeout(tx), out.replyTimeoutMs);
      },
      (err: Error) => {
        if (this.tx !== tx) return;
        this.tx = null;
        member.onWriteError(out, err);
        this.wake();
      },
    );
  }

  private onTimeout(tx: Transaction): void {
    if (this.tx !== tx) return;
    tx.timer = null;
    if (tx.member.onTimeout(tx.out) === 'retry' && this.members.get(tx.member.address) === tx.member) {
      this.send(tx.member, tx.out);
      return;
    }
    this.tx = null;
    this.kick();
  }

  private onFrame(frame: Buffer): void {
    const tx = this.tx;
    if (!tx) {
      const parsed = parsePacket(frame);
      // Our own command echoed by an adapter that hears itself is not the PD's fault.
      if (parsed.ok && !parsed.packet.reply) return;
      this.lastTarget?.onReject('unsolicited', 'a packet while no command was outstanding', frame);
      return;
    }
    const parsed = parsePacket(frame, { reply: true, address: tx.member.address });
    if (!parsed.ok) {
      if (parsed.error.kind === 'not-a-reply' && this.lastSent && frame.equals(this.lastSent.subarray(this.lastSent[0] === MARK ? 1 : 0))) return;
      tx.member.onReject(parsed.error.kind, parsed.error.detail, frame);
      return;
    }
    const packet = parsed.packet;
    // A PD that cannot take the command yet answers osdp_BUSY with sequence 0 (libosdp does so, the
    // spec lets the ACU resend as after a timeout), so BUSY is exempt from the echo check.
    const busy = packet.code === Reply.BUSY && packet.scb === null;
    if (packet.sequence !== tx.out.sequence && !busy) {
      tx.member.onReject('bad-sequence', `sequence ${packet.sequence}, expected ${tx.out.sequence}`, frame);
      return;
    }
    tx.timer?.cancel();
    this.tx = null;
    tx.member.onReply(packet, tx.out);
    this.kick();
  }

  private onGarbage(g: FramerGarbage): void {
    const target = this.tx?.member ?? this.lastTarget;
    const kind = garbageKind(g.reason);
    if (target) target.onReject(kind, `${g.reason} (${g.bytes} bytes)`, g.sample);
    else this.deps.log.debug({ reason: g.reason, bytes: g.bytes }, 'osdp bytes dropped with no PD addressed yet');
  }

  private onLinkState(state: 'online' | 'offline', error?: string): void {
    if (state === 'offline') {
      this.tx?.timer?.cancel();
      this.tx = null;
      this.framer.reset();
    }
    for (const member of this.members.values()) member.onLink(state, error);
    if (state === 'online') this.wake();
  }
}

interface BusSlot {
  bus: OsdpBus;
  refs: number;
}

/**
 * Buses by port path, reference-counted: every PD device configured on the same port shares one
 * bus (and so one serial port and one poll loop); the last PD to stop closes the port.
 */
export class OsdpBusRegistry {
  private readonly slots = new Map<string, BusSlot>();

  acquire(options: BusOptions, deps: BusDeps): OsdpBus {
    const slot = this.slots.get(options.path);
    if (slot) {
      if (slot.bus.options.baudRate !== options.baudRate) {
        throw new GuardpostError(
          ErrorCode.ConfigInvalid,
          `OSDP devices on ${options.path} disagree on the baud rate (${slot.bus.options.baudRate} and ${options.baudRate}); every PD on one bus runs at the same speed`,
        );
      }
      slot.refs++;
      return slot.bus;
    }
    const bus = new OsdpBus(options, { ...deps, log: deps.log.child({ port: options.path }) });
    this.slots.set(options.path, { bus, refs: 1 });
    return bus;
  }

  async release(bus: OsdpBus): Promise<void> {
    const slot = this.slots.get(bus.options.path);
    if (!slot || slot.bus !== bus) return;
    slot.refs--;
    if (slot.refs > 0) return;
    this.slots.delete(bus.options.path);
    await bus.stop();
  }

  /** How many buses are open, for tests and diagnostics. */
  get size(): number {
    return this.slots.size;
  }
}
