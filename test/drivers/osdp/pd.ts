// Test peer: an OSDP peripheral device (PD) simulator written from the SIA OSDP 2.2 text, sharing no code with drivers/osdp, plus a bus that serves simulated PDs on a real serial port.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SerialPort } from 'serialport';

// ---- wire basics, written independently of drivers/osdp/packet.ts ----

/** CRC-16/AUG-CCITT by table (spec, packet structure): poly 0x1021, init 0x1D0F, MSB first; sent LSB first. */
const crcTable = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = (c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1) & 0xffff;
    t[n] = c;
  }
  return t;
})();

export function simCrc(bytes: Uint8Array): number {
  let crc = 0x1d0f;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ (crcTable[((crc >> 8) ^ b) & 0xff] as number);
  return crc;
}

function simChecksum(bytes: Uint8Array): number {
  return (256 - (bytes.reduce((a, b) => a + b, 0) % 256)) % 256;
}

// ---- Annex D cryptography, written independently of drivers/osdp/secure.ts (ECB blocks, CBC by hand) ----

function aes(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function xor16(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

function aesDecryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  const d = createDecipheriv('aes-128-ecb', key, null);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(block), d.final()]);
}

export const SIM_SCBK_D = Buffer.from('303132333435363738393a3b3c3d3e3f', 'hex');

interface SimKeys {
  enc: Buffer;
  smac1: Buffer;
  smac2: Buffer;
}

/** Annex D: S-ENC / S-MAC1 / S-MAC2 = AES(SCBK, 01 82|01|02, RND.A[0..5], 00 x 8). */
export function simSessionKeys(scbk: Uint8Array, rndA: Uint8Array): SimKeys {
  const derive = (second: number) => aes(scbk, Buffer.concat([Buffer.from([0x01, second]), rndA.subarray(0, 6), Buffer.alloc(8)]));
  return { enc: derive(0x82), smac1: derive(0x01), smac2: derive(0x02) };
}

/** Annex D MAC: pad with 80 00.. unless already whole blocks, chain blocks with S-MAC1, the last with S-MAC2. */
export function simMac(keys: SimKeys, iv: Uint8Array, msg: Uint8Array): Buffer {
  const blocks = msg.length % 16 === 0 ? msg.length / 16 : Math.floor(msg.length / 16) + 1;
  const buf = Buffer.alloc(blocks * 16);
  buf.set(msg);
  if (msg.length % 16 !== 0) buf[msg.length] = 0x80;
  let chain: Buffer = Buffer.from(iv);
  for (let i = 0; i < blocks; i++) {
    const key = i === blocks - 1 ? keys.smac2 : keys.smac1;
    chain = aes(key, xor16(chain, buf.subarray(i * 16, i * 16 + 16)));
  }
  return chain;
}

function inverted(mac: Uint8Array): Buffer {
  return Buffer.from(Array.from(mac, (b) => 0xff ^ b));
}

function simEncrypt(keys: SimKeys, otherMac: Uint8Array, plain: Uint8Array): Buffer {
  const padded = Buffer.alloc((Math.floor(plain.length / 16) + 1) * 16);
  padded.set(plain);
  padded[plain.length] = 0x80;
  let chain = inverted(otherMac);
  const out: Buffer[] = [];
  for (let i = 0; i < padded.length; i += 16) {
    chain = aes(keys.enc, xor16(chain, padded.subarray(i, i + 16)));
    out.push(chain);
  }
  return Buffer.concat(out);
}

function simDecrypt(keys: SimKeys, otherMac: Uint8Array, cipher: Uint8Array): Buffer | null {
  if (cipher.length === 0 || cipher.length % 16 !== 0) return null;
  let chain = inverted(otherMac);
  const out: Buffer[] = [];
  for (let i = 0; i < cipher.length; i += 16) {
    const block = cipher.subarray(i, i + 16);
    out.push(xor16(aesDecryptBlock(keys.enc, block), chain));
    chain = Buffer.from(block);
  }
  const plain = Buffer.concat(out);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  if (end === 0 || plain[end - 1] !== 0x80) return null;
  return plain.subarray(0, end - 1);
}

// ---- the PD ----

export interface SimCommand {
  code: number;
  sequence: number;
  secure: boolean;
  data: Buffer;
}

export type SimFault = 'wrong-address' | 'bad-crc' | 'garbage';

