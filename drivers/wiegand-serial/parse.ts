// Pure parser for one line from a Wiegand-to-serial converter box: line + settings in, a card read or a typed error out.
import {
  dataRange,
  findFormat,
  findPreset,
  formatByFrameBits,
  type BitRange,
  type LinePreset,
  type LinePresetName,
  type OutputForm,
  type WiegandFormat,
  type WiegandFormatName,
} from './formats.js';

export interface WiegandParseOptions {
  preset: LinePresetName;
  /** The card format; when absent it is inferred where the line shows its bit count. */
  format?: WiegandFormatName;
  output: OutputForm;
}

export interface CardRead {
  /** The card number in the configured output form. */
  value: string;
  /** The Wiegand format the read was split by, when known. */
  format?: WiegandFormatName;
  facility?: number;
  card?: number;
}

export type WiegandErrorCode =
  /** Nothing left after stripping line ends and STX/ETX. */
  | 'empty'
  /** Characters that are not printable ASCII, or a line the preset's pattern does not match. */
  | 'garbage'
  | 'too-long'
  /** The read's bit count (or hex digit count) is not the configured format's. */
  | 'bit-count'
  | 'parity'
  /** A number too large for the bits its field has. */
  | 'out-of-range'
  /** The line does not say which format it is and the config does not either. */
  | 'needs-format';

/**
 * One fixed text per error, for counting and the once-per-reason log: the detailed message varies
 * with every line (offsets, values) and would defeat that log's deduplication.
 */
export const wiegandErrorReasons: Readonly<Record<WiegandErrorCode, string>> = {
  empty: 'empty line',
  garbage: 'not a card read in the configured style',
  'too-long': 'line too long',
  'bit-count': 'bit count does not match the card format',
  parity: 'parity error',
  'out-of-range': 'number too large for the card format',
  'needs-format': 'card format cannot be told from the line; set format',
};

export interface WiegandParseError {
  code: WiegandErrorCode;
  message: string;
}

export type WiegandParseResult = { ok: true; read: CardRead } | { ok: false; error: WiegandParseError };

/** Longest line any preset can produce, with room for a prefix; the framer drops longer ones before us. */
export const maxLineLength = 64;

const STX = 0x02;
const ETX = 0x03;

function fail(code: WiegandErrorCode, message: string): WiegandParseResult {
  return { ok: false, error: { code, message } };
}

/**
 * Settings that can never produce a read, found before the first card: the driver refuses to start
 * with them rather than rejecting every line.
 */
export function checkOptions(opts: WiegandParseOptions): string[] {
  const problems: string[] = [];
  const preset = findPreset(opts.preset);
  if (!preset) problems.push(`unknown preset ${String(opts.preset)}`);
  const format = opts.format === undefined ? undefined : findFormat(opts.format);
  if (opts.format !== undefined && !format) problems.push(`unknown format ${String(opts.format)}`);
  if (format && opts.output === 'facility-card' && !format.facility) problems.push(`format ${format.name} has no facility code, so output cannot be facility-card`);
  if (format && opts.output === 'uid32-decimal' && dataRange(format)[1] > 32) problems.push(`format ${format.name} carries ${dataRange(format)[1]} data bits, more than uid32-decimal can show`);
  if (preset?.value === 'data-decimal' && !format && opts.output !== 'uid32-decimal') {
    problems.push(`the decimal preset does not show the card's format: set format to split out the ${opts.output === 'card' ? 'card number' : 'facility code'}`);
  }
  return problems;
}

/** Parses one line (its line end may still be on it). Never throws; never returns a read it could not verify. */
export function parseWiegandLine(line: Buffer | string, opts: WiegandParseOptions): WiegandParseResult {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
  if (bytes.length > maxLineLength) return fail('too-long', `line of ${bytes.length} bytes, longest accepted is ${maxLineLength}`);
  // Some boxes wrap each read in STX ... ETX, some end lines with CR LF or LF CR; none of that is the read.
  let start = 0;
  let end = bytes.length;
  const isFrame = (b: number | undefined) => b === STX || b === ETX || b === 0x0d || b === 0x0a || b === 0x20 || b === 0x09;
  while (start < end && isFrame(bytes[start])) start++;
  while (end > start && isFrame(bytes[end - 1])) end--;
  if (start === end) return fail('empty', 'empty line');
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 || b > 0x7e) return fail('garbage', `non-printable byte 0x${b.toString(16).padStart(2, '0')} at ${i}`);
  }
  const text = bytes.toString('latin1', start, end);

  const preset = findPreset(opts.preset);
  if (!preset) return fail('garbage', `unknown preset ${String(opts.preset)}`);
  const match = preset.pattern.exec(text);
  if (!match?.groups) return fail('garbage', `line does not look like the ${preset.name} style (e.g. ${preset.example})`);
  const configured = opts.format === undefined ? undefined : findFormat(opts.format);
  if (opts.format !== undefined && !configured) return fail('needs-format', `unknown format ${String(opts.format)}`);

  const groups = match.groups;
  switch (preset.value) {
    case 'frame-bits':
      return fromFrame(groups['value'] ?? '', configured, opts.output);
    case 'facility-card':
      return fromFacilityCard(groups['facility'] ?? '', groups['card'] ?? '', configured ?? (findFormat('h10301') as WiegandFormat), opts.output);
    case 'data-hex':
      return fromHex(groups['value'] ?? '', groups['bits'], configured, opts.output, preset);
    case 'data-decimal':
      return fromDecimal(groups['value'] ?? '', configured, opts.output);
  }
}

