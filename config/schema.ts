// The config schema: the single source for validation, the TypeScript types and config/schema.json.
import Type, { type Static, type TSchema } from 'typebox';
import { deviceKinds } from '../drivers/contract.js';
import { driverCatalogue } from '../drivers/catalogue.js';
import { SecretHash } from '../gateway/core/secret.js';

export const roles = ['guard', 'operator', 'supervisor', 'admin'] as const;
export type Role = (typeof roles)[number];

const literalUnion = <T extends string>(values: readonly T[], description: string, extra: { default?: T } = {}) =>
  Type.Unsafe<T>({ enum: [...values], description, ...extra });

export const idPattern = '^[a-z0-9][a-z0-9-]{0,62}$';
const Id = (description: string) => Type.String({ pattern: idPattern, description });
const Port = Type.Integer({ minimum: 1, maximum: 65535, description: 'a TCP port number (1-65535)' });

export const SiteSchema = Type.Object(
  {
    id: Id('a site id: lower-case letters, digits and dashes'),
    name: Type.String({ minLength: 1, description: 'the site name shown on screens' }),
    timezone: Type.String({ minLength: 1, description: 'an IANA time zone such as Asia/Shanghai' }),
  },
  { additionalProperties: false },
);

export const HttpSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'the address the web server binds to' }),
    port: Type.Integer({ ...Port, default: 8080 }),
  },
  { additionalProperties: false },
);

export const MqttSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'the address the MQTT broker binds to (0.0.0.0 for devices on the LAN)' }),
    port: Type.Integer({ ...Port, default: 1883 }),
    max_payload_bytes: Type.Integer({ minimum: 256, maximum: 16777216, default: 262144, description: 'the largest MQTT payload accepted, in bytes' }),
  },
  { additionalProperties: false },
);

export const PersonSchema = Type.Object(
  {
    id: Id('a person id: lower-case letters, digits and dashes'),
    name: Type.String({ minLength: 1, description: 'the name shown on the login screen' }),
    role: literalUnion(roles, 'one of guard, operator, supervisor, admin'),
    pin_hash: SecretHash('PIN'),
  },
  { additionalProperties: false },
);

const deviceCommon = {
  kind: literalUnion(deviceKinds, `one of ${deviceKinds.join(', ')}`),
  name: Type.Optional(Type.String({ minLength: 1, description: 'the name shown on screens' })),
  enabled: Type.Optional(Type.Boolean({ description: 'true or false' })),
};

/** One object schema per driver type: the common keys plus the driver's own. */
function deviceBranch(type: string, driverSchema: TSchema): TSchema {
  const own = (driverSchema as { properties?: Record<string, TSchema>; required?: string[] }).properties ?? {};
  const required = ['type', 'kind', ...((driverSchema as { required?: string[] }).required ?? [])];
  return {
    type: 'object',
    required,
    properties: { type: { const: type }, ...deviceCommon, ...own },
    additionalProperties: false,
  } as unknown as TSchema;
}

/**
 * A device, chosen by its `type`. if/then (rather than anyOf) makes the validator report only the
 * chosen driver's errors, so a mistake in one key is not drowned in every other driver's complaints.
 */
export const DeviceSchema = Type.Unsafe<DeviceConfig>({
  type: 'object',
  required: ['type', 'kind'],
  properties: {
    type: { enum: driverCatalogue.map((d) => d.type), description: `a driver type: ${driverCatalogue.map((d) => d.type).join(', ')}` },
  },
  allOf: driverCatalogue.map((d) => ({
    if: { properties: { type: { const: d.type } }, required: ['type'] },
    then: deviceBranch(d.type, d.configSchema),
  })),
});

/** The keys every device has; each driver narrows the rest with its own schema. */
export interface DeviceConfig {
  type: string;
  kind: (typeof deviceKinds)[number];
  name?: string;
  enabled?: boolean;
  [key: string]: unknown;
}


const TimeOfDay = (description: string) => Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: `${description} as HH:MM (00:00-23:59)` });

export const TimeWindowSchema = Type.Object(
  {
    days: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7, description: 'a weekday number, 1 = Monday ... 7 = Sunday' }), { minItems: 1, uniqueItems: true })),
    from: TimeOfDay('the start time'),
    to: TimeOfDay('the end time'),
  },
  { additionalProperties: false },
);

export const accessRules = ['auto', 'manual', 'deny'] as const;

export const AccessListSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'the list name shown on screens' }),
    rule: literalUnion(accessRules, 'one of auto (open by itself), manual (the guard decides), deny'),
    windows: Type.Optional(Type.Array(TimeWindowSchema, { minItems: 1, description: 'when auto applies; outside them the guard decides' })),
  },
  { additionalProperties: false },
);

