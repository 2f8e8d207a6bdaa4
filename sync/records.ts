// The `data` of every outbox stream as the gate writes it (TypeBox, published as sync/contract/records/<stream>.schema.json).
//
// Each schema describes the payload the call sites of `outbox.add(<stream>, ...)` pass today: most are
// the store's rows (snake_case, as the gate's tables hold them), a few are the HTTP views. Objects are
// open (no additionalProperties: false): a gate may add a field without breaking an HQ consumer, and
// consumers ignore fields they do not know. A change an existing consumer would misread bumps contractVersion.
import Type, { type Static, type TSchema } from 'typebox';
import { AlarmView } from '../gateway/http/gate-contracts.js';
import { PatrolPlan } from '../gateway/http/patrol-contracts.js';
import { GrantView, SealView } from '../gateway/http/video-contracts.js';

const Epoch = Type.Integer({ minimum: 0, description: 'UTC epoch milliseconds, by the gate clock' });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);
const Text = Type.String();

/** decisions: the decisions row (gateway/store/decisions.ts DecisionRow), sent again on every change (resolution, barrier outcome). */
export const DecisionRecord = Type.Object({
  id: Id,
  at: Epoch,
  entry_point: Text,
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
  device_id: Nullable(Text),
  credential_kind: Type.String({ description: 'card | plate | qr | manual' }),
  credential_value: Type.String({ description: 'the card number, plate, pass code or manual reason, unmasked: HQ keeps the record' }),
  outcome: Type.Union([Type.Literal('granted'), Type.Literal('denied'), Type.Literal('pending')]),
  reason: Text,
  subject: Nullable(Type.String({ description: 'resident:<id> | pass:<id> | plate:<value> | card:<value>' })),
  subject_name: Nullable(Text),
  list: Nullable(Text),
  resolved_by: Nullable(Text),
  resolved_at: Nullable(Epoch),
  resolution: Nullable(Text),
  barrier: Nullable(Text),
  barrier_status: Type.Union([Type.Literal('none'), Type.Literal('sent'), Type.Literal('opened'), Type.Literal('failed')]),
  barrier_detail: Nullable(Text),
  snapshot: Nullable(Type.String({ description: "path of the plate snapshot on the gate, relative to the camera's snapshot_dir" })),
});

/** visits: the visit with its visitor (gateway/store/visitors.ts VisitDetail), ID and phone numbers in full; sent again on every change. */
export const VisitRecord = Type.Object({
  id: Id,
  visitor_id: Id,
  host_unit_id: Id,
  host_name: Nullable(Text),
  reason: Text,
  headcount: Type.Integer({ minimum: 1 }),
  plate: Nullable(Text),
  expected_leave_at: Epoch,
  status: Type.Union([Type.Literal('registered'), Type.Literal('confirmed'), Type.Literal('inside'), Type.Literal('left'), Type.Literal('refused')]),
  confirmation: Nullable(Type.String({ description: 'call | intercom | in-person | pre-registered | supervisor-override' })),
  confirmed_by: Nullable(Text),
  confirmed_at: Nullable(Epoch),
  preregistration: Nullable(Id),
  refusal: Nullable(Text),
  registered_by: Text,
  registered_at: Epoch,
  entered_at: Nullable(Epoch),
  left_at: Nullable(Epoch),
  name: Text,
  id_type: Text,
  id_number: Nullable(Text),
  phone: Nullable(Text),
  unit_code: Text,
});

/** passes: the passes row (gateway/store/passes.ts PassRow); after a change also unit_code and inside (PassDetail). */
export const PassRecord = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('visitor'), Type.Literal('worker'), Type.Literal('goods-out')]),
  code: Text,
  visit_id: Nullable(Id),
  unit_id: Id,
  holder_name: Text,
  valid_from: Epoch,
  valid_until: Epoch,
  temp_card: Nullable(Text),
  plate: Nullable(Text),
  detail: Type.String({ description: 'JSON text: worker: company, phone, curfew; goods-out: items, carrier' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('closed'), Type.Literal('revoked')]),
  issued_by: Text,
  issued_at: Epoch,
  closed_by: Nullable(Text),
  closed_at: Nullable(Epoch),
  unit_code: Type.Optional(Text),
  inside: Type.Optional(Type.Integer({ minimum: 0, maximum: 1, description: '1 while the holder is inside' })),
});

/** preregistrations: the preregistrations row (gateway/store/visitors.ts PreregistrationRow) a guard or HQ created at the gate. */
export const PreregistrationRecord = Type.Object({
  id: Id,
  code: Text,
  visitor_name: Text,
  phone: Nullable(Text),
  plate: Nullable(Text),
  host_unit_id: Id,
  host_name: Nullable(Text),
  expected_on: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
  source: Type.Union([Type.Literal('hq'), Type.Literal('guard')]),
  created_by: Text,
  created_at: Epoch,
  used_by_visit: Nullable(Id),
});

const CredentialOfResident = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('card'), Type.Literal('plate')]),
  value: Text,
  list: Text,
  validFrom: Nullable(Epoch),
  validUntil: Nullable(Epoch),
});

