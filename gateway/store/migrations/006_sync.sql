-- 006: sync to HQ: parked records, the sync's own state, master-data versions, records shared by the compound's other gates.

-- A record HQ refused as invalid waits here with the reason, shown to admins; it no longer blocks its stream.
ALTER TABLE outbox ADD COLUMN parked_at INTEGER;
ALTER TABLE outbox ADD COLUMN parked_reason TEXT;
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_parked ON outbox (parked_at) WHERE parked_at IS NOT NULL;

-- Last success, last error and such, written by the sync worker (key -> JSON).
CREATE TABLE sync_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- The master data version in force per kind: a gate applies only newer versions, each in one transaction.
CREATE TABLE master_versions (
  kind       TEXT PRIMARY KEY,
  version    INTEGER NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;

-- Records another gate of the compound shared (visits, passes, decisions): applied once each.
CREATE TABLE peer_records (
  stream     TEXT NOT NULL,
  id         TEXT NOT NULL,
  site       TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  applied_at INTEGER NOT NULL,
  PRIMARY KEY (stream, id, seq)
) STRICT;

-- A shared record that refers to something not here yet (a pass before its visit) waits here and is tried again.
CREATE TABLE peer_pending (
  stream      TEXT NOT NULL,
  id          TEXT NOT NULL,
  site        TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  data        TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (stream, id, seq)
) STRICT;
