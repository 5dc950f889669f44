//! Ingest load: N concurrent sensors (default 10) replay pre-built zstd NDJSON batches of
//! realistic EVE records over HTTPS into a hub running as a separate process (this example
//! re-executed with `--serve`), then report events/s sustained and the hub's peak RSS.
//!
//! ```sh
//! cargo run --release -p watchfloor-hub --example ingest_load                     # SQLite
//! cargo run --release -p watchfloor-hub --example ingest_load -- --postgres       # local PostgreSQL
//! cargo run --release -p watchfloor-hub --example ingest_load -- --clients 10 --events 200000 --batch 5000 --sync normal
//! ```
//! PostgreSQL: `WATCHFLOOR_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`), in a
//! fresh schema dropped afterwards.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use watchfloor_hub::config::HubConfig;
use watchfloor_hub::Server;
use watchfloor_ship::{BatchBuilder, BatchConfig, Entry};
use watchfloor_store::postgres::PgConfig;
use watchfloor_store::sqlite::{SqliteConfig, Synchronous};
use watchfloor_store::{NewOrg, OrgKind, StoreConfig};

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Opts {
    clients: usize,
    events: u64,
    batch: usize,
    postgres: bool,
    sync: Synchronous,
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--serve") {
        return serve(&args[1..]);
    }
    let mut o = Opts {
        clients: 10,
        events: 200_000,
        batch: 5000,
        postgres: false,
        sync: Synchronous::Full,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--clients" => o.clients = val()?.parse()?,
            "--events" => o.events = val()?.parse()?,
            "--batch" => o.batch = val()?.parse()?,
            "--postgres" => o.postgres = true,
            "--sync" => {
                o.sync = match val()?.as_str() {
                    "normal" => Synchronous::Normal,
                    _ => Synchronous::Full,
                }
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    load(&o)
}

/// The hub process: opens the store, enrols `clients` sensors, prints their ids and tokens and
/// its address, serves until stdin closes, then prints its peak RSS.
fn serve(args: &[String]) -> Result<(), Error> {
    let (dir, backend, clients, sync) = (&args[0], &args[1], args[2].parse::<usize>()?, &args[3]);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store_cfg = if backend == "sqlite" {
            let mut c = SqliteConfig::at(format!("{dir}/hub.db"));
            if sync == "normal" {
                c.synchronous = Synchronous::Normal;
            }
            StoreConfig::Sqlite(c)
        } else {
            StoreConfig::Postgres(PgConfig {
                url: pg_url(),
                schema: Some(backend.clone()),
                pool_size: 16,
            })
        };
        let store = watchfloor_store::open(&store_cfg).await?;
        let org = store
            .create_org(NewOrg {
                name: "Load".into(),
                kind: OrgKind::State,
                state: Some("PA".into()),
                county_fips: None,
                parent: None,
            })
            .await?;
        let mut out = std::io::stdout().lock();
        for i in 0..clients {
            let (s, t) = store.enroll_sensor(org.id, &format!("load-{i}")).await?;
            writeln!(out, "SENSOR {} {}", s.id, t.plaintext)?;
        }
        let cfg = HubConfig {
            listen: "127.0.0.1:0".parse()?,
            data_dir: dir.into(),
            ..HubConfig::default()
        };
        let server = Server::bind(cfg, store).await?;
        writeln!(out, "ADDR {}", server.local_addr())?;
        writeln!(out, "CERT {}", server.cert_path.display())?;
        drop(out);
        server
            .run(async {
                // Until the load generator closes our stdin.
                let _ = tokio::task::spawn_blocking(|| {
                    let mut s = String::new();
                    let _ = std::io::stdin().read_line(&mut s);
                })
                .await;
            })
            .await?;
        println!("PEAK_RSS_KIB {}", peak_rss_kib());
        Ok::<_, Error>(())
    })
}

