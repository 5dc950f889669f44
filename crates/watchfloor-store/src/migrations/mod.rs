//! Versioned schema migrations, one SQL file per version per backend. A database records the
//! versions applied in `schema_migrations`; at start each backend applies the missing ones in
//! order, each in its own transaction, and refuses a database newer than the build.
//!
//! To change the schema: add `NNNN_what.sql` for both backends and a line to both lists.
//! Never edit a released file. SQLite's day tables are created from `sqlite_bucket_ddl`;
//! a migration that changes their layout must also alter the existing `events_*` tables.

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "people",
        sql: include_str!("sqlite/0002_people.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "people",
        sql: include_str!("postgres/0002_people.sql"),
    },
];

pub fn latest(list: &[Migration]) -> u32 {
    list.iter().map(|m| m.version).max().unwrap_or(0)
}

/// One day's event table. Indexes serve the watch floor's reads (by time; by org and time)
/// and alert pivots (signature, a partial index over the few alerts). Each index costs ingest
/// speed, and one over random keys (flow_id, addresses, (sensor, seq) across ten sensors) cost
/// the most: the SQLite writer went from 40k to 80k events/s without them. Those pivots scan
/// one day's bucket instead; PostgreSQL, with its parallel writers, keeps flow and
/// (sensor, seq) indexes.
pub fn sqlite_bucket_ddl(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            sensor_id      INTEGER NOT NULL,
            seq            INTEGER NOT NULL,
            org_id         INTEGER NOT NULL,
            ts             INTEGER NOT NULL,
            event_type     TEXT NOT NULL,
            signature_id   INTEGER,
            src_ip         TEXT,
            dest_ip        TEXT,
            src_port       INTEGER,
            dest_port      INTEGER,
            proto          TEXT,
            flow_id        INTEGER,
            app_proto      TEXT,
            schema_version INTEGER NOT NULL,
            record         TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS {table}_ts ON {table} (ts);
        CREATE INDEX IF NOT EXISTS {table}_org_ts ON {table} (org_id, ts);
        CREATE INDEX IF NOT EXISTS {table}_signature ON {table} (signature_id)
            WHERE signature_id IS NOT NULL;"
    )
}
