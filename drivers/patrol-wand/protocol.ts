// The guardpost wand protocol, pure: checksums, the host's command lines, and wand lines parsed into messages or typed errors.
import { parseWandTime } from './time.js';

/**
 * Longest line, `$` to the checksum's last digit, CR LF excluded. NMEA 0183's 82 bytes with the
 * line end, so the wand side can use the same fixed buffer; the longest real line ($INFO with every
 * field at its widest) is 79.
 */
export const maxLineLength = 80;

/** Highest sequence number a wand may use: an unsigned 32-bit counter. */
export const maxSeq = 4_294_967_295;

/** Most records one $READ may ask for. */
export const maxReadCount = 65_535;

/** Field alphabets; see the README's message table. */
export const wandIdPattern = /^[0-9A-Za-z_-]{1,16}$/;
export const firmwarePattern = /^[0-9A-Za-z._+-]{1,16}$/;
export const tagPattern = /^[0-9A-Z_-]{1,32}$/;
export const errCodePattern = /^[A-Z]{1,8}$/;

/** Error codes a wand answers with ($ERR,<code>). */
export const wandErrCodes = {
  CHK: 'the command line had a bad checksum',
  CMD: 'unknown command',
  ARG: 'a missing or bad argument',
  BUSY: 'the wand cannot answer now (writing its memory, battery low); ask again later',
  MEM: 'the wand could not read its record memory',
} as const;

export type WandErrCode = keyof typeof wandErrCodes;

export interface WandInfo {
  kind: 'info';
  wandId: string;
  firmware: string;
  /** The wand's clock, YYYYMMDDhhmmss as sent. */
  clock: string;
  /** Oldest record the wand holds, or last + 1 when it holds none. */
  first: number;
  /** Newest record the wand ever made, 0 if none; sequence numbers are never reused. */
  last: number;
}

export interface WandRecord {
  kind: 'rec';
  seq: number;
  tag: string;
  /** The wand's clock when the tag was touched, YYYYMMDDhhmmss as sent; checked to be a real date. */
  wandTime: string;
}

export type WandMessage =
  | WandInfo
  | WandRecord
  | { kind: 'end'; count: number }
  | { kind: 'ok' }
  /** `known` is false for a code this version does not list; it is still an error answer. */
  | { kind: 'err'; code: string; known: boolean };

export type WandErrorCode =
  /** Nothing but a line end. */
  | 'empty'
  /** Longer than maxLineLength. */
  | 'too-long'
  /** A byte that is not printable ASCII, no `$` at all, or a checksum that is not two hex digits. */
  | 'garbage'
  /** Starts with `$` but the `*HH` checksum is missing or cut short: the line's tail was lost. */
  | 'truncated'
  | 'checksum'
  /** Checksum good, but the first field is no message this protocol knows. */
  | 'unknown-message'
  /** Checksum good, but a field is missing, extra, or not in its alphabet or range. */
  | 'bad-field'
  /** Checksum good, but a time field is not a real date and time (month 13, Feb 30, 24:00). */
  | 'bad-time'
  /** A record whose seq skips ahead of the one expected next: records in between were lost. */
  | 'seq-gap'
  /** A record whose seq is at or below one already received in the same answer. */
  | 'seq-order';

/**
 * One fixed text per error, for counting and the once-per-reason log: the detailed message varies
 * with every line and would defeat that log's deduplication.
 */
export const wandErrorReasons: Readonly<Record<WandErrorCode, string>> = {
  empty: 'empty line',
  'too-long': 'line too long',
  garbage: 'not a wand line',
  truncated: 'line cut short',
  checksum: 'bad checksum',
  'unknown-message': 'unknown message',
  'bad-field': 'malformed field',
  'bad-time': 'impossible time',
  'seq-gap': 'records missing in the sequence',
  'seq-order': 'sequence number out of order',
};

export interface WandParseError {
  code: WandErrorCode;
  message: string;
  /**
   * The line's fields when its checksum was good: what the wand really sent, so the caller can tell
   * a record with bad content (the wand's data, resending will not help) from a line damaged on the wire.
   */
  fields?: string[];
  /** The record's sequence number, when the line is a checksum-good REC whose seq parsed. */
  seq?: number;
}

export type WandParseResult = { ok: true; message: WandMessage } | { ok: false; error: WandParseError };

/** XOR of the body's bytes (between `$` and `*`), as two upper-case hex digits, as in NMEA 0183. */
export function checksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** A complete line on the wire: `$BODY*HH` CR LF. */
export function frameLine(body: string): string {
  return `$${body}*${checksum(body)}\r\n`;
}

const isSeq = (n: number) => Number.isInteger(n) && n >= 0 && n <= maxSeq;

function checkSeqArg(name: string, n: number, min: number): void {
  if (!isSeq(n) || n < min) throw new RangeError(`${name} must be an integer ${min}-${maxSeq}, got ${n}`);
}

/**
 * The host's commands as wire lines. These throw RangeError on arguments the host itself got wrong
 * (a programming error, never something a wand sent); the parser below never throws.
 */
export const hostCommands = {
  info: (): string => frameLine('INFO'),
  /** Records with seq >= from, oldest first; at most `max` of them when given. */
  read(from: number, max?: number): string {
    checkSeqArg('from', from, 1);
    if (max === undefined) return frameLine(`READ,${from}`);
    if (!Number.isInteger(max) || max < 1 || max > maxReadCount) throw new RangeError(`max must be an integer 1-${maxReadCount}, got ${max}`);
    return frameLine(`READ,${from},${max}`);
  },
  /** Sets the wand's clock to this local reading. */
  time(wandTime: string): string {
    const t = parseWandTime(wandTime);
    if (!t.ok) throw new RangeError(`not a wand time: ${t.why}`);
    return frameLine(`TIME,${wandTime}`);
  },
  /** Lets the wand forget every record with seq <= upTo. */
  clear(upTo: number): string {
    checkSeqArg('upTo', upTo, 1);
    return frameLine(`CLEAR,${upTo}`);
  },
};

