// Repository for the watchlist: ID numbers, plates and phones the gate must stop.
import type Database from 'better-sqlite3';

export type WatchKind = 'id_number' | 'plate' | 'phone';

export interface WatchRow {
  id: string;
  kind: WatchKind;
  value: string;
  reason: string;
  added_by: string;
  added_at: number;
}

export class WatchlistRepo {
  private readonly byValue: Database.Statement<[string, string], WatchRow>;

  constructor(private readonly db: Database.Database) {
    this.byValue = db.prepare('SELECT id, kind, value, reason, added_by, added_at FROM watchlist WHERE kind = ? AND value = ? AND active = 1');
  }

  find(kind: WatchKind, value: string): WatchRow | undefined {
    return this.byValue.get(kind, value);
  }

  add(row: WatchRow): void {
    this.db
      .prepare('INSERT INTO watchlist (id, kind, value, reason, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(row.id, row.kind, row.value, row.reason, row.added_by, row.added_at);
  }

  remove(id: string): boolean {
    return this.db.prepare('UPDATE watchlist SET active = 0 WHERE id = ? AND active = 1').run(id).changes > 0;
  }

  list(): WatchRow[] {
    return this.db.prepare('SELECT id, kind, value, reason, added_by, added_at FROM watchlist WHERE active = 1 ORDER BY added_at DESC').all() as WatchRow[];
  }
}
