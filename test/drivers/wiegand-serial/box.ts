// Test helper: a Wiegand-to-serial converter box, built from HID's format definitions and the boxes' manuals, not from our parser.
import { SerialPort } from 'serialport';

/**
 * HID's tables, in HID's own 1-based bit numbers: [first, last] inclusive. Deliberately written
 * again here rather than imported, so a wrong row in the driver's table cannot hide in both.
 */
interface HidLayout {
  bits: number;
  facility: [number, number] | null;
  card: [number, number];
  /** Parity bit, then the first and last bit it covers. */
  even: [number, number, number];
  odd: [number, number, number];
}

export const hidLayouts = {
  h10301: { bits: 26, facility: [2, 9], card: [10, 25], even: [1, 2, 13], odd: [26, 14, 25] },
  h10302: { bits: 37, facility: null, card: [2, 36], even: [1, 2, 19], odd: [37, 19, 36] },
  h10304: { bits: 37, facility: [2, 17], card: [18, 36], even: [1, 2, 19], odd: [37, 19, 36] },
  '34bit': { bits: 34, facility: [2, 17], card: [18, 33], even: [1, 2, 17], odd: [34, 18, 33] },
} satisfies Record<string, HidLayout>;

export type HidFormat = keyof typeof hidLayouts;

/** The frame a reader sends for this card, as '0'/'1' characters, parity bits computed. */
export function wiegandFrame(format: HidFormat, facility: number, card: number): string {
  const layout: HidLayout = hidLayouts[format];
  const bits: string[] = new Array<string>(layout.bits).fill('0');
  const put = ([first, last]: [number, number], value: number) => {
    const text = value.toString(2).padStart(last - first + 1, '0');
    if (text.length !== last - first + 1) throw new RangeError(`${value} does not fit bits ${first}-${last}`);
    [...text].forEach((c, i) => (bits[first - 1 + i] = c));
  };
  if (layout.facility) put(layout.facility, facility);
  put(layout.card, card);
  const onesIn = (first: number, last: number) => bits.slice(first - 1, last).filter((b) => b === '1').length;
  const [ep, ef, el] = layout.even;
  bits[ep - 1] = onesIn(ef, el) % 2 === 1 ? '1' : '0';
  const [op, of, ol] = layout.odd;
  bits[op - 1] = onesIn(of, ol) % 2 === 1 ? '0' : '1';
  return bits.join('');
}

/** The bits between the two parity bits. */
export function dataBits(frame: string): string {
  return frame.slice(1, -1);
}

/** Frame with one bit inverted (1-based), as line noise on the Wiegand pair does. */
export function flipBit(frame: string, bit: number): string {
  return frame.slice(0, bit - 1) + (frame[bit - 1] === '1' ? '0' : '1') + frame.slice(bit);
}

/** How each style of box prints a frame (their manuals' examples: "0012345678", "0A1B2C3D", "W26:0A1B2C", "123,45678", raw bits). */
export const boxStyles = {
  decimal: (frame: string) => BigInt(`0b${dataBits(frame)}`).toString().padStart(10, '0'),
  hex: (frame: string) =>
    BigInt(`0b${dataBits(frame)}`)
      .toString(16)
      .toUpperCase()
      .padStart(Math.ceil((frame.length - 2) / 4), '0'),
  'wiegand-hex': (frame: string) => `W${frame.length}:${boxStyles.hex(frame)}`,
  bits: (frame: string) => frame,
} as const;

/**
 * The box end of a socat pty pair, opened with the real serialport binding. Lines go out with CR LF
 * unless told otherwise.
 */
export class ConverterBox {
  private port: SerialPort | null = null;

  constructor(
    private readonly path: string,
    private readonly lineEnd = '\r\n',
  ) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 9600, autoOpen: false });
    port.on('error', () => {}); // the box dies with socat on purpose when a test unplugs it
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
  }

  /** One line as the box prints it. */
  async sendLine(text: string): Promise<void> {
    await this.sendBytes(Buffer.from(text + this.lineEnd, 'latin1'));
  }

  /** Raw bytes: noise, half lines, over-long junk. */
  async sendBytes(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!port) throw new Error('box not open');
    await new Promise<void>((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve())))));
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}
