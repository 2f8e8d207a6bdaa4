// Mpeg1Hub against real ffmpeg, the real node-rtsp-stream worker (from dist/) and the RTSP server's H.265 mount.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../gateway/core/clock.js';
import { defaultWorkerPath, Mpeg1Hub, type Mpeg1HubDeps, type Mpeg1Viewer } from '../../../../gateway/video/live/mpeg1.js';
import type { ByeCode } from '../../../../gateway/video/live/hub.js';
import { waitFor } from '../../../helpers/wait.js';
import { alive, childrenRunning, cmdline, listeners } from '../../../helpers/procs.js';
import { startRtspSource, type RtspSource } from '../../../video/rtsp.js';

// A transcode worker starting up (an H.265 decode, an MPEG-1 encode) is slow when the whole suite runs at once.
const startupMs = 40_000;

class Viewer implements Mpeg1Viewer {
  chunks: Buffer[] = [];
  byes: { reason: string; code: ByeCode }[] = [];
  data(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  bye(reason: string, code: Exclude<ByeCode, 'unplayable'>): void {
    this.byes.push({ reason, code });
  }
  get stream(): Buffer {
    return Buffer.concat(this.chunks.slice(1));
  }
}

let rtsp: RtspSource;
const hubs: Mpeg1Hub[] = [];

function hub(over: Partial<Mpeg1HubDeps> = {}): { hub: Mpeg1Hub; clock: ManualClock; logs: string[] } {
  const logs: string[] = [];
  const clock = new ManualClock();
  // A long stall time: this manual clock only moves when a test says so.
  const h = new Mpeg1Hub({ ffmpeg: 'ffmpeg', clock, log: pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) }), stallMs: 600_000, ...over });
  hubs.push(h);
  return { hub: h, clock, logs };
}

beforeAll(async () => {
  if (!existsSync(defaultWorkerPath)) throw new Error(`${defaultWorkerPath} is missing: run npm run build first`);
  rtsp = await startRtspSource();
});

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

afterAll(async () => {
  await rtsp?.stop();
});

