// The video component: cameras and their recorders, retention, seals, review grants, playback and event-linked snapshots.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { GuardpostConfig, VideoCameraConfig } from '../../config/schema.js';
import type { CameraMedia, CameraStream } from '../../drivers/contract.js';
import type { DeviceRegistry } from '../../drivers/registry.js';
import type { Alarms } from '../alarms.js';
import type { EventBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import { ErrorCode, GuardpostError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { scrubUrlCredentials } from '../core/mask.js';
import type { AlarmView, DecisionView } from '../http/gate-contracts.js';
import type { CameraView, PlaybackRequest, PlaybackView, PtzPreset, PtzRequest, SnapshotView, StorageView, Timeline } from '../http/video-contracts.js';
import type { Store } from '../store/db.js';
import type { SnapshotRow } from '../store/video.js';
import { cutClip } from './clips.js';
import { Grants, type Viewer } from './grants.js';
import { inside } from './layout.js';
import { LiveHub, type LiveViewer } from './live/hub.js';
import { Mpeg1Hub, type Mpeg1Viewer } from './live/mpeg1.js';
import { planStorage } from './planning.js';
import { CameraRecorder, type RecorderStatus } from './recorder.js';
import { footageSpace, Retention } from './retention.js';
import { Seals } from './seals.js';

export interface VideoDeps {
  config: GuardpostConfig;
  store: Store;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  alarms: Alarms;
  devices: DeviceRegistry;
}

interface CameraSlot {
  id: string;
  name: string;
  config: VideoCameraConfig;
  media: CameraMedia | null;
  recorder: CameraRecorder | null;
}

interface Clip {
  path: string;
  viewerId: string;
  grantId: string;
  createdAt: number;
}

const dayMs = 86_400_000;
// A played clip is a throw-away cut; it is kept a little while so seeking and replays don't cut it again.
const clipKeepMs = 2 * 3600_000;
const maxClipMs = 60 * 60_000;
// Snapshots decode a frame: at most this many at once, so a burst of gate events cannot starve the box.
const snapshotConcurrency = 2;

export class Video {
  readonly recordingsDir: string;
  readonly grants: Grants;
  readonly seals: Seals;
  readonly retention: Retention;
  private readonly live: LiveHub;
  private readonly mpeg1: Mpeg1Hub;
  private readonly cams = new Map<string, CameraSlot>();
  private readonly clips = new Map<string, Clip>();
  private readonly snapped = new Set<string>();
  private readonly liveSnapshots = new Map<string, { at: number; image: Promise<Buffer> }>();
  private snapshotsRunning = 0;
  private readonly snapshotQueue: (() => void)[] = [];
  private offs: (() => void)[] = [];
  private indexQueue: (() => void)[] = [];
  private clipTimer: Timer | null = null;

  constructor(private readonly deps: VideoDeps) {
    const { config, store, clock, log, alarms } = deps;
    const video = config.video;
    this.recordingsDir = resolve(config.data_dir, video.recordings_dir);
    for (const device of deps.devices.list().filter((d) => d.kind === 'camera')) {
      this.cams.set(device.id, { id: device.id, name: device.name, config: video.cameras[device.id] ?? { record: true, record_stream: 'main', links: [] }, media: null, recorder: null });
    }
    const cameras = () => [...this.cams.keys()];
    this.live = new LiveHub({ ffmpeg: video.ffmpeg, clock, log: log.child({ job: 'live' }) });
    this.mpeg1 = new Mpeg1Hub({ ffmpeg: video.ffmpeg, clock, log: log.child({ job: 'live-mpeg1' }) });
    this.grants = new Grants({ store, bus: deps.bus, clock, cameras, nameOf: (id) => config.people.find((p) => p.id === id)?.name ?? id });
    this.seals = new Seals({ store, clock, ffmpeg: video.ffmpeg, recordingsDir: this.recordingsDir, siteId: config.site.id, cameras });
    this.retention = new Retention({
      store,
      recordingsDir: this.recordingsDir,
      clock,
      log: log.child({ job: 'retention' }),
      alarms,
      configuredDays: video.retention_days,
      floorBytes: video.min_free_gb * 1e9,
      sweepEveryMs: video.sweep_every_s * 1000,
      recorders: {
        halt: async (camera, reason) => this.cams.get(camera)?.recorder?.halt(reason),
        resumeAll: () => this.cams.forEach((c) => c.recorder?.resume()),
        cameras: () => [...this.cams.values()].filter((c) => c.recorder).map((c) => c.id),
      },
      space: () => this.space(),
    });
  }

  start(): void {
    const { config, store, clock, log, bus } = this.deps;
    mkdirSync(this.recordingsDir, { recursive: true });
    rmSync(join(this.recordingsDir, '.clips'), { recursive: true, force: true });
    const segmentS = config.video.segment_s;
    for (const cam of this.cams.values()) {
      if (!cam.config.record) continue;
      cam.recorder = new CameraRecorder(cam.id, {
        ffmpeg: config.video.ffmpeg,
        recordingsDir: this.recordingsDir,
        segmentS,
        staleAfterMs: (config.video.stale_after_s ?? segmentS * 2 + 10) * 1000,
        clock,
        log: log.child({ camera: cam.id }),
        previousEnd: store.video.lastSegment(cam.id)?.end_ms ?? null,
        onSegment: (seg) => this.index(() => store.video.addSegment(seg)),
        onGap: (gap) => this.index(() => store.video.addGap(gap)),
        onStatus: (status) => this.recorderChanged(cam, status),
        onClockJump: (camera, backMs) =>
          this.deps.alarms.raise('video.clock-jump', camera, `摄像机录像时间倒退 ${Math.round(backMs / 1000)} 秒：请检查系统时钟`, { camera, backMs }),
      });
      cam.recorder.start();
    }
    this.offs = [
      bus.on('device.health', ({ deviceId, health }) => {
        const cam = this.cams.get(deviceId);
        if (cam) void this.cameraHealth(cam, health.state, health.lastError);
      }),
      bus.on('gate.decision', (d) => this.decisionSnapshot(d)),
      bus.on('alarm', (a) => this.incidentSnapshot(a)),
    ];
    for (const cam of this.cams.values()) {
      const status = this.deps.devices.get(cam.id);
      if (status) void this.cameraHealth(cam, status.state, status.lastError);
    }
    this.retention.start();
    this.clipTimer = clock.setInterval(() => this.pruneClips(), 10 * 60_000);
  }

  async stop(): Promise<void> {
    this.offs.forEach((off) => off());
    this.offs = [];
    this.clipTimer?.cancel();
    await this.retention.stop();
    await Promise.all([this.live.close(), this.mpeg1.close(), ...[...this.cams.values()].map((c) => c.recorder?.stop())]);
  }

  cameraIds(): string[] {
    return [...this.cams.keys()];
  }

  cameras(): CameraView[] {
    const usage = this.deps.store.video.usageSince(this.deps.clock.now() - dayMs);
    return [...this.cams.values()].map((cam) => this.cameraView(cam, usage));
  }

  /** The stream a live tile plays: the sub-stream when the camera has one. */
  liveStream(cameraId: string, which: 'sub' | 'main' = 'sub'): CameraStream {
    const cam = this.camera(cameraId);
    const streams = cam.media?.streams ?? [];
    const stream = which === 'sub' ? (streams[1] ?? streams[0]) : streams[0];
    if (!stream) throw new GuardpostError(ErrorCode.Conflict, `camera ${cameraId} has not said where its stream is (offline?)`, { problem: 'no-stream' });
    return stream;
  }

  /** A live tile: the stream copied to fragmented MP4 (one ffmpeg per camera, shared by every viewer). */
  watchLive(cameraId: string, which: 'sub' | 'main', viewer: LiveViewer): () => void {
    const stream = this.liveStream(cameraId, which);
    return this.live.subscribe(`${cameraId}:${which}`, { uri: stream.uri, ...(stream.codec ? { codec: stream.codec } : {}) }, viewer);
  }

  /** The fallback for what MSE cannot play (H.265): MPEG-1 at reduced size, decoded in the page. */
  watchMpeg1(cameraId: string, viewer: Mpeg1Viewer): () => void {
    return this.mpeg1.subscribe(cameraId, this.liveStream(cameraId, 'sub').uri, viewer);
  }

  timeline(cameraId: string, from: number, to: number): Timeline {
    this.camera(cameraId);
    if (to <= from) throw new GuardpostError(ErrorCode.BadRequest, 'to must be after from', { field: 'to' });
    if (to - from > 31 * dayMs) throw new GuardpostError(ErrorCode.BadRequest, 'a timeline covers at most 31 days', { field: 'to' });
    const { store, clock } = this.deps;
    const recorded: Timeline['recorded'] = [];
    for (const seg of store.video.segments(cameraId, from, to)) {
      const last = recorded.at(-1);
      // Segments touching within a second are one stretch of footage on a timeline.
      if (last && seg.start_ms - last.end <= 1000) last.end = Math.max(last.end, seg.end_ms);
      else recorded.push({ start: seg.start_ms, end: seg.end_ms });
    }
    return {
      camera: cameraId,
      from,
      to,
      recorded,
      gaps: store.video.gaps(cameraId, from, to).map((g) => ({ start: g.start_ms, end: g.end_ms, reason: g.reason })),
      sealed: store.video.activeSeals(cameraId, from, to, clock.now()).map((s) => ({ start: s.start_ms, end: s.end_ms, sealId: s.id, title: s.title })),
    };
  }

  /** Cut the asked span for a viewer holding a grant; every playback is audited. */
  async playback(req: PlaybackRequest, who: Viewer): Promise<PlaybackView> {
    if (req.end <= req.start) throw new GuardpostError(ErrorCode.BadRequest, 'the end must be after the start', { field: 'end' });
    if (req.end - req.start > maxClipMs) throw new GuardpostError(ErrorCode.BadRequest, 'one clip covers at most 60 minutes', { field: 'end', problem: 'clip-too-long' });
    this.grants.check(req.grant, who, req.camera, req.start, req.end);
    const { store, clock, config } = this.deps;
    const segments = store.video.segments(req.camera, req.start, req.end);
    if (segments.length === 0) throw new GuardpostError(ErrorCode.NotFound, 'no footage was recorded in that span', { problem: 'no-footage' });
    const clipId = newId();
    const path = inside(this.recordingsDir, join('.clips', `${clipId}.mp4`));
    const clip = await cutClip({ ffmpeg: config.video.ffmpeg, recordingsDir: this.recordingsDir, segments, start: req.start, end: req.end, out: path });
    const issuedAt = clock.now();
    store.audit.append({ actor: who.id, action: 'video.playback', target: req.grant, detail: { camera: req.camera, start: req.start, end: req.end, clip: clipId } });
    this.clips.set(clipId, { path, viewerId: who.id, grantId: req.grant, createdAt: issuedAt });
    return {
      clipId,
      url: `/api/video/playback/${clipId}`,
      camera: req.camera,
      start: clip.start,
      end: clip.end,
      watermark: { viewer: who.name, viewerId: who.id, issuedAt },
      gaps: clip.gaps,
    };
  }

  /** The clip's file, for its viewer only and only while the grant still holds. */
  clipFile(clipId: string, who: Viewer): string {
    const clip = this.clips.get(clipId);
    if (!clip || clip.viewerId !== who.id) throw new GuardpostError(ErrorCode.NotFound, 'no such clip of yours');
    const grant = this.grants.get(clip.grantId);
    if (grant.status !== 'approved') throw new GuardpostError(ErrorCode.Forbidden, `playback refused: this review is ${grant.status}`, { problem: `grant-${grant.status}` });
    return clip.path;
  }

  storage(): StorageView {
    const { store, clock } = this.deps;
    const now = clock.now();
    return planStorage({
      disk: this.space(),
      floorBytes: this.deps.config.video.min_free_gb * 1e9,
      retentionDays: this.retention.days(),
      pending: this.retention.pending(),
      lastDay: store.video.usageSince(now - dayMs),
      all: store.video.usage(),
      cameras: [...this.cams.values()].map((c) => ({ id: c.id, name: c.name, hasSubStream: (c.media?.streams.length ?? 0) > 1, recordsMain: c.config.record_stream === 'main' })),
      now,
    });
  }

  async ptz(cameraId: string, req: PtzRequest, who: Viewer): Promise<void> {
    const cam = this.camera(cameraId);
    if (!cam.media?.ptz) throw new GuardpostError(ErrorCode.Conflict, `camera ${cameraId} cannot pan, tilt or zoom`, { problem: 'no-ptz' });
    const command =
      req.action === 'move'
        ? { type: 'ptz.move', params: { pan: req.pan ?? 0, tilt: req.tilt ?? 0, zoom: req.zoom ?? 0 } }
        : req.action === 'goto'
          ? { type: 'ptz.goto', params: { preset: req.preset } }
          : { type: 'ptz.stop' };
    if (req.action === 'goto' && !req.preset) throw new GuardpostError(ErrorCode.BadRequest, 'goto needs a preset', { field: 'preset' });
    const result = await this.deps.devices.command(cameraId, command);
    if (!result.ok) throw new GuardpostError(ErrorCode.Conflict, `the camera refused: ${result.detail ?? 'no reason given'}`, { problem: 'camera-refused' });
    // Moving a camera changes what is recorded: who did it is on record (stop is the end of the same action).
    if (req.action !== 'stop') this.deps.store.audit.append({ actor: who.id, action: 'video.ptz', target: cameraId, detail: { ...req } });
  }

  async presets(cameraId: string): Promise<PtzPreset[]> {
    const cam = this.camera(cameraId);
    if (!cam.media?.ptz) return [];
    const result = await this.deps.devices.command(cameraId, { type: 'ptz.presets' });
    return result.ok && Array.isArray(result.data) ? (result.data as PtzPreset[]) : [];
  }

  /** A current picture for a wall tile; shared by everyone asking within two seconds. */
  liveSnapshot(cameraId: string): Promise<Buffer> {
    this.camera(cameraId);
    const now = this.deps.clock.now();
    const cached = this.liveSnapshots.get(cameraId);
    if (cached && now - cached.at < 2000) return cached.image;
    const image = this.takeSnapshot(cameraId);
    this.liveSnapshots.set(cameraId, { at: now, image });
    image.catch(() => this.liveSnapshots.delete(cameraId));
    return image;
  }

  snapshotsFor(subjectId: string): SnapshotView[] {
    return this.deps.store.video.snapshotsFor(subjectId).map(snapshotView);
  }

  snapshotFile(id: string): string {
    const row = this.deps.store.video.snapshot(id);
    if (!row) throw new GuardpostError(ErrorCode.NotFound, `no snapshot ${id}`);
    return inside(this.recordingsDir, row.path);
  }

  // ---- internals ----

  /**
   * Index writes wait for the end of the current turn and go in one commit: cameras cut segments on
   * the same clock boundaries, and one fsync for all of them keeps the gate's decisions from queueing
   * behind eight.
   */
  private index(write: () => void): void {
    this.indexQueue.push(write);
    if (this.indexQueue.length > 1) return;
    setImmediate(() => {
      const writes = this.indexQueue;
      this.indexQueue = [];
      try {
        this.deps.store.transaction(() => writes.forEach((w) => w()));
      } catch (err) {
        this.deps.log.error({ err }, 'segment index write failed');
      }
    });
  }

  private space() {
    const max = this.deps.config.video.max_gb;
    return footageSpace(this.recordingsDir, max === undefined ? null : max * 1e9, () => this.deps.store.video.usedBytes());
  }

  private camera(id: string): CameraSlot {
    const cam = this.cams.get(id);
    if (!cam) throw new GuardpostError(ErrorCode.NotFound, `no camera ${id}`);
    return cam;
  }

  private async cameraHealth(cam: CameraSlot, state: string, lastError: string | null): Promise<void> {
    const { alarms, devices, log } = this.deps;
    if (state === 'online') {
      const described = await devices.command(cam.id, { type: 'describe' });
      if (!described.ok || !described.data) {
        log.warn({ camera: cam.id, detail: described.detail }, 'camera did not describe its streams');
        return;
      }
      cam.media = described.data as CameraMedia;
      const stream = cam.config.record_stream === 'sub' ? (cam.media.streams[1] ?? cam.media.streams[0]) : cam.media.streams[0];
      cam.recorder?.setSource(stream?.uri ?? null);
      alarms.clear('video.camera-offline', cam.id, 'camera answers again');
    } else if (state === 'offline' || state === 'failed') {
      cam.recorder?.setSource(null);
      alarms.raise('video.camera-offline', cam.id, `摄像机离线：${cam.name}`, { camera: cam.id, error: lastError ? scrubUrlCredentials(lastError) : null });
    } else return;
    this.publishCamera(cam);
  }

  private recorderChanged(cam: CameraSlot, status: RecorderStatus): void {
    const { alarms } = this.deps;
    // A recorder that keeps failing while its camera answers is its own fault (wrong URL, ffmpeg missing).
    if (status.state === 'stalled' && status.failuresInARow >= 3) {
      alarms.raise('video.recording-failed', cam.id, `录像中断：${cam.name}`, { camera: cam.id, error: status.lastError });
    } else if (status.state === 'recording') {
      alarms.clear('video.recording-failed', cam.id, 'recording again');
      alarms.clear('video.recording-stopped', cam.id, 'recording again');
    }
    this.publishCamera(cam);
  }

  private publishCamera(cam: CameraSlot): void {
    this.deps.bus.emit('video.camera', this.cameraView(cam, this.deps.store.video.usageSince(this.deps.clock.now() - dayMs)));
  }

  private cameraView(cam: CameraSlot, usage: readonly { camera: string; bytes: number; seconds: number }[]): CameraView {
    const device = this.deps.devices.get(cam.id);
    const rec = cam.recorder?.snapshot();
    const live = cam.media ? (cam.media.streams[1] ?? cam.media.streams[0]) : undefined;
    const day = usage.find((u) => u.camera === cam.id);
    // What the live path learnt from the stream itself beats what the camera declared.
    const seen = this.live.status(`${cam.id}:sub`).find((st) => st.mime !== null);
    const mseCannot = /^(h265|hevc|hev1|hvc1|jpeg|mjpeg)/i.test(seen?.codec ?? live?.codec ?? '');
    return {
      id: cam.id,
      name: cam.name,
      deviceState: device?.state ?? 'stopped',
      recorder: rec
        ? { state: rec.state, since: rec.since, lastSegmentAt: rec.lastSegmentAt, lastError: rec.lastError, restarts: rec.restarts }
        : { state: 'disabled', since: this.deps.clock.now(), lastSegmentAt: null, lastError: null, restarts: 0 },
      live: !live ? 'snapshot' : mseCannot ? 'mpeg1' : 'mse',
      liveMime: seen?.mime ?? null,
      hasSubStream: (cam.media?.streams.length ?? 0) > 1,
      ptz: cam.media?.ptz ?? false,
      snapshot: cam.media !== null,
      bitrateKbps: day && day.seconds > 0 ? Math.round((day.bytes * 8) / day.seconds / 1000) : null,
      resolution: rec?.width && rec.height ? `${rec.width}x${rec.height}` : null,
    };
  }

  private decisionSnapshot(d: DecisionView): void {
    if (this.snapped.has(d.id)) return;
    this.remember(d.id);
    const point = this.deps.config.gate.entry_points[d.entryPoint];
    const near = new Set([d.entryPoint, ...(point?.devices ?? []), ...(point?.barrier ? [point.barrier] : [])]);
    for (const cam of this.cams.values()) {
      if (cam.config.links.some((l) => near.has(l))) void this.keepSnapshot(cam.id, 'decision', d.id);
    }
  }

  private incidentSnapshot(a: AlarmView): void {
    if (a.kind !== 'patrol-incident' || a.resolvedAt !== null || this.snapped.has(a.subject)) return;
    this.remember(a.subject);
    const checkpoint = typeof a.detail.checkpoint === 'string' ? a.detail.checkpoint : null;
    const planned = typeof a.detail.camera === 'string' && this.cams.has(a.detail.camera) ? [a.detail.camera] : [];
    const linked = [...this.cams.values()].filter((c) => checkpoint !== null && c.config.links.includes(checkpoint)).map((c) => c.id);
    for (const camera of new Set([...planned, ...linked])) void this.keepSnapshot(camera, 'incident', a.subject);
  }

  private remember(id: string): void {
    this.snapped.add(id);
    // Decisions are re-published when resolved; remembering the recent ones is enough to snap each once.
    if (this.snapped.size > 1000) this.snapped.delete(this.snapped.values().next().value!);
  }

  /** Take a picture for a record and keep it with the record; failures are logged, never thrown at the gate. */
  private async keepSnapshot(camera: string, subjectKind: SnapshotRow['subject_kind'], subjectId: string): Promise<void> {
    const at = this.deps.clock.now();
    try {
      const image = await this.takeSnapshot(camera);
      const id = newId();
      const day = new Date(at).toISOString().slice(0, 10);
      const path = join('.snapshots', day, `${id}.jpg`);
      const full = inside(this.recordingsDir, path);
      mkdirSync(join(this.recordingsDir, '.snapshots', day), { recursive: true });
      writeFileSync(full, image);
      const row: SnapshotRow = { id, camera, at, subject_kind: subjectKind, subject_id: subjectId, path, bytes: image.length };
      this.deps.store.video.addSnapshot(row);
      this.deps.bus.emit('video.snapshot', snapshotView(row));
    } catch (err) {
      this.deps.log.warn({ camera, subjectKind, subjectId, err: scrubUrlCredentials((err as Error).message) }, 'event snapshot failed');
    }
  }

  private async takeSnapshot(cameraId: string): Promise<Buffer> {
    const cam = this.camera(cameraId);
    await this.snapshotSlot();
    try {
      if (cam.media?.snapshot) {
        const result = await this.deps.devices.command(cameraId, { type: 'snapshot' });
        if (result.ok && Buffer.isBuffer(result.data)) return result.data;
      }
      const stream = cam.media?.streams[1] ?? cam.media?.streams[0];
      if (!stream) throw new GuardpostError(ErrorCode.Conflict, `camera ${cameraId} has no stream to take a picture from`, { problem: 'no-stream' });
      return await grabFrame(this.deps.config.video.ffmpeg, stream.uri);
    } finally {
      this.snapshotsRunning -= 1;
      this.snapshotQueue.shift()?.();
    }
  }

  private snapshotSlot(): Promise<void> {
    if (this.snapshotsRunning < snapshotConcurrency) {
      this.snapshotsRunning += 1;
      return Promise.resolve();
    }
    if (this.snapshotQueue.length > 16) return Promise.reject(new Error('too many snapshots waiting'));
    return new Promise((resolveSlot) =>
      this.snapshotQueue.push(() => {
        this.snapshotsRunning += 1;
        resolveSlot();
      }),
    );
  }

  private pruneClips(): void {
    const now = this.deps.clock.now();
    for (const [id, clip] of this.clips) {
      const grant = this.deps.store.video.grant(clip.grantId);
      if (grant && grant.status === 'approved' && (grant.valid_until ?? 0) > now && now - clip.createdAt < clipKeepMs) continue;
      rmSync(clip.path, { force: true });
      this.clips.delete(id);
    }
  }
}

function snapshotView(row: SnapshotRow): SnapshotView {
  return { id: row.id, camera: row.camera, at: row.at, subjectKind: row.subject_kind, subjectId: row.subject_id, url: `/api/video/snapshots/${row.id}/image` };
}

/** One JPEG from an RTSP stream: decodes up to the first key frame only. */
function grabFrame(ffmpeg: string, uri: string): Promise<Buffer> {
  return new Promise((resolveImage, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-timeout', '5000000', '-i', uri, '-frames:v', '1', '-f', 'image2', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    child.on('error', (err) => reject(new Error(`ffmpeg could not start: ${err.message}`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      const image = Buffer.concat(chunks);
      if (code === 0 && image.length > 0) resolveImage(image);
      else reject(new Error(`no picture from the camera: ${scrubUrlCredentials(stderr.trim()) || `ffmpeg exit ${code}`}`));
    });
  });
}
