// Recording against real ffmpeg and a real RTSP source: segments in place and indexed, outages as gaps, clips cut by range.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../../gateway/core/clock.js';
import { openStore, type Store } from '../../../gateway/store/db.js';
import type { GapRow } from '../../../gateway/store/video.js';
import { cutClip } from '../../../gateway/video/clips.js';
import { probeMedia } from '../../../gateway/video/ffprobe.js';
import { segmentPath } from '../../../gateway/video/layout.js';
import { CameraRecorder, type RecorderStatus } from '../../../gateway/video/recorder.js';
import { waitFor } from '../../helpers/wait.js';
import { startRtspSource, type RtspSource } from '../../video/rtsp.js';

const log = pino({ level: 'silent' });

describe('recorder with real ffmpeg and an RTSP source', () => {
  let dir: string;
  let store: Store;
  let rtsp: RtspSource;
  let recorder: CameraRecorder;
  const statuses: RecorderStatus[] = [];
  const gaps: GapRow[] = [];
  const jumps: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gp-rec-'));
    store = openStore({ dataDir: dir, now: () => Date.now() });
    rtsp = await startRtspSource({ user: 'cam', password: 'p@ss word' });
    recorder = new CameraRecorder('gate-cam', {
      ffmpeg: 'ffmpeg',
      recordingsDir: join(dir, 'recordings'),
      segmentS: 2,
      staleAfterMs: 8000,
      clock: systemClock,
      log,
      previousEnd: null,
      onSegment: (seg) => store.video.addSegment(seg),
      onGap: (gap) => {
        gaps.push(gap);
        store.video.addGap(gap);
      },
      onStatus: (s) => statuses.push(s),
      onClockJump: (_camera, ms) => jumps.push(ms),
    });
    recorder.start();
    recorder.setSource(rtsp.url('main', { user: 'cam', password: 'p@ss word' }));
  }, 30_000);

  afterAll(async () => {
    await recorder?.stop();
    await rtsp?.stop();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the stream into segments laid out by camera and UTC time, each indexed', async () => {
    const rows = await waitFor('three segments', () => {
      const r = store.video.segments('gate-cam', 0, Date.now() + 60_000);
      return r.length >= 3 ? r : null;
    }, 30_000);
    expect(statuses.map((s) => s.state)).toContain('recording');
    for (const row of rows) {
      expect(row.path).toBe(segmentPath('gate-cam', row.start_ms));
      const file = join(dir, 'recordings', row.path);
      expect(existsSync(file)).toBe(true);
      const media = probeMedia('ffmpeg', file);
      // Copied, not re-encoded: the camera's H.264 at the camera's size.
      expect(media).toMatchObject({ codec: 'h264', width: 640, height: 360 });
      expect(row).toMatchObject({ codec: 'h264', width: 640, height: 360 });
      expect(row.bytes).toBeGreaterThan(0);
    }
    // Consecutive segments join up: the index has no holes while the stream flows.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.start_ms).toBe(rows[i - 1]!.end_ms);
    // The staging area holds only the segment being written.
    expect(spawnSync('ls', [join(dir, 'recordings', '.incoming', 'gate-cam')], { encoding: 'utf8' }).stdout.trim().split('\n').length).toBeLessThanOrEqual(1);
  });

  it('cuts a clip across segment boundaries by time range, without re-encoding', async () => {
    const rows = store.video.segments('gate-cam', 0, Date.now() + 60_000);
    const start = rows[0]!.start_ms + 500;
    const end = rows[2]!.start_ms + 1000;
    const out = join(dir, 'clip.mp4');
    const clip = await cutClip({ ffmpeg: 'ffmpeg', recordingsDir: join(dir, 'recordings'), segments: store.video.segments('gate-cam', start, end), start, end, out });
    const media = probeMedia('ffmpeg', out)!;
    expect(media.codec).toBe('h264');
    // Cut on key frames (one a second here): within a second of what was asked, never the whole three segments.
    expect(media.durationMs).toBeGreaterThan(end - start - 1100);
    expect(media.durationMs).toBeLessThan(end - start + 1100);
    expect(clip.gaps).toEqual([]);
  });

  it('records an outage as a gap with its cause and resumes at the new resolution when the camera returns', async () => {
    const before = store.video.segments('gate-cam', 0, Date.now() + 60_000).length;
    await rtsp.stop();
    await waitFor('the recorder to notice', () => statuses.some((s) => s.state === 'stalled'), 30_000);
    expect(recorder.snapshot().lastError).toBeTruthy();
    // The password never appears in what the recorder reports.
    expect(JSON.stringify(statuses)).not.toContain('p@ss');
    expect(JSON.stringify(statuses)).not.toContain('p%40ss');
    await rtsp.restart({ width: 480, height: 270 });
    const rows = await waitFor('segments after the outage', () => {
      const r = store.video.segments('gate-cam', 0, Date.now() + 60_000).filter((s) => s.width === 480);
      return r.length >= 1 ? r : null;
    }, 40_000);
    expect(rows[0]).toMatchObject({ width: 480, height: 270 });
    expect(store.video.segments('gate-cam', 0, Date.now() + 60_000).length).toBeGreaterThan(before);
    const gap = gaps.at(-1)!;
    expect(gap.reason).toMatch(/recorder restarted/);
    expect(gap.end_ms).toBe(rows[0]!.start_ms);
    expect(store.video.gaps('gate-cam', 0, Date.now() + 60_000)).toHaveLength(gaps.length);
    expect(jumps).toEqual([]);
  }, 90_000);
});

