//! Replays the UDP DNS of the dns-category Suricata regression cases in
//! /work/shared/conformance through the parser, state and EVE builder, and
//! checks the `dns.*` fields the cases expect. TCP packets are skipped (the
//! sensor's stream reassembly feeds those), and so are checks about other
//! event types or the envelope. Skips with a note when the corpus is absent.

use std::collections::HashMap;

use serde_json::Value;
use watchfloor_applayer::dns::{eve_dns, DnsConfig, DnsEveOptions, DnsEveVersion, DnsState};
use watchfloor_applayer::Direction;

#[path = "support/pcap.rs"]
mod pcap;

/// (src, dst, sport, dport) with IPv4 addresses in the first 4 bytes.
type FlowKey = ([u8; 16], [u8; 16], u16, u16);

fn options(case: &Value) -> Option<DnsEveOptions> {
    let mut o = DnsEveOptions::default();
    let env = case["env"]["SURICATA_EVE_DNS_VERSION"].as_str();
    let mut cfg_version = None;
    if let Some(outputs) = case["eve_output"].as_array() {
        let types = outputs
            .iter()
            .filter_map(|x| x["types"].as_array())
            .flatten();
        let mut found = false;
        for t in types {
            let Some(d) = (if t == "dns" {
                Some(&Value::Null)
            } else {
                t.get("dns")
            }) else {
                continue;
            };
            found = true;
            if d["enabled"] == false {
                return None;
            }
            cfg_version = d["version"].as_u64().map(|v| v.to_string());
            o.requests = d["requests"].as_bool().unwrap_or(true);
            o.responses = d["responses"].as_bool().unwrap_or(true);
            if let Some(ts) = d["types"].as_array() {
                o.set_types(ts.iter().filter_map(Value::as_str));
            }
            if let Some(fs) = d["formats"].as_array() {
                o.set_formats(fs.iter().filter_map(Value::as_str));
            }
        }
        if !found {
            return None;
        }
    }
    o.version = DnsEveVersion::select(cfg_version.as_deref(), env);
    Some(o)
}

/// Resolves `dns.answers[0].rdata`, `dns.answers.__len` in a record.
fn lookup<'a>(rec: &'a Value, path: &str) -> Option<Value> {
    let mut cur: &'a Value = rec;
    for seg in path.split('.') {
        if seg == "__len" {
            return cur.as_array().map(|a| Value::from(a.len()));
        }
        let (key, idx) = match seg.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        cur = cur.get(key)?;
        if let Some(i) = idx {
            cur = cur.get(i)?;
        }
    }
    Some(cur.clone())
}

fn matches(rec: &Value, m: &serde_json::Map<String, Value>) -> bool {
    m.iter()
        .filter(|(k, _)| k.starts_with("dns."))
        .all(|(k, v)| lookup(rec, k).as_ref() == Some(v))
}

#[test]
fn dns_conformance_cases() {
    let Some(cases) = pcap::cases_dir() else {
        return;
    };
    let (mut checked, mut failed) = (0, Vec::new());
    let mut names: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for dir in names {
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
            continue;
        };
        let case: Value = serde_json::from_str(&text).unwrap();
        if case["category"] != "dns" {
            continue;
        }
        let Some(opts) = options(&case) else { continue };
        let mut flows: HashMap<FlowKey, DnsState> = HashMap::new();
        // records[pcap_cnt] = {"dns": obj, "proto": "UDP"}
        let mut records: Vec<(u64, Value)> = Vec::new();
        let mut has_tcp = false;
        for pcap in case["pcap"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            for pkt in pcap::packets(&dir.join(pcap)) {
                if pkt.proto != 17 {
                    has_tcp = true;
                    continue;
                }
                let (s, d, sp, dp, cnt) = (pkt.src, pkt.dst, pkt.sport, pkt.dport, pkt.cnt);
                let payload = pkt.payload.as_slice();
                if sp != 53 && dp != 53 {
                    continue;
                }
                // Flow direction is that of the first packet, unless only
                // the source port says "server".
                let fwd = (s, d, sp, dp);
                let rev = (d, s, dp, sp);
                let (dir, key) = if flows.contains_key(&fwd) {
                    (Direction::ToServer, fwd)
                } else if flows.contains_key(&rev) || (sp == 53 && dp != 53) {
                    (Direction::ToClient, rev)
                } else {
                    (Direction::ToServer, fwd)
                };
                let st = flows
                    .entry(key)
                    .or_insert_with(|| DnsState::new(DnsConfig::default()));
                let _ = st.parse_udp(dir, payload);
                for tx in st.drain() {
                    for obj in eve_dns(&tx, &opts) {
                        records.push((cnt, serde_json::json!({ "dns": obj })));
                    }
                }
            }
        }
        let name = case["name"].as_str().unwrap_or("?").to_string();
        for check in case["checks"].as_array().into_iter().flatten() {
            let f = &check["filter"];
            if f["requires"].get("lt-version").is_some() {
                continue;
            }
            let Some(m) = f["match"].as_object() else {
                continue;
            };
            let is_dns = m.get("event_type").is_none_or(|e| e == "dns");
            let only_dns_keys = m.keys().all(|k| {
                k.starts_with("dns.")
                    || k == "event_type"
                    || k == "pcap_cnt"
                    || k == "proto"
                    || k.ends_with("_ip")
                    || k.ends_with("_port")
                    || k == "pkt_src"
            });
            if !is_dns
                || !only_dns_keys
                || m.get("proto").is_some_and(|p| p != "UDP")
                || !m.keys().any(|k| k.starts_with("dns."))
            {
                continue;
            }
            let want = f["count"].as_u64().unwrap_or(1);
            let got = records
                .iter()
                .filter(|(cnt, r)| {
                    m.get("pcap_cnt").is_none_or(|c| c.as_u64() == Some(*cnt)) && matches(r, m)
                })
                .count() as u64;
            // Counts over a whole capture only mean something without TCP.
            if m.get("pcap_cnt").is_none() && has_tcp {
                continue;
            }
            checked += 1;
            if got != want {
                failed.push(format!(
                    "{name}: want {want} got {got} for {}",
                    Value::Object(m.clone())
                ));
            }
        }
    }
    eprintln!(
        "conformance: {checked} dns checks evaluated, {} failed",
        failed.len()
    );
    for f in &failed {
        eprintln!("  {}", &f[..f.len().min(400)]);
    }
    assert!(checked > 100, "too few checks evaluated: {checked}");
    assert!(
        failed.is_empty(),
        "{} conformance checks failed",
        failed.len()
    );
}
