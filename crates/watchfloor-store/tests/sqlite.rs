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
    assert_eq!(store.migrate().await.unwrap(), 2);
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
    assert_eq!(versions, 2);
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

/// Someone with write access to the file (here: dropping the append-only trigger first)
/// alters an audit row; `verify_audit` names that row.
#[tokio::test]
async fn audit_tampering_in_the_file_is_detected() {
    use watchfloor_store::{verify_audit, AuditVerification, NewAuditEntry};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let store = open(&StoreConfig::Sqlite(SqliteConfig::at(&path)))
        .await
        .unwrap();
    for i in 0..10 {
        store
            .access()
            .append_audit(NewAuditEntry {
                at: 1_000 + i,
                actor_user: Some(1),
                actor_org: Some(1),
                action: "session.create".into(),
                target: "user:1".into(),
                ip: Some("127.0.0.1".into()),
                detail: serde_json::json!({}),
            })
            .await
            .unwrap();
    }
    assert!(matches!(
        verify_audit(store.access()).await.unwrap(),
        AuditVerification::Intact { rows: 10, .. }
    ));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let refused = conn.execute("UPDATE audit_log SET action = 'x' WHERE id = 4", []);
    assert!(refused.is_err(), "the trigger keeps the table append-only");
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET ip = '203.0.113.9' WHERE id = 4;",
    )
    .unwrap();
    match verify_audit(store.access()).await.unwrap() {
        AuditVerification::Broken {
            rows_ok,
            id,
            reason,
        } => {
            assert_eq!((rows_ok, id), (3, 4));
            assert!(reason.contains("altered"), "{reason}");
        }
        ok => panic!("tampering not detected: {ok:?}"),
    }
    // Recomputing the altered row's hash moves the break to the next row.
    let row = store.access().list_audit(3, 1).await.unwrap().remove(0);
    conn.execute(
        "UPDATE audit_log SET hash = ?1 WHERE id = 4",
        [row.compute_hash()],
    )
    .unwrap();
    assert!(matches!(
        verify_audit(store.access()).await.unwrap(),
        AuditVerification::Broken { id: 5, .. }
    ));
}
