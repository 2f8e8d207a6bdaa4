// Repository for alarms: at most one open alarm per kind and subject, resolved rather than deleted.
import type Database from 'better-sqlite3';

export interface AlarmRow {
  id: string;
  kind: string;
  subject: string;
  raised_at: number;
  detail: string;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution: string | null;
}

export class AlarmRepo {
  constructor(private readonly db: Database.Database) {}

  open(kind: string, subject: string): AlarmRow | undefined {
    return this.db.prepare('SELECT * FROM alarms WHERE kind = ? AND subject = ? AND resolved_at IS NULL').get(kind, subject) as AlarmRow | undefined;
  }

  /** Has this alarm ever been raised, open or resolved? */
  ever(kind: string, subject: string): boolean {
    return this.db.prepare('SELECT 1 FROM alarms WHERE kind = ? AND subject = ? LIMIT 1').get(kind, subject) !== undefined;
  }

  get(id: string): AlarmRow | undefined {
    return this.db.prepare('SELECT * FROM alarms WHERE id = ?').get(id) as AlarmRow | undefined;
  }

  insert(row: AlarmRow): void {
    this.db
      .prepare('INSERT INTO alarms (id, kind, subject, raised_at, detail) VALUES (?, ?, ?, ?, ?)')
      .run(row.id, row.kind, row.subject, row.raised_at, row.detail);
  }

  resolve(id: string, at: number, by: string, resolution: string): boolean {
    return (
      this.db.prepare('UPDATE alarms SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL').run(at, by, resolution, id).changes > 0
    );
  }

  list(openOnly: boolean, limit: number): AlarmRow[] {
    const where = openOnly ? 'WHERE resolved_at IS NULL' : '';
    return this.db.prepare(`SELECT * FROM alarms ${where} ORDER BY raised_at DESC LIMIT ?`).all(limit) as AlarmRow[];
  }

  openOfKind(kind: string): AlarmRow[] {
    return this.db.prepare('SELECT * FROM alarms WHERE kind = ? AND resolved_at IS NULL').all(kind) as AlarmRow[];
  }
}
