//! The shared suite against SQLite (a fresh file per test), plus SQLite-only checks.

mod suite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use watchfloor_store::sqlite::{SqliteConfig, Synchronous};
use watchfloor_store::{open, Store, StoreConfig};

async fn run(
    _name: &str,
    test: impl FnOnce(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::Sqlite(SqliteConfig::at(dir.path().join("hub.db")));
    let store = open(&config).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    test(store).await;
}

suite_tests!(run);

#[tokio::test]
async fn reopen_keeps_data_and_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let config = StoreConfig::Sqlite(SqliteConfig {
        synchronous: Synchronous::Normal,
        ..SqliteConfig::at(&path)
    });
    let s = {
        let store = open(&config).await.unwrap();
        let org = store
            .create_org(suite::state_org("Ohio", "OH"))
            .await
            .unwrap();
        let (s, _) = store.enroll_sensor(org.id, "s").await.unwrap();
        store
            .ingest_batch(s.id, suite::batch(s.id, 1..=50))
            .await
            .unwrap();
        s
    };
    let store = open(&config).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), 1);
    assert_eq!(store.list_orgs().await.unwrap().len(), 1);
    let o = store
        .ingest_batch(s.id, suite::batch(s.id, 40..=60))
        .await
        .unwrap();
    assert_eq!(
        (o.inserted, o.duplicates, o.highest_contiguous_seq),
        (10, 11, 60)
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let versions: i64 = conn
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 1);
}

#[tokio::test]
async fn config_reads_from_toml_shape() {
    let config: StoreConfig =
        serde_json::from_str(r#"{"backend":"sqlite","path":"/tmp/x.db","synchronous":"normal"}"#)
            .unwrap();
    let StoreConfig::Sqlite(c) = config else {
        panic!("wrong backend")
    };
    assert_eq!(c.synchronous, Synchronous::Normal);
    assert_eq!(c.readers, SqliteConfig::default().readers);
}
