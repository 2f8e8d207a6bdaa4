// Numbered SQL migrations: applied in order, one transaction each, refusing a database newer than the code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { ErrorCode, GuardpostError } from '../core/errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.slice(4, -4), sql: readFileSync(join(dir, f), 'utf8') }));
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration numbering has a gap or duplicate at ${m.version}_${m.name}`);
  });
  return migrations;
}

export interface MigrateResult {
  from: number;
  to: number;
  applied: string[];
}

/** Bring the database to the newest migration; the schema version lives in user_version and schema_migrations. */
export function migrate(db: Database.Database, migrations: Migration[], now: () => number): MigrateResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const from = db.pragma('user_version', { simple: true }) as number;
  const newest = migrations.length;
  if (from > newest) {
    throw new GuardpostError(
      ErrorCode.StoreTooNew,
      `the database is at schema version ${from} but this guardpost knows only up to ${newest}: upgrade guardpost, or restore a backup made by this version`,
    );
  }
  const applied: string[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations.slice(from)) {
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, now());
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(`${String(m.version).padStart(3, '0')}_${m.name}`);
  }
  return { from, to: newest, applied };
}