fn load(o: &Opts) -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let schema = format!("wf_hub_load_{}", std::process::id());
    let backend = if o.postgres {
        schema.clone()
    } else {
        "sqlite".to_string()
    };
    let sync = if o.sync == Synchronous::Normal {
        "normal"
    } else {
        "full"
    };
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve", dir.path().to_str().ok_or("temp path")?, &backend])
        .arg(o.clients.to_string())
        .arg(sync)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let (mut sensors, mut addr, mut cert) = (Vec::new(), String::new(), String::new());
    for line in lines.by_ref() {
        let line = line?;
        let mut w = line.split(' ');
        match (w.next(), w.next(), w.next()) {
            (Some("SENSOR"), Some(id), Some(tok)) => {
                sensors.push((id.to_string(), tok.to_string()))
            }
            (Some("ADDR"), Some(a), _) => addr = a.to_string(),
            (Some("CERT"), Some(c), _) => {
                cert = c.to_string();
                break;
            }
            _ => {}
        }
    }
    let pem = std::fs::read(&cert)?;
    let rss_idle = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| field_kib(&s, "VmRSS:"))
        .unwrap_or(0);

    eprintln!(
        "preparing {} clients × {} events in batches of {} ...",
        o.clients, o.events, o.batch
    );
    let mut work = Vec::new();
    let mut raw_bytes = 0usize;
    let mut body_bytes = 0usize;
    for (c, (id, tok)) in sensors.iter().enumerate() {
        let mut b = BatchBuilder::new(
            id,
            BatchConfig {
                max_records: o.batch,
                ..BatchConfig::default()
            },
        );
        let mut batches = Vec::new();
        let mut seq = 1u64;
        while seq <= o.events {
            let last = (seq + o.batch as u64 - 1).min(o.events);
            let entries: Vec<Entry> = (seq..=last)
                .map(|s| Entry::Record {
                    seq: s,
                    payload: record(c as u64 * 10_000_000 + s),
                })
                .collect();
            let batch = b.build(&entries)?.ok_or("empty batch")?;
            raw_bytes += batch.raw_len;
            body_bytes += batch.body.len();
            batches.push(batch.body);
            seq = last + 1;
        }
        work.push((tok.clone(), batches));
    }
    let total = o.events * o.clients as u64;
    eprintln!(
        "{} events, NDJSON {:.1} MiB, zstd {:.1} MiB; hub {} ({}), idle RSS {} MiB",
        total,
        raw_bytes as f64 / 1048576.0,
        body_bytes as f64 / 1048576.0,
        addr,
        if o.postgres { "postgres" } else { "sqlite" },
        rss_idle / 1024
    );

    let url = format!("https://{addr}/api/v1/ingest");
    let started = Instant::now();
    let handles: Vec<_> = work
        .into_iter()
        .map(|(tok, batches)| {
            let (url, pem) = (url.clone(), pem.clone());
            std::thread::spawn(move || -> Result<(u64, u64, Vec<Duration>), String> {
                let client = reqwest::blocking::Client::builder()
                    .add_root_certificate(
                        reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?,
                    )
                    .tls_built_in_root_certs(false)
                    .timeout(Duration::from_secs(120))
                    .build()
                    .map_err(|e| e.to_string())?;
                let (mut stored, mut retries, mut lat) = (0u64, 0u64, Vec::new());
                for body in batches {
                    loop {
                        let t = Instant::now();
                        let r = client
                            .post(&url)
                            .bearer_auth(&tok)
                            .header("Content-Type", "application/x-ndjson")
                            .header("Content-Encoding", "zstd")
                            .body(body.clone())
                            .send()
                            .map_err(|e| e.to_string())?;
                        let status = r.status().as_u16();
                        if status == 200 {
                            lat.push(t.elapsed());
                            let v: serde_json::Value = r.json().map_err(|e| e.to_string())?;
                            stored += v["stored"].as_u64().unwrap_or(0);
                            break;
                        }
                        if status == 429 || status == 503 {
                            retries += 1;
                            std::thread::sleep(Duration::from_millis(200));
                            continue;
                        }
                        return Err(format!("HTTP {status}: {}", r.text().unwrap_or_default()));
                    }
                }
                Ok((stored, retries, lat))
            })
        })
        .collect();
    let (mut stored, mut retries, mut lat) = (0, 0, Vec::new());
    for h in handles {
        let (s, r, l) = h.join().map_err(|_| "client panicked")??;
        stored += s;
        retries += r;
        lat.extend(l);
    }
    let wall = started.elapsed();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };

    drop(child.stdin.take());
    let mut peak = 0;
    for line in lines {
        if let Some(v) = line?.strip_prefix("PEAK_RSS_KIB ") {
            peak = v.trim().parse().unwrap_or(0);
        }
    }
    child.wait()?;
    if o.postgres {
        drop_schema(&schema);
    }
    println!(
        "{} clients, {} events stored in {:.2} s: {:.0} events/s; batch p50 {} ms, p99 {} ms; {} retries (429/503); hub peak RSS {} MiB",
        o.clients,
        stored,
        wall.as_secs_f64(),
        stored as f64 / wall.as_secs_f64(),
        pct(0.5).as_millis(),
        pct(0.99).as_millis(),
        retries,
        peak / 1024
    );
    if stored != total {
        return Err(format!("stored {stored} of {total}").into());
    }
    Ok(())
}

