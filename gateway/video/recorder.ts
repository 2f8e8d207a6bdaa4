// One camera's recorder: an ffmpeg copying the stream into segments, moved into place and indexed, watched and restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../core/clock.js';
import { scrubUrlCredentials } from '../core/mask.js';
import type { RecorderState } from '../http/video-contracts.js';
import type { GapRow, NewSegment } from '../store/video.js';
import { probeMedia } from './ffprobe.js';
import { segmentPath, stagedStart, stagingDir, stagingPattern } from './layout.js';

export interface RecorderStatus {
  state: RecorderState;
  since: number;
  lastSegmentAt: number | null;
  lastError: string | null;
  restarts: number;
  /** ffmpeg runs that ended without a segment since the last one: a recorder that keeps failing. */
  failuresInARow: number;
  codec: string | null;
  width: number | null;
  height: number | null;
}

export interface RecorderDeps {
  ffmpeg: string;
  recordingsDir: string;
  segmentS: number;
  staleAfterMs: number;
  clock: Clock;
  log: Logger;
  /** Where the previous recording of this camera ended (from the index), so a restart's gap is recorded. */
  previousEnd: number | null;
  /** Index a finished segment (the file is already in place). */
  onSegment(segment: NewSegment): void;
  onGap(gap: GapRow): void;
  onStatus(status: RecorderStatus): void;
  /** The wall clock went backwards by more than a segment's rounding: footage times overlap. */
  onClockJump(camera: string, backMs: number): void;
}

const firstRestartMs = 1000;
const maxRestartMs = 60_000;
// A start this close to the previous end is the same footage continuing (restart latency, rounding).
const continuityMs = 500;
// Stream time and wall time further apart than this: the clock or the camera moved; re-anchor.
const driftMs = 2000;

export class CameraRecorder {
  private child: ChildProcess | null = null;
  private source: string | null = null;
  private running = false;
  private halted = false;
  private restartMs = firstRestartMs;
  private restartTimer: Timer | null = null;
  private watchdog: Timer | null = null;
  private launchedAt = 0;
  private prevEnd: number | null;
  private gapReason: string;
  private lastStderr: string | null = null;
  /** Wall time of this ffmpeg run's stream time zero. */
  private anchor: number | null = null;
  private readonly status: RecorderStatus;

  constructor(
    readonly camera: string,
    private readonly deps: RecorderDeps,
  ) {
    this.prevEnd = deps.previousEnd;
    this.gapReason = 'recorder not running (gateway stopped)';
    this.status = { state: 'no-stream', since: deps.clock.now(), lastSegmentAt: null, lastError: null, restarts: 0, failuresInARow: 0, codec: null, width: null, height: null };
  }

  snapshot(): RecorderStatus {
    return { ...this.status };
  }

  /** The running ffmpeg's process id (the bench reads its CPU time). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.recoverStaged();
    this.watchdog = this.deps.clock.setInterval(() => this.checkStale(), Math.min(5000, this.deps.staleAfterMs / 2));
    this.launch();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.watchdog?.cancel();
    this.restartTimer?.cancel();
    await this.kill();
  }

  /** The stream to record (from the camera's describe), or null while the camera can't say. */
  setSource(uri: string | null): void {
    if (uri === this.source) return;
    this.source = uri;
    if (!this.running || this.halted) return;
    if (uri === null) {
      this.gapReason = 'camera offline';
      void this.kill().then(() => this.setState('no-stream'));
    } else if (this.child) void this.kill(); // the exit handler relaunches with the new source
    else this.launch();
  }

  /** Stop recording (the disk is full of sealed footage); no restart until resume(). */
  async halt(reason: string): Promise<void> {
    if (this.halted) return;
    this.halted = true;
    this.gapReason = reason;
    this.restartTimer?.cancel();
    this.status.lastError = reason;
    await this.kill();
    this.setState('stopped-disk');
  }

  resume(): void {
    if (!this.halted) return;
    this.halted = false;
    this.launch();
  }

