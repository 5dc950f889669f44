//! PostgreSQL backend: a deadpool connection pool over tokio-postgres, events range-
//! partitioned by day, idempotency in `ingest_state` + `seq_pending` (see seq.rs).

mod access;
mod copy;
mod events;

use crate::migrations;
use crate::model::*;
use crate::seq::validate;
use crate::{blocking, token, Store, StoreError, StoreFuture};
use copy::PgTime;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PgConfig {
    /// `postgres://user@host:5432/db` or `host=... dbname=...`.
    pub url: String,
    /// Schema holding Watchfloor's tables (created if missing); `None` for the connection's
    /// default search_path.
    pub schema: Option<String>,
    pub pool_size: usize,
}

impl Default for PgConfig {
    fn default() -> Self {
        PgConfig {
            url: "postgres://127.0.0.1:5432/watchfloor".into(),
            schema: None,
            pool_size: 16,
        }
    }
}

pub struct PgStore {
    pool: Pool,
    schema: Option<String>,
    /// Distinguishes advisory locks of stores in different schemas of one database.
    schema_tag: String,
    /// Day partitions known to exist (a subset of the truth; see `ensure_partitions`).
    known_days: Mutex<HashSet<i64>>,
}

/// An advisory-lock key for `what` in this schema (FNV-1a).
fn lock_key(schema_tag: &str, what: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in schema_tag.bytes().chain([0]).chain(what.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

fn valid_ident(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_lowercase() || c == b'_')
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && s.len() <= 63
}

impl From<PoolError> for StoreError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Backend(e) => StoreError::Postgres(e),
            e => StoreError::Pool(e.to_string()),
        }
    }
}

