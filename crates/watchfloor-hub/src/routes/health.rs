//! `/healthz` (the process answers), `/readyz` (the store answers), `/metrics`.

use crate::error::ApiError;
use crate::metrics::Gauges;
use crate::routes::sensor::now_micros;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(st): State<AppState>) -> Response {
    // A primary-key lookup: cheap, but it goes through the pool or reader like any query.
    match tokio::time::timeout(PROBE_TIMEOUT, st.store.get_org(0)).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            st.metrics.store_error();
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}"))
                .retry_after(st.config.limits.retry_after_secs)
                .into_response()
        }
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store did not answer within 2 s",
        )
        .retry_after(st.config.limits.retry_after_secs)
        .into_response(),
    }
}

pub async fn metrics(State(st): State<AppState>) -> Response {
    let listed = tokio::time::timeout(
        PROBE_TIMEOUT,
        st.store
            .list_sensors(None, now_micros(), st.config.stale_after()),
    )
    .await;
    let (sensors, sensors_stale) = match listed {
        Ok(Ok(list)) => (
            Some(list.len() as u64),
            Some(list.iter().filter(|s| s.stale).count() as u64),
        ),
        Ok(Err(e)) => {
            st.metrics.store_error();
            tracing::warn!(error = %e, "metrics: cannot list sensors");
            (None, None)
        }
        Err(_) => (None, None),
    };
    let capacity = st.config.limits.ingest_concurrency as u64;
    let g = Gauges {
        sensors,
        sensors_stale,
        ingest_in_flight: capacity.saturating_sub(st.ingest_permits.available_permits() as u64),
        ingest_capacity: capacity,
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(&g),
    )
        .into_response()
}
