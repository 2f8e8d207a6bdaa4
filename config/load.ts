// Reads a site's YAML config, validates it against the schema and reports every problem with its line.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { GuardpostError, ErrorCode } from '../gateway/core/errors.js';
import { isTimeZone } from '../gateway/core/time.js';
import { ConfigSchema, type GuardpostConfig } from './schema.js';

export interface ConfigProblem {
  /** File name as given, or "(environment)" for an environment override. */
  file: string;
  line: number | null;
  /** Dotted path such as devices.reader-north.port; empty for the whole file. */
  path: string;
  message: string;
}

export class ConfigError extends GuardpostError {
  constructor(readonly problems: ConfigProblem[]) {
    super(ErrorCode.ConfigInvalid, `config has ${problems.length} problem(s):\n${formatProblems(problems).join('\n')}`, problems);
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}`;
  return p.path ? `${where} ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

export function formatProblems(problems: ConfigProblem[]): string[] {
  return problems.map(formatProblem);
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validate = ajv.compile<GuardpostConfig>(ConfigSchema);

/** Environment overrides that tests and operators use instead of editing the file. */
export interface ConfigEnv {
  GUARDPOST_DATA?: string | undefined;
  GUARDPOST_HTTP_PORT?: string | undefined;
  GUARDPOST_MQTT_PORT?: string | undefined;
}

/** Load, validate and apply environment overrides; throws ConfigError listing every problem. */
export function loadConfigFile(path: string, env: ConfigEnv = {}): GuardpostConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, line: null, path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})` }]);
  }
  return parseConfig(text, basename(path), env);
}

export function parseConfig(text: string, file: string, env: ConfigEnv = {}): GuardpostConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problems: ConfigProblem[] = doc.errors.map((e) => ({
    file,
    line: lineCounter.linePos(e.pos[0]).line,
    path: '',
    message: `YAML syntax: ${e.message.split('\n')[0]}`,
  }));
  if (problems.length > 0) throw new ConfigError(problems);

  const data: unknown = doc.toJS() ?? {};
  const lineOf = (segments: string[]) => findLine(doc, lineCounter, segments);
  if (!validate(data)) {
    problems.push(...schemaProblems(validate.errors ?? [], file, lineOf));
  }
  const config = data as GuardpostConfig;
  if (problems.length === 0) problems.push(...crossChecks(config, file, lineOf));
  problems.push(...applyEnv(config, env));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function schemaProblems(errors: ErrorObject[], file: string, lineOf: (segments: string[]) => number | null): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const e of errors) {
    // "must match then schema" repeats the errors already reported inside the chosen branch.
    if (e.keyword === 'if') continue;
    const segments = pointerSegments(e.instancePath);
    let message: string;
    let at = segments;
    let lineAt = segments;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        at = [...segments, key];
        lineAt = at;
        const patternKeys = (e.parentSchema as { patternProperties?: object } | undefined)?.patternProperties;
        message = patternKeys ? 'not a valid id (lower-case letters, digits and dashes)' : 'unknown key';
        break;
      }
      case 'required': {
        const key = String((e.params as { missingProperty: string }).missingProperty);
        at = [...segments, key];
        const wanted = (e.parentSchema as { properties?: Record<string, { description?: string }> } | undefined)?.properties?.[key]?.description;
        message = wanted ? `required key missing: expected ${wanted}` : 'required key missing';
        break;
      }
      default: {
        const description = (e.parentSchema as { description?: string } | undefined)?.description;
        // A secret typed wrong would otherwise be echoed to the terminal and the journal.
        const secret = /password|secret|token|key|_url$/i.test(at.at(-1) ?? '');
        message = `expected ${description ?? e.message ?? e.keyword}, got ${secret ? 'a value (hidden: it may be a secret)' : show(e.data)}`;
      }
    }
    const problem = { file, line: lineOf(lineAt), path: at.join('.'), message };
    const key = formatProblem(problem);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out;
}

/** Rules the schema cannot state: references between sections and uniqueness. */
function crossChecks(config: GuardpostConfig, file: string, lineOf: (segments: string[]) => number | null): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const seenPeople = new Set<string>();
  config.people.forEach((person, i) => {
    if (seenPeople.has(person.id)) {
      out.push({ file, line: lineOf(['people', String(i), 'id']), path: `people.${i}.id`, message: `duplicate person id "${person.id}"` });
    }
    seenPeople.add(person.id);
  });
  if (!isTimeZone(config.site.timezone)) {
    out.push({ file, line: lineOf(['site', 'timezone']), path: 'site.timezone', message: `expected an IANA time zone such as Asia/Shanghai, got "${config.site.timezone}"` });
  }
  for (const [pointId, point] of Object.entries(config.gate.entry_points)) {
    point.devices.forEach((deviceId, i) => {
      const kind = config.devices[deviceId]?.kind;
      if (kind !== 'reader' && kind !== 'plate-camera') {
        const at = ['gate', 'entry_points', pointId, 'devices', String(i)];
        out.push({ file, line: lineOf(at), path: at.join('.'), message: `expected the id of a reader or plate camera under devices, got "${deviceId}"` });
      }
    });
    if (point.barrier !== undefined && config.devices[point.barrier]?.kind !== 'barrier') {
      const at = ['gate', 'entry_points', pointId, 'barrier'];
      out.push({ file, line: lineOf(at), path: at.join('.'), message: `expected the id of a barrier under devices, got "${point.barrier}"` });
    }
  }
  for (const cameraId of Object.keys(config.video.cameras)) {
    if (config.devices[cameraId]?.kind !== 'camera') {
      const at = ['video', 'cameras', cameraId];
      out.push({ file, line: lineOf(at), path: at.join('.'), message: `expected the id of a device of kind camera under devices, got "${cameraId}"` });
    }
  }
  if (config.sync.enabled) {
    const { transport } = config.sync;
    const section = config.sync[transport];
    if (!section) out.push({ file, line: lineOf(['sync', 'transport']), path: 'sync.transport', message: `transport is ${transport}: the sync.${transport} section is required` });
    const https = config.sync.https;
    if (transport === 'https' && https) {
      const key = https.auth === 'bearer' ? 'token' : 'hmac_key';
      if (!https[key]) out.push({ file, line: lineOf(['sync', 'https']), path: `sync.https.${key}`, message: `auth is ${https.auth}: sync.https.${key} is required` });
    }
  }
  (config.demo?.simulators ?? []).forEach((sim, i) => {
    const device = config.devices[sim.device];
    if (!device) {
      out.push({ file, line: lineOf(['demo', 'simulators', String(i), 'device']), path: `demo.simulators.${i}.device`, message: `expected the id of a device under devices, got "${sim.device}"` });
    } else if (device.type !== 'mqtt') {
      out.push({ file, line: lineOf(['demo', 'simulators', String(i), 'device']), path: `demo.simulators.${i}.device`, message: `only MQTT devices can be simulated, "${sim.device}" is of type ${device.type}` });
    }
  });
  return out;
}

function applyEnv(config: GuardpostConfig, env: ConfigEnv): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const port = (name: 'GUARDPOST_HTTP_PORT' | 'GUARDPOST_MQTT_PORT', set: (n: number) => void) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const n = Number(raw);
    // Port 0 is allowed here: tests ask the system for a free port.
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      out.push({ file: '(environment)', line: null, path: name, message: `expected a TCP port number (0-65535), got ${show(raw)}` });
    } else if (config.http && config.mqtt) set(n);
  };
  port('GUARDPOST_HTTP_PORT', (n) => (config.http.port = n));
  port('GUARDPOST_MQTT_PORT', (n) => (config.mqtt.port = n));
  if (env.GUARDPOST_DATA) config.data_dir = env.GUARDPOST_DATA;
  return out;
}

function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The line of the deepest YAML node along the path (the parent's line when a key is missing). */
function findLine(doc: Document, counter: LineCounter, segments: string[]): number | null {
  let node: unknown = doc.contents;
  let line: number | null = rangeLine(node, counter);
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      line = rangeLine(pair.key, counter) ?? line;
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      const item = (node as { items: unknown[] }).items[Number(segment)];
      if (item === undefined) break;
      line = rangeLine(item, counter) ?? line;
      node = item;
    } else break;
  }
  return line;
}

function rangeLine(node: unknown, counter: LineCounter): number | null {
  const range = (node as Node | undefined)?.range;
  if (!range) return null;
  return counter.linePos(range[0]).line;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