impl PgStore {
    /// Builds the pool and checks that the server answers. Call [`Store::migrate`] before use
    /// (or use [`crate::open`], which does).
    pub async fn connect(config: PgConfig) -> Result<PgStore, StoreError> {
        let mut pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|e| StoreError::Invalid(format!("postgres url: {e}")))?;
        if let Some(schema) = &config.schema {
            if !valid_ident(schema) {
                return Err(StoreError::Invalid(format!(
                    "schema name {schema:?} must be lowercase letters, digits and _"
                )));
            }
            let options = match pg.get_options() {
                Some(o) => format!("{o} -c search_path={schema}"),
                None => format!("-c search_path={schema}"),
            };
            pg.options(&options);
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(10));
        }
        let mgr = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(config.pool_size.max(1))
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let store = PgStore {
            pool,
            schema_tag: config.schema.clone().unwrap_or_default(),
            schema: config.schema,
            known_days: Mutex::new(HashSet::new()),
        };
        // Fails here, with the reason, on a wrong URL or a server that is down.
        drop(store.client().await?);
        Ok(store)
    }

    async fn client(&self) -> Result<Object, StoreError> {
        Ok(self.pool.get().await?)
    }

    fn known_days(&self) -> MutexGuard<'_, HashSet<i64>> {
        // A poisoned cache is still a valid subset of the truth.
        self.known_days
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn migrate_inner(&self) -> Result<u32, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Several hub processes may start at once: one migrates, the others then see it done.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&lock_key(&self.schema_tag, "migrate")],
        )
        .await?;
        if let Some(schema) = &self.schema {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await?;
        }
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await?;
        let current: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .get(0);
        let current = current.max(0) as u32;
        let known = migrations::latest(migrations::POSTGRES);
        if current > known {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known,
            });
        }
        for m in migrations::POSTGRES.iter().filter(|m| m.version > current) {
            tx.batch_execute(m.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&(m.version as i32), &m.name],
            )
            .await?;
            tracing::info!(
                version = m.version,
                name = m.name,
                "postgres migration applied"
            );
        }
        tx.commit().await?;
        Ok(known)
    }

    async fn org_exists(&self, id: OrgId) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt("SELECT 1 FROM orgs WHERE id = $1", &[&id])
            .await?
            .is_some())
    }

    async fn create_org_inner(&self, org: NewOrg) -> Result<Org, StoreError> {
        crate::validate_org(&org)?;
        if let Some(parent) = org.parent {
            if !self.org_exists(parent).await? {
                return Err(StoreError::UnknownOrg(parent));
            }
        }
        let created_at = crate::now_micros();
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO orgs (name, kind, state, county_fips, parent_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    &org.name,
                    &org.kind.as_str(),
                    &org.state,
                    &org.county_fips,
                    &org.parent,
                    &PgTime(created_at),
                ],
            )
            .await
            .map_err(|e| conflict(e, || format!("organisation {:?}", org.name)))?;
        Ok(Org {
            id: row.get(0),
            name: org.name,
            kind: org.kind,
            state: org.state,
            county_fips: org.county_fips,
            parent: org.parent,
            created_at,
        })
    }

    async fn enroll_inner(
        &self,
        org: OrgId,
        name: &str,
    ) -> Result<(Sensor, SensorToken), StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("sensor name is empty".into()));
        }
        if !self.org_exists(org).await? {
            return Err(StoreError::UnknownOrg(org));
        }
        let secret = token::new_secret().map_err(StoreError::Random)?;
        let created_at = crate::now_micros();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id: SensorId = tx
            .query_one(
                "INSERT INTO sensors (org_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
                &[&org, &name, &PgTime(created_at)],
            )
            .await
            .map_err(|e| conflict(e, || format!("sensor {name:?}")))?
            .get(0);
        tx.execute("INSERT INTO ingest_state (sensor_id) VALUES ($1)", &[&id])
            .await?;
        let token_id: i64 = tx
            .query_one(
                "INSERT INTO sensor_tokens (sensor_id, token_hash, created_at)
                 VALUES ($1, $2, now()) RETURNING id",
                &[&id, &&token::hash(&secret)[..]],
            )
            .await?
            .get(0);
        tx.commit().await?;
        let sensor = Sensor {
            id,
            org_id: org,
            name: name.to_owned(),
            created_at,
        };
        let tok = SensorToken {
            token_id,
            sensor_id: id,
            plaintext: token::format_token(token_id, &secret),
        };
        Ok((sensor, tok))
    }

    async fn issue_inner(&self, sensor: SensorId) -> Result<SensorToken, StoreError> {
        let secret = token::new_secret().map_err(StoreError::Random)?;
        let client = self.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO sensor_tokens (sensor_id, token_hash, created_at)
                 SELECT id, $2, now() FROM sensors WHERE id = $1 RETURNING id",
                &[&sensor, &&token::hash(&secret)[..]],
            )
            .await?;
        let Some(row) = row else {
            return Err(StoreError::UnknownSensor(sensor));
        };
        let token_id: i64 = row.get(0);
        Ok(SensorToken {
            token_id,
            sensor_id: sensor,
            plaintext: token::format_token(token_id, &secret),
        })
    }

    async fn authenticate_inner(&self, presented: &str) -> Result<Option<Sensor>, StoreError> {
        let Some((token_id, secret)) = token::split(presented) else {
            return Ok(None);
        };
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT t.token_hash, t.revoked_at IS NOT NULL, s.id, s.org_id, s.name, s.created_at
                 FROM sensor_tokens t JOIN sensors s ON s.id = t.sensor_id WHERE t.id = $1",
                &[&token_id],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: Vec<u8> = row.get(0);
        let revoked: bool = row.get(1);
        let matches = token::constant_time_eq(&hash, &token::hash(secret));
        Ok((matches && !revoked).then(|| Sensor {
            id: row.get(2),
            org_id: row.get(3),
            name: row.get(4),
            created_at: row.get::<_, PgTime>(5).0,
        }))
    }

    async fn heartbeat_inner(
        &self,
        sensor: SensorId,
        counters: serde_json::Value,
        at: UnixMicros,
    ) -> Result<(), StoreError> {
        let counters = counters.to_string();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "INSERT INTO heartbeats (sensor_id, at, counters)
                 SELECT id, $2, $3::text::jsonb FROM sensors WHERE id = $1",
                &[&sensor, &PgTime(at), &counters],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::UnknownSensor(sensor));
        }
        // A late heartbeat must not make a sensor look older than it is.
        tx.execute(
            "UPDATE sensors SET last_heartbeat_at = $2, last_counters = $3::text::jsonb
             WHERE id = $1 AND (last_heartbeat_at IS NULL OR last_heartbeat_at <= $2)",
            &[&sensor, &PgTime(at), &counters],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_sensors_inner(
        &self,
        orgs: Option<Vec<OrgId>>,
        now: UnixMicros,
        stale_after: Duration,
    ) -> Result<Vec<SensorStatus>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT s.id, s.org_id, s.name, s.created_at, s.last_heartbeat_at,
                        s.last_counters::text, coalesce(i.contiguous_seq, 0)
                 FROM sensors s LEFT JOIN ingest_state i ON i.sensor_id = s.id
                 WHERE $1::bigint[] IS NULL OR s.org_id = ANY($1)
                 ORDER BY s.id",
                &[&orgs],
            )
            .await?;
        let threshold = now.saturating_sub(stale_after.as_micros().min(i64::MAX as u128) as i64);
        rows.iter()
            .map(|r| {
                let sensor = Sensor {
                    id: r.get(0),
                    org_id: r.get(1),
                    name: r.get(2),
                    created_at: r.get::<_, PgTime>(3).0,
                };
                let at: Option<PgTime> = r.get(4);
                let counters: Option<String> = r.get(5);
                let last_heartbeat = match (at, counters) {
                    (Some(at), Some(c)) => Some(Heartbeat {
                        sensor_id: sensor.id,
                        at: at.0,
                        counters: serde_json::from_str(&c)
                            .map_err(|e| StoreError::Corrupt(format!("heartbeat counters: {e}")))?,
                    }),
                    _ => None,
                };
                let stale = last_heartbeat.as_ref().is_none_or(|h| h.at < threshold);
                Ok(SensorStatus {
                    sensor,
                    last_heartbeat,
                    stale,
                    highest_contiguous_seq: r.get::<_, i64>(6) as u64,
                })
            })
            .collect()
    }
}

