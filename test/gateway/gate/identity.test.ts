// Identity input at the gate: mainland ID numbers, phone numbers and other documents, valid and invalid, typed every way a guard might.
import { describe, expect, it } from 'vitest';
import { checkIdDocument, checkMainlandId, checkPhone, idTypes, type IdType } from '../../../gateway/gate/identity.js';
import { prng } from '../../helpers/prng.js';

/**
 * Independent check character: the recursive ("pure system") form of ISO 7064 MOD 11-2,
 * rather than the weight table the implementation uses, so the two cannot share a mistake.
 */
function checkChar(body17: string): string {
  let p = 0;
  for (const c of body17) p = ((p + Number(c)) * 2) % 11;
  const value = (12 - p) % 11;
  return value === 10 ? 'X' : String(value);
}

function makeId(region: string, birth: string, sequence: string): string {
  const body = `${region}${birth}${sequence}`;
  if (body.length !== 17) throw new Error(`bad test body ${body}`);
  return body + checkChar(body);
}

/** A check character that is certainly wrong. */
function wrongCheck(id: string): string {
  return id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
}


/** 2025-06-15 12:00 in China. */
const TODAY = Date.UTC(2025, 5, 15, 4, 0, 0);

const provincePrefixes = [
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
  '71', '81', '82', '83',
];

