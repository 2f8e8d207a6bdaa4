// Display formatting: times in the site's time zone and the one-line text of an event's masked detail.
import type { EventView } from './contracts.ts';
import { translateOpen, type Lang, type Translate } from './i18n.ts';

const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(lang: Lang, timeZone: string | undefined, withDate: boolean): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone ?? ''}|${withDate}`;
  let f = cache.get(key);
  if (!f) {
    // hourCycle h23: some locales otherwise print midnight as 24:00:00.
    const opts: Intl.DateTimeFormatOptions = { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' };
    if (withDate) Object.assign(opts, { month: '2-digit', day: '2-digit' });
    try {
      f = new Intl.DateTimeFormat(lang, opts);
    } catch {
      // An unknown zone name in the site config must not blank the screen: fall back to the PC's zone.
      f = new Intl.DateTimeFormat(lang, { ...opts, timeZone: undefined });
    }
    cache.set(key, f);
  }
  return f;
}

/** HH:mm:ss in the site's zone. */
export function timeOfDay(ms: number, lang: Lang, timeZone?: string): string {
  return formatter(lang, timeZone, false).format(ms);
}

/** MM-DD HH:mm:ss (localised order) in the site's zone. */
export function dateTime(ms: number, lang: Lang, timeZone?: string): string {
  return formatter(lang, timeZone, true).format(ms);
}

const minuteCache = new Map<string, Intl.DateTimeFormat>();

/** HH:mm when `ms` is on the same day as `now` in the site's zone, else MM-DD HH:mm (localised order); `now` 0 always gives the date. */
export function shortTime(ms: number, lang: Lang, timeZone?: string, now = Date.now()): string {
  const key = `${lang}|${timeZone ?? ''}`;
  let f = minuteCache.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = { timeZone, hourCycle: 'h23', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' };
    try {
      f = new Intl.DateTimeFormat(lang, opts);
    } catch {
      f = new Intl.DateTimeFormat(lang, { ...opts, timeZone: undefined });
    }
    minuteCache.set(key, f);
  }
  const parts = (at: number) => f.formatToParts(at);
  const day = (at: number) => parts(at).filter((p) => p.type === 'month' || p.type === 'day').map((p) => p.value).join('-');
  if (day(ms) === day(now)) {
    return parts(ms)
      .filter((p) => p.type === 'hour' || p.type === 'minute' || (p.type === 'literal' && p.value === ':'))
      .map((p) => p.value)
      .join('');
  }
  return f.format(ms);
}

/** The detail the gateway already masked, as one short line; unknown keys are shown as key=value. */
export function detailText(ev: EventView, t: Translate): string {
  const d = ev.detail;
  switch (ev.type) {
    case 'credential': {
      const kind = typeof d.kind === 'string' ? translateOpen(t, 'credential', d.kind) : '';
      return [kind, d.value].filter((x) => x !== undefined && x !== '').join(' ');
    }
    case 'plate': {
      if (typeof d.confidence !== 'number') return String(d.plate ?? '');
      // Cameras report either 0..1 or 0..100; show a percentage either way.
      const pct = Math.round(d.confidence <= 1 ? d.confidence * 100 : d.confidence);
      return `${String(d.plate ?? '')} (${t('confidence')} ${pct}%)`;
    }
    case 'checkpoint':
      return `${t('tag')} ${String(d.tag ?? '')}`;
    default:
      return Object.entries(d)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
  }
}
