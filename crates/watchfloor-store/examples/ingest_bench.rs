//! Ingest throughput: N concurrent "sensors" each shipping batches of realistic EVE records
//! (flow, dns, alert) for a number of seconds.
//!
//! ```sh
//! cargo run --release -p watchfloor-store --example ingest_bench -- sqlite 20
//! cargo run --release -p watchfloor-store --example ingest_bench -- sqlite 20 --sync normal
//! cargo run --release -p watchfloor-store --example ingest_bench -- postgres 20
//! ```
//!
//! Options: `--sensors N` (10), `--batch N` (1000), `--sync full|normal` (SQLite),
//! `--url URL` (PostgreSQL; default `$WATCHFLOOR_PG_URL` or the local server, database
//! `test`, in a fresh schema dropped at the end).

use std::sync::Arc;
use std::time::{Duration, Instant};
use watchfloor_store::postgres::PgConfig;
use watchfloor_store::sqlite::{SqliteConfig, Synchronous};
use watchfloor_store::*;

/// 2024-11-05T06:00:00Z.
const T0: i64 = 1_730_786_400;

struct Args {
    backend: String,
    seconds: u64,
    sensors: usize,
    batch: usize,
    sync: Synchronous,
    url: String,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        backend: "sqlite".into(),
        seconds: 20,
        sensors: 10,
        batch: 1000,
        sync: Synchronous::Full,
        url: std::env::var("WATCHFLOOR_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
    };
    let mut positional = 0;
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--sensors" => args.sensors = value()?.parse().map_err(|e| format!("{e}"))?,
            "--batch" => args.batch = value()?.parse().map_err(|e| format!("{e}"))?,
            "--url" => args.url = value()?,
            "--sync" => {
                args.sync = match value()?.as_str() {
                    "full" => Synchronous::Full,
                    "normal" => Synchronous::Normal,
                    other => return Err(format!("--sync {other}: full or normal")),
                }
            }
            _ if positional == 0 => {
                args.backend = a;
                positional += 1;
            }
            _ if positional == 1 => {
                args.seconds = a.parse().map_err(|e| format!("seconds: {e}"))?;
                positional += 1;
            }
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    Ok(args)
}

