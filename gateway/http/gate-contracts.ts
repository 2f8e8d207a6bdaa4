// The gate's HTTP contracts (TypeBox): visitors, passes, decisions and the barrier, alarms, shifts, keys, residents.
import Type, { type Static } from 'typebox';
import { Nullable } from './contracts.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Text = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });
const Epoch = Type.Integer({ minimum: 0, description: 'UTC epoch milliseconds' });

export const IdTypeSchema = Type.Union(
  [Type.Literal('mainland-id'), Type.Literal('hk-macau-permit'), Type.Literal('taiwan-permit'), Type.Literal('passport'), Type.Literal('other')],
  { description: 'mainland-id | hk-macau-permit | taiwan-permit | passport | other' },
);
export type IdType = Static<typeof IdTypeSchema>;

export const ConfirmationMethod = Type.Union([Type.Literal('call'), Type.Literal('intercom'), Type.Literal('in-person'), Type.Literal('pre-registered')], {
  description: 'call | intercom | in-person | pre-registered',
});
export type ConfirmationMethod = Static<typeof ConfirmationMethod>;

// ---- units and residents -------------------------------------------------------------------

export const UnitView = Type.Object({ id: Id, code: Type.String(), building: Type.String(), entrance: Type.String(), room: Type.String() });
export type UnitView = Static<typeof UnitView>;

export const UnitsQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 32 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }, { additionalProperties: false });
export const UnitsResponse = Type.Object({ units: Type.Array(UnitView) });

export const ResidentView = Type.Object({
  id: Id,
  unitId: Nullable(Type.String()),
  kind: Type.String(),
  name: Type.String(),
  phoneMasked: Nullable(Type.String()),
});
export const ResidentsResponse = Type.Object({ residents: Type.Array(ResidentView) });

export const ImportReport = Type.Object({
  units: Type.Integer(),
  residents: Type.Integer(),
  credentials: Type.Integer(),
  rejected: Type.Array(Type.Object({ line: Type.Integer(), reason: Type.String() })),
});
export type ImportReport = Static<typeof ImportReport>;

// ---- visitors ------------------------------------------------------------------------------

/** What the form fills in for a returning visitor; personal numbers stay masked. */
export const VisitorLookupQuery = Type.Object(
  { idNumber: Type.Optional(Type.String({ maxLength: 32 })), phone: Type.Optional(Type.String({ maxLength: 24 })) },
  { additionalProperties: false },
);
export const ReturningVisitor = Type.Object({
  visitorId: Id,
  name: Type.String(),
  idType: Type.String(),
  idNumberMasked: Nullable(Type.String()),
  phoneMasked: Nullable(Type.String()),
  plate: Nullable(Type.String()),
  lastVisit: Nullable(
    Type.Object({ at: Epoch, hostUnitId: Type.String(), hostUnitCode: Type.String(), hostName: Nullable(Type.String()), reason: Type.String(), headcount: Type.Integer() }),
  ),
  visits: Type.Integer(),
});
export const VisitorLookupResponse = Type.Object({ visitor: Nullable(ReturningVisitor) });

export const WatchlistCheckRequest = Type.Object(
  { idNumber: Type.Optional(Type.String({ maxLength: 32 })), phone: Type.Optional(Type.String({ maxLength: 24 })), plate: Type.Optional(Type.String({ maxLength: 16 })) },
  { additionalProperties: false },
);
export const WatchlistHit = Type.Object({ kind: Type.String(), reason: Type.String() });
export const WatchlistCheckResponse = Type.Object({ hits: Type.Array(WatchlistHit) });

export const RegisterVisitRequest = Type.Object(
  {
    /** A returning visitor found by lookup; ID and phone may then be left out. */
    visitorId: Type.Optional(Id),
    name: Text(32, 'the visitor name'),
    idType: IdTypeSchema,
    idNumber: Type.Optional(Type.String({ maxLength: 32 })),
    phone: Type.Optional(Type.String({ maxLength: 24 })),
    hostUnitId: Id,
    hostName: Type.Optional(Text(32)),
    reason: Text(40, 'why they visit'),
    headcount: Type.Integer({ minimum: 1, maximum: 50 }),
    plate: Type.Optional(Type.String({ maxLength: 16 })),
    expectedLeaveAt: Epoch,
    /** Pre-registration code the visitor showed; it confirms the visit. */
    preregistrationCode: Type.Optional(Type.String({ minLength: 4, maxLength: 12 })),
    confirmation: Type.Optional(Type.Object({ method: ConfirmationMethod, confirmedBy: Text(32, 'who confirmed') }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type RegisterVisitRequest = Static<typeof RegisterVisitRequest>;

export const VisitStatus = Type.Union([Type.Literal('registered'), Type.Literal('confirmed'), Type.Literal('inside'), Type.Literal('left'), Type.Literal('refused')]);

export const PassView = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('visitor'), Type.Literal('worker'), Type.Literal('goods-out')]),
  code: Type.String({ description: 'short code printed on the slip; the QR code carries "GP1:<code>"' }),
  holderName: Type.String(),
  unitCode: Type.String(),
  validFrom: Epoch,
  validUntil: Epoch,
  status: Type.Union([Type.Literal('active'), Type.Literal('closed'), Type.Literal('revoked')]),
  tempCardMasked: Nullable(Type.String()),
  plate: Nullable(Type.String()),
  detail: Type.Record(Type.String(), Type.Unknown()),
  inside: Type.Boolean(),
  issuedAt: Epoch,
  closedAt: Nullable(Epoch),
});
export type PassView = Static<typeof PassView>;

