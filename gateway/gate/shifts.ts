// The shift log (sign on, sign off with a handover note, enough guards on duty) and the key log.
import type { GuardpostConfig } from '../../config/schema.js';
import type { Alarms } from '../alarms.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { minuteOfDay, parseHhmm } from '../core/time.js';
import type { Store } from '../store/db.js';
import type { ShiftRow } from '../store/shifts.js';
import type { Actor } from './visitors.js';

export interface ShiftDeps {
  config: GuardpostConfig;
  store: Store;
  clock: Clock;
  alarms: Alarms;
}

export class Shifts {
  constructor(private readonly deps: ShiftDeps) {}

  /** Guards needed now: the configured period that covers this minute, else one. */
  required(at = this.deps.clock.now()): number {
    const minute = minuteOfDay(at, this.deps.config.site.timezone);
    let count = 1;
    for (const period of this.deps.config.gate.min_guards) {
      const from = parseHhmm(period.from);
      const to = parseHhmm(period.to);
      const inside = from <= to ? minute >= from && minute < to : minute >= from || minute < to;
      if (inside) count = Math.max(count, period.count);
    }
    return count;
  }

  status() {
    const { store } = this.deps;
    return { onDuty: store.shifts.onDuty().map((s) => this.view(s)), required: this.required(), recent: store.shifts.recent(20).map((s) => this.view(s)) };
  }

  signOn(actor: Actor) {
    const { store, clock } = this.deps;
    store.transaction(() => {
      if (store.shifts.openShiftOf(actor.id)) throw new GuardpostError(ErrorCode.Conflict, 'you are already signed on', { problem: 'state' });
      const row: ShiftRow = { id: newId(), person_id: actor.id, on_at: clock.now(), off_at: null, handover_note: null };
      store.shifts.signOn(row);
      store.audit.append({ actor: actor.id, action: 'shift.sign_on', target: row.id });
      store.outbox.add('shifts', row.id, row, row.on_at);
    });
    this.checkMinGuards();
    return this.status();
  }

  signOff(actor: Actor, note: string | null) {
    const { store, clock } = this.deps;
    store.transaction(() => {
      const open = store.shifts.openShiftOf(actor.id);
      if (!open) throw new GuardpostError(ErrorCode.Conflict, 'you are not signed on', { problem: 'state' });
      const at = clock.now();
      store.shifts.signOff(open.id, at, note);
      store.audit.append({ actor: actor.id, action: 'shift.sign_off', target: open.id, detail: { handoverNote: note !== null } });
      store.outbox.add('shifts', open.id, { ...open, off_at: at, handover_note: note }, at);
    });
    this.checkMinGuards();
    return this.status();
  }

  /** Fewer guards on duty than the period needs: an alarm, cleared when enough sign on or the period ends. */
  checkMinGuards(): void {
    const onDuty = this.deps.store.shifts.onDuty().length;
    const required = this.required();
    if (onDuty < required) this.deps.alarms.raise('min-guards', 'gate', `在岗保安不足：${onDuty} 人在岗，需 ${required} 人`, { onDuty, required });
    else this.deps.alarms.clear('min-guards', 'gate', `${onDuty} guards on duty`);
  }

  keys() {
    const now = this.deps.clock.now();
    return this.deps.store.shifts.keys().map((k) => {
      const loan = k.loan ? (JSON.parse(k.loan) as { id: string; holder_name: string; purpose: string; issued_by: string; issued_at: number; due_at: number }) : null;
      return {
        id: k.id,
        label: k.label,
        location: k.location,
        loan: loan
          ? { id: loan.id, holderName: loan.holder_name, purpose: loan.purpose, issuedBy: loan.issued_by, issuedAt: loan.issued_at, dueAt: loan.due_at, overdue: loan.due_at <= now }
          : null,
      };
    });
  }

  addKey(label: string, location: string | null, actor: Actor) {
    const { store } = this.deps;
    if (store.shifts.keys().some((k) => k.label === label)) throw new GuardpostError(ErrorCode.Conflict, `a key called ${label} exists already`);
    const id = newId();
    store.transaction(() => {
      store.shifts.addKey({ id, label, location });
      store.audit.append({ actor: actor.id, action: 'key.add', target: id, detail: { label } });
    });
    return this.keys();
  }

  issueKey(keyId: string, holderName: string, purpose: string, dueAt: number, actor: Actor) {
    const { store, clock } = this.deps;
    const now = clock.now();
    if (dueAt <= now) throw new GuardpostError(ErrorCode.BadRequest, 'the return time has already passed', { field: 'dueAt', problem: 'in-past' });
    store.transaction(() => {
      if (!store.shifts.key(keyId)) throw new GuardpostError(ErrorCode.NotFound, `no key ${keyId}`);
      if (store.shifts.openLoan(keyId)) throw new GuardpostError(ErrorCode.Conflict, 'this key is out; it must be returned first', { problem: 'state' });
      const loan = { id: newId(), key_id: keyId, holder_name: holderName, purpose, issued_by: actor.id, issued_at: now, due_at: dueAt, returned_at: null, returned_to: null };
      store.shifts.lend(loan);
      store.audit.append({ actor: actor.id, action: 'key.issue', target: keyId, detail: { holderName, purpose, dueAt } });
      store.outbox.add('key_loans', loan.id, loan, now);
    });
    return this.keys();
  }

  returnKey(keyId: string, actor: Actor) {
    const { store, clock, alarms } = this.deps;
    const now = clock.now();
    const loanId = store.transaction(() => {
      const loan = store.shifts.openLoan(keyId);
      if (!loan) throw new GuardpostError(ErrorCode.Conflict, 'this key is not out', { problem: 'state' });
      store.shifts.giveBack(loan.id, now, actor.id);
      store.audit.append({ actor: actor.id, action: 'key.return', target: keyId, detail: { loan: loan.id } });
      store.outbox.add('key_loans', loan.id, { ...loan, returned_at: now, returned_to: actor.id }, now);
      return loan.id;
    });
    alarms.clear('key-overdue', loanId, 'key returned');
    return this.keys();
  }

  checkOverdueKeys(): void {
    const { store, clock, alarms } = this.deps;
    for (const loan of store.shifts.overdueLoans(clock.now())) {
      const key = store.shifts.key(loan.key_id);
      alarms.raise('key-overdue', loan.id, `钥匙逾期未还：${key?.label ?? loan.key_id}（${loan.holder_name}）`, { key: loan.key_id, dueAt: loan.due_at });
    }
  }

  private view(s: ShiftRow) {
    const person = this.deps.config.people.find((p) => p.id === s.person_id);
    return { id: s.id, personId: s.person_id, personName: person?.name ?? s.person_id, onAt: s.on_at, offAt: s.off_at, handoverNote: s.handover_note };
  }
}
