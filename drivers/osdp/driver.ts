// The OSDP reader driver: one configured reader = one PD on a shared RS-485 bus; its session (sequence numbers, secure channel, offline detection) and the `osdpDriver` definition.
import { randomBytes } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';
import { maskTail } from '../../gateway/core/mask.js';
import type { CommandResult, DeviceCommand, DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { OsdpBusRegistry, type BusMember, type OsdpBus, type Outgoing, type TransportFactory } from './bus.js';
import {
  decodeReply,
  encodeBuz,
  encodeCap,
  encodeChlng,
  encodeId,
  encodeKeyset,
  encodeLed,
  encodeLstat,
  encodePoll,
  encodeScrypt,
  LedColor,
  NakCode,
  Reply,
  replyName,
  type Command,
  type DecodedReply,
} from './messages.js';
import { buildPacket, SCS, type Packet, type PacketErrorKind } from './packet.js';
import { clientCryptogram, computeMac, decryptData, deriveSessionKeys, encryptData, initialRmac, parseKey, SCBK_D, sameBytes, serverCryptogram, type SessionKeys } from './secure.js';

export const baudRates = [9600, 19200, 38400, 57600, 115200] as const;

export const OsdpDeviceConfigSchema = Type.Object({
  port: Type.String({ pattern: '^/dev/', description: 'a serial device path' }),
  baud: Type.Optional(
    Type.Union(
      [Type.Literal(9600), Type.Literal(19200), Type.Literal(38400), Type.Literal(57600), Type.Literal(115200)],
      { default: 9600, description: 'the bus speed, the same for every PD on the port: 9600, 19200, 38400, 57600 or 115200' },
    ),
  ),
  address: Type.Integer({ minimum: 0, maximum: 126, description: 'the PD address on the bus (0-126)' }),
  scbk: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{32}$', description: 'the secure channel base key, 32 hex digits; secure channel is on when it is set' })),
  install_mode: Type.Optional(Type.Boolean({ description: 'the PD still has the default key: open the channel with SCBK-D, then install scbk with osdp_KEYSET' })),
  poll_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, default: 200, description: 'milliseconds between two polls of this PD (0-10000)' })),
  reply_timeout_ms: Type.Optional(Type.Integer({ minimum: 20, maximum: 5000, default: 200, description: 'milliseconds to wait for a reply (20-5000; the spec gives PDs 200)' })),
  offline_after: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'missed replies in a row before the PD counts as offline (1-20)' })),
});

export type OsdpDeviceConfig = Static<typeof OsdpDeviceConfigSchema> & { kind?: DeviceKind };

/** Why the driver counted something the PD (or the wire) sent as unusable. */
export type RejectKind = PacketErrorKind | 'unsolicited' | 'bad-mac' | 'bad-security-block' | 'decrypt-failed' | 'plaintext-in-secure-channel' | 'malformed-reply' | 'unknown-reply' | 'unexpected-reply' | 'card-parity';

/** Per-PD counters, for diagnostics and tests. */
export interface OsdpCounters {
  commands: number;
  replies: number;
  timeouts: number;
  naks: number;
  cards: number;
  pins: number;
  rejects: Partial<Record<RejectKind, number>>;
}

type Phase = 'init' | 'cap' | 'chlng' | 'scrypt' | 'keyset' | 'lstat' | 'online';

interface PendingCommand {
  command: Command;
  what: string;
  resolve(result: CommandResult): void;
}

/** What one outgoing packet was for; comes back with its reply. */
interface Note {
  phase: Phase;
  kind: 'id' | 'cap' | 'chlng' | 'scrypt' | 'keyset' | 'lstat' | 'poll' | 'user';
  pending?: PendingCommand;
  /** Probes of an offline PD get one try, not offline_after. */
  probe: boolean;
}

interface KeyChoice {
  /** 0 = SCBK-D, 1 = SCBK (the byte in SCS_11/SCS_13, Annex D). */
  type: 0 | 1;
  key: Buffer;
}

