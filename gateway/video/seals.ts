// Seals (evidence): cameras x span exempt from deletion, extended or released with an audit trail, exported with a manifest.
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { ExportView, SealExtend, SealRelease, SealRequest, SealView } from '../http/video-contracts.js';
import type { Store } from '../store/db.js';
import type { SealRow } from '../store/video.js';
import { cutClip } from './clips.js';
import type { Viewer } from './grants.js';
import { inside } from './layout.js';

export interface SealDeps {
  store: Store;
  clock: Clock;
  ffmpeg: string;
  recordingsDir: string;
  siteId: string;
  cameras: () => readonly string[];
}

export class Seals {
  constructor(private readonly deps: SealDeps) {}

  create(body: SealRequest, who: Viewer): SealView {
    const { store, clock } = this.deps;
    const now = clock.now();
    const unknown = body.cameras.find((c) => !this.deps.cameras().includes(c));
    if (unknown) throw new GuardpostError(ErrorCode.BadRequest, `no camera ${unknown}`, { field: 'cameras', problem: 'unknown-camera' });
    if (body.end <= body.start) throw new GuardpostError(ErrorCode.BadRequest, 'the end must be after the start', { field: 'end', problem: 'end-before-start' });
    if (body.expiresAt !== null && body.expiresAt <= now) throw new GuardpostError(ErrorCode.BadRequest, 'the expiry must be in the future', { field: 'expiresAt', problem: 'expiry-past' });
    const row: SealRow = {
      id: newId(),
      title: body.title,
      reason: body.reason,
      start_ms: body.start,
      end_ms: body.end,
      expires_at: body.expiresAt,
      created_by: who.id,
      created_at: now,
      released_by: null,
      released_at: null,
      release_reason: null,
    };
    store.transaction(() => {
      store.video.addSeal(row, body.cameras);
      store.audit.append({ actor: who.id, action: 'video.seal', target: row.id, detail: { title: body.title, reason: body.reason, cameras: body.cameras, start: body.start, end: body.end, expiresAt: body.expiresAt } });
      store.outbox.add('video_seals', row.id, this.view(row), now);
    });
    return this.view(row);
  }

  extend(id: string, body: SealExtend, who: Viewer): SealView {
    const { store, clock } = this.deps;
    const now = clock.now();
    return store.transaction(() => {
      const row = this.active(id);
      if (body.expiresAt !== null && row.expires_at !== null && body.expiresAt <= row.expires_at) {
        throw new GuardpostError(ErrorCode.BadRequest, 'an extension must move the expiry later (release the seal to end it)', { field: 'expiresAt', problem: 'not-later' });
      }
      store.video.setSealExpiry(id, body.expiresAt);
      store.audit.append({ actor: who.id, action: 'video.seal.extend', target: id, detail: { from: row.expires_at, to: body.expiresAt, reason: body.reason } });
      const view = this.view(store.video.seal(id)!);
      store.outbox.add('video_seals', id, view, now);
      return view;
    });
  }

  release(id: string, body: SealRelease, who: Viewer): SealView {
    const { store, clock } = this.deps;
    const now = clock.now();
    return store.transaction(() => {
      this.active(id);
      store.video.releaseSeal(id, who.id, now, body.reason);
      store.audit.append({ actor: who.id, action: 'video.seal.release', target: id, detail: { reason: body.reason } });
      const view = this.view(store.video.seal(id)!);
      store.outbox.add('video_seals', id, view, now);
      return view;
    });
  }

  list(): SealView[] {
    return this.deps.store.video.seals().map((r) => this.view(r));
  }

  get(id: string): SealView {
    const row = this.deps.store.video.seal(id);
    if (!row) throw new GuardpostError(ErrorCode.NotFound, `no seal ${id}`);
    return this.view(row);
  }

