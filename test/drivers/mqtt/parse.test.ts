// The native MQTT device parser on captured messages, plus random garbage that must never throw.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../../drivers/contract.js';
import { parseDeviceMessage } from '../../../drivers/mqtt/parse.js';
import { packageRoot } from '../../../gateway/core/paths.js';

interface Fixture {
  note: string;
  kind: DeviceKind;
  topic: string;
  payload?: string;
  payloadHex?: string;
  expect: unknown;
}

const fixtures = JSON.parse(readFileSync(join(packageRoot, 'test/fixtures/mqtt/device-messages.json'), 'utf8')) as Fixture[];
const receivedAt = 1_700_000_000_000;

describe('native MQTT device parser', () => {
  it.each(fixtures.map((f) => [f.note, f] as const))('%s', (_note, f) => {
    const deviceId = f.topic.split('/')[2] === 'r2' ? 'r1' : (f.topic.split('/')[2] as string);
    const payload = f.payloadHex ? Buffer.from(f.payloadHex, 'hex') : Buffer.from(f.payload ?? '');
    expect(parseDeviceMessage(deviceId, f.kind, f.topic, payload, receivedAt)).toEqual(f.expect);
  });

  it('survives random bytes on every topic without throwing or inventing an event', () => {
    const topics = ['event/credential', 'event/plate', 'event/checkpoint', 'event/state', 'status', 'ack', 'x'];
    for (let i = 0; i < 2000; i++) {
      const topic = `gp/dev/r1/${topics[i % topics.length]}`;
      const result = parseDeviceMessage('r1', 'reader', topic, randomBytes(i % 64), receivedAt);
      expect(['reject', 'status']).toContain(result.kind);
    }
  });
});
