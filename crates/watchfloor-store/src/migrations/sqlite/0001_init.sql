-- Watchfloor store, SQLite, version 1.
-- Times are microseconds since the Unix epoch (INTEGER).
-- Events live in one table per UTC day, events_YYYYMMDD, created on demand (see
-- migrations::sqlite_bucket_ddl) and listed in event_buckets; retention drops whole tables.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('national','federal','state','local','vendor','party','platform')),
    state       TEXT,
    county_fips TEXT,
    parent_id   INTEGER REFERENCES orgs(id),
    created_at  INTEGER NOT NULL
);

CREATE TABLE sensors (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id),
    name              TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    last_heartbeat_at INTEGER,
    last_counters     TEXT,
    UNIQUE (org_id, name)
);

CREATE TABLE sensor_tokens (
    id         INTEGER PRIMARY KEY,
    sensor_id  INTEGER NOT NULL REFERENCES sensors(id),
    token_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sensor_tokens_sensor ON sensor_tokens (sensor_id);

CREATE TABLE heartbeats (
    sensor_id INTEGER NOT NULL REFERENCES sensors(id),
    at        INTEGER NOT NULL,
    counters  TEXT NOT NULL
);
CREATE INDEX heartbeats_sensor_at ON heartbeats (sensor_id, at);
CREATE INDEX heartbeats_at ON heartbeats (at);

-- Idempotency (see seq.rs): every seq <= contiguous_seq is stored; seq_pending holds the
-- stored ones above it.
CREATE TABLE ingest_state (
    sensor_id      INTEGER PRIMARY KEY REFERENCES sensors(id),
    contiguous_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE seq_pending (
    sensor_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (sensor_id, seq)
) WITHOUT ROWID;

CREATE TABLE event_buckets (
    day        INTEGER PRIMARY KEY,   -- days since 1970-01-01 (UTC)
    table_name TEXT NOT NULL
);
