// Pure mapping between a device's own MQTT topics and payloads and guardpost's device events and commands.
import { eventsByKind, type DeviceCommand, type DeviceEvent, type DeviceKind } from '../contract.js';
import { topicMatches } from '../mqtt/topics.js';

/** The fixed set of value transforms, applied in the order a rule lists them. */
export const transforms = ['trim', 'upper', 'lower', 'strip-separators', 'hex-to-decimal', 'hex-reversed-to-decimal', 'decimal-to-hex'] as const;
export type Transform = (typeof transforms)[number];

export const mappedEventTypes = ['credential', 'plate', 'checkpoint', 'state'] as const satisfies readonly DeviceEvent['type'][];
export const credentialKinds = ['card', 'qr', 'pin'] as const;

export type Scalar = string | number | boolean;

/**
 * A device message that becomes a device event. `topic` is an MQTT filter in which `{id}` stands
 * for the device's own topic name; `value` is `payload` (the whole payload as text) or a JSON path
 * such as `$.RC522.UID` or `$.readers[0].uid`.
 */
export interface EventRule {
  topic: string;
  event: (typeof mappedEventTypes)[number];
  value: string;
  transform?: Transform | readonly Transform[];
  /** Credential events only: what was presented (default card). */
  kind?: (typeof credentialKinds)[number];
  /** Credential events only: passed on as the credential's format. */
  format?: string;
  /** State events only: the state key the value is stored under (default `value`). */
  key?: string;
  /** The rule applies only when this path exists (and, with `equals`, holds exactly that value). */
  where?: { path: string; equals?: Scalar };
}

/** A message that says whether the device is connected, such as Tasmota's LWT or ESPHome's status. */
export interface StatusRule {
  topic: string;
  online: string;
  offline: string;
  /** Where the status word is (default `payload`). */
  value?: string;
}

/**
 * A guardpost command sent as a message on the device's own topic. In `payload`, `{id}` is the
 * device's topic name and `{name}` or `{name|default}` a command parameter.
 */
export interface CommandRule {
  command: string;
  topic: string;
  payload?: string;
}

export type Rule = EventRule | StatusRule | CommandRule;

/** Why a message was not understood. Fixed strings: they become metric labels. */
export const rejectReasons = [
  'payload is not UTF-8 text',
  'payload is not JSON',
  'value missing',
  'value is not text or a number',
  'value is empty',
  'value is too long',
  'value is not hexadecimal',
  'value is not a 4-byte UID',
  'value is not a 32-bit number',
  'state value is not text, a number or a boolean',
  'status is neither online nor offline',
  'mapping failed',
] as const;
export type RejectReason = (typeof rejectReasons)[number];

export type MapResult =
  | { kind: 'status'; online: boolean }
  /** At least one event; `rejected` lists rules on the same message that could not be applied. */
  | { kind: 'events'; events: DeviceEvent[]; rejected: RejectReason[] }
  | { kind: 'reject'; reason: RejectReason }
  /** One of the device's messages that maps to nothing (telemetry, replies): it still proves the device is there. */
  | { kind: 'ignore' }
  /** Our own command on its way to the device: proves nothing about the device. */
  | { kind: 'echo' };


const maxText = 128;
const maxPayloadTemplate = 1024;
const commandName = /^[a-z][a-z0-9-]{0,31}$/;
const stateKey = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
/** `payload`, `$`, or `$` followed by `.key` and `[index]` steps. */
export const valuePathPattern = '^(payload|\\$(\\.[A-Za-z0-9_-]+|\\[[0-9]{1,4}\\])*)$';
const valuePath = new RegExp(valuePathPattern);
/** A placeholder in a payload template: `{name}` or `{name|default}`; JSON braces never look like one. */
const placeholder = /\{([a-z_][a-z0-9_]*)(?:\|([^{}]*))?\}/g;
/** What a command parameter may carry into a payload, so that a value cannot break a JSON or text template. */
const safeParam = /^[A-Za-z0-9 _.:+-]{0,64}$/;

type Path = { raw: true } | { raw: false; steps: readonly (string | number)[] };
type TemplatePart = string | { param: string; fallback?: string };

interface CompiledEventRule {
  filter: string;
  event: EventRule['event'];
  value: Path;
  transforms: readonly Transform[];
  credentialKind: (typeof credentialKinds)[number];
  format?: string;
  key: string;
  where?: { path: Path; equals?: Scalar };
}

interface CompiledStatusRule {
  filter: string;
  online: string;
  offline: string;
  value: Path;
}

interface CompiledCommand {
  topic: string;
  payload: readonly TemplatePart[];
}

