//! `hub.toml`: every setting has a default, so an empty file (or none) runs a demo hub.
//!
//! ```toml
//! listen = "127.0.0.1:8443"        # address and port of the HTTPS listener
//! data_dir = "watchfloor-hub"      # self-signed certificate, SQLite file (overridden by --data-dir)
//! stale_after_secs = 180           # a sensor not heard from for this long is stale
//! shutdown_grace_secs = 30         # how long in-flight requests may take after SIGTERM
//!
//! [tls]                            # both or neither; without them a self-signed certificate
//! cert = "/etc/watchfloor/hub.crt" # is generated into <data_dir>/tls/ on first start
//! key = "/etc/watchfloor/hub.key"
//!
//! [store]                          # default: SQLite at <data_dir>/hub.db
//! backend = "sqlite"               # or "postgres" with url = "postgres://user@host/db"
//! path = "hub.db"                  # relative paths are inside data_dir
//!
//! [limits]
//! max_compressed_bytes = 16777216     # 16 MiB request body
//! max_decompressed_bytes = 67108864   # 64 MiB of NDJSON after zstd
//! max_records = 50000                 # envelopes in one batch
//! ingest_concurrency = 16             # batches processed at once; beyond that 429
//! retry_after_secs = 1                # Retry-After of 429 and 503 answers
//! max_heartbeat_bytes = 65536
//!
//! [retention]                      # off unless configured: see below
//! keep_days = 90                   # 0 keeps everything (no retention job)
//! interval_secs = 3600             # how often the retention job runs
//!
//! [auth]                           # people signing in (see README: security notes)
//! idle_timeout_secs = 1800         # a session unused this long ends
//! absolute_timeout_secs = 43200    # a session ends this long after sign-in, used or not
//! max_failures = 5                 # failed sign-ins in a row that lock the account...
//! lockout_secs = 900               # ...for this long
//! ip_max_attempts = 30             # sign-in attempts one address may make...
//! ip_window_secs = 300             # ...per window; beyond that 429
//! ```
//!
//! Retention is off by default: it ages events out by *event* time against the wall clock, so
//! a hub fed a replayed capture (the demo, tests, exercises: synthetic traffic is dated
//! election day 2024) would drop them at its next start. Production hubs set `keep_days`
//! (a `[retention]` table without it keeps the store's default of 90 days).

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use watchfloor_store::retention::RetentionConfig;
use watchfloor_store::sqlite::SqliteConfig;
use watchfloor_store::StoreConfig;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub stale_after_secs: u64,
    pub shutdown_grace_secs: u64,
    pub tls: TlsConfig,
    /// `None`: SQLite at `<data_dir>/hub.db`.
    pub store: Option<StoreConfig>,
    pub limits: Limits,
    pub retention: RetentionConfig,
    pub auth: AuthConfig,
}

/// Sign-in, sessions and lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub idle_timeout_secs: u64,
    pub absolute_timeout_secs: u64,
    pub max_failures: u32,
    pub lockout_secs: u64,
    pub ip_max_attempts: u32,
    pub ip_window_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 12 * 3600,
            max_failures: 5,
            lockout_secs: 15 * 60,
            ip_max_attempts: 30,
            ip_window_secs: 300,
        }
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            data_dir: PathBuf::from("watchfloor-hub"),
            stale_after_secs: watchfloor_store::DEFAULT_STALE_AFTER.as_secs(),
            shutdown_grace_secs: 30,
            tls: TlsConfig::default(),
            store: None,
            limits: Limits::default(),
            retention: RetentionConfig {
                keep_days: 0,
                ..RetentionConfig::default()
            },
            auth: AuthConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_compressed_bytes: usize,
    pub max_decompressed_bytes: usize,
    pub max_records: usize,
    /// Ingest requests processed at once. Each holds at most its compressed body, the
    /// decompressed NDJSON and the records, so memory is bounded by roughly
    /// `ingest_concurrency × (max_compressed + 2 × max_decompressed)` in the worst case.
    pub ingest_concurrency: usize,
    pub retry_after_secs: u64,
    pub max_heartbeat_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed_bytes: 16 << 20,
            max_decompressed_bytes: 64 << 20,
            max_records: 50_000,
            ingest_concurrency: 16,
            retry_after_secs: 1,
            max_heartbeat_bytes: 64 << 10,
        }
    }
}

