//! [`Access`] on SQLite: reads on the pooled readers, writes as writer jobs (so the audit
//! chain's appends are serialised by the single writer).

use super::SqliteStore;
use crate::access::*;
use crate::model::*;
use crate::{token, StoreError, StoreFuture};
use rusqlite::{params, Connection, OptionalExtension, Row};

const USER_COLS: &str = "id, org_id, email, name, role, disabled_at, created_at";

fn parse_err(i: usize, e: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(4)?;
    Ok(User {
        id: r.get(0)?,
        org_id: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: role.parse().map_err(|e| parse_err(4, e))?,
        disabled: r.get::<_, Option<i64>>(5)?.is_some(),
        created_at: r.get(6)?,
    })
}

const TOKEN_COLS: &str = "id, user_id, name, scope, created_at, revoked_at";

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<UserToken> {
    let scope: String = r.get(3)?;
    Ok(UserToken {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        scope: scope.parse().map_err(|e| parse_err(3, e))?,
        created_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

const AUDIT_COLS: &str =
    "id, at, actor_user, actor_org, action, target, ip, detail, prev_hash, hash";

fn audit_from_row(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor_user: r.get(2)?,
        actor_org: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        ip: r.get(6)?,
        detail: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

fn get_user(c: &Connection, id: UserId) -> Result<Option<User>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
        [id],
        user_from_row,
    )
    .optional()?)
}

fn create_user(c: &Connection, u: &NewUser, email: &str) -> Result<User, StoreError> {
    let org: Option<i64> = c
        .query_row("SELECT id FROM orgs WHERE id = ?1", [u.org_id], |r| {
            r.get(0)
        })
        .optional()?;
    if org.is_none() {
        return Err(StoreError::UnknownOrg(u.org_id));
    }
    let taken: Option<i64> = c
        .query_row("SELECT id FROM users WHERE email = ?1", [email], |r| {
            r.get(0)
        })
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("user {email:?}")));
    }
    let now = crate::now_micros();
    c.execute(
        "INSERT INTO users (org_id, email, name, role, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            u.org_id,
            email,
            u.name,
            u.role.as_str(),
            u.password_hash,
            now
        ],
    )?;
    Ok(User {
        id: c.last_insert_rowid(),
        org_id: u.org_id,
        email: email.to_owned(),
        name: u.name.clone(),
        role: u.role,
        disabled: false,
        created_at: now,
    })
}

/// id hash, CSRF hash, user, created, last seen, expires.
type SessionRow = (Vec<u8>, Vec<u8>, i64, i64, i64, i64);

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn append_audit(c: &Connection, e: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
    let last: Option<(i64, String)> = c
        .query_row(
            "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (id, prev) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, AUDIT_GENESIS.to_owned()),
    };
    let row = AuditEntry::chain(id, &prev, e);
    c.execute(
        &format!(
            "INSERT INTO audit_log ({AUDIT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            row.id,
            row.at,
            row.actor_user,
            row.actor_org,
            row.action,
            row.target,
            row.ip,
            row.detail,
            row.prev_hash,
            row.hash
        ],
    )?;
    Ok(row)
}

