// Validation and normalisation of Chinese motor vehicle plate numbers (GA 36-2018) as a guard types or a camera reads them.
//
// Pure functions, no I/O and no global state. The plate kinds are a table (plateFormats), not code
// branches: adding a kind is adding a row.

export type PlateKind =
  | 'ordinary'
  | 'new-energy'
  | 'coach'
  | 'police'
  | 'trailer'
  | 'hong-kong'
  | 'macau'
  | 'consulate'
  | 'embassy'
  | 'test'
  | 'oversize';

export type PlateProblem = 'empty' | 'province' | 'characters' | 'format';

export type PlateResult =
  | { ok: true; /** normalised */ plate: string; kind: PlateKind; province: string | null }
  | { ok: false; reason: PlateProblem };

/** The 31 province-level abbreviations, in the order Chinese plate keyboards show them. */
export const provinces = [
  '京', '津', '沪', '渝', '冀', '豫', '云', '辽', '黑', '湘', '皖', '鲁', '新', '苏', '浙', '赣',
  '鄂', '桂', '甘', '晋', '蒙', '陕', '吉', '闽', '贵', '粤', '青', '藏', '川', '宁', '琼',
] as const;

/** Characters a plate carries that are not provinces: the special-plate marks of plateFormats. */
const specialCharacters = ['使', '领', '警', '学', '挂', '港', '澳', '试', '超'] as const;

/**
 * What the plate keyboard offers on its Chinese page: provinces, then the special marks.
 * 试 and 超 come last because they appear only on temporary plates, which guards rarely meet.
 */
export const provinceKeys: readonly string[] = [...provinces, ...specialCharacters];

const PROVINCE = `[${provinces.join('')}]`;
/**
 * Issuing-authority letter (发牌机关代号): any letter but I. O is deliberately allowed here: it is
 * the code of plates issued by a provincial public-security department's own vehicle office
 * (粤O, 京O ... for public-security and government vehicles), not a typo for 0.
 */
const AUTHORITY = '[A-HJ-Z]';
/** Serial characters (序号): digits and letters except I and O, which read as 1 and 0 (GA 36-2018). */
const SERIAL = '[A-HJ-NP-Z0-9]';

export interface PlateFormat {
  kind: PlateKind;
  /** Name of the plate type in GA 36-2018, for documentation and the UI. */
  zh: string;
  example: string;
  /** Whole normalised plate. Named group `province` when the plate has one, `serial` when maxSerialLetters applies. */
  pattern: RegExp;
  /** GA 36-2018 serial coding: all digits, one letter, or two letters; never more. */
  maxSerialLetters?: number;
}

/** Province + authority letter + a 4-character serial + the special-plate mark. */
function marked(kind: PlateKind, zh: string, mark: string, example: string): PlateFormat {
  return {
    kind,
    zh,
    example,
    pattern: new RegExp(`^(?<province>${PROVINCE})${AUTHORITY}(?<serial>${SERIAL}{4})${mark}$`, 'u'),
    maxSerialLetters: 2,
  };
}

/** Tried in order; the first match decides the kind. */
export const plateFormats: readonly PlateFormat[] = [
  {
    kind: 'ordinary',
    zh: '普通汽车号牌（大型、小型、摩托车）',
    example: '粤B12345',
    pattern: new RegExp(`^(?<province>${PROVINCE})${AUTHORITY}(?<serial>${SERIAL}{5})$`, 'u'),
    maxSerialLetters: 2,
  },
  {
    // Serial's first character is the power type: D (电, pure electric) or F (非, not pure electric) in
    // GA 36-2018; since the D/F series ran out, A B C E extend D and G H J K extend F. Then a letter or
    // digit, then four digits.
    kind: 'new-energy',
    zh: '小型新能源汽车号牌',
    example: '沪AD12345',
    pattern: new RegExp(`^(?<province>${PROVINCE})${AUTHORITY}[ABCDEFGHJK]${SERIAL}\\d{4}$`, 'u'),
  },
  {
    // Large vehicles put the power letter last, after five digits; GA 36-2018 allows only D and F here.
    kind: 'new-energy',
    zh: '大型新能源汽车号牌',
    example: '辽D46234F',
    pattern: new RegExp(`^(?<province>${PROVINCE})${AUTHORITY}\\d{5}[DF]$`, 'u'),
  },
  marked('coach', '教练汽车号牌', '学', '京A1234学'),
  marked('police', '警用汽车号牌', '警', '京A1234警'),
  marked('trailer', '挂车号牌', '挂', '京A1234挂'),
  marked('consulate', '领馆汽车号牌', '领', '沪A1234领'),
  marked('test', '临时行驶车号牌（试验用）', '试', '京A1234试'),
  marked('oversize', '临时行驶车号牌（特型机动车）', '超', '京A1234超'),
  {
    // Hong Kong and Macao vehicles crossing into the mainland are registered in Guangdong under 粤Z.
    kind: 'hong-kong',
    zh: '港澳入出境车号牌（香港）',
    example: '粤Z1234港',
    pattern: new RegExp(`^(?<province>粤)Z(?<serial>${SERIAL}{4})港$`, 'u'),
    maxSerialLetters: 2,
  },
  {
    kind: 'macau',
    zh: '港澳入出境车号牌（澳门）',
    example: '粤Z1234澳',
    pattern: new RegExp(`^(?<province>粤)Z(?<serial>${SERIAL}{4})澳$`, 'u'),
    maxSerialLetters: 2,
  },
  {
    // 3-digit mission code + 3-digit serial. Older plates put 使 first, the plates issued from 2017 put it
    // last; both are on the road, and they are written as they appear.
    kind: 'embassy',
    zh: '使馆汽车号牌',
    example: '使224009',
    pattern: /^使\d{6}$/u,
  },
  {
    kind: 'embassy',
    zh: '使馆汽车号牌（2017 式）',
    example: '224009使',
    pattern: /^\d{6}使$/u,
  },
];

