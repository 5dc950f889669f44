//! Events in PostgreSQL: ingest (binary COPY into daily partitions), queries, retention.

use super::copy::{encode_events, PgTime, EVENT_COLUMNS};
use super::{lock_key, PgStore};
use crate::eve::{bucket_table, civil_from_days, day_of};
use crate::model::*;
use crate::seq::{above_watermark, Advance, Prepared};
use crate::StoreError;
use futures_util::SinkExt;
use std::collections::{BTreeSet, HashSet};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

impl PgStore {
    /// Creates the day partitions a batch needs, each in its own short transaction: creating a
    /// partition locks the parent table, which must not happen while holding an ingest
    /// transaction's row locks (two ingests would deadlock).
    pub(super) async fn ensure_partitions(&self, days: &BTreeSet<i64>) -> Result<(), StoreError> {
        for &day in days {
            if self.known_days().contains(&day) {
                continue;
            }
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // One creator at a time, so IF NOT EXISTS cannot race itself.
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&lock_key(&self.schema_tag, "partitions")],
            )
            .await?;
            let table = bucket_table(day);
            let (y, m, d) = civil_from_days(day);
            let (y2, m2, d2) = civil_from_days(day + 1);
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} PARTITION OF events FOR VALUES
                 FROM ('{y:04}-{m:02}-{d:02} 00:00:00+00') TO ('{y2:04}-{m2:02}-{d2:02} 00:00:00+00')"
            ))
            .await?;
            tx.execute(
                "INSERT INTO event_buckets (day, table_name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&(day as i32), &table],
            )
            .await?;
            tx.commit().await?;
            self.known_days().insert(day);
        }
        Ok(())
    }

    pub(super) async fn ingest(
        &self,
        sensor: SensorId,
        batch: Vec<Prepared>,
    ) -> Result<IngestOutcome, StoreError> {
        let days: BTreeSet<i64> = batch.iter().map(|p| day_of(p.cols.ts)).collect();
        let mut attempt = 0;
        loop {
            self.ensure_partitions(&days).await?;
            match self.ingest_once(sensor, &batch).await {
                // Retention dropped a partition after we had checked it: make it again.
                Err(StoreError::Postgres(e))
                    if attempt == 0 && e.code() == Some(&SqlState::CHECK_VIOLATION) =>
                {
                    self.known_days().clear();
                    attempt += 1;
                }
                r => return r,
            }
        }
    }

    async fn ingest_once(
        &self,
        sensor: SensorId,
        batch: &[Prepared],
    ) -> Result<IngestOutcome, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The row lock serialises this sensor's batches (only: other sensors go in parallel).
        let state = tx
            .query_opt(
                "SELECT s.org_id, i.contiguous_seq FROM ingest_state i
                 JOIN sensors s ON s.id = i.sensor_id WHERE i.sensor_id = $1 FOR UPDATE OF i",
                &[&sensor],
            )
            .await?;
        let Some(state) = state else {
            return Err(StoreError::UnknownSensor(sensor));
        };
        let org: OrgId = state.get(0);
        let watermark = state.get::<_, i64>(1) as u64;
        let (kept, mut duplicates) = above_watermark(watermark, batch.iter().collect());
        let mut pending_hit = HashSet::new();
        if let (Some(first), Some(last)) = (kept.first(), kept.last()) {
            let rows = tx
                .query(
                    "SELECT seq FROM seq_pending WHERE sensor_id = $1 AND seq BETWEEN $2 AND $3",
                    &[&sensor, &(first.seq as i64), &(last.seq as i64)],
                )
                .await?;
            pending_hit.extend(rows.iter().map(|r| r.get::<_, i64>(0) as u64));
        }
        let kept_len = kept.len();
        let new: Vec<&Prepared> = kept
            .into_iter()
            .filter(|p| !pending_hit.contains(&p.seq))
            .collect();
        duplicates += (kept_len - new.len()) as u64;
        let new_seqs: Vec<u64> = new.iter().map(|p| p.seq).collect();

        if !new.is_empty() {
            let data = encode_events(sensor, org, &new).freeze();
            let sql = format!("COPY events ({EVENT_COLUMNS}) FROM STDIN (FORMAT binary)");
            let sink = tx.copy_in(sql.as_str()).await?;
            futures_util::pin_mut!(sink);
            sink.send(data).await?;
            sink.finish().await?;
        }

        let mut adv = Advance::new(watermark, &new_seqs);
        let mut touched_pending = !pending_hit.is_empty();
        let next = tx
            .prepare(
                "SELECT seq FROM seq_pending WHERE sensor_id = $1 AND seq > $2
                 ORDER BY seq LIMIT 4096",
            )
            .await?;
        loop {
            let rows = tx
                .query(&next, &[&sensor, &(adv.watermark() as i64)])
                .await?;
            let chunk: Vec<u64> = rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect();
            touched_pending |= !chunk.is_empty();
            if !adv.feed(&chunk) {
                break;
            }
        }
        let high = adv.watermark();
        if touched_pending {
            tx.execute(
                "DELETE FROM seq_pending WHERE sensor_id = $1 AND seq <= $2",
                &[&sensor, &(high as i64)],
            )
            .await?;
        }
        let above: Vec<i64> = new_seqs
            .iter()
            .filter(|&&s| s > high)
            .map(|&s| s as i64)
            .collect();
        if !above.is_empty() {
            tx.execute(
                "INSERT INTO seq_pending (sensor_id, seq) SELECT $1, unnest($2::bigint[])",
                &[&sensor, &above],
            )
            .await?;
        }
        if high != watermark {
            tx.execute(
                "UPDATE ingest_state SET contiguous_seq = $2 WHERE sensor_id = $1",
                &[&sensor, &(high as i64)],
            )
            .await?;
        }
        // synchronous_commit (on by default) makes this return only once the WAL is flushed.
        tx.commit().await?;
        Ok(IngestOutcome {
            inserted: new_seqs.len() as u64,
            duplicates,
            highest_contiguous_seq: high,
        })
    }

    pub(super) async fn query_events(&self, f: EventFilter) -> Result<EventPage, StoreError> {
        let limit = f.page_size();
        if f.orgs.as_ref().is_some_and(|o| o.is_empty()) {
            return Ok(EventPage {
                events: Vec::new(),
                next_cursor: None,
            });
        }
        let (cond, args) = conditions(&f, true);
        let sql = format!(
            "SELECT sensor_id, seq, org_id, ts, event_type, signature_id, host(src_ip),
                    host(dest_ip), src_port, dest_port, proto, flow_id, app_proto,
                    schema_version, record
             FROM events{cond} ORDER BY ts DESC, sensor_id DESC, seq DESC LIMIT {}",
            limit + 1
        );
        let client = self.client().await?;
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref() as _).collect();
        let rows = client.query(&sql, &refs).await?;
        let mut events: Vec<StoredEvent> = rows
            .iter()
            .map(|r| StoredEvent {
                sensor_id: r.get(0),
                seq: r.get::<_, i64>(1) as u64,
                org_id: r.get(2),
                ts: r.get::<_, PgTime>(3).0,
                event_type: r.get(4),
                signature_id: r.get(5),
                src_ip: r.get(6),
                dest_ip: r.get(7),
                src_port: r.get(8),
                dest_port: r.get(9),
                proto: r.get(10),
                flow_id: r.get(11),
                app_proto: r.get(12),
                schema_version: r.get::<_, i32>(13) as u32,
                record: r.get(14),
            })
            .collect();
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

    pub(super) async fn count_events(&self, f: EventFilter) -> Result<u64, StoreError> {
        if f.orgs.as_ref().is_some_and(|o| o.is_empty()) {
            return Ok(0);
        }
        let (cond, args) = conditions(&f, false);
        let client = self.client().await?;
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref() as _).collect();
        let row = client
            .query_one(&format!("SELECT count(*) FROM events{cond}"), &refs)
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    pub(super) async fn apply_retention(
        &self,
        older_than: UnixMicros,
    ) -> Result<RetentionReport, StoreError> {
        let last_day_to_drop = (day_of(older_than) - 1).clamp(i32::MIN.into(), i32::MAX.into());
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&lock_key(&self.schema_tag, "partitions")],
        )
        .await?;
        let doomed = tx
            .query(
                "SELECT day, table_name FROM event_buckets WHERE day <= $1 ORDER BY day",
                &[&(last_day_to_drop as i32)],
            )
            .await?;
        let mut report = RetentionReport::default();
        let mut dropped = Vec::new();
        for row in doomed {
            let day: i32 = row.get(0);
            let table: String = row.get(1);
            let exists = tx
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
                .await?
                .get::<_, bool>(0);
            if exists {
                let n: i64 = tx
                    .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                    .await?
                    .get(0);
                tx.batch_execute(&format!("DROP TABLE {table}")).await?;
                report.events_deleted += n as u64;
            }
            tx.execute("DELETE FROM event_buckets WHERE day = $1", &[&day])
                .await?;
            report.buckets_dropped += 1;
            dropped.push(i64::from(day));
        }
        report.heartbeats_deleted = tx
            .execute(
                "DELETE FROM heartbeats WHERE at < $1",
                &[&PgTime(older_than)],
            )
            .await?;
        tx.commit().await?;
        let mut known = self.known_days();
        for day in dropped {
            known.remove(&day);
        }
        Ok(report)
    }
}

