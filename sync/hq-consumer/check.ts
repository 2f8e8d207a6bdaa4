// Checks what a gate sent against the published JSON Schema files (sync/contract/): the batch envelope whole, each record's data on its own.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { packageRoot } from '../../gateway/core/paths.js';
import type { MasterKind, UpBatch, UpRecord } from '../contract.js';

export const defaultContractDir = join(packageRoot, 'sync', 'contract');

export interface CheckedBatch {
  batch: UpBatch;
  /** Records to store: their data matched their stream's schema (or the stream has none, see `unchecked`). */
  accepted: UpRecord[];
  rejected: { record: UpRecord; reason: string }[];
  /** The stream has no schema here (a gate newer than this consumer): its records are stored as they came. */
  unchecked: boolean;
}

/** Where a batch claims to come from, as far as it could be read (for the rejected_records row). */
export interface BatchOrigin {
  compound: string | null;
  site: string | null;
  stream: string | null;
}

/** A batch refused whole: `ids` are the record ids that could be read from it, so an answer can name them. */
export type BatchCheck = { ok: true; checked: CheckedBatch } | { ok: false; reason: string; origin: BatchOrigin; ids: string[] };

const controls = /\p{Cc}/u;
const controlsAll = /\p{Cc}/gu;

/** Reasons go back to the gate (UpAnswer.reason) and into HQ's table: paths and rules only, never the values. */
const maxReason = 500;

const alternativeKeywords = ['type', 'const', 'anyOf'];

/**
 * `root` names what was checked, e.g. "data": errors read "data/name must be string". Of a union
 * (Nullable, a set of literals) that failed: the errors of the alternative whose type matched, or, when
 * none did, one line for all: `data/outcome must be "granted" or "denied"`.
 */
function explain(errors: ErrorObject[] | null | undefined, root: string): string {
  const list = errors ?? [];
  const under = (path: string, e: ErrorObject) => e.instancePath === path || e.instancePath.startsWith(`${path}/`);
  /** Union path -> its one-line summary, or null when the specific errors under it say more. */
  const unions = new Map<string, string | null>();
  for (const u of list) {
    if (u.keyword !== 'anyOf' || unions.has(u.instancePath)) continue;
    const specific = list.some((e) => under(u.instancePath, e) && !alternativeKeywords.includes(e.keyword));
    const alternatives = list
      .filter((e) => e.instancePath === u.instancePath && (e.keyword === 'const' || e.keyword === 'type'))
      .map((e) => (e.keyword === 'const' ? JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue) : String((e.params as { type?: unknown }).type)));
    unions.set(u.instancePath, specific ? null : `must be ${alternatives.join(' or ')}`);
  }
  const parts: string[] = [];
  for (const e of list) {
    const p = e.params as Record<string, unknown>;
    let message = e.message ?? 'is invalid';
    if (unions.has(e.instancePath) && alternativeKeywords.includes(e.keyword)) {
      const summary = unions.get(e.instancePath);
      if (e.keyword !== 'anyOf' || !summary) continue;
      message = summary;
    } else if (e.keyword === 'const') message = `must be ${JSON.stringify(p.allowedValue)}`;
    else if (typeof p.additionalProperty === 'string') message += ` (${p.additionalProperty.slice(0, 40)})`;
    const part = `${`${root}${e.instancePath}` || '(root)'} ${message}`;
    if (!parts.includes(part)) parts.push(part);
  }
  // Paths are made of the sender's keys, which may hold anything.
  const text = (parts.slice(0, 5).join('; ') || 'invalid').replace(controlsAll, '?');
  return text.length > maxReason ? `${text.slice(0, maxReason - 3)}...` : text;
}

/** A U+0000 anywhere in parsed JSON, keys included. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || holdsNul(v));
  return false;
}

const readSchema = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** The published schemas, compiled once. */
export class ContractChecker {
  private readonly batch: ValidateFunction<UpBatch>;
  private readonly records = new Map<string, ValidateFunction>();
  private readonly master = new Map<string, ValidateFunction>();

  constructor(dir = defaultContractDir) {
    // The files carry $schema and $id; strict mode would refuse nothing TypeBox writes, and catches typos in them.
    const ajv = new Ajv({ allErrors: true, strict: true });
    this.batch = ajv.compile<UpBatch>(readSchema(join(dir, 'up-batch.schema.json')));
    for (const [folder, into] of [['records', this.records], ['master', this.master]] as const) {
      for (const name of readdirSync(join(dir, folder))) {
        if (name.endsWith('.schema.json')) into.set(name.slice(0, -'.schema.json'.length), ajv.compile(readSchema(join(dir, folder, name))));
      }
    }
  }

  /**
   * A batch as received (MQTT payload or decompressed HTTP body). `from`: the topic's parts, which the
   * batch must match (a gate publishes only its own records on its own topics). Never throws on bad input.
   */
  checkBatch(body: Buffer, from?: { compound: string; site: string; stream: string }): BatchCheck {
    const origin: BatchOrigin = { compound: from?.compound ?? null, site: from?.site ?? null, stream: from?.stream ?? null };
    const ids: string[] = [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      // Not JSON.parse's message: it quotes the body, which may hold anything (personal numbers, NULs).
      return { ok: false, reason: 'not JSON', origin, ids };
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      // Whatever it claims, for HQ's table; only the checked envelope below is trusted.
      const claim = parsed as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === 'string' && v.length <= 64 && !controls.test(v) ? v : null);
      origin.compound ??= text(claim.compound);
      origin.site ??= text(claim.site);
      origin.stream ??= text(claim.stream);
      if (Array.isArray(claim.records)) {
        for (const r of claim.records.slice(0, 5000) as unknown[]) {
          const id = (r as { id?: unknown } | null)?.id;
          if (typeof id === 'string' && id.length <= 200 && !controls.test(id)) ids.push(id);
        }
      }
    }
    if (!this.batch(parsed)) return { ok: false, reason: `not a batch: ${explain(this.batch.errors, '')}`, origin, ids };
    const batch = parsed;
    if (from && (batch.compound !== from.compound || batch.site !== from.site || batch.stream !== from.stream)) {
      return { ok: false, reason: `the batch is for ${batch.compound}/${batch.site}/${batch.stream} but came on the topic of ${from.compound}/${from.site}/${from.stream}`, origin, ids };
    }
    for (let i = 1; i < batch.records.length; i++) {
      if (batch.records[i]!.seq <= batch.records[i - 1]!.seq) return { ok: false, reason: `records are not in outbox order: seq ${batch.records[i]!.seq} follows ${batch.records[i - 1]!.seq}`, origin, ids };
    }
    const validate = this.records.get(batch.stream);
    const checked: CheckedBatch = { batch, accepted: [], rejected: [], unchecked: validate === undefined };
    for (const record of batch.records) {
      if (validate && !validate(record.data)) checked.rejected.push({ record, reason: explain(validate.errors, 'data') });
      // PostgreSQL's jsonb cannot hold U+0000; storing it would fail the whole batch again on every delivery.
      else if (holdsNul(record.data)) checked.rejected.push({ record, reason: 'data holds a NUL character (\\u0000), which HQ cannot store' });
      else checked.accepted.push(record);
    }
    return { ok: true, checked };
  }

  /** Problems with a master-data `data` for its kind, or null when it is valid. */
  checkMasterData(kind: MasterKind, data: unknown): string | null {
    const validate = this.master.get(kind);
    if (!validate) return `no schema for master data kind ${kind}`;
    return validate(data) ? null : explain(validate.errors, 'data');
  }
}
