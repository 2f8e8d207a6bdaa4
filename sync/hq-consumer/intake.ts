// What both transports do with a batch: check it, store it in one transaction or reject it, and say what became of each record.
import type { Logger } from '../../gateway/core/log.js';
import type { UpAnswer } from '../contract.js';
import type { BatchCheck, CheckedBatch, ContractChecker } from './check.js';
import { isDataError, type HqStore, type Transport } from './store.js';

/** The batch could not be stored (PostgreSQL unreachable or failing): nothing of it was kept, try again later. */
export class StoreUnavailable extends Error {
  constructor(cause: unknown) {
    super(`PostgreSQL failed: ${(cause as Error).message}`, { cause });
  }
}

export type Outcome =
  /** Stored (every accepted record upserted, every rejected one recorded), with the answer for the gate. */
  | { kind: 'stored'; checked: CheckedBatch; answer: UpAnswer }
  /** Refused whole (not a batch, or not the sender's): recorded in rejected_records. */
  | { kind: 'invalid'; reason: string; answer: UpAnswer; origin: Extract<BatchCheck, { ok: false }>['origin'] };

export class Intake {
  /** Streams without a schema, warned about once each. */
  private readonly unknownStreams = new Set<string>();

  constructor(
    readonly checker: ContractChecker,
    readonly store: HqStore,
    private readonly log: Logger,
  ) {}

  /** Record a batch refused whole. Throws StoreUnavailable when even that cannot be written. */
  async reject(check: Extract<BatchCheck, { ok: false }>, body: Buffer, transport: Transport, receivedAt: number): Promise<Outcome> {
    try {
      await this.store.rejectBatch(check.origin, body, check.reason, transport, receivedAt);
    } catch (err) {
      throw new StoreUnavailable(err);
    }
    return { kind: 'invalid', reason: check.reason, origin: check.origin, answer: { accepted: [], rejected: check.ids.map((id) => ({ id, reason: check.reason })) } };
  }

  /**
   * Store a checked batch. A batch PostgreSQL refuses for its data (it would be refused again on every
   * delivery) becomes a rejection of all its records; any other failure throws StoreUnavailable.
   */
  async keep(checked: CheckedBatch, transport: Transport, receivedAt: number, answerKey?: string): Promise<Outcome> {
    try {
      return { kind: 'stored', checked, answer: await this.store.storeBatch(checked, transport, receivedAt, answerKey) };
    } catch (err) {
      if (!isDataError(err)) throw new StoreUnavailable(err);
      const reason = `HQ could not store it: ${(err as Error).message.slice(0, 300)}`;
      this.log.error({ compound: checked.batch.compound, site: checked.batch.site, stream: checked.batch.stream, err: (err as Error).message }, 'batch refused by postgresql');
      const refused: CheckedBatch = { ...checked, accepted: [], rejected: [...checked.rejected, ...checked.accepted.map((record) => ({ record, reason }))] };
      try {
        return { kind: 'stored', checked: refused, answer: await this.store.storeBatch(refused, transport, receivedAt, answerKey) };
      } catch (again) {
        throw new StoreUnavailable(again);
      }
    }
  }

  /** Check a batch as received; `from`: the parts of the topic it came on, which it must match. */
  check(body: Buffer, from?: { compound: string; site: string; stream: string }): BatchCheck {
    const check = this.checker.checkBatch(body, from);
    if (check.ok && check.checked.unchecked && !this.unknownStreams.has(check.checked.batch.stream)) {
      this.unknownStreams.add(check.checked.batch.stream);
      this.log.warn({ stream: check.checked.batch.stream }, 'no schema for this stream (a newer gate?): its records are stored unchecked');
    }
    return check;
  }

  /** Check, then keep or reject. */
  async take(body: Buffer, transport: Transport, from?: { compound: string; site: string; stream: string }): Promise<Outcome> {
    const receivedAt = Date.now();
    const check = this.check(body, from);
    return check.ok ? this.keep(check.checked, transport, receivedAt) : this.reject(check, body, transport, receivedAt);
  }
}
