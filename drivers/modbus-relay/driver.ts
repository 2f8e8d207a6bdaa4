// Driver for barriers worked by a Modbus RTU relay board: pulses the OPEN/CLOSE coils, polls limit switches and the loop.
import Type, { type Static } from 'typebox';
import { Pauses, type Timer } from '../../gateway/core/clock.js';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';
import type { CommandResult, DeviceCommand, DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import type { Parity } from '../serial/link.js';
import { joinBus, leaveBus, startBus, type BusMember, type ModbusBus, type TransactResult } from './bus.js';
import { FunctionCode } from './frame.js';
import { CommandQueue } from '../commands.js';

const Address = (description: string) => Type.Integer({ minimum: 0, maximum: 65535, description: `${description} (0-65535, the 0-based address sent on the wire)` });

export const baudRates = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;
export const parities = ['none', 'even', 'odd'] as const;

export const ModbusRelayConfigSchema = Type.Object({
  port: Type.String({ pattern: '^/dev/', description: 'a serial device path' }),
  baud: Type.Optional(Type.Unsafe<(typeof baudRates)[number]>({ type: 'integer', enum: [...baudRates], default: 9600, description: `the bus baud rate: one of ${baudRates.join(', ')}` })),
  parity: Type.Optional(Type.Unsafe<(typeof parities)[number]>({ type: 'string', enum: [...parities], default: 'none', description: 'the bus parity: none, even or odd' })),
  unit: Type.Integer({ minimum: 1, maximum: 247, description: "the relay board's Modbus slave id (1-247)" }),
  open_coil: Address('the coil of the relay wired to the OPEN input'),
  close_coil: Type.Optional(Address('the coil of the relay wired to the CLOSE input')),
  pulse_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 10000, default: 500, description: 'how long a relay stays on, in ms (50-10000)' })),
  up_input: Type.Optional(Address('the discrete input of the up limit switch')),
  down_input: Type.Optional(Address('the discrete input of the down limit switch')),
  loop_input: Type.Optional(Address('the discrete input of the vehicle loop detector')),
  up_timeout_ms: Type.Optional(Type.Integer({ minimum: 500, maximum: 60000, default: 6000, description: 'how long the arm may take to reach its limit switch, in ms (500-60000)' })),
  poll_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 10000, default: 250, description: 'how often the inputs are read, in ms (50-10000)' })),
  response_timeout_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 5000, default: 300, description: 'how long to wait for the board to answer, in ms (50-5000)' })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, default: 2, description: 'further tries after a missed or garbled answer (0-5)' })),
});

export type ModbusRelayConfig = Static<typeof ModbusRelayConfigSchema> & { kind?: DeviceKind };

/** The schema's defaults, applied here too because tests and tools build drivers without the config loader. */
const defaults = { baud: 9600, parity: 'none', pulse_ms: 500, up_timeout_ms: 6000, poll_ms: 250, response_timeout_ms: 300, retries: 2 } as const;

/** A board that stopped answering is probed at growing intervals, up to this. */
const maxProbeMs = 5000;
const firstProbeMs = 500;

export type Position = 'up' | 'down' | 'moving';

interface Settings {
  path: string;
  baud: number;
  parity: Parity;
  unit: number;
  openCoil: number;
  closeCoil: number | null;
  pulseMs: number;
  upInput: number | null;
  downInput: number | null;
  loopInput: number | null;
  travelTimeoutMs: number;
  pollMs: number;
  timeoutMs: number;
  retries: number;
}

function settingsOf(c: ModbusRelayConfig): Settings {
  return {
    path: c.port,
    baud: c.baud ?? defaults.baud,
    parity: c.parity ?? defaults.parity,
    unit: c.unit,
    openCoil: c.open_coil,
    closeCoil: c.close_coil ?? null,
    pulseMs: c.pulse_ms ?? defaults.pulse_ms,
    upInput: c.up_input ?? null,
    downInput: c.down_input ?? null,
    loopInput: c.loop_input ?? null,
    travelTimeoutMs: c.up_timeout_ms ?? defaults.up_timeout_ms,
    pollMs: c.poll_ms ?? defaults.poll_ms,
    timeoutMs: c.response_timeout_ms ?? defaults.response_timeout_ms,
    retries: c.retries ?? defaults.retries,
  };
}

/** What the limit switches say. With one switch only, "not up" reads as down (and "not down" as up). */
export function positionOf(up: boolean | null, down: boolean | null): Position | null {
  if (up === null && down === null) return null;
  if (up !== null && down !== null) return up && !down ? 'up' : down && !up ? 'down' : 'moving';
  if (up !== null) return up ? 'up' : 'down';
  return down ? 'down' : 'up';
}

