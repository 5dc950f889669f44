//! A real hub on a real socket (127.0.0.1, port 0) over HTTPS with its generated certificate,
//! in its own runtime thread; tests talk to it with a blocking reqwest client that trusts
//! exactly that certificate.
#![allow(dead_code)]

pub mod fault;
pub mod matrix;

use reqwest::blocking::{Client, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use watchfloor_hub::config::{HubConfig, Limits};
use watchfloor_hub::Server;
use watchfloor_ship::{BatchBuilder, BatchConfig, Entry};
use watchfloor_store::sqlite::SqliteConfig;
use watchfloor_store::{NewOrg, OrgKind, Sensor, Store, StoreConfig};

pub struct TestHub {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub rt: tokio::runtime::Runtime,
    pub client: Client,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

pub fn sqlite_store(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> Arc<dyn Store> {
    let cfg = StoreConfig::Sqlite(SqliteConfig::at(dir.join("hub.db")));
    rt.block_on(watchfloor_store::open(&cfg)).unwrap()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl TestHub {
    /// A hub over SQLite in a temp dir with default limits.
    pub fn start() -> TestHub {
        Self::with(|_| {}, |s| s)
    }

    /// `tweak` adjusts the config; `wrap` may put a fault-injecting store in front.
    pub fn with(
        tweak: impl FnOnce(&mut HubConfig),
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> TestHub {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let store = wrap(sqlite_store(&rt, dir.path()));
        Self::on_store(rt, dir, store, tweak)
    }

    pub fn on_store(
        rt: tokio::runtime::Runtime,
        dir: tempfile::TempDir,
        store: Arc<dyn Store>,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> TestHub {
        let mut config = HubConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            limits: Limits::default(),
            ..HubConfig::default()
        };
        tweak(&mut config);
        let server = rt.block_on(Server::bind(config, store.clone())).unwrap();
        let addr = server.local_addr();
        let pem = std::fs::read(&server.cert_path).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel();
        rt.spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            let _ = done_tx.send(());
        });
        TestHub {
            addr,
            store,
            rt,
            client: client(&pem),
            dir,
            stop: Some(stop),
            done: std::sync::Mutex::new(Some(done)),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Asks the server to stop (as SIGTERM does) without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Waits until the server's run() has returned.
    pub fn wait_stopped(&mut self, within: Duration) -> bool {
        let done = self.done.lock().ok().and_then(|mut d| d.take());
        done.is_some_and(|d| d.recv_timeout(within).is_ok())
    }

    /// An org and an enrolled sensor with its token.
    pub fn enroll(&self, name: &str) -> (Sensor, String) {
        let org = self
            .rt
            .block_on(self.store.create_org(NewOrg {
                name: format!("org of {name}"),
                kind: OrgKind::State,
                state: Some("PA".into()),
                county_fips: None,
                parent: None,
            }))
            .unwrap();
        let (sensor, token) = self
            .rt
            .block_on(self.store.enroll_sensor(org.id, name))
            .unwrap();
        (sensor, token.plaintext)
    }

    pub fn ingest(&self, token: &str, body: Vec<u8>) -> Response {
        self.client
            .post(self.url("/api/v1/ingest"))
            .bearer_auth(token)
            .header("Content-Type", "application/x-ndjson")
            .header("Content-Encoding", "zstd")
            .body(body)
            .send()
            .unwrap()
    }

    pub fn acked(&self, token: &str) -> u64 {
        let r = self
            .client
            .get(self.url("/api/v1/ack"))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().unwrap();
        v["acked_seq"].as_u64().unwrap()
    }

    pub fn count_events(&self, sensor: &Sensor) -> u64 {
        self.rt
            .block_on(self.store.count_events(watchfloor_store::EventFilter {
                sensor: Some(sensor.id),
                ..Default::default()
            }))
            .unwrap()
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.begin_shutdown();
        let _ = self.wait_stopped(Duration::from_secs(10));
    }
}

pub fn client(pem: &[u8]) -> Client {
    Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap())
        .tls_built_in_root_certs(false)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A realistic EVE record.
pub fn record(i: u64) -> Vec<u8> {
    let kinds = ["flow", "dns", "alert"];
    let kind = kinds[(i % 3) as usize];
    let extra = match kind {
        "alert" => format!(r#","alert":{{"action":"allowed","gid":1,"signature_id":{},"rev":1,"signature":"ET SCAN test","category":"Attempted Information Leak","severity":2}}"#, 2_000_000 + i % 7),
        "dns" => format!(r#","dns":{{"version":3,"type":"request","id":{},"rrname":"vote{i}.example.gov","rrtype":"A"}}"#, i % 65536),
        _ => r#","flow":{"pkts_toserver":4,"pkts_toclient":3,"bytes_toserver":420,"bytes_toclient":1337,"start":"2024-11-05T06:00:00.000000+0000","end":"2024-11-05T06:00:01.000000+0000","age":1,"state":"closed","reason":"timeout","alerted":false}"#.to_string(),
    };
    format!(
        r#"{{"timestamp":"2024-11-05T06:{:02}:{:02}.{:06}+0000","flow_id":{},"event_type":"{kind}","src_ip":"10.0.{}.{}","src_port":{},"dest_ip":"192.0.2.53","dest_port":53,"proto":"UDP"{extra}}}"#,
        (i / 60) % 60,
        i % 60,
        i % 1_000_000,
        1_000_000 + i,
        (i / 256) % 256,
        i % 256,
        1024 + i % 60000
    )
    .into_bytes()
}

/// What BatchBuilder makes for sequences `seqs` of `sensor` (the envelope's sensor string).
pub fn batch(sensor: &str, seqs: std::ops::RangeInclusive<u64>) -> Vec<u8> {
    let entries: Vec<Entry> = seqs
        .map(|seq| Entry::Record {
            seq,
            payload: record(seq),
        })
        .collect();
    BatchBuilder::new(sensor, BatchConfig::default())
        .build(&entries)
        .unwrap()
        .unwrap()
        .body
}

/// zstd of arbitrary NDJSON text.
pub fn zstd_of(text: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(text, 1).unwrap()
}

pub fn error_of(r: Response) -> (u16, serde_json::Value) {
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().unwrap();
    assert!(v["error"].is_string(), "{v}");
    (status, v)
}
