// The plate-http driver over real HTTP on 127.0.0.1: pushes of each family, auth, size limit, shared ports, silence.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BrokerClient, DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { plateHttpDriver, safeFilePart, type PlateHttpConfig } from '../../../drivers/plate-http/driver.js';
import { listeningAddresses } from '../../../drivers/plate-http/server.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { hashSecret, verifySecret } from '../../../gateway/core/secret.js';
import { packageRoot } from '../../../gateway/core/paths.js';

// The real verifySecret, counted: the driver must not run scrypt for every push.
vi.mock('../../../gateway/core/secret.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../gateway/core/secret.js')>();
  return { ...real, verifySecret: vi.fn(real.verifySecret) };
});
const verifyCalls = () => vi.mocked(verifySecret).mock.calls.length;

const fixtures = join(packageRoot, 'test/fixtures/plate-http');
const fixture = (name: string) => readFileSync(join(fixtures, name));
const scene = fixture('scene.jpg');
const plateJpeg = fixture('plate.jpg');

// Cheap scrypt parameters: the tests are about the HTTP path, not the hash's cost.
let passwordHash: string;
let tokenHash: string;
beforeAll(async () => {
  passwordHash = await hashSecret('gate-pass', { N: 1024, r: 8, p: 1 });
  tokenHash = await hashSecret('tok-123', { N: 1024, r: 8, p: 1 });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

let dir: string;
let port: number;
const stops: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-plate-'));
  port = await freePort();
});

afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
  await rm(dir, { recursive: true, force: true });
});

function makeDevice(deviceId: string, config: Partial<PlateHttpConfig>, clock = new ManualClock()) {
  const events: DeviceEvent[] = [];
  const rejects: Array<{ reason: string; raw: string }> = [];
  const reports: Array<Partial<DeviceHealth>> = [];
  const abort = new AbortController();
  const ctx: DriverContext = {
    deviceId,
    log: silentLogger(),
    emit: (e) => void events.push(e),
    emitMany: (batch) => batch.forEach((e) => void events.push(e)),
    report: (h) => void reports.push(h),
    reject: (reason, raw) => void rejects.push({ reason, raw: String(raw) }),
    broker: {} as BrokerClient,
    clock,
    signal: abort.signal,
  };
  const full: PlateHttpConfig = {
    kind: 'plate-camera',
    format: 'generic',
    listen_host: '127.0.0.1',
    listen_port: port,
    auth: { kind: 'basic', username: 'camera', password_hash: passwordHash },
    snapshot_dir: dir,
    ...config,
  };
  const driver = plateHttpDriver.create(full, ctx);
  stops.push(async () => {
    abort.abort();
    await driver.stop();
  });
  return { driver, events, rejects, reports, clock };
}

const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

