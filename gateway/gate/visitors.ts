// Visitors: registration with watchlist and host confirmation, passes, sign-out, overstays and the purge of their numbers.
import { randomInt } from 'node:crypto';
import type { GuardpostConfig } from '../../config/schema.js';
import type { Alarms } from '../alarms.js';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { maskIdNumber, maskPhone, maskTail } from '../core/mask.js';
import { endOfLocalDay, localDate } from '../core/time.js';
import type {
  ConfirmationMethod,
  DecisionView,
  PassView,
  RegisterVisitRequest,
  VisitView,
} from '../http/gate-contracts.js';
import type { Store } from '../store/db.js';
import type { PassDetail, PassRow } from '../store/passes.js';
import type { PreregistrationRow, VisitDetail, VisitRow, VisitorRow } from '../store/visitors.js';
import { normaliseCard } from './credentials.js';
import { checkIdDocument, checkPhone, type IdType } from './identity.js';
import { parsePlate } from './plates.js';

export interface Actor {
  id: string;
  role: string;
}

export interface VisitorDeps {
  config: GuardpostConfig;
  store: Store;
  bus: EventBus;
  clock: Clock;
  alarms: Alarms;
}

/** A 400 that names the field and a stable problem code, so the screen can say it in the guard's language. */
export function fieldError(field: string, problem: string, message: string): GuardpostError {
  return new GuardpostError(ErrorCode.BadRequest, message, { field, problem });
}

// No 0/O or 1/I: the code is read aloud and typed from a slip.
const codeAlphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

export function newPassCode(taken: (code: string) => boolean): string {
  for (;;) {
    let code = '';
    for (let i = 0; i < 6; i++) code += codeAlphabet[randomInt(codeAlphabet.length)];
    if (!taken(code)) return code;
  }
}

export function passView(p: PassDetail): PassView {
  return {
    id: p.id,
    kind: p.kind,
    code: p.code,
    holderName: p.holder_name,
    unitCode: p.unit_code,
    validFrom: p.valid_from,
    validUntil: p.valid_until,
    status: p.status,
    tempCardMasked: p.temp_card ? maskTail(p.temp_card) : null,
    plate: p.plate,
    detail: maskDetail(JSON.parse(p.detail) as Record<string, unknown>),
    inside: p.inside === 1,
    issuedAt: p.issued_at,
    closedAt: p.closed_at,
  };
}

/** Pass details carry the worker's or carrier's numbers: screens get them masked. */
function maskDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const out = { ...detail };
  if (typeof out.idNumber === 'string') out.idNumber = maskIdNumber(out.idNumber);
  if (typeof out.carrierIdNumber === 'string') out.carrierIdNumber = maskIdNumber(out.carrierIdNumber);
  if (typeof out.phone === 'string') out.phone = maskPhone(out.phone);
  return out;
}

export class Visitors {
  private offDecision: (() => void) | null = null;

  constructor(private readonly deps: VisitorDeps) {}

  start(): void {
    // A visitor's car leaving through the barrier on its pass signs the visit out.
    this.offDecision ??= this.deps.bus.on('gate.decision', (d) => this.onDecision(d));
  }

  stop(): void {
    this.offDecision?.();
    this.offDecision = null;
  }

  /** The latest record of someone who came before, by ID number or phone; numbers stay masked. */
  lookup(q: { idNumber?: string; phone?: string }) {
    const { visitors } = this.deps.store;
    let found: VisitorRow | undefined;
    if (q.idNumber) found = visitors.findByIdNumber(q.idNumber.trim().toUpperCase());
    if (!found && q.phone) {
      const phone = checkPhone(q.phone);
      if (phone.ok) found = visitors.findByPhone(phone.normalised);
    }
    if (!found) return null;
    const last = visitors.lastVisit(found.id);
    return {
      visitorId: found.id,
      name: found.name,
      idType: found.id_type,
      idNumberMasked: found.id_number ? maskIdNumber(found.id_number) : null,
      phoneMasked: found.phone ? maskPhone(found.phone) : null,
      plate: found.plate,
      lastVisit: last
        ? { at: last.registered_at, hostUnitId: last.host_unit_id, hostUnitCode: last.unit_code, hostName: last.host_name, reason: last.reason, headcount: last.headcount }
        : null,
      visits: visitors.visitCount(found.id),
    };
  }

