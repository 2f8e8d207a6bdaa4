// The store: pragmas, migrations and version refusal, outbox rows with every record, the audit hash chain.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/contract.js';
import { migrationsDir } from '../../gateway/core/paths.js';
import { openStore, type Store } from '../../gateway/store/db.js';
import { readMigrations } from '../../gateway/store/migrate.js';
import { tempDir } from '../helpers/gateway.js';

const open: Store[] = [];
function fresh(dir = tempDir()): Store {
  let t = 1_700_000_000_000;
  const store = openStore({ dataDir: dir, now: () => t++ });
  open.push(store);
  return store;
}
afterEach(() => open.splice(0).forEach((s) => s.close()));

const card: DeviceEvent = { type: 'credential', deviceId: 'reader-1', at: 1, credential: { kind: 'card', value: '3005127841' } };

describe('store', () => {
  it('opens with WAL, synchronous FULL, foreign keys and a busy timeout', () => {
    const { db } = fresh();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('applies migrations once and records the schema version', () => {
    const dir = tempDir();
    const first = fresh(dir);
    const all = readMigrations(migrationsDir);
    expect(all.slice(0, 2).map((m) => m.name)).toEqual(['foundation', 'gate']);
    expect(first.migration.applied).toEqual(all.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`));
    first.close();
    const again = fresh(dir);
    expect(again.migration.applied).toEqual([]);
    expect(again.db.pragma('user_version', { simple: true })).toBe(again.migration.to);
    expect(again.db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual(all.map((m) => ({ version: m.version, name: m.name })));
  });

  it('refuses a database newer than the code', () => {
    const dir = tempDir();
    fresh(dir).close();
    const raw = new Database(join(dir, 'guardpost.db'));
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => fresh(dir)).toThrow(new RegExp(`schema version 99 .* knows only up to ${readMigrations(migrationsDir).length}`));
  });

  it('writes a device event and its outbox row in one transaction, and none on failure', () => {
    const store = fresh();
    const id = store.deviceEvents.record(card);
    expect(store.deviceEvents.recent(1)[0]).toMatchObject({ id, deviceId: 'reader-1', type: 'credential', event: card });
    const row = store.db.prepare('SELECT record_id, stream, payload FROM outbox').get() as { record_id: string; stream: string; payload: string };
    expect(row).toMatchObject({ record_id: id, stream: 'device_events' });
    expect(JSON.parse(row.payload)).toMatchObject({ id, credential: { value: '3005127841' } });

    // A failing outbox insert must take the record down with it.
    store.db.exec("CREATE TRIGGER outbox_fail BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
    expect(() => store.deviceEvents.record(card)).toThrow(/disk trouble/);
    expect(store.deviceEvents.count()).toBe(1);
    store.db.exec('DROP TRIGGER outbox_fail');
    expect(store.deviceEvents.recordMany([card, card, card])).toHaveLength(3);
    expect(store.outbox.depth()).toBe(4);
  });

  it('chains audit entries, refuses edits, and verify finds tampering', () => {
    const store = fresh();
    store.audit.append({ actor: 'guard-li', action: 'login' });
    store.audit.append({ actor: 'guard-li', action: 'barrier.manual_open', target: 'barrier-north', detail: { reason: 'ambulance' } });
    store.audit.append({ actor: 'sup-chen', action: 'seal', target: 'cam-1' });
    expect(store.audit.verify()).toEqual({ ok: true, rows: 3 });
    expect(() => store.db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(store.db.prepare("SELECT count(*) AS n FROM outbox WHERE stream = 'audit'").get()).toEqual({ n: 3 });

    // Someone with the database file can drop the trigger; the chain still gives them away.
    store.db.exec('DROP TRIGGER audit_log_no_update');
    store.db.prepare(`UPDATE audit_log SET detail = '{"reason":"none"}' WHERE seq = 2`).run();
    expect(store.audit.verify()).toEqual({ ok: false, rows: 2, broken: { seq: 2, reason: 'row content does not match its hash' } });
  });
});
