// The gateway as a real process: the demo site end to end, start-up refusals, kill -9 durability, the CLI.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationsDir, packageRoot } from '../../gateway/core/paths.js';
import { readMigrations } from '../../gateway/store/migrate.js';
import { verifySecret } from '../../gateway/core/secret.js';
import { demoPasswords, demoYaml, quietDemoConfig } from '../helpers/config.js';
import { freePort, gatewayMain, startGateway, tempDir, type RunningGateway } from '../helpers/gateway.js';
import { connectDevice, connectRefusal } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/wait.js';

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.kill()));
});

async function start(opts: Parameters<typeof startGateway>[0] = {}): Promise<RunningGateway> {
  const gw = await startGateway(opts);
  running.push(gw);
  return gw;
}

function cli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const run = spawnSync(process.execPath, [gatewayMain, ...args], {
    cwd: packageRoot,
    encoding: 'utf8',
    env: { ...process.env, GUARDPOST_CONFIG: '', ...opts.env },
    input: opts.input ?? '',
    timeout: 20_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

async function login(gw: RunningGateway, personId: string, pin: string): Promise<string> {
  const res = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId, pin }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('gateway process', () => {
  it('runs the demo site: every device online, simulated events in the store, on /metrics and on the API', async () => {
    const gw = await start();
    const health = await waitFor('every demo device online', async () => {
      const h = (await (await fetch(`${gw.httpUrl}/api/health`)).json()) as { status: string; devices: { id: string; state: string }[] };
      return h.devices.length === 8 && h.devices.every((d) => d.state === 'online') ? h : null;
    });
    expect(health.status).toBe('ok');

    const token = await login(gw, 'guard-li', '1111');
    const events = await waitFor('simulated card, plate and checkpoint events', async () => {
      const res = await fetch(`${gw.httpUrl}/api/events?limit=50`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { events: { type: string; detail: Record<string, unknown> }[] };
      const types = new Set(body.events.map((e) => e.type));
      return types.has('credential') && types.has('plate') && types.has('checkpoint') ? body.events : null;
    });
    // Card numbers never leave the gateway unmasked.
    const card = events.find((e) => e.type === 'credential');
    expect(card?.detail.value).toMatch(/^\*+\d{4}$/);

    const metrics = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(metric(metrics, 'guardpost_device_events_total', 'type="credential"')).toBeGreaterThan(0);
    expect(metric(metrics, 'guardpost_device_state', 'device="barrier-north",kind="barrier",state="online"')).toBe(1);
    expect(metrics).toMatch(/^guardpost_outbox_depth \d+/m);
    expect(metrics).toMatch(/^guardpost_store_bytes \d+/m);

    expect(await gw.stop()).toBe(0);
    expect(gw.output()).toContain('stopped cleanly');
    const db = new Database(join(gw.dataDir, 'guardpost.db'), { readonly: true });
    const stored = db.prepare('SELECT count(*) AS n FROM device_events').get() as { n: number };
    const outbox = db.prepare("SELECT count(*) AS n FROM outbox WHERE stream = 'device_events'").get() as { n: number };
    db.close();
    expect(stored.n).toBeGreaterThanOrEqual(events.length);
    expect(outbox.n).toBe(stored.n);

    const verify = cli(['audit', 'verify'], { env: { GUARDPOST_DATA: gw.dataDir } });
    expect(verify.out).toMatch(/audit log verified: \d+ entries, chain intact/);
    expect(verify.code).toBe(0);
  });

  it('refuses wrong MQTT passwords and keeps each device to its own topics; garbage is counted, not fatal', async () => {
    const dir = tempDir();
    const gw = await start({ config: quietDemoConfig(dir) });
    expect(await connectRefusal(gw.mqttPort, 'reader-north-in', 'not-the-password')).toMatch(/Bad username or password|Not authorized/i);
    expect(await connectRefusal(gw.mqttPort, '', '')).toMatch(/Bad username or password|Not authorized/i);

    const barrierCmds: string[] = [];
    const barrier = await connectDevice(gw.mqttPort, 'barrier-north', demoPasswords.barrier);
    await barrier.subscribeAsync('gp/dev/barrier-north/cmd/#', { qos: 1 });
    barrier.on('message', (topic) => barrierCmds.push(topic));

    // The reader pretends to be the barrier: the broker drops the connection (MQTT 3.1.1 has no negative ack).
    for (const topic of ['gp/dev/barrier-north/event/state', 'gp/dev/barrier-north/cmd/open']) {
      const intruder = await connectDevice(gw.mqttPort, 'reader-north-in', demoPasswords.reader);
      const closed = new Promise<void>((r) => intruder.once('close', () => r()));
      intruder.publish(topic, JSON.stringify({ id: 'x', position: 'up' }), { qos: 1 });
      await closed;
      intruder.end(true);
    }
    const reader = await connectDevice(gw.mqttPort, 'reader-north-in', demoPasswords.reader);
    // mqtt.js turns a 0x80 SUBACK into an error; the connection stays up.
    await expect(reader.subscribeAsync('gp/dev/barrier-north/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    // Malformed payload on a topic the reader does own: counted, and the connection stays.
    await reader.publishAsync('gp/dev/reader-north-in/event/credential', '{"value": 30051', { qos: 1 });
    await reader.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: '3005127841' }), { qos: 1 });

    const metrics = await waitFor('rejections counted', async () => {
      const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
      return metric(text, 'guardpost_input_rejected_total', 'reason="payload is not a JSON object"') === 1 &&
        metric(text, 'guardpost_input_rejected_total', 'source="reader-north-in",reason="topic-not-allowed"') === 2 &&
        metric(text, 'guardpost_input_rejected_total', 'source="reader-north-in",reason="subscription-not-allowed"') === 1
        ? text
        : null;
    });
    expect(metric(metrics, 'guardpost_device_events_total', 'type="credential"')).toBe(1);
    expect(metric(metrics, 'guardpost_device_events_total', 'type="state"')).toBe(0);
    expect(barrierCmds).toEqual([]);
    await reader.endAsync();
    await barrier.endAsync();
    expect(gw.output()).toContain('rejected input');
    // Neither card numbers nor passwords reach the log.
    expect(gw.output()).not.toContain('3005127841');
    expect(gw.output()).not.toContain('not-the-password');
    expect(gw.output()).not.toContain(demoPasswords.reader);
  });

  it('loses no acknowledged event when killed with -9 during a burst, and the database stays intact', async () => {
    const dir = tempDir();
    const config = quietDemoConfig(dir);
    const gw = await start({ config });
    const reader = await connectDevice(gw.mqttPort, 'reader-north-in', demoPasswords.reader);
    const acked: string[] = [];
    let killed = false;
    void (async () => {
      for (let i = 0; !killed && i < 100_000; i++) {
        const value = String(4_000_000_000 + i);
        // Several in flight at once, as a busy gate would have.
        const batch = [0, 1, 2, 3].map((k) => String(Number(value) * 10 + k));
        const results = await Promise.allSettled(batch.map((v) => reader.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: v }), { qos: 1 })));
        results.forEach((r, k) => r.status === 'fulfilled' && acked.push(batch[k]!));
      }
    })();
    await waitFor("1,500 acknowledged events", () => acked.length >= 1500);
    killed = true;
    await gw.kill();
    // In-flight publishes never settle once the broker is gone: judge exactly what was acknowledged by now.
    const acknowledged = [...acked];
    reader.end(true);

    const again = await start({ config, dataDir: gw.dataDir });
    await again.stop();
    const db = new Database(join(gw.dataDir, 'guardpost.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const stored = new Set((db.prepare("SELECT json_extract(data, '$.credential.value') AS v FROM device_events").all() as { v: string }[]).map((r) => r.v));
    db.close();
    const lost = acknowledged.filter((v) => !stored.has(v));
    expect(acknowledged.length).toBeGreaterThanOrEqual(1500);
    expect(lost).toEqual([]);
  });

  it('never acknowledges an event it could not record: the device keeps it and sends it again', async () => {
    const dir = tempDir();
    const gw = await start({ config: quietDemoConfig(dir) });
    // Another connection makes every insert fail, as a full disk would.
    const db = new Database(join(gw.dataDir, 'guardpost.db'));
    db.exec("CREATE TRIGGER disk_full BEFORE INSERT ON device_events BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    const reader = await connectDevice(gw.mqttPort, 'reader-north-in', demoPasswords.reader);
    const closed = new Promise<void>((r) => reader.once('close', () => r()));
    let acked = false;
    reader.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: '3005127841' }), { qos: 1 }).then(() => (acked = true), () => undefined);
    await closed;
    reader.end(true);
    expect(acked).toBe(false);
    db.exec('DROP TRIGGER disk_full');
    const again = await connectDevice(gw.mqttPort, 'reader-north-in', demoPasswords.reader);
    await again.publishAsync('gp/dev/reader-north-in/event/credential', JSON.stringify({ value: '3005127841' }), { qos: 1 });
    await again.endAsync();
    expect(db.prepare('SELECT count(*) AS n FROM device_events').get()).toEqual({ n: 1 });
    db.close();
    expect(gw.output()).toContain('the message is not acknowledged');
  });

  it('refuses a second gateway on the same data directory', async () => {
    const dir = tempDir();
    const config = quietDemoConfig(dir);
    const first = await start({ config });
    const second = cli(['start', '--config', config], { env: { GUARDPOST_DATA: first.dataDir, GUARDPOST_HTTP_PORT: '0', GUARDPOST_MQTT_PORT: '0' } });
    expect(second.code).not.toBe(0);
    expect(second.err.trim()).toBe(`guardpost: another guardpost gateway is already running on data directory ${first.dataDir}; stop it first`);
    expect((await fetch(`${first.httpUrl}/api/health`)).ok).toBe(true);
  });

  it('says in one line when a port is taken, the data dir is unusable, or the disk is full', async () => {
    const dir = tempDir();
    const config = quietDemoConfig(dir);
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const taken = cli(['start', '--config', config], { env: { GUARDPOST_DATA: join(dir, 'd1'), GUARDPOST_HTTP_PORT: String(port), GUARDPOST_MQTT_PORT: '0' } });
      expect(taken.code).not.toBe(0);
      expect(taken.err.trim()).toBe(`guardpost: HTTP port ${port} on 127.0.0.1 is already in use: stop what uses it or set another port`);
      const mqttTaken = cli(['start', '--config', config], { env: { GUARDPOST_DATA: join(dir, 'd2'), GUARDPOST_HTTP_PORT: '0', GUARDPOST_MQTT_PORT: String(port) } });
      expect(mqttTaken.err.trim()).toBe(`guardpost: MQTT port ${port} on 127.0.0.1 is already in use: stop what uses it or set another port`);
    } finally {
      blocker.close();
    }

    writeFileSync(join(dir, 'a-file'), 'not a directory');
    const unusable = cli(['start', '--config', config], { env: { GUARDPOST_DATA: join(dir, 'a-file', 'data'), GUARDPOST_HTTP_PORT: '0', GUARDPOST_MQTT_PORT: '0' } });
    expect(unusable.code).not.toBe(0);
    expect(unusable.err.trim()).toBe(`guardpost: data directory ${join(dir, 'a-file', 'data')} is not usable (ENOTDIR): create it and give the guardpost user write access`);

    // A full disk: a tiny tmpfs, filled, in a private mount namespace (works without touching the host's mounts).
    const full = join(dir, 'full');
    mkdirSync(full);
    const script = `mount -t tmpfs -o size=64k tmpfs '${full}' && (head -c 1048576 /dev/zero > '${full}/filler' 2>/dev/null; true) && exec '${process.execPath}' '${gatewayMain}' start --config '${config}'`;
    const run = spawn('unshare', ['-rm', 'sh', '-c', script], {
      cwd: packageRoot,
      env: { ...process.env, GUARDPOST_CONFIG: '', GUARDPOST_DATA: join(full, 'data'), GUARDPOST_HTTP_PORT: '0', GUARDPOST_MQTT_PORT: '0' },
    });
    let err = '';
    run.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => run.once('exit', r));
    expect(code).not.toBe(0);
    expect(err.trim()).toMatch(new RegExp(`^guardpost: (disk full: cannot write the database ${full}/data/guardpost.db; free space on that disk|data directory ${full}/data is not usable \\(ENOSPC\\).*)$`));
  });
});

