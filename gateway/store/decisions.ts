// Repository for access decisions and the stays they open and close.
import type Database from 'better-sqlite3';

export interface DecisionRow {
  id: string;
  at: number;
  entry_point: string;
  direction: 'in' | 'out';
  device_id: string | null;
  credential_kind: string;
  credential_value: string;
  outcome: 'granted' | 'denied' | 'pending';
  reason: string;
  subject: string | null;
  subject_name: string | null;
  list: string | null;
  resolved_by: string | null;
  resolved_at: number | null;
  resolution: string | null;
  barrier: string | null;
  barrier_status: 'none' | 'sent' | 'opened' | 'failed';
  barrier_detail: string | null;
  snapshot: string | null;
}

export class DecisionRepo {
  private readonly insertStmt: Database.Statement<DecisionRow>;
  private readonly openStay: Database.Statement<[string], { id: string }>;
  private readonly insertStay: Database.Statement<[string, string, string | null, number]>;
  private readonly closeStay: Database.Statement<[string | null, number, string]>;
  private readonly getStmt: Database.Statement<[string], DecisionRow>;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO decisions (id, at, entry_point, direction, device_id, credential_kind, credential_value, outcome, reason, subject, subject_name, list,
        resolved_by, resolved_at, resolution, barrier, barrier_status, barrier_detail, snapshot)
       VALUES (@id, @at, @entry_point, @direction, @device_id, @credential_kind, @credential_value, @outcome, @reason, @subject, @subject_name, @list,
        @resolved_by, @resolved_at, @resolution, @barrier, @barrier_status, @barrier_detail, @snapshot)`,
    );
    this.openStay = db.prepare('SELECT id FROM stays WHERE subject = ? AND out_at IS NULL');
    this.insertStay = db.prepare('INSERT INTO stays (id, subject, in_decision, in_at) VALUES (?, ?, ?, ?)');
    this.closeStay = db.prepare('UPDATE stays SET out_decision = ?, out_at = ? WHERE id = ?');
    this.getStmt = db.prepare('SELECT * FROM decisions WHERE id = ?');
  }

  insert(row: DecisionRow): void {
    this.insertStmt.run(row);
  }

  get(id: string): DecisionRow | undefined {
    return this.getStmt.get(id);
  }

  update(id: string, change: Partial<Pick<DecisionRow, 'outcome' | 'reason' | 'resolved_by' | 'resolved_at' | 'resolution' | 'barrier_status' | 'barrier_detail'>>): DecisionRow {
    const keys = Object.keys(change);
    this.db.prepare(`UPDATE decisions SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...change, id });
    return this.getStmt.get(id)!;
  }

  list(pendingOnly: boolean, limit: number): DecisionRow[] {
    const where = pendingOnly ? "WHERE outcome = 'pending' AND resolved_at IS NULL" : '';
    return this.db.prepare(`SELECT * FROM decisions ${where} ORDER BY at DESC, id DESC LIMIT ?`).all(limit) as DecisionRow[];
  }

  isInside(subject: string): boolean {
    return this.openStay.get(subject) !== undefined;
  }

  /** Entry opens a stay (one per subject); exit closes the open one if there is one. */
  move(subject: string, direction: 'in' | 'out', decisionId: string | null, at: number, newId: () => string): void {
    const open = this.openStay.get(subject);
    if (direction === 'in') {
      if (!open) this.insertStay.run(newId(), subject, decisionId, at);
    } else if (open) {
      this.closeStay.run(decisionId, at, open.id);
    }
  }
}
