// The plate-push parser on documented Hikvision, Dahua and generic bodies, broken multipart and XML, GBK text, and random bytes.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundaryOf, parseMultipart } from '../../../drivers/plate-http/multipart.js';
import { cameraTime, decodeText, parsePlatePush, platePushFormats, type PlatePushFormat } from '../../../drivers/plate-http/parse.js';
import { parseXml } from '../../../drivers/xml.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { prng } from '../../helpers/prng.js';

interface Case {
  file: string;
  format: PlatePushFormat;
  contentType: string;
  note: string;
  expect: { kind: 'plate' | 'none' | 'error'; plate?: string; confidence?: number; at?: number; pictureSha256?: string; notes?: number; why?: string; code?: string };
}

const dir = join(packageRoot, 'test/fixtures/plate-http');
const { cases } = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: Case[] };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('plate push parser on fixtures', () => {
  it.each(cases.map((c) => [`${c.format}: ${c.note} (${c.file})`, c] as const))('%s', (_name, c) => {
    const result = parsePlatePush(c.format, readFileSync(join(dir, c.file)), c.contentType);
    const e = c.expect;
    expect(result.kind, JSON.stringify({ ...result, picture: undefined })).toBe(e.kind);
    if (result.kind === 'plate') {
      expect(result.plate).toBe(e.plate);
      expect(result.confidence).toBe(e.confidence);
      expect(result.at).toBe(e.at);
      expect(result.picture ? sha256(result.picture) : undefined).toBe(e.pictureSha256);
      expect(result.notes).toHaveLength(e.notes ?? 0);
    } else if (result.kind === 'none') {
      expect(result.why).toBe(e.why);
    } else {
      expect(result.code).toBe(e.code);
      expect(result.message.length).toBeGreaterThan(0);
    }
  });

  it('has a good push, a no-plate push and a broken push for every family', () => {
    for (const format of platePushFormats) {
      const mine = cases.filter((c) => c.format === format);
      expect(mine.some((c) => c.expect.kind === 'plate')).toBe(true);
      expect(mine.some((c) => c.expect.kind === 'none')).toBe(true);
      expect(mine.some((c) => c.expect.kind === 'error')).toBe(true);
    }
  });
});

describe('multipart splitting', () => {
  const body = readFileSync(join(dir, 'hikvision-anpr.multipart'));

  it('keeps binary parts byte for byte', () => {
    const split = parseMultipart(body, 'MIME_boundary');
    expect(split.ok).toBe(true);
    if (!split.ok) return;
    expect(split.parts.map((p) => p.filename)).toEqual(['anpr.xml', 'licensePlatePicture.jpg', 'detectionPicture.jpg']);
    expect(split.parts[2]?.body.equals(readFileSync(join(dir, 'scene.jpg')))).toBe(true);
    expect(split.parts[1]?.body.equals(readFileSync(join(dir, 'plate.jpg')))).toBe(true);
    expect(split.parts[0]?.charset).toBe('UTF-8');
  });

  it('never takes a part from a body cut anywhere', () => {
    for (let cut = 0; cut < body.length - 17; cut += 7) {
      const result = parseMultipart(body.subarray(0, cut), 'MIME_boundary');
      expect(result.ok, `cut at ${cut}`).toBe(false);
    }
  });

  it('reads boundaries quoted or bare and refuses unusable ones', () => {
    expect(boundaryOf('multipart/form-data; boundary=MIME_boundary')).toBe('MIME_boundary');
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b;c"')).toBe('a b;c');
    expect(boundaryOf('multipart/form-data')).toBeNull();
    expect(boundaryOf(`multipart/form-data; boundary=${'x'.repeat(71)}`)).toBeNull();
    expect(boundaryOf('application/json; boundary=x')).toBeNull();
  });

  it('does not end a part at a boundary-like line that only starts with the boundary', () => {
    const tricky = Buffer.from('--B\r\nContent-Type: text/plain\r\n\r\nline\r\n--Bx not a delimiter\r\n--B--\r\n');
    const split = parseMultipart(tricky, 'B');
    expect(split.ok && split.parts[0]?.body.toString()).toBe('line\r\n--Bx not a delimiter');
  });
});

