// The onvif camera driver against an ONVIF test peer (device.ts) whose streams come from a real RTSP server.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CameraMedia, DeviceEvent, DeviceHealth, DriverContext } from '../../../drivers/contract.js';
import { onvifDriver, type OnvifCamera, type OnvifConfig } from '../../../drivers/onvif/driver.js';
import { ManualClock, systemClock, type Clock } from '../../../gateway/core/clock.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { waitFor } from '../../helpers/wait.js';
import { startRtspSource, type RtspSource } from '../../video/rtsp.js';
import { OnvifTestDevice, type DeviceOptions } from './device.js';

const user = 'admin';
// Characters that must be percent-encoded in a URL's userinfo: the URIs prove they are.
const password = 'p@ss:w0rd/1';
const deviceId = 'cam-gate';
const jpeg = readFileSync(join(packageRoot, 'test', 'fixtures', 'onvif', 'snapshot.jpg'));

let rtsp: RtspSource;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  rtsp = await startRtspSource({ user, password });
});

afterAll(async () => {
  await rtsp?.stop();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Harness {
  driver: OnvifCamera;
  events: DeviceEvent[];
  health: DeviceHealth;
  states: string[];
  rejects: { reason: string; raw: string }[];
  logs: string[];
}

async function startDevice(opts: Partial<DeviceOptions> = {}): Promise<OnvifTestDevice> {
  const device = new OnvifTestDevice({ username: user, password, rtspPort: rtsp.port, jpeg, ...opts });
  await device.start();
  cleanups.push(() => device.stop());
  return device;
}

function makeDriver(device: OnvifTestDevice, config: Partial<OnvifConfig> = {}, clock: Clock = systemClock): Harness {
  const h: Harness = { driver: null as unknown as OnvifCamera, events: [], health: { state: 'stopped', lastSeen: null, lastError: null }, states: [], rejects: [], logs: [] };
  const logSink = new Writable({
    write(chunk: Buffer, _enc, done) {
      h.logs.push(chunk.toString());
      done();
    },
  });
  const ctx: DriverContext = {
    deviceId,
    log: pino({ level: 'debug' }, logSink),
    emit: (e) => void h.events.push(e),
    emitMany: (batch) => batch.forEach((e) => void h.events.push(e)),
    report: (change) => {
      h.health = { ...h.health, ...change };
      if (change.state && h.states[h.states.length - 1] !== change.state) h.states.push(change.state);
    },
    reject: (reason, raw) => void h.rejects.push({ reason, raw: raw.toString() }),
    broker: { subscribe: () => Promise.reject(new Error('no broker')), publish: () => Promise.reject(new Error('no broker')) },
    clock,
    signal: new AbortController().signal,
  };
  h.driver = onvifDriver.create({ host: '127.0.0.1', port: device.port, username: user, password, timeout_ms: 3000, ...config }, ctx) as OnvifCamera;
  cleanups.push(() => h.driver.stop());
  return h;
}

async function describeMedia(h: Harness): Promise<CameraMedia> {
  const result = await h.driver.command({ type: 'describe' });
  expect(result.ok).toBe(true);
  return result.data as CameraMedia;
}

/** What Debian's ffprobe finds at a URI: proof the URI (credentials included) really plays. */
function ffprobe(uri: string): Promise<{ codec_name: string; width: number; height: number }[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-timeout', '10000000', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', uri]);
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { streams: { codec_name: string; width: number; height: number }[] }).streams) : reject(new Error(`ffprobe exited ${code}: ${err}`))));
  });
}

const encoded = encodeURIComponent(password);