  /** Which of these numbers are on the watchlist, with why. Values are normalised first. */
  watchlistHits(q: { idNumber?: string | null; phone?: string | null; plate?: string | null }): { kind: string; reason: string }[] {
    const { watchlist } = this.deps.store;
    const hits: { kind: string; reason: string }[] = [];
    const check = (kind: 'id_number' | 'phone' | 'plate', value: string | null | undefined) => {
      if (!value) return;
      const row = watchlist.find(kind, value);
      if (row) hits.push({ kind, reason: row.reason });
    };
    check('id_number', q.idNumber?.trim().toUpperCase());
    const phone = q.phone ? checkPhone(q.phone) : null;
    check('phone', phone?.ok ? phone.normalised : q.phone);
    const plate = q.plate ? parsePlate(q.plate) : null;
    check('plate', plate?.ok ? plate.plate : q.plate);
    return hits;
  }

  register(req: RegisterVisitRequest, actor: Actor): VisitView {
    const { store, clock } = this.deps;
    const now = clock.now();
    const fields = this.validate(req, now);
    const hits = this.watchlistHits({ idNumber: fields.idNumber, phone: fields.phone, plate: fields.plate });
    if (hits.length > 0) {
      const reason = hits.map((h) => h.reason).join('; ');
      store.audit.append({ actor: actor.id, action: 'visitor.watchlist_hit', target: req.hostUnitId, detail: { name: req.name, kinds: hits.map((h) => h.kind), reason } });
      this.deps.alarms.raise('watchlist-hit', `visitor:${req.name}:${now}`, `黑名单人员登记被拦截：${req.name}`, { reason, kinds: hits.map((h) => h.kind) });
      throw new GuardpostError(ErrorCode.Conflict, `stopped: on the watchlist (${reason})`, { problem: 'watchlist', reason });
    }
    const visitId = store.transaction(() => {
      let prereg: PreregistrationRow | undefined;
      if (req.preregistrationCode) prereg = this.usablePreregistration(req.preregistrationCode, now);
      const visitorId = this.upsertVisitor(req, fields, now);
      const confirmation: { method: ConfirmationMethod; confirmedBy: string } | null = prereg
        ? { method: 'pre-registered', confirmedBy: prereg.host_name ?? (prereg.source === 'hq' ? 'HQ' : prereg.created_by) }
        : (req.confirmation ?? null);
      const row: VisitRow = {
        id: newId(),
        visitor_id: visitorId,
        host_unit_id: req.hostUnitId,
        host_name: req.hostName ?? prereg?.host_name ?? null,
        reason: req.reason,
        headcount: req.headcount,
        plate: fields.plate,
        expected_leave_at: req.expectedLeaveAt,
        status: confirmation ? 'confirmed' : 'registered',
        confirmation: confirmation?.method ?? null,
        confirmed_by: confirmation?.confirmedBy ?? null,
        confirmed_at: confirmation ? now : null,
        preregistration: prereg?.id ?? null,
        registered_by: actor.id,
        registered_at: now,
        entered_at: null,
        left_at: null,
      };
      store.visitors.insertVisit(row);
      if (prereg) store.visitors.usePreregistration(prereg.id, row.id);
      store.audit.append({ actor: actor.id, action: 'visitor.register', target: row.id, detail: { unit: req.hostUnitId, confirmation: row.confirmation } });
      this.outboxVisit(row.id, now);
      return row.id;
    });
    return this.publish(visitId);
  }

  confirm(visitId: string, method: ConfirmationMethod, confirmedBy: string, actor: Actor): VisitView {
    return this.changeVisit(visitId, actor, 'visitor.confirm', (v) => {
      if (v.status !== 'registered') throw new GuardpostError(ErrorCode.Conflict, `the visit is already ${v.status}`, { problem: 'state' });
      return { status: 'confirmed', confirmation: method, confirmed_by: confirmedBy, confirmed_at: this.deps.clock.now() };
    });
  }

  /** A supervisor lets a visitor in without the resident's confirmation; the note is audited. */
  override(visitId: string, note: string, actor: Actor): VisitView {
    if (actor.role !== 'supervisor' && actor.role !== 'admin') throw new GuardpostError(ErrorCode.Forbidden, 'only a supervisor can let a visitor in without the resident');
    return this.changeVisit(visitId, actor, 'visitor.override', (v) => {
      if (v.status !== 'registered') throw new GuardpostError(ErrorCode.Conflict, `the visit is already ${v.status}`, { problem: 'state' });
      return { status: 'confirmed', confirmation: 'supervisor-override', confirmed_by: actor.id, confirmed_at: this.deps.clock.now() };
    }, { note });
  }

