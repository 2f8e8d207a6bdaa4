// Repository for passes: visitor, worker and goods-out passes, and who is inside on one.
import type Database from 'better-sqlite3';

export type PassKind = 'visitor' | 'worker' | 'goods-out';

export interface PassRow {
  id: string;
  kind: PassKind;
  code: string;
  visit_id: string | null;
  unit_id: string;
  holder_name: string;
  valid_from: number;
  valid_until: number;
  temp_card: string | null;
  plate: string | null;
  detail: string;
  status: 'active' | 'closed' | 'revoked';
  issued_by: string;
  issued_at: number;
  closed_by: string | null;
  closed_at: number | null;
}

export interface PassDetail extends PassRow {
  unit_code: string;
  inside: number;
}

const detailSelect = `SELECT p.*, u.code AS unit_code,
  EXISTS (SELECT 1 FROM stays s WHERE s.subject = 'pass:' || p.id AND s.out_at IS NULL) AS inside
  FROM passes p JOIN units u ON u.id = p.unit_id`;

export class PassRepo {
  private readonly byCode: Database.Statement<[string], PassRow>;
  private readonly byTempCard: Database.Statement<[string], PassRow>;
  private readonly byPlate: Database.Statement<[string], PassRow>;

  constructor(private readonly db: Database.Database) {
    this.byCode = db.prepare('SELECT * FROM passes WHERE code = ?');
    this.byTempCard = db.prepare("SELECT * FROM passes WHERE temp_card = ? AND status = 'active'");
    this.byPlate = db.prepare("SELECT * FROM passes WHERE plate = ? AND status = 'active' ORDER BY valid_until DESC LIMIT 1");
  }

  insert(row: PassRow): void {
    this.db
      .prepare(
        `INSERT INTO passes (id, kind, code, visit_id, unit_id, holder_name, valid_from, valid_until, temp_card, plate, detail, status, issued_by, issued_at)
         VALUES (@id, @kind, @code, @visit_id, @unit_id, @holder_name, @valid_from, @valid_until, @temp_card, @plate, @detail, @status, @issued_by, @issued_at)`,
      )
      .run(row);
  }

  get(id: string): PassDetail | undefined {
    return this.db.prepare(`${detailSelect} WHERE p.id = ?`).get(id) as PassDetail | undefined;
  }

  withCode(code: string): PassRow | undefined {
    return this.byCode.get(code);
  }

  withTempCard(card: string): PassRow | undefined {
    return this.byTempCard.get(card);
  }

  withPlate(plate: string): PassRow | undefined {
    return this.byPlate.get(plate);
  }

  ofVisit(visitId: string): PassDetail | undefined {
    return this.db.prepare(`${detailSelect} WHERE p.visit_id = ? ORDER BY p.issued_at DESC LIMIT 1`).get(visitId) as PassDetail | undefined;
  }

  close(id: string, by: string, at: number): boolean {
    return this.db.prepare("UPDATE passes SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ? AND status = 'active'").run(by, at, id).changes > 0;
  }

  list(filter: { kind?: PassKind; insideOnly?: boolean; activeOnly?: boolean }, limit: number): PassDetail[] {
    const where: string[] = [];
    if (filter.kind) where.push('p.kind = @kind');
    if (filter.activeOnly) where.push("p.status = 'active'");
    if (filter.insideOnly) where.push("EXISTS (SELECT 1 FROM stays s WHERE s.subject = 'pass:' || p.id AND s.out_at IS NULL)");
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return this.db.prepare(`${detailSelect} ${clause} ORDER BY p.issued_at DESC LIMIT @limit`).all({ kind: filter.kind ?? null, limit }) as PassDetail[];
  }

  /** Workers' and carriers' ID and phone numbers go once their pass has been over for the retention period. */
  purgePersonalNumbers(before: number): number {
    return this.db
      .prepare(
        `UPDATE passes SET detail = json_remove(detail, '$.idNumber', '$.phone', '$.carrierIdNumber')
         WHERE valid_until < ? AND (json_extract(detail, '$.idNumber') IS NOT NULL OR json_extract(detail, '$.phone') IS NOT NULL
           OR json_extract(detail, '$.carrierIdNumber') IS NOT NULL)`,
      )
      .run(before).changes;
  }

  /** Active visitor passes past their validity whose holder has not signed out. */
  overdueVisitorPasses(now: number): PassDetail[] {
    return this.db
      .prepare(`${detailSelect} WHERE p.kind = 'visitor' AND p.status = 'active' AND p.valid_until <= ?`)
      .all(now) as PassDetail[];
  }
}
