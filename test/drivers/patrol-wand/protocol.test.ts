// The wand protocol, pure: fixture lines of every kind, sequence checks, a chunked session, the README's examples, zone conversion, random lines.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSequence, checksum, frameLine, hostCommands, maxLineLength, parseWandLine, wandErrorReasons, type WandErrorCode } from '../../../drivers/patrol-wand/protocol.js';
import { formatWandTime, isTimeZone, localToUtc, parseWandTime, utcToLocal, zoneOffsetMs } from '../../../drivers/patrol-wand/time.js';
import { LineFramer } from '../../../drivers/serial/framing.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { prng } from '../../helpers/prng.js';

interface LineCase {
  note: string;
  line?: string;
  lineHex?: string;
  expect: { ok: true; message: Record<string, unknown> } | { ok: false; code: WandErrorCode; seq?: number };
}

const fixtureDir = join(packageRoot, 'test/fixtures/patrol-wand');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(fixtureDir, name), 'utf8')) as T;
const lines = load<{ cases: LineCase[] }>('lines.json');
const sequences = load<{ cases: Array<{ note: string; expected: number; lines: string[]; expect: string[] }> }>('sequences.json');
const session = load<{ chunksHex: string[]; expect: string[]; expectPending: boolean }>('session.json');

const bytesOf = (c: LineCase) => (c.lineHex !== undefined ? Buffer.from(c.lineHex, 'hex') : Buffer.from(c.line ?? '', 'latin1'));

describe('wand line parser on fixtures', () => {
  it.each(lines.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    const result = parseWandLine(bytesOf(c));
    if (c.expect.ok) {
      expect(result, JSON.stringify(result)).toEqual({ ok: true, message: c.expect.message });
    } else {
      expect(result.ok, JSON.stringify(result)).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe(c.expect.code);
      expect(result.error.seq).toBe(c.expect.seq);
      expect(result.error.message.length).toBeGreaterThan(0);
    }
  });

  it('covers every message and every error a single line can have', () => {
    for (const kind of ['info', 'rec', 'end', 'ok', 'err']) expect(lines.cases.some((c) => c.expect.ok && c.expect.message['kind'] === kind), kind).toBe(true);
    const lineErrors = (Object.keys(wandErrorReasons) as WandErrorCode[]).filter((code) => code !== 'seq-gap' && code !== 'seq-order');
    for (const code of lineErrors) expect(lines.cases.some((c) => !c.expect.ok && c.expect.code === code), code).toBe(true);
  });

  it('keeps the fields of a checksum-good line, so a bad record is told from a damaged one', () => {
    const r = parseWandLine(frameLine('REC,6,04A1B2C3,20260230072300'));
    expect(r).toMatchObject({ ok: false, error: { code: 'bad-time', seq: 6, fields: ['REC', '6', '04A1B2C3', '20260230072300'] } });
    const damaged = parseWandLine('$REC,6,04A1B2C3,20260230072300*00\r\n');
    expect(damaged).toMatchObject({ ok: false, error: { code: 'checksum' } });
    expect(!damaged.ok && damaged.error.fields).toBeUndefined();
  });
});

describe('record sequence within one $READ answer', () => {
  it.each(sequences.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    let expected = c.expected;
    const seen = c.lines.map((text) => {
      const r = parseWandLine(text);
      if (!r.ok) {
        if (r.error.seq === expected) expected++;
        return r.error.code;
      }
      if (r.message.kind !== 'rec') return r.message.kind;
      const err = checkSequence(expected, r.message.seq);
      if (err) return err.code;
      expected++;
      return 'ok';
    });
    expect(seen).toEqual(c.expect);
  });
});

describe('a docking as the adapter delivers it', () => {
  it('cut into random chunks, gives every answer in order, counts the damaged ones, and keeps the half line pending', () => {
    const seen: string[] = [];
    const framer = new LineFramer({
      maxLength: maxLineLength + 1,
      onFrame: (line) => {
        const r = parseWandLine(line);
        seen.push(r.ok ? r.message.kind : r.error.code);
      },
      onGarbage: (g) => seen.push(g.reason),
    });
    for (const hex of session.chunksHex) framer.push(Buffer.from(hex, 'hex'));
    expect(seen).toEqual(session.expect);
    framer.reset();
    expect(seen.at(-1) === 'incomplete line at reset').toBe(session.expectPending);
  });
});

