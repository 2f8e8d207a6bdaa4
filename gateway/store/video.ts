// Repository for video: the segment index, outages, seals, review grants, exports, snapshots and the retention in force.
import type Database from 'better-sqlite3';

export interface SegmentRow {
  id: number;
  camera: string;
  start_ms: number;
  end_ms: number;
  path: string;
  bytes: number;
  codec: string | null;
  width: number | null;
  height: number | null;
}

export type NewSegment = Omit<SegmentRow, 'id'>;

export interface GapRow {
  camera: string;
  start_ms: number;
  end_ms: number;
  reason: string;
}

export interface SealRow {
  id: string;
  title: string;
  reason: string;
  start_ms: number;
  end_ms: number;
  expires_at: number | null;
  created_by: string;
  created_at: number;
  released_by: string | null;
  released_at: number | null;
  release_reason: string | null;
}

export interface GrantRow {
  id: string;
  cameras: string;
  start_ms: number;
  end_ms: number;
  reason: string;
  minutes: number;
  status: 'pending' | 'approved' | 'denied' | 'revoked';
  requested_by: string;
  requested_at: number;
  decided_by: string | null;
  decided_at: number | null;
  note: string | null;
  valid_until: number | null;
  self_granted: number;
}

export interface ExportRow {
  id: string;
  seal_id: string;
  created_by: string;
  created_at: number;
  files: string;
}

export interface SnapshotRow {
  id: string;
  camera: string;
  at: number;
  subject_kind: 'decision' | 'incident' | 'manual';
  subject_id: string;
  path: string;
  bytes: number;
}

export interface RetentionRow {
  days: number;
  pending_days: number | null;
  pending_from: number | null;
}

// A segment is held while any seal that is neither released nor expired covers its camera and time.
const unsealed = `NOT EXISTS (
  SELECT 1 FROM video_seal_cameras c JOIN video_seals x ON x.id = c.seal_id
  WHERE c.camera = s.camera AND x.start_ms < s.end_ms AND x.end_ms > s.start_ms
    AND x.released_at IS NULL AND (x.expires_at IS NULL OR x.expires_at > @now))`;

export class VideoRepo {
  private readonly insertSegment: Database.Statement;
  private readonly deleteSegment: Database.Statement;
  private used: number | null = null;

  constructor(private readonly db: Database.Database) {
    this.insertSegment = db.prepare(
      'INSERT INTO video_segments (camera, start_ms, end_ms, path, bytes, codec, width, height) VALUES (@camera, @start_ms, @end_ms, @path, @bytes, @codec, @width, @height)',
    );
    this.deleteSegment = db.prepare('DELETE FROM video_segments WHERE id = ?');
  }

  // ---- segments ----

  addSegment(seg: NewSegment): number {
    const id = Number(this.insertSegment.run(seg).lastInsertRowid);
    if (this.used !== null) this.used += seg.bytes;
    return id;
  }

  lastSegment(camera: string): SegmentRow | undefined {
    return this.db.prepare('SELECT * FROM video_segments WHERE camera = ? ORDER BY start_ms DESC LIMIT 1').get(camera) as SegmentRow | undefined;
  }

  /** Segments of a camera overlapping [from, to), in time order. */
  segments(camera: string, from: number, to: number): SegmentRow[] {
    // start_ms > from - 1 day bounds the index range scan: no segment is longer than a day.
    return this.db
      .prepare('SELECT * FROM video_segments WHERE camera = ? AND start_ms < ? AND start_ms > ? AND end_ms > ? ORDER BY start_ms')
      .all(camera, to, from - 86_400_000, from) as SegmentRow[];
  }

  /** The oldest unsealed segments started before `before` (all cameras), for the age sweep. */
  agedUnsealed(before: number, now: number, limit: number): SegmentRow[] {
    return this.db
      .prepare(`SELECT s.* FROM video_segments s WHERE s.start_ms < @before AND ${unsealed} ORDER BY s.start_ms LIMIT @limit`)
      .all({ before, now, limit }) as SegmentRow[];
  }

  /** The oldest unsealed segments, whatever their age, for the disk-floor rule. */
  oldestUnsealed(now: number, limit: number): SegmentRow[] {
    return this.db.prepare(`SELECT s.* FROM video_segments s WHERE ${unsealed} ORDER BY s.start_ms LIMIT @limit`).all({ now, limit }) as SegmentRow[];
  }

  /** Bytes of unsealed footage that started before `before`: what a retention change would delete. */
  unsealedBytesBefore(before: number, now: number): number {
    const row = this.db.prepare(`SELECT COALESCE(SUM(s.bytes), 0) AS b FROM video_segments s WHERE s.start_ms < @before AND ${unsealed}`).get({ before, now }) as { b: number };
    return row.b;
  }

