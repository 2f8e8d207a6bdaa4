// Plate input at the gate: every GA 36-2018 kind the table knows, every failure reason, and input typed or read every way.
import { describe, expect, it } from 'vitest';
import {
  normalisePlate,
  parsePlate,
  plateFormats,
  provinceKeys,
  provinces,
  sameVehicle,
  type PlateKind,
} from '../../../gateway/gate/plates.js';
import { prng } from '../../helpers/prng.js';


function expectKind(value: string, kind: PlateKind, plate: string, province: string | null): void {
  expect(parsePlate(value), value).toEqual({ ok: true, plate, kind, province });
}

function expectReason(value: string, reason: 'empty' | 'province' | 'characters' | 'format'): void {
  expect(parsePlate(value), value).toEqual({ ok: false, reason });
}

describe('the plate keyboard', () => {
  it('lists the 31 provinces in keyboard order', () => {
    expect(provinces.join('')).toBe('京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼');
    expect(new Set(provinces).size).toBe(31);
  });

  it('follows the provinces with the special characters plates carry, each once', () => {
    expect(provinceKeys.slice(0, 31)).toEqual([...provinces]);
    for (const c of ['使', '领', '警', '学', '挂', '港', '澳', '试', '超']) expect(provinceKeys).toContain(c);
    expect(new Set(provinceKeys).size).toBe(provinceKeys.length);
  });

  it('offers every character that a plate in the table can start or end with', () => {
    for (const format of plateFormats) {
      const chars = [...format.example];
      for (const c of [chars[0], chars[chars.length - 1]]) {
        if (c !== undefined && !/[A-Z0-9]/.test(c)) expect(provinceKeys, format.example).toContain(c);
      }
    }
  });
});

describe('parsePlate: the table', () => {
  it('parses every example in the table as its own kind', () => {
    for (const format of plateFormats) {
      const result = parsePlate(format.example);
      expect(result, format.example).toMatchObject({ ok: true, plate: format.example, kind: format.kind });
    }
  });

  it('covers every plate kind', () => {
    const kinds: PlateKind[] = ['ordinary', 'new-energy', 'coach', 'police', 'trailer', 'hong-kong', 'macau', 'consulate', 'embassy', 'test', 'oversize'];
    expect(new Set(plateFormats.map((f) => f.kind))).toEqual(new Set(kinds));
  });

  it('holds only patterns that cannot carry state between calls', () => {
    for (const format of plateFormats) {
      expect(format.pattern.global || format.pattern.sticky, format.zh).toBe(false);
      expect(format.pattern.source.startsWith('^') && format.pattern.source.endsWith('$'), format.zh).toBe(true);
    }
  });
});

describe('parsePlate: ordinary plates', () => {
  it('accepts province + authority letter + 5 serial characters', () => {
    expectKind('粤B12345', 'ordinary', '粤B12345', '粤');
    expectKind('京A00001', 'ordinary', '京A00001', '京');
    expectKind('京CA1234', 'ordinary', '京CA1234', '京'); // one letter
    expectKind('苏A1P234', 'ordinary', '苏A1P234', '苏');
    expectKind('浙BAB987', 'ordinary', '浙BAB987', '浙'); // two letters
    expectKind('沪A1234Z', 'ordinary', '沪A1234Z', '沪');
  });

  it('accepts every province', () => {
    for (const p of provinces) expectKind(`${p}A12345`, 'ordinary', `${p}A12345`, p);
  });

  it('accepts every authority letter except I, and O (provincial public-security plates such as 粤O)', () => {
    for (const letter of 'ABCDEFGHJKLMNOPQRSTUVWXYZ') expectKind(`粤${letter}12345`, 'ordinary', `粤${letter}12345`, '粤');
    expectReason('粤I12345', 'characters');
  });

  it('rejects more than two letters in the serial', () => {
    expectReason('京AABC12', 'format');
    expectReason('京AABCDE', 'format');
  });

  it('rejects plates too short or too long', () => {
    for (const value of ['京', '京A', '京A1', '京A1234', '京A1234567', '京A12345678', '京AB', '京12345', '京A123456']) expectReason(value, 'format');
  });
});