describe('onvif camera: describe', () => {
  it('describes both profiles in order, with credentials in stream URIs that ffprobe opens', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    await h.driver.start();
    expect(h.health).toMatchObject({ state: 'online', lastError: null });
    expect(h.health.lastSeen).not.toBeNull();
    const media = await describeMedia(h);
    expect(media).toEqual({
      info: { manufacturer: 'Acme Vision', model: 'AV-2231-PTZ', firmware: 'V5.7.3 build 240115', serial: 'AV2231-0001' },
      streams: [
        { token: 'profile_main', name: 'mainStream', uri: `rtsp://admin:${encoded}@127.0.0.1:${rtsp.port}/main`, codec: 'h264', width: 640, height: 360, fps: 10, bitrateKbps: 1024 },
        { token: 'profile_sub', name: 'subStream', uri: `rtsp://admin:${encoded}@127.0.0.1:${rtsp.port}/sub`, codec: 'h264', width: 320, height: 180, fps: 10, bitrateKbps: 256 },
      ],
      snapshot: true,
      ptz: true,
      events: 'pullpoint',
    });
    const streams = await ffprobe((media.streams[0] as { uri: string }).uri);
    expect(streams).toEqual([{ codec_name: 'h264', width: 640, height: 360 }]);
    // Only GetSystemDateAndTime goes without a UsernameToken, and every token was right.
    expect(device.requests.filter((r) => r.authenticated !== true).map((r) => r.action)).toEqual(['GetSystemDateAndTime']);
    expect(h.rejects).toEqual([]);
  });

  it('takes the profiles named in config, and fails clearly on a token the camera lacks', async () => {
    const device = await startDevice();
    const swapped = makeDriver(device, { profiles: { main: 'profile_sub', sub: 'profile_main' } });
    await swapped.driver.start();
    expect((await describeMedia(swapped)).streams.map((s) => s.token)).toEqual(['profile_sub', 'profile_main']);

    const wrong = makeDriver(device, { profiles: { main: 'Profile_1' } });
    await wrong.driver.start();
    expect(wrong.health).toMatchObject({ state: 'failed', lastError: 'profiles.main: the camera has no media profile "Profile_1" (it has: profile_main, profile_sub)' });
    expect(await wrong.driver.command({ type: 'describe' })).toMatchObject({ ok: false });
  });

  it('never logs the password, not even percent-encoded in a URI', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    await h.driver.start();
    await h.driver.command({ type: 'describe' });
    await device.stop();
    await waitFor('offline', () => h.health.state === 'offline');
    await h.driver.stop();
    const logs = h.logs.join('');
    expect(logs).toContain('camera described');
    expect(logs).not.toContain(password);
    expect(logs).not.toContain(encoded);
  });
});

describe('onvif camera: snapshot and PTZ', () => {
  it('fetches the snapshot through Digest authentication', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    await h.driver.start();
    const result = await h.driver.command({ type: 'snapshot' });
    expect(result.ok).toBe(true);
    expect(Buffer.compare(result.data as Buffer, jpeg)).toBe(0);
    // The challenge, then the answer that passed the device's own Digest check.
    expect(device.snapshotRequests).toBe(2);
    expect(device.snapshotAuthorized).toBe(1);
  });

  it('sends continuous moves with the velocities asked, stops, lists and goes to presets', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    await h.driver.start();
    expect(await h.driver.command({ type: 'ptz.move', params: { pan: 0.5, tilt: -0.25, zoom: 0, timeout_ms: 2000 } })).toEqual({ ok: true });
    expect(await h.driver.command({ type: 'ptz.move', params: { zoom: 1 } })).toEqual({ ok: true });
    expect(await h.driver.command({ type: 'ptz.stop' })).toEqual({ ok: true });
    expect(await h.driver.command({ type: 'ptz.presets' })).toEqual({
      ok: true,
      data: [
        { token: '1', name: 'Gate' },
        { token: '2', name: 'Car park' },
      ],
    });
    expect(await h.driver.command({ type: 'ptz.goto', params: { preset: '2' } })).toEqual({ ok: true });
    expect(device.ptz).toEqual([
      { op: 'ContinuousMove', profile: 'profile_main', pan: 0.5, tilt: -0.25, zoom: 0, timeout: 'PT2S' },
      { op: 'ContinuousMove', profile: 'profile_main', pan: 0, tilt: 0, zoom: 1 },
      { op: 'Stop', profile: 'profile_main' },
      { op: 'GotoPreset', profile: 'profile_main', preset: '2' },
    ]);
  });

  it('answers what it cannot do with a reason, never a throw', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    expect(await h.driver.command({ type: 'snapshot' })).toEqual({ ok: false, detail: 'camera not connected yet' });
    await h.driver.start();
    const before = device.requests.length;
    expect(await h.driver.command({ type: 'ptz.move', params: { pan: 3 } })).toEqual({ ok: false, detail: 'pan must be a number from -1 to 1, got 3' });
    expect(await h.driver.command({ type: 'ptz.move', params: { tilt: 'up' } })).toEqual({ ok: false, detail: 'tilt must be a number from -1 to 1, got "up"' });
    expect(await h.driver.command({ type: 'ptz.goto', params: {} })).toEqual({ ok: false, detail: 'ptz.goto needs {preset: <preset token>}' });
    expect(device.requests.length).toBe(before);
    const unknownPreset = await h.driver.command({ type: 'ptz.goto', params: { preset: '9' } });
    expect(unknownPreset.ok).toBe(false);
    expect(unknownPreset.detail).toMatch(/^ptz\.goto failed: GotoPreset: env:Sender\/ter:InvalidArgVal: ter:NoToken: no such preset$/);
    expect(await h.driver.command({ type: 'zoom-to-face' })).toEqual({ ok: false, detail: 'unknown command "zoom-to-face"' });
    expect(h.health.state).toBe('online');
  });
});

