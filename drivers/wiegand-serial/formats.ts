// The Wiegand card formats and the converter boxes' line styles, as data tables the parser reads.

/** A run of bits in a Wiegand frame: 0-based position of its first bit (bit 0 is the first bit sent) and its length. */
export type BitRange = readonly [start: number, length: number];

/** A parity bit and the bits it covers. Even: the covered bits plus the parity bit hold an even number of ones. */
export interface ParityRule {
  kind: 'even' | 'odd';
  bit: number;
  over: BitRange;
}

export interface WiegandFormat {
  name: string;
  /** Bits in the whole frame, parity included. */
  bits: number;
  /** Facility (site) code; absent in formats that carry only a card number. */
  facility?: BitRange;
  card: BitRange;
  parity: readonly ParityRule[];
  description: string;
}

/**
 * The formats found at Chinese compounds. Positions follow HID's published format definitions
 * (H10301 26-bit, H10302 37-bit, H10304 37-bit) and the common unbranded 34-bit layout
 * (same layout as HID H10306). Adding a format is adding a row.
 */
export const wiegandFormats = [
  {
    name: 'h10301',
    bits: 26,
    facility: [1, 8],
    card: [9, 16],
    // Even parity over the first 12 data bits, odd over the last 12.
    parity: [
      { kind: 'even', bit: 0, over: [1, 12] },
      { kind: 'odd', bit: 25, over: [13, 12] },
    ],
    description: 'HID H10301 "standard 26-bit": 8-bit facility code, 16-bit card number',
  },
  {
    name: 'h10302',
    bits: 37,
    card: [1, 35],
    // The two parity ranges overlap on bit 18, as HID defines it.
    parity: [
      { kind: 'even', bit: 0, over: [1, 18] },
      { kind: 'odd', bit: 36, over: [18, 18] },
    ],
    description: 'HID H10302 37-bit: 35-bit card number, no facility code',
  },
  {
    name: '34bit',
    bits: 34,
    facility: [1, 16],
    card: [17, 16],
    parity: [
      { kind: 'even', bit: 0, over: [1, 16] },
      { kind: 'odd', bit: 33, over: [17, 16] },
    ],
    description: '34-bit (HID H10306 layout): 16-bit facility, 16-bit card; the 32 data bits are the card UID most Chinese readers send',
  },
  {
    name: 'h10304',
    bits: 37,
    facility: [1, 16],
    card: [17, 19],
    parity: [
      { kind: 'even', bit: 0, over: [1, 18] },
      { kind: 'odd', bit: 36, over: [18, 18] },
    ],
    description: 'HID H10304 37-bit: 16-bit facility code, 19-bit card number',
  },
] as const satisfies readonly WiegandFormat[];

export type WiegandFormatName = (typeof wiegandFormats)[number]['name'];

export const wiegandFormatNames: readonly WiegandFormatName[] = wiegandFormats.map((f) => f.name);

export function findFormat(name: string): WiegandFormat | undefined {
  return (wiegandFormats as readonly WiegandFormat[]).find((f) => f.name === name);
}

/** The bits between the parity bits: facility and card together, as one run. */
export function dataRange(format: WiegandFormat): BitRange {
  const start = Math.min(format.facility?.[0] ?? Infinity, format.card[0]);
  const end = Math.max(format.facility ? format.facility[0] + format.facility[1] : 0, format.card[0] + format.card[1]);
  return [start, end - start];
}

/**
 * Which format a read of this many frame bits is when the config names none. 37 bits is missing on
 * purpose: H10302 and H10304 are both 37 bits and splitting one as the other invents card numbers.
 */
export const formatByFrameBits: Readonly<Record<number, WiegandFormatName>> = { 26: 'h10301', 34: '34bit' };

/**
 * What a line carries once the preset's pattern matched:
 * - `data-decimal` / `data-hex`: the data bits (parity stripped) as one number, group `value`;
 * - `frame-bits`: the whole frame as '0'/'1' characters, parity included, group `value`;
 * - `facility-card`: groups `facility` and `card` in decimal.
 * A `bits` group, where present, is the frame's bit count printed by the box.
 */
export type LineValue = 'data-decimal' | 'data-hex' | 'frame-bits' | 'facility-card';

export interface LinePreset {
  name: string;
  pattern: RegExp;
  value: LineValue;
  example: string;
  description: string;
}

/** The output styles of the converter boxes sold for this job; a box's manual names one of them. */
export const linePresets = [
  {
    name: 'decimal',
    pattern: /^(?<value>\d{1,12})$/,
    value: 'data-decimal',
    example: '0012345678',
    description: 'the data bits as a decimal number, usually zero-padded to 8 or 10 digits',
  },
  {
    name: 'hex',
    pattern: /^(?<value>[0-9A-Fa-f]{2,10})$/,
    value: 'data-hex',
    example: '0A1B2C3D',
    description: 'the data bits in hex: 6 digits for 26-bit reads, 8 for 34-bit, 9 for 37-bit',
  },
  {
    name: 'wiegand-hex',
    pattern: /^W(?<bits>\d{2}):?(?<value>[0-9A-Fa-f]{2,10})$/i,
    value: 'data-hex',
    example: 'W26:0A1B2C',
    description: 'the frame bit count, then the data bits in hex',
  },
  {
    name: 'facility-card',
    pattern: /^(?<facility>\d{1,5}),(?<card>\d{1,8})$/,
    value: 'facility-card',
    example: '123,45678',
    description: 'facility code and card number in decimal, comma-separated',
  },
  {
    name: 'bits',
    pattern: /^(?<value>[01]{20,40})$/,
    value: 'frame-bits',
    example: '10000000100000000000000010',
    description: 'the raw frame as 0/1 characters, parity bits included; parity is checked here',
  },
] as const satisfies readonly LinePreset[];

export type LinePresetName = (typeof linePresets)[number]['name'];

export const linePresetNames: readonly LinePresetName[] = linePresets.map((p) => p.name);

export function findPreset(name: string): LinePreset | undefined {
  return (linePresets as readonly LinePreset[]).find((p) => p.name === name);
}

/**
 * How the card number is handed to the gateway, to match how the site's cards are printed:
 * - `card`: the card number alone, decimal ("45678");
 * - `facility-card`: facility and card, zero-padded to their bit widths ("123,45678");
 * - `uid32-decimal`: the data bits as a 10-digit decimal ("0012345678"), the number printed on most
 *   Chinese cards (the card's 32-bit UID) when the reader sends 34-bit Wiegand.
 */
export const outputForms = ['card', 'facility-card', 'uid32-decimal'] as const;

export type OutputForm = (typeof outputForms)[number];
