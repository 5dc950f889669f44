//! The ingest path against PostgreSQL: each test in a fresh schema `wf_hub_test_<random>`,
//! dropped afterwards. The server is `WATCHFLOOR_PG_URL`, by default the local one at
//! 127.0.0.1:5432 (database `test`); `skip` skips. When no server answers, each test prints
//! why and passes without running (as the store's own PostgreSQL suite does).

mod common;

use common::*;
use std::time::Duration;
use tokio_postgres::NoTls;
use watchfloor_store::postgres::PgConfig;
use watchfloor_store::StoreConfig;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

struct PgHub {
    hub: Option<TestHub>,
    url: String,
    schema: String,
}

impl PgHub {
    fn start(name: &str) -> Option<PgHub> {
        let url = std::env::var("WATCHFLOOR_PG_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        if matches!(url.trim(), "" | "skip" | "off" | "none") {
            eprintln!("skipping postgres test {name}: WATCHFLOOR_PG_URL={url:?}");
            return None;
        }
        let rt = runtime();
        let reachable = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), tokio_postgres::connect(&url, NoTls)).await
        });
        match reachable {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                eprintln!("skipping postgres test {name}: cannot connect to {url}: {e}");
                return None;
            }
            Err(_) => {
                eprintln!("skipping postgres test {name}: {url} did not answer within 5 s");
                return None;
            }
        }
        let mut raw = [0u8; 6];
        getrandom::fill(&mut raw).unwrap();
        let schema = format!(
            "wf_hub_test_{}",
            raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let cfg = StoreConfig::Postgres(PgConfig {
            url: url.clone(),
            schema: Some(schema.clone()),
            pool_size: 6,
        });
        let store = rt.block_on(watchfloor_store::open(&cfg)).unwrap();
        assert_eq!(store.backend(), "postgres");
        let dir = tempfile::tempdir().unwrap();
        Some(PgHub {
            hub: Some(TestHub::on_store(rt, dir, store, |_| {})),
            url,
            schema,
        })
    }

    fn hub(&self) -> &TestHub {
        self.hub.as_ref().unwrap()
    }
}

impl Drop for PgHub {
    fn drop(&mut self) {
        drop(self.hub.take());
        let (url, schema) = (self.url.clone(), self.schema.clone());
        let rt = runtime();
        rt.block_on(async move {
            if let Ok((client, conn)) = tokio_postgres::connect(&url, NoTls).await {
                tokio::spawn(conn);
                let _ = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await;
            }
        });
    }
}

#[test]
fn postgres_ingest_replay_and_ack() {
    let Some(pg) = PgHub::start("postgres_ingest_replay_and_ack") else {
        return;
    };
    let hub = pg.hub();
    let (sensor, token) = hub.enroll("pg-1");
    let id = sensor.id.to_string();
    let r = hub.ingest(&token, batch(&id, 1..=300));
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(
        v,
        serde_json::json!({"acked_seq": 300, "stored": 300, "duplicates": 0})
    );
    let v: serde_json::Value = hub.ingest(&token, batch(&id, 201..=400)).json().unwrap();
    assert_eq!(
        v,
        serde_json::json!({"acked_seq": 400, "stored": 100, "duplicates": 100})
    );
    assert_eq!(hub.acked(&token), 400);
    assert_eq!(hub.count_events(&sensor), 400);
}

#[test]
fn postgres_refuses_bad_batches_whole() {
    let Some(pg) = PgHub::start("postgres_refuses_bad_batches_whole") else {
        return;
    };
    let hub = pg.hub();
    let (sensor, token) = hub.enroll("pg-1");
    let (other, _) = hub.enroll("pg-2");
    let w = watchfloor_ship::EnvelopeWriter::new(&sensor.id.to_string());
    let mut ndjson = Vec::new();
    w.write(1, &record(1), &mut ndjson).unwrap();
    w.write(2, br#"{"event_type":"flow"}"#, &mut ndjson)
        .unwrap();
    let (status, v) = error_of(hub.ingest(&token, zstd_of(&ndjson)));
    assert_eq!((status, v["line"].as_u64()), (400, Some(2)), "{v}");
    let (status, v) = error_of(hub.ingest(&token, batch(&other.id.to_string(), 1..=2)));
    assert_eq!((status, v["line"].as_u64()), (403, Some(1)), "{v}");
    assert_eq!(hub.count_events(&sensor), 0);
    let r = hub
        .client
        .post(hub.url("/api/v1/heartbeat"))
        .bearer_auth(&token)
        .body(r#"{"packets":5}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        hub.client.get(hub.url("/readyz")).send().unwrap().status(),
        200
    );
}

/// The authorisation matrix of tests/common/matrix.rs with the policy's org filter applied
/// by PostgreSQL.
#[test]
fn events_authorization_matrix_postgres() {
    let Some(pg) = PgHub::start("events_authorization_matrix_postgres") else {
        return;
    };
    assert_eq!(common::matrix::events_authorization_matrix(pg.hub()), 168);
}
