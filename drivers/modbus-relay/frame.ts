// Pure Modbus RTU framing for relay boards: coil and discrete-input requests, their answers, exceptions and the CRC.
//
// References: MODBUS over Serial Line V1.02 (RTU framing, CRC) and MODBUS Application Protocol
// V1.1b3 (function codes 01, 02, 05, 0F and exception responses). Addresses are the protocol
// addresses sent on the wire (0-based), not the 1-based "coil 1" of some manuals.

export const FunctionCode = {
  ReadCoils: 0x01,
  ReadDiscreteInputs: 0x02,
  WriteSingleCoil: 0x05,
  WriteMultipleCoils: 0x0f,
} as const;

export type ReadFunction = typeof FunctionCode.ReadCoils | typeof FunctionCode.ReadDiscreteInputs;

export type ModbusRequest =
  | { fn: ReadFunction; unit: number; address: number; count: number }
  | { fn: typeof FunctionCode.WriteSingleCoil; unit: number; address: number; on: boolean }
  | { fn: typeof FunctionCode.WriteMultipleCoils; unit: number; address: number; values: readonly boolean[] };

/** Exception codes of the Application Protocol (section 7), named as the spec names them. */
export const exceptionNames: Readonly<Record<number, string>> = {
  0x01: 'illegal function',
  0x02: 'illegal data address',
  0x03: 'illegal data value',
  0x04: 'server device failure',
  0x05: 'acknowledge',
  0x06: 'server device busy',
  0x08: 'memory parity error',
  0x0a: 'gateway path unavailable',
  0x0b: 'gateway target device failed to respond',
};

export function exceptionName(code: number): string {
  return exceptionNames[code] ?? `unknown exception 0x${hex2(code)}`;
}

/** A structurally valid response, not yet matched to a request. */
export type ModbusResponse =
  | { kind: 'bits'; unit: number; fn: ReadFunction; byteCount: number; bits: boolean[] }
  | { kind: 'write-coil'; unit: number; fn: typeof FunctionCode.WriteSingleCoil; address: number; on: boolean }
  | { kind: 'write-coils'; unit: number; fn: typeof FunctionCode.WriteMultipleCoils; address: number; count: number }
  /** `fn` is the function that was refused (without the 0x80 bit). */
  | { kind: 'exception'; unit: number; fn: number; code: number; name: string };

export type DecodeResult = { ok: true; response: ModbusResponse } | { ok: false; reason: string };

/** What a response means for the request it answers. */
export type Answer =
  | { kind: 'bits'; bits: boolean[] }
  | { kind: 'written' }
  | { kind: 'exception'; code: number; name: string }
  | { kind: 'invalid'; reason: string };

/** RTU ADU limits (serial line spec 2.5.1): address + PDU (at most 253) + CRC. */
export const minFrameLength = 4;
export const maxFrameLength = 256;
const maxReadBits = 2000;
const maxWriteBits = 1968;
const coilOn = 0xff00;
const coilOff = 0x0000;

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF. */
export function crc16(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The frame with its CRC appended, low byte first as the serial line spec sends it. */
export function withCrc(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length + 2);
  out.set(body, 0);
  out.writeUInt16LE(crc16(body), body.length);
  return out;
}

