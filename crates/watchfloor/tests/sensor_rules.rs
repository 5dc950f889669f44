//! Rules end to end: `watchfloor sensor -S rules` on synthetic office traffic
//! writes one EVE `alert` per matching transaction or stream, carrying the
//! rule (sid, msg, classtype's category and priority), the transaction's
//! app-layer object and the flow's id; the flow record says `alerted`; every
//! record is valid against Suricata's schema; threads do not change alerts.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::*;
use watchfloor_synth::{SynthConfig, Target};

/// Values the synthesiser is known to put on the wire (crates/watchfloor-synth:
/// `POST /login` bursts to the portal, the beacon's SNI, DNS lookups of
/// `WEB_NAMES`, `/.git/config` scans, the poll-book sync client).
const RULES: &str = r#"# watchfloor e2e rules
alert http any any -> any any (msg:"WF login POST"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/login"; startswith; classtype:trojan-activity; sid:9000001; rev:2;)
alert tls any any -> any any (msg:"WF beacon SNI"; tls.sni; content:"cdn-telemetry-sync.net"; classtype:trojan-activity; sid:9000002; rev:1;)
alert dns any any -> any any (msg:"WF office365 query"; dns.query; content:"outlook.office365.com"; classtype:policy-violation; sid:9000003; rev:1;)
alert http any any -> any any (msg:"WF git config probe"; http.uri; content:"/.git/config"; classtype:attempted-recon; sid:9000004; rev:3;)
alert http any any -> any any (msg:"WF never"; http.host; content:"never-seen.example"; sid:9000005; rev:1;)
alert tcp any any -> any any (msg:"WF pollbook UA in stream"; flow:to_server,established; content:"PollbookSync/4.2.1"; classtype:misc-activity; sid:9000006; rev:1;)
"#;

const BEACON_SNI: &str = "cdn-telemetry-sync.net";

struct Fixture {
    _tmp: tempfile::TempDir,
    cap: PathBuf,
    rules: PathBuf,
    /// eve.json of `--threads 1`.
    records: Vec<Value>,
    secs: f64,
}

fn run_sensor(cap: &Path, rules: &Path, out: &Path, threads: &str) -> Vec<Value> {
    let r = sensor(
        cap,
        out,
        &["--threads", threads, "-S", rules.to_str().unwrap()],
    );
    r.expect_no_panic().expect_code(0);
    assert!(
        !r.stderr.contains("rule not loaded"),
        "every test rule loads:\n{}",
        r.stderr
    );
    read_eve(out)
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let cap = tmp.path().join("office.pcap");
        let cfg = SynthConfig {
            seed: 1,
            target: Target::Bytes(2 << 20),
            ..Default::default()
        };
        synth(&cfg, &cap);
        let rules = tmp.path().join("e2e.rules");
        std::fs::write(&rules, RULES).unwrap();
        let t = std::time::Instant::now();
        let records = run_sensor(&cap, &rules, &tmp.path().join("out1"), "1");
        let secs = t.elapsed().as_secs_f64();
        Fixture {
            _tmp: tmp,
            cap,
            rules,
            records,
            secs,
        }
    })
}

