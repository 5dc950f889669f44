//! What the shipper costs per 100k EVE records (about one bench-1G capture):
//! spool append under two fsync policies, then reading back into zstd batches.
//!
//! cargo run --release -p watchfloor-ship --example spool_bench

use std::time::{Duration, Instant};
use watchfloor_ship::{BatchBuilder, BatchConfig, Check, Fsync, Records, Spool, SpoolConfig};

const N: u64 = 100_000;

/// User+system CPU time of this process (Linux /proc; zero elsewhere).
fn cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    // USER_HZ is 100 on every Linux build we target.
    Duration::from_millis(ticks * 10)
}

/// Realistic EVE lines: flow, dns and alert records of 300-500 bytes with varying fields.
fn eve_lines() -> Vec<Vec<u8>> {
    let mut x: u64 = 0x1234_5678;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..N)
        .map(|i| {
            let (s, us) = (1_730_786_400 + i / 100, rnd() % 1_000_000);
            let secs = s % 86_400;
            let ts = format!("2024-11-05T{:02}:{:02}:{:02}.{us:06}+0000", secs / 3600, secs / 60 % 60, secs % 60);
            let flow = rnd() >> 13;
            let (a, b, c) = (rnd() % 256, rnd() % 256, rnd() % 256);
            let sp = 1024 + rnd() % 60000;
            match i % 10 {
                0..=5 => format!(
                    r#"{{"timestamp":"{ts}","flow_id":{flow},"in_iface":"eth0","event_type":"flow","src_ip":"10.20.{a}.{b}","src_port":{sp},"dest_ip":"203.0.113.{c}","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":{},"pkts_toclient":{},"bytes_toserver":{},"bytes_toclient":{},"start":"{ts}","end":"{ts}","age":{},"state":"closed","reason":"timeout","alerted":false}},"community_id":"1:{:x}"}}"#,
                    rnd() % 200, rnd() % 300, rnd() % 90_000, rnd() % 2_000_000, rnd() % 120, rnd()
                ),
                6..=8 => format!(
                    r#"{{"timestamp":"{ts}","flow_id":{flow},"in_iface":"eth0","event_type":"dns","src_ip":"10.20.{a}.{b}","src_port":{sp},"dest_ip":"10.20.0.53","dest_port":53,"proto":"UDP","dns":{{"version":2,"type":"answer","id":{},"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"host{c}.elections.example.gov","rrtype":"A","rcode":"NOERROR","answers":[{{"rrname":"host{c}.elections.example.gov","rrtype":"A","ttl":{},"rdata":"198.51.100.{a}"}}]}}}}"#,
                    rnd() % 65536, rnd() % 3600
                ),
                _ => format!(
                    r#"{{"timestamp":"{ts}","flow_id":{flow},"in_iface":"eth0","event_type":"alert","src_ip":"198.51.100.{a}","src_port":{sp},"dest_ip":"10.20.{b}.{c}","dest_port":80,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{},"rev":3,"signature":"ET SCAN Suspicious inbound to voter registration portal","category":"Attempted Information Leak","severity":2}},"app_proto":"http"}}"#,
                    2_000_000 + rnd() % 10_000
                ),
            }
            .into_bytes()
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lines = eve_lines();
    let raw: usize = lines.iter().map(Vec::len).sum();
    println!(
        "{N} EVE records, {:.1} MiB, mean {} bytes",
        raw as f64 / 1048576.0,
        raw / N as usize
    );
    for fsync in [Fsync::EveryN(1000), Fsync::Interval(100)] {
        let dir = tempfile::tempdir()?;
        let cfg = SpoolConfig {
            fsync,
            ..SpoolConfig::default()
        };
        let mut spool = Spool::open(dir.path(), cfg)?;
        let (c0, w0) = (cpu(), Instant::now());
        for l in &lines {
            spool.append(l)?;
        }
        spool.sync()?;
        let (append_cpu, append_wall) = (cpu() - c0, w0.elapsed());
        println!(
            "append, fsync {fsync:?}: cpu {:>4} ms, wall {:>4} ms per 100k; spool {:.1} MiB",
            append_cpu.as_millis(),
            append_wall.as_millis(),
            spool.stats().depth_bytes as f64 / 1048576.0
        );
        for level in [1, -1, -3] {
            let mut b = BatchBuilder::new(
                "1042",
                BatchConfig {
                    zstd_level: level,
                    ..BatchConfig::default()
                },
            );
            let (c0, w0) = (cpu(), Instant::now());
            let (mut from, mut ndjson, mut zst, mut batches) = (1, 0, 0, 0);
            let mut recs = Records::new();
            while let Some(batch) = {
                spool.read_into(from, 5000, 4 << 20, &mut recs)?;
                b.build_records(&recs, Check::Framing)?
            } {
                from = batch.last_seq + 1;
                ndjson += batch.raw_len;
                zst += batch.body.len();
                batches += 1;
            }
            println!(
                "  batches (5000 records), zstd {level}: cpu {:>4} ms, wall {:>4} ms per 100k; \
                 {batches} batches, NDJSON {:.1} MiB -> {:.1} MiB ({:.1}x)",
                (cpu() - c0).as_millis(),
                w0.elapsed().as_millis(),
                ndjson as f64 / 1048576.0,
                zst as f64 / 1048576.0,
                ndjson as f64 / zst as f64
            );
        }
        let (c0, w0) = (cpu(), Instant::now());
        spool.ack(N)?;
        println!(
            "  ack + trim: cpu {} ms, wall {} ms",
            (cpu() - c0).as_millis(),
            w0.elapsed().as_millis()
        );
    }
    Ok(())
}
