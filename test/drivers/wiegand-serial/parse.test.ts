// The Wiegand converter-box line parser on fixture lines of every preset, a captured session, and random noise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineFramer } from '../../../drivers/serial/framing.js';
import { dataRange, findFormat, linePresets, wiegandFormats, type LinePresetName, type OutputForm, type WiegandFormatName } from '../../../drivers/wiegand-serial/formats.js';
import { checkOptions, parseWiegandLine, type WiegandParseOptions } from '../../../drivers/wiegand-serial/parse.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { prng } from '../../helpers/prng.js';
import { boxStyles, hidLayouts, wiegandFrame, type HidFormat } from './box.js';

interface LineCase {
  note: string;
  preset: LinePresetName;
  format?: WiegandFormatName;
  output: OutputForm;
  line?: string;
  lineHex?: string;
  expect: { ok: true; value: string; format?: string } | { ok: false; code: string };
}

const fixtureDir = join(packageRoot, 'test/fixtures/wiegand');
const lines = JSON.parse(readFileSync(join(fixtureDir, 'lines.json'), 'utf8')) as { cases: LineCase[] };
const session = JSON.parse(readFileSync(join(fixtureDir, 'session.json'), 'utf8')) as {
  preset: LinePresetName;
  output: OutputForm;
  chunksHex: string[];
  expectReads: string[];
  expectRejected: string[];
  expectPending: boolean;
};

const optionsOf = (c: { preset: LinePresetName; format?: WiegandFormatName; output: OutputForm }): WiegandParseOptions => ({
  preset: c.preset,
  output: c.output,
  ...(c.format ? { format: c.format } : {}),
});

describe('Wiegand line parser on fixtures', () => {
  it.each(lines.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    const line = c.lineHex !== undefined ? Buffer.from(c.lineHex, 'hex') : Buffer.from(c.line ?? '', 'latin1');
    const result = parseWiegandLine(line, optionsOf(c));
    if (c.expect.ok) {
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (!result.ok) return;
      expect(result.read.value).toBe(c.expect.value);
      expect(result.read.format).toBe(c.expect.format);
    } else {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe(c.expect.code);
      expect(result.error.message.length).toBeGreaterThan(0);
    }
  });

  it('covers every preset and every format, good and broken', () => {
    for (const preset of linePresets) {
      expect(lines.cases.some((c) => c.preset === preset.name && c.expect.ok), `a good ${preset.name} line`).toBe(true);
      expect(lines.cases.some((c) => c.preset === preset.name && !c.expect.ok), `a broken ${preset.name} line`).toBe(true);
    }
    for (const format of wiegandFormats) {
      expect(lines.cases.some((c) => c.expect.ok && c.expect.format === format.name), `a ${format.name} read`).toBe(true);
    }
    expect(lines.cases.some((c) => !c.expect.ok && c.expect.code === 'parity')).toBe(true);
  });

  it('a captured session cut into adapter-sized chunks gives the reads, counts the noise, and keeps the half read pending', () => {
    const reads: string[] = [];
    const rejected: string[] = [];
    const framer = new LineFramer({
      maxLength: 64,
      onFrame: (line) => {
        const r = parseWiegandLine(line, optionsOf(session));
        if (r.ok) reads.push(r.read.value);
        else rejected.push(r.error.code);
      },
      onGarbage: (g) => rejected.push(g.reason),
    });
    for (const hex of session.chunksHex) framer.push(Buffer.from(hex, 'hex'));
    expect(reads).toEqual(session.expectReads);
    expect(rejected).toEqual(session.expectRejected);
    const atReset: string[] = [];
    const probe = new LineFramer({ onFrame: () => {}, onGarbage: (g) => atReset.push(g.reason) });
    for (const hex of session.chunksHex) probe.push(Buffer.from(hex, 'hex'));
    probe.reset();
    expect(atReset.includes('incomplete line at reset')).toBe(session.expectPending);
  });
});