export interface SimPdOptions {
  address: number;
  /** The PD's SCBK; absent = a PD without a key (secure channel only in install mode). */
  scbk?: Buffer;
  /** Accept SCBK-D (Annex D: only a PD in install mode may). */
  installMode?: boolean;
  /** Report secure channel support in PDCAP; default true. */
  secureCapable?: boolean;
  serial?: number;
}

/** Whole-bit RAW card data (spec, osdp_RAW): bits are given as a '0'/'1' string, first bit first. */
export function bitsToBytes(bits: string): Buffer {
  const out = Buffer.alloc(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i] === '1') out[i >> 3] = (out[i >> 3] as number) | (0x80 >> (i & 7));
  return out;
}

/** An H10301 (26-bit) bit string: even parity over the first 12 data bits, odd over the last 12. */
export function h10301Bits(facility: number, card: number): string {
  const data = facility.toString(2).padStart(8, '0') + card.toString(2).padStart(16, '0');
  const count = (s: string) => [...s].filter((c) => c === '1').length;
  const even = count(data.slice(0, 12)) % 2 === 0 ? '0' : '1';
  const odd = count(data.slice(12)) % 2 === 1 ? '0' : '1';
  return even + data + odd;
}

interface Secure {
  key: Buffer;
  keyType: number;
  rndA: Buffer;
  rndB: Buffer;
  keys: SimKeys;
  active: boolean;
  /** Last MAC this PD sent (R-MAC) and the last it received (C-MAC). */
  rmac: Buffer;
  cmac: Buffer;
}

/**
 * A reader as the spec describes it: answers POLL with ACK or queued data, ID, CAP, LSTAT, ISTAT,
 * LED/BUZ/OUT/COMSET, follows sequence numbers (0 resets, a repeat gets the last reply again,
 * anything else is NAK 0x04), and runs the PD side of Secure Channel (Annex D) with its own key.
 */
export class SimulatedPd {
  readonly address: number;
  key: Buffer | null;
  installMode: boolean;
  /** Answer nothing at all (a dead or unplugged reader). */
  silent = false;
  /** Every valid command addressed to this PD, in order. */
  readonly commands: SimCommand[] = [];
  readonly leds: Buffer[] = [];
  readonly buzzes: Buffer[] = [];
  /** Replies waiting for a POLL: [code, data]. */
  private readonly events: Array<[number, Buffer]> = [];
  private readonly faults: SimFault[] = [];
  private lastSequence: number | null = null;
  private lastReply: Buffer | null = null;
  private sc: Secure | null = null;
  private badMacNext = false;
  private tamper = false;
  private power = false;
  private readonly secureCapable: boolean;
  private readonly serial: number;

  constructor(options: SimPdOptions) {
    this.address = options.address;
    this.key = options.scbk ?? null;
    this.installMode = options.installMode ?? false;
    this.secureCapable = options.secureCapable ?? true;
    this.serial = options.serial ?? 0x01020304 + options.address;
  }

  get secureActive(): boolean {
    return this.sc?.active === true;
  }

  /** A card read: RAW with format code 1 (Wiegand) by default. */
  queueCard(bits: string, formatCode = 1): void {
    const data = Buffer.concat([Buffer.from([0, formatCode, bits.length & 0xff, bits.length >> 8]), bitsToBytes(bits)]);
    this.events.push([0x50, data]);
  }

  queueFmt(text: string): void {
    this.events.push([0x51, Buffer.concat([Buffer.from([0, 0, text.length]), Buffer.from(text, 'latin1')])]);
  }

  /** Keys as typed; '*' and '#' are sent as 0x7F and 0x0D (spec, osdp_KEYPAD). */
  queueKeys(keys: string): void {
    const bytes = Buffer.from([...keys].map((k) => (k === '*' ? 0x7f : k === '#' ? 0x0d : k.charCodeAt(0))));
    this.events.push([0x53, Buffer.concat([Buffer.from([0, bytes.length]), bytes])]);
  }

  /** Tamper or power changed: reported with the next POLL (spec, osdp_LSTATR). */
  setStatus(status: { tamper?: boolean; powerFail?: boolean }): void {
    this.tamper = status.tamper ?? this.tamper;
    this.power = status.powerFail ?? this.power;
    this.events.push([0x48, Buffer.from([this.tamper ? 1 : 0, this.power ? 1 : 0])]);
  }

