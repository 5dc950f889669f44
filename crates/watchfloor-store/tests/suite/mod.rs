//! The one test suite every backend passes. Each function gets a fresh, migrated store.

use std::sync::Arc;
use std::time::Duration;
use watchfloor_store::*;

/// 2024-11-05T06:00:00Z, election day morning.
pub const T0: UnixMicros = 1_730_786_400 * MICROS_PER_SEC;

/// Lists every suite test; each backend's test file expands it into `#[tokio::test]`s.
#[macro_export]
macro_rules! suite_tests {
    ($run:ident) => {
        suite_tests!(@each $run:
            orgs_and_validation, idempotent_reingest, overlapping_batches,
            out_of_order_and_contiguous_seq, malformed_record_rejects_whole_batch,
            sensor_identity_and_tokens, heartbeats_and_staleness, query_filters_and_paging,
            retention_drops_old_buckets_only, migrate_again_is_a_no_op, concurrent_ingest,
            record_bytes_and_columns, users_and_credentials, sessions_roundtrip,
            user_tokens_scoped_and_revocable, org_shares, audit_chain_appends_and_verifies,
            event_filter_by_orgs);
    };
    (@each $run:ident: $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $run(stringify!($name), |s| Box::pin(suite::$name(s))).await;
            }
        )*
    };
}

