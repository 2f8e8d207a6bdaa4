// Local checks that give the guard instant feedback (the gateway still decides), and local-date arithmetic.

const idWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const idCheckChars = '10X98765432';

/** A mainland resident ID (GB 11643): 17 digits and a check character that must match them. */
export function mainlandIdValid(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * (idWeights[i] ?? 0);
  return idCheckChars[sum % 11] === id[17];
}

export const provinces = [...'京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼'];
/** Characters that start a special plate (embassy) or end one (police, learner, trailer, HK/Macau, consulate). */
export const plateSpecialFirst = ['使'];
export const plateSpecialLast = [...'警学挂港澳领'];
/** Plates never use I or O (they read as 1 and 0). */
export const plateLetters = [...'ABCDEFGHJKLMNPQRSTUVWXYZ'];

const prov = `[${provinces.join('')}]`;
const L = '[A-HJ-NP-Z]';
const LD = '[A-HJ-NP-Z0-9]';
const ordinary = new RegExp(`^${prov}${L}${LD}{4}[A-HJ-NP-Z0-9${plateSpecialLast.join('')}]$`);
const newEnergy = new RegExp(`^${prov}${L}([DF]${LD}\\d{4}|\\d{5}[DF])$`);
const embassy = /^使\d{6}$/;

export type PlateStyle = 'blue' | 'green' | 'white' | 'yellow' | 'black';

/** The colour of the physical plate, as far as the characters tell: new energy is 8 characters on green. */
export function plateStyle(plate: string): PlateStyle {
  if (plate.length === 8) return 'green';
  if (plate.endsWith('警')) return 'white';
  if (plate.endsWith('学') || plate.endsWith('挂')) return 'yellow';
  if (plate.startsWith('使') || plate.endsWith('领') || plate.endsWith('港') || plate.endsWith('澳')) return 'black';
  return 'blue';
}

export function plateLooksValid(plate: string): boolean {
  return ordinary.test(plate) || newEnergy.test(plate) || embassy.test(plate);
}

/** "浙B12345" -> "浙B·12345", the way it is printed on the plate. */
export function plateDisplay(plate: string): string {
  return plate.length > 2 && !plate.startsWith('使') ? `${plate.slice(0, 2)}·${plate.slice(2)}` : plate;
}

export function mobileValid(phone: string): boolean {
  return /^1[3-9]\d{9}$/.test(phone);
}

// ---- local dates in the site's time zone --------------------------------------------------------

function parts(ms: number, timeZone: string | undefined): { y: number; m: number; d: number; h: number; min: number } {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(ms)) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year ?? 1970, m: p.month ?? 1, d: p.day ?? 1, h: p.hour ?? 0, min: p.minute ?? 0 };
}

/** YYYY-MM-DD of `ms` in the zone. */
export function localDate(ms: number, timeZone: string | undefined): string {
  const p = parts(ms, timeZone);
  return `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The instant of a local date and time HH:MM in the zone (two passes settle a DST edge). */
export function localInstant(date: string, hhmm: string, timeZone: string | undefined): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [h, min] = hhmm.split(':').map(Number) as [number, number];
  const wanted = Date.UTC(y, m - 1, d, h, min);
  let at = wanted;
  for (let i = 0; i < 2; i++) {
    const p = parts(at, timeZone);
    at += wanted - Date.UTC(p.y, p.m - 1, p.d, p.h, p.min);
  }
  return at;
}

/** 23:59 today in the site's zone. */
export function endOfDay(now: number, timeZone: string | undefined): number {
  return localInstant(localDate(now, timeZone), '23:59', timeZone);
}
