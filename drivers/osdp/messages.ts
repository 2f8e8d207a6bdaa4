// OSDP commands and replies (SIA OSDP 2.2, sections 6 and 7): pure encoders for commands, never-throwing decoders for replies.

/** Command codes (spec 6, table "Command codes"). */
export const Cmd = {
  POLL: 0x60,
  ID: 0x61,
  CAP: 0x62,
  LSTAT: 0x64,
  ISTAT: 0x65,
  OSTAT: 0x66,
  RSTAT: 0x67,
  OUT: 0x68,
  LED: 0x69,
  BUZ: 0x6a,
  TEXT: 0x6b,
  COMSET: 0x6e,
  KEYSET: 0x75,
  CHLNG: 0x76,
  SCRYPT: 0x77,
} as const;

/** Reply codes (spec 7, table "Reply codes"). */
export const Reply = {
  ACK: 0x40,
  NAK: 0x41,
  PDID: 0x45,
  PDCAP: 0x46,
  LSTATR: 0x48,
  ISTATR: 0x49,
  OSTATR: 0x4a,
  RSTATR: 0x4b,
  RAW: 0x50,
  FMT: 0x51,
  KEYPAD: 0x53,
  COM: 0x54,
  CCRYPT: 0x76,
  RMAC_I: 0x78,
  BUSY: 0x79,
} as const;

const commandNames = new Map<number, string>(Object.entries(Cmd).map(([k, v]) => [v, `osdp_${k}`]));
const replyNames = new Map<number, string>(Object.entries(Reply).map(([k, v]) => [v, `osdp_${k}`]));

export const commandName = (code: number): string => commandNames.get(code) ?? `command 0x${code.toString(16).padStart(2, '0')}`;
export const replyName = (code: number): string => replyNames.get(code) ?? `reply 0x${code.toString(16).padStart(2, '0')}`;

/** A command ready for the packet layer: its code and its plain data. */
export interface Command {
  code: number;
  data: Buffer;
}

const command = (code: number, data: number[] | Uint8Array = []): Command => ({ code, data: Buffer.from(data) });
const byte = (name: string, v: number): number => {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${name} must be 0-255, got ${v}`);
  return v;
};
const word = (name: string, v: number): [number, number] => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} must be 0-65535, got ${v}`);
  return [v & 0xff, v >> 8];
};

export const encodePoll = (): Command => command(Cmd.POLL);
/** osdp_ID (spec, osdp_ID): one byte, 0x00 = "send the standard PD ID block". */
export const encodeId = (): Command => command(Cmd.ID, [0x00]);
/** osdp_CAP (spec, osdp_CAP): one byte, 0x00 = "send the capabilities list". */
export const encodeCap = (): Command => command(Cmd.CAP, [0x00]);
export const encodeLstat = (): Command => command(Cmd.LSTAT);
export const encodeIstat = (): Command => command(Cmd.ISTAT);

export interface OutputRecord {
  output: number;
  /** 0 NOP, 1 off, 2 on, 3 off after timer, 4 on after timer, 5 temporary on, 6 temporary off (spec, osdp_OUT). */
  control: number;
  /** In units of 100 ms. */
  timer: number;
}

/** osdp_OUT (spec, osdp_OUT): 4-byte records. */
export function encodeOut(records: readonly OutputRecord[]): Command {
  return command(
    Cmd.OUT,
    records.flatMap((r) => [byte('output', r.output), byte('control', r.control), ...word('timer', r.timer)]),
  );
}

/** LED colours (spec, osdp_LED). */
export const LedColor = { black: 0, red: 1, green: 2, amber: 3, blue: 4, magenta: 5, cyan: 6, white: 7 } as const;
export type LedColorName = keyof typeof LedColor;

export interface LedTiming {
  /** Temporary: 0 NOP, 1 cancel, 2 set and start the timer. Permanent: 0 NOP, 1 set. */
  control: number;
  /** On and off times of one flash, in 100 ms units. */
  onTime: number;
  offTime: number;
  onColor: number;
  offColor: number;
}

export interface LedRecord {
  reader?: number;
  led?: number;
  temporary?: LedTiming & { /** Total time of the temporary state, in 100 ms units. */ timer: number };
  permanent?: LedTiming;
}

/** osdp_LED (spec, osdp_LED): 14-byte records; an absent part is sent as NOP. */
export function encodeLed(records: readonly LedRecord[]): Command {
  const nop = { control: 0, onTime: 0, offTime: 0, onColor: 0, offColor: 0 };
  return command(
    Cmd.LED,
    records.flatMap((r) => {
      const t = r.temporary ?? { ...nop, timer: 0 };
      const p = r.permanent ?? nop;
      return [
        byte('reader', r.reader ?? 0),
        byte('led', r.led ?? 0),
        byte('temporary control', t.control),
        byte('temporary on time', t.onTime),
        byte('temporary off time', t.offTime),
        byte('temporary on colour', t.onColor),
        byte('temporary off colour', t.offColor),
        ...word('temporary timer', t.timer),
        byte('permanent control', p.control),
        byte('permanent on time', p.onTime),
        byte('permanent off time', p.offTime),
        byte('permanent on colour', p.onColor),
        byte('permanent off colour', p.offColor),
      ];
    }),
  );
}

