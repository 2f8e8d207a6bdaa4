// Two gates of one compound through HQ's broker (real Mosquitto): a visitor in at one leaves at the other, presence holds across both, HQ's watchlist reaches both.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/gateway.js';
import type { App } from '../../gateway/http/app.js';
import { unitIdFor } from '../../gateway/store/residents.js';
import { masterTopic, type MasterData } from '../../sync/contract.js';
import { demoPasswords, demoYaml } from '../helpers/config.js';
import { tempDir } from '../helpers/gateway.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { connectDevice } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/wait.js';

const compound = 'cuihu';
let hq: Mosquitto;
let hqClient: MqttClient;

interface Gate {
  site: string;
  dataDir: string;
  gateway: Gateway;
  app: App;
  mqttPort: number;
  tokens: Record<string, string>;
}
const gates: Record<'north' | 'south', Gate> = {} as Record<'north' | 'south', Gate>;

async function startGate(name: 'north' | 'south'): Promise<Gate> {
  const site = parse(demoYaml) as { site: { id: string; name: string }; demo: { enabled: boolean }; sync?: unknown };
  site.site.id = `${name}-gate`;
  site.site.name = name === 'north' ? '北门' : '南门';
  site.demo.enabled = false;
  site.sync = { enabled: true, transport: 'mqtt', compound, batch_size: 50, max_backoff_s: 2, mqtt: { url: hq.url, username: name, password: `${name}-secret` } };
  const dataDir = tempDir();
  const config = parseConfig(stringify(site), `${name}.yaml`, { GUARDPOST_DATA: dataDir, GUARDPOST_HTTP_PORT: '0', GUARDPOST_MQTT_PORT: '0' });
  const gateway = new Gateway({ config, log: silentLogger() });
  const { mqttPort } = await gateway.start();
  const app = gateway.http!;
  const tokens: Record<string, string> = {};
  for (const [id, pin] of [['guard-li', '1111'], ['admin', '9999']] as const) {
    tokens[id] = (await app.inject({ method: 'POST', url: '/api/session', payload: { personId: id, pin } })).json().token as string;
  }
  return { site: site.site.id, dataDir, gateway, app, mqttPort, tokens };
}

async function api(gate: Gate, method: 'GET' | 'POST', url: string, payload?: object) {
  const res = await gate.app.inject({ method, url, headers: { authorization: `Bearer ${gate.tokens['guard-li']}` }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() };
}

async function masterVersion(gate: Gate, kind: string): Promise<number | undefined> {
  const res = await gate.app.inject({ method: 'GET', url: '/api/sync', headers: { authorization: `Bearer ${gate.tokens.admin}` } });
  return (res.json() as { sync: { masterVersions: Record<string, number> } }).sync.masterVersions[kind];
}

async function publishMaster(kind: MasterData['kind'], version: number, data: unknown): Promise<void> {
  const m: MasterData = { v: 1, compound, kind, version, publishedAt: Date.now(), data };
  await hqClient.publishAsync(masterTopic(compound, kind), JSON.stringify(m), { qos: 1, retain: true });
}

/** A device of one gate publishes an event to that gate's embedded broker; the decision it caused is returned. */
async function deviceEvent(gate: Gate, device: string, password: string, type: string, body: object) {
  const before = (await api(gate, 'GET', '/api/gate/decisions?limit=1')).body.decisions[0]?.id as string | undefined;
  const client = await connectDevice(gate.mqttPort, device, password);
  await client.publishAsync(`gp/dev/${device}/event/${type}`, JSON.stringify(body), { qos: 1 });
  await client.endAsync();
  return waitFor('the decision', async () => {
    const d = (await api(gate, 'GET', '/api/gate/decisions?limit=1')).body.decisions[0] as { id: string; outcome: string; reason: string } | undefined;
    return d && d.id !== before ? d : null;
  });
}

function insideAt(gate: Gate, subject: string): boolean {
  const db = new Database(join(gate.dataDir, 'guardpost.db'), { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM stays WHERE subject = ? AND out_at IS NULL').get(subject) !== undefined;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  hq = await startMosquitto([
    { username: 'north', password: 'north-secret' },
    { username: 'south', password: 'south-secret' },
    { username: 'hq', password: 'hq-secret' },
  ]);
  hqClient = await connectAsync(hq.url, { username: 'hq', password: 'hq-secret', reconnectPeriod: 0 });
  await publishMaster('residents', 1, {
    units: [{ code: '3-2-1201' }],
    residents: [{ id: 'hq-r1', unit: '3-2-1201', kind: 'owner', name: '张伟', list: 'resident', cards: ['700001'], plates: ['沪A70001'] }],
  });
  gates.north = await startGate('north');
  gates.south = await startGate('south');
  for (const gate of Object.values(gates)) await waitFor(`${gate.site} has HQ's residents`, async () => (await masterVersion(gate, 'residents')) === 1, 20_000);
}, 60_000);

