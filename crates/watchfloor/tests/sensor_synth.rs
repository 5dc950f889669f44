//! End to end: synthesise a capture with per-flow ground truth, run the
//! `watchfloor sensor` binary over it, and hold every EVE flow record to the truth.
//!
//! How flows are matched. The synthesiser numbers *conversations*; the sensor, like
//! Suricata, tracks *flows*: TCP/UDP by 5-tuple + VLANs, ICMP by the address pair +
//! VLANs alone (Suricata hashes ICMP without ports, and so does
//! watchfloor-flow's `FlowKey`; the echo id is not part of the key). Two
//! conversations with the same key therefore become one flow when the second one
//! starts before the first has timed out. [`expected_flows`] applies exactly that
//! rule (Suricata's default UDP/ICMP timeouts: 30 s while only one side has spoken,
//! 300 s once both have) and sums the merged truths; TCP conversations are never
//! merged. Everything else is compared exactly: direction (the client, the first
//! packet's sender, is `src`), packets and frame bytes each way, and `start`/`end`
//! equal to the first/last packet time.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use support::*;
use watchfloor_synth::{Format, Link, Summary, SynthConfig, Target};

/// (proto, src, sport, dst, dport, vlans outer first). ICMP has ports 0.
type Key = (u8, IpAddr, u16, IpAddr, u16, Vec<u64>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Counts {
    pkts: [u64; 2],
    bytes: [u64; 2],
    first_ns: i64,
    last_ns: i64,
}

const UDP_ICMP_NEW_TIMEOUT_NS: i64 = 30_000_000_000;
const UDP_ICMP_EST_TIMEOUT_NS: i64 = 300_000_000_000;

/// The flow records the truth implies, keyed as the sensor keys them.
fn expected_flows(summary: &Summary) -> BTreeMap<Key, Vec<Counts>> {
    let mut out: BTreeMap<Key, Vec<Counts>> = BTreeMap::new();
    let mut truth: Vec<_> = summary.truth.iter().collect();
    truth.sort_by_key(|t| t.first_ts_ns);
    for t in truth {
        let icmp = matches!(t.ip_proto, 1 | 58);
        let (sp, dp) = if icmp {
            (0, 0)
        } else {
            (t.src_port, t.dst_port)
        };
        let vlan: Vec<u64> = t
            .outer_vlan
            .iter()
            .chain(t.vlan.iter())
            .map(|&v| v.into())
            .collect();
        let c = Counts {
            pkts: [t.pkts_toserver, t.pkts_toclient],
            bytes: [t.bytes_toserver, t.bytes_toclient],
            first_ns: t.first_ts_ns,
            last_ns: t.last_ts_ns,
        };
        // A conversation in the reverse direction joins the flow too, keeping the
        // flow's direction (that of its first packet).
        let fwd = (t.ip_proto, t.src, sp, t.dst, dp, vlan.clone());
        let rev = (t.ip_proto, t.dst, dp, t.src, sp, vlan);
        let mut merged = false;
        if t.ip_proto != 6 {
            for (key, reversed) in [(&fwd, false), (&rev, true)] {
                let Some(prev) = out.get_mut(key).and_then(|l| l.last_mut()) else {
                    continue;
                };
                let timeout = if prev.pkts[1] > 0 {
                    UDP_ICMP_EST_TIMEOUT_NS
                } else {
                    UDP_ICMP_NEW_TIMEOUT_NS
                };
                if c.first_ns <= prev.last_ns + timeout {
                    let (a, b) = if reversed { (1, 0) } else { (0, 1) };
                    prev.pkts[a] += c.pkts[0];
                    prev.pkts[b] += c.pkts[1];
                    prev.bytes[a] += c.bytes[0];
                    prev.bytes[b] += c.bytes[1];
                    prev.last_ns = prev.last_ns.max(c.last_ns);
                    merged = true;
                    break;
                }
            }
        }
        if !merged {
            out.entry(fwd).or_default().push(c);
        }
    }
    out
}

fn proto_number(p: &Value) -> u8 {
    match p.as_str() {
        Some("TCP") => 6,
        Some("UDP") => 17,
        Some("ICMP") => 1,
        Some("IPv6-ICMP") => 58,
        other => panic!("unexpected proto {other:?}"),
    }
}

fn record_key(r: &Value) -> Key {
    let ip = |f: &str| -> IpAddr {
        let s = r[f].as_str().unwrap_or_else(|| panic!("no {f} in {r}"));
        s.parse().unwrap_or_else(|e| panic!("{f} {s:?}: {e}"))
    };
    let port = |f: &str| r[f].as_u64().map_or(0, |p| p as u16);
    let vlan = r["vlan"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_u64().expect("vlan id")).collect())
        .unwrap_or_default();
    (
        proto_number(&r["proto"]),
        ip("src_ip"),
        port("src_port"),
        ip("dest_ip"),
        port("dest_port"),
        vlan,
    )
}

