// Modbus RTU framing on byte fixtures (spec examples, pymodbus captures, broken frames) and on random bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../gateway/core/paths.js';
import { prng } from '../../helpers/prng.js';
import {
  answerTo,
  crc16,
  crcOk,
  decodeResponse,
  encodeRequest,
  exceptionName,
  packBits,
  readCoils,
  readDiscreteInputs,
  unpackBits,
  withCrc,
  writeMultipleCoils,
  writeSingleCoil,
  type ModbusRequest,
} from '../../../drivers/modbus-relay/frame.js';

interface Fixtures {
  crc: { note: string; hex?: string; ascii?: string; crc: number }[];
  requests: { note: string; request: ModbusRequest; hex: string }[];
  responses: { note: string; request: ModbusRequest; hex?: string; withCrc?: string; decoded?: unknown; answer?: unknown }[];
}

const fixtures = JSON.parse(readFileSync(join(packageRoot, 'test/fixtures/modbus/frames.json'), 'utf8')) as Fixtures;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const frameOf = (f: { hex?: string; withCrc?: string }): Buffer => (f.hex !== undefined ? hex(f.hex) : withCrc(hex(f.withCrc ?? '')));

describe('CRC-16/MODBUS', () => {
  it.each(fixtures.crc.map((f) => [f.note, f] as const))('%s', (_note, f) => {
    const data = f.hex !== undefined ? hex(f.hex) : Buffer.from(f.ascii ?? '', 'ascii');
    expect(crc16(data)).toBe(f.crc);
    const framed = withCrc(data);
    // Low byte first on the wire.
    expect(framed.subarray(-2)).toEqual(Buffer.from([f.crc & 0xff, f.crc >> 8]));
    expect(crcOk(framed)).toBe(true);
  });

  it('rejects every single-bit error in a captured frame', () => {
    const frame = hex('0102010220 49');
    for (let bit = 0; bit < frame.length * 8; bit++) {
      const damaged = Buffer.from(frame);
      damaged[bit >> 3] = (damaged[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(crcOk(damaged), `bit ${bit}`).toBe(false);
    }
  });

  it('is false for anything shorter than a frame', () => {
    expect(crcOk(Buffer.alloc(0))).toBe(false);
    expect(crcOk(hex('ffff'))).toBe(false);
    expect(crcOk(hex('01ffff'))).toBe(false);
  });
});

describe('requests', () => {
  it.each(fixtures.requests.map((f) => [f.note, f] as const))('%s', (_note, f) => {
    expect(encodeRequest(f.request).toString('hex')).toBe(hex(f.hex).toString('hex'));
  });

  it('builders match the generic encoder', () => {
    expect(readCoils(1, 0, 8)).toEqual(hex('010100000008 3dcc'));
    expect(readDiscreteInputs(1, 0, 8)).toEqual(hex('010200000008 79cc'));
    expect(writeSingleCoil(1, 0, true)).toEqual(hex('01050000ff00 8c3a'));
    expect(writeSingleCoil(1, 0, false)).toEqual(hex('010500000000 cdca'));
    expect(writeMultipleCoils(1, 0, [true, false, true, false])).toEqual(hex('010f000000040105 fe95'));
  });

  it('refuses requests no slave could take', () => {
    expect(() => readCoils(0, 0, 1)).toThrow(RangeError);
    expect(() => readCoils(248, 0, 1)).toThrow(RangeError);
    expect(() => readCoils(1, 0, 0)).toThrow(RangeError);
    expect(() => readCoils(1, 0, 2001)).toThrow(RangeError);
    expect(() => readDiscreteInputs(1, 65535, 2)).toThrow(RangeError);
    expect(() => writeSingleCoil(1, 65536, true)).toThrow(RangeError);
    expect(() => writeSingleCoil(1, 1.5, true)).toThrow(RangeError);
    expect(() => writeMultipleCoils(1, 0, [])).toThrow(RangeError);
    expect(() => writeMultipleCoils(1, 0, new Array<boolean>(1969).fill(true))).toThrow(RangeError);
    // Broadcast is a write-only address.
    expect(writeSingleCoil(0, 0, true)[0]).toBe(0);
  });

  it('packs bits least significant first and unpacks them again', () => {
    const values = [true, false, true, true, false, false, true, true, true, false];
    expect(packBits(values)).toEqual(hex('cd01'));
    expect(unpackBits(hex('cd01'), 10)).toEqual(values);
    expect(unpackBits(hex('cd'), 12)).toHaveLength(8);
  });
});

describe('responses', () => {
  it.each(fixtures.responses.map((f) => [f.note, f] as const))('%s', (_note, f) => {
    const frame = frameOf(f);
    if (f.decoded !== undefined) expect(decodeResponse(frame)).toEqual(f.decoded);
    if (f.answer !== undefined) expect(answerTo(f.request, frame)).toEqual(f.answer);
  });

  it('names every exception code of the spec', () => {
    expect([1, 2, 3, 4, 5, 6, 8, 10, 11].map(exceptionName)).toEqual([
      'illegal function',
      'illegal data address',
      'illegal data value',
      'server device failure',
      'acknowledge',
      'server device busy',
      'memory parity error',
      'gateway path unavailable',
      'gateway target device failed to respond',
    ]);
  });

  it('survives random bytes and random frames with a valid CRC without throwing', () => {
    // Seeded, so a failure reproduces; a few random frames may pass the CRC by chance, hence !crcOk.
    const random = prng(20260101);
    const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const req: ModbusRequest = { fn: 2, unit: 1, address: 0, count: 3 };
    for (let i = 0; i < 5000; i++) {
      const raw = randomBytes(i % 300);
      if (!crcOk(raw)) {
        expect(decodeResponse(raw).ok).toBe(false);
        expect(answerTo(req, raw).kind).toBe('invalid');
      }
      // A valid CRC gets past the first check, so the structural checks see arbitrary content.
      const framed = withCrc(randomBytes(i % 12));
      const decoded = decodeResponse(framed);
      const answer = answerTo(req, framed);
      expect(typeof decoded.ok).toBe('boolean');
      expect(['bits', 'written', 'exception', 'invalid']).toContain(answer.kind);
      if (answer.kind === 'bits') expect(answer.bits).toHaveLength(3);
    }
  });

  it('reads a view into a larger buffer correctly', () => {
    const big = Buffer.concat([hex('deadbeef'), hex('0102010160 48'), hex('cafe')]);
    const view = big.subarray(4, 10);
    expect(answerTo({ fn: 2, unit: 1, address: 0, count: 2 }, view)).toEqual({ kind: 'bits', bits: [true, false] });
  });
});