export interface BuzzerRecord {
  reader?: number;
  /** 1 off, 2 default tone (spec, osdp_BUZ). */
  tone: number;
  /** In 100 ms units. */
  onTime: number;
  offTime: number;
  /** Number of on/off cycles; 0 = until told otherwise. */
  count: number;
}

/** osdp_BUZ (spec, osdp_BUZ): one 5-byte record. */
export function encodeBuz(r: BuzzerRecord): Command {
  return command(Cmd.BUZ, [byte('reader', r.reader ?? 0), byte('tone', r.tone), byte('on time', r.onTime), byte('off time', r.offTime), byte('count', r.count)]);
}

/** osdp_COMSET (spec, osdp_COMSET): the new address and the new baud rate (32-bit little-endian). */
export function encodeComset(address: number, baud: number): Command {
  if (!Number.isInteger(baud) || baud <= 0 || baud > 0xffffffff) throw new RangeError(`baud must be a positive integer, got ${baud}`);
  const data = Buffer.alloc(5);
  data[0] = byte('address', address);
  data.writeUInt32LE(baud, 1);
  return command(Cmd.COMSET, data);
}

/** osdp_KEYSET (spec, osdp_KEYSET): key type 1 (SCBK), length 16, the key. Only ever sent inside a secure channel. */
export function encodeKeyset(key: Uint8Array): Command {
  if (key.length !== 16) throw new RangeError(`an SCBK is 16 bytes, got ${key.length}`);
  return command(Cmd.KEYSET, [0x01, 16, ...key]);
}

/** osdp_CHLNG (spec osdp_CHLNG, Annex D): the ACU's 8-byte random RND.A. */
export function encodeChlng(rndA: Uint8Array): Command {
  if (rndA.length !== 8) throw new RangeError(`RND.A is 8 bytes, got ${rndA.length}`);
  return command(Cmd.CHLNG, rndA);
}

/** osdp_SCRYPT (spec osdp_SCRYPT, Annex D): the ACU's (server) cryptogram. */
export function encodeScrypt(serverCryptogram: Uint8Array): Command {
  if (serverCryptogram.length !== 16) throw new RangeError(`a cryptogram is 16 bytes, got ${serverCryptogram.length}`);
  return command(Cmd.SCRYPT, serverCryptogram);
}

/** NAK error codes (spec, osdp_NAK). */
export const NakCode = {
  checkCharacter: 0x01,
  commandLength: 0x02,
  unknownCommand: 0x03,
  sequence: 0x04,
  securityBlockUnsupported: 0x05,
  encryptionRequired: 0x06,
  bioTypeUnsupported: 0x07,
  bioFormatUnsupported: 0x08,
  unableToProcess: 0x09,
} as const;

const nakReasons: Record<number, string> = {
  0x00: 'no error',
  0x01: 'message check character(s) error (bad checksum/CRC)',
  0x02: 'command length error',
  0x03: 'unknown command code',
  0x04: 'unexpected sequence number',
  0x05: 'security block not supported',
  0x06: 'communication security conditions not met (encryption required)',
  0x07: 'BIO_TYPE not supported',
  0x08: 'BIO_FORMAT not supported',
  0x09: 'unable to process command record',
};

export const nakReason = (code: number): string => nakReasons[code] ?? `unknown NAK code 0x${code.toString(16).padStart(2, '0')}`;

/** PD capability function codes (spec, osdp_PDCAP). */
const capabilityNames: Record<number, string> = {
  1: 'contact status monitoring',
  2: 'output control',
  3: 'card data format',
  4: 'reader LED control',
  5: 'reader audible output',
  6: 'reader text output',
  7: 'time keeping',
  8: 'check character support',
  9: 'communication security',
  10: 'receive buffer size',
  11: 'largest combined message size',
  12: 'smart card support',
  13: 'readers',
  14: 'biometrics',
  15: 'secure PIN entry',
  16: 'OSDP version',
};

export interface Capability {
  function: number;
  name: string;
  compliance: number;
  units: number;
}

export type CardFormat = 'h10301' | 'h10306' | 'h10304';

