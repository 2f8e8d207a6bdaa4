-- 001: the foundation: device events, the outbox to HQ, and the hash-chained audit log.

CREATE TABLE device_events (
  id          TEXT PRIMARY KEY,          -- UUIDv7
  device_id   TEXT NOT NULL,
  type        TEXT NOT NULL,             -- credential | plate | checkpoint | state
  at          INTEGER NOT NULL,          -- when the device saw it, UTC epoch ms
  received_at INTEGER NOT NULL,          -- when the gateway recorded it, UTC epoch ms
  data        TEXT NOT NULL              -- the typed event as JSON
) STRICT;
CREATE INDEX device_events_by_time ON device_events (received_at);
CREATE INDEX device_events_by_device ON device_events (device_id, received_at);

-- Every record that must reach HQ gets a row here in the same transaction as the record itself.
CREATE TABLE outbox (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  record_id   TEXT NOT NULL,             -- the UUIDv7 of the record; HQ deduplicates on it
  stream      TEXT NOT NULL,             -- e.g. device_events, audit; order is kept per stream
  payload     TEXT NOT NULL,             -- JSON as it goes upstream
  created_at  INTEGER NOT NULL,
  sent_at     INTEGER
) STRICT;
CREATE INDEX outbox_unsent ON outbox (stream, seq) WHERE sent_at IS NULL;

-- Append-only and hash-chained: each row's hash covers its content and the previous row's hash.
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,             -- person id, device id or "system"
  action      TEXT NOT NULL,             -- e.g. login, login.failed, barrier.manual_open
  target      TEXT,
  detail      TEXT NOT NULL,             -- JSON, personal numbers already masked
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
