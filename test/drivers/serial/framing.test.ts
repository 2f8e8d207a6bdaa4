// Tests for the serial framers on byte fixtures: clean frames, garbage, arbitrary splits, bad lengths, idle gaps.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/core/clock.js';
import { IdleGapFramer, LengthPrefixedFramer, LineFramer, idleGapMs, type FramerGarbage, type LengthPrefixedFramerOptions } from '../../../drivers/serial/framing.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Feeds `data` in pieces cut at the given offsets. */
function feed(framer: { push(c: Uint8Array): void }, data: Buffer, cuts: number[]): void {
  let at = 0;
  for (const cut of [...cuts, data.length]) {
    framer.push(data.subarray(at, cut));
    at = cut;
  }
}

/** Every way to split `data` into two chunks, plus one byte at a time. */
function splits(data: Buffer): number[][] {
  const out: number[][] = [[]];
  for (let i = 1; i < data.length; i++) out.push([i]);
  out.push(Array.from({ length: data.length - 1 }, (_, i) => i + 1));
  return out;
}

function collector() {
  const frames: Buffer[] = [];
  const garbage: FramerGarbage[] = [];
  return {
    frames,
    garbage,
    onFrame: (f: Buffer) => frames.push(f),
    onGarbage: (g: FramerGarbage) => garbage.push(g),
    dropped: () => garbage.reduce((n, g) => n + g.bytes, 0),
  };
}

describe('LineFramer', () => {
  it('cuts CRLF lines whatever the chunking, skipping empty lines', () => {
    const data = Buffer.from('W26:1234567\r\n\r\nPIN:0042\r\nW34:DEADBEEF\r\n');
    for (const cuts of splits(data)) {
      const c = collector();
      feed(new LineFramer({ delimiter: '\r\n', onFrame: c.onFrame, onGarbage: c.onGarbage }), data, cuts);
      expect(c.frames.map(String), `cuts ${cuts.join(',')}`).toEqual(['W26:1234567', 'PIN:0042', 'W34:DEADBEEF']);
      expect(c.garbage).toEqual([]);
    }
  });

  it('keeps empty lines when asked and keeps a partial line for the next chunk', () => {
    const c = collector();
    const framer = new LineFramer({ keepEmpty: true, onFrame: c.onFrame });
    framer.push(Buffer.from('a\n\nb'));
    expect(c.frames.map(String)).toEqual(['a', '']);
    framer.push(Buffer.from('c\n'));
    expect(c.frames.map(String)).toEqual(['a', '', 'bc']);
  });

  it('drops an over-long line as garbage, never as a frame, and carries on', () => {
    const long = 'X'.repeat(40);
    const data = Buffer.from(`ok1\r\n${long}\r\nok2\r\n`);
    for (const cuts of splits(data)) {
      const c = collector();
      feed(new LineFramer({ delimiter: '\r\n', maxLength: 16, onFrame: c.onFrame, onGarbage: c.onGarbage }), data, cuts);
      expect(c.frames.map(String), `cuts ${cuts.join(',')}`).toEqual(['ok1', 'ok2']);
      expect(c.garbage).toHaveLength(1);
      expect(c.garbage[0]).toMatchObject({ reason: 'line too long', bytes: 42 });
      expect(String(c.garbage[0]?.sample).startsWith('XXXX')).toBe(true);
    }
  });

  it('does not buffer without bound when the line end never comes', () => {
    const c = collector();
    const framer = new LineFramer({ maxLength: 8, onFrame: c.onFrame, onGarbage: c.onGarbage });
    for (let i = 0; i < 10_000; i++) framer.push(Buffer.from('garbage-without-newline'));
    expect(c.frames).toEqual([]);
    framer.push(Buffer.from('\nfine\n'));
    expect(c.frames.map(String)).toEqual(['fine']);
    expect(c.garbage).toEqual([expect.objectContaining({ reason: 'line too long', bytes: 230_001 })]);
  });

  it('accepts a line of exactly maxLength and binary bytes in it', () => {
    const c = collector();
    const framer = new LineFramer({ maxLength: 4, onFrame: c.onFrame, onGarbage: c.onGarbage });
    framer.push(hex('00ff5380 0a 0102030405 0a'));
    expect(c.frames).toEqual([hex('00ff5380')]);
    expect(c.garbage).toMatchObject([{ reason: 'line too long', bytes: 6 }]);
  });

  it('reports a partial line as garbage on reset', () => {
    const c = collector();
    const framer = new LineFramer({ onFrame: c.onFrame, onGarbage: c.onGarbage });
    framer.push(Buffer.from('half a li'));
    framer.reset();
    framer.push(Buffer.from('ne\nwhole\n'));
    expect(c.frames.map(String)).toEqual(['ne', 'whole']);
    expect(c.garbage).toMatchObject([{ reason: 'incomplete line at reset', bytes: 9 }]);
  });
});

