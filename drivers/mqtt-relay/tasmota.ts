// Pure Tasmota MQTT conventions: topics built as Tasmota builds them, and its relay/LWT messages parsed.
//
// Tasmota publishes and subscribes under FullTopic (default "%prefix%/%topic%/") with the prefixes
// cmnd, stat and tele: commands go to <cmnd>POWER<n>, relay states come back on <stat>POWER<n>
// (plain "POWER" for relay 1 of a single-relay device unless SetOption26 is on), on <stat>RESULT as
// JSON {"POWER1":"ON"}, and every TelePeriod on <tele>STATE; <tele>LWT is retained Online/Offline
// and doubles as the device's will.

export type TasmotaPrefix = 'cmnd' | 'stat' | 'tele';

/** The topic Tasmota uses for `prefix` + `subtopic`, following its GetTopic_P (support_tasmota.ino). */
export function tasmotaTopic(fullTopic: string, prefix: TasmotaPrefix, topic: string, subtopic = ''): string {
  let t = fullTopic;
  // Tasmota adds %prefix% to a command FullTopic lacking it, to avoid reading its own messages.
  if (prefix === 'cmnd' && !t.includes('%prefix%')) t += '/%prefix%';
  t = t.replaceAll('%prefix%', prefix).replaceAll('%topic%', topic).replaceAll('#', '').replaceAll('//', '/');
  if (!t.endsWith('/')) t += '/';
  return t + subtopic;
}

export interface TasmotaTopics {
  /** Ends with "/": append POWER1, RESULT, LWT… */
  cmnd: string;
  stat: string;
  tele: string;
}

export function tasmotaTopics(fullTopic: string, topic: string): TasmotaTopics {
  return { cmnd: tasmotaTopic(fullTopic, 'cmnd', topic), stat: tasmotaTopic(fullTopic, 'stat', topic), tele: tasmotaTopic(fullTopic, 'tele', topic) };
}

export type TasmotaMessage =
  | { kind: 'lwt'; online: boolean }
  /** Relay states by relay number (1-based); `periodic` for tele/STATE, which nobody asked for. */
  | { kind: 'power'; relays: Record<number, boolean>; periodic: boolean }
  /** A message that proves the device alive but says nothing about its relays. */
  | { kind: 'alive' }
  | { kind: 'ignore' }
  | { kind: 'reject'; reason: string };

const powerKey = /^POWER(\d{0,2})$/;
const maxRelay = 32;

/** Tasmota's StateText1/2 default to OFF/ON; commands also accept 0/1 and false/true, so answers might too. */
function stateOf(text: string): boolean | null {
  const t = text.trim().toLowerCase();
  if (t === 'on' || t === '1' || t === 'true') return true;
  if (t === 'off' || t === '0' || t === 'false') return false;
  return null;
}

function relayOf(suffix: string): number | null {
  if (suffix === '') return 1;
  const n = Number(suffix);
  return Number.isInteger(n) && n >= 1 && n <= maxRelay ? n : null;
}

function parseObject(payload: Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Every POWER<n> key of a JSON object; null when one of them holds something that is not a state. */
function powersIn(body: Record<string, unknown>): Record<number, boolean> | null {
  const relays: Record<number, boolean> = {};
  for (const [key, value] of Object.entries(body)) {
    const m = powerKey.exec(key);
    if (!m) continue;
    const relay = relayOf(m[1] ?? '');
    const on = typeof value === 'string' ? stateOf(value) : null;
    if (relay === null || on === null) return null;
    relays[relay] = on;
  }
  return relays;
}

/** Parses one message from a Tasmota device whose stat and tele topics are `topics`. Never throws. */
export function parseTasmotaMessage(topics: TasmotaTopics, topic: string, payload: Buffer): TasmotaMessage {
  if (topic.startsWith(topics.tele)) {
    const sub = topic.slice(topics.tele.length);
    if (sub === 'LWT') {
      const online = stateOfLwt(payload.toString('utf8'));
      return online === null ? { kind: 'reject', reason: 'LWT is neither Online nor Offline' } : { kind: 'lwt', online };
    }
    if (sub === 'STATE') {
      const body = parseObject(payload);
      if (!body) return { kind: 'reject', reason: 'tele STATE is not a JSON object' };
      const relays = powersIn(body);
      if (!relays) return { kind: 'reject', reason: 'tele STATE holds a POWER value that is neither ON nor OFF' };
      return Object.keys(relays).length > 0 ? { kind: 'power', relays, periodic: true } : { kind: 'alive' };
    }
    // SENSOR, INFO1-3, UPTIME…: the device is alive, nothing for a barrier.
    return sub.length > 0 && !sub.includes('/') ? { kind: 'alive' } : { kind: 'ignore' };
  }
  if (topic.startsWith(topics.stat)) {
    const sub = topic.slice(topics.stat.length);
    const m = powerKey.exec(sub);
    if (m) {
      const relay = relayOf(m[1] ?? '');
      if (relay === null) return { kind: 'reject', reason: `no relay ${m[1]}` };
      const text = payload.toString('utf8').trim();
      // SetOption4 1 sends the JSON result on the command's own topic: {"POWER1":"ON"}.
      if (text.startsWith('{')) {
        const body = parseObject(payload);
        const relays = body ? powersIn(body) : null;
        if (!relays || Object.keys(relays).length === 0) return { kind: 'reject', reason: `${sub} is not a relay state` };
        return { kind: 'power', relays, periodic: false };
      }
      const on = stateOf(text);
      if (on === null) return { kind: 'reject', reason: `${sub} is neither ON nor OFF` };
      return { kind: 'power', relays: { [relay]: on }, periodic: false };
    }
    if (sub === 'RESULT') {
      const body = parseObject(payload);
      if (!body) return { kind: 'reject', reason: 'stat RESULT is not a JSON object' };
      const relays = powersIn(body);
      if (!relays) return { kind: 'reject', reason: 'stat RESULT holds a POWER value that is neither ON nor OFF' };
      // Answers to other commands (PulseTime, Status…) carry no POWER key.
      return Object.keys(relays).length > 0 ? { kind: 'power', relays, periodic: false } : { kind: 'alive' };
    }
    return sub.length > 0 && !sub.includes('/') ? { kind: 'alive' } : { kind: 'ignore' };
  }
  // Our own commands, or anything else the subscription caught.
  return { kind: 'ignore' };
}

function stateOfLwt(text: string): boolean | null {
  const t = text.trim().toLowerCase();
  if (t === 'online') return true;
  if (t === 'offline') return false;
  return null;
}