fn alerts_of(records: &[Value], sid: u64) -> Vec<&Value> {
    of_type(records, "alert")
        .into_iter()
        .filter(|a| a["alert"]["signature_id"] == sid)
        .collect()
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// App-layer records whose transaction each rule should alert on, counted
/// from the sensor's own `http`/`tls`/`dns` records of the same run.
fn expected_count(records: &[Value], sid: u64) -> usize {
    let http = of_type(records, "http");
    match sid {
        9000001 => http
            .iter()
            .filter(|r| {
                s(r, "/http/http_method") == "POST" && s(r, "/http/url").starts_with("/login")
            })
            .count(),
        9000002 => of_type(records, "tls")
            .iter()
            .filter(|r| s(r, "/tls/sni") == BEACON_SNI)
            .count(),
        9000003 => of_type(records, "dns")
            .iter()
            .filter(|r| {
                s(r, "/dns/type") == "request"
                    && r["dns"]["queries"]
                        .as_array()
                        .is_some_and(|q| q.iter().any(|q| q["rrname"] == "outlook.office365.com"))
            })
            .count(),
        9000004 => http
            .iter()
            .filter(|r| s(r, "/http/url").contains("/.git/config"))
            .count(),
        9000005 => 0,
        9000006 => http
            .iter()
            .filter(|r| s(r, "/http/http_user_agent").contains("PollbookSync/4.2.1"))
            .count(),
        _ => unreachable!(),
    }
}

#[test]
fn each_rule_alerts_once_per_matching_transaction() {
    let f = fixture();
    println!("sensor --threads 1 with rules: {:.2} s", f.secs);
    let mut report = BTreeMap::new();
    for sid in 9000001..=9000006u64 {
        let got = alerts_of(&f.records, sid).len();
        let want = expected_count(&f.records, sid);
        report.insert(sid, (got, want));
    }
    for (sid, (got, want)) in &report {
        if *sid != 9000005 {
            assert!(
                *want > 0,
                "synth traffic no longer holds what sid {sid} looks for"
            );
        }
        assert_eq!(
            got, want,
            "sid {sid}: alerts vs matching app records ({report:?})"
        );
    }
    // Nothing but our rules alerted.
    let sids: BTreeSet<u64> = of_type(&f.records, "alert")
        .iter()
        .filter_map(|a| a["alert"]["signature_id"].as_u64())
        .collect();
    assert!(
        sids.iter().all(|s| (9000001..=9000006).contains(s)),
        "{sids:?}"
    );
}

/// (sid, rev, msg, category, severity, app_proto, app object)
type Expect = (
    u64,
    u64,
    &'static str,
    &'static str,
    u64,
    &'static str,
    Option<&'static str>,
);

#[test]
fn alert_records_carry_the_rule_and_the_transaction() {
    let f = fixture();
    let cases: [Expect; 5] = [
        (
            9000001,
            2,
            "WF login POST",
            "A Network Trojan was detected",
            1,
            "http",
            Some("http"),
        ),
        (
            9000002,
            1,
            "WF beacon SNI",
            "A Network Trojan was detected",
            1,
            "tls",
            Some("tls"),
        ),
        (
            9000003,
            1,
            "WF office365 query",
            "Potential Corporate Privacy Violation",
            1,
            "dns",
            Some("dns"),
        ),
        (
            9000004,
            3,
            "WF git config probe",
            "Attempted Information Leak",
            2,
            "http",
            Some("http"),
        ),
        (
            9000006,
            1,
            "WF pollbook UA in stream",
            "Misc activity",
            3,
            "http",
            None,
        ),
    ];
    for (sid, rev, msg, cat, sev, app, obj) in cases {
        let alerts = alerts_of(&f.records, sid);
        assert!(!alerts.is_empty(), "sid {sid} did not alert");
        for a in alerts {
            let al = &a["alert"];
            assert_eq!(al["gid"], 1, "{a}");
            assert_eq!(al["rev"], rev, "{a}");
            assert_eq!(al["signature"], msg, "{a}");
            assert_eq!(al["category"], cat, "{a}");
            assert_eq!(al["severity"], sev, "{a}");
            assert_eq!(al["action"], "allowed", "{a}");
            assert_eq!(a["app_proto"], app, "{a}");
            assert!(a["flow_id"].as_u64().is_some_and(|id| id > 0), "{a}");
            assert!(parse_eve_ts(s(a, "/timestamp")).is_ok(), "{a}");
            // All these rules look at client data: the record faces the server.
            assert_eq!(a["direction"], "to_server", "{a}");
            if let Some(o) = obj {
                assert!(a[o].is_object(), "sid {sid}: no {o} object: {a}");
            }
            match sid {
                9000001 => {
                    assert_eq!(a["http"]["http_method"], "POST", "{a}");
                    assert!(s(a, "/http/url").starts_with("/login"), "{a}");
                    assert_eq!(a["dest_port"], 80, "{a}");
                }
                9000002 => {
                    assert_eq!(a["tls"]["sni"], BEACON_SNI, "{a}");
                    assert_eq!(a["dest_ip"], "185.220.101.47", "{a}");
                    assert_eq!(a["dest_port"], 443, "{a}");
                }
                9000003 => {
                    let q = &a["dns"]["queries"];
                    assert!(
                        q.as_array().is_some_and(|q| q
                            .iter()
                            .any(|q| q["rrname"] == "outlook.office365.com")),
                        "{a}"
                    );
                    assert_eq!(a["proto"], "UDP", "{a}");
                }
                9000004 => assert!(s(a, "/http/url").contains("/.git/config"), "{a}"),
                _ => {}
            }
        }
    }
}

#[test]
fn alerts_share_their_flow_id_with_an_alerted_flow_record() {
    let f = fixture();
    let flows: BTreeMap<u64, &Value> = of_type(&f.records, "flow")
        .into_iter()
        .map(|r| (r["flow_id"].as_u64().expect("flow_id"), r))
        .collect();
    let alerted: BTreeSet<u64> = of_type(&f.records, "alert")
        .iter()
        .map(|a| a["flow_id"].as_u64().expect("alert flow_id"))
        .collect();
    assert!(!alerted.is_empty());
    for id in &alerted {
        let fl = flows
            .get(id)
            .unwrap_or_else(|| panic!("alert flow_id {id} has no flow record"));
        assert_eq!(fl["flow"]["alerted"], true, "{fl}");
    }
    for a in of_type(&f.records, "alert") {
        let fl = flows[&a["flow_id"].as_u64().unwrap()];
        // Same 5-tuple, either way round.
        let fwd = (&a["src_ip"], &a["src_port"], &a["dest_ip"], &a["dest_port"]);
        let f5 = (
            &fl["src_ip"],
            &fl["src_port"],
            &fl["dest_ip"],
            &fl["dest_port"],
        );
        let r5 = (
            &fl["dest_ip"],
            &fl["dest_port"],
            &fl["src_ip"],
            &fl["src_port"],
        );
        assert!(fwd == f5 || fwd == r5, "alert {a}\nflow {fl}");
        assert_eq!(a["app_proto"], fl["app_proto"], "alert {a}\nflow {fl}");
    }
    let quiet = flows
        .iter()
        .filter(|(id, _)| !alerted.contains(id))
        .collect::<Vec<_>>();
    assert!(!quiet.is_empty());
    for (_, fl) in quiet {
        assert_eq!(fl["flow"]["alerted"], false, "no alert for this flow: {fl}");
    }
}

#[test]
fn alert_records_validate_against_suricatas_schema() {
    let Some(schema) = eve_schema() else { return };
    let f = fixture();
    let alerts: Vec<Value> = of_type(&f.records, "alert").into_iter().cloned().collect();
    assert!(!alerts.is_empty());
    assert_schema_valid(&schema, &alerts, "alert records");
    assert_schema_valid(&schema, &f.records, "all records of a run with rules");
}

fn alert_multiset(records: &[Value]) -> BTreeMap<(u64, u64), usize> {
    let mut m = BTreeMap::new();
    for a in of_type(records, "alert") {
        let k = (
            a["alert"]["signature_id"].as_u64().unwrap(),
            a["flow_id"].as_u64().unwrap(),
        );
        *m.entry(k).or_default() += 1;
    }
    m
}

#[test]
fn two_threads_write_the_same_alerts_as_one() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let two = run_sensor(&f.cap, &f.rules, &tmp.path().join("out2"), "2");
    println!(
        "sensor --threads 2 with rules: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let one = alert_multiset(&f.records);
    let two = alert_multiset(&two);
    assert!(!one.is_empty());
    let only_one: Vec<_> = one.iter().filter(|(k, n)| two.get(k) != Some(n)).collect();
    let only_two: Vec<_> = two.iter().filter(|(k, n)| one.get(k) != Some(n)).collect();
    assert!(
        only_one.is_empty() && only_two.is_empty(),
        "(sid, flow_id) → count differ\n--threads 1 only: {only_one:?}\n--threads 2 only: {only_two:?}"
    );
}

#[test]
fn without_rules_there_are_no_alerts_and_no_flow_is_alerted() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("norules");
    sensor(&f.cap, &out, &["--threads", "1"])
        .expect_no_panic()
        .expect_code(0);
    let recs = read_eve(&out);
    assert!(of_type(&recs, "alert").is_empty());
    assert!(of_type(&recs, "flow")
        .iter()
        .all(|r| r["flow"]["alerted"] == false));
    // The rules do not change what else is written.
    let count = |rs: &[Value], t: &str| of_type(rs, t).len();
    for t in ["flow", "http", "dns", "tls"] {
        assert_eq!(count(&recs, t), count(&f.records, t), "{t} records");
    }
}
