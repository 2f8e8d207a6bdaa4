-- 002: the gate: units, residents and their credentials, visitors and visits, passes, watchlist,
-- access decisions and stays, alarms, shifts, keys, and idempotent requests.

CREATE TABLE units (
  id          TEXT PRIMARY KEY,
  code        TEXT NOT NULL UNIQUE,          -- building-entrance-room, e.g. 3-2-1201
  building    TEXT NOT NULL,
  entrance    TEXT NOT NULL,
  room        TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

-- Residents and staff: people whose own cards and plates pass.
CREATE TABLE residents (
  id          TEXT PRIMARY KEY,
  unit_id     TEXT REFERENCES units (id),    -- NULL for staff
  kind        TEXT NOT NULL CHECK (kind IN ('owner', 'tenant', 'family', 'staff')),
  name        TEXT NOT NULL,
  phone       TEXT,
  active      INTEGER NOT NULL DEFAULT 1,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX residents_by_unit ON residents (unit_id);

-- Cards and plates, each on an access list (config gate.lists) that says whether it opens by itself.
CREATE TABLE credentials (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('card', 'plate')),
  value       TEXT NOT NULL,                 -- normalised card number or plate
  holder_id   TEXT REFERENCES residents (id),
  list        TEXT NOT NULL,
  valid_from  INTEGER,
  valid_until INTEGER,
  active      INTEGER NOT NULL DEFAULT 1,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX credentials_by_value ON credentials (kind, value) WHERE active = 1;

CREATE TABLE watchlist (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('id_number', 'plate', 'phone')),
  value       TEXT NOT NULL,
  reason      TEXT NOT NULL,
  added_by    TEXT NOT NULL,
  added_at    INTEGER NOT NULL,
  active      INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE UNIQUE INDEX watchlist_by_value ON watchlist (kind, value) WHERE active = 1;

-- A visitor is a person seen at the gate; ID and phone are purged after the retention period.
CREATE TABLE visitors (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  id_type       TEXT NOT NULL,
  id_number     TEXT,
  phone         TEXT,
  plate         TEXT,
  first_seen_at INTEGER NOT NULL,
  last_visit_at INTEGER NOT NULL,
  purged_at     INTEGER
) STRICT;
CREATE INDEX visitors_by_id_number ON visitors (id_number) WHERE id_number IS NOT NULL;
CREATE INDEX visitors_by_phone ON visitors (phone) WHERE phone IS NOT NULL;
CREATE INDEX visitors_by_last_visit ON visitors (last_visit_at) WHERE purged_at IS NULL;

CREATE TABLE preregistrations (
  id            TEXT PRIMARY KEY,
  code          TEXT NOT NULL UNIQUE,        -- short code the visitor shows (also in a QR)
  visitor_name  TEXT NOT NULL,
  phone         TEXT,
  plate         TEXT,
  host_unit_id  TEXT NOT NULL REFERENCES units (id),
  host_name     TEXT,
  expected_on   TEXT NOT NULL,               -- local date YYYY-MM-DD
  source        TEXT NOT NULL CHECK (source IN ('hq', 'guard')),
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  used_by_visit TEXT
) STRICT;

CREATE TABLE visits (
  id                TEXT PRIMARY KEY,
  visitor_id        TEXT NOT NULL REFERENCES visitors (id),
  host_unit_id      TEXT NOT NULL REFERENCES units (id),
  host_name         TEXT,
  reason            TEXT NOT NULL,
  headcount         INTEGER NOT NULL,
  plate             TEXT,
  expected_leave_at INTEGER NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('registered', 'confirmed', 'inside', 'left', 'refused')),
  confirmation      TEXT,                    -- call | intercom | in-person | pre-registered | supervisor-override
  confirmed_by      TEXT,                    -- who confirmed: the resident's name, or the supervisor's id
  confirmed_at      INTEGER,
  preregistration   TEXT REFERENCES preregistrations (id),
  refusal           TEXT,
  registered_by     TEXT NOT NULL,
  registered_at     INTEGER NOT NULL,
  entered_at        INTEGER,
  left_at           INTEGER
) STRICT;
CREATE INDEX visits_by_visitor ON visits (visitor_id, registered_at);
CREATE INDEX visits_open ON visits (status) WHERE status IN ('registered', 'confirmed', 'inside');

CREATE TABLE passes (
  id           TEXT PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('visitor', 'worker', 'goods-out')),
  code         TEXT NOT NULL UNIQUE,         -- printed on the slip and in its QR code
  visit_id     TEXT REFERENCES visits (id),
  unit_id      TEXT NOT NULL REFERENCES units (id),
  holder_name  TEXT NOT NULL,
  valid_from   INTEGER NOT NULL,
  valid_until  INTEGER NOT NULL,
  temp_card    TEXT,                         -- a card bound to the pass for its validity
  plate        TEXT,                         -- a visitor's vehicle, let in while the pass is valid
  detail       TEXT NOT NULL DEFAULT '{}',   -- worker: company, phone; goods-out: items, carrier
  status       TEXT NOT NULL CHECK (status IN ('active', 'closed', 'revoked')),
  issued_by    TEXT NOT NULL,
  issued_at    INTEGER NOT NULL,
  closed_by    TEXT,
  closed_at    INTEGER
) STRICT;
CREATE INDEX passes_active ON passes (kind, valid_until) WHERE status = 'active';
CREATE UNIQUE INDEX passes_by_temp_card ON passes (temp_card) WHERE status = 'active' AND temp_card IS NOT NULL;
CREATE INDEX passes_by_plate ON passes (plate) WHERE status = 'active' AND plate IS NOT NULL;