/** Separators printed on or typed into plates: middle dots in their many code points, dashes, full stops. */
const plateSeparators = /[\s\u00B7\u2022\u2027\u2219\u22C5\u30FB\uFF65.\-\u2010-\u2015\u2212]/g;

/** Traditional forms of plate characters, as typed with a Hong Kong, Macao or Taiwan IME. */
const traditionalForms: Readonly<Record<string, string>> = {
  滬: '沪', 粵: '粤', 遼: '辽', 魯: '鲁', 蘇: '苏', 贛: '赣', 貴: '贵', 閩: '闽', 陝: '陕',
  晉: '晋', 寧: '宁', 瓊: '琼', 雲: '云', 學: '学', 領: '领', 掛: '挂', 試: '试',
};

const traditionalPattern = new RegExp(`[${Object.keys(traditionalForms).join('')}]`, 'gu');

/**
 * Canonical form of a plate for storage and comparison: no separators, ASCII upper case, simplified
 * characters. I and O are kept as typed (never turned into 1 and 0) so that parsePlate can reject them.
 */
export function normalisePlate(value: string): string {
  return value
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(plateSeparators, '')
    // ASCII only: String#toUpperCase would turn 'ſ' into 'S' and 'ı' into 'I', inventing plate characters.
    .replace(/[a-z]/g, (c) => c.toUpperCase())
    .replace(traditionalPattern, (c) => traditionalForms[c] ?? c);
}

const serialCharacter = new RegExp(`^${SERIAL}$`);
const provinceSet: ReadonlySet<string> = new Set(provinces);
const plateAlphabet: ReadonlySet<string> = new Set([...provinces, ...specialCharacters]);

function looksLikePlateStart(c: string): boolean {
  return /^[\p{Script=Han}A-Z0-9]$/u.test(c);
}

/** Parse a typed or recognised plate. Never throws, whatever the input. */
export function parsePlate(value: string): PlateResult {
  const plate = normalisePlate(value);
  const chars = [...plate];
  const first = chars[0];
  if (first === undefined) return { ok: false, reason: 'empty' };

  // Embassy plates are the only ones without a province; anything else must start with one.
  const embassy = first === '使' || chars[chars.length - 1] === '使';
  if (!provinceSet.has(first) && !embassy) {
    return { ok: false, reason: looksLikePlateStart(first) ? 'province' : 'characters' };
  }

  for (const [i, c] of chars.entries()) {
    if (serialCharacter.test(c) || plateAlphabet.has(c)) continue;
    if (c === 'O' && i === 1) continue; // the issuing-authority position, see AUTHORITY
    return { ok: false, reason: 'characters' };
  }

  for (const format of plateFormats) {
    const match = format.pattern.exec(plate);
    if (match === null) continue;
    const serial = match.groups?.['serial'] ?? '';
    if (format.maxSerialLetters !== undefined && serial.replace(/\d/g, '').length > format.maxSerialLetters) continue;
    return { ok: true, plate, kind: format.kind, province: match.groups?.['province'] ?? null };
  }
  return { ok: false, reason: 'format' };
}

/** Whether two typed or recognised plates are the same vehicle's: equal after normalisation, and not empty. */
export function sameVehicle(a: string, b: string): boolean {
  const left = normalisePlate(a);
  return left !== '' && left === normalisePlate(b);
}