interface SecureState {
  choice: KeyChoice;
  rndA: Buffer;
  rndB?: Buffer;
  keys?: SessionKeys;
  serverCrypt?: Buffer;
  active: boolean;
  /** The last R-MAC (from RMAC_I, then from each reply): IV of the next command's MAC. */
  rmac?: Buffer;
  /** The last C-MAC: IV of the reply's MAC. */
  cmac?: Buffer;
}

const firstBackoffMs = 500;
const maxBackoffMs = 4000;
/** Keys typed on a PIN pad without '#' are dropped after this long. */
const keypadIdleMs = 10_000;
const commandTimeoutMs = 10_000;

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

/** One PD: its session on the bus and the Driver the registry sees. */
export class OsdpReader implements Driver, BusMember {
  readonly address: number;
  private readonly baud: number;
  private readonly pollMs: number;
  private readonly replyTimeoutMs: number;
  private readonly offlineAfter: number;
  private readonly keyPlan: KeyChoice[];
  private readonly scbk: Buffer | null;

  private bus: OsdpBus | null = null;
  private running = false;
  private state: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private readonly stats: OsdpCounters = { commands: 0, replies: 0, timeouts: 0, naks: 0, cards: 0, pins: 0, rejects: {} };

  private phase: Phase = 'init';
  private sequence = 0;
  private misses = 0;
  /** True from going offline until the PD answers a probe. */
  private offline = false;
  private notBefore = 0;
  private backoffMs = firstBackoffMs;
  private lastPollAt = 0;
  private busyResend: Outgoing | null = null;
  private sc: SecureState | null = null;
  private keyIndex = 0;
  /** KEYSET done in this process: later handshakes start with the installed key. */
  private keyInstalled = false;
  private readonly queue: PendingCommand[] = [];
  private keypad = '';
  private keypadAt = 0;

  constructor(
    private readonly config: OsdpDeviceConfig,
    private readonly ctx: DriverContext,
    private readonly buses: OsdpBusRegistry,
    private readonly transport?: TransportFactory,
  ) {
    this.address = config.address;
    this.baud = config.baud ?? 9600;
    this.pollMs = config.poll_ms ?? 200;
    this.replyTimeoutMs = config.reply_timeout_ms ?? 200;
    this.offlineAfter = config.offline_after ?? 3;
    this.scbk = config.scbk ? Buffer.from(config.scbk, 'hex') : null;
    this.keyPlan = [];
    if (config.install_mode) this.keyPlan.push({ type: 0, key: SCBK_D });
    if (this.scbk) this.keyPlan.push({ type: 1, key: this.scbk });
  }

  // ---- Driver ----

