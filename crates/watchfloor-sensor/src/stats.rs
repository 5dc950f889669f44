//! Run counters: merged across workers, written as Suricata's `stats` record
//! (nested objects named as Suricata names them) and as a human summary.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;
use watchfloor_decode::DecodeStats;
use watchfloor_eve::{EveRecord, EventBody, StatsInfo, Timestamp};
use watchfloor_flow::FlowStats;

/// App-layer counters under Suricata's names: flows per detected protocol
/// (`dns_udp`, `dns_tcp`, `http`, `tls`, `failed_tcp`, `failed_udp`),
/// transactions, and parser errors.
#[derive(Debug, Clone, Default)]
pub struct AppStats {
    pub flows: BTreeMap<&'static str, u64>,
    pub tx: BTreeMap<&'static str, u64>,
    pub parser_errors: BTreeMap<&'static str, u64>,
}

impl AppStats {
    /// Counts a flow as it ends.
    pub fn count_flow(
        &mut self,
        ip_proto: u8,
        app_proto: Option<&str>,
        app: &crate::applayer::AppState,
    ) {
        use crate::applayer::AppState;
        let udp = ip_proto == 17;
        let name: &'static str = match (app_proto, udp) {
            (Some("dns"), true) => "dns_udp",
            (Some("dns"), false) => "dns_tcp",
            (Some("http"), _) => "http",
            (Some("tls"), _) => "tls",
            (Some("failed"), true) => "failed_udp",
            (Some("failed"), false) => "failed_tcp",
            _ => return,
        };
        *self.flows.entry(name).or_default() += 1;
        let (tx, failed) = match app {
            AppState::Dns(s) => (s.tx_count(), s.is_failed()),
            AppState::Http(h) => (
                h.state.tx_count(),
                h.state.is_failed(watchfloor_applayer::Direction::ToServer)
                    || h.state.is_failed(watchfloor_applayer::Direction::ToClient),
            ),
            // Suricata counts no TLS transactions in app_layer.tx.tls.
            AppState::Tls(t) => (0, t.state.error().is_some()),
            _ => (0, false),
        };
        if !name.starts_with("failed") {
            *self.tx.entry(name).or_default() += tx;
            *self.parser_errors.entry(name).or_default() += u64::from(failed);
        }
    }

    fn merge(&mut self, o: &AppStats) {
        for (dst, src) in [
            (&mut self.flows, &o.flows),
            (&mut self.tx, &o.tx),
            (&mut self.parser_errors, &o.parser_errors),
        ] {
            for (k, v) in src {
                *dst.entry(k).or_default() += v;
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub app: AppStats,
    pub decode: DecodeStats,
    pub flow: FlowStats,
    /// EVE records written, per event type.
    pub record_counts: BTreeMap<&'static str, u64>,
    /// Packet time of the first and last packet.
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// Wire bytes as captured (frame lengths).
    pub bytes: u64,
    pub packets: u64,
    pub elapsed: Duration,
    pub threads: usize,
}

impl RunStats {
    pub fn merge(&mut self, o: &RunStats) {
        self.decode.merge(&o.decode);
        self.flow.merge(&o.flow);
        self.app.merge(&o.app);
        for (k, v) in &o.record_counts {
            *self.record_counts.entry(k).or_default() += v;
        }
        self.first_ts = match (self.first_ts, o.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = self.last_ts.max(o.last_ts);
        self.bytes += o.bytes;
        self.packets += o.packets;
    }

    /// Suricata's nested stats object: `decoder.pkts`, `decoder.event.ipv4.trunc_pkt`, `flow.tcp`, ...
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        let span = match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => (b - a) / 1_000_000_000,
            _ => 0,
        };
        root.insert("uptime".into(), span.into());
        // Counter names are Suricata's full paths (`decoder.pkts`, `defrag.ipv4.fragments`, `tcp.syn`).
        for (name, v) in self.decode.counters() {
            if !NOT_IN_SURICATA.contains(&name) {
                insert_path(&mut root, name, v);
            }
        }
        for (name, v) in self.decode.events() {
            // Event `decoder.ipv4.trunc_pkt` is counted as decoder.event.ipv4.trunc_pkt.
            if let Some(rest) = name.strip_prefix("decoder.") {
                if rest.contains('.') {
                    insert_path(&mut root, &format!("decoder.event.{rest}"), v);
                }
            }
        }
        for (name, v) in self.flow.counters() {
            insert_path(&mut root, name, v);
        }
        for (p, v) in &self.app.flows {
            insert_path(&mut root, &format!("app_layer.flow.{p}"), *v);
        }
        for (p, v) in &self.app.tx {
            insert_path(&mut root, &format!("app_layer.tx.{p}"), *v);
        }
        for (p, v) in &self.app.parser_errors {
            insert_path(&mut root, &format!("app_layer.error.{p}.parser"), *v);
        }
        Value::Object(root)
    }

    pub fn eve_record(&self) -> EveRecord {
        let ts = Timestamp(self.last_ts.unwrap_or(0));
        EveRecord::new(
            ts,
            EventBody::Stats {
                stats: StatsInfo(self.to_json()),
            },
        )
    }
}

/// Watchfloor's own counters, kept out of the Suricata-shaped record (whose
/// schema forbids unknown names); Suricata folds these cases into others.
const NOT_IN_SURICATA: [&str; 3] = [
    "decoder.unknown_linktype",
    "decoder.unsupported_ethertype",
    "defrag.memcap_drops",
];

fn insert_path(root: &mut Map<String, Value>, path: &str, v: u64) {
    let mut cur = root;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_string(), v.into());
            return;
        }
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            // A counter and a group share a name; keep the counter, drop the detail.
            return;
        }
        let Value::Object(next) = entry else { return };
        cur = next;
    }
}

