// Repository for patrol plans, hits, supervisors' reasons and incidents.
import type Database from 'better-sqlite3';

export interface PlanRow {
  version: number;
  plan: string;
  effective_from: number;
  created_by: string;
  created_at: number;
}

export interface HitRow {
  id: string;
  tag: string;
  checkpoint: string | null;
  at: number;
  source: 'reader' | 'wand' | 'event' | 'manual';
  device_id: string | null;
  guard: string | null;
  record_key: string | null;
  received_at: number;
}

export interface IncidentRow {
  id: string;
  checkpoint: string;
  type: string;
  note: string;
  guard: string;
  at: number;
  photo: string | null;
}

export class PatrolRepo {
  private readonly insertHit: Database.Statement<HitRow>;
  private readonly hitsBetween: Database.Statement<[number, number], HitRow>;

  constructor(private readonly db: Database.Database) {
    // OR IGNORE: a wand record downloaded again hits the unique record_key and is dropped.
    this.insertHit = db.prepare(
      `INSERT OR IGNORE INTO patrol_hits (id, tag, checkpoint, at, source, device_id, guard, record_key, received_at)
       VALUES (@id, @tag, @checkpoint, @at, @source, @device_id, @guard, @record_key, @received_at)`,
    );
    this.hitsBetween = db.prepare('SELECT * FROM patrol_hits WHERE at >= ? AND at < ? ORDER BY at');
  }

  plans(): PlanRow[] {
    return this.db.prepare('SELECT * FROM patrol_plans ORDER BY version').all() as PlanRow[];
  }

  addPlan(row: PlanRow): void {
    this.db.prepare('INSERT INTO patrol_plans (version, plan, effective_from, created_by, created_at) VALUES (?, ?, ?, ?, ?)').run(row.version, row.plan, row.effective_from, row.created_by, row.created_at);
  }

  /** True when the hit was new (not a repeat of a wand record already stored). */
  addHit(row: HitRow): boolean {
    return this.insertHit.run(row).changes > 0;
  }

  hits(from: number, to: number): HitRow[] {
    return this.hitsBetween.all(from, to);
  }

  /** Only what judging needs, for known checkpoints: a 60-day review reads hundreds of thousands of these. */
  judgedHits(from: number, to: number): { checkpoint: string; at: number; source: string; guard: string | null }[] {
    return this.db
      .prepare('SELECT checkpoint, at, source, guard FROM patrol_hits WHERE at >= ? AND at < ? AND checkpoint IS NOT NULL')
      .all(from, to) as { checkpoint: string; at: number; source: string; guard: string | null }[];
  }

  reasons(rounds: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    if (rounds.length === 0) return out;
    const rows = this.db
      .prepare(`SELECT round, checkpoint, reason FROM patrol_reasons WHERE round IN (${rounds.map(() => '?').join(',')})`)
      .all(...rounds) as { round: string; checkpoint: string; reason: string }[];
    for (const r of rows) out.set(`${r.round}|${r.checkpoint}`, r.reason);
    return out;
  }

  setReason(round: string, checkpoint: string, reason: string, by: string, at: number): void {
    this.db
      .prepare('INSERT INTO patrol_reasons (round, checkpoint, reason, by, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (round, checkpoint) DO UPDATE SET reason = excluded.reason, by = excluded.by, at = excluded.at')
      .run(round, checkpoint, reason, by, at);
  }

  addIncident(row: IncidentRow): void {
    this.db.prepare('INSERT INTO patrol_incidents (id, checkpoint, type, note, guard, at, photo) VALUES (@id, @checkpoint, @type, @note, @guard, @at, @photo)').run(row);
  }

  incidents(from: number, to: number): IncidentRow[] {
    return this.db.prepare('SELECT * FROM patrol_incidents WHERE at >= ? AND at < ? ORDER BY at DESC').all(from, to) as IncidentRow[];
  }
}