fn record_counts(r: &Value) -> Counts {
    let f = &r["flow"];
    let n = |k: &str| {
        f[k].as_u64()
            .unwrap_or_else(|| panic!("flow.{k} missing in {r}"))
    };
    let ts = |k: &str| {
        parse_eve_ts(f[k].as_str().unwrap_or("")).unwrap_or_else(|e| panic!("flow.{k}: {e}"))
    };
    Counts {
        pkts: [n("pkts_toserver"), n("pkts_toclient")],
        bytes: [n("bytes_toserver"), n("bytes_toclient")],
        first_ns: ts("start"),
        last_ns: ts("end"),
    }
}

/// The flow records of a run, keyed like [`expected_flows`], each list in start order.
fn actual_flows(records: &[Value]) -> BTreeMap<Key, Vec<Counts>> {
    let mut out: BTreeMap<Key, Vec<Counts>> = BTreeMap::new();
    for r in of_type(records, "flow") {
        out.entry(record_key(r)).or_default().push(record_counts(r));
    }
    for v in out.values_mut() {
        v.sort_by_key(|c| c.first_ns);
    }
    out
}

/// Every difference between the truth and the records, one line each.
fn diff_against_truth(summary: &Summary, records: &[Value]) -> Vec<String> {
    let (want, got) = (expected_flows(summary), actual_flows(records));
    let mut diffs = Vec::new();
    for (k, w) in &want {
        match got.get(k) {
            None => diffs.push(format!("missing flow record for {k:?}: want {w:?}")),
            Some(g) if g != w => diffs.push(format!("{k:?}:\n   want {w:?}\n    got {g:?}")),
            Some(_) => {}
        }
    }
    for (k, g) in &got {
        if !want.contains_key(k) {
            diffs.push(format!("unexpected flow record {k:?}: {g:?}"));
        }
    }
    let (nw, ng) = (
        want.values().map(Vec::len).sum::<usize>(),
        got.values().map(Vec::len).sum::<usize>(),
    );
    if nw != ng {
        diffs.push(format!("{ng} flow records, the truth implies {nw}"));
    }
    diffs
}

fn assert_matches_truth(summary: &Summary, records: &[Value], what: &str) {
    let d = diff_against_truth(summary, records);
    assert!(
        d.is_empty(),
        "{what}: {} difference(s) from the ground truth ({} truth flows), first ones:\n{}",
        d.len(),
        summary.truth.len(),
        d.iter().take(15).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn base_config() -> SynthConfig {
    SynthConfig {
        seed: 11,
        target: Target::Bytes(3 << 20),
        ground_truth: true,
        ..Default::default()
    }
}

/// Synthesises `cfg` into DIR/name and runs the sensor (one thread) over it.
fn synth_and_run(dir: &Path, name: &str, cfg: &SynthConfig) -> (Summary, Vec<Value>) {
    let cap = dir.join(name);
    let summary = synth(cfg, &cap);
    let out = dir.join(format!("{name}.out"));
    sensor(&cap, &out, &["--threads", "1"])
        .expect_no_panic()
        .expect_code(0);
    (summary, read_eve(&out))
}

#[test]
fn every_truth_flow_has_exactly_one_matching_flow_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (summary, records) = synth_and_run(tmp.path(), "office.pcap", &base_config());
    assert!(
        summary.truth.len() > 100,
        "too few flows to mean much: {}",
        summary.truth.len()
    );
    assert_matches_truth(&summary, &records, "pcap, Ethernet, 1 thread");
    stats_record(&records);
}

#[test]
fn conversations_that_reuse_a_flow_key_merge_as_in_suricata() {
    // Dense traffic (3 MiB in 10 minutes) makes a few UDP/ICMP conversations reuse
    // a key while its flow is alive; the sensor must merge exactly those.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        seed: 3,
        duration_ns: 600_000_000_000,
        ..base_config()
    };
    let (summary, records) = synth_and_run(tmp.path(), "dense.pcap", &cfg);
    let flows: usize = expected_flows(&summary).values().map(Vec::len).sum();
    assert!(
        flows < summary.truth.len(),
        "no key reuse: the merge rule went untested"
    );
    assert_matches_truth(&summary, &records, "dense capture");
}

