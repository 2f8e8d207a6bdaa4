// The contract between a gate and HQ: topics, batch and master-data envelopes (TypeBox, published as JSON Schema files).
import Type, { type Static } from 'typebox';

/** Bumped only for a change an existing HQ consumer would misread. */
export const contractVersion = 1;

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const Epoch = Type.Integer({ minimum: 0, description: 'UTC epoch milliseconds, by the gate clock that wrote it' });

/** One record from a gate's outbox. `id` is the record's UUIDv7: HQ upserts on (stream, id). */
export const UpRecord = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$', description: "the record's id (UUIDv7, or a composite key for a few streams); the same record sent again is the same id" }),
    seq: Type.Integer({ minimum: 1, description: "the gate's outbox sequence: increasing per gate, so order per stream is seq order" }),
    at: Epoch,
    data: Type.Unknown({ description: 'the record as the gate holds it; see records/<stream>.schema.json' }),
  },
  { additionalProperties: false },
);
export type UpRecord = Static<typeof UpRecord>;

/**
 * What a gate sends: records of one stream in outbox order. Over MQTT, one message per batch on
 * upTopic(); over HTTPS, the body of POST <url>/v1/batches (gzip), with an Idempotency-Key header of
 * `<site>:<stream>:<first seq>-<last seq>`.
 */
export const UpBatch = Type.Object(
  {
    v: Type.Literal(contractVersion),
    compound: Id,
    site: Id,
    stream: Type.String({ pattern: '^[a-z_]{1,40}$', description: 'e.g. decisions, visits, passes, alarms, audit, patrol_hits' }),
    /** When the batch left the gate, by the gate's clock: HQ may compare with its own to see clock skew. */
    sentAt: Epoch,
    records: Type.Array(UpRecord, { minItems: 1, maxItems: 5000 }),
  },
  { additionalProperties: false },
);
export type UpBatch = Static<typeof UpBatch>;

/** HQ's answer to an HTTPS batch: every id is either accepted (stored, or already had) or rejected as invalid. */
export const UpAnswer = Type.Object(
  {
    accepted: Type.Array(Type.String()),
    rejected: Type.Array(Type.Object({ id: Type.String(), reason: Type.String({ maxLength: 500 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type UpAnswer = Static<typeof UpAnswer>;

/**
 * MQTT 5 request/response: a gate sets this as each batch's Response Topic (and the batch's
 * Idempotency-Key as Correlation Data); HQ's consumer publishes the UpAnswer there once the batch is
 * stored. The broker's PUBACK says only that the broker has the batch, not what HQ made of it.
 */
export const answerTopic = (compound: string, site: string): string => `guardpost/v1/${compound}/${site}/answer`;

/** Kinds of master data HQ owns and gates apply. */
export const masterKinds = ['residents', 'watchlist', 'patrol_plan', 'preregistrations'] as const;
export type MasterKind = (typeof masterKinds)[number];

/**
 * A complete, versioned copy of one kind of master data for a compound. A gate applies a version
 * higher than the one it has in one transaction (never half), and decides from its last good copy
 * while HQ is out of reach. Over MQTT it is a retained message on masterTopic(); over HTTPS,
 * GET <url>/v1/master?compound=..&site=..&have=<kind>:<version>,... answers { items: MasterData[] }.
 */
export const MasterData = Type.Object(
  {
    v: Type.Literal(contractVersion),
    compound: Id,
    kind: Type.Unsafe<MasterKind>(Type.Union(masterKinds.map((k) => Type.Literal(k)))),
    version: Type.Integer({ minimum: 1, description: 'increases with every change HQ makes to this kind' }),
    publishedAt: Epoch,
    data: Type.Unknown({ description: 'see master/<kind>.schema.json' }),
  },
  { additionalProperties: false },
);
export type MasterData = Static<typeof MasterData>;

// ---- MQTT topics on HQ's broker -----------------------------------------------------------

/** A gate publishes its batches here (QoS 1); HQ's consumers subscribe to guardpost/v1/+/+/up/#. */
export const upTopic = (compound: string, site: string, stream: string): string => `guardpost/v1/${compound}/${site}/up/${stream}`;

/** HQ retains master data here; every gate of the compound subscribes to guardpost/v1/<compound>/master/#. */
export const masterTopic = (compound: string, kind: MasterKind): string => `guardpost/v1/${compound}/master/${kind}`;

/**
 * The streams gates of one compound share with each other through HQ's broker, by subscribing to
 * each other's up topics: a visitor who came in at one gate leaves at another, and presence
 * (anti-passback) holds across gates.
 */
export const sharedStreams = ['visits', 'passes', 'decisions'] as const;
export const peerTopic = (compound: string, stream: (typeof sharedStreams)[number]): string => `guardpost/v1/${compound}/+/up/${stream}`;

/** Parse an up topic back into its parts (null when it is not one). */
export function parseUpTopic(topic: string): { compound: string; site: string; stream: string } | null {
  const m = /^guardpost\/v1\/([a-z0-9-]+)\/([a-z0-9-]+)\/up\/([a-z_]+)$/.exec(topic);
  return m ? { compound: m[1]!, site: m[2]!, stream: m[3]! } : null;
}
