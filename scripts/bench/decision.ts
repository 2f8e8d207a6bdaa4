// Benchmark: card read over MQTT -> decision recorded durably -> barrier command out, with 100,000 residents loaded.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { defaultConfigPath, packageRoot } from '../../gateway/core/paths.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { startRtspSource } from '../../test/video/rtsp.js';
import { percentile, round2 } from './stats.js';
import { fill } from './sync.js';

const residents = 100_000;
const decisions = Number(process.env.BENCH_DECISIONS ?? 10_000);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const card = (i: number) => String(5_000_000_000 + i);

/** Records waiting in the outbox, as the sync reports them (null until its first count). */
async function outboxDepth(base: string, token: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const { sync } = (await (await fetch(`${base}/api/sync`, { headers: { authorization: `Bearer ${token}` } })).json()) as { sync: { outboxDepth: number | null } };
    if (sync.outboxDepth !== null) return sync.outboxDepth;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the sync never reported its outbox depth');
}


/** Cameras that have not yet written a segment or are not recording now. */
async function notRecording(base: string, token: string, expected: number): Promise<string[]> {
  const cams = (await (await fetch(`${base}/api/video/cameras`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string; recorder: { state: string; lastSegmentAt: number | null } }[];
  if (cams.length !== expected) return [`${cams.length} cameras instead of ${expected}`];
  return cams.filter((c) => c.recorder.state !== 'recording' || c.recorder.lastSegmentAt === null).map((c) => `${c.id}: ${c.recorder.state}`);
}

/**
 * With `cameras`, that many cameras record (real ffmpeg copying a stream from a real RTSP source)
 * while the decisions are timed: DESIGN's budget holds "while 8 cameras record and sync drains a
 * backlog". With `backlog`, that many records wait in the outbox and the sync worker drains them to a
 * real Mosquitto as HQ's broker during the timing.
 */
export async function run(opts: { cameras?: number; backlog?: number } = {}): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'guardpost-bench-'));
  const configPath = join(dir, 'bench.yaml');
  // A light source: here the test pattern is encoded on the same two cores, unlike real cameras, and
  // copying costs the same whatever the picture size.
  const rtsp = opts.cameras ? await startRtspSource({ width: 640, height: 360, fps: 10 }) : null;
  let site = readFileSync(defaultConfigPath, 'utf8').replace('demo:\n  enabled: true', 'demo:\n  enabled: false');
  if (rtsp) {
    const cams = Array.from({ length: opts.cameras! }, (_, i) => `  cam-${i}:\n    type: rtsp\n    kind: camera\n    main_url: ${rtsp.url('main')}\n`).join('');
    site = site.replace('devices:\n', `devices:\n${cams}`) + '\nvideo:\n  segment_s: 10\n  min_free_gb: 0\n';
  }
  const hq = opts.backlog ? await startMosquitto([{ username: 'gate', password: 'gate-secret' }, { username: 'hq', password: 'hq-secret' }]) : null;
  const hqConsumer = hq ? await connectAsync(hq.url, { username: 'hq', password: 'hq-secret', reconnectPeriod: 0 }) : null;
  if (hq && hqConsumer) {
    await hqConsumer.subscribeAsync('guardpost/v1/+/+/up/#', { qos: 0 });
    site += `\nsync:\n  enabled: true\n  transport: mqtt\n  mqtt:\n    url: ${hq.url}\n    username: gate\n    password: gate-secret\n`;
    fill(join(dir, 'data'), opts.backlog!);
  }
  writeFileSync(configPath, site);
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const gateway = spawn(process.execPath, [join(packageRoot, 'dist/gateway/main.js'), 'start', '--config', configPath], {
    cwd: packageRoot,
    env: { ...process.env, GUARDPOST_DATA: join(dir, 'data'), GUARDPOST_HTTP_PORT: String(httpPort), GUARDPOST_MQTT_PORT: String(mqttPort) },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/api/health`)).ok) break;
      } catch {
        if (i > 200) throw new Error('gateway did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const login = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId: 'admin', pin: '9999' }) });
    const { token } = (await login.json()) as { token: string };
    const rows = ['unit,kind,name,phone,cards,plates,list'];
    for (let i = 0; i < residents; i++) rows.push(`${1 + (i % 30)}-${1 + (i % 4)}-${1000 + Math.floor(i / 120)},owner,住户${i},,${card(i)},,resident`);
    const imported = await fetch(`${base}/api/gate/residents/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: rows.join('\n') });
    const report = (await imported.json()) as { credentials: number };
    if (report.credentials !== residents) throw new Error(`import gave ${JSON.stringify(report).slice(0, 200)}`);

    const reader = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'reader-north-in', password: 'demo-reader-pw', reconnectPeriod: 0 });
    const barrier = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'barrier-north', password: 'demo-barrier-pw', reconnectPeriod: 0 });
    for (const c of [reader, barrier]) (c.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    await barrier.subscribeAsync('gp/dev/barrier-north/cmd/#', { qos: 1 });
    await barrier.publishAsync('gp/dev/barrier-north/status', 'online', { qos: 1, retain: true });
    let arrived: (() => void) | null = null;
    barrier.on('message', (_topic, payload) => {
      arrived?.();
      const { id } = JSON.parse(payload.toString()) as { id: string };
      void barrier.publishAsync('gp/dev/barrier-north/ack', JSON.stringify({ id, ok: true }), { qos: 1 });
    });
    if (opts.cameras) {
      for (let i = 0; (await notRecording(base, token, opts.cameras)).length > 0; i++) {
        if (i > 120) throw new Error(`cameras not recording: ${JSON.stringify(await notRecording(base, token, opts.cameras))}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const depthBefore = opts.backlog ? await outboxDepth(base, token) : 0;
    const samples: number[] = [];
    for (let n = 0; n < decisions; n++) {
      const i = (n * 7919) % residents;
      const opened = new Promise<void>((resolve) => (arrived = resolve));
      const t = process.hrtime.bigint();
      reader.publish('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: card(i) }), { qos: 1 });
      await opened;
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    await reader.endAsync();
    await barrier.endAsync();
    // The figure only means something if the backlog really drained meanwhile...
    if (opts.backlog) {
      const depthAfter = await outboxDepth(base, token);
      if (!(depthAfter < depthBefore)) throw new Error(`the sync did not drain during the decision bench (${depthBefore} -> ${depthAfter})`);
    }
    // ...and every camera really was recording.
    if (opts.cameras && (await notRecording(base, token, opts.cameras)).length > 0) throw new Error('a camera stopped recording during the decision bench');
    const suffix = `${opts.cameras ? `_while_${opts.cameras}_cameras_record` : ''}${opts.backlog ? '_during_drain' : ''}`;
    return { [`decision_p50_ms${suffix}`]: round2(percentile(samples, 50)), [`decision_p99_ms${suffix}`]: round2(percentile(samples, 99)) };
  } finally {
    gateway.kill('SIGTERM');
    await new Promise((r) => gateway.once('exit', r));
    await rtsp?.stop();
    await hqConsumer?.endAsync();
    await hq?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
