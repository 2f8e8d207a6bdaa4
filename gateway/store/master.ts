// The store's master-data API for sync: HQ's versioned copies applied whole, and records the compound's other gates share.
import { newId } from '../core/ids.js';
import type { MasterData, UpBatch } from '../../sync/contract.js';
import type { PatrolPlanData, PreregistrationsData, ResidentsData, WatchlistData } from '../../sync/master.js';
import { normaliseCard } from '../gate/credentials.js';
import { normalisePlate } from '../gate/plates.js';
import type { Store } from './db.js';
import type { DecisionRow } from './decisions.js';
import type { PassRow } from './passes.js';
import { unitIdFor } from './residents.js';
import type { VisitDetail } from './visitors.js';

export interface MasterApplied {
  applied: boolean;
  reason?: string;
}

/** The version of each kind in force at this gate. */
export function masterVersions(store: Store): Record<string, number> {
  const rows = store.db.prepare('SELECT kind, version FROM master_versions').all() as { kind: string; version: number }[];
  return Object.fromEntries(rows.map((r) => [r.kind, r.version]));
}

/**
 * Apply one complete copy of a kind in ONE transaction: all of it or nothing, and only when newer
 * than what the gate has. The gate decides from this copy until a newer one arrives.
 */
export function applyMasterData(store: Store, m: MasterData, now: number): MasterApplied {
  // Worked out before the write lock is taken: only the changes are written under it.
  const residents = m.kind === 'residents' ? residentChanges(store, m.data as ResidentsData) : null;
  return store.transaction(() => {
    const current = (store.db.prepare('SELECT version FROM master_versions WHERE kind = ?').get(m.kind) as { version: number } | undefined)?.version ?? 0;
    if (m.version <= current) return { applied: false, reason: `version ${m.version} is not newer than ${current}` };
    switch (m.kind) {
      case 'residents':
        writeResidents(store, residents!, now);
        break;
      case 'watchlist':
        applyWatchlist(store, m.data as WatchlistData, now);
        break;
      case 'patrol_plan':
        applyPatrolPlan(store, m.data as PatrolPlanData, m.version, now);
        break;
      case 'preregistrations':
        applyPreregistrations(store, m.data as PreregistrationsData, now);
        break;
    }
    store.db.prepare('INSERT INTO master_versions (kind, version, applied_at) VALUES (?, ?, ?) ON CONFLICT (kind) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at').run(m.kind, m.version, now);
    store.audit.append({ actor: 'hq', action: 'master.apply', target: m.kind, detail: { version: m.version, from: current } });
    return { applied: true };
  });
}

interface ResidentChanges {
  units: { id: string; code: string; building: string; entrance: string; room: string }[];
  upsert: { id: string; unit_id: string | null; kind: string; name: string; phone: string | null }[];
  retire: string[];
  dropCredentials: string[];
  addCredentials: { kind: 'card' | 'plate'; value: string; holder: string; list: string; validUntil: number | null }[];
}

/**
 * What a complete resident copy changes at this gate, worked out by reading only (no write lock): the
 * copy is whole, but from one version to the next little of it changes, and rewriting 100,000
 * residents would hold up the gate's decisions for a second.
 */
