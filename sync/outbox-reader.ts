// The sync worker's side of the outbox: unsent rows as per-stream batches in seq order, and the marks HQ's answers leave on them.
import type Database from 'better-sqlite3';
import { contractVersion } from './contract.js';

export interface OutboxBatch {
  readonly stream: string;
  /** Increasing. */
  readonly seqs: number[];
  /** The record id of each seq (a record updated twice has two seqs with one id). */
  readonly ids: string[];
}

export interface BatchEnvelope {
  compound: string;
  site: string;
}

/** The UpBatch JSON up to the first record. */
function batchHead(stream: string, env: BatchEnvelope, sentAt: number): string {
  return `{"v":${contractVersion},"compound":${JSON.stringify(env.compound)},"site":${JSON.stringify(env.site)},"stream":${JSON.stringify(stream)},"sentAt":${sentAt},"records":[`;
}

export interface OutboxCounts {
  /** Unsent, unparked rows. */
  depth: number;
  oldestUnsentAt: number | null;
  parked: number;
}

type Row = [seq: number, recordId: string, stream: string];

/** Longest parked reason kept (the contract's limit on HQ's reasons). */
const reasonMax = 500;

export class OutboxReader {
  private readonly select: Database.Statement<[number, number]>;
  private readonly selectBody: Database.Statement<[string, string]>;
  private readonly setSent: Database.Statement<[number, string]>;
  private readonly setParked: Database.Statement<[number, string, string]>;
  private readonly putState: Database.Statement<[string, string]>;
  private readonly getState: Database.Statement<[string], { value: string }>;
  private readonly countDepth: Database.Statement<[], { n: number }>;
  private readonly selectOldest: Database.Statement<[], { at: number }>;
  private readonly countParked: Database.Statement<[], { n: number }>;
  private readonly deleteSent: Database.Statement<[number, number]>;
  private readonly dataVersion: Database.Statement<[], { data_version: number }>;
  /** The last counts, and what they were taken at: recounting a large backlog nobody touched is wasted work. */
  private cached: { counts: OutboxCounts; version: number } | null = null;
  /** Highest seq handed out since the last rewind. */
  private cursor = 0;
  private ready: OutboxBatch[] = [];
  private readonly chunkRows: number;

