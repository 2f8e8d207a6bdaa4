// Validation and normalisation of what a guard types for a visitor's identity: ID numbers, phone numbers, other ID documents.
//
// Pure functions, no I/O and no global state. Failure reasons are stable codes; the UI translates them.
// Masking for display lives in gateway/core/mask.ts (maskIdNumber, maskPhone), not here.

/** Why a mainland ID number was rejected. */
export type IdProblem = 'length' | 'characters' | 'region' | 'birth-date' | 'checksum';

export type MainlandIdResult =
  | { ok: true; normalised: string; /** YYYY-MM-DD */ birthDate: string; sex: 'male' | 'female' }
  | { ok: false; reason: IdProblem };

export type PhoneResult =
  | { ok: true; normalised: string; kind: 'mobile' | 'landline' }
  | { ok: false; reason: 'format' };

/** Why another ID document number was rejected: the ID codes, plus 'format' (right alphabet, wrong shape) and 'type' (unknown document type). */
export type DocumentProblem = IdProblem | 'format' | 'type';

export type DocumentResult = { ok: true; normalised: string } | { ok: false; reason: DocumentProblem };

/** Chinese IMEs in full-width mode produce U+FF01..U+FF5E; each is its ASCII counterpart + 0xFEE0. */
function toHalfWidth(value: string): string {
  return value.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** ASCII-only upper-casing: String#toUpperCase would turn 'ß' into 'SS' and 'ı' into 'I', inventing valid characters. */
function upperAscii(value: string): string {
  return value.replace(/[a-z]/g, (c) => c.toUpperCase());
}

/** \s covers U+3000 (ideographic space) and U+00A0 as well as ASCII whitespace. */
function withoutSpaces(value: string): string {
  return value.replace(/\s+/g, '');
}

// ---------------------------------------------------------------------------------------------
// Mainland resident identity card number, GB 11643-1999 (公民身份号码).

/**
 * First two digits of the address code: the province-level divisions of GB/T 2260, plus 83.
 * 71/81/82 are GB/T 2260's Taiwan, Hong Kong and Macau; since 2018 the residence permits for
 * Hong Kong, Macau and Taiwan residents (港澳台居民居住证) carry GB 11643 numbers with address
 * codes 810000, 820000 and 830000. There is no 91: the 2023 foreigner's permanent residence card
 * also uses 18 digits and MOD 11-2 but starts with 9 to mark a foreigner, and it is not a
 * resident identity card.
 */
const provinceCodes: Readonly<Record<string, string>> = {
  '11': '北京', '12': '天津', '13': '河北', '14': '山西', '15': '内蒙古',
  '21': '辽宁', '22': '吉林', '23': '黑龙江',
  '31': '上海', '32': '江苏', '33': '浙江', '34': '安徽', '35': '福建', '36': '江西', '37': '山东',
  '41': '河南', '42': '湖北', '43': '湖南', '44': '广东', '45': '广西', '46': '海南',
  '50': '重庆', '51': '四川', '52': '贵州', '53': '云南', '54': '西藏',
  '61': '陕西', '62': '甘肃', '63': '青海', '64': '宁夏', '65': '新疆',
  '71': '台湾', '81': '香港', '82': '澳门', '83': '台湾居民居住证',
};

/** GB 11643-1999 §8.2 (ISO 7064 MOD 11-2): W_i = 2^(i-1) mod 11 for positions 18..2. */
const checkWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character indexed by (Σ a_i·W_i) mod 11. */
const checkCharacters = '10X98765432';

/** No DST in mainland China since 1991: the calendar date there is always UTC+8. */
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function normaliseMainlandId(value: string): string {
  // Only the check character may be a letter, so upper-casing x is the whole of the case rule.
  return withoutSpaces(toHalfWidth(value)).replace(/x/g, 'X');
}

/**
 * Validate an 18-digit resident identity card number.
 * The 15-digit first-generation numbers are rejected with 'length': those cards stopped being
 * valid on 1 January 2013, so a guard should never be shown one.
 * `today` (epoch ms) is injectable for tests; a birth date after today in China is rejected.
 */
export function checkMainlandId(value: string, today: number = Date.now()): MainlandIdResult {
  const id = normaliseMainlandId(value);
  if (id.length !== 18) return { ok: false, reason: 'length' };
  if (!/^\d{17}[\dX]$/.test(id)) return { ok: false, reason: 'characters' };
  if (provinceCodes[id.slice(0, 2)] === undefined) return { ok: false, reason: 'region' };

  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: 'birth-date' };
  }
  // Compare the start of the birth day in China with now, so a baby born this morning in Beijing
  // is accepted even while it is still yesterday in UTC.
  if (Date.UTC(year, month - 1, day) - CHINA_OFFSET_MS > today) return { ok: false, reason: 'birth-date' };

  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * (checkWeights[i] ?? 0);
  if (checkCharacters[sum % 11] !== id[17]) return { ok: false, reason: 'checksum' };

  return {
    ok: true,
    normalised: id,
    birthDate: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`,
    // GB 11643-1999 §7.3: the sequence code's last digit is odd for men, even for women.
    sex: Number(id[16]) % 2 === 1 ? 'male' : 'female',
  };
}

// ---------------------------------------------------------------------------------------------
// Phone numbers.

/** Separators people type inside phone numbers: spaces, ASCII and Unicode dashes, parentheses round the area code. */
const phoneSeparators = /[\s\-\u2010-\u2015\u2212()]/g;

/**
 * Landlines: trunk prefix 0, then the long-distance code, then the local number.
 * The numbering plan fixes the code's length by its first digit: 10 (Beijing) and 20-29 are two
 * digits, codes starting 3-9 are three. Local numbers are 7 or 8 digits and cannot start with 0,
 * the trunk prefix. A leading 1 is let through: 1 leads service numbers, but that no 7-8 digit local
 * number starts with it was not verified, and refusing a real number at the gate costs more than
 * accepting a made-up one.
 */
const landline = /^0(10|2\d|[3-9]\d\d)([1-9]\d{6,7})$/;
/** Mobile numbers: 11 digits, 13x-19x. */
const mobile = /^1[3-9]\d{9}$/;

/** Validate a mainland mobile or landline number and return it in one canonical form. */
export function checkPhone(value: string): PhoneResult {
  let digits = toHalfWidth(value).replace(phoneSeparators, '');
  let international = false;
  if (digits.startsWith('+86')) {
    digits = digits.slice(3);
    international = true;
  } else if (digits.startsWith('0086')) {
    digits = digits.slice(4);
    international = true;
  } else if (/^86\d{11}$/.test(digits)) {
    // Without '+' or '00', "86" is only a country code when a full mobile number follows.
    digits = digits.slice(2);
  }
  if (!/^\d+$/.test(digits)) return { ok: false, reason: 'format' };
  if (mobile.test(digits)) return { ok: true, normalised: digits, kind: 'mobile' };
  // In international form the trunk 0 is dropped (+86 21 ...); some people keep it as "+86 (0)21".
  if (international && !digits.startsWith('0')) digits = `0${digits}`;
  const match = landline.exec(digits);
  if (match === null) return { ok: false, reason: 'format' };
  return { ok: true, normalised: `0${match[1] ?? ''}-${match[2] ?? ''}`, kind: 'landline' };
}

// ---------------------------------------------------------------------------------------------
// Other identity documents.

/** The ID document types a guard chooses from, in the order the form lists them. */
export const idTypes = [
  { type: 'mainland-id', zh: '居民身份证', en: 'Resident identity card' },
  { type: 'hk-macau-permit', zh: '港澳居民来往内地通行证', en: 'Mainland travel permit for Hong Kong and Macao residents' },
  { type: 'taiwan-permit', zh: '台湾居民来往大陆通行证', en: 'Mainland travel permit for Taiwan residents' },
  { type: 'passport', zh: '护照', en: 'Passport' },
  { type: 'other', zh: '其他证件', en: 'Other document' },
] as const;

export type IdType = (typeof idTypes)[number]['type'];

/** Passports and permits: ASCII letters and digits only, whatever the IME produced. */
function normaliseDocumentNumber(value: string): string {
  return upperAscii(withoutSpaces(toHalfWidth(value)));
}

function checkHkMacauPermit(value: string): DocumentResult {
  // Ministry of Public Security number rules (2010): 11 characters, H (Hong Kong) or M (Macao),
  // an 8-digit lifelong number, then 2 digits counting re-issues (00 first). Guards often copy
  // only the first 9, which already identify the holder, so both lengths are accepted.
  const number = normaliseDocumentNumber(value);
  if (number.length !== 9 && number.length !== 11) return { ok: false, reason: 'length' };
  if (!/^[A-Z0-9]+$/.test(number)) return { ok: false, reason: 'characters' };
  if (!/^[HM]\d{8}(\d{2})?$/.test(number)) return { ok: false, reason: 'format' };
  return { ok: true, normalised: number };
}

function checkTaiwanPermit(value: string): DocumentResult {
  // Since 25 September 2008 the number is the holder's 8-digit lifelong number alone; the older
  // 10-digit "(B)"-style numbers were on 5-year permits that have all expired.
  const number = normaliseDocumentNumber(value);
  if (number.length !== 8) return { ok: false, reason: 'length' };
  if (!/^\d{8}$/.test(number)) return { ok: false, reason: 'characters' };
  return { ok: true, normalised: number };
}

function checkPassport(value: string): DocumentResult {
  // Issuing countries differ too much to check more than the alphabet and a sane length.
  const number = normaliseDocumentNumber(value);
  const length = [...number].length;
  if (length < 5 || length > 20) return { ok: false, reason: 'length' };
  if (!/^[A-Z0-9]+$/.test(number)) return { ok: false, reason: 'characters' };
  return { ok: true, normalised: number };
}

function checkOther(value: string): DocumentResult {
  // Free-form, but invisible characters would make two records of one document look the same.
  const text = value.trim().replace(/\s+/g, ' ');
  const length = [...text].length;
  if (length < 2 || length > 32) return { ok: false, reason: 'length' };
  if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u.test(text)) return { ok: false, reason: 'characters' };
  return { ok: true, normalised: text };
}

const documentCheckers: Readonly<Record<IdType, (value: string, today: number) => DocumentResult>> = {
  'mainland-id': (value, today) => {
    const result = checkMainlandId(value, today);
    return result.ok ? { ok: true, normalised: result.normalised } : result;
  },
  'hk-macau-permit': checkHkMacauPermit,
  'taiwan-permit': checkTaiwanPermit,
  passport: checkPassport,
  other: checkOther,
};

/** Validate a document number of the chosen type. An unknown type (from an old client) is 'type', not an exception. */
export function checkIdDocument(type: IdType, value: string, today: number = Date.now()): DocumentResult {
  const check = Object.hasOwn(documentCheckers, type) ? documentCheckers[type] : undefined;
  if (check === undefined) return { ok: false, reason: 'type' };
  return check(value, today);
}