export interface Mapping {
  deviceId: string;
  events: readonly CompiledEventRule[];
  statuses: readonly CompiledStatusRule[];
  commands: ReadonlyMap<string, CompiledCommand>;
  /** Every filter the event and status rules listen on, `{id}` filled in. */
  filters: readonly string[];
}

export interface MappingSpec {
  deviceId: string;
  kind: DeviceKind;
  /** The device's own topic name, filled in for `{id}`. */
  topicName: string;
  /** Preset rules first, then custom ones; a later command rule replaces an earlier one of the same name. */
  rules: readonly Rule[];
}

export type CompileResult = { ok: true; mapping: Mapping } | { ok: false; errors: string[] };

/** Check and prepare rules once, so that mapping a message is only lookups. Errors name the rule. */
export function compileMapping(spec: MappingSpec): CompileResult {
  const errors: string[] = [];
  const events: CompiledEventRule[] = [];
  const statuses: CompiledStatusRule[] = [];
  const commands = new Map<string, CompiledCommand>();
  spec.rules.forEach((rule: Rule, i) => {
    const where = `rule ${i + 1}`;
    const fail = (message: string) => errors.push(`${where}: ${message}`);
    if (!isRecord(rule)) return fail('not an object');
    if ('command' in rule) {
      if (typeof rule.command !== 'string' || !commandName.test(rule.command)) return fail('command must be a lower-case name such as open or led');
      const topic = fillId(rule.topic, spec.topicName);
      if (topic === null || !isPlainTopic(topic)) return fail('command topic must be a topic without wildcards, outside gp/ and $, such as cmnd/{id}/Power1');
      const payload = compileTemplate(rule.payload ?? '', spec.topicName);
      if (payload === null) return fail(`payload template must be text of at most ${maxPayloadTemplate} characters`);
      commands.set(rule.command, { topic, payload });
      return;
    }
    const filter = fillId(rule.topic, spec.topicName);
    if (filter === null || !isDeviceFilter(filter)) return fail('topic must be an MQTT filter with a fixed first level outside gp/ and $, such as tele/{id}/SENSOR');
    if ('online' in rule) {
      if (!isText(rule.online) || !isText(rule.offline)) return fail('online and offline must be non-empty text');
      const value = compilePath(rule.value ?? 'payload');
      if (!value) return fail('value must be payload or a JSON path such as $.state');
      statuses.push({ filter, online: rule.online.trim().toLowerCase(), offline: rule.offline.trim().toLowerCase(), value });
      return;
    }
    if (!('event' in rule) || !(mappedEventTypes as readonly string[]).includes(rule.event)) return fail('a rule needs event (credential, plate, checkpoint or state), online/offline, or command');
    if (!eventsByKind[spec.kind].includes(rule.event)) return fail(`a ${spec.kind} does not send ${rule.event} events`);
    const value = compilePath(rule.value);
    if (!value) return fail('value must be payload or a JSON path such as $.RC522.UID');
    const list = rule.transform === undefined ? [] : typeof rule.transform === 'string' ? [rule.transform] : [...rule.transform];
    if (!list.every((t) => (transforms as readonly string[]).includes(t))) return fail(`transform must be among ${transforms.join(', ')}`);
    const credentialKind = rule.kind ?? 'card';
    if (!(credentialKinds as readonly string[]).includes(credentialKind)) return fail('kind must be card, qr or pin');
    if (rule.format !== undefined && !(isText(rule.format) && rule.format.length <= 32)) return fail('format must be short text');
    const key = rule.key ?? 'value';
    if (!stateKey.test(key)) return fail('key must be a short name such as door or relay');
    let whereClause: CompiledEventRule['where'];
    if (rule.where !== undefined) {
      const path = isRecord(rule.where) ? compilePath(rule.where.path) : null;
      if (!path) return fail('where.path must be payload or a JSON path');
      const equals = rule.where.equals;
      if (equals !== undefined && !isScalar(equals)) return fail('where.equals must be text, a number or true/false');
      whereClause = equals === undefined ? { path } : { path, equals };
    }
    events.push({
      filter,
      event: rule.event,
      value,
      transforms: list,
      credentialKind,
      key,
      ...(rule.format !== undefined ? { format: rule.format } : {}),
      ...(whereClause ? { where: whereClause } : {}),
    });
  });
  if (errors.length > 0) return { ok: false, errors };
  const filters = [...new Set([...statuses.map((s) => s.filter), ...events.map((e) => e.filter)])];
  return { ok: true, mapping: { deviceId: spec.deviceId, events, statuses, commands, filters } };
}

/** Map one message from the device. Never throws: anything it cannot use becomes a fixed reason. */
export function mapMessage(mapping: Mapping, topic: string, payload: Buffer, receivedAt: number): MapResult {
  try {
    return mapOrReject(mapping, topic, payload, receivedAt);
  } catch {
    return { kind: 'reject', reason: 'mapping failed' };
  }
}

