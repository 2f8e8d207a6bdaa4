// The gate end to end through the API and the broker: residents, unknown cars, visitors, watchlist, workers, goods.
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { zonedInstant } from '../../../gateway/core/time.js';
import { Gateway } from '../../../gateway/gateway.js';
import { openStore } from '../../../gateway/store/db.js';
import type { App } from '../../../gateway/http/app.js';
import { demoYaml } from '../../helpers/config.js';
import { freePort, tempDir } from '../../helpers/gateway.js';
import { hashSecret } from '../../../gateway/core/secret.js';
import { connectDevice } from '../../helpers/mqtt.js';
import { waitFor } from '../../helpers/wait.js';

const tz = 'Asia/Shanghai';
// Monday 23 November 2026, 10:00 in Shanghai: outside the two-guard peak periods of the demo config.
const clock = new ManualClock(zonedInstant(2026, 11, 23, '10:00', tz));
const dataDir = tempDir();
const snapshotDir = tempDir();
const pushPort = await freePort();
// A second plate camera at the entry, pushing over HTTP with its picture (the plate-http driver).
const pushCamera = `  plate-push-in:
    type: plate-http
    kind: plate-camera
    format: generic
    listen_host: 127.0.0.1
    listen_port: ${pushPort}
    auth: { kind: token, token_hash: "${await hashSecret('camera-token-1', { N: 1024, r: 8, p: 1 })}" }
    snapshot_dir: ${snapshotDir}
`;
const config = parseConfig(
  demoYaml
    .replace('demo:\n  enabled: true', 'demo:\n  enabled: false')
    .replace('devices:\n', `devices:\n${pushCamera}`)
    .replace('devices: [reader-north-in, plate-north-in]', 'devices: [reader-north-in, plate-north-in, plate-push-in]'),
  'demo.yaml',
  {
  GUARDPOST_DATA: dataDir,
  GUARDPOST_HTTP_PORT: '0',
  GUARDPOST_MQTT_PORT: '0',
  },
);
const gateway = new Gateway({ config, log: silentLogger(), clock });
let app: App;
let mqttPort: number;
let reader: MqttClient;
let plates: MqttClient;
let exitPlates: MqttClient;
let barrier: MqttClient;
const barrierCommands: string[] = [];
const tokens: Record<string, string> = {};

// An ID number with a valid GB 11643 check character (computed, not copied).
function mainlandId(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11]!;
}

const residentsCsv = [
  'unit,kind,name,phone,cards,plates,list',
  '3-2-1201,owner,张伟,13800138000,3005127841,沪A12345,resident',
  '1-1-101,tenant,李娜,13900139000,0011223344,沪AD12345,resident',
  ',staff,王师傅,15000150000,1234509876,沪B6D789,staff',
].join('\n');

