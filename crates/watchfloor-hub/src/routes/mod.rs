//! The router: one line per endpoint; handlers stay thin (parse, call the store, answer).

pub mod events;
pub mod health;
pub mod ingest;
pub mod people;
pub mod sensor;
pub mod session;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use std::time::Instant;

/// The OpenAPI 3 description of this API, served at `GET /api/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/ingest", post(ingest::ingest))
        .route("/api/v1/ack", get(sensor::ack))
        .route("/api/v1/heartbeat", post(sensor::heartbeat))
        .route(
            "/api/v1/session",
            post(session::sign_in).delete(session::sign_out),
        )
        .route("/api/v1/me", get(session::me))
        .route(
            "/api/v1/tokens",
            post(people::create_token).get(people::list_tokens),
        )
        .route("/api/v1/tokens/{id}", delete(people::revoke_token))
        .route(
            "/api/v1/users",
            get(people::list_users).post(people::create_user),
        )
        .route("/api/v1/users/{id}/disable", post(people::disable_user))
        .route("/api/v1/org/shares", get(people::list_shares))
        .route(
            "/api/v1/org/shares/{org}",
            put(people::grant_share).delete(people::withdraw_share),
        )
        .route("/api/v1/events", get(events::list))
        .route("/api/openapi.json", get(openapi))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint")
}

async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    tracing::debug!(%method, %path, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}
