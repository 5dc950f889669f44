-- Watchfloor store, SQLite, version 2: people, sessions, personal tokens, organisation shares,
-- the audit log (issue 7). Times are microseconds since the Unix epoch.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    email           TEXT NOT NULL UNIQUE,          -- stored lower-case
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin','analyst','member','viewer')),
    password_hash   TEXT NOT NULL,                 -- argon2id PHC string, never the password
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    disabled_at     INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX users_org ON users (org_id);

-- Session ids are 256-bit secrets; only their SHA-256 is kept (as is the CSRF token's).
CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    csrf_hash    BLOB NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE user_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('read','write')),
    token_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

-- Who beyond its state and the national organisation may read an organisation's sensor data.
CREATE TABLE org_shares (
    owner_org_id   INTEGER NOT NULL REFERENCES orgs(id),
    grantee_org_id INTEGER NOT NULL REFERENCES orgs(id),
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (owner_org_id, grantee_org_id)
) WITHOUT ROWID;
CREATE INDEX org_shares_grantee ON org_shares (grantee_org_id);

-- Append-only, hash-chained (see audit.rs): hash = SHA-256(prev_hash || canonical row).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_user INTEGER,
    actor_org  INTEGER,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    ip         TEXT,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
