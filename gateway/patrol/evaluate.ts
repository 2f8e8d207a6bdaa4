// Judging a round: each stop on time, early, late, missed, out of order or rushed; the round complete or not.
import type { RoundView, StopView } from '../http/patrol-contracts.js';
import type { Round } from './rounds.js';

export interface Hit {
  at: number;
  source: string;
  guard: string | null;
}

/** Hits per checkpoint, each list sorted by time: the form evaluation wants, built once per query. */
export type HitsByCheckpoint = Map<string, Hit[]>;

export function groupHits(hits: Iterable<Hit & { checkpoint: string | null }>): HitsByCheckpoint {
  const out: HitsByCheckpoint = new Map();
  for (const h of hits) {
    if (!h.checkpoint) continue;
    let list = out.get(h.checkpoint);
    if (!list) out.set(h.checkpoint, (list = []));
    list.push(h);
  }
  for (const list of out.values()) list.sort((a, b) => a.at - b.at);
  return out;
}

/** Index of the first hit at or after `at` (binary search: rounds x stops over 60 days must stay cheap). */
function firstFrom(list: readonly Hit[], at: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type StopStatus = StopView['status'];

/** A round judged, without the views around it: what a trend over many days needs, and nothing more. */
export interface Judgement {
  statuses: StopStatus[];
  chosen: (Hit | null)[];
  status: RoundView['status'];
}

/** Each stop's status and the round's, from the hits: the hot loop of 60-day reviews, so kept lean. */
export function judgeRound(round: Round, hits: HitsByCheckpoint, now: number): Judgement {
  const statuses: StopStatus[] = new Array(round.stops.length);
  const chosen: (Hit | null)[] = new Array(round.stops.length);
  let latest = -Infinity;
  let pending = 0;
  let missed = 0;
  for (let k = 0; k < round.stops.length; k++) {
    const spec = round.stops[k]!;
    const list = hits.get(spec.checkpoint);
    // The hit closest to the expected time within the stop's window counts.
    let best: Hit | null = null;
    if (list) {
      for (let i = firstFrom(list, spec.windowFrom); i < list.length && list[i]!.at <= spec.windowTo; i++) {
        const h = list[i]!;
        if (!best || Math.abs(h.at - spec.expectedAt) < Math.abs(best.at - spec.expectedAt)) best = h;
      }
    }
    chosen[k] = best;
    let status: StopStatus;
    if (!best) status = now > spec.windowTo ? 'missed' : 'pending';
    else if (spec.notBefore !== null && best.at < spec.notBefore) status = 'not-before';
    // An ordered route walked against its order: touched before a stop that comes earlier in the route.
    else if (round.ordered && best.at < latest) status = 'out-of-order';
    else if (best.at < spec.expectedAt - spec.toleranceMs) status = 'early';
    else if (best.at > spec.expectedAt + spec.toleranceMs) status = 'late';
    else status = 'on-time';
    if (best && best.at > latest) latest = best.at;
    if (status === 'pending') pending++;
    else if (status === 'missed') missed++;
    statuses[k] = status;
  }
  let status: RoundView['status'];
  if (now < round.start) status = 'upcoming';
  else if (pending > 0) status = 'in-progress';
  else if (missed === round.stops.length) status = 'missed';
  else if (missed > 0) status = 'incomplete';
  else status = 'complete';
  return { statuses, chosen, status };
}

export interface EvaluateContext {
  now: number;
  names: (checkpoint: string) => { name: string; keyArea: boolean };
  /** Supervisors' reasons keyed "<round>|<checkpoint>". */
  reasons: ReadonlyMap<string, string>;
}

/** A round as screens show it: the judgement, names, reasons, the guard and the too-fast walks. */
export function evaluateRound(round: Round, hits: HitsByCheckpoint, ctx: EvaluateContext): RoundView {
  const { statuses, chosen, status } = judgeRound(round, hits, ctx.now);
  const stops: StopView[] = round.stops.map((spec, k) => {
    const best = chosen[k]!;
    const { name, keyArea } = ctx.names(spec.checkpoint);
    return {
      checkpoint: spec.checkpoint,
      name,
      keyArea,
      expectedAt: spec.expectedAt,
      windowFrom: spec.windowFrom,
      windowTo: spec.windowTo,
      status: statuses[k]!,
      hitAt: best?.at ?? null,
      hitSource: best?.source ?? null,
      guard: best?.guard ?? null,
      reason: ctx.reasons.get(`${round.id}|${spec.checkpoint}`) ?? null,
    };
  });

  // The anti-gaming check: consecutive touches closer together than the walk between the points allows.
  const visited = round.stops.map((spec, i) => ({ spec, hit: chosen[i] })).filter((v): v is { spec: (typeof round.stops)[number]; hit: Hit } => v.hit !== null);
  visited.sort((a, b) => a.hit.at - b.hit.at);
  const suspicious: RoundView['suspicious'] = [];
  for (let i = 1; i < visited.length; i++) {
    const [prev, next] = [visited[i - 1]!, visited[i]!];
    const gap = next.hit.at - prev.hit.at;
    if (gap < next.spec.minWalkMs) suspicious.push({ from: prev.spec.checkpoint, to: next.spec.checkpoint, seconds: gap / 1000, minimum: next.spec.minWalkMs / 1000 });
  }

  const counts = new Map<string, number>();
  for (const h of chosen) if (h?.guard) counts.set(h.guard, (counts.get(h.guard) ?? 0) + 1);
  const guard = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;

  return { id: round.id, route: round.route, routeName: round.routeName, planVersion: round.planVersion, start: round.start, end: round.end, status, guard, stops, suspicious };
}