/** A RAW card read turned into a number, or why it could not be. */
export type CardRead =
  | { kind: 'wiegand'; format: CardFormat; facility: number; number: number; bitCount: number }
  /** A bit count we know no layout for: the bits as hex, most significant first, zero-padded at the end. */
  | { kind: 'raw'; hex: string; bitCount: number }
  /** Right bit count, wrong parity: a misread, never a credential. */
  | { kind: 'parity-error'; format: CardFormat; hex: string; bitCount: number };

export type DecodedReply =
  | { type: 'ack' }
  | { type: 'nak'; error: number; reason: string; extra: Buffer }
  | { type: 'pdid'; vendor: string; model: number; version: number; serial: number; firmware: string }
  | { type: 'pdcap'; capabilities: Capability[] }
  | { type: 'lstatr'; tamper: boolean; power: 'ok' | 'fail' }
  | { type: 'istatr'; inputs: number[] }
  | { type: 'raw'; reader: number; formatCode: number; bitCount: number; bits: Buffer; card: CardRead }
  | { type: 'fmt'; reader: number; direction: number; text: string }
  | { type: 'keypad'; reader: number; keys: string }
  | { type: 'com'; address: number; baud: number }
  | { type: 'ccrypt'; clientUid: Buffer; rndB: Buffer; cryptogram: Buffer }
  | { type: 'rmac_i'; rmac: Buffer }
  | { type: 'busy' }
  /** A known code whose data does not fit its layout. */
  | { type: 'malformed'; code: number; reason: string; data: Buffer }
  | { type: 'unknown'; code: number; data: Buffer };

const malformed = (code: number, reason: string, data: Buffer): DecodedReply => ({ type: 'malformed', code, reason: `${replyName(code)}: ${reason}`, data });

/**
 * Keypad keys (spec, osdp_KEYPAD): digits as ASCII, '*' (clear) as 0x7F, '#' (enter) as 0x0D, function keys as
 * upper-case letters. Returned as the printable characters.
 */
function keypadText(data: Buffer): string {
  let out = '';
  for (const b of data) out += b === 0x7f ? '*' : b === 0x0d ? '#' : String.fromCharCode(b);
  return out;
}

/** Decodes one reply's data by its code. Never throws: unknown codes and bad layouts come back typed. */
export function decodeReply(code: number, data: Buffer): DecodedReply {
  switch (code) {
    case Reply.ACK:
      return data.length === 0 ? { type: 'ack' } : malformed(code, `${data.length} unexpected data bytes`, data);
    case Reply.NAK: {
      if (data.length < 1) return malformed(code, 'no error code', data);
      const error = data[0] as number;
      return { type: 'nak', error, reason: nakReason(error), extra: Buffer.from(data.subarray(1)) };
    }
    case Reply.PDID:
      // osdp_PDID: vendor code (3, IEEE OUI), model, version, serial (4, LE), firmware major/minor/build.
      if (data.length < 12) return malformed(code, `${data.length} bytes, need 12`, data);
      return {
        type: 'pdid',
        vendor: data.subarray(0, 3).toString('hex').toUpperCase(),
        model: data[3] as number,
        version: data[4] as number,
        serial: data.readUInt32LE(5),
        firmware: `${data[9]}.${data[10]}.${data[11]}`,
      };
    case Reply.PDCAP: {
      // osdp_PDCAP: a list of (function code, compliance level, number of objects).
      if (data.length % 3 !== 0) return malformed(code, `${data.length} bytes is not a list of 3-byte entries`, data);
      const capabilities: Capability[] = [];
      for (let i = 0; i < data.length; i += 3) {
        const fn = data[i] as number;
        capabilities.push({ function: fn, name: capabilityNames[fn] ?? `function ${fn}`, compliance: data[i + 1] as number, units: data[i + 2] as number });
      }
      return { type: 'pdcap', capabilities };
    }
    case Reply.LSTATR:
      // osdp_LSTATR: tamper (0 normal, 1 tamper), power (0 normal, 1 failure).
      if (data.length !== 2) return malformed(code, `${data.length} bytes, need 2`, data);
      return { type: 'lstatr', tamper: data[0] !== 0, power: data[1] === 0 ? 'ok' : 'fail' };
    case Reply.ISTATR:
      return { type: 'istatr', inputs: [...data] };
    case Reply.RAW: {
      // osdp_RAW: reader, format code (0 raw bits, 1 Wiegand P/data/P), bit count (LE), bits MSB first.
      if (data.length < 4) return malformed(code, `${data.length} bytes, need at least 4`, data);
      const bitCount = data.readUInt16LE(2);
      const bits = Buffer.from(data.subarray(4));
      if (bitCount === 0 || bits.length !== Math.ceil(bitCount / 8)) return malformed(code, `${bitCount} bits in ${bits.length} bytes`, data);
      return { type: 'raw', reader: data[0] as number, formatCode: data[1] as number, bitCount, bits, card: decodeCard(bits, bitCount) };
    }
    case Reply.FMT: {
      // osdp_FMT: reader, read direction (0 forward, 1 reverse), character count, ASCII characters.
      if (data.length < 3) return malformed(code, `${data.length} bytes, need at least 3`, data);
      const count = data[2] as number;
      if (data.length !== 3 + count) return malformed(code, `character count ${count} but ${data.length - 3} characters`, data);
      return { type: 'fmt', reader: data[0] as number, direction: data[1] as number, text: data.subarray(3).toString('latin1') };
    }
    case Reply.KEYPAD: {
      if (data.length < 2) return malformed(code, `${data.length} bytes, need at least 2`, data);
      const count = data[1] as number;
      if (data.length !== 2 + count) return malformed(code, `digit count ${count} but ${data.length - 2} digits`, data);
      return { type: 'keypad', reader: data[0] as number, keys: keypadText(data.subarray(2)) };
    }
    case Reply.COM:
      if (data.length !== 5) return malformed(code, `${data.length} bytes, need 5`, data);
      return { type: 'com', address: data[0] as number, baud: data.readUInt32LE(1) };
    case Reply.CCRYPT:
      // Annex D: cUID (8), RND.B (8), client cryptogram (16).
      if (data.length !== 32) return malformed(code, `${data.length} bytes, need 32`, data);
      return { type: 'ccrypt', clientUid: Buffer.from(data.subarray(0, 8)), rndB: Buffer.from(data.subarray(8, 16)), cryptogram: Buffer.from(data.subarray(16, 32)) };
    case Reply.RMAC_I:
      if (data.length !== 16) return malformed(code, `${data.length} bytes, need 16`, data);
      return { type: 'rmac_i', rmac: Buffer.from(data) };
    case Reply.BUSY:
      return { type: 'busy' };
    default:
      return { type: 'unknown', code, data: Buffer.from(data) };
  }
}