export const VisitView = Type.Object({
  id: Id,
  visitorId: Id,
  name: Type.String(),
  idType: Type.String(),
  idNumberMasked: Nullable(Type.String()),
  phoneMasked: Nullable(Type.String()),
  hostUnitId: Id,
  hostUnitCode: Type.String(),
  hostName: Nullable(Type.String()),
  reason: Type.String(),
  headcount: Type.Integer(),
  plate: Nullable(Type.String()),
  expectedLeaveAt: Epoch,
  status: VisitStatus,
  confirmation: Nullable(Type.String()),
  confirmedBy: Nullable(Type.String()),
  registeredAt: Epoch,
  enteredAt: Nullable(Epoch),
  leftAt: Nullable(Epoch),
  pass: Nullable(PassView),
  overstay: Type.Boolean(),
});
export type VisitView = Static<typeof VisitView>;

export const VisitResponse = Type.Object({ visit: VisitView });
export const VisitsQuery = Type.Object(
  { status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('inside'), Type.Literal('today')])), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) },
  { additionalProperties: false },
);
export const VisitsResponse = Type.Object({ visits: Type.Array(VisitView) });

export const ConfirmVisitRequest = Type.Object({ method: ConfirmationMethod, confirmedBy: Text(32, 'who confirmed') }, { additionalProperties: false });
export const OverrideVisitRequest = Type.Object({ note: Text(200, 'why the supervisor lets the visitor in without the resident') }, { additionalProperties: false });
export const IssuePassRequest = Type.Object({ tempCard: Type.Optional(Type.String({ minLength: 4, maxLength: 32 })) }, { additionalProperties: false });

export const PreregistrationRequest = Type.Object(
  {
    visitorName: Text(32),
    phone: Type.Optional(Type.String({ maxLength: 24 })),
    plate: Type.Optional(Type.String({ maxLength: 16 })),
    hostUnitId: Id,
    hostName: Type.Optional(Text(32)),
    expectedOn: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the local date YYYY-MM-DD' }),
  },
  { additionalProperties: false },
);
export const PreregistrationView = Type.Object({
  id: Id,
  code: Type.String(),
  visitorName: Type.String(),
  phoneMasked: Nullable(Type.String()),
  plate: Nullable(Type.String()),
  hostUnitId: Id,
  hostUnitCode: Type.String(),
  hostName: Nullable(Type.String()),
  expectedOn: Type.String(),
  used: Type.Boolean(),
});
export const PreregistrationResponse = Type.Object({ preregistration: PreregistrationView });

// ---- passes for workers and goods ----------------------------------------------------------

export const WorkerPassRequest = Type.Object(
  {
    unitId: Id,
    holderName: Text(32),
    idType: IdTypeSchema,
    idNumber: Type.String({ minLength: 2, maxLength: 32 }),
    phone: Type.String({ minLength: 5, maxLength: 24 }),
    company: Type.Optional(Text(60)),
    fromDate: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    toDate: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    curfew: Type.Optional(Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' })),
  },
  { additionalProperties: false },
);

export const GoodsOutPassRequest = Type.Object(
  {
    unitId: Id,
    requestedBy: Text(32, 'the resident who asked for it'),
    items: Type.Array(Type.Object({ name: Text(40), quantity: Type.Integer({ minimum: 1, maximum: 9999 }) }, { additionalProperties: false }), { minItems: 1, maxItems: 30 }),
    carrierName: Text(32),
    carrierIdType: IdTypeSchema,
    carrierIdNumber: Type.String({ minLength: 2, maxLength: 32 }),
    plate: Type.Optional(Type.String({ maxLength: 16 })),
    validOn: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
  },
  { additionalProperties: false },
);

export const PassResponse = Type.Object({ pass: PassView });
export const PassesQuery = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('visitor'), Type.Literal('worker'), Type.Literal('goods-out')])),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inside')])),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  },
  { additionalProperties: false },
);
export const PassesResponse = Type.Object({ passes: Type.Array(PassView) });
export const PassMovementRequest = Type.Object({ entryPoint: Id }, { additionalProperties: false });

// ---- decisions and the barrier -------------------------------------------------------------

export const DecisionReason = Type.String({
  description:
    'granted: list-auto | pass | manual; denied: unknown | expired | not-yet-valid | outside-window | watchlist | anti-passback | list-deny | refused; pending: unknown | list-manual | outside-window | goods-check',
});

