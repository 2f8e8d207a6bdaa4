// Driver for barriers worked by a Tasmota-style MQTT relay: POWER<n> ON, wait for the device's stat as the ack, OFF after the pulse.
import { Pauses } from '../../gateway/core/clock.js';
import Type, { type Static } from 'typebox';
import { SecretHash } from '../../gateway/core/secret.js';
import type { BrokerMessage, CommandResult, DeviceCommand, DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { parseTasmotaMessage, tasmotaTopics, type TasmotaTopics } from './tasmota.js';
import { CommandQueue } from '../commands.js';

/** Tasmota's own default FullTopic: cmnd/<Topic>/…, stat/<Topic>/…, tele/<Topic>/…. */
export const defaultFullTopic = '%prefix%/%topic%/';

const Relay = (description: string) => Type.Integer({ minimum: 1, maximum: 32, description: `${description} (1-32, the n of POWERn)` });

export const MqttRelayConfigSchema = Type.Object({
  password_hash: SecretHash('device MQTT password'),
  topic: Type.String({ pattern: '^[^/+#\\s$]{1,32}$', description: "the device's Tasmota Topic (Configuration > MQTT > Topic), e.g. tasmota_barrier" }),
  full_topic: Type.Optional(
    Type.String({
      pattern: '^(?=.*%prefix%)(?=.*%topic%)[^+#\\s$]{1,100}$',
      default: defaultFullTopic,
      description: `the device's Tasmota FullTopic, containing %prefix% and %topic% (default ${defaultFullTopic})`,
    }),
  ),
  relay: Type.Optional(Type.Integer({ ...Relay('the relay wired to the OPEN input'), default: 1 })),
  close_relay: Type.Optional(Relay('the relay wired to the CLOSE input')),
  pulse_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 10000, default: 500, description: 'how long the relay stays on, in ms (100-10000)' })),
  ack_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000, default: 2000, description: 'how long to wait for the device to confirm a relay change, in ms (100-60000)' })),
});

export type MqttRelayConfig = Static<typeof MqttRelayConfigSchema> & { kind?: DeviceKind };

const defaults = { relay: 1, pulse_ms: 500, ack_timeout_ms: 2000 } as const;

function topicsOf(config: Pick<MqttRelayConfig, 'topic' | 'full_topic'>): TasmotaTopics {
  return tasmotaTopics(config.full_topic ?? defaultFullTopic, config.topic);
}

/**
 * The topics outside gp/dev/<id>/ the broker must let this device use (its
 * BrokerOptions.devices[id].extraTopics): Tasmota publishes stat/ and tele/ (LWT and state retained),
 * an empty cmnd/<Topic>/POWER on every connect, and its discovery announcement on
 * tasmota/discovery/<MAC>/…, a MAC the config does not know; it listens on cmnd/<Topic>/#.
 */
export function mqttRelayBrokerTopics(config: Pick<MqttRelayConfig, 'topic' | 'full_topic'>): { publish: string[]; subscribe: string[]; shared: string[] } {
  const t = topicsOf(config);
  return {
    publish: [`${t.stat}#`, `${t.tele}#`, `${t.cmnd}POWER`],
    subscribe: [`${t.cmnd}#`],
    shared: ['tasmota/discovery/+/config', 'tasmota/discovery/+/sensors'],
  };
}

type Outcome = 'ack' | 'timeout' | 'offline' | 'stopped';

interface Waiter {
  relay: number;
  on: boolean;
  done(outcome: Outcome): void;
}

export class MqttRelayBarrier implements Driver {
  private running = false;
  private health_: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private topics: TasmotaTopics | null = null;
  private unsubscribes: (() => Promise<void>)[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly pauses: Pauses;
  private readonly relays = new Map<number, boolean>();
  private readonly queue = new CommandQueue((cmd) => this.execute(cmd));
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: MqttRelayConfig,
    private readonly ctx: DriverContext,
  ) {
    this.pauses = new Pauses(ctx.clock);
  }

  private get openRelay(): number {
    return this.config.relay ?? defaults.relay;
  }

