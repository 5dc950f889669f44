//! Who is calling. Today only sensors (bearer tokens issued by `admin sensor add`); user
//! sessions and the org/role/TLP policy will plug in here, so handlers never look at
//! credentials themselves: they take an extractor ([`SensorAuth`]) and get an identity.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use watchfloor_store::Sensor;

/// An authenticated sensor: the request carried `Authorization: Bearer <token>` with a live
/// (not revoked) token. Writes use this sensor's id, never one read from the payload.
#[derive(Debug, Clone)]
pub struct SensorAuth(pub Sensor);

impl FromRequestParts<AppState> for SensorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        match state.store.authenticate_sensor(token).await {
            Ok(Some(sensor)) => Ok(SensorAuth(sensor)),
            Ok(None) => Err(ApiError::unauthorized("unknown or revoked token")),
            Err(e) => {
                state.metrics.store_error();
                Err(ApiError::store(&e, state.config.limits.retry_after_secs))
            }
        }
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <sensor token>"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Authorization must be: Bearer <sensor token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "Authorization must be: Bearer <sensor token>",
        ));
    }
    Ok(token.trim())
}
