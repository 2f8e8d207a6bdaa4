// The MSE live path: one ffmpeg per camera stream copying H.264 into fragmented MP4, shared by every viewer of that stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../core/clock.js';
import { ErrorCode, GuardpostError } from '../../core/errors.js';
import { scrubUrlCredentials } from '../../core/mask.js';
import type { LiveHello } from '../../http/video-contracts.js';
import { Audience } from './audience.js';
import { Fmp4Error, Fmp4Splitter, playableByMse, startsWithSync, type InitInfo } from './fmp4.js';

/**
 * Why a viewer's stream ended: `unplayable` (the codec needs the MPEG-1 path; reconnecting will not
 * help), `ended` (ffmpeg exited or stalled; the page may reconnect, with a pause), `closed` (the hub
 * is shutting down).
 */
export type ByeCode = 'unplayable' | 'ended' | 'closed';

export interface LiveViewer {
  hello(hello: LiveHello): void;
  /** The init segment first, then whole fragments, each starting on a key frame. */
  data(chunk: Buffer): void;
  /** Called once; the viewer is gone from the hub by then. */
  bye(reason: string, code: ByeCode): void;
  /**
   * False while the viewer cannot take more (e.g. its socket's bufferedAmount is over a limit): the
   * hub then skips whole fragments rather than queueing them, and resumes at the next fragment that
   * starts on a key frame once this says true again. Absent: always ready.
   */
  ready?(): boolean;
}

export interface LiveStream {
  /** rtsp:// or rtsps://, credentials included (never logged). */
  uri: string;
  /** The encoding the camera reports for the stream (ONVIF: H264, H265, JPEG, MPEG4), when known. */
  codec?: string | null;
}

export interface LiveHubDeps {
  /** The ffmpeg program (config video.ffmpeg). */
  ffmpeg: string;
  clock: Clock;
  log: Logger;
  /** How long ffmpeg keeps running after the last viewer left, so flipping tiles does not restart it. */
  lingerMs?: number;
  /** No bytes from ffmpeg for this long ends the stream. A fragment is a whole GOP, so this must exceed the longest GOP. */
  stallMs?: number;
}

export interface LiveStatus {
  camera: string;
  /** The stream's URI with its credentials removed. */
  uri: string;
  running: boolean;
  pid: number | null;
  viewers: number;
  /** From the last init segment seen (kept after ffmpeg stops). */
  mime: string | null;
  codec: string | null;
  width: number | null;
  height: number | null;
  startedAt: number | null;
  lastError: string | null;
}

/** The stream's codec cannot be played with MSE: the page should use the MPEG-1 path instead. */
export class UnplayableCodecError extends GuardpostError {
  constructor(readonly codec: string) {
    super(ErrorCode.Conflict, `the live stream is ${codec}, which the page cannot play with MSE: use the MPEG-1 path`, { problem: 'codec', codec });
    this.name = 'UnplayableCodecError';
  }
}

const defaultLingerMs = 10_000;
const defaultStallMs = 15_000;
const killGraceMs = 3000;

interface ViewerState {
  /** The next fragment must start on a key frame (after joining, or after skipping one). */
  needKey: boolean;
}

interface Run {
  child: ChildProcess;
  splitter: Fmp4Splitter;
  watchdog: Timer;
  lastByteAt: number;
  lastStderr: string | null;
  /** Stopped on purpose (linger, shutdown): its exit tells no viewer anything. */
  stopping: boolean;
}

interface Feed {
  camera: string;
  uri: string;
  viewers: Audience<LiveViewer, ByeCode, ViewerState>;
  run: Run | null;
  init: { data: Buffer; info: InitInfo } | null;
  /** Codec of the last init seen, kept across runs: a camera that sent H.265 is refused at once next time. */
  codec: string | null;
  info: InitInfo | null;
  startedAt: number | null;
  lastError: string | null;
}

export class LiveHub {
  private readonly feeds = new Map<string, Feed>();
  private readonly exits = new Set<Promise<void>>();
  private readonly lingerMs: number;
  private readonly stallMs: number;
  private closed = false;

  constructor(private readonly deps: LiveHubDeps) {
    this.lingerMs = deps.lingerMs ?? defaultLingerMs;
    this.stallMs = deps.stallMs ?? defaultStallMs;
  }

