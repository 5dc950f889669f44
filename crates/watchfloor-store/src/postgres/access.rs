//! [`Access`] on PostgreSQL. Audit appends take a transaction-scoped advisory lock, so
//! concurrent hub processes extend the chain one row at a time.

use super::{conflict, lock_key, PgStore};
use crate::access::*;
use crate::model::*;
use crate::{token, StoreError, StoreFuture};
use tokio_postgres::Row;

const USER_COLS: &str = "id, org_id, email, name, role, disabled_at, created_at";

fn user_from_row(r: &Row) -> Result<User, StoreError> {
    let role: String = r.get(4);
    Ok(User {
        id: r.get(0),
        org_id: r.get(1),
        email: r.get(2),
        name: r.get(3),
        role: role.parse().map_err(StoreError::Corrupt)?,
        disabled: r.get::<_, Option<i64>>(5).is_some(),
        created_at: r.get(6),
    })
}

const TOKEN_COLS: &str = "id, user_id, name, scope, created_at, revoked_at";

fn token_from_row(r: &Row) -> Result<UserToken, StoreError> {
    let scope: String = r.get(3);
    Ok(UserToken {
        id: r.get(0),
        user_id: r.get(1),
        name: r.get(2),
        scope: scope.parse().map_err(StoreError::Corrupt)?,
        created_at: r.get(4),
        revoked_at: r.get(5),
    })
}

const AUDIT_COLS: &str =
    "id, at, actor_user, actor_org, action, target, ip, detail, prev_hash, hash";

fn audit_from_row(r: &Row) -> AuditEntry {
    AuditEntry {
        id: r.get(0),
        at: r.get(1),
        actor_user: r.get(2),
        actor_org: r.get(3),
        action: r.get(4),
        target: r.get(5),
        ip: r.get(6),
        detail: r.get(7),
        prev_hash: r.get(8),
        hash: r.get(9),
    }
}

impl PgStore {
    async fn get_user_inner(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
                &[&id],
            )
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }
}

