// Retention: the age sweep and the disk-floor rule as separate timed jobs; sealed footage is never deleted by either.
import { statfsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Alarms } from '../alarms.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Store } from '../store/db.js';
import type { RetentionRow, SegmentRow } from '../store/video.js';

const dayMs = 86_400_000;
// Small batches: each is one short transaction, and the loop yields between them so gate decisions interleave.
const batchSize = 500;
// A shorter retention that would delete more than this waits a day first, so a typo can be undone.
export const retentionWarningMs = dayMs;

export interface DiskSpace {
  totalBytes: number;
  freeBytes: number;
}

/**
 * Space for footage: the disk's, or within `video.max_gb` when footage shares the disk with other
 * data (then what footage already uses counts against that allowance).
 */
export function footageSpace(dir: string, maxBytes: number | null, usedBytes: () => number): DiskSpace {
  const fs = statfsSync(dir);
  const disk = { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
  if (maxBytes === null) return disk;
  return { totalBytes: Math.min(disk.totalBytes, maxBytes), freeBytes: Math.max(0, Math.min(disk.freeBytes, maxBytes - usedBytes())) };
}

export interface RetentionDeps {
  store: Store;
  recordingsDir: string;
  clock: Clock;
  log: Logger;
  alarms: Alarms;
  configuredDays: number;
  floorBytes: number;
  sweepEveryMs: number;
  /** Stop and restart recording of cameras (when only sealed footage is left below the floor). */
  recorders: { halt(camera: string, reason: string): Promise<void>; resumeAll(): void; cameras(): string[] };
  /** Space left for footage (see footageSpace). */
  space: () => DiskSpace;
}

export interface SweepResult {
  deleted: number;
  bytes: number;
}

export class Retention {
  private ageTimer: Timer | null = null;
  private diskTimer: Timer | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  constructor(private readonly deps: RetentionDeps) {}

  start(): void {
    this.applyConfiguredDays();
    // Two jobs on their own timers (as Frigate does): age deletion is routine, disk pressure is urgent.
    this.ageTimer = this.deps.clock.setInterval(() => void this.serial(() => this.sweepAge()), this.deps.sweepEveryMs);
    this.diskTimer = this.deps.clock.setInterval(() => void this.serial(() => this.enforceFloor()), Math.min(30_000, this.deps.sweepEveryMs));
    void this.serial(() => this.enforceFloor());
  }

  async stop(): Promise<void> {
    this.ageTimer?.cancel();
    this.diskTimer?.cancel();
    await this.busy;
  }

  /** The retention in force (a pending shorter one applies once its warning period is over). */
  days(): number {
    return this.current().days;
  }

  pending(): { days: number; effectiveAt: number; deletesBytes: number } | null {
    const row = this.current();
    if (row.pending_days === null || row.pending_from === null) return null;
    const now = this.deps.clock.now();
    return { days: row.pending_days, effectiveAt: row.pending_from + retentionWarningMs, deletesBytes: this.deps.store.video.unsealedBytesBefore(now - row.pending_days * dayMs, now) };
  }

  /** Run one job at a time: the age sweep and the floor rule never delete the same files concurrently. */
  serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.busy.then(job, job);
    this.busy = run.catch((err: unknown) => this.deps.log.error({ err }, 'retention job failed'));
    return run;
  }

  /** Delete unsealed footage (and snapshots, gaps) older than the retention in force. */
  async sweepAge(): Promise<SweepResult> {
    const now = this.deps.clock.now();
    const row = this.promotePending(now);
    const cutoff = now - row.days * dayMs;
    const result = await this.deleteWhile(() => this.deps.store.video.agedUnsealed(cutoff, now, batchSize));
    for (;;) {
      const snaps = this.deps.store.video.agedSnapshots(cutoff, now, batchSize);
      if (snaps.length === 0) break;
      await Promise.all(snaps.map((s) => removeFile(join(this.deps.recordingsDir, s.path))));
      this.deps.store.transaction(() => this.deps.store.video.deleteSnapshots(snaps));
      await yieldToLoop();
    }
    this.deps.store.video.deleteGapsBefore(cutoff);
    if (result.deleted > 0) this.deps.log.info({ deleted: result.deleted, bytes: result.bytes, days: row.days }, 'retention: aged footage deleted');
    return result;
  }

  /** Below the free-space floor: delete the oldest unsealed footage; if only sealed is left, stop recording. */
  async enforceFloor(): Promise<SweepResult> {
    const { floorBytes, alarms, store, clock } = this.deps;
    const before = this.deps.space();
    if (before.freeBytes >= floorBytes) {
      alarms.clear('video.disk-floor', 'recordings', 'free space is above the floor again');
      this.deps.recorders.resumeAll();
      return { deleted: 0, bytes: 0 };
    }
    alarms.raise('video.disk-floor', 'recordings', 'recordings disk below its free-space floor: oldest footage is being deleted', {
      freeBytes: before.freeBytes,
      floorBytes,
    });
    const now = clock.now();
    const result = await this.deleteWhile(() => {
      // Just enough of the oldest to reach the floor: footage is deleted no earlier than it must be.
      let deficit = floorBytes - this.deps.space().freeBytes;
      if (deficit <= 0) return [];
      return store.video.oldestUnsealed(now, batchSize).filter((s) => (deficit -= s.bytes) + s.bytes > 0);
    });
    this.deps.log.warn({ deleted: result.deleted, bytes: result.bytes, freeBytes: this.deps.space().freeBytes, floorBytes }, 'retention: disk floor enforced');
    if (this.deps.space().freeBytes < floorBytes) {
      // Nothing unsealed is left to delete: evidence wins over new footage.
      for (const camera of this.deps.recorders.cameras()) {
        if (store.video.hasUnsealed(camera, now)) continue;
        await this.deps.recorders.halt(camera, 'disk full: only sealed footage is left');
        alarms.raise('video.recording-stopped', camera, 'recording stopped: the disk holds only sealed footage', { camera, freeBytes: this.deps.space().freeBytes });
      }
    }
    return result;
  }

  private async deleteWhile(next: () => SegmentRow[]): Promise<SweepResult> {
    const result: SweepResult = { deleted: 0, bytes: 0 };
    for (;;) {
      const batch = next();
      if (batch.length === 0) return result;
      // Files first: a crash in between leaves index rows for missing files, which the next run removes.
      await Promise.all(batch.map((s) => removeFile(join(this.deps.recordingsDir, s.path))));
      this.deps.store.transaction(() => this.deps.store.video.deleteSegments(batch));
      result.deleted += batch.length;
      result.bytes += batch.reduce((sum, s) => sum + s.bytes, 0);
      await yieldToLoop();
    }
  }

  private current(): RetentionRow {
    return this.deps.store.video.retention() ?? { days: this.deps.configuredDays, pending_days: null, pending_from: null };
  }

  /**
   * Config says how many days; a longer retention applies at once, a shorter one that would delete
   * more than a day of footage waits 24 h behind an alarm.
   */
  private applyConfiguredDays(): void {
    const { store, clock, configuredDays, alarms } = this.deps;
    const now = clock.now();
    const row = store.video.retention();
    if (!row || configuredDays >= row.days) {
      store.video.setRetention({ days: configuredDays, pending_days: null, pending_from: null });
      alarms.clear('video.retention-pending', 'recordings', 'retention change withdrawn or applied');
      return;
    }
    const oldest = store.video.oldestUnsealed(now, 1)[0];
    const deletesMoreThanADay = oldest !== undefined && oldest.start_ms < now - configuredDays * dayMs - dayMs;
    if (!deletesMoreThanADay) {
      store.video.setRetention({ days: configuredDays, pending_days: null, pending_from: null });
      return;
    }
    const pendingFrom = row.pending_days === configuredDays && row.pending_from !== null ? row.pending_from : now;
    store.video.setRetention({ days: row.days, pending_days: configuredDays, pending_from: pendingFrom });
    const deletesBytes = store.video.unsealedBytesBefore(now - configuredDays * dayMs, now);
    alarms.raise('video.retention-pending', 'recordings', `retention shortened to ${configuredDays} days: footage older than that will be deleted in 24 h`, {
      fromDays: row.days,
      toDays: configuredDays,
      effectiveAt: pendingFrom + retentionWarningMs,
      deletesBytes,
    });
    this.deps.log.warn({ fromDays: row.days, toDays: configuredDays, effectiveAt: new Date(pendingFrom + retentionWarningMs).toISOString(), deletesBytes }, 'retention change waits 24 h');
  }

  private promotePending(now: number): RetentionRow {
    const row = this.current();
    if (row.pending_days === null || row.pending_from === null || now < row.pending_from + retentionWarningMs) return row;
    const applied = { days: row.pending_days, pending_days: null, pending_from: null };
    this.deps.store.video.setRetention(applied);
    this.deps.alarms.clear('video.retention-pending', 'recordings', `retention of ${applied.days} days now in force`);
    this.deps.store.audit.append({ actor: 'system', action: 'video.retention.apply', detail: { fromDays: row.days, toDays: applied.days } });
    return applied;
  }
}

async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
