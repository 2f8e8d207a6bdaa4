// Starts and stops the third-party RTSP test source (gst-rtsp-server) for tests and benches.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { packageRoot } from '../../gateway/core/paths.js';

// The same script whether this module runs from test/ (vitest) or dist/test/ (benches).
const script = join(packageRoot, 'test', 'video', 'rtsp-server.py');

export interface RtspOptions {
  port?: number;
  width?: number;
  height?: number;
  fps?: number;
  user?: string;
  password?: string;
  extra?: string[];
}

export interface RtspSource {
  port: number;
  /** rtsp://[user:password@]127.0.0.1:<port>/<mount> */
  url(mount: string, credentials?: { user: string; password: string }): string;
  stop(): Promise<void>;
  /** SIGKILL, as a camera losing power. */
  kill(): Promise<void>;
  /** The server process (for tests that look at /proc). */
  readonly pid: number;
  /** Stop and start again on the same port, e.g. with another resolution. */
  restart(opts?: Omit<RtspOptions, 'port'>): Promise<void>;
}

export async function startRtspSource(opts: RtspOptions = {}): Promise<RtspSource> {
  let child: ChildProcess;
  let port: number;
  const launch = async (o: RtspOptions): Promise<void> => {
    const args = [script, '--port', String(o.port ?? 0), '--width', String(o.width ?? 640), '--height', String(o.height ?? 360), '--fps', String(o.fps ?? 10)];
    if (o.user) args.push('--user', o.user, '--password', o.password ?? '');
    for (const e of o.extra ?? []) args.push('--extra', e);
    child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`RTSP source did not start: ${stderr}`)), 15_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^ready (\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`RTSP source exited (${code}): ${stderr}`));
      });
    });
  };
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(force);
  };
  const stop = () => end('SIGTERM');
  await launch(opts);
  return {
    get port() {
      return port;
    },
    get pid() {
      return child.pid!;
    },
    kill: () => end('SIGKILL'),
    url: (mount, c) => `rtsp://${c ? `${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@` : ''}127.0.0.1:${port}/${mount}`,
    stop,
    restart: async (o = {}) => {
      await stop();
      await launch({ ...opts, ...o, port });
    },
  };
}
