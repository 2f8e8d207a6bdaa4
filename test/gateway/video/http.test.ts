// The video API end to end against real ffmpeg and a real RTSP camera: review grants, playback, seals, exports, snapshots.
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { Gateway } from '../../../gateway/gateway.js';
import type { App } from '../../../gateway/http/app.js';
import type { CameraView, ExportView, GrantView, PlaybackView, SealView, SnapshotView, StorageView, Timeline } from '../../../gateway/http/video-contracts.js';
import { demoPasswords, demoYaml } from '../../helpers/config.js';
import { tempDir } from '../../helpers/gateway.js';
import { connectDevice } from '../../helpers/mqtt.js';
import { waitFor } from '../../helpers/wait.js';
import { startRtspSource, type RtspSource } from '../../video/rtsp.js';

let rtsp: RtspSource;
let gateway: Gateway;
let app: App;
let mqttPort: number;
let httpPort: number;
const dataDir = tempDir();
const tokens: Record<string, string> = {};

async function login(personId: string, pin: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/session', payload: { personId, pin } });
  return res.json().token as string;
}

function call(method: 'GET' | 'POST', url: string, who: string, payload?: unknown) {
  return app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

beforeAll(async () => {
  rtsp = await startRtspSource({ user: 'viewer', password: 'cam-secret' });
  const site = parse(demoYaml) as { demo: { enabled: boolean }; devices: Record<string, unknown>; video?: unknown };
  site.demo.enabled = false;
  site.devices['cam-north'] = {
    type: 'rtsp',
    kind: 'camera',
    name: '北门摄像机',
    main_url: rtsp.url('main'),
    sub_url: rtsp.url('sub'),
    username: 'viewer',
    password: 'cam-secret',
    poll_s: 5,
  };
  site.video = { segment_s: 2, cameras: { 'cam-north': { links: ['north-in'] } } };
  const config = parseConfig(stringify(site), 'video.yaml', { GUARDPOST_DATA: dataDir, GUARDPOST_HTTP_PORT: '0', GUARDPOST_MQTT_PORT: '0' });
  gateway = new Gateway({ config, log: silentLogger() });
  ({ mqttPort, httpPort } = await gateway.start());
  app = gateway.http!;
  tokens.op = await login('op-zhao', '3333');
  tokens.sup = await login('sup-chen', '4444');
  tokens.guard = await login('guard-li', '1111');
  await waitFor('six seconds of footage', async () => {
    const t = (await call('GET', `/api/video/cameras/cam-north/timeline?from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`, 'op')).json() as Timeline;
    const span = t.recorded[0];
    return span && span.end - span.start >= 6000;
  }, 40_000);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await rtsp?.stop();
});

describe('cameras', () => {
  it('lists the camera recording, with its sub-stream for live tiles and its measured bitrate', async () => {
    const res = await call('GET', '/api/video/cameras', 'op');
    expect(res.statusCode).toBe(200);
    const [cam] = res.json() as CameraView[];
    expect(cam).toMatchObject({ id: 'cam-north', deviceState: 'online', live: 'mse', hasSubStream: true, ptz: false, resolution: '640x360' });
    expect(cam!.recorder.state).toBe('recording');
    expect(cam!.bitrateKbps).toBeGreaterThan(0);
    // The camera's password is nowhere in what screens get.
    expect(res.body).not.toContain('cam-secret');
  });

  it('guards do not watch cameras', async () => {
    expect((await call('GET', '/api/video/cameras', 'guard')).statusCode).toBe(403);
  });

  it('streams a live tile as fragmented MP4 over an authenticated websocket, without a token refused', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/video/cameras/cam-north/live?token=${tokens.op}&stream=sub`);
    const messages: (string | Buffer)[] = [];
    ws.on('message', (data, isBinary) => messages.push(isBinary ? (data as Buffer) : data.toString()));
    await waitFor('hello, init and a fragment', () => messages.length >= 3, 20_000);
    ws.close();
    const hello = JSON.parse(messages[0] as string);
    expect(hello).toMatchObject({ type: 'hello', width: 320, height: 180 });
    expect(hello.mime).toMatch(/^video\/mp4; codecs="avc1\./);
    expect((messages[1] as Buffer).subarray(4, 8).toString()).toBe('ftyp');
    expect((messages[2] as Buffer).subarray(4, 8).toString()).toMatch(/moof|styp|prft/);
    const cams = (await call('GET', '/api/video/cameras', 'op')).json() as CameraView[];
    expect(cams[0]!.liveMime).toBe(hello.mime);
    const refused = new WebSocket(`ws://127.0.0.1:${httpPort}/api/video/cameras/cam-north/live?token=nope`);
    const code = await new Promise<number>((resolve) => refused.on('close', (c) => resolve(c)));
    expect(code).toBe(4401);
  });

  it('serves a current picture from the stream', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/video/cameras/cam-north/snapshot?token=${tokens.op}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.rawPayload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });
});