describe('recorder when the wall clock jumps back', () => {
  it('raises the jump and keeps both recordings of the repeated minute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gp-jump-'));
    const store = openStore({ dataDir: dir, now: () => Date.now() });
    const rtsp = await startRtspSource();
    let offset = 0;
    const clock = { ...systemClock, now: () => Date.now() + offset };
    const jumps: number[] = [];
    const recorder = new CameraRecorder('yard', {
      ffmpeg: 'ffmpeg',
      recordingsDir: join(dir, 'recordings'),
      segmentS: 2,
      staleAfterMs: 8000,
      clock,
      log,
      previousEnd: null,
      onSegment: (seg) => store.video.addSegment(seg),
      onGap: () => undefined,
      onStatus: () => undefined,
      onClockJump: (_camera, ms) => jumps.push(ms),
    });
    try {
      recorder.start();
      recorder.setSource(rtsp.url('main'));
      await waitFor('a first segment', () => store.video.segments('yard', 0, Date.now() + 60_000).length >= 1, 30_000);
      offset = -60_000;
      await waitFor('the jump', () => jumps.length > 0, 30_000);
      expect(jumps[0]).toBeGreaterThan(50_000);
      const rows = await waitFor('segments after the jump', () => {
        const r = store.video.segments('yard', 0, Date.now() + 60_000);
        return r.length >= 3 ? r : null;
      }, 30_000);
      // Every file is kept and indexed under its own path, even where the times repeat.
      expect(new Set(rows.map((r) => r.path)).size).toBe(rows.length);
      for (const r of rows) expect(existsSync(join(dir, 'recordings', r.path))).toBe(true);
    } finally {
      await recorder.stop();
      await rtsp.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('recorder without an ffmpeg', () => {
  it('says where it looked, keeps retrying with backoff, and counts the failures in a row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gp-noff-'));
    const clock = new ManualClock(Date.now());
    const statuses: RecorderStatus[] = [];
    const recorder = new CameraRecorder('yard', {
      ffmpeg: '/nonexistent/ffmpeg',
      recordingsDir: join(dir, 'recordings'),
      segmentS: 2,
      staleAfterMs: 8000,
      clock,
      log,
      previousEnd: null,
      onSegment: () => undefined,
      onGap: () => undefined,
      onStatus: (s) => statuses.push(s),
      onClockJump: () => undefined,
    });
    try {
      recorder.start();
      recorder.setSource('rtsp://127.0.0.1:9/none');
      // Each try waits its backoff on the clock, moved half a second per real poll.
      await waitFor('three failures in a row', () => {
        clock.advance(500);
        return recorder.snapshot().failuresInARow >= 3;
      });
      expect(recorder.snapshot().lastError).toBe('ffmpeg not found at "/nonexistent/ffmpeg": install Debian\'s ffmpeg or set video.ffmpeg');
      expect(recorder.snapshot().restarts).toBeGreaterThanOrEqual(2);
      expect(statuses.some((s) => s.state === 'stalled')).toBe(true);
    } finally {
      await recorder.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