const motion = {
  topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
  source: { VideoSourceConfigurationToken: 'vsc', VideoAnalyticsConfigurationToken: 'vac', Rule: 'MyMotionDetectorRule' },
  data: { IsMotion: 'true' },
};

describe('onvif camera: events', () => {
  it('turns a motion notification into a camera.event', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    await h.driver.start();
    await waitFor('a held pull', () => device.count('PullMessages') >= 1);
    const before = Date.now();
    device.pushEvent(motion);
    await waitFor('the event', () => h.events.length === 1);
    const [event] = h.events;
    expect(event).toMatchObject({
      type: 'camera.event',
      deviceId,
      topic: 'RuleEngine/CellMotionDetector/Motion',
      source: { VideoSourceConfigurationToken: 'vsc', VideoAnalyticsConfigurationToken: 'vac', Rule: 'MyMotionDetectorRule' },
      data: { IsMotion: true },
    });
    // The camera's UtcTime, believed: it is close to ours.
    expect(event?.at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    device.pushEvent({ ...motion, data: { IsMotion: 'false' } });
    await waitFor('the second event', () => h.events.length === 2);
    expect(h.events[1]).toMatchObject({ data: { IsMotion: false } });
    expect(h.rejects).toEqual([]);
  });

  it('rejects every notification it cannot read, with the XML, and keeps pulling', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    await h.driver.start();
    await waitFor('a held pull', () => device.count('PullMessages') >= 1);
    const broken = '<wsnt:NotificationMessage><wsnt:Message><tt:Message UtcTime="2026-01-01T00:00:00Z"><tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>';
    device.pushRaw(broken);
    await waitFor('the reject', () => h.rejects.length === 1);
    expect(h.rejects[0]?.reason).toBe('notification without a Topic');
    expect(h.rejects[0]?.raw).toContain(broken);
    device.pushRaw(broken);
    device.pushEvent(motion);
    await waitFor('the good event after it', () => h.events.length === 1);
    // Each one is counted; the gateway's rejection log writes the reason once.
    expect(h.rejects.map((r) => r.reason)).toEqual(['notification without a Topic', 'notification without a Topic']);
    expect(h.health.state).toBe('online');
  });

  it('renews the subscription before it lapses instead of letting it expire', async () => {
    const device = await startDevice({ terminationS: 5, maxHoldMs: 200 });
    const h = makeDriver(device);
    await h.driver.start();
    await waitFor('renewals', () => device.renewals.length >= 3);
    expect(device.count('CreatePullPointSubscription')).toBe(1);
    expect(device.subscriptionCount()).toBe(1);
    expect(h.health.state).toBe('online');
  });

  it('subscribes again when the camera forgot the subscription', async () => {
    const device = await startDevice({ maxHoldMs: 200 });
    const h = makeDriver(device);
    await h.driver.start();
    await waitFor('a pull', () => device.count('PullMessages') >= 1);
    device.forgetSubscriptions();
    await waitFor('a new subscription', () => device.count('CreatePullPointSubscription') === 2);
    device.pushEvent(motion);
    await waitFor('the event', () => h.events.length === 1);
    expect(h.health.state).toBe('online');
    expect(h.states).toEqual(['starting', 'online']);
  });

  it('reads subscription times given with a zone offset, and renews by them', async () => {
    const device = await startDevice({ offsetTimes: true, terminationS: 5, maxHoldMs: 200 });
    const h = makeDriver(device);
    await h.driver.start();
    expect((await describeMedia(h)).events).toBe('pullpoint');
    await waitFor('renewals', () => device.renewals.length >= 2);
    device.pushEvent(motion);
    await waitFor('the event', () => h.events.length === 1);
    expect(device.count('CreatePullPointSubscription')).toBe(1);
  });

  it('subscribes again when a subscription lapses on a camera that cannot renew', async () => {
    const device = await startDevice({ renew: false, terminationS: 2, maxHoldMs: 300 });
    const h = makeDriver(device);
    await h.driver.start();
    await waitFor('a subscription made again after the first lapsed', () => device.count('CreatePullPointSubscription') >= 2, 20_000);
    expect(device.count('Renew')).toBe(1);
    await waitFor('a held pull on it', () => device.subscriptionCount() === 1);
    device.pushEvent(motion);
    await waitFor('the event', () => h.events.length === 1);
    expect(h.health.state).toBe('online');
    expect((await describeMedia(h)).events).toBe('pullpoint');
  });

  it('falls back to polling when the pull point keeps refusing pulls', async () => {
    const clock = new ManualClock();
    const device = await startDevice();
    const refusal = '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>ter:ActionNotSupported</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">busy</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>';
    device.override.set('PullMessages', { status: 500, type: 'application/soap+xml', body: refusal, sticky: true });
    const h = makeDriver(device, { poll_s: 30 }, clock);
    await h.driver.start();
    await waitFor('events off', async () => ((await describeMedia(h)).events === 'none' ? true : undefined));
    expect(device.count('CreatePullPointSubscription')).toBe(2);
    expect(device.count('PullMessages')).toBe(2);
    expect(h.health.state).toBe('online');
    const polls = device.count('GetSystemDateAndTime');
    clock.advance(30_000);
    await waitFor('a liveness poll', () => device.count('GetSystemDateAndTime') === polls + 1);
  });

  it('unsubscribes on stop and does not wait for the held pull', async () => {
    const device = await startDevice();
    const h = makeDriver(device);
    await h.driver.start();
    await waitFor('a held pull', () => device.count('PullMessages') >= 1);
    await h.driver.stop();
    expect(device.unsubscribed).toEqual([1]);
    expect(h.health.state).toBe('stopped');
    await h.driver.stop();
    device.pushEvent(motion);
    expect(h.events).toEqual([]);
  });

  it('without PullPoint, says events none and polls GetSystemDateAndTime every poll_s', async () => {
    const clock = new ManualClock();
    const device = await startDevice({ events: false });
    const h = makeDriver(device, { poll_s: 30 }, clock);
    await h.driver.start();
    expect(h.health.state).toBe('online');
    expect((await describeMedia(h)).events).toBe('none');
    expect(device.count('CreatePullPointSubscription')).toBe(0);
    expect(device.count('GetSystemDateAndTime')).toBe(1);
    clock.advance(30_000);
    await waitFor('the first poll', () => device.count('GetSystemDateAndTime') === 2);
    await waitFor('lastSeen moved', () => h.health.lastSeen === clock.now());
    clock.advance(29_000);
    expect(device.count('GetSystemDateAndTime')).toBe(2);
    clock.advance(1_000);
    await waitFor('the second poll', () => device.count('GetSystemDateAndTime') === 3);
  });
});