  /** The pass: valid until the expected leave time but never past the end of today; the visitor is then inside. */
  issuePass(visitId: string, tempCard: string | undefined, actor: Actor): VisitView {
    const { store, clock, config } = this.deps;
    store.transaction(() => {
      const visit = store.visitors.visit(visitId);
      if (!visit) throw new GuardpostError(ErrorCode.NotFound, `no visit ${visitId}`);
      if (visit.status === 'registered') throw new GuardpostError(ErrorCode.Conflict, 'the resident has not confirmed this visit yet', { problem: 'not_confirmed' });
      if (visit.status !== 'confirmed') throw new GuardpostError(ErrorCode.Conflict, `the visit is already ${visit.status}`, { problem: 'state' });
      const now = clock.now();
      const card = tempCard ? normaliseCard(tempCard) : null;
      if (card && store.passes.withTempCard(card)) throw fieldError('tempCard', 'card-in-use', 'this temporary card is bound to another pass');
      if (card && store.residents.credential('card', card)) throw fieldError('tempCard', 'card-in-use', "this card is a resident's card");
      const pass: PassRow = {
        id: newId(),
        kind: 'visitor',
        code: newPassCode((c) => store.passes.withCode(c) !== undefined),
        visit_id: visit.id,
        unit_id: visit.host_unit_id,
        holder_name: visit.name,
        valid_from: now,
        valid_until: Math.min(visit.expected_leave_at, endOfLocalDay(now, config.site.timezone)),
        temp_card: card,
        plate: visit.plate,
        detail: JSON.stringify({ headcount: visit.headcount }),
        status: 'active',
        issued_by: actor.id,
        issued_at: now,
        closed_by: null,
        closed_at: null,
      };
      store.passes.insert(pass);
      store.decisions.move(`pass:${pass.id}`, 'in', null, now, newId);
      store.visitors.setVisit(visit.id, { status: 'inside', entered_at: now });
      store.audit.append({ actor: actor.id, action: 'pass.issue', target: pass.id, detail: { kind: 'visitor', visit: visit.id, tempCard: card ? maskTail(card) : null } });
      store.outbox.add('passes', pass.id, pass, now);
      this.outboxVisit(visit.id, now);
    });
    return this.publish(visitId);
  }

  signOut(visitId: string, actor: Actor): VisitView {
    const { store, clock } = this.deps;
    store.transaction(() => {
      const visit = store.visitors.visit(visitId);
      if (!visit) throw new GuardpostError(ErrorCode.NotFound, `no visit ${visitId}`);
      if (visit.status === 'left') throw new GuardpostError(ErrorCode.Conflict, 'the visitor has already signed out', { problem: 'state' });
      const now = clock.now();
      const pass = store.passes.ofVisit(visitId);
      if (pass) {
        store.passes.close(pass.id, actor.id, now);
        store.decisions.move(`pass:${pass.id}`, 'out', null, now, newId);
        store.outbox.add('passes', pass.id, store.passes.get(pass.id), now);
      }
      store.visitors.setVisit(visitId, { status: 'left', left_at: now });
      store.audit.append({ actor: actor.id, action: 'visitor.sign_out', target: visitId });
      this.outboxVisit(visitId, now);
    });
    this.deps.alarms.clear('overstay', visitId, 'visitor signed out');
    return this.publish(visitId);
  }

  list(filter: 'open' | 'inside' | 'today', limit: number): VisitView[] {
    const { store, clock, config } = this.deps;
    const since = filter === 'today' ? endOfLocalDay(clock.now(), config.site.timezone) - 24 * 3600 * 1000 + 1 : 0;
    return store.visitors.visits(filter === 'today' ? 'since' : filter, since, limit).map((v) => this.view(v));
  }

  get(visitId: string): VisitView {
    const visit = this.deps.store.visitors.visit(visitId);
    if (!visit) throw new GuardpostError(ErrorCode.NotFound, `no visit ${visitId}`);
    return this.view(visit);
  }

