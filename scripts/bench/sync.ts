// Benchmark: drain 1,000,000 queued outbox rows through the real Sync worker to a loopback HQ (private Mosquitto, or an HTTP receiver), records/s and peak RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { connectAsync } from 'mqtt';
import type { SyncConfig } from '../../config/schema.js';
import { newId } from '../../gateway/core/ids.js';
import { createLogger } from '../../gateway/core/log.js';
import { openStore } from '../../gateway/store/db.js';
import { Sync } from '../../sync/sync.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { decisionPayload } from '../../test/sync/upstream/gate.js';

const total = 1_000_000;
const password = 'bench-north-pw';
const token = 'bench-token';
/** A gate's typical mix: decisions and device events dominate. */
const streams = ['decisions', 'decisions', 'device_events', 'device_events', 'device_events', 'audit', 'audit', 'patrol_hits', 'alarms', 'visits'];

export interface SyncBenchOptions {
  /** mqtt (default): a private Mosquitto and a subscribing consumer; https: a loopback HTTP receiver. */
  transport?: 'mqtt' | 'https';
  records?: number;
}

/** What the drain process reports on stdout, one JSON line each. */
type DrainReport = { type: 'started'; at: number } | { type: 'drained'; at: number; maxRssMb: number };

export async function run(opts: SyncBenchOptions = {}): Promise<Record<string, number>> {
  const transport = opts.transport ?? 'mqtt';
  const records = opts.records ?? total;
  const dir = mkdtempSync(join(tmpdir(), 'gp-bench-sync-'));
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    fill(dir, records);
    let received = 0;
    let allAt = 0;
    const count = (n: number): void => {
      received += n;
      if (received >= records && !allAt) allAt = Date.now();
    };
    let sync: SyncConfig;
    if (transport === 'mqtt') {
      const broker = await startMosquitto([
        { username: 'north', password },
        { username: 'hq', password: 'hq-pw' },
      ]);
      cleanups.push(() => broker.close());
      const hq = await connectAsync(broker.url, { username: 'hq', password: 'hq-pw', protocolVersion: 5 });
      cleanups.push(() => hq.endAsync());
      hq.on('connect', () => (hq.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true));
      // HQ's consumer parses each batch, as a real one must before it stores anything.
      hq.on('message', (_t, payload) => count((JSON.parse(payload.toString('utf8')) as { records: unknown[] }).records.length));
      await hq.subscribeAsync('guardpost/v1/+/+/up/#', { qos: 1 });
      sync = { enabled: true, transport: 'mqtt', batch_size: 500, max_backoff_s: 60, alarm_after_s: 3600, mqtt: { url: broker.url, username: 'north', password } };
    } else {
      const server = http.createServer((req, res) => {
        // Master-data polls: nothing newer.
        if (req.method === 'GET') return void res.writeHead(204).end();
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const batch = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')) as { records: { id: string }[] };
          count(batch.records.length);
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ accepted: batch.records.map((r) => r.id), rejected: [] }));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanups.push(() => new Promise((r) => server.close(r)));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      sync = { enabled: true, transport: 'https', batch_size: 500, max_backoff_s: 60, alarm_after_s: 3600, https: { url, auth: 'bearer', token, timeout_ms: 15_000, poll_s: 300 } };
    }

    // The drain runs in its own process so its peak RSS is the sync's, not this bench runner's.
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--drain', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    child.stdin.end(JSON.stringify(sync));
    let startedAt = 0;
    let drained: Extract<DrainReport, { type: 'drained' }> | null = null;
    for await (const line of createInterface({ input: child.stdout })) {
      const report = JSON.parse(line) as DrainReport;
      if (report.type === 'started') startedAt = report.at;
      else drained = report;
    }
    if (!drained) throw new Error(`the drain process ended without draining (exit ${child.exitCode})`);
    const deadline = Date.now() + 30_000;
    while (!allAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!allAt) throw new Error(`HQ received ${received} of ${records} records`);
    const seconds = (Math.max(drained.at, allAt) - startedAt) / 1000;
    return { sync_drain_per_s: Math.round(records / seconds), sync_drain_rss_mb: Math.round(drained.maxRssMb) };
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

/** One transaction, as a backlog after days offline looks: ~300-byte records across the usual streams. */
export function fill(dir: string, records: number): void {
  const store = openStore({ dataDir: dir, now: Date.now });
  try {
    const at = Date.now() - 3 * 86400_000;
    store.transaction(() => {
      for (let i = 0; i < records; i++) {
        const id = newId();
        store.outbox.add(streams[i % streams.length]!, id, decisionPayload(id, at + i, i), at + i);
      }
    });
  } finally {
    store.close();
  }
}

/** The drain process: the gateway's Sync component (worker thread and all) until the outbox is empty. */
async function drain(dir: string): Promise<void> {
  const sync = JSON.parse(readFileSync(0, 'utf8')) as SyncConfig;
  const print = (r: DrainReport): void => void process.stdout.write(`${JSON.stringify(r)}\n`);
  const component = new Sync({ site: 'north', dataDir: dir, sync, log: createLogger('warn', { destination: process.stderr }) });
  print({ type: 'started', at: Date.now() });
  component.start();
  for (;;) {
    const s = component.status();
    if (s.outboxDepth === 0 && s.inflight === 0) break;
    if (s.state === 'auth-failed') throw new Error(`sync refused: ${s.lastError}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const at = Date.now();
  await component.stop();
  print({ type: 'drained', at, maxRssMb: peakRss() / 1048576 });
}

/** The kernel's high-water mark of this process's resident set (all threads), in bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

if (process.argv[2] === '--drain' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await drain(process.argv[3]!);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // node dist/scripts/bench/sync.js [mqtt|https] [records]: this bench alone.
  const transport = process.argv[2] === 'https' ? 'https' : 'mqtt';
  console.log(JSON.stringify(await run({ transport, records: Number(process.argv[3] ?? total) })));
}
