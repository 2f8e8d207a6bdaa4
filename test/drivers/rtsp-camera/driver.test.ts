// The rtsp camera driver against the real RTSP server (gst-rtsp-server), with and without Digest authentication.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CameraMedia, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { rtspCameraDriver, type RtspCamera, type RtspCameraConfig } from '../../../drivers/rtsp-camera/driver.js';
import { ManualClock, systemClock, type Clock } from '../../../gateway/core/clock.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { waitFor } from '../../helpers/wait.js';
import { startRtspSource, type RtspSource } from '../../video/rtsp.js';

const user = 'viewer';
const password = 'gate house!';
const jpeg = readFileSync(join(packageRoot, 'test', 'fixtures', 'onvif', 'snapshot.jpg'));

let open: RtspSource;
let locked: RtspSource;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [open, locked] = await Promise.all([startRtspSource(), startRtspSource({ user, password })]);
});

afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Harness {
  driver: RtspCamera;
  health: DeviceHealth;
  states: string[];
  /** Every report, repeated ones too: one per probe answer. */
  reports: Partial<DeviceHealth>[];
  rejects: { reason: string; raw: string }[];
}

function makeDriver(config: RtspCameraConfig, clock: Clock = systemClock): Harness {
  const h: Harness = { driver: null as unknown as RtspCamera, health: { state: 'stopped', lastSeen: null, lastError: null }, states: [], reports: [], rejects: [] };
  const ctx: DriverContext = {
    deviceId: 'cam-lane',
    log: pino({ level: 'silent' }),
    emit: () => undefined,
    emitMany: () => undefined,
    report: (change) => {
      h.reports.push(change);
      h.health = { ...h.health, ...change };
      if (change.state && h.states[h.states.length - 1] !== change.state) h.states.push(change.state);
    },
    reject: (reason, raw) => void h.rejects.push({ reason, raw: raw.toString() }),
    broker: { subscribe: () => Promise.reject(new Error('no broker')), publish: () => Promise.reject(new Error('no broker')) },
    clock,
    signal: new AbortController().signal,
  };
  // Generous: the RTSP source builds its encoder on the first DESCRIBE, slowly on a busy machine.
  h.driver = rtspCameraDriver.create({ timeout_ms: 10_000, ...config }, ctx) as RtspCamera;
  cleanups.push(() => h.driver.stop());
  return h;
}

async function describeMedia(h: Harness): Promise<CameraMedia> {
  const result = await h.driver.command({ type: 'describe' });
  expect(result.ok).toBe(true);
  return result.data as CameraMedia;
}

/** A TCP relay in front of the server that counts connections: how many times the driver asked. */
async function countingRelay(target: number): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function httpServer(handler: Parameters<typeof createHttpServer>[1]): Promise<number> {
  const server: HttpServer = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return (server.address() as AddressInfo).port;
}