  async start(): Promise<void> {
    if (this.stopping) await this.stopping;
    if (this.running) return;
    const topics = topicsOf(this.config);
    this.topics = topics;
    this.running = true;
    this.relays.clear();
    this.update({ state: 'starting', lastError: null });
    const handler = (msg: BrokerMessage): void => this.onMessage(msg);
    try {
      // stat/+ carries the relay answers; tele/+ the retained LWT (replayed now) and the periodic STATE.
      this.unsubscribes.push(await this.ctx.broker.subscribe(`${topics.stat}+`, handler));
      this.unsubscribes.push(await this.ctx.broker.subscribe(`${topics.tele}+`, handler, { retained: true }));
    } catch (err) {
      await this.stop();
      throw err;
    }
    // No retained LWT was replayed: the device has not connected since the broker started.
    if (this.running && this.health_.state === 'starting') this.update({ state: 'offline', lastError: 'no LWT from the device yet' });
  }

  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.pauses.wakeAll();
    for (const w of [...this.waiters]) w.done('stopped');
    const stopping = (async () => {
      // A command in its pulse switches the relay off (without waiting for the ack) before we go.
      await this.queue.idle();
      const unsubscribes = this.unsubscribes;
      this.unsubscribes = [];
      await Promise.all(unsubscribes.map((u) => u().catch((err: unknown) => this.ctx.log.warn({ err }, 'unsubscribe failed'))));
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
    if (!this.running) return { ok: false, detail: 'driver not running' };
    if (cmd.type === 'open') return this.pulse(this.openRelay);
    if (cmd.type === 'close') {
      if (this.config.close_relay === undefined) return { ok: false, detail: 'no close_relay configured: this barrier closes by itself' };
      return this.pulse(this.config.close_relay);
    }
    return { ok: false, detail: `unknown command "${cmd.type}"` };
  }

  /** POWER<n> ON, its stat as the ack, pulse_ms, POWER<n> OFF and its ack. */
  private async pulse(relay: number): Promise<CommandResult> {
    // Fail at once: the guard learns now, not after the ack timeout, that the relay is out of reach.
    if (this.health_.state !== 'online') return { ok: false, detail: `device offline: ${this.health_.lastError ?? 'no LWT Online'}` };
    const on = await this.switchRelay(relay, true);
    if (on !== 'ack') return { ok: false, detail: on };
    await this.sleep(this.config.pulse_ms ?? defaults.pulse_ms);
    // Sent even when stopping: a relay left on holds the barrier's OPEN input closed.
    const off = await this.switchRelay(relay, false);
    if (!this.running) return { ok: false, detail: 'driver stopped' };
    if (off !== 'ack') return { ok: false, detail: `relay ${relay} may still be on: ${off}` };
    return { ok: true };
  }

  /** Publishes POWER<n> ON/OFF and waits for the device to report that state; 'ack' or why not. */
  private async switchRelay(relay: number, on: boolean): Promise<'ack' | string> {
    const topics = this.topics as TasmotaTopics;
    const word = on ? 'ON' : 'OFF';
    const timeoutMs = this.config.ack_timeout_ms ?? defaults.ack_timeout_ms;
    // Registered before publishing: the in-process broker may deliver the answer before publish returns.
    // A stopping driver still sends (an OFF must go out) but does not wait for the answer.
    let waiter: Waiter | null = null;
    let answered: Promise<Outcome> = Promise.resolve('stopped');
    if (this.running) {
      answered = new Promise<Outcome>((resolve) => {
        const w: Waiter = {
          relay,
          on,
          done: (outcome) => {
            this.waiters.delete(w);
            timer.cancel();
            resolve(outcome);
          },
        };
        const timer = this.ctx.clock.setTimeout(() => w.done('timeout'), timeoutMs);
        this.waiters.add(w);
        waiter = w;
      });
    }
    try {
      // Never retained: a retained POWER command would switch the relay again at every reconnect.
      await this.ctx.broker.publish(`${topics.cmnd}POWER${relay}`, word, { qos: 1 });
    } catch (err) {
      (waiter as Waiter | null)?.done('stopped');
      return `publish of POWER${relay} ${word} failed: ${(err as Error).message}`;
    }
    switch (await answered) {
      case 'ack':
        return 'ack';
      case 'timeout':
        return `no acknowledgement of POWER${relay} ${word} within ${timeoutMs} ms`;
      case 'offline':
        return `device went offline before acknowledging POWER${relay} ${word}`;
      case 'stopped':
        return 'driver stopped';
    }
  }

  private onMessage(msg: BrokerMessage): void {
    if (!this.running || !this.topics) return;
    const parsed = parseTasmotaMessage(this.topics, msg.topic, msg.payload);
    const now = this.ctx.clock.now();
    switch (parsed.kind) {
      case 'ignore':
        return;
      case 'reject':
        this.ctx.reject(parsed.reason, msg.payload, msg.topic);
        return;
      case 'lwt':
        if (parsed.online) {
          this.goOnline(now);
        } else {
          this.update({ state: 'offline', lastError: 'device reported offline (LWT Offline)' });
          for (const w of [...this.waiters]) w.done('offline');
        }
        return;
      case 'alive':
        this.alive(now, msg.retained);
        return;
      case 'power':
        this.alive(now, msg.retained);
        for (const [key, on] of Object.entries(parsed.relays)) this.onRelay(Number(key), on);
        return;
    }
  }

  /** Anything fresh from the device proves it connected, even if its retained LWT was lost. */
  private alive(now: number, retained: boolean): void {
    if (retained) return;
    if (this.health_.state !== 'online') this.goOnline(now);
    else {
      this.health_.lastSeen = now;
      this.ctx.report({ lastSeen: now });
    }
  }

  private goOnline(now: number): void {
    const wasOnline = this.health_.state === 'online';
    this.update({ state: 'online', lastSeen: now, lastError: null });
    if (wasOnline || !this.topics) return;
    // An empty POWER<n> asks for the relay's state: after a reconnect it may not be what we left.
    const relays = [this.openRelay, ...(this.config.close_relay === undefined ? [] : [this.config.close_relay])];
    for (const relay of relays) {
      void this.ctx.broker.publish(`${this.topics.cmnd}POWER${relay}`, '', { qos: 1 }).catch((err: unknown) => this.ctx.log.debug({ err }, 'relay state query failed'));
    }
  }

  private onRelay(relay: number, on: boolean): void {
    for (const w of [...this.waiters]) if (w.relay === relay && w.on === on) w.done('ack');
    const key = relay === this.openRelay ? 'relay' : relay === this.config.close_relay ? 'close_relay' : null;
    if (key === null || this.relays.get(relay) === on) return;
    this.relays.set(relay, on);
    this.ctx.emit({ type: 'state', deviceId: this.ctx.deviceId, at: this.ctx.clock.now(), state: { [key]: on ? 'on' : 'off' } });
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

export const mqttRelayDriver: DriverDefinition<MqttRelayConfig> = {
  type: 'mqtt-relay',
  kinds: ['barrier'],
  configSchema: MqttRelayConfigSchema,
  capabilities: ['commands', 'events'],
  mqttTopics: mqttRelayBrokerTopics,
  create: (config, ctx) => new MqttRelayBarrier(config, ctx),
};
