// Starts the built gateway (dist/) as a real child process on free ports and a fresh data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../gateway/core/paths.js';

export const gatewayMain = join(packageRoot, 'dist', 'gateway', 'main.js');

export interface RunningGateway {
  httpUrl: string;
  httpPort: number;
  mqttPort: number;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'guardpost-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  /** Config file; the demo site when absent. */
  config?: string;
  dataDir?: string;
  httpPort?: number;
  mqttPort?: number;
  env?: Record<string, string>;
  /** Wait until /api/health answers (default true). */
  waitHealthy?: boolean;
}

export async function startGateway(opts: StartOptions = {}): Promise<RunningGateway> {
  const dataDir = opts.dataDir ?? tempDir();
  const httpPort = opts.httpPort ?? (await freePort());
  const mqttPort = opts.mqttPort ?? (await freePort());
  // As npm start and the systemd unit run it.
  const args = ['--max-semi-space-size=2', gatewayMain, 'start'];
  if (opts.config) args.push('--config', opts.config);
  const proc = spawn(process.execPath, args, {
    cwd: packageRoot,
    env: {
      ...process.env,
      GUARDPOST_DATA: dataDir,
      GUARDPOST_HTTP_PORT: String(httpPort),
      GUARDPOST_MQTT_PORT: String(mqttPort),
      GUARDPOST_CONFIG: '',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const gw: RunningGateway = {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    httpPort,
    mqttPort,
    dataDir,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  if (opts.waitHealthy ?? true) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}:\n${out}`);
      try {
        const res = await fetch(`${gw.httpUrl}/api/health`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await gw.kill();
        throw new Error(`gateway not healthy within 20 s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return gw;
}