export const EntryPointSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'the name shown on screens' }),
    direction: literalUnion(['in', 'out'] as const, 'in or out'),
    devices: Type.Array(Id('the id of a reader or plate camera under devices'), { minItems: 1, uniqueItems: true }),
    barrier: Type.Optional(Id('the id of a barrier under devices')),
  },
  { additionalProperties: false },
);

export const MinGuardsSchema = Type.Object(
  {
    from: TimeOfDay('the start time'),
    to: TimeOfDay('the end time'),
    count: Type.Integer({ minimum: 1, maximum: 20, description: 'guards on duty (1-20)' }),
  },
  { additionalProperties: false },
);

export const GateSchema = Type.Object(
  {
    entry_points: Type.Record(Type.String({ pattern: idPattern }), EntryPointSchema, { default: {}, additionalProperties: false }),
    lists: Type.Record(Type.String({ pattern: idPattern }), AccessListSchema, {
      additionalProperties: false,
      default: {
        resident: { name: '业主/住户', rule: 'auto' },
        staff: { name: '物业员工', rule: 'auto' },
        visitor: { name: '访客', rule: 'manual' },
        blocked: { name: '禁止通行', rule: 'deny' },
      },
    }),
    unknown_vehicle: literalUnion(['manual', 'deny'] as const, 'manual (the guard decides) or deny', { default: 'manual' }),
    anti_passback: Type.Boolean({ default: true, description: 'true or false' }),
    worker_curfew: Type.String({ ...TimeOfDay('the time renovation workers must have left'), default: '19:00' }),
    min_guards: Type.Array(MinGuardsSchema, { default: [], description: 'periods that need more than one guard signed on' }),
    manual_open_reasons: Type.Array(Type.String({ minLength: 1, maxLength: 40 }), {
      minItems: 1,
      default: ['救护车/消防车', '业主忘带卡', '访客已登记', '送货车辆', '物业工作车辆', '设备故障'],
      description: 'the reasons a guard picks from to open the barrier by hand',
    }),
    visitor_retention_days: Type.Integer({ minimum: 1, maximum: 3650, default: 90, description: "days to keep visitors' ID and phone numbers (1-3650)" }),
  },
  { additionalProperties: false },
);

export const VideoCameraSchema = Type.Object(
  {
    record: Type.Boolean({ default: true, description: 'true to record this camera around the clock' }),
    /** Which stream to record: the main one normally; the sub-stream when the disk cannot hold the main at full bitrate. */
    record_stream: literalUnion(['main', 'sub'] as const, 'main or sub', { default: 'main' }),
    links: Type.Array(Type.String({ pattern: idPattern, description: 'a device id (reader, plate camera, barrier) or a patrol checkpoint id' }), {
      default: [],
      uniqueItems: true,
      description: 'the readers, plate cameras, barriers or patrol checkpoints this camera looks at: their events get a snapshot from it',
    }),
  },
  { additionalProperties: false },
);

export const VideoSchema = Type.Object(
  {
    recordings_dir: Type.String({ minLength: 1, default: 'recordings', description: 'where footage is kept; relative paths are under data_dir' }),
    ffmpeg: Type.String({ minLength: 1, default: 'ffmpeg', description: 'the ffmpeg program: a name on PATH or an absolute path' }),
    retention_days: Type.Integer({ minimum: 1, maximum: 3650, default: 60, description: 'days to keep unsealed footage (1-3650)' }),
    segment_s: Type.Integer({ minimum: 2, maximum: 600, default: 60, description: 'seconds per recorded segment (2-600)' }),
    stale_after_s: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600, description: 'restart ffmpeg when no segment for this many seconds (default: twice segment_s plus 10)' })),
    min_free_gb: Type.Number({ minimum: 0, maximum: 100000, default: 20, description: 'the free-space floor on the recordings disk, in GB: below it the oldest unsealed footage is deleted' }),
    max_gb: Type.Optional(
      Type.Number({ minimum: 0.001, maximum: 1_000_000, description: 'at most this many GB of footage, when the recordings disk is shared with other data; the floor then applies within it' }),
    ),
    sweep_every_s: Type.Integer({ minimum: 10, maximum: 86400, default: 300, description: 'seconds between retention sweeps (10-86400)' }),
    review_minutes: Type.Integer({ minimum: 5, maximum: 480, default: 120, description: 'how long an approved footage review lasts by default, in minutes (5-480)' }),
    cameras: Type.Record(Type.String({ pattern: idPattern }), VideoCameraSchema, {
      default: {},
      additionalProperties: false,
      description: 'per camera (a device of kind camera): what to record and what it looks at; a camera not listed is recorded from its main stream',
    }),
  },
  { additionalProperties: false },
);

const Secret = (description: string) => Type.String({ minLength: 1, description });

