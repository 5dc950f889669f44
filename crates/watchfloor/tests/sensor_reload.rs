//! SIGHUP reloads the rules while the sensor reads a live stream (stdin):
//! packets before the reload are judged by the old rules, packets after it
//! by the new ones, and none is lost.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;
use watchfloor_synth::{SynthConfig, Target};

const OLD: &str = r#"alert dns any any -> any any (msg:"old"; dns.query; content:"."; sid:1; rev:1;)
"#;
const NEW: &str = r#"alert dns any any -> any any (msg:"new"; dns.query; content:"."; sid:2; rev:1;)
"#;

/// Splits a pcap file into its header and its records.
fn records(pcap: &[u8]) -> (&[u8], Vec<&[u8]>) {
    let (hdr, mut rest) = pcap.split_at(24);
    let mut out = Vec::new();
    while rest.len() >= 16 {
        let incl = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]) as usize;
        let (rec, tail) = rest.split_at(16 + incl);
        out.push(rec);
        rest = tail;
    }
    (hdr, out)
}

#[test]
fn sighup_swaps_rules_between_packets_without_losing_any() {
    let tmp = tempfile::tempdir().unwrap();
    let cap = tmp.path().join("office.pcap");
    synth(
        &SynthConfig {
            seed: 3,
            target: Target::Bytes(1 << 20),
            ..Default::default()
        },
        &cap,
    );
    let bytes = std::fs::read(&cap).unwrap();
    let (hdr, recs) = records(&bytes);
    assert!(recs.len() > 100, "a capture with enough packets");
    let rules = tmp.path().join("local.rules");
    std::fs::write(&rules, OLD).unwrap();
    let out = tmp.path().join("out");
    let mut child = Command::new(BIN)
        .args(["sensor", "-r", "-", "-l"])
        .arg(&out)
        .args(["--threads", "1", "-q", "-S"])
        .arg(&rules)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let half = recs.len() / 2;
    stdin.write_all(hdr).unwrap();
    for r in &recs[..half] {
        stdin.write_all(r).unwrap();
    }
    stdin.flush().unwrap();
    // Give the sensor time to take the first half, then reload.
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&rules, NEW).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let started = Instant::now();
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "sensor ended before reloading"
        );
        if line.contains("rules reloaded") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no reload");
    }
    for r in &recs[half..] {
        stdin.write_all(r).unwrap();
    }
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "sensor exit {status:?}");
    let records = read_eve(&out);
    let sids: Vec<u64> = of_type(&records, "alert")
        .iter()
        .map(|a| a["alert"]["signature_id"].as_u64().unwrap())
        .collect();
    let old = sids.iter().filter(|s| **s == 1).count();
    let new = sids.iter().filter(|s| **s == 2).count();
    let dns_requests = of_type(&records, "dns")
        .iter()
        .filter(|d| d["dns"]["type"] == "request")
        .count();
    assert!(old > 0, "the old rule alerted before the reload");
    assert!(new > 0, "the new rule alerted after the reload");
    // Every DNS request was judged by exactly one of the two rule sets.
    assert_eq!(
        old + new,
        dns_requests,
        "old {old} + new {new} vs {dns_requests} requests"
    );
    // Once the new rules are in force, the old rule never fires again.
    let first_new = sids.iter().position(|s| *s == 2).unwrap();
    assert!(sids[first_new..].iter().all(|s| *s == 2));
}