fn ts(secs: i64, micros: i64) -> String {
    let (y, m, d) = eve::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+0000",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// One sensor's records: an election office's mix of flows, DNS and a few alerts, spread
/// over the morning of election day.
fn records(sensor: usize, n: usize) -> Vec<Vec<u8>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ sensor as u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let t = ts(T0 + (i as i64 * 3600 / n as i64), (rnd() % 1_000_000) as i64);
            let flow_id = rnd() % (1 << 51);
            let src = format!("10.{}.{}.{}", sensor, rnd() % 256, rnd() % 254 + 1);
            let sport = 1024 + rnd() % 60_000;
            let r = rnd() % 100;
            let line = if r < 60 {
                let dst = format!("{}.{}.{}.{}", rnd() % 223 + 1, rnd() % 256, rnd() % 256, rnd() % 254 + 1);
                format!(
                    r#"{{"timestamp":"{t}","flow_id":{flow_id},"in_iface":"eth0","event_type":"flow","src_ip":"{src}","src_port":{sport},"dest_ip":"{dst}","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":{},"pkts_toclient":{},"bytes_toserver":{},"bytes_toclient":{},"start":"{t}","end":"{t}","age":{},"state":"closed","reason":"timeout","alerted":false}},"tcp":{{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}},"community_id":"1:{flow_id}="}}"#,
                    rnd() % 50 + 3, rnd() % 50 + 3, rnd() % 20_000 + 300, rnd() % 200_000 + 300, rnd() % 120
                )
            } else if r < 95 {
                format!(
                    r#"{{"timestamp":"{t}","flow_id":{flow_id},"in_iface":"eth0","event_type":"dns","src_ip":"{src}","src_port":{sport},"dest_ip":"10.{sensor}.0.53","dest_port":53,"proto":"UDP","dns":{{"version":3,"type":"request","id":{},"rrname":"host{}.vote.example.gov","rrtype":"A","tx_id":0,"opcode":0}}}}"#,
                    rnd() % 65_536, rnd() % 5000
                )
            } else {
                format!(
                    r#"{{"timestamp":"{t}","flow_id":{flow_id},"in_iface":"eth0","event_type":"alert","src_ip":"203.0.113.{}","src_port":{sport},"dest_ip":"{src}","dest_port":443,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{},"rev":3,"signature":"ET SCAN Suspicious inbound to voter registration portal","category":"Attempted Information Leak","severity":2}},"app_proto":"tls","direction":"to_server"}}"#,
                    rnd() % 254 + 1, 2_000_000 + rnd() % 500
                )
            };
            line.into_bytes()
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let schema = format!("wf_bench_{}", std::process::id());
    let config = match args.backend.as_str() {
        "sqlite" => StoreConfig::Sqlite(SqliteConfig {
            synchronous: args.sync,
            ..SqliteConfig::at(dir.path().join("bench.db"))
        }),
        "postgres" => StoreConfig::Postgres(PgConfig {
            url: args.url.clone(),
            schema: Some(schema.clone()),
            pool_size: args.sensors + 2,
        }),
        other => return Err(format!("backend {other}: sqlite or postgres").into()),
    };
    let store = open(&config).await?;
    let org = store
        .create_org(NewOrg {
            name: "Bench State".into(),
            kind: OrgKind::State,
            state: Some("PA".into()),
            county_fips: None,
            parent: None,
        })
        .await?;
    let per_sensor = 20_000;
    let mut sensors = Vec::new();
    for n in 0..args.sensors {
        let (s, _) = store.enroll_sensor(org.id, &format!("sensor-{n}")).await?;
        sensors.push((s, Arc::new(records(n, per_sensor))));
    }
    let bytes: usize = sensors
        .iter()
        .map(|(_, r)| r.iter().map(Vec::len).sum::<usize>())
        .sum();
    println!(
        "{}: {} sensors x batches of {}, {} s, mean record {} bytes{}",
        args.backend,
        args.sensors,
        args.batch,
        args.seconds,
        bytes / (args.sensors * per_sensor),
        if args.backend == "sqlite" {
            format!(", synchronous={:?}", args.sync)
        } else {
            String::new()
        }
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for (s, recs) in sensors {
        let store = Arc::clone(&store);
        let batch = args.batch;
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            let mut latencies = Vec::new();
            let mut inserted = 0;
            while Instant::now() < deadline {
                let envs: Vec<EventEnvelope> = (0..batch)
                    .map(|_| {
                        seq += 1;
                        EventEnvelope {
                            sensor_id: s.id,
                            seq,
                            schema_version: 1,
                            record: recs[seq as usize % recs.len()].clone(),
                        }
                    })
                    .collect();
                let t = Instant::now();
                let o = store.ingest_batch(s.id, envs).await?;
                latencies.push(t.elapsed());
                inserted += o.inserted;
                assert_eq!(o.highest_contiguous_seq, seq);
            }
            Ok::<_, StoreError>((inserted, latencies))
        }));
    }
    let mut total = 0;
    let mut lat = Vec::new();
    for t in tasks {
        let (n, l) = t.await??;
        total += n;
        lat.extend(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let counted = store.count_events(EventFilter::default()).await?;
    println!(
        "{total} events in {elapsed:.1} s = {:.0} events/s ({:.1} MB/s of EVE); batch latency p50 {:?} p99 {:?}; stored {counted}; peak RSS {:.0} MiB",
        total as f64 / elapsed,
        total as f64 * (bytes as f64 / (args.sensors * per_sensor) as f64) / elapsed / 1e6,
        pct(0.5),
        pct(0.99),
        peak_rss_mib()
    );
    if args.backend == "postgres" {
        let (client, conn) = tokio_postgres::connect(&args.url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await?;
    } else if let Ok(m) = std::fs::metadata(dir.path().join("bench.db")) {
        println!("database file {:.0} MiB", m.len() as f64 / 1_048_576.0);
    }
    Ok(())
}