  /**
   * Adds a viewer to the camera's stream, starting ffmpeg if none runs. Throws GuardpostError for a
   * bad URI and UnplayableCodecError when the stream is known not to be H.264. Returns the
   * unsubscribe function (idempotent).
   */
  subscribe(camera: string, stream: LiveStream, viewer: LiveViewer): () => void {
    if (this.closed) throw new GuardpostError(ErrorCode.Conflict, 'the live hub is shut down');
    if (!camera) throw new GuardpostError(ErrorCode.BadRequest, 'a camera id is required');
    checkUri(stream.uri);
    const key = `${camera}\n${stream.uri}`;
    let feed = this.feeds.get(key);
    // What the camera reports now wins over what the last run saw: it may have been switched to H.264 since.
    const last = feed?.codec ?? null;
    const refused = stream.codec ? (reportedPlayable(stream.codec) ? null : stream.codec) : last !== null && !playableByMse(last) ? last : null;
    if (refused) throw new UnplayableCodecError(refused);
    if (!feed) {
      const viewers = new Audience<LiveViewer, ByeCode, ViewerState>({ camera, clock: this.deps.clock, log: this.deps.log, lingerMs: this.lingerMs, idle: () => this.idle(key) });
      feed = { camera, uri: stream.uri, viewers, run: null, init: null, codec: null, info: null, startedAt: null, lastError: null };
      this.feeds.set(key, feed);
    }
    const leave = feed.viewers.join(viewer, { needKey: true });
    if (feed.init) this.sendInit(feed, viewer, feed.init);
    if (!feed.run || feed.run.stopping) this.start(feed);
    return leave;
  }

  /** Nobody came back within the linger: stop the feed's ffmpeg. */
  private idle(key: string): void {
    const run = this.feeds.get(key)?.run;
    if (run) this.stop(run);
  }

  /** One entry per stream (URI) of the camera the hub was asked for; kept after ffmpeg stops, for its codec and last error. */
  status(camera: string): LiveStatus[] {
    return [...this.feeds.values()]
      .filter((f) => f.camera === camera)
      .map((f) => ({
        camera,
        uri: scrubUrlCredentials(f.uri),
        running: f.run !== null && !f.run.stopping,
        pid: f.run?.child.pid ?? null,
        viewers: f.viewers.size,
        mime: f.info?.mime ?? null,
        codec: f.codec,
        width: f.info?.width ?? null,
        height: f.info?.height ?? null,
        startedAt: f.startedAt,
        lastError: f.lastError,
      }));
  }