/** True when the last two bytes are the CRC of the rest; false for anything shorter than a frame. */
export function crcOk(frame: Uint8Array): boolean {
  if (frame.length < minFrameLength) return false;
  const body = frame.subarray(0, frame.length - 2);
  const sent = (frame[frame.length - 2] as number) | ((frame[frame.length - 1] as number) << 8);
  return crc16(body) === sent;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

function isInt(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/**
 * Encodes a request as an RTU frame. Throws RangeError for a request no slave could accept
 * (the driver's config schema keeps such values out; this is a programming error, not input).
 */
export function encodeRequest(req: ModbusRequest): Buffer {
  // Unit 0 is broadcast: allowed for writes only, which no slave answers (serial line spec 2.2).
  check(isInt(req.unit, req.fn === FunctionCode.ReadCoils || req.fn === FunctionCode.ReadDiscreteInputs ? 1 : 0, 247), `slave address must be 1-247 (0 to broadcast a write), got ${req.unit}`);
  check(isInt(req.address, 0, 0xffff), `address must be 0-65535, got ${req.address}`);
  switch (req.fn) {
    case FunctionCode.ReadCoils:
    case FunctionCode.ReadDiscreteInputs: {
      check(isInt(req.count, 1, maxReadBits), `a read covers 1-${maxReadBits} bits, got ${req.count}`);
      check(req.address + req.count <= 0x10000, 'read runs past address 65535');
      const body = Buffer.alloc(6);
      body.writeUInt8(req.unit, 0);
      body.writeUInt8(req.fn, 1);
      body.writeUInt16BE(req.address, 2);
      body.writeUInt16BE(req.count, 4);
      return withCrc(body);
    }
    case FunctionCode.WriteSingleCoil: {
      const body = Buffer.alloc(6);
      body.writeUInt8(req.unit, 0);
      body.writeUInt8(req.fn, 1);
      body.writeUInt16BE(req.address, 2);
      body.writeUInt16BE(req.on ? coilOn : coilOff, 4);
      return withCrc(body);
    }
    case FunctionCode.WriteMultipleCoils: {
      const count = req.values.length;
      check(isInt(count, 1, maxWriteBits), `a multiple-coil write covers 1-${maxWriteBits} coils, got ${count}`);
      check(req.address + count <= 0x10000, 'write runs past address 65535');
      const packed = packBits(req.values);
      const body = Buffer.alloc(7 + packed.length);
      body.writeUInt8(req.unit, 0);
      body.writeUInt8(req.fn, 1);
      body.writeUInt16BE(req.address, 2);
      body.writeUInt16BE(count, 4);
      body.writeUInt8(packed.length, 6);
      body.set(packed, 7);
      return withCrc(body);
    }
  }
}

export const readCoils = (unit: number, address: number, count: number): Buffer => encodeRequest({ fn: FunctionCode.ReadCoils, unit, address, count });
export const readDiscreteInputs = (unit: number, address: number, count: number): Buffer => encodeRequest({ fn: FunctionCode.ReadDiscreteInputs, unit, address, count });
export const writeSingleCoil = (unit: number, address: number, on: boolean): Buffer => encodeRequest({ fn: FunctionCode.WriteSingleCoil, unit, address, on });
export const writeMultipleCoils = (unit: number, address: number, values: readonly boolean[]): Buffer =>
  encodeRequest({ fn: FunctionCode.WriteMultipleCoils, unit, address, values });

/** Bit i goes to bit (i % 8) of byte (i / 8): the first coil is the least significant bit (spec 6.1). */
export function packBits(values: readonly boolean[]): Buffer {
  const out = Buffer.alloc(Math.ceil(values.length / 8));
  values.forEach((on, i) => {
    if (on) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
  });
  return out;
}

export function unpackBits(bytes: Uint8Array, count: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < count && i >> 3 < bytes.length; i++) out.push((((bytes[i >> 3] as number) >> (i & 7)) & 1) === 1);
  return out;
}

/** The length a response with this function byte (and, for reads, byte count) must have; null if unknown. */
function expectedLength(frame: Uint8Array): number | null {
  const fn = frame[1];
  if (fn === undefined) return null;
  if (fn & 0x80) return 5;
  if (fn === FunctionCode.ReadCoils || fn === FunctionCode.ReadDiscreteInputs) {
    const byteCount = frame[2];
    return byteCount === undefined ? null : 5 + byteCount;
  }
  if (fn === FunctionCode.WriteSingleCoil || fn === FunctionCode.WriteMultipleCoils) return 8;
  return null;
}

/** Checks a response frame on its own: CRC, slave address, function, lengths and values. Never throws. */
export function decodeResponse(frame: Uint8Array): DecodeResult {
  const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const length = bytes.length;
  if (length < minFrameLength) return { ok: false, reason: `truncated frame: ${length} bytes` };
  if (length > maxFrameLength) return { ok: false, reason: `frame too long: ${length} bytes` };
  const expected = expectedLength(bytes);
  if (!crcOk(bytes)) {
    // A frame cut short by a lost byte fails the CRC too; naming it helps whoever reads the log.
    if (expected !== null && length < expected) return { ok: false, reason: `truncated frame: ${length} of ${expected} bytes` };
    return { ok: false, reason: 'bad CRC' };
  }
  const unit = bytes.readUInt8(0);
  const fn = bytes.readUInt8(1);
  // 0 is broadcast, which is never answered; 248-255 are reserved (serial line spec 2.2).
  if (unit < 1 || unit > 247) return { ok: false, reason: `invalid slave address ${unit}` };
  if (expected === null) return { ok: false, reason: `unsupported function 0x${hex2(fn)}` };
  if (length !== expected) return { ok: false, reason: `function 0x${hex2(fn)} frame of ${length} bytes, expected ${expected}` };

  if (fn & 0x80) {
    const refused = fn & 0x7f;
    const code = bytes.readUInt8(2);
    return { ok: true, response: { kind: 'exception', unit, fn: refused, code, name: exceptionName(code) } };
  }
  switch (fn) {
    case FunctionCode.ReadCoils:
    case FunctionCode.ReadDiscreteInputs: {
      const byteCount = bytes.readUInt8(2);
      if (byteCount < 1 || byteCount > Math.ceil(maxReadBits / 8)) return { ok: false, reason: `byte count ${byteCount} out of range` };
      return { ok: true, response: { kind: 'bits', unit, fn, byteCount, bits: unpackBits(bytes.subarray(3, 3 + byteCount), byteCount * 8) } };
    }
    case FunctionCode.WriteSingleCoil: {
      const address = bytes.readUInt16BE(2);
      const value = bytes.readUInt16BE(4);
      if (value !== coilOn && value !== coilOff) return { ok: false, reason: `coil value 0x${value.toString(16).padStart(4, '0')} is neither 0xFF00 nor 0x0000` };
      return { ok: true, response: { kind: 'write-coil', unit, fn, address, on: value === coilOn } };
    }
    default: {
      const address = bytes.readUInt16BE(2);
      const count = bytes.readUInt16BE(4);
      if (count < 1 || count > maxWriteBits) return { ok: false, reason: `coil count ${count} out of range` };
      return { ok: true, response: { kind: 'write-coils', unit, fn: FunctionCode.WriteMultipleCoils, address, count } };
    }
  }
}

/** Matches a response frame to the request it should answer. Never throws. */
export function answerTo(req: ModbusRequest, frame: Uint8Array): Answer {
  const decoded = decodeResponse(frame);
  if (!decoded.ok) return { kind: 'invalid', reason: decoded.reason };
  const res = decoded.response;
  if (res.unit !== req.unit) return { kind: 'invalid', reason: `answer from slave ${res.unit}, expected slave ${req.unit}` };
  if (res.fn !== req.fn) return { kind: 'invalid', reason: `answer to function 0x${hex2(res.fn)}, expected 0x${hex2(req.fn)}` };
  switch (res.kind) {
    case 'exception':
      return { kind: 'exception', code: res.code, name: res.name };
    case 'bits': {
      if (req.fn !== FunctionCode.ReadCoils && req.fn !== FunctionCode.ReadDiscreteInputs) return { kind: 'invalid', reason: 'bits answered to a write' };
      const want = Math.ceil(req.count / 8);
      if (res.byteCount !== want) return { kind: 'invalid', reason: `byte count ${res.byteCount}, expected ${want} for ${req.count} bits` };
      // The padding bits of the last byte should be zero (spec 6.1) but are ignored, as most masters do.
      return { kind: 'bits', bits: res.bits.slice(0, req.count) };
    }
    case 'write-coil':
      if (req.fn !== FunctionCode.WriteSingleCoil) return { kind: 'invalid', reason: 'single-coil echo answered to another request' };
      if (res.address !== req.address || res.on !== req.on) return { kind: 'invalid', reason: 'write echo does not match the request' };
      return { kind: 'written' };
    case 'write-coils':
      if (req.fn !== FunctionCode.WriteMultipleCoils) return { kind: 'invalid', reason: 'multiple-coil echo answered to another request' };
      if (res.address !== req.address || res.count !== req.values.length) return { kind: 'invalid', reason: 'write echo does not match the request' };
      return { kind: 'written' };
  }
}

/** A short human name for a request, for log lines and command details. */
export function describeRequest(req: ModbusRequest): string {
  switch (req.fn) {
    case FunctionCode.ReadCoils:
      return `read coils ${req.address}-${req.address + req.count - 1}`;
    case FunctionCode.ReadDiscreteInputs:
      return `read inputs ${req.address}-${req.address + req.count - 1}`;
    case FunctionCode.WriteSingleCoil:
      return `switch coil ${req.address} ${req.on ? 'on' : 'off'}`;
    case FunctionCode.WriteMultipleCoils:
      return `write coils ${req.address}-${req.address + req.values.length - 1}`;
  }
}
