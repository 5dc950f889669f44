//! Writes, run on the writer thread inside a group transaction (see writer.rs).

use super::writer::Writer;
use crate::eve::{bucket_table, day_of};
use crate::migrations::{self, sqlite_bucket_ddl};
use crate::model::*;
use crate::seq::{above_watermark, Advance, Prepared};
use crate::{token, StoreError};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeMap, HashSet};

pub fn migrate(conn: &Connection) -> Result<u32, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    )?;
    let current: u32 = conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let known = migrations::latest(migrations::SQLITE);
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for m in migrations::SQLITE.iter().filter(|m| m.version > current) {
        conn.execute_batch(m.sql)?;
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, crate::now_micros()],
        )?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "sqlite migration applied"
        );
    }
    Ok(known)
}

pub fn create_org(conn: &Connection, org: NewOrg) -> Result<Org, StoreError> {
    if let Some(parent) = org.parent {
        let exists: Option<i64> = conn
            .query_row("SELECT id FROM orgs WHERE id = ?1", [parent], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::UnknownOrg(parent));
        }
    }
    let taken: Option<i64> = conn
        .query_row("SELECT id FROM orgs WHERE name = ?1", [&org.name], |r| {
            r.get(0)
        })
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("organisation {:?}", org.name)));
    }
    let created_at = crate::now_micros();
    conn.execute(
        "INSERT INTO orgs (name, kind, state, county_fips, parent_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            org.name,
            org.kind.as_str(),
            org.state,
            org.county_fips,
            org.parent,
            created_at
        ],
    )?;
    Ok(Org {
        id: conn.last_insert_rowid(),
        name: org.name,
        kind: org.kind,
        state: org.state,
        county_fips: org.county_fips,
        parent: org.parent,
        created_at,
    })
}

pub fn enroll_sensor(
    conn: &Connection,
    org: OrgId,
    name: &str,
    secret: &str,
) -> Result<(Sensor, SensorToken), StoreError> {
    let exists: Option<i64> = conn
        .query_row("SELECT id FROM orgs WHERE id = ?1", [org], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::UnknownOrg(org));
    }
    let taken: Option<i64> = conn
        .query_row(
            "SELECT id FROM sensors WHERE org_id = ?1 AND name = ?2",
            params![org, name],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("sensor {name:?}")));
    }
    let created_at = crate::now_micros();
    conn.execute(
        "INSERT INTO sensors (org_id, name, created_at) VALUES (?1, ?2, ?3)",
        params![org, name, created_at],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute("INSERT INTO ingest_state (sensor_id) VALUES (?1)", [id])?;
    let tok = issue_token(conn, id, secret)?;
    let sensor = Sensor {
        id,
        org_id: org,
        name: name.to_owned(),
        created_at,
    };
    Ok((sensor, tok))
}

pub fn issue_token(
    conn: &Connection,
    sensor: SensorId,
    secret: &str,
) -> Result<SensorToken, StoreError> {
    let exists: Option<i64> = conn
        .query_row("SELECT id FROM sensors WHERE id = ?1", [sensor], |r| {
            r.get(0)
        })
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::UnknownSensor(sensor));
    }
    conn.execute(
        "INSERT INTO sensor_tokens (sensor_id, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![sensor, &token::hash(secret)[..], crate::now_micros()],
    )?;
    let token_id = conn.last_insert_rowid();
    Ok(SensorToken {
        token_id,
        sensor_id: sensor,
        plaintext: token::format_token(token_id, secret),
    })
}

pub fn revoke_tokens(conn: &Connection, sensor: SensorId) -> Result<u64, StoreError> {
    let n = conn.execute(
        "UPDATE sensor_tokens SET revoked_at = ?2 WHERE sensor_id = ?1 AND revoked_at IS NULL",
        params![sensor, crate::now_micros()],
    )?;
    Ok(n as u64)
}

pub fn record_heartbeat(
    conn: &Connection,
    sensor: SensorId,
    counters: &str,
    at: UnixMicros,
) -> Result<(), StoreError> {
    let exists: Option<i64> = conn
        .query_row("SELECT id FROM sensors WHERE id = ?1", [sensor], |r| {
            r.get(0)
        })
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::UnknownSensor(sensor));
    }
    conn.execute(
        "INSERT INTO heartbeats (sensor_id, at, counters) VALUES (?1, ?2, ?3)",
        params![sensor, at, counters],
    )?;
    // A late heartbeat must not make a sensor look older than it is.
    conn.execute(
        "UPDATE sensors SET last_heartbeat_at = ?2, last_counters = ?3
         WHERE id = ?1 AND (last_heartbeat_at IS NULL OR last_heartbeat_at <= ?2)",
        params![sensor, at, counters],
    )?;
    Ok(())
}