  /** The next replies go wrong in these ways, one fault per reply; each faulty reply carries a poison card. */
  inject(...faults: SimFault[]): void {
    this.faults.push(...faults);
  }

  /** The next secure reply goes out with a wrong MAC (valid CRC), as a tampered frame would. */
  breakSession(): void {
    this.badMacNext = true;
  }

  /** Forget the session as a power cycle would. */
  reboot(): void {
    this.lastSequence = null;
    this.lastReply = null;
    this.sc = null;
  }

  /** Handles one frame from the bus (mark bytes stripped or not); returns the bytes to send, or null. */
  handle(input: Buffer): Buffer | null {
    let frame = input;
    while (frame.length > 0 && frame[0] === 0xff) frame = frame.subarray(1);
    if (frame.length < 7 || frame[0] !== 0x53) return null;
    const length = frame[2]! | (frame[3]! << 8);
    if (length !== frame.length) return null;
    const ctrl = frame[4]!;
    const useCrc = (ctrl & 0x04) !== 0;
    const body = frame.subarray(0, length - (useCrc ? 2 : 1));
    if (useCrc ? simCrc(body) !== (frame[length - 2]! | (frame[length - 1]! << 8)) : simChecksum(body) !== frame[length - 1]) {
      // osdp_NAK: a PD NAKs a bad check character only when the packet is for it; the address is unreliable here, so stay quiet.
      return null;
    }
    const address = frame[1]! & 0x7f;
    if ((frame[1]! & 0x80) !== 0) return null; // another PD's reply
    if (address !== this.address && address !== 0x7f) return null;
    if (this.silent) return null;
    const sequence = ctrl & 0x03;
    let at = 5;
    let scbType: number | null = null;
    let scbData = Buffer.alloc(0);
    if (ctrl & 0x08) {
      const scbLength = frame[5]!;
      scbType = frame[6]!;
      scbData = Buffer.from(frame.subarray(7, 5 + scbLength));
      at += scbLength;
    }
    const hasMac = scbType !== null && scbType >= 0x15;
    const end = body.length - (hasMac ? 4 : 0);
    const code = frame[at]!;
    let data: Buffer = Buffer.from(frame.subarray(at + 1, end));

    // Spec, sequence numbers.
    if (sequence === 0) {
      this.lastSequence = null;
      this.lastReply = null;
      this.sc = null;
    } else if (this.lastSequence !== null && sequence === this.lastSequence && this.lastReply) {
      return this.send(this.lastReply);
    } else if (this.lastSequence === null || sequence !== (this.lastSequence % 3) + 1) {
      return this.reply(sequence, 0x41, Buffer.from([0x04]), true);
    }

    // Annex D: inside a session every command carries SCS_15/17 and a MAC chained on our last R-MAC.
    const sc = this.sc;
    if (sc?.active && scbType !== 0x11) {
      if (!hasMac || (scbType !== 0x15 && scbType !== 0x17)) {
        this.sc = null;
        return this.reply(sequence, 0x41, Buffer.from([0x06]), true);
      }
      const mac = simMac(sc.keys, sc.rmac, frame.subarray(0, end));
      if (!mac.subarray(0, 4).equals(frame.subarray(end, end + 4))) {
        this.sc = null;
        return this.reply(sequence, 0x41, Buffer.from([0x06]), true);
      }
      sc.cmac = mac;
      if (scbType === 0x17) {
        const plain = simDecrypt(sc.keys, sc.rmac, data);
        if (!plain) {
          this.sc = null;
          return this.reply(sequence, 0x41, Buffer.from([0x06]), true);
        }
        data = plain;
      }
    } else if (hasMac) {
      return this.reply(sequence, 0x41, Buffer.from([0x06]), true);
    }
    this.commands.push({ code, sequence, secure: sc?.active === true, data });
    return this.dispatch(code, data, sequence, scbType, scbData);
  }