describe('XML reader', () => {
  it('reads namespaces, entities, CDATA and comments', () => {
    const r = parseXml('<?xml version="1.0"?><!-- c --><a:Root xmlns:a="x"><a:b k=\'v&amp;w\'>1 &lt; 2 &#x4EAC;<![CDATA[<raw>]]></a:b><c/></a:Root>');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.root.name).toBe('Root');
    expect(r.root.children[0]).toMatchObject({ name: 'b', attributes: { k: 'v&w' }, text: '1 < 2 京<raw>' });
  });

  it.each([
    ['<a><b></a></b>', /does not close/],
    ['<a>', /ends inside/],
    ['<a></a><b></b>', /second root/],
    ['<a>&nbsp;</a>', /entity/],
    ['<a x=1></a>', /unquoted/],
    ['text', /before the root|no root/],
    ['<!DOCTYPE a><a/>', /DOCTYPE/],
    [`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, /too deep/],
  ])('refuses %s', (text, reason) => {
    const r = parseXml(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('text and time', () => {
  it('decodes GBK when declared and as a fallback, and refuses what is neither', () => {
    const gbk = Buffer.from([0xbe, 0xa9, 0x41, 0x31]); // 京A1 in GBK
    expect(decodeText(gbk, 'gbk')).toEqual({ ok: true, text: '京A1' });
    expect(decodeText(gbk, 'GB2312')).toEqual({ ok: true, text: '京A1' });
    expect(decodeText(gbk, undefined)).toEqual({ ok: true, text: '京A1' });
    expect(decodeText(Buffer.from('京A1'), undefined)).toEqual({ ok: true, text: '京A1' });
    expect(decodeText(gbk, 'utf-8').ok).toBe(false);
    expect(decodeText(Buffer.from([0xff, 0xff]), undefined).ok).toBe(false);
  });

  it('reads camera times with and without zones', () => {
    expect(cameraTime('2024-05-07T17:48:03+08:00')).toBe(Date.UTC(2024, 4, 7, 9, 48, 3));
    expect(cameraTime('2024-05-07T09:48:03Z')).toBe(Date.UTC(2024, 4, 7, 9, 48, 3));
    expect(cameraTime('2024-05-07 17:48:03.847')).toBe(Date.UTC(2024, 4, 7, 9, 48, 3, 847));
    expect(cameraTime('2024-05-07T17:48:03+0800')).toBe(Date.UTC(2024, 4, 7, 9, 48, 3));
    expect(cameraTime(1715075283)).toBe(1715075283000);
    expect(cameraTime(1715075283123)).toBe(1715075283123);
    expect(cameraTime('yesterday')).toBeUndefined();
    expect(cameraTime('2024-13-45T99:00:00')).toBeUndefined();
  });
});

describe('random input', () => {
  it('never throws and never invents a plate from noise', () => {
    const random = prng(7);
    const types = ['application/json', 'application/xml', 'multipart/form-data; boundary=MIME_boundary', 'text/plain; charset=gbk', '', 'image/jpeg'];
    const hik = readFileSync(join(dir, 'hikvision-anpr.multipart'));
    for (let i = 0; i < 3000; i++) {
      const format = platePushFormats[i % 3] as PlatePushFormat;
      const type = types[Math.floor(random() * types.length)] as string;
      // Half pure noise, half a real push with a few bytes overwritten.
      let body: Buffer;
      if (i % 2 === 0) body = randomBytes(Math.floor(random() * 512));
      else {
        body = Buffer.from(hik);
        for (let k = 0; k < 4; k++) body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
      }
      const result = parsePlatePush(format, body, type);
      expect(['plate', 'none', 'error']).toContain(result.kind);
      if (result.kind === 'plate' && i % 2 === 0) throw new Error(`noise read as plate ${result.plate}`);
    }
  });
});