#[test]
fn stats_record_counts_match_the_capture() {
    let tmp = tempfile::tempdir().unwrap();
    let (summary, records) = synth_and_run(tmp.path(), "stats.pcap", &base_config());
    let flows = of_type(&records, "flow").len() as u64;
    let stats = stats_record(&records);
    // Suricata's layout: stats.decoder.pkts, stats.decoder.bytes, stats.flow.total.
    assert_eq!(
        stats["decoder"]["pkts"], summary.packets,
        "stats.decoder.pkts in {stats}"
    );
    assert_eq!(
        stats["decoder"]["bytes"], summary.bytes,
        "stats.decoder.bytes"
    );
    assert_eq!(
        stats["flow"]["total"], flows,
        "stats.flow.total vs flow records"
    );
}

#[test]
fn vlan_qinq_and_ipv6_flows_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        vlan_ratio: 0.3,
        qinq_ratio: 0.3,
        ipv6_ratio: 0.3,
        ..base_config()
    };
    let (summary, records) = synth_and_run(tmp.path(), "vlan.pcap", &cfg);
    assert!(
        summary.vlan_flows > 5 && summary.qinq_flows > 2 && summary.ipv6_flows > 5,
        "{}",
        summary.to_json()
    );
    assert_matches_truth(&summary, &records, "VLAN-heavy capture");
    let flows = of_type(&records, "flow");
    let tagged: Vec<_> = flows.iter().filter(|r| r.get("vlan").is_some()).collect();
    let qinq = tagged
        .iter()
        .filter(|r| r["vlan"].as_array().map(Vec::len) == Some(2))
        .count();
    let v6 = flows
        .iter()
        .filter(|r| r["src_ip"].as_str().is_some_and(|s| s.contains(':')))
        .count();
    assert_eq!(
        tagged.len() as u64,
        summary.vlan_flows,
        "records with a vlan array"
    );
    assert_eq!(
        qinq as u64, summary.qinq_flows,
        "records with [outer, inner] vlans"
    );
    assert!(
        v6 as u64 >= summary.ipv6_flows,
        "IPv6 flow records: {v6} < {}",
        summary.ipv6_flows
    );
}

#[test]
fn flow_records_validate_against_suricata_schema() {
    let Some(schema) = eve_schema() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        vlan_ratio: 0.3,
        ..base_config()
    };
    let (_, records) = synth_and_run(tmp.path(), "schema.pcap", &cfg);
    let flows: Vec<Value> = of_type(&records, "flow").into_iter().cloned().collect();
    assert!(!flows.is_empty());
    assert_schema_valid(&schema, &flows, "flow records");
}

#[test]
fn stats_record_validates_against_suricata_schema() {
    let Some(schema) = eve_schema() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (_, records) = synth_and_run(tmp.path(), "stats.pcap", &base_config());
    let stats = of_type(&records, "stats");
    assert_eq!(stats.len(), 1);
    assert_schema_valid(&schema, &[stats[0].clone()], "stats record");
}

/// eve.json of `--threads 1` and `--threads 2` over one capture, sorted, without
/// the stats record; `strip` removes the fields named (`timestamp`, `flow.reason`).
fn one_vs_two_threads(strip: &[&str]) -> [Vec<String>; 2] {
    let tmp = tempfile::tempdir().unwrap();
    let cap = tmp.path().join("t.pcap");
    synth(&base_config(), &cap);
    [1, 2].map(|threads| {
        let out = tmp.path().join(format!("out{threads}"));
        sensor(&cap, &out, &["--threads", &threads.to_string()])
            .expect_no_panic()
            .expect_code(0);
        let mut lines: Vec<String> = read_eve(&out)
            .into_iter()
            .filter(|r| r["event_type"] != "stats")
            .map(|mut r| {
                for f in strip {
                    let (parent, field) = match f.split_once('.') {
                        Some((p, f)) => (&mut r[p], f),
                        None => (&mut r, *f),
                    };
                    if let Some(o) = parent.as_object_mut() {
                        o.remove(field);
                    }
                }
                r.to_string()
            })
            .collect();
        lines.sort();
        lines
    })
}