impl Access for PgStore {
    fn create_user(&self, user: NewUser) -> StoreFuture<'_, User> {
        Box::pin(async move {
            let email = validate_user(&user)?;
            if !self.org_exists(user.org_id).await? {
                return Err(StoreError::UnknownOrg(user.org_id));
            }
            let now = crate::now_micros();
            let client = self.client().await?;
            let row = client
                .query_one(
                    "INSERT INTO users (org_id, email, name, role, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[
                        &user.org_id,
                        &email,
                        &user.name,
                        &user.role.as_str(),
                        &user.password_hash,
                        &now,
                    ],
                )
                .await
                .map_err(|e| conflict(e, || format!("user {email:?}")))?;
            Ok(User {
                id: row.get(0),
                org_id: user.org_id,
                email,
                name: user.name,
                role: user.role,
                disabled: false,
                created_at: now,
            })
        })
    }

    fn get_user(&self, id: UserId) -> StoreFuture<'_, Option<User>> {
        Box::pin(self.get_user_inner(id))
    }

    fn user_credentials<'a>(&'a self, email: &'a str) -> StoreFuture<'a, Option<UserCredentials>> {
        Box::pin(async move {
            let email = email.trim().to_lowercase();
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {USER_COLS}, password_hash, failed_sign_ins, locked_until
                         FROM users WHERE email = $1"
                    ),
                    &[&email],
                )
                .await?;
            row.map(|r| {
                Ok(UserCredentials {
                    user: user_from_row(&r)?,
                    password_hash: r.get(7),
                    failed_sign_ins: r.get::<_, i32>(8).max(0) as u32,
                    locked_until: r.get(9),
                })
            })
            .transpose()
        })
    }

    fn list_users(&self, org: Option<OrgId>) -> StoreFuture<'_, Vec<User>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {USER_COLS} FROM users WHERE $1::BIGINT IS NULL OR org_id = $1
                         ORDER BY id"
                    ),
                    &[&org],
                )
                .await?;
            rows.iter().map(user_from_row).collect()
        })
    }

    fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let at = disabled.then(crate::now_micros);
            let n = tx
                .execute(
                    "UPDATE users SET disabled_at = $2 WHERE id = $1",
                    &[&id, &at],
                )
                .await?;
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&id])
                    .await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    fn record_sign_in_failure(
        &self,
        id: UserId,
        now: UnixMicros,
        max_failures: u32,
        lock_for: i64,
    ) -> StoreFuture<'_, Option<UnixMicros>> {
        Box::pin(async move {
            let max = i32::try_from(max_failures.max(1)).unwrap_or(i32::MAX);
            let until = now.saturating_add(lock_for);
            let client = self.client().await?;
            // One statement: concurrent failures cannot both miss the threshold.
            let row = client
                .query_opt(
                    "UPDATE users SET
                        failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0
                                               ELSE failed_sign_ins + 1 END,
                        locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $3
                                            ELSE locked_until END
                     WHERE id = $1 RETURNING failed_sign_ins = 0",
                    &[&id, &max, &until],
                )
                .await?;
            Ok(row.and_then(|r| r.get::<_, bool>(0).then_some(until)))
        })
    }

    fn clear_sign_in_failures(&self, id: UserId) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1",
                    &[&id],
                )
                .await?;
            Ok(())
        })
    }

    fn create_session(&self, s: Session) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO sessions (id_hash, csrf_hash, user_id, created_at, last_seen_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &&s.id_hash[..],
                        &&s.csrf_hash[..],
                        &s.user_id,
                        &s.created_at,
                        &s.last_seen_at,
                        &s.expires_at,
                    ],
                )
                .await?;
            Ok(())
        })
    }

    fn get_session(&self, id_hash: [u8; 32]) -> StoreFuture<'_, Option<Session>> {
        Box::pin(async move {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    "SELECT id_hash, csrf_hash, user_id, created_at, last_seen_at, expires_at
                     FROM sessions WHERE id_hash = $1",
                    &[&&id_hash[..]],
                )
                .await?;
            row.map(|r| {
                Ok(Session {
                    id_hash: hash32(r.get(0))?,
                    csrf_hash: hash32(r.get(1))?,
                    user_id: r.get(2),
                    created_at: r.get(3),
                    last_seen_at: r.get(4),
                    expires_at: r.get(5),
                })
            })
            .transpose()
        })
    }

    fn touch_session(&self, id_hash: [u8; 32], now: UnixMicros) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(
                    "UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2)
                     WHERE id_hash = $1",
                    &[&&id_hash[..], &now],
                )
                .await?;
            Ok(())
        })
    }

    fn delete_session(&self, id_hash: [u8; 32]) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let client = self.client().await?;
            Ok(client
                .execute("DELETE FROM sessions WHERE id_hash = $1", &[&&id_hash[..]])
                .await?
                > 0)
        })
    }

    fn issue_user_token(
        &self,
        user: UserId,
        name: String,
        scope: TokenScope,
    ) -> StoreFuture<'_, IssuedUserToken> {
        Box::pin(async move {
            if self.get_user_inner(user).await?.is_none() {
                return Err(StoreError::Invalid(format!("no user {user}")));
            }
            let secret = token::new_secret().map_err(StoreError::Random)?;
            let now = crate::now_micros();
            let client = self.client().await?;
            let row = client
                .query_one(
                    "INSERT INTO user_tokens (user_id, name, scope, token_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[
                        &user,
                        &name,
                        &scope.as_str(),
                        &&token::hash(&secret)[..],
                        &now,
                    ],
                )
                .await?;
            let id: i64 = row.get(0);
            Ok(IssuedUserToken {
                token: UserToken {
                    id,
                    user_id: user,
                    name,
                    scope,
                    created_at: now,
                    revoked_at: None,
                },
                plaintext: format!("{}{id}_{secret}", token::USER_PREFIX),
            })
        })
    }

    fn authenticate_user_token<'a>(
        &'a self,
        presented: &'a str,
    ) -> StoreFuture<'a, Option<(UserToken, User)>> {
        Box::pin(async move {
            let Some((id, secret)) = token::split_with(token::USER_PREFIX, presented) else {
                return Ok(None);
            };
            let client = self.client().await?;
            let Some(row) = client
                .query_opt(
                    &format!("SELECT {TOKEN_COLS}, token_hash FROM user_tokens WHERE id = $1"),
                    &[&id],
                )
                .await?
            else {
                return Ok(None);
            };
            let tok = token_from_row(&row)?;
            let hash: Vec<u8> = row.get(6);
            if tok.revoked_at.is_some() || !token::constant_time_eq(&hash, &token::hash(secret)) {
                return Ok(None);
            }
            drop(client);
            Ok(self
                .get_user_inner(tok.user_id)
                .await?
                .filter(|u| !u.disabled)
                .map(|u| (tok, u)))
        })
    }

    fn get_user_token(&self, id: i64) -> StoreFuture<'_, Option<UserToken>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .query_opt(
                    &format!("SELECT {TOKEN_COLS} FROM user_tokens WHERE id = $1"),
                    &[&id],
                )
                .await?
                .as_ref()
                .map(token_from_row)
                .transpose()
        })
    }

    fn list_user_tokens(&self, user: Option<UserId>) -> StoreFuture<'_, Vec<UserToken>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {TOKEN_COLS} FROM user_tokens
                         WHERE $1::BIGINT IS NULL OR user_id = $1 ORDER BY id"
                    ),
                    &[&user],
                )
                .await?;
            rows.iter().map(token_from_row).collect()
        })
    }

    fn revoke_user_token(&self, id: i64) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let client = self.client().await?;
            Ok(client
                .execute(
                    "UPDATE user_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &crate::now_micros()],
                )
                .await?
                > 0)
        })
    }

    fn set_org_share(&self, owner: OrgId, grantee: OrgId, shared: bool) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            for id in [owner, grantee] {
                if !self.org_exists(id).await? {
                    return Err(StoreError::UnknownOrg(id));
                }
            }
            let client = self.client().await?;
            let n = if shared {
                client
                    .execute(
                        "INSERT INTO org_shares (owner_org_id, grantee_org_id, created_at)
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        &[&owner, &grantee, &crate::now_micros()],
                    )
                    .await?
            } else {
                client
                    .execute(
                        "DELETE FROM org_shares WHERE owner_org_id = $1 AND grantee_org_id = $2",
                        &[&owner, &grantee],
                    )
                    .await?
            };
            Ok(n > 0)
        })
    }

    fn list_org_shares(&self, owner: OrgId) -> StoreFuture<'_, Vec<OrgId>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT grantee_org_id FROM org_shares WHERE owner_org_id = $1 ORDER BY 1",
                    &[&owner],
                )
                .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn orgs_sharing_with(&self, grantee: OrgId) -> StoreFuture<'_, Vec<OrgId>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT owner_org_id FROM org_shares WHERE grantee_org_id = $1 ORDER BY 1",
                    &[&grantee],
                )
                .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn append_audit(&self, entry: NewAuditEntry) -> StoreFuture<'_, AuditEntry> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&lock_key(&self.schema_tag, "audit")],
            )
            .await?;
            let last = tx
                .query_opt(
                    "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
                    &[],
                )
                .await?;
            let (id, prev) = match last {
                Some(r) => (r.get::<_, i64>(0) + 1, r.get::<_, String>(1)),
                None => (1, AUDIT_GENESIS.to_owned()),
            };
            let row = AuditEntry::chain(id, &prev, &entry);
            tx.execute(
                &format!(
                    "INSERT INTO audit_log ({AUDIT_COLS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ),
                &[
                    &row.id,
                    &row.at,
                    &row.actor_user,
                    &row.actor_org,
                    &row.action,
                    &row.target,
                    &row.ip,
                    &row.detail,
                    &row.prev_hash,
                    &row.hash,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    fn list_audit(&self, after_id: i64, limit: u32) -> StoreFuture<'_, Vec<AuditEntry>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {AUDIT_COLS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2"
                    ),
                    &[&after_id, &i64::from(limit.max(1))],
                )
                .await?;
            Ok(rows.iter().map(audit_from_row).collect())
        })
    }
}
