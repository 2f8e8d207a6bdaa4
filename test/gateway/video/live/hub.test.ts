// LiveHub against real ffmpeg and a real RTSP server: sharing, late joiners, refusals, failures, linger.
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../gateway/core/clock.js';
import { GuardpostError } from '../../../../gateway/core/errors.js';
import type { LiveHello } from '../../../../gateway/http/video-contracts.js';
import { startsWithSync } from '../../../../gateway/video/live/fmp4.js';
import { LiveHub, UnplayableCodecError, type ByeCode, type LiveHubDeps, type LiveViewer } from '../../../../gateway/video/live/hub.js';
import { waitFor } from '../../../helpers/wait.js';
import { alive, childrenRunning } from '../../../helpers/procs.js';
import { startRtspSource, type RtspSource } from '../../../video/rtsp.js';

class Viewer implements LiveViewer {
  hellos: LiveHello[] = [];
  chunks: Buffer[] = [];
  byes: { reason: string; code: ByeCode }[] = [];
  isReady = true;
  hello(h: LiveHello): void {
    this.hellos.push(h);
  }
  data(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  bye(reason: string, code: ByeCode): void {
    this.byes.push({ reason, code });
  }
  ready(): boolean {
    return this.isReady;
  }
  get fragments(): Buffer[] {
    return this.chunks.slice(1);
  }
}

const type = (b: Buffer | undefined) => b?.toString('latin1', 4, 8);

/** Decodes init + fragment with ffmpeg into raw grey pixels: proof the fragment plays on its own. */
function decodedBytes(init: Buffer, fragment: Buffer): number {
  const out = spawnSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-map', '0:v:0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], {
    input: Buffer.concat([init, fragment]),
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(out.status, out.stderr?.toString()).toBe(0);
  return out.stdout.length;
}

let rtsp: RtspSource;
const hubs: LiveHub[] = [];
const extraSources: RtspSource[] = [];
const servers: Server[] = [];

function hub(over: Partial<LiveHubDeps> = {}): { hub: LiveHub; clock: ManualClock; logs: string[] } {
  const logs: string[] = [];
  const clock = new ManualClock();
  const h = new LiveHub({ ffmpeg: 'ffmpeg', clock, log: pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) }), ...over });
  hubs.push(h);
  return { hub: h, clock, logs };
}

beforeAll(async () => {
  rtsp = await startRtspSource();
});

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  await Promise.all(extraSources.splice(0).map((s) => s.stop()));
  for (const s of servers.splice(0)) s.close();
});

afterAll(async () => {
  await rtsp?.stop();
});

