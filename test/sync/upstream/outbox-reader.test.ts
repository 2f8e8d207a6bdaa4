// The outbox reader on a real SQLite file beside the gateway's connection: batches per stream in seq order, marks, parking, pruning.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../../gateway/core/ids.js';
import { openStore, type Store } from '../../../gateway/store/db.js';
import { Backoff } from '../../../sync/backoff.js';
import { OutboxReader, type OutboxBatch } from '../../../sync/outbox-reader.js';
import { parseUpBatch } from '../../../sync/upstream.js';

let dir: string;
let gate: Store;
let worker: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gp-outbox-'));
  gate = openStore({ dataDir: dir, now: () => 1000 });
  worker = openStore({ dataDir: dir, now: () => 1000 });
});

afterEach(() => {
  worker.db.close();
  gate.close();
  rmSync(dir, { recursive: true, force: true });
});

function queue(stream: string, n: number, at = 1000): string[] {
  const ids = Array.from({ length: n }, () => newId());
  gate.transaction(() => ids.forEach((id, i) => gate.outbox.add(stream, id, { id, n: i, name: '王海 "quoted" \\ \u2028' }, at)));
  return ids;
}

function drain(reader: OutboxReader): OutboxBatch[] {
  const out: OutboxBatch[] = [];
  for (let b = reader.next(); b; b = reader.next()) out.push(b);
  return out;
}

const row = (seq: number) => gate.db.prepare('SELECT sent_at, parked_at, parked_reason FROM outbox WHERE seq = ?').get(seq) as { sent_at: number | null; parked_at: number | null; parked_reason: string | null };

