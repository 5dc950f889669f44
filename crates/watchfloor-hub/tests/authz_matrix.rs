//! The authorisation matrix (tests/common/matrix.rs) on SQLite, and paging/filters under the
//! policy.

mod common;

use common::*;
use serde_json::Value;
use watchfloor_store::{password, EventEnvelope, NewOrg, NewUser, OrgKind, Role, TokenScope};

#[test]
fn events_authorization_matrix_sqlite() {
    let hub = TestHub::start();
    assert_eq!(common::matrix::events_authorization_matrix(&hub), 168);
}

/// Paging and filters keep the policy: a state reader paging one event at a time sees
/// exactly its own and its counties' events, and filters narrow within that.
#[test]
fn paging_and_filters_stay_within_policy() {
    let hub = TestHub::start();
    let rt = &hub.rt;
    let store = &hub.store;
    let mk = |name: &str, kind: OrgKind, state: &str| {
        rt.block_on(store.create_org(NewOrg {
            name: name.into(),
            kind,
            state: Some(state.into()),
            county_fips: None,
            parent: None,
        }))
        .unwrap()
    };
    let pa = mk("Pennsylvania", OrgKind::State, "PA");
    let phl = mk("Philadelphia", OrgKind::Local, "PA");
    let cle = mk("Cuyahoga", OrgKind::Local, "OH");
    for (org, n) in [(&pa, 4u64), (&phl, 5), (&cle, 6)] {
        let (s, _) = rt.block_on(store.enroll_sensor(org.id, "s")).unwrap();
        let b = (1..=n)
            .map(|seq| EventEnvelope {
                sensor_id: s.id,
                seq,
                schema_version: 1,
                record: record(seq),
            })
            .collect();
        rt.block_on(store.ingest_batch(s.id, b)).unwrap();
    }
    let u = rt
        .block_on(store.access().create_user(NewUser {
            org_id: pa.id,
            email: "v@pa.example".into(),
            name: "v".into(),
            role: Role::Viewer,
            password_hash: password::hash("correct horse battery staple").unwrap(),
        }))
        .unwrap();
    let token = rt
        .block_on(
            store
                .access()
                .issue_user_token(u.id, "t".into(), TokenScope::Read),
        )
        .unwrap()
        .plaintext;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = hub.url("/api/v1/events?limit=1");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let v: Value = hub
            .client
            .get(url)
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for e in v["events"].as_array().unwrap() {
            seen.push(e["org_id"].as_i64().unwrap());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9);
    assert!(seen.iter().all(|o| *o == pa.id || *o == phl.id));
    let v: Value = hub
        .client
        .get(hub.url(
            "/api/v1/events?event_type=alert&from=2024-11-05T06:00:00Z&to=2024-11-05T07:00:00Z",
        ))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let alerts = v["events"].as_array().unwrap();
    assert!(!alerts.is_empty());
    assert!(alerts
        .iter()
        .all(|e| e["event_type"] == "alert" && e["org_id"] != cle.id));
    assert_eq!(
        alerts[0]["record"]["event_type"], "alert",
        "the EVE record as JSON"
    );
    let r = hub
        .client
        .get(hub.url("/api/v1/events?from=yesterday"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    // Every read that returned data was audited as an AMBER read.
    let rows = rt.block_on(store.access().list_audit(0, 1000)).unwrap();
    let reads = rows.iter().filter(|r| r.action == "events.read").count();
    assert_eq!(reads, 10, "9 pages of one and the filtered read");
    assert!(rows
        .iter()
        .all(|r| r.action != "events.read" || r.detail.contains("AMBER")));
}
