//! People and what they may do: users with a role in one organisation, server-side sessions,
//! personal API tokens, per-organisation share lists and the hash-chained audit log.
//!
//! Kept apart from [`crate::Store`]'s event methods as its own trait, [`Access`], reached
//! through [`crate::Store::access`]. The store only keeps and fetches: *who may see what*
//! is decided by the hub's policy module, and passwords are hashed before they reach the
//! store ([`crate::password`]).

use crate::model::{OrgId, UnixMicros};
use crate::{StoreError, StoreFuture};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

pub type UserId = i64;

/// A person's role in their organisation. Every role may read what the organisation may
/// read; `admin` also manages the organisation's people, tokens and share list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Analyst,
    Member,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (admin, analyst, member or viewer)"))
    }
}

/// What a personal API token may do: `read` only safe methods, `write` everything its
/// owner's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Read,
    Write,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }
}

impl FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(TokenScope::Read),
            "write" => Ok(TokenScope::Write),
            _ => Err(format!("unknown token scope {s:?} (read or write)")),
        }
    }
}

/// A person to create. `password_hash` is an argon2id PHC string from
/// [`crate::password::hash`]; the store never sees a password.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("org_id", &self.org_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: UnixMicros,
}

/// What sign-in needs. Never serialised.
#[derive(Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
    pub failed_sign_ins: u32,
    pub locked_until: Option<UnixMicros>,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .field("failed_sign_ins", &self.failed_sign_ins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// A session as stored: only hashes of the session id and of its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: [u8; 32],
    pub csrf_hash: [u8; 32],
    pub user_id: UserId,
    pub created_at: UnixMicros,
    pub last_seen_at: UnixMicros,
    /// Absolute expiry, whatever the activity.
    pub expires_at: UnixMicros,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserToken {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: UnixMicros,
    pub revoked_at: Option<UnixMicros>,
}

/// A personal token as issued: the plaintext (`wfu_<id>_<64 hex>`) exists only here.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedUserToken {
    pub token: UserToken,
    pub plaintext: String,
}

impl fmt::Debug for IssuedUserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedUserToken")
            .field("token", &self.token)
            .field("plaintext", &"<redacted>")
            .finish()
    }
}

/// One audit record to append; the store numbers and chains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub at: UnixMicros,
    pub actor_user: Option<UserId>,
    pub actor_org: Option<OrgId>,
    /// `session.create`, `session.create_failed`, `user.create`, `token.revoke`, ...
    pub action: String,
    /// What it was done to: `user:7`, `org:3`, `events`...
    pub target: String,
    /// Where from (the client's address), when over the API.
    pub ip: Option<String>,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: UnixMicros,
    pub actor_user: Option<UserId>,
    pub actor_org: Option<OrgId>,
    pub action: String,
    pub target: String,
    pub ip: Option<String>,
    /// JSON text, exactly as hashed.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The `prev_hash` of the first row.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEntry {
    /// The row as hashed: a JSON array of every column but `hash`, in a fixed order.
    pub fn canonical(&self) -> String {
        serde_json::json!([
            self.id,
            self.at,
            self.actor_user,
            self.actor_org,
            self.action,
            self.target,
            self.ip,
            self.detail,
            self.prev_hash
        ])
        .to_string()
    }

    /// SHA-256 (hex) over the previous row's hash and this row's canonical form.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(b"\n");
        h.update(self.canonical().as_bytes());
        crate::token::hex(&h.finalize())
    }

    /// Builds the row that follows `prev` (or the first row) and computes its hash.
    pub fn chain(id: i64, prev_hash: &str, e: &NewAuditEntry) -> AuditEntry {
        let mut row = AuditEntry {
            id,
            at: e.at,
            actor_user: e.actor_user,
            actor_org: e.actor_org,
            action: e.action.clone(),
            target: e.target.clone(),
            ip: e.ip.clone(),
            detail: e.detail.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        row.hash = row.compute_hash();
        row
    }
}

/// What `watchfloor admin audit verify` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerification {
    /// Every row's hash matches its content and its predecessor.
    Intact { rows: u64, last_hash: String },
    /// The first row that does not fit the chain, and why.
    Broken {
        rows_ok: u64,
        id: i64,
        reason: String,
    },
}

/// Walks the whole chain in pages, oldest first.
pub async fn verify_audit(store: &dyn Access) -> Result<AuditVerification, StoreError> {
    let mut prev = AUDIT_GENESIS.to_owned();
    let mut after = 0i64;
    let mut rows = 0u64;
    let mut expected_id: Option<i64> = None;
    loop {
        let page = store.list_audit(after, 1000).await?;
        if page.is_empty() {
            return Ok(AuditVerification::Intact {
                rows,
                last_hash: prev,
            });
        }
        for row in page {
            let broken = |reason: String| AuditVerification::Broken {
                rows_ok: rows,
                id: row.id,
                reason,
            };
            if let Some(want) = expected_id {
                if row.id != want {
                    return Ok(broken(format!(
                        "row {want} is missing (the next row is {})",
                        row.id
                    )));
                }
            }
            if row.prev_hash != prev {
                return Ok(broken(
                    "prev_hash does not match the previous row's hash (a row was removed or altered before it)".into(),
                ));
            }
            if row.compute_hash() != row.hash {
                return Ok(broken(
                    "hash does not match the row's content (the row was altered)".into(),
                ));
            }
            prev = row.hash.clone();
            after = row.id;
            expected_id = Some(row.id + 1);
            rows += 1;
        }
    }
}

