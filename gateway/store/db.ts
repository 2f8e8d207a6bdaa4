// Opens the gateway's SQLite store with the durability pragmas and builds its repositories.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { migrationsDir } from '../core/paths.js';
import { migrate, readMigrations, type MigrateResult } from './migrate.js';
import { Outbox } from './outbox.js';
import { AuditLog } from './audit.js';
import { DeviceEventRepo } from './device-events.js';
import { AlarmRepo } from './alarms.js';
import { DecisionRepo } from './decisions.js';
import { IdempotencyRepo } from './idempotency.js';
import { PassRepo } from './passes.js';
import { ResidentRepo } from './residents.js';
import { ShiftRepo } from './shifts.js';
import { VisitorRepo } from './visitors.js';
import { WatchlistRepo } from './watchlist.js';
import { PatrolRepo } from './patrol.js';
import { VideoRepo } from './video.js';

export const databaseFileName = 'guardpost.db';

export interface Store {
  readonly db: Database.Database;
  readonly path: string;
  readonly migration: MigrateResult;
  readonly outbox: Outbox;
  readonly audit: AuditLog;
  readonly deviceEvents: DeviceEventRepo;
  readonly residents: ResidentRepo;
  readonly watchlist: WatchlistRepo;
  readonly visitors: VisitorRepo;
  readonly passes: PassRepo;
  readonly decisions: DecisionRepo;
  readonly alarms: AlarmRepo;
  readonly shifts: ShiftRepo;
  readonly idempotency: IdempotencyRepo;
  readonly patrol: PatrolRepo;
  readonly video: VideoRepo;
  /** Run `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  /** Database plus write-ahead log, in bytes. */
  sizeBytes(): number;
  close(): void;
}

export interface OpenStoreOptions {
  dataDir: string;
  now: () => number;
  /**
   * `gateway` (default): every commit on disk before it returns (synchronous=FULL). With
   * `checkpointsElsewhere`, this connection never checkpoints the WAL itself: the sync worker's does,
   * so a decision's commit never pays for copying a drain's pages into the database file.
   * `sync`: the sync worker's connection. Its own writes (marks that HQ has a record, master data that
   * HQ will send again) may be lost to a power cut without harm, so its commits skip the fsync
   * (synchronous=NORMAL) and hold the write lock the gate needs for less time; it checkpoints.
   */
  role?: 'gateway' | 'sync';
  checkpointsElsewhere?: boolean;
}

/** Make sure the data directory exists and is writable, with one clear error if not. */
export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK | constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new GuardpostError(ErrorCode.DataDirUnusable, `data directory ${dataDir} is not usable (${code}): create it and give the guardpost user write access`);
  }
}

export function openStore(opts: OpenStoreOptions): Store {
  prepareDataDir(opts.dataDir);
  const path = join(opts.dataDir, databaseFileName);
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before it returns, so an acknowledged record survives a power cut.
    db.pragma(opts.role === 'sync' ? 'synchronous = NORMAL' : 'synchronous = FULL');
    if (opts.checkpointsElsewhere) db.pragma('wal_autocheckpoint = 0');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    throw storeOpenError(path, err);
  }
  let migration: MigrateResult;
  try {
    migration = migrate(db, readMigrations(migrationsDir), opts.now);
  } catch (err) {
    db.close();
    if (err instanceof GuardpostError) throw err;
    throw storeOpenError(path, err);
  }
  const outbox = new Outbox(db);
  const audit = new AuditLog(db, outbox, opts.now);
  const deviceEvents = new DeviceEventRepo(db, outbox, opts.now);
  return {
    db,
    path,
    migration,
    outbox,
    audit,
    deviceEvents,
    residents: new ResidentRepo(db),
    watchlist: new WatchlistRepo(db),
    visitors: new VisitorRepo(db),
    passes: new PassRepo(db),
    decisions: new DecisionRepo(db),
    alarms: new AlarmRepo(db),
    shifts: new ShiftRepo(db),
    idempotency: new IdempotencyRepo(db),
    patrol: new PatrolRepo(db),
    video: new VideoRepo(db),
    // IMMEDIATE: the sync worker writes through its own connection, and a deferred transaction that
    // read first and then wants to write fails at once (SQLITE_BUSY) instead of waiting its turn.
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    sizeBytes() {
      return [path, `${path}-wal`].reduce((sum, f) => {
        try {
          return sum + statSync(f).size;
        } catch {
          return sum;
        }
      }, 0);
    },
    close() {
      if (!db.open) return;
      // Fold the WAL back so the file on disk is complete without its side files.
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
    },
  };
}

function storeOpenError(path: string, err: unknown): GuardpostError {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL') return new GuardpostError(ErrorCode.DataDirUnusable, `disk full: cannot write the database ${path}; free space on that disk`);
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code.startsWith('SQLITE_IOERR')) {
    return new GuardpostError(ErrorCode.DataDirUnusable, `cannot open the database ${path} for writing (${code})`);
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new GuardpostError(ErrorCode.DataDirUnusable, `${path} is not a guardpost database or is damaged (${code}); restore it from a backup`);
  }
  return new GuardpostError(ErrorCode.DataDirUnusable, `cannot open the database ${path}: ${(err as Error).message}`);
}
