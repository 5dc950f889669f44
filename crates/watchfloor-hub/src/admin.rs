//! What `watchfloor admin` does, as blocking calls on the hub's store (the same config and
//! data directory as the hub), so the binary stays free of async code.

use crate::config::HubConfig;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use watchfloor_store::{
    NewOrg, Org, OrgKind, Sensor, SensorStatus, SensorToken, Store, StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Ambiguous(String),
}

pub struct Admin {
    rt: tokio::runtime::Runtime,
    store: Arc<dyn Store>,
    stale_after: Duration,
}

impl Admin {
    /// Opens (and migrates) the store the hub with this config uses.
    pub fn open(config: &HubConfig) -> Result<Admin, AdminError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(AdminError::Runtime)?;
        let store_cfg = config.store_config();
        if let watchfloor_store::StoreConfig::Sqlite(c) = &store_cfg {
            if let Some(dir) = c.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| AdminError::DataDir {
                    path: dir.to_owned(),
                    source,
                })?;
            }
        }
        let store = rt.block_on(watchfloor_store::open(&store_cfg))?;
        Ok(Admin {
            rt,
            store,
            stale_after: config.stale_after(),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn add_org(&self, org: NewOrg) -> Result<Org, AdminError> {
        Ok(self.rt.block_on(self.store.create_org(org))?)
    }

    pub fn list_orgs(&self) -> Result<Vec<Org>, AdminError> {
        Ok(self.rt.block_on(self.store.list_orgs())?)
    }

    /// An organisation by id or exact name.
    pub fn find_org(&self, key: &str) -> Result<Org, AdminError> {
        let orgs = self.list_orgs()?;
        if let Ok(id) = key.parse::<i64>() {
            if let Some(o) = orgs.iter().find(|o| o.id == id) {
                return Ok(o.clone());
            }
        }
        let mut named = orgs.into_iter().filter(|o| o.name == key);
        match (named.next(), named.next()) {
            (Some(o), None) => Ok(o),
            (Some(_), Some(_)) => Err(AdminError::Ambiguous(format!(
                "several organisations are named {key:?}; give the id"
            ))),
            (None, _) => Err(AdminError::NotFound(format!(
                "no organisation {key:?} (see `watchfloor admin org list`)"
            ))),
        }
    }

    /// Enrolls a sensor; the token's plaintext is only in the returned value.
    pub fn add_sensor(&self, org: &str, name: &str) -> Result<(Sensor, SensorToken), AdminError> {
        let org = self.find_org(org)?;
        Ok(self.rt.block_on(self.store.enroll_sensor(org.id, name))?)
    }

    /// A sensor by id or name (names are unique within an organisation).
    pub fn find_sensor(&self, key: &str) -> Result<SensorStatus, AdminError> {
        let all = self.list_sensors()?;
        if let Ok(id) = key.parse::<i64>() {
            if let Some(s) = all.iter().find(|s| s.sensor.id == id) {
                return Ok(s.clone());
            }
        }
        let named: Vec<_> = all.into_iter().filter(|s| s.sensor.name == key).collect();
        match named.len() {
            1 => Ok(named
                .into_iter()
                .next()
                .ok_or_else(|| AdminError::NotFound(key.into()))?),
            0 => Err(AdminError::NotFound(format!(
                "no sensor {key:?} (see `watchfloor admin sensor list`)"
            ))),
            _ => Err(AdminError::Ambiguous(format!(
                "{} sensors are named {key:?} (ids {}); give the id",
                named.len(),
                named
                    .iter()
                    .map(|s| s.sensor.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Revokes every live token of the sensor; returns the sensor and how many.
    pub fn revoke_sensor(&self, key: &str) -> Result<(Sensor, u64), AdminError> {
        let s = self.find_sensor(key)?;
        let n = self
            .rt
            .block_on(self.store.revoke_sensor_token(s.sensor.id))?;
        Ok((s.sensor, n))
    }

    /// A new token for a sensor (after a revocation, or to rotate).
    pub fn issue_token(&self, key: &str) -> Result<(Sensor, SensorToken), AdminError> {
        let s = self.find_sensor(key)?;
        let t = self
            .rt
            .block_on(self.store.issue_sensor_token(s.sensor.id))?;
        Ok((s.sensor, t))
    }

    pub fn list_sensors(&self) -> Result<Vec<SensorStatus>, AdminError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        Ok(self
            .rt
            .block_on(self.store.list_sensors(None, now, self.stale_after))?)
    }
}

/// Parses `--kind`.
pub fn parse_kind(s: &str) -> Result<OrgKind, String> {
    s.parse()
}
