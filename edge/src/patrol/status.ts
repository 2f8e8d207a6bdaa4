// How a stop's and a round's status look: a colour (CSS class), a symbol and a word, never colour alone.
import type { RoundStatus, RoundView, StopStatus, StopView } from '../contracts.ts';
import { translateOpen, type Lang, type MsgKey, type Translate } from '../i18n.ts';

export const stopSymbol: Record<StopStatus, string> = {
  'on-time': '✓',
  early: '↑',
  late: '↓',
  missed: '✕',
  'out-of-order': '⇄',
  'not-before': '!',
  pending: '○',
};

/** Statuses in the legend's order: the good one first, the bad ones after, pending last. */
export const stopStatuses: StopStatus[] = ['on-time', 'early', 'late', 'missed', 'out-of-order', 'not-before', 'pending'];

/** Stops a supervisor explains: missed, or hit but not as planned. */
export const needsReason = (s: StopView) => s.status !== 'on-time' && s.status !== 'pending';

export const roundTone: Record<RoundStatus, 'ok' | 'bad' | 'warn' | 'idle' | 'info'> = {
  complete: 'ok',
  incomplete: 'warn',
  missed: 'bad',
  'in-progress': 'info',
  upcoming: 'idle',
};

export const stopLabel = (t: Translate, s: StopStatus) => translateOpen(t, 'stopStatus', s);
export const roundLabel = (t: Translate, s: RoundStatus) => translateOpen(t, 'roundStatus', s);
export const sourceLabel = (t: Translate, s: string | null) => (s ? translateOpen(t, 'hitSource', s) : '—');

/** The gateway's rates may come as 0..1 or as 0..100: shown as a whole percentage either way. */
export function percent(rate: number): string {
  const p = rate <= 1 ? rate * 100 : rate;
  return `${Math.round(p)}%`;
}

export const rate01 = (rate: number) => Math.max(0, Math.min(1, rate <= 1 ? rate : rate / 100));

const hmCache = new Map<string, Intl.DateTimeFormat>();

/** HH:mm in the site's zone. */
export function hm(ms: number, lang: Lang, timeZone: string | undefined): string {
  const key = `${lang}|${timeZone ?? ''}`;
  let f = hmCache.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' };
    try {
      f = new Intl.DateTimeFormat(lang, opts);
    } catch {
      f = new Intl.DateTimeFormat(lang, { ...opts, timeZone: undefined });
    }
    hmCache.set(key, f);
  }
  return f.format(ms);
}

/** A round named for people: the route and its start, e.g. "夜间巡逻 22:00". */
export const roundName = (r: RoundView, lang: Lang, tz: string | undefined) => `${r.routeName} ${hm(r.start, lang, tz)}`;

/** The checkpoint's name in a round, by id (suspicious intervals name checkpoints by id). */
export function checkpointName(r: RoundView, id: string): string {
  return r.stops.find((s) => s.checkpoint === id)?.name ?? id;
}

/** Reasons a supervisor picks with one tap; stored in Chinese, the site language, like the gate's reasons. */
export const missReasons: MsgKey[] = ['missReason.reader-fault', 'missReason.incident', 'missReason.weather', 'missReason.short-staffed', 'missReason.blocked', 'missReason.forgot'];

/** The round a control-room screen shows for a route now: the one under way, else the last one that started, else the next. */
export function currentRound(rounds: RoundView[], now: number): RoundView | null {
  const sorted = [...rounds].sort((a, b) => a.start - b.start);
  const running = sorted.find((r) => r.status === 'in-progress' || (r.start <= now && now < r.end && r.status !== 'upcoming'));
  if (running) return running;
  const started = sorted.filter((r) => r.start <= now);
  return started[started.length - 1] ?? sorted[0] ?? null;
}

/** Rounds and points already decided (upcoming rounds and open windows count for nothing yet). */
export function decided(rounds: readonly RoundView[]): { rounds: number; stops: number } {
  return {
    rounds: rounds.filter((r) => r.status !== 'upcoming' && r.status !== 'in-progress').length,
    stops: rounds.reduce((n, r) => n + r.stops.filter((x) => x.status !== 'pending').length, 0),
  };
}
