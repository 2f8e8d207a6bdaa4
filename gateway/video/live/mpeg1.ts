// The MPEG-1 live fallback: one worker process per camera stream (node-rtsp-stream on loopback), relayed to every viewer.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import type { Clock, Timer } from '../../core/clock.js';
import { ErrorCode, GuardpostError } from '../../core/errors.js';
import { scrubUrlCredentials } from '../../core/mask.js';
import { packageRoot } from '../../core/paths.js';
import { Audience } from './audience.js';
import { checkUri, stopChild, type ByeCode } from './hub.js';

/** What the fallback sends: small and slow, because every frame is decoded and re-encoded here. */
export interface Mpeg1Output {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

export const defaultMpeg1Output: Mpeg1Output = { width: 480, height: 270, fps: 10, bitrateKbps: 600 };

export interface Mpeg1Viewer {
  /** The 8-byte "jsmp" header (magic, width, height as uint16 BE) first, then MPEG-TS bytes for JSMpeg. */
  data(chunk: Buffer): void;
  /** Called once; the viewer is gone from the hub by then. */
  bye(reason: string, code: Exclude<ByeCode, 'unplayable'>): void;
  /** False while the viewer cannot take more: chunks are dropped (JSMpeg resyncs on the next TS packet and picture). */
  ready?(): boolean;
}

export interface Mpeg1HubDeps {
  ffmpeg: string;
  clock: Clock;
  log: Logger;
  output?: Partial<Mpeg1Output>;
  /** How long the worker keeps running after the last viewer left. */
  lingerMs?: number;
  /** No bytes from the worker for this long ends the stream. */
  stallMs?: number;
  /** The compiled worker script; defaults to the one in dist/. */
  workerPath?: string;
}

export interface Mpeg1Status {
  camera: string;
  uri: string;
  running: boolean;
  workerPid: number | null;
  ffmpegPid: number | null;
  /** The worker's loopback websocket port, once it listens. */
  port: number | null;
  viewers: number;
  width: number;
  height: number;
  startedAt: number | null;
  lastError: string | null;
}

/** Gateway to worker, once, right after the spawn (over IPC, so the camera's credentials stay out of the worker's argv). */
export interface WorkerStart {
  type: 'start';
  camera: string;
  uri: string;
  ffmpeg: string;
  args: string[];
  width: number;
  height: number;
}

/** Worker to gateway: `ready` once its websocket listens; `ended` with the reason just before it exits. */
export type WorkerReport = { type: 'ready'; port: number; ffmpegPid: number | null } | { type: 'ended'; reason: string };

export const defaultWorkerPath = join(packageRoot, 'dist', 'gateway', 'video', 'live', 'mpeg1-worker.js');

const defaultLingerMs = 10_000;
const defaultStallMs = 15_000;

/** The transcode node-rtsp-stream would run, with the input options it cannot express put before -i. */
export function mpeg1FfmpegArgs(uri: string, out: Mpeg1Output): string[] {
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    // TCP: UDP drops packets on a busy LAN and breaks frames; the timeout (µs) ends ffmpeg on a dead camera.
    '-rtsp_transport', 'tcp', '-timeout', '10000000',
    // As on the MSE path: a short analysis gets the tile up in about a second instead of three.
    '-analyzeduration', '1000000',
    '-i', uri,
    '-map', '0:v:0',
    '-f', 'mpegts', '-codec:v', 'mpeg1video',
    '-s', `${out.width}x${out.height}`, '-r', String(out.fps),
    // MPEG-1 knows only 23.976-60 fps; "unofficial" allows the low rates that keep the transcode cheap.
    '-strict', 'unofficial',
    // JSMpeg decodes no B-frames.
    '-b:v', `${out.bitrateKbps}k`, '-bf', '0',
    '-flush_packets', '1',
    'pipe:1',
  ];
}

interface Run {
  worker: ChildProcess;
  relay: WebSocket | null;
  header: Buffer | null;
  port: number | null;
  ffmpegPid: number | null;
  lastDataAt: number;
  watchdog: Timer;
  /** What the worker said before it exited. */
  endReason: string | null;
  lastStderr: string | null;
  stopping: boolean;
}