describe('parsePlate: new-energy plates', () => {
  it('accepts small new-energy plates: D or F first, then a letter or digit, then four digits', () => {
    expectKind('沪AD12345', 'new-energy', '沪AD12345', '沪');
    expectKind('京AF12345', 'new-energy', '京AF12345', '京');
    expectKind('京ADA1234', 'new-energy', '京ADA1234', '京');
    expectKind('粤BD80234', 'new-energy', '粤BD80234', '粤');
  });

  it('accepts the letters added when D and F ran out: A B C E (pure electric), G H J K (not pure electric)', () => {
    for (const letter of 'ABCEGHJK') expectKind(`粤B${letter}12345`, 'new-energy', `粤B${letter}12345`, '粤');
  });

  it('rejects small new-energy plates with any other power letter or a letter among the last four', () => {
    for (const letter of 'LMNPQRSTUVWXYZ') expectReason(`粤B${letter}12345`, 'format');
    expectReason('沪AD1234A', 'format');
    expectReason('沪AD12A45', 'format');
    // Seven characters with a D is an ordinary plate whose serial has one letter, not a short new-energy one.
    expectKind('沪AD1234', 'ordinary', '沪AD1234', '沪');
  });

  it('accepts large new-energy plates: five digits then D or F', () => {
    expectKind('辽D46234F', 'new-energy', '辽D46234F', '辽');
    expectKind('粤B12345D', 'new-energy', '粤B12345D', '粤');
    expectReason('粤B12345A', 'format');
    expectReason('粤B1234AD', 'format');
  });

  it('rejects I and O in the serial of a new-energy plate', () => {
    expectReason('沪ADI2345', 'characters');
    expectReason('沪ADO2345', 'characters');
  });
});

describe('parsePlate: special plates', () => {
  it('accepts coach, police, trailer, consulate, test and oversize plates', () => {
    expectKind('京A1234学', 'coach', '京A1234学', '京');
    expectKind('京A1234警', 'police', '京A1234警', '京');
    expectKind('京AB123警', 'police', '京AB123警', '京');
    expectKind('苏A1234挂', 'trailer', '苏A1234挂', '苏');
    expectKind('沪A1234领', 'consulate', '沪A1234领', '沪');
    expectKind('京A1234试', 'test', '京A1234试', '京');
    expectKind('京A1234超', 'oversize', '京A1234超', '京');
    expectKind('粤O1234警', 'police', '粤O1234警', '粤');
  });

  it('accepts Hong Kong and Macao crossing plates, only under 粤Z', () => {
    expectKind('粤Z1234港', 'hong-kong', '粤Z1234港', '粤');
    expectKind('粤Z7C59港', 'hong-kong', '粤Z7C59港', '粤');
    expectKind('粤Z1234澳', 'macau', '粤Z1234澳', '粤');
    expectReason('粤B1234港', 'format');
    expectReason('京Z1234港', 'format');
    expectReason('粤Z12345港', 'format');
    expectReason('粤Z123港', 'format');
  });

  it('accepts embassy plates with 使 before or after the six digits, without a province', () => {
    expectKind('使224009', 'embassy', '使224009', null);
    expectKind('使 224·009', 'embassy', '使224009', null);
    expectKind('224009使', 'embassy', '224009使', null);
    expectKind('224-009 使', 'embassy', '224009使', null);
    for (const value of ['使12345', '使1234567', '使A12345', '使22400A', '12345使', '使', '使使', '使224009使', '京A12345使']) {
      expectReason(value, 'format');
    }
  });

  it('rejects special marks with the wrong serial length or in the wrong place', () => {
    for (const value of ['京A123学', '京A12345学', '京学12345', '学A12345', '京A12学45', '京A1234学学', '京A1234警学']) {
      const result = parsePlate(value);
      expect(result.ok, value).toBe(false);
    }
    expectReason('京A123学', 'format');
    expectReason('京A12345学', 'format');
    expectReason('学A12345', 'province');
  });

  it('rejects more than two letters in a special plate serial', () => {
    expectReason('京AABC1学', 'format');
    expectKind('京AAB12学', 'coach', '京AAB12学', '京');
  });
});

describe('parsePlate: failure reasons', () => {
  it('says empty when nothing but separators was typed', () => {
    for (const value of ['', ' ', '\u3000', '·', ' - · ', '\t\n']) expectReason(value, 'empty');
  });

  it('says province when the first character is not a province', () => {
    for (const value of ['哈A12345', 'A12345', 'AB12345', '12345', '1234567', 'WJ12345', '黔A12345', '滇A12345', '台A12345', '港A12345']) {
      expectReason(value, 'province');
    }
  });

  it('says characters for I and O in the serial, never reading them as 1 and 0', () => {
    expectReason('京A1234O', 'characters');
    expectReason('京AO2345', 'characters');
    expectReason('京AI2345', 'characters');
    expectReason('京A12I45', 'characters');
    expectReason('京A1234I', 'characters');
    expectReason('京I12345', 'characters');
    expectReason('粤Z123O港', 'characters');
    expectReason('京a1234o', 'characters');
  });

  it('says characters for symbols, other scripts and look-alike letters', () => {
    for (const value of ['京A12#45', '京A1234😀', '京A12345!', '京АВ1234' /* Cyrillic */, '京Aſ1234', '京Aı1234', '京A12３4５?', '!京A12345', '😀']) {
      expectReason(value, 'characters');
    }
  });
});