describe('review: request, approve, time-boxed playback', () => {
  let grant: GrantView;
  let span: { start: number; end: number };

  beforeAll(async () => {
    const t = (await call('GET', `/api/video/cameras/cam-north/timeline?from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`, 'op')).json() as Timeline;
    span = { start: t.recorded[0]!.start, end: t.recorded[0]!.start + 5000 };
  });

  it('refuses playback without a grant', async () => {
    const res = await call('POST', '/api/video/playback', 'op', { grant: '0190a0a0-0000-7000-8000-000000000000', camera: 'cam-north', ...span });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.problem).toBe('grant-missing');
  });

  it("records an operator's request as pending and refuses playback until a supervisor approves", async () => {
    const res = await call('POST', '/api/video/grants', 'op', { cameras: ['cam-north'], ...span, reason: '业主反映车辆被剐蹭', minutes: 30 });
    expect(res.statusCode).toBe(201);
    grant = res.json() as GrantView;
    expect(grant).toMatchObject({ status: 'pending', requestedBy: 'op-zhao', requestedByName: expect.any(String), selfGranted: false, validUntil: null });
    const pending = (await call('GET', '/api/video/grants?status=pending', 'sup')).json() as GrantView[];
    expect(pending.map((g) => g.id)).toContain(grant.id);
    const early = await call('POST', '/api/video/playback', 'op', { grant: grant.id, camera: 'cam-north', ...span });
    expect(early.json().error.problem).toBe('grant-pending');
    // An operator cannot approve their own request.
    expect((await call('POST', `/api/video/grants/${grant.id}/approve`, 'op', {})).statusCode).toBe(403);
  });

  it('plays back an approved span with the viewer watermark, served with range requests, and audits it', async () => {
    const approved = (await call('POST', `/api/video/grants/${grant.id}/approve`, 'sup', { minutes: 10, note: '同意调阅' })).json() as GrantView;
    expect(approved.status).toBe('approved');
    expect(approved.validUntil! - approved.decidedAt!).toBe(10 * 60_000);
    const res = await call('POST', '/api/video/playback', 'op', { grant: grant.id, camera: 'cam-north', ...span });
    expect(res.statusCode).toBe(200);
    const view = res.json() as PlaybackView;
    expect(view.watermark).toMatchObject({ viewerId: 'op-zhao', viewer: '赵敏' });
    const part = await app.inject({ method: 'GET', url: `${view.url}?token=${tokens.op}`, headers: { range: 'bytes=0-99' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toMatch(/^bytes 0-99\/\d+$/);
    expect(part.rawPayload.length).toBe(100);
    const whole = await app.inject({ method: 'GET', url: `${view.url}?token=${tokens.op}` });
    expect(whole.headers['content-type']).toBe('video/mp4');
    const file = join(dataDir, 'played.mp4');
    writeFileSync(file, whole.rawPayload);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    expect(probe.stdout.trim()).toBe('h264');
    // Another person cannot use the clip's address.
    expect((await app.inject({ method: 'GET', url: `${view.url}?token=${tokens.sup}` })).statusCode).toBe(404);
    const db = new Database(join(dataDir, 'guardpost.db'), { readonly: true });
    const played = db.prepare("SELECT actor, target, detail FROM audit_log WHERE action = 'video.playback'").all() as { actor: string; target: string; detail: string }[];
    db.close();
    expect(played).toEqual([{ actor: 'op-zhao', target: grant.id, detail: expect.stringContaining(view.clipId) }]);
  });

  it('refuses playback outside the granted span or camera', async () => {
    const res = await call('POST', '/api/video/playback', 'op', { grant: grant.id, camera: 'cam-north', start: span.start, end: span.end + 60_000 });
    expect(res.json().error.problem).toBe('outside-grant');
  });

  it('ends the review when revoked', async () => {
    expect((await call('POST', `/api/video/grants/${grant.id}/revoke`, 'sup', {})).json().status).toBe('revoked');
    const res = await call('POST', '/api/video/playback', 'op', { grant: grant.id, camera: 'cam-north', ...span });
    expect(res.json().error.problem).toBe('grant-revoked');
  });

  it("grants a supervisor's own request at once, marked as self-granted", async () => {
    const res = await call('POST', '/api/video/grants', 'sup', { cameras: ['cam-north'], ...span, reason: '主管自行调阅核查' });
    expect(res.json()).toMatchObject({ status: 'approved', selfGranted: true, decidedBy: 'sup-chen' });
  });
});

describe('seals and exports', () => {
  let seal: SealView;

  it('only supervisors seal', async () => {
    const t = (await call('GET', `/api/video/cameras/cam-north/timeline?from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`, 'op')).json() as Timeline;
    const body = { title: '北门剐蹭', reason: '业主报案，保留证据', cameras: ['cam-north'], start: t.recorded[0]!.start, end: t.recorded[0]!.start + 4000, expiresAt: null };
    expect((await call('POST', '/api/video/seals', 'op', body)).statusCode).toBe(403);
    const res = await call('POST', '/api/video/seals', 'sup', body);
    expect(res.statusCode).toBe(201);
    seal = res.json() as SealView;
    expect(seal).toMatchObject({ status: 'active', createdBy: 'sup-chen' });
    expect(seal.bytes).toBeGreaterThan(0);
    const tl = (await call('GET', `/api/video/cameras/cam-north/timeline?from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`, 'op')).json() as Timeline;
    expect(tl.sealed).toEqual([{ start: body.start, end: body.end, sealId: seal.id, title: '北门剐蹭' }]);
  });

  it('exports the sealed clip with a manifest of SHA-256 sums and the audit trail', async () => {
    await call('POST', `/api/video/seals/${seal.id}/extend`, 'sup', { expiresAt: Date.now() + 365 * 86_400_000, reason: '案件移交派出所' });
    const res = await call('POST', `/api/video/seals/${seal.id}/export`, 'sup');
    expect(res.statusCode).toBe(201);
    const exp = res.json() as ExportView;
    expect(exp.files.map((f) => f.name).sort()).toEqual(['cam-north.mp4', 'manifest.json']);
    for (const f of exp.files) {
      const file = await app.inject({ method: 'GET', url: `/api/video/exports/${exp.id}/files/${f.name}?token=${tokens.sup}` });
      expect(file.statusCode).toBe(200);
      expect(createHash('sha256').update(file.rawPayload).digest('hex')).toBe(f.sha256);
    }
    const manifest = (await app.inject({ method: 'GET', url: `/api/video/exports/${exp.id}/files/manifest.json?token=${tokens.sup}` })).json();
    expect(manifest.export.by).toBe('sup-chen');
    expect(manifest.files[0]).toMatchObject({ name: 'cam-north.mp4', camera: 'cam-north' });
    expect(manifest.audit.map((a: { action: string }) => a.action)).toEqual(['video.seal', 'video.seal.extend']);
    // Names not in the export, and paths that climb out, are refused.
    expect((await app.inject({ method: 'GET', url: `/api/video/exports/${exp.id}/files/..%2F..%2Fguardpost.db?token=${tokens.sup}` })).statusCode).toBe(404);
  });

  it('releases a seal once, audited', async () => {
    const res = await call('POST', `/api/video/seals/${seal.id}/release`, 'sup', { reason: '案件已结案' });
    expect(res.json().status).toBe('released');
    expect((await call('POST', `/api/video/seals/${seal.id}/release`, 'sup', { reason: '案件已结案' })).statusCode).toBe(409);
  });
});

describe('storage and event snapshots', () => {
  it('plans storage from the measured bitrate', async () => {
    const res = await call('GET', '/api/video/storage', 'sup');
    const view = res.json() as StorageView;
    expect(view.retentionDays).toBe(60);
    expect(view.cameras[0]!.bitrateKbps).toBeGreaterThan(0);
    expect(view.capacityDays).toBeGreaterThan(0);
    expect(view.disk.usedByVideoBytes).toBeGreaterThan(0);
    expect((await call('GET', '/api/video/storage', 'op')).statusCode).toBe(403);
  });

  it('takes a picture from the linked camera for a gate decision and keeps it with the record', async () => {
    const reader = await connectDevice(mqttPort, 'reader-north-in', demoPasswords.reader);
    await reader.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ kind: 'card', value: '99887766' }), { qos: 1 });
    await reader.endAsync();
    const decision = await waitFor('the decision', async () => (await call('GET', '/api/gate/decisions?limit=1', 'guard')).json().decisions?.[0]);
    const snaps = await waitFor('its snapshot', async () => {
      const list = (await call('GET', `/api/video/snapshots?subject=${decision.id}`, 'guard')).json() as SnapshotView[];
      return list.length > 0 ? list : null;
    }, 20_000);
    expect(snaps[0]).toMatchObject({ camera: 'cam-north', subjectKind: 'decision', subjectId: decision.id });
    const image = await app.inject({ method: 'GET', url: `${snaps[0]!.url}?token=${tokens.guard}` });
    expect(image.rawPayload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(existsSync(join(dataDir, 'recordings', '.snapshots'))).toBe(true);
    expect(readdirSync(join(dataDir, 'recordings', '.snapshots')).length).toBe(1);
  });
});