describe('onvif camera: faults', () => {
  it('fails at once on a wrong password, saying so, and does not ask again', async () => {
    const clock = new ManualClock();
    const device = await startDevice();
    const h = makeDriver(device, { password: 'not-the-password' }, clock);
    await h.driver.start();
    expect(h.health.state).toBe('failed');
    expect(h.health.lastError).toBe('wrong credentials: the camera refused user "admin" (GetCapabilities: env:Sender/ter:NotAuthorized: Sender not Authorized)');
    const asked = device.requests.length;
    clock.advance(10 * 60_000);
    // Time for a retry, had one been scheduled, to reach the device.
    await new Promise((r) => setTimeout(r, 100));
    expect(device.requests.length).toBe(asked);
    expect(device.requests.filter((r) => r.authenticated === false)).toHaveLength(1);
    expect(h.logs.join('')).not.toContain('not-the-password');
  });

  it('goes offline when the camera disappears and back online by itself when it returns', async () => {
    const clock = new ManualClock();
    const device = await startDevice();
    const port = device.port;
    const h = makeDriver(device, {}, clock);
    await h.driver.start();
    await waitFor('a held pull', () => device.count('PullMessages') >= 1);
    await device.stop();
    await waitFor('offline', () => h.health.state === 'offline');
    expect(h.health.lastError).toMatch(/^PullMessages: (ECONNRESET|socket hang up)/);
    const pullsBefore = device.count('PullMessages');
    // First retry after 2 s: the camera is still away.
    clock.advance(2000);
    await waitFor('the refused retry', () => /^GetSystemDateAndTime: ECONNREFUSED$/.test(h.health.lastError ?? ''));
    await device.start(port);
    // The second retry comes 4 s later, not before.
    clock.advance(3999);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.health.state).toBe('offline');
    clock.advance(1);
    await waitFor('online again', () => h.health.state === 'online');
    expect(h.health.lastError).toBeNull();
    expect(h.states).toEqual(['starting', 'online', 'offline', 'online']);
    // The device's log spans its restart: one subscription before, a new one after.
    expect(device.count('CreatePullPointSubscription')).toBe(2);
    await waitFor('pulling again', () => device.count('PullMessages') > pullsBefore);
    device.pushEvent(motion);
    await waitFor('events again', () => h.events.length === 1);
  });

  it('takes an HTTP 401 for wrong credentials too', async () => {
    const device = await startDevice();
    device.override.set('GetDeviceInformation', { status: 401, type: 'text/html', body: '<html><body><h2>Access Error: 401 -- Unauthorized</h2></body></html>' });
    const h = makeDriver(device);
    await h.driver.start();
    expect(h.health).toMatchObject({ state: 'failed', lastError: 'wrong credentials: the camera refused user "admin" (GetDeviceInformation: HTTP 401)' });
  });

  it('treats an HTTP 503 as transient', async () => {
    const clock = new ManualClock();
    const device = await startDevice();
    device.override.set('GetCapabilities', { status: 503, type: 'text/html', body: '<html><body>Service Unavailable</body></html>' });
    const h = makeDriver(device, {}, clock);
    await h.driver.start();
    expect(h.health).toMatchObject({ state: 'offline', lastError: 'GetCapabilities: HTTP 503' });
    clock.advance(2000);
    await waitFor('online', () => h.health.state === 'online');
    expect(h.rejects).toEqual([]);
  });

  it('rejects a garbage answer with its raw text, goes offline and recovers, without crashing', async () => {
    const clock = new ManualClock();
    const device = await startDevice();
    device.override.set('GetDeviceInformation', { status: 200, type: 'text/html', body: '<html><body><h1>Welcome</h1><br></body></html>' });
    const h = makeDriver(device, {}, clock);
    await h.driver.start();
    expect(h.health.state).toBe('offline');
    expect(h.health.lastError).toMatch(/^not an ONVIF answer: GetDeviceInformation: not XML: /);
    expect(h.rejects).toHaveLength(1);
    expect(h.rejects[0]?.raw).toBe('<html><body><h1>Welcome</h1><br></body></html>');
    clock.advance(2000);
    await waitFor('online', () => h.health.state === 'online');
  });

  it('rejects a PullMessages answer that is SOAP but not one, and subscribes again', async () => {
    const device = await startDevice();
    const bogus = `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><tev:Bogus xmlns:tev="http://www.onvif.org/ver10/events/wsdl"/></env:Body></env:Envelope>`;
    device.override.set('PullMessages', { status: 200, type: 'application/soap+xml', body: bogus });
    const h = makeDriver(device);
    await h.driver.start();
    await waitFor('a new subscription', () => device.count('CreatePullPointSubscription') === 2);
    expect(h.rejects).toEqual([{ reason: 'PullMessages: answer without PullMessagesResponse (got <Bogus>)', raw: bogus }]);
    await waitFor('a held pull', () => device.count('PullMessages') >= 2);
    device.pushEvent(motion);
    await waitFor('the event', () => h.events.length === 1);
    expect(h.health.state).toBe('online');
  });
});

