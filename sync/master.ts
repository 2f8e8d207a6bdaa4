// The `data` of each master-data kind HQ publishes (TypeBox, published as sync/contract/master/<kind>.schema.json), with the gate table each field lands in.
import Type, { type Static, type TSchema } from 'typebox';
import type { MasterKind } from './contract.js';
import { PatrolPlan } from '../gateway/http/patrol-contracts.js';

const Epoch = Type.Integer({ minimum: 0, description: 'UTC epoch milliseconds' });
/** HQ's own ids: stable across versions, so a gate updates the same row instead of adding another. */
const HqId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', description: "HQ's stable id for the record: the same person or entry keeps it in every version" });
/** The gate's unit code (gateway/gate/import.ts parseUnit): building-entrance-room, 1-6 upper-case letters or digits each. */
const UnitCode = Type.String({ pattern: '^[0-9A-Z]{1,6}-[0-9A-Z]{1,6}-[0-9A-Z]{1,6}$', description: 'building-entrance-room, e.g. 3-2-1201' });
const ListId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'an access list id from the site config gate.lists; a gate refuses a version naming a list it does not have' });

// ---- residents ------------------------------------------------------------------------------

/** units.code (building, entrance and room are split from it). A unit may have no residents: visitors still name it as host. */
export const MasterUnit = Type.Object({ code: UnitCode }, { additionalProperties: false });

export const MasterResident = Type.Object(
  {
    /** residents.id */
    id: HqId,
    /** residents.unit_id, through units.code; null for staff, who belong to no unit. */
    unit: Type.Union([Type.Null(), UnitCode]),
    /** residents.kind */
    kind: Type.Union([Type.Literal('owner'), Type.Literal('tenant'), Type.Literal('family'), Type.Literal('staff')]),
    /** residents.name */
    name: Type.String({ minLength: 1, maxLength: 32 }),
    /** residents.phone, as given: send it normalised (digits only, or 0area-number for a landline). */
    phone: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 24 })])),
    /** credentials.list of every card and plate below. */
    list: ListId,
    /** credentials (kind card, holder_id = id); normalised by the gate as on import (normaliseCard). */
    cards: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 50, uniqueItems: true }),
    /** credentials (kind plate, holder_id = id); parsed and normalised by the gate (gateway/gate/plates.ts parsePlate). */
    plates: Type.Array(Type.String({ minLength: 1, maxLength: 16 }), { maxItems: 20, uniqueItems: true }),
    /** credentials.valid_until of every card and plate above; absent or null: no expiry. */
    validUntil: Type.Optional(Type.Union([Type.Null(), Epoch])),
  },
  { additionalProperties: false },
);
export type MasterResident = Static<typeof MasterResident>;

/**
 * The compound's complete resident list: it replaces the gate's. Residents missing from it, and every
 * card and plate with a holder, are deactivated first (those a CSV import added at the gate too);
 * cards and plates with no holder (a blocked vehicle) stay.
 */
export const ResidentsData = Type.Object(
  {
    units: Type.Array(MasterUnit, { maxItems: 100_000 }),
    residents: Type.Array(MasterResident, { maxItems: 200_000 }),
  },
  { additionalProperties: false },
);
export type ResidentsData = Static<typeof ResidentsData>;

// ---- watchlist ------------------------------------------------------------------------------

/** One watchlist table row. The gate's table has only these kinds (CHECK in 002_gate.sql). */
export const MasterWatchEntry = Type.Object(
  {
    /** watchlist.id */
    id: HqId,
    /** watchlist.kind */
    kind: Type.Union([Type.Literal('id_number'), Type.Literal('plate'), Type.Literal('phone')]),
    /** watchlist.value: a plate is normalised by the gate, an ID number or phone only trimmed, so send those normalised. */
    value: Type.String({ minLength: 1, maxLength: 32 }),
    /** watchlist.reason, shown to the guard on a hit. */
    reason: Type.String({ minLength: 1, maxLength: 100 }),
    /** Who at HQ added it: watchlist.added_by becomes "hq:<addedBy>" ("hq" when absent). */
    addedBy: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** watchlist.added_at (the version's publishedAt when absent). */
    addedAt: Type.Optional(Epoch),
  },
  { additionalProperties: false },
);
export type MasterWatchEntry = Static<typeof MasterWatchEntry>;

/** HQ's complete watchlist: HQ entries missing from a newer version are deactivated; entries guards added at the gate stay, unless HQ lists the same value. */
export const WatchlistData = Type.Object({ entries: Type.Array(MasterWatchEntry, { maxItems: 100_000 }) }, { additionalProperties: false });
export type WatchlistData = Static<typeof WatchlistData>;

// ---- patrol plan ----------------------------------------------------------------------------

/** The whole plan, as a supervisor PUTs it (gateway/http/patrol-contracts.ts): patrol_plans gets it as its next version, in force from when it is applied. */
export const PatrolPlanData = PatrolPlan;
export type PatrolPlanData = Static<typeof PatrolPlanData>;

// ---- pre-registrations ----------------------------------------------------------------------

export const MasterPreregistration = Type.Object(
  {
    /** preregistrations.id */
    id: HqId,
    /** preregistrations.code: what HQ sent the visitor. Eight digits, so it never meets the gate's own six-digit codes. */
    code: Type.String({ pattern: '^[0-9]{8}$' }),
    /** preregistrations.visitor_name */
    visitorName: Type.String({ minLength: 1, maxLength: 32 }),
    /** preregistrations.phone, as given. */
    phone: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 24 })])),
    /** preregistrations.plate, normalised by the gate. */
    plate: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 16 })])),
    /** preregistrations.host_unit_id, through units.code. */
    hostUnit: UnitCode,
    /** preregistrations.host_name */
    hostName: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 32 })])),
    /** preregistrations.expected_on: the site's local date. */
    expectedOn: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the local date YYYY-MM-DD' }),
  },
  { additionalProperties: false },
);
export type MasterPreregistration = Static<typeof MasterPreregistration>;

/**
 * HQ's current pre-registrations (preregistrations rows with source 'hq'): missing ones that no visit
 * used yet are deleted; one a visit already used stays (preregistrations.used_by_visit).
 */
export const PreregistrationsData = Type.Object({ items: Type.Array(MasterPreregistration, { maxItems: 100_000 }) }, { additionalProperties: false });
export type PreregistrationsData = Static<typeof PreregistrationsData>;

// ---------------------------------------------------------------------------------------------

/** The schema of MasterData.data per kind. */
export const masterDataSchemas: Readonly<Record<MasterKind, TSchema>> = {
  residents: ResidentsData,
  watchlist: WatchlistData,
  patrol_plan: PatrolPlanData,
  preregistrations: PreregistrationsData,
};

/** MasterData.data per kind, for code that switches on the kind. */
export interface MasterDataOf {
  residents: ResidentsData;
  watchlist: WatchlistData;
  patrol_plan: PatrolPlanData;
  preregistrations: PreregistrationsData;
}
