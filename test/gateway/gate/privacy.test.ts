// Personal numbers: masked on every view, erased after the retention period, the erasure audited.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import { Alarms } from '../../../gateway/alarms.js';
import { EventBus } from '../../../gateway/core/bus.js';
import { ManualClock } from '../../../gateway/core/clock.js';
import { newId } from '../../../gateway/core/ids.js';
import { silentLogger } from '../../../gateway/core/log.js';
import { defaultConfigPath } from '../../../gateway/core/paths.js';
import { Passes } from '../../../gateway/gate/passes.js';
import { Visitors } from '../../../gateway/gate/visitors.js';
import { openStore } from '../../../gateway/store/db.js';
import { tempDir } from '../../helpers/gateway.js';

const day = 24 * 3600_000;
const clock = new ManualClock(Date.UTC(2026, 10, 23, 2, 0));
const config = parseConfig(readFileSync(defaultConfigPath, 'utf8'), 'default.yaml', {});
const store = openStore({ dataDir: tempDir(), now: () => clock.now() });
const bus = new EventBus(silentLogger());
const alarms = new Alarms(store, bus, clock);
const visitors = new Visitors({ config, store, bus, clock, alarms });
const passes = new Passes({ config, store, clock, alarms });
const guard = { id: 'guard-li', role: 'guard' };
const unitId = newId();
store.residents.addUnit({ id: unitId, code: '2-1-301', building: '2', entrance: '1', room: '301' }, clock.now());
afterAll(() => store.close());

describe('personal numbers', () => {
  it('are masked on screens and erased after the retention period, with an audit entry', () => {
    const visit = visitors.register(
      { name: '冯十', idType: 'passport', idNumber: 'E99887766', phone: '13612345678', hostUnitId: unitId, reason: '探亲访友', headcount: 1, expectedLeaveAt: clock.now() + 3600_000 },
      guard,
    );
    expect(visit).toMatchObject({ idNumberMasked: 'E99**7766', phoneMasked: '136****5678' });
    const worker = passes.issueWorker(
      { unitId, holderName: '褚师傅', idType: 'passport', idNumber: 'P1234567', phone: '13712345678', fromDate: '2026-11-23', toDate: '2026-11-24' },
      guard,
    );
    expect(worker.detail).toMatchObject({ idNumber: 'P12*4567', phone: '137****5678' });

    clock.advance((config.gate.visitor_retention_days - 1) * day);
    expect(visitors.purge()).toEqual({ visitors: 0, passes: 0 });
    expect(visitors.lookup({ phone: '13612345678' })?.name).toBe('冯十');

    // The worker pass ran until the end of the 24th, a day after the visit: both are now past retention.
    clock.advance(3 * day);
    expect(visitors.purge()).toEqual({ visitors: 1, passes: 1 });
    expect(visitors.lookup({ phone: '13612345678' })).toBeNull();
    expect(visitors.lookup({ idNumber: 'E99887766' })).toBeNull();
    const row = store.db.prepare('SELECT id_number, phone, name FROM visitors').get();
    expect(row).toEqual({ id_number: null, phone: null, name: '冯十' });
    expect(JSON.parse((store.db.prepare('SELECT detail FROM passes WHERE id = ?').get(worker.id) as { detail: string }).detail)).not.toHaveProperty('idNumber');
    expect(store.audit.recent(1)[0]).toMatchObject({ actor: 'system', action: 'personal_numbers.purge' });
    expect(visitors.get(visit.id)).toMatchObject({ name: '冯十', idNumberMasked: null, phoneMasked: null });
  });
});