function resolveByBits(frameBits: number, configured: WiegandFormat | undefined): WiegandFormat | WiegandParseResult {
  if (configured) {
    if (configured.bits !== frameBits) return fail('bit-count', `${frameBits}-bit read, but format ${configured.name} is ${configured.bits} bits`);
    return configured;
  }
  const inferred = formatByFrameBits[frameBits];
  if (!inferred) return fail('needs-format', `${frameBits}-bit read and no format configured for it`);
  return findFormat(inferred) as WiegandFormat;
}

function isResult(v: WiegandFormat | WiegandParseResult): v is WiegandParseResult {
  return 'ok' in v;
}

function ones(bits: string, [start, length]: BitRange): number {
  let n = 0;
  for (let i = start; i < start + length; i++) if (bits[i] === '1') n++;
  return n;
}

function fromFrame(frame: string, configured: WiegandFormat | undefined, output: OutputForm): WiegandParseResult {
  const format = resolveByBits(frame.length, configured);
  if (isResult(format)) return format;
  for (const rule of format.parity) {
    const count = ones(frame, rule.over) + (frame[rule.bit] === '1' ? 1 : 0);
    const good = rule.kind === 'even' ? count % 2 === 0 : count % 2 === 1;
    if (!good) return fail('parity', `${rule.kind} parity bit ${rule.bit} does not match bits ${rule.over[0]}-${rule.over[0] + rule.over[1] - 1}`);
  }
  const [dStart, dLength] = dataRange(format);
  return finish(frame.slice(dStart, dStart + dLength), format, output);
}

function fromHex(hex: string, printedBits: string | undefined, configured: WiegandFormat | undefined, output: OutputForm, preset: LinePreset): WiegandParseResult {
  let format: WiegandFormat | undefined;
  if (printedBits !== undefined) {
    const resolved = resolveByBits(Number(printedBits), configured);
    if (isResult(resolved)) return resolved;
    format = resolved;
  } else if (configured) {
    format = configured;
  } else {
    // Plain hex shows its width only through its digit count: 6 digits = 24 data bits, 8 = 32.
    const inferred = formatByFrameBits[hex.length * 4 + 2];
    if (!inferred) return fail('needs-format', `${hex.length}-digit hex read in the ${preset.name} style and no format configured`);
    format = findFormat(inferred) as WiegandFormat;
  }
  const dataBits = dataRange(format)[1];
  const digits = Math.ceil(dataBits / 4);
  if (hex.length !== digits) return fail('bit-count', `${hex.length} hex digits, format ${format.name} has ${digits} (${dataBits} data bits)`);
  const value = BigInt(`0x${hex}`);
  if (value >> BigInt(dataBits) !== 0n) return fail('out-of-range', `0x${hex} does not fit the ${dataBits} data bits of format ${format.name}`);
  return finish(value.toString(2).padStart(dataBits, '0'), format, output);
}

function fromDecimal(decimal: string, configured: WiegandFormat | undefined, output: OutputForm): WiegandParseResult {
  const value = BigInt(decimal);
  if (!configured) {
    // Without a format only the whole number can be passed on, and only if it is a 32-bit UID.
    if (output !== 'uid32-decimal') return fail('needs-format', 'a decimal read needs a configured format to split it');
    if (value > 0xffffffffn) return fail('out-of-range', `${decimal} is larger than a 32-bit card number`);
    return { ok: true, read: { value: value.toString().padStart(10, '0') } };
  }
  const dataBits = dataRange(configured)[1];
  if (value >> BigInt(dataBits) !== 0n) return fail('out-of-range', `${decimal} does not fit the ${dataBits} data bits of format ${configured.name}`);
  return finish(value.toString(2).padStart(dataBits, '0'), configured, output);
}

function fromFacilityCard(facilityText: string, cardText: string, format: WiegandFormat, output: OutputForm): WiegandParseResult {
  const facility = Number(facilityText);
  const card = Number(cardText);
  if (!format.facility) return fail('needs-format', `format ${format.name} has no facility code but the line carries one`);
  if (facility >= 2 ** format.facility[1]) return fail('out-of-range', `facility ${facility} does not fit the ${format.facility[1]} bits of format ${format.name}`);
  if (card >= 2 ** format.card[1]) return fail('out-of-range', `card ${card} does not fit the ${format.card[1]} bits of format ${format.name}`);
  // Every format with a facility code sends it first, right before the card number.
  return finish(facility.toString(2).padStart(format.facility[1], '0') + card.toString(2).padStart(format.card[1], '0'), format, output);
}

/** Splits the data bits (the frame between its parity bits) and renders the configured output. */
function finish(data: string, format: WiegandFormat, output: OutputForm): WiegandParseResult {
  const [dStart, dLength] = dataRange(format);
  const field = ([start, length]: BitRange) => parseInt(data.slice(start - dStart, start - dStart + length), 2);
  const card = field(format.card);
  const facility = format.facility ? field(format.facility) : undefined;
  const read = { format: format.name as WiegandFormatName, card, ...(facility !== undefined ? { facility } : {}) };
  switch (output) {
    case 'card':
      return { ok: true, read: { ...read, value: String(card) } };
    case 'facility-card': {
      if (!format.facility || facility === undefined) return fail('needs-format', `format ${format.name} has no facility code`);
      const width = (bits: number) => String(2 ** bits - 1).length;
      return { ok: true, read: { ...read, value: `${String(facility).padStart(width(format.facility[1]), '0')},${String(card).padStart(width(format.card[1]), '0')}` } };
    }
    case 'uid32-decimal':
      if (dLength > 32) return fail('out-of-range', `format ${format.name} carries ${dLength} data bits, more than a 32-bit number`);
      return { ok: true, read: { ...read, value: String(parseInt(data, 2)).padStart(10, '0') } };
  }
}
