// End to end: a gate's sync through real Mosquitto to the reference HQ consumer in real PostgreSQL; exactly once by id, and HQ's refusals parked at the gate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';
import { Consumers } from './hq-consumer/consumer.js';
import { decisionPayload, startGate, syncConfig, type Gate } from './upstream/gate.js';

let broker: Mosquitto;
let pg: Postgres;
const consumers = new Consumers();
const gates: Gate[] = [];

beforeAll(async () => {
  broker = await startMosquitto([
    { username: 'north-gate', password: 'gate-secret' },
    { username: 'hq', password: 'hq-secret' },
  ]);
  pg = await startPostgres();
  await consumers.start(['mqtt', '--pg', pg.url, '--mqtt', broker.url, '--username', 'hq', '--client-id', 'hq-e2e'], { GUARDPOST_HQ_MQTT_PASSWORD: 'hq-secret' });
}, 60_000);

afterAll(async () => {
  for (const g of gates) await g.close();
  await consumers.stopAll();
  await broker?.close();
  await pg?.stop();
});

describe('gate to HQ, end to end', () => {
  it('stores every record once and parks at the gate what HQ refuses', async () => {
    const gate = startGate(syncConfig({ mqtt: { url: broker.url, username: 'north-gate', password: 'gate-secret' } }), { site: 'north-gate' });
    gates.push(gate);
    void gate.pump.start();
    // Decision rows exactly as the gate's decisions table holds them.
    const decision = (id: string, i: number) => ({
      ...decisionPayload(id, Date.now(), i),
      resolved_by: null, resolved_at: null, resolution: null, barrier_detail: null, snapshot: null,
    });
    const good = gate.queue(120, ['decisions'], decision);
    // A decision without its required fields: the gate's own code never writes one, a bug might.
    const bad = gate.queue(1, ['decisions'], (id) => ({ id, note: 'not a decision' }));
    await gate.drive('everything sent or parked', () => gate.depth() === 0);
    const rows = () => pg.query<{ stream: string; id: string; n: number }>('SELECT stream, id, count(*)::int AS n FROM gate_records GROUP BY stream, id');
    const stored = await waitFor('HQ has the good records', async () => {
      const r = await rows();
      return r.length >= good.length ? r : null;
    });
    expect(stored.every((r) => r.n === 1)).toBe(true);
    expect(new Set(stored.map((r) => r.id))).toEqual(new Set(good.map((g) => g.id)));
    // HQ's answer brings the refused record back to the gate as parked, with the reason.
    const parked = await gate.drive('the refused record parked at the gate', () => gate.store.outbox.parked(10).find((p) => p.record_id === bad[0]!.id));
    expect(parked.parked_reason).toMatch(/HQ rejected the record/);
    expect(gate.depth()).toBe(0);
    // An admin fixes nothing and sends it again: it is refused again, parked again, and nothing is duplicated.
    gate.store.outbox.unpark(parked.seq);
    await gate.drive('parked again', () => gate.store.outbox.parked(10).some((p) => p.record_id === bad[0]!.id && p.seq === parked.seq));
    expect((await rows()).length).toBe(good.length);
  }, 120_000);
});