/** residents: a resident the CSV import created or changed, with all their cards and plates (gateway/gate/import.ts). */
export const ResidentRecord = Type.Object({
  id: Id,
  unitId: Nullable(Id),
  unit: Nullable(Type.String({ description: 'the unit code, e.g. 3-2-1201; null for staff' })),
  kind: Type.Union([Type.Literal('owner'), Type.Literal('tenant'), Type.Literal('family'), Type.Literal('staff')]),
  name: Text,
  phone: Nullable(Text),
  active: Type.Boolean(),
  updatedAt: Epoch,
  credentials: Type.Array(CredentialOfResident),
});

/** credentials: a card or plate with no holder (e.g. a blocked vehicle) the CSV import created or changed. */
export const CredentialRecord = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('card'), Type.Literal('plate')]),
  value: Text,
  list: Text,
  validFrom: Nullable(Epoch),
  validUntil: Nullable(Epoch),
  holderId: Type.Null(),
  updatedAt: Epoch,
});

/** shifts: the shifts row (gateway/store/shifts.ts ShiftRow), sent at sign-on and again at sign-off. */
export const ShiftRecord = Type.Object({
  id: Id,
  person_id: Text,
  on_at: Epoch,
  off_at: Nullable(Epoch),
  handover_note: Nullable(Text),
});

/** key_loans: the key_loans row (gateway/store/shifts.ts KeyLoanRow), sent at issue and again at return. */
export const KeyLoanRecord = Type.Object({
  id: Id,
  key_id: Id,
  holder_name: Text,
  purpose: Text,
  issued_by: Text,
  issued_at: Epoch,
  due_at: Epoch,
  returned_at: Nullable(Epoch),
  returned_to: Nullable(Text),
});

/** audit: one hash-chained audit entry (gateway/store/audit.ts AuditEntry); HQ can verify the chain by seq. */
export const AuditRecord = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  id: Id,
  at: Epoch,
  actor: Text,
  action: Text,
  target: Nullable(Text),
  detail: Type.String({ description: 'JSON text; personal numbers already masked' }),
  prev_hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
});

const DeviceEventBase = { id: Id, receivedAt: Epoch, deviceId: Text, at: Epoch };

/** device_events: every device event as recorded (drivers/contract.ts DeviceEvent, plus the stored id and receive time). */
export const DeviceEventRecord = Type.Union([
  Type.Object({
    ...DeviceEventBase,
    type: Type.Literal('credential'),
    credential: Type.Object({ kind: Type.Union([Type.Literal('card'), Type.Literal('pin'), Type.Literal('qr')]), value: Text, format: Type.Optional(Text) }),
  }),
  Type.Object({ ...DeviceEventBase, type: Type.Literal('plate'), plate: Text, confidence: Type.Optional(Type.Number()), snapshot: Type.Optional(Text) }),
  Type.Object({
    ...DeviceEventBase,
    type: Type.Literal('checkpoint'),
    tag: Text,
    wand: Type.Optional(Type.Object({ id: Text, seq: Type.Integer(), wandTime: Text, offsetMs: Type.Number() })),
  }),
  Type.Object({ ...DeviceEventBase, type: Type.Literal('state'), state: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])) }),
  Type.Object({
    ...DeviceEventBase,
    type: Type.Literal('camera.event'),
    topic: Text,
    source: Type.Optional(Type.Record(Type.String(), Type.String())),
    data: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  }),
]);

/** patrol_hits: the patrol_hits row (gateway/store/patrol.ts HitRow). */
export const PatrolHitRecord = Type.Object({
  id: Id,
  tag: Text,
  checkpoint: Nullable(Text),
  at: Epoch,
  source: Type.Union([Type.Literal('reader'), Type.Literal('wand'), Type.Literal('event'), Type.Literal('manual')]),
  device_id: Nullable(Text),
  guard: Nullable(Text),
  record_key: Nullable(Text),
  received_at: Epoch,
});

/** patrol_incidents: the patrol_incidents row (gateway/store/patrol.ts IncidentRow). */
export const PatrolIncidentRecord = Type.Object({
  id: Id,
  checkpoint: Text,
  type: Text,
  note: Text,
  guard: Text,
  at: Epoch,
  photo: Nullable(Text),
});

/** patrol_plans: a plan version the gate started using (record id: the version number as text). */
export const PatrolPlanRecord = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  plan: PatrolPlan,
  effective_from: Epoch,
  created_by: Text,
  created_at: Epoch,
});

/** patrol_reasons: a supervisor's reason for a missed or late stop (record id: `<round>|<checkpoint>`; a later one replaces it). */
export const PatrolReasonRecord = Type.Object({ round: Text, checkpoint: Text, reason: Text, by: Text });

/** Every stream a gate sends, with the schema of its records' `data`. */
export const recordSchemas = {
  alarms: AlarmView,
  audit: AuditRecord,
  credentials: CredentialRecord,
  decisions: DecisionRecord,
  device_events: DeviceEventRecord,
  key_loans: KeyLoanRecord,
  passes: PassRecord,
  patrol_hits: PatrolHitRecord,
  patrol_incidents: PatrolIncidentRecord,
  patrol_plans: PatrolPlanRecord,
  patrol_reasons: PatrolReasonRecord,
  preregistrations: PreregistrationRecord,
  residents: ResidentRecord,
  shifts: ShiftRecord,
  video_grants: GrantView,
  video_seals: SealView,
  visits: VisitRecord,
} as const satisfies Record<string, TSchema>;

export type Stream = keyof typeof recordSchemas;
export const streams = Object.keys(recordSchemas) as Stream[];
export type RecordData<S extends Stream> = Static<(typeof recordSchemas)[S]>;
