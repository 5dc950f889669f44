// Test-only module: compiled under #[cfg(test)] from its parent.
//! Replays the TCP of the http-category Suricata regression cases in
//! /work/shared/conformance through a minimal in-test reassembly (in-order
//! segments, overlaps trimmed, out-of-order held), the HTTP state and the
//! EVE builder, and checks the `http.*` fields the cases expect. Checks on
//! other event types or the envelope are skipped. Skips with a note when
//! the corpus is absent.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::http::{eve_http, HttpConfig, HttpEveOptions, HttpState};
use crate::Direction;

use crate::test_pcap as pcap;

type Key = ([u8; 16], [u8; 16], u16, u16);

struct Seg<'a> {
    key: Key,
    seq: u32,
    syn: bool,
    fin_rst: bool,
    payload: &'a [u8],
}

#[derive(Default)]
struct DirStream {
    next: Option<u32>,
    held: BTreeMap<u32, Vec<u8>>,
}

impl DirStream {
    /// In-order bytes this segment makes available.
    fn segment(&mut self, seq: u32, syn: bool, data: &[u8]) -> Vec<u8> {
        // TCP Fast Open carries data in the SYN, after its sequence number.
        let seq = if syn {
            self.next = Some(seq.wrapping_add(1));
            seq.wrapping_add(1)
        } else {
            seq
        };
        let next = *self.next.get_or_insert(seq);
        if !data.is_empty() {
            self.held.entry(seq).or_insert_with(|| data.to_vec());
        }
        let mut out = Vec::new();
        let mut next = next;
        while let Some((&s, _)) = self.held.iter().find(|(&s, d)| {
            s.wrapping_sub(next) as i32 <= 0
                && s.wrapping_add(d.len() as u32).wrapping_sub(next) as i32 > 0
        }) {
            let d = self.held.remove(&s).unwrap_or_default();
            let skip = next.wrapping_sub(s) as usize;
            out.extend_from_slice(&d[skip..]);
            next = s.wrapping_add(d.len() as u32);
        }
        // Drop retransmissions of bytes already delivered.
        self.held
            .retain(|&s, d| s.wrapping_add(d.len() as u32).wrapping_sub(next) as i32 > 0);
        self.next = Some(next);
        out
    }
}

struct Flow {
    state: HttpState,
    streams: [DirStream; 2],
}

fn lookup(rec: &Value, path: &str) -> Option<Value> {
    let mut cur = rec;
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

fn options(case: &Value) -> Option<HttpEveOptions> {
    let Some(outputs) = case["eve_output"].as_array() else {
        return Some(HttpEveOptions::default());
    };
    for t in outputs
        .iter()
        .filter_map(|x| x["types"].as_array())
        .flatten()
    {
        if t == "http" {
            return Some(HttpEveOptions::from_config(&Value::Null));
        }
        if let Some(o) = t.get("http") {
            return Some(HttpEveOptions::from_config(o));
        }
    }
    None
}

fn anomalies(tx: &crate::http::HttpTx, out: &mut Vec<Value>) {
    for e in tx.app_events() {
        let a = e.anomaly();
        out.push(serde_json::json!({ "event_type": "anomaly", "anomaly": {
            "type": a.kind, "event": a.event, "app_proto": a.app_proto, "layer": a.layer } }));
    }
}

#[test]
fn http_conformance_cases() {
    let Some(cases) = pcap::cases_dir() else {
        return;
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let (mut checked, mut failed) = (0, Vec::new());
    for dir in dirs {
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
            continue;
        };
        let case: Value = serde_json::from_str(&text).unwrap();
        if case["category"] != "http" {
            continue;
        }
        let Some(opts) = options(&case) else { continue };
        let mut flows: HashMap<Key, Flow> = HashMap::new();
        let mut records = Vec::new();
        for pcap in case["pcap"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            for pkt in pcap::packets(&dir.join(pcap)) {
                if pkt.proto != 6 {
                    continue;
                }
                let seg = Seg {
                    key: (pkt.src, pkt.dst, pkt.sport, pkt.dport),
                    seq: pkt.seq,
                    syn: pkt.flags & 0x02 != 0,
                    fin_rst: pkt.flags & 0x05 != 0,
                    payload: &pkt.payload,
                };
                let (s, d, sp, dp) = seg.key;
                let rev = (d, s, dp, sp);
                let (key, dir) = if flows.contains_key(&seg.key) {
                    (seg.key, Direction::ToServer)
                } else if flows.contains_key(&rev) || sp == 80 || sp == 8080 {
                    (rev, Direction::ToClient)
                } else {
                    (seg.key, Direction::ToServer)
                };
                let flow = flows.entry(key).or_insert_with(|| Flow {
                    state: HttpState::new(HttpConfig::default()),
                    streams: Default::default(),
                });
                let bytes = flow.streams[dir.index()].segment(seg.seq, seg.syn, seg.payload);
                flow.state.parse(dir, &bytes);
                if seg.fin_rst {
                    flow.state.close(dir);
                }
                for tx in flow.state.take_complete() {
                    anomalies(&tx, &mut records);
                    records.push(
                        serde_json::json!({ "event_type": "http", "http": eve_http(&tx, &opts) }),
                    );
                }
            }
        }
        for flow in flows.values_mut() {
            flow.state.close(Direction::ToServer);
            flow.state.close(Direction::ToClient);
            for tx in flow.state.drain() {
                anomalies(&tx, &mut records);
                if tx.request.is_some()
                    || tx
                        .response
                        .as_ref()
                        .is_some_and(|r| !r.head.line().is_empty())
                {
                    records.push(
                        serde_json::json!({ "event_type": "http", "http": eve_http(&tx, &opts) }),
                    );
                }
            }
        }
        let name = case["name"].as_str().unwrap_or("?").to_string();
        for check in case["checks"].as_array().into_iter().flatten() {
            let f = &check["filter"];
            let Some(m) = f["match"].as_object() else {
                continue;
            };
            let Some(et) = m.get("event_type").and_then(Value::as_str) else {
                continue;
            };
            let prefix = match et {
                "http" => "http",
                "anomaly" if m.get("anomaly.type").is_none_or(|t| t == "applayer") => "anomaly.",
                _ => continue,
            };
            if !m
                .keys()
                .all(|k| k.starts_with(prefix) || k == "event_type" || k.ends_with("_port"))
            {
                continue;
            }
            let want = f["count"].as_u64().unwrap_or(1);
            // "No http record at all" depends on the sensor's policies
            // (reject, bypass, midstream, conditional logging).
            if want == 0 && m.len() == 1 {
                continue;
            }
            let got = records
                .iter()
                .filter(|r| {
                    r["event_type"] == et
                        && m.iter()
                            .filter(|(k, _)| k.starts_with(prefix))
                            .all(|(k, v)| lookup(r, k).as_ref() == Some(v))
                })
                .count() as u64;
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
        "conformance: {checked} http checks evaluated, {} failed",
        failed.len()
    );
    for f in &failed {
        eprintln!("  {}", &f[..f.len().min(400)]);
    }
    assert!(checked >= 10, "too few checks evaluated: {checked}");
    assert!(
        failed.is_empty(),
        "{} conformance checks failed",
        failed.len()
    );
}
