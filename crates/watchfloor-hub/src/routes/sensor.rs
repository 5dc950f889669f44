//! The sensor's other endpoints: where the hub stands (`GET /api/v1/ack`) and heartbeats.

use crate::auth::SensorAuth;
use crate::error::ApiError;
use crate::routes::ingest::read_body;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Serialize)]
pub struct AckReply {
    /// Every sequence `1..=acked_seq` of this sensor is durably stored.
    pub acked_seq: u64,
    /// The hub's id of the sensor (what envelopes carry as `sensor`).
    pub sensor_id: i64,
    pub sensor: String,
}

pub async fn ack(
    State(st): State<AppState>,
    SensorAuth(sensor): SensorAuth,
) -> Result<Json<AckReply>, ApiError> {
    let orgs = [sensor.org_id];
    let list = st
        .store
        .list_sensors(Some(&orgs), now_micros(), st.config.stale_after())
        .await
        .map_err(|e| {
            st.metrics.store_error();
            ApiError::store(&e, st.config.limits.retry_after_secs)
        })?;
    let acked_seq = list
        .iter()
        .find(|s| s.sensor.id == sensor.id)
        .map_or(0, |s| s.highest_contiguous_seq);
    Ok(Json(AckReply {
        acked_seq,
        sensor_id: sensor.id,
        sensor: sensor.name,
    }))
}

pub async fn heartbeat(
    State(st): State<AppState>,
    SensorAuth(sensor): SensorAuth,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let bytes = read_body(body, st.config.limits.max_heartbeat_bytes).await?;
    let counters: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("heartbeat is not JSON: {e}")))?;
    if !counters.is_object() {
        return Err(ApiError::bad_request("heartbeat must be a JSON object"));
    }
    st.store
        .record_heartbeat(sensor.id, counters, now_micros())
        .await
        .map_err(|e| {
            st.metrics.store_error();
            ApiError::store(&e, st.config.limits.retry_after_secs)
        })?;
    st.metrics.heartbeat();
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
