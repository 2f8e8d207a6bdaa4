// OSDP packet layer (SIA OSDP 2.2, section 5): builds and parses single packets; pure, never throws on input.

/** Start of message (spec, packet structure: "SOM"). */
export const SOM = 0x53;
/**
 * The mark character the transmitter sends before SOM (spec 2.2 communication settings: drive the line to marking
 * for one character time, in practice one 0xFF). Receivers must skip it.
 */
export const MARK = 0xff;
/** Address 0x7F is the broadcast address (spec, packet structure); 0x00-0x7E address one PD. */
export const BROADCAST = 0x7f;
/** A PD sets bit 7 of the address byte in every reply (spec, packet structure). */
export const REPLY_BIT = 0x80;

/** CTRL bits (spec, packet structure: "Message Control Information"). */
export const CTRL_SQN = 0x03;
export const CTRL_CRC = 0x04;
export const CTRL_SCB = 0x08;

/** Header: SOM, ADDR, LEN_LSB, LEN_MSB, CTRL. */
export const HEADER_LENGTH = 5;
/** The smallest packet: header + code + one-byte checksum. */
export const MIN_PACKET = HEADER_LENGTH + 2;
/** Spec 2.2, communication settings: the largest packet either side must tolerate. */
export const MAX_PACKET = 1440;
/** Secure channel MACs on the wire are the first 4 bytes of the 16-byte CBC-MAC (spec Annex D). */
export const MAC_LENGTH = 4;

/** Security block types (spec Annex D, "SEC_BLK_TYPE"). */
export const SCS = {
  /** ACU -> PD osdp_CHLNG; data byte: 0 = SCBK-D, 1 = SCBK. */
  chlng: 0x11,
  /** PD -> ACU osdp_CCRYPT; data byte as above. */
  ccrypt: 0x12,
  /** ACU -> PD osdp_SCRYPT; data byte as above. */
  scrypt: 0x13,
  /** PD -> ACU osdp_RMAC_I; data byte 1 = the ACU's cryptogram was accepted. */
  rmacI: 0x14,
  /** ACU -> PD, MAC, no data (or plain data). */
  cmdMac: 0x15,
  /** PD -> ACU, MAC, no data. */
  replyMac: 0x16,
  /** ACU -> PD, MAC and encrypted data. */
  cmdMacEnc: 0x17,
  /** PD -> ACU, MAC and encrypted data. */
  replyMacEnc: 0x18,
} as const;

/**
 * CRC-16 as OSDP uses it (spec, packet structure, and Annex E): polynomial 0x1021, initial value 0x1D0F, not
 * reflected, no final XOR (CRC-16/AUG-CCITT), over SOM through the byte before the CRC; the CRC
 * goes on the wire least significant byte first. Annex E: 53 00 09 00 04 61 00 -> C0 66.
 */
