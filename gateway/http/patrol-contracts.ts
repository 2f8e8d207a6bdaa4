// The patrol's HTTP contracts (TypeBox): plans, rounds and their evaluation, hits, incidents, the supervisor's review.
import Type, { type Static } from 'typebox';
import { Nullable } from './contracts.js';

const Epoch = Type.Integer({ minimum: 0, description: 'UTC epoch milliseconds' });
const PlanId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'an id: lower-case letters, digits and dashes' });
const Hhmm = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a time of day as HH:MM' });

// ---- the plan (what supervisors edit; versioned) -------------------------------------------

export const CheckpointPlan = Type.Object(
  {
    id: PlanId,
    name: Type.String({ minLength: 1, maxLength: 40 }),
    location: Type.Optional(Type.String({ maxLength: 80 })),
    /** The NFC/RFID tag fixed at the point (read by a wand or a guard's phone/reader). */
    tag: Type.Optional(Type.String({ minLength: 2, maxLength: 40 })),
    /** Or a device standing at the point: any card read there counts as a hit (a door reader). */
    device: Type.Optional(PlanId),
    key_area: Type.Boolean({ default: false }),
    /** A camera to take the incident photo from. */
    camera: Type.Optional(PlanId),
  },
  { additionalProperties: false },
);

export const RouteStop = Type.Object(
  {
    checkpoint: PlanId,
    /** Minutes after the round starts that the guard is expected here. */
    offset_min: Type.Integer({ minimum: 0, maximum: 720 }),
    /** On time within +/- this many minutes. */
    tolerance_min: Type.Integer({ minimum: 0, maximum: 120, default: 5 }),
    /** Early or late within this many minutes beyond the tolerance; past it the point is missed. */
    band_min: Type.Integer({ minimum: 0, maximum: 240, default: 10 }),
    /** A hit earlier than this many minutes after the round starts is a "not before" violation (the round was rushed). */
    not_before_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 720 })),
    /** The least time a guard needs to walk here from the previous stop; less is reported as suspicious. */
    min_walk_s: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
  },
  { additionalProperties: false },
);

export const RoutePlan = Type.Object(
  {
    id: PlanId,
    name: Type.String({ minLength: 1, maxLength: 40 }),
    /** Ordered routes must be walked in this order; others in any order. */
    ordered: Type.Boolean({ default: true }),
    stops: Type.Array(RouteStop, { minItems: 1, maxItems: 500 }),
  },
  { additionalProperties: false },
);

export const SchedulePlan = Type.Object(
  {
    id: PlanId,
    route: PlanId,
    /** ISO weekdays 1 = Monday ... 7 = Sunday; all days when absent. */
    days: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, uniqueItems: true })),
    /** Fixed start times, or every `every_min` minutes from `from` to `to`. */
    times: Type.Optional(Type.Array(Hhmm, { minItems: 1, maxItems: 288, uniqueItems: true })),
    every_min: Type.Optional(Type.Integer({ minimum: 10, maximum: 1440 })),
    from: Type.Optional(Hhmm),
    to: Type.Optional(Hhmm),
    /** How long a round may take, from its start. */
    window_min: Type.Integer({ minimum: 5, maximum: 720 }),
  },
  { additionalProperties: false },
);

export const PersonnelTag = Type.Object(
  { tag: Type.String({ minLength: 2, maxLength: 40 }), person: Type.String({ minLength: 1, maxLength: 64 }), name: Type.String({ minLength: 1, maxLength: 32 }) },
  { additionalProperties: false },
);

export const PatrolPlan = Type.Object(
  {
    checkpoints: Type.Array(CheckpointPlan, { maxItems: 2000 }),
    routes: Type.Array(RoutePlan, { maxItems: 200 }),
    schedules: Type.Array(SchedulePlan, { maxItems: 500 }),
    /** Guards' personal tags: a wand's first read of the download names its guard. */
    personnel: Type.Array(PersonnelTag, { default: [], maxItems: 500 }),
    /** Wands assigned to a guard, by wand id, for wands read without a personnel tag. */
    wands: Type.Array(Type.Object({ wand: Type.String({ minLength: 1, maxLength: 40 }), person: Type.String(), name: Type.String() }, { additionalProperties: false }), { default: [] }),
  },
  { additionalProperties: false },
);
export type PatrolPlan = Static<typeof PatrolPlan>;