  private launch(): void {
    this.restartTimer = null;
    if (!this.running || this.halted || this.child) return;
    if (this.source === null) {
      this.setState('no-stream');
      return;
    }
    const staging = stagingDir(this.deps.recordingsDir, this.camera);
    mkdirSync(staging, { recursive: true });
    const args = [
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
      // TCP: UDP loses packets on a busy LAN and breaks frames; the timeout (µs) makes a dead camera end ffmpeg.
      '-rtsp_transport', 'tcp', '-timeout', '10000000',
      '-fflags', '+genpts',
      '-i', this.source,
      // Video only: cameras send G.711 audio, which MP4 cannot carry without a re-encode.
      '-map', '0:v:0', '-c', 'copy',
      '-f', 'segment', '-segment_time', String(this.deps.segmentS), '-segment_atclocktime', '1',
      '-segment_format', 'mp4',
      // Fragmented: a segment cut short by a crash or power cut is still playable and gets indexed.
      '-segment_format_options', 'movflags=+frag_keyframe+empty_moov+default_base_moof',
      '-reset_timestamps', '1', '-strftime', '1',
      '-segment_list', 'pipe:1', '-segment_list_type', 'csv',
      join(staging, stagingPattern),
    ];
    this.launchedAt = this.deps.clock.now();
    this.lastStderr = null;
    this.anchor = null;
    // Read again from this run's stream info: a camera reconfigured to another resolution shows it here.
    this.status.codec = this.status.width = this.status.height = null;
    this.setState('starting');
    const child = spawn(this.deps.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    this.child = child;
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.status.lastError =
        err.code === 'ENOENT' ? `ffmpeg not found at "${this.deps.ffmpeg}": install Debian's ffmpeg or set video.ffmpeg` : `ffmpeg could not start: ${err.message}`;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.segmentListed(line));
    createInterface({ input: child.stderr! }).on('line', (raw) => this.stderrLine(raw));
    child.on('close', (code, signal) => {
      this.child = null;
      if (!this.running || this.halted) return;
      this.status.lastError = this.lastStderr ?? this.status.lastError ?? `ffmpeg exited (${signal ?? code})`;
      this.gapReason = `recorder restarted: ${this.status.lastError}`;
      this.status.failuresInARow += 1;
      this.deps.log.warn({ camera: this.camera, code, signal, lastError: this.status.lastError }, 'recorder ffmpeg ended');
      this.setState('stalled');
      this.restartMs = Math.min(this.restartMs * 2, maxRestartMs);
      const wait = this.restartMs / 2;
      if (this.source === null) this.setState('no-stream');
      else this.restartTimer = this.deps.clock.setTimeout(() => {
        this.status.restarts += 1;
        this.launch();
      }, wait);
    });
  }

  private stderrLine(raw: string): void {
    const line = scrubUrlCredentials(raw.trim());
    if (!line) return;
    const video = /Stream #0:\d+.*Video: (\w+)[^,]*,.*?(\d{2,5})x(\d{2,5})/.exec(line);
    if (video && this.status.codec === null) {
      this.status.codec = video[1]!;
      this.status.width = Number(video[2]);
      this.status.height = Number(video[3]);
    } else if (/error|failed|refused|unauthorized|not found|timed out|invalid/i.test(line)) {
      this.lastStderr = line.slice(0, 300);
    }
  }

  private segmentListed(line: string): void {
    const [name, from, to] = line.split(',');
    const streamStart = Number(from) * 1000;
    const streamEnd = Number(to) * 1000;
    if (!name || stagedStart(name) === null || !Number.isFinite(streamStart) || !(streamEnd >= streamStart)) {
      this.deps.log.warn({ camera: this.camera, line: scrubUrlCredentials(line).slice(0, 200) }, 'recorder: unexpected segment list line');
      return;
    }
    // ffmpeg closes a segment when the next one's first key frame arrives, so "now" is this segment's
    // end in wall time: that anchors stream time (exact between segments) to the clock. Staged names
    // carry whole seconds only. Re-anchoring when the two drift apart follows a camera clock that runs fast or slow.
    const now = this.deps.clock.now();
    if (this.anchor === null || Math.abs(this.anchor + streamEnd - now) > driftMs) this.anchor = now - streamEnd;
    // Whole milliseconds (stream times are decimal seconds), rounded at both ends so that one
    // segment's end is exactly the next one's start.
    const start = Math.round(this.anchor + streamStart);
    this.place(join(stagingDir(this.deps.recordingsDir, this.camera), name), start, Math.round(this.anchor + streamEnd) - start);
  }