export class ModbusRelayBarrier implements Driver {
  private running = false;
  private health_: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private bus: ModbusBus | null = null;
  private member: BusMember | null = null;
  private s: Settings | null = null;
  /** Did the board answer its last poll? null until the first poll after start or replug. */
  private answering: boolean | null = null;
  private probeMs = firstProbeMs;
  private pollTimer: Timer | null = null;
  private polling = false;
  private commands = 0;
  private readonly queue = new CommandQueue((cmd) => this.execute(cmd));
  /** A coil a command could not switch off: every poll tries again, a held OPEN contact keeps the barrier up. */
  private stuckCoil: number | null = null;
  private inputs: { up: boolean | null; down: boolean | null; loop: boolean | null } = { up: null, down: null, loop: null };
  private lastState: string | null = null;
  private bothWarned = false;
  private readonly pauses: Pauses;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: ModbusRelayConfig,
    private readonly ctx: DriverContext,
  ) {
    this.pauses = new Pauses(ctx.clock);
  }

  async start(): Promise<void> {
    if (this.stopping) await this.stopping;
    if (this.running) return;
    const s = settingsOf(this.config);
    if (s.closeCoil === s.openCoil) throw new GuardpostError(ErrorCode.ConfigInvalid, `open_coil and close_coil are both ${s.openCoil}`);
    this.s = s;
    const member: BusMember = {
      unit: s.unit,
      reject: (reason, raw) => this.ctx.reject(reason, raw),
      onLinkState: (state, error) => this.onLinkState(state, error),
    };
    this.bus = joinBus({ path: s.path, baudRate: s.baud, parity: s.parity }, member, { log: this.ctx.log, clock: this.ctx.clock });
    this.member = member;
    this.running = true;
    this.answering = null;
    this.probeMs = firstProbeMs;
    this.lastState = null;
    this.update({ state: 'starting', lastError: null });
    await startBus(this.bus);
    if (!this.running) return;
    if (this.bus.linkState === 'online') this.schedulePoll(0);
    else this.update({ state: 'offline', lastError: this.portDown(this.bus.linkError) });
  }

  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.pollTimer?.cancel();
    this.pollTimer = null;
    this.pauses.wakeAll();
    const stopping = (async () => {
      // A command in its pulse switches its coil off before the bus is let go.
      await this.queue.idle();
      if (this.stuckCoil !== null) await this.switchOff(this.stuckCoil);
      const bus = this.bus;
      const member = this.member;
      this.bus = null;
      this.member = null;
      if (bus && member) await leaveBus(bus, member);
      this.update({ state: 'stopped' });
    })();
    this.stopping = stopping;
    void stopping.finally(() => {
      if (this.stopping === stopping) this.stopping = null;
    });
    return stopping;
  }

  health(): DeviceHealth {
    return { ...this.health_ };
  }

  command(cmd: DeviceCommand): Promise<CommandResult> {
    return this.queue.run(cmd);
  }

  private async execute(cmd: DeviceCommand): Promise<CommandResult> {
    if (!this.running || !this.s) return { ok: false, detail: 'driver not running' };
    const s = this.s;
    if (cmd.type === 'open') return this.pulseAndWait(s.openCoil, 'up');
    if (cmd.type === 'close') {
      if (s.closeCoil === null) return { ok: false, detail: 'no close_coil configured: this barrier closes by itself' };
      return this.pulseAndWait(s.closeCoil, 'down');
    }
    return { ok: false, detail: `unknown command "${cmd.type}"` };
  }

  /** Coil on, pulse_ms, coil off, then (with a limit switch) wait for the arm to arrive. */
  private async pulseAndWait(coil: number, target: 'up' | 'down'): Promise<CommandResult> {
    const s = this.s as Settings;
    this.commands++;
    try {
      const started = this.ctx.clock.now();
      // A board already known silent gets one try, not the full retries: the guard hears at once.
      const on = await this.transact({ fn: FunctionCode.WriteSingleCoil, unit: s.unit, address: coil, on: true }, true, this.answering === false ? 0 : s.retries);
      if (!on.ok) return { ok: false, detail: this.failureDetail(on, `switch coil ${coil} on`) };
      await this.sleep(s.pulseMs);
      // Switched off even when the driver is stopping: a relay left on holds the barrier's button down.
      const off = await this.switchOff(coil);
      if (!off.ok) return { ok: false, detail: `coil ${coil} may still be on (will keep trying): ${off.detail}` };
      if (!this.running) return { ok: false, detail: 'driver stopped' };
      const limit = target === 'up' ? s.upInput : s.downInput;
      if (limit === null) return { ok: true };
      return await this.awaitPosition(target, started + s.travelTimeoutMs);
    } finally {
      this.commands--;
    }
  }

  private async switchOff(coil: number): Promise<{ ok: true } | { ok: false; detail: string }> {
    const s = this.s as Settings;
    const res = await this.transact({ fn: FunctionCode.WriteSingleCoil, unit: s.unit, address: coil, on: false }, true, s.retries);
    if (res.ok) {
      if (this.stuckCoil === coil) this.stuckCoil = null;
      return { ok: true };
    }
    // An exception is a definite "no" (the coil does not exist), so there is nothing left on to retry.
    if (res.failure !== 'exception' && res.failure !== 'stopped') {
      if (this.stuckCoil !== coil) this.ctx.log.error({ coil, detail: res.detail }, 'relay coil could not be switched off');
      this.stuckCoil = coil;
    }
    return { ok: false, detail: this.failureDetail(res, `switch coil ${coil} off`) };
  }

  /** Reads the inputs every poll_ms until the arm is where it should be or the deadline passes. */
  private async awaitPosition(target: 'up' | 'down', deadline: number): Promise<CommandResult> {
    const s = this.s as Settings;
    for (;;) {
      const read = await this.readInputs(true);
      if (!this.running) return { ok: false, detail: 'driver stopped' };
      if (read.ok && positionOf(this.inputs.up, this.inputs.down) === target) return { ok: true };
      const left = deadline - this.ctx.clock.now();
      if (left <= 0) {
        const why = read.ok ? '' : ` (${read.detail})`;
        return { ok: false, detail: `barrier did not reach ${target} within ${s.travelTimeoutMs} ms${why}` };
      }
      await this.sleep(Math.min(s.pollMs, left));
    }
  }

  // ---- polling -------------------------------------------------------------------------------

  private schedulePoll(delayMs: number): void {
    if (!this.running) return;
    this.pollTimer?.cancel();
    this.pollTimer = this.ctx.clock.setTimeout(() => {
      this.pollTimer = null;
      void this.poll();
    }, delayMs);
  }

  private async poll(): Promise<void> {
    if (!this.running || !this.s || !this.bus) return;
    if (this.bus.linkState !== 'online') return; // the link's 'online' callback restarts polling
    if (this.polling) {
      // Asked again (the port came back) while a poll is under way: that poll's end reschedules.
      this.schedulePoll(this.s.pollMs);
      return;
    }
    this.polling = true;
    try {
      // A running command reads the inputs itself; polling alongside would only double the traffic.
      if (this.commands > 0) {
        this.schedulePoll(this.s.pollMs);
        return;
      }
      if (this.stuckCoil !== null) await this.switchOff(this.stuckCoil);
      const res = await this.readInputs(false);
      if (!this.running) return;
      if (res.ok || res.failure === 'exception') {
        this.schedulePoll(res.ok ? this.s.pollMs : maxProbeMs);
      } else if (res.failure !== 'offline' && res.failure !== 'stopped') {
        this.schedulePoll(this.probeMs);
        this.probeMs = Math.min(this.probeMs * 2, maxProbeMs);
      }
    } finally {
      this.polling = false;
    }
  }

  /**
   * One read of every configured input (or, with none configured, of the OPEN coil, to know the
   * board is alive); updates health and emits a state event when something changed.
   */
  private async readInputs(urgent: boolean): Promise<TransactResult> {
    const s = this.s as Settings;
    const wanted = [s.upInput, s.downInput, s.loopInput].filter((n): n is number => n !== null);
    let res: TransactResult;
    const values = new Map<number, boolean>();
    if (wanted.length === 0) {
      res = await this.transact({ fn: FunctionCode.ReadCoils, unit: s.unit, address: s.openCoil, count: 1 }, urgent, this.retriesNow());
    } else {
      const first = Math.min(...wanted);
      const span = Math.max(...wanted) - first + 1;
      // One read covers all inputs when they sit close together, as they do on any real board.
      const reads = span <= 2000 ? [{ address: first, count: span }] : wanted.map((address) => ({ address, count: 1 }));
      res = { ok: true, bits: [] };
      for (const r of reads) {
        res = await this.transact({ fn: FunctionCode.ReadDiscreteInputs, unit: s.unit, address: r.address, count: r.count }, urgent, this.retriesNow());
        if (!res.ok) break;
        (res.bits ?? []).forEach((bit, i) => values.set(r.address + i, bit));
      }
    }
    if (!this.running) return res;
    if (res.ok) {
      this.markAnswering();
      if (wanted.length > 0) this.applyInputs(values);
    } else if (res.failure === 'exception') {
      // It answers, so it is online; but the configured inputs do not exist on it.
      this.markAnswering(`reading inputs: ${res.detail} (check up_input, down_input and loop_input)`);
    } else if (res.failure === 'timeout' || res.failure === 'invalid') {
      this.markSilent(res.detail);
    }
    return res;
  }

  private retriesNow(): number {
    // Probing a silent board with retries would only hold up the other boards on the bus.
    return this.answering === false ? 0 : (this.s as Settings).retries;
  }

  private applyInputs(values: Map<number, boolean>): void {
    const s = this.s as Settings;
    const at = (n: number | null): boolean | null => (n === null ? null : (values.get(n) ?? null));
    this.inputs = { up: at(s.upInput), down: at(s.downInput), loop: at(s.loopInput) };
    const { up, down, loop } = this.inputs;
    const both = up === true && down === true;
    if (both && !this.bothWarned) this.ctx.log.warn('both limit switches are closed: check the wiring of up_input and down_input');
    this.bothWarned = both;
    const state: Record<string, string | boolean> = {};
    const position = positionOf(up, down);
    if (position !== null) state.position = position;
    if (loop !== null) state.loop = loop;
    if (Object.keys(state).length === 0) return;
    const key = JSON.stringify(state);
    if (key === this.lastState) return;
    this.lastState = key;
    this.ctx.emit({ type: 'state', deviceId: this.ctx.deviceId, at: this.ctx.clock.now(), state });
  }

  private markAnswering(problem: string | null = null): void {
    const now = this.ctx.clock.now();
    if (this.answering !== true) {
      this.ctx.log.info({ unit: this.s?.unit, path: this.s?.path }, 'relay board answering');
      this.answering = true;
      this.probeMs = firstProbeMs;
    }
    if (this.health_.state !== 'online' || this.health_.lastError !== problem) {
      this.update({ state: 'online', lastSeen: now, lastError: problem });
    } else {
      this.health_.lastSeen = now;
      this.ctx.report({ lastSeen: now });
    }
  }

  private markSilent(detail: string): void {
    const s = this.s as Settings;
    const message = `relay board unit ${s.unit} on ${s.path} is not answering: ${detail}`;
    if (this.answering !== false) this.ctx.log.warn({ unit: s.unit, path: s.path, detail }, 'relay board not answering');
    this.answering = false;
    // On return it announces its state afresh, whatever it was before.
    this.lastState = null;
    if (this.health_.state !== 'offline' || this.health_.lastError !== message) this.update({ state: 'offline', lastError: message });
  }

  private onLinkState(state: 'online' | 'offline', error: string | null): void {
    if (!this.running) return;
    if (state === 'online') {
      // The port is back; whether the board is, the first poll tells.
      this.answering = null;
      this.probeMs = firstProbeMs;
      this.schedulePoll(0);
      return;
    }
    this.pollTimer?.cancel();
    this.pollTimer = null;
    this.answering = false;
    this.lastState = null;
    this.update({ state: 'offline', lastError: this.portDown(error) });
  }

  // ---- helpers -------------------------------------------------------------------------------

  private transact(req: Parameters<ModbusBus['transact']>[1], urgent: boolean, retries: number): Promise<TransactResult> {
    const bus = this.bus;
    const member = this.member;
    const s = this.s;
    if (!bus || !member || !s) return Promise.resolve({ ok: false, failure: 'stopped', detail: 'driver stopped' });
    return bus.transact(member, req, {
      timeoutMs: s.timeoutMs,
      retries,
      urgent,
      onFault: (reason, raw) => {
        // A silent board is reported offline once; its every unanswered probe is not news.
        if (reason === 'no response' && this.answering === false) return;
        this.ctx.reject(reason, raw);
      },
    });
  }

  private failureDetail(res: Extract<TransactResult, { ok: false }>, action: string): string {
    const s = this.s as Settings;
    switch (res.failure) {
      case 'exception':
        return `relay board unit ${s.unit} refused to ${action}: ${res.exception?.name ?? 'exception'} (exception ${res.exception?.code ?? '?'})`;
      case 'timeout':
      case 'invalid':
        return `relay board unit ${s.unit} on ${s.path} is not answering: ${res.detail}`;
      default:
        return res.detail;
    }
  }

  private portDown(error: string | null): string {
    return `serial port ${this.s?.path ?? this.config.port} is offline${error ? `: ${error}` : ''}`;
  }

  /** Waits on the driver's clock; stop() cuts it short. */
  private sleep(ms: number): Promise<void> {
    return this.running ? this.pauses.wait(ms) : Promise.resolve();
  }

  private update(change: Partial<DeviceHealth>): void {
    this.health_ = { ...this.health_, ...change };
    this.ctx.report(change);
  }
}

export const modbusRelayDriver: DriverDefinition<ModbusRelayConfig> = {
  type: 'modbus-relay',
  kinds: ['barrier'],
  configSchema: ModbusRelayConfigSchema,
  capabilities: ['commands', 'events'],
  create: (config, ctx) => new ModbusRelayBarrier(config, ctx),
};