describe('rtsp camera: liveness', () => {
  it('is online against a server without authentication, and describes both streams from their SDP', async () => {
    const h = makeDriver({ main_url: open.url('main'), sub_url: open.url('sub') });
    await h.driver.start();
    expect(h.health).toMatchObject({ state: 'online', lastError: null });
    expect(await describeMedia(h)).toEqual({
      info: {},
      streams: [
        { token: 'main', name: 'main', uri: open.url('main'), codec: 'h264', fps: 10, width: 640, height: 360 },
        { token: 'sub', name: 'sub', uri: open.url('sub'), codec: 'h264', fps: 10, width: 320, height: 180 },
      ],
      snapshot: false,
      ptz: false,
      events: 'none',
    });
    expect(h.rejects).toEqual([]);
  });

  it('answers the Digest challenge with configured credentials, and puts them into the URIs', async () => {
    const h = makeDriver({ main_url: locked.url('main'), username: user, password });
    await h.driver.start();
    expect(h.health.state).toBe('online');
    const media = await describeMedia(h);
    expect(media.streams[0]?.uri).toBe(`rtsp://viewer:gate%20house!@127.0.0.1:${locked.port}/main`);
    expect(media.streams[0]?.codec).toBe('h264');
  });

  it('uses credentials already in the URL', async () => {
    const url = locked.url('main', { user, password });
    const h = makeDriver({ main_url: url });
    await h.driver.start();
    expect(h.health.state).toBe('online');
    expect((await describeMedia(h)).streams[0]?.uri).toBe(url);
  });

  it('tells an H.265 stream by its SDP', async () => {
    const h = makeDriver({ main_url: open.url('h265') });
    await h.driver.start();
    expect((await describeMedia(h)).streams[0]).toMatchObject({ codec: 'h265', fps: 10 });
  });

  it('fails on wrong credentials, says so, and stops asking', async () => {
    const clock = new ManualClock();
    const relay = await countingRelay(locked.port);
    const h = makeDriver({ main_url: `rtsp://127.0.0.1:${relay.port}/main`, username: user, password: 'guess', poll_s: 10 }, clock);
    await h.driver.start();
    expect(h.health.state).toBe('failed');
    expect(h.health.lastError).toBe(`wrong credentials: rtsp://127.0.0.1:${relay.port}/main refused the credentials (RTSP 401 after Digest authentication)`);
    expect(relay.connections()).toBe(1);
    clock.advance(10 * 60_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.connections()).toBe(1);
  });

  it('fails when the camera wants credentials and none are configured', async () => {
    const h = makeDriver({ main_url: locked.url('main') });
    await h.driver.start();
    expect(h.health).toMatchObject({ state: 'failed', lastError: `wrong credentials: rtsp://127.0.0.1:${locked.port}/main asks for credentials and none are configured` });
  });

  it('goes offline when the server dies and back online by itself when it returns', async () => {
    const clock = new ManualClock();
    const server = await startRtspSource({ user, password });
    cleanups.push(() => server.stop());
    const h = makeDriver({ main_url: server.url('main'), username: user, password, poll_s: 30 }, clock);
    await h.driver.start();
    expect(h.health.state).toBe('online');
    const seen = h.health.lastSeen;
    await server.stop();
    clock.advance(30_000);
    await waitFor('offline', () => h.health.state === 'offline');
    expect(h.health.lastError).toBe(`rtsp://127.0.0.1:${server.port}/main: ECONNREFUSED`);
    expect(h.health.lastSeen).toBe(seen);
    await server.restart();
    clock.advance(30_000);
    await waitFor('online again', () => h.health.state === 'online');
    expect(h.health).toMatchObject({ lastError: null, lastSeen: clock.now() });
    expect(h.states).toEqual(['starting', 'online', 'offline', 'online']);
  });

  it('is offline with the reason for a stream the server does not have', async () => {
    const h = makeDriver({ main_url: open.url('nosuch') });
    await h.driver.start();
    expect(h.health).toMatchObject({ state: 'offline', lastError: `rtsp://127.0.0.1:${open.port}/nosuch answered RTSP 404 Not Found` });
  });

  it('rejects every answer that is not RTSP, with its bytes, and stays offline', async () => {
    const clock = new ManualClock();
    let asked = 0;
    const port = await httpServer((_req, res) => {
      asked++;
      res.writeHead(400, { 'content-type': 'text/html' }).end('<html>bad request</html>');
    });
    const h = makeDriver({ main_url: `rtsp://127.0.0.1:${port}/main`, poll_s: 5 }, clock);
    await h.driver.start();
    expect(h.health.state).toBe('offline');
    expect(h.health.lastError).toMatch(/^not an RTSP answer: rtsp:\/\/127\.0\.0\.1:\d+\/main: not an RTSP response \(starts "HTTP\/1\.1 400 Bad"\)$/);
    expect(h.rejects).toHaveLength(1);
    expect(h.rejects[0]?.raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    clock.advance(5000);
    await waitFor('the second answer handled', () => asked === 2 && h.reports.filter((r) => r.state === 'offline').length === 2);
    // Each one is counted; the gateway's rejection log writes the reason once.
    expect(h.rejects).toHaveLength(2);
    expect(h.states).toEqual(['starting', 'offline']);
  });
});

describe('rtsp camera: commands', () => {
  it('fetches the snapshot with Basic authentication when the camera asks for it', async () => {
    let asked = 0;
    const port = await httpServer((req, res) => {
      asked++;
      if (req.headers.authorization !== `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="IPCamera"' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg);
    });
    const h = makeDriver({ main_url: open.url('main'), snapshot_url: `http://127.0.0.1:${port}/snap.jpg`, username: user, password });
    await h.driver.start();
    expect((await describeMedia(h)).snapshot).toBe(true);
    const result = await h.driver.command({ type: 'snapshot' });
    expect(result.ok).toBe(true);
    expect(Buffer.compare(result.data as Buffer, jpeg)).toBe(0);
    expect(asked).toBe(2);
  });

  it('refuses a snapshot that is not an image, one without a URL, and PTZ', async () => {
    const port = await httpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'));
    const h = makeDriver({ main_url: open.url('main'), snapshot_url: `http://127.0.0.1:${port}/snap.jpg` });
    await h.driver.start();
    expect(await h.driver.command({ type: 'snapshot' })).toEqual({ ok: false, detail: `snapshot failed: http://127.0.0.1:${port}/snap.jpg answered text/html, not an image` });
    const bare = makeDriver({ main_url: open.url('main') });
    expect(await bare.driver.command({ type: 'snapshot' })).toEqual({ ok: false, detail: 'no snapshot_url configured: grab a frame from the stream instead' });
    expect((await bare.driver.command({ type: 'ptz.move', params: { pan: 1 } })).ok).toBe(false);
    expect(await bare.driver.command({ type: 'reboot' })).toEqual({ ok: false, detail: 'unknown command "reboot"' });
  });
});
