// The topic-format mapping on messages in the real firmware formats, plus transforms, custom rules and garbage.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../../drivers/contract.js';
import { compileMapping, filterCovers, mapMessage, renderCommand, transform, type Mapping, type Rule } from '../../../drivers/mqtt-device/mapping.js';
import { topicMatches } from '../../../drivers/mqtt/topics.js';
import { preset, type CardNumberForm, type PresetName } from '../../../drivers/mqtt-device/presets.js';
import { packageRoot } from '../../../gateway/core/paths.js';

interface FixtureFile {
  about: string;
  preset: PresetName;
  topic: string;
  messages: { note: string; topic: string; payload?: string; payloadHex?: string; kind?: DeviceKind; card_number?: CardNumberForm; expect: unknown }[];
}

const receivedAt = 1_700_000_000_000;
const load = (name: string) => JSON.parse(readFileSync(join(packageRoot, 'test/fixtures/mqtt-device', name), 'utf8')) as FixtureFile;

function compiled(rules: readonly Rule[], kind: DeviceKind = 'reader', topicName = 'dev1'): Mapping {
  const result = compileMapping({ deviceId: 'r1', kind, topicName, rules });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.mapping;
}

function presetMapping(file: FixtureFile, kind: DeviceKind = 'reader', cardNumber: CardNumberForm = 'hex'): Mapping {
  return compiled(preset(file.preset, { kind, cardNumber }).rules, kind, file.topic);
}

const text = (mapping: Mapping, topic: string, payload: string) => mapMessage(mapping, topic, Buffer.from(payload), receivedAt);

describe.each(['tasmota.json', 'esphome.json'])('preset on %s', (name) => {
  const file = load(name);
  it.each(file.messages.map((m) => [m.note, m] as const))('%s', (_note, m) => {
    const mapping = presetMapping(file, m.kind, m.card_number);
    const payload = m.payloadHex !== undefined ? Buffer.from(m.payloadHex, 'hex') : Buffer.from(m.payload ?? '');
    expect(mapMessage(mapping, m.topic, payload, receivedAt)).toEqual(m.expect);
  });

  it('survives random bytes on every topic it listens on without throwing', () => {
    const mapping = presetMapping(file);
    const topics = file.messages.map((m) => m.topic);
    for (let i = 0; i < 3000; i++) {
      const result = mapMessage(mapping, topics[i % topics.length]!, randomBytes(i % 97), receivedAt);
      expect(['reject', 'ignore', 'status', 'echo', 'events']).toContain(result.kind);
      // Raw-text tags (ESPHome) may turn random text into a card number, but never an oversized or blank one.
      if (result.kind === 'events') for (const e of result.events) expect(e.type === 'credential' && e.credential.value.trim().length > 0 && e.credential.value.length <= 128).toBe(true);
    }
  });
});

describe('transforms', () => {
  it('converts a 4-byte UID to the 10-digit decimal card lists print, in either byte order', () => {
    expect(transform('BA839D07', ['hex-to-decimal'])).toEqual({ value: '3129187591' });
    expect(transform('ba839d07', ['hex-to-decimal'])).toEqual({ value: '3129187591' });
    expect(transform('00000001', ['hex-to-decimal'])).toEqual({ value: '0000000001' });
    expect(transform('FFFFFFFF', ['hex-to-decimal'])).toEqual({ value: '4294967295' });
    expect(transform('BA839D07', ['hex-reversed-to-decimal'])).toEqual({ value: '0127763386' });
    expect(transform('BA839D', ['hex-to-decimal'])).toEqual({ reason: 'value is not a 4-byte UID' });
    expect(transform('BA 83 9D 07', ['hex-to-decimal'])).toEqual({ reason: 'value is not hexadecimal' });
    expect(transform('BA 83 9D 07', ['strip-separators', 'hex-to-decimal'])).toEqual({ value: '3129187591' });
  });

  it('turns a 32-bit decimal (RDM6300 on ESPHome gives one) into 8 hex digits', () => {
    expect(transform('7616525', ['decimal-to-hex'])).toEqual({ value: '0074380D' });
    expect(transform('4294967295', ['decimal-to-hex'])).toEqual({ value: 'FFFFFFFF' });
    expect(transform('4294967296', ['decimal-to-hex'])).toEqual({ reason: 'value is not a 32-bit number' });
    expect(transform('-1', ['decimal-to-hex'])).toEqual({ reason: 'value is not a 32-bit number' });
    expect(transform('3129187591', ['decimal-to-hex', 'hex-to-decimal'])).toEqual({ value: '3129187591' });
  });

  it('trims, changes case and strips byte separators', () => {
    expect(transform('  a1:b2-c3 d4\n', ['trim', 'strip-separators', 'upper'])).toEqual({ value: 'A1B2C3D4' });
    expect(transform('SU-A12345', ['lower'])).toEqual({ value: 'su-a12345' });
    expect(transform('x', [])).toEqual({ value: 'x' });
  });
});

