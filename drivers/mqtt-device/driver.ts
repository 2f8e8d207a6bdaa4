// Driver for MQTT devices with their own topic formats (Tasmota, ESPHome, vendor firmware), mapped by config onto device events.
import Type, { type Static } from 'typebox';
import { SecretHash } from '../../gateway/core/secret.js';
import type { BrokerMessage, CommandResult, DeviceCommand, DeviceEvent, DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { compileMapping, credentialKinds, fillId, filterCovers, mapMessage, mappedEventTypes, renderCommand, transforms, valuePathPattern, type CompileResult, type Mapping, type Rule } from './mapping.js';
import { topicMatches } from '../mqtt/topics.js';
import { cardNumberForms, preset, presetKinds, presetNames } from './presets.js';

const literalUnion = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>({ enum: [...values], description });

const ValuePath = (what: string) =>
  Type.String({ pattern: valuePathPattern, description: `${what}: payload (the whole payload as text) or a JSON path such as $.RC522.UID` });
const Filter = Type.String({ minLength: 1, maxLength: 256, description: 'an MQTT topic filter (+ and # allowed) in which {id} is the device topic, such as tele/{id}/SENSOR' });
const TransformName = literalUnion(transforms, `a transform: ${transforms.join(', ')}`);

const EventRuleSchema = Type.Object(
  {
    topic: Filter,
    event: literalUnion(mappedEventTypes, 'credential, plate, checkpoint or state'),
    value: ValuePath('where the value is'),
    transform: Type.Optional(Type.Union([TransformName, Type.Array(TransformName, { minItems: 1, maxItems: 8 })], { description: 'a transform or a list applied in order' })),
    kind: Type.Optional(literalUnion(credentialKinds, 'card, qr or pin (credential events; default card)')),
    format: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: "the credential's format, passed on as is" })),
    key: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,31}$', description: 'the state key for state events (default value)' })),
    where: Type.Optional(
      Type.Object(
        {
          path: ValuePath('what to test'),
          equals: Type.Optional(Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'], description: 'the value it must have (without: it must exist)' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const StatusRuleSchema = Type.Object(
  {
    topic: Filter,
    online: Type.String({ minLength: 1, maxLength: 64, description: 'the payload that means online, such as Online' }),
    offline: Type.String({ minLength: 1, maxLength: 64, description: 'the payload that means offline, such as Offline' }),
    value: Type.Optional(ValuePath('where the status word is')),
  },
  { additionalProperties: false },
);

const CommandRuleSchema = Type.Object(
  {
    command: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'the guardpost command, such as open or buzzer' }),
    topic: Type.String({ minLength: 1, maxLength: 256, description: 'the topic to publish it on, such as cmnd/{id}/Power1' }),
    payload: Type.Optional(Type.String({ maxLength: 1024, description: 'the payload; {name} or {name|default} is a command parameter, {id} the device topic' })),
  },
  { additionalProperties: false },
);

/**
 * One rule, chosen by its keys: `command` makes a command rule, `online` a status rule, otherwise an
 * event rule. if/then (rather than anyOf) makes the validator report only the chosen kind's errors.
 */
const RuleSchema = Type.Unsafe<Rule>({
  type: 'object',
  description: 'an event rule (topic, event, value), a status rule (topic, online, offline) or a command rule (command, topic, payload)',
  if: { required: ['command'] },
  then: CommandRuleSchema,
  else: { if: { required: ['online'] }, then: StatusRuleSchema, else: EventRuleSchema },
});

const FilterList = (what: string) => Type.Optional(Type.Array(Filter, { maxItems: 32, description: what }));

export const MqttTopicDeviceConfigSchema = Type.Object({
  password_hash: SecretHash('device MQTT password'),
  topic: Type.String({
    pattern: '^[A-Za-z0-9_.-]{1,64}(/[A-Za-z0-9_.-]{1,64}){0,3}$',
    description: "the device's own topic name: Tasmota's Topic, ESPHome's name (or topic_prefix)",
  }),
  preset: Type.Optional(literalUnion(presetNames, `a ready-made mapping: ${presetNames.join(', ')}`)),
  card_number: Type.Optional(literalUnion(cardNumberForms, 'how preset card numbers are written: hex (default), decimal or decimal-reversed (10 digits)')),
  repeat_ms: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 60000, description: 'milliseconds within which the same card or tag read again is one read (0-60000, default 2000)' }),
  ),
  rules: Type.Optional(Type.Array(RuleSchema, { minItems: 1, maxItems: 64, description: 'mapping rules, applied with the preset ones' })),
  extra_topics: Type.Optional(
    Type.Object(
      {
        publish: FilterList('further topics the device publishes (beyond its rules and preset)'),
        subscribe: FilterList('further topics the device subscribes to'),
        shared: FilterList('topics the device publishes that no part of guardpost reads and several devices may share'),
      },
      { additionalProperties: false },
    ),
  ),
});