export const DecisionView = Type.Object({
  id: Id,
  at: Epoch,
  entryPoint: Type.String(),
  entryPointName: Type.String(),
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
  credentialKind: Type.String({ description: 'card | plate | qr | manual' }),
  credential: Type.String({ description: 'plate in full; card numbers masked' }),
  outcome: Type.Union([Type.Literal('granted'), Type.Literal('denied'), Type.Literal('pending')]),
  reason: DecisionReason,
  subject: Nullable(Type.String({ description: 'resident:<id> | pass:<id> | plate:<value>' })),
  subjectName: Nullable(Type.String()),
  list: Nullable(Type.String()),
  resolvedBy: Nullable(Type.String()),
  resolution: Nullable(Type.String()),
  barrierStatus: Type.Union([Type.Literal('none'), Type.Literal('sent'), Type.Literal('opened'), Type.Literal('failed')]),
  barrierDetail: Nullable(Type.String()),
  snapshot: Nullable(Type.String({ description: 'URL of the plate snapshot, once video lands' })),
});
export type DecisionView = Static<typeof DecisionView>;

export const DecisionsQuery = Type.Object(
  { pending: Type.Optional(Type.Boolean()), limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) },
  { additionalProperties: false },
);
export const DecisionsResponse = Type.Object({ decisions: Type.Array(DecisionView) });
export const DecisionResponse = Type.Object({ decision: DecisionView });

export const ResolveDecisionRequest = Type.Object(
  { action: Type.Union([Type.Literal('open'), Type.Literal('refuse')]), reason: Text(40, 'a reason from the list, or why refused') },
  { additionalProperties: false },
);
export const ManualOpenRequest = Type.Object({ reason: Text(40, 'a reason from gate.manual_open_reasons') }, { additionalProperties: false });

export const EntryPointView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
  barrier: Nullable(Type.String()),
  barrierState: Nullable(Type.String()),
});
export const GateInfoResponse = Type.Object({
  entryPoints: Type.Array(EntryPointView),
  manualOpenReasons: Type.Array(Type.String()),
  lists: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), rule: Type.String() })),
  workerCurfew: Type.String(),
});
export type GateInfoResponse = Static<typeof GateInfoResponse>;

// ---- alarms --------------------------------------------------------------------------------

export const AlarmView = Type.Object({
  id: Id,
  kind: Type.String({ description: 'overstay | worker-curfew | min-guards | barrier-failed | watchlist-hit | key-overdue' }),
  subject: Type.String(),
  title: Type.String({ description: 'a short description in the site language' }),
  raisedAt: Epoch,
  detail: Type.Record(Type.String(), Type.Unknown()),
  resolvedAt: Nullable(Epoch),
  resolvedBy: Nullable(Type.String()),
  resolution: Nullable(Type.String()),
});
export type AlarmView = Static<typeof AlarmView>;
export const AlarmsQuery = Type.Object({ open: Type.Optional(Type.Boolean()), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }, { additionalProperties: false });
export const AlarmsResponse = Type.Object({ alarms: Type.Array(AlarmView) });
export const ResolveAlarmRequest = Type.Object({ resolution: Text(200) }, { additionalProperties: false });

// ---- shifts and keys -----------------------------------------------------------------------

export const ShiftView = Type.Object({ id: Id, personId: Type.String(), personName: Type.String(), onAt: Epoch, offAt: Nullable(Epoch), handoverNote: Nullable(Type.String()) });
export const ShiftsResponse = Type.Object({ onDuty: Type.Array(ShiftView), required: Type.Integer(), recent: Type.Array(ShiftView) });
export const SignOffRequest = Type.Object({ handoverNote: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });

export const KeyView = Type.Object({
  id: Id,
  label: Type.String(),
  location: Nullable(Type.String()),
  loan: Nullable(Type.Object({ id: Id, holderName: Type.String(), purpose: Type.String(), issuedBy: Type.String(), issuedAt: Epoch, dueAt: Epoch, overdue: Type.Boolean() })),
});
export const KeysResponse = Type.Object({ keys: Type.Array(KeyView) });
export const CreateKeyRequest = Type.Object({ label: Text(40), location: Type.Optional(Text(60)) }, { additionalProperties: false });
export const IssueKeyRequest = Type.Object({ holderName: Text(32), purpose: Text(60), dueAt: Epoch }, { additionalProperties: false });

// ---- watchlist -----------------------------------------------------------------------------

export const WatchlistEntryRequest = Type.Object(
  { kind: Type.Union([Type.Literal('id_number'), Type.Literal('plate'), Type.Literal('phone')]), value: Text(32), reason: Text(100) },
  { additionalProperties: false },
);
export const WatchlistEntryView = Type.Object({ id: Id, kind: Type.String(), valueMasked: Type.String(), reason: Type.String(), addedBy: Type.String(), addedAt: Epoch });
export const WatchlistResponse = Type.Object({ entries: Type.Array(WatchlistEntryView) });

/** What the gate pushes on /api/live besides device events. */
export type GateLiveMessage = { type: 'gate.decision'; decision: DecisionView } | { type: 'alarm'; alarm: AlarmView } | { type: 'gate.visit'; visit: VisitView };