function residentChanges(store: Store, data: ResidentsData): ResidentChanges {
  const { db } = store;
  const knownUnits = new Set(db.prepare('SELECT code FROM units').pluck().all() as string[]);
  const units = data.units
    .filter((u) => !knownUnits.has(u.code))
    .map((u) => {
      const [building = u.code, entrance = '', room = ''] = u.code.split('-');
      return { id: unitIdFor(u.code), code: u.code, building, entrance, room };
    });
  type Row = { id: string; unit_id: string | null; kind: string; name: string; phone: string | null; active: number };
  const current = new Map((db.prepare('SELECT id, unit_id, kind, name, phone, active FROM residents').all() as Row[]).map((r) => [r.id, r]));
  const upsert: ResidentChanges['upsert'] = [];
  const wanted = new Set<string>();
  const key = (c: { holder: string; kind: string; value: string; list: string; validUntil: number | null }) => [c.holder, c.kind, c.value, c.list, c.validUntil ?? ''].join('\u0000');
  const desired = new Map<string, ResidentChanges['addCredentials'][number]>();
  for (const r of data.residents) {
    wanted.add(r.id);
    const row = { id: r.id, unit_id: r.unit === null ? null : unitIdFor(r.unit), kind: r.kind, name: r.name, phone: r.phone ?? null };
    const now = current.get(r.id);
    if (!now || now.active !== 1 || now.unit_id !== row.unit_id || now.kind !== row.kind || now.name !== row.name || now.phone !== row.phone) upsert.push(row);
    // Normalised as the gate normalises what a reader or plate camera sends, so lookups match.
    const validUntil = r.validUntil ?? null;
    for (const card of r.cards) {
      const c = { kind: 'card' as const, value: normaliseCard(card), holder: r.id, list: r.list, validUntil };
      desired.set(key(c), c);
    }
    for (const plate of r.plates) {
      const c = { kind: 'plate' as const, value: normalisePlate(plate), holder: r.id, list: r.list, validUntil };
      desired.set(key(c), c);
    }
  }
  const retire = [...current.values()].filter((r) => r.active === 1 && !wanted.has(r.id)).map((r) => r.id);
  type Cred = { id: string; kind: 'card' | 'plate'; value: string; holder_id: string; list: string; valid_until: number | null };
  const held = db.prepare('SELECT id, kind, value, holder_id, list, valid_until FROM credentials WHERE active = 1 AND holder_id IS NOT NULL').all() as Cred[];
  const dropCredentials: string[] = [];
  for (const c of held) {
    const k = key({ holder: c.holder_id, kind: c.kind, value: c.value, list: c.list, validUntil: c.valid_until });
    if (desired.has(k)) desired.delete(k);
    else dropCredentials.push(c.id);
  }
  return { units, upsert, retire, dropCredentials, addCredentials: [...desired.values()] };
}

