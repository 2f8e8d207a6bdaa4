// The HQ consumer acknowledges a batch only after PostgreSQL committed it: killed or failing before that, the broker delivers it again and it lands once.
import { connectAsync, type MqttClient } from 'mqtt';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upTopic, type UpBatch } from '../../../sync/contract.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { batch, Consumers, visit } from './consumer.js';

let pg: Postgres;
let broker: Mosquitto;
const consumers = new Consumers();
let gate: MqttClient;
let lock: Client | null = null;

const consumerArgs = () => ['mqtt', '--pg', pg.url, '--mqtt', broker.url, '--username', 'hq', '--password', 'hq-secret', '--client-id', 'hq-recovery'];

beforeAll(async () => {
  pg = await startPostgres();
  broker = await startMosquitto([
    { username: 'hq', password: 'hq-secret' },
    { username: 'gate-north', password: 'north-secret', acl: ['topic readwrite guardpost/v1/cuihu/north/#'] },
  ]);
  gate = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'gate-north', username: 'gate-north', password: 'north-secret', reconnectPeriod: 0 });
});

afterAll(async () => {
  await lock?.end().catch(() => undefined);
  await gate?.endAsync(true);
  await consumers.stopAll();
  await broker?.close();
  await pg?.stop();
});

const send = (b: UpBatch) => gate.publishAsync(upTopic(b.compound, b.site, b.stream), JSON.stringify(b), { qos: 1 });
const count = async (id: string) => Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM gate_records WHERE id = $1', [id]))[0]!.n);

/** Holds gate_records so the consumer's upsert waits inside its transaction, before its commit. */
async function holdTable(): Promise<Client> {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE gate_records IN SHARE ROW EXCLUSIVE MODE');
  lock = client;
  return client;
}

async function release(client: Client): Promise<void> {
  await client.query('ROLLBACK');
  await client.end();
  lock = null;
}

/** The consumer's backend pid once its upsert is waiting for the lock. */
const waitingUpsert = () =>
  waitFor('the consumer waiting inside its transaction', async () => {
    const rows = await pg.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'guardpost-hq-consumer' AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO gate_records%'",
    );
    return rows[0]?.pid;
  });

describe('HQ consumer recovery', () => {
  it('a consumer killed before its commit gets the batch again after a restart, and stores it once', async () => {
    const first = await consumers.start(consumerArgs());
    const held = await holdTable();
    await send(batch('visits', [{ id: 'v-crash', seq: 1, data: visit('v-crash') }]));
    await waitingUpsert();
    await first.kill();
    await release(held);
    expect(await count('v-crash')).toBe(0);

    const second = await consumers.start(consumerArgs());
    // Its persistent session: the broker kept the unacknowledged batch for it.
    await waitFor('the redelivered batch', async () => (await count('v-crash')) === 1);
    await send(batch('visits', [{ id: 'v-after', seq: 2, data: visit('v-after') }]));
    await waitFor('a later batch', async () => (await count('v-after')) === 1);
    expect(await count('v-crash')).toBe(1);
    await second.stop();
  });

  it('a PostgreSQL failure is not acknowledged: the consumer steps back, comes back, and the broker delivers the batch again', async () => {
    const consumer = await consumers.start(consumerArgs());
    const held = await holdTable();
    await send(batch('visits', [{ id: 'v-pgfail', seq: 3, data: visit('v-pgfail') }]));
    const pid = await waitingUpsert();
    // The server ends the consumer's connection mid-transaction, as a restart or failover would.
    await pg.query('SELECT pg_terminate_backend($1)', [pid]);
    // Delivered again, it waits on the lock once more, on a new connection.
    await waitFor('the batch taken again', async () => {
      const again = await pg.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'guardpost-hq-consumer' AND wait_event_type = 'Lock' AND pid <> $1",
        [pid],
      );
      return again.length > 0;
    });
    expect(await count('v-pgfail')).toBe(0);
    await release(held);
    await waitFor('the batch stored', async () => (await count('v-pgfail')) === 1);
    expect(consumer.output()).toContain('postgresql failed');
    expect(consumer.proc.exitCode).toBeNull();
    expect(await consumer.stop()).toBe(0);
  });
});