  /** A resident's call, or HQ: the visitor shows the code on arrival and the visit is confirmed. */
  preregister(req: { visitorName: string; phone?: string; plate?: string; hostUnitId: string; hostName?: string; expectedOn: string }, actor: Actor, source: 'hq' | 'guard') {
    const { store, clock } = this.deps;
    if (!store.residents.unit(req.hostUnitId)) throw fieldError('hostUnitId', 'unknown-unit', `no unit ${req.hostUnitId}`);
    const phone = req.phone ? this.phone(req.phone) : null;
    const plate = req.plate ? this.plate(req.plate) : null;
    const row: PreregistrationRow = {
      id: newId(),
      code: this.preregCode(),
      visitor_name: req.visitorName,
      phone,
      plate,
      host_unit_id: req.hostUnitId,
      host_name: req.hostName ?? null,
      expected_on: req.expectedOn,
      source,
      created_by: actor.id,
      created_at: clock.now(),
      used_by_visit: null,
    };
    store.transaction(() => {
      store.visitors.insertPreregistration(row);
      store.audit.append({ actor: actor.id, action: 'visitor.preregister', target: row.id, detail: { unit: req.hostUnitId, expectedOn: req.expectedOn } });
      store.outbox.add('preregistrations', row.id, row, row.created_at);
    });
    return this.preregView(row);
  }

  preregistration(code: string) {
    const row = this.deps.store.visitors.preregistration(code);
    if (!row) throw new GuardpostError(ErrorCode.NotFound, `no pre-registration with code ${code}`);
    return this.preregView(row);
  }

  /** Raise an overstay alarm for every visitor whose pass ran out while they are still inside. */
  checkOverstays(): void {
    for (const pass of this.deps.store.passes.overdueVisitorPasses(this.deps.clock.now())) {
      if (!pass.visit_id) continue;
      this.deps.alarms.raise('overstay', pass.visit_id, `访客超时未离开：${pass.holder_name}（${pass.unit_code}）`, { pass: pass.id, validUntil: pass.valid_until });
    }
  }

  /** Erase ID and phone numbers of visitors not seen, and of passes over, for the retention period. */
  purge(): { visitors: number; passes: number } {
    const { store, clock, config } = this.deps;
    const now = clock.now();
    const before = now - config.gate.visitor_retention_days * 24 * 3600 * 1000;
    return store.transaction(() => {
      const erased = { visitors: store.visitors.purgePersonalNumbers(before, now), passes: store.passes.purgePersonalNumbers(before) };
      if (erased.visitors + erased.passes > 0) store.audit.append({ actor: 'system', action: 'personal_numbers.purge', detail: { ...erased, retentionDays: config.gate.visitor_retention_days } });
      return erased;
    });
  }

  private onDecision(d: DecisionView): void {
    if (d.outcome !== 'granted' || d.direction !== 'out' || !d.subject?.startsWith('pass:')) return;
    const pass = this.deps.store.passes.get(d.subject.slice('pass:'.length));
    if (pass?.kind !== 'visitor' || pass.status !== 'active' || !pass.visit_id) return;
    this.signOut(pass.visit_id, { id: d.resolvedBy ?? 'system', role: 'system' });
  }

  private validate(req: RegisterVisitRequest, now: number): { idNumber: string | null; phone: string | null; plate: string | null } {
    const returning = req.visitorId ? this.deps.store.visitors.visitor(req.visitorId) : undefined;
    if (req.visitorId && !returning) throw fieldError('visitorId', 'unknown-visitor', `no visitor ${req.visitorId}`);
    let idNumber: string | null = null;
    if (req.idNumber) {
      const checked = checkIdDocument(req.idType as IdType, req.idNumber, now);
      if (!checked.ok) throw fieldError('idNumber', checked.reason, `ID number is not valid (${checked.reason})`);
      idNumber = checked.normalised;
    } else if (!returning) throw fieldError('idNumber', 'required', 'an ID number is required for a new visitor');
    const phone = req.phone ? this.phone(req.phone) : null;
    if (!phone && !returning) throw fieldError('phone', 'required', 'a phone number is required for a new visitor');
    const plate = req.plate ? this.plate(req.plate) : null;
    if (!this.deps.store.residents.unit(req.hostUnitId)) throw fieldError('hostUnitId', 'unknown-unit', `no unit ${req.hostUnitId}`);
    if (req.expectedLeaveAt <= now) throw fieldError('expectedLeaveAt', 'in-past', 'the expected leave time has already passed');
    return { idNumber, phone, plate };
  }

  private phone(value: string): string {
    const checked = checkPhone(value);
    if (!checked.ok) throw fieldError('phone', checked.reason, `phone number ${value} is not valid`);
    return checked.normalised;
  }