/** Residents, their units, cards and plates as HQ has them: HQ's ids are kept, so every gate names a person the same. */
function writeResidents(store: Store, changes: ResidentChanges, now: number): void {
  const { db } = store;
  const addUnit = db.prepare('INSERT INTO units (id, code, building, entrance, room, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
  for (const u of changes.units) addUnit.run(u.id, u.code, u.building, u.entrance, u.room, now);
  const upsertResident = db.prepare(
    `INSERT INTO residents (id, unit_id, kind, name, phone, active, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?)
     ON CONFLICT (id) DO UPDATE SET unit_id = excluded.unit_id, kind = excluded.kind, name = excluded.name, phone = excluded.phone, active = 1, updated_at = excluded.updated_at`,
  );
  for (const r of changes.upsert) upsertResident.run(r.id, r.unit_id, r.kind, r.name, r.phone, now);
  const retire = db.prepare('UPDATE residents SET active = 0, updated_at = ? WHERE id = ?');
  for (const id of changes.retire) retire.run(now, id);
  // Old credentials go before new ones arrive: a card may move from one holder to another.
  const drop = db.prepare('UPDATE credentials SET active = 0, updated_at = ? WHERE id = ?');
  for (const id of changes.dropCredentials) drop.run(now, id);
  const add = db.prepare('INSERT INTO credentials (id, kind, value, holder_id, list, valid_from, valid_until, active, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?, 1, ?)');
  for (const c of changes.addCredentials) add.run(newId(), c.kind, c.value, c.holder, c.list, c.validUntil, now);
}

/** HQ's watchlist replaces HQ's previous one (entries HQ added are marked "hq" or "hq:<who>"); entries a guard added here stay. */
function applyWatchlist(store: Store, data: WatchlistData, now: number): void {
  const { db } = store;
  const fromHq = "(added_by = 'hq' OR added_by LIKE 'hq:%')";
  db.prepare(`UPDATE watchlist SET active = 0 WHERE active = 1 AND ${fromHq}`).run();
  const add = db.prepare(
    `INSERT INTO watchlist (id, kind, value, reason, added_by, added_at, active) VALUES (?, ?, ?, ?, ?, ?, 1)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, value = excluded.value, reason = excluded.reason, added_by = excluded.added_by, active = 1`,
  );
  const yieldLocal = db.prepare(`UPDATE watchlist SET active = 0 WHERE kind = ? AND value = ? AND active = 1 AND NOT ${fromHq}`);
  for (const e of data.entries) {
    const value = e.kind === 'plate' ? normalisePlate(e.value) : e.value.trim();
    // A guard's own entry for the same value gives way to HQ's (one active entry per value).
    yieldLocal.run(e.kind, value);
    add.run(e.id, e.kind, value, e.reason, e.addedBy ? `hq:${e.addedBy}` : 'hq', e.addedAt ?? now);
  }
}

function applyPatrolPlan(store: Store, data: PatrolPlanData, version: number, now: number): void {
  const latest = (store.db.prepare('SELECT max(version) AS v FROM patrol_plans').get() as { v: number | null }).v ?? 0;
  store.patrol.addPlan({ version: Math.max(latest + 1, version), plan: JSON.stringify(data), effective_from: now, created_by: 'hq', created_at: now });
}

function applyPreregistrations(store: Store, data: PreregistrationsData, now: number): void {
  // Withdrawn at HQ and not used by a visit yet: gone from the gate too.
  store.db
    .prepare("DELETE FROM preregistrations WHERE source = 'hq' AND used_by_visit IS NULL AND id NOT IN (SELECT value FROM json_each(?))")
    .run(JSON.stringify(data.items.map((p) => p.id)));
  const upsert = store.db.prepare(
    `INSERT INTO preregistrations (id, code, visitor_name, phone, plate, host_unit_id, host_name, expected_on, source, created_by, created_at)
     VALUES (@id, @code, @visitor_name, @phone, @plate, @host_unit_id, @host_name, @expected_on, 'hq', 'hq', @created_at)
     ON CONFLICT (id) DO UPDATE SET visitor_name = excluded.visitor_name, phone = excluded.phone, plate = excluded.plate,
       host_unit_id = excluded.host_unit_id, host_name = excluded.host_name, expected_on = excluded.expected_on`,
  );
  for (const p of data.items) {
    upsert.run({ id: p.id, code: p.code, visitor_name: p.visitorName, phone: p.phone ?? null, plate: p.plate ? normalisePlate(p.plate) : null, host_unit_id: unitIdFor(p.hostUnit), host_name: p.hostName ?? null, expected_on: p.expectedOn, created_at: now });
  }
}

// ---- records shared by the compound's other gates -------------------------------------------

/**
 * Apply another gate's visits, passes and decisions: a visitor who came in there can leave here,
 * and presence (anti-passback) holds across gates. Each record version (id, seq) applies once; one
 * that refers to something not here yet (a pass before its visit) waits and is tried again.
 * Returns how many records were applied.
 */
export function applyPeerBatch(store: Store, batch: UpBatch, ownSite: string, now: number): number {
  if (batch.site === ownSite) return 0;
  const seen = store.db.prepare('SELECT 1 FROM peer_records WHERE stream = ? AND id = ? AND seq = ?');
  const mark = store.db.prepare('INSERT INTO peer_records (stream, id, site, seq, applied_at) VALUES (?, ?, ?, ?, ?)');
  const wait = store.db.prepare('INSERT OR IGNORE INTO peer_pending (stream, id, site, seq, data, received_at) VALUES (?, ?, ?, ?, ?, ?)');
  let applied = 0;
  store.transaction(() => {
    for (const r of batch.records) {
      if (seen.get(batch.stream, r.id, r.seq)) continue;
      if (applyPeerRecord(store, batch.stream, r.id, batch.site, r.data, now)) {
        mark.run(batch.stream, r.id, batch.site, r.seq, now);
        applied++;
      } else wait.run(batch.stream, r.id, batch.site, r.seq, JSON.stringify(r.data), now);
    }
    // What waited may fit now.
    const pending = store.db.prepare('SELECT stream, id, site, seq, data FROM peer_pending ORDER BY received_at, seq').all() as { stream: string; id: string; site: string; seq: number; data: string }[];
    for (const p of pending) {
      if (!applyPeerRecord(store, p.stream, p.id, p.site, JSON.parse(p.data) as unknown, now)) continue;
      store.db.prepare('DELETE FROM peer_pending WHERE stream = ? AND id = ? AND seq = ?').run(p.stream, p.id, p.seq);
      mark.run(p.stream, p.id, p.site, p.seq, now);
      applied++;
    }
  });
  return applied;
}

/** False when the record refers to something this gate does not have yet. */
function applyPeerRecord(store: Store, stream: string, id: string, site: string, data: unknown, now: number): boolean {
  const { db } = store;
  try {
    // A savepoint per record: a refused one leaves no half of itself behind.
    return db.transaction(() => {
      switch (stream) {
        case 'visits':
          applyPeerVisit(store, data as VisitDetail);
          return true;
        case 'passes':
          applyPeerPass(store, data as PassRow);
          return true;
        case 'decisions':
          applyPeerDecision(store, id, site, data as DecisionRow, now);
          return true;
        default:
          return true;
      }
    })();
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return false;
    throw err;
  }
}

function applyPeerVisit(store: Store, v: VisitDetail): void {
  const { db } = store;
  db.prepare(
    `INSERT INTO visitors (id, name, id_type, id_number, phone, plate, first_seen_at, last_visit_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, id_number = COALESCE(excluded.id_number, visitors.id_number), phone = COALESCE(excluded.phone, visitors.phone),
       last_visit_at = max(visitors.last_visit_at, excluded.last_visit_at)`,
  ).run(v.visitor_id, v.name, v.id_type, v.id_number, v.phone, v.plate, v.registered_at, v.registered_at);
  db.prepare(
    `INSERT INTO visits (id, visitor_id, host_unit_id, host_name, reason, headcount, plate, expected_leave_at, status, confirmation, confirmed_by, confirmed_at,
       preregistration, refusal, registered_by, registered_at, entered_at, left_at)
     VALUES (@id, @visitor_id, @host_unit_id, @host_name, @reason, @headcount, @plate, @expected_leave_at, @status, @confirmation, @confirmed_by, @confirmed_at,
       NULL, @refusal, @registered_by, @registered_at, @entered_at, @left_at)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, confirmation = excluded.confirmation, confirmed_by = excluded.confirmed_by,
       confirmed_at = excluded.confirmed_at, refusal = excluded.refusal, entered_at = excluded.entered_at, left_at = excluded.left_at`,
  ).run({ ...v, host_unit_id: unitIdFor(v.unit_code), refusal: (v as { refusal?: string | null }).refusal ?? null });
}

function applyPeerPass(store: Store, p: PassRow): void {
  store.db
    .prepare(
      `INSERT INTO passes (id, kind, code, visit_id, unit_id, holder_name, valid_from, valid_until, temp_card, plate, detail, status, issued_by, issued_at, closed_by, closed_at)
       VALUES (@id, @kind, @code, @visit_id, @unit_id, @holder_name, @valid_from, @valid_until, @temp_card, @plate, @detail, @status, @issued_by, @issued_at, @closed_by, @closed_at)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, valid_until = excluded.valid_until, closed_by = excluded.closed_by, closed_at = excluded.closed_at`,
    )
    .run(p);
}

/**
 * Another gate let someone in or out: this gate's presence follows, once per decision (a later
 * version of the same decision, e.g. the barrier's answer, moves nobody again). Seq 0 marks the move.
 */
function applyPeerDecision(store: Store, id: string, site: string, d: DecisionRow, now: number): void {
  if (d.outcome !== 'granted' || !d.subject) return;
  if (store.db.prepare("SELECT 1 FROM peer_records WHERE stream = 'decisions' AND id = ? AND seq = 0").get(id)) return;
  store.decisions.move(d.subject, d.direction, null, d.at, newId);
  store.db.prepare("INSERT INTO peer_records (stream, id, site, seq, applied_at) VALUES ('decisions', ?, ?, 0, ?)").run(id, site, now);
}
