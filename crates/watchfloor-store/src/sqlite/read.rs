//! Reads, on pooled read-only connections (WAL lets them run beside the writer).

use super::write::is_no_such_table;
use crate::eve::day_of;
use crate::model::*;
use crate::{token, StoreError};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use std::time::Duration;

fn org_from_row(r: &Row<'_>) -> rusqlite::Result<Org> {
    let kind: String = r.get(2)?;
    Ok(Org {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: kind.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
        })?,
        state: r.get(3)?,
        county_fips: r.get(4)?,
        parent: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const ORG_COLS: &str = "id, name, kind, state, county_fips, parent_id, created_at";

pub fn get_org(conn: &Connection, id: OrgId) -> Result<Option<Org>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {ORG_COLS} FROM orgs WHERE id = ?1"),
            [id],
            org_from_row,
        )
        .optional()?)
}

pub fn list_orgs(conn: &Connection) -> Result<Vec<Org>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {ORG_COLS} FROM orgs ORDER BY id"))?;
    let rows = stmt.query_map([], org_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn authenticate(conn: &Connection, presented: &str) -> Result<Option<Sensor>, StoreError> {
    let Some((token_id, secret)) = token::split(presented) else {
        return Ok(None);
    };
    let row = conn
        .query_row(
            "SELECT t.token_hash, t.revoked_at, s.id, s.org_id, s.name, s.created_at
             FROM sensor_tokens t JOIN sensors s ON s.id = t.sensor_id WHERE t.id = ?1",
            [token_id],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    Sensor {
                        id: r.get(2)?,
                        org_id: r.get(3)?,
                        name: r.get(4)?,
                        created_at: r.get(5)?,
                    },
                ))
            },
        )
        .optional()?;
    Ok(match row {
        Some((hash, None, sensor)) if token::constant_time_eq(&hash, &token::hash(secret)) => {
            Some(sensor)
        }
        _ => None,
    })
}

pub fn list_sensors(
    conn: &Connection,
    orgs: Option<&[OrgId]>,
    now: UnixMicros,
    stale_after: Duration,
) -> Result<Vec<SensorStatus>, StoreError> {
    let mut sql = String::from(
        "SELECT s.id, s.org_id, s.name, s.created_at, s.last_heartbeat_at, s.last_counters,
                coalesce(i.contiguous_seq, 0)
         FROM sensors s LEFT JOIN ingest_state i ON i.sensor_id = s.id",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(orgs) = orgs {
        sql.push_str(" WHERE s.org_id IN (");
        push_in_list(&mut sql, &mut args, orgs);
        sql.push(')');
    }
    sql.push_str(" ORDER BY s.id");
    let threshold = now.saturating_sub(stale_after.as_micros().min(i64::MAX as u128) as i64);
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let sensor = Sensor {
            id: r.get(0)?,
            org_id: r.get(1)?,
            name: r.get(2)?,
            created_at: r.get(3)?,
        };
        let at: Option<i64> = r.get(4)?;
        let counters: Option<String> = r.get(5)?;
        let contiguous: i64 = r.get(6)?;
        Ok((sensor, at, counters, contiguous))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sensor, at, counters, contiguous) = row?;
        let last_heartbeat = match (at, counters) {
            (Some(at), Some(c)) => Some(Heartbeat {
                sensor_id: sensor.id,
                at,
                counters: serde_json::from_str(&c)
                    .map_err(|e| StoreError::Corrupt(format!("heartbeat counters: {e}")))?,
            }),
            _ => None,
        };
        let stale = last_heartbeat.as_ref().is_none_or(|h| h.at < threshold);
        out.push(SensorStatus {
            sensor,
            last_heartbeat,
            stale,
            highest_contiguous_seq: contiguous as u64,
        });
    }
    Ok(out)
}

fn push_in_list(sql: &mut String, args: &mut Vec<Value>, ids: &[i64]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('?');
        args.push(Value::Integer(*id));
    }
}