describe('Mpeg1Hub', { timeout: 120_000 }, () => {
  it('relays the jsmp header, then MPEG-TS from one worker shared by its viewers', async () => {
    const { hub: h } = hub({ output: { width: 400, height: 226 } });
    const a = new Viewer();
    h.subscribe('cam-hevc', rtsp.url('h265'), a);
    await waitFor('80 TS packets', () => a.stream.length >= 80 * 188, startupMs);
    const header = a.chunks[0]!;
    expect(header.length).toBe(8);
    expect(header.toString('latin1', 0, 4)).toBe('jsmp');
    expect([header.readUInt16BE(4), header.readUInt16BE(6)]).toEqual([400, 226]);
    const ts = a.stream;
    for (let o = 0; o + 188 <= ts.length; o += 188) expect(ts[o], `byte ${o}`).toBe(0x47);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', 'pipe:0'], { input: ts, encoding: 'utf8' });
    // Listed once under the program and once as a stream.
    expect([...new Set(probe.stdout.split('\n').filter(Boolean))]).toEqual(['mpeg1video,400,226']);

    const b = new Viewer();
    h.subscribe('cam-hevc', rtsp.url('h265'), b);
    expect(b.chunks).toHaveLength(1);
    expect(b.chunks[0]!.equals(header)).toBe(true);
    await waitFor('TS for the second viewer', () => b.stream.length > 0, startupMs);
    const status = h.status('cam-hevc');
    expect(status).toHaveLength(1);
    expect(status[0]).toMatchObject({ running: true, viewers: 2, width: 400, height: 226, lastError: null });
    expect(childrenRunning(process.pid, 'mpeg1-worker')).toEqual([status[0]!.workerPid]);
    expect(childrenRunning(status[0]!.workerPid!, 'mpeg1video')).toEqual([status[0]!.ffmpegPid]);
    // ffmpeg is told RTSP over TCP, before its input.
    const args = cmdline(status[0]!.ffmpegPid!);
    expect(args.indexOf('-rtsp_transport')).toBeLessThan(args.indexOf('-i'));
    expect(args[args.indexOf('-rtsp_transport') + 1]).toBe('tcp');
  });

  it('has the worker listen on 127.0.0.1 only, and keeps the camera URL out of its command line', async () => {
    const { hub: h } = hub();
    const v = new Viewer();
    h.subscribe('cam-hevc', rtsp.url('h265', { user: 'guard', password: 'opensesame42' }), v);
    await waitFor('the header', () => v.chunks.length >= 1, startupMs);
    const { port, workerPid } = h.status('cam-hevc')[0]!;
    expect(listeners(port!)).toEqual(['0100007F']);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    for (const address of others) {
      const outcome = await new Promise<string>((resolve) => {
        const s = connect({ host: address, port: port! });
        s.once('connect', () => (s.destroy(), resolve('connected')));
        s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(outcome, address).toBe('ECONNREFUSED');
    }
    expect(cmdline(workerPid!).join(' ')).not.toMatch(/rtsp:|opensesame42/);
  });

  it('tells the viewer when ffmpeg is missing, and the gateway lives on', async () => {
    const { hub: h } = hub({ ffmpeg: '/nonexistent/ffmpeg' });
    const v = new Viewer();
    h.subscribe('cam-hevc', rtsp.url('h265'), v);
    await waitFor('the bye', () => v.byes.length === 1);
    expect(v.byes[0]).toEqual({ code: 'ended', reason: 'stream ended: ffmpeg not found at "/nonexistent/ffmpeg": install Debian\'s ffmpeg or set video.ffmpeg' });
    expect(h.status('cam-hevc')[0]).toMatchObject({ running: false, lastError: expect.stringMatching(/ffmpeg not found/) });
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('says bye when the worker dies, and its ffmpeg goes too', async () => {
    const { hub: h } = hub();
    const v = new Viewer();
    const other = new Viewer();
    h.subscribe('cam-hevc', rtsp.url('h265'), v);
    h.subscribe('cam2', rtsp.url('h265'), other);
    await waitFor('TS', () => v.stream.length > 0 && other.stream.length > 0, startupMs);
    const { workerPid, ffmpegPid } = h.status('cam-hevc')[0]!;
    process.kill(workerPid!, 'SIGKILL');
    await waitFor('the bye', () => v.byes.length === 1);
    expect(v.byes[0]).toEqual({ code: 'ended', reason: 'stream ended: the MPEG-1 worker ended (killed by SIGKILL)' });
    await waitFor('the orphaned ffmpeg to exit', () => !alive(ffmpegPid!));
    // The other camera's tile is untouched.
    const before = other.stream.length;
    await waitFor('more TS for the other camera', () => other.stream.length > before, startupMs);
    expect(other.byes).toEqual([]);
    expect(h.status('cam2')[0]!.running).toBe(true);
  });

  it('stops the worker after the linger once the last viewer left', async () => {
    const { hub: h, clock } = hub({ lingerMs: 10_000 });
    const v = new Viewer();
    const off = h.subscribe('cam-hevc', rtsp.url('h265'), v);
    await waitFor('the header', () => v.chunks.length >= 1, startupMs);
    await waitFor('the worker to report its ffmpeg', () => h.status('cam-hevc')[0]!.ffmpegPid);
    const { workerPid, ffmpegPid } = h.status('cam-hevc')[0]!;
    off();
    clock.advance(9_999);
    expect(alive(workerPid!)).toBe(true);
    clock.advance(1);
    await waitFor('the worker and its ffmpeg to exit', () => !alive(workerPid!) && !alive(ffmpegPid!));
    expect(h.status('cam-hevc')[0]).toMatchObject({ running: false, viewers: 0, lastError: null });
    expect(v.byes).toEqual([]);
  });

  it('ends a stream that sends nothing after the stall time', async () => {
    // A camera that takes the connection and never answers.
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { hub: h, clock } = hub({ stallMs: 15_000 });
      const v = new Viewer();
      h.subscribe('cam-dead', `rtsp://127.0.0.1:${(silent.address() as { port: number }).port}/h265`, v);
      await waitFor('ffmpeg to connect', () => sockets.length >= 1);
      const { workerPid } = h.status('cam-dead')[0]!;
      clock.advance(14_000);
      expect(v.byes).toEqual([]);
      clock.advance(6_000);
      expect(v.byes).toEqual([{ code: 'ended', reason: 'stream ended: no video from the camera for 15 s' }]);
      await waitFor('the worker to exit', () => !alive(workerPid!));
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  it('refuses bad settings and bad URLs with a clear error', () => {
    expect(() => hub({ output: { width: 481 } })).toThrow(/even/);
    expect(() => hub({ output: { fps: 0 } })).toThrow(/fps must be a positive integer/);
    const { hub: h } = hub();
    expect(() => h.subscribe('cam1', 'http://x/', new Viewer())).toThrow(/rtsp:\/\//);
    const missing = hub({ workerPath: '/nonexistent/mpeg1-worker.js' }).hub;
    expect(() => missing.subscribe('cam1', rtsp.url('h265'), new Viewer())).toThrow(/worker is missing/);
  });
});
