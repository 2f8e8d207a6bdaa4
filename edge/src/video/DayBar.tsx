// A stretch of time as one wide bar: recorded footage, gaps hatched, sealed footage marked, the chosen span
// outlined; a tap anywhere says that moment (the parent picks a start or seeks there).
import type { Span, Timeline } from '../contracts.ts';
import { useLang } from '../i18n.ts';
import { hm } from '../patrol/status.ts';

/** Milliseconds since local midnight of `ms` in the zone, subtracted from `ms`: the local midnight before it. */
function localInstantOfDay(ms: number, tz: string | undefined): number {
  const opts: Intl.DateTimeFormatOptions = { hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' };
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-GB', { ...opts, timeZone: tz });
  } catch {
    // An unknown zone name in the site config: the PC's zone, as the rest of the screens do.
    f = new Intl.DateTimeFormat('en-GB', opts);
  }
  const [h, m, sec] = f.format(ms).split(':').map(Number) as [number, number, number];
  return ms - ((h * 60 + m) * 60 + sec) * 1000 - (ms % 1000);
}

const pct = (x: number, from: number, to: number) => `${Math.max(0, Math.min(100, ((x - from) / (to - from)) * 100))}%`;

export interface DayBarProps {
  from: number;
  to: number;
  recorded: Span[];
  gaps: Timeline['gaps'] | Span[];
  sealed?: Timeline['sealed'];
  selection?: Span | null;
  /** A position line: the play head of a clip. */
  marker?: number | null;
  /** Ticks every this many hours (the day) or none (a clip, whose ends are labelled). */
  tickHours?: number;
  tz: string | undefined;
  label: string;
  testid: string;
  onPick(at: number): void;
}

export function DayBar({ from, to, recorded, gaps, sealed = [], selection, marker, tickHours, tz, label, testid, onPick }: DayBarProps) {
  const { lang } = useLang();
  const ticks: number[] = [];
  if (tickHours) {
    // On whole steps of the clock (a closer bar starts at any minute): 09:15, 09:30, not 09:22, 09:37.
    const step = tickHours * 3600_000;
    const offset = from - localInstantOfDay(from, tz);
    for (let at = from + ((step - (offset % step)) % step); at <= to; at += step) ticks.push(at);
  }
  const box = (s: Span) => ({ left: pct(s.start, from, to), width: `calc(${pct(s.end, from, to)} - ${pct(s.start, from, to)})` });
  return (
    <div class="daybar-wrap">
      <button
        type="button"
        class="daybar"
        aria-label={label}
        data-testid={testid}
        data-from={from}
        data-to={to}
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const at = from + ((e.clientX - r.left) / r.width) * (to - from);
          onPick(Math.round(Math.max(from, Math.min(to, at))));
        }}
      >
        {recorded.map((s) => (
          <span key={`r${s.start}`} class="db-rec" data-testid={`${testid}-rec`} style={box(s)} />
        ))}
        {gaps.map((g) => (
          <span key={`g${g.start}`} class="db-gap" data-testid={`${testid}-gap`} style={box(g)} />
        ))}
        {sealed.map((s) => (
          <span key={`s${s.sealId}${s.start}`} class="db-seal" data-testid={`${testid}-seal`} style={box(s)}>
            ▣
          </span>
        ))}
        {selection && <span class="db-sel" data-testid={`${testid}-sel`} style={box(selection)} />}
        {marker != null && <span class="db-marker" style={{ left: pct(marker, from, to) }} />}
      </button>
      <div class="db-ticks" aria-hidden="true">
        {tickHours ? (
          ticks.map((at) => (
            <span key={at} class={at === from ? 'db-tick db-tick-start' : at === to ? 'db-tick db-tick-end' : 'db-tick'} style={{ left: pct(at, from, to) }}>
              {at === to && hm(at, lang, tz) === '00:00' ? '24:00' : hm(at, lang, tz)}
            </span>
          ))
        ) : (
          <>
            <span class="db-tick db-tick-start" style={{ left: '0%' }}>
              {hm(from, lang, tz)}
            </span>
            <span class="db-tick db-tick-end" style={{ left: '100%' }}>
              {hm(to, lang, tz)}
            </span>
          </>
        )}
      </div>
    </div>
  );
}

/** What lies at `at` on a camera's timeline: a gap (with its reason), a seal, or nothing special. */
export function whatIsAt(tl: Timeline | null, at: number): { gap?: Timeline['gaps'][number]; seal?: Timeline['sealed'][number]; recorded: boolean } {
  if (!tl) return { recorded: false };
  return {
    gap: tl.gaps.find((g) => g.start <= at && at < g.end),
    seal: tl.sealed.find((s) => s.start <= at && at < s.end),
    recorded: tl.recorded.some((s) => s.start <= at && at < s.end),
  };
}