type Arg = Box<dyn ToSql + Sync + Send>;

fn conditions(f: &EventFilter, with_cursor: bool) -> (String, Vec<Arg>) {
    let mut sql = String::from(" WHERE true");
    let mut args: Vec<Arg> = Vec::new();
    let mut push = |sql: &mut String, cond: &str, arg: Arg| {
        args.push(arg);
        sql.push_str(&cond.replace('$', &format!("${}", args.len())));
    };
    if let Some(orgs) = &f.orgs {
        push(&mut sql, " AND org_id = ANY($)", Box::new(orgs.clone()));
    }
    if let Some(from) = f.from {
        push(&mut sql, " AND ts >= $", Box::new(PgTime(from)));
    }
    if let Some(to) = f.to {
        push(&mut sql, " AND ts < $", Box::new(PgTime(to)));
    }
    if let Some(t) = &f.event_type {
        push(&mut sql, " AND event_type = $", Box::new(t.clone()));
    }
    if let Some(s) = f.sensor {
        push(&mut sql, " AND sensor_id = $", Box::new(s));
    }
    if let (true, Some(c)) = (with_cursor, f.cursor) {
        push(
            &mut sql,
            " AND (ts, sensor_id, seq) < ($",
            Box::new(PgTime(c.ts)),
        );
        push(&mut sql, ", $", Box::new(c.sensor_id));
        push(
            &mut sql,
            ", $)",
            Box::new(c.seq.min(i64::MAX as u64) as i64),
        );
    }
    (sql, args)
}
