-- 004: patrol: versioned plans, checkpoint hits from readers, wands and gate events, supervisors' reasons, incidents.

-- A plan (checkpoints, routes, schedules, personnel tags) as one JSON document per version;
-- a round is judged by the version in force when it started.
CREATE TABLE patrol_plans (
  version        INTEGER PRIMARY KEY,
  plan           TEXT NOT NULL,
  effective_from INTEGER NOT NULL,
  created_by     TEXT NOT NULL,
  created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE patrol_hits (
  id          TEXT PRIMARY KEY,
  tag         TEXT NOT NULL,
  checkpoint  TEXT,                          -- NULL: a tag no plan knows, kept and shown to supervisors
  at          INTEGER NOT NULL,              -- when the point was touched (wand times corrected)
  source      TEXT NOT NULL CHECK (source IN ('reader', 'wand', 'event', 'manual')),
  device_id   TEXT,
  guard       TEXT,
  record_key  TEXT UNIQUE,                   -- a wand record's identity: a repeated download adds nothing
  received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX patrol_hits_by_time ON patrol_hits (at);

CREATE TABLE patrol_reasons (
  round       TEXT NOT NULL,
  checkpoint  TEXT NOT NULL,
  reason      TEXT NOT NULL,
  by          TEXT NOT NULL,
  at          INTEGER NOT NULL,
  PRIMARY KEY (round, checkpoint)
) STRICT;

CREATE TABLE patrol_incidents (
  id          TEXT PRIMARY KEY,
  checkpoint  TEXT NOT NULL,
  type        TEXT NOT NULL,
  note        TEXT NOT NULL,
  guard       TEXT NOT NULL,
  at          INTEGER NOT NULL,
  photo       TEXT
) STRICT;
CREATE INDEX patrol_incidents_by_time ON patrol_incidents (at);
