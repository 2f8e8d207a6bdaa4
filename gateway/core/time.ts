// Wall-clock time in the site's time zone: the store keeps UTC ms, people and schedules think locally.

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday: 1 = Monday ... 7 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const weekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function localParts(at: number, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(at))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: weekdays[parts.weekday ?? ''] ?? 0,
  };
}

/** Is `timeZone` a zone this runtime knows? */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The UTC instant of a local date and time of day ("HH:MM") in the zone. */
export function zonedInstant(year: number, month: number, day: number, hhmm: string, timeZone: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const guess = Date.UTC(year, month - 1, day, h, m);
  // The zone's offset at the guess, applied once and checked again across a DST change.
  let at = guess - zoneOffsetMs(guess, timeZone);
  const second = guess - zoneOffsetMs(at, timeZone);
  if (second !== at) at = second;
  return at;
}

/** The zone's UTC offset at this instant, in ms (Asia/Shanghai: +8 h). Throws RangeError for an unknown zone. */
export function zoneOffsetMs(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at / 1000) * 1000;
}

/** The local time of day "HH:MM" on the same local date as `at`, as an instant. */
export function sameDayAt(at: number, hhmm: string, timeZone: string): number {
  const p = localParts(at, timeZone);
  return zonedInstant(p.year, p.month, p.day, hhmm, timeZone);
}

/** The last millisecond of the local day that contains `at`. */
export function endOfLocalDay(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  const nextMidnight = zonedInstant(p.year, p.month, p.day, '00:00', timeZone) + 36 * 3600 * 1000;
  const q = localParts(nextMidnight, timeZone);
  return zonedInstant(q.year, q.month, q.day, '00:00', timeZone) - 1;
}

/** Minutes since local midnight. */
export function minuteOfDay(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return p.hour * 60 + p.minute;
}

export function parseHhmm(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** Local date as YYYY-MM-DD. */
export function localDate(at: number, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}
