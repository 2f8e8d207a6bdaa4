// What a real gate puts in its outbox matches the published record schemas: a gateway in-process, driven through its API and broker, every outbox row checked.
import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { demoPatrolPlanPath } from '../../../gateway/core/paths.js';
import { localDate } from '../../../gateway/core/time.js';
import { Gateway } from '../../../gateway/gateway.js';
import { databaseFileName } from '../../../gateway/store/db.js';
import type { App } from '../../../gateway/http/app.js';
import type { UpBatch } from '../../../sync/contract.js';
import { ContractChecker } from '../../../sync/hq-consumer/check.js';
import { streams } from '../../../sync/records.js';
import { demoPasswords, demoYaml } from '../../helpers/config.js';
import { tempDir } from '../../helpers/gateway.js';
import { connectDevice } from '../../helpers/mqtt.js';
import { waitFor } from '../../helpers/wait.js';

const tz = 'Asia/Shanghai';
const dataDir = tempDir();
let gateway: Gateway;
let app: App;
let reader: MqttClient | undefined;
const tokens: Record<string, string> = {};

async function api(method: 'GET' | 'POST' | 'PUT', url: string, who: string, payload?: unknown): Promise<{ status: number; body: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads whatever the route answered
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
}

/** Asserts the call worked: a step that fails here would leave its stream untested without saying so. */
async function ok(method: 'GET' | 'POST' | 'PUT', url: string, who: string, payload?: unknown) {
  const res = await api(method, url, who, payload);
  expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

// An ID number with a valid GB 11643 check character.
function mainlandId(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11]!;
}

beforeAll(async () => {
  const site = parse(demoYaml) as { demo: { enabled: boolean }; devices: Record<string, unknown>; video?: unknown };
  site.demo.enabled = false;
  // A camera that never answers and is not recorded: enough for footage requests and seals to be made.
  site.devices['cam-gate'] = { type: 'rtsp', kind: 'camera', name: '大门', main_url: 'rtsp://127.0.0.1:9/main', poll_s: 60 };
  site.video = { cameras: { 'cam-gate': { record: false } } };
  const config = parseConfig(stringify(site), 'records.yaml', { GUARDPOST_DATA: dataDir, GUARDPOST_HTTP_PORT: '0', GUARDPOST_MQTT_PORT: '0' });
  gateway = new Gateway({ config, log: silentLogger() });
  const { mqttPort } = await gateway.start();
  app = gateway.http!;
  for (const [id, pin] of [['guard-li', '1111'], ['sup-chen', '4444'], ['admin', '9999'], ['op-zhao', '3333']] as const) {
    tokens[id] = (await app.inject({ method: 'POST', url: '/api/session', payload: { personId: id, pin } })).json().token;
  }
  reader = await connectDevice(mqttPort, 'reader-north-in', demoPasswords.reader);
}, 60_000);