// OSDP framing: SOM 0x53, ADDR, LEN (16-bit LE, whole packet), CTRL, data..., CRC-16/AUG-CCITT LE.
function crc16(data: Uint8Array): number {
  let crc = 0x1d0f;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function osdp(addr: number, ctrl: number, payload: string): Buffer {
  const body = hex(payload);
  const len = 5 + body.length + 2;
  const head = Buffer.from([0x53, addr, len & 0xff, len >> 8, ctrl]);
  const noCrc = Buffer.concat([head, body]);
  const crc = crc16(noCrc);
  return Buffer.concat([noCrc, Buffer.from([crc & 0xff, crc >> 8])]);
}

const osdpCheck = (f: Buffer): boolean => crc16(f.subarray(0, -2)) === f.readUInt16LE(f.length - 2);

function osdpFramer(c: ReturnType<typeof collector>, extra: Partial<LengthPrefixedFramerOptions> = {}): LengthPrefixedFramer {
  return new LengthPrefixedFramer({ start: 0x53, lengthOffset: 2, lengthBytes: 2, littleEndian: true, minLength: 8, maxLength: 128, onFrame: c.onFrame, onGarbage: c.onGarbage, ...extra });
}

describe('LengthPrefixedFramer (OSDP-shaped)', () => {
  const poll = osdp(0x00, 0x04, '60'); // osdp_POLL
  const card = osdp(0x80, 0x05, '50 00 01 1a 00 d2 9f 40 c0'); // osdp_RAW: 26-bit card read

  it('the fixtures are well-formed', () => {
    expect(poll.readUInt16LE(2)).toBe(poll.length);
    expect(osdpCheck(poll) && osdpCheck(card)).toBe(true);
  });

  it('cuts back-to-back frames whatever the chunking', () => {
    const data = Buffer.concat([poll, card, poll]);
    for (const cuts of splits(data)) {
      const c = collector();
      feed(osdpFramer(c), data, cuts);
      expect(c.frames, `cuts ${cuts.join(',')}`).toEqual([poll, card, poll]);
      expect(c.garbage).toEqual([]);
    }
  });

  it('skips garbage before, between and after frames and counts it', () => {
    const data = Buffer.concat([hex('0102 03'), poll, hex('aabb'), card, hex('cc')]);
    for (const cuts of splits(data)) {
      const c = collector();
      feed(osdpFramer(c), data, cuts);
      expect(c.frames, `cuts ${cuts.join(',')}`).toEqual([poll, card]);
      expect(c.dropped()).toBe(6);
      expect(c.garbage.every((g) => g.reason === 'no start byte')).toBe(true);
    }
  });

  it('resyncs on the next start byte after an impossible length', () => {
    // A start byte followed by a length of 0x5353 (far above maxLength), then a real frame.
    const data = Buffer.concat([hex('53 00 53 53'), card]);
    for (const cuts of splits(data)) {
      const c = collector();
      feed(osdpFramer(c), data, cuts);
      expect(c.frames, `cuts ${cuts.join(',')}`).toEqual([card]);
      expect(c.dropped()).toBe(4);
      expect(c.garbage.map((g) => g.reason)).toContain('impossible length 21331');
    }
  });

  it('rejects lengths below minLength', () => {
    const c = collector();
    osdpFramer(c).push(Buffer.concat([hex('53 00 03 00'), poll]));
    expect(c.frames).toEqual([poll]);
    expect(c.garbage[0]).toMatchObject({ reason: 'impossible length 3', bytes: 1 });
    expect(c.dropped()).toBe(4);
  });

  it('with a check, finds a real frame that a bogus header swallowed', () => {
    // A stray 0x53 whose "length" (9) reaches into the real frame that follows.
    const data = Buffer.concat([hex('53 01 09 00'), card]);
    const c = collector();
    feed(osdpFramer(c, { check: osdpCheck }), data, [2, 7]);
    expect(c.frames).toEqual([card]);
    expect(c.garbage.map((g) => g.reason)).toEqual(['check failed', 'no start byte']);
    expect(c.dropped()).toBe(4);
  });

  it('ignores idle mark bytes without calling them garbage', () => {
    const c = collector();
    osdpFramer(c, { idleBytes: [0xff] }).push(Buffer.concat([hex('ff'), poll, hex('ff ff 01 ff'), card]));
    expect(c.frames).toEqual([poll, card]);
    expect(c.garbage).toMatchObject([{ reason: 'no start byte', bytes: 1 }]);
  });

  it('survives pure noise and still frames afterwards', () => {
    const c = collector();
    const framer = osdpFramer(c, { check: osdpCheck });
    // Deterministic noise, start bytes included, so every failure path is exercised.
    let seed = 7;
    const noise = Buffer.alloc(4096);
    for (let i = 0; i < noise.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      noise[i] = seed % 5 === 0 ? 0x53 : seed & 0xff;
    }
    for (let i = 0; i < noise.length; i += 37) framer.push(noise.subarray(i, i + 37));
    framer.reset();
    framer.push(poll);
    expect(c.frames.at(-1)).toEqual(poll);
    expect(c.dropped()).toBe(noise.length + c.frames.slice(0, -1).reduce((n, f) => n - f.length, 0));
  });

  it('supports a big-endian 1-byte length that excludes the header (lengthAdjust)', () => {
    const c = collector();
    const framer = new LengthPrefixedFramer({ start: 0x02, lengthOffset: 1, lengthBytes: 1, lengthAdjust: 2, minLength: 2, maxLength: 10, onFrame: c.onFrame, onGarbage: c.onGarbage });
    framer.push(hex('02 03 aa bb cc 02 00'));
    expect(c.frames).toEqual([hex('02 03 aa bb cc'), hex('02 00')]);
  });

  it('refuses nonsensical options', () => {
    const c = collector();
    expect(() => osdpFramer(c, { minLength: 3 })).toThrow(/minLength/);
    expect(() => osdpFramer(c, { lengthBytes: 5 })).toThrow(/lengthBytes/);
    expect(() => osdpFramer(c, { maxLength: 4 })).toThrow(/maxLength/);
  });
});

// Modbus RTU framing: frames end with 3.5 character times of silence.
function modbusCrc(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  return crc;
}
const modbusCheck = (f: Buffer): boolean => modbusCrc(f.subarray(0, -2)) === f.readUInt16LE(f.length - 2);

describe('idleGapMs', () => {
  it('is 3.5 eleven-bit characters, rounded up, with the 1.75 ms floor above 19200 baud', () => {
    expect(idleGapMs(9600)).toBe(5); // 4.01 ms
    expect(idleGapMs(19200)).toBe(3); // 2.005 ms
    expect(idleGapMs(115200)).toBe(2); // 0.33 ms, floored to 1.75
    expect(idleGapMs(9600, { minMs: 20 })).toBe(20);
  });
});

describe('IdleGapFramer (Modbus RTU)', () => {
  // Read holding registers request and its reply, CRCs as published in the Modbus spec examples.
  const request = hex('11 03 006b 0003 7687');
  const reply = hex('11 03 06 ae41 5652 4340 49ad');

  function setup(extra: { check?: (f: Buffer) => boolean } = {}) {
    const clock = new ManualClock();
    const c = collector();
    const gapMs = idleGapMs(9600);
    const framer = new IdleGapFramer({ clock, gapMs, minLength: 4, maxLength: 16, onFrame: c.onFrame, onGarbage: c.onGarbage, ...extra });
    return { clock, c, framer, gapMs };
  }

  it('the fixtures carry valid CRCs', () => {
    expect(modbusCheck(request) && modbusCheck(reply)).toBe(true);
  });

  it('ends a frame only after a full gap of silence, however the bytes were split', () => {
    const { clock, c, framer, gapMs } = setup({ check: modbusCheck });
    for (const byte of request) {
      framer.push(Buffer.from([byte]));
      clock.advance(gapMs - 1); // inter-byte pauses shorter than the gap keep the frame open
    }
    expect(c.frames).toEqual([]);
    clock.advance(1);
    expect(c.frames).toEqual([request]);
    framer.push(reply.subarray(0, 5));
    clock.advance(2);
    framer.push(reply.subarray(5));
    clock.advance(gapMs);
    expect(c.frames).toEqual([request, reply]);
    expect(c.garbage).toEqual([]);
  });

  it('splits two frames separated by a gap even when both came in close chunks', () => {
    const { clock, c, framer, gapMs } = setup();
    framer.push(request);
    clock.advance(gapMs);
    framer.push(reply);
    clock.advance(gapMs);
    expect(c.frames).toEqual([request, reply]);
  });

  it('reports frames that fail the check, are too short or too long as garbage', () => {
    const { clock, c, framer, gapMs } = setup({ check: modbusCheck });
    const corrupt = Buffer.from(request);
    corrupt[3] = 0x6c;
    framer.push(corrupt);
    clock.advance(gapMs);
    framer.push(hex('11 03'));
    clock.advance(gapMs);
    for (let i = 0; i < 5; i++) framer.push(Buffer.alloc(10, i));
    clock.advance(gapMs);
    framer.push(request);
    clock.advance(gapMs);
    expect(c.frames).toEqual([request]);
    expect(c.garbage.map((g) => [g.reason, g.bytes])).toEqual([
      ['check failed', 8],
      ['frame too short', 2],
      ['frame too long', 50],
    ]);
  });

  it('reset drops a partial frame and leaves no timer behind', () => {
    const { clock, c, framer, gapMs } = setup();
    framer.push(request.subarray(0, 3));
    framer.reset();
    clock.advance(gapMs * 10);
    expect(c.frames).toEqual([]);
    expect(c.garbage).toMatchObject([{ reason: 'incomplete frame at reset', bytes: 3 }]);
  });
});