/// Stores a validated batch (see seq.rs for the dedup scheme).
pub fn ingest(
    w: &mut Writer,
    sensor: SensorId,
    batch: &[Prepared],
) -> Result<IngestOutcome, StoreError> {
    let conn = &w.conn;
    let state: Option<(i64, i64)> = conn
        .query_row(
            "SELECT s.org_id, i.contiguous_seq FROM sensors s
             JOIN ingest_state i ON i.sensor_id = s.id WHERE s.id = ?1",
            [sensor],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((org_id, watermark)) = state else {
        return Err(StoreError::UnknownSensor(sensor));
    };
    let watermark = watermark as u64;
    let (candidates, mut duplicates) = above_watermark(watermark, batch.iter().collect());

    // Which candidates arrived earlier out of order.
    let mut pending_hit: HashSet<u64> = HashSet::new();
    if let (Some(first), Some(last)) = (candidates.first(), candidates.last()) {
        let mut stmt = conn.prepare(
            "SELECT seq FROM seq_pending WHERE sensor_id = ?1 AND seq BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt.query_map(params![sensor, first.seq as i64, last.seq as i64], |r| {
            r.get::<_, i64>(0)
        })?;
        for seq in rows {
            pending_hit.insert(seq? as u64);
        }
    }
    let mut by_day: BTreeMap<i64, Vec<&Prepared>> = BTreeMap::new();
    let mut new_seqs = Vec::with_capacity(candidates.len());
    for p in candidates {
        if pending_hit.contains(&p.seq) {
            duplicates += 1;
        } else {
            new_seqs.push(p.seq);
            by_day.entry(day_of(p.cols.ts)).or_default().push(p);
        }
    }
    let inserted = new_seqs.len() as u64;
    for (day, rows) in by_day {
        let table = ensure_bucket(w, day)?;
        insert_rows(&w.conn, &table, sensor, org_id, &rows)?;
    }

    let conn = &w.conn;
    let mut adv = Advance::new(watermark, &new_seqs);
    let mut touched_pending = !pending_hit.is_empty();
    {
        let mut stmt = conn.prepare(
            "SELECT seq FROM seq_pending WHERE sensor_id = ?1 AND seq > ?2 ORDER BY seq LIMIT 4096",
        )?;
        loop {
            let chunk = stmt
                .query_map(params![sensor, adv.watermark() as i64], |r| {
                    r.get::<_, i64>(0)
                })?
                .map(|r| r.map(|s| s as u64))
                .collect::<Result<Vec<u64>, _>>()?;
            touched_pending |= !chunk.is_empty();
            if !adv.feed(&chunk) {
                break;
            }
        }
    }
    let high = adv.watermark();
    if touched_pending {
        conn.execute(
            "DELETE FROM seq_pending WHERE sensor_id = ?1 AND seq <= ?2",
            params![sensor, high as i64],
        )?;
    }
    let above: Vec<u64> = new_seqs.into_iter().filter(|&s| s > high).collect();
    if !above.is_empty() {
        let mut stmt = conn.prepare("INSERT INTO seq_pending (sensor_id, seq) VALUES (?1, ?2)")?;
        for s in above {
            stmt.execute(params![sensor, s as i64])?;
        }
    }
    if high != watermark {
        conn.execute(
            "UPDATE ingest_state SET contiguous_seq = ?2 WHERE sensor_id = ?1",
            params![sensor, high as i64],
        )?;
    }
    Ok(IngestOutcome {
        inserted,
        duplicates,
        highest_contiguous_seq: high,
    })
}

fn ensure_bucket(w: &mut Writer, day: i64) -> Result<String, StoreError> {
    let table = bucket_table(day);
    if !w.buckets.contains(&day) {
        w.conn.execute_batch(&sqlite_bucket_ddl(&table))?;
        w.conn.execute(
            "INSERT OR IGNORE INTO event_buckets (day, table_name) VALUES (?1, ?2)",
            params![day, table],
        )?;
        w.created.push(day);
    }
    Ok(table)
}

fn insert_rows(
    conn: &Connection,
    table: &str,
    sensor: SensorId,
    org_id: OrgId,
    rows: &[&Prepared],
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!(
        "INSERT INTO {table} (sensor_id, seq, org_id, ts, event_type, signature_id, src_ip,
            dest_ip, src_port, dest_port, proto, flow_id, app_proto, schema_version, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))?;
    for p in rows {
        let c = &p.cols;
        // validate() checked the record is UTF-8; TEXT lets SQLite's json functions read it.
        let record = ToSqlOutput::Borrowed(ValueRef::Text(&p.record));
        stmt.execute(params![
            sensor,
            p.seq as i64,
            org_id,
            c.ts,
            c.event_type,
            c.signature_id,
            c.src_ip,
            c.dest_ip,
            c.src_port,
            c.dest_port,
            c.proto,
            c.flow_id,
            c.app_proto,
            p.schema_version,
            record
        ])?;
    }
    Ok(())
}

pub fn apply_retention(
    w: &mut Writer,
    older_than: UnixMicros,
) -> Result<RetentionReport, StoreError> {
    // A bucket goes only when its whole day is older than the cutoff.
    let last_day_to_drop = day_of(older_than) - 1;
    let doomed: Vec<(i64, String)> = {
        let mut stmt = w
            .conn
            .prepare("SELECT day, table_name FROM event_buckets WHERE day <= ?1 ORDER BY day")?;
        let rows = stmt.query_map([last_day_to_drop], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut report = RetentionReport::default();
    for (day, table) in doomed {
        let n: i64 = w
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .optional()
            .or_else(|e| {
                if is_no_such_table(&e) {
                    Ok(None)
                } else {
                    Err(e)
                }
            })?
            .unwrap_or(0);
        w.conn
            .execute_batch(&format!("DROP TABLE IF EXISTS {table}"))?;
        w.conn
            .execute("DELETE FROM event_buckets WHERE day = ?1", [day])?;
        w.buckets.remove(&day);
        report.events_deleted += n as u64;
        report.buckets_dropped += 1;
    }
    report.heartbeats_deleted =
        w.conn
            .execute("DELETE FROM heartbeats WHERE at < ?1", [older_than])? as u64;
    Ok(report)
}

pub fn is_no_such_table(e: &rusqlite::Error) -> bool {
    e.to_string().contains("no such table")
}