afterAll(async () => {
  await reader?.endAsync();
  await gateway?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the outbox against the published schemas', () => {
  it('every record a gate writes, of every kind of change, is valid by its stream schema', async () => {
    const today = localDate(Date.now(), tz);
    const csv = ['unit,kind,name,phone,cards,plates,list', '3-2-1201,owner,张伟,13800138000,3005127841,沪A12345,resident', ',,,,,苏E05XY7,blocked'].join('\n');
    const imported = await app.inject({ method: 'POST', url: '/api/gate/residents/import', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'text/csv' }, payload: csv });
    expect(imported.json()).toMatchObject({ rejected: [] });
    const unitId = (await ok('GET', '/api/gate/units?q=3-2-1201', 'guard-li')).units[0].id as string;

    // A card read: a device event and a decision (and the barrier's outcome: failed, nobody answers).
    await reader!.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: '3005127841' }), { qos: 1 });
    await waitFor('the decision', async () => (await ok('GET', '/api/gate/decisions?limit=10', 'guard-li')).decisions.length > 0);
    await ok('POST', '/api/gate/entry-points/north-in/open', 'guard-li', { reason: '业主忘带卡' });

    const visit = (
      await ok('POST', '/api/gate/visits', 'guard-li', {
        name: '赵强', idType: 'mainland-id', idNumber: mainlandId('11010519850312003'), phone: '13912345678', hostUnitId: unitId,
        reason: '探亲访友', headcount: 2, plate: '浙B12345', expectedLeaveAt: Date.now() + 2 * 3600_000,
      })
    ).visit;
    await ok('POST', `/api/gate/visits/${visit.id}/confirm`, 'guard-li', { method: 'call', confirmedBy: '张伟' });
    await ok('POST', `/api/gate/visits/${visit.id}/pass`, 'guard-li', {});
    await ok('POST', `/api/gate/visits/${visit.id}/sign-out`, 'guard-li', {});
    await ok('POST', '/api/gate/preregistrations', 'guard-li', { visitorName: '钱七', phone: '13700137000', hostUnitId: unitId, expectedOn: today });
    await ok('POST', '/api/gate/passes/worker', 'guard-li', { unitId, holderName: '孙师傅', idType: 'mainland-id', idNumber: mainlandId('32010219800101123'), phone: '13600136000', company: '装修公司', fromDate: today, toDate: today });
    const goods = (await ok('POST', '/api/gate/passes/goods-out', 'guard-li', { unitId, requestedBy: '张伟', items: [{ name: '沙发', quantity: 1 }], carrierName: '周师傅', carrierIdType: 'other', carrierIdNumber: 'X1234567', validOn: today })).pass;
    await ok('POST', `/api/gate/passes/${goods.id}/sign-off`, 'guard-li', {});

    await ok('POST', '/api/gate/shifts/sign-on', 'guard-li', {});
    await ok('POST', '/api/gate/shifts/sign-off', 'guard-li', { handoverNote: '一切正常' });
    const key = (await ok('POST', '/api/gate/keys', 'sup-chen', { label: '配电房', location: '1号楼' })).keys.find((k: { label: string }) => k.label === '配电房');
    await ok('POST', `/api/gate/keys/${key.id}/issue`, 'guard-li', { holderName: '电工老王', purpose: '检修', dueAt: Date.now() + 3600_000 });
    await ok('POST', `/api/gate/keys/${key.id}/return`, 'guard-li', {});

    const plan = JSON.parse(readFileSync(demoPatrolPlanPath, 'utf8')) as { checkpoints: { id: string; tag: string }[] };
    await ok('PUT', '/api/patrol/plan', 'sup-chen', { plan });
    const checkpoint = plan.checkpoints[0]!;
    await ok('POST', '/api/patrol/hits', 'guard-li', { tag: checkpoint.tag });
    await ok('POST', '/api/patrol/incidents', 'guard-li', { checkpoint: checkpoint.id, type: 'water-leak', note: '地面有积水' });
    const round = (await ok('GET', `/api/patrol/day?date=${today}`, 'sup-chen')).rounds[0];
    await ok('POST', '/api/patrol/reasons', 'sup-chen', { round: round.id, checkpoint: round.stops[0].checkpoint, reason: '对讲机故障' });

    const alarm = (await ok('GET', '/api/alarms?open=true', 'sup-chen')).alarms[0];
    await ok('POST', `/api/alarms/${alarm.id}/resolve`, 'sup-chen', { resolution: '已处理' });

    const span = { cameras: ['cam-gate'], start: Date.now() - 3600_000, end: Date.now() - 1800_000 };
    const grant = await ok('POST', '/api/video/grants', 'op-zhao', { ...span, reason: '住户报失自行车', minutes: 30 });
    await ok('POST', `/api/video/grants/${(grant.grant ?? grant).id}/approve`, 'sup-chen', {});
    const seal = await ok('POST', '/api/video/seals', 'sup-chen', { ...span, title: '自行车被盗', reason: '公安调取', expiresAt: null });
    await ok('POST', `/api/video/seals/${(seal.seal ?? seal).id}/release`, 'sup-chen', { reason: '案件已结' });

    // Every outbox row as it would go up, batch by batch, through the consumer's own check.
    const db = new Database(join(dataDir, databaseFileName), { readonly: true });
    const rows = db.prepare('SELECT seq, record_id, stream, payload, created_at FROM outbox ORDER BY seq').all() as { seq: number; record_id: string; stream: string; payload: string; created_at: number }[];
    db.close();
    const checker = new ContractChecker();
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const stream of new Set(rows.map((r) => r.stream))) {
      seen.add(stream);
      const batch: UpBatch = {
        v: 1, compound: 'cuihu', site: 'north', stream, sentAt: Date.now(),
        records: rows.filter((r) => r.stream === stream).map((r) => ({ id: r.record_id, seq: r.seq, at: r.created_at, data: JSON.parse(r.payload) as unknown })),
      };
      const check = checker.checkBatch(Buffer.from(JSON.stringify(batch)));
      if (!check.ok) problems.push(`${stream}: ${check.reason}`);
      else {
        if (check.checked.unchecked) problems.push(`${stream}: no schema published for it`);
        for (const r of check.checked.rejected) problems.push(`${stream} ${r.record.id}: ${r.reason}`);
      }
    }
    expect(problems).toEqual([]);
    // device_events come from the reader above; a stream missing here went untested.
    expect([...seen].sort()).toEqual([...streams].sort());
  });
});
