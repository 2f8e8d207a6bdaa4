// Repository for units, residents and their credentials (cards and plates on access lists).
import type Database from 'better-sqlite3';

export interface UnitRow {
  id: string;
  code: string;
  building: string;
  entrance: string;
  room: string;
}

export interface ResidentRow {
  id: string;
  unit_id: string | null;
  kind: 'owner' | 'tenant' | 'family' | 'staff';
  name: string;
  phone: string | null;
}

export interface CredentialRow {
  id: string;
  kind: 'card' | 'plate';
  value: string;
  holder_id: string | null;
  holder_name: string | null;
  list: string;
  valid_from: number | null;
  valid_until: number | null;
}

/**
 * A unit's id follows from its code, so every gate of a compound (and HQ) names it the same: a visit
 * registered at one gate refers to a unit the other gate knows.
 */
export function unitIdFor(code: string): string {
  return `unit:${code}`;
}

export class ResidentRepo {
  private readonly credentialByValue: Database.Statement<[string, string], CredentialRow>;
  private readonly unitByCode: Database.Statement<[string], UnitRow>;
  private readonly unitById: Database.Statement<[string], UnitRow>;
  private readonly insertUnit: Database.Statement<[string, string, string, string, string, number]>;
  private readonly insertResident: Database.Statement<[string, string | null, string, string, string | null, number]>;
  private readonly insertCredential: Database.Statement<[string, string, string, string | null, string, number | null, number | null, number]>;
  private readonly setResidentPhone: Database.Statement<[string | null, number, string]>;
  private readonly setCredentialTerms: Database.Statement<[string, number | null, number, string]>;

  constructor(private readonly db: Database.Database) {
    this.credentialByValue = db.prepare(
      `SELECT c.id, c.kind, c.value, c.holder_id, r.name AS holder_name, c.list, c.valid_from, c.valid_until
       FROM credentials c LEFT JOIN residents r ON r.id = c.holder_id
       WHERE c.kind = ? AND c.value = ? AND c.active = 1`,
    );
    this.unitByCode = db.prepare('SELECT id, code, building, entrance, room FROM units WHERE code = ?');
    this.unitById = db.prepare('SELECT id, code, building, entrance, room FROM units WHERE id = ?');
    this.insertUnit = db.prepare('INSERT INTO units (id, code, building, entrance, room, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.insertResident = db.prepare('INSERT INTO residents (id, unit_id, kind, name, phone, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.insertCredential = db.prepare(
      'INSERT INTO credentials (id, kind, value, holder_id, list, valid_from, valid_until, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.setResidentPhone = db.prepare('UPDATE residents SET phone = ?, updated_at = ? WHERE id = ?');
    this.setCredentialTerms = db.prepare('UPDATE credentials SET list = ?, valid_until = ?, updated_at = ? WHERE id = ?');
  }

  credential(kind: 'card' | 'plate', value: string): CredentialRow | undefined {
    return this.credentialByValue.get(kind, value);
  }

  unit(id: string): UnitRow | undefined {
    return this.unitById.get(id);
  }

  unitWithCode(code: string): UnitRow | undefined {
    return this.unitByCode.get(code);
  }

  /** Units whose code starts with the prefix, in code order (the guard types 3-2 and picks 3-2-1201). */
  findUnits(prefix: string, limit: number): UnitRow[] {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.db
      .prepare("SELECT id, code, building, entrance, room FROM units WHERE code LIKE ? ESCAPE '\\' ORDER BY code LIMIT ?")
      .all(`${escaped}%`, limit) as UnitRow[];
  }

  residentsOf(unitId: string): ResidentRow[] {
    return this.db.prepare('SELECT id, unit_id, kind, name, phone FROM residents WHERE unit_id = ? AND active = 1 ORDER BY name').all(unitId) as ResidentRow[];
  }

  addUnit(row: UnitRow, at: number): void {
    this.insertUnit.run(row.id, row.code, row.building, row.entrance, row.room, at);
  }

  addResident(row: ResidentRow, at: number): void {
    this.insertResident.run(row.id, row.unit_id, row.kind, row.name, row.phone, at);
  }

  addCredential(row: Omit<CredentialRow, 'holder_name'>, at: number): void {
    this.insertCredential.run(row.id, row.kind, row.value, row.holder_id, row.list, row.valid_from, row.valid_until, at);
  }

  updateResidentPhone(id: string, phone: string | null, at: number): void {
    this.setResidentPhone.run(phone, at, id);
  }

  /** Move a credential to another list or change its expiry; holder and value never change here. */
  updateCredentialTerms(id: string, list: string, validUntil: number | null, at: number): void {
    this.setCredentialTerms.run(list, validUntil, at, id);
  }

  // Whole-table reads for bulk work (the resident import): one pass each instead of a query per row.

  allUnits(): UnitRow[] {
    return this.db.prepare('SELECT id, code, building, entrance, room FROM units').all() as UnitRow[];
  }

  activeResidents(): ResidentRow[] {
    return this.db.prepare('SELECT id, unit_id, kind, name, phone FROM residents WHERE active = 1').all() as ResidentRow[];
  }

  activeCredentials(): Omit<CredentialRow, 'holder_name'>[] {
    return this.db
      .prepare('SELECT id, kind, value, holder_id, list, valid_from, valid_until FROM credentials WHERE active = 1')
      .all() as Omit<CredentialRow, 'holder_name'>[];
  }

  unitCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM units').get() as { n: number }).n;
  }
}
