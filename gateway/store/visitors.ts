// Repository for visitors, their visits and pre-registrations.
import type Database from 'better-sqlite3';

export interface VisitorRow {
  id: string;
  name: string;
  id_type: string;
  id_number: string | null;
  phone: string | null;
  plate: string | null;
  first_seen_at: number;
  last_visit_at: number;
}

export type VisitStatus = 'registered' | 'confirmed' | 'inside' | 'left' | 'refused';

export interface VisitRow {
  id: string;
  visitor_id: string;
  host_unit_id: string;
  host_name: string | null;
  reason: string;
  headcount: number;
  plate: string | null;
  expected_leave_at: number;
  status: VisitStatus;
  confirmation: string | null;
  confirmed_by: string | null;
  confirmed_at: number | null;
  preregistration: string | null;
  registered_by: string;
  registered_at: number;
  entered_at: number | null;
  left_at: number | null;
}

/** A visit with what screens show beside it. */
export interface VisitDetail extends VisitRow {
  name: string;
  id_type: string;
  id_number: string | null;
  phone: string | null;
  unit_code: string;
}

export interface PreregistrationRow {
  id: string;
  code: string;
  visitor_name: string;
  phone: string | null;
  plate: string | null;
  host_unit_id: string;
  host_name: string | null;
  expected_on: string;
  source: 'hq' | 'guard';
  created_by: string;
  created_at: number;
  used_by_visit: string | null;
}

const detailSelect = `SELECT v.*, p.name, p.id_type, p.id_number, p.phone, u.code AS unit_code
  FROM visits v JOIN visitors p ON p.id = v.visitor_id JOIN units u ON u.id = v.host_unit_id`;

export class VisitorRepo {
  private readonly byIdNumber: Database.Statement<[string], VisitorRow>;
  private readonly byPhone: Database.Statement<[string], VisitorRow>;
  private readonly lastVisitOf: Database.Statement<[string], VisitDetail>;

  constructor(private readonly db: Database.Database) {
    // Most recent first: a number reused across records (a shared family phone) fills from the latest.
    this.byIdNumber = db.prepare('SELECT * FROM visitors WHERE id_number = ? ORDER BY last_visit_at DESC LIMIT 1');
    this.byPhone = db.prepare('SELECT * FROM visitors WHERE phone = ? ORDER BY last_visit_at DESC LIMIT 1');
    this.lastVisitOf = db.prepare(`${detailSelect} WHERE v.visitor_id = ? ORDER BY v.registered_at DESC LIMIT 1`);
  }

  visitor(id: string): VisitorRow | undefined {
    return this.db.prepare('SELECT * FROM visitors WHERE id = ?').get(id) as VisitorRow | undefined;
  }

  findByIdNumber(idNumber: string): VisitorRow | undefined {
    return this.byIdNumber.get(idNumber);
  }

  findByPhone(phone: string): VisitorRow | undefined {
    return this.byPhone.get(phone);
  }

  lastVisit(visitorId: string): VisitDetail | undefined {
    return this.lastVisitOf.get(visitorId);
  }

  visitCount(visitorId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM visits WHERE visitor_id = ?').get(visitorId) as { n: number }).n;
  }

  insertVisitor(row: VisitorRow): void {
    this.db
      .prepare('INSERT INTO visitors (id, name, id_type, id_number, phone, plate, first_seen_at, last_visit_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row.id, row.name, row.id_type, row.id_number, row.phone, row.plate, row.first_seen_at, row.last_visit_at);
  }

  /** A returning visitor: refresh what they gave this time, keeping numbers they did not repeat. */
  updateVisitor(id: string, change: { name: string; id_type: string; id_number: string | null; phone: string | null; plate: string | null; at: number }): void {
    this.db
      .prepare(
        `UPDATE visitors SET name = ?, id_type = ?, id_number = coalesce(?, id_number), phone = coalesce(?, phone),
         plate = coalesce(?, plate), last_visit_at = ? WHERE id = ?`,
      )
      .run(change.name, change.id_type, change.id_number, change.phone, change.plate, change.at, id);
  }

  insertVisit(row: VisitRow): void {
    this.db
      .prepare(
        `INSERT INTO visits (id, visitor_id, host_unit_id, host_name, reason, headcount, plate, expected_leave_at, status,
          confirmation, confirmed_by, confirmed_at, preregistration, registered_by, registered_at)
         VALUES (@id, @visitor_id, @host_unit_id, @host_name, @reason, @headcount, @plate, @expected_leave_at, @status,
          @confirmation, @confirmed_by, @confirmed_at, @preregistration, @registered_by, @registered_at)`,
      )
      .run(row);
  }

  visit(id: string): VisitDetail | undefined {
    return this.db.prepare(`${detailSelect} WHERE v.id = ?`).get(id) as VisitDetail | undefined;
  }

  setVisit(id: string, change: Partial<Pick<VisitRow, 'status' | 'confirmation' | 'confirmed_by' | 'confirmed_at' | 'entered_at' | 'left_at'>>): void {
    const keys = Object.keys(change);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE visits SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...change, id });
  }

  visits(filter: 'open' | 'inside' | 'since', since: number, limit: number): VisitDetail[] {
    const where =
      filter === 'inside' ? "v.status = 'inside'" : filter === 'open' ? "v.status IN ('registered', 'confirmed', 'inside')" : 'v.registered_at >= @since';
    return this.db.prepare(`${detailSelect} WHERE ${where} ORDER BY v.registered_at DESC LIMIT @limit`).all({ since, limit }) as VisitDetail[];
  }

  insertPreregistration(row: PreregistrationRow): void {
    this.db
      .prepare(
        `INSERT INTO preregistrations (id, code, visitor_name, phone, plate, host_unit_id, host_name, expected_on, source, created_by, created_at)
         VALUES (@id, @code, @visitor_name, @phone, @plate, @host_unit_id, @host_name, @expected_on, @source, @created_by, @created_at)`,
      )
      .run(row);
  }

  preregistration(code: string): PreregistrationRow | undefined {
    return this.db.prepare('SELECT * FROM preregistrations WHERE code = ?').get(code) as PreregistrationRow | undefined;
  }

  usePreregistration(id: string, visitId: string): void {
    this.db.prepare('UPDATE preregistrations SET used_by_visit = ? WHERE id = ?').run(visitId, id);
  }

  /** Personal numbers of visitors not seen since `before` are erased; names stay for the visit history. */
  purgePersonalNumbers(before: number, at: number): number {
    return this.db
      .prepare('UPDATE visitors SET id_number = NULL, phone = NULL, purged_at = ? WHERE last_visit_at < ? AND purged_at IS NULL')
      .run(at, before).changes;
  }
}