describe('checkMainlandId', () => {
  it('accepts the examples printed in GB 11643-1999', () => {
    expect(checkMainlandId('11010519491231002X', TODAY)).toEqual({
      ok: true,
      normalised: '11010519491231002X',
      birthDate: '1949-12-31',
      sex: 'female',
    });
    expect(checkMainlandId('440524188001010014', TODAY)).toEqual({
      ok: false,
      reason: 'birth-date', // born 1880: the standard's example predates the 1900 floor
    });
  });

  it('the independent check-character helper agrees with the standard examples', () => {
    expect(checkChar('11010519491231002')).toBe('X');
    expect(checkChar('44052418800101001')).toBe('4');
  });

  it('accepts constructed numbers and reads birth date and sex', () => {
    const male = makeId('310104', '19850317', '123');
    expect(checkMainlandId(male, TODAY)).toEqual({ ok: true, normalised: male, birthDate: '1985-03-17', sex: 'male' });
    const female = makeId('440305', '20011130', '048');
    expect(checkMainlandId(female, TODAY)).toEqual({ ok: true, normalised: female, birthDate: '2001-11-30', sex: 'female' });
  });

  it('takes sex from the 17th digit only: odd is male, even is female', () => {
    for (let d = 0; d <= 9; d++) {
      const id = makeId('110105', '19900101', `00${d}`);
      const result = checkMainlandId(id, TODAY);
      expect(result.ok && result.sex).toBe(d % 2 === 1 ? 'male' : 'female');
    }
  });

  it('accepts every province-level prefix of GB/T 2260 and the 2018 residence-permit prefixes 81/82/83', () => {
    for (const prefix of provincePrefixes) {
      const id = makeId(`${prefix}0000`, '19800101', '001');
      expect(checkMainlandId(id, TODAY), prefix).toMatchObject({ ok: true });
    }
  });

  it('rejects every other two-digit prefix as region, including 91 (foreigners\' permanent residence card)', () => {
    for (let n = 0; n < 100; n++) {
      const prefix = String(n).padStart(2, '0');
      if (provincePrefixes.includes(prefix)) continue;
      const id = makeId(`${prefix}0101`, '19800101', '001');
      expect(checkMainlandId(id, TODAY), prefix).toEqual({ ok: false, reason: 'region' });
    }
  });

  it('normalises lower-case x, spaces and full-width input from Chinese IMEs', () => {
    const expected = { ok: true, normalised: '11010519491231002X', birthDate: '1949-12-31', sex: 'female' };
    expect(checkMainlandId('11010519491231002x', TODAY)).toEqual(expected);
    expect(checkMainlandId('  110105 19491231 002x ', TODAY)).toEqual(expected);
    expect(checkMainlandId('１１０１０５１９４９１２３１００２Ｘ', TODAY)).toEqual(expected);
    expect(checkMainlandId('１１０１０５１９４９１２３１００２ｘ', TODAY)).toEqual(expected);
    expect(checkMainlandId('110105\u300019491231002X\t', TODAY)).toEqual(expected);
  });

  it('rejects wrong lengths, including the expired 15-digit numbers', () => {
    for (const value of ['', '   ', '110105491231002', '11010519491231002', '11010519491231002X0', '1'.repeat(30)]) {
      expect(checkMainlandId(value, TODAY), value).toEqual({ ok: false, reason: 'length' });
    }
  });

  it('rejects letters or symbols where digits belong', () => {
    for (const value of ['1101051949123100XX', '11010519491231002Y', 'A1010519491231002X', '110105-1949123100X', '11010519491231002\u00d7']) {
      expect(checkMainlandId(value, TODAY), value).toEqual({ ok: false, reason: 'characters' });
    }
  });

  it('rejects impossible calendar dates', () => {
    for (const birth of ['19901301', '19900001', '19900100', '19900132', '19900431', '19900631', '19900230', '20230229', '19000229', '21000229']) {
      expect(checkMainlandId(makeId('110105', birth, '001'), TODAY), birth).toEqual({ ok: false, reason: 'birth-date' });
    }
  });

  it('knows leap years: 29 February exists in 2000, 2024 and 1904 but not 1900 or 2023', () => {
    for (const birth of ['20000229', '20240229', '19040229', '19960229']) {
      expect(checkMainlandId(makeId('110105', birth, '001'), TODAY), birth).toMatchObject({ ok: true });
    }
    for (const birth of ['19000229', '20230229', '19990229']) {
      expect(checkMainlandId(makeId('110105', birth, '001'), TODAY), birth).toEqual({ ok: false, reason: 'birth-date' });
    }
  });

  it('rejects births before 1900 and accepts 1 January 1900', () => {
    expect(checkMainlandId(makeId('110105', '18991231', '001'), TODAY)).toEqual({ ok: false, reason: 'birth-date' });
    expect(checkMainlandId(makeId('110105', '19000101', '001'), TODAY)).toMatchObject({ ok: true, birthDate: '1900-01-01' });
  });

  it('rejects birth dates after the injected today, and accepts today itself', () => {
    expect(checkMainlandId(makeId('110105', '20250616', '001'), TODAY)).toEqual({ ok: false, reason: 'birth-date' });
    expect(checkMainlandId(makeId('110105', '20300101', '001'), TODAY)).toEqual({ ok: false, reason: 'birth-date' });
    expect(checkMainlandId(makeId('110105', '20250615', '001'), TODAY)).toMatchObject({ ok: true });
    // The same number is valid once the injected clock has moved on.
    expect(checkMainlandId(makeId('110105', '20300101', '001'), Date.UTC(2030, 0, 2))).toMatchObject({ ok: true });
  });

  it('counts "today" in China time (UTC+8), not UTC', () => {
    const born = makeId('110105', '20250616', '001');
    // 2025-06-15 16:30 UTC is already 00:30 on the 16th in Beijing.
    expect(checkMainlandId(born, Date.UTC(2025, 5, 15, 16, 30))).toMatchObject({ ok: true });
    // 15:30 UTC is 23:30 on the 15th in Beijing: the 16th is still tomorrow.
    expect(checkMainlandId(born, Date.UTC(2025, 5, 15, 15, 30))).toEqual({ ok: false, reason: 'birth-date' });
  });

  it('uses the real clock when no today is given', () => {
    expect(checkMainlandId('11010519491231002X')).toMatchObject({ ok: true });
    expect(checkMainlandId(makeId('110105', '29991231', '001'))).toEqual({ ok: false, reason: 'birth-date' });
  });

  it('rejects a wrong check character, a changed digit and swapped neighbours', () => {
    expect(checkMainlandId('110105194912310021', TODAY)).toEqual({ ok: false, reason: 'checksum' });
    const id = makeId('320102', '19780512', '357');
    expect(checkMainlandId(wrongCheck(id), TODAY)).toEqual({ ok: false, reason: 'checksum' });
    for (let d = 0; d <= 9; d++) {
      if (String(d) === id[14]) continue;
      const changed = `${id.slice(0, 14)}${d}${id.slice(15)}`; // one digit of the sequence code
      expect(checkMainlandId(changed, TODAY), changed).toEqual({ ok: false, reason: 'checksum' });
    }
    const swapped = id.slice(0, 14) + id[15] + id[14] + id.slice(16); // 3 and 5 in the sequence code
    expect(checkMainlandId(swapped, TODAY)).toEqual({ ok: false, reason: 'checksum' });
  });

  it('checks reasons in order: length, characters, region, birth date, checksum', () => {
    expect(checkMainlandId('9A', TODAY)).toEqual({ ok: false, reason: 'length' });
    expect(checkMainlandId('99010519491331002Y', TODAY)).toEqual({ ok: false, reason: 'characters' });
    expect(checkMainlandId('990105194913310020', TODAY)).toEqual({ ok: false, reason: 'region' });
    expect(checkMainlandId('110105194913310020', TODAY)).toEqual({ ok: false, reason: 'birth-date' });
  });

  it('agrees with the independent implementation on many random numbers', () => {
    const random = prng(11643);
    for (let n = 0; n < 2000; n++) {
      const prefix = provincePrefixes[Math.floor(random() * provincePrefixes.length)] ?? '11';
      const year = 1900 + Math.floor(random() * 125);
      const month = 1 + Math.floor(random() * 12);
      const day = 1 + Math.floor(random() * 28);
      const birth = `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
      const rest = String(Math.floor(random() * 1e7)).padStart(7, '0');
      const id = makeId(prefix + rest.slice(0, 4), birth, rest.slice(4));
      const result = checkMainlandId(id, TODAY);
      expect(result, id).toMatchObject({ ok: true, normalised: id });
      expect(checkMainlandId(wrongCheck(id), TODAY), id).toEqual({ ok: false, reason: 'checksum' });
    }
  });
});

describe('checkPhone', () => {
  it('accepts mobile numbers however they are typed', () => {
    for (const value of [
      '13812345678',
      '138 1234 5678',
      '138-1234-5678',
      ' 138 1234-5678 ',
      '+86 138 1234 5678',
      '+8613812345678',
      '+86-138-1234-5678',
      '008613812345678',
      '0086 138 1234 5678',
      '8613812345678',
      '86 13812345678',
      '１３８１２３４５６７８',
      '＋８６ １３８ １２３４ ５６７８',
      '138\u30001234\u30005678',
      '138—1234—5678',
    ]) {
      expect(checkPhone(value), value).toEqual({ ok: true, normalised: '13812345678', kind: 'mobile' });
    }
  });

  it('accepts every mobile prefix 13-19 and nothing below', () => {
    for (let second = 0; second <= 9; second++) {
      const number = `1${second}912345678`;
      expect(checkPhone(number).ok, number).toBe(second >= 3);
    }
  });

  it('accepts landlines and puts the dash after the area code', () => {
    const cases: [string, string][] = [
      ['021-12345678', '021-12345678'],
      ['02112345678', '021-12345678'],
      ['021 1234 5678', '021-12345678'],
      ['(021) 1234-5678', '021-12345678'],
      ['（021）12345678', '021-12345678'],
      ['010-12345678', '010-12345678'],
      ['0755-1234567', '0755-1234567'],
      ['0755-12345678', '0755-12345678'],
      ['075512345678', '0755-12345678'],
      ['0571 8765 4321', '0571-87654321'],
      ['０２１－１２３４５６７８', '021-12345678'],
      ['+86 21 1234 5678', '021-12345678'],
      ['+86 (0)21 1234 5678', '021-12345678'],
      ['0086 755 1234567', '0755-1234567'],
      ['+86-10-12345678', '010-12345678'],
    ];
    for (const [value, normalised] of cases) {
      expect(checkPhone(value), value).toEqual({ ok: true, normalised, kind: 'landline' });
    }
  });

  it('uses the numbering plan, not the typed dash, to find the area code', () => {
    // 010 and 02x are two-digit codes, 03xx-09xx three-digit ones.
    expect(checkPhone('0211-2345678')).toEqual({ ok: true, normalised: '021-12345678', kind: 'landline' });
    expect(checkPhone('075-51234567')).toEqual({ ok: true, normalised: '0755-1234567', kind: 'landline' });
  });

  it('rejects bad prefixes, lengths and characters', () => {
    for (const value of [
      '',
      '   ',
      '12812345678', // 12x is not a mobile prefix
      '10812345678',
      '23812345678',
      '1381234567', // 10 digits
      '138123456789', // 12 digits
      '+86 1381234567',
      '86 1381234567', // bare 86 only counts before 11 digits
      '8612345678901',
      '021-0234567', // local numbers never start with 0
      '021-234567', // 6 digits
      '021-234567890', // 9 digits
      '0755-123456',
      '001-2345678', // no area code starts with 0
      '011-23456789', // 01x other than 010 does not exist
      '21-12345678', // no trunk 0 and no +86
      '138l2345678', // letter l for digit 1
      '13812345678#',
      '+1 415 555 0100',
      '+86',
      '+',
      '１３８１２３４５６７８９',
    ]) {
      expect(checkPhone(value), value).toEqual({ ok: false, reason: 'format' });
    }
  });
});

describe('idTypes and checkIdDocument', () => {
  it('lists the document types a guard chooses from, with Chinese and English names', () => {
    expect(idTypes.map((t) => t.type)).toEqual(['mainland-id', 'hk-macau-permit', 'taiwan-permit', 'passport', 'other']);
    expect(idTypes.find((t) => t.type === 'mainland-id')?.zh).toBe('居民身份证');
    expect(idTypes.find((t) => t.type === 'hk-macau-permit')?.zh).toBe('港澳居民来往内地通行证');
    expect(idTypes.find((t) => t.type === 'taiwan-permit')?.zh).toBe('台湾居民来往大陆通行证');
    for (const t of idTypes) expect(t.en.length).toBeGreaterThan(0);
  });

  it('dispatches mainland IDs to checkMainlandId, passing today through', () => {
    expect(checkIdDocument('mainland-id', '11010519491231002x', TODAY)).toEqual({ ok: true, normalised: '11010519491231002X' });
    expect(checkIdDocument('mainland-id', '110105194912310021', TODAY)).toEqual({ ok: false, reason: 'checksum' });
    const future = makeId('110105', '20250616', '001');
    expect(checkIdDocument('mainland-id', future, TODAY)).toEqual({ ok: false, reason: 'birth-date' });
    expect(checkIdDocument('mainland-id', future, Date.UTC(2026, 0, 1))).toEqual({ ok: true, normalised: future });
  });

  it('checks Hong Kong and Macao permits: H or M, 8 digits, optionally the 2-digit issue count', () => {
    const ok: [string, string][] = [
      ['H12345678', 'H12345678'],
      ['M12345678', 'M12345678'],
      ['H1234567801', 'H1234567801'],
      ['h 1234 5678', 'H12345678'],
      ['Ｈ１２３４５６７８', 'H12345678'],
      ['ｍ１２３４５６７８０２', 'M1234567802'],
    ];
    for (const [value, normalised] of ok) expect(checkIdDocument('hk-macau-permit', value), value).toEqual({ ok: true, normalised });
    expect(checkIdDocument('hk-macau-permit', 'H1234567')).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('hk-macau-permit', 'H123456789')).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('hk-macau-permit', '')).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('hk-macau-permit', 'A12345678')).toEqual({ ok: false, reason: 'format' });
    expect(checkIdDocument('hk-macau-permit', 'H1234567A')).toEqual({ ok: false, reason: 'format' });
    expect(checkIdDocument('hk-macau-permit', '123456789')).toEqual({ ok: false, reason: 'format' });
    expect(checkIdDocument('hk-macau-permit', 'H1234-678')).toEqual({ ok: false, reason: 'characters' });
  });

  it('checks Taiwan permits: exactly 8 digits', () => {
    expect(checkIdDocument('taiwan-permit', '12345678')).toEqual({ ok: true, normalised: '12345678' });
    expect(checkIdDocument('taiwan-permit', ' 1234 5678 ')).toEqual({ ok: true, normalised: '12345678' });
    expect(checkIdDocument('taiwan-permit', '１２３４５６７８')).toEqual({ ok: true, normalised: '12345678' });
    expect(checkIdDocument('taiwan-permit', '1234567')).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('taiwan-permit', '0561682001')).toEqual({ ok: false, reason: 'length' }); // pre-2008 form
    expect(checkIdDocument('taiwan-permit', '1234567A')).toEqual({ ok: false, reason: 'characters' });
  });

  it('checks passports loosely: 5-20 letters or digits, upper-cased', () => {
    expect(checkIdDocument('passport', 'E12345678')).toEqual({ ok: true, normalised: 'E12345678' });
    expect(checkIdDocument('passport', 'ea 123 4567')).toEqual({ ok: true, normalised: 'EA1234567' });
    expect(checkIdDocument('passport', 'ＥＡ１２３４５６７')).toEqual({ ok: true, normalised: 'EA1234567' });
    expect(checkIdDocument('passport', 'A1234')).toEqual({ ok: true, normalised: 'A1234' });
    expect(checkIdDocument('passport', 'A'.repeat(20))).toMatchObject({ ok: true });
    expect(checkIdDocument('passport', 'A123')).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('passport', 'A'.repeat(21))).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('passport', 'AB-123456')).toEqual({ ok: false, reason: 'characters' });
    expect(checkIdDocument('passport', 'ÄB123456')).toEqual({ ok: false, reason: 'characters' });
    // Non-ASCII letters that upper-case to ASCII must not sneak through.
    expect(checkIdDocument('passport', 'ſ1234567')).toEqual({ ok: false, reason: 'characters' });
  });

  it('accepts other documents as free text of 2-32 characters, without invisible characters', () => {
    expect(checkIdDocument('other', '  军官证  第 123 号 ')).toEqual({ ok: true, normalised: '军官证 第 123 号' });
    expect(checkIdDocument('other', 'ab')).toEqual({ ok: true, normalised: 'ab' });
    expect(checkIdDocument('other', '证'.repeat(32))).toMatchObject({ ok: true });
    expect(checkIdDocument('other', '😀😀')).toMatchObject({ ok: true }); // two characters, four UTF-16 units
    expect(checkIdDocument('other', 'a')).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('other', '   ')).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('other', '证'.repeat(33))).toEqual({ ok: false, reason: 'length' });
    expect(checkIdDocument('other', 'ab\u0000cd')).toEqual({ ok: false, reason: 'characters' });
    expect(checkIdDocument('other', 'ab\u200bcd')).toEqual({ ok: false, reason: 'characters' });
    expect(checkIdDocument('other', 'ab\ud800cd')).toEqual({ ok: false, reason: 'characters' });
  });

  it('answers an unknown document type with a reason instead of throwing', () => {
    for (const type of ['driving-licence', '', '__proto__', 'constructor', 'toString']) {
      expect(checkIdDocument(type as IdType, 'whatever'), type).toEqual({ ok: false, reason: 'type' });
    }
  });
});

describe('garbage input', () => {
  it('never throws and never accepts random unicode', () => {
    const random = prng(36);
    const pools = [0x20, 0x30, 0x41, 0x4e00, 0xd800, 0xff10, 0x1f600, 0x3000];
    for (let n = 0; n < 3000; n++) {
      const length = Math.floor(random() * 24);
      let text = '';
      for (let i = 0; i < length; i++) {
        const base = pools[Math.floor(random() * pools.length)] ?? 0x20;
        text += String.fromCodePoint(base + Math.floor(random() * 64));
      }
      expect(() => checkMainlandId(text, TODAY)).not.toThrow();
      expect(() => checkPhone(text)).not.toThrow();
      for (const t of idTypes) expect(() => checkIdDocument(t.type, text, TODAY)).not.toThrow();
      const id = checkMainlandId(text, TODAY);
      if (id.ok) expect(id.normalised).toMatch(/^\d{17}[\dX]$/);
    }
  });

  it('does not throw on odd clocks', () => {
    for (const today of [Number.NaN, Infinity, -Infinity, 0, -1e20, 1e20]) {
      expect(() => checkMainlandId('11010519491231002X', today)).not.toThrow();
    }
  });
});