  deleteSegments(rows: readonly SegmentRow[]): void {
    for (const row of rows) this.deleteSegment.run(row.id);
    if (this.used !== null) this.used -= rows.reduce((sum, r) => sum + r.bytes, 0);
  }

  /** Bytes and seconds recorded per camera since `since`: the measured bitrate. */
  usageSince(since: number): { camera: string; bytes: number; seconds: number; first: number }[] {
    return this.db
      .prepare('SELECT camera, SUM(bytes) AS bytes, SUM(end_ms - start_ms) / 1000.0 AS seconds, MIN(start_ms) AS first FROM video_segments WHERE start_ms >= ? GROUP BY camera')
      .all(since) as { camera: string; bytes: number; seconds: number; first: number }[];
  }

  /** All footage per camera: total bytes and the oldest segment. */
  usage(): { camera: string; bytes: number; first: number }[] {
    return this.db.prepare('SELECT camera, SUM(bytes) AS bytes, MIN(start_ms) AS first FROM video_segments GROUP BY camera').all() as { camera: string; bytes: number; first: number }[];
  }

  /** Everything footage occupies: segments and event snapshots (summed once, then kept up to date). */
  usedBytes(): number {
    this.used ??= (
      this.db.prepare('SELECT (SELECT COALESCE(SUM(bytes), 0) FROM video_segments) + (SELECT COALESCE(SUM(bytes), 0) FROM video_snapshots) AS b').get() as { b: number }
    ).b;
    return this.used;
  }

  // ---- gaps ----

  addGap(gap: GapRow): void {
    this.db.prepare('INSERT INTO video_gaps (camera, start_ms, end_ms, reason) VALUES (@camera, @start_ms, @end_ms, @reason)').run(gap);
  }

  gaps(camera: string, from: number, to: number): GapRow[] {
    return this.db
      .prepare('SELECT camera, start_ms, end_ms, reason FROM video_gaps WHERE camera = ? AND start_ms < ? AND end_ms > ? ORDER BY start_ms')
      .all(camera, to, from) as GapRow[];
  }

  deleteGapsBefore(before: number): void {
    this.db.prepare('DELETE FROM video_gaps WHERE end_ms < ?').run(before);
  }

  // ---- seals ----

  addSeal(row: SealRow, cameras: readonly string[]): void {
    this.db
      .prepare(
        `INSERT INTO video_seals (id, title, reason, start_ms, end_ms, expires_at, created_by, created_at)
         VALUES (@id, @title, @reason, @start_ms, @end_ms, @expires_at, @created_by, @created_at)`,
      )
      .run(row);
    const add = this.db.prepare('INSERT INTO video_seal_cameras (seal_id, camera) VALUES (?, ?)');
    for (const camera of cameras) add.run(row.id, camera);
  }

  seal(id: string): SealRow | undefined {
    return this.db.prepare('SELECT * FROM video_seals WHERE id = ?').get(id) as SealRow | undefined;
  }

  sealCameras(id: string): string[] {
    return (this.db.prepare('SELECT camera FROM video_seal_cameras WHERE seal_id = ? ORDER BY camera').all(id) as { camera: string }[]).map((r) => r.camera);
  }

  seals(): SealRow[] {
    return this.db.prepare('SELECT * FROM video_seals ORDER BY created_at DESC').all() as SealRow[];
  }

  /** Seals in force (not released, not expired) covering a camera within [from, to). */
  activeSeals(camera: string, from: number, to: number, now: number): SealRow[] {
    return this.db
      .prepare(
        `SELECT x.* FROM video_seals x JOIN video_seal_cameras c ON c.seal_id = x.id
         WHERE c.camera = ? AND x.start_ms < ? AND x.end_ms > ? AND x.released_at IS NULL AND (x.expires_at IS NULL OR x.expires_at > ?)
         ORDER BY x.start_ms`,
      )
      .all(camera, to, from, now) as SealRow[];
  }

