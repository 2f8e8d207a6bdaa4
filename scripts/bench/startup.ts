// Benchmark: the demo gateway's cold start to a healthy /api/health, and its resident memory once idle.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../gateway/core/paths.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(): Promise<Record<string, number>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'guardpost-bench-'));
  const httpPort = await freePort();
  const started = performance.now();
  // As npm start and the systemd unit run it.
  const proc = spawn(process.execPath, ['--max-semi-space-size=2', join(packageRoot, 'dist/gateway/main.js'), 'start'], {
    cwd: packageRoot,
    env: { ...process.env, GUARDPOST_CONFIG: '', GUARDPOST_DATA: dataDir, GUARDPOST_HTTP_PORT: String(httpPort), GUARDPOST_MQTT_PORT: String(await freePort()) },
    stdio: 'ignore',
  });
  try {
    let healthyMs = -1;
    for (let i = 0; i < 300 && healthyMs < 0; i++) {
      try {
        const health = (await (await fetch(`http://127.0.0.1:${httpPort}/api/health`)).json()) as { devices: { state: string }[] };
        if (health.devices.every((d) => d.state === 'online')) healthyMs = performance.now() - started;
      } catch {
        // not listening yet
      }
      if (healthyMs < 0) await sleep(20);
    }
    // Let the simulators run a while so the figure is an idle-but-working gateway, not a fresh one.
    await sleep(10_000);
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { cold_start_to_healthy_ms: Math.round(healthyMs), idle_rss_mb: Math.round(rssKb / 1024) };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
