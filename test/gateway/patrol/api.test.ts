// Patrol through the API and the broker: plan edits, checkpoint readers over MQTT, the alarm, review, CSV, incidents.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { zonedInstant } from '../../../gateway/core/time.js';
import { Gateway } from '../../../gateway/gateway.js';
import type { App } from '../../../gateway/http/app.js';
import type { PatrolPlan } from '../../../gateway/http/patrol-contracts.js';
import { demoYaml } from '../../helpers/config.js';
import { tempDir } from '../../helpers/gateway.js';
import { connectDevice } from '../../helpers/mqtt.js';
import { waitFor } from '../../helpers/wait.js';

const tz = 'Asia/Shanghai';
const at = (hhmm: string) => zonedInstant(2026, 11, 23, hhmm, tz);
const clock = new ManualClock(at('21:50'));
const config = parseConfig(demoYaml.replace('demo:\n  enabled: true', 'demo:\n  enabled: false'), 'demo.yaml', {
  GUARDPOST_DATA: tempDir(),
  GUARDPOST_HTTP_PORT: '0',
  GUARDPOST_MQTT_PORT: '0',
});
const gateway = new Gateway({ config, log: silentLogger(), clock });
let app: App;
let garage: MqttClient;
const tokens: Record<string, string> = {};

const plan: PatrolPlan = {
  checkpoints: [
    { id: 'garage', name: '地下车库', tag: 'NFC-CP-GARAGE', device: 'cp-garage', key_area: true },
    { id: 'west-wall', name: '西侧围墙', tag: 'NFC-CP-WEST-WALL', key_area: false },
  ],
  routes: [
    {
      id: 'night',
      name: '夜间巡逻',
      ordered: true,
      stops: [
        { checkpoint: 'garage', offset_min: 5, tolerance_min: 3, band_min: 5, min_walk_s: 30 },
        { checkpoint: 'west-wall', offset_min: 15, tolerance_min: 3, band_min: 5, min_walk_s: 60 },
      ],
    },
  ],
  schedules: [{ id: 'n22', route: 'night', times: ['22:00'], window_min: 30 }],
  personnel: [{ tag: 'P-LI-0001', person: 'guard-li', name: '李建国' }],
  wands: [],
};

async function api(method: 'GET' | 'POST' | 'PUT', url: string, who: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body, json: () => res.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads whatever the route answered
}

beforeAll(async () => {
  const { mqttPort } = await gateway.start();
  app = gateway.http!;
  for (const [id, pin] of [['guard-li', '1111'], ['sup-chen', '4444'], ['op-zhao', '3333']]) {
    tokens[id!] = (await app.inject({ method: 'POST', url: '/api/session', payload: { personId: id, pin } })).json().token;
  }
  garage = await connectDevice(mqttPort, 'cp-garage', 'demo-cp-garage-pw');
});
afterAll(async () => {
  await garage?.endAsync();
  await gateway.stop();
});