describe('onvif camera: garbage anywhere in the connection sequence', () => {
  const operations = ['GetSystemDateAndTime', 'GetCapabilities', 'GetDeviceInformation', 'GetProfiles', 'GetStreamUri', 'GetSnapshotUri', 'CreatePullPointSubscription'];
  const garbage: [string, { status: number; type: string; body: string }][] = [
    ['an empty 200', { status: 200, type: 'application/soap+xml', body: '' }],
    ['cut-off XML', { status: 200, type: 'application/soap+xml', body: '<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><tds:GetCap' }],
    ['an empty Body', { status: 200, type: 'application/soap+xml', body: '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body/></env:Envelope>' }],
    ['a Fault without a code', { status: 500, type: 'application/soap+xml', body: '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault/></env:Body></env:Envelope>' }],
    ['binary', { status: 200, type: 'application/octet-stream', body: '\u0000\u00ff\u0001PK\u0003\u0004' }],
    ['a 404 page', { status: 404, type: 'text/html', body: '<html><body>Not Found</body></html>' }],
  ];

  it.each(operations)('survives every kind of garbage answering %s', async (operation) => {
    for (const [what, answer] of garbage) {
      const clock = new ManualClock();
      const device = await startDevice();
      device.override.set(operation, answer);
      const h = makeDriver(device, {}, clock);
      await h.driver.start();
      const label = `${operation}: ${what}`;
      if (operation === 'GetSnapshotUri' || operation === 'CreatePullPointSubscription') {
        // An optional feature the camera answers nonsense to is off; the camera still works.
        expect(h.health.state, label).toBe('online');
        const media = await describeMedia(h);
        expect(operation === 'GetSnapshotUri' ? media.snapshot : media.events === 'pullpoint', label).toBe(false);
      } else if (operation === 'GetCapabilities' && answer.body.includes('Fault')) {
        // A fault to GetCapabilities sends the driver to GetServices, which works here.
        expect(h.health.state, label).toBe('online');
        expect(device.count('GetServices'), label).toBe(1);
        expect(await describeMedia(h), label).toMatchObject({ snapshot: true, ptz: true, events: 'pullpoint' });
      } else {
        expect(['offline', 'failed'], label).toContain(h.health.state);
        expect(h.health.lastError, label).toContain(operation);
      }
      if (h.health.state === 'offline') {
        clock.advance(2000);
        await waitFor(`${operation} after ${what}: online after the retry`, () => h.health.state === 'online');
      }
      await h.driver.stop();
      await device.stop();
    }
  });
});