async function push(path: string, body: Buffer | string, contentType: string, headers: Record<string, string> = basic('camera', 'gate-pass')) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers: { 'content-type': contentType, ...headers } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('plate-http driver', () => {
  it('takes a push of each family on one shared port, told apart by path, and keeps the pictures', async () => {
    const hik = makeDevice('gate1-in', { format: 'hikvision', path: '/plate/gate1-in' });
    const dahua = makeDevice('gate1-out', { format: 'dahua', path: '/plate/gate1-out' });
    const generic = makeDevice('back-gate', { format: 'generic', path: '/plate/back', auth: { kind: 'token', token_hash: tokenHash } });
    await Promise.all([hik.driver.start(), dahua.driver.start(), generic.driver.start()]);
    expect(listeningAddresses()).toContain(`127.0.0.1:${port}`);
    for (const d of [hik, dahua, generic]) expect(d.driver.health().state).toBe('online');

    const h = await push('/plate/gate1-in', fixture('hikvision-anpr.multipart'), 'multipart/form-data; boundary=MIME_boundary');
    expect(h.status).toBe(200);
    expect(h.text).toContain('<statusString>OK</statusString>');
    const d = await push('/plate/gate1-out', fixture('dahua-tollgate-gbk.json'), 'application/json; charset=gbk');
    expect(d.status).toBe(200);
    expect(JSON.parse(d.text)).toEqual({ Result: true });
    const g = await push('/plate/back?token=tok-123', fixture('generic-plate.json'), 'application/json', {});
    expect(g.status).toBe(200);

    const now = new ManualClock().now();
    const day = new Date(now).toISOString().slice(0, 10);
    expect(hik.events).toEqual([{ type: 'plate', deviceId: 'gate1-in', at: now, plate: '粤B12345', confidence: 0.98, snapshot: `gate1-in/${day}/${now}-粤B12345.jpg` }]);
    expect(dahua.events).toEqual([{ type: 'plate', deviceId: 'gate1-out', at: now, plate: '川A·D1234', confidence: 0.96, snapshot: `gate1-out/${day}/${now}-川A_D1234.jpg` }]);
    expect(generic.events).toMatchObject([{ type: 'plate', deviceId: 'back-gate', plate: '沪AD12345', confidence: 0.91 }]);
    // The scene is kept where the camera sent one; the Dahua push here carried only the plate close-up.
    expect(await readFile(join(dir, (hik.events[0] as { snapshot: string }).snapshot))).toEqual(scene);
    expect(await readFile(join(dir, (dahua.events[0] as { snapshot: string }).snapshot))).toEqual(plateJpeg);
    expect(await readFile(join(dir, (generic.events[0] as { snapshot: string }).snapshot))).toEqual(scene);
    for (const dev of [hik, dahua, generic]) {
      expect(dev.rejects).toEqual([]);
      expect(dev.driver.health().lastSeen).toBe(now);
    }
  });

  it('uses the camera time when it is close to ours, and answers a no-plate push without an event', async () => {
    const clock = new ManualClock(Date.UTC(2024, 4, 7, 10, 0, 0));
    const dahua = makeDevice('gate1-out', { format: 'dahua' }, clock);
    await dahua.driver.start();
    expect((await push('/plate', fixture('dahua-tollgate.json'), 'application/json')).status).toBe(200);
    expect(dahua.events[0]).toMatchObject({ at: Date.UTC(2024, 4, 7, 9, 48, 3, 847), plate: '浙A12345' });
    const none = await push('/plate', fixture('dahua-no-plate.json'), 'application/json');
    expect(none.status).toBe(200);
    expect(JSON.parse(none.text)).toEqual({ Result: true });
    expect(dahua.events).toHaveLength(1);
    expect(dahua.rejects).toEqual([]);
  });

  it('refuses bad credentials with 401 and counts them; a bare first request is challenged but not counted', async () => {
    const hik = makeDevice('gate1-in', { format: 'hikvision' });
    await hik.driver.start();
    const body = fixture('hikvision-anpr.multipart');
    const type = 'multipart/form-data; boundary=MIME_boundary';

    const bare = await push('/plate', body, type, {});
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Basic realm="guardpost"/);
    expect(hik.rejects).toEqual([]);

    expect((await push('/plate', body, type, basic('camera', 'wrong'))).status).toBe(401);
    expect((await push('/plate', body, type, basic('intruder', 'gate-pass'))).status).toBe(401);
    expect((await push('/plate', body, type, { authorization: 'Bearer gate-pass' })).status).toBe(401);
    expect(hik.rejects.map((r) => r.reason)).toEqual(['bad credentials', 'bad credentials', 'bad credentials']);
    expect(hik.rejects[0]?.raw).toMatch(/POST \/plate$/);
    expect(hik.events).toEqual([]);

    // The right password, twice: the second is served from the verification cache.
    const before = verifyCalls();
    expect((await push('/plate', body, type)).status).toBe(200);
    expect((await push('/plate', body, type)).status).toBe(200);
    expect(verifyCalls() - before).toBe(1);
    expect(hik.events).toHaveLength(2);
    // A failure is remembered too, briefly; a success for five minutes.
    expect((await push('/plate', body, type, basic('camera', 'wrong'))).status).toBe(401);
    expect(verifyCalls() - before).toBe(1);
    hik.clock.advance(5 * 60_000);
    expect((await push('/plate', body, type)).status).toBe(200);
    expect(verifyCalls() - before).toBe(2);
  });

  it('takes the token as a query parameter, a bearer token or a basic password', async () => {
    const gen = makeDevice('back-gate', { format: 'generic', auth: { kind: 'token', token_hash: tokenHash } });
    await gen.driver.start();
    const body = fixture('generic-minimal.json');
    expect((await push('/plate?token=tok-123', body, 'application/json', {})).status).toBe(200);
    expect((await push('/plate', body, 'application/json', { authorization: 'Bearer tok-123' })).status).toBe(200);
    expect((await push('/plate', body, 'application/json', basic('anyone', 'tok-123'))).status).toBe(200);
    expect((await push('/plate?token=nope', body, 'application/json', {})).status).toBe(401);
    expect((await push('/plate', body, 'application/json', {})).status).toBe(401);
    expect(gen.events).toHaveLength(3);
    expect(gen.rejects.map((r) => r.reason)).toEqual(['bad credentials']);
  });

  it('answers 413 past the size limit and 400 with the reason for a body that does not parse, counting both', async () => {
    const gen = makeDevice('back-gate', { format: 'generic' });
    await gen.driver.start();
    // 3 MB against the 2 MB default: read and dropped, so the camera gets a clean 413.
    const over = await push('/plate', Buffer.alloc(3 * 1024 * 1024, 0x20), 'application/json');
    expect(over.status).toBe(413);
    const bad = await push('/plate', fixture('generic-missing-plate.json'), 'application/json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ ok: false, error: expect.stringMatching(/^missing-plate/) });
    const hikBroken = makeDevice('gate1-in', { format: 'hikvision', path: '/hik' });
    await hikBroken.driver.start();
    expect((await push('/hik', fixture('hikvision-truncated.multipart'), 'multipart/form-data; boundary=MIME_boundary')).status).toBe(400);
    // Declared far too large: answered at once, nothing read.
    const huge = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/plate', method: 'POST', headers: { ...basic('camera', 'gate-pass'), 'content-type': 'application/json', 'content-length': 100 * 1024 * 1024 } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"plate":');
    });
    expect(huge).toBe(413);
    expect(gen.rejects.map((r) => r.reason)).toEqual(['body over the 2097152 byte limit', expect.stringMatching(/^missing-plate: /), 'body over the 2097152 byte limit']);
    expect(hikBroken.rejects.map((r) => r.reason)).toEqual(['multipart: malformed multipart body']);
    expect(hikBroken.driver.health().lastError).toMatch(/closing boundary/);
    expect(gen.events).toEqual([]);
    // A camera that sends nonsense is still a camera that is there.
    expect(gen.driver.health()).toMatchObject({ state: 'online', lastError: expect.stringMatching(/^last push not understood/) });
  });

  it('goes offline after silent_after_s without a push, and online with the next one', async () => {
    const dahua = makeDevice('gate1-out', { format: 'dahua' });
    await dahua.driver.start();
    dahua.clock.advance(599_000);
    expect(dahua.driver.health().state).toBe('online');
    dahua.clock.advance(1_000);
    expect(dahua.driver.health()).toMatchObject({ state: 'offline', lastError: 'no push for 10 min' });
    expect(dahua.reports.at(-1)).toEqual({ state: 'offline', lastError: 'no push for 10 min' });

    // Dahua's ITSAPI heartbeat, pointed at <path>/keepalive, keeps a quiet gate online.
    const beat = await push('/plate/KeepAlive', '{"DeviceID":"ITC215"}', 'application/json');
    expect(beat.status).toBe(200);
    expect(dahua.driver.health()).toMatchObject({ state: 'online', lastError: null });
    dahua.clock.advance(599_000);
    expect((await push('/plate', fixture('dahua-tollgate.json'), 'application/json')).status).toBe(200);
    dahua.clock.advance(599_000);
    expect(dahua.driver.health().state).toBe('online');
    expect(dahua.events).toHaveLength(1);
  });

  it('refuses a second camera on the same port and path, and frees the port after the last camera stops', async () => {
    const a = makeDevice('gate1-in', { format: 'hikvision', path: '/plate/in' });
    const b = makeDevice('gate1-dup', { format: 'dahua', path: '/plate/in' });
    await a.driver.start();
    await expect(b.driver.start()).rejects.toThrow(/share the path \/plate\/in/);
    const unknown = await push('/elsewhere', '{}', 'application/json');
    expect(unknown.status).toBe(404);
    await a.driver.stop();
    expect(listeningAddresses()).not.toContain(`127.0.0.1:${port}`);
    await expect(fetch(`http://127.0.0.1:${port}/plate/in`, { method: 'POST', body: '{}' })).rejects.toThrow();
    // The port can be taken again at once.
    const c = makeDevice('gate1-in', { format: 'hikvision', path: '/plate/in' });
    await c.driver.start();
    expect(c.driver.health().state).toBe('online');
  });

  it('fails to start, with a reason, when another program holds the port', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const dev = makeDevice('gate1-in', { format: 'generic' });
      await expect(dev.driver.start()).rejects.toThrow(/in use/);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('makes file names from plates safely', () => {
    expect(safeFilePart('粤B12345')).toBe('粤B12345');
    expect(safeFilePart('../../etc/passwd')).toBe('______etc_passwd');
    expect(safeFilePart('京A·D1234')).toBe('京A_D1234');
    expect(safeFilePart('')).toBe('plate');
  });
});
