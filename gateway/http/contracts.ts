// The HTTP and websocket API contracts (TypeBox): fastify validates with them, the edge UI imports their types.
import Type, { type Static } from 'typebox';
import type { GateLiveMessage } from './gate-contracts.js';
import type { VideoLiveMessage } from './video-contracts.js';

/**
 * A value or null. Null comes first: fastify's validator coerces types, and a null tried against an
 * integer first would be accepted as 0.
 */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([Type.Null(), t]);

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'stable error code, e.g. bad_request, unauthorized' }),
    message: Type.String({ description: 'readable message' }),
    field: Type.Optional(Type.String({ description: 'the request field at fault' })),
    problem: Type.Optional(Type.String({ description: 'a stable code for what is wrong, for the screen to translate' })),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const RoleSchema = Type.Union([Type.Literal('guard'), Type.Literal('operator'), Type.Literal('supervisor'), Type.Literal('admin')]);

export const DeviceView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  type: Type.String(),
  state: Type.Union([Type.Literal('starting'), Type.Literal('online'), Type.Literal('offline'), Type.Literal('failed'), Type.Literal('stopped')]),
  lastSeen: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
export type DeviceView = Static<typeof DeviceView>;

/** The sync to HQ as screens and monitoring see it. */
export const SyncView = Type.Object({
  enabled: Type.Boolean(),
  state: Type.Union([Type.Literal('connecting'), Type.Literal('online'), Type.Literal('backoff'), Type.Literal('auth-failed'), Type.Literal('disabled')]),
  protocol: Nullable(Type.String()),
  outboxDepth: Nullable(Type.Integer()),
  oldestUnsentAgeS: Nullable(Type.Number()),
  lastSuccessAt: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastErrorAt: Nullable(Type.Integer()),
  nextAttemptAt: Nullable(Type.Integer()),
  parked: Nullable(Type.Integer()),
  /** The oldest unsent record is older than sync.alarm_after_s. */
  overdue: Type.Boolean(),
  /** Master data version in force per kind. */
  masterVersions: Type.Record(Type.String(), Type.Integer()),
});
export type SyncView = Static<typeof SyncView>;

/** A record HQ refused as invalid, waiting for an admin. */
export const ParkedRecordView = Type.Object({
  seq: Type.Integer(),
  stream: Type.String(),
  recordId: Type.String(),
  createdAt: Type.Integer(),
  parkedAt: Type.Integer(),
  reason: Type.String(),
});
export type ParkedRecordView = Static<typeof ParkedRecordView>;

export const SyncResponse = Type.Object({ sync: SyncView, parked: Type.Array(ParkedRecordView) });
export type SyncResponse = Static<typeof SyncResponse>;

export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  site: Type.Object({ id: Type.String(), name: Type.String(), timezone: Type.String() }),
  uptimeS: Type.Number(),
  store: Type.Object({ status: Type.Literal('ok'), schemaVersion: Type.Integer(), sizeBytes: Type.Integer(), outboxDepth: Type.Integer() }),
  broker: Type.Object({ status: Type.Literal('ok'), port: Type.Integer(), clients: Type.Integer() }),
  sync: SyncView,
  devices: Type.Array(DeviceView),
});
export type HealthResponse = Static<typeof HealthResponse>;

export const PersonView = Type.Object({ id: Type.String(), name: Type.String(), role: RoleSchema });
export type PersonView = Static<typeof PersonView>;

export const PeopleResponse = Type.Object({ people: Type.Array(PersonView) });

export const LoginRequest = Type.Object(
  {
    personId: Type.String({ minLength: 1, maxLength: 64 }),
    pin: Type.String({ pattern: '^[0-9]{4,12}$', description: 'a PIN of 4 to 12 digits' }),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

export const SessionResponse = Type.Object({
  token: Type.String(),
  person: PersonView,
  expiresAt: Type.Integer(),
});
export type SessionResponse = Static<typeof SessionResponse>;

/** A device event as screens show it: personal numbers already masked by the gateway. */
export const EventView = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  deviceName: Type.String(),
  deviceKind: Type.String(),
  type: Type.String({ description: 'credential | plate | checkpoint | state' }),
  at: Type.Integer(),
  receivedAt: Type.Integer(),
  detail: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
});
export type EventView = Static<typeof EventView>;

export const EventsQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) },
  { additionalProperties: false },
);

export const EventsResponse = Type.Object({ events: Type.Array(EventView) });
export type EventsResponse = Static<typeof EventsResponse>;

/** Messages the gateway pushes on the /api/live websocket. */
export type LiveMessage =
  | { type: 'hello'; person: PersonView }
  | { type: 'device.event'; event: EventView }
  | { type: 'device.health'; device: DeviceView }
  | GateLiveMessage
  | VideoLiveMessage;