/// Users, sessions, personal tokens, share lists and the audit log. Every backend implements
/// it; the shared test suite covers it.
pub trait Access: Send + Sync {
    /// Creates a user; the email is stored lower-case and must be unused.
    fn create_user(&self, user: NewUser) -> StoreFuture<'_, User>;
    fn get_user(&self, id: UserId) -> StoreFuture<'_, Option<User>>;
    /// The user with this email (any case) and what sign-in needs.
    fn user_credentials<'a>(&'a self, email: &'a str) -> StoreFuture<'a, Option<UserCredentials>>;
    /// Users of one organisation, or all.
    fn list_users(&self, org: Option<OrgId>) -> StoreFuture<'_, Vec<User>>;
    /// Disables (and signs out everywhere, by deleting the user's sessions) or re-enables a
    /// user. Returns false for an unknown user.
    fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreFuture<'_, bool>;
    /// Counts a failed sign-in; at `max_failures` the account is locked for `lock_for`
    /// microseconds from `now` and the count restarts. Returns the lock's end when it locked.
    fn record_sign_in_failure(
        &self,
        id: UserId,
        now: UnixMicros,
        max_failures: u32,
        lock_for: i64,
    ) -> StoreFuture<'_, Option<UnixMicros>>;
    /// After a successful sign-in.
    fn clear_sign_in_failures(&self, id: UserId) -> StoreFuture<'_, ()>;

    fn create_session(&self, session: Session) -> StoreFuture<'_, ()>;
    fn get_session(&self, id_hash: [u8; 32]) -> StoreFuture<'_, Option<Session>>;
    fn touch_session(&self, id_hash: [u8; 32], now: UnixMicros) -> StoreFuture<'_, ()>;
    /// Returns whether it existed.
    fn delete_session(&self, id_hash: [u8; 32]) -> StoreFuture<'_, bool>;

    /// A new personal token; its plaintext is only in the returned value.
    fn issue_user_token(
        &self,
        user: UserId,
        name: String,
        scope: TokenScope,
    ) -> StoreFuture<'_, IssuedUserToken>;
    /// The live token and its user, unless unknown, revoked, or the user is disabled.
    fn authenticate_user_token<'a>(
        &'a self,
        token: &'a str,
    ) -> StoreFuture<'a, Option<(UserToken, User)>>;
    fn get_user_token(&self, id: i64) -> StoreFuture<'_, Option<UserToken>>;
    fn list_user_tokens(&self, user: Option<UserId>) -> StoreFuture<'_, Vec<UserToken>>;
    /// Returns whether a live token was revoked.
    fn revoke_user_token(&self, id: i64) -> StoreFuture<'_, bool>;

    /// Grants (`shared`) or withdraws `grantee`'s read access to `owner`'s sensor data.
    /// Returns whether anything changed.
    fn set_org_share(&self, owner: OrgId, grantee: OrgId, shared: bool) -> StoreFuture<'_, bool>;
    /// Whom `owner` shares with.
    fn list_org_shares(&self, owner: OrgId) -> StoreFuture<'_, Vec<OrgId>>;
    /// Which organisations share with `grantee`.
    fn orgs_sharing_with(&self, grantee: OrgId) -> StoreFuture<'_, Vec<OrgId>>;

    /// Appends one row to the chain (serialised: one appender at a time).
    fn append_audit(&self, entry: NewAuditEntry) -> StoreFuture<'_, AuditEntry>;
    /// Rows with id > `after_id`, oldest first.
    fn list_audit(&self, after_id: i64, limit: u32) -> StoreFuture<'_, Vec<AuditEntry>>;
}

pub(crate) fn normalise_email(email: &str) -> Result<String, StoreError> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(StoreError::Invalid(format!(
            "{email:?} is not an email address"
        )));
    }
    Ok(e)
}

pub(crate) fn validate_user(u: &NewUser) -> Result<String, StoreError> {
    if u.name.trim().is_empty() {
        return Err(StoreError::Invalid("user name is empty".into()));
    }
    if !u.password_hash.starts_with("$argon2id$") {
        return Err(StoreError::Invalid(
            "password_hash must be an argon2id PHC string".into(),
        ));
    }
    normalise_email(&u.email)
}

pub(crate) fn hash32(v: Vec<u8>) -> Result<[u8; 32], StoreError> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt("a stored hash is not 32 bytes".into()))
}