export const PlanResponse = Type.Object({ version: Type.Integer(), effectiveFrom: Epoch, createdBy: Type.String(), plan: PatrolPlan });
export const PlanVersionsResponse = Type.Object({ versions: Type.Array(Type.Object({ version: Type.Integer(), effectiveFrom: Epoch, createdBy: Type.String(), createdAt: Epoch })) });

// ---- rounds and their evaluation -----------------------------------------------------------

export const StopStatus = Type.Union(
  [Type.Literal('on-time'), Type.Literal('early'), Type.Literal('late'), Type.Literal('missed'), Type.Literal('out-of-order'), Type.Literal('not-before'), Type.Literal('pending')],
  { description: 'pending: its window is still open' },
);
export const RoundStatus = Type.Union([Type.Literal('complete'), Type.Literal('incomplete'), Type.Literal('missed'), Type.Literal('in-progress'), Type.Literal('upcoming')]);

export const StopView = Type.Object({
  checkpoint: Type.String(),
  name: Type.String(),
  keyArea: Type.Boolean(),
  expectedAt: Epoch,
  windowFrom: Epoch,
  windowTo: Epoch,
  status: StopStatus,
  hitAt: Nullable(Epoch),
  hitSource: Nullable(Type.String({ description: 'reader | wand | event' })),
  guard: Nullable(Type.String()),
  /** A supervisor's note on a missed or irregular stop. */
  reason: Nullable(Type.String()),
});
export type StopView = Static<typeof StopView>;

export const RoundView = Type.Object({
  id: Type.String({ description: '<schedule>@<start epoch ms>' }),
  route: Type.String(),
  routeName: Type.String(),
  planVersion: Type.Integer(),
  start: Epoch,
  end: Epoch,
  status: RoundStatus,
  guard: Nullable(Type.String()),
  stops: Type.Array(StopView),
  /** Consecutive hits closer together than the walk between them allows. */
  suspicious: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), seconds: Type.Number(), minimum: Type.Number() })),
});
export type RoundView = Static<typeof RoundView>;

export const DayQuery = Type.Object(
  {
    date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the local date YYYY-MM-DD' }),
    route: Type.Optional(PlanId),
    guard: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export const DayResponse = Type.Object({
  date: Type.String(),
  rounds: Type.Array(RoundView),
  summary: Type.Object({ rounds: Type.Integer(), complete: Type.Integer(), stops: Type.Integer(), onTime: Type.Integer(), missed: Type.Integer(), completionRate: Type.Number() }),
  unknownTags: Type.Array(Type.Object({ tag: Type.String(), at: Epoch, source: Type.String(), device: Nullable(Type.String()) })),
});
export type DayResponse = Static<typeof DayResponse>;

export const TrendQuery = Type.Object(
  { days: Type.Integer({ minimum: 1, maximum: 60, default: 30 }), route: Type.Optional(PlanId) },
  { additionalProperties: false },
);
export const TrendResponse = Type.Object({
  days: Type.Array(Type.Object({ date: Type.String(), rounds: Type.Integer(), completionRate: Type.Number(), onTimeRate: Type.Number(), missed: Type.Integer() })),
});
export type TrendResponse = Static<typeof TrendResponse>;

export const MissedReasonRequest = Type.Object(
  { round: Type.String({ minLength: 3, maxLength: 100 }), checkpoint: PlanId, reason: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

// ---- hits and incidents --------------------------------------------------------------------

export const HitRequest = Type.Object(
  { tag: Type.String({ minLength: 2, maxLength: 40 }), at: Type.Optional(Epoch) },
  { additionalProperties: false, description: 'a hit typed in by hand (a damaged tag), audited' },
);

export const IncidentRequest = Type.Object(
  {
    checkpoint: PlanId,
    type: Type.Union([Type.Literal('damage'), Type.Literal('intruder'), Type.Literal('fire-risk'), Type.Literal('water-leak'), Type.Literal('lighting'), Type.Literal('other')]),
    note: Type.String({ maxLength: 500 }),
    takePhoto: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const IncidentView = Type.Object({
  id: Type.String(),
  checkpoint: Type.String(),
  checkpointName: Type.String(),
  type: Type.String(),
  note: Type.String(),
  guard: Type.String(),
  at: Epoch,
  photo: Nullable(Type.String({ description: 'URL of the photo, once video lands' })),
});
export const IncidentResponse = Type.Object({ incident: IncidentView });
export const IncidentsResponse = Type.Object({ incidents: Type.Array(IncidentView) });