function fail(code: WandErrorCode, message: string, extra: { fields?: string[]; seq?: number } = {}): WandParseResult {
  return { ok: false, error: { code, message, ...extra } };
}

/** A decimal sequence number: no sign, no leading zeros, at most maxSeq; null otherwise. */
function seqOf(text: string | undefined): number | null {
  if (text === undefined || !/^(0|[1-9]\d{0,9})$/.test(text)) return null;
  const n = Number(text);
  return n <= maxSeq ? n : null;
}

const expectedFields: Readonly<Record<string, number>> = { INFO: 6, REC: 4, END: 2, OK: 1, ERR: 2 };

/**
 * Parses one line from a wand (its CR LF may still be on it). Never throws. Bytes before the last
 * `$`, printable or not, are ignored: a receiver resynchronises on `$` like an NMEA one (contacts
 * bounce as a wand goes in; a line whose tail was lost runs into the next), and the checksum guards
 * the rest.
 */
export function parseWandLine(line: Buffer | string): WandParseResult {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  if (end === 0) return fail('empty', 'empty line');
  const dollar = bytes.subarray(0, end).lastIndexOf(0x24);
  if (dollar < 0) return fail('garbage', 'no $ starts the line');
  for (let i = dollar; i < end; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 || b > 0x7e) return fail('garbage', `non-printable byte 0x${b.toString(16).padStart(2, '0')} at ${i}`);
  }
  const text = bytes.toString('latin1', dollar, end);
  if (text.length > maxLineLength) return fail('too-long', `line of ${text.length} characters, longest is ${maxLineLength}`);
  const star = text.indexOf('*');
  if (star < 0) return fail('truncated', 'no *HH checksum: the line was cut short');
  const sum = text.slice(star + 1);
  if (/^[0-9A-Fa-f]?$/.test(sum)) return fail('truncated', `checksum "${sum}" cut short`);
  if (!/^[0-9A-Fa-f]{2}$/.test(sum)) return fail('garbage', `"${sum}" after * is not a two-digit hex checksum`);
  const body = text.slice(1, star);
  const want = checksum(body);
  if (want !== sum.toUpperCase()) return fail('checksum', `checksum ${sum}, the body gives ${want}`);

  const fields = body.split(',');
  const name = fields[0] ?? '';
  const count = expectedFields[name];
  if (count === undefined) return fail('unknown-message', `unknown message "${name.slice(0, 16)}"`, { fields });
  const seqField = name === 'REC' ? seqOf(fields[1]) : null;
  const bad = (message: string) => fail('bad-field', `${name}: ${message}`, { fields, ...(seqField !== null ? { seq: seqField } : {}) });
  if (fields.length !== count) return bad(`${fields.length - 1} fields, expected ${count - 1}`);

  switch (name) {
    case 'INFO': {
      const [, wandId = '', firmware = '', clock = '', firstText, lastText] = fields;
      if (!wandIdPattern.test(wandId)) return bad(`wand id "${wandId}" is not 1-16 of 0-9 A-Z a-z _ -`);
      if (!firmwarePattern.test(firmware)) return bad(`firmware "${firmware}" is not 1-16 of 0-9 A-Z a-z . _ + -`);
      const first = seqOf(firstText);
      const last = seqOf(lastText);
      if (first === null || first < 1) return bad(`first seq "${firstText}" is not 1-${maxSeq}`);
      if (last === null) return bad(`last seq "${lastText}" is not 0-${maxSeq}`);
      if (last < first - 1) return bad(`first seq ${first} is beyond last seq ${last} + 1`);
      const t = parseWandTime(clock);
      if (!t.ok) return fail('bad-time', `INFO clock: ${t.why}`, { fields });
      return { ok: true, message: { kind: 'info', wandId, firmware, clock, first, last } };
    }
    case 'REC': {
      const [, seqText, tag = '', wandTime = ''] = fields;
      if (seqField === null || seqField < 1) return bad(`seq "${seqText}" is not 1-${maxSeq}`);
      if (!tagPattern.test(tag)) return bad(`tag "${tag}" is not 1-32 of 0-9 A-Z _ -`);
      const t = parseWandTime(wandTime);
      if (!t.ok) return fail('bad-time', `REC ${seqField}: ${t.why}`, { fields, seq: seqField });
      return { ok: true, message: { kind: 'rec', seq: seqField, tag, wandTime } };
    }
    case 'END': {
      const n = seqOf(fields[1]);
      if (n === null || n > maxReadCount) return bad(`count "${fields[1]}" is not 0-${maxReadCount}`);
      return { ok: true, message: { kind: 'end', count: n } };
    }
    case 'OK':
      return { ok: true, message: { kind: 'ok' } };
    default: {
      const code = fields[1] ?? '';
      if (!errCodePattern.test(code)) return bad(`error code "${code}" is not 1-8 of A-Z`);
      return { ok: true, message: { kind: 'err', code, known: code in wandErrCodes } };
    }
  }
}

/**
 * Records of one $READ answer come with consecutive sequence numbers (the wand holds a contiguous
 * run and sends it oldest first). Given the seq expected next, says what a received seq means.
 */
export function checkSequence(expected: number, seq: number): WandParseError | null {
  if (seq === expected) return null;
  if (seq > expected) return { code: 'seq-gap', message: `record ${seq} where ${expected} was expected: ${seq - expected} missing`, seq };
  return { code: 'seq-order', message: `record ${seq} after ${expected - 1}: sequence went backwards or repeated`, seq };
}
