//! The app layer end to end: flows the synthesiser made as DNS, HTTP or TLS
//! are recognised as such (by content), and their EVE records are written and
//! valid against Suricata's schema.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use support::*;
use watchfloor_synth::{AppProto, SynthConfig, Target};

fn run(seed: u64) -> (watchfloor_synth::Summary, Vec<Value>) {
    let tmp = tempfile::tempdir().unwrap();
    let cap = tmp.path().join("office.pcap");
    let cfg = SynthConfig {
        seed,
        target: Target::Bytes(3 << 20),
        ground_truth: true,
        ..Default::default()
    };
    let summary = synth(&cfg, &cap);
    let out = tmp.path().join("out");
    sensor(&cap, &out, &["--threads", "1"])
        .expect_no_panic()
        .expect_code(0);
    (summary, read_eve(&out))
}

fn key(r: &Value) -> (String, u64, String, u64) {
    (
        r["src_ip"].as_str().unwrap_or_default().to_string(),
        r["src_port"].as_u64().unwrap_or(0),
        r["dest_ip"].as_str().unwrap_or_default().to_string(),
        r["dest_port"].as_u64().unwrap_or(0),
    )
}

#[test]
fn dns_http_and_tls_flows_are_recognised_by_content() {
    let (summary, records) = run(21);
    let by_tuple: BTreeMap<_, &Value> = of_type(&records, "flow")
        .into_iter()
        .map(|r| (key(r), r))
        .collect();
    let mut checked = BTreeMap::<&str, usize>::new();
    for t in &summary.truth {
        let want = match t.app {
            AppProto::Dns => "dns",
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            _ => continue,
        };
        // EVE writes addresses as Suricata does (IPv6 uncompressed).
        let k = (
            watchfloor_eve::ip_string(t.src),
            u64::from(t.src_port),
            watchfloor_eve::ip_string(t.dst),
            u64::from(t.dst_port),
        );
        let Some(rec) = by_tuple.get(&k) else {
            panic!("no flow record for {k:?} ({want})");
        };
        assert_eq!(
            rec["app_proto"].as_str(),
            Some(want),
            "flow {k:?}: app_proto {} (expected {want})",
            rec["app_proto"]
        );
        *checked.entry(want).or_default() += 1;
    }
    for p in ["dns", "http", "tls"] {
        assert!(
            checked.get(p).copied().unwrap_or(0) > 5,
            "too few {p} flows checked: {checked:?}"
        );
    }
}

#[test]
fn every_dns_http_and_tls_flow_has_its_records() {
    let (_, records) = run(22);
    let flows = of_type(&records, "flow");
    for proto in ["dns", "http", "tls"] {
        let flow_ids: std::collections::BTreeSet<u64> = flows
            .iter()
            .filter(|r| r["app_proto"] == proto)
            .filter_map(|r| r["flow_id"].as_u64())
            .collect();
        let logged: std::collections::BTreeSet<u64> = of_type(&records, proto)
            .iter()
            .filter_map(|r| r["flow_id"].as_u64())
            .collect();
        let missing: Vec<_> = flow_ids.difference(&logged).collect();
        assert!(
            missing.is_empty(),
            "{proto}: {} of {} flows have no {proto} record",
            missing.len(),
            flow_ids.len()
        );
    }
    // TLS records carry what the hub's baselines learn from.
    for r in of_type(&records, "tls") {
        let tls = &r["tls"];
        assert!(tls["sni"].is_string(), "tls record without sni: {r}");
        assert!(tls["ja4"].is_string(), "tls record without ja4: {r}");
    }
}

#[test]
fn app_layer_records_validate_against_suricata_schema() {
    let Some(schema) = eve_schema() else { return };
    let (_, records) = run(23);
    for t in ["dns", "http", "tls", "anomaly"] {
        let recs: Vec<Value> = of_type(&records, t).into_iter().cloned().collect();
        if t != "anomaly" {
            assert!(!recs.is_empty(), "no {t} records");
        }
        assert_schema_valid(&schema, &recs, &format!("{t} records"));
    }
}
