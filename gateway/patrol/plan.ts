// A patrol plan compiled for use: lookups by tag and device, and the checks that refuse an impossible plan.
import type { PatrolPlan } from '../http/patrol-contracts.js';
import { parseHhmm } from '../core/time.js';

export type { PatrolPlan };

export interface CompiledPlan {
  version: number;
  effectiveFrom: number;
  plan: PatrolPlan;
  checkpoints: Map<string, PatrolPlan['checkpoints'][number]>;
  byTag: Map<string, string>;
  byDevice: Map<string, string>;
  personnel: Map<string, { person: string; name: string }>;
  wands: Map<string, string>;
  routes: Map<string, PatrolPlan['routes'][number]>;
}

export const normaliseTag = (tag: string): string => tag.trim().toUpperCase();

export function compilePlan(version: number, effectiveFrom: number, plan: PatrolPlan): CompiledPlan {
  return {
    version,
    effectiveFrom,
    plan,
    checkpoints: new Map(plan.checkpoints.map((c) => [c.id, c])),
    byTag: new Map(plan.checkpoints.filter((c) => c.tag).map((c) => [normaliseTag(c.tag!), c.id])),
    byDevice: new Map(plan.checkpoints.filter((c) => c.device).map((c) => [c.device!, c.id])),
    personnel: new Map(plan.personnel.map((p) => [normaliseTag(p.tag), { person: p.person, name: p.name }])),
    wands: new Map(plan.wands.map((w) => [w.wand, w.name])),
    routes: new Map(plan.routes.map((r) => [r.id, r])),
  };
}

/** Start times of a schedule on one day, in minutes after local midnight. */
export function startMinutes(s: PatrolPlan['schedules'][number]): number[] {
  if (s.times) return s.times.map(parseHhmm).sort((a, b) => a - b);
  if (s.every_min === undefined || s.from === undefined || s.to === undefined) return [];
  const out: number[] = [];
  for (let m = parseHhmm(s.from); m <= parseHhmm(s.to); m += s.every_min) out.push(m);
  return out;
}

/** Every reason the plan cannot be used, in words a supervisor understands; empty when it is sound. */
export function planProblems(plan: PatrolPlan): string[] {
  const problems: string[] = [];
  const dup = (what: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) problems.push(`${what} "${id}" appears twice`);
      seen.add(id);
    }
  };
  dup('checkpoint', plan.checkpoints.map((c) => c.id));
  dup('route', plan.routes.map((r) => r.id));
  dup('schedule', plan.schedules.map((s) => s.id));
  dup('tag', [...plan.checkpoints.flatMap((c) => (c.tag ? [normaliseTag(c.tag)] : [])), ...plan.personnel.map((p) => normaliseTag(p.tag))]);
  for (const c of plan.checkpoints) if (!c.tag && !c.device) problems.push(`checkpoint "${c.id}" has neither a tag nor a device, so it can never be hit`);
  const checkpoints = new Set(plan.checkpoints.map((c) => c.id));
  const routes = new Map(plan.routes.map((r) => [r.id, r]));
  for (const r of plan.routes) {
    for (const stop of r.stops) if (!checkpoints.has(stop.checkpoint)) problems.push(`route "${r.id}" goes to checkpoint "${stop.checkpoint}", which the plan does not have`);
    dup(`checkpoint in route "${r.id}"`, r.stops.map((s) => s.checkpoint));
  }
  for (const s of plan.schedules) {
    const route = routes.get(s.route);
    if (!route) {
      problems.push(`schedule "${s.id}" is for route "${s.route}", which the plan does not have`);
      continue;
    }
    if (!s.times && (s.every_min === undefined || s.from === undefined || s.to === undefined)) {
      problems.push(`schedule "${s.id}" needs either times or every_min with from and to`);
      continue;
    }
    if (!s.times && parseHhmm(s.from!) > parseHhmm(s.to!)) problems.push(`schedule "${s.id}" starts (${s.from}) after it ends (${s.to}): an empty window`);
    const starts = startMinutes(s);
    for (let i = 1; i < starts.length; i++) {
      if (starts[i]! - starts[i - 1]! < s.window_min) {
        problems.push(`schedule "${s.id}": rounds every ${starts[i]! - starts[i - 1]!} min overlap their ${s.window_min}-min window`);
        break;
      }
    }
    for (const stop of route.stops) {
      const earliest = stop.offset_min - stop.tolerance_min - stop.band_min;
      if (stop.offset_min > s.window_min || earliest >= s.window_min) problems.push(`schedule "${s.id}": checkpoint "${stop.checkpoint}" is expected at +${stop.offset_min} min, outside the ${s.window_min}-min round`);
      if (stop.not_before_min !== undefined && stop.not_before_min > stop.offset_min + stop.tolerance_min) {
        problems.push(`route "${route.id}": checkpoint "${stop.checkpoint}" cannot be "not before" +${stop.not_before_min} min when it is due by +${stop.offset_min + stop.tolerance_min} min`);
      }
    }
  }
  return problems;
}