fn pg_url() -> String {
    std::env::var("WATCHFLOOR_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn drop_schema(schema: &str) {
    let Ok(rt) = tokio::runtime::Runtime::new() else {
        return;
    };
    rt.block_on(async {
        if let Ok((client, conn)) = tokio_postgres::connect(&pg_url(), tokio_postgres::NoTls).await
        {
            tokio::spawn(conn);
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await;
        }
    });
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| field_kib(&s, "VmHWM:"))
        .unwrap_or(0)
}

fn field_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A realistic EVE record (flow/dns/alert mix, ~450-550 bytes).
fn record(i: u64) -> Vec<u8> {
    let kind = [
        "flow", "flow", "dns", "flow", "alert", "dns", "flow", "flow", "dns", "flow",
    ][(i % 10) as usize];
    let extra = match kind {
        "alert" => format!(
            r#","alert":{{"action":"allowed","gid":1,"signature_id":{},"rev":3,"signature":"ET SCAN Suspicious inbound to port {}","category":"Attempted Information Leak","severity":2}},"app_proto":"failed""#,
            2_000_000 + i % 97,
            i % 1024
        ),
        "dns" => format!(
            r#","dns":{{"version":3,"type":"query","id":{},"rrname":"host{}.vote.example.gov","rrtype":"A","tx_id":0,"opcode":0}},"app_proto":"dns""#,
            i % 65536,
            i % 5000
        ),
        _ => format!(
            r#","app_proto":"tls","flow":{{"pkts_toserver":{},"pkts_toclient":{},"bytes_toserver":{},"bytes_toclient":{},"start":"2024-11-05T06:{:02}:{:02}.{:06}+0000","end":"2024-11-05T06:{:02}:{:02}.{:06}+0000","age":2,"state":"closed","reason":"timeout","alerted":false}},"community_id":"1:{:x}=""#,
            i % 40 + 2,
            i % 30 + 1,
            400 + i % 9000,
            1200 + i % 60000,
            (i / 60) % 60,
            i % 60,
            i % 1_000_000,
            (i / 60) % 60,
            (i + 2) % 60,
            (i * 7) % 1_000_000,
            i.wrapping_mul(0x9e3779b97f4a7c15)
        ),
    };
    format!(
        r#"{{"timestamp":"2024-11-05T06:{:02}:{:02}.{:06}+0000","flow_id":{},"in_iface":"eth0","event_type":"{kind}","src_ip":"10.{}.{}.{}","src_port":{},"dest_ip":"192.0.2.{}","dest_port":{},"proto":"{}"{extra}}}"#,
        (i / 60) % 60,
        i % 60,
        (i * 13) % 1_000_000,
        1_000_000_000 + i.wrapping_mul(2654435761) % 1_000_000_000,
        (i >> 16) % 256,
        (i >> 8) % 256,
        i % 256,
        1024 + i % 60000,
        i % 254 + 1,
        [443, 53, 80, 22][(i % 4) as usize],
        if kind == "dns" { "UDP" } else { "TCP" }
    )
    .into_bytes()
}
