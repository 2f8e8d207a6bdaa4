// Repository for the shift log and the key log.
import type Database from 'better-sqlite3';

export interface ShiftRow {
  id: string;
  person_id: string;
  on_at: number;
  off_at: number | null;
  handover_note: string | null;
}

export interface KeyRow {
  id: string;
  label: string;
  location: string | null;
}

export interface KeyLoanRow {
  id: string;
  key_id: string;
  holder_name: string;
  purpose: string;
  issued_by: string;
  issued_at: number;
  due_at: number;
  returned_at: number | null;
  returned_to: string | null;
}

export class ShiftRepo {
  constructor(private readonly db: Database.Database) {}

  onDuty(): ShiftRow[] {
    return this.db.prepare('SELECT * FROM shifts WHERE off_at IS NULL ORDER BY on_at').all() as ShiftRow[];
  }

  openShiftOf(personId: string): ShiftRow | undefined {
    return this.db.prepare('SELECT * FROM shifts WHERE person_id = ? AND off_at IS NULL').get(personId) as ShiftRow | undefined;
  }

  recent(limit: number): ShiftRow[] {
    return this.db.prepare('SELECT * FROM shifts ORDER BY on_at DESC LIMIT ?').all(limit) as ShiftRow[];
  }

  signOn(row: ShiftRow): void {
    this.db.prepare('INSERT INTO shifts (id, person_id, on_at) VALUES (?, ?, ?)').run(row.id, row.person_id, row.on_at);
  }

  signOff(id: string, at: number, note: string | null): void {
    this.db.prepare('UPDATE shifts SET off_at = ?, handover_note = ? WHERE id = ?').run(at, note, id);
  }

  keys(): (KeyRow & { loan: string | null })[] {
    return this.db
      .prepare(
        `SELECT k.id, k.label, k.location, (SELECT json_object('id', l.id, 'holder_name', l.holder_name, 'purpose', l.purpose, 'issued_by', l.issued_by,
           'issued_at', l.issued_at, 'due_at', l.due_at) FROM key_loans l WHERE l.key_id = k.id AND l.returned_at IS NULL) AS loan
         FROM keys k WHERE k.active = 1 ORDER BY k.label`,
      )
      .all() as (KeyRow & { loan: string | null })[];
  }

  key(id: string): KeyRow | undefined {
    return this.db.prepare('SELECT id, label, location FROM keys WHERE id = ? AND active = 1').get(id) as KeyRow | undefined;
  }

  addKey(row: KeyRow): void {
    this.db.prepare('INSERT INTO keys (id, label, location) VALUES (?, ?, ?)').run(row.id, row.label, row.location);
  }

  openLoan(keyId: string): KeyLoanRow | undefined {
    return this.db.prepare('SELECT * FROM key_loans WHERE key_id = ? AND returned_at IS NULL').get(keyId) as KeyLoanRow | undefined;
  }

  lend(row: KeyLoanRow): void {
    this.db
      .prepare('INSERT INTO key_loans (id, key_id, holder_name, purpose, issued_by, issued_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.id, row.key_id, row.holder_name, row.purpose, row.issued_by, row.issued_at, row.due_at);
  }

  giveBack(loanId: string, at: number, to: string): void {
    this.db.prepare('UPDATE key_loans SET returned_at = ?, returned_to = ? WHERE id = ?').run(at, to, loanId);
  }

  overdueLoans(now: number): KeyLoanRow[] {
    return this.db.prepare('SELECT * FROM key_loans WHERE returned_at IS NULL AND due_at <= ?').all(now) as KeyLoanRow[];
  }
}