describe('patrol API', () => {
  it('lets a supervisor set the plan, refusing an impossible one with the reason', async () => {
    expect((await api('PUT', '/api/patrol/plan', 'guard-li', { plan })).status).toBe(403);
    const bad = structuredClone(plan);
    bad.routes[0]!.stops[1]!.checkpoint = 'nowhere';
    const refused = await api('PUT', '/api/patrol/plan', 'sup-chen', { plan: bad });
    expect(refused.status).toBe(400);
    expect(refused.json().error.message).toContain('route "night" goes to checkpoint "nowhere", which the plan does not have');
    const set = await api('PUT', '/api/patrol/plan', 'sup-chen', { plan });
    expect(set.status).toBe(200);
    expect(set.json()).toMatchObject({ version: 1, createdBy: 'sup-chen', effectiveFrom: clock.now() });
    expect((await api('GET', '/api/patrol/plan', 'guard-li')).json().plan.routes[0].name).toBe('夜间巡逻');
  });

  it('takes a checkpoint reader over MQTT, alarms the missed point on time, and shows the day to the supervisor', async () => {
    clock.advance(at('22:04') - clock.now());
    // The reader at the garage: the guard taps his own tag there.
    await garage.publishAsync('gp/dev/cp-garage/event/checkpoint', JSON.stringify({ tag: 'P-LI-0001' }), { qos: 1 });
    // The west wall's window closes at 22:23.
    clock.advance(at('22:23') - clock.now());
    const none = (await api('GET', '/api/alarms?open=true', 'op-zhao')).json().alarms.filter((a: { kind: string }) => a.kind === 'patrol-missed');
    expect(none).toEqual([]);
    clock.advance(2000);
    const alarms = (await api('GET', '/api/alarms?open=true', 'op-zhao')).json().alarms.filter((a: { kind: string }) => a.kind === 'patrol-missed');
    expect(alarms.map((a: { title: string }) => a.title)).toEqual(['漏巡：西侧围墙（夜间巡逻 22:15）']);

    const day = (await api('GET', '/api/patrol/day?date=2026-11-23', 'sup-chen')).json();
    expect(day.rounds).toHaveLength(1);
    expect(day.rounds[0]).toMatchObject({ status: 'incomplete', guard: '李建国' });
    expect(day.rounds[0].stops.map((s: { status: string }) => s.status)).toEqual(['on-time', 'missed']);
    expect(day.summary).toMatchObject({ rounds: 1, missed: 1, completionRate: 0 });
  });

  it('keeps the supervisor reason, exports CSV and refuses bad queries', async () => {
    const roundId = (await api('GET', '/api/patrol/day?date=2026-11-23', 'sup-chen')).json().rounds[0].id;
    expect((await api('POST', '/api/patrol/reasons', 'guard-li', { round: roundId, checkpoint: 'west-wall', reason: 'x' })).status).toBe(403);
    const reason = await api('POST', '/api/patrol/reasons', 'sup-chen', { round: roundId, checkpoint: 'west-wall', reason: '西墙路灯坏，改日补巡' });
    expect(reason.json().round.stops[1]).toMatchObject({ status: 'missed', reason: '西墙路灯坏，改日补巡' });
    const csv = await app.inject({ method: 'GET', url: '/api/patrol/day.csv?date=2026-11-23', headers: { authorization: `Bearer ${tokens['sup-chen']}` } });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="patrol-2026-11-23.csv"');
    expect(csv.body).toContain('夜间巡逻,未完成,西侧围墙,否,22:15:00,漏巡,,,,西墙路灯坏，改日补巡');
    expect((await api('GET', '/api/patrol/day?date=23-11-2026', 'sup-chen')).status).toBe(400);
    expect((await api('GET', '/api/patrol/trend?days=61', 'sup-chen')).status).toBe(400);
    const trend = (await api('GET', '/api/patrol/trend?days=2', 'sup-chen')).json();
    expect(trend.days.at(-1)).toMatchObject({ date: '2026-11-23', rounds: 1, missed: 1 });
  });

  it('records a guard’s incident at a checkpoint on the control-room alarm list', async () => {
    const bad = await api('POST', '/api/patrol/incidents', 'guard-li', { checkpoint: 'nowhere', type: 'damage', note: '' });
    expect(bad.status).toBe(400);
    const made = await api('POST', '/api/patrol/incidents', 'guard-li', { checkpoint: 'garage', type: 'water-leak', note: 'B1 东北角地面积水' });
    expect(made.status).toBe(201);
    expect(made.json().incident).toMatchObject({ checkpointName: '地下车库', type: 'water-leak', guard: '李建国', photo: null });
    const alarm = await waitFor('the incident alarm', async () =>
      (await api('GET', '/api/alarms?open=true', 'op-zhao')).json().alarms.find((a: { kind: string }) => a.kind === 'patrol-incident'),
    );
    expect(alarm.title).toBe('巡更事件：地下车库（漏水）');
    expect((await api('GET', '/api/patrol/incidents?date=2026-11-23', 'op-zhao')).json().incidents).toHaveLength(1);
  });

  it('takes a hit typed in by hand for a tag that would not read, audited', async () => {
    const res = await api('POST', '/api/patrol/hits', 'guard-li', { tag: 'NFC-CP-WEST-WALL', at: at('22:16') });
    expect(res.status).toBe(204);
    expect((await api('POST', '/api/patrol/hits', 'guard-li', { tag: 'NO-SUCH-TAG' })).json().error.problem).toBe('unknown-tag');
    const day = (await api('GET', '/api/patrol/day?date=2026-11-23', 'sup-chen')).json();
    expect(day.rounds[0].stops[1]).toMatchObject({ status: 'on-time', hitSource: 'manual', guard: '李建国' });
    const alarms = (await api('GET', '/api/alarms', 'op-zhao')).json().alarms.filter((a: { kind: string }) => a.kind === 'patrol-missed');
    expect(alarms[0]).toMatchObject({ resolution: 'resolved-late', resolvedBy: 'system' });
  });
});