  private dispatch(code: number, data: Buffer, sequence: number, scbType: number | null, scbData: Buffer): Buffer | null {
    switch (code) {
      case 0x60: {
        const event = this.events.shift();
        return event ? this.reply(sequence, event[0], event[1]) : this.reply(sequence, 0x40, Buffer.alloc(0));
      }
      case 0x61: {
        const id = Buffer.alloc(12);
        id.set([0x5c, 0x26, 0x23], 0); // vendor OUI
        id[3] = 7; // model
        id[4] = 1; // version
        id.writeUInt32LE(this.serial, 5);
        id.set([2, 2, 9], 9);
        return this.reply(sequence, 0x45, id);
      }
      case 0x62: {
        const caps = [
          [1, 1, 0],
          [3, 1, 0],
          [4, 4, 1],
          [5, 2, 1],
          [8, 1, 0],
          [9, this.secureCapable ? 1 : 0, this.secureCapable ? 1 : 0],
          [10, 0x00, 0x02],
        ];
        return this.reply(sequence, 0x46, Buffer.from(caps.flat()));
      }
      case 0x64:
        return this.reply(sequence, 0x48, Buffer.from([this.tamper ? 1 : 0, this.power ? 1 : 0]));
      case 0x65:
        return this.reply(sequence, 0x49, Buffer.from([0, 0]));
      case 0x68:
        return this.reply(sequence, 0x40, Buffer.alloc(0));
      case 0x69:
        if (data.length === 0 || data.length % 14 !== 0) return this.reply(sequence, 0x41, Buffer.from([0x02]));
        this.leds.push(data);
        return this.reply(sequence, 0x40, Buffer.alloc(0));
      case 0x6a:
        if (data.length !== 5) return this.reply(sequence, 0x41, Buffer.from([0x02]));
        this.buzzes.push(data);
        return this.reply(sequence, 0x40, Buffer.alloc(0));
      case 0x6e:
        return this.reply(sequence, 0x54, data.subarray(0, 5));
      case 0x76:
        return this.challenge(sequence, data, scbType, scbData);
      case 0x77:
        return this.scrypt(sequence, data, scbType);
      case 0x75: {
        // osdp_KEYSET: only inside a session; type 1 = SCBK, 16 bytes.
        if (!this.sc?.active) return this.reply(sequence, 0x41, Buffer.from([0x06]));
        if (data.length !== 18 || data[0] !== 1 || data[1] !== 16) return this.reply(sequence, 0x41, Buffer.from([0x02]));
        const out = this.reply(sequence, 0x40, Buffer.alloc(0));
        this.key = Buffer.from(data.subarray(2));
        this.installMode = false;
        this.sc = null;
        return out;
      }
      default:
        return this.reply(sequence, 0x41, Buffer.from([0x03]));
    }
  }

  private challenge(sequence: number, rndA: Buffer, scbType: number | null, scbData: Buffer): Buffer | null {
    if (scbType !== 0x11 || rndA.length !== 8) return this.reply(sequence, 0x41, Buffer.from([0x05]), true);
    const keyType = scbData[0] ?? 1;
    if (!this.secureCapable) return this.reply(sequence, 0x41, Buffer.from([0x05]), true);
    let key: Buffer | null;
    if (keyType === 0) key = this.installMode ? SIM_SCBK_D : null;
    else key = this.key;
    if (!key) return this.reply(sequence, 0x41, Buffer.from([0x06]), true);
    const rndB = randomBytes(8);
    const keys = simSessionKeys(key, rndA);
    this.sc = { key, keyType, rndA, rndB, keys, active: false, rmac: Buffer.alloc(16), cmac: Buffer.alloc(16) };
    const clientUid = Buffer.alloc(8);
    clientUid.writeUInt32LE(this.serial, 4);
    const cryptogram = aes(keys.enc, Buffer.concat([rndA, rndB]));
    return this.reply(sequence, 0x76, Buffer.concat([clientUid, rndB, cryptogram]), false, [0x12, keyType]);
  }

  private scrypt(sequence: number, serverCrypt: Buffer, scbType: number | null): Buffer | null {
    const sc = this.sc;
    if (!sc || scbType !== 0x13 || serverCrypt.length !== 16) return this.reply(sequence, 0x41, Buffer.from([0x05]), true);
    const expected = aes(sc.keys.enc, Buffer.concat([sc.rndB, sc.rndA]));
    const rmacI = aes(sc.keys.smac2, aes(sc.keys.smac1, serverCrypt));
    if (!expected.equals(serverCrypt)) return this.reply(sequence, 0x78, rmacI, false, [0x14, 0x00]);
    const out = this.reply(sequence, 0x78, rmacI, false, [0x14, 0x01]);
    sc.active = true;
    sc.rmac = rmacI;
    return out;
  }