impl Access for SqliteStore {
    fn create_user(&self, user: NewUser) -> StoreFuture<'_, User> {
        Box::pin(async move {
            let email = validate_user(&user)?;
            self.write(1, move |w| create_user(&w.conn, &user, &email))
                .await
        })
    }

    fn get_user(&self, id: UserId) -> StoreFuture<'_, Option<User>> {
        Box::pin(self.read(move |c| get_user(c, id)))
    }

    fn user_credentials<'a>(&'a self, email: &'a str) -> StoreFuture<'a, Option<UserCredentials>> {
        let email = email.trim().to_lowercase();
        Box::pin(self.read(move |c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {USER_COLS}, password_hash, failed_sign_ins, locked_until
                     FROM users WHERE email = ?1"
                ),
                [email],
                |r| {
                    Ok(UserCredentials {
                        user: user_from_row(r)?,
                        password_hash: r.get(7)?,
                        failed_sign_ins: r.get(8)?,
                        locked_until: r.get(9)?,
                    })
                },
            )
            .optional()?)
        }))
    }

    fn list_users(&self, org: Option<OrgId>) -> StoreFuture<'_, Vec<User>> {
        Box::pin(self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {USER_COLS} FROM users WHERE ?1 IS NULL OR org_id = ?1 ORDER BY id"
            ))?;
            let rows = stmt.query_map([org], user_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }

    fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreFuture<'_, bool> {
        Box::pin(self.write(1, move |w| {
            let at = disabled.then(crate::now_micros);
            let n = w.conn.execute(
                "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
                params![id, at],
            )?;
            if disabled {
                w.conn
                    .execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
            }
            Ok(n > 0)
        }))
    }

    fn record_sign_in_failure(
        &self,
        id: UserId,
        now: UnixMicros,
        max_failures: u32,
        lock_for: i64,
    ) -> StoreFuture<'_, Option<UnixMicros>> {
        Box::pin(self.write(1, move |w| {
            let failed: Option<u32> = w
                .conn
                .query_row(
                    "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ?1
                     RETURNING failed_sign_ins",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            match failed {
                Some(n) if n >= max_failures.max(1) => {
                    let until = now.saturating_add(lock_for);
                    w.conn.execute(
                        "UPDATE users SET failed_sign_ins = 0, locked_until = ?2 WHERE id = ?1",
                        params![id, until],
                    )?;
                    Ok(Some(until))
                }
                _ => Ok(None),
            }
        }))
    }

    fn clear_sign_in_failures(&self, id: UserId) -> StoreFuture<'_, ()> {
        Box::pin(self.write(1, move |w| {
            w.conn.execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = ?1",
                [id],
            )?;
            Ok(())
        }))
    }

    fn create_session(&self, s: Session) -> StoreFuture<'_, ()> {
        Box::pin(self.write(1, move |w| {
            w.conn.execute(
                "INSERT INTO sessions (id_hash, csrf_hash, user_id, created_at, last_seen_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![&s.id_hash[..], &s.csrf_hash[..], s.user_id, s.created_at, s.last_seen_at, s.expires_at],
            )?;
            Ok(())
        }))
    }

    fn get_session(&self, id_hash: [u8; 32]) -> StoreFuture<'_, Option<Session>> {
        Box::pin(self.read(move |c| {
            let row = c
                .query_row(
                    "SELECT id_hash, csrf_hash, user_id, created_at, last_seen_at, expires_at
                     FROM sessions WHERE id_hash = ?1",
                    [&id_hash[..]],
                    session_from_row,
                )
                .optional()?;
            row.map(
                |(id, csrf, user_id, created_at, last_seen_at, expires_at)| {
                    Ok(Session {
                        id_hash: hash32(id)?,
                        csrf_hash: hash32(csrf)?,
                        user_id,
                        created_at,
                        last_seen_at,
                        expires_at,
                    })
                },
            )
            .transpose()
        }))
    }

    fn touch_session(&self, id_hash: [u8; 32], now: UnixMicros) -> StoreFuture<'_, ()> {
        Box::pin(self.write(1, move |w| {
            w.conn.execute(
                "UPDATE sessions SET last_seen_at = max(last_seen_at, ?2) WHERE id_hash = ?1",
                params![&id_hash[..], now],
            )?;
            Ok(())
        }))
    }

    fn delete_session(&self, id_hash: [u8; 32]) -> StoreFuture<'_, bool> {
        Box::pin(self.write(1, move |w| {
            Ok(w.conn
                .execute("DELETE FROM sessions WHERE id_hash = ?1", [&id_hash[..]])?
                > 0)
        }))
    }

    fn issue_user_token(
        &self,
        user: UserId,
        name: String,
        scope: TokenScope,
    ) -> StoreFuture<'_, IssuedUserToken> {
        Box::pin(async move {
            let secret = token::new_secret().map_err(StoreError::Random)?;
            self.write(1, move |w| {
                if get_user(&w.conn, user)?.is_none() {
                    return Err(StoreError::Invalid(format!("no user {user}")));
                }
                let now = crate::now_micros();
                w.conn.execute(
                    "INSERT INTO user_tokens (user_id, name, scope, token_hash, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![user, name, scope.as_str(), &token::hash(&secret)[..], now],
                )?;
                let id = w.conn.last_insert_rowid();
                Ok(IssuedUserToken {
                    token: UserToken {
                        id,
                        user_id: user,
                        name: name.clone(),
                        scope,
                        created_at: now,
                        revoked_at: None,
                    },
                    plaintext: format!("{}{id}_{secret}", token::USER_PREFIX),
                })
            })
            .await
        })
    }

    fn authenticate_user_token<'a>(
        &'a self,
        presented: &'a str,
    ) -> StoreFuture<'a, Option<(UserToken, User)>> {
        let presented = presented.to_owned();
        Box::pin(self.read(move |c| {
            let Some((id, secret)) = token::split_with(token::USER_PREFIX, &presented) else {
                return Ok(None);
            };
            let row = c
                .query_row(
                    &format!("SELECT {TOKEN_COLS}, token_hash FROM user_tokens WHERE id = ?1"),
                    [id],
                    |r| Ok((token_from_row(r)?, r.get::<_, Vec<u8>>(6)?)),
                )
                .optional()?;
            let Some((tok, hash)) = row else {
                return Ok(None);
            };
            if tok.revoked_at.is_some() || !token::constant_time_eq(&hash, &token::hash(secret)) {
                return Ok(None);
            }
            Ok(get_user(c, tok.user_id)?
                .filter(|u| !u.disabled)
                .map(|u| (tok, u)))
        }))
    }

    fn get_user_token(&self, id: i64) -> StoreFuture<'_, Option<UserToken>> {
        Box::pin(self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {TOKEN_COLS} FROM user_tokens WHERE id = ?1"),
                [id],
                token_from_row,
            )
            .optional()?)
        }))
    }

    fn list_user_tokens(&self, user: Option<UserId>) -> StoreFuture<'_, Vec<UserToken>> {
        Box::pin(self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {TOKEN_COLS} FROM user_tokens WHERE ?1 IS NULL OR user_id = ?1 ORDER BY id"
            ))?;
            let rows = stmt.query_map([user], token_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }

    fn revoke_user_token(&self, id: i64) -> StoreFuture<'_, bool> {
        Box::pin(self.write(1, move |w| {
            Ok(w.conn.execute(
                "UPDATE user_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, crate::now_micros()],
            )? > 0)
        }))
    }

    fn set_org_share(&self, owner: OrgId, grantee: OrgId, shared: bool) -> StoreFuture<'_, bool> {
        Box::pin(self.write(1, move |w| {
            for id in [owner, grantee] {
                let found: Option<i64> = w
                    .conn
                    .query_row("SELECT id FROM orgs WHERE id = ?1", [id], |r| r.get(0))
                    .optional()?;
                if found.is_none() {
                    return Err(StoreError::UnknownOrg(id));
                }
            }
            let n = if shared {
                w.conn.execute(
                    "INSERT OR IGNORE INTO org_shares (owner_org_id, grantee_org_id, created_at)
                     VALUES (?1, ?2, ?3)",
                    params![owner, grantee, crate::now_micros()],
                )?
            } else {
                w.conn.execute(
                    "DELETE FROM org_shares WHERE owner_org_id = ?1 AND grantee_org_id = ?2",
                    params![owner, grantee],
                )?
            };
            Ok(n > 0)
        }))
    }

    fn list_org_shares(&self, owner: OrgId) -> StoreFuture<'_, Vec<OrgId>> {
        Box::pin(self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT grantee_org_id FROM org_shares WHERE owner_org_id = ?1 ORDER BY 1",
            )?;
            let rows = stmt.query_map([owner], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }

    fn orgs_sharing_with(&self, grantee: OrgId) -> StoreFuture<'_, Vec<OrgId>> {
        Box::pin(self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT owner_org_id FROM org_shares WHERE grantee_org_id = ?1 ORDER BY 1",
            )?;
            let rows = stmt.query_map([grantee], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }

    fn append_audit(&self, entry: NewAuditEntry) -> StoreFuture<'_, AuditEntry> {
        Box::pin(self.write(1, move |w| append_audit(&w.conn, &entry)))
    }

    fn list_audit(&self, after_id: i64, limit: u32) -> StoreFuture<'_, Vec<AuditEntry>> {
        Box::pin(self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {AUDIT_COLS} FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![after_id, limit.max(1)], audit_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        }))
    }
}