afterAll(async () => {
  for (const gate of Object.values(gates)) await gate?.gateway.stop();
  await hqClient?.endAsync();
  await hq?.close();
});

describe('two gates of one compound', () => {
  it('lets a visitor registered at the north gate sign out at the south gate, and the north gate sees it', async () => {
    const { north, south } = gates;
    const registered = await api(north, 'POST', '/api/gate/visits', {
      name: '赵强', idType: 'mainland-id', idNumber: '110101199003077774', phone: '13912345678', hostUnitId: unitIdFor('3-2-1201'), hostName: '张伟',
      reason: '探亲访友', headcount: 1, expectedLeaveAt: Date.now() + 3600_000, confirmation: { method: 'call', confirmedBy: '张伟' },
    });
    expect(registered.status).toBe(201);
    const visitId = registered.body.visit.id as string;
    expect((await api(north, 'POST', `/api/gate/visits/${visitId}/pass`, {})).body.visit.status).toBe('inside');
    await waitFor('the visit at the south gate', async () => (await api(south, 'GET', '/api/gate/visits?status=inside')).body.visits.some((v: { id: string }) => v.id === visitId), 20_000);
    const out = await api(south, 'POST', `/api/gate/visits/${visitId}/sign-out`);
    expect(out.body.visit).toMatchObject({ status: 'left', pass: { status: 'closed' } });
    await waitFor('the sign-out at the north gate', async () => !(await api(north, 'GET', '/api/gate/visits?status=inside')).body.visits.some((v: { id: string }) => v.id === visitId), 20_000);
  }, 60_000);

  it('keeps anti-passback across both gates: in at the north gate, refused in at the south gate', async () => {
    const { north, south } = gates;
    const inNorth = await deviceEvent(north, 'reader-north-in', demoPasswords.reader, 'credential', { kind: 'card', value: '700001' });
    expect(inNorth).toMatchObject({ outcome: 'granted', reason: 'list-auto' });
    await waitFor('presence at the south gate', () => insideAt(south, 'resident:hq-r1'), 20_000);
    const inSouth = await deviceEvent(south, 'reader-north-in', demoPasswords.reader, 'credential', { kind: 'card', value: '700001' });
    expect(inSouth).toMatchObject({ outcome: 'denied', reason: 'anti-passback' });
    // Out at the south gate: the north gate lets them in again afterwards.
    expect(await deviceEvent(south, 'reader-north-out', 'demo-reader-out-pw', 'credential', { kind: 'card', value: '700001' })).toMatchObject({ outcome: 'granted' });
    await waitFor('the exit at the north gate', () => !insideAt(north, 'resident:hq-r1'), 20_000);
    expect(await deviceEvent(north, 'reader-north-in', demoPasswords.reader, 'credential', { kind: 'card', value: '700001' })).toMatchObject({ outcome: 'granted' });
  }, 90_000);

  it("refuses a plate at both gates within 15 s of HQ's watchlist change", async () => {
    await publishMaster('watchlist', 1, { entries: [{ id: 'w-1', kind: 'plate', value: '沪C99999', reason: '总部通报：盗抢车辆' }] });
    for (const gate of Object.values(gates)) {
      await waitFor(`${gate.site} applies the watchlist`, async () => (await masterVersion(gate, 'watchlist')) === 1, 15_000);
      const decision = await deviceEvent(gate, 'plate-north-in', 'demo-plate-pw', 'plate', { plate: '沪C99999' });
      expect(decision).toMatchObject({ outcome: 'denied', reason: 'watchlist' });
    }
  }, 60_000);
});