export type MqttTopicDeviceConfig = Static<typeof MqttTopicDeviceConfigSchema> & { kind: DeviceKind };

const defaultRepeatMs = 2000;

/** Preset rules first, then custom ones: a custom command of the same name replaces the preset's. */
export function compileDeviceMapping(deviceId: string, config: MqttTopicDeviceConfig): CompileResult {
  const errors: string[] = [];
  const rules: Rule[] = [];
  if (config.preset) {
    if (!presetKinds.includes(config.kind)) errors.push(`preset ${config.preset} is for a ${presetKinds.join(' or ')}, not a ${config.kind}`);
    else rules.push(...preset(config.preset, { kind: config.kind, cardNumber: config.card_number ?? 'hex' }).rules);
  }
  const custom = config.rules ?? [];
  if (!config.preset && custom.length === 0) errors.push('give a preset or rules');
  if (errors.length > 0) return { ok: false, errors };
  const compiled = compileMapping({ deviceId, kind: config.kind, topicName: config.topic, rules: [...rules, ...custom] });
  if (compiled.ok) return compiled;
  // Rule numbers in errors count the preset's rules; renumber so they point into the config's list.
  const offset = rules.length;
  return { ok: false, errors: compiled.errors.map((e) => e.replace(/^rule (\d+)/, (_, n: string) => (Number(n) > offset ? `rules.${Number(n) - offset - 1}` : `preset rule ${n}`))) };
}

/**
 * The topics beyond gp/dev/<id>/ the broker must let this device use (BrokerOptions.devices[id].extraTopics):
 * what its rules and preset listen on, the command topics it subscribes to, and `extra_topics`.
 */
export function mqttDeviceBrokerTopics(config: Pick<MqttTopicDeviceConfig, 'topic' | 'preset' | 'rules' | 'extra_topics' | 'kind'>): {
  publish: string[];
  subscribe: string[];
  shared: string[];
} {
  const publish: string[] = [];
  const subscribe: string[] = [];
  const shared: string[] = [];
  const kind = presetKinds.includes(config.kind) ? config.kind : 'reader';
  const fromPreset = config.preset ? preset(config.preset, { kind, cardNumber: 'hex' }) : null;
  for (const rule of [...(fromPreset?.rules ?? []), ...(config.rules ?? [])]) (('command' in rule) ? subscribe : publish).push(rule.topic);
  publish.push(...(fromPreset?.topics.publish ?? []), ...(config.extra_topics?.publish ?? []));
  subscribe.push(...(fromPreset?.topics.subscribe ?? []), ...(config.extra_topics?.subscribe ?? []));
  shared.push(...(fromPreset?.topics.shared ?? []), ...(config.extra_topics?.shared ?? []));
  // An unfillable template is passed on as written: the broker then refuses it at start with its name.
  const fill = (list: string[]) => [...new Set(list.map((t) => fillId(t, config.topic) ?? t))];
  return { publish: fill(publish), subscribe: fill(subscribe), shared: fill(shared) };
}

/**
 * The filters to listen on: every publish filter of the device, minus those another one covers.
 * Partly overlapping filters remain; a message is then handled by the first one that matches.
 */
function listenFilters(mapping: Mapping, config: MqttTopicDeviceConfig): string[] {
  const all = [...new Set([...mapping.filters, ...mqttDeviceBrokerTopics(config).publish])];
  return all.filter((f, i) => !all.some((g, j) => j !== i && filterCovers(g, f) && (!filterCovers(f, g) || j < i)));
}