  constructor(
    private readonly db: Database.Database,
    private readonly batchSize: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    // Several batches per read so a stream that is a small share of the queue still gets batches of some size.
    this.chunkRows = Math.min(batchSize * 8, 40_000);
    // The conditions match the partial index outbox_unsent, so this walks that index in seq order.
    this.select = db.prepare('SELECT seq, record_id, stream FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL AND seq > ? ORDER BY seq LIMIT ?').raw(true);
    // SQLite splices the stored payloads into the batch as they are, into one UTF-8 buffer: parsing and
    // re-serialising a million payloads, or holding them as JS strings, would cost more than the rest of a drain.
    this.selectBody = db
      .prepare(
        `SELECT CAST(? || group_concat('{"id":' || json_quote(record_id) || ',"seq":' || seq || ',"at":' || created_at || ',"data":' || payload || '}', ',' ORDER BY seq) || ']}' AS BLOB)
         FROM outbox WHERE seq IN (SELECT value FROM json_each(?))`,
      )
      .pluck();
    // "sent_at IS NULL": an answer that comes twice leaves the first mark as it was. "parked_at IS NULL":
    // HQ's verdict on the answer topic may overtake the broker's PUBACK, and a refusal stands.
    this.setSent = db.prepare('UPDATE outbox SET sent_at = ? WHERE seq IN (SELECT value FROM json_each(?)) AND sent_at IS NULL AND parked_at IS NULL');
    this.setParked = db.prepare('UPDATE outbox SET parked_at = ?, parked_reason = ? WHERE seq IN (SELECT value FROM json_each(?)) AND sent_at IS NULL AND parked_at IS NULL');
    this.putState = db.prepare('INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.getState = db.prepare('SELECT value FROM sync_state WHERE key = ?');
    this.countDepth = db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL');
    // By seq, on the partial index: the first unsent row is the oldest one, without a scan for min(created_at).
    this.selectOldest = db.prepare('SELECT created_at AS at FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT 1');
    this.countParked = db.prepare('SELECT count(*) AS n FROM outbox WHERE parked_at IS NOT NULL');
    this.dataVersion = db.prepare('PRAGMA data_version');
    // In small slices so the write lock the gate also needs is held only briefly. Only rows before the
    // oldest unsent one are looked at (a rowid range, not a scan of a million-row backlog: sent_at has no index).
    this.deleteSent = db.prepare(
      `DELETE FROM outbox WHERE seq IN (
         SELECT seq FROM outbox
         WHERE seq < coalesce((SELECT seq FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT 1), 9223372036854775807)
           AND sent_at IS NOT NULL AND sent_at < ?
         ORDER BY seq LIMIT ?)`,
    );
  }

  /** The next batch after the ones already handed out, or null when nothing more is waiting. */
  next(): OutboxBatch | null {
    if (this.ready.length === 0) this.fill();
    return this.ready.shift() ?? null;
  }

  /** Start again from the oldest unsent row: after a failure, whatever was not acknowledged goes again, in order. */
  rewind(): void {
    this.cursor = 0;
    this.ready = [];
  }

  private fill(): void {
    const rows = this.select.all(this.cursor, this.chunkRows) as Row[];
    if (rows.length === 0) return;
    this.cursor = rows[rows.length - 1]![0];
    const open = new Map<string, { stream: string; seqs: number[]; ids: string[] }>();
    for (const [seq, id, stream] of rows) {
      let b = open.get(stream);
      if (!b) {
        b = { stream, seqs: [], ids: [] };
        open.set(stream, b);
      }
      b.seqs.push(seq);
      b.ids.push(id);
      if (b.seqs.length === this.batchSize) {
        this.ready.push(b);
        open.delete(stream);
      }
    }
    // What is left is shorter than a batch; each stream's remainder still follows its full batches.
    this.ready.push(...open.values());
  }

  /** The batch as UpBatch JSON (UTF-8), stamped with the time it leaves. */
  body(batch: OutboxBatch, env: BatchEnvelope, sentAt: number): Buffer {
    return this.selectBody.get(batchHead(batch.stream, env, sentAt), JSON.stringify(batch.seqs)) as Buffer;
  }

  /** HQ has every record of the batch. */
  markSent(batch: OutboxBatch, at: number): void {
    this.cached = null;
    this.db.transaction(() => {
      this.setSent.run(at, JSON.stringify(batch.seqs));
      this.putState.run('last_success', JSON.stringify({ at, stream: batch.stream, lastSeq: batch.seqs[batch.seqs.length - 1] }));
    })();
  }

  /** HQ answered per record: mark the accepted, park the rejected, and say how many got no answer. */
  markAnswered(batch: OutboxBatch, accepted: readonly string[], rejected: readonly { id: string; reason: string }[], at: number): { sent: number; parked: number; unanswered: number } {
    this.cached = null;
    const ok = new Set(accepted);
    // An id HQ lists as both stored and rejected is stored: there is nothing left to fix.
    const bad = new Map(rejected.filter((r) => !ok.has(r.id)).map((r) => [r.id, r.reason]));
    const sent: number[] = [];
    const parked = new Map<string, number[]>();
    let unanswered = 0;
    batch.seqs.forEach((seq, i) => {
      const id = batch.ids[i]!;
      if (ok.has(id)) sent.push(seq);
      else if (bad.has(id)) {
        const reason = bad.get(id)!;
        const seqs = parked.get(reason);
        if (seqs) seqs.push(seq);
        else parked.set(reason, [seq]);
      } else unanswered++;
    });
    let parkedCount = 0;
    this.db.transaction(() => {
      if (sent.length > 0) {
        this.setSent.run(at, JSON.stringify(sent));
        this.putState.run('last_success', JSON.stringify({ at, stream: batch.stream, lastSeq: sent[sent.length - 1] }));
      }
      for (const [reason, seqs] of parked) {
        parkedCount += this.setParked.run(at, clip(`HQ rejected the record: ${reason}`), JSON.stringify(seqs)).changes;
      }
    })();
    return { sent: sent.length, parked: parkedCount, unanswered };
  }

  /** Records HQ's consumer refused after the broker took their batch: from sent back to parked. */
  parkSent(stream: string, fromSeq: number, toSeq: number, rejected: readonly { id: string; reason: string }[], at: number): number {
    this.cached = null;
    const park = this.db.prepare(
      'UPDATE outbox SET sent_at = NULL, parked_at = ?, parked_reason = ? WHERE stream = ? AND seq BETWEEN ? AND ? AND record_id = ? AND parked_at IS NULL',
    );
    let n = 0;
    this.db.transaction(() => {
      for (const r of rejected) n += park.run(at, clip(`HQ rejected the record: ${r.reason}`), stream, fromSeq, toSeq, r.id).changes;
    })();
    return n;
  }

  /** Park every record of the batch: HQ refused it as a whole. */
  park(batch: OutboxBatch, reason: string, at: number): number {
    this.cached = null;
    return this.setParked.run(at, clip(reason), JSON.stringify(batch.seqs)).changes;
  }

  /** Delete rows HQ acknowledged before `before`; returns how many went. */
  prune(before: number, slice = 2000): number {
    this.cached = null;
    let total = 0;
    for (;;) {
      const n = this.deleteSent.run(before, slice).changes;
      total += n;
      if (n < slice) return total;
    }
  }

  /** Counted again only when this reader marked something or another connection (the gateway) committed since the last count. */
  counts(): OutboxCounts {
    const version = this.dataVersion.get()?.data_version ?? -1;
    if (this.cached && this.cached.version === version) return this.cached.counts;
    const counts = {
      depth: this.countDepth.get()?.n ?? 0,
      oldestUnsentAt: this.selectOldest.get()?.at ?? null,
      parked: this.countParked.get()?.n ?? 0,
    };
    this.cached = { counts, version };
    return counts;
  }

  saveState(key: string, value: unknown): void {
    this.putState.run(key, JSON.stringify(value));
  }

  loadState<T>(key: string): T | null {
    const row = this.getState.get(key);
    if (!row) return null;
    try {
      return JSON.parse(row.value) as T;
    } catch {
      return null;
    }
  }
}

/** Keeps a reason within what the store and the contract hold. */
export function clip(text: string, max = reasonMax): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