fn assert_same_records(runs: &[Vec<String>; 2]) {
    assert!(runs[0].len() > 100, "{} records", runs[0].len());
    let only1: Vec<_> = runs[0]
        .iter()
        .filter(|l| !runs[1].contains(l))
        .take(3)
        .collect();
    let only2: Vec<_> = runs[1]
        .iter()
        .filter(|l| !runs[0].contains(l))
        .take(3)
        .collect();
    assert!(
        runs[0] == runs[1],
        "--threads 2 differs from --threads 1 ({} vs {} records)\nonly with 1 thread: {only1:#?}\nonly with 2: {only2:#?}",
        runs[0].len(),
        runs[1].len()
    );
}

#[test]
fn two_threads_write_the_same_flows_as_one() {
    // Everything but when and why the flow ended (see the ignored test below).
    assert_same_records(&one_vs_two_threads(&["timestamp", "flow.reason"]));
}

#[test]
fn two_threads_write_the_same_records_as_one() {
    assert_same_records(&one_vs_two_threads(&[]));
}

#[test]
fn stdin_gives_the_same_output_as_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cap = tmp.path().join("s.pcap");
    synth(&base_config(), &cap);
    let from_file = tmp.path().join("file");
    sensor(&cap, &from_file, &["--threads", "1"])
        .expect_no_panic()
        .expect_code(0);
    let from_stdin = tmp.path().join("stdin");
    let bytes = std::fs::read(&cap).unwrap();
    let args = [
        "sensor",
        "-r",
        "-",
        "-l",
        from_stdin.to_str().unwrap(),
        "-q",
        "--threads",
        "1",
    ];
    run_with_stdin(&args, Some(&bytes))
        .expect_no_panic()
        .expect_code(0);
    let (a, b) = (eve_lines(&from_file), eve_lines(&from_stdin));
    assert!(a.len() > 100);
    assert_eq!(a.len(), b.len(), "record count, file vs stdin");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "file vs stdin output differs");
    }
}

/// Flow identity without the link-dependent byte counts.
fn link_independent(records: &[Value]) -> Vec<(Key, [u64; 2], i64, i64)> {
    let mut v: Vec<_> = of_type(records, "flow")
        .into_iter()
        .map(|r| {
            let c = record_counts(r);
            (record_key(r), c.pkts, c.first_ns, c.last_ns)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn pcapng_and_every_link_type_give_the_same_flows() {
    let tmp = tempfile::tempdir().unwrap();
    // A flow-count target and no VLANs make every variant the same conversations
    // (VLAN tags exist only on Ethernet, and a byte target would stop at a
    // link-dependent point).
    let base = SynthConfig {
        target: Target::Flows(250),
        vlan_ratio: 0.0,
        ..base_config()
    };
    let (eth_sum, eth) = synth_and_run(tmp.path(), "eth.pcap", &base);
    assert_matches_truth(&eth_sum, &eth, "pcap Ethernet");
    let reference = link_independent(&eth);
    assert!(reference.len() > 200, "{} flows", reference.len());
    let variants = [
        ("eth.pcapng", Format::Pcapng, Link::Ethernet),
        ("sll.pcap", Format::Pcap, Link::Sll),
        ("sll2.pcapng", Format::Pcapng, Link::Sll2),
        ("raw.pcap", Format::Pcap, Link::Raw),
    ];
    for (name, format, link) in variants {
        let cfg = SynthConfig {
            format,
            link,
            ..base.clone()
        };
        let (sum, records) = synth_and_run(tmp.path(), name, &cfg);
        assert_matches_truth(&sum, &records, name);
        assert_eq!(
            link_independent(&records),
            reference,
            "{name}: flows differ from the Ethernet pcap"
        );
        if link == Link::Ethernet {
            assert_eq!(
                of_type(&records, "flow"),
                of_type(&eth, "flow"),
                "{name}: pcapng vs pcap records"
            );
        }
    }
    // VLAN tags survive pcapng too.
    let cfg = SynthConfig {
        format: Format::Pcapng,
        vlan_ratio: 0.3,
        ..base
    };
    let (sum, records) = synth_and_run(tmp.path(), "vlan.pcapng", &cfg);
    assert!(sum.vlan_flows > 0);
    assert_matches_truth(&sum, &records, "pcapng with VLANs");
}
