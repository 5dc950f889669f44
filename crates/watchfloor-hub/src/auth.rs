//! Who is calling: the one place credentials are read. Handlers take an extractor and get an
//! identity, never a header:
//!
//! - [`SensorAuth`]: a sensor's bearer token (`wfs_...`, issued by `admin sensor add`).
//! - [`UserAuth`]: a person, by session cookie (`__Host-wf_session`, set by
//!   `POST /api/v1/session`) or personal token (`Authorization: Bearer wfu_...`).
//!
//! With a cookie, every state-changing request (anything but GET/HEAD/OPTIONS) must carry the
//! session's CSRF token in `X-CSRF-Token` (synchronizer token: returned once at sign-in, kept
//! hashed with the session). A cookie is sent by the browser on its own; the header is not,
//! so a forged cross-site request cannot supply it. Bearer tokens are not sent implicitly and
//! need no CSRF token, but a `read` token may only use safe methods.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use watchfloor_store::secret::{constant_time_eq, hash};
use watchfloor_store::{Org, Role, Sensor, TokenScope, User};

/// The session cookie. `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-wf_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated sensor: the request carried `Authorization: Bearer <token>` with a live
/// (not revoked) token. Writes use this sensor's id, never one read from the payload.
#[derive(Debug, Clone)]
pub struct SensorAuth(pub Sensor);

impl FromRequestParts<AppState> for SensorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?.ok_or_else(|| {
            ApiError::unauthorized("missing Authorization: Bearer <sensor token>")
        })?;
        match state.store.authenticate_sensor(token).await {
            Ok(Some(sensor)) => Ok(SensorAuth(sensor)),
            Ok(None) => Err(ApiError::unauthorized("unknown or revoked token")),
            Err(e) => Err(store_err(state, &e)),
        }
    }
}

/// How a person authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Session cookie; `id_hash` is SHA-256 of the session id.
    Session { id_hash: [u8; 32] },
    /// Personal API token.
    Token { id: i64, scope: TokenScope },
}

/// An authenticated, enabled person with their organisation. For state-changing methods the
/// extractor has already checked the CSRF token (cookie) or the `write` scope (token).
#[derive(Debug, Clone)]
pub struct UserAuth {
    pub user: User,
    pub org: Org,
    pub via: Via,
    /// The client's address, for the audit log.
    pub ip: Option<IpAddr>,
}

impl UserAuth {
    pub fn role(&self) -> Role {
        self.user.role
    }
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for UserAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = client_ip(parts);
        let access = state.store.access();
        let (user, via) = if let Some(token) = bearer(parts)? {
            let Some((tok, user)) = access
                .authenticate_user_token(token)
                .await
                .map_err(|e| store_err(state, &e))?
            else {
                return Err(ApiError::unauthorized("unknown or revoked token"));
            };
            if !is_safe(&parts.method) && tok.scope != TokenScope::Write {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "this token's scope is read; this request needs a write token",
                ));
            }
            let via = Via::Token {
                id: tok.id,
                scope: tok.scope,
            };
            (user, via)
        } else if let Some(id) = session_cookie(parts) {
            let id_hash = hash(id);
            let session = access
                .get_session(id_hash)
                .await
                .map_err(|e| store_err(state, &e))?
                .ok_or_else(|| ApiError::unauthorized("not signed in (unknown session)"))?;
            let now = crate::routes::sensor::now_micros();
            let cfg = &state.config.auth;
            let idle = secs_to_micros(cfg.idle_timeout_secs);
            if now >= session.expires_at || now.saturating_sub(session.last_seen_at) >= idle {
                // Best effort: an expired row is useless either way.
                let _ = access.delete_session(id_hash).await;
                return Err(ApiError::unauthorized("session expired; sign in again"));
            }
            if !is_safe(&parts.method) {
                let presented = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if presented.is_empty()
                    || !constant_time_eq(&hash(presented.trim()), &session.csrf_hash)
                {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "missing or wrong X-CSRF-Token (returned at sign-in)",
                    ));
                }
            }
            // Sliding idle expiry without a write per request.
            if now.saturating_sub(session.last_seen_at) >= (idle / 4).min(60_000_000) {
                access
                    .touch_session(id_hash, now)
                    .await
                    .map_err(|e| store_err(state, &e))?;
            }
            let user = access
                .get_user(session.user_id)
                .await
                .map_err(|e| store_err(state, &e))?
                .ok_or_else(|| ApiError::unauthorized("not signed in"))?;
            (user, Via::Session { id_hash })
        } else {
            return Err(ApiError::unauthorized(
                "sign in (POST /api/v1/session) or send Authorization: Bearer <personal token>",
            ));
        };
        if user.disabled {
            return Err(ApiError::unauthorized("this account is disabled"));
        }
        let org = state
            .store
            .get_org(user.org_id)
            .await
            .map_err(|e| store_err(state, &e))?
            .ok_or_else(|| ApiError::unauthorized("the account's organisation is gone"))?;
        Ok(UserAuth { user, org, via, ip })
    }
}

pub(crate) fn secs_to_micros(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1_000_000)).unwrap_or(i64::MAX)
}

fn store_err(state: &AppState, e: &watchfloor_store::StoreError) -> ApiError {
    state.metrics.store_error();
    ApiError::store(e, state.config.limits.retry_after_secs)
}

/// The bearer token, if an Authorization header is present (malformed ones are 401).
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Authorization must be: Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "Authorization must be: Bearer <token>",
        ));
    }
    Ok(Some(token.trim()))
}

/// The session id from the Cookie header(s), if any.
pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// `Set-Cookie` for a new session.
pub fn session_set_cookie(id: &str, max_age_secs: u64) -> String {
    format!(
        "{SESSION_COOKIE}={id}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_secs}"
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn session_clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
}

/// Fixed-window counter of sign-in attempts per client address. In memory: each hub process
/// limits on its own (the per-account lockout in the store holds across processes).
pub struct IpLimiter {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl IpLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        IpLimiter {
            max: max.max(1),
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt; `Err(seconds to wait)` when the address is over its budget.
    pub fn attempt(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return Ok(());
        };
        if seen.len() > 100_000 {
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.max {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_per_address_and_window() {
        let l = IpLimiter::new(2, Duration::from_millis(200));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.attempt(a).is_ok());
        assert!(l.attempt(a).is_ok());
        assert!(l.attempt(a).is_err());
        assert!(l.attempt(b).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.attempt(a).is_ok());
    }

    #[test]
    fn cookie_flags() {
        let c = session_set_cookie("abc", 60);
        for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(c.contains(flag), "{c}");
        }
        assert!(c.starts_with("__Host-wf_session=abc;"));
    }
}