pub fn ts(t: UnixMicros) -> String {
    let secs = t.div_euclid(MICROS_PER_SEC);
    let micros = t.rem_euclid(MICROS_PER_SEC);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = eve::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+0000",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// A realistic EVE record of the given type.
pub fn record(t: UnixMicros, event_type: &str, i: u64) -> Vec<u8> {
    let extra = match event_type {
        "alert" => format!(
            r#","alert":{{"action":"allowed","gid":1,"signature_id":{},"rev":1,"signature":"ET SCAN test {i}","category":"Attempted Information Leak","severity":2}}"#,
            2_000_000 + i % 7
        ),
        "dns" => format!(
            r#","dns":{{"version":3,"type":"request","id":{},"rrname":"vote{i}.example.gov","rrtype":"A"}}"#,
            i % 65_536
        ),
        _ => format!(
            r#","flow":{{"pkts_toserver":{},"pkts_toclient":3,"bytes_toserver":420,"bytes_toclient":1337,"start":"{}","end":"{}","age":0,"state":"closed","reason":"timeout","alerted":false}}"#,
            i % 11 + 1,
            ts(t),
            ts(t)
        ),
    };
    format!(
        r#"{{"timestamp":"{}","flow_id":{},"event_type":"{event_type}","src_ip":"10.20.{}.{}","src_port":{},"dest_ip":"192.0.2.{}","dest_port":53,"proto":"UDP","app_proto":"dns"{extra}}}"#,
        ts(t),
        1_000_000_000_000 + i,
        i % 200,
        i % 250 + 1,
        1024 + i % 60_000,
        i % 250 + 1
    )
    .into_bytes()
}

pub fn batch(sensor: SensorId, seqs: impl IntoIterator<Item = u64>) -> Vec<EventEnvelope> {
    seqs.into_iter()
        .map(|seq| EventEnvelope {
            sensor_id: sensor,
            seq,
            schema_version: 1,
            record: record(
                T0 + seq as i64 * MICROS_PER_SEC,
                ["flow", "dns", "alert"][seq as usize % 3],
                seq,
            ),
        })
        .collect()
}

pub fn state_org(name: &str, code: &str) -> NewOrg {
    NewOrg {
        name: name.into(),
        kind: OrgKind::State,
        state: Some(code.into()),
        county_fips: None,
        parent: None,
    }
}

async fn setup(store: &dyn Store, org_name: &str) -> (Org, Sensor, SensorToken) {
    let org = store.create_org(state_org(org_name, "PA")).await.unwrap();
    let (sensor, token) = store.enroll_sensor(org.id, "sensor-1").await.unwrap();
    (org, sensor, token)
}

fn all(sensor: Option<SensorId>) -> EventFilter {
    EventFilter {
        sensor,
        ..EventFilter::default()
    }
}

pub async fn orgs_and_validation(store: Arc<dyn Store>) {
    let pa = store
        .create_org(state_org("Pennsylvania", "PA"))
        .await
        .unwrap();
    let phila = store
        .create_org(NewOrg {
            name: "Philadelphia County".into(),
            kind: OrgKind::Local,
            state: Some("PA".into()),
            county_fips: Some("42101".into()),
            parent: Some(pa.id),
        })
        .await
        .unwrap();
    assert_eq!(
        store.get_org(phila.id).await.unwrap().as_ref(),
        Some(&phila)
    );
    assert_eq!(store.get_org(9_999_999).await.unwrap(), None);
    let listed = store.list_orgs().await.unwrap();
    assert_eq!(listed, vec![pa.clone(), phila]);
    let dup = store.create_org(state_org("Pennsylvania", "PA")).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let bad_parent = store
        .create_org(NewOrg {
            parent: Some(9_999_999),
            ..state_org("Nowhere", "NW")
        })
        .await;
    assert!(
        matches!(bad_parent, Err(StoreError::UnknownOrg(_))),
        "{bad_parent:?}"
    );
    let bad_state = store.create_org(state_org("Pennsy", "Pa")).await;
    assert!(
        matches!(bad_state, Err(StoreError::Invalid(_))),
        "{bad_state:?}"
    );
    let dup_sensor = async {
        store.enroll_sensor(pa.id, "s").await?;
        store.enroll_sensor(pa.id, "s").await
    }
    .await;
    assert!(matches!(dup_sensor, Err(StoreError::Conflict(_))));
    let orphan = store.enroll_sensor(9_999_999, "s").await;
    assert!(matches!(orphan, Err(StoreError::UnknownOrg(_))));
}

pub async fn idempotent_reingest(store: Arc<dyn Store>) {
    let (_, s, _) = setup(&*store, "PA").await;
    let first = store
        .ingest_batch(s.id, batch(s.id, 1..=100))
        .await
        .unwrap();
    assert_eq!(
        first,
        IngestOutcome {
            inserted: 100,
            duplicates: 0,
            highest_contiguous_seq: 100
        }
    );
    let again = store
        .ingest_batch(s.id, batch(s.id, 1..=100))
        .await
        .unwrap();
    assert_eq!(
        again,
        IngestOutcome {
            inserted: 0,
            duplicates: 100,
            highest_contiguous_seq: 100
        }
    );
    assert_eq!(store.count_events(all(None)).await.unwrap(), 100);
    // Repeats inside one batch count once.
    let inner = store
        .ingest_batch(s.id, batch(s.id, [101, 101, 102]))
        .await
        .unwrap();
    assert_eq!((inner.inserted, inner.duplicates), (2, 1));
    assert_eq!(store.count_events(all(None)).await.unwrap(), 102);
    let empty = store.ingest_batch(s.id, Vec::new()).await.unwrap();
    assert_eq!(empty.highest_contiguous_seq, 102);
}

pub async fn overlapping_batches(store: Arc<dyn Store>) {
    let (_, s, _) = setup(&*store, "PA").await;
    store.ingest_batch(s.id, batch(s.id, 1..=60)).await.unwrap();
    let o = store
        .ingest_batch(s.id, batch(s.id, 41..=100))
        .await
        .unwrap();
    assert_eq!(
        (o.inserted, o.duplicates, o.highest_contiguous_seq),
        (40, 20, 100)
    );
    assert_eq!(store.count_events(all(Some(s.id))).await.unwrap(), 100);
}

pub async fn out_of_order_and_contiguous_seq(store: Arc<dyn Store>) {
    let (_, s, _) = setup(&*store, "PA").await;
    let o = store
        .ingest_batch(s.id, batch(s.id, 51..=100))
        .await
        .unwrap();
    assert_eq!((o.inserted, o.highest_contiguous_seq), (50, 0));
    let o = store.ingest_batch(s.id, batch(s.id, 1..=20)).await.unwrap();
    assert_eq!(o.highest_contiguous_seq, 20);
    // Overlaps the pending range: 60..=70 were stored out of order.
    let o = store
        .ingest_batch(s.id, batch(s.id, (60..=70).chain(21..=30)))
        .await
        .unwrap();
    assert_eq!(
        (o.inserted, o.duplicates, o.highest_contiguous_seq),
        (10, 11, 30)
    );
    let o = store
        .ingest_batch(s.id, batch(s.id, (31..=50).rev()))
        .await
        .unwrap();
    assert_eq!((o.inserted, o.highest_contiguous_seq), (20, 100));
    // Below the watermark everything is a duplicate, above it a gap stays a gap.
    let o = store
        .ingest_batch(s.id, batch(s.id, [5, 99, 102, 103]))
        .await
        .unwrap();
    assert_eq!(
        (o.inserted, o.duplicates, o.highest_contiguous_seq),
        (2, 2, 100)
    );
    let o = store.ingest_batch(s.id, batch(s.id, [101])).await.unwrap();
    assert_eq!(o.highest_contiguous_seq, 103);
    assert_eq!(store.count_events(all(None)).await.unwrap(), 103);
    let listed = store
        .list_sensors(None, T0, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(listed[0].highest_contiguous_seq, 103);
}

pub async fn malformed_record_rejects_whole_batch(store: Arc<dyn Store>) {
    let (_, s, _) = setup(&*store, "PA").await;
    let cases: [(&[u8], &str); 4] = [
        (
            br#"{"timestamp":"2024-11-05T06:00:00.000000+0000","event_type":"flow""#,
            "JSON",
        ),
        (br#"{"event_type":"flow"}"#, "timestamp"),
        (
            br#"{"timestamp":"2024-11-05T06:00:00.000000+0000"}"#,
            "event_type",
        ),
        (
            br#"{"timestamp":"tuesday","event_type":"flow"}"#,
            "timestamp",
        ),
    ];
    for (bad, what) in cases {
        let mut b = batch(s.id, 1..=10);
        b[6].record = bad.to_vec();
        let err = store.ingest_batch(s.id, b).await.unwrap_err();
        match &err {
            StoreError::Record {
                line: 7, seq: 7, ..
            } => {}
            other => panic!("wrong error {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("line 7") && msg.contains(what), "{msg}");
        assert!(!err.is_transient());
        assert_eq!(store.count_events(all(None)).await.unwrap(), 0);
    }
    let mut b = batch(s.id, 1..=3);
    b[1].seq = 0;
    assert!(matches!(
        store.ingest_batch(s.id, b).await,
        Err(StoreError::BadSequence { line: 2, seq: 0 })
    ));
    // Nothing was half-applied: the same sequences still go in.
    let o = store.ingest_batch(s.id, batch(s.id, 1..=10)).await.unwrap();
    assert_eq!((o.inserted, o.highest_contiguous_seq), (10, 10));
}

pub async fn sensor_identity_and_tokens(store: Arc<dyn Store>) {
    let (org, a, token_a) = setup(&*store, "PA").await;
    let (b, token_b) = store.enroll_sensor(org.id, "sensor-2").await.unwrap();
    assert_eq!(
        store.authenticate_sensor(&token_a.plaintext).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.authenticate_sensor(&token_b.plaintext).await.unwrap(),
        Some(b.clone())
    );
    assert!(!format!("{token_a:?}").contains(&token_a.plaintext));
    // The right token id with another secret, or nonsense, gets nobody.
    let forged = format!("wfs_{}_{}", token_a.token_id, "0".repeat(64));
    assert_eq!(store.authenticate_sensor(&forged).await.unwrap(), None);
    assert_eq!(store.authenticate_sensor("wfs_1_x").await.unwrap(), None);
    assert_eq!(store.authenticate_sensor("").await.unwrap(), None);
    // A writes only as itself: a record claiming B refuses the batch.
    let mut mixed = batch(a.id, 1..=5);
    mixed.extend(batch(b.id, 6..=6));
    let err = store.ingest_batch(a.id, mixed).await.unwrap_err();
    assert!(
        matches!(err, StoreError::WrongSensor { line: 6, claimed, authenticated } if claimed == b.id && authenticated == a.id)
    );
    assert_eq!(store.count_events(all(None)).await.unwrap(), 0);
    // Revocation.
    assert_eq!(store.revoke_sensor_token(a.id).await.unwrap(), 1);
    assert_eq!(
        store.authenticate_sensor(&token_a.plaintext).await.unwrap(),
        None
    );
    assert_eq!(
        store.authenticate_sensor(&token_b.plaintext).await.unwrap(),
        Some(b)
    );
    let fresh = store.issue_sensor_token(a.id).await.unwrap();
    assert_ne!(fresh.plaintext, token_a.plaintext);
    assert_eq!(
        store.authenticate_sensor(&fresh.plaintext).await.unwrap(),
        Some(a)
    );
    assert!(matches!(
        store.issue_sensor_token(9_999_999).await,
        Err(StoreError::UnknownSensor(_))
    ));
    assert!(matches!(
        store.ingest_batch(9_999_999, batch(9_999_999, [1])).await,
        Err(StoreError::UnknownSensor(_))
    ));
}

pub async fn heartbeats_and_staleness(store: Arc<dyn Store>) {
    let (org, a, _) = setup(&*store, "PA").await;
    let (b, _) = store.enroll_sensor(org.id, "sensor-2").await.unwrap();
    let counters = serde_json::json!({"packets": 1000, "drops": 2, "spool_depth": 0});
    store
        .record_heartbeat(a.id, counters.clone(), T0)
        .await
        .unwrap();
    // An older heartbeat arriving late does not replace the newer one.
    store
        .record_heartbeat(
            a.id,
            serde_json::json!({"packets": 1}),
            T0 - 60 * MICROS_PER_SEC,
        )
        .await
        .unwrap();
    let now = T0 + 30 * MICROS_PER_SEC;
    let list = store
        .list_sensors(None, now, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].sensor, a);
    assert!(!list[0].stale);
    assert_eq!(
        list[0].last_heartbeat.as_ref().map(|h| (h.at, &h.counters)),
        Some((T0, &counters))
    );
    assert_eq!(list[1].sensor, b);
    assert!(list[1].stale && list[1].last_heartbeat.is_none());
    let later = store
        .list_sensors(None, T0 + 600 * MICROS_PER_SEC, Duration::from_secs(120))
        .await
        .unwrap();
    assert!(later[0].stale);
    let other = store.create_org(state_org("Georgia", "GA")).await.unwrap();
    let none = store
        .list_sensors(Some(&[other.id]), now, Duration::from_secs(120))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert!(matches!(
        store.record_heartbeat(9_999_999, counters, T0).await,
        Err(StoreError::UnknownSensor(_))
    ));
}

pub async fn query_filters_and_paging(store: Arc<dyn Store>) {
    let pa = store
        .create_org(state_org("Pennsylvania", "PA"))
        .await
        .unwrap();
    let ga = store.create_org(state_org("Georgia", "GA")).await.unwrap();
    let (spa, _) = store.enroll_sensor(pa.id, "pa-1").await.unwrap();
    let (sga, _) = store.enroll_sensor(ga.id, "ga-1").await.unwrap();
    store
        .ingest_batch(spa.id, batch(spa.id, 1..=90))
        .await
        .unwrap();
    store
        .ingest_batch(sga.id, batch(sga.id, 1..=30))
        .await
        .unwrap();

    let only_pa = EventFilter {
        orgs: Some(vec![pa.id]),
        ..EventFilter::default()
    };
    assert_eq!(store.count_events(only_pa.clone()).await.unwrap(), 90);
    let nobody = EventFilter {
        orgs: Some(vec![]),
        ..EventFilter::default()
    };
    assert_eq!(store.count_events(nobody.clone()).await.unwrap(), 0);
    assert!(store.query_events(nobody).await.unwrap().events.is_empty());
    let alerts_ga = EventFilter {
        orgs: Some(vec![ga.id]),
        event_type: Some("alert".into()),
        ..EventFilter::default()
    };
    let page = store.query_events(alerts_ga).await.unwrap();
    assert_eq!(page.events.len(), 10);
    assert!(page
        .events
        .iter()
        .all(|e| e.org_id == ga.id && e.event_type == "alert" && e.signature_id.is_some()));
    let window = EventFilter {
        sensor: Some(spa.id),
        from: Some(T0 + 10 * MICROS_PER_SEC),
        to: Some(T0 + 20 * MICROS_PER_SEC),
        ..EventFilter::default()
    };
    let page = store.query_events(window.clone()).await.unwrap();
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (10..20).rev().collect::<Vec<_>>());
    assert_eq!(store.count_events(window).await.unwrap(), 10);

    // Paging walks every event once, newest first.
    let mut filter = EventFilter {
        limit: Some(7),
        ..only_pa
    };
    let mut seen = Vec::new();
    loop {
        let page = store.query_events(filter.clone()).await.unwrap();
        assert!(page.events.len() <= 7);
        seen.extend(page.events.iter().map(|e| (e.ts, e.seq)));
        match page.next_cursor {
            Some(c) => {
                let parsed: Cursor = c.to_string().parse().unwrap();
                assert_eq!(parsed, c);
                filter.cursor = Some(c);
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 90);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));
}

pub async fn retention_drops_old_buckets_only(store: Arc<dyn Store>) {
    let (_, s, _) = setup(&*store, "PA").await;
    let day = MICROS_PER_DAY;
    let noon = T0 - 6 * 3600 * MICROS_PER_SEC + day / 2; // 2024-11-05T12:00Z
    let at = |seq: u64, t: UnixMicros| EventEnvelope {
        sensor_id: s.id,
        seq,
        schema_version: 1,
        record: record(t, "flow", seq),
    };
    let b = vec![
        at(1, noon - 3 * day),
        at(2, noon - 3 * day),
        at(3, noon - 2 * day),
        at(4, noon - day),
        at(5, noon),
    ];
    store.ingest_batch(s.id, b).await.unwrap();
    store
        .record_heartbeat(s.id, serde_json::json!({}), noon - 3 * day)
        .await
        .unwrap();
    // The cutoff is in the middle of 11-04: 11-02 and 11-03 go, 11-04 (partly newer) stays.
    let report = store.apply_retention(noon - day).await.unwrap();
    assert_eq!(
        report,
        RetentionReport {
            events_deleted: 3,
            buckets_dropped: 2,
            heartbeats_deleted: 1
        }
    );
    assert_eq!(store.count_events(all(None)).await.unwrap(), 2);
    let again = store.apply_retention(noon - day).await.unwrap();
    assert_eq!(again, RetentionReport::default());
    // Aged-out sequences are still known: a replay does not bring them back.
    let o = store
        .ingest_batch(s.id, vec![at(1, noon - 3 * day)])
        .await
        .unwrap();
    assert_eq!(
        (o.inserted, o.duplicates, o.highest_contiguous_seq),
        (0, 1, 5)
    );
    // A late record for a dropped day is stored again (and would go at the next run).
    let o = store
        .ingest_batch(s.id, vec![at(6, noon - 3 * day)])
        .await
        .unwrap();
    assert_eq!(o.inserted, 1);
    assert_eq!(store.count_events(all(None)).await.unwrap(), 3);
}

pub async fn migrate_again_is_a_no_op(store: Arc<dyn Store>) {
    let (_, s, _) = setup(&*store, "PA").await;
    store.ingest_batch(s.id, batch(s.id, 1..=10)).await.unwrap();
    let v1 = store.migrate().await.unwrap();
    let v2 = store.migrate().await.unwrap();
    assert_eq!(v1, v2);
    assert!(v1 >= 1);
    assert_eq!(store.count_events(all(None)).await.unwrap(), 10);
}

pub async fn concurrent_ingest(store: Arc<dyn Store>) {
    let org = store
        .create_org(state_org("Pennsylvania", "PA"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..6 {
        let (s, _) = store.enroll_sensor(org.id, &format!("s{n}")).await.unwrap();
        // Two shippers per sensor racing each other with the same batches: the second of
        // each pair is a replay.
        for _ in 0..2 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let mut inserted = 0;
                for chunk in 0..5u64 {
                    let o = store
                        .ingest_batch(s.id, batch(s.id, chunk * 200 + 1..=chunk * 200 + 200))
                        .await
                        .unwrap();
                    inserted += o.inserted;
                }
                inserted
            }));
        }
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 6 * 1000);
    assert_eq!(store.count_events(all(None)).await.unwrap(), 6000);
    let list = store
        .list_sensors(None, T0, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(list.iter().all(|s| s.highest_contiguous_seq == 1000));
}

pub async fn record_bytes_and_columns(store: Arc<dyn Store>) {
    let (org, s, _) = setup(&*store, "PA").await;
    // Odd spacing, unicode, key order and an unknown field: stored exactly as sent.
    let raw = "{ \"event_type\":\"alert\", \"timestamp\":\"2024-11-05T06:00:00.123456+0000\",\n\"src_ip\":\"2001:db8::1\",\"dest_ip\":\"not-an-ip\",\"src_port\":443,\"dest_port\":\"x\",\"flow_id\":9007199254740991,\"proto\":\"TCP\",\"alert\":{\"signature_id\":2024897,\"signature\":\"ET – test ☃\"},\"x_new_field\":[1,2,{}]}";
    let env = EventEnvelope {
        sensor_id: s.id,
        seq: 1,
        schema_version: 2,
        record: raw.as_bytes().to_vec(),
    };
    store.ingest_batch(s.id, vec![env]).await.unwrap();
    let page = store.query_events(all(None)).await.unwrap();
    let e = &page.events[0];
    assert_eq!(e.record, raw.as_bytes());
    assert_eq!((e.sensor_id, e.seq, e.org_id), (s.id, 1, org.id));
    assert_eq!(e.ts, T0 + 123_456);
    assert_eq!(e.event_type, "alert");
    assert_eq!(e.signature_id, Some(2_024_897));
    assert_eq!(e.src_ip.as_deref(), Some("2001:db8::1"));
    assert_eq!(e.src_port, Some(443));
    assert_eq!(e.dest_port, None);
    assert_eq!(e.flow_id, Some(9_007_199_254_740_991));
    assert_eq!(e.proto.as_deref(), Some("TCP"));
    assert_eq!(e.app_proto, None);
    assert_eq!(e.schema_version, 2);
    assert_eq!(page.next_cursor, None);
}

fn hashed(pw: &str) -> String {
    // One argon2 hash per process: each costs tens of milliseconds.
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = H.get_or_init(|| password::hash("correct horse battery staple").unwrap());
    assert_eq!(pw, "correct horse battery staple");
    h.clone()
}

fn new_user(org: OrgId, email: &str, role: Role) -> NewUser {
    NewUser {
        org_id: org,
        email: email.into(),
        name: format!("user {email}"),
        role,
        password_hash: hashed("correct horse battery staple"),
    }
}

pub async fn users_and_credentials(store: Arc<dyn Store>) {
    let a = store.access();
    let org = store.create_org(state_org("Ohio", "OH")).await.unwrap();
    let u = a
        .create_user(new_user(org.id, "Ann@Ohio.gov ", Role::Analyst))
        .await
        .unwrap();
    assert_eq!(u.email, "ann@ohio.gov");
    assert_eq!(
        (u.role, u.org_id, u.disabled),
        (Role::Analyst, org.id, false)
    );
    assert!(matches!(
        a.create_user(new_user(org.id, "ANN@ohio.gov", Role::Viewer))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        a.create_user(new_user(999, "b@x.gov", Role::Viewer)).await,
        Err(StoreError::UnknownOrg(999))
    ));
    assert!(matches!(
        a.create_user(new_user(org.id, "not-an-email", Role::Viewer))
            .await,
        Err(StoreError::Invalid(_))
    ));
    let mut clear = new_user(org.id, "c@x.gov", Role::Viewer);
    clear.password_hash = "hunter2hunter2".into();
    assert!(
        matches!(a.create_user(clear).await, Err(StoreError::Invalid(_))),
        "a password in clear is refused"
    );
    let cred = a.user_credentials("ANN@ohio.gov").await.unwrap().unwrap();
    assert_eq!(cred.user, u);
    assert!(password::verify(
        "correct horse battery staple",
        &cred.password_hash
    ));
    assert!(a.user_credentials("nobody@x.gov").await.unwrap().is_none());
    assert_eq!(a.get_user(u.id).await.unwrap(), Some(u.clone()));

    // Lockout bookkeeping: the third failure locks and restarts the count.
    assert_eq!(
        a.record_sign_in_failure(u.id, T0, 3, 900).await.unwrap(),
        None
    );
    assert_eq!(
        a.record_sign_in_failure(u.id, T0, 3, 900).await.unwrap(),
        None
    );
    assert_eq!(
        a.record_sign_in_failure(u.id, T0, 3, 900).await.unwrap(),
        Some(T0 + 900)
    );
    let cred = a.user_credentials("ann@ohio.gov").await.unwrap().unwrap();
    assert_eq!(
        (cred.failed_sign_ins, cred.locked_until),
        (0, Some(T0 + 900))
    );
    a.clear_sign_in_failures(u.id).await.unwrap();
    let cred = a.user_credentials("ann@ohio.gov").await.unwrap().unwrap();
    assert_eq!((cred.failed_sign_ins, cred.locked_until), (0, None));

    let v = a
        .create_user(new_user(org.id, "vic@ohio.gov", Role::Viewer))
        .await
        .unwrap();
    assert_eq!(a.list_users(Some(org.id)).await.unwrap().len(), 2);
    assert_eq!(a.list_users(Some(org.id + 1)).await.unwrap().len(), 0);
    assert!(a.set_user_disabled(v.id, true).await.unwrap());
    assert!(a.get_user(v.id).await.unwrap().unwrap().disabled);
    assert!(!a.set_user_disabled(12345, true).await.unwrap());
}

pub async fn sessions_roundtrip(store: Arc<dyn Store>) {
    let a = store.access();
    let org = store.create_org(state_org("Ohio", "OH")).await.unwrap();
    let u = a
        .create_user(new_user(org.id, "ann@ohio.gov", Role::Member))
        .await
        .unwrap();
    let s = Session {
        id_hash: [7; 32],
        csrf_hash: [9; 32],
        user_id: u.id,
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0 + 100,
    };
    a.create_session(s.clone()).await.unwrap();
    assert_eq!(a.get_session([7; 32]).await.unwrap(), Some(s.clone()));
    assert_eq!(a.get_session([8; 32]).await.unwrap(), None);
    a.touch_session([7; 32], T0 + 50).await.unwrap();
    a.touch_session([7; 32], T0 + 10).await.unwrap();
    assert_eq!(
        a.get_session([7; 32]).await.unwrap().unwrap().last_seen_at,
        T0 + 50,
        "never moves back"
    );
    assert!(a.delete_session([7; 32]).await.unwrap());
    assert!(!a.delete_session([7; 32]).await.unwrap());
    // Disabling a user ends their sessions.
    a.create_session(s).await.unwrap();
    a.set_user_disabled(u.id, true).await.unwrap();
    assert_eq!(a.get_session([7; 32]).await.unwrap(), None);
}

pub async fn user_tokens_scoped_and_revocable(store: Arc<dyn Store>) {
    let a = store.access();
    let org = store.create_org(state_org("Ohio", "OH")).await.unwrap();
    let u = a
        .create_user(new_user(org.id, "ann@ohio.gov", Role::Analyst))
        .await
        .unwrap();
    let t = a
        .issue_user_token(u.id, "ci".into(), TokenScope::Read)
        .await
        .unwrap();
    assert!(t.plaintext.starts_with(&format!("wfu_{}_", t.token.id)));
    assert!(!format!("{t:?}").contains(&t.plaintext[8..]));
    let (tok, user) = a
        .authenticate_user_token(&t.plaintext)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((tok.scope, user.id), (TokenScope::Read, u.id));
    let mut wrong = t.plaintext.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    assert!(a.authenticate_user_token(&wrong).await.unwrap().is_none());
    // A sensor token is not a user token.
    let (_, st) = store.enroll_sensor(org.id, "s").await.unwrap();
    assert!(a
        .authenticate_user_token(&st.plaintext)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .authenticate_sensor(&t.plaintext)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        a.list_user_tokens(Some(u.id)).await.unwrap(),
        vec![tok.clone()]
    );
    assert!(a.revoke_user_token(tok.id).await.unwrap());
    assert!(!a.revoke_user_token(tok.id).await.unwrap());
    assert!(a
        .authenticate_user_token(&t.plaintext)
        .await
        .unwrap()
        .is_none());
    assert!(a
        .get_user_token(tok.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    // A disabled user's tokens stop working.
    let w = a
        .issue_user_token(u.id, "w".into(), TokenScope::Write)
        .await
        .unwrap();
    assert!(a
        .authenticate_user_token(&w.plaintext)
        .await
        .unwrap()
        .is_some());
    a.set_user_disabled(u.id, true).await.unwrap();
    assert!(a
        .authenticate_user_token(&w.plaintext)
        .await
        .unwrap()
        .is_none());
}

pub async fn org_shares(store: Arc<dyn Store>) {
    let a = store.access();
    let oh = store.create_org(state_org("Ohio", "OH")).await.unwrap();
    let pa = store
        .create_org(state_org("Pennsylvania", "PA"))
        .await
        .unwrap();
    let tx = store.create_org(state_org("Texas", "TX")).await.unwrap();
    assert!(
        a.list_org_shares(oh.id).await.unwrap().is_empty(),
        "none by default"
    );
    assert!(a.set_org_share(oh.id, pa.id, true).await.unwrap());
    assert!(!a.set_org_share(oh.id, pa.id, true).await.unwrap());
    assert!(a.set_org_share(tx.id, pa.id, true).await.unwrap());
    assert_eq!(a.list_org_shares(oh.id).await.unwrap(), vec![pa.id]);
    assert_eq!(
        a.orgs_sharing_with(pa.id).await.unwrap(),
        vec![oh.id, tx.id]
    );
    assert!(a.orgs_sharing_with(oh.id).await.unwrap().is_empty());
    assert!(a.set_org_share(oh.id, pa.id, false).await.unwrap());
    assert_eq!(a.orgs_sharing_with(pa.id).await.unwrap(), vec![tx.id]);
    assert!(matches!(
        a.set_org_share(oh.id, 999, true).await,
        Err(StoreError::UnknownOrg(999))
    ));
}

pub async fn audit_chain_appends_and_verifies(store: Arc<dyn Store>) {
    let a = store.access();
    assert_eq!(
        verify_audit(a).await.unwrap(),
        AuditVerification::Intact {
            rows: 0,
            last_hash: AUDIT_GENESIS.into()
        }
    );
    let mut last = String::new();
    let appends = (0..25).map(|i| {
        a.append_audit(NewAuditEntry {
            at: T0 + i,
            actor_user: Some(i),
            actor_org: None,
            action: "user.create".into(),
            target: format!("user:{i}"),
            ip: Some("192.0.2.1".into()),
            detail: serde_json::json!({"i": i, "email": "x@y.gov"}),
        })
    });
    // Concurrent appends still form one chain.
    for r in futures_join(appends).await {
        last = r.unwrap().hash;
    }
    let rows = a.list_audit(0, 100).await.unwrap();
    assert_eq!(rows.len(), 25);
    assert_eq!(rows[0].prev_hash, AUDIT_GENESIS);
    assert!(rows
        .windows(2)
        .all(|w| w[1].prev_hash == w[0].hash && w[1].id == w[0].id + 1));
    match verify_audit(a).await.unwrap() {
        AuditVerification::Intact { rows, last_hash } => {
            assert_eq!(rows, 25);
            assert_eq!(last_hash, rows_last(&a.list_audit(0, 100).await.unwrap()));
            let _ = &last;
        }
        b => panic!("{b:?}"),
    }
    assert_eq!(a.list_audit(20, 100).await.unwrap().len(), 5);
}

fn rows_last(rows: &[AuditEntry]) -> String {
    rows.last().map(|r| r.hash.clone()).unwrap_or_default()
}

async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut out = Vec::new();
    let pinned: Vec<_> = fs.map(Box::pin).collect();
    // Poll them together, so appends really overlap.
    let mut pending: Vec<_> = pinned.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

pub async fn event_filter_by_orgs(store: Arc<dyn Store>) {
    let oh = store.create_org(state_org("Ohio", "OH")).await.unwrap();
    let pa = store
        .create_org(state_org("Pennsylvania", "PA"))
        .await
        .unwrap();
    let tx = store.create_org(state_org("Texas", "TX")).await.unwrap();
    let mut sensors = Vec::new();
    for (org, n) in [(&oh, 3u64), (&pa, 5), (&tx, 7)] {
        let (s, _) = store.enroll_sensor(org.id, "s").await.unwrap();
        store.ingest_batch(s.id, batch(s.id, 1..=n)).await.unwrap();
        sensors.push(s);
    }
    let by = |orgs: Option<Vec<OrgId>>| EventFilter {
        orgs,
        limit: Some(1000),
        ..EventFilter::default()
    };
    for (orgs, want) in [
        (Some(vec![oh.id]), 3),
        (Some(vec![oh.id, tx.id]), 10),
        (Some(vec![]), 0),
        (Some(vec![9999]), 0),
        (None, 15),
    ] {
        let page = store.query_events(by(orgs.clone())).await.unwrap();
        assert_eq!(page.events.len(), want, "{orgs:?}");
        if let Some(o) = &orgs {
            assert!(page.events.iter().all(|e| o.contains(&e.org_id)));
        }
        assert_eq!(store.count_events(by(orgs)).await.unwrap(), want as u64);
    }
    // The org filter holds whatever else is asked: a sensor of another org gives nothing.
    let f = EventFilter {
        sensor: Some(sensors[2].id),
        ..by(Some(vec![oh.id]))
    };
    assert!(store.query_events(f).await.unwrap().events.is_empty());
}