describe('OutboxReader', () => {
  it('hands out every unsent row once, in per-stream batches no larger than the batch size, seq increasing', () => {
    queue('decisions', 10);
    queue('audit', 3);
    queue('decisions', 4);
    const batches = drain(new OutboxReader(worker.db, 4));
    expect(batches.every((b) => b.seqs.length <= 4 && b.seqs.length > 0)).toBe(true);
    const seqs = batches.flatMap((b) => b.seqs);
    expect(seqs.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    for (const stream of ['decisions', 'audit']) {
      const mine = batches.filter((b) => b.stream === stream).flatMap((b) => b.seqs);
      expect(mine).toEqual(mine.slice().sort((a, b) => a - b));
    }
    expect(batches.filter((b) => b.stream === 'audit').flatMap((b) => b.seqs)).toEqual([11, 12, 13]);
  });

  it('splices the stored JSON into a batch that follows the contract, payloads unchanged', () => {
    const ids = queue('visits', 3, 1234);
    const reader = new OutboxReader(worker.db, 10);
    const [batch] = drain(reader);
    const body = parseUpBatch(reader.body(batch!, { compound: 'c1', site: 'north' }, 99).toString('utf8'));
    expect(body).toMatchObject({ v: 1, compound: 'c1', site: 'north', stream: 'visits', sentAt: 99 });
    expect(body.records.map((r) => [r.id, r.seq, r.at])).toEqual(ids.map((id, i) => [id, i + 1, 1234]));
    expect(body.records[2]!.data).toEqual({ id: ids[2], n: 2, name: '王海 "quoted" \\ \u2028' });
  });

  it('reads the unsent rows through the partial index', () => {
    const plan = worker.db.prepare("EXPLAIN QUERY PLAN SELECT seq, record_id, stream, payload, created_at FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL AND seq > 0 ORDER BY seq LIMIT 10").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('outbox_unsent');
  });

  it('marks a batch sent once: a second answer for it changes nothing, and sent rows are not read again', () => {
    queue('decisions', 5);
    const reader = new OutboxReader(worker.db, 5);
    const [batch] = drain(reader);
    reader.markSent(batch!, 2000);
    reader.markSent(batch!, 3000);
    expect(row(1).sent_at).toBe(2000);
    expect(gate.outbox.depth()).toBe(0);
    reader.rewind();
    expect(reader.next()).toBeNull();
    expect(reader.loadState<{ at: number }>('last_success')?.at).toBe(3000);
  });

  it('after a rewind starts again from the oldest unsent row', () => {
    queue('decisions', 6);
    const reader = new OutboxReader(worker.db, 2);
    const [first, second] = [reader.next()!, reader.next()!];
    reader.markSent(first, 2000);
    expect(second.seqs).toEqual([3, 4]);
    reader.rewind();
    expect(reader.next()!.seqs).toEqual([3, 4]);
  });

  it('per-record answers: accepted marked, rejected parked with the reason, unanswered left to go again', () => {
    const ids = queue('passes', 4);
    const reader = new OutboxReader(worker.db, 10);
    const batch = reader.next()!;
    const r = reader.markAnswered(batch, [ids[0]!, ids[0]!, 'not-in-this-batch'], [{ id: ids[1]!, reason: 'data/plate must be string' }, { id: ids[0]!, reason: 'listed twice' }], 5000);
    expect(r).toEqual({ sent: 1, parked: 1, unanswered: 2 });
    expect(row(1)).toEqual({ sent_at: 5000, parked_at: null, parked_reason: null });
    expect(row(2)).toEqual({ sent_at: null, parked_at: 5000, parked_reason: 'HQ rejected the record: data/plate must be string' });
    expect(row(3).sent_at).toBeNull();
    expect(reader.counts()).toEqual({ depth: 2, oldestUnsentAt: 1000, parked: 1 });
    reader.rewind();
    expect(reader.next()!.seqs).toEqual([3, 4]);
  });

  it('parks a refused batch whole, with a reason cut to 500 characters', () => {
    queue('alarms', 3);
    const reader = new OutboxReader(worker.db, 10);
    expect(reader.park(reader.next()!, `HQ refused the batch: 413 ${'x'.repeat(900)}`, 7000)).toBe(3);
    expect(row(3).parked_reason).toHaveLength(500);
    expect(gate.outbox.depth()).toBe(0);
  });

  it('prunes only rows HQ acknowledged before the cut-off', () => {
    queue('audit', 30);
    const reader = new OutboxReader(worker.db, 10);
    const [a, b] = [reader.next()!, reader.next()!];
    reader.markSent(a, 1000);
    reader.markSent(b, 9000);
    expect(reader.prune(5000, 3)).toBe(10);
    expect((gate.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n).toBe(20);
  });

  it("counts again after the gateway's connection commits, and after its own marks", () => {
    const reader = new OutboxReader(worker.db, 10);
    expect(reader.counts()).toEqual({ depth: 0, oldestUnsentAt: null, parked: 0 });
    queue('audit', 3, 4000);
    expect(reader.counts()).toEqual({ depth: 3, oldestUnsentAt: 4000, parked: 0 });
    reader.park(reader.next()!, 'bad', 5000);
    expect(reader.counts()).toEqual({ depth: 0, oldestUnsentAt: null, parked: 3 });
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => new OutboxReader(worker.db, 0)).toThrow(/positive integer/);
  });
});

describe('Backoff', () => {
  it('grows from 1 s by doubling up to the cap, with full jitter, and starts small again after a success', () => {
    const top = new Backoff(1000, 60_000, () => 0.999999);
    expect(Array.from({ length: 9 }, () => top.next())).toEqual([999, 1999, 3999, 7999, 15_999, 31_999, 59_999, 59_999, 59_999]);
    top.reset();
    expect(top.next()).toBe(999);
    const bottom = new Backoff(1000, 60_000, () => 0);
    expect(bottom.next()).toBe(0);
    expect(new Backoff(1000, 300_000).atCap()).toBe(300_000);
  });

  it('stays within the cap after days of failures', () => {
    const b = new Backoff(1000, 300_000);
    const waits = Array.from({ length: 5000 }, () => b.next());
    expect(Math.max(...waits)).toBeLessThan(300_000);
    expect(waits.every((w) => Number.isInteger(w) && w >= 0)).toBe(true);
  });

  it('refuses a cap below the base', () => {
    expect(() => new Backoff(1000, 10)).toThrow(/base/);
  });
});