  async start(): Promise<void> {
    if (this.running) return;
    if (this.config.install_mode && !this.config.scbk) {
      throw new GuardpostError(ErrorCode.ConfigInvalid, `OSDP device ${this.ctx.deviceId}: install_mode needs scbk, the key to install`);
    }
    if (this.config.scbk) parseKey(this.config.scbk);
    const bus = this.buses.acquire({ path: this.config.port, baudRate: this.baud }, { log: this.ctx.log, clock: this.ctx.clock, transport: this.transport });
    try {
      bus.add(this);
    } catch (err) {
      await this.buses.release(bus);
      throw err;
    }
    this.bus = bus;
    this.running = true;
    this.restart();
    this.offline = false;
    this.update({ state: 'starting', lastError: null });
    await bus.start();
    if (this.running && bus.linkState !== 'online' && this.state.state === 'starting') this.update({ state: 'offline', lastError: `serial port ${this.config.port} is not open` });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const bus = this.bus;
    this.bus = null;
    this.failAll('driver stopped');
    if (bus) {
      bus.remove(this);
      await this.buses.release(bus);
    }
    this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.state };
  }

  /** Counters since start, per PD. */
  counters(): OsdpCounters {
    return { ...this.stats, rejects: { ...this.stats.rejects } };
  }

  /** Whether the secure channel is up, for diagnostics and tests. */
  get secure(): boolean {
    return this.sc?.active === true;
  }

  async command(cmd: DeviceCommand): Promise<CommandResult> {
    if (!this.running || !this.bus) return { ok: false, detail: 'driver not running' };
    let built: { command: Command; what: string };
    try {
      built = this.buildUserCommand(cmd);
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
    if (this.state.state !== 'online') return { ok: false, detail: 'device offline' };
    if (this.phase !== 'online') return { ok: false, detail: 'device busy: its session is being reopened' };
    return new Promise<CommandResult>((resolve) => {
      let settled = false;
      const timer = this.ctx.clock.setTimeout(() => finish({ ok: false, detail: `no answer within ${commandTimeoutMs} ms` }), commandTimeoutMs);
      const finish = (result: CommandResult) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        const i = this.queue.indexOf(pending);
        if (i >= 0) this.queue.splice(i, 1);
        resolve(result);
      };
      const pending: PendingCommand = { ...built, resolve: finish };
      this.queue.push(pending);
      this.bus?.wake();
    });
  }

  private buildUserCommand(cmd: DeviceCommand): { command: Command; what: string } {
    const params = cmd.params ?? {};
    const ms = params.ms === undefined ? 1000 : params.ms;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 100 || ms > 60_000) throw new RangeError('ms must be a number of milliseconds from 100 to 60000');
    // OSDP times are in 100 ms units (osdp_LED, osdp_BUZ).
    const units = Math.round(ms / 100);
    switch (cmd.type) {
      case 'led': {
        const color = params.color ?? 'green';
        if (typeof color !== 'string' || !(color in LedColor)) throw new RangeError(`color must be one of ${Object.keys(LedColor).join(', ')}`);
        const onColor = LedColor[color as keyof typeof LedColor];
        // A temporary state (control 2) that holds the colour for the whole timer, then returns to the permanent state.
        return {
          command: encodeLed([{ temporary: { control: 2, onTime: Math.min(units, 255), offTime: 0, onColor, offColor: LedColor.black, timer: units } }]),
          what: `LED ${color} ${units * 100} ms`,
        };
      }
      case 'buzzer':
        return { command: encodeBuz({ tone: 2, onTime: Math.min(units, 255), offTime: 0, count: 1 }), what: `buzzer ${units * 100} ms` };
      default:
        throw new RangeError(`unknown command ${cmd.type}; an OSDP reader takes led and buzzer`);
    }
  }

  // ---- BusMember ----

  dueAt(now: number): number | null {
    if (!this.running) return null;
    if (this.busyResend) return this.notBefore;
    if (this.offline || this.phase !== 'online') return this.notBefore;
    if (this.queue.length > 0) return now;
    return this.lastPollAt + this.pollMs;
  }

  next(now: number): Outgoing | null {
    if (!this.running) return null;
    if (this.busyResend) {
      const out = this.busyResend;
      this.busyResend = null;
      return out;
    }
    const probe = this.offline;
    let command: Command;
    let note: Note;
    switch (this.phase) {
      case 'init':
        command = encodeId();
        note = { phase: 'init', kind: 'id', probe };
        break;
      case 'cap':
        command = encodeCap();
        note = { phase: 'cap', kind: 'cap', probe };
        break;
      case 'chlng': {
        const choice = this.keyPlan[this.keyIndex] as KeyChoice;
        this.sc = { choice, rndA: randomBytes(8), active: false };
        return this.frame(encodeChlng(this.sc.rndA), { phase: 'chlng', kind: 'chlng', probe }, { type: SCS.chlng, data: [choice.type] });
      }
      case 'scrypt': {
        const sc = this.sc as SecureState;
        return this.frame(encodeScrypt(sc.serverCrypt as Buffer), { phase: 'scrypt', kind: 'scrypt', probe }, { type: SCS.scrypt, data: [sc.choice.type] });
      }
      case 'keyset':
        command = encodeKeyset(this.scbk as Buffer);
        note = { phase: 'keyset', kind: 'keyset', probe };
        break;
      case 'lstat':
        command = encodeLstat();
        note = { phase: 'lstat', kind: 'lstat', probe };
        break;
      case 'online': {
        const pending = this.queue.shift();
        if (pending) {
          command = pending.command;
          note = { phase: 'online', kind: 'user', pending, probe };
        } else {
          this.lastPollAt = now;
          command = encodePoll();
          note = { phase: 'online', kind: 'poll', probe };
        }
        break;
      }
    }
    return this.frame(command, note, null);
  }

  /** Wraps a command: plain, a handshake packet with its security block, or MAC'd (and encrypted) in the channel. */
  private frame(command: Command, note: Note, handshake: { type: number; data: number[] } | null): Outgoing {
    this.stats.commands++;
    const sequence = this.sequence;
    const base = { address: this.address, sequence, code: command.code };
    let bytes: Buffer;
    const sc = this.sc;
    if (handshake) {
      bytes = buildPacket({ ...base, data: command.data, scb: { type: handshake.type, data: Buffer.from(handshake.data) } });
    } else if (sc?.active && sc.keys && sc.rmac) {
      // Annex D: SCS_17 when there is data to encrypt, SCS_15 for none; the MAC chains on the last R-MAC.
      const { keys, rmac } = sc;
      const encrypt = command.data.length > 0;
      const data = encrypt ? encryptData(keys.enc, rmac, command.data) : command.data;
      bytes = buildPacket({
        ...base,
        data,
        scb: { type: encrypt ? SCS.cmdMacEnc : SCS.cmdMac },
        mac: (input) => {
          sc.cmac = computeMac(keys, rmac, input);
          return sc.cmac;
        },
      });
    } else {
      bytes = buildPacket({ ...base, data: command.data });
    }
    return { bytes, sequence, replyTimeoutMs: this.replyTimeoutMs, note };
  }

  onTimeout(out: Outgoing): 'retry' | 'done' {
    const note = out.note as Note;
    this.stats.timeouts++;
    this.misses++;
    if (note.probe) {
      this.scheduleProbe();
      return 'done';
    }
    if (this.misses < this.offlineAfter) {
      this.ctx.log.debug({ address: this.address, sequence: out.sequence, misses: this.misses }, 'osdp: no reply, resending');
      return 'retry';
    }
    note.pending?.resolve({ ok: false, detail: 'device offline' });
    this.goOffline(`no reply to ${this.misses} commands in a row`);
    return 'done';
  }

  onWriteError(out: Outgoing, error: Error): void {
    (out.note as Note).pending?.resolve({ ok: false, detail: `write failed: ${error.message}` });
    this.goOffline(`write failed: ${error.message}`);
  }

  onLink(state: 'online' | 'offline', error?: string): void {
    if (!this.running) return;
    if (state === 'offline') {
      this.goOffline(`serial port ${this.config.port} offline${error ? `: ${error}` : ''}`);
      // The port, not the PD, was the problem: probe at once when it is back.
      this.notBefore = 0;
      this.backoffMs = firstBackoffMs;
      return;
    }
    this.notBefore = 0;
  }

  onReject(kind: PacketErrorKind | 'unsolicited', detail: string, raw: Buffer): void {
    this.reject(kind, detail, raw);
  }

  private reject(kind: RejectKind, detail: string, raw: Buffer): void {
    this.stats.rejects[kind] = (this.stats.rejects[kind] ?? 0) + 1;
    this.ctx.reject(`osdp ${kind}: ${detail}`, raw);
  }

  onReply(packet: Packet, out: Outgoing): void {
    const note = out.note as Note;
    const now = this.ctx.clock.now();
    this.stats.replies++;
    this.misses = 0;
    this.update({ lastSeen: now });
    if (packet.code === Reply.BUSY && packet.scb === null) {
      // osdp_BUSY (spec, osdp_BUSY): resend the same command shortly, same sequence number.
      this.busyResend = out;
      this.notBefore = now + Math.max(this.pollMs, 50);
      return;
    }
    // Spec, sequence numbers: the next command carries the next sequence number, 1 -> 2 -> 3 -> 1 (0 only to reset).
    this.sequence = (this.sequence % 3) + 1;
    if (note.probe || this.offline) this.backOnline();

    const opened = this.open(packet, note);
    if (!opened) {
      note.pending?.resolve({ ok: false, detail: 'secure channel error; the session is being reopened' });
      return;
    }
    const reply = decodeReply(packet.code, opened);
    if (reply.type === 'nak') {
      this.onNak(reply, note);
      return;
    }
    switch (note.kind) {
      case 'id':
        if (reply.type === 'pdid') this.ctx.log.info({ address: this.address, vendor: reply.vendor, model: reply.model, version: reply.version, serial: reply.serial, firmware: reply.firmware }, 'osdp PD identified');
        else this.unexpected(reply, note);
        this.phase = 'cap';
        return;
      case 'cap':
        if (reply.type === 'pdcap') {
          this.ctx.log.info({ address: this.address, capabilities: reply.capabilities.map((c) => `${c.name}=${c.compliance}/${c.units}`) }, 'osdp PD capabilities');
          const security = reply.capabilities.find((c) => c.function === 9);
          if (this.keyPlan.length > 0 && !(security && security.compliance & 0x01)) this.ctx.log.warn({ address: this.address }, 'osdp PD does not report secure channel support; trying anyway because scbk is set');
        } else this.unexpected(reply, note);
        this.startSecureOrStatus();
        return;
      case 'chlng':
        this.onCcrypt(reply, packet);
        return;
      case 'scrypt':
        this.onRmacI(reply, packet);
        return;
      case 'keyset':
        if (reply.type === 'ack') {
          this.keyInstalled = true;
          this.keyIndex = this.keyPlan.findIndex((k) => k.type === 1);
          this.ctx.log.warn({ address: this.address }, 'osdp: SCBK installed with osdp_KEYSET; reopening the secure channel with it (set install_mode to false now)');
          this.sc = null;
          this.phase = 'chlng';
        } else {
          this.unexpected(reply, note);
          this.secureFailure('the PD did not acknowledge osdp_KEYSET');
        }
        return;
      case 'lstat':
        if (reply.type === 'lstatr') this.emitStatus(reply);
        else this.unexpected(reply, note);
        this.reachOnline();
        return;
      case 'poll':
        this.onPollReply(reply);
        return;
      case 'user':
        if (reply.type === 'ack') note.pending?.resolve({ ok: true });
        else {
          this.unexpected(reply, note);
          note.pending?.resolve({ ok: false, detail: `unexpected ${replyName(packet.code)}` });
        }
        return;
    }
  }

  /**
   * Checks a reply against the secure channel and returns its plain data, or null after counting
   * the failure (Annex D: a bad MAC or padding ends the session; the ACU starts a new one).
   */
  private open(packet: Packet, note: Note): Buffer | null {
    const sc = this.sc;
    const handshake = note.kind === 'chlng' || note.kind === 'scrypt';
    if (handshake) return packet.data;
    if (!sc?.active) {
      if (packet.scb) {
        this.reject('bad-security-block', `security block ${hex(packet.scb.type)} outside a secure channel`, packet.raw);
        return null;
      }
      return packet.data;
    }
    const { keys, cmac } = sc;
    if (!keys || !cmac) return null;
    if (!packet.scb || !packet.mac) {
      // A PD that discarded the session (e.g. after KEYSET, or a reset) answers in plain text.
      this.reject('plaintext-in-secure-channel', `${replyName(packet.code)} without a MAC`, packet.raw);
      this.restartSecure('plain-text reply inside the secure channel');
      return null;
    }
    if (packet.scb.type !== SCS.replyMac && packet.scb.type !== SCS.replyMacEnc) {
      this.reject('bad-security-block', `security block ${hex(packet.scb.type)} in a reply`, packet.raw);
      this.restartSecure('wrong security block type');
      return null;
    }
    const mac = computeMac(keys, cmac, packet.macInput);
    if (!sameBytes(mac.subarray(0, 4), packet.mac)) {
      this.reject('bad-mac', `${replyName(packet.code)} MAC does not verify`, packet.raw);
      this.restartSecure('reply MAC did not verify');
      return null;
    }
    sc.rmac = mac;
    if (packet.scb.type === SCS.replyMac) return packet.data;
    const plain = decryptData(keys.enc, cmac, packet.data);
    if (!plain) {
      this.reject('decrypt-failed', `${replyName(packet.code)} data does not decrypt`, packet.raw);
      this.restartSecure('reply data did not decrypt');
      return null;
    }
    return plain;
  }

  private onCcrypt(reply: DecodedReply, packet: Packet): void {
    const sc = this.sc;
    if (!sc) return;
    if (reply.type !== 'ccrypt' || packet.scb?.type !== SCS.ccrypt) {
      this.reject('unexpected-reply', `${replyName(packet.code)} in answer to osdp_CHLNG`, packet.raw);
      this.keyFailure('no osdp_CCRYPT in answer to osdp_CHLNG');
      return;
    }
    const keys = deriveSessionKeys(sc.choice.key, sc.rndA);
    // The PD proves it holds the key: its cryptogram must be AES(S-ENC, RND.A || RND.B) (Annex D.3).
    if (!sameBytes(clientCryptogram(keys, sc.rndA, reply.rndB), reply.cryptogram)) {
      this.keyFailure(`the PD's cryptogram does not match ${sc.choice.type === 0 ? 'the default key SCBK-D' : 'the configured scbk'}`);
      return;
    }
    sc.keys = keys;
    sc.rndB = reply.rndB;
    sc.serverCrypt = serverCryptogram(keys, sc.rndA, reply.rndB);
    this.phase = 'scrypt';
  }

  private onRmacI(reply: DecodedReply, packet: Packet): void {
    const sc = this.sc;
    if (!sc?.keys || !sc.serverCrypt) return;
    if (reply.type !== 'rmac_i' || packet.scb?.type !== SCS.rmacI) {
      this.reject('unexpected-reply', `${replyName(packet.code)} in answer to osdp_SCRYPT`, packet.raw);
      this.keyFailure('no osdp_RMAC_I in answer to osdp_SCRYPT');
      return;
    }
    if (packet.scb.data[0] !== 0x01) {
      this.keyFailure('the PD rejected our cryptogram');
      return;
    }
    const expected = initialRmac(sc.keys, sc.serverCrypt);
    if (!sameBytes(expected, reply.rmac)) {
      this.keyFailure('the initial R-MAC does not match');
      return;
    }
    sc.rmac = expected;
    sc.active = true;
    if (sc.choice.type === 0) {
      this.ctx.log.warn({ address: this.address }, 'osdp secure channel open with the default key SCBK-D; installing scbk');
      this.phase = 'keyset';
      return;
    }
    if (this.config.install_mode && !this.keyInstalled) this.ctx.log.warn({ address: this.address }, 'osdp: the PD already has the configured scbk; install_mode can be set to false');
    this.ctx.log.info({ address: this.address }, 'osdp secure channel open');
    this.phase = 'lstat';
  }

  /** The key just tried failed: try the next one in the plan, or give up for a while. */
  private keyFailure(reason: string): void {
    this.sc = null;
    if (this.keyIndex + 1 < this.keyPlan.length) {
      this.ctx.log.warn({ address: this.address, reason }, 'osdp secure channel failed with this key, trying the next');
      this.keyIndex++;
      this.phase = 'chlng';
      return;
    }
    this.secureFailure(reason);
  }

  /** No secure channel: the PD is not usable (no plain-text fallback), so it is offline until a retry works. */
  private secureFailure(reason: string): void {
    const error = `secure channel: ${reason}`;
    // Logged once per distinct reason: a PD with the wrong key is retried for as long as it stays wrong.
    if (this.state.lastError !== error) this.ctx.log.error({ address: this.address, reason }, 'osdp secure channel could not be opened');
    this.keyIndex = this.keyInstalled ? Math.max(0, this.keyPlan.findIndex((k) => k.type === 1)) : 0;
    this.sc = null;
    this.phase = 'init';
    this.sequence = 0;
    this.offline = true;
    this.failAll('secure channel failed');
    this.update({ state: 'offline', lastError: error });
    this.scheduleProbe();
  }

  private startSecureOrStatus(): void {
    if (this.keyPlan.length === 0) {
      this.phase = 'lstat';
      return;
    }
    if (this.keyInstalled) this.keyIndex = Math.max(0, this.keyPlan.findIndex((k) => k.type === 1));
    this.phase = 'chlng';
  }

  /** Starts the session over with sequence 0 (spec, sequence numbers: 0 resets the PD's sequence check and its secure channel). */
  private restartSecure(reason: string): void {
    this.ctx.log.warn({ address: this.address, reason }, 'osdp: restarting the session');
    this.restart();
  }

  private restart(): void {
    this.sc = null;
    this.phase = 'init';
    this.sequence = 0;
    this.busyResend = null;
  }

  private onNak(reply: Extract<DecodedReply, { type: 'nak' }>, note: Note): void {
    this.stats.naks++;
    this.ctx.log.warn({ address: this.address, command: note.kind, error: reply.error, reason: reply.reason }, 'osdp PD answered NAK');
    note.pending?.resolve({ ok: false, detail: `NAK: ${reply.reason}` });
    if (reply.error === NakCode.sequence) {
      this.restartSecure('NAK for the sequence number');
      return;
    }
    if (note.kind === 'chlng' || note.kind === 'scrypt') {
      this.keyFailure(`NAK to ${note.kind === 'chlng' ? 'osdp_CHLNG' : 'osdp_SCRYPT'}: ${reply.reason}`);
      return;
    }
    if (reply.error === NakCode.securityBlockUnsupported || reply.error === NakCode.encryptionRequired) {
      this.restartSecure(`NAK: ${reply.reason}`);
      return;
    }
    // Status and identification are nice to have: a PD that NAKs them is still polled.
    if (note.kind === 'id') this.phase = 'cap';
    else if (note.kind === 'cap') this.startSecureOrStatus();
    else if (note.kind === 'lstat') {
      this.reachOnline();
    } else if (note.kind === 'keyset') this.secureFailure(`NAK to osdp_KEYSET: ${reply.reason}`);
  }

  private onPollReply(reply: DecodedReply): void {
    const at = this.ctx.clock.now();
    switch (reply.type) {
      case 'ack':
        return;
      case 'raw': {
        const card = reply.card;
        if (card.kind === 'parity-error') {
          this.reject('card-parity', `${card.bitCount}-bit ${card.format} read with bad parity`, Buffer.from(card.hex, 'hex'));
          return;
        }
        const value = card.kind === 'wiegand' ? String(card.number) : card.hex;
        const format = card.kind === 'wiegand' ? card.format : `raw${card.bitCount}`;
        this.stats.cards++;
        this.ctx.log.info({ address: this.address, format, facility: card.kind === 'wiegand' ? card.facility : undefined, number: maskTail(value) }, 'osdp card read');
        this.ctx.emit({ type: 'credential', deviceId: this.ctx.deviceId, at, credential: { kind: 'card', value, format } });
        return;
      }
      case 'fmt': {
        const value = reply.text.trim();
        if (value.length === 0) return;
        this.stats.cards++;
        this.ctx.log.info({ address: this.address, format: 'fmt', number: maskTail(value) }, 'osdp card read');
        this.ctx.emit({ type: 'credential', deviceId: this.ctx.deviceId, at, credential: { kind: 'card', value, format: 'fmt' } });
        return;
      }
      case 'keypad':
        this.onKeys(reply.keys, at);
        return;
      case 'lstatr':
        this.emitStatus(reply);
        return;
      case 'istatr':
        this.ctx.log.debug({ address: this.address, inputs: reply.inputs }, 'osdp input status');
        return;
      case 'malformed':
        this.reject('malformed-reply', reply.reason, reply.data);
        return;
      case 'unknown':
        this.reject('unknown-reply', `unknown reply ${hex(reply.code)} to osdp_POLL`, reply.data);
        return;
      default:
        this.reject('unexpected-reply', `${reply.type} in answer to osdp_POLL`, Buffer.alloc(0));
    }
  }

  /** A PIN arrives key by key (spec, osdp_KEYPAD); '#' ends it, '*' clears it, a long pause drops it. */
  private onKeys(keys: string, at: number): void {
    if (this.keypad && at - this.keypadAt > keypadIdleMs) this.keypad = '';
    this.keypadAt = at;
    for (const key of keys) {
      if (key === '*') this.keypad = '';
      else if (key === '#') {
        if (this.keypad) {
          this.stats.pins++;
          this.ctx.emit({ type: 'credential', deviceId: this.ctx.deviceId, at, credential: { kind: 'pin', value: this.keypad } });
        }
        this.keypad = '';
      } else if (/^[0-9]$/.test(key)) this.keypad = (this.keypad + key).slice(-32);
    }
  }

  private emitStatus(reply: Extract<DecodedReply, { type: 'lstatr' }>): void {
    this.ctx.emit({ type: 'state', deviceId: this.ctx.deviceId, at: this.ctx.clock.now(), state: { tamper: reply.tamper, power: reply.power } });
  }

  private unexpected(reply: DecodedReply, note: Note): void {
    if (reply.type === 'malformed') this.reject('malformed-reply', reply.reason, reply.data);
    else this.reject('unexpected-reply', `${reply.type} in answer to ${note.kind}`, Buffer.alloc(0));
  }

  private reachOnline(): void {
    this.phase = 'online';
    this.lastPollAt = 0;
    this.offline = false;
    this.backoffMs = firstBackoffMs;
    if (this.state.state !== 'online') {
      this.ctx.log.info({ address: this.address, secure: this.secure }, 'osdp PD online');
      this.update({ state: 'online', lastError: null });
    }
  }

  /** The PD answered a probe. The backoff is kept until it is fully online, so a PD that answers but fails the handshake keeps backing off. */
  private backOnline(): void {
    this.offline = false;
    this.notBefore = 0;
  }

  private goOffline(reason: string): void {
    this.restart();
    this.misses = this.offlineAfter;
    this.failAll('device offline');
    if (!this.offline) {
      this.offline = true;
      this.ctx.log.warn({ address: this.address, reason }, 'osdp PD offline');
    }
    if (this.state.state !== 'offline' || this.state.lastError !== reason) this.update({ state: 'offline', lastError: reason });
    this.scheduleProbe();
  }

  /** Offline PDs are probed with capped exponential backoff, so a dead reader costs the bus little. */
  private scheduleProbe(): void {
    this.notBefore = this.ctx.clock.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, maxBackoffMs);
    this.bus?.wake();
  }

  private failAll(detail: string): void {
    for (const pending of this.queue.splice(0)) pending.resolve({ ok: false, detail });
  }

  private update(change: Partial<DeviceHealth>): void {
    this.state = { ...this.state, ...change };
    if (this.running || change.state === 'stopped') this.ctx.report(change);
  }
}

export interface OsdpDriverOptions {
  /** Buses shared by the PDs this definition creates; one per process by default. */
  buses?: OsdpBusRegistry;
  /** Replaces the serial port, for logic tests on a manual clock. */
  transport?: TransportFactory;
}

/** A definition with its own bus registry (tests, benchmarks); the gateway uses `osdpDriver`. */
export function createOsdpDriver(options: OsdpDriverOptions = {}): DriverDefinition<OsdpDeviceConfig> {
  const buses = options.buses ?? new OsdpBusRegistry();
  return {
    type: 'osdp',
    kinds: ['reader'],
    configSchema: OsdpDeviceConfigSchema,
    capabilities: ['events', 'commands'],
    create: (config, ctx) => new OsdpReader(config, ctx, buses, options.transport),
  };
}

/**
 * The OSDP driver as the gateway registers it. Its bus registry is the one process-wide object of
 * this module: readers on the same port must find each other to share the port.
 */
export const osdpDriver: DriverDefinition<OsdpDeviceConfig> = createOsdpDriver();