/// Bucket tables that may hold events of the filter's time range, newest first.
fn buckets(conn: &Connection, f: &EventFilter) -> Result<Vec<String>, StoreError> {
    let lo = f.from.map(day_of).unwrap_or(i64::MIN);
    // `to` is exclusive: an event at exactly midnight of day D is in bucket D only if to > it.
    let hi = f.to.map(|t| day_of(t - 1)).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare(
        "SELECT table_name FROM event_buckets WHERE day BETWEEN ?1 AND ?2 ORDER BY day DESC",
    )?;
    let rows = stmt.query_map(params![lo, hi], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The WHERE clause shared by query and count.
fn conditions(f: &EventFilter, with_cursor: bool) -> (String, Vec<Value>) {
    let mut sql = String::from(" WHERE 1=1");
    let mut args = Vec::new();
    if let Some(orgs) = &f.orgs {
        sql.push_str(" AND org_id IN (");
        push_in_list(&mut sql, &mut args, orgs);
        sql.push(')');
    }
    if let Some(from) = f.from {
        sql.push_str(" AND ts >= ?");
        args.push(Value::Integer(from));
    }
    if let Some(to) = f.to {
        sql.push_str(" AND ts < ?");
        args.push(Value::Integer(to));
    }
    if let Some(t) = &f.event_type {
        sql.push_str(" AND event_type = ?");
        args.push(Value::Text(t.clone()));
    }
    if let Some(s) = f.sensor {
        sql.push_str(" AND sensor_id = ?");
        args.push(Value::Integer(s));
    }
    if let (true, Some(c)) = (with_cursor, f.cursor) {
        sql.push_str(" AND (ts, sensor_id, seq) < (?, ?, ?)");
        args.push(Value::Integer(c.ts));
        args.push(Value::Integer(c.sensor_id));
        args.push(Value::Integer(c.seq.min(i64::MAX as u64) as i64));
    }
    (sql, args)
}

pub fn query_events(conn: &Connection, f: &EventFilter) -> Result<EventPage, StoreError> {
    let limit = f.page_size();
    let mut events: Vec<StoredEvent> = Vec::new();
    if f.orgs.as_ref().is_some_and(|o| o.is_empty()) {
        return Ok(EventPage {
            events,
            next_cursor: None,
        });
    }
    let (cond, args) = conditions(f, true);
    // Buckets are disjoint days, so newest-first across buckets is bucket order: read each
    // until the page (plus one, to know whether more follow) is full.
    for table in buckets(conn, f)? {
        let want = limit + 1 - events.len();
        let sql = format!(
            "SELECT sensor_id, seq, org_id, ts, event_type, signature_id, src_ip, dest_ip,
                    src_port, dest_port, proto, flow_id, app_proto, schema_version, record
             FROM {table}{cond} ORDER BY ts DESC, sensor_id DESC, seq DESC LIMIT {want}"
        );
        let mut stmt = match conn.prepare(&sql) {
            Ok(s) => s,
            // Dropped by retention since we listed it.
            Err(e) if is_no_such_table(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            Ok(StoredEvent {
                sensor_id: r.get(0)?,
                seq: r.get::<_, i64>(1)? as u64,
                org_id: r.get(2)?,
                ts: r.get(3)?,
                event_type: r.get(4)?,
                signature_id: r.get(5)?,
                src_ip: r.get(6)?,
                dest_ip: r.get(7)?,
                src_port: r.get(8)?,
                dest_port: r.get(9)?,
                proto: r.get(10)?,
                flow_id: r.get(11)?,
                app_proto: r.get(12)?,
                schema_version: r.get(13)?,
                record: r.get::<_, String>(14)?.into_bytes(),
            })
        })?;
        for ev in rows {
            events.push(ev?);
        }
        if events.len() > limit {
            break;
        }
    }
    let next_cursor = if events.len() > limit {
        events.truncate(limit);
        events.last().map(|e| Cursor {
            ts: e.ts,
            sensor_id: e.sensor_id,
            seq: e.seq,
        })
    } else {
        None
    };
    Ok(EventPage {
        events,
        next_cursor,
    })
}

pub fn count_events(conn: &Connection, f: &EventFilter) -> Result<u64, StoreError> {
    if f.orgs.as_ref().is_some_and(|o| o.is_empty()) {
        return Ok(0);
    }
    let (cond, args) = conditions(f, false);
    let mut total = 0u64;
    for table in buckets(conn, f)? {
        let n: i64 = match conn.query_row(
            &format!("SELECT count(*) FROM {table}{cond}"),
            params_from_iter(args.iter()),
            |r| r.get(0),
        ) {
            Ok(n) => n,
            Err(e) if is_no_such_table(&e) => 0,
            Err(e) => return Err(e.into()),
        };
        total += n as u64;
    }
    Ok(total)
}
