// Wand calendar time: YYYYMMDDhhmmss text checked as a real date, and conversion between a zone's local time and UTC.
import { isTimeZone, zoneOffsetMs } from '../../gateway/core/time.js';

/**
 * A wand time as "naive" milliseconds: the calendar reading taken as if it were UTC. Two readings of
 * the same wand clock subtract to the real time between them, whatever the zone, because the wand's
 * clock is a plain counter that never jumps for daylight saving (see README, "Clock handling").
 */
export type NaiveMs = number;

/** Years a wand clock may show: the RTC chips wands use keep a two-digit year. */
export const minWandYear = 2000;
export const maxWandYear = 2099;

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The reading as naive ms, or why it is not a time: not 14 digits, out of 2000-2099, month 13, Feb 30, 24:00, second 60. */
export function parseWandTime(text: string): { ok: true; naive: NaiveMs } | { ok: false; why: string } {
  if (!/^\d{14}$/.test(text)) return { ok: false, why: `"${text}" is not 14 digits YYYYMMDDhhmmss` };
  const n = (from: number, len: number) => Number(text.slice(from, from + len));
  const [year, month, day, hour, minute, second] = [n(0, 4), n(4, 2), n(6, 2), n(8, 2), n(10, 2), n(12, 2)];
  if (year < minWandYear || year > maxWandYear) return { ok: false, why: `year ${year} outside ${minWandYear}-${maxWandYear}` };
  if (month < 1 || month > 12) return { ok: false, why: `month ${month}` };
  if (day < 1 || day > daysIn(year, month)) return { ok: false, why: `day ${day} of ${year}-${String(month).padStart(2, '0')}` };
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, why: `time of day ${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}` };
  return { ok: true, naive: Date.UTC(year, month - 1, day, hour, minute, second) };
}

/** Naive ms back to YYYYMMDDhhmmss (whole seconds; a fraction is dropped, as a wand clock shows it). */
export function formatWandTime(naive: NaiveMs): string {
  const d = new Date(Math.floor(naive / 1000) * 1000);
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export { isTimeZone, zoneOffsetMs };

/** The local calendar reading in `zone` at a UTC instant, as naive ms. */
export function utcToLocal(utc: number, zone: string): NaiveMs {
  return utc + zoneOffsetMs(utc, zone);
}

/**
 * The UTC instant a local reading in `zone` names. A reading that exists twice (clocks put back) is
 * taken as the earlier; one that does not exist (clocks put forward) is read with the offset before
 * the change, landing just after it, as a wall clock that missed the change would mean it.
 */
export function localToUtc(naive: NaiveMs, zone: string): number {
  const day = 86_400_000;
  const before = zoneOffsetMs(naive - day, zone);
  const after = zoneOffsetMs(naive + day, zone);
  const candidates = [naive - before, naive - after].filter((t) => zoneOffsetMs(t, zone) === naive - t);
  if (candidates.length === 0) return naive - before;
  return Math.min(...candidates);
}