describe('Wiegand format table against HID layouts', () => {
  it('every format row agrees with the HID layout the box simulator uses', () => {
    for (const format of wiegandFormats) {
      const hid = hidLayouts[format.name as HidFormat];
      expect(format.bits).toBe(hid.bits);
      expect(format.card).toEqual([hid.card[0] - 1, hid.card[1] - hid.card[0] + 1]);
      expect('facility' in format ? format.facility : null).toEqual(hid.facility ? [hid.facility[0] - 1, hid.facility[1] - hid.facility[0] + 1] : null);
    }
  });

  it('reads what the box prints in every style, for cards across the whole range', () => {
    const random = prng(26);
    for (const format of wiegandFormats) {
      const hid = hidLayouts[format.name as HidFormat];
      const facilityBits = hid.facility ? hid.facility[1] - hid.facility[0] + 1 : 0;
      const cardBits = hid.card[1] - hid.card[0] + 1;
      for (let i = 0; i < 40; i++) {
        const facility = hid.facility ? Math.floor(random() * 2 ** facilityBits) : 0;
        const card = Math.floor(random() * 2 ** cardBits);
        const frame = wiegandFrame(format.name as HidFormat, facility, card);
        for (const style of ['bits', 'hex', 'wiegand-hex'] as const) {
          const r = parseWiegandLine(`${boxStyles[style](frame)}\r\n`, { preset: style, format: format.name, output: 'card' });
          expect(r, `${format.name} ${style} ${facility}/${card}`).toMatchObject({ ok: true, read: { value: String(card), card, format: format.name } });
          if (hid.facility) expect(r.ok && r.read.facility).toBe(facility);
        }
      }
    }
  });

  it('no single flipped bit of a raw frame ever gives a read', () => {
    for (const format of wiegandFormats) {
      const frame = wiegandFrame(format.name as HidFormat, format.name === 'h10302' ? 0 : 77, 4321);
      for (let bit = 1; bit <= frame.length; bit++) {
        const flipped = frame.slice(0, bit - 1) + (frame[bit - 1] === '1' ? '0' : '1') + frame.slice(bit);
        const r = parseWiegandLine(flipped, { preset: 'bits', format: format.name, output: 'card' });
        expect(r, `${format.name} bit ${bit}`).toMatchObject({ ok: false, error: { code: 'parity' } });
      }
    }
  });

  it('random lines never throw, and a read from random bits is always a frame the box could have sent', () => {
    const random = prng(34);
    const presets = linePresets.map((p) => p.name);
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(random() * 48);
      const alphabet = i % 3 === 0 ? '01' : i % 3 === 1 ? '0123456789ABCDEFW:,' : null;
      const line = alphabet
        ? Buffer.from([...Array(length)].map(() => alphabet[Math.floor(random() * alphabet.length)]).join(''), 'latin1')
        : Buffer.from([...Array(length)].map(() => Math.floor(random() * 256)));
      const preset = presets[i % presets.length] as LinePresetName;
      const r = parseWiegandLine(line, { preset, output: 'card' });
      if (r.ok && preset === 'bits') {
        const text = line.toString('latin1');
        const format = r.read.format as HidFormat;
        expect(wiegandFrame(format, r.read.facility ?? 0, r.read.card ?? -1)).toBe(text);
      }
    }
  });
});

describe('settings that can never read a card', () => {
  it('are found before the first line', () => {
    expect(checkOptions({ preset: 'bits', output: 'card' })).toEqual([]);
    expect(checkOptions({ preset: 'decimal', output: 'uid32-decimal' })).toEqual([]);
    expect(checkOptions({ preset: 'decimal', output: 'card' })[0]).toMatch(/set format/);
    expect(checkOptions({ preset: 'bits', format: 'h10302', output: 'facility-card' })[0]).toMatch(/no facility code/);
    expect(checkOptions({ preset: 'hex', format: 'h10304', output: 'uid32-decimal' })[0]).toMatch(/35 data bits/);
    expect(dataRange(findFormat('34bit')!)).toEqual([1, 32]);
  });
});
