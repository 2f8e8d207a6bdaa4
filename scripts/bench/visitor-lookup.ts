// Benchmark: a returning visitor found by phone or ID number among 1,000,000 past visits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/load.js';
import { EventBus } from '../../gateway/core/bus.js';
import { systemClock } from '../../gateway/core/clock.js';
import { newId } from '../../gateway/core/ids.js';
import { silentLogger } from '../../gateway/core/log.js';
import { defaultConfigPath } from '../../gateway/core/paths.js';
import { Alarms } from '../../gateway/alarms.js';
import { Visitors } from '../../gateway/gate/visitors.js';
import { openStore } from '../../gateway/store/db.js';
import { readFileSync } from 'node:fs';
import { percentile, round2 } from './stats.js';

const visits = 1_000_000;
const visitorCount = 250_000;
const lookups = 10_000;

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'guardpost-bench-'));
  const store = openStore({ dataDir: dir, now: Date.now });
  try {
    const config = parseConfig(readFileSync(defaultConfigPath, 'utf8'), 'default.yaml', { GUARDPOST_DATA: dir });
    const unitId = newId();
    store.residents.addUnit({ id: unitId, code: '1-1-101', building: '1', entrance: '1', room: '101' }, Date.now());
    const phone = (i: number) => `138${String(i).padStart(8, '0')}`;
    const idNumber = (i: number) => `110105198001${String(i).padStart(6, '0')}`;
    const ids: string[] = [];
    const insertVisitors = store.db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const id = newId();
        ids.push(id);
        store.visitors.insertVisitor({ id, name: `访客${i}`, id_type: 'mainland-id', id_number: idNumber(i), phone: phone(i), plate: null, first_seen_at: 0, last_visit_at: i });
      }
    });
    for (let i = 0; i < visitorCount; i += 10_000) insertVisitors(i, Math.min(visitorCount, i + 10_000));
    const insertVisits = store.db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        store.visitors.insertVisit({
          id: newId(),
          visitor_id: ids[i % visitorCount]!,
          host_unit_id: unitId,
          host_name: null,
          reason: '探亲访友',
          headcount: 1,
          plate: null,
          expected_leave_at: i,
          status: 'left',
          confirmation: 'call',
          confirmed_by: '业主',
          confirmed_at: i,
          preregistration: null,
          registered_by: 'guard',
          registered_at: i,
          entered_at: i,
          left_at: i,
        });
      }
    });
    for (let i = 0; i < visits; i += 20_000) insertVisits(i, Math.min(visits, i + 20_000));

    const service = new Visitors({ config, store, bus: new EventBus(silentLogger()), clock: systemClock, alarms: new Alarms(store, new EventBus(silentLogger()), systemClock) });
    const samples: number[] = [];
    for (let n = 0; n < lookups; n++) {
      const i = (n * 7919) % visitorCount;
      const t = process.hrtime.bigint();
      const found = n % 2 === 0 ? service.lookup({ phone: phone(i) }) : service.lookup({ idNumber: idNumber(i) });
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!found) throw new Error(`visitor ${i} not found`);
    }
    return { visitor_lookup_p99_ms: round2(percentile(samples, 99)) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
