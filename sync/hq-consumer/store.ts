// HQ's PostgreSQL side of the reference consumer: its tables (created on start), the batch upsert, rejections, remembered answers, master data.
import { createHash } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import type { Logger } from '../../gateway/core/log.js';
import { contractVersion, type MasterKind, type UpAnswer, type UpRecord } from '../contract.js';
import type { CheckedBatch } from './check.js';

/**
 * Keyed per gate: `seq` orders one gate's outbox only, and a few streams' ids are per gate
 * (patrol_plans is the plan version; patrol_reasons is round|checkpoint). A visit signed in at one gate
 * and out at another arrives from both: one row per gate, the newest by `at` is its current state.
 */
const schema = `
CREATE TABLE IF NOT EXISTS gate_records (
  compound    text   NOT NULL,
  site        text   NOT NULL,
  stream      text   NOT NULL,
  id          text   NOT NULL,
  seq         bigint NOT NULL,
  at          bigint NOT NULL,
  sent_at     bigint NOT NULL,
  received_at bigint NOT NULL,
  data        jsonb  NOT NULL,
  PRIMARY KEY (compound, site, stream, id)
);
CREATE INDEX IF NOT EXISTS gate_records_by_time ON gate_records (compound, stream, at);

CREATE TABLE IF NOT EXISTS rejected_records (
  key         text   PRIMARY KEY,
  compound    text,
  site        text,
  stream      text,
  id          text,
  seq         bigint,
  reason      text   NOT NULL,
  record      text,
  body        bytea,
  transport   text   NOT NULL,
  received_at bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS master_data (
  compound     text    NOT NULL,
  kind         text    NOT NULL,
  version      integer NOT NULL,
  published_at bigint  NOT NULL,
  data         jsonb   NOT NULL,
  PRIMARY KEY (compound, kind, version)
);

CREATE TABLE IF NOT EXISTS batch_answers (
  compound   text   NOT NULL,
  key        text   NOT NULL,
  answer     jsonb  NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (compound, key)
);
`;

/** Any number: every consumer takes it while creating the tables, so two starting at once do not collide. */
const schemaLock = 0x67707371;
/** A gate retries a batch within hours; an answer kept a month covers a gate that was off the line for weeks. */
const answerRetentionMs = 30 * 24 * 3600 * 1000;

export type Transport = 'mqtt' | 'http';

export interface MasterRow {
  v: typeof contractVersion;
  compound: string;
  kind: MasterKind;
  version: number;
  publishedAt: number;
  data: unknown;
}

/**
 * SQLSTATE classes that say the data itself cannot be stored (22 data exception, 23 integrity, 54
 * limits): trying the same batch again fails the same way, so it is rejected, not retried.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

/** PostgreSQL text cannot hold U+0000: free text from outside (reasons, claimed names) loses it rather than fail the write forever. */
const text = (s: string | null): string | null => (s === null ? null : s.replaceAll('\u0000', '\uFFFD'));

const answerOf = (c: CheckedBatch): UpAnswer => ({
  accepted: c.accepted.map((r) => r.id),
  rejected: c.rejected.map(({ record, reason }) => ({ id: record.id, reason })),
});