function mapOrReject(mapping: Mapping, topic: string, payload: Buffer, receivedAt: number): MapResult {
  for (const command of mapping.commands.values()) if (command.topic === topic) return { kind: 'echo' };
  const statuses = mapping.statuses.filter((s) => topicMatches(s.filter, topic));
  const rules = mapping.events.filter((r) => topicMatches(r.filter, topic));
  if (statuses.length === 0 && rules.length === 0) return { kind: 'ignore' };

  const text = utf8(payload);
  if (text === null) return { kind: 'reject', reason: 'payload is not UTF-8 text' };
  let parsed: { ok: boolean; value?: unknown } | undefined;
  const read = (path: Path): Read => {
    if (path.raw) return { ok: true, value: text };
    parsed ??= parseJson(text);
    if (!parsed.ok) return { ok: false, reason: 'payload is not JSON' };
    return { ok: true, value: walk(parsed.value, path.steps) };
  };

  // A status topic carries nothing else: firmware keeps availability apart from data.
  if (statuses.length > 0) {
    for (const status of statuses) {
      const word = read(status.value);
      if (!word.ok || typeof word.value !== 'string') continue;
      const said = word.value.trim().toLowerCase();
      if (said === status.online) return { kind: 'status', online: true };
      if (said === status.offline) return { kind: 'status', online: false };
    }
    return { kind: 'reject', reason: 'status is neither online nor offline' };
  }

  const events: DeviceEvent[] = [];
  const rejected: RejectReason[] = [];
  for (const rule of rules) {
    const outcome = applyRule(rule, read, mapping.deviceId, receivedAt);
    if (outcome === null) continue;
    if ('reason' in outcome) rejected.push(outcome.reason);
    else events.push(outcome.event);
  }
  if (events.length > 0) return { kind: 'events', events, rejected };
  const [first] = rejected;
  return first === undefined ? { kind: 'ignore' } : { kind: 'reject', reason: first };
}

type Read = { ok: true; value: unknown } | { ok: false; reason: RejectReason };

/** Null when the rule's `where` does not hold: the message is something else the device sends there. */
function applyRule(rule: CompiledEventRule, read: (path: Path) => Read, deviceId: string, at: number): { event: DeviceEvent } | { reason: RejectReason } | null {
  if (rule.where) {
    const found = read(rule.where.path);
    if (!found.ok) return { reason: found.reason };
    if (found.value === undefined || found.value === null) return null;
    if (rule.where.equals !== undefined) {
      const actual = rule.where.path.raw && typeof found.value === 'string' ? found.value.trim() : found.value;
      const wanted = rule.where.path.raw ? String(rule.where.equals) : rule.where.equals;
      if (actual !== wanted) return null;
    }
  }
  const found = read(rule.value);
  if (!found.ok) return { reason: found.reason };
  if (found.value === undefined || found.value === null) return { reason: 'value missing' };

  if (rule.event === 'state') {
    if (!isScalar(found.value)) return { reason: 'state value is not text, a number or a boolean' };
    let value: Scalar = found.value;
    if (rule.transforms.length > 0) {
      const done = transform(String(value), rule.transforms);
      if ('reason' in done) return done;
      value = done.value;
    }
    if (typeof value === 'string' && value.length > maxText) return { reason: 'value is too long' };
    return { event: { type: 'state', deviceId, at, state: { [rule.key]: value } } };
  }

  if (typeof found.value !== 'string' && !(typeof found.value === 'number' && Number.isFinite(found.value))) return { reason: 'value is not text or a number' };
  const done = transform(String(found.value), rule.transforms);
  if ('reason' in done) return done;
  const value = done.value;
  if (value.trim().length === 0) return { reason: 'value is empty' };
  if (value.length > maxText) return { reason: 'value is too long' };
  switch (rule.event) {
    case 'credential':
      return { event: { type: 'credential', deviceId, at, credential: { kind: rule.credentialKind, value, ...(rule.format ? { format: rule.format } : {}) } } };
    case 'plate':
      return { event: { type: 'plate', deviceId, at, plate: value.trim() } };
    case 'checkpoint':
      return { event: { type: 'checkpoint', deviceId, at, tag: value } };
  }
}