  /** Move a finished staged file into the layout and index it. */
  private place(file: string, startedAt: number, durationMs: number): void {
    let start = startedAt;
    if (this.prevEnd !== null) {
      if (Math.abs(start - this.prevEnd) <= continuityMs) start = this.prevEnd;
      else if (start > this.prevEnd) this.deps.onGap({ camera: this.camera, start_ms: this.prevEnd, end_ms: start, reason: this.gapReason });
      else this.deps.onClockJump(this.camera, this.prevEnd - start);
    }
    let bytes: number;
    let rel = segmentPath(this.camera, start);
    try {
      // The same name again means the clock went back: keep both files.
      for (let n = 1; existsSync(join(this.deps.recordingsDir, rel)); n++) rel = rel.replace(/(-\d+)?\.mp4$/, `-${n}.mp4`);
      const target = join(this.deps.recordingsDir, rel);
      mkdirSync(dirname(target), { recursive: true });
      renameSync(file, target);
      bytes = statSync(target).size;
    } catch (err) {
      this.status.lastError = `cannot move a segment into place: ${(err as Error).message}`;
      this.deps.log.error({ camera: this.camera, err }, 'recorder: segment not placed');
      return;
    }
    const end = start + durationMs;
    this.deps.onSegment({ camera: this.camera, start_ms: start, end_ms: end, path: rel, bytes, codec: this.status.codec, width: this.status.width, height: this.status.height });
    this.prevEnd = end;
    this.gapReason = 'no footage received';
    this.status.lastSegmentAt = this.deps.clock.now();
    this.status.lastError = null;
    this.status.failuresInARow = 0;
    this.restartMs = firstRestartMs;
    this.setState('recording');
  }

  /** Files a crash or power cut left in staging: fragmented MP4, so what was written still plays. */
  private recoverStaged(): void {
    const staging = stagingDir(this.deps.recordingsDir, this.camera);
    if (!existsSync(staging)) return;
    for (const name of readdirSync(staging).sort()) {
      const file = join(staging, name);
      const started = stagedStart(name);
      const media = started === null ? null : probeMedia(this.deps.ffmpeg, file);
      if (started === null || !media || media.durationMs <= 0) {
        this.deps.log.warn({ camera: this.camera, file: name }, 'recorder: unreadable leftover segment removed');
        unlinkSync(file);
        continue;
      }
      this.status.codec ??= media.codec;
      this.status.width ??= media.width;
      this.status.height ??= media.height;
      this.gapReason = 'recorder not running (gateway stopped)';
      this.place(file, started, media.durationMs);
      this.deps.log.info({ camera: this.camera, file: name, ms: media.durationMs }, 'recorder: leftover segment recovered');
    }
    this.gapReason = 'recorder not running (gateway stopped)';
  }

  private checkStale(): void {
    if (!this.child || (this.status.state !== 'recording' && this.status.state !== 'starting')) return;
    const since = this.status.state === 'recording' ? (this.status.lastSegmentAt ?? this.launchedAt) : this.launchedAt;
    if (this.deps.clock.now() - since <= this.deps.staleAfterMs) return;
    this.status.lastError = `no new segment for ${Math.round((this.deps.clock.now() - since) / 1000)} s`;
    this.lastStderr = this.status.lastError;
    this.child.kill('SIGKILL');
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    // SIGTERM lets ffmpeg finish the segment it is writing; a stuck one is killed.
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    await closed;
    clearTimeout(force);
  }

  private setState(state: RecorderState): void {
    if (this.status.state === state) return;
    this.status.state = state;
    this.status.since = this.deps.clock.now();
    this.deps.onStatus(this.snapshot());
  }
}