impl HubConfig {
    /// Reads a TOML file; a missing `path` is an error (pass no path for the defaults).
    pub fn load(path: &Path) -> Result<HubConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    pub fn parse(text: &str) -> Result<HubConfig, ConfigError> {
        let cfg: HubConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("hub.toml"),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if l.max_compressed_bytes == 0 || l.max_decompressed_bytes == 0 || l.max_records == 0 {
            return bad("limits: max_compressed_bytes, max_decompressed_bytes and max_records must be above 0");
        }
        if l.ingest_concurrency == 0 {
            return bad("limits.ingest_concurrency must be at least 1");
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return bad("[tls] needs both cert and key, or neither (a self-signed certificate is then generated)");
        }
        let a = &self.auth;
        if a.idle_timeout_secs == 0 || a.absolute_timeout_secs == 0 {
            return bad("auth: idle_timeout_secs and absolute_timeout_secs must be above 0");
        }
        if a.max_failures == 0 || a.ip_max_attempts == 0 || a.ip_window_secs == 0 {
            return bad("auth: max_failures, ip_max_attempts and ip_window_secs must be above 0");
        }
        if self.stale_after_secs == 0 {
            return bad("stale_after_secs must be above 0");
        }
        Ok(())
    }

    /// One line for the operator: what retention will do.
    pub fn describe_retention(&self) -> String {
        let r = &self.retention;
        if r.keep_days == 0 {
            "off (keep everything; set [retention] keep_days)".into()
        } else {
            format!(
                "events older than {} days are dropped (checked at start and every {} s)",
                r.keep_days, r.interval_secs
            )
        }
    }

    pub fn stale_after(&self) -> Duration {
        Duration::from_secs(self.stale_after_secs)
    }

    /// The store to open: relative SQLite paths live in the data directory.
    pub fn store_config(&self) -> StoreConfig {
        match &self.store {
            None => StoreConfig::Sqlite(SqliteConfig::at(self.data_dir.join("hub.db"))),
            Some(StoreConfig::Sqlite(c)) => {
                let mut c = c.clone();
                if c.path == SqliteConfig::default().path {
                    c.path = PathBuf::from("hub.db");
                }
                if c.path.is_relative() {
                    c.path = self.data_dir.join(&c.path);
                }
                StoreConfig::Sqlite(c)
            }
            Some(other) => other.clone(),
        }
    }
}

/// A human description of the store, without secrets (a PostgreSQL URL's password is hidden).
pub fn describe_store(cfg: &StoreConfig) -> String {
    match cfg {
        StoreConfig::Sqlite(c) => format!("sqlite {}", c.path.display()),
        StoreConfig::Postgres(c) => {
            let url = redact_password(&c.url);
            match &c.schema {
                Some(s) => format!("postgres {url} (schema {s})"),
                None => format!("postgres {url}"),
            }
        }
    }
}

fn redact_password(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:***@host/db
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    if url.contains("password") {
        return "<connection string with password>".into();
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = HubConfig::parse("").unwrap();
        assert_eq!(c, HubConfig::default());
        assert_eq!(c.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(c.limits.max_compressed_bytes, 16 << 20);
        assert_eq!(c.retention.keep_days, 0, "retention is opt-in");
        assert!(c.describe_retention().starts_with("off"));
        match c.store_config() {
            StoreConfig::Sqlite(s) => assert_eq!(s.path, Path::new("watchfloor-hub/hub.db")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn full_file_parses() {
        let c = HubConfig::parse(
            r#"
            listen = "0.0.0.0:9443"
            data_dir = "/var/lib/wf"
            stale_after_secs = 60
            [tls]
            cert = "/etc/c.pem"
            key = "/etc/k.pem"
            [store]
            backend = "postgres"
            url = "postgres://wf:hunter2@db/wf"
            [limits]
            ingest_concurrency = 4
            [retention]
            keep_days = 30
            interval_secs = 600
            "#,
        )
        .unwrap();
        assert_eq!(c.limits.ingest_concurrency, 4);
        assert_eq!(c.limits.max_records, 50_000);
        assert_eq!(c.retention.keep_days, 30);
        assert_eq!(
            describe_store(&c.store_config()),
            "postgres postgres://wf:***@db/wf"
        );
    }

    #[test]
    fn relative_sqlite_path_is_in_data_dir() {
        let c = HubConfig::parse("data_dir = \"/d\"\n[store]\nbackend = \"sqlite\"\n").unwrap();
        assert_eq!(describe_store(&c.store_config()), "sqlite /d/hub.db");
        let c =
            HubConfig::parse("data_dir = \"/d\"\n[store]\nbackend = \"sqlite\"\npath = \"x.db\"\n")
                .unwrap();
        assert_eq!(describe_store(&c.store_config()), "sqlite /d/x.db");
    }

    #[test]
    fn mistakes_are_named() {
        let e = HubConfig::parse("lissen = \"1.2.3.4:1\"").unwrap_err();
        assert!(e.to_string().contains("lissen"), "{e}");
        let e = HubConfig::parse("[tls]\ncert = \"c.pem\"").unwrap_err();
        assert!(e.to_string().contains("both cert and key"), "{e}");
        let e = HubConfig::parse("[limits]\ningest_concurrency = 0").unwrap_err();
        assert!(e.to_string().contains("ingest_concurrency"), "{e}");
    }
}