/** Apply transforms in order; the first that cannot apply says why. */
export function transform(input: string, steps: readonly Transform[]): { value: string } | { reason: RejectReason } {
  let value = input;
  for (const step of steps) {
    switch (step) {
      case 'trim':
        value = value.trim();
        break;
      case 'upper':
        value = value.toUpperCase();
        break;
      case 'lower':
        value = value.toLowerCase();
        break;
      case 'strip-separators':
        // UIDs are printed as 74-10-37-94, 74:10:37:94 or 74 10 37 94; card lists want 74103794.
        value = value.replace(/[-:\s]/g, '');
        break;
      case 'hex-to-decimal':
      case 'hex-reversed-to-decimal': {
        if (!/^[0-9A-Fa-f]+$/.test(value)) return { reason: 'value is not hexadecimal' };
        // Card lists print the 4-byte UID as a 10-digit number; longer UIDs have no such form.
        if (value.length !== 8) return { reason: 'value is not a 4-byte UID' };
        // Some readers print the bytes in the order the card sends them, some reversed ("反码").
        const hex = step === 'hex-to-decimal' ? value : (value.match(/../g) ?? []).reverse().join('');
        value = String(Number.parseInt(hex, 16)).padStart(10, '0');
        break;
      }
      case 'decimal-to-hex': {
        if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) return { reason: 'value is not a 32-bit number' };
        value = Number(value).toString(16).toUpperCase().padStart(8, '0');
        break;
      }
    }
  }
  return { value };
}

/** The topic and payload for a command, or why it cannot be sent. */
export function renderCommand(mapping: Mapping, cmd: DeviceCommand): { ok: true; topic: string; payload: string } | { ok: false; detail: string } {
  const command = mapping.commands.get(cmd.type);
  if (!command) return { ok: false, detail: `no mapping for command ${cmd.type}` };
  let payload = '';
  for (const part of command.payload) {
    if (typeof part === 'string') {
      payload += part;
      continue;
    }
    const given = cmd.params?.[part.param];
    if (given === undefined || given === null) {
      if (part.fallback === undefined) return { ok: false, detail: `command ${cmd.type} needs parameter ${part.param}` };
      payload += part.fallback;
      continue;
    }
    if (!isScalar(given) || (typeof given === 'number' && !Number.isFinite(given))) return { ok: false, detail: `parameter ${part.param} must be text, a number or true/false` };
    const text = String(given);
    if (!safeParam.test(text)) return { ok: false, detail: `parameter ${part.param} has characters a device payload cannot carry` };
    payload += text;
  }
  return { ok: true, topic: command.topic, payload };
}

/** Replace `{id}` with the device's topic name; null when anything else in braces is left over. */
export function fillId(template: unknown, topicName: string): string | null {
  if (typeof template !== 'string') return null;
  const filled = template.split('{id}').join(topicName);
  return /[{}]/.test(filled) ? null : filled;
}


/** Whether every topic `inner` matches is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    if (o[i] === '#') return true;
    if (i >= n.length || n[i] === '#') return false;
    if (o[i] !== '+' && (n[i] === '+' || o[i] !== n[i])) return false;
  }
  return o.length === n.length;
}

/** A filter a device of its own format may use: well formed, with a literal first level that is not gp or $. */
export function isDeviceFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 256 || filter.includes('\0')) return false;
  const levels = filter.split('/');
  const first = levels[0] ?? '';
  if (first === 'gp' || first === '+' || first === '#' || first.startsWith('$')) return false;
  return levels.every((level, i) => (level.includes('#') ? level === '#' && i === levels.length - 1 : !level.includes('+') || level === '+'));
}

function isPlainTopic(topic: string): boolean {
  return isDeviceFilter(topic) && !/[+#]/.test(topic);
}

function compilePath(path: unknown): Path | null {
  if (typeof path !== 'string' || !valuePath.test(path)) return null;
  if (path === 'payload') return { raw: true };
  const steps: (string | number)[] = [];
  for (const m of path.slice(1).matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) steps.push(m[1] ?? Number(m[2]));
  return { raw: false, steps };
}

function compileTemplate(template: unknown, topicName: string): TemplatePart[] | null {
  if (typeof template !== 'string' || template.length > maxPayloadTemplate) return null;
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of template.matchAll(placeholder)) {
    parts.push(template.slice(last, m.index));
    const [, param = '', fallback] = m;
    parts.push(param === 'id' ? topicName : fallback === undefined ? { param } : { param, fallback });
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  return parts.filter((p) => p !== '');
}

function walk(value: unknown, steps: readonly (string | number)[]): unknown {
  let here = value;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(here) || step >= here.length) return undefined;
      here = here[step] as unknown;
    } else {
      if (!isRecord(here) || !Object.hasOwn(here, step)) return undefined;
      here = here[step];
    }
  }
  return here;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(payload: Buffer): string | null {
  try {
    return decoder.decode(payload);
  } catch {
    return null;
  }
}

function parseJson(text: string): { ok: boolean; value?: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0 && v.length <= maxText;
}