/** Bit i (0 = first on the wire = most significant bit of the first byte). */
const bitAt = (bits: Buffer, i: number): number => ((bits[i >> 3] as number) >> (7 - (i & 7))) & 1;

function field(bits: Buffer, from: number, length: number): number {
  let v = 0;
  for (let i = from; i < from + length; i++) v = v * 2 + bitAt(bits, i);
  return v;
}

function ones(bits: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to; i++) n += bitAt(bits, i);
  return n;
}

/** The whole bit string as hex, most significant bit first, padded with zero bits to whole bytes. */
function bitsHex(bits: Buffer, bitCount: number): string {
  return bits.subarray(0, Math.ceil(bitCount / 8)).toString('hex').toUpperCase();
}

interface Layout {
  format: CardFormat;
  bitCount: number;
  /** Inclusive 0-based [first, last] bit each parity bit covers, itself included. */
  even: [number, number];
  odd: [number, number];
  /** [first bit, bit count] of each field. */
  facility: [number, number];
  number: [number, number];
}

/**
 * The public Wiegand layouts (HID format sheets), bits numbered from 0 in wire order:
 * - H10301, 26 bits: even parity over 0-12, facility 1-8, number 9-24, odd parity over 13-25.
 * - H10306, 34 bits: even parity over 0-16, facility 1-16, number 17-32, odd parity over 17-33.
 * - H10304, 37 bits: even parity over 0-18, facility 1-16, number 17-35, odd parity over 18-36.
 */
const layouts: readonly Layout[] = [
  { format: 'h10301', bitCount: 26, even: [0, 12], odd: [13, 25], facility: [1, 8], number: [9, 16] },
  { format: 'h10306', bitCount: 34, even: [0, 16], odd: [17, 33], facility: [1, 16], number: [17, 16] },
  { format: 'h10304', bitCount: 37, even: [0, 18], odd: [18, 36], facility: [1, 16], number: [17, 19] },
];

/** Decodes a RAW card's bits: facility code and number for the known Wiegand layouts, hex otherwise. */
export function decodeCard(bits: Buffer, bitCount: number): CardRead {
  const hex = bitsHex(bits, bitCount);
  const layout = layouts.find((l) => l.bitCount === bitCount);
  if (!layout || bits.length * 8 < bitCount) return { kind: 'raw', hex, bitCount };
  const evenOk = ones(bits, layout.even[0], layout.even[1]) % 2 === 0;
  const oddOk = ones(bits, layout.odd[0], layout.odd[1]) % 2 === 1;
  if (!evenOk || !oddOk) return { kind: 'parity-error', format: layout.format, hex, bitCount };
  return {
    kind: 'wiegand',
    format: layout.format,
    facility: field(bits, layout.facility[0], layout.facility[1]),
    number: field(bits, layout.number[0], layout.number[1]),
    bitCount,
  };
}
