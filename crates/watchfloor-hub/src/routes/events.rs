//! `GET /api/v1/events`: a page of the events the caller may read, newest first. The policy
//! module turns the caller into the store's org filter, so the database returns only those.

use crate::audit;
use crate::auth::UserAuth;
use crate::error::ApiError;
use crate::policy::{self, allows, Action};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use watchfloor_store::{Cursor, EventFilter, OrgId, SensorId, UnixMicros};

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// Inclusive; Unix microseconds or a timestamp (`2024-11-05T06:00:00Z`, EVE's format).
    pub from: Option<String>,
    /// Exclusive; same forms.
    pub to: Option<String>,
    pub event_type: Option<String>,
    pub sensor: Option<SensorId>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Serialize)]
pub struct EventOut {
    pub sensor_id: SensorId,
    pub seq: u64,
    pub org_id: OrgId,
    /// Unix microseconds.
    pub ts: UnixMicros,
    pub event_type: String,
    /// The EVE record as the sensor sent it.
    pub record: Box<RawValue>,
}

#[derive(Serialize)]
pub struct EventsPage {
    pub events: Vec<EventOut>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn time_param(name: &str, v: &Option<String>) -> Result<Option<UnixMicros>, ApiError> {
    let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(n) = v.parse::<i64>() {
        return Ok(Some(n));
    }
    watchfloor_store::eve::parse_timestamp(v)
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name}: not a timestamp or Unix microseconds: {v:?}"
            ))
        })
}

pub async fn list(
    State(st): State<AppState>,
    who: UserAuth,
    Query(q): Query<EventsQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    if !allows(who.role(), Action::Read) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "your role may not read events",
        ));
    }
    let store_err = |e: watchfloor_store::StoreError| {
        st.metrics.store_error();
        ApiError::store(&e, st.config.limits.retry_after_secs)
    };
    let cursor = q
        .cursor
        .as_deref()
        .map(str::parse::<Cursor>)
        .transpose()
        .map_err(ApiError::bad_request)?;
    // The national organisation reads everything; nobody else needs the lists.
    let orgs = if who.org.kind == watchfloor_store::OrgKind::National {
        None
    } else {
        let all = st.store.list_orgs().await.map_err(store_err)?;
        let sharing = st
            .store
            .access()
            .orgs_sharing_with(who.org.id)
            .await
            .map_err(store_err)?;
        policy::readable_orgs(&who.org, &all, &sharing)
    };
    let filter = EventFilter {
        orgs,
        from: time_param("from", &q.from)?,
        to: time_param("to", &q.to)?,
        event_type: q.event_type.clone().filter(|t| !t.is_empty()),
        sensor: q.sensor,
        limit: q.limit,
        cursor,
    };
    let page = st.store.query_events(filter).await.map_err(store_err)?;
    let mut owners: Vec<OrgId> = page.events.iter().map(|e| e.org_id).collect();
    owners.sort_unstable();
    owners.dedup();
    let events = page
        .events
        .into_iter()
        .map(|e| {
            let text = String::from_utf8(e.record).map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "stored record is not UTF-8",
                )
            })?;
            let record = RawValue::from_string(text).map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "stored record is not JSON",
                )
            })?;
            Ok(EventOut {
                sensor_id: e.sensor_id,
                seq: e.seq,
                org_id: e.org_id,
                ts: e.ts,
                event_type: e.event_type,
                record,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    // Sensor data is TLP:AMBER: every read that returned some is audited (before answering).
    if !events.is_empty() {
        audit::record(&st, Some(&who), None, "events.read", "events".into(), json!({
            "tlp": "AMBER",
            "count": events.len(),
            "owner_orgs": owners,
            "query": {"from": q.from, "to": q.to, "event_type": q.event_type, "sensor": q.sensor, "cursor": q.cursor},
        })).await?;
    }
    Ok(Json(EventsPage {
        events,
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}