export class HqStore {
  private constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** Connect and create the tables when missing (idempotent). */
  static async open(url: string, log: Logger): Promise<HqStore> {
    const pool = new Pool({ connectionString: url, application_name: 'guardpost-hq-consumer', max: 4, connectionTimeoutMillis: 10_000, statement_timeout: 60_000 });
    // An idle connection the server closed (restart, admin) must not crash the process; the next query reconnects.
    pool.on('error', (err) => log.warn({ err: err.message }, 'postgresql connection lost'));
    const store = new HqStore(pool, log);
    try {
      await store.transaction(async (db) => {
        await db.query('SELECT pg_advisory_xact_lock($1)', [schemaLock]);
        await db.query(schema);
        await db.query('DELETE FROM batch_answers WHERE created_at < $1', [Date.now() - answerRetentionMs]);
      });
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Reachable again after a failure (the MQTT side waits for this before taking batches again). */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  private async transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    const db = await this.pool.connect();
    // A connection the server ends mid-transaction also emits 'error': unheard, that would end the process.
    const lost = (err: Error) => this.log.warn({ err: err.message }, 'postgresql connection lost during a transaction');
    db.on('error', lost);
    let failure: Error | undefined;
    try {
      await db.query('BEGIN');
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (err) {
      failure = err as Error;
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.off('error', lost);
      // With an error the pool discards the connection instead of lending it out again.
      db.release(failure);
    }
  }

  /**
   * Store a checked batch in one transaction: upsert every accepted record (a higher seq of the same id
   * replaces it, a lower or equal one changes nothing), record the rejected ones, and remember the
   * answer under `answerKey` (HTTP's Idempotency-Key). Throws when PostgreSQL fails: nothing is stored.
   */
  async storeBatch(c: CheckedBatch, transport: Transport, receivedAt: number, answerKey?: string): Promise<UpAnswer> {
    const { batch } = c;
    const answer = answerOf(c);
    // One statement cannot update a row twice: of several versions of one id in a batch, the last wins.
    const latest = new Map<string, UpRecord>();
    for (const r of c.accepted) if ((latest.get(r.id)?.seq ?? 0) < r.seq) latest.set(r.id, r);
    await this.transaction(async (db) => {
      if (latest.size > 0) {
        await db.query(
          `INSERT INTO gate_records AS g (compound, site, stream, id, seq, at, sent_at, received_at, data)
           SELECT $1, $2, $3, r.id, r.seq, r.at, $4, $5, r.data
           FROM jsonb_to_recordset($6::jsonb) AS r (id text, seq bigint, at bigint, data jsonb)
           ON CONFLICT (compound, site, stream, id) DO UPDATE
             SET seq = excluded.seq, at = excluded.at, sent_at = excluded.sent_at, received_at = excluded.received_at, data = excluded.data
             WHERE excluded.seq > g.seq`,
          [batch.compound, batch.site, batch.stream, batch.sentAt, receivedAt, JSON.stringify([...latest.values()])],
        );
      }
      for (const { record, reason } of c.rejected) {
        await db.query(
          `INSERT INTO rejected_records (key, compound, site, stream, id, seq, reason, record, transport, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (key) DO NOTHING`,
          [`${batch.compound}/${batch.site}/${batch.stream}/${record.id}/${record.seq}`, batch.compound, batch.site, batch.stream, record.id, record.seq, text(reason), JSON.stringify(record), transport, receivedAt],
        );
      }
      if (answerKey !== undefined) {
        await db.query('INSERT INTO batch_answers (compound, key, answer, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
          batch.compound,
          answerKey,
          JSON.stringify(answer),
          receivedAt,
        ]);
      }
    });
    if (c.rejected.length > 0) this.log.warn({ compound: batch.compound, site: batch.site, stream: batch.stream, rejected: c.rejected.length }, 'records rejected');
    return answer;
  }

  /** A batch that could not be read or checked at all: kept as received, once per distinct body. */
  async rejectBatch(origin: { compound: string | null; site: string | null; stream: string | null }, body: Buffer, reason: string, transport: Transport, receivedAt: number): Promise<void> {
    const key = `body:${createHash('sha256').update(body).digest('hex')}`;
    await this.pool.query(
      `INSERT INTO rejected_records (key, compound, site, stream, reason, body, transport, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING`,
      [key, text(origin.compound), text(origin.site), text(origin.stream), text(reason), body, transport, receivedAt],
    );
    this.log.warn({ ...origin, transport, reason }, 'batch rejected');
  }

  /** The answer given to a batch with this Idempotency-Key before, if any. */
  async answerFor(compound: string, key: string): Promise<UpAnswer | null> {
    const { rows } = await this.pool.query<{ answer: UpAnswer }>('SELECT answer FROM batch_answers WHERE compound = $1 AND key = $2', [compound, key]);
    return rows[0]?.answer ?? null;
  }

  /** The newest version of each kind for the compound that is newer than `have` (kind -> version the gate has). */
  async masterNewerThan(compound: string, have: ReadonlyMap<string, number>): Promise<MasterRow[]> {
    const { rows } = await this.pool.query<{ kind: MasterKind; version: number; published_at: string; data: unknown }>(
      `SELECT DISTINCT ON (kind) kind, version, published_at, data FROM master_data WHERE compound = $1 ORDER BY kind, version DESC`,
      [compound],
    );
    return rows
      .filter((r) => r.version > (have.get(r.kind) ?? 0))
      .map((r) => ({ v: contractVersion, compound, kind: r.kind, version: r.version, publishedAt: Number(r.published_at), data: r.data }));
  }

  /**
   * Add the next version of a kind and hand it to `publish` before committing: a version that could
   * not be published is not kept, and two publishers of one kind take turns (advisory lock).
   */
  async addMaster(compound: string, kind: MasterKind, data: unknown, publishedAt: number, publish: (row: MasterRow) => Promise<void>): Promise<MasterRow> {
    return this.transaction(async (db) => {
      await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`master/${compound}/${kind}`]);
      const { rows } = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM master_data WHERE compound = $1 AND kind = $2', [compound, kind]);
      const row: MasterRow = { v: contractVersion, compound, kind, version: (rows[0]?.v ?? 0) + 1, publishedAt, data };
      await db.query('INSERT INTO master_data (compound, kind, version, published_at, data) VALUES ($1, $2, $3, $4, $5)', [
        compound,
        kind,
        row.version,
        publishedAt,
        JSON.stringify(data),
      ]);
      await publish(row);
      return row;
    });
  }
}
