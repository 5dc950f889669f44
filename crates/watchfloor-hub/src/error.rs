//! Every API error is `{"error": "...", "line": n?}` with its status (and `Retry-After` for
//! 429/503), so clients handle one shape.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use watchfloor_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// 1-based line of the batch the error is about.
    pub line: Option<usize>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            line: None,
            retry_after: None,
        }
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A store failure: 503 (retry later) when transient, 500 otherwise. The details go to the
    /// log; the client learns only that the store failed.
    pub fn store(e: &StoreError, retry_after_secs: u64) -> Self {
        if e.is_transient() {
            tracing::warn!(error = %e, "store failed transiently");
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; retry later",
            )
            .retry_after(retry_after_secs)
        } else {
            tracing::error!(error = %e, "store failed");
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal store error")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(line) = self.line {
            body["line"] = line.into();
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// A JSON request body (at most 64 KiB) whose errors answer in the API's error shape
/// (axum's `Json` answers plain text).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, ApiError> {
        let bytes = crate::routes::ingest::read_body(req.into_body(), 64 * 1024).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("request body: {e}")))
    }
}