interface Feed {
  camera: string;
  uri: string;
  viewers: Audience<Mpeg1Viewer, Exclude<ByeCode, 'unplayable'>>;
  run: Run | null;
  startedAt: number | null;
  lastError: string | null;
}

export class Mpeg1Hub {
  private readonly feeds = new Map<string, Feed>();
  private readonly exits = new Set<Promise<void>>();
  private readonly output: Mpeg1Output;
  private readonly lingerMs: number;
  private readonly stallMs: number;
  private readonly workerPath: string;
  private closed = false;

  constructor(private readonly deps: Mpeg1HubDeps) {
    this.output = { ...defaultMpeg1Output, ...deps.output };
    for (const [k, v] of Object.entries(this.output)) {
      if (!Number.isInteger(v) || v <= 0) throw new GuardpostError(ErrorCode.BadRequest, `MPEG-1 output ${k} must be a positive integer, got ${v}`);
    }
    // MPEG-1 macroblocks: odd sizes are refused by the encoder.
    if (this.output.width % 2 || this.output.height % 2) throw new GuardpostError(ErrorCode.BadRequest, 'MPEG-1 output width and height must be even');
    this.lingerMs = deps.lingerMs ?? defaultLingerMs;
    this.stallMs = deps.stallMs ?? defaultStallMs;
    this.workerPath = deps.workerPath ?? defaultWorkerPath;
  }

  /** Adds a viewer, starting the camera's worker if none runs. Returns the unsubscribe function (idempotent). */
  subscribe(camera: string, uri: string, viewer: Mpeg1Viewer): () => void {
    if (this.closed) throw new GuardpostError(ErrorCode.Conflict, 'the live hub is shut down');
    if (!camera) throw new GuardpostError(ErrorCode.BadRequest, 'a camera id is required');
    checkUri(uri);
    if (!existsSync(this.workerPath)) throw new GuardpostError(ErrorCode.Internal, `the MPEG-1 worker is missing at ${this.workerPath}: run npm run build`);
    const key = `${camera}\n${uri}`;
    let feed = this.feeds.get(key);
    if (!feed) {
      const viewers = new Audience<Mpeg1Viewer, Exclude<ByeCode, 'unplayable'>>({ camera, clock: this.deps.clock, log: this.deps.log, lingerMs: this.lingerMs, idle: () => this.idle(key) });
      feed = { camera, uri, viewers, run: null, startedAt: null, lastError: null };
      this.feeds.set(key, feed);
    }
    const leave = feed.viewers.join(viewer, null);
    const header = feed.run && !feed.run.stopping ? feed.run.header : null;
    if (header) feed.viewers.call(viewer, () => viewer.data(header));
    if (!feed.run || feed.run.stopping) this.start(feed);
    return leave;
  }

  /** Nobody came back within the linger: stop the camera's worker. */
  private idle(key: string): void {
    const run = this.feeds.get(key)?.run;
    if (run) this.stop(run);
  }

