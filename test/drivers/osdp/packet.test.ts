// OSDP packet layer: the Annex E check-character vectors, published captures and broken frames from test/fixtures/osdp.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPacket, checksum8, crc16, parsePacket, SCS, type ParseExpect } from '../../../drivers/osdp/packet.js';

interface Fixture {
  hex: string;
  source: string;
  expect: { ok: boolean; kind?: string; address?: number; reply?: boolean; sequence?: number; crc?: boolean; code?: number; data?: string; expectAddress?: number; expectSequence?: number };
}

const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/osdp/frames.json', import.meta.url), 'utf8')) as Record<string, Fixture | string>;
const frames = Object.entries(fixtures).filter((e): e is [string, Fixture] => typeof e[1] !== 'string');

describe('check characters (spec packet structure, Annex E)', () => {
  it('CRC-16 matches the Annex E examples, stored least significant byte first', () => {
    expect(crc16(Buffer.from('537F0D00046E0080250000', 'hex'))).toBe(0x386e); // on the wire 6E 38
    expect(crc16(Buffer.from('53000900046100', 'hex'))).toBe(0x66c0); // on the wire C0 66
  });

  it('the checksum matches the Annex E examples', () => {
    expect(checksum8(Buffer.from('537F0C00006E0080250000', 'hex'))).toBe(0x0f);
    expect(checksum8(Buffer.from('53000800006100', 'hex'))).toBe(0x44);
  });
});

describe('parsePacket on fixtures', () => {
  for (const [name, f] of frames) {
    it(`${name}: ${f.expect.ok ? 'parses' : f.expect.kind}`, () => {
      const want: ParseExpect = {};
      if (f.expect.expectAddress !== undefined) want.address = f.expect.expectAddress;
      if (f.expect.expectSequence !== undefined) want.sequence = f.expect.expectSequence;
      const result = parsePacket(Buffer.from(f.hex, 'hex'), want);
      if (!f.expect.ok) {
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error.kind).toBe(f.expect.kind);
        return;
      }
      expect(result.ok, result.ok ? '' : result.error.detail).toBe(true);
      if (!result.ok) return;
      const p = result.packet;
      for (const key of ['address', 'reply', 'sequence', 'crc', 'code'] as const) if (f.expect[key] !== undefined) expect(p[key], key).toBe(f.expect[key]);
      if (f.expect.data !== undefined) expect(p.data.toString('hex').toUpperCase()).toBe(f.expect.data.toUpperCase());
    });
  }
});

describe('buildPacket', () => {
  it('reproduces published frames byte for byte', () => {
    // libosdp test_cp_build_packet_poll / _id: address 0x65, sequence 0, CRC, mark byte first.
    expect(buildPacket({ address: 0x65, sequence: 0, code: 0x60 }).toString('hex')).toBe('ff53650800046060' + '90');
    expect(buildPacket({ address: 0x65, sequence: 0, code: 0x61, data: Buffer.from([0]) }).toString('hex')).toBe('ff53650900046100d97a');
    // OSDP.Net PollCommandTest: sequence 2, CRC and checksum.
    expect(buildPacket({ address: 0, sequence: 2, code: 0x60, mark: false }).toString('hex').toUpperCase()).toBe('530008000660' + '89CC');
    expect(buildPacket({ address: 0, sequence: 2, code: 0x60, crc: false, mark: false }).toString('hex').toUpperCase()).toBe('53000700026044');
    // OSDP.Net: a reader's ACK, sequence 1.
    expect(buildPacket({ address: 0, reply: true, sequence: 1, code: 0x40, mark: false })).toEqual(Buffer.from([83, 128, 8, 0, 5, 64, 104, 159]));
  });

  it('round-trips a security block and a MAC, the MAC seeing the final length field', () => {
    let seen: Buffer | null = null;
    const bytes = buildPacket({ address: 3, sequence: 1, code: 0x69, data: Buffer.from([1, 2, 3]), scb: { type: SCS.cmdMacEnc }, mac: (input) => ((seen = input), Buffer.from([9, 8, 7, 6])) });
    const r = parsePacket(bytes, { address: 3, reply: false, sequence: 1 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet.scb).toEqual({ type: SCS.cmdMacEnc, data: Buffer.alloc(0) });
    expect(r.packet.data).toEqual(Buffer.from([1, 2, 3]));
    expect(r.packet.mac).toEqual(Buffer.from([9, 8, 7, 6]));
    expect(seen).toEqual(r.packet.macInput);
    expect(r.packet.macInput.readUInt16LE(2)).toBe(r.packet.raw.length);
  });

  it('rejects impossible fields from the caller', () => {
    expect(() => buildPacket({ address: 128, sequence: 0, code: 0x60 })).toThrow(RangeError);
    expect(() => buildPacket({ address: 1, sequence: 4, code: 0x60 })).toThrow(RangeError);
  });
});

describe('parsePacket never throws', () => {
  it('classifies every prefix and every single-byte corruption of a good frame without throwing', () => {
    const good = buildPacket({ address: 5, reply: true, sequence: 2, code: 0x50, data: Buffer.from('000118000123456', 'hex'), mark: false });
    for (let n = 0; n <= good.length; n++) expect(() => parsePacket(good.subarray(0, n))).not.toThrow();
    for (let i = 0; i < good.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(good);
        bad[i] = (bad[i] as number) ^ flip;
        const r = parsePacket(bad, { address: 5, reply: true, sequence: 2 });
        expect(r.ok).toBe(false);
      }
    }
  });

  it('tells a reply from a command and a PD from another', () => {
    const cmd = buildPacket({ address: 5, sequence: 1, code: 0x60 });
    expect(parsePacket(cmd, { reply: true })).toMatchObject({ ok: false, error: { kind: 'not-a-reply' } });
    const other = buildPacket({ address: 6, reply: true, sequence: 1, code: 0x40 });
    expect(parsePacket(other, { address: 5, reply: true })).toMatchObject({ ok: false, error: { kind: 'wrong-address' } });
  });
});
