//! Personal tokens, the organisation's people and its share list.

use crate::audit;
use crate::auth::UserAuth;
use crate::error::{ApiError, JsonBody};
use crate::policy::{allows, Action};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use watchfloor_store::{
    password, NewUser, OrgId, OrgKind, Role, StoreError, TokenScope, User, UserToken,
};

fn store_err(st: &AppState) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::Invalid(m) => ApiError::bad_request(m),
        StoreError::Conflict(m) => {
            ApiError::new(StatusCode::CONFLICT, format!("{m} already exists"))
        }
        StoreError::UnknownOrg(_) => ApiError::new(StatusCode::NOT_FOUND, "no such organisation"),
        e => {
            st.metrics.store_error();
            ApiError::store(&e, st.config.limits.retry_after_secs)
        }
    }
}

fn forbidden(what: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, format!("your role may not {what}"))
}

#[derive(Deserialize)]
pub struct NewToken {
    pub name: String,
    pub scope: TokenScope,
}

/// `POST /api/v1/tokens`: a personal token for the caller, shown once.
pub async fn create_token(
    State(st): State<AppState>,
    who: UserAuth,
    JsonBody(req): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if req.name.trim().is_empty() || req.name.len() > 200 {
        return Err(ApiError::bad_request("name: 1 to 200 characters"));
    }
    let issued = st
        .store
        .access()
        .issue_user_token(who.user.id, req.name.trim().to_owned(), req.scope)
        .await
        .map_err(store_err(&st))?;
    audit::record(
        &st,
        Some(&who),
        None,
        "token.create",
        format!("token:{}", issued.token.id),
        json!({"scope": req.scope, "name": issued.token.name}),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"token": issued.plaintext, "id": issued.token.id, "name": issued.token.name, "scope": issued.token.scope}),
        ),
    ))
}

/// `GET /api/v1/tokens`: the caller's tokens (never their secrets).
pub async fn list_tokens(
    State(st): State<AppState>,
    who: UserAuth,
) -> Result<Json<Vec<UserToken>>, ApiError> {
    Ok(Json(
        st.store
            .access()
            .list_user_tokens(Some(who.user.id))
            .await
            .map_err(store_err(&st))?,
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's tokens, or (admin) one of a
/// person of the same organisation. Anything else is 404, as if it did not exist.
pub async fn revoke_token(
    State(st): State<AppState>,
    who: UserAuth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let access = st.store.access();
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "no such token");
    let tok = access
        .get_user_token(id)
        .await
        .map_err(store_err(&st))?
        .ok_or_else(not_found)?;
    if tok.user_id != who.user.id {
        let owner = access
            .get_user(tok.user_id)
            .await
            .map_err(store_err(&st))?
            .ok_or_else(not_found)?;
        if !(allows(who.role(), Action::ManageUsers) && owner.org_id == who.org.id) {
            return Err(not_found());
        }
    }
    let revoked = access.revoke_user_token(id).await.map_err(store_err(&st))?;
    if revoked {
        audit::record(
            &st,
            Some(&who),
            None,
            "token.revoke",
            format!("token:{id}"),
            json!({"owner": tok.user_id}),
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct UsersQuery {
    /// National admins may list another organisation's people.
    pub org: Option<OrgId>,
}

fn target_org(who: &UserAuth, asked: Option<OrgId>) -> Result<OrgId, ApiError> {
    match asked {
        None => Ok(who.org.id),
        Some(o) if o == who.org.id || who.org.kind == OrgKind::National => Ok(o),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only the national organisation manages other organisations' people",
        )),
    }
}

/// `GET /api/v1/users` (admin).
pub async fn list_users(
    State(st): State<AppState>,
    who: UserAuth,
    Query(q): Query<UsersQuery>,
) -> Result<Json<Vec<User>>, ApiError> {
    if !allows(who.role(), Action::ManageUsers) {
        return Err(forbidden("manage people"));
    }
    let org = target_org(&who, q.org)?;
    Ok(Json(
        st.store
            .access()
            .list_users(Some(org))
            .await
            .map_err(store_err(&st))?,
    ))
}

#[derive(Deserialize)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub org: Option<OrgId>,
}

/// `POST /api/v1/users` (admin): a person in the admin's organisation (national admins: any).
pub async fn create_user(
    State(st): State<AppState>,
    who: UserAuth,
    JsonBody(req): JsonBody<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    if !allows(who.role(), Action::ManageUsers) {
        return Err(forbidden("manage people"));
    }
    let org = target_org(&who, req.org)?;
    let pw = req.password;
    let hashed = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let user = st
        .store
        .access()
        .create_user(NewUser {
            org_id: org,
            email: req.email,
            name: req.name,
            role: req.role,
            password_hash: hashed,
        })
        .await
        .map_err(store_err(&st))?;
    audit::record(
        &st,
        Some(&who),
        None,
        "user.create",
        format!("user:{}", user.id),
        json!({"email": user.email, "org": user.org_id, "role": user.role}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `POST /api/v1/users/{id}/disable` (admin): disables and signs the person out everywhere.
pub async fn disable_user(
    State(st): State<AppState>,
    who: UserAuth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if !allows(who.role(), Action::ManageUsers) {
        return Err(forbidden("manage people"));
    }
    let access = st.store.access();
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "no such user");
    let user = access
        .get_user(id)
        .await
        .map_err(store_err(&st))?
        .ok_or_else(not_found)?;
    if user.org_id != who.org.id && who.org.kind != OrgKind::National {
        return Err(not_found());
    }
    access
        .set_user_disabled(id, true)
        .await
        .map_err(store_err(&st))?;
    audit::record(
        &st,
        Some(&who),
        None,
        "user.disable",
        format!("user:{id}"),
        json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/org/shares`: the organisations the caller's organisation shares its sensor
/// data with (beyond its state and the national organisation). Any role may see it.
pub async fn list_shares(
    State(st): State<AppState>,
    who: UserAuth,
) -> Result<Json<serde_json::Value>, ApiError> {
    let ids = st
        .store
        .access()
        .list_org_shares(who.org.id)
        .await
        .map_err(store_err(&st))?;
    Ok(Json(json!({"org": who.org.id, "shared_with": ids})))
}

/// `PUT` / `DELETE /api/v1/org/shares/{grantee}` (admin): grant or withdraw.
pub async fn grant_share(
    State(st): State<AppState>,
    who: UserAuth,
    Path(grantee): Path<OrgId>,
) -> Result<StatusCode, ApiError> {
    set_share(st, who, grantee, true).await
}

pub async fn withdraw_share(
    State(st): State<AppState>,
    who: UserAuth,
    Path(grantee): Path<OrgId>,
) -> Result<StatusCode, ApiError> {
    set_share(st, who, grantee, false).await
}

async fn set_share(
    st: AppState,
    who: UserAuth,
    grantee: OrgId,
    shared: bool,
) -> Result<StatusCode, ApiError> {
    if !allows(who.role(), Action::ManageShares) {
        return Err(forbidden("change the share list"));
    }
    if grantee == who.org.id {
        return Err(ApiError::bad_request(
            "an organisation always reads its own data",
        ));
    }
    let changed = st
        .store
        .access()
        .set_org_share(who.org.id, grantee, shared)
        .await
        .map_err(store_err(&st))?;
    if changed {
        let action = if shared {
            "share.grant"
        } else {
            "share.withdraw"
        };
        audit::record(
            &st,
            Some(&who),
            None,
            action,
            format!("org:{}", who.org.id),
            json!({"grantee": grantee}),
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
