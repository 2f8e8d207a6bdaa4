// OSDP messages: command layouts against published captures and the spec tables, reply decoding and card numbers from fixtures.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCard, decodeReply, encodeBuz, encodeCap, encodeChlng, encodeComset, encodeId, encodeKeyset, encodeLed, encodeOut, encodePoll, LedColor, Reply } from '../../../drivers/osdp/messages.js';
import { parsePacket } from '../../../drivers/osdp/packet.js';

interface Fixture {
  hex: string;
  expect: { ok: boolean; card?: Record<string, unknown>; decoded?: Record<string, unknown>; capabilities?: number };
}
const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/osdp/frames.json', import.meta.url), 'utf8')) as Record<string, Fixture>;

function replyOf(name: string) {
  const f = fixtures[name] as Fixture;
  const r = parsePacket(Buffer.from(f.hex, 'hex'));
  if (!r.ok) throw new Error(`${name}: ${r.error.detail}`);
  return { reply: decodeReply(r.packet.code, r.packet.data), expect: f.expect };
}

describe('command encoders', () => {
  it('lay out the simple commands as the spec does', () => {
    expect(encodePoll()).toEqual({ code: 0x60, data: Buffer.alloc(0) });
    expect(encodeId()).toEqual({ code: 0x61, data: Buffer.from([0]) });
    expect(encodeCap()).toEqual({ code: 0x62, data: Buffer.from([0]) });
    expect(encodeOut([{ output: 0, control: 2, timer: 0x1234 }]).data).toEqual(Buffer.from([0, 2, 0x34, 0x12]));
  });

  it('osdp_BUZ matches a captured OSDP.Net frame (reader 0, default tone, 200 ms on/off, once)', () => {
    expect(encodeBuz({ tone: 2, onTime: 2, offTime: 2, count: 1 })).toEqual({ code: 0x6a, data: Buffer.from('0002020201', 'hex') });
  });

  it('osdp_COMSET matches the Annex E example (address 0, 9600 baud)', () => {
    expect(encodeComset(0, 9600).data).toEqual(Buffer.from('0080250000', 'hex'));
  });

  it('osdp_LED is a 14-byte record with a little-endian timer; absent parts are NOP', () => {
    const led = encodeLed([{ temporary: { control: 2, onTime: 10, offTime: 0, onColor: LedColor.green, offColor: LedColor.black, timer: 300 } }]);
    expect(led.code).toBe(0x69);
    expect([...led.data]).toEqual([0, 0, 2, 10, 0, 2, 0, 0x2c, 0x01, 0, 0, 0, 0, 0]);
  });

  it('osdp_KEYSET, CHLNG check their sizes', () => {
    expect(encodeKeyset(Buffer.alloc(16, 0xaa)).data.subarray(0, 2)).toEqual(Buffer.from([1, 16]));
    expect(() => encodeKeyset(Buffer.alloc(15))).toThrow(RangeError);
    expect(() => encodeChlng(Buffer.alloc(7))).toThrow(RangeError);
  });
});

describe('reply decoding', () => {
  for (const name of ['osdpnet-ack-from-reader', 'osdpnet-pdid', 'fmt', 'keypad', 'nak-sequence', 'lstatr-tamper']) {
    it(`${name}`, () => {
      const { reply, expect: want } = replyOf(name);
      expect(reply).toMatchObject(want.decoded as object);
    });
  }

  it('pdcap lists every entry with a name', () => {
    const { reply } = replyOf('pdcap');
    expect(reply.type).toBe('pdcap');
    if (reply.type !== 'pdcap') return;
    expect(reply.capabilities).toHaveLength(7);
    expect(reply.capabilities.find((c) => c.function === 9)).toMatchObject({ name: 'communication security', compliance: 1 });
  });

  for (const name of ['raw-h10301', 'raw-h10306', 'raw-h10304', 'raw-h10301-bad-parity', 'raw-32bit']) {
    it(`${name} gives the card`, () => {
      const { reply, expect: want } = replyOf(name);
      expect(reply.type).toBe('raw');
      if (reply.type === 'raw') expect(reply.card).toMatchObject(want.card as object);
    });
  }

  it('unknown codes come back as unknown and bad layouts as malformed, never thrown', () => {
    expect(decodeReply(0x99, Buffer.from([1, 2]))).toEqual({ type: 'unknown', code: 0x99, data: Buffer.from([1, 2]) });
    expect(decodeReply(Reply.PDID, Buffer.alloc(3))).toMatchObject({ type: 'malformed' });
    expect(decodeReply(Reply.RAW, Buffer.from([0, 1, 26, 0, 0xff]))).toMatchObject({ type: 'malformed' });
    expect(decodeReply(Reply.KEYPAD, Buffer.from([0, 9, 0x31]))).toMatchObject({ type: 'malformed' });
    expect(decodeReply(Reply.NAK, Buffer.alloc(0))).toMatchObject({ type: 'malformed' });
    expect(decodeReply(Reply.CCRYPT, Buffer.alloc(31))).toMatchObject({ type: 'malformed' });
    for (let code = 0; code < 256; code++) for (const n of [0, 1, 5, 32]) expect(() => decodeReply(code, Buffer.alloc(n, 0xff))).not.toThrow();
  });

  it('NAK carries its code and reason', () => {
    expect(decodeReply(Reply.NAK, Buffer.from([6]))).toMatchObject({ type: 'nak', error: 6, reason: expect.stringMatching(/security/) });
  });
});

describe('card numbers', () => {
  it('H10301: the all-zero facility 0 card 0 has parity bits 0 and 1', () => {
    // 0 + 24 zero bits + 1: even parity over zero ones is 0, odd parity needs a 1.
    expect(decodeCard(Buffer.from([0, 0, 0, 0x40]), 26)).toEqual({ kind: 'wiegand', format: 'h10301', facility: 0, number: 0, bitCount: 26 });
    expect(decodeCard(Buffer.from([0, 0, 0, 0]), 26)).toMatchObject({ kind: 'parity-error' });
  });

  it('unknown lengths are hex', () => {
    expect(decodeCard(Buffer.from([0xab, 0xc0]), 12)).toEqual({ kind: 'raw', hex: 'ABC0', bitCount: 12 });
  });
});