describe('host commands and the README', () => {
  it('builds the command lines of the README, checksums included', () => {
    expect(checksum('INFO')).toBe('0E');
    expect(hostCommands.info()).toBe('$INFO*0E\r\n');
    expect(hostCommands.read(1, 200)).toBe('$READ,1,200*11\r\n');
    expect(hostCommands.read(1)).toBe('$READ,1*0F\r\n');
    expect(hostCommands.time('20260101080000')).toBe('$TIME,20260101080000*37\r\n');
    expect(hostCommands.clear(3)).toBe('$CLEAR,3*46\r\n');
    expect(() => hostCommands.time('20261301080000')).toThrow(RangeError);
    expect(() => hostCommands.read(0)).toThrow(RangeError);
    expect(() => hostCommands.read(1, 70000)).toThrow(RangeError);
  });

  it('every $...*HH line in the README carries its right checksum', () => {
    const readme = readFileSync(join(packageRoot, 'drivers/patrol-wand/README.md'), 'utf8');
    const found = [...readme.matchAll(/\$([A-Z][A-Z0-9,._+-]*)\*([0-9A-F]{2})/g)];
    expect(found.length).toBeGreaterThanOrEqual(12);
    for (const [whole, body = '', sum] of found) expect(checksum(body), whole).toBe(sum);
  });
});

describe('wand time', () => {
  it('checks the calendar', () => {
    expect(parseWandTime('20280229000000')).toEqual({ ok: true, naive: Date.UTC(2028, 1, 29) });
    for (const bad of ['20260229000000', '20261301000000', '20260230000000', '20260101240000', '2026010100000', '19991231235959', 'abcdefghijklmn']) {
      expect(parseWandTime(bad).ok, bad).toBe(false);
    }
    expect(formatWandTime(Date.UTC(2026, 0, 1, 7, 23, 0, 999))).toBe('20260101072300');
  });

  it('converts Shanghai local time without daylight saving, and a DST zone at its changes', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(zoneOffsetMs(Date.UTC(2026, 6, 1), 'Asia/Shanghai')).toBe(8 * 3_600_000);
    expect(localToUtc(Date.UTC(2026, 0, 1, 8), 'Asia/Shanghai')).toBe(Date.UTC(2026, 0, 1, 0));
    expect(utcToLocal(Date.UTC(2026, 0, 1, 0), 'Asia/Shanghai')).toBe(Date.UTC(2026, 0, 1, 8));
    // Berlin, 29 March 2026: 02:00 local jumps to 03:00; 25 October 2026: 03:00 goes back to 02:00.
    expect(localToUtc(Date.UTC(2026, 2, 29, 1, 30), 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 0, 30));
    expect(localToUtc(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(localToUtc(Date.UTC(2026, 2, 29, 3, 30), 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(localToUtc(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Berlin')).toBe(Date.UTC(2026, 9, 25, 0, 30));
  });
});

describe('random lines', () => {
  it('never throw, and whatever parses is a line a wand could have sent', () => {
    const random = prng(82);
    const alphabet = '$*,0123456789ABCDEFINFORECENDOKERR\r';
    for (let i = 0; i < 20000; i++) {
      const length = Math.floor(random() * 90);
      const line =
        i % 2 === 0
          ? Buffer.from([...Array(length)].map(() => Math.floor(random() * 256)))
          : Buffer.from([...Array(length)].map(() => alphabet[Math.floor(random() * alphabet.length)]).join(''), 'latin1');
      const r = parseWandLine(line);
      if (r.ok) {
        const text = line.toString('latin1');
        const body = text.slice(text.lastIndexOf('$') + 1, text.lastIndexOf('*'));
        expect(checksum(body)).toBe(text.slice(text.lastIndexOf('*') + 1).replace(/\r+$/, '').toUpperCase());
      }
    }
  });

  it('a record line with any one character replaced is refused (the XOR sees every single-byte change)', () => {
    const good = frameLine('REC,1234,04A1B2C3,20260101072300').trimEnd();
    // '$' is left out: a receiver restarts at it, and what follows may by chance be a line of its own.
    const printable = [...Array(0x7f - 0x20)].map((_, i) => String.fromCharCode(0x20 + i)).filter((ch) => ch !== '$');
    for (let i = 1; i < good.length; i++) {
      for (const ch of printable) {
        if (ch === good[i] || (i >= good.length - 2 && ch.toUpperCase() === good[i])) continue;
        expect(parseWandLine(good.slice(0, i) + ch + good.slice(i + 1)).ok, `position ${i} -> ${ch}`).toBe(false);
      }
    }
  });
});
