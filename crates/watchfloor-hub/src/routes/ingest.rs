//! `POST /api/v1/ingest`: a zstd NDJSON batch of envelopes from one sensor, stored exactly once.

use crate::auth::SensorAuth;
use crate::config::Limits;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use std::time::Instant;
use watchfloor_ship::batch::{decompress, parse_ndjson};
use watchfloor_ship::BatchError;
use watchfloor_store::{EventEnvelope, Sensor, StoreError};

#[derive(Debug, Serialize)]
pub struct IngestReply {
    /// Every sequence `1..=acked_seq` of this sensor is durably stored.
    pub acked_seq: u64,
    pub stored: u64,
    pub duplicates: u64,
}

pub async fn ingest(
    State(st): State<AppState>,
    auth: Result<SensorAuth, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = match auth {
        Ok(SensorAuth(sensor)) => handle(&st, sensor, &headers, body).await,
        Err(e) => Err(e),
    };
    let resp = match result {
        Ok(reply) => Json(reply).into_response(),
        Err(e) => {
            if e.status.is_server_error() || e.status == StatusCode::TOO_MANY_REQUESTS {
                tracing::debug!(status = %e.status, error = %e.message, "ingest refused");
            } else {
                tracing::info!(status = %e.status, error = %e.message, line = ?e.line, "ingest refused");
            }
            e.into_response()
        }
    };
    st.metrics
        .ingest_finished(resp.status().as_u16(), started.elapsed());
    resp
}

async fn handle(
    st: &AppState,
    sensor: Sensor,
    headers: &HeaderMap,
    body: Body,
) -> Result<IngestReply, ApiError> {
    check_media(headers)?;
    let limits = st.config.limits;
    if let Some(len) = content_length(headers) {
        if len > limits.max_compressed_bytes as u64 {
            return Err(too_large(format!(
                "batch body of {len} bytes is over the limit of {} bytes",
                limits.max_compressed_bytes
            )));
        }
    }
    // Back-pressure: refuse at once rather than queue without bound.
    let _permit = st.ingest_permits.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "the hub is busy; retry after the indicated delay",
        )
        .retry_after(limits.retry_after_secs)
    })?;
    let body = read_body(body, limits.max_compressed_bytes).await?;
    let compressed = body.len();
    let sensor_id = sensor.id;
    let (batch, decompressed) =
        tokio::task::spawn_blocking(move || decode(&body, &sensor, &limits))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("decoder failed: {e}"),
                )
            })??;
    st.metrics.batch_bytes(compressed, decompressed);
    let outcome = st
        .store
        .ingest_batch(sensor_id, batch)
        .await
        .map_err(|e| store_error(st, e))?;
    st.metrics.stored(outcome.inserted, outcome.duplicates);
    Ok(IngestReply {
        acked_seq: outcome.highest_contiguous_seq,
        stored: outcome.inserted,
        duplicates: outcome.duplicates,
    })
}

fn check_media(headers: &HeaderMap) -> Result<(), ApiError> {
    let unsupported = |m: String| ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, m);
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/x-ndjson") {
        return Err(unsupported(format!(
            "Content-Type must be application/x-ndjson, not {ct:?}"
        )));
    }
    let ce = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ce.trim().eq_ignore_ascii_case("zstd") {
        return Err(unsupported(format!(
            "Content-Encoding must be zstd, not {ce:?}"
        )));
    }
    Ok(())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
}

/// Reads the body, refusing more than `max` bytes without buffering beyond it.
pub(crate) async fn read_body(body: Body, max: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(too_large(format!("body is over the limit of {max} bytes")))
        }
        Err(e) => Err(ApiError::bad_request(format!("cannot read the body: {e}"))),
    }
}

/// Decompresses and parses a batch (CPU work, run off the async threads) into the store's
/// envelopes. Returns them and the NDJSON size.
fn decode(
    body: &[u8],
    sensor: &Sensor,
    limits: &Limits,
) -> Result<(Vec<EventEnvelope>, usize), ApiError> {
    let ndjson = decompress(body, limits.max_decompressed_bytes).map_err(|e| match e {
        BatchError::TooLarge { max } => too_large(format!(
            "batch decompresses to more than the limit of {max} bytes"
        )),
        other => ApiError::bad_request(other.to_string()),
    })?;
    let envelopes = parse_ndjson(&ndjson).map_err(|e| match e {
        BatchError::Line { line, error } => {
            ApiError::bad_request(format!("line {line}: {error}")).at_line(line)
        }
        other => ApiError::bad_request(other.to_string()),
    })?;
    if envelopes.is_empty() {
        return Err(ApiError::bad_request("batch holds no records"));
    }
    if envelopes.len() > limits.max_records {
        return Err(too_large(format!(
            "batch of {} records is over the limit of {}",
            envelopes.len(),
            limits.max_records
        )));
    }
    let id = sensor.id.to_string();
    let mut out = Vec::with_capacity(envelopes.len());
    for (i, env) in envelopes.iter().enumerate() {
        // The envelope names its sensor by the hub's id (as `admin sensor add` prints it) or
        // by its enrolled name; anything else is another sensor's record.
        if env.sensor != id && env.sensor != sensor.name {
            let line = i + 1;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "line {line}: envelope names sensor {:?} but the token is sensor {} ({:?})",
                    env.sensor, sensor.id, sensor.name
                ),
            )
            .at_line(line));
        }
        out.push(EventEnvelope {
            sensor_id: sensor.id,
            seq: env.seq,
            schema_version: env.v,
            record: env.event.to_vec(),
        });
    }
    Ok((out, ndjson.len()))
}

fn store_error(st: &AppState, e: StoreError) -> ApiError {
    match e {
        StoreError::Record { line, .. } | StoreError::BadSequence { line, .. } => {
            ApiError::bad_request(e.to_string()).at_line(line)
        }
        StoreError::WrongSensor { line, .. } => {
            ApiError::new(StatusCode::FORBIDDEN, e.to_string()).at_line(line)
        }
        StoreError::Invalid(m) => ApiError::bad_request(m),
        other => {
            st.metrics.store_error();
            ApiError::store(&other, st.config.limits.retry_after_secs)
        }
    }
}
