// The device registry: builds each configured device's driver, supervises it, and routes commands to it.
import type { Logger } from 'pino';
import type { Clock, Timer } from '../gateway/core/clock.js';
import type { BrokerClient, CommandResult, DeviceCommand, DeviceEvent, DeviceHealth, DeviceKind, Driver, DriverDefinition } from './contract.js';

export interface DeviceSpec {
  id: string;
  type: string;
  kind: DeviceKind;
  name: string;
  /** The device's validated config (its driver's own keys included). */
  config: Record<string, unknown>;
}

export interface DeviceStatus extends DeviceHealth {
  id: string;
  type: string;
  kind: DeviceKind;
  name: string;
}

export interface RegistryDeps {
  definitions: readonly DriverDefinition<never>[];
  log: Logger;
  clock: Clock;
  broker: BrokerClient;
  /** Hand an event to the gateway; synchronous, returns after it was recorded. */
  emit(event: DeviceEvent): void;
  /** Several events recorded together, in one commit. */
  emitMany(events: DeviceEvent[]): void;
  /** Something a device sent that no parser accepted. */
  reject(deviceId: string, reason: string, raw: Buffer | string, topic?: string): void;
  /** A device's state or last error changed. */
  onHealth(status: DeviceStatus): void;
}

const firstRestartMs = 1000;
const maxRestartMs = 60_000;

interface Slot {
  spec: DeviceSpec;
  driver: Driver | null;
  abort: AbortController | null;
  health: DeviceHealth;
  restartMs: number;
  restartTimer: Timer | null;
}

export class DeviceRegistry {
  private readonly slots = new Map<string, Slot>();
  private started = false;

  constructor(
    devices: readonly DeviceSpec[],
    private readonly deps: RegistryDeps,
  ) {
    for (const spec of devices) {
      this.slots.set(spec.id, {
        spec,
        driver: null,
        abort: null,
        health: { state: 'stopped', lastSeen: null, lastError: null },
        restartMs: firstRestartMs,
        restartTimer: null,
      });
    }
  }

  /** Start every device; one failing never stops the others, it is retried with backoff. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all([...this.slots.values()].map((slot) => this.launch(slot)));
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all([...this.slots.values()].map((slot) => this.halt(slot)));
  }

  list(): DeviceStatus[] {
    return [...this.slots.values()].map((s) => this.status(s));
  }

  get(deviceId: string): DeviceStatus | undefined {
    const slot = this.slots.get(deviceId);
    return slot ? this.status(slot) : undefined;
  }

  async command(deviceId: string, cmd: DeviceCommand): Promise<CommandResult> {
    const slot = this.slots.get(deviceId);
    if (!slot) return { ok: false, detail: `unknown device ${deviceId}` };
    if (!slot.driver?.command) return { ok: false, detail: `device ${deviceId} takes no commands` };
    try {
      return await slot.driver.command(cmd);
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  private status(slot: Slot): DeviceStatus {
    const { id, type, kind, name } = slot.spec;
    return { id, type, kind, name, ...slot.health };
  }

  private async launch(slot: Slot): Promise<void> {
    if (!this.started) return;
    const { spec } = slot;
    const definition = this.deps.definitions.find((d) => d.type === spec.type);
    const log = this.deps.log.child({ device: spec.id });
    if (!definition) {
      this.setHealth(slot, { state: 'failed', lastError: `no driver for type ${spec.type}` });
      return;
    }
    const abort = new AbortController();
    slot.abort = abort;
    this.setHealth(slot, { state: 'starting' });
    try {
      const driver = definition.create({ ...spec.config, kind: spec.kind } as never, {
        deviceId: spec.id,
        log,
        clock: this.deps.clock,
        broker: this.deps.broker,
        signal: abort.signal,
        emit: (event) => {
          if (abort.signal.aborted) return;
          this.deps.emit(event);
          slot.health.lastSeen = this.deps.clock.now();
        },
        emitMany: (events) => {
          if (abort.signal.aborted || events.length === 0) return;
          this.deps.emitMany(events);
          slot.health.lastSeen = this.deps.clock.now();
        },
        report: (change) => {
          if (abort.signal.aborted) return;
          this.setHealth(slot, change);
          if (change.state === 'failed') this.scheduleRestart(slot, log);
        },
        reject: (reason, raw, topic) => this.deps.reject(spec.id, reason, raw, topic),
      });
      slot.driver = driver;
      await driver.start();
    } catch (err) {
      this.setHealth(slot, { state: 'failed', lastError: (err as Error).message });
      log.error({ err }, 'driver failed to start');
      this.scheduleRestart(slot, log);
    }
  }

  private scheduleRestart(slot: Slot, log: Logger): void {
    if (!this.started || slot.restartTimer) return;
    const delay = slot.restartMs;
    slot.restartMs = Math.min(slot.restartMs * 2, maxRestartMs);
    log.warn({ delayMs: delay }, 'restarting driver');
    slot.restartTimer = this.deps.clock.setTimeout(() => {
      slot.restartTimer = null;
      void this.halt(slot, false).then(() => this.launch(slot));
    }, delay);
  }

  private async halt(slot: Slot, final = true): Promise<void> {
    slot.restartTimer?.cancel();
    slot.restartTimer = null;
    slot.abort?.abort();
    slot.abort = null;
    const driver = slot.driver;
    slot.driver = null;
    if (driver) {
      try {
        await driver.stop();
      } catch (err) {
        this.deps.log.warn({ err, device: slot.spec.id }, 'driver stop failed');
      }
    }
    if (final) this.setHealth(slot, { state: 'stopped' });
  }

  private setHealth(slot: Slot, change: Partial<DeviceHealth>): void {
    const before = slot.health;
    const after = { ...before, ...change };
    slot.health = after;
    // A device that has stayed online earns a fresh restart budget.
    if (after.state === 'online') slot.restartMs = firstRestartMs;
    if (before.state !== after.state || before.lastError !== after.lastError) this.deps.onHealth(this.status(slot));
  }
}