fn conflict(e: tokio_postgres::Error, what: impl FnOnce() -> String) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(what())
    } else {
        StoreError::Postgres(e)
    }
}

fn org_from_row(r: &Row) -> Result<Org, StoreError> {
    let kind: String = r.get(2);
    Ok(Org {
        id: r.get(0),
        name: r.get(1),
        kind: kind.parse().map_err(StoreError::Corrupt)?,
        state: r.get(3),
        county_fips: r.get(4),
        parent: r.get(5),
        created_at: r.get::<_, PgTime>(6).0,
    })
}

const ORG_COLS: &str = "id, name, kind, state, county_fips, parent_id, created_at";

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn access(&self) -> &dyn crate::Access {
        self
    }

    fn migrate(&self) -> StoreFuture<'_, u32> {
        Box::pin(self.migrate_inner())
    }

    fn create_org(&self, org: NewOrg) -> StoreFuture<'_, Org> {
        Box::pin(self.create_org_inner(org))
    }

    fn get_org(&self, id: OrgId) -> StoreFuture<'_, Option<Org>> {
        Box::pin(async move {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!("SELECT {ORG_COLS} FROM orgs WHERE id = $1"),
                    &[&id],
                )
                .await?;
            row.as_ref().map(org_from_row).transpose()
        })
    }

    fn list_orgs(&self) -> StoreFuture<'_, Vec<Org>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(&format!("SELECT {ORG_COLS} FROM orgs ORDER BY id"), &[])
                .await?;
            rows.iter().map(org_from_row).collect()
        })
    }

    fn enroll_sensor<'a>(
        &'a self,
        org: OrgId,
        name: &'a str,
    ) -> StoreFuture<'a, (Sensor, SensorToken)> {
        Box::pin(self.enroll_inner(org, name))
    }

    fn issue_sensor_token(&self, sensor: SensorId) -> StoreFuture<'_, SensorToken> {
        Box::pin(self.issue_inner(sensor))
    }

    fn authenticate_sensor<'a>(&'a self, token: &'a str) -> StoreFuture<'a, Option<Sensor>> {
        Box::pin(self.authenticate_inner(token))
    }

    fn revoke_sensor_token(&self, sensor: SensorId) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.client().await?;
            Ok(client
                .execute(
                    "UPDATE sensor_tokens SET revoked_at = now()
                     WHERE sensor_id = $1 AND revoked_at IS NULL",
                    &[&sensor],
                )
                .await?)
        })
    }

    fn ingest_batch(
        &self,
        sensor: SensorId,
        batch: Vec<EventEnvelope>,
    ) -> StoreFuture<'_, IngestOutcome> {
        Box::pin(async move {
            let prepared = blocking(move || validate(sensor, batch)).await?;
            self.ingest(sensor, prepared).await
        })
    }

    fn record_heartbeat(
        &self,
        sensor: SensorId,
        counters: serde_json::Value,
        at: UnixMicros,
    ) -> StoreFuture<'_, ()> {
        Box::pin(self.heartbeat_inner(sensor, counters, at))
    }

    fn list_sensors<'a>(
        &'a self,
        orgs: Option<&'a [OrgId]>,
        now: UnixMicros,
        stale_after: Duration,
    ) -> StoreFuture<'a, Vec<SensorStatus>> {
        Box::pin(self.list_sensors_inner(orgs.map(<[OrgId]>::to_vec), now, stale_after))
    }

    fn query_events(&self, filter: EventFilter) -> StoreFuture<'_, EventPage> {
        Box::pin(PgStore::query_events(self, filter))
    }

    fn count_events(&self, filter: EventFilter) -> StoreFuture<'_, u64> {
        Box::pin(PgStore::count_events(self, filter))
    }

    fn apply_retention(&self, older_than: UnixMicros) -> StoreFuture<'_, RetentionReport> {
        Box::pin(PgStore::apply_retention(self, older_than))
    }
}