describe('custom rules', () => {
  it('maps a vendor JSON format with where, a JSON path into arrays, numbers and each event type', () => {
    const mapping = compiled(
      [
        { topic: 'acme/{id}/event', where: { path: '$.evt', equals: 'swipe' }, event: 'credential', value: '$.data.card', transform: 'decimal-to-hex', format: 'em4100' },
        { topic: 'acme/{id}/event', where: { path: '$.evt', equals: 'qr' }, event: 'credential', kind: 'qr', value: '$.data.text', transform: ['trim'] },
        { topic: 'acme/{id}/event', where: { path: '$.evt', equals: 'keypad' }, event: 'credential', kind: 'pin', value: '$.data.digits[0]' },
        { topic: 'acme/{id}/door', event: 'state', key: 'door', value: '$.open' },
        { topic: 'acme/{id}/online', online: 'yes', offline: 'no', value: '$.up' },
      ],
      'reader',
      'gate-7',
    );
    expect(text(mapping, 'acme/gate-7/event', '{"evt":"swipe","data":{"card":7616525}}')).toEqual({
      kind: 'events',
      events: [{ type: 'credential', deviceId: 'r1', at: receivedAt, credential: { kind: 'card', value: '0074380D', format: 'em4100' } }],
      rejected: [],
    });
    expect(text(mapping, 'acme/gate-7/event', '{"evt":"qr","data":{"text":" GP1:AB12CD "}}')).toMatchObject({ kind: 'events', events: [{ credential: { kind: 'qr', value: 'GP1:AB12CD' } }] });
    expect(text(mapping, 'acme/gate-7/event', '{"evt":"keypad","data":{"digits":["4711","9"]}}')).toMatchObject({ kind: 'events', events: [{ credential: { kind: 'pin', value: '4711' } }] });
    expect(text(mapping, 'acme/gate-7/event', '{"evt":"keypad","data":{"digits":[]}}')).toEqual({ kind: 'reject', reason: 'value missing' });
    expect(text(mapping, 'acme/gate-7/event', '{"evt":"heartbeat"}')).toEqual({ kind: 'ignore' });
    expect(text(mapping, 'acme/gate-7/event', '{"evt":1}')).toEqual({ kind: 'ignore' });
    expect(text(mapping, 'acme/gate-7/door', '{"open":true}')).toEqual({ kind: 'events', events: [{ type: 'state', deviceId: 'r1', at: receivedAt, state: { door: true } }], rejected: [] });
    expect(text(mapping, 'acme/gate-7/door', '{"open":{"since":3}}')).toEqual({ kind: 'reject', reason: 'state value is not text, a number or a boolean' });
    expect(text(mapping, 'acme/gate-7/online', '{"up":"YES"}')).toEqual({ kind: 'status', online: true });
    expect(text(mapping, 'acme/gate-7/online', '{"up":false}')).toEqual({ kind: 'reject', reason: 'status is neither online nor offline' });
    expect(text(mapping, 'acme/gate-8/event', '{"evt":"swipe","data":{"card":1}}')).toEqual({ kind: 'ignore' });
  });

  it('maps plates, checkpoints and raw-text where clauses', () => {
    const camera = compiled([{ topic: 'lpr/{id}/+/result', event: 'plate', value: '$.plate', where: { path: '$.confidence' } }], 'plate-camera', 'cam1');
    expect(text(camera, 'lpr/cam1/lane2/result', '{"plate":" 沪AD12345 ","confidence":0.9}')).toMatchObject({ kind: 'events', events: [{ type: 'plate', plate: '沪AD12345' }] });
    expect(text(camera, 'lpr/cam1/lane2/result', '{"plate":"沪AD12345"}')).toEqual({ kind: 'ignore' });
    const wand = compiled([{ topic: 'wand/{id}', event: 'checkpoint', value: 'payload', where: { path: 'payload', equals: 'B-17' } }], 'checkpoint', 'w1');
    expect(text(wand, 'wand/w1', ' B-17 ')).toMatchObject({ kind: 'events', events: [{ type: 'checkpoint', tag: ' B-17 ' }] });
    expect(text(wand, 'wand/w1', 'B-18')).toEqual({ kind: 'ignore' });
  });

  it('applies every matching rule and reports the ones that failed beside the events', () => {
    const mapping = compiled([
      { topic: 'x/{id}', event: 'credential', value: '$.a' },
      { topic: 'x/{id}', event: 'credential', value: '$.b', transform: 'hex-to-decimal' },
    ]);
    expect(text(mapping, 'x/dev1', '{"a":"1","b":"zz"}')).toMatchObject({ kind: 'events', events: [{ credential: { value: '1' } }], rejected: ['value is not hexadecimal'] });
  });

  it('refuses rules that cannot work, naming the rule', () => {
    const errors = (rules: unknown[], kind: DeviceKind = 'reader') => {
      const r = compileMapping({ deviceId: 'r1', kind, topicName: 'dev1', rules: rules as Rule[] });
      return r.ok ? [] : r.errors;
    };
    expect(errors([{ topic: 'gp/dev/other/event/credential', event: 'credential', value: 'payload' }])).toEqual([expect.stringMatching(/^rule 1: topic must be/)]);
    expect(errors([{ topic: '#', event: 'credential', value: 'payload' }])).toHaveLength(1);
    expect(errors([{ topic: '+/{id}/tag', event: 'credential', value: 'payload' }])).toHaveLength(1);
    expect(errors([{ topic: '$SYS/x', online: 'a', offline: 'b' }])).toHaveLength(1);
    expect(errors([{ topic: 'a/{name}/tag', event: 'credential', value: 'payload' }])).toHaveLength(1);
    expect(errors([{ topic: 'a/#/b', event: 'credential', value: 'payload' }])).toHaveLength(1);
    expect(errors([{ topic: 'a/{id}', event: 'credential', value: '$..x' }])).toEqual([expect.stringMatching(/^rule 1: value must be/)]);
    expect(errors([{ topic: 'a/{id}', event: 'plate', value: 'payload' }])).toEqual(['rule 1: a reader does not send plate events']);
    expect(errors([{ topic: 'a/{id}', event: 'credential', value: 'payload' }], 'barrier')).toEqual(['rule 1: a barrier does not send credential events']);
    expect(errors([{ topic: 'a/{id}', event: 'credential', value: 'payload', transform: ['rot13'] }])).toHaveLength(1);
    expect(errors([{ topic: 'a/{id}', event: 'teleport', value: 'payload' }])).toHaveLength(1);
    expect(errors([{ command: 'Open', topic: 'a/{id}/open' }])).toHaveLength(1);
    expect(errors([{ command: 'open', topic: 'a/{id}/+' }])).toHaveLength(1);
    expect(errors([{ command: 'open', topic: 'gp/dev/barrier-north/cmd/open' }])).toHaveLength(1);
    expect(errors([null, { topic: 'a/{id}', event: 'credential', value: 'payload' }, 'x'])).toEqual(['rule 1: not an object', 'rule 3: not an object']);
  });
});

