// The audit log: append-only, each row hash-chained to the one before, verifiable end to end.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { newId } from '../core/ids.js';
import type { Outbox } from './outbox.js';

export const genesisHash = '0'.repeat(64);

export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  /** Free detail; personal numbers must already be masked. */
  detail?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  /** The first row that does not verify, with why. */
  broken?: { seq: number; reason: string };
}

export function auditHash(e: Omit<AuditEntry, 'seq' | 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.id, e.at, e.actor, e.action, e.target, e.detail, e.prev_hash]))
    .digest('hex');
}

export class AuditLog {
  private readonly lastHash: Database.Statement<[], { hash: string }>;
  private readonly insert: Database.Statement<[string, number, string, string, string | null, string, string, string]>;
  private readonly appendTx: Database.Transaction<(input: AuditInput) => AuditEntry>;

  constructor(
    private readonly db: Database.Database,
    outbox: Outbox,
    private readonly now: () => number,
  ) {
    this.lastHash = db.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.insert = db.prepare(
      'INSERT INTO audit_log (id, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.appendTx = db.transaction((input: AuditInput): AuditEntry => {
      const base = {
        id: newId(),
        at: this.now(),
        actor: input.actor,
        action: input.action,
        target: input.target ?? null,
        detail: JSON.stringify(input.detail ?? {}),
        prev_hash: this.lastHash.get()?.hash ?? genesisHash,
      };
      const hash = auditHash(base);
      const info = this.insert.run(base.id, base.at, base.actor, base.action, base.target, base.detail, base.prev_hash, hash);
      const entry = { seq: Number(info.lastInsertRowid), ...base, hash };
      outbox.add('audit', entry.id, entry, entry.at);
      return entry;
    });
  }

  /** Append one entry (joins the caller's transaction when there is one). */
  append(input: AuditInput): AuditEntry {
    // IMMEDIATE: it reads the chain's last hash before writing (see openStore's transaction).
    return this.appendTx.immediate(input);
  }

  /** Recompute the chain from the first row; reports the first row that does not match. */
  verify(): AuditVerification {
    let prev = genesisHash;
    let rows = 0;
    const all = this.db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<AuditEntry>;
    for (const row of all) {
      rows++;
      if (row.prev_hash !== prev) return { ok: false, rows, broken: { seq: row.seq, reason: 'previous-hash link does not match the row before' } };
      if (auditHash(row) !== row.hash) return { ok: false, rows, broken: { seq: row.seq, reason: 'row content does not match its hash' } };
      prev = row.hash;
    }
    return { ok: true, rows };
  }

  /** Every entry about one record (a seal's creation, extensions, release, exports), oldest first. */
  forTarget(target: string): AuditEntry[] {
    return this.db.prepare('SELECT * FROM audit_log WHERE target = ? ORDER BY seq').all(target) as AuditEntry[];
  }

  recent(limit: number): AuditEntry[] {
    return this.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?').all(limit) as AuditEntry[];
  }
}