  /**
   * The sealed footage as one clip per camera plus manifest.json: each file's SHA-256, the seal, its
   * audit trail and who exported it. The export itself is audited and its manifest hash recorded.
   */
  async export(id: string, who: Viewer): Promise<ExportView> {
    const { store, clock, ffmpeg, recordingsDir } = this.deps;
    const seal = this.get(id);
    const exportId = newId();
    const dir = this.exportDir(exportId);
    mkdirSync(dir, { recursive: true });
    const files: ExportView['files'] = [];
    const clips: { name: string; camera: string; start: number; end: number; gaps: { start: number; end: number }[] }[] = [];
    for (const camera of seal.cameras) {
      const segments = store.video.segments(camera, seal.start, seal.end);
      if (segments.length === 0) continue;
      const name = `${camera}.mp4`;
      const clip = await cutClip({ ffmpeg, recordingsDir, segments, start: seal.start, end: seal.end, out: join(dir, name) });
      files.push({ name, bytes: clip.bytes, sha256: await sha256File(join(dir, name)) });
      clips.push({ name, camera, start: clip.start, end: clip.end, gaps: clip.gaps });
    }
    if (files.length === 0) throw new GuardpostError(ErrorCode.NotFound, 'the seal covers no recorded footage', { problem: 'no-footage' });
    const createdAt = clock.now();
    const manifest = {
      format: 'guardpost-evidence-export/1',
      site: this.deps.siteId,
      export: { id: exportId, by: who.id, byName: who.name, at: new Date(createdAt).toISOString() },
      seal: { ...seal, start: new Date(seal.start).toISOString(), end: new Date(seal.end).toISOString() },
      files: files.map((f) => ({ ...f, ...clips.find((c) => c.name === f.name)! })),
      audit: store.audit.forTarget(id).map((e) => ({ seq: e.seq, at: new Date(e.at).toISOString(), actor: e.actor, action: e.action, detail: JSON.parse(e.detail) as unknown, hash: e.hash })),
    };
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    writeFileSync(join(dir, 'manifest.json'), manifestText);
    files.push({ name: 'manifest.json', bytes: Buffer.byteLength(manifestText), sha256: createHash('sha256').update(manifestText).digest('hex') });
    store.transaction(() => {
      store.video.addExport({ id: exportId, seal_id: id, created_by: who.id, created_at: createdAt, files: JSON.stringify(files) });
      store.audit.append({ actor: who.id, action: 'video.seal.export', target: id, detail: { export: exportId, files: files.map((f) => ({ name: f.name, sha256: f.sha256 })) } });
    });
    return { id: exportId, sealId: id, createdBy: who.id, createdAt, files };
  }

  exportView(exportId: string): ExportView {
    const row = this.deps.store.video.export(exportId);
    if (!row) throw new GuardpostError(ErrorCode.NotFound, `no export ${exportId}`);
    return { id: row.id, sealId: row.seal_id, createdBy: row.created_by, createdAt: row.created_at, files: JSON.parse(row.files) as ExportView['files'] };
  }

  /** The absolute path of one exported file, refusing names that are not in the export. */
  exportFile(exportId: string, name: string): string {
    const view = this.exportView(exportId);
    if (!view.files.some((f) => f.name === name)) throw new GuardpostError(ErrorCode.NotFound, `no file ${name} in export ${exportId}`);
    const path = inside(this.exportDir(exportId), name);
    statSync(path);
    return path;
  }

  private exportDir(exportId: string): string {
    return inside(this.deps.recordingsDir, join('.exports', exportId));
  }

  private active(id: string): SealRow {
    const row = this.deps.store.video.seal(id);
    if (!row) throw new GuardpostError(ErrorCode.NotFound, `no seal ${id}`);
    if (row.released_at !== null) throw new GuardpostError(ErrorCode.Conflict, 'this seal was released', { problem: 'seal-released' });
    return row;
  }

  private view(row: SealRow): SealView {
    const now = this.deps.clock.now();
    return {
      id: row.id,
      title: row.title,
      reason: row.reason,
      cameras: this.deps.store.video.sealCameras(row.id),
      start: row.start_ms,
      end: row.end_ms,
      expiresAt: row.expires_at,
      createdBy: row.created_by,
      createdAt: row.created_at,
      status: row.released_at !== null ? 'released' : row.expires_at !== null && row.expires_at <= now ? 'expired' : 'active',
      releasedBy: row.released_by,
      releasedAt: row.released_at,
      bytes: this.deps.store.video.sealBytes(row.id),
    };
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