  /** Says bye to every viewer, stops every ffmpeg and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const feed of this.feeds.values()) {
      feed.viewers.cancelLinger();
      feed.viewers.byeAll('the gateway is stopping', 'closed');
      if (feed.run) this.stop(feed.run);
    }
    await Promise.all([...this.exits]);
  }

  private start(feed: Feed): void {
    const args = [
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
      // A tile should show up fast: the default 5 s of stream analysis took ~3 s before the first byte, 1 s
      // takes ~1 s. Cameras name the H.264 parameters in their SDP, so little analysis is needed.
      '-fflags', 'nobuffer', '-analyzeduration', '1000000',
      // TCP: UDP drops packets on a busy LAN and breaks frames; the timeout (µs) ends ffmpeg on a dead camera.
      '-rtsp_transport', 'tcp', '-timeout', '10000000',
      '-i', feed.uri,
      // Video only, copied: the page plays the camera's own H.264; audio would need a transcode for MSE.
      '-map', '0:v:0', '-c', 'copy',
      '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof',
      // Hand each fragment on as soon as it is muxed instead of when the pipe buffer fills.
      '-flush_packets', '1',
      'pipe:1',
    ];
    const child = spawn(this.deps.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const now = this.deps.clock.now();
    const run: Run = {
      child,
      splitter: new Fmp4Splitter(),
      lastByteAt: now,
      lastStderr: null,
      stopping: false,
      watchdog: this.deps.clock.setInterval(() => {
        if (this.deps.clock.now() - run.lastByteAt > this.stallMs) this.end(feed, run, `no video from the camera for ${Math.round(this.stallMs / 1000)} s`, 'ended');
      }, Math.max(250, Math.min(5000, this.stallMs / 4))),
    };
    if (feed.run) this.stop(feed.run);
    feed.run = run;
    feed.init = null;
    feed.startedAt = now;
    this.deps.log.info({ camera: feed.camera, uri: scrubUrlCredentials(feed.uri), pid: child.pid }, 'live: ffmpeg started');

    let exited!: () => void;
    const exit = new Promise<void>((resolve) => (exited = resolve));
    this.exits.add(exit);
    child.on('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'ENOENT' ? `ffmpeg not found at "${this.deps.ffmpeg}": install Debian's ffmpeg or set video.ffmpeg` : `ffmpeg could not start: ${err.message}`;
      // 'error' also reports a failed kill; only a failed spawn (no pid) ends the run here.
      if (child.pid === undefined) this.end(feed, run, scrubUrlCredentials(reason), 'ended');
    });
    child.stdout!.on('data', (chunk: Buffer) => this.bytes(feed, run, chunk));
    createInterface({ input: child.stderr! }).on('line', (raw) => {
      const line = scrubUrlCredentials(raw.trim());
      if (!line) return;
      run.lastStderr = line.slice(0, 300);
      this.deps.log.debug({ camera: feed.camera, line: run.lastStderr }, 'live: ffmpeg said');
    });
    child.on('close', (code, signal) => {
      run.watchdog.cancel();
      this.exits.delete(exit);
      exited();
      if (run.stopping) return;
      const how = signal ? `killed by ${signal}` : `exit code ${code}`;
      // ffmpeg ends quietly with 0 at the end of its input: the camera hung up.
      const what = run.lastStderr ?? (code === 0 ? 'the camera closed the stream' : 'ffmpeg ended');
      this.end(feed, run, `${what} (${how})`, 'ended');
    });
  }

  private bytes(feed: Feed, run: Run, chunk: Buffer): void {
    if (feed.run !== run || run.stopping) return;
    run.lastByteAt = this.deps.clock.now();
    let parts;
    try {
      parts = run.splitter.push(chunk);
    } catch (err) {
      this.end(feed, run, `unreadable output from ffmpeg: ${err instanceof Fmp4Error ? err.message : String(err)}`, 'ended');
      return;
    }
    for (const part of parts) {
      if (part.kind === 'init') {
        feed.codec = part.info.codec;
        feed.info = part.info;
        if (!playableByMse(part.info.codec)) {
          this.end(feed, run, new UnplayableCodecError(part.info.codec).message, 'unplayable');
          return;
        }
        feed.init = { data: part.data, info: part.info };
        feed.lastError = null;
        for (const [viewer] of feed.viewers.entries()) this.sendInit(feed, viewer, feed.init);
        continue;
      }
      const info = feed.init?.info;
      if (!info) continue;
      const key = startsWithSync(part.data, info.defaultSampleFlags);
      for (const [viewer, state] of feed.viewers.entries()) {
        if (!feed.viewers.call(viewer, () => viewer.ready?.() ?? true)) {
          state.needKey = true;
          continue;
        }
        if (state.needKey && !key) continue;
        state.needKey = false;
        feed.viewers.call(viewer, () => viewer.data(part.data));
      }
    }
  }

  private sendInit(feed: Feed, viewer: LiveViewer, init: { data: Buffer; info: InitInfo }): void {
    const hello: LiveHello = { type: 'hello', mime: init.info.mime, width: init.info.width, height: init.info.height };
    if (feed.viewers.call(viewer, () => viewer.hello(hello))) feed.viewers.call(viewer, () => viewer.data(init.data));
  }

  /** The run is over for a reason the viewers must hear; the page decides whether to come back. */
  private end(feed: Feed, run: Run, reason: string, code: ByeCode): void {
    if (feed.run !== run || run.stopping) return;
    feed.lastError = reason;
    this.deps.log.warn({ camera: feed.camera, uri: scrubUrlCredentials(feed.uri), reason }, 'live: stream ended');
    this.stop(run);
    feed.run = null;
    feed.init = null;
    feed.viewers.byeAll(code === 'ended' ? `stream ended: ${reason}` : reason, code);
  }

  private stop(run: Run): void {
    if (run.stopping) return;
    run.stopping = true;
    run.watchdog.cancel();
    stopChild(run.child, this.deps.clock);
  }
}

/** SIGTERM lets the child close its RTSP session politely; a wedged one gets SIGKILL after a grace. */
export function stopChild(child: ChildProcess, clock: Clock): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const force = clock.setTimeout(() => child.kill('SIGKILL'), killGraceMs);
  child.once('close', () => force.cancel());
}

export function checkUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new GuardpostError(ErrorCode.BadRequest, `not a URL: ${scrubUrlCredentials(uri).slice(0, 200)}`);
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') {
    throw new GuardpostError(ErrorCode.BadRequest, `a live stream must be rtsp:// or rtsps://, not ${url.protocol}//`);
  }
}

/** A codec as the camera reports it (ONVIF H264, ffmpeg's h264, RFC 6381 avc1.*): H.264 is what MSE plays everywhere. */
function reportedPlayable(codec: string): boolean {
  return /^(h\.?264|avc[13]?)(\.|$)/i.test(codec.trim());
}
