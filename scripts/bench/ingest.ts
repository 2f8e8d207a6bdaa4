// Benchmark: durable device-event ingest into the store, one commit per event and 1,000 per transaction.
import { rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceEvent } from '../../drivers/contract.js';
import { openStore } from '../../gateway/store/db.js';

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'guardpost-bench-'));
  const store = openStore({ dataDir: dir, now: Date.now });
  const event = (i: number): DeviceEvent => ({ type: 'credential', deviceId: 'reader-bench', at: Date.now(), credential: { kind: 'card', value: String(3_000_000_000 + i) } });
  try {
    const singles = 3000;
    let t = process.hrtime.bigint();
    for (let i = 0; i < singles; i++) store.deviceEvents.record(event(i));
    const singleS = Number(process.hrtime.bigint() - t) / 1e9;

    const batches = 100;
    const batchSize = 1000;
    const batch = Array.from({ length: batchSize }, (_, i) => event(i));
    t = process.hrtime.bigint();
    for (let b = 0; b < batches; b++) store.deviceEvents.recordMany(batch);
    const batchS = Number(process.hrtime.bigint() - t) / 1e9;

    return {
      ingest_single_per_s: Math.round(singles / singleS),
      ingest_batched_per_s: Math.round((batches * batchSize) / batchS),
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
