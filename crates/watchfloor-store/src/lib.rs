//! The hub's store: one [`Store`] trait, two backends.
//!
//! - [`sqlite::SqliteStore`]: one file, WAL, the default; nothing to install.
//! - [`postgres::PgStore`]: for many hub processes sharing one database.
//!
//! Both pass the same test suite (`tests/suite`). The trait is object safe (`Arc<dyn Store>`),
//! so the hub picks the backend from its config at run time; see [`open`].

pub mod access;
pub mod eve;
mod migrations;
pub mod model;
pub mod password;
pub mod postgres;
pub mod retention;
mod seq;
pub mod sqlite;
mod token;

pub use access::*;
pub use model::*;

/// Random 256-bit secrets and SHA-256, as the store uses them for sensor and user tokens;
/// the hub uses the same for session ids and CSRF tokens.
pub mod secret {
    pub use crate::token::{constant_time_eq, hash, hex, new_secret};
}

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What every store method returns: a boxed future, so that `dyn Store` works
/// (`async fn` in traits is not object safe).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Everything the hub keeps. Methods that take a `SensorId` for writing take the id the caller
/// *authenticated* (via [`Store::authenticate_sensor`]), never one read from the payload.
pub trait Store: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Users, sessions, personal tokens, share lists and the audit log.
    fn access(&self) -> &dyn Access;

    /// Applies pending schema migrations; safe to call at every start and from several
    /// processes at once. Returns the schema version now in force.
    fn migrate(&self) -> StoreFuture<'_, u32>;

    fn create_org(&self, org: NewOrg) -> StoreFuture<'_, Org>;
    fn get_org(&self, id: OrgId) -> StoreFuture<'_, Option<Org>>;
    fn list_orgs(&self) -> StoreFuture<'_, Vec<Org>>;

    /// Creates a sensor and its first token. The token's plaintext is in the returned value
    /// only; the store keeps its hash.
    fn enroll_sensor<'a>(
        &'a self,
        org: OrgId,
        name: &'a str,
    ) -> StoreFuture<'a, (Sensor, SensorToken)>;
    /// A new token for an existing sensor (after a revocation, or to rotate).
    fn issue_sensor_token(&self, sensor: SensorId) -> StoreFuture<'_, SensorToken>;
    /// The sensor this token belongs to, unless it is unknown or revoked.
    fn authenticate_sensor<'a>(&'a self, token: &'a str) -> StoreFuture<'a, Option<Sensor>>;
    /// Revokes every live token of the sensor; returns how many.
    fn revoke_sensor_token(&self, sensor: SensorId) -> StoreFuture<'_, u64>;

    /// Stores a batch in one transaction and returns only once it is durable. Every record is
    /// validated first: one malformed record (or one claiming another sensor) refuses the whole
    /// batch with its 1-based line and nothing is written. Replays and duplicates are counted,
    /// not stored again.
    fn ingest_batch(
        &self,
        sensor: SensorId,
        batch: Vec<EventEnvelope>,
    ) -> StoreFuture<'_, IngestOutcome>;

    fn record_heartbeat(
        &self,
        sensor: SensorId,
        counters: serde_json::Value,
        at: UnixMicros,
    ) -> StoreFuture<'_, ()>;
    /// Sensors (of `orgs`, if given) with their last heartbeat; `stale` when none arrived
    /// within `stale_after` before `now`.
    fn list_sensors<'a>(
        &'a self,
        orgs: Option<&'a [OrgId]>,
        now: UnixMicros,
        stale_after: Duration,
    ) -> StoreFuture<'a, Vec<SensorStatus>>;

    /// One page of events, newest first.
    fn query_events(&self, filter: EventFilter) -> StoreFuture<'_, EventPage>;
    fn count_events(&self, filter: EventFilter) -> StoreFuture<'_, u64>;

    /// Drops whole day buckets that end at or before `older_than` (a bucket that still holds
    /// newer events is kept until it is entirely old), and heartbeats older than it.
    fn apply_retention(&self, older_than: UnixMicros) -> StoreFuture<'_, RetentionReport>;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("line {line} (seq {seq}): {reason}")]
    Record {
        line: usize,
        seq: u64,
        reason: eve::RecordError,
    },
    #[error(
        "line {line}: record claims sensor {claimed} but the batch is from sensor {authenticated}"
    )]
    WrongSensor {
        line: usize,
        claimed: SensorId,
        authenticated: SensorId,
    },
    #[error("line {line}: sequence {seq} out of range (1..=2^63-1)")]
    BadSequence { line: usize, seq: u64 },
    #[error("no sensor {0}")]
    UnknownSensor(SensorId),
    #[error("no organisation {0}")]
    UnknownOrg(OrgId),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("database schema is version {found}, newer than this build knows ({known})")]
    SchemaTooNew { found: u32, known: u32 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres pool: {0}")]
    Pool(String),
    #[error("the store's writer has stopped{0}")]
    WriterGone(String),
    #[error("the batch was applied but its commit failed: {0}")]
    Commit(String),
    #[error("no randomness for a token: {0}")]
    Random(getrandom::Error),
    #[error("background task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// Whether the same request may succeed later (the database was busy, down, or restarted)
    /// as opposed to being refused for what it contains.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(_)
                | StoreError::Postgres(_)
                | StoreError::Pool(_)
                | StoreError::WriterGone(_)
                | StoreError::Commit(_)
                | StoreError::Task(_)
        )
    }
}

/// Which backend, from the hub's config:
///
/// ```toml
/// [store]
/// backend = "sqlite"
/// path = "/var/lib/watchfloor/hub.db"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum StoreConfig {
    Sqlite(sqlite::SqliteConfig),
    Postgres(postgres::PgConfig),
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Sqlite(sqlite::SqliteConfig::default())
    }
}

/// Opens the configured store and applies its migrations.
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = match config {
        StoreConfig::Sqlite(c) => Arc::new(sqlite::SqliteStore::open(c.clone()).await?),
        StoreConfig::Postgres(c) => Arc::new(postgres::PgStore::connect(c.clone()).await?),
    };
    store.migrate().await?;
    Ok(store)
}

/// Wall-clock now, for creation times. Event times come from the records.
pub(crate) fn now_micros() -> UnixMicros {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

pub(crate) fn validate_org(org: &NewOrg) -> Result<(), StoreError> {
    if org.name.trim().is_empty() {
        return Err(StoreError::Invalid("organisation name is empty".into()));
    }
    if let Some(s) = &org.state {
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(StoreError::Invalid(format!(
                "state code {s:?} is not two capital letters"
            )));
        }
    }
    if let Some(f) = &org.county_fips {
        if f.len() != 5 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StoreError::Invalid(format!(
                "county FIPS {f:?} is not five digits"
            )));
        }
    }
    if org.kind == OrgKind::Local && org.state.is_none() {
        return Err(StoreError::Invalid(
            "a local organisation needs its state code".into(),
        ));
    }
    Ok(())
}

/// Runs CPU-bound work (parsing a batch) off the async worker threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

/// The default threshold for `stale`: three missed one-minute heartbeats.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(180);
