// One camera's MPEG-1 fallback in its own process: node-rtsp-stream bound to loopback, RTSP over TCP, reporting over IPC.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { WebSocket, WebSocketServer } from 'ws';
import { scrubUrlCredentials } from '../../core/mask.js';
import type { WorkerReport, WorkerStart } from './mpeg1.js';

/**
 * The part of node-rtsp-stream's VideoStream this worker relies on: its constructor stores the options,
 * calls startMpeg1Stream() then pipeStreamToSocketServer(); onSocketConnect() sends each new client
 * the 8-byte "jsmp" header (magic, width, height) JSMpeg expects; stop() closes the server and kills ffmpeg.
 */
interface VideoStream extends EventEmitter {
  name: string;
  streamUrl: string;
  width: number;
  height: number;
  stream: ChildProcess | undefined;
  wsServer: WebSocketServer;
  startMpeg1Stream(): this;
  pipeStreamToSocketServer(): this;
  onSocketConnect(socket: WebSocket, request: IncomingMessage): void;
  stop(): this;
}

interface VideoStreamOptions {
  name: string;
  streamUrl: string;
  width: number;
  height: number;
}

// node-rtsp-stream is CommonJS without types: load it as such and describe the part used above.
const VideoStream = createRequire(import.meta.url)('node-rtsp-stream') as new (options: VideoStreamOptions) => VideoStream;

/**
 * The package's two start-up steps are overridden, the rest (the jsmp header, stop) is its own:
 * - its muxer puts ffmpegOptions only after -i, where -rtsp_transport means nothing, and lets a
 *   missing ffmpeg's spawn error go unhandled (a crash); this spawns ffmpeg itself with the arguments
 *   the gateway built (input options first) and handles every failure;
 * - its `new ws.Server({port})` listens on every interface with no authentication; this one listens on
 *   127.0.0.1 on a port the kernel picks, so only the gateway (which authenticates viewers) reaches it.
 * A subclass rather than a fork keeps the package's wire format. It is built inside a function because
 * VideoStream's constructor calls these overrides before a subclass's own fields would exist.
 */
function loopbackStream(start: WorkerStart, report: (msg: WorkerReport) => void, fail: (reason: string) => void): VideoStream {
  class LoopbackStream extends VideoStream {
    override startMpeg1Stream(): this {
      const child = spawn(start.ffmpeg, start.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.stream = child;
      let lastLine: string | null = null;
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return;
        fail(err.code === 'ENOENT' ? `ffmpeg not found at "${start.ffmpeg}": install Debian's ffmpeg or set video.ffmpeg` : `ffmpeg could not start: ${err.message}`);
      });
      child.stdout!.on('data', (data: Buffer) => this.emit('camdata', data));
      // The package copies ffmpeg's stderr, input URL and all, to the process's stderr; keep only a scrubbed last line.
      createInterface({ input: child.stderr! }).on('line', (raw) => {
        const line = scrubUrlCredentials(raw.trim());
        if (line) lastLine = line.slice(0, 300);
      });
      child.on('close', (code, signal) => {
        if (child.pid === undefined) return;
        const how = signal ? `killed by ${signal}` : `exit code ${code}`;
        // ffmpeg ends quietly with 0 at the end of its input: the camera hung up.
        fail(`${lastLine ?? (code === 0 ? 'the camera closed the stream' : 'ffmpeg ended')} (${how})`);
      });
      return this;
    }

    override pipeStreamToSocketServer(): this {
      this.wsServer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      this.wsServer.on('connection', (socket, request) => this.onSocketConnect(socket, request));
      this.wsServer.on('error', (err) => fail(`the loopback websocket failed: ${err.message}`));
      this.wsServer.on('listening', () => {
        report({ type: 'ready', port: (this.wsServer.address() as AddressInfo).port, ffmpegPid: this.stream?.pid ?? null });
      });
      this.on('camdata', (data: Buffer) => {
        for (const client of this.wsServer.clients) if (client.readyState === WebSocket.OPEN) client.send(data);
      });
      return this;
    }
  }
  return new LoopbackStream({ name: start.camera, streamUrl: start.uri, width: start.width, height: start.height });
}

function main(): void {
  let stream: VideoStream | null = null;
  let ending = false;
  const report = (msg: WorkerReport): void => void process.send?.(msg);
  // Report why, then go: the parent tells the viewers. Exit only once the message is on the channel.
  const fail = (reason: string): void => {
    if (ending) return;
    ending = true;
    try {
      stream?.stop();
    } catch {
      // Already half torn down; the exit below ends whatever is left.
    }
    if (process.connected) process.send!({ type: 'ended', reason } satisfies WorkerReport, () => process.exit(1));
    else process.exit(1);
  };
  process.on('uncaughtException', (err) => fail(`MPEG-1 worker crashed: ${scrubUrlCredentials(err.message)}`));
  // The gateway went away (or stopped this tile): nobody is left to watch.
  process.on('disconnect', () => fail('the gateway disconnected'));
  process.on('SIGTERM', () => fail('stopped'));
  process.once('message', (msg: WorkerStart) => {
    if (msg?.type !== 'start') return fail('the first message was not a start');
    stream = loopbackStream(msg, report, fail);
  });
}

main();
