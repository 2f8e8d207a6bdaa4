// Repository for idempotent requests: the first answer to a key is kept and given again on retry.
import type Database from 'better-sqlite3';

export interface StoredAnswer {
  route: string;
  status: number;
  body: string;
}

export class IdempotencyRepo {
  constructor(private readonly db: Database.Database) {}

  get(key: string): StoredAnswer | undefined {
    return this.db.prepare('SELECT route, status, body FROM idempotency WHERE key = ?').get(key) as StoredAnswer | undefined;
  }

  put(key: string, answer: StoredAnswer, at: number): void {
    this.db.prepare('INSERT OR IGNORE INTO idempotency (key, route, status, body, created_at) VALUES (?, ?, ?, ?, ?)').run(key, answer.route, answer.status, answer.body, at);
  }

  /** Keys matter only while a client may still retry; a day is far beyond that. */
  prune(before: number): number {
    return this.db.prepare('DELETE FROM idempotency WHERE created_at < ?').run(before).changes;
  }
}