/// What a run did, for the caller to print or inspect.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub stats: RunStats,
    /// Set when the capture was damaged part-way (byte offset in the message).
    pub capture_error: Option<String>,
    pub eve_path: Option<PathBuf>,
}

impl RunSummary {
    /// A person-sized summary for the end of a run.
    pub fn human(&self) -> String {
        let s = &self.stats;
        let mut out = String::new();
        let secs = s.elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "Read {} packets, {:.1} MiB in {:.2} s ({:.2} Gbit/s, {} thread{}).",
            s.packets,
            s.bytes as f64 / 1048576.0,
            secs,
            s.bytes as f64 * 8.0 / secs / 1e9,
            s.threads,
            if s.threads == 1 { "" } else { "s" }
        );
        let f = &s.flow;
        let _ = writeln!(
            out,
            "Flows: {} (TCP {}, UDP {}, ICMP {}, ICMPv6 {}, other {}).",
            f.created(),
            f.created_tcp,
            f.created_udp,
            f.created_icmpv4,
            f.created_icmpv6,
            f.created_other
        );
        let st = &f.stream;
        let _ = writeln!(
            out,
            "TCP streams: {:.1} MiB reassembled, {} gaps, {} retransmissions, {} overlaps.",
            st.bytes as f64 / 1048576.0,
            st.gaps,
            st.retransmissions,
            st.overlaps
        );
        let mut events: Vec<(&str, u64)> = s.decode.events().filter(|(_, n)| *n > 0).collect();
        if events.is_empty() {
            let _ = writeln!(out, "Decoder: no malformed packets.");
        } else {
            events.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = events.iter().map(|(n, c)| format!("{n} {c}")).collect();
            let _ = writeln!(out, "Decoder events: {}.", list.join(", "));
        }
        if f.emergency_evictions > 0 {
            let _ = writeln!(
                out,
                "Flow memcap reached: {} flows evicted early (raise flow.memcap).",
                f.emergency_evictions
            );
        }
        if let Some(p) = &self.eve_path {
            let recs: Vec<String> = s
                .record_counts
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            let _ = writeln!(
                out,
                "Wrote {}: {}.",
                p.display(),
                if recs.is_empty() {
                    "nothing".to_string()
                } else {
                    recs.join(", ")
                }
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_names() {
        let mut m = Map::new();
        insert_path(&mut m, "decoder.event.ipv4.trunc_pkt", 2);
        insert_path(&mut m, "decoder.pkts", 5);
        let v = Value::Object(m);
        assert_eq!(v["decoder"]["event"]["ipv4"]["trunc_pkt"], 2);
        assert_eq!(v["decoder"]["pkts"], 5);
    }
}