  status(camera: string): Mpeg1Status[] {
    return [...this.feeds.values()]
      .filter((f) => f.camera === camera)
      .map((f) => {
        const run = f.run && !f.run.stopping ? f.run : null;
        return {
          camera,
          uri: scrubUrlCredentials(f.uri),
          running: run !== null,
          workerPid: run?.worker.pid ?? null,
          ffmpegPid: run?.ffmpegPid ?? null,
          port: run?.port ?? null,
          viewers: f.viewers.size,
          width: this.output.width,
          height: this.output.height,
          startedAt: f.startedAt,
          lastError: f.lastError,
        };
      });
  }

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
    // No stdout: node-rtsp-stream console.logs every connection there. Its stderr is scrubbed below.
    const worker = spawn(process.execPath, [this.workerPath], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const now = this.deps.clock.now();
    const run: Run = {
      worker,
      relay: null,
      header: null,
      port: null,
      ffmpegPid: null,
      lastDataAt: now,
      endReason: null,
      lastStderr: null,
      stopping: false,
      watchdog: this.deps.clock.setInterval(() => {
        if (this.deps.clock.now() - run.lastDataAt > this.stallMs) this.end(feed, run, `no video from the camera for ${Math.round(this.stallMs / 1000)} s`);
      }, Math.max(250, Math.min(5000, this.stallMs / 4))),
    };
    if (feed.run) this.stop(feed.run);
    feed.run = run;
    feed.startedAt = now;
    this.deps.log.info({ camera: feed.camera, uri: scrubUrlCredentials(feed.uri), pid: worker.pid }, 'live: MPEG-1 worker started');

    let exited!: () => void;
    const exit = new Promise<void>((resolve) => (exited = resolve));
    this.exits.add(exit);
    worker.on('error', (err) => {
      if (worker.pid === undefined) this.end(feed, run, `the MPEG-1 worker could not start: ${err.message}`);
    });
    worker.on('message', (msg: WorkerReport) => {
      if (msg?.type === 'ended') run.endReason ??= scrubUrlCredentials(String(msg.reason)).slice(0, 300);
      else if (msg?.type === 'ready' && feed.run === run && !run.stopping) {
        run.port = msg.port;
        run.ffmpegPid = msg.ffmpegPid;
        this.connect(feed, run);
      }
    });
    createInterface({ input: worker.stderr! }).on('line', (raw) => {
      const line = scrubUrlCredentials(raw.trim());
      if (!line) return;
      run.lastStderr = line.slice(0, 300);
      this.deps.log.debug({ camera: feed.camera, line: run.lastStderr }, 'live: MPEG-1 worker said');
    });
    // 'close' comes after the IPC channel is drained, so the worker's last word (endReason) is in by then.
    worker.on('close', (code, signal) => {
      run.watchdog.cancel();
      this.exits.delete(exit);
      exited();
      if (run.stopping) return;
      const how = signal ? `killed by ${signal}` : `exit code ${code}`;
      this.end(feed, run, run.endReason ?? `the MPEG-1 worker ended (${how})${run.lastStderr ? `: ${run.lastStderr}` : ''}`);
    });
    const start: WorkerStart = {
      type: 'start',
      camera: feed.camera,
      uri: feed.uri,
      ffmpeg: this.deps.ffmpeg,
      args: mpeg1FfmpegArgs(feed.uri, this.output),
      width: this.output.width,
      height: this.output.height,
    };
    worker.send(start, (err) => {
      if (err) this.deps.log.warn({ camera: feed.camera, err: err.message }, 'live: the MPEG-1 worker did not take its start');
    });
  }

  /** One loopback connection per worker; its messages fan out to the viewers. */
  private connect(feed: Feed, run: Run): void {
    const relay = new WebSocket(`ws://127.0.0.1:${run.port}/`, { perMessageDeflate: false });
    run.relay = relay;
    relay.on('message', (data: Buffer) => {
      if (feed.run !== run || run.stopping) return;
      run.lastDataAt = this.deps.clock.now();
      if (!run.header) {
        run.header = data;
        for (const [viewer] of feed.viewers.entries()) feed.viewers.call(viewer, () => viewer.data(data));
        return;
      }
      feed.lastError = null;
      for (const [viewer] of feed.viewers.entries()) {
        if (feed.viewers.call(viewer, () => viewer.ready?.() ?? true)) feed.viewers.call(viewer, () => viewer.data(data));
      }
    });
    relay.on('error', (err) => this.deps.log.debug({ camera: feed.camera, err: err.message }, 'live: MPEG-1 relay error'));
    // The worker closes it only when it is going: make sure it goes, and let its exit tell the viewers why.
    relay.on('close', () => {
      if (feed.run === run && !run.stopping && run.worker.exitCode === null && run.worker.signalCode === null) run.worker.kill('SIGTERM');
    });
  }

  private end(feed: Feed, run: Run, reason: string): void {
    if (feed.run !== run || run.stopping) return;
    feed.lastError = reason;
    this.deps.log.warn({ camera: feed.camera, uri: scrubUrlCredentials(feed.uri), reason }, 'live: MPEG-1 stream ended');
    this.stop(run);
    feed.run = null;
    feed.viewers.byeAll(`stream ended: ${reason}`, 'ended');
  }

  private stop(run: Run): void {
    if (run.stopping) return;
    run.stopping = true;
    run.watchdog.cancel();
    run.relay?.terminate();
    stopChild(run.worker, this.deps.clock);
  }
}