  /**
   * Builds a reply; inside a session it gets SCS_16/18 and a MAC chained on the command's C-MAC.
   * `plain` forces a plain-text reply (NAKs about the session itself).
   */
  private reply(sequence: number, code: number, data: Buffer, plain = false, handshake?: [number, number]): Buffer {
    const sc = this.sc;
    const secure = !plain && !handshake && sc?.active === true;
    let scb: number[] = [];
    let payload = data;
    if (handshake) scb = [3, handshake[0], handshake[1]];
    else if (secure && sc) {
      scb = [2, data.length > 0 ? 0x18 : 0x16];
      if (data.length > 0) payload = simEncrypt(sc.keys, sc.cmac, data);
    }
    const length = 5 + scb.length + 1 + payload.length + (secure ? 4 : 0) + 2;
    const head = Buffer.from([0x53, this.address | 0x80, length & 0xff, length >> 8, sequence | 0x04 | (scb.length ? 0x08 : 0)]);
    let body = Buffer.concat([head, Buffer.from(scb), Buffer.from([code]), payload]);
    if (secure && sc) {
      sc.rmac = simMac(sc.keys, sc.cmac, body);
      const mac = Buffer.from(sc.rmac.subarray(0, 4));
      if (this.badMacNext) {
        this.badMacNext = false;
        mac[0] = mac[0]! ^ 0xff;
      }
      body = Buffer.concat([body, mac]);
    }
    const crc = simCrc(body);
    const bytes = Buffer.concat([Buffer.from([0xff]), body, Buffer.from([crc & 0xff, crc >> 8])]);
    this.lastSequence = sequence;
    this.lastReply = bytes;
    return this.send(bytes);
  }

  /** Applies an injected fault: the real reply is held back (a retry gets it) and something bad goes out instead. */
  private send(bytes: Buffer): Buffer {
    const fault = this.faults.shift();
    if (!fault) return bytes;
    if (fault === 'garbage') return Buffer.concat([Buffer.from([0x00, 0x13, 0x53, 0x53, 0x7e, 0x21, 0xff, 0x80]), bytes]);
    const poison = this.poisonFrame(fault === 'wrong-address' ? (this.address + 1) & 0x7f : this.address);
    if (fault === 'bad-crc') poison[poison.length - 1] = poison[poison.length - 1]! ^ 0x5a;
    return poison;
  }

  /** A RAW card read (H10301 facility 99, card 6666) that must never become a credential. */
  private poisonFrame(address: number): Buffer {
    const bits = h10301Bits(99, 6666);
    const data = Buffer.concat([Buffer.from([0x50, 0, 1, bits.length, 0]), bitsToBytes(bits)]);
    const length = 5 + data.length + 2;
    const body = Buffer.concat([Buffer.from([0x53, address | 0x80, length, 0, (this.lastSequence ?? 0) | 0x04]), data]);
    const crc = simCrc(body);
    return Buffer.concat([Buffer.from([0xff]), body, Buffer.from([crc & 0xff, crc >> 8])]);
  }
}

/** The card number every poison frame carries. */
export const POISON_CARD = '6666';

/**
 * Simulated PDs on one real serial port (the device end of a socat pty pair): cuts the byte stream
 * into packets and lets the addressed PD answer, as PDs on an RS-485 bus do.
 */
export class SimBus {
  private port: SerialPort | null = null;
  private buf = Buffer.alloc(0);
  /** Every packet the ACU sent, in order, and when it was complete (performance.now(), ms). */
  readonly heard: Buffer[] = [];
  readonly heardAt: number[] = [];

  constructor(
    private readonly path: string,
    private readonly baudRate: number,
    readonly pds: SimulatedPd[],
  ) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    port.on('error', () => undefined); // the pty vanishes when a test kills socat
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const som = this.buf.indexOf(0x53);
      if (som < 0) {
        this.buf = Buffer.alloc(0);
        return;
      }
      this.buf = this.buf.subarray(som);
      if (this.buf.length < 4) return;
      const length = this.buf[2]! | (this.buf[3]! << 8);
      if (length < 7 || length > 1440) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (this.buf.length < length) return;
      const frame = Buffer.from(this.buf.subarray(0, length));
      this.buf = this.buf.subarray(length);
      this.heard.push(frame);
      this.heardAt.push(performance.now());
      for (const pd of this.pds) {
        const reply = pd.handle(frame);
        if (reply) this.port?.write(reply);
      }
    }
  }
}
