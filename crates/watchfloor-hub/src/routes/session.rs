//! Signing in and out, and who am I.

use crate::audit;
use crate::auth::{
    client_ip, secs_to_micros, session_clear_cookie, session_cookie, session_set_cookie, UserAuth,
    Via,
};
use crate::error::ApiError;
use crate::routes::sensor::now_micros;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use watchfloor_store::secret::{hash, new_secret};
use watchfloor_store::{password, Org, Session, User};

#[derive(Deserialize)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

#[derive(Serialize)]
pub struct Me {
    pub user: User,
    pub org: Org,
    pub role: watchfloor_store::Role,
    /// `session` or `token`.
    pub auth: &'static str,
    /// The token's scope when `auth` is `token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<watchfloor_store::TokenScope>,
}

pub fn me_of(who: &UserAuth) -> Me {
    let (auth, scope) = match who.via {
        Via::Session { .. } => ("session", None),
        Via::Token { scope, .. } => ("token", Some(scope)),
    };
    Me {
        user: who.user.clone(),
        org: who.org.clone(),
        role: who.user.role,
        auth,
        scope,
    }
}

const FAILED: &str =
    "sign-in failed: wrong email or password, or the account is locked or disabled";

/// `POST /api/v1/session`: `{"email","password"}` → a new session (cookie) and its CSRF token.
/// Every failure answers the same 401, whether the account is unknown, locked, disabled or
/// the password wrong; the audit log records which.
pub async fn sign_in(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts);
    if let Some(ip) = ip {
        if let Err(wait) = st.sign_in_limiter.attempt(ip) {
            tracing::warn!(%ip, "sign-in rate limit reached");
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many sign-in attempts from this address; retry later",
            )
            .retry_after(wait));
        }
    }
    let bytes = crate::routes::ingest::read_body(body, 16 * 1024).await?;
    let form: SignIn = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("expected {{\"email\",\"password\"}}: {e}")))?;
    let access = st.store.access();
    let store_err = |e: watchfloor_store::StoreError| {
        st.metrics.store_error();
        ApiError::store(&e, st.config.limits.retry_after_secs)
    };
    let creds = access
        .user_credentials(&form.email)
        .await
        .map_err(store_err)?;
    let stored = creds.as_ref().map_or_else(
        || password::dummy_hash().to_owned(),
        |c| c.password_hash.clone(),
    );
    let pw = form.password;
    // argon2 costs tens of ms of CPU: off the async threads. Unknown accounts are verified
    // against a dummy hash so they take as long.
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &stored))
        .await
        .unwrap_or(false);
    let now = now_micros();
    let email_target = format!("email:{}", form.email.trim().to_lowercase());
    let Some(creds) = creds else {
        audit::record(
            &st,
            None,
            ip,
            "session.create_failed",
            email_target,
            json!({"reason": "unknown account"}),
        )
        .await?;
        return Err(ApiError::unauthorized(FAILED));
    };
    let user = creds.user;
    let target = format!("user:{}", user.id);
    let actor = json!({"org": user.org_id});
    if user.disabled {
        audit::record(
            &st,
            None,
            ip,
            "session.create_failed",
            target,
            json!({"reason": "disabled", "actor": actor}),
        )
        .await?;
        return Err(ApiError::unauthorized(FAILED));
    }
    if creds.locked_until.is_some_and(|t| t > now) {
        audit::record(
            &st,
            None,
            ip,
            "session.create_failed",
            target,
            json!({"reason": "locked", "locked_until": creds.locked_until}),
        )
        .await?;
        return Err(ApiError::unauthorized(FAILED));
    }
    if !ok {
        let cfg = st.config.auth;
        let locked = access
            .record_sign_in_failure(
                user.id,
                now,
                cfg.max_failures,
                secs_to_micros(cfg.lockout_secs),
            )
            .await
            .map_err(store_err)?;
        audit::record(
            &st,
            None,
            ip,
            "session.create_failed",
            target.clone(),
            json!({"reason": "wrong password"}),
        )
        .await?;
        if let Some(until) = locked {
            audit::record(
                &st,
                None,
                ip,
                "user.locked",
                target,
                json!({"locked_until": until, "after_failures": cfg.max_failures}),
            )
            .await?;
        }
        return Err(ApiError::unauthorized(FAILED));
    }
    if creds.failed_sign_ins > 0 || creds.locked_until.is_some() {
        access
            .clear_sign_in_failures(user.id)
            .await
            .map_err(store_err)?;
    }
    // Rotation: whatever session the client had is ended; a new id is issued.
    if let Some(old) = session_cookie(&parts) {
        let _ = access.delete_session(hash(old)).await;
    }
    let id = new_secret().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no randomness: {e}"),
        )
    })?;
    let csrf = new_secret().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no randomness: {e}"),
        )
    })?;
    let cfg = st.config.auth;
    let expires_at = now.saturating_add(secs_to_micros(cfg.absolute_timeout_secs));
    access
        .create_session(Session {
            id_hash: hash(&id),
            csrf_hash: hash(&csrf),
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at,
        })
        .await
        .map_err(store_err)?;
    let org = st
        .store
        .get_org(user.org_id)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ApiError::unauthorized(FAILED))?;
    let who = UserAuth {
        user: user.clone(),
        org: org.clone(),
        via: Via::Session { id_hash: hash(&id) },
        ip,
    };
    audit::record(
        &st,
        Some(&who),
        ip,
        "session.create",
        format!("user:{}", user.id),
        json!({}),
    )
    .await?;
    let body = json!({
        "user": user,
        "org": org,
        "role": user.role,
        "csrf_token": csrf,
        "expires_at": expires_at,
        "idle_timeout_secs": cfg.idle_timeout_secs,
    });
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    let cookie = session_set_cookie(&id, cfg.absolute_timeout_secs);
    let value = HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "cookie"))?;
    resp.headers_mut().insert(SET_COOKIE, value);
    Ok(resp)
}

/// `DELETE /api/v1/session`: signs out (cookie sessions only; needs the CSRF token).
pub async fn sign_out(State(st): State<AppState>, who: UserAuth) -> Result<Response, ApiError> {
    let Via::Session { id_hash } = who.via else {
        return Err(ApiError::bad_request(
            "signed in with a token, not a session: revoke the token instead",
        ));
    };
    st.store
        .access()
        .delete_session(id_hash)
        .await
        .map_err(|e| {
            st.metrics.store_error();
            ApiError::store(&e, st.config.limits.retry_after_secs)
        })?;
    audit::record(
        &st,
        Some(&who),
        None,
        "session.delete",
        format!("user:{}", who.user.id),
        json!({}),
    )
    .await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session_clear_cookie()) {
        resp.headers_mut().insert(SET_COOKIE, v);
    }
    Ok(resp)
}

/// `GET /api/v1/me`.
pub async fn me(who: UserAuth) -> Json<Me> {
    Json(me_of(&who))
}