  private plate(value: string): string {
    const checked = parsePlate(value);
    if (!checked.ok) throw fieldError('plate', checked.reason, `plate ${value} is not valid (${checked.reason})`);
    return checked.plate;
  }

  private usablePreregistration(code: string, now: number): PreregistrationRow {
    const row = this.deps.store.visitors.preregistration(code);
    if (!row) throw fieldError('preregistrationCode', 'unknown-code', `no pre-registration with code ${code}`);
    if (row.used_by_visit) throw fieldError('preregistrationCode', 'used', 'this pre-registration has already been used');
    if (row.expected_on !== localDate(now, this.deps.config.site.timezone)) throw fieldError('preregistrationCode', 'wrong-day', `this pre-registration is for ${row.expected_on}`);
    return row;
  }

  private upsertVisitor(req: RegisterVisitRequest, f: { idNumber: string | null; phone: string | null; plate: string | null }, now: number): string {
    const { visitors } = this.deps.store;
    const existing = req.visitorId ? visitors.visitor(req.visitorId) : f.idNumber ? visitors.findByIdNumber(f.idNumber) : undefined;
    if (existing) {
      visitors.updateVisitor(existing.id, { name: req.name, id_type: req.idType, id_number: f.idNumber, phone: f.phone, plate: f.plate, at: now });
      return existing.id;
    }
    const id = newId();
    visitors.insertVisitor({ id, name: req.name, id_type: req.idType, id_number: f.idNumber, phone: f.phone, plate: f.plate, first_seen_at: now, last_visit_at: now });
    return id;
  }

  private changeVisit(visitId: string, actor: Actor, action: string, change: (v: VisitDetail) => Parameters<Store['visitors']['setVisit']>[1], extra: Record<string, unknown> = {}): VisitView {
    const { store, clock } = this.deps;
    store.transaction(() => {
      const visit = store.visitors.visit(visitId);
      if (!visit) throw new GuardpostError(ErrorCode.NotFound, `no visit ${visitId}`);
      const fields = change(visit);
      store.visitors.setVisit(visitId, fields);
      store.audit.append({ actor: actor.id, action, target: visitId, detail: { ...fields, ...extra } });
      this.outboxVisit(visitId, clock.now());
    });
    return this.publish(visitId);
  }

  /** HQ gets the visit as it now is, numbers included: it is the record the compound must keep. */
  private outboxVisit(visitId: string, at: number): void {
    const visit = this.deps.store.visitors.visit(visitId);
    if (visit) this.deps.store.outbox.add('visits', visitId, visit, at);
  }

  private publish(visitId: string): VisitView {
    const view = this.get(visitId);
    this.deps.bus.emit('gate.visit', view);
    return view;
  }

  private view(v: VisitDetail): VisitView {
    const pass = this.deps.store.passes.ofVisit(v.id);
    const now = this.deps.clock.now();
    return {
      id: v.id,
      visitorId: v.visitor_id,
      name: v.name,
      idType: v.id_type,
      idNumberMasked: v.id_number ? maskIdNumber(v.id_number) : null,
      phoneMasked: v.phone ? maskPhone(v.phone) : null,
      hostUnitId: v.host_unit_id,
      hostUnitCode: v.unit_code,
      hostName: v.host_name,
      reason: v.reason,
      headcount: v.headcount,
      plate: v.plate,
      expectedLeaveAt: v.expected_leave_at,
      status: v.status,
      confirmation: v.confirmation,
      confirmedBy: v.confirmed_by,
      registeredAt: v.registered_at,
      enteredAt: v.entered_at,
      leftAt: v.left_at,
      pass: pass ? passView(pass) : null,
      overstay: v.status === 'inside' && pass !== undefined && pass.valid_until <= now,
    };
  }

  private preregCode(): string {
    // Six digits: typed on the guard's keypad or read from the resident's message.
    for (;;) {
      const code = String(randomInt(100000, 1000000));
      if (!this.deps.store.visitors.preregistration(code)) return code;
    }
  }

  private preregView(row: PreregistrationRow) {
    const unit = this.deps.store.residents.unit(row.host_unit_id);
    return {
      id: row.id,
      code: row.code,
      visitorName: row.visitor_name,
      phoneMasked: row.phone ? maskPhone(row.phone) : null,
      plate: row.plate,
      hostUnitId: row.host_unit_id,
      hostUnitCode: unit?.code ?? '',
      hostName: row.host_name,
      expectedOn: row.expected_on,
      used: row.used_by_visit !== null,
    };
  }
}
