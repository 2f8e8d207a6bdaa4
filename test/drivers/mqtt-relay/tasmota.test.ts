// Tasmota topic building and message parsing, on messages as Tasmota sends them and on garbage.
import { describe, expect, it } from 'vitest';
import { parseTasmotaMessage, tasmotaTopic, tasmotaTopics } from '../../../drivers/mqtt-relay/tasmota.js';
import { prng } from '../../helpers/prng.js';

describe('tasmotaTopic', () => {
  it('builds topics as Tasmota does from its default and custom FullTopics', () => {
    expect(tasmotaTopic('%prefix%/%topic%/', 'cmnd', 'tasmota_barrier', 'POWER1')).toBe('cmnd/tasmota_barrier/POWER1');
    expect(tasmotaTopic('%prefix%/%topic%/', 'tele', 'tasmota_barrier', 'LWT')).toBe('tele/tasmota_barrier/LWT');
    expect(tasmotaTopic('site/%topic%/%prefix%', 'stat', 'gate', 'RESULT')).toBe('site/gate/stat/RESULT');
    // Without %prefix% Tasmota appends it for commands only.
    expect(tasmotaTopic('site/%topic%/', 'cmnd', 'gate', 'POWER')).toBe('site/gate/cmnd/POWER');
    expect(tasmotaTopic('site/%topic%/', 'stat', 'gate', 'POWER')).toBe('site/gate/POWER');
    // Double slashes collapse and a # in FullTopic is dropped.
    expect(tasmotaTopic('%prefix%//%topic%/#', 'stat', 'gate', 'POWER')).toBe('stat/gate/POWER');
  });

  it('gives the three bases with a trailing slash', () => {
    expect(tasmotaTopics('%prefix%/%topic%/', 'gate')).toEqual({ cmnd: 'cmnd/gate/', stat: 'stat/gate/', tele: 'tele/gate/' });
  });
});

describe('parseTasmotaMessage', () => {
  const t = tasmotaTopics('%prefix%/%topic%/', 'gate');
  const parse = (sub: string, payload: string) => parseTasmotaMessage(t, sub, Buffer.from(payload));

  it.each([
    ['tele/gate/LWT', 'Online', { kind: 'lwt', online: true }],
    ['tele/gate/LWT', 'Offline', { kind: 'lwt', online: false }],
    ['tele/gate/LWT', 'maybe', { kind: 'reject', reason: 'LWT is neither Online nor Offline' }],
    ['stat/gate/POWER1', 'ON', { kind: 'power', relays: { 1: true }, periodic: false }],
    ['stat/gate/POWER2', 'OFF', { kind: 'power', relays: { 2: false }, periodic: false }],
    // A single-relay device without SetOption26 leaves the index out.
    ['stat/gate/POWER', 'ON', { kind: 'power', relays: { 1: true }, periodic: false }],
    // SetOption4 1: the JSON result on the command's own topic.
    ['stat/gate/POWER1', '{"POWER1":"OFF"}', { kind: 'power', relays: { 1: false }, periodic: false }],
    ['stat/gate/POWER1', 'MAYBE', { kind: 'reject', reason: 'POWER1 is neither ON nor OFF' }],
    ['stat/gate/POWER99', 'ON', { kind: 'reject', reason: 'no relay 99' }],
    ['stat/gate/RESULT', '{"POWER1":"ON"}', { kind: 'power', relays: { 1: true }, periodic: false }],
    ['stat/gate/RESULT', '{"POWER":"OFF"}', { kind: 'power', relays: { 1: false }, periodic: false }],
    ['stat/gate/RESULT', '{"PulseTime1":{"Set":5,"Remaining":0}}', { kind: 'alive' }],
    ['stat/gate/RESULT', '{"POWER1":7}', { kind: 'reject', reason: 'stat RESULT holds a POWER value that is neither ON nor OFF' }],
    ['stat/gate/RESULT', 'not json', { kind: 'reject', reason: 'stat RESULT is not a JSON object' }],
    [
      'tele/gate/STATE',
      '{"Time":"2026-01-01T08:00:00","Uptime":"0T00:05:00","UptimeSec":300,"Heap":26,"SleepMode":"Dynamic","Sleep":50,"LoadAvg":19,"MqttCount":1,"POWER1":"OFF","POWER2":"OFF","Wifi":{"AP":1,"SSId":"gatehouse","RSSI":76}}',
      { kind: 'power', relays: { 1: false, 2: false }, periodic: true },
    ],
    ['tele/gate/STATE', '{"Time":"2026-01-01T08:00:00","UptimeSec":300}', { kind: 'alive' }],
    ['tele/gate/STATE', '[1,2]', { kind: 'reject', reason: 'tele STATE is not a JSON object' }],
    ['tele/gate/SENSOR', '{"Time":"2026-01-01T08:00:00"}', { kind: 'alive' }],
    ['stat/gate/STATUS', '{"Status":{}}', { kind: 'alive' }],
    ['cmnd/gate/POWER1', 'ON', { kind: 'ignore' }],
    ['stat/other/POWER1', 'ON', { kind: 'ignore' }],
  ])('%s %s', (topic, payload, expected) => {
    expect(parse(topic, payload)).toEqual(expected);
  });

  it('never throws on random payloads', () => {
    const random = prng(7);
    const topics = ['tele/gate/LWT', 'tele/gate/STATE', 'stat/gate/POWER1', 'stat/gate/POWER', 'stat/gate/RESULT', 'stat/gate/x/y'];
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(Array.from({ length: i % 80 }, () => Math.floor(random() * 256)));
      const result = parseTasmotaMessage(t, topics[i % topics.length] as string, bytes);
      expect(['reject', 'alive', 'ignore', 'power', 'lwt']).toContain(result.kind);
    }
  });
});
