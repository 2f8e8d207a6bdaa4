// Worker (renovation) passes with their daily curfew, and goods-out passes checked and signed off at the gate.
import type { GuardpostConfig } from '../../config/schema.js';
import type { Alarms } from '../alarms.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { endOfLocalDay, localDate, sameDayAt, zonedInstant } from '../core/time.js';
import type { PassView } from '../http/gate-contracts.js';
import type { Store } from '../store/db.js';
import type { PassKind, PassRow } from '../store/passes.js';
import { checkIdDocument, checkPhone, type IdType } from './identity.js';
import { parsePlate } from './plates.js';
import { fieldError, newPassCode, passView, type Actor } from './visitors.js';

export interface PassDeps {
  config: GuardpostConfig;
  store: Store;
  clock: Clock;
  alarms: Alarms;
}

export interface WorkerPassInput {
  unitId: string;
  holderName: string;
  idType: string;
  idNumber: string;
  phone: string;
  company?: string;
  fromDate: string;
  toDate: string;
  curfew?: string;
}

export interface GoodsOutInput {
  unitId: string;
  requestedBy: string;
  items: { name: string; quantity: number }[];
  carrierName: string;
  carrierIdType: string;
  carrierIdNumber: string;
  plate?: string;
  validOn: string;
}

export class Passes {
  constructor(private readonly deps: PassDeps) {}

  issueWorker(input: WorkerPassInput, actor: Actor): PassView {
    const { config } = this.deps;
    const tz = config.site.timezone;
    const from = this.dayStart(input.fromDate, 'fromDate');
    const until = endOfLocalDay(this.dayStart(input.toDate, 'toDate'), tz);
    if (until < from) throw fieldError('toDate', 'before-start', 'the last day is before the first day');
    // Renovation permits run for weeks, not seasons; a longer one is a typing mistake.
    if (until - from > 93 * 24 * 3600 * 1000) throw fieldError('toDate', 'too-long', 'a worker pass covers at most 3 months');
    const idNumber = this.idNumber(input.idType, input.idNumber, 'idNumber');
    const phone = checkPhone(input.phone);
    if (!phone.ok) throw fieldError('phone', phone.reason, `phone number ${input.phone} is not valid`);
    return this.issue('worker', input.unitId, input.holderName, from, until, null, {
      company: input.company ?? null,
      idType: input.idType,
      idNumber,
      phone: phone.normalised,
      curfew: input.curfew ?? config.gate.worker_curfew,
    }, actor);
  }

  issueGoodsOut(input: GoodsOutInput, actor: Actor): PassView {
    const tz = this.deps.config.site.timezone;
    const day = this.dayStart(input.validOn, 'validOn');
    const carrierIdNumber = this.idNumber(input.carrierIdType, input.carrierIdNumber, 'carrierIdNumber');
    let plate: string | null = null;
    if (input.plate) {
      const parsed = parsePlate(input.plate);
      if (!parsed.ok) throw fieldError('plate', parsed.reason, `plate ${input.plate} is not valid (${parsed.reason})`);
      plate = parsed.plate;
    }
    return this.issue('goods-out', input.unitId, input.carrierName, day, endOfLocalDay(day, tz), plate, {
      requestedBy: input.requestedBy,
      items: input.items,
      carrierIdType: input.carrierIdType,
      carrierIdNumber,
    }, actor);
  }

  /** The guard has looked at the goods against the pass and lets them out. */
  signOff(passId: string, actor: Actor): PassView {
    const { store, clock } = this.deps;
    store.transaction(() => {
      const pass = store.passes.get(passId);
      if (!pass) throw new GuardpostError(ErrorCode.NotFound, `no pass ${passId}`);
      if (pass.kind !== 'goods-out') throw new GuardpostError(ErrorCode.Conflict, 'only goods-out passes are signed off');
      const now = clock.now();
      if (pass.status !== 'active') throw new GuardpostError(ErrorCode.Conflict, 'this goods-out pass has already been used', { problem: 'state' });
      if (now < pass.valid_from || now > pass.valid_until) throw new GuardpostError(ErrorCode.Conflict, `this goods-out pass is for ${localDate(pass.valid_from, this.deps.config.site.timezone)}`, { problem: 'not-valid-today' });
      store.passes.close(passId, actor.id, now);
      store.audit.append({ actor: actor.id, action: 'goods_out.sign_off', target: passId, detail: { items: JSON.parse(pass.detail).items } });
      store.outbox.add('passes', passId, store.passes.get(passId), now);
    });
    return this.get(passId);
  }

  get(passId: string): PassView {
    const pass = this.deps.store.passes.get(passId);
    if (!pass) throw new GuardpostError(ErrorCode.NotFound, `no pass ${passId}`);
    return passView(pass);
  }

  list(filter: { kind?: PassKind; status?: 'active' | 'inside' }, limit: number): PassView[] {
    return this.deps.store.passes
      .list({ ...(filter.kind ? { kind: filter.kind } : {}), activeOnly: filter.status === 'active', insideOnly: filter.status === 'inside' }, limit)
      .map(passView);
  }

  /** At or after each worker's curfew, an alarm per worker still inside (once per day and worker). */
  checkCurfew(): void {
    const { store, clock, config, alarms } = this.deps;
    const now = clock.now();
    const tz = config.site.timezone;
    for (const pass of store.passes.list({ kind: 'worker', insideOnly: true }, 1000)) {
      const curfew = (JSON.parse(pass.detail) as { curfew?: string }).curfew ?? config.gate.worker_curfew;
      if (now < sameDayAt(now, curfew, tz)) continue;
      alarms.raise('worker-curfew', `${pass.id}:${localDate(now, tz)}`, `施工人员过时未离开（${curfew}）：${pass.holder_name}（${pass.unit_code}）`, { pass: pass.id, curfew });
    }
  }

  private issue(kind: PassKind, unitId: string, holderName: string, from: number, until: number, plate: string | null, detail: Record<string, unknown>, actor: Actor): PassView {
    const { store, clock } = this.deps;
    if (!store.residents.unit(unitId)) throw fieldError('unitId', 'unknown-unit', `no unit ${unitId}`);
    const now = clock.now();
    const row: PassRow = {
      id: newId(),
      kind,
      code: newPassCode((c) => store.passes.withCode(c) !== undefined),
      visit_id: null,
      unit_id: unitId,
      holder_name: holderName,
      valid_from: from,
      valid_until: until,
      temp_card: null,
      plate,
      detail: JSON.stringify(detail),
      status: 'active',
      issued_by: actor.id,
      issued_at: now,
      closed_by: null,
      closed_at: null,
    };
    store.transaction(() => {
      store.passes.insert(row);
      store.audit.append({ actor: actor.id, action: 'pass.issue', target: row.id, detail: { kind, unit: unitId } });
      store.outbox.add('passes', row.id, row, now);
    });
    return this.get(row.id);
  }

  private dayStart(date: string, field: string): number {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    const at = zonedInstant(y, m, d, '00:00', this.deps.config.site.timezone);
    if (!Number.isFinite(at) || localDate(at, this.deps.config.site.timezone) !== date) throw fieldError(field, 'date', `${date} is not a date`);
    return at;
  }

  private idNumber(type: string, value: string, field: string): string {
    const checked = checkIdDocument(type as IdType, value, this.deps.clock.now());
    if (!checked.ok) throw fieldError(field, checked.reason, `ID number is not valid (${checked.reason})`);
    return checked.normalised;
  }
}