describe('normalisePlate and input forms', () => {
  it('removes spaces, middle dots and dashes of every kind', () => {
    for (const value of [
      '粤B12345',
      ' 粤B 12345 ',
      '粤B·12345',
      '粤B•12345',
      '粤B・12345',
      '粤B･12345',
      '粤B‧12345',
      '粤B∙12345',
      '粤B.12345',
      '粤B-12345',
      '粤B–12345',
      '粤B—12345',
      '粤B－12345',
      '粤 B · 1 2 3 4 5',
      '粤B\u300012345',
    ]) {
      expectKind(value, 'ordinary', '粤B12345', '粤');
    }
  });

  it('upper-cases and converts full-width letters and digits', () => {
    expectKind('粤b12345', 'ordinary', '粤B12345', '粤');
    expectKind('粤Ｂ１２３４５', 'ordinary', '粤B12345', '粤');
    expectKind('粤ｂ１２３４５', 'ordinary', '粤B12345', '粤');
    expectKind('沪ａｄ１２３４５', 'new-energy', '沪AD12345', '沪');
    expectKind('浙bab987', 'ordinary', '浙BAB987', '浙');
  });

  it('maps traditional forms of plate characters to the simplified ones printed on plates', () => {
    expectKind('粵B12345', 'ordinary', '粤B12345', '粤');
    expectKind('滬AD12345', 'new-energy', '沪AD12345', '沪');
    expectKind('遼A12345', 'ordinary', '辽A12345', '辽');
    expectKind('京A1234學', 'coach', '京A1234学', '京');
    expectKind('滬A1234領', 'consulate', '沪A1234领', '沪');
    expectKind('蘇A1234掛', 'trailer', '苏A1234挂', '苏');
  });

  it('keeps I and O as typed so they can be refused', () => {
    expect(normalisePlate('京a·i2345')).toBe('京AI2345');
    expect(normalisePlate('京A-1234o')).toBe('京A1234O');
    expect(normalisePlate('京Aſ1234')).toBe('京Aſ1234');
  });
});

describe('sameVehicle', () => {
  it('compares after normalisation', () => {
    expect(sameVehicle('粤B12345', '粤b·12345')).toBe(true);
    expect(sameVehicle('粤Ｂ１２３４５', ' 粤B-12345 ')).toBe(true);
    expect(sameVehicle('粵B12345', '粤B12345')).toBe(true);
    expect(sameVehicle('沪AD12345', '沪ad 12345')).toBe(true);
  });

  it('tells different vehicles apart', () => {
    expect(sameVehicle('粤B12345', '粤B12346')).toBe(false);
    expect(sameVehicle('粤B12345', '沪B12345')).toBe(false);
    expect(sameVehicle('京A1234学', '京A1234警')).toBe(false);
    expect(sameVehicle('京AO1234', '京A01234')).toBe(false);
  });

  it('never calls two empty inputs the same vehicle', () => {
    expect(sameVehicle('', '')).toBe(false);
    expect(sameVehicle(' · ', '-')).toBe(false);
  });
});

describe('garbage input', () => {
  it('never throws on random unicode, and whatever it accepts is in canonical form', () => {
    const random = prng(362018);
    const pools = [0x20, 0x30, 0x41, 0x4e00, 0x4eac, 0x7ca4, 0xd800, 0xdc00, 0xff10, 0xff21, 0x1f600, 0x3000, 0x00b7];
    for (let n = 0; n < 5000; n++) {
      const length = Math.floor(random() * 12);
      let text = '';
      for (let i = 0; i < length; i++) {
        const base = pools[Math.floor(random() * pools.length)] ?? 0x20;
        text += String.fromCodePoint(base + Math.floor(random() * 32));
      }
      let result: ReturnType<typeof parsePlate> | undefined;
      expect(() => (result = parsePlate(text)), JSON.stringify(text)).not.toThrow();
      expect(() => sameVehicle(text, text)).not.toThrow();
      if (result?.ok) {
        expect(parsePlate(result.plate)).toEqual(result);
        expect(result.plate).not.toMatch(/[\sIa-z·-]/);
      }
    }
  });

  it('gives the same answer on every call (no state kept between calls)', () => {
    const inputs = ['粤B12345', '沪AD12345', '使224009', '哈A12345', '京A1234O', ''];
    const first = inputs.map((v) => parsePlate(v));
    for (let i = 0; i < 3; i++) expect(inputs.map((v) => parsePlate(v))).toEqual(first);
  });
});
