// Benchmark: CPU of one live tile by each path: H.264 copied into fMP4 for MSE, and the MPEG-1 transcode fallback.
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { systemClock } from '../../gateway/core/clock.js';
import { LiveHub } from '../../gateway/video/live/hub.js';
import { Mpeg1Hub } from '../../gateway/video/live/mpeg1.js';
import { procStat } from '../../test/helpers/procs.js';
import { startRtspSource, type RtspSource } from '../../test/video/rtsp.js';
import { round2 } from './stats.js';

const seconds = Number(process.env.BENCH_LIVE_SECONDS ?? 10);
// A camera's sub-stream: 640x360 at 15 fps, a key frame every second (the RTSP server's GOP is one second of frames).
const fps = Number(process.env.BENCH_LIVE_FPS ?? 15);
// Start-up (RTSP handshake, stream analysis, the first GOP) is not what a tile costs while it is on the wall.
const warmupMs = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clockTicks(): number {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

const ticksOf = (pids: number[]): number =>
  pids.reduce((sum, pid) => {
    const stat = procStat(pid);
    if (!stat) throw new Error(`process ${pid} ended during the live bench`);
    return sum + stat.cpuTicks;
  }, 0);

interface Sample {
  /** CPU of the measured processes, % of one core. */
  pct: number;
  /** This process (the relay in the gateway), % of one core. */
  relayPct: number;
  /** The RTSP server standing in for the camera, % of one core: not part of the tile's cost. */
  cameraPct: number;
  bytes: number;
}

/** CPU over `seconds` of steady streaming, by /proc utime+stime of `pids()` over wall time. */
async function measure(rtsp: RtspSource, pids: () => number[], bytes: () => number, hz: number): Promise<Sample> {
  const deadline = Date.now() + 20_000;
  while (bytes() === 0) {
    if (Date.now() > deadline) throw new Error('the live bench got no video in 20 s');
    await sleep(100);
  }
  await sleep(warmupMs);
  const measured = pids();
  const t0 = performance.now();
  const ticks0 = ticksOf(measured);
  const camera0 = ticksOf([rtsp.pid]);
  const self0 = process.cpuUsage();
  const bytes0 = bytes();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const pct = (ticks: number) => round2((ticks / hz / wall) * 100);
  return {
    pct: pct(ticksOf(measured) - ticks0),
    cameraPct: pct(ticksOf([rtsp.pid]) - camera0),
    relayPct: round2(((self.user + self.system) / 1e6 / wall) * 100),
    bytes: bytes() - bytes0,
  };
}

/**
 * live_tile_cpu_pct_copy: ffmpeg copying a 640x360 H.264 sub-stream into fragmented MP4, one viewer.
 * live_tile_cpu_pct_mpeg1: the MPEG-1 fallback on the H.265 mount (320x180 here) at its reduced output
 * (480x270, 10 fps, 600 kbit/s): the worker process and its ffmpeg together.
 * Both are % of one core, from /proc utime+stime over wall time; the RTSP server is reported, not counted.
 */
export async function run(): Promise<Record<string, number>> {
  const hz = clockTicks();
  const log = pino({ level: 'silent' });
  const rtsp = await startRtspSource({ width: 640, height: 360, fps });
  try {
    const live = new LiveHub({ ffmpeg: 'ffmpeg', clock: systemClock, log });
    let copyBytes = 0;
    let copy: Sample;
    try {
      live.subscribe('bench', { uri: rtsp.url('main') }, { hello: () => undefined, data: (b) => void (copyBytes += b.length), bye: () => undefined });
      copy = await measure(rtsp, () => [live.status('bench')[0]!.pid!], () => copyBytes, hz);
    } finally {
      await live.close();
    }
    const mpeg1 = new Mpeg1Hub({ ffmpeg: 'ffmpeg', clock: systemClock, log });
    let tsBytes = 0;
    let transcode: Sample;
    try {
      mpeg1.subscribe('bench', rtsp.url('h265'), { data: (b) => void (tsBytes += b.length), bye: () => undefined });
      transcode = await measure(rtsp, () => {
        const s = mpeg1.status('bench')[0]!;
        return [s.workerPid!, s.ffmpegPid!];
      }, () => tsBytes, hz);
    } finally {
      await mpeg1.close();
    }
    console.error(
      `live: copy ${copy.pct}% (relay in this process ${copy.relayPct}%, ${Math.round((copy.bytes * 8) / seconds / 1000)} kbit/s), ` +
        `mpeg1 ${transcode.pct}% (relay ${transcode.relayPct}%, ${Math.round((transcode.bytes * 8) / seconds / 1000)} kbit/s); ` +
        `the RTSP server (not counted) ${copy.cameraPct}% / ${transcode.cameraPct}% of a core`,
    );
    return { live_tile_cpu_pct_copy: copy.pct, live_tile_cpu_pct_mpeg1: transcode.pct };
  } finally {
    await rtsp.stop();
  }
}
