// Test-only module: compiled under #[cfg(test)] from its parent.
//! Replays the TCP payloads of the tls-category conformance cases
//! (/work/shared/conformance) through [`TlsState`] and checks the `tls.*`
//! values their EVE checks expect. TCP is put in order by sequence number
//! only (the pcaps are mostly in order); envelope keys are not checked.
//! Skips with a note when the corpus is absent.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{eve::should_log, eve_tls, TlsConfig, TlsEveOptions, TlsState};
use crate::Direction;

use crate::test_pcap as pcap;

type Key = ([u8; 16], u16);

/// One direction's byte stream: in-order delivery with a small
/// out-of-order store, keyed by offset from the first sequence number.
#[derive(Default)]
struct Stream {
    base: Option<u32>,
    next: u32,
    pending: std::collections::BTreeMap<u32, Vec<u8>>,
    /// Set once the direction's data looks like TLS (after e.g. an HTTP
    /// CONNECT exchange, the sensor switches protocols there).
    started: bool,
}

impl Stream {
    /// Segments now deliverable, in order.
    fn push(&mut self, syn: bool, seq: u32, payload: &[u8]) -> Vec<Vec<u8>> {
        let base = *self
            .base
            .get_or_insert(if syn { seq.wrapping_add(1) } else { seq });
        if payload.is_empty() {
            return Vec::new();
        }
        let off = seq.wrapping_sub(base);
        if off > u32::MAX / 2 {
            return Vec::new();
        }
        self.pending.entry(off).or_insert_with(|| payload.to_vec());
        let mut out = Vec::new();
        while let Some((&o, _)) = self.pending.first_key_value() {
            if o > self.next {
                break;
            }
            let Some((o, seg)) = self.pending.pop_first() else {
                break;
            };
            let skip = (self.next - o) as usize;
            if skip < seg.len() {
                self.next += (seg.len() - skip) as u32;
                out.push(seg[skip..].to_vec());
            }
        }
        out
    }
}

struct Flow {
    client: Key,
    streams: [Stream; 2],
    state: TlsState,
}

/// Every TCP flow of the pcap, fed in sequence order.
fn replay(path: &Path) -> Vec<TlsState> {
    let mut flows: HashMap<(Key, Key), Flow> = HashMap::new();
    let mut order = Vec::new();
    let config = TlsConfig {
        ja3_fingerprints: true,
        ja4_fingerprints: true,
        ..TlsConfig::default()
    };
    for pkt in pcap::packets(path) {
        if pkt.proto != 6 {
            continue;
        }
        let (s, d) = ((pkt.src, pkt.sport), (pkt.dst, pkt.dport));
        let (flags, seq, payload) = (pkt.flags, pkt.seq, pkt.payload.as_slice());
        let key = if s < d { (s, d) } else { (d, s) };
        let f = flows.entry(key).or_insert_with(|| {
            order.push(key);
            // The sender of a bare SYN, or else of the first packet, is the client.
            let client = if flags & 0x12 == 0x12 { d } else { s };
            Flow {
                client,
                streams: Default::default(),
                state: TlsState::new(config.clone()),
            }
        });
        let dir = if s == f.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let stream = &mut f.streams[dir.index()];
        for data in stream.push(flags & 0x02 != 0, seq, payload) {
            if !stream.started {
                stream.started = matches!(super::probe(&data), super::Probe::Tls(_));
                if !stream.started {
                    continue;
                }
            }
            let _ = f.state.parse(dir, &data);
        }
    }
    order
        .into_iter()
        .filter_map(|k| flows.remove(&k))
        .map(|mut f| {
            f.state.eof();
            f.state
        })
        .collect()
}

/// The case's eve `tls` options; `None` when it logs no `tls` records.
fn options(case: &Value) -> Option<TlsEveOptions> {
    let Some(outputs) = case["eve_output"].as_array() else {
        // Suricata's stock suricata.yaml: `- tls: extended: yes`.
        return Some(TlsEveOptions::extended());
    };
    let types = outputs
        .iter()
        .filter_map(|o| o["types"].as_array())
        .flatten();
    for t in types {
        if t == "tls" {
            return Some(TlsEveOptions::default());
        }
        if let Some(o) = t.get("tls") {
            return Some(TlsEveOptions::from_config(o));
        }
    }
    None
}

/// `tls.client_alpns[1]` style paths.
fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, idx) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        cur = cur.get(name)?;
        if let Some(i) = idx {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

#[test]
fn conformance_tls_cases() {
    let Some(cases) = pcap::cases_dir() else {
        return;
    };
    let index = cases.join("../INDEX.tsv");
    let Ok(tsv) = std::fs::read_to_string(&index) else {
        eprintln!("skipping: {} not found", index.display());
        return;
    };
    let (mut checked, mut failures) = (0, Vec::new());
    for line in tsv.lines().filter(|l| l.split('\t').nth(1) == Some("tls")) {
        let name = line.split('\t').next().unwrap_or_default();
        let dir = cases.join(name);
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
            continue;
        };
        let Ok(case) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let Some(opts) = options(&case) else {
            continue;
        };
        let pcaps = case["pcap"].as_array().cloned().unwrap_or_default();
        let states: Vec<TlsState> = pcaps
            .iter()
            .filter_map(Value::as_str)
            .flat_map(|p| replay(&dir.join(p)))
            .collect();
        let records: Vec<Value> = states
            .iter()
            .filter(|s| should_log(s, &opts))
            .map(|s| serde_json::json!({ "tls": eve_tls(s, &opts) }))
            .collect();
        for check in case["checks"].as_array().into_iter().flatten() {
            let f = &check["filter"];
            let Some(m) = f["match"].as_object() else {
                continue;
            };
            if m.get("event_type").and_then(Value::as_str) != Some("tls") {
                continue;
            }
            let tls_keys: Vec<(&String, &Value)> =
                m.iter().filter(|(k, _)| k.starts_with("tls.")).collect();
            let envelope = m
                .keys()
                .any(|k| k != "event_type" && !k.starts_with("tls."));
            let n = records
                .iter()
                .filter(|r| tls_keys.iter().all(|(k, v)| lookup(r, k) == Some(*v)))
                .count();
            let want = f["count"].as_u64().unwrap_or(1) as usize;
            checked += 1;
            // Envelope keys narrow Suricata's count to one flow: only
            // presence is comparable then.
            let ok = if envelope {
                n >= want.min(1)
            } else {
                n == want
            };
            if !ok {
                failures.push(format!(
                    "{name}: {n} records match, want {want}: {m:?}\n  got {records:?}"
                ));
            }
        }
    }
    eprintln!(
        "tls conformance: {checked} checks, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
