-- 005: video: the segment index, outages, seals (evidence), review grants, exports, event-linked snapshots, retention state.

-- One row per recorded file; path is relative to the recordings directory.
CREATE TABLE video_segments (
  id       INTEGER PRIMARY KEY,
  camera   TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms   INTEGER NOT NULL CHECK (end_ms >= start_ms),
  path     TEXT NOT NULL UNIQUE,
  bytes    INTEGER NOT NULL,
  codec    TEXT,
  width    INTEGER,
  height   INTEGER
) STRICT;
CREATE INDEX video_segments_by_camera ON video_segments (camera, start_ms);
CREATE INDEX video_segments_by_start ON video_segments (start_ms);

-- Outages: footage that does not exist, and why (so a gap on the timeline is explained, not silent).
CREATE TABLE video_gaps (
  id       INTEGER PRIMARY KEY,
  camera   TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms   INTEGER NOT NULL,
  reason   TEXT NOT NULL
) STRICT;
CREATE INDEX video_gaps_by_camera ON video_gaps (camera, start_ms);

CREATE TABLE video_seals (
  id             TEXT PRIMARY KEY,
  title          TEXT NOT NULL,
  reason         TEXT NOT NULL,
  start_ms       INTEGER NOT NULL,
  end_ms         INTEGER NOT NULL CHECK (end_ms > start_ms),
  expires_at     INTEGER,
  created_by     TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  released_by    TEXT,
  released_at    INTEGER,
  release_reason TEXT
) STRICT;

-- One row per sealed camera: what retention checks segment by segment.
CREATE TABLE video_seal_cameras (
  seal_id TEXT NOT NULL REFERENCES video_seals (id),
  camera  TEXT NOT NULL,
  PRIMARY KEY (seal_id, camera)
) STRICT;
CREATE INDEX video_seal_cameras_by_camera ON video_seal_cameras (camera);

CREATE TABLE video_grants (
  id           TEXT PRIMARY KEY,
  cameras      TEXT NOT NULL,                 -- JSON array of camera ids
  start_ms     INTEGER NOT NULL,
  end_ms       INTEGER NOT NULL CHECK (end_ms > start_ms),
  reason       TEXT NOT NULL,
  minutes      INTEGER NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'revoked')),
  requested_by TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  decided_by   TEXT,
  decided_at   INTEGER,
  note         TEXT,
  valid_until  INTEGER,
  self_granted INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX video_grants_by_status ON video_grants (status, requested_at);

CREATE TABLE video_exports (
  id         TEXT PRIMARY KEY,
  seal_id    TEXT NOT NULL REFERENCES video_seals (id),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  files      TEXT NOT NULL                    -- JSON [{name, bytes, sha256}]
) STRICT;

CREATE TABLE video_snapshots (
  id           TEXT PRIMARY KEY,
  camera       TEXT NOT NULL,
  at           INTEGER NOT NULL,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('decision', 'incident', 'manual')),
  subject_id   TEXT NOT NULL,
  path         TEXT NOT NULL,                 -- relative to the recordings directory
  bytes        INTEGER NOT NULL
) STRICT;
CREATE INDEX video_snapshots_by_subject ON video_snapshots (subject_id);
CREATE INDEX video_snapshots_by_time ON video_snapshots (at);

-- The retention in force and a shorter one waiting out its warning period.
CREATE TABLE video_retention (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  days           INTEGER NOT NULL,
  pending_days   INTEGER,
  pending_from   INTEGER
) STRICT;

-- A seal's export carries its audit trail: found by target.
CREATE INDEX audit_log_by_target ON audit_log (target);