  /** Bytes of footage a seal covers. */
  sealBytes(id: string): number {
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(s.bytes), 0) AS b FROM video_segments s JOIN video_seal_cameras c ON c.camera = s.camera JOIN video_seals x ON x.id = c.seal_id
         WHERE x.id = ? AND s.start_ms < x.end_ms AND s.end_ms > x.start_ms`,
      )
      .get(id) as { b: number };
    return row.b;
  }

  /** Is every remaining segment of this camera sealed? (Then the disk floor cannot be met by deleting its footage.) */
  hasUnsealed(camera: string, now: number): boolean {
    return this.db.prepare(`SELECT 1 FROM video_segments s WHERE s.camera = @camera AND ${unsealed} LIMIT 1`).get({ camera, now }) !== undefined;
  }

  setSealExpiry(id: string, expiresAt: number | null): void {
    this.db.prepare('UPDATE video_seals SET expires_at = ? WHERE id = ?').run(expiresAt, id);
  }

  releaseSeal(id: string, by: string, at: number, reason: string): boolean {
    return this.db.prepare('UPDATE video_seals SET released_by = ?, released_at = ?, release_reason = ? WHERE id = ? AND released_at IS NULL').run(by, at, reason, id).changes > 0;
  }

  // ---- grants ----

  addGrant(row: GrantRow): void {
    this.db
      .prepare(
        `INSERT INTO video_grants (id, cameras, start_ms, end_ms, reason, minutes, status, requested_by, requested_at, decided_by, decided_at, note, valid_until, self_granted)
         VALUES (@id, @cameras, @start_ms, @end_ms, @reason, @minutes, @status, @requested_by, @requested_at, @decided_by, @decided_at, @note, @valid_until, @self_granted)`,
      )
      .run(row);
  }

  grant(id: string): GrantRow | undefined {
    return this.db.prepare('SELECT * FROM video_grants WHERE id = ?').get(id) as GrantRow | undefined;
  }

  grants(filter: { status?: GrantRow['status']; requestedBy?: string; limit: number }): GrantRow[] {
    return this.db
      .prepare(
        `SELECT * FROM video_grants WHERE (@status IS NULL OR status = @status) AND (@by IS NULL OR requested_by = @by)
         ORDER BY requested_at DESC LIMIT @limit`,
      )
      .all({ status: filter.status ?? null, by: filter.requestedBy ?? null, limit: filter.limit }) as GrantRow[];
  }

  decideGrant(id: string, change: Pick<GrantRow, 'status' | 'decided_by' | 'decided_at' | 'note' | 'valid_until'>, from: GrantRow['status']): boolean {
    return (
      this.db
        .prepare('UPDATE video_grants SET status = @status, decided_by = @decided_by, decided_at = @decided_at, note = @note, valid_until = @valid_until WHERE id = @id AND status = @from')
        .run({ ...change, id, from }).changes > 0
    );
  }

  // ---- exports ----

  addExport(row: ExportRow): void {
    this.db.prepare('INSERT INTO video_exports (id, seal_id, created_by, created_at, files) VALUES (@id, @seal_id, @created_by, @created_at, @files)').run(row);
  }

  export(id: string): ExportRow | undefined {
    return this.db.prepare('SELECT * FROM video_exports WHERE id = ?').get(id) as ExportRow | undefined;
  }

  // ---- snapshots ----

  addSnapshot(row: SnapshotRow): void {
    this.db
      .prepare('INSERT INTO video_snapshots (id, camera, at, subject_kind, subject_id, path, bytes) VALUES (@id, @camera, @at, @subject_kind, @subject_id, @path, @bytes)')
      .run(row);
    if (this.used !== null) this.used += row.bytes;
  }

  snapshot(id: string): SnapshotRow | undefined {
    return this.db.prepare('SELECT * FROM video_snapshots WHERE id = ?').get(id) as SnapshotRow | undefined;
  }

  snapshotsFor(subjectId: string): SnapshotRow[] {
    return this.db.prepare('SELECT * FROM video_snapshots WHERE subject_id = ? ORDER BY at').all(subjectId) as SnapshotRow[];
  }

  /** Snapshots older than `before` whose camera and time no seal holds. */
  agedSnapshots(before: number, now: number, limit: number): SnapshotRow[] {
    return this.db
      .prepare(
        `SELECT s.* FROM video_snapshots s WHERE s.at < @before AND NOT EXISTS (
           SELECT 1 FROM video_seal_cameras c JOIN video_seals x ON x.id = c.seal_id
           WHERE c.camera = s.camera AND x.start_ms <= s.at AND x.end_ms > s.at
             AND x.released_at IS NULL AND (x.expires_at IS NULL OR x.expires_at > @now))
         ORDER BY s.at LIMIT @limit`,
      )
      .all({ before, now, limit }) as SnapshotRow[];
  }

  deleteSnapshots(rows: readonly SnapshotRow[]): void {
    const del = this.db.prepare('DELETE FROM video_snapshots WHERE id = ?');
    for (const row of rows) del.run(row.id);
    if (this.used !== null) this.used -= rows.reduce((sum, r) => sum + r.bytes, 0);
  }

  // ---- retention ----

  retention(): RetentionRow | undefined {
    return this.db.prepare('SELECT days, pending_days, pending_from FROM video_retention WHERE id = 1').get() as RetentionRow | undefined;
  }

  setRetention(row: RetentionRow): void {
    this.db
      .prepare(
        `INSERT INTO video_retention (id, days, pending_days, pending_from) VALUES (1, @days, @pending_days, @pending_from)
         ON CONFLICT (id) DO UPDATE SET days = excluded.days, pending_days = excluded.pending_days, pending_from = excluded.pending_from`,
      )
      .run(row);
  }
}
