//! The authorisation matrix for `GET /api/v1/events`, over real HTTPS: every organisation
//! kind of the reader × every role × every relation of the data to the reader. Each cell
//! asserts exactly how many of that data's events the reader gets (all or none), and every
//! response is checked to hold no event of an organisation the reader may not read.
//!
//! The expected outcome comes from the rule as the issue states it (the `expected` table
//! below), not from the policy module under test. Run on SQLite by tests/authz_matrix.rs and
//! on PostgreSQL by tests/postgres.rs.

use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use watchfloor_store::{
    password, EventEnvelope, NewOrg, NewUser, Org, OrgId, OrgKind, Role, TokenScope,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Relation {
    /// The reader's own organisation's sensor.
    Own,
    /// A county (local organisation) in the reader's state.
    SameState,
    /// A county in another state.
    OtherState,
    /// The national organisation's sensor.
    National,
    /// A county elsewhere that put the reader on its share list.
    Shared,
    /// A county elsewhere that shares with someone else, not the reader.
    NotShared,
}

const RELATIONS: [Relation; 6] = [
    Relation::Own,
    Relation::SameState,
    Relation::OtherState,
    Relation::National,
    Relation::Shared,
    Relation::NotShared,
];

/// The rule of issue 7, written out: own data; the state organisation reads its counties;
/// the national organisation reads everything; anyone reads what was shared with them.
/// Roles do not change what may be read.
fn expected(reader: OrgKind, _role: Role, rel: Relation) -> bool {
    match rel {
        Relation::Own | Relation::Shared => true,
        Relation::SameState => matches!(reader, OrgKind::State | OrgKind::National),
        Relation::OtherState | Relation::National | Relation::NotShared => {
            reader == OrgKind::National
        }
    }
}

const STATES: [&str; 40] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC",
];

