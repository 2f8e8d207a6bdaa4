// The rounds a plan asks for on a local day, each with the window of every stop.
import { localParts, zonedInstant } from '../core/time.js';
import { startMinutes, type CompiledPlan } from './plan.js';

export interface StopSpec {
  checkpoint: string;
  expectedAt: number;
  toleranceMs: number;
  windowFrom: number;
  windowTo: number;
  notBefore: number | null;
  minWalkMs: number;
}

export interface Round {
  id: string;
  schedule: string;
  route: string;
  routeName: string;
  ordered: boolean;
  planVersion: number;
  start: number;
  end: number;
  stops: StopSpec[];
}

const minute = 60_000;

/**
 * The plan in force when each round starts decides that round; `plans` are ordered by effectiveFrom.
 * A day's rounds are generated from every plan version that was in force at some time that day.
 */
export function roundsForDay(plans: readonly CompiledPlan[], date: string, timeZone: string): Round[] {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const dayStart = zonedInstant(y, m, d, '00:00', timeZone);
  const weekday = localParts(dayStart + 12 * 3600_000, timeZone).weekday;
  const rounds: Round[] = [];
  const seen = new Set<string>();
  for (const compiled of plans) {
    for (const s of compiled.plan.schedules) {
      if (s.days && !s.days.includes(weekday)) continue;
      const route = compiled.routes.get(s.route);
      if (!route) continue;
      for (const startMin of startMinutes(s)) {
        const hhmm = `${String(Math.floor(startMin / 60)).padStart(2, '0')}:${String(startMin % 60).padStart(2, '0')}`;
        const start = zonedInstant(y, m, d, hhmm, timeZone);
        if (planAt(plans, start) !== compiled) continue;
        const id = `${s.id}@${start}`;
        if (seen.has(id)) continue;
        seen.add(id);
        rounds.push({
          id,
          schedule: s.id,
          route: route.id,
          routeName: route.name,
          ordered: route.ordered,
          planVersion: compiled.version,
          start,
          end: start + s.window_min * minute,
          stops: route.stops.map((stop) => {
            const expectedAt = start + stop.offset_min * minute;
            const reach = (stop.tolerance_min + stop.band_min) * minute;
            return {
              checkpoint: stop.checkpoint,
              expectedAt,
              toleranceMs: stop.tolerance_min * minute,
              windowFrom: Math.max(start, expectedAt - reach),
              windowTo: expectedAt + reach,
              notBefore: stop.not_before_min === undefined ? null : start + stop.not_before_min * minute,
              minWalkMs: stop.min_walk_s * 1000,
            };
          }),
        });
      }
    }
  }
  return rounds.sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
}

/** The plan version in force at an instant: the latest whose effectiveFrom is not after it. */
export function planAt(plans: readonly CompiledPlan[], at: number): CompiledPlan | undefined {
  let found: CompiledPlan | undefined;
  for (const p of plans) if (p.effectiveFrom <= at && (!found || p.effectiveFrom >= found.effectiveFrom)) found = p;
  return found;
}