describe('guardpost command', () => {
  it('config-check lists all three mistakes with their lines and exits non-zero; start refuses the same file', () => {
    const dir = tempDir();
    const bad = demoYaml
      .replace('  port: 1883', '  port: 70000')
      .replace('    kind: checkpoint\n    name: 地下车库巡更点', '    kind: turnstile\n    name: 地下车库巡更点')
      .replace('site:\n', 'site:\n  manager: 王经理\n');
    const file = join(dir, 'site.yaml');
    writeFileSync(file, bad);
    const lineOf = (needle: string) => bad.split('\n').findIndex((l) => l.includes(needle)) + 1;
    const check = cli(['config-check', file]);
    expect(check.code).not.toBe(0);
    expect(check.err).toContain('config has 3 problem(s):');
    expect(check.err).toContain(`site.yaml:${lineOf('port: 70000')} mqtt.port: expected a TCP port number (1-65535), got 70000`);
    expect(check.err).toContain(`site.yaml:${lineOf('kind: turnstile')} devices.cp-garage.kind: expected one of reader, plate-camera, barrier, checkpoint, camera, got "turnstile"`);
    expect(check.err).toContain(`site.yaml:${lineOf('manager:')} site.manager: unknown key`);
    const startRun = cli(['start', '--config', file]);
    expect(startRun.code).not.toBe(0);
    expect(startRun.err).toContain('config has 3 problem(s):');
    // GUARDPOST_CONFIG picks the file when --config is not given.
    const fromEnv = cli(['start'], { env: { GUARDPOST_CONFIG: file } });
    expect(fromEnv.code).not.toBe(0);
    expect(fromEnv.err).toContain(`site.yaml:${lineOf('port: 70000')} mqtt.port:`);

    const good = cli(['config-check', join(packageRoot, 'config/default.yaml')]);
    expect(good.code).toBe(0);
    expect(good.out).toContain('default.yaml: ok');
  });

  it('hash-pin prints a hash that the gateway accepts for that PIN only', async () => {
    const run = cli(['hash-pin'], { input: '864213\n' });
    expect(run.code).toBe(0);
    const hash = run.out.trim();
    expect(await verifySecret('864213', hash)).toBe(true);
    expect(await verifySecret('864214', hash)).toBe(false);
    expect(cli(['hash-pin'], { input: '12\n' }).err).toContain('at least 4');
  });

  it('migrate brings a new data directory to the current schema; unknown commands are refused', () => {
    const dataDir = tempDir();
    const first = cli(['migrate'], { env: { GUARDPOST_DATA: dataDir } });
    const all = readMigrations(migrationsDir);
    expect(first.out).toContain(`migrated from version 0 to ${all.length}: ${all.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`).join(', ')}`);
    expect(cli(['migrate'], { env: { GUARDPOST_DATA: dataDir } }).out).toContain(`database already at version ${all.length}`);
    const unknown = cli(['fly']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command "fly"');
  });

  it('doctor reports config, disk, ffmpeg, serial ports and clock', () => {
    const run = cli(['doctor'], { env: { GUARDPOST_DATA: tempDir() } });
    expect(run.out).toMatch(/^ok\s+config: .*default\.yaml is valid \(8 devices, 5 people\)$/m);
    expect(run.out).toMatch(/^(ok|warn)\s+data disk: .* free of /m);
    expect(run.out).toMatch(/^ok\s+ffmpeg: ffmpeg version/m);
    expect(run.out).toMatch(/^(ok|warn)\s+serial port/m);
    expect(run.out).toMatch(/^(ok|warn)\s+clock: /m);
    expect(run.code).toBe(0);
  });

  it('doctor warns when the disk cannot hold the configured retention at the measured bitrate, and says what to change', () => {
    const dir = tempDir();
    const site = demoYaml
      .replace('demo:\n  enabled: true', 'demo:\n  enabled: false')
      .replace('devices:\n', 'devices:\n  cam-gate:\n    type: rtsp\n    kind: camera\n    main_url: rtsp://127.0.0.1:8554/main\n    sub_url: rtsp://127.0.0.1:8554/sub\n')
      .concat('\nvideo:\n  max_gb: 10\n  min_free_gb: 0\n');
    writeFileSync(join(dir, 'site.yaml'), site);
    // A day of 8 Mbit/s footage: 86.4 GB a day, so a 10 GB allowance holds about a tenth of a day.
    expect(cli(['migrate', '--config', join(dir, 'site.yaml')], { env: { GUARDPOST_DATA: dir } }).code).toBe(0);
    const db = new Database(join(dir, 'guardpost.db'));
    const insert = db.prepare('INSERT INTO video_segments (camera, start_ms, end_ms, path, bytes) VALUES (?, ?, ?, ?, ?)');
    const now = Date.now();
    for (let m = 1; m <= 60; m++) insert.run('cam-gate', now - m * 60_000, now - (m - 1) * 60_000, `cam-gate/${m}.mp4`, 60_000_000);
    db.close();
    const run = cli(['doctor', '--config', join(dir, 'site.yaml')], { env: { GUARDPOST_DATA: dir } });
    expect(run.out).toMatch(/^warn\s+video storage: the disk holds only 0\.\d of the configured 60 days at the measured bitrates \(cam-gate 8000 kbit\/s\): record cam-gate's sub-stream/m);
  });
});
