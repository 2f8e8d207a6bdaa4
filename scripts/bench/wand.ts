// Benchmark: downloading and correcting 10,000 patrol-wand records from the simulated wand at 115200 baud over a socat pty pair.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { BrokerClient, DeviceEvent, DriverContext } from '../../drivers/contract.js';
import { patrolWandDriver } from '../../drivers/patrol-wand/driver.js';
import { systemClock } from '../../gateway/core/clock.js';
import { startPtyPair, stopPtyPair } from '../../test/drivers/serial/socat.js';
import { SimulatedWand } from '../../test/drivers/patrol-wand/wand.js';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../config/load.js';
import { Alarms } from '../../gateway/alarms.js';
import { EventBus } from '../../gateway/core/bus.js';
import { defaultConfigPath } from '../../gateway/core/paths.js';
import { deviceIntake } from '../../gateway/devices/intake.js';
import { Patrol } from '../../gateway/patrol/service.js';
import { openStore } from '../../gateway/store/db.js';
import { percentile, round2 } from './stats.js';

const records = 10_000;
const runs = Number(process.env.BENCH_WAND_RUNS ?? 3);

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`wand bench: no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * wand_download_10k_ms: the same, with every record stored as the gateway stores it (the raw device
 * event with its outbox row, and the patrol hit with its own), one durable commit each.
 *
 * wand_download_ms_10k: from the $INFO answer that finds a docked wand holding 10,000 records to the
 * 10,000th corrected checkpoint event, collected in memory (storing them is the gateway's own
 * bench). The median of BENCH_WAND_RUNS dockings (3) of the same wand. A pty does not pace bytes at
 * the baud rate, so this is the software cost (driver, binding, pty, simulator); on a real 115200
 * line the wire adds its own time: about 41 bytes a record, 10 bits a byte, ≈ 36 s for 10,000.
 */
export async function run(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'gp-bench-wand-'));
  const hostPath = join(dir, 'cradle');
  const socat = await startPtyPair(hostPath, join(dir, 'wand'));
  const wand = new SimulatedWand(join(dir, 'wand'), { now: () => Date.now(), clockErrorMs: -7 * 60_000, capacity: records });
  wand.fill(records, Date.now() - 60_000, 1000);
  wand.docked = false;
  await wand.open();

  // The gateway's own storing: the intake and the patrol service on a bus, over a real store.
  const store = openStore({ dataDir: join(dir, 'data'), now: Date.now });
  const bus = new EventBus(pino({ level: 'silent' }));
  const intake = deviceIntake(bus, store);
  const config = parseConfig(readFileSync(defaultConfigPath, 'utf8'), 'default.yaml', {});
  const patrol = new Patrol({ config, store, bus, clock: systemClock, log: pino({ level: 'silent' }), alarms: new Alarms(store, bus, systemClock) });
  patrol.seedPlan({
    checkpoints: Array.from({ length: 200 }, (_, i) => ({ id: `cp-${i + 1}`, name: `巡更点${i + 1}`, tag: `CP${String(i + 1).padStart(4, '0')}`, key_area: false })),
    routes: [],
    schedules: [],
    personnel: [],
    wands: [],
  });
  patrol.start();
  let storing = false;

  let checkpoints = 0;
  let dockedAt = 0;
  let doneAt = 0;
  let undocked = 0;
  let finished = 0;
  const onEvent = (e: DeviceEvent): void => {
    if (e.type === 'checkpoint') {
      if (++checkpoints === records) doneAt = performance.now();
    } else if (e.type === 'state' && e.state['docked'] === true && !('downloaded' in e.state)) {
      dockedAt = performance.now();
    } else if (e.type === 'state' && e.state['docked'] === false) {
      undocked++;
    } else if (e.type === 'state' && 'downloaded' in e.state) {
      finished++;
    }
  };
  const ctx: DriverContext = {
    deviceId: 'bench-cradle',
    log: pino({ level: 'silent' }),
    emit: (e) => {
      if (storing) intake.accept(e);
      onEvent(e);
    },
    emitMany: (batch) => {
      if (storing) intake.acceptMany(batch);
      batch.forEach(onEvent);
    },
    report: () => undefined,
    reject: () => undefined,
    broker: {} as BrokerClient,
    clock: systemClock,
    signal: new AbortController().signal,
  };
  const cradle = patrolWandDriver.create({ kind: 'checkpoint', port: hostPath, baud: 115200, poll_ms: 100 }, ctx);
  const samples: number[] = [];
  let stored = 0;
  try {
    await cradle.start();
    await until('open port', () => cradle.health().state === 'online', 5000);
    for (let i = 0; i < runs + 1; i++) {
      // The last docking stores what it downloads; the earlier ones measure the download alone.
      storing = i === runs;
      checkpoints = 0;
      doneAt = 0;
      wand.docked = true;
      await until('complete download', () => doneAt > 0, 120_000);
      if (storing) stored = doneAt - dockedAt;
      else samples.push(doneAt - dockedAt);
      // Out of the cradle only after $TIME, as a guard would take it: a wand pulled before would cost the clock retries.
      await until('the end of the docking', () => finished > i, 10_000);
      const removals = undocked;
      wand.docked = false;
      await until('removal', () => undocked > removals, 10_000);
    }
    const hits = store.patrol.hits(0, Number.MAX_SAFE_INTEGER).length;
    if (hits !== records) throw new Error(`wand bench: ${hits} hits stored, expected ${records}`);
    return { wand_download_ms_10k: round2(percentile(samples, 50)), wand_download_10k_ms: round2(stored) };
  } finally {
    patrol.stop();
    store.close();
    await cradle.stop();
    await wand.close();
    await stopPtyPair(socat);
    await rm(dir, { recursive: true, force: true });
  }
}