describe('LiveHub', () => {
  it('shares one ffmpeg between viewers; a late joiner gets hello, the init, then a key-frame fragment that decodes', async () => {
    const { hub: h } = hub();
    const uri = rtsp.url('sub');
    const first = new Viewer();
    h.subscribe('cam1', { uri }, first);
    await waitFor('the first viewer to get a fragment', () => first.fragments.length >= 1);
    expect(first.hellos).toHaveLength(1);
    expect(first.hellos[0]!.mime).toMatch(/^video\/mp4; codecs="avc1\.[0-9A-F]{6}"$/);
    expect([first.hellos[0]!.width, first.hellos[0]!.height]).toEqual([320, 180]);
    expect(type(first.chunks[0])).toBe('ftyp');

    const late = new Viewer();
    h.subscribe('cam1', { uri }, late);
    // The init is cached: it goes out before subscribe returns, with the same hello.
    expect(late.hellos).toEqual(first.hellos);
    expect(late.chunks).toHaveLength(1);
    expect(late.chunks[0]!.equals(first.chunks[0]!)).toBe(true);
    const seen = first.fragments.length;
    await waitFor('the late viewer to get a fragment', () => late.fragments.length >= 1);
    const fragment = late.fragments[0]!;
    expect(type(fragment)).toBe('moof');
    // The next fragment after joining, not an old one.
    expect(first.fragments.indexOf(fragment)).toBeGreaterThanOrEqual(seen);
    expect(startsWithSync(fragment, 0)).toBe(true);
    expect(decodedBytes(late.chunks[0]!, fragment)).toBe(320 * 180);

    const [status] = h.status('cam1');
    expect(status).toMatchObject({ running: true, viewers: 2, codec: expect.stringMatching(/^avc1\./), width: 320, height: 180, lastError: null });
    expect(childrenRunning(process.pid, uri)).toEqual([status!.pid]);
  });

  it('stops ffmpeg only after the linger once the last viewer left, and a viewer back within it keeps the same one', async () => {
    // A long stall time: this manual clock jumps by seconds while ffmpeg's bytes come in real time.
    const { hub: h, clock } = hub({ lingerMs: 10_000, stallMs: 600_000 });
    const uri = rtsp.url('sub');
    const a = new Viewer();
    const offA = h.subscribe('cam1', { uri }, a);
    await waitFor('init', () => a.chunks.length >= 1);
    const pid = h.status('cam1')[0]!.pid!;
    offA();
    offA();
    clock.advance(9_000);
    const b = new Viewer();
    const offB = h.subscribe('cam1', { uri }, b);
    expect(h.status('cam1')[0]).toMatchObject({ running: true, pid, viewers: 1 });
    expect(b.chunks).toHaveLength(1);
    offB();
    clock.advance(9_999);
    expect(alive(pid)).toBe(true);
    expect(h.status('cam1')[0]!.running).toBe(true);
    clock.advance(1);
    expect(h.status('cam1')[0]).toMatchObject({ running: false, viewers: 0 });
    await waitFor('ffmpeg to exit', () => !alive(pid));
    expect(childrenRunning(process.pid, uri)).toEqual([]);
    // Nobody was watching: nobody is told anything.
    expect([...a.byes, ...b.byes]).toEqual([]);
  });

  it('skips fragments for a viewer that is not ready instead of queueing them, and resumes on a key frame', async () => {
    const { hub: h } = hub();
    const uri = rtsp.url('sub');
    const fast = new Viewer();
    const slow = new Viewer();
    h.subscribe('cam1', { uri }, fast);
    h.subscribe('cam1', { uri }, slow);
    await waitFor('init for both', () => fast.chunks.length >= 1 && slow.chunks.length >= 1);
    slow.isReady = false;
    const from = fast.fragments.length;
    await waitFor('two fragments the slow viewer cannot take', () => fast.fragments.length >= from + 2);
    expect(slow.fragments.length).toBeLessThanOrEqual(from);
    const before = slow.fragments.length;
    const resumeAt = fast.fragments.length;
    slow.isReady = true;
    await waitFor('the slow viewer to get a fragment again', () => slow.fragments.length > before);
    const next = slow.fragments[before]!;
    expect(fast.fragments.indexOf(next)).toBeGreaterThanOrEqual(resumeAt);
    expect(startsWithSync(next, 0)).toBe(true);
  });

  it('drops a viewer whose callbacks throw, keeps the others, and lingers out when none is left', async () => {
    const { hub: h } = hub();
    const uri = rtsp.url('sub');
    const good = new Viewer();
    const broken = new Viewer();
    broken.data = (chunk) => {
      if (type(chunk) === 'moof') throw new Error('socket gone');
      broken.chunks.push(chunk);
    };
    h.subscribe('cam1', { uri }, good);
    const offBroken = h.subscribe('cam1', { uri }, broken);
    await waitFor('a fragment for the good viewer', () => good.fragments.length >= 1);
    expect(h.status('cam1')[0]!.viewers).toBe(1);
    const before = good.fragments.length;
    await waitFor('more fragments', () => good.fragments.length > before);
    offBroken();

    const lone = new Viewer();
    lone.hello = () => {
      throw new Error('socket gone');
    };
    const { hub: h2, clock: clock2 } = hub({ lingerMs: 10_000, stallMs: 600_000 });
    h2.subscribe('cam1', { uri }, lone);
    await waitFor('the lone viewer to be dropped', () => h2.status('cam1')[0]!.viewers === 0);
    const pid = h2.status('cam1')[0]!.pid!;
    clock2.advance(10_000);
    await waitFor('ffmpeg to exit', () => !alive(pid));
  });

  it('refuses H.265: at once when the camera says so, with a bye when the stream shows it, at once after that', async () => {
    const { hub: h } = hub();
    expect(() => h.subscribe('cam-hevc', { uri: rtsp.url('h265'), codec: 'H265' }, new Viewer())).toThrow(UnplayableCodecError);
    expect(h.status('cam-hevc')).toEqual([]);
    expect(() => h.subscribe('cam-mjpeg', { uri: rtsp.url('h265'), codec: 'JPEG' }, new Viewer())).toThrow(/JPEG.*MPEG-1 path/);

    const v = new Viewer();
    h.subscribe('cam-hevc', { uri: rtsp.url('h265') }, v);
    await waitFor('the bye', () => v.byes.length === 1);
    expect(v.byes[0]!.code).toBe('unplayable');
    expect(v.byes[0]!.reason).toMatch(/hev1\..*MPEG-1 path/);
    expect(v.hellos).toEqual([]);
    expect(v.chunks).toEqual([]);
    expect(h.status('cam-hevc')[0]).toMatchObject({ running: false, codec: expect.stringMatching(/^hev1\./) });
    let thrown: unknown;
    try {
      h.subscribe('cam-hevc', { uri: rtsp.url('h265') }, new Viewer());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UnplayableCodecError);
    expect((thrown as UnplayableCodecError).codec).toMatch(/^hev1\./);
  });

  it('tells the viewer when ffmpeg is missing, and carries on', async () => {
    const { hub: h } = hub({ ffmpeg: '/nonexistent/ffmpeg' });
    const v = new Viewer();
    h.subscribe('cam1', { uri: rtsp.url('sub') }, v);
    await waitFor('the bye', () => v.byes.length === 1);
    expect(v.byes[0]).toEqual({ code: 'ended', reason: 'stream ended: ffmpeg not found at "/nonexistent/ffmpeg": install Debian\'s ffmpeg or set video.ffmpeg' });
    expect(h.status('cam1')[0]).toMatchObject({ running: false, lastError: expect.stringMatching(/ffmpeg not found/) });
  });

  it('ends the stream with a bye when the camera goes away, and does not restart by itself', async () => {
    const cam = await startRtspSource();
    extraSources.push(cam);
    const { hub: h } = hub();
    const v = new Viewer();
    h.subscribe('cam1', { uri: cam.url('sub') }, v);
    await waitFor('a fragment', () => v.fragments.length >= 1);
    const pid = h.status('cam1')[0]!.pid!;
    await cam.kill();
    await waitFor('the bye', () => v.byes.length === 1, 20_000);
    expect(v.byes[0]!.code).toBe('ended');
    expect(v.byes[0]!.reason).toMatch(/^stream ended: /);
    await waitFor('ffmpeg to exit', () => !alive(pid));
    expect(h.status('cam1')[0]).toMatchObject({ running: false, pid: null, viewers: 0 });
    expect(childrenRunning(process.pid, cam.url('sub'))).toEqual([]);
  });

  it('ends a stream that sends nothing after the stall time, by the injected clock', async () => {
    // A camera that takes the connection and never answers.
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const { hub: h, clock } = hub({ stallMs: 15_000 });
    const v = new Viewer();
    h.subscribe('cam1', { uri: `rtsp://127.0.0.1:${port}/sub` }, v);
    await waitFor('ffmpeg to connect', () => sockets.length >= 1);
    const pid = h.status('cam1')[0]!.pid!;
    clock.advance(14_000);
    expect(v.byes).toEqual([]);
    clock.advance(6_000);
    expect(v.byes).toEqual([{ code: 'ended', reason: 'stream ended: no video from the camera for 15 s' }]);
    await waitFor('ffmpeg to exit', () => !alive(pid));
    sockets.forEach((s) => s.destroy());
  });

  it('keeps camera credentials out of reasons, status and logs', async () => {
    const cam = await startRtspSource({ user: 'guard', password: 'opensesame42' });
    extraSources.push(cam);
    const { hub: h, logs } = hub();
    const good = new Viewer();
    h.subscribe('cam-ok', { uri: cam.url('sub', { user: 'guard', password: 'opensesame42' }) }, good);
    const bad = new Viewer();
    h.subscribe('cam-bad', { uri: cam.url('sub', { user: 'guard', password: 'wrongsecret99' }) }, bad);
    await waitFor('video with the right password', () => good.fragments.length >= 1);
    await waitFor('a bye for the wrong one', () => bad.byes.length === 1);
    expect(bad.byes[0]!.reason).toMatch(/401/);
    const everything = JSON.stringify([bad.byes, h.status('cam-ok'), h.status('cam-bad'), logs]);
    // ffmpeg's own error line names the input URL: it reached the logs, scrubbed.
    expect(logs.join('')).toMatch(/rtsp:\/\/\*\*\*@127\.0\.0\.1/);
    expect(everything).not.toMatch(/opensesame42|wrongsecret99/);
  });

  it('refuses what is not an RTSP URL, without echoing secrets', () => {
    const { hub: h } = hub();
    const refusal = (uri: string): GuardpostError => {
      try {
        h.subscribe('cam1', { uri }, new Viewer());
      } catch (err) {
        expect(err).toBeInstanceOf(GuardpostError);
        return err as GuardpostError;
      }
      throw new Error(`${uri} was accepted`);
    };
    expect(refusal('http://admin:hunter2@10.0.0.5/video').message).toBe('a live stream must be rtsp:// or rtsps://, not http://');
    expect(refusal('rtsp://admin:hunter2@[10.0.0.5/video').message).toBe('not a URL: rtsp://***@[10.0.0.5/video');
    expect(refusal('').message).toBe('not a URL: ');
    expect(() => h.subscribe('', { uri: rtsp.url('sub') }, new Viewer())).toThrow(/camera id/);
    expect(childrenRunning(process.pid, 'hunter2')).toEqual([]);
  });

  it('says bye to everyone and stops every ffmpeg on close', async () => {
    const { hub: h } = hub();
    const v = new Viewer();
    h.subscribe('cam1', { uri: rtsp.url('sub') }, v);
    await waitFor('init', () => v.chunks.length >= 1);
    const pid = h.status('cam1')[0]!.pid!;
    await h.close();
    expect(v.byes).toEqual([{ code: 'closed', reason: 'the gateway is stopping' }]);
    expect(alive(pid)).toBe(false);
    expect(() => h.subscribe('cam1', { uri: rtsp.url('sub') }, new Viewer())).toThrow(/shut down/);
  });
});
