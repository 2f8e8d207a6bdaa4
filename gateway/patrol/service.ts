// Patrol: plans and their versions, hits from readers, wands and gate events, live missed-point alarms, the review.
import type { Logger } from 'pino';
import type { GuardpostConfig } from '../../config/schema.js';
import type { DeviceEvent } from '../../drivers/contract.js';
import type { Alarms } from '../alarms.js';
import type { EventBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { maskTail } from '../core/mask.js';
import { localDate, localParts, zonedInstant } from '../core/time.js';
import type { DayResponse, PatrolPlan, RoundView, StopView, TrendResponse } from '../http/patrol-contracts.js';
import type { Store } from '../store/db.js';
import type { HitRow } from '../store/patrol.js';
import { normaliseCard } from '../gate/credentials.js';
import { evaluateRound, groupHits, judgeRound, type HitsByCheckpoint } from './evaluate.js';
import { compilePlan, normaliseTag, planProblems, type CompiledPlan } from './plan.js';
import { planAt, roundsForDay, type Round } from './rounds.js';

export interface PatrolDeps {
  config: GuardpostConfig;
  store: Store;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  alarms: Alarms;
}

export interface Actor {
  id: string;
  role: string;
}

const day = 24 * 3600_000;
const missedKind = 'patrol-missed';
// The control room must hear of a missed point within 5 s of its window closing.
const checkEveryMs = 1000;
// Windows that closed while the gateway was down this long ago are not alarmed on start any more.
const catchUpMs = 10 * 60_000;
const roundCacheDays = 4;

export class Patrol {
  private plans: CompiledPlan[] = [];
  private readonly roundCache = new Map<string, Round[]>();
  /** Each wand's current guard: the last personnel tag it read. */
  private readonly wandGuard = new Map<string, string>();
  private timer: Timer | null = null;
  private off: (() => void) | null = null;
  private lastChecked = 0;

  constructor(private readonly deps: PatrolDeps) {}

  start(): void {
    if (this.timer) return;
    this.loadPlans();
    this.lastChecked = this.deps.clock.now() - catchUpMs;
    this.off = this.deps.bus.on('device.event', (event) => this.onDeviceEvent(event));
    this.timer = this.deps.clock.setInterval(() => this.checkMissed(), checkEveryMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.off?.();
    this.off = null;
  }

  // ---- plans ----

  current(): { version: number; effectiveFrom: number; createdBy: string; plan: PatrolPlan } | null {
    const compiled = planAt(this.plans, this.deps.clock.now()) ?? this.plans.at(-1);
    if (!compiled) return null;
    const row = this.deps.store.patrol.plans().find((p) => p.version === compiled.version)!;
    return { version: compiled.version, effectiveFrom: compiled.effectiveFrom, createdBy: row.created_by, plan: compiled.plan };
  }

  versions() {
    return this.deps.store.patrol.plans().map((p) => ({ version: p.version, effectiveFrom: p.effective_from, createdBy: p.created_by, createdAt: p.created_at }));
  }

  /** A new version; rounds that started before it keep being judged by the version they started under. */
  setPlan(plan: PatrolPlan, effectiveFrom: number | undefined, actor: Actor): number {
    const now = this.deps.clock.now();
    // Never into the past: rounds already started keep the plan they started under.
    return this.writePlan(plan, Math.max(effectiveFrom ?? now, now), actor);
  }

  /** The demo's first plan, in force from the beginning so today's rounds so far have one too. */
  seedPlan(plan: PatrolPlan): void {
    if (this.deps.store.patrol.plans().length === 0) this.writePlan(plan, 0, { id: 'system', role: 'admin' });
  }

  private writePlan(plan: PatrolPlan, effectiveFrom: number, actor: Actor): number {
    const problems = planProblems(plan);
    if (problems.length > 0) throw new GuardpostError(ErrorCode.BadRequest, `the plan cannot be used: ${problems.join('; ')}`, { problem: 'plan' });
    const { store, clock } = this.deps;
    const now = clock.now();
    const version = store.transaction(() => {
      const next = (store.patrol.plans().at(-1)?.version ?? 0) + 1;
      const row = { version: next, plan: JSON.stringify(plan), effective_from: effectiveFrom, created_by: actor.id, created_at: now };
      store.patrol.addPlan(row);
      store.audit.append({ actor: actor.id, action: 'patrol.plan', target: String(next), detail: { effectiveFrom: row.effective_from, routes: plan.routes.length, checkpoints: plan.checkpoints.length } });
      store.outbox.add('patrol_plans', String(next), { ...row, plan }, now);
      return next;
    });
    this.loadPlans();
    return version;
  }

  /** Read the plan versions again: HQ's sync wrote a new one through its own store connection. */
  loadPlans(): void {
    this.plans = this.deps.store.patrol.plans().map((p) => compilePlan(p.version, p.effective_from, JSON.parse(p.plan) as PatrolPlan));
    this.roundCache.clear();
  }

  // ---- hits ----

  onDeviceEvent(event: DeviceEvent): void {
    const plan = planAt(this.plans, event.at);
    if (!plan) return;
    if (event.type === 'checkpoint') {
      const tag = normaliseTag(event.tag);
      if (event.wand) {
        const person = plan.personnel.get(tag);
        // A guard's own tag read first names the guard of the records that follow it.
        if (person) {
          this.wandGuard.set(event.wand.id, person.name);
          return;
        }
        this.addHit({
          tag,
          checkpoint: plan.byTag.get(tag) ?? null,
          at: event.at,
          source: 'wand',
          device_id: event.deviceId,
          guard: this.wandGuard.get(event.wand.id) ?? plan.wands.get(event.wand.id) ?? null,
          record_key: `${event.wand.id}:${event.wand.seq}:${event.wand.wandTime}`,
        });
        return;
      }
      const person = plan.personnel.get(tag);
      this.addHit({
        tag,
        checkpoint: person ? (plan.byDevice.get(event.deviceId) ?? null) : (plan.byTag.get(tag) ?? plan.byDevice.get(event.deviceId) ?? null),
        at: event.at,
        source: 'reader',
        device_id: event.deviceId,
        guard: person?.name ?? plan.wands.get(event.deviceId) ?? null,
        record_key: null,
      });
      return;
    }
    // A card or plate read at a device the plan names as a checkpoint (a door reader on the route).
    const checkpoint = plan.byDevice.get(event.deviceId);
    if (!checkpoint || (event.type !== 'credential' && event.type !== 'plate')) return;
    const holder = event.type === 'credential' ? this.deps.store.residents.credential('card', normaliseCard(event.credential.value)) : undefined;
    this.addHit({
      tag: event.type === 'credential' ? `card:${maskTail(event.credential.value)}` : `plate:${event.plate}`,
      checkpoint,
      at: event.at,
      source: 'event',
      device_id: event.deviceId,
      guard: holder?.holder_name ?? null,
      record_key: null,
    });
  }

  /** A hit typed in by a guard for a tag that would not read; audited. */
  manualHit(tag: string, at: number | undefined, actor: Actor): void {
    const now = this.deps.clock.now();
    const when = at ?? now;
    if (when > now + 60_000 || when < now - day) throw new GuardpostError(ErrorCode.BadRequest, 'a hit typed in by hand must be from the last 24 hours', { field: 'at', problem: 'out-of-range' });
    const plan = planAt(this.plans, when);
    const normalised = normaliseTag(tag);
    const checkpoint = plan?.byTag.get(normalised) ?? null;
    if (!checkpoint) throw new GuardpostError(ErrorCode.BadRequest, `no checkpoint has the tag ${tag}`, { field: 'tag', problem: 'unknown-tag' });
    const name = this.deps.config.people.find((p) => p.id === actor.id)?.name ?? actor.id;
    this.deps.store.transaction(() => {
      this.addHit({ tag: normalised, checkpoint, at: when, source: 'manual', device_id: null, guard: name, record_key: null });
      this.deps.store.audit.append({ actor: actor.id, action: 'patrol.manual_hit', target: checkpoint, detail: { at: when } });
    });
  }

  private addHit(hit: Omit<HitRow, 'id' | 'received_at'>): void {
    const { store, clock } = this.deps;
    const row: HitRow = { ...hit, id: newId(), received_at: clock.now() };
    const added = store.transaction(() => {
      if (!store.patrol.addHit(row)) return false;
      store.outbox.add('patrol_hits', row.id, row, row.received_at);
      return true;
    });
    if (added && row.checkpoint) this.reviseMissed(row.checkpoint);
  }

  /**
   * A hit that arrives after its point was alarmed as missed (a wand docked later) revises the round:
   * the alarm is resolved as late, never deleted.
   */
  private reviseMissed(checkpoint: string): void {
    const open = this.deps.store.alarms.openOfKind(missedKind).filter((a) => a.subject.endsWith(`|${checkpoint}`));
    for (const alarm of open) {
      const [roundId] = alarm.subject.split('|') as [string];
      const view = this.roundById(roundId);
      const stop = view?.stops.find((s) => s.checkpoint === checkpoint);
      if (stop && stop.status !== 'missed') this.deps.alarms.clear(missedKind, alarm.subject, 'resolved-late');
    }
  }

  // ---- live missed-point alarms ----

  /** Alarm every stop whose window closed since the last check without a hit. */
  checkMissed(): void {
    const now = this.deps.clock.now();
    const since = this.lastChecked;
    this.lastChecked = now;
    if (this.plans.length === 0) return;
    const tz = this.deps.config.site.timezone;
    const dates = new Set([localDate(since, tz), localDate(now, tz)]);
    // A stop is missed once the clock is past its window's end: alarm it at the first check after that.
    const closedSince = (windowTo: number) => windowTo >= since && windowTo < now;
    const closing = [...dates].flatMap((d) => this.rounds(d)).filter((r) => r.stops.some((s) => closedSince(s.windowTo)));
    if (closing.length === 0) return;
    const views = this.evaluate(closing, now);
    for (const round of views) {
      for (const stop of round.stops) {
        if (stop.status !== 'missed' || !closedSince(stop.windowTo)) continue;
        const subject = `${round.id}|${stop.checkpoint}`;
        if (this.deps.store.alarms.ever(missedKind, subject)) continue;
        const time = `${String(localParts(stop.expectedAt, tz).hour).padStart(2, '0')}:${String(localParts(stop.expectedAt, tz).minute).padStart(2, '0')}`;
        this.deps.alarms.raise(missedKind, subject, `漏巡：${stop.name}（${round.routeName} ${time}）`, { round: round.id, checkpoint: stop.checkpoint, expectedAt: stop.expectedAt, keyArea: stop.keyArea });
      }
    }
  }

  // ---- review ----

  day(date: string, filter: { route?: string; guard?: string } = {}): DayResponse {
    const now = this.deps.clock.now();
    let rounds = this.evaluate(this.rounds(date), now);
    if (filter.route) rounds = rounds.filter((r) => r.route === filter.route);
    if (filter.guard) rounds = rounds.filter((r) => r.guard === filter.guard || r.stops.some((s) => s.guard === filter.guard));
    const [from, to] = this.dayBounds(date);
    const unknownTags = this.deps.store.patrol
      .hits(from, to)
      .filter((h) => h.checkpoint === null)
      .map((h) => ({ tag: h.tag, at: h.at, source: h.source, device: h.device_id }));
    return { date, rounds, summary: summarise(rounds), unknownTags };
  }

  trend(days: number, route?: string): TrendResponse {
    const tz = this.deps.config.site.timezone;
    const now = this.deps.clock.now();
    const dates = Array.from({ length: days }, (_, i) => localDate(now - (days - 1 - i) * day, tz));
    const perDay = dates.map((date) => ({ date, rounds: this.rounds(date).filter((r) => !route || r.route === route) }));
    // Judged without building the screens' views: 60 days of a big plan is hundreds of thousands of stops.
    const hits = this.hitsFor(perDay.flatMap((d) => d.rounds));
    return {
      days: perDay.map(({ date, rounds }) => {
        let decidedRounds = 0;
        let complete = 0;
        let decidedStops = 0;
        let onTime = 0;
        let missed = 0;
        for (const r of rounds) {
          const j = judgeRound(r, hits, now);
          if (j.status === 'complete' || j.status === 'incomplete' || j.status === 'missed') decidedRounds++;
          if (j.status === 'complete') complete++;
          for (const st of j.statuses) {
            if (st === 'pending') continue;
            decidedStops++;
            if (st === 'on-time') onTime++;
            else if (st === 'missed') missed++;
          }
        }
        return { date, rounds: rounds.length, completionRate: decidedRounds === 0 ? 0 : complete / decidedRounds, onTimeRate: decidedStops === 0 ? 0 : onTime / decidedStops, missed };
      }),
    };
  }

  csv(date: string, filter: { route?: string; guard?: string } = {}): string {
    const tz = this.deps.config.site.timezone;
    const time = (at: number | null) => {
      if (at === null) return '';
      const p = localParts(at, tz);
      return `${date === localDate(at, tz) ? '' : `${localDate(at, tz)} `}${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}:${String(p.second).padStart(2, '0')}`;
    };
    const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    // The office reads this in Chinese: headers and values as the screens say them.
    const lines = ['日期,轮次开始,路线,轮次状态,巡更点,重点部位,应到时间,结果,打卡时间,来源,保安,原因'];
    for (const r of this.day(date, filter).rounds) {
      for (const s of r.stops) {
        lines.push(
          [date, time(r.start), r.routeName, roundWords[r.status], s.name, s.keyArea ? '是' : '否', time(s.expectedAt), stopWords[s.status], time(s.hitAt), s.hitSource ? (sourceWords[s.hitSource] ?? s.hitSource) : '', s.guard ?? '', s.reason ?? '']
            .map(cell)
            .join(','),
        );
      }
    }
    // The byte-order mark makes Excel, which supervisors open this in, read the Chinese as UTF-8.
    return `\uFEFF${lines.join('\r\n')}\r\n`;
  }

  setReason(roundId: string, checkpoint: string, reason: string, actor: Actor): RoundView {
    const view = this.roundById(roundId);
    if (!view?.stops.some((s) => s.checkpoint === checkpoint)) throw new GuardpostError(ErrorCode.NotFound, `round ${roundId} has no checkpoint ${checkpoint}`);
    const { store, clock } = this.deps;
    store.transaction(() => {
      store.patrol.setReason(roundId, checkpoint, reason, actor.id, clock.now());
      store.audit.append({ actor: actor.id, action: 'patrol.reason', target: `${roundId}|${checkpoint}`, detail: { reason } });
      store.outbox.add('patrol_reasons', `${roundId}|${checkpoint}`, { round: roundId, checkpoint, reason, by: actor.id }, clock.now());
    });
    return this.roundById(roundId)!;
  }

  // ---- incidents ----

  reportIncident(input: { checkpoint: string; type: string; note: string }, actor: Actor) {
    const plan = planAt(this.plans, this.deps.clock.now());
    const checkpoint = plan?.checkpoints.get(input.checkpoint);
    if (!checkpoint) throw new GuardpostError(ErrorCode.BadRequest, `no checkpoint ${input.checkpoint} in the plan`, { field: 'checkpoint', problem: 'unknown-checkpoint' });
    const { store, clock, alarms } = this.deps;
    const guard = this.deps.config.people.find((p) => p.id === actor.id)?.name ?? actor.id;
    const row = { id: newId(), checkpoint: checkpoint.id, type: input.type, note: input.note, guard, at: clock.now(), photo: null };
    store.transaction(() => {
      store.patrol.addIncident(row);
      store.audit.append({ actor: actor.id, action: 'patrol.incident', target: checkpoint.id, detail: { type: input.type } });
      store.outbox.add('patrol_incidents', row.id, row, row.at);
    });
    alarms.raise('patrol-incident', row.id, `巡更事件：${checkpoint.name}（${incidentTypes[input.type] ?? input.type}）`, { checkpoint: checkpoint.id, type: input.type, note: input.note, guard, ...(checkpoint.camera ? { camera: checkpoint.camera } : {}) });
    return this.incidentView(row);
  }

  incidents(date: string) {
    const [from, to] = this.dayBounds(date);
    return this.deps.store.patrol.incidents(from, to).map((r) => this.incidentView(r));
  }

  private incidentView(r: { id: string; checkpoint: string; type: string; note: string; guard: string; at: number; photo: string | null }) {
    const name = planAt(this.plans, r.at)?.checkpoints.get(r.checkpoint)?.name ?? r.checkpoint;
    // The camera's picture is kept by video, keyed by the incident (taken a moment after it was reported).
    const snapshot = r.photo === null ? this.deps.store.video.snapshotsFor(r.id)[0] : undefined;
    const photo = r.photo ?? (snapshot ? `/api/video/snapshots/${snapshot.id}/image` : null);
    return { id: r.id, checkpoint: r.checkpoint, checkpointName: name, type: r.type, note: r.note, guard: r.guard, at: r.at, photo };
  }

  // ---- shared ----

  private rounds(date: string): Round[] {
    let rounds = this.roundCache.get(date);
    if (!rounds) {
      rounds = roundsForDay(this.plans, date, this.deps.config.site.timezone);
      this.roundCache.set(date, rounds);
      // The live check needs only today and yesterday; a 60-day trend must not stay in memory.
      if (this.roundCache.size > roundCacheDays) this.roundCache.delete(this.roundCache.keys().next().value!);
    }
    return rounds;
  }

  private roundById(roundId: string): RoundView | undefined {
    const start = Number(roundId.slice(roundId.lastIndexOf('@') + 1));
    if (!Number.isFinite(start)) return undefined;
    const round = this.rounds(localDate(start, this.deps.config.site.timezone)).find((r) => r.id === roundId);
    return round ? this.evaluate([round], this.deps.clock.now())[0] : undefined;
  }

  /** One hit query for all the rounds, then each round judged against it. */
  evaluate(rounds: readonly Round[], now: number): RoundView[] {
    if (rounds.length === 0) return [];
    const hits = this.hitsFor(rounds);
    const reasons = this.deps.store.patrol.reasons(rounds.map((r) => r.id));
    return rounds.map((round) => {
      const plan = this.plans.find((p) => p.version === round.planVersion);
      const names = (id: string) => {
        const c = plan?.checkpoints.get(id);
        return { name: c?.name ?? id, keyArea: c?.key_area ?? false };
      };
      return evaluateRound(round, hits, { now, names, reasons });
    });
  }

  /** The hits that can fall in any stop window of these rounds, grouped by checkpoint. */
  private hitsFor(rounds: readonly Round[]): HitsByCheckpoint {
    // A loop, not Math.min(...spread): 60 days of a big plan is more arguments than the stack holds.
    let from = Infinity;
    let to = -Infinity;
    for (const r of rounds) {
      for (const s of r.stops) {
        if (s.windowFrom < from) from = s.windowFrom;
        if (s.windowTo > to) to = s.windowTo;
      }
    }
    return from === Infinity ? new Map() : groupHits(this.deps.store.patrol.judgedHits(from, to + 1));
  }

  private dayBounds(date: string): [number, number] {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    const tz = this.deps.config.site.timezone;
    const from = zonedInstant(y, m, d, '00:00', tz);
    const next = localDate(from + 36 * 3600_000, tz).split('-').map(Number) as [number, number, number];
    return [from, zonedInstant(next[0], next[1], next[2], '00:00', tz)];
  }
}

const stopWords: Record<StopView['status'], string> = { 'on-time': '准时', early: '早到', late: '迟到', missed: '漏巡', 'out-of-order': '顺序错', 'not-before': '过早', pending: '待巡' };
const roundWords: Record<RoundView['status'], string> = { complete: '完成', incomplete: '未完成', missed: '漏巡', 'in-progress': '进行中', upcoming: '未开始' };
const sourceWords: Record<string, string> = { reader: '巡更点读卡器', wand: '巡更棒', event: '门禁/车牌', manual: '手工补录' };

const incidentTypes: Record<string, string> = { damage: '设施损坏', intruder: '可疑人员', 'fire-risk': '火灾隐患', 'water-leak': '漏水', lighting: '照明故障', other: '其他' };

export function summarise(rounds: readonly RoundView[]): DayResponse['summary'] {
  const decided = rounds.filter((r) => r.status === 'complete' || r.status === 'incomplete' || r.status === 'missed');
  const stops = rounds.flatMap((r) => r.stops);
  return {
    rounds: rounds.length,
    complete: decided.filter((r) => r.status === 'complete').length,
    stops: stops.length,
    onTime: stops.filter((s) => s.status === 'on-time').length,
    missed: stops.filter((s) => s.status === 'missed').length,
    completionRate: decided.length === 0 ? 0 : decided.filter((r) => r.status === 'complete').length / decided.length,
  };
}