export const SyncSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'true to send records to HQ and take master data from it' }),
    transport: literalUnion(['mqtt', 'https'] as const, 'mqtt or https', { default: 'mqtt' }),
    compound: Type.Optional(Id('the compound id shared by every gate of one compound (default: site.id)')),
    mqtt: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^mqtts?://', description: "HQ's broker, mqtt://host:1883 or mqtts://host:8883" }),
          username: Type.String({ minLength: 1, description: "this site's user name at HQ's broker" }),
          password: Secret("this site's password at HQ's broker"),
          client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the MQTT client id (default: guardpost-<site id>)' })),
          ca_file: Type.Optional(Type.String({ minLength: 1, description: "a PEM file with HQ's CA certificate, for mqtts:// with a private CA" })),
        },
        { additionalProperties: false },
      ),
    ),
    https: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://', description: "HQ's sync endpoint, e.g. https://hq.example.com/guardpost" }),
          auth: literalUnion(['bearer', 'hmac'] as const, 'bearer or hmac', { default: 'bearer' }),
          token: Type.Optional(Secret('the bearer token (auth: bearer)')),
          hmac_key: Type.Optional(Secret('the shared HMAC-SHA256 key (auth: hmac)')),
          ca_file: Type.Optional(Type.String({ minLength: 1, description: "a PEM file with HQ's CA certificate" })),
          timeout_ms: Type.Integer({ minimum: 1000, maximum: 120_000, default: 15_000, description: 'how long to wait for HQ, in ms (1000-120000)' }),
          poll_s: Type.Integer({ minimum: 1, maximum: 300, default: 5, description: 'seconds between master-data polls (1-300)' }),
        },
        { additionalProperties: false },
      ),
    ),
    batch_size: Type.Integer({ minimum: 1, maximum: 5000, default: 500, description: 'records per batch sent to HQ (1-5000)' }),
    max_backoff_s: Type.Integer({ minimum: 1, maximum: 3600, default: 300, description: 'the longest wait between retries, in seconds (1-3600)' }),
    alarm_after_s: Type.Integer({ minimum: 60, maximum: 30 * 86400, default: 3600, description: 'raise an alarm when the oldest unsent record is older than this many seconds' }),
  },
  { additionalProperties: false },
);

export const SimulatorSchema = Type.Object(
  {
    device: Id('the id of a device under devices'),
    password: Type.String({ minLength: 1, description: "the simulated device's MQTT password" }),
    every_s: Type.Number({ minimum: 1, maximum: 3600, default: 15, description: 'seconds between simulated events (1-3600)' }),
    start_s: Type.Number({ minimum: 0, maximum: 3600, default: 1.5, description: 'seconds before the first simulated event (0-3600)' }),
  },
  { additionalProperties: false },
);

export const DemoSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'true or false' }),
    simulators: Type.Array(SimulatorSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    site: SiteSchema,
    data_dir: Type.String({ minLength: 1, default: './data', description: 'a directory for the database and recordings' }),
    http: HttpSchema,
    mqtt: MqttSchema,
    log: Type.Object(
      { level: literalUnion(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, 'one of fatal, error, warn, info, debug, trace') },
      { additionalProperties: false, default: { level: 'info' } },
    ),
    people: Type.Array(PersonSchema, { minItems: 1, description: 'the people who may log in' }),
    devices: Type.Record(Type.String({ pattern: idPattern }), DeviceSchema, {
      default: {},
      additionalProperties: false,
      description: 'devices by id',
    }),
    gate: Type.Unsafe<Static<typeof GateSchema>>({ ...GateSchema, default: {} }),
    video: Type.Unsafe<Static<typeof VideoSchema>>({ ...VideoSchema, default: {} }),
    sync: Type.Unsafe<Static<typeof SyncSchema>>({ ...SyncSchema, default: {} }),
    demo: Type.Optional(DemoSchema),
  },
  { additionalProperties: false },
);

export type GuardpostConfig = Static<typeof ConfigSchema>;
export type PersonConfig = Static<typeof PersonSchema>;
export type SimulatorConfig = Static<typeof SimulatorSchema>;
export type GateConfig = Static<typeof GateSchema>;
export type VideoConfig = Static<typeof VideoSchema>;
export type SyncConfig = Static<typeof SyncSchema>;
export type VideoCameraConfig = Static<typeof VideoCameraSchema>;
export type AccessListConfig = Static<typeof AccessListSchema>;
export type TimeWindow = Static<typeof TimeWindowSchema>;

/** The schema as an editor reads it (VS Code, the YAML language server). */
export function editorJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://guardpost.invalid/config.schema.json',
    title: 'guardpost site configuration',
    ...(JSON.parse(JSON.stringify(ConfigSchema)) as Record<string, unknown>),
  };
}
