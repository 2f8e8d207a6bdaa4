// Simulated MQTT devices for the demo site: each a real MQTT client with its own credentials and topics.
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../gateway/core/clock.js';
import type { DeviceKind } from '../contract.js';

export interface SimulatedDevice {
  deviceId: string;
  kind: DeviceKind;
  password: string;
  everyS: number;
  /** Seconds before the first event; an exit reader starts later than the entry so cars leave after they came. */
  startS: number;
}

export interface SimulatorContext {
  /** mqtt://host:port of the embedded broker. */
  brokerUrl: string;
  clock: Clock;
  log: Logger;
}

// Demo values: residents' cards, plates seen at a Shanghai compound (one new-energy plate), and tags.
const demoCards = ['3005127841', '3005127842', '0011223344', '2876543210', '1234509876'];
const demoPlates = ['沪A12345', '沪B6D789', '沪AD12345', '苏E05XY7', '京N8P231'];

/** Deterministic sequence so demo runs look alike and tests can predict values. */
class Cycle<T> {
  private i = 0;
  constructor(private readonly items: readonly T[]) {}
  next(): T {
    const item = this.items[this.i % this.items.length] as T;
    this.i++;
    return item;
  }
}

export class DeviceSimulator {
  private client: MqttClient | null = null;
  private timer: Timer | null = null;
  private barrierDown: Timer | null = null;
  private firstTick: Timer | null = null;
  private readonly cards = new Cycle(demoCards);
  private readonly plates = new Cycle(demoPlates);

  constructor(
    private readonly device: SimulatedDevice,
    private readonly ctx: SimulatorContext,
  ) {}

  start(): void {
    if (this.client) return;
    const { deviceId, password } = this.device;
    const statusTopic = this.topic('status');
    const client = connect(this.ctx.brokerUrl, {
      clientId: `sim-${deviceId}`,
      username: deviceId,
      password,
      reconnectPeriod: 2000,
      will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      // Nagle plus delayed ACKs adds 40+ ms to every QoS 1 exchange on loopback.
      (client.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true);
      void client.publishAsync(statusTopic, 'online', { qos: 1, retain: true }).catch(() => undefined);
      if (this.device.kind === 'barrier') {
        void client.subscribeAsync(this.topic('cmd/#'), { qos: 1 }).catch(() => undefined);
        this.publishState({ position: 'down' });
      }
    });
    client.on('message', (topic, payload) => this.onCommand(topic, payload));
    client.on('error', (err) => this.ctx.log.debug({ device: deviceId, err: err.message }, 'simulator connection error'));
    this.firstTick = this.ctx.clock.setTimeout(() => {
      this.tick();
      this.timer = this.ctx.clock.setInterval(() => this.tick(), this.device.everyS * 1000);
    }, this.device.startS * 1000);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.firstTick?.cancel();
    this.barrierDown?.cancel();
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (client.connected) await client.publishAsync(this.topic('status'), 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await client.endAsync();
  }

  /** One simulated happening, as the real device would report it. */
  tick(): void {
    const { kind } = this.device;
    const at = this.ctx.clock.now();
    if (kind === 'reader') this.publish('event/credential', { kind: 'card', value: this.cards.next(), format: 'wiegand34', at });
    else if (kind === 'plate-camera') this.publish('event/plate', { plate: this.plates.next(), confidence: 0.93, at });
    else if (kind === 'checkpoint') this.publish('event/checkpoint', { tag: `NFC-${this.device.deviceId.toUpperCase()}`, at });
    else if (kind === 'barrier') this.publishState({ position: 'down', heartbeat: true });
  }

  private onCommand(topic: string, payload: Buffer): void {
    const type = topic.slice(this.topic('cmd/').length);
    let id: string;
    try {
      id = String((JSON.parse(payload.toString()) as { id?: unknown }).id ?? '');
    } catch {
      return;
    }
    if (type === 'open') {
      this.publish('ack', { id, ok: true });
      this.publishState({ position: 'up' });
      this.barrierDown?.cancel();
      // A barrier closes by itself once the vehicle has passed the loop.
      this.barrierDown = this.ctx.clock.setTimeout(() => this.publishState({ position: 'down' }), 5000);
    } else if (type === 'close') {
      this.publish('ack', { id, ok: true });
      this.publishState({ position: 'down' });
    } else {
      this.publish('ack', { id, ok: false, detail: `unsupported command ${type}` });
    }
  }

  private publishState(state: Record<string, string | boolean>): void {
    this.publish('event/state', { ...state, at: this.ctx.clock.now() });
  }

  private publish(suffix: string, body: unknown): void {
    if (!this.client?.connected) return;
    void this.client.publishAsync(this.topic(suffix), JSON.stringify(body), { qos: 1 }).catch(() => undefined);
  }

  private topic(suffix: string): string {
    return `gp/dev/${this.device.deviceId}/${suffix}`;
  }
}
