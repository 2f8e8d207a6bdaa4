// The video HTTP contracts (TypeBox): cameras, live view, timeline, review grants, playback, seals, exports, storage.
import Type, { type Static } from 'typebox';
import { Nullable } from './contracts.js';

const Epoch = Type.Integer({ minimum: 0, description: 'UTC epoch milliseconds' });
const CameraId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', description: 'a camera device id' });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Reason = Type.String({ minLength: 4, maxLength: 400, description: 'why, in words a later reader understands' });
const Cameras = Type.Array(CameraId, { minItems: 1, maxItems: 16, uniqueItems: true });

// ---- cameras and recorders ------------------------------------------------------------------

/**
 * The recorder's state for one camera:
 * - starting: ffmpeg launched, no segment yet
 * - recording: segments arriving
 * - stalled: the newest segment is stale; ffmpeg is being restarted with backoff (a gap is open)
 * - stopped-disk: the disk floor is reached and only sealed footage is left: recording stopped, alarm raised
 * - no-stream: the camera has not said where its stream is (offline, or wrong credentials)
 * - disabled: recording switched off for this camera in config
 */
export const RecorderState = Type.Union([
  Type.Literal('starting'),
  Type.Literal('recording'),
  Type.Literal('stalled'),
  Type.Literal('stopped-disk'),
  Type.Literal('no-stream'),
  Type.Literal('disabled'),
]);
export type RecorderState = Static<typeof RecorderState>;

export const CameraView = Type.Object({
  id: CameraId,
  name: Type.String(),
  /** The camera device's own state (online/offline...). */
  deviceState: Type.String(),
  recorder: Type.Object({
    state: RecorderState,
    since: Epoch,
    lastSegmentAt: Nullable(Epoch),
    lastError: Nullable(Type.String()),
    restarts: Type.Integer({ minimum: 0 }),
  }),
  /** Which live path a tile uses: MSE (H.264 copied to fMP4), MPEG-1 (transcoded fallback), or snapshots only. */
  live: Type.Union([Type.Literal('mse'), Type.Literal('mpeg1'), Type.Literal('snapshot')]),
  /** The MSE mime type for the live stream, e.g. video/mp4; codecs="avc1.42E01E" (null until the stream was seen). */
  liveMime: Nullable(Type.String()),
  hasSubStream: Type.Boolean(),
  ptz: Type.Boolean(),
  snapshot: Type.Boolean(),
  /** Measured from recorded segments over the last day; null before the first segment. */
  bitrateKbps: Nullable(Type.Number()),
  resolution: Nullable(Type.String()),
});
export type CameraView = Static<typeof CameraView>;

export const PtzRequest = Type.Object(
  {
    action: Type.Union([Type.Literal('move'), Type.Literal('stop'), Type.Literal('goto')]),
    pan: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
    tilt: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
    zoom: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
    preset: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type PtzRequest = Static<typeof PtzRequest>;

export const PtzPreset = Type.Object({ token: Type.String(), name: Type.String() });
export type PtzPreset = Static<typeof PtzPreset>;

/**
 * The live websocket (GET /api/video/cameras/:id/live?token=...&stream=sub|main): the first message
 * is text, a LiveHello; every later message is binary fMP4: the init segment (ftyp+moov) first,
 * then media fragments (moof+mdat) each starting on a key frame. A text LiveBye ends it.
 */
export const LiveHello = Type.Object({ type: Type.Literal('hello'), mime: Type.String(), width: Nullable(Type.Integer()), height: Nullable(Type.Integer()) });
export type LiveHello = Static<typeof LiveHello>;
export const LiveBye = Type.Object({ type: Type.Literal('bye'), reason: Type.String() });
export type LiveBye = Static<typeof LiveBye>;

// ---- timeline --------------------------------------------------------------------------------

export const TimelineQuery = Type.Object({ from: Epoch, to: Epoch }, { additionalProperties: false });
export const Span = Type.Object({ start: Epoch, end: Epoch });
export type Span = Static<typeof Span>;
export const Timeline = Type.Object({
  camera: CameraId,
  from: Epoch,
  to: Epoch,
  /** Recorded footage, adjacent segments merged. */
  recorded: Type.Array(Span),
  /** Known outages with their cause (camera offline, ffmpeg restarted, disk full). */
  gaps: Type.Array(Type.Object({ start: Epoch, end: Epoch, reason: Type.String() })),
  /** Active seals overlapping the range. */
  sealed: Type.Array(Type.Object({ start: Epoch, end: Epoch, sealId: Id, title: Type.String() })),
});
export type Timeline = Static<typeof Timeline>;

// ---- review grants (request -> approve -> time-boxed review) --------------------------------

export const GrantStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('approved'),
  Type.Literal('denied'),
  Type.Literal('expired'),
  Type.Literal('revoked'),
]);
export type GrantStatus = Static<typeof GrantStatus>;

export const GrantRequest = Type.Object(
  {
    cameras: Cameras,
    start: Epoch,
    end: Epoch,
    reason: Reason,
    /** How long the review may last once approved; the approver may shorten it. */
    minutes: Type.Integer({ minimum: 5, maximum: 480, default: 120 }),
  },
  { additionalProperties: false },
);
export type GrantRequest = Static<typeof GrantRequest>;

export const GrantDecision = Type.Object(
  {
    note: Type.Optional(Type.String({ maxLength: 400 })),
    minutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 480 })),
  },
  { additionalProperties: false },
);
export type GrantDecision = Static<typeof GrantDecision>;

