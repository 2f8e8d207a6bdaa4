// The HQ consumer in MQTT mode, against Debian's Mosquitto and PostgreSQL: batches land once, newer versions win, bad ones are rejected and answered.
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upTopic, type UpAnswer, type UpBatch } from '../../../sync/contract.js';
import { answerTopic } from '../../../sync/contract.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { batch, Consumers, decision, visit, type RunningConsumer } from './consumer.js';

const hqPassword = 'hq-broker-secret-7731';
let pg: Postgres;
let broker: Mosquitto;
const consumers = new Consumers();
let consumer: RunningConsumer;
let gate: MqttClient;

beforeAll(async () => {
  pg = await startPostgres();
  broker = await startMosquitto([
    { username: 'hq', password: hqPassword, acl: ['topic read guardpost/v1/+/+/up/#', 'topic write guardpost/v1/+/+/answer'] },
    { username: 'gate-north', password: 'north-secret', acl: ['topic readwrite guardpost/v1/cuihu/north/#'] },
  ]);
  consumer = await consumers.start(['mqtt', '--pg', pg.url, '--mqtt', broker.url, '--username', 'hq', '--client-id', 'hq-test'], { GUARDPOST_HQ_MQTT_PASSWORD: hqPassword });
  gate = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'gate-north', username: 'gate-north', password: 'north-secret', reconnectPeriod: 0 });
});

afterAll(async () => {
  await gate?.endAsync(true);
  await consumers.stopAll();
  await broker?.close();
  await pg?.stop();
});

