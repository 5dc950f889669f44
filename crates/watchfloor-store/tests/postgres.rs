//! The shared suite against PostgreSQL: each test in a fresh schema `wf_test_<random>`,
//! dropped afterwards. The server is `WATCHFLOOR_PG_URL`, by default the local one at
//! 127.0.0.1:5432 (database `test`); set the variable to `skip` to skip. When no server
//! answers, every test prints why and passes without running.

mod suite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;
use watchfloor_store::postgres::PgConfig;
use watchfloor_store::{open, Store, StoreConfig};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A client for setup and cleanup, or `None` (with the reason printed) to skip.
async fn admin(name: &str) -> Option<(String, tokio_postgres::Client)> {
    let url = std::env::var("WATCHFLOOR_PG_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    if matches!(url.trim(), "" | "skip" | "off" | "none") {
        eprintln!("skipping postgres test {name}: WATCHFLOOR_PG_URL={url:?}");
        return None;
    }
    let connect =
        tokio::time::timeout(Duration::from_secs(5), tokio_postgres::connect(&url, NoTls));
    match connect.await {
        Ok(Ok((client, conn))) => {
            tokio::spawn(conn);
            Some((url, client))
        }
        Ok(Err(e)) => {
            eprintln!("skipping postgres test {name}: cannot connect to {url}: {e}");
            None
        }
        Err(_) => {
            eprintln!("skipping postgres test {name}: {url} did not answer within 5 s");
            None
        }
    }
}

fn fresh_schema() -> String {
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).unwrap();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    format!("wf_test_{hex}")
}

fn config(url: &str, schema: &str) -> StoreConfig {
    StoreConfig::Postgres(PgConfig {
        url: url.into(),
        schema: Some(schema.into()),
        pool_size: 6,
    })
}

async fn run(
    name: &str,
    test: impl FnOnce(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    let Some((url, admin)) = admin(name).await else {
        return;
    };
    let schema = fresh_schema();
    let store = open(&config(&url, &schema)).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    let outcome = tokio::spawn(test(store)).await;
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

suite_tests!(run);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubs_starting_together_migrate_once() {
    let Some((url, admin)) = admin("hubs_starting_together_migrate_once").await else {
        return;
    };
    let schema = fresh_schema();
    let cfg = config(&url, &schema);
    let (a, b) = tokio::join!(open(&cfg), open(&cfg));
    let (a, b) = (a.unwrap(), b.unwrap());
    let org = a.create_org(suite::state_org("Ohio", "OH")).await.unwrap();
    assert_eq!(b.get_org(org.id).await.unwrap(), Some(org));
    let versions = admin
        .query_one(
            &format!("SELECT count(*) FROM {schema}.schema_migrations"),
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
    assert_eq!(versions, 2);
}