describe('commands', () => {
  const mapping = compiled(
    [
      ...preset('tasmota-rfid', { kind: 'reader', cardNumber: 'hex' }).rules,
      { command: 'led', topic: 'cmnd/{id}/Backlog', payload: 'LedPower1 {state|1}; Delay {tenths|10}; LedPower1 0' },
      { command: 'show', topic: 'vendor/{id}/display', payload: '{"line1":"{text}","device":"{id}","n":{n|0}}' },
      // A custom rule replaces the preset's command of the same name.
      { command: 'open', topic: 'cmnd/{id}/Power2', payload: 'ON' },
    ],
    'reader',
    'tasmota-gate1',
  );

  it("fills parameters and defaults into the device's own topic", () => {
    expect(renderCommand(mapping, { type: 'buzzer' })).toEqual({ ok: true, topic: 'cmnd/tasmota-gate1/Buzzer', payload: '1,1' });
    expect(renderCommand(mapping, { type: 'buzzer', params: { count: 3, tenths: 2 } })).toEqual({ ok: true, topic: 'cmnd/tasmota-gate1/Buzzer', payload: '3,2' });
    expect(renderCommand(mapping, { type: 'led', params: { state: 2 } })).toEqual({ ok: true, topic: 'cmnd/tasmota-gate1/Backlog', payload: 'LedPower1 2; Delay 10; LedPower1 0' });
    expect(renderCommand(mapping, { type: 'open', params: { decision: '0190f0a0-0000-7000-8000-000000000001' } })).toEqual({ ok: true, topic: 'cmnd/tasmota-gate1/Power2', payload: 'ON' });
    // JSON braces are not placeholders; {id} is the device topic.
    expect(renderCommand(mapping, { type: 'show', params: { text: 'Welcome home' } })).toEqual({
      ok: true,
      topic: 'vendor/tasmota-gate1/display',
      payload: '{"line1":"Welcome home","device":"tasmota-gate1","n":0}',
    });
  });

  it('refuses unknown commands, missing parameters and values that would break the payload', () => {
    expect(renderCommand(mapping, { type: 'selfdestruct' })).toEqual({ ok: false, detail: 'no mapping for command selfdestruct' });
    expect(renderCommand(mapping, { type: 'show' })).toEqual({ ok: false, detail: 'command show needs parameter text' });
    expect(renderCommand(mapping, { type: 'show', params: { text: 'a","evil":"1' } })).toEqual({ ok: false, detail: 'parameter text has characters a device payload cannot carry' });
    expect(renderCommand(mapping, { type: 'show', params: { text: { nested: 1 } } })).toEqual({ ok: false, detail: 'parameter text must be text, a number or true/false' });
    expect(renderCommand(mapping, { type: 'show', params: { text: 'x', n: Number.NaN } })).toEqual({ ok: false, detail: 'parameter n must be text, a number or true/false' });
  });
});

describe('topic filters', () => {
  it('match and cover as MQTT defines', () => {
    expect(topicMatches('tele/+/SENSOR', 'tele/a/SENSOR')).toBe(true);
    expect(topicMatches('tele/a/#', 'tele/a')).toBe(true);
    expect(topicMatches('tele/a/+', 'tele/a')).toBe(false);
    expect(filterCovers('tele/a/#', 'tele/a/SENSOR')).toBe(true);
    expect(filterCovers('tele/a/#', 'tele/a/#')).toBe(true);
    expect(filterCovers('tele/a/+', 'tele/a/#')).toBe(false);
    expect(filterCovers('tele/+/LWT', 'tele/a/LWT')).toBe(true);
    expect(filterCovers('tele/a/LWT', 'tele/+/LWT')).toBe(false);
  });
});