async function api(method: 'GET' | 'POST' | 'DELETE', url: string, who: string, payload?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}`, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads whatever the route answered
}

async function decisionsAfter(count: number) {
  return waitFor(`${count} decisions`, async () => {
    const { body } = await api('GET', '/api/gate/decisions?limit=100', 'guard-li');
    return body.decisions.length >= count ? body.decisions : null;
  });
}

const unitId = async (code: string): Promise<string> => (await api('GET', `/api/gate/units?q=${code}`, 'guard-li')).body.units[0].id;

beforeAll(async () => {
  ({ mqttPort } = await gateway.start());
  app = gateway.http!;
  for (const [id, pin] of [['guard-li', '1111'], ['sup-chen', '4444'], ['admin', '9999'], ['op-zhao', '3333']]) {
    tokens[id!] = (await app.inject({ method: 'POST', url: '/api/session', payload: { personId: id, pin } })).json().token;
  }
  const imported = await app.inject({ method: 'POST', url: '/api/gate/residents/import', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'text/csv' }, payload: residentsCsv });
  expect(imported.json()).toMatchObject({ residents: 3, rejected: [] });

  reader = await connectDevice(mqttPort, 'reader-north-in', 'demo-reader-pw');
  plates = await connectDevice(mqttPort, 'plate-north-in', 'demo-plate-pw');
  exitPlates = await connectDevice(mqttPort, 'plate-north-out', 'demo-plate-out-pw');
  barrier = await connectDevice(mqttPort, 'barrier-north', 'demo-barrier-pw', { will: { topic: 'gp/dev/barrier-north/status', payload: Buffer.from('offline'), retain: true, qos: 1 } });
  // The barrier as its firmware behaves: acknowledge every command it is sent.
  await barrier.subscribeAsync('gp/dev/barrier-north/cmd/#', { qos: 1 });
  barrier.on('message', (topic, payload) => {
    barrierCommands.push(topic);
    const { id } = JSON.parse(payload.toString()) as { id: string };
    void barrier.publishAsync('gp/dev/barrier-north/ack', JSON.stringify({ id, ok: true }), { qos: 1 });
  });
  await barrier.publishAsync('gp/dev/barrier-north/status', 'online', { qos: 1, retain: true });
  await waitFor('barrier online', () => gateway.http && app.inject({ method: 'GET', url: '/api/health' }).then((r) => r.json().devices.find((d: { id: string }) => d.id === 'barrier-north').state === 'online'));
});

afterAll(async () => {
  await Promise.all([reader, plates, exitPlates, barrier].map((c) => c?.endAsync()));
  await gateway.stop();
});

describe('gate', () => {
  it("opens the barrier by itself for a resident's card, and refuses the same card coming in again", async () => {
    await reader.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: '03005127841' }), { qos: 1 });
    const [decision] = await waitFor('barrier opened', async () => {
      const d = await decisionsAfter(1);
      return d[0].barrierStatus === 'opened' ? d : null;
    });
    expect(decision).toMatchObject({ outcome: 'granted', reason: 'list-auto', subjectName: '张伟', entryPoint: 'north-in', credential: '******7841', list: 'resident' });
    expect(barrierCommands).toEqual(['gp/dev/barrier-north/cmd/open']);

    await reader.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: '3005127841' }), { qos: 1 });
    const [again] = await decisionsAfter(2);
    expect(again).toMatchObject({ outcome: 'denied', reason: 'anti-passback', barrierStatus: 'none' });
    expect(barrierCommands).toHaveLength(1);
  });

  it('makes an unknown car wait for the guard, who opens with a reason; it is then let out by itself', async () => {
    await plates.publishAsync('gp/dev/plate-north-in/event/plate', JSON.stringify({ plate: '苏E05XY7', confidence: 0.9 }), { qos: 1 });
    const pending = await waitFor('the car in the queue', async () => (await api('GET', '/api/gate/decisions?pending=true', 'guard-li')).body.decisions[0]);
    expect(pending).toMatchObject({ outcome: 'pending', reason: 'unknown', credential: '苏E05XY7', barrierStatus: 'none' });
    expect(barrierCommands).toHaveLength(1);

    const badReason = await api('POST', `/api/gate/decisions/${pending.id}/resolve`, 'guard-li', { action: 'open', reason: 'felt like it' });
    expect(badReason.status).toBe(400);
    const opened = await api('POST', `/api/gate/decisions/${pending.id}/resolve`, 'guard-li', { action: 'open', reason: '送货车辆' });
    expect(opened.body.decision).toMatchObject({ outcome: 'granted', reason: 'manual', resolvedBy: 'guard-li', resolution: '送货车辆', barrierStatus: 'opened' });
    expect((await api('POST', `/api/gate/decisions/${pending.id}/resolve`, 'guard-li', { action: 'refuse', reason: 'x' })).status).toBe(409);
    expect((await api('GET', '/api/gate/decisions?pending=true', 'guard-li')).body.decisions).toEqual([]);

    await exitPlates.publishAsync('gp/dev/plate-north-out/event/plate', JSON.stringify({ plate: '苏E·05XY7' }), { qos: 1 });
    const [out] = await decisionsAfter(4);
    expect(out).toMatchObject({ entryPoint: 'north-out', outcome: 'granted', credential: '苏E05XY7' });
  });

  it("shows the camera's picture of a waiting car to the guard", async () => {
    const picture = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');
    const push = await fetch(`http://127.0.0.1:${pushPort}/plate?token=camera-token-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ plate: '闽D66666', confidence: 0.88, picture: picture.toString('base64') }),
    });
    expect(push.status).toBe(200);
    const waiting = await waitFor('the pushed car in the queue', async () =>
      (await api('GET', '/api/gate/decisions?pending=true', 'guard-li')).body.decisions.find((d: { credential: string }) => d.credential === '闽D66666'),
    );
    expect(waiting.snapshot).toBe(`/api/gate/decisions/${waiting.id}/snapshot`);
    const unauthorised = await app.inject({ method: 'GET', url: waiting.snapshot });
    expect(unauthorised.statusCode).toBe(401);
    const image = await app.inject({ method: 'GET', url: `${waiting.snapshot}?token=${tokens['guard-li']}` });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/jpeg');
    expect(image.rawPayload.equals(picture)).toBe(true);
    await api('POST', `/api/gate/decisions/${waiting.id}/resolve`, 'guard-li', { action: 'refuse', reason: '未登记' });
  });

  it('opens the barrier by hand only with a reason from the list, and audits it', async () => {
    expect((await api('POST', '/api/gate/entry-points/north-in/open', 'guard-li', { reason: 'because' })).status).toBe(400);
    expect((await api('POST', '/api/gate/entry-points/north-in/open', 'op-zhao', { reason: '业主忘带卡' })).status).toBe(403);
    const { status, body } = await api('POST', '/api/gate/entry-points/north-in/open', 'guard-li', { reason: '业主忘带卡' });
    expect(status).toBe(200);
    expect(body.decision).toMatchObject({ outcome: 'granted', reason: 'manual', credentialKind: 'manual', resolvedBy: 'guard-li', barrierStatus: 'opened' });
  });

  it('registers a visitor, refuses a pass until the resident confirms, passes and signs them out; a double tap makes one visit', async () => {
    const hostUnitId = await unitId('3-2-1201');
    const idNumber = mainlandId('11010519850312003');
    const request = {
      name: '赵强',
      idType: 'mainland-id',
      idNumber,
      phone: '+86 139 1234 5678',
      hostUnitId,
      reason: '探亲访友',
      headcount: 2,
      plate: '浙B12345',
      expectedLeaveAt: clock.now() + 2 * 3600_000,
    };
    const key = { 'idempotency-key': 'visit-zhao-000001' };
    const [first, second] = await Promise.all([api('POST', '/api/gate/visits', 'guard-li', request, key), api('POST', '/api/gate/visits', 'guard-li', request, key)]);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.visit.id).toBe(first.body.visit.id);
    const visit = first.body.visit;
    expect(visit).toMatchObject({ status: 'registered', hostUnitCode: '3-2-1201', phoneMasked: '139****5678', idNumberMasked: `110***********${idNumber.slice(-4)}`, plate: '浙B12345' });
    expect((await api('GET', '/api/gate/visits?status=today', 'guard-li')).body.visits.filter((v: { name: string }) => v.name === '赵强')).toHaveLength(1);

    const refused = await api('POST', `/api/gate/visits/${visit.id}/pass`, 'guard-li', {});
    expect(refused).toMatchObject({ status: 409, body: { error: { problem: 'not_confirmed' } } });
    const confirmed = await api('POST', `/api/gate/visits/${visit.id}/confirm`, 'guard-li', { method: 'call', confirmedBy: '张伟' });
    expect(confirmed.body.visit).toMatchObject({ status: 'confirmed', confirmation: 'call', confirmedBy: '张伟' });
    const passed = await api('POST', `/api/gate/visits/${visit.id}/pass`, 'guard-li', { tempCard: '0099887766' });
    expect(passed.body.visit.status).toBe('inside');
    const pass = passed.body.visit.pass;
    expect(pass).toMatchObject({ kind: 'visitor', status: 'active', inside: true, tempCardMasked: '****7766', plate: '浙B12345', validUntil: visit.expectedLeaveAt });
    expect(pass.code).toMatch(/^[2-9A-HJ-NP-Z]{6}$/);
    expect((await api('GET', '/api/gate/visits?status=inside', 'guard-li')).body.visits.map((v: { id: string }) => v.id)).toContain(visit.id);

    // A returning visitor is found by phone, with masked numbers and the last visit to fill the form.
    const lookup = await api('GET', '/api/gate/visitors/lookup?phone=13912345678', 'guard-li');
    expect(lookup.body.visitor).toMatchObject({ name: '赵强', phoneMasked: '139****5678', plate: '浙B12345', visits: 1, lastVisit: { hostUnitCode: '3-2-1201', reason: '探亲访友', headcount: 2 } });

    const out = await api('POST', `/api/gate/visits/${visit.id}/sign-out`, 'guard-li');
    expect(out.body.visit).toMatchObject({ status: 'left', pass: { status: 'closed', inside: false } });
    expect((await api('POST', `/api/gate/visits/${visit.id}/sign-out`, 'guard-li')).status).toBe(409);
  });

  it('lets a pre-registered visitor in on their code, confirmed by the booking', async () => {
    const hostUnitId = await unitId('1-1-101');
    const pre = await api('POST', '/api/gate/preregistrations', 'guard-li', { visitorName: '孙丽', phone: '13712345678', hostUnitId, hostName: '李娜', expectedOn: '2026-11-23' });
    expect(pre.status).toBe(201);
    const { code } = pre.body.preregistration;
    expect((await api('GET', `/api/gate/preregistrations/${code}`, 'guard-li')).body.preregistration).toMatchObject({ visitorName: '孙丽', hostUnitCode: '1-1-101', used: false });
    const visit = await api('POST', '/api/gate/visits', 'guard-li', {
      name: '孙丽',
      idType: 'passport',
      idNumber: 'E12345678',
      phone: '13712345678',
      hostUnitId,
      reason: '探亲访友',
      headcount: 1,
      expectedLeaveAt: clock.now() + 3600_000,
      preregistrationCode: code,
    });
    expect(visit.body.visit).toMatchObject({ status: 'confirmed', confirmation: 'pre-registered', confirmedBy: '李娜' });
    const reuse = await api('POST', '/api/gate/visits', 'guard-li', { name: '孙丽', idType: 'passport', idNumber: 'E12345678', phone: '13712345678', hostUnitId, reason: 'x', headcount: 1, expectedLeaveAt: clock.now() + 3600_000, preregistrationCode: code });
    expect(reuse).toMatchObject({ status: 400, body: { error: { field: 'preregistrationCode', problem: 'used' } } });
  });

  it("signs a visitor out when their temporary card is read at the exit", async () => {
    const hostUnitId = await unitId('1-1-101');
    const visit = (
      await api('POST', '/api/gate/visits', 'guard-li', {
        name: '韩梅',
        idType: 'passport',
        idNumber: 'K24681357',
        phone: '13822223333',
        hostUnitId,
        reason: '送货',
        headcount: 1,
        expectedLeaveAt: clock.now() + 3600_000,
        confirmation: { method: 'in-person', confirmedBy: '李娜' },
      })
    ).body.visit;
    await api('POST', `/api/gate/visits/${visit.id}/pass`, 'guard-li', { tempCard: '7700112233' });
    const exitReader = await connectDevice(mqttPort, 'reader-north-out', 'demo-reader-out-pw');
    await exitReader.publishAsync('gp/dev/reader-north-out/event/credential', JSON.stringify({ value: '7700112233' }), { qos: 1 });
    await exitReader.endAsync();
    const left = await waitFor('the visit signed out', async () => {
      const v = (await api('GET', '/api/gate/visits?status=today', 'guard-li')).body.visits.find((x: { id: string }) => x.id === visit.id);
      return v.status === 'left' ? v : null;
    });
    expect(left.pass).toMatchObject({ status: 'closed', inside: false });
  });

  it('lets only a supervisor pass an unconfirmed visitor, with an audited note', async () => {
    const hostUnitId = await unitId('3-2-1201');
    const visit = (
      await api('POST', '/api/gate/visits', 'guard-li', { name: '卫五', idType: 'passport', idNumber: 'H11223344', phone: '13833334444', hostUnitId, reason: '维修', headcount: 1, expectedLeaveAt: clock.now() + 3600_000 })
    ).body.visit;
    expect((await api('POST', `/api/gate/visits/${visit.id}/override`, 'guard-li', { note: '业主电话不通' })).status).toBe(403);
    const overridden = await api('POST', `/api/gate/visits/${visit.id}/override`, 'sup-chen', { note: '物业派单维修，业主电话不通' });
    expect(overridden.body.visit).toMatchObject({ status: 'confirmed', confirmation: 'supervisor-override', confirmedBy: 'sup-chen' });
    expect((await api('POST', `/api/gate/visits/${visit.id}/pass`, 'guard-li', {})).body.visit.status).toBe('inside');
    const db = new Database(join(dataDir, 'guardpost.db'), { readonly: true });
    const audit = db.prepare("SELECT actor, detail FROM audit_log WHERE action = 'visitor.override' AND target = ?").get(visit.id) as { actor: string; detail: string };
    db.close();
    expect(audit.actor).toBe('sup-chen');
    expect(JSON.parse(audit.detail)).toMatchObject({ note: '物业派单维修，业主电话不通' });
  });

  it('refuses bad input with a clear 400 naming the field, writing nothing', async () => {
    const hostUnitId = await unitId('3-2-1201');
    const base = { name: '钱七', idType: 'mainland-id', idNumber: mainlandId('31010119900101123'), phone: '13600001111', hostUnitId, reason: '维修', headcount: 1, expectedLeaveAt: clock.now() + 3600_000 };
    const visitsBefore = (await api('GET', '/api/gate/visits?status=today&limit=500', 'guard-li')).body.visits.length;
    const wrongCheck = base.idNumber.slice(0, 17) + (base.idNumber.endsWith('1') ? '2' : '1');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ idNumber: wrongCheck }, 'idNumber', 'checksum'],
      [{ plate: '哈A12345' }, 'plate', 'province'],
      [{ plate: '沪A1234567' }, 'plate', 'format'],
      [{ phone: '12345' }, 'phone', 'format'],
      [{ hostUnitId: 'no-such-unit' }, 'hostUnitId', 'unknown-unit'],
      [{ expectedLeaveAt: clock.now() - 1 }, 'expectedLeaveAt', 'in-past'],
    ];
    for (const [change, field, problem] of cases) {
      const res = await api('POST', '/api/gate/visits', 'guard-li', { ...base, ...change });
      expect({ change, status: res.status, field: res.body.error?.field, problem: res.body.error?.problem }).toEqual({ change, status: 400, field, problem });
    }
    const schema = await api('POST', '/api/gate/visits', 'guard-li', { ...base, headcount: 0 });
    expect(schema.status).toBe(400);
    expect(schema.body.error.message).toMatch(/headcount/);
    expect((await api('GET', '/api/gate/visits?status=today&limit=500', 'guard-li')).body.visits).toHaveLength(visitsBefore);
  });

  it('stops a watchlisted visitor and car, with an alarm, and refuses the car at the barrier', async () => {
    expect((await api('POST', '/api/gate/watchlist', 'guard-li', { kind: 'plate', value: '粤B88888', reason: '多次闯杆' })).status).toBe(403);
    expect((await api('POST', '/api/gate/watchlist', 'sup-chen', { kind: 'plate', value: '粤 B·88888', reason: '多次闯杆' })).status).toBe(200);
    const check = await api('POST', '/api/gate/watchlist/check', 'guard-li', { plate: '粤B88888' });
    expect(check.body.hits).toEqual([{ kind: 'plate', reason: '多次闯杆' }]);
    const hostUnitId = await unitId('3-2-1201');
    const stopped = await api('POST', '/api/gate/visits', 'guard-li', {
      name: '周八',
      idType: 'passport',
      idNumber: 'G87654321',
      phone: '13500002222',
      hostUnitId,
      reason: '送货',
      headcount: 1,
      plate: '粤B88888',
      expectedLeaveAt: clock.now() + 3600_000,
    });
    expect(stopped).toMatchObject({ status: 409, body: { error: { code: 'conflict', problem: 'watchlist' } } });
    expect(stopped.body.error.message).toContain('多次闯杆');
    const alarms = (await api('GET', '/api/alarms?open=true', 'op-zhao')).body.alarms;
    expect(alarms.some((a: { kind: string }) => a.kind === 'watchlist-hit')).toBe(true);

    await plates.publishAsync('gp/dev/plate-north-in/event/plate', JSON.stringify({ plate: '粤B88888' }), { qos: 1 });
    const decision = await waitFor('the watchlisted car refused', async () =>
      (await api('GET', '/api/gate/decisions', 'guard-li')).body.decisions.find((d: { credential: string }) => d.credential === '粤B88888'),
    );
    expect(decision).toMatchObject({ outcome: 'denied', reason: 'watchlist', barrierStatus: 'none' });
  });

  it('raises an overstay alarm when a pass runs out with the visitor inside, cleared at sign-out', async () => {
    const hostUnitId = await unitId('1-1-101');
    const visit = (
      await api('POST', '/api/gate/visits', 'guard-li', {
        name: '吴九',
        idType: 'other',
        idNumber: 'TEMP-01',
        phone: '13300003333',
        hostUnitId,
        reason: '维修',
        headcount: 1,
        expectedLeaveAt: clock.now() + 30 * 60_000,
        confirmation: { method: 'intercom', confirmedBy: '李娜' },
      })
    ).body.visit;
    await api('POST', `/api/gate/visits/${visit.id}/pass`, 'guard-li', {});
    clock.advance(31 * 60_000);
    const alarm = (await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.find((a: { kind: string; subject: string }) => a.kind === 'overstay' && a.subject === visit.id);
    expect(alarm?.title).toContain('吴九');
    expect((await api('GET', '/api/gate/visits?status=inside', 'guard-li')).body.visits.find((v: { id: string }) => v.id === visit.id).overstay).toBe(true);
    await api('POST', `/api/gate/visits/${visit.id}/sign-out`, 'guard-li');
    const after = (await api('GET', '/api/alarms', 'guard-li')).body.alarms.find((a: { id: string }) => a.id === alarm.id);
    expect(after).toMatchObject({ resolvedBy: 'system', resolution: 'visitor signed out' });
  });

  it('lists renovation workers still inside at curfew (19:00) with an alarm each', async () => {
    const unit = await unitId('3-2-1201');
    const pass = (
      await api('POST', '/api/gate/passes/worker', 'guard-li', {
        unitId: unit,
        holderName: '郑师傅',
        idType: 'mainland-id',
        idNumber: mainlandId('34010119800101001'),
        phone: '13100004444',
        company: '安居装修',
        fromDate: '2026-11-23',
        toDate: '2026-12-05',
      })
    ).body.pass;
    expect(pass).toMatchObject({ kind: 'worker', status: 'active', inside: false, unitCode: '3-2-1201', detail: { curfew: '19:00', company: '安居装修' } });
    const entered = await api('POST', `/api/gate/passes/${pass.id}/enter`, 'guard-li', { entryPoint: 'north-in' });
    expect(entered.body.pass.inside).toBe(true);
    clock.advance(zonedInstant(2026, 11, 23, '18:59', tz) - clock.now());
    expect((await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.filter((a: { kind: string }) => a.kind === 'worker-curfew')).toEqual([]);
    clock.advance(60_000);
    const curfew = (await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.filter((a: { kind: string }) => a.kind === 'worker-curfew');
    expect(curfew).toHaveLength(1);
    expect(curfew[0].title).toContain('郑师傅');
    const inside = (await api('GET', '/api/gate/passes?kind=worker&status=inside', 'guard-li')).body.passes;
    expect(inside.map((p: { holderName: string }) => p.holderName)).toEqual(['郑师傅']);
    // Leaving is always allowed; coming back in after curfew is not.
    expect((await api('POST', `/api/gate/passes/${pass.id}/leave`, 'guard-li', { entryPoint: 'north-out' })).body.pass.inside).toBe(false);
    const late = await api('POST', `/api/gate/passes/${pass.id}/enter`, 'guard-li', { entryPoint: 'north-in' });
    expect(late).toMatchObject({ status: 409, body: { error: { problem: 'outside-window' } } });
  });

  it('signs off a goods-out pass once, at the gate, on its day', async () => {
    const unit = await unitId('1-1-101');
    const pass = (
      await api('POST', '/api/gate/passes/goods-out', 'guard-li', {
        unitId: unit,
        requestedBy: '李娜',
        items: [{ name: '旧冰箱', quantity: 1 }, { name: '纸箱', quantity: 6 }],
        carrierName: '搬家师傅',
        carrierIdType: 'mainland-id',
        carrierIdNumber: mainlandId('44030119750505002'),
        validOn: '2026-11-23',
      })
    ).body.pass;
    expect(pass).toMatchObject({ kind: 'goods-out', status: 'active', detail: { requestedBy: '李娜', items: [{ name: '旧冰箱', quantity: 1 }, { name: '纸箱', quantity: 6 }] } });
    expect(pass.detail.carrierIdNumber).toMatch(/^\d{3}\*+\d{3}[\dX]$/);
    const signed = await api('POST', `/api/gate/passes/${pass.id}/sign-off`, 'guard-li');
    expect(signed.body.pass).toMatchObject({ status: 'closed' });
    expect(signed.body.pass.closedAt).toBe(clock.now());
    expect((await api('POST', `/api/gate/passes/${pass.id}/sign-off`, 'guard-li')).status).toBe(409);
  });

  it('raises an alarm when fewer guards are signed on than the period needs', async () => {
    // 19:01 is inside the 17:00-19:30 two-guard period.
    expect((await api('POST', '/api/gate/shifts/sign-on', 'guard-li')).body).toMatchObject({ required: 2 });
    clock.advance(15_000);
    const alarm = (await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.find((a: { kind: string }) => a.kind === 'min-guards');
    expect(alarm.title).toMatch(/在岗保安不足/);
    expect((await api('POST', '/api/gate/shifts/sign-on', 'sup-chen')).body.onDuty).toHaveLength(2);
    expect((await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.some((a: { kind: string }) => a.kind === 'min-guards')).toBe(false);
    const off = await api('POST', '/api/gate/shifts/sign-off', 'sup-chen', { handoverNote: '东门道闸有异响，已报修' });
    expect(off.body.recent[0]).toMatchObject({ personId: 'sup-chen', handoverNote: '东门道闸有异响，已报修' });
  });

  it('keeps the key log and flags an overdue key', async () => {
    const keys = (await api('POST', '/api/gate/keys', 'admin', { label: '水泵房', location: '地下一层' })).body.keys;
    const key = keys.find((k: { label: string }) => k.label === '水泵房');
    const issued = await api('POST', `/api/gate/keys/${key.id}/issue`, 'guard-li', { holderName: '维修工老刘', purpose: '水泵检修', dueAt: clock.now() + 3600_000 });
    expect(issued.body.keys.find((k: { id: string }) => k.id === key.id).loan).toMatchObject({ holderName: '维修工老刘', overdue: false });
    expect((await api('POST', `/api/gate/keys/${key.id}/issue`, 'guard-li', { holderName: 'x', purpose: 'y', dueAt: clock.now() + 3600_000 })).status).toBe(409);
    clock.advance(3600_000);
    expect((await api('GET', '/api/gate/keys', 'guard-li')).body.keys.find((k: { id: string }) => k.id === key.id).loan.overdue).toBe(true);
    expect((await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.some((a: { kind: string }) => a.kind === 'key-overdue')).toBe(true);
    await api('POST', `/api/gate/keys/${key.id}/return`, 'guard-li');
    expect((await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.some((a: { kind: string }) => a.kind === 'key-overdue')).toBe(false);
  });

  it('records a barrier that never acknowledges as failed, with an alarm, and lets the guard retry', async () => {
    barrier.removeAllListeners('message');
    const pending = api('POST', '/api/gate/entry-points/north-in/open', 'guard-li', { reason: '设备故障' });
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(3000);
    const { body } = await pending;
    expect(body.decision).toMatchObject({ barrierStatus: 'failed', barrierDetail: 'no acknowledgement within 3000 ms' });
    expect((await api('GET', '/api/alarms?open=true', 'guard-li')).body.alarms.some((a: { kind: string }) => a.kind === 'barrier-failed')).toBe(true);
    barrier.on('message', (_topic, payload) => {
      const { id } = JSON.parse(payload.toString()) as { id: string };
      void barrier.publishAsync('gp/dev/barrier-north/ack', JSON.stringify({ id, ok: true }), { qos: 1 });
    });
    const retried = await api('POST', `/api/gate/decisions/${body.decision.id}/retry`, 'guard-li');
    expect(retried.body.decision.barrierStatus).toBe('opened');
  });

  it('keeps every decision in the outbox and the audit chain intact', () => {
    const db = new Database(join(dataDir, 'guardpost.db'), { readonly: true });
    const missing = db.prepare("SELECT count(*) AS n FROM decisions d WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.stream = 'decisions' AND o.record_id = d.id)").get() as { n: number };
    const decisions = db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number };
    const audited = db.prepare("SELECT count(*) AS n FROM audit_log WHERE action IN ('access.decision', 'barrier.manual_open')").get() as { n: number };
    db.close();
    expect(decisions.n).toBeGreaterThan(5);
    expect(missing.n).toBe(0);
    expect(audited.n).toBeGreaterThanOrEqual(decisions.n);
    const store = openStore({ dataDir, now: () => clock.now() });
    expect(store.audit.verify()).toMatchObject({ ok: true });
    store.close();
  });
});