/** Publish as a gate does: QoS 1 on its own up topic; resolves with the broker's PUBACK reason code. */
async function send(b: UpBatch, opts: { responseTopic?: string; correlation?: string; topic?: string; raw?: Buffer } = {}): Promise<number> {
  const properties = opts.responseTopic ? { responseTopic: opts.responseTopic, correlationData: Buffer.from(opts.correlation ?? '') } : undefined;
  const packet = await gate.publishAsync(opts.topic ?? upTopic(b.compound, b.site, b.stream), opts.raw ?? JSON.stringify(b), { qos: 1, ...(properties ? { properties } : {}) });
  return (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0;
}

const rows = (stream: string, id?: string) =>
  pg.query<{ id: string; seq: string; data: Record<string, unknown>; site: string; sent_at: string; received_at: string }>(
    `SELECT id, seq, data, site, sent_at, received_at FROM gate_records WHERE stream = $1 ${id ? 'AND id = $2' : ''} ORDER BY id`,
    id ? [stream, id] : [stream],
  );

/** Waits until a marker batch sent after the ones under test is stored: the consumer takes one session's messages in order. */
async function settled(): Promise<void> {
  const marker = `marker-${Math.random().toString(36).slice(2)}`;
  await send(batch('decisions', [{ id: marker, seq: 1_000_000 + Math.floor(Math.random() * 1_000_000), data: decision(marker) }]));
  await waitFor('the marker batch', async () => (await rows('decisions', marker)).length === 1);
}

describe('HQ consumer over MQTT', () => {
  it('stores the records of a gate batch with what the gate sent and when HQ received it', async () => {
    const before = Date.now();
    expect(await send(batch('visits', [{ id: 'v-1', seq: 5, data: visit('v-1') }, { id: 'v-2', seq: 6, data: visit('v-2', 'registered') }]))).toBe(0);
    const stored = await waitFor('both visits', async () => {
      const r = await rows('visits');
      return r.filter((x) => x.id.startsWith('v-')).length === 2 ? r : null;
    });
    const v1 = stored.find((r) => r.id === 'v-1')!;
    expect(v1).toMatchObject({ site: 'north', seq: '5', sent_at: String(Date.UTC(2026, 10, 22, 8, 1, 0)) });
    expect(v1.data).toMatchObject({ status: 'inside', unit_code: '3-2-1201', id_number: '110101199003077777' });
    expect(Number(v1.received_at)).toBeGreaterThanOrEqual(before);
  });

  it('keeps one row per record however often a batch comes, and overlapping batches too', async () => {
    const first = batch('decisions', [1, 2, 3].map((n) => ({ id: `d-${n}`, seq: 100 + n, data: decision(`d-${n}`) })));
    await send(first);
    await send(first);
    await send(batch('decisions', [2, 3, 4].map((n) => ({ id: `d-${n}`, seq: 100 + n, data: decision(`d-${n}`) }))));
    await settled();
    const counts = await pg.query<{ id: string; n: string }>("SELECT id, count(*) AS n FROM gate_records WHERE stream = 'decisions' AND id LIKE 'd-%' GROUP BY id ORDER BY id");
    expect(counts).toEqual(['d-1', 'd-2', 'd-3', 'd-4'].map((id) => ({ id, n: '1' })));
  });

  it('takes a higher seq of a record as its newer version and ignores an older one', async () => {
    await send(batch('visits', [{ id: 'v-9', seq: 10, data: visit('v-9', 'inside') }]));
    await send(batch('visits', [{ id: 'v-9', seq: 12, data: visit('v-9', 'left') }]));
    // Late: a re-sent older batch must not undo the sign-out.
    await send(batch('visits', [{ id: 'v-9', seq: 11, data: visit('v-9', 'registered') }]));
    await settled();
    expect((await rows('visits', 'v-9')).map((r) => [r.seq, r.data.status])).toEqual([['12', 'left']]);
    // Both versions in one batch: the later one stands.
    await send(batch('visits', [{ id: 'v-10', seq: 20, data: visit('v-10', 'inside') }, { id: 'v-10', seq: 21, data: visit('v-10', 'left') }]));
    await waitFor('v-10', async () => (await rows('visits', 'v-10'))[0]?.data.status === 'left');
  });

  it('rejects an invalid record with its reason, stores the rest of its batch, and answers the gate on its answer topic', async () => {
    const answers: { answer: UpAnswer; correlation: string }[] = [];
    await gate.subscribeAsync(answerTopic('cuihu', 'north'), { qos: 1 });
    gate.on('message', (topic, payload, packet) => {
      if (topic === answerTopic('cuihu', 'north')) answers.push({ answer: JSON.parse(payload.toString()) as UpAnswer, correlation: packet.properties?.correlationData?.toString() ?? '' });
    });
    const bad = { ...decision('d-bad'), outcome: 'maybe' };
    const b = batch('decisions', [
      { id: 'd-good', seq: 300, data: decision('d-good') },
      { id: 'd-bad', seq: 301, data: bad },
      // Valid JSON, valid by the schema, but jsonb cannot hold U+0000.
      { id: 'd-nul', seq: 302, data: { ...decision('d-nul'), subject_name: 'a\u0000b' } },
    ]);
    // The broker's PUBACK says only that the broker has it; what HQ made of it comes as the answer.
    expect(await send(b, { responseTopic: answerTopic('cuihu', 'north'), correlation: 'north:decisions:300-302' })).toBe(0);
    const got = await waitFor('the answer', () => answers.find((a) => a.correlation === 'north:decisions:300-302'));
    expect(got.answer.accepted).toEqual(['d-good']);
    expect(got.answer.rejected).toEqual([
      { id: 'd-bad', reason: 'data/outcome must be "granted" or "denied" or "pending"' },
      { id: 'd-nul', reason: expect.stringContaining('NUL') },
    ]);
    expect(await rows('decisions', 'd-nul')).toHaveLength(0);
    expect(await rows('decisions', 'd-good')).toHaveLength(1);
    expect(await rows('decisions', 'd-bad')).toHaveLength(0);
    const rejected = await pg.query<{ id: string; seq: string; reason: string; transport: string; record: string }>("SELECT id, seq, reason, transport, record FROM rejected_records WHERE id = 'd-bad'");
    expect(rejected).toEqual([{ id: 'd-bad', seq: '301', reason: got.answer.rejected[0]!.reason, transport: 'mqtt', record: expect.stringContaining('"maybe"') }]);
  });

  it('rejects whole what is not a batch, or not the sender’s, and keeps going', async () => {
    await send(batch('visits', [{ id: 'x', seq: 1, data: {} }]), { topic: upTopic('cuihu', 'north', 'visits'), raw: Buffer.from('\u0000\u00ff not json {{{') });
    // A batch claiming to be another site's, on north's topic.
    await send(batch('visits', [{ id: 'v-south', seq: 1, data: visit('v-south') }], { site: 'south' }), { topic: upTopic('cuihu', 'north', 'visits') });
    // Records out of outbox order.
    await send(batch('visits', [{ id: 'v-o1', seq: 9, data: visit('v-o1') }, { id: 'v-o2', seq: 8, data: visit('v-o2') }]));
    // A NUL in an id: PostgreSQL text cannot hold it; refused rather than failing the write on every delivery.
    await send(batch('visits', [{ id: 'v-\u0000', seq: 30, data: visit('v-nul') }]));
    // Below an up topic, where no stream is.
    await send(batch('visits', [{ id: 'v-deep', seq: 31, data: visit('v-deep') }]), { topic: `${upTopic('cuihu', 'north', 'visits')}/extra` });
    await settled();
    const reasons = (await pg.query<{ reason: string }>('SELECT reason FROM rejected_records WHERE id IS NULL')).map((r) => r.reason);
    expect(reasons).toHaveLength(5);
    expect(reasons).toEqual(expect.arrayContaining([
      expect.stringMatching(/^not JSON/),
      'the batch is for cuihu/south/visits but came on the topic of cuihu/north/visits',
      'records are not in outbox order: seq 8 follows 9',
      expect.stringMatching(/^not a batch: \/records\/0\/id must match pattern/),
      'not an up topic: guardpost/v1/cuihu/north/up/visits/extra',
    ]));
    expect(await rows('visits', 'v-deep')).toHaveLength(0);
    expect(await rows('visits', 'v-south')).toHaveLength(0);
    expect(await rows('visits', 'v-o1')).toHaveLength(0);
  });

  it('stores records of a stream it has no schema for, as they came', async () => {
    await send(batch('parking_fees', [{ id: 'p-1', seq: 1, data: { amount: 5 } }]));
    await waitFor('the unknown stream', async () => (await rows('parking_fees')).length === 1);
    // The warning reaches the consumer's stdout in its own time, after the commit.
    await waitFor('the warning about it', () => consumer.output().includes('no schema for this stream'));
  });

  it('stops at once with a clear error on wrong broker credentials or a missing option', async () => {
    const refused = await consumers.run(['mqtt', '--pg', pg.url, '--mqtt', broker.url, '--username', 'hq', '--client-id', 'hq-wrong'], { GUARDPOST_HQ_MQTT_PASSWORD: 'not-the-password' });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`the broker at ${broker.url} refused the consumer's credentials`);
    expect(refused.output).not.toContain('not-the-password');
    const usage = await consumers.run(['mqtt', '--mqtt', broker.url], { GUARDPOST_HQ_PG: '' });
    expect(usage).toMatchObject({ code: 2, output: expect.stringContaining('--pg (or $GUARDPOST_HQ_PG) is required') });
  });

  it('never logs the broker password or the database password', () => {
    expect(consumer.output()).not.toContain(hqPassword);
    expect(consumer.output()).not.toContain(pg.password);
    expect(consumer.proc.exitCode).toBeNull();
  });
});
