//! Writing the audit log from the API. A change is audited before it is answered; if the
//! audit row cannot be written the request fails (no unaudited change is reported as done).

use crate::auth::UserAuth;
use crate::error::ApiError;
use crate::state::AppState;
use std::net::IpAddr;
use watchfloor_store::NewAuditEntry;

/// Appends one row for `who` (or an anonymous caller from `ip`).
pub async fn record(
    st: &AppState,
    who: Option<&UserAuth>,
    ip: Option<IpAddr>,
    action: &str,
    target: String,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let entry = NewAuditEntry {
        at: crate::routes::sensor::now_micros(),
        actor_user: who.map(|w| w.user.id),
        actor_org: who.map(|w| w.org.id),
        action: action.to_owned(),
        target,
        ip: ip.or(who.and_then(|w| w.ip)).map(|i| i.to_string()),
        detail,
    };
    st.store
        .access()
        .append_audit(entry)
        .await
        .map(|_| ())
        .map_err(|e| {
            st.metrics.store_error();
            ApiError::store(&e, st.config.limits.retry_after_secs)
        })
}
