// Runs test/video/rtsp-server.py (Debian's gst-rtsp-server) as the live-view suites' and bench's camera.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../../../gateway/core/paths.js';

export interface RtspSource {
  port: number;
  pid: number;
  /** rtsp://[user:password@]127.0.0.1:port/<mount> */
  url(mount: string, credentials?: string): string;
  /** SIGTERM (SIGKILL if it lingers) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a camera losing power. */
  kill(): Promise<void>;
}

/** Extra arguments as the script takes them: --width W --height H --fps N --user U --password P --extra NAME. */
export async function startRtspSource(args: string[] = []): Promise<RtspSource> {
  // python3-gi works with Debian's own interpreter only.
  const proc = spawn('/usr/bin/python3', [join(packageRoot, 'test', 'video', 'rtsp-server.py'), '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`rtsp-server.py not ready in 20 s: ${stderr}`));
    }, 20_000);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^ready (\d+)$/.exec(line.trim());
      if (!m) return;
      clearTimeout(timer);
      resolve(Number(m[1]));
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp-server.py exited with ${code}: ${stderr}`));
    });
  });
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  };
  return {
    port,
    pid: proc.pid!,
    url: (mount, credentials) => `rtsp://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}/${mount.replace(/^\//, '')}`,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}
