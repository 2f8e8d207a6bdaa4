// What a transport to HQ is to the sync pump: connect, send one batch, say how HQ answered; and the checks on what HQ sends back.
import { Ajv, type ValidateFunction } from 'ajv';
import { MasterData, UpAnswer, UpBatch } from './contract.js';
import type { OutboxBatch } from './outbox-reader.js';

/** How HQ answered one batch. Nothing but `acked` and `answered` marks a record sent. */
export type Outcome =
  /** Every record of the batch is stored at HQ (or HQ already had it). */
  | { type: 'acked' }
  /** HQ answered per record; ids in neither list are not acknowledged and go again. */
  | { type: 'answered'; accepted: string[]; rejected: { id: string; reason: string }[] }
  /** HQ refuses the whole batch as invalid: resending cannot help, so its records are parked. */
  | { type: 'refused'; reason: string }
  /** Nothing is known to have arrived: try again after a wait (at the cap when `auth`). */
  | { type: 'failed'; auth: boolean; reason: string };

/** What a transport hands over from HQ; the pump applies it to the store. */
export interface Inbound {
  master(m: MasterData): void;
  peer(batch: UpBatch): void;
  /**
   * HQ's consumer refused records of a batch the broker had already acknowledged (MQTT 5 answer
   * topic): they come back from "sent" to parked, with HQ's reason.
   */
  refused(stream: string, fromSeq: number, toSeq: number, rejected: readonly { id: string; reason: string }[]): void;
  /** The master-data version in force per kind. */
  versions(): Record<string, number>;
}

export interface Upstream {
  /** Batches that may wait for HQ's answer at once. Above 1 only where answers come back in send order. */
  readonly window: number;
  /** e.g. "mqtt 5", "mqtt 3.1.1", "https": shown in the status. */
  readonly protocol: string;
  /** Resolves once HQ can be sent to; throws an UpstreamError otherwise. */
  connect(): Promise<void>;
  /** False once the connection is known to be gone (a stateless transport is always up). */
  isUp(): boolean;
  send(batch: OutboxBatch, body: Buffer): Promise<Outcome>;
  /** Drops the connection; sends still waiting resolve as failed (not marked, so sent again later). */
  close(): Promise<void>;
}

/** A connect that failed: `auth` when retrying soon cannot help (credentials, certificate). */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly auth: boolean,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

const ajv = new Ajv({ allErrors: false, strict: false });
const checkMaster = ajv.compile<MasterData>(MasterData);
const checkBatch = ajv.compile<UpBatch>(UpBatch);
const checkAnswer = ajv.compile<UpAnswer>(UpAnswer);

function parseWith<T>(check: ValidateFunction<T>, text: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON`);
  }
  return checkWith(check, value, what);
}

function checkWith<T>(check: ValidateFunction<T>, value: unknown, what: string): T {
  if (!check(value)) {
    const e = check.errors?.[0];
    throw new Error(`${what} does not follow the contract: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`);
  }
  return value;
}

/** The envelope only: what is inside `data` is for the store's apply functions to judge. */
export const parseMasterData = (text: string): MasterData => parseWith(checkMaster, text, 'master data');
export const asMasterData = (value: unknown): MasterData => checkWith(checkMaster, value, 'master data');
export const parseUpBatch = (text: string): UpBatch => parseWith(checkBatch, text, 'batch');
export const parseUpAnswer = (text: string): UpAnswer => parseWith(checkAnswer, text, "HQ's answer");

/** A TLS failure to trust HQ (unknown CA, wrong name): retrying soon cannot fix it, like refused credentials. */
export function isTrustError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(`${typeof code === 'string' ? code : ''} ${(err as Error | null)?.message ?? ''}`);
}
