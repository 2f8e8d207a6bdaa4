// Benchmark: copy-recording CPU per 1080p stream (real ffmpeg, real RTSP source), and the retention sweep over 60 days x 16 cameras.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Alarms } from '../../gateway/alarms.js';
import { EventBus } from '../../gateway/core/bus.js';
import { ManualClock, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { openStore } from '../../gateway/store/db.js';
import { segmentPath } from '../../gateway/video/layout.js';
import { CameraRecorder } from '../../gateway/video/recorder.js';
import { footageSpace, Retention } from '../../gateway/video/retention.js';
import { procStat } from '../../test/helpers/procs.js';
import { startRtspSource } from '../../test/video/rtsp.js';
import { round2 } from './stats.js';

const log = silentLogger();
const ticksPerSecond = 100; // USER_HZ on Linux x86_64 (getconf CLK_TCK)
const cpuSeconds = (pid: number): number => (procStat(pid)?.cpuTicks ?? NaN) / ticksPerSecond;

async function recordCpu(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'gp-bench-rec-'));
  const rtsp = await startRtspSource({ width: 1920, height: 1080, fps: 25 });
  const store = openStore({ dataDir: dir, now: () => Date.now() });
  const recorder = new CameraRecorder('bench', {
    ffmpeg: 'ffmpeg',
    recordingsDir: join(dir, 'recordings'),
    segmentS: 10,
    staleAfterMs: 30_000,
    clock: systemClock,
    log,
    previousEnd: null,
    onSegment: (seg) => store.video.addSegment(seg),
    onGap: () => undefined,
    onStatus: () => undefined,
    onClockJump: () => undefined,
  });
  try {
    recorder.start();
    recorder.setSource(rtsp.url('main'));
    // Past ffmpeg's start-up (probing the stream), then measure a steady stretch.
    await new Promise((r) => setTimeout(r, 4000));
    const pid = recorder.pid;
    if (pid === null) throw new Error('recorder ffmpeg is not running');
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 15_000));
    const cpu = cpuSeconds(pid) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    return (cpu / wall) * 100;
  } finally {
    await recorder.stop();
    await rtsp.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 61 days x 16 cameras of 1-minute segments indexed; the sweep deletes the day past 60 (files and rows). */
async function retentionSweep(): Promise<{ ms: number; maxBlockMs: number; deleted: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gp-bench-ret-'));
  const recordings = join(dir, 'recordings');
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 0, 0, 0));
  const store = openStore({ dataDir: dir, now: () => clock.now() });
  const cameras = 16;
  const minutes = 61 * 1440;
  const start = clock.now() - minutes * 60_000;
  const insert = store.db.prepare('INSERT INTO video_segments (camera, start_ms, end_ms, path, bytes, codec, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const oldest = 1440;
  store.transaction(() => {
    for (let m = 0; m < minutes; m++) {
      const at = start + m * 60_000;
      for (let c = 0; c < cameras; c++) insert.run(`cam-${c}`, at, at + 60_000, segmentPath(`cam-${c}`, at), 30_000_000, 'h264', 1920, 1080);
    }
  });
  // Real (empty) files for the day that goes, so the sweep's unlinks are real work.
  for (let m = 0; m < oldest; m++) {
    for (let c = 0; c < cameras; c++) {
      const file = join(recordings, segmentPath(`cam-${c}`, start + m * 60_000));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, '');
    }
  }
  const retention = new Retention({
    store,
    recordingsDir: recordings,
    clock,
    log,
    alarms: new Alarms(store, new EventBus(log), clock),
    configuredDays: 60,
    floorBytes: 0,
    sweepEveryMs: 300_000,
    recorders: { halt: async () => undefined, resumeAll: () => undefined, cameras: () => [] },
    space: () => footageSpace(recordings, null, () => 0),
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  try {
    delay.enable();
    const t0 = performance.now();
    const result = await retention.sweepAge();
    const ms = performance.now() - t0;
    delay.disable();
    return { ms, maxBlockMs: delay.max / 1e6, deleted: result.deleted };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const sweep = await retentionSweep();
  if (sweep.deleted !== 1440 * 16) throw new Error(`retention sweep deleted ${sweep.deleted} segments, expected ${1440 * 16}`);
  return {
    record_cpu_pct_per_stream: round2(await recordCpu()),
    retention_sweep_ms: Math.round(sweep.ms),
    retention_sweep_max_block_ms: round2(sweep.maxBlockMs),
  };
}
