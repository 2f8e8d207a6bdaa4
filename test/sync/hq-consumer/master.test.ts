// publish-master stores HQ's next version of master data and retains it on the broker; GET /v1/master serves only what is newer than a gate has.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterTopic, type MasterData } from '../../../sync/contract.js';
import type { ResidentsData, WatchlistData } from '../../../sync/master.js';
import { tempDir } from '../../helpers/gateway.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { Consumers, type RunningConsumer } from './consumer.js';

const token = 'master-token-5e1d';
let pg: Postgres;
let broker: Mosquitto;
const consumers = new Consumers();
let http: RunningConsumer;
const gates: MqttClient[] = [];
const dir = tempDir('gp-master-');

const residents = (name: string): ResidentsData => ({
  units: [{ code: '3-2-1201' }, { code: '1-1-101' }],
  residents: [
    { id: 'hq-r1', unit: '3-2-1201', kind: 'owner', name, phone: '13800138000', list: 'resident', cards: ['3005127841'], plates: ['沪A12345'] },
    { id: 'hq-s1', unit: null, kind: 'staff', name: '保洁员', list: 'staff', cards: ['42'], plates: [] },
  ],
});

function file(name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}

const publish = (kind: string, path: string, withBroker = true) =>
  consumers.run(['publish-master', '--pg', pg.url, '--compound', 'cuihu', '--kind', kind, '--file', path, ...(withBroker ? ['--mqtt', broker.url, '--username', 'hq'] : [])], {
    GUARDPOST_HQ_MQTT_PASSWORD: 'hq-secret',
  });

/** What a gate of the compound gets on subscribing to its master topics: the retained copies. */
async function retained(clientId: string): Promise<MasterData[]> {
  const gate = await connectAsync(broker.url, { protocolVersion: 5, clientId, username: 'gate-north', password: 'north-secret', reconnectPeriod: 0 });
  gates.push(gate);
  const got: MasterData[] = [];
  gate.on('message', (topic, payload, packet) => {
    const data = JSON.parse(payload.toString()) as MasterData;
    // Each kind on its own topic, retained.
    if (packet.retain && topic === masterTopic('cuihu', data.kind)) got.push(data);
  });
  await gate.subscribeAsync('guardpost/v1/cuihu/master/#', { qos: 1 });
  return got;
}

const master = async (query: string, auth = true) => {
  const res = await fetch(`http://127.0.0.1:${http.port}/v1/master?${query}`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as { items?: MasterData[]; error?: { message: string } } };
};

beforeAll(async () => {
  pg = await startPostgres();
  broker = await startMosquitto([
    { username: 'hq', password: 'hq-secret', acl: ['topic readwrite guardpost/v1/+/master/#'] },
    { username: 'gate-north', password: 'north-secret', acl: ['topic read guardpost/v1/cuihu/master/#'] },
  ]);
  http = await consumers.start(['http', '--pg', pg.url, '--http-port', '0', '--token', token]);
});

afterAll(async () => {
  await Promise.all(gates.map((g) => g.endAsync(true)));
  await consumers.stopAll();
  await broker?.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('master data from HQ', () => {
  it('publishes each new version retained, so a gate that subscribes later gets the newest', async () => {
    const first = await publish('residents', file('r1.json', residents('李雷')));
    expect(first).toMatchObject({ code: 0, output: expect.stringContaining('cuihu residents: version 1 stored and published') });
    const early = await retained('gate-early');
    const v1 = await waitFor('version 1', () => early.find((m) => m.kind === 'residents'));
    expect(v1).toMatchObject({ v: 1, compound: 'cuihu', kind: 'residents', version: 1, data: residents('李雷') });
    expect(v1.publishedAt).toBeGreaterThan(0);

    expect((await publish('residents', file('r2.json', residents('韩梅梅')))).code).toBe(0);
    const late = await retained('gate-late');
    const v2 = await waitFor('version 2', () => late.find((m) => m.kind === 'residents'));
    expect(v2).toMatchObject({ version: 2, data: { residents: [expect.objectContaining({ name: '韩梅梅' }), expect.anything()] } });
    expect(late.filter((m) => m.kind === 'residents')).toHaveLength(1);
    expect(await pg.query("SELECT kind, version FROM master_data WHERE compound = 'cuihu' ORDER BY version")).toEqual([
      { kind: 'residents', version: 1 },
      { kind: 'residents', version: 2 },
    ]);
  });

  it('serves over HTTP only the kinds newer than the gate has', async () => {
    const watchlist: WatchlistData = { entries: [{ id: 'w-1', kind: 'plate', value: '沪C99999', reason: '欠费车辆' }] };
    // No broker: stored for gates that ask over HTTPS.
    expect(await publish('watchlist', file('w1.json', watchlist), false)).toMatchObject({ code: 0, output: expect.stringContaining('version 1 stored (no --mqtt') });

    const all = await master('compound=cuihu&site=north');
    expect(all.status).toBe(200);
    expect(all.body.items!.map((m) => [m.kind, m.version])).toEqual([
      ['residents', 2],
      ['watchlist', 1],
    ]);
    expect(all.body.items![1]).toMatchObject({ v: 1, compound: 'cuihu', data: watchlist });
    expect((await master('compound=cuihu&site=north&have=residents:1,watchlist:1')).body.items!.map((m) => [m.kind, m.version])).toEqual([['residents', 2]]);
    expect((await master('compound=cuihu&site=north&have=residents:2,watchlist:1,parking:4')).body.items).toEqual([]);
    expect((await master('compound=other&site=north')).body.items).toEqual([]);
  });

  it('says what is wrong with a bad master request and needs the credential', async () => {
    expect(await master('compound=cuihu&site=north', false)).toMatchObject({ status: 401 });
    expect(await master('site=north')).toMatchObject({ status: 400, body: { error: { message: 'compound missing or not an id' } } });
    expect(await master('compound=cuihu&site=north&have=residents')).toMatchObject({ status: 400, body: { error: { message: 'have: "residents" is not <kind>:<version>' } } });
  });

  it('refuses a file that is not valid master data, naming the problem, and stores nothing', async () => {
    const bad = { ...residents('x'), residents: [{ ...residents('x').residents[0]!, unit: '3栋2单元', cards: 'none' }] };
    const res = await publish('residents', file('bad.json', bad));
    expect(res.code).toBe(2);
    expect(res.output).toContain('not residents master data: data/residents/0/unit must match pattern "^[0-9A-Z]{1,6}-[0-9A-Z]{1,6}-[0-9A-Z]{1,6}$"; data/residents/0/cards must be array');
    expect((await publish('residents', file('broken.json', '{"units": ['))).output).toMatch(/broken\.json: .*JSON/);
    const usage = await consumers.run(['publish-master', '--pg', pg.url, '--compound', 'cuihu', '--kind', 'parking']);
    expect(usage).toMatchObject({ code: 2, output: expect.stringContaining('--kind parking: not one of residents, watchlist, patrol_plan, preregistrations') });
    expect(await pg.query("SELECT max(version) AS v FROM master_data WHERE kind = 'residents'")).toEqual([{ v: 2 }]);
  });
});