export function crc16(bytes: Uint8Array, end = bytes.length): number {
  let crc = 0x1d0f;
  for (let i = 0; i < end; i++) {
    crc ^= (bytes[i] as number) << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The 8-bit checksum (spec, packet structure): two's complement of the byte sum. Annex E: 53 00 08 00 00 61 00 -> 44. */
export function checksum8(bytes: Uint8Array, end = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum = (sum + (bytes[i] as number)) & 0xff;
  return (0x100 - sum) & 0xff;
}

export interface SecurityBlock {
  type: number;
  /** SEC_BLK_DATA: one byte for SCS_11..14, empty for SCS_15..18. */
  data: Buffer;
}

export interface Packet {
  /** 0x00-0x7F, bit 7 already removed. */
  address: number;
  /** Bit 7 of the address byte: set by a PD in every reply. */
  reply: boolean;
  sequence: number;
  crc: boolean;
  scb: SecurityBlock | null;
  /** Command or reply code. */
  code: number;
  /** Data after the code, as on the wire (still encrypted under SCS_17/18). */
  data: Buffer;
  /** The 4 MAC bytes under SCS_15..18, else null. */
  mac: Buffer | null;
  /** The bytes the MAC covers: SOM up to the MAC (spec Annex D). */
  macInput: Buffer;
  /** The whole packet, SOM to CRC, without mark bytes. */
  raw: Buffer;
}

export type PacketErrorKind =
  /** No SOM where a packet should start (noise, another protocol, a half frame). */
  | 'garbage'
  /** Fewer bytes than the header or the length field promise. */
  | 'truncated'
  /** The length field is impossible or disagrees with the bytes received. */
  | 'bad-length'
  | 'bad-checksum'
  | 'bad-crc'
  /** A malformed security block. */
  | 'bad-scb'
  /** A reply from another address than the PD addressed, or a command where a reply was expected. */
  | 'wrong-address'
  | 'not-a-reply'
  | 'bad-sequence';

export interface PacketError {
  kind: PacketErrorKind;
  detail: string;
}

export type ParseResult = { ok: true; packet: Packet } | { ok: false; error: PacketError };

/** What the receiver expects; a mismatch is a typed error, not a packet. */
export interface ParseExpect {
  /** The address the reply must carry (bit 7 aside). */
  address?: number;
  /** Require bit 7 set (we are the ACU) or clear (we are a PD). */
  reply?: boolean;
  /** The sequence number the reply must echo. */
  sequence?: number;
}

function fail(kind: PacketErrorKind, detail: string): ParseResult {
  return { ok: false, error: { kind, detail } };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** Security block types whose packets end with a MAC (spec Annex D). */
export function scbHasMac(type: number): boolean {
  return type >= SCS.cmdMac && type <= SCS.replyMacEnc;
}

/**
 * Parses one packet. Leading mark bytes (0xFF) are skipped; anything else before SOM is garbage.
 * The checks run in the order a receiver on a shared bus needs: framing, check characters, then
 * address, direction and sequence, so a corrupted packet is never blamed on a PD.
 */
export function parsePacket(input: Uint8Array, expect: ParseExpect = {}): ParseResult {
  let start = 0;
  while (start < input.length && input[start] === MARK) start++;
  const bytes = Buffer.from(input.subarray(start));
  if (bytes.length === 0) return fail('truncated', 'no bytes');
  if (bytes[0] !== SOM) return fail('garbage', `expected SOM 0x53, got 0x${hex2(bytes[0] as number)}`);
  if (bytes.length < HEADER_LENGTH) return fail('truncated', `${bytes.length} bytes, the header alone is ${HEADER_LENGTH}`);
  const length = bytes.readUInt16LE(2);
  const ctrl = bytes[4] as number;
  const crc = (ctrl & CTRL_CRC) !== 0;
  const minimum = HEADER_LENGTH + 1 + (crc ? 2 : 1);
  if (length < minimum || length > MAX_PACKET) return fail('bad-length', `length field ${length} outside ${minimum}-${MAX_PACKET}`);
  if (bytes.length < length) return fail('truncated', `${bytes.length} of ${length} bytes`);
  if (bytes.length > length) return fail('bad-length', `${bytes.length - length} bytes after the ${length} the length field announces`);
  const checkAt = length - (crc ? 2 : 1);
  if (crc) {
    const want = crc16(bytes, checkAt);
    const got = bytes.readUInt16LE(checkAt);
    if (want !== got) return fail('bad-crc', `CRC 0x${got.toString(16).padStart(4, '0')}, computed 0x${want.toString(16).padStart(4, '0')}`);
  } else {
    const want = checksum8(bytes, checkAt);
    const got = bytes[checkAt] as number;
    if (want !== got) return fail('bad-checksum', `checksum 0x${hex2(got)}, computed 0x${hex2(want)}`);
  }

  let at = HEADER_LENGTH;
  let scb: SecurityBlock | null = null;
  if (ctrl & CTRL_SCB) {
    const scbLength = bytes[at] as number;
    // SEC_BLK_LEN counts itself and the type byte, so it is at least 2.
    if (scbLength < 2 || at + scbLength >= checkAt) return fail('bad-scb', `security block length ${scbLength} does not fit`);
    scb = { type: bytes[at + 1] as number, data: Buffer.from(bytes.subarray(at + 2, at + scbLength)) };
    at += scbLength;
  }
  let end = checkAt;
  let mac: Buffer | null = null;
  if (scb && scbHasMac(scb.type)) {
    if (end - MAC_LENGTH <= at) return fail('bad-length', 'no room for the code and the MAC');
    end -= MAC_LENGTH;
    mac = Buffer.from(bytes.subarray(end, checkAt));
  }
  const code = bytes[at] as number;
  const data = Buffer.from(bytes.subarray(at + 1, end));
  const addressByte = bytes[1] as number;
  const packet: Packet = {
    address: addressByte & 0x7f,
    reply: (addressByte & REPLY_BIT) !== 0,
    sequence: ctrl & CTRL_SQN,
    crc,
    scb,
    code,
    data,
    mac,
    macInput: Buffer.from(bytes.subarray(0, end)),
    raw: bytes,
  };
  if (expect.reply !== undefined && packet.reply !== expect.reply) {
    return fail('not-a-reply', expect.reply ? `address byte 0x${hex2(addressByte)} has no reply bit` : `address byte 0x${hex2(addressByte)} carries the reply bit`);
  }
  if (expect.address !== undefined && packet.address !== expect.address) {
    return fail('wrong-address', `address ${packet.address}, expected ${expect.address}`);
  }
  if (expect.sequence !== undefined && packet.sequence !== expect.sequence) {
    return fail('bad-sequence', `sequence ${packet.sequence}, expected ${expect.sequence}`);
  }
  return { ok: true, packet };
}

export interface BuildPacket {
  address: number;
  /** Set bit 7 of the address (a PD's reply). */
  reply?: boolean;
  sequence: number;
  /** CRC-16 (default) or the 8-bit checksum. */
  crc?: boolean;
  scb?: { type: number; data?: Uint8Array } | null;
  code: number;
  /** Already encrypted when the security block says so. */
  data?: Uint8Array;
  /**
   * Computes the 4 MAC bytes over SOM..data, called with the length field already counting the
   * MAC and the check characters (spec Annex D: the MAC covers the header as sent).
   */
  mac?: (macInput: Buffer) => Uint8Array;
  /** Prefix the mark byte 0xFF (spec 2.2 communication settings); default true. */
  mark?: boolean;
}

/** Builds one packet. Throws RangeError only for a caller's impossible fields, never for wire input. */
export function buildPacket(p: BuildPacket): Buffer {
  if (!Number.isInteger(p.address) || p.address < 0 || p.address > BROADCAST) throw new RangeError(`address must be 0-127, got ${p.address}`);
  if (!Number.isInteger(p.sequence) || p.sequence < 0 || p.sequence > 3) throw new RangeError(`sequence must be 0-3, got ${p.sequence}`);
  const useCrc = p.crc ?? true;
  const data = p.data ?? new Uint8Array(0);
  const scbData = p.scb?.data ?? new Uint8Array(0);
  const scbLength = p.scb ? 2 + scbData.length : 0;
  const macLength = p.mac ? MAC_LENGTH : 0;
  const length = HEADER_LENGTH + scbLength + 1 + data.length + macLength + (useCrc ? 2 : 1);
  if (length > MAX_PACKET) throw new RangeError(`packet of ${length} bytes exceeds ${MAX_PACKET}`);
  const out = Buffer.alloc(length);
  out[0] = SOM;
  out[1] = p.address | (p.reply ? REPLY_BIT : 0);
  out.writeUInt16LE(length, 2);
  out[4] = p.sequence | (useCrc ? CTRL_CRC : 0) | (p.scb ? CTRL_SCB : 0);
  let at = HEADER_LENGTH;
  if (p.scb) {
    out[at] = scbLength;
    out[at + 1] = p.scb.type;
    out.set(scbData, at + 2);
    at += scbLength;
  }
  out[at++] = p.code;
  out.set(data, at);
  at += data.length;
  if (p.mac) {
    const mac = p.mac(Buffer.from(out.subarray(0, at)));
    if (mac.length < MAC_LENGTH) throw new RangeError(`MAC of ${mac.length} bytes, need ${MAC_LENGTH}`);
    out.set(mac.subarray(0, MAC_LENGTH), at);
    at += MAC_LENGTH;
  }
  if (useCrc) out.writeUInt16LE(crc16(out, at), at);
  else out[at] = checksum8(out, at);
  return p.mark === false ? out : Buffer.concat([Buffer.from([MARK]), out]);
}

/** Whether a complete candidate frame's check characters are right: the framer's resync test. */
export function checkCharactersOk(frame: Uint8Array): boolean {
  if (frame.length < MIN_PACKET) return false;
  const crc = ((frame[4] as number) & CTRL_CRC) !== 0;
  if (crc) return frame.length >= MIN_PACKET + 1 && crc16(frame, frame.length - 2) === ((frame[frame.length - 2] as number) | ((frame[frame.length - 1] as number) << 8));
  return checksum8(frame, frame.length - 1) === frame[frame.length - 1];
}
