// Benchmark: judging 60 days of patrols, 200 checkpoints on each of 48 rounds a day, with their hits.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/load.js';
import { Alarms } from '../../gateway/alarms.js';
import { EventBus } from '../../gateway/core/bus.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { newId } from '../../gateway/core/ids.js';
import { silentLogger } from '../../gateway/core/log.js';
import { defaultConfigPath } from '../../gateway/core/paths.js';
import { localDate, zonedInstant } from '../../gateway/core/time.js';
import type { PatrolPlan } from '../../gateway/http/patrol-contracts.js';
import { evaluateRound, groupHits, judgeRound } from '../../gateway/patrol/evaluate.js';
import { compilePlan } from '../../gateway/patrol/plan.js';
import { roundsForDay } from '../../gateway/patrol/rounds.js';
import { Patrol } from '../../gateway/patrol/service.js';
import { openStore } from '../../gateway/store/db.js';
import { round2 } from './stats.js';

const checkpoints = 200;
const days = 60;
const tz = 'Asia/Shanghai';

export async function run(): Promise<Record<string, number>> {
  const plan: PatrolPlan = {
    checkpoints: Array.from({ length: checkpoints }, (_, i) => ({ id: `cp-${i}`, name: `巡更点${i}`, tag: `TAG-${i}`, key_area: i % 10 === 0 })),
    routes: [
      {
        id: 'all',
        name: '全区巡逻',
        ordered: false,
        stops: Array.from({ length: checkpoints }, (_, i) => ({ checkpoint: `cp-${i}`, offset_min: 1 + Math.floor((i * 26) / checkpoints), tolerance_min: 1, band_min: 1, min_walk_s: 0 })),
      },
    ],
    // 48 rounds a day: every 30 minutes.
    schedules: [{ id: 'half-hourly', route: 'all', every_min: 30, from: '00:00', to: '23:30', window_min: 29 }],
    personnel: [],
    wands: [],
  };
  const end = zonedInstant(2026, 11, 24, '00:00', tz);
  const start = end - days * 24 * 3600_000;
  const dates = Array.from({ length: days }, (_, i) => localDate(start + i * 24 * 3600_000 + 12 * 3600_000, tz));
  const compiled = [compilePlan(1, 0, plan)];
  const rounds = dates.flatMap((d) => roundsForDay(compiled, d, tz));
  // Every stop hit, a quarter of them late, one in fifty never: realistic work for the judge.
  const hits: { checkpoint: string; at: number; source: string; guard: string | null }[] = [];
  let n = 0;
  for (const r of rounds) for (const s of r.stops) if (n++ % 50 !== 0) hits.push({ checkpoint: s.checkpoint, at: s.expectedAt + (n % 4 === 0 ? 90_000 : 10_000), source: 'wand', guard: '李建国' });

  let t = performance.now();
  const grouped = groupHits(hits);
  const judged = rounds.map((r) => judgeRound(r, grouped, end));
  const evalMs = performance.now() - t;
  if (judged.length !== days * 48) throw new Error(`expected ${days * 48} rounds, got ${judged.length}`);
  // One day as the supervisor's screen shows it, views and all.
  const names = (id: string) => ({ name: id, keyArea: false });
  t = performance.now();
  rounds.slice(-48).map((r) => evaluateRound(r, grouped, { now: end, names, reasons: new Map() }));
  const dayViewMs = performance.now() - t;

  // The same through the service, hits read from the database: what the supervisor's trend costs.
  const dir = mkdtempSync(join(tmpdir(), 'guardpost-bench-'));
  const store = openStore({ dataDir: dir, now: () => end });
  try {
    const clock = new ManualClock(start - 3600_000);
    const config = parseConfig(readFileSync(defaultConfigPath, 'utf8'), 'default.yaml', {});
    const bus = new EventBus(silentLogger());
    const patrol = new Patrol({ config, store, bus, clock, log: silentLogger(), alarms: new Alarms(store, bus, clock) });
    patrol.setPlan(plan, undefined, { id: 'bench', role: 'admin' });
    const insert = store.db.transaction((batch: typeof hits) => {
      for (const h of batch) store.patrol.addHit({ id: newId(), tag: h.checkpoint, checkpoint: h.checkpoint, at: h.at, source: 'wand', device_id: null, guard: h.guard, record_key: null, received_at: h.at });
    });
    for (let i = 0; i < hits.length; i += 50_000) insert(hits.slice(i, i + 50_000));
    clock.advance(end - clock.now());
    t = performance.now();
    const trend = patrol.trend(days);
    const trendMs = performance.now() - t;
    if (trend.days.length !== days) throw new Error('trend incomplete');
    return { patrol_eval_60d_ms: round2(evalMs), patrol_day_view_ms: round2(dayViewMs), patrol_trend_60d_with_db_ms: round2(trendMs) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