export class MqttTopicDevice implements Driver {
  private state: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private unsubscribers: (() => Promise<void>)[] | null = null;
  private mapping: Mapping | null = null;
  /** Last time each card or tag was seen, for telling a card held on the reader from a new tap. */
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly config: MqttTopicDeviceConfig,
    private readonly ctx: DriverContext,
  ) {}

  async start(): Promise<void> {
    if (this.unsubscribers) return;
    const compiled = compileDeviceMapping(this.ctx.deviceId, this.config);
    if (!compiled.ok) throw new Error(`mapping config: ${compiled.errors.join('; ')}`);
    const mapping = compiled.mapping;
    const unsubscribers: (() => Promise<void>)[] = [];
    this.mapping = mapping;
    this.unsubscribers = unsubscribers;
    this.recent.clear();
    this.update({ state: 'starting' });
    const filters = listenFilters(mapping, this.config);
    try {
      for (const [i, filter] of filters.entries()) {
        const earlier = filters.slice(0, i);
        const unsubscribe = await this.ctx.broker.subscribe(
          filter,
          (msg) => {
            if (!earlier.some((f) => topicMatches(f, msg.topic))) this.onMessage(mapping, msg);
          },
          { retained: true },
        );
        if (this.unsubscribers !== unsubscribers) {
          // stop() ran while we were subscribing.
          await unsubscribe();
          return;
        }
        unsubscribers.push(unsubscribe);
      }
    } catch (err) {
      // Leave nothing half-subscribed, so that a later start() begins again.
      if (this.unsubscribers === unsubscribers) await this.stop();
      throw err;
    }
    // No retained "online" was replayed: the device has not connected since the broker started.
    if (this.state.state === 'starting') this.update({ state: 'offline' });
  }

  async stop(): Promise<void> {
    const unsubscribers = this.unsubscribers;
    this.unsubscribers = null;
    this.mapping = null;
    if (unsubscribers) await Promise.all(unsubscribers.map((u) => u()));
    this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.state };
  }

  async command(cmd: DeviceCommand): Promise<CommandResult> {
    const mapping = this.mapping;
    if (!this.unsubscribers || !mapping) return { ok: false, detail: 'driver not running' };
    if (this.state.state !== 'online') return { ok: false, detail: 'device offline' };
    const message = renderCommand(mapping, cmd);
    if (!message.ok) return { ok: false, detail: message.detail };
    try {
      await this.ctx.broker.publish(message.topic, message.payload, { qos: 1 });
    } catch (err) {
      return { ok: false, detail: `publish failed: ${(err as Error).message}` };
    }
    // These firmwares answer nothing guardpost could match to this command: handed to the broker is all that is known.
    return { ok: true, detail: 'sent' };
  }

  private onMessage(mapping: Mapping, msg: BrokerMessage): void {
    if (this.mapping !== mapping) return;
    const now = this.ctx.clock.now();
    const result = mapMessage(mapping, msg.topic, msg.payload, now);
    if (msg.retained) {
      // A replayed status is the device's last word; a replayed reading is old news (Tasmota's
      // SensorRetain keeps the last card on the broker) and must never open a barrier again.
      if (result.kind === 'status') this.update(result.online ? { state: 'online', lastError: null } : { state: 'offline', lastError: 'device reported offline' });
      return;
    }
    switch (result.kind) {
      case 'echo':
        return;
      case 'status':
        this.update(result.online ? { state: 'online', lastSeen: now, lastError: null } : { state: 'offline', lastError: 'device reported offline' });
        return;
      case 'reject':
        this.ctx.reject(result.reason, msg.payload, msg.topic);
        break;
      case 'events':
        for (const reason of result.rejected) this.ctx.reject(reason, msg.payload, msg.topic);
        // Synchronous: returns after the gateway recorded it, so the broker's ack to the device follows the write.
        for (const event of result.events) if (!this.isRepeat(event, now)) this.ctx.emit(event);
        break;
      case 'ignore':
        break;
    }
    // Anything the device sends proves it is connected, even if its retained status was lost with a broker restart.
    this.update(this.state.state === 'online' ? { lastSeen: now } : { state: 'online', lastSeen: now, lastError: null });
  }

  /**
   * Readers report a card again while it stays on them (Tasmota's PN532 every two seconds). The same
   * value within repeat_ms of its previous report is the same card still there, not a new tap.
   */
  private isRepeat(event: DeviceEvent, now: number): boolean {
    const windowMs = this.config.repeat_ms ?? defaultRepeatMs;
    if (windowMs === 0 || (event.type !== 'credential' && event.type !== 'checkpoint')) return false;
    const key = event.type === 'credential' ? `c:${event.credential.kind}:${event.credential.value}` : `t:${event.tag}`;
    const last = this.recent.get(key);
    this.recent.set(key, now);
    if (this.recent.size > 64) for (const [k, at] of this.recent) if (now - at >= windowMs) this.recent.delete(k);
    return last !== undefined && now - last < windowMs;
  }

  private update(change: Partial<DeviceHealth>): void {
    this.state = { ...this.state, ...change };
    this.ctx.report(change);
  }
}

export const mqttDeviceDriver: DriverDefinition<MqttTopicDeviceConfig> = {
  type: 'mqtt-device',
  kinds: ['reader', 'plate-camera', 'barrier', 'checkpoint'],
  configSchema: MqttTopicDeviceConfigSchema,
  capabilities: ['events', 'commands'],
  mqttTopics: mqttDeviceBrokerTopics,
  create: (config, ctx) => new MqttTopicDevice(config, ctx),
};