export const GrantView = Type.Object({
  id: Id,
  cameras: Type.Array(CameraId),
  start: Epoch,
  end: Epoch,
  reason: Type.String(),
  minutes: Type.Integer(),
  status: GrantStatus,
  requestedBy: Type.String(),
  requestedByName: Type.String(),
  requestedAt: Epoch,
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(Epoch),
  note: Nullable(Type.String()),
  /** While approved: the review may happen until then. */
  validUntil: Nullable(Epoch),
  selfGranted: Type.Boolean(),
});
export type GrantView = Static<typeof GrantView>;

export const GrantListQuery = Type.Object(
  { status: Type.Optional(GrantStatus), mine: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

// ---- playback --------------------------------------------------------------------------------

export const PlaybackRequest = Type.Object(
  {
    grant: Id,
    camera: CameraId,
    start: Epoch,
    /** At most 60 minutes per clip. */
    end: Epoch,
  },
  { additionalProperties: false },
);
export type PlaybackRequest = Static<typeof PlaybackRequest>;

export const PlaybackView = Type.Object({
  clipId: Id,
  /** GET with ?token=: an MP4 served with HTTP range requests, valid while the grant is. */
  url: Type.String(),
  camera: CameraId,
  /** The clip's real span (cut on key frames, so it may start a little before what was asked). */
  start: Epoch,
  end: Epoch,
  /** What the player overlays: the viewer and the time they watch; the same is in the audit log. */
  watermark: Type.Object({ viewer: Type.String(), viewerId: Type.String(), issuedAt: Epoch }),
  gaps: Type.Array(Span),
});
export type PlaybackView = Static<typeof PlaybackView>;

// ---- seals (evidence) ------------------------------------------------------------------------

export const SealRequest = Type.Object(
  {
    title: Type.String({ minLength: 2, maxLength: 80 }),
    reason: Reason,
    cameras: Cameras,
    start: Epoch,
    end: Epoch,
    /** null: kept until released. */
    expiresAt: Nullable(Epoch),
  },
  { additionalProperties: false },
);
export type SealRequest = Static<typeof SealRequest>;

export const SealExtend = Type.Object({ expiresAt: Nullable(Epoch), reason: Reason }, { additionalProperties: false });
export type SealExtend = Static<typeof SealExtend>;
export const SealRelease = Type.Object({ reason: Reason }, { additionalProperties: false });
export type SealRelease = Static<typeof SealRelease>;

export const SealView = Type.Object({
  id: Id,
  title: Type.String(),
  reason: Type.String(),
  cameras: Type.Array(CameraId),
  start: Epoch,
  end: Epoch,
  expiresAt: Nullable(Epoch),
  createdBy: Type.String(),
  createdAt: Epoch,
  /** active, expired (past expiresAt: retention may delete it again) or released. */
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('released')]),
  releasedBy: Nullable(Type.String()),
  releasedAt: Nullable(Epoch),
  /** Bytes of footage the seal holds. */
  bytes: Type.Integer({ minimum: 0 }),
});
export type SealView = Static<typeof SealView>;

export const ExportFile = Type.Object({ name: Type.String(), bytes: Type.Integer({ minimum: 0 }), sha256: Type.String() });
export const ExportView = Type.Object({
  id: Id,
  sealId: Id,
  createdBy: Type.String(),
  createdAt: Epoch,
  /** The clips and manifest.json; each downloadable at /api/video/exports/:id/files/:name?token=... */
  files: Type.Array(ExportFile),
});
export type ExportView = Static<typeof ExportView>;

// ---- storage planning ------------------------------------------------------------------------

export const StorageView = Type.Object({
  disk: Type.Object({ totalBytes: Type.Number(), freeBytes: Type.Number(), floorBytes: Type.Number(), usedByVideoBytes: Type.Number() }),
  /** In force now. */
  retentionDays: Type.Integer(),
  /** A shorter retention from config waiting out its 24 h warning. */
  pendingRetention: Nullable(Type.Object({ days: Type.Integer(), effectiveAt: Epoch, deletesBytes: Type.Number() })),
  cameras: Type.Array(
    Type.Object({
      id: CameraId,
      name: Type.String(),
      bitrateKbps: Nullable(Type.Number()),
      bytesPerDay: Nullable(Type.Number()),
      recordedDays: Type.Number(),
      hasSubStream: Type.Boolean(),
    }),
  ),
  /** Days of footage the disk can really hold at the measured bitrates (null before any is measured). */
  capacityDays: Nullable(Type.Number()),
  shortfall: Type.Boolean(),
  /** Advice in the site's language keys: see edge i18n (video.advice.*), with figures. */
  advice: Type.Array(Type.Object({ code: Type.String(), camera: Type.Optional(CameraId), figure: Type.Optional(Type.Number()) })),
});
export type StorageView = Static<typeof StorageView>;

// ---- event-linked snapshots ------------------------------------------------------------------

export const SnapshotView = Type.Object({
  id: Id,
  camera: CameraId,
  at: Epoch,
  /** What the picture belongs to: a gate decision, a plate read or a patrol incident. */
  subjectKind: Type.Union([Type.Literal('decision'), Type.Literal('incident'), Type.Literal('manual')]),
  subjectId: Type.String(),
  /** GET with ?token=. */
  url: Type.String(),
});
export type SnapshotView = Static<typeof SnapshotView>;

export const IdParams = Type.Object({ id: Id });
export const CameraParams = Type.Object({ id: CameraId });

/** What the /api/live websocket pushes about video. */
export type VideoLiveMessage =
  | { type: 'video.snapshot'; snapshot: SnapshotView }
  | { type: 'video.grant'; grant: GrantView }
  | { type: 'video.camera'; camera: CameraView };