-- Every access decision at an entry point, with what the barrier did about it.
CREATE TABLE decisions (
  id               TEXT PRIMARY KEY,
  at               INTEGER NOT NULL,
  entry_point      TEXT NOT NULL,
  direction        TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  device_id        TEXT,
  credential_kind  TEXT NOT NULL,            -- card | plate | qr | manual
  credential_value TEXT NOT NULL,
  outcome          TEXT NOT NULL CHECK (outcome IN ('granted', 'denied', 'pending')),
  reason           TEXT NOT NULL,
  subject          TEXT,                     -- resident:<id> | pass:<id> | plate:<value> | card:<value>
  subject_name     TEXT,
  list             TEXT,
  resolved_by      TEXT,
  resolved_at      INTEGER,
  resolution       TEXT,                     -- for pending: opened | refused, with the guard's reason
  barrier          TEXT,
  barrier_status   TEXT NOT NULL DEFAULT 'none' CHECK (barrier_status IN ('none', 'sent', 'opened', 'failed')),
  barrier_detail   TEXT
) STRICT;
CREATE INDEX decisions_by_time ON decisions (at);
CREATE INDEX decisions_pending ON decisions (at) WHERE outcome = 'pending' AND resolved_at IS NULL;

-- A stay is one subject inside: opened by an entry, closed by the matching exit.
CREATE TABLE stays (
  id            TEXT PRIMARY KEY,
  subject       TEXT NOT NULL,
  in_decision   TEXT REFERENCES decisions (id),
  in_at         INTEGER NOT NULL,
  out_decision  TEXT REFERENCES decisions (id),
  out_at        INTEGER
) STRICT;
CREATE UNIQUE INDEX stays_open ON stays (subject) WHERE out_at IS NULL;

CREATE TABLE alarms (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,                 -- overstay | worker-curfew | min-guards | barrier-failed | ...
  subject     TEXT NOT NULL,
  raised_at   INTEGER NOT NULL,
  detail      TEXT NOT NULL DEFAULT '{}',
  resolved_at INTEGER,
  resolved_by TEXT,
  resolution  TEXT
) STRICT;
CREATE UNIQUE INDEX alarms_open ON alarms (kind, subject) WHERE resolved_at IS NULL;

CREATE TABLE shifts (
  id             TEXT PRIMARY KEY,
  person_id      TEXT NOT NULL,
  on_at          INTEGER NOT NULL,
  off_at         INTEGER,
  handover_note  TEXT
) STRICT;
CREATE UNIQUE INDEX shifts_open ON shifts (person_id) WHERE off_at IS NULL;

CREATE TABLE keys (
  id        TEXT PRIMARY KEY,
  label     TEXT NOT NULL UNIQUE,
  location  TEXT,
  active    INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE key_loans (
  id           TEXT PRIMARY KEY,
  key_id       TEXT NOT NULL REFERENCES keys (id),
  holder_name  TEXT NOT NULL,
  purpose      TEXT NOT NULL,
  issued_by    TEXT NOT NULL,
  issued_at    INTEGER NOT NULL,
  due_at       INTEGER NOT NULL,
  returned_at  INTEGER,
  returned_to  TEXT
) STRICT;
CREATE UNIQUE INDEX key_loans_open ON key_loans (key_id) WHERE returned_at IS NULL;

-- A retried request (double tap, lost response) returns the first answer instead of acting twice.
CREATE TABLE idempotency (
  key         TEXT PRIMARY KEY,
  route       TEXT NOT NULL,
  status      INTEGER NOT NULL,
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
