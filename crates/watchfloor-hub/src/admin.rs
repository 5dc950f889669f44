//! What `watchfloor admin` does, as blocking calls on the hub's store (the same config and
//! data directory as the hub), so the binary stays free of async code.

use crate::config::HubConfig;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use watchfloor_store::{
    password, verify_audit, AuditVerification, NewAuditEntry, NewOrg, NewUser, Org, OrgKind, Role,
    Sensor, SensorStatus, SensorToken, Store, StoreError, User, UserToken,
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
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("{0}")]
    Refused(String),
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
        let org = self.rt.block_on(self.store.create_org(org))?;
        self.audit(
            "org.create",
            format!("org:{}", org.id),
            serde_json::json!({"name": org.name, "kind": org.kind, "state": org.state}),
        )?;
        Ok(org)
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

impl Admin {
    /// Appends an audit row for something done from the command line (no user; `via: cli`).
    fn audit(
        &self,
        action: &str,
        target: String,
        mut detail: serde_json::Value,
    ) -> Result<(), AdminError> {
        if let Some(m) = detail.as_object_mut() {
            m.insert("via".into(), "cli".into());
        }
        self.rt
            .block_on(self.store.access().append_audit(NewAuditEntry {
                at: now(),
                actor_user: None,
                actor_org: None,
                action: action.into(),
                target,
                ip: None,
                detail,
            }))?;
        Ok(())
    }

    /// `admin init`: the national organisation and its first admin. Refused once any
    /// national organisation or any user exists.
    pub fn init(
        &self,
        org_name: &str,
        email: &str,
        name: &str,
        pw: &str,
    ) -> Result<(Org, User), AdminError> {
        let orgs = self.list_orgs()?;
        if orgs.iter().any(|o| o.kind == OrgKind::National) {
            return Err(AdminError::Refused("the hub is already initialised (a national organisation exists); use `admin user add`".into()));
        }
        if !self
            .rt
            .block_on(self.store.access().list_users(None))?
            .is_empty()
        {
            return Err(AdminError::Refused(
                "the hub already has users; use `admin user add`".into(),
            ));
        }
        let hash = password::hash(pw)?;
        let org = self.add_org(NewOrg {
            name: org_name.into(),
            kind: OrgKind::National,
            state: None,
            county_fips: None,
            parent: None,
        })?;
        let user = self.rt.block_on(self.store.access().create_user(NewUser {
            org_id: org.id,
            email: email.into(),
            name: name.into(),
            role: Role::Admin,
            password_hash: hash,
        }))?;
        self.audit(
            "user.create",
            format!("user:{}", user.id),
            serde_json::json!({"email": user.email, "org": org.id, "role": "admin"}),
        )?;
        Ok((org, user))
    }

    pub fn add_user(
        &self,
        org: &str,
        email: &str,
        name: &str,
        role: Role,
        pw: &str,
    ) -> Result<User, AdminError> {
        let org = self.find_org(org)?;
        let hash = password::hash(pw)?;
        let user = self.rt.block_on(self.store.access().create_user(NewUser {
            org_id: org.id,
            email: email.into(),
            name: name.into(),
            role,
            password_hash: hash,
        }))?;
        self.audit(
            "user.create",
            format!("user:{}", user.id),
            serde_json::json!({"email": user.email, "org": org.id, "role": role}),
        )?;
        Ok(user)
    }

    pub fn list_users(&self, org: Option<&str>) -> Result<Vec<User>, AdminError> {
        let org = org.map(|o| self.find_org(o)).transpose()?;
        Ok(self
            .rt
            .block_on(self.store.access().list_users(org.map(|o| o.id)))?)
    }

    /// A user by id or email.
    pub fn find_user(&self, key: &str) -> Result<User, AdminError> {
        let access = self.store.access();
        if let Ok(id) = key.parse::<i64>() {
            if let Some(u) = self.rt.block_on(access.get_user(id))? {
                return Ok(u);
            }
        }
        self.rt
            .block_on(access.user_credentials(key))?
            .map(|c| c.user)
            .ok_or_else(|| {
                AdminError::NotFound(format!(
                    "no user {key:?} (see `watchfloor admin user list`)"
                ))
            })
    }

    /// Disables a user and ends their sessions; their tokens stop working.
    pub fn disable_user(&self, key: &str) -> Result<User, AdminError> {
        let user = self.find_user(key)?;
        self.rt
            .block_on(self.store.access().set_user_disabled(user.id, true))?;
        self.audit(
            "user.disable",
            format!("user:{}", user.id),
            serde_json::json!({}),
        )?;
        Ok(user)
    }

    /// Revokes a personal token by id; `Ok(None)` if it was already revoked.
    pub fn revoke_user_token(&self, id: i64) -> Result<Option<UserToken>, AdminError> {
        let access = self.store.access();
        let tok = self
            .rt
            .block_on(access.get_user_token(id))?
            .ok_or_else(|| AdminError::NotFound(format!("no personal token {id}")))?;
        if !self.rt.block_on(access.revoke_user_token(id))? {
            return Ok(None);
        }
        self.audit(
            "token.revoke",
            format!("token:{id}"),
            serde_json::json!({"owner": tok.user_id}),
        )?;
        Ok(Some(tok))
    }

    pub fn list_user_tokens(&self) -> Result<Vec<UserToken>, AdminError> {
        Ok(self
            .rt
            .block_on(self.store.access().list_user_tokens(None))?)
    }

    /// Walks the audit chain.
    pub fn verify_audit(&self) -> Result<AuditVerification, AdminError> {
        Ok(self.rt.block_on(verify_audit(self.store.access()))?)
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Parses `--role`.
pub fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// Parses `--kind`.
pub fn parse_kind(s: &str) -> Result<OrgKind, String> {
    s.parse()
}