/// Runs the matrix on `hub` (a fresh one) and returns the number of cells.
pub fn events_authorization_matrix(hub: &TestHub) -> usize {
    let rt = &hub.rt;
    let store = &hub.store;
    let mut states = STATES.iter();
    let mut next_state = || *states.next().unwrap();
    let mk = |name: String, kind: OrgKind, state: Option<&str>| -> Org {
        rt.block_on(store.create_org(NewOrg {
            name,
            kind,
            state: state.map(Into::into),
            county_fips: None,
            parent: None,
        }))
        .unwrap()
    };
    // Each organisation gets one sensor with a distinct number of events.
    let mut events_of: BTreeMap<OrgId, usize> = BTreeMap::new();
    let mut n_events = 2usize;
    let mut feed = |org: &Org| {
        let (sensor, _) = rt.block_on(store.enroll_sensor(org.id, "s")).unwrap();
        n_events += 1;
        let batch: Vec<EventEnvelope> = (1..=n_events as u64)
            .map(|seq| EventEnvelope {
                sensor_id: sensor.id,
                seq,
                schema_version: 1,
                record: record(seq + org.id as u64 * 1000),
            })
            .collect();
        rt.block_on(store.ingest_batch(sensor.id, batch)).unwrap();
        events_of.insert(org.id, n_events);
    };

    let national = mk("National".into(), OrgKind::National, None);
    feed(&national);
    // Per reader kind: the reader's organisation (each in a state of its own, so readers do
    // not see each other through the state rule) and one owner per relation.
    struct Setup {
        kind: OrgKind,
        reader: Org,
        owners: BTreeMap<Relation, Org>,
    }
    let mut setups = Vec::new();
    for kind in OrgKind::ALL {
        let reader = if kind == OrgKind::National {
            national.clone()
        } else {
            let r = mk(format!("reader {kind}"), kind, Some(next_state()));
            feed(&r);
            r
        };
        let reader_state = reader.state.clone();
        let mut owners = BTreeMap::new();
        owners.insert(Relation::Own, reader.clone());
        owners.insert(Relation::National, national.clone());
        let same = mk(
            format!("county in the state of reader {kind}"),
            OrgKind::Local,
            Some(reader_state.as_deref().unwrap_or_else(|| next_state())),
        );
        let other = mk(
            format!("county elsewhere for {kind}"),
            OrgKind::Local,
            Some(next_state()),
        );
        let sharer = mk(
            format!("county sharing with {kind}"),
            OrgKind::Local,
            Some(next_state()),
        );
        let not_sharer = mk(
            format!("county not sharing with {kind}"),
            OrgKind::Local,
            Some(next_state()),
        );
        for o in [&same, &other, &sharer, &not_sharer] {
            feed(o);
        }
        owners.insert(Relation::SameState, same);
        owners.insert(Relation::OtherState, other);
        owners.insert(Relation::Shared, sharer);
        owners.insert(Relation::NotShared, not_sharer);
        setups.push(Setup {
            kind,
            reader,
            owners,
        });
    }
    // Shares: each sharer names its reader; each non-sharer names the national organisation
    // only (a share list that exists but does not name the reader).
    for s in &setups {
        let a = store.access();
        rt.block_on(a.set_org_share(s.owners[&Relation::Shared].id, s.reader.id, true))
            .unwrap();
        rt.block_on(a.set_org_share(s.owners[&Relation::NotShared].id, national.id, true))
            .unwrap();
    }
    let total: usize = events_of.values().sum();

    let hash = password::hash("correct horse battery staple").unwrap();
    let mut cells = 0usize;
    let mut visible_cells = 0usize;
    for s in &setups {
        // What this reader may read at all (for the no-leak check across all organisations).
        let allowed: BTreeSet<OrgId> = if s.kind == OrgKind::National {
            events_of.keys().copied().collect()
        } else {
            RELATIONS
                .iter()
                .filter(|r| expected(s.kind, Role::Viewer, **r))
                .map(|r| s.owners[r].id)
                .collect()
        };
        for role in Role::ALL {
            let u = rt
                .block_on(store.access().create_user(NewUser {
                    org_id: s.reader.id,
                    email: format!("{}-{}@matrix.example", s.kind, role),
                    name: format!("{} {}", s.kind, role),
                    role,
                    password_hash: hash.clone(),
                }))
                .unwrap();
            let token = rt
                .block_on(
                    store
                        .access()
                        .issue_user_token(u.id, "matrix".into(), TokenScope::Read),
                )
                .unwrap()
                .plaintext;
            let r = hub
                .client
                .get(hub.url("/api/v1/events?limit=10000"))
                .bearer_auth(&token)
                .send()
                .unwrap();
            assert_eq!(r.status(), 200);
            let page: Value = r.json().unwrap();
            let events = page["events"].as_array().unwrap();
            let mut got: BTreeMap<OrgId, usize> = BTreeMap::new();
            for e in events {
                *got.entry(e["org_id"].as_i64().unwrap()).or_default() += 1;
            }
            // No event of an organisation the reader may not read, whatever the relation.
            for org in got.keys() {
                assert!(
                    allowed.contains(org),
                    "{} {role}: got events of organisation {org}, allowed {allowed:?}",
                    s.kind
                );
            }
            let want_total: usize = allowed.iter().map(|o| events_of[o]).sum();
            assert_eq!(events.len(), want_total, "{} {role}: total", s.kind);
            if s.kind == OrgKind::National {
                assert_eq!(want_total, total);
            }
            for rel in RELATIONS {
                let owner = &s.owners[&rel];
                let want = if expected(s.kind, role, rel) {
                    visible_cells += 1;
                    events_of[&owner.id]
                } else {
                    0
                };
                assert_eq!(
                    got.get(&owner.id).copied().unwrap_or(0),
                    want,
                    "{} {role} reading {rel:?} (organisation {})",
                    s.kind,
                    owner.id
                );
                // The same answer through the sensor filter, and through count-free paging.
                if want == 0 {
                    let sensors = rt
                        .block_on(store.list_sensors(
                            Some(&[owner.id]),
                            0,
                            std::time::Duration::from_secs(1),
                        ))
                        .unwrap();
                    let r = hub
                        .client
                        .get(hub.url(&format!("/api/v1/events?sensor={}", sensors[0].sensor.id)))
                        .bearer_auth(&token)
                        .send()
                        .unwrap();
                    let v: Value = r.json().unwrap();
                    assert_eq!(
                        v["events"],
                        serde_json::json!([]),
                        "{} {role} {rel:?} by sensor",
                        s.kind
                    );
                }
                cells += 1;
            }
        }
    }
    let expected_cells = OrgKind::ALL.len() * Role::ALL.len() * RELATIONS.len();
    assert_eq!(cells, expected_cells);
    println!(
        "authorization matrix ({}): {cells} cells ({} org kinds x {} roles x {} relations), {visible_cells} visible, {} not",
        store.backend(),
        OrgKind::ALL.len(),
        Role::ALL.len(),
        RELATIONS.len(),
        cells - visible_cells
    );
    cells
}