describe('a camera that stops answering', () => {
  it('goes offline with an alarm, and comes back and records again on its own, the outage kept as a gap', async () => {
    await rtsp.stop();
    const alarm = await waitFor('the offline alarm', async () => {
      const { alarms } = (await call('GET', '/api/alarms?open=true', 'op')).json() as { alarms: { kind: string; subject: string }[] };
      return alarms.find((a) => a.kind === 'video.camera-offline' && a.subject === 'cam-north');
    }, 30_000);
    expect(alarm).toBeDefined();
    const [offline] = (await call('GET', '/api/video/cameras', 'op')).json() as CameraView[];
    expect(offline!.deviceState).toBe('offline');
    expect(['no-stream', 'stalled']).toContain(offline!.recorder.state);
    const stoppedAt = Date.now();
    await rtsp.restart();
    await waitFor('recording again', async () => {
      const [cam] = (await call('GET', '/api/video/cameras', 'op')).json() as CameraView[];
      return cam!.deviceState === 'online' && cam!.recorder.state === 'recording' && cam!.recorder.lastSegmentAt! > stoppedAt;
    }, 40_000);
    const { alarms } = (await call('GET', '/api/alarms?open=true', 'op')).json() as { alarms: { kind: string; subject: string }[] };
    expect(alarms.some((a) => a.kind === 'video.camera-offline')).toBe(false);
    const t = (await call('GET', `/api/video/cameras/cam-north/timeline?from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`, 'op')).json() as Timeline;
    expect(t.gaps.length).toBeGreaterThan(0);
    expect(t.gaps.at(-1)!.end).toBeGreaterThan(stoppedAt);
  }, 90_000);
});
