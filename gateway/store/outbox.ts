// The outbox: records waiting to go to HQ, written in the same transaction as the record itself.
import type Database from 'better-sqlite3';

export class Outbox {
  private readonly insert: Database.Statement<[string, string, string, number]>;
  private readonly countUnsent: Database.Statement<[], { n: number }>;
  private readonly oldestUnsent: Database.Statement<[], { at: number | null }>;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO outbox (record_id, stream, payload, created_at) VALUES (?, ?, ?, ?)');
    // Parked records are not waiting: they wait for a person (see parked()).
    this.countUnsent = db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL');
    this.oldestUnsent = db.prepare('SELECT min(created_at) AS at FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL');
  }

  /** Queue a record for HQ. Call inside the transaction that writes the record. */
  add(stream: string, recordId: string, payload: unknown, at: number): void {
    this.insert.run(recordId, stream, JSON.stringify(payload), at);
  }

  depth(): number {
    return this.countUnsent.get()?.n ?? 0;
  }

  oldestUnsentAt(): number | null {
    return this.oldestUnsent.get()?.at ?? null;
  }

  /** Records HQ refused as invalid, newest first. */
  parked(limit: number): { seq: number; stream: string; record_id: string; created_at: number; parked_at: number; parked_reason: string }[] {
    return this.db
      .prepare('SELECT seq, stream, record_id, created_at, parked_at, parked_reason FROM outbox WHERE parked_at IS NOT NULL AND sent_at IS NULL ORDER BY parked_at DESC, seq DESC LIMIT ?')
      .all(limit) as { seq: number; stream: string; record_id: string; created_at: number; parked_at: number; parked_reason: string }[];
  }

  /** Send a parked record again (HQ was fixed, or the record was): it rejoins its stream in seq order. */
  unpark(seq: number): boolean {
    return this.db.prepare('UPDATE outbox SET parked_at = NULL, parked_reason = NULL WHERE seq = ? AND parked_at IS NOT NULL AND sent_at IS NULL').run(seq).changes > 0;
  }
}
