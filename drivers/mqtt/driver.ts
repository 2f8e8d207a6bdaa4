// Driver for devices that speak guardpost's MQTT topics natively, reached through the embedded broker.
import { randomUUID } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { SecretHash } from '../../gateway/core/secret.js';
import type { Timer } from '../../gateway/core/clock.js';
import type { CommandResult, DeviceCommand, DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { parseDeviceMessage } from './parse.js';

export const MqttDeviceConfigSchema = Type.Object({
  password_hash: SecretHash('device MQTT password'),
  command_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000, description: 'milliseconds to wait for a command acknowledgement (100-60000)' })),
});

export type MqttDeviceConfig = Static<typeof MqttDeviceConfigSchema> & { kind: DeviceKind };

interface PendingCommand {
  resolve(result: CommandResult): void;
  timer: Timer;
}

export class MqttDevice implements Driver {
  private state: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly pending = new Map<string, PendingCommand>();

  constructor(
    private readonly config: MqttDeviceConfig,
    private readonly ctx: DriverContext,
  ) {}

  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.update({ state: 'starting' });
    this.unsubscribe = await this.ctx.broker.subscribe(`gp/dev/${this.ctx.deviceId}/#`, (msg) => this.onMessage(msg.topic, msg.payload), { retained: true });
    // No retained "online" was replayed: the device has not connected since the broker started.
    if (this.state.state === 'starting') this.update({ state: 'offline' });
  }

  async stop(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    for (const [id, p] of this.pending) {
      p.timer.cancel();
      p.resolve({ ok: false, detail: 'driver stopped' });
      this.pending.delete(id);
    }
    if (unsubscribe) await unsubscribe();
    this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.state };
  }

  async command(cmd: DeviceCommand): Promise<CommandResult> {
    if (!this.unsubscribe) return { ok: false, detail: 'driver not running' };
    if (this.state.state !== 'online') return { ok: false, detail: 'device offline' };
    // Random ids: a late ack to an earlier command never matches a new one.
    const id = randomUUID();
    const timeoutMs = this.config.command_timeout_ms ?? 3000;
    const result = new Promise<CommandResult>((resolve) => {
      const timer = this.ctx.clock.setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, detail: `no acknowledgement within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
    });
    try {
      await this.ctx.broker.publish(`gp/dev/${this.ctx.deviceId}/cmd/${cmd.type}`, JSON.stringify({ id, ...cmd.params }), { qos: 1 });
    } catch (err) {
      this.pending.get(id)?.timer.cancel();
      this.pending.delete(id);
      return { ok: false, detail: `publish failed: ${(err as Error).message}` };
    }
    return result;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const now = this.ctx.clock.now();
    const parsed = parseDeviceMessage(this.ctx.deviceId, this.config.kind, topic, payload, now);
    switch (parsed.kind) {
      case 'ignore':
        return;
      case 'reject':
        this.ctx.reject(parsed.reason, payload, topic);
        return;
      case 'status':
        this.update(parsed.online ? { state: 'online', lastSeen: now, lastError: null } : { state: 'offline', lastError: 'device reported offline' });
        return;
      case 'ack': {
        const p = this.pending.get(parsed.id);
        if (!p) return;
        p.timer.cancel();
        this.pending.delete(parsed.id);
        p.resolve({ ok: parsed.ok, ...(parsed.detail ? { detail: parsed.detail } : {}) });
        this.update({ lastSeen: now });
        return;
      }
      case 'event':
        // Synchronous: returns after the gateway recorded it, so the broker's ack to the device follows the write.
        this.ctx.emit(parsed.event);
        // An event proves the device is alive even if its retained "online" was lost with a broker restart.
        this.update({ state: 'online', lastSeen: now });
        return;
    }
  }

  private update(change: Partial<DeviceHealth>): void {
    this.state = { ...this.state, ...change };
    this.ctx.report(change);
  }
}

export const mqttDriver: DriverDefinition<MqttDeviceConfig> = {
  type: 'mqtt',
  kinds: ['reader', 'plate-camera', 'barrier', 'checkpoint', 'camera'],
  configSchema: MqttDeviceConfigSchema,
  capabilities: ['events', 'commands'],
  create: (config, ctx) => new MqttDevice(config, ctx),
};
