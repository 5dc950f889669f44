//! EVE `alert` records as Suricata writes them: the envelope of the packet
//! or transaction, the `alert` object, the transaction's app-layer object,
//! `app_proto`, `direction` and the flow's counters so far.

use super::DetectSettings;
use crate::applayer::{envelope, Envelope};
use serde::Serialize;
use serde_json::value::RawValue;
use watchfloor_detect::Alert;
use watchfloor_eve::{EveRecord, EventBody, RawFields, Timestamp};
use watchfloor_flow::{Direction, Flow};
use watchfloor_rules::{Action, Sig, Target};

/// The eve `alert` type's options (suricata.yaml names).
#[derive(Debug, Clone)]
pub struct AlertOptions {
    /// `metadata: yes` (default): the rule's metadata as `alert.metadata`.
    pub metadata: bool,
    /// `payload: yes`: the inspected bytes, base64, and `payload_length`.
    pub payload: bool,
    /// `payload-printable: yes`: the inspected bytes with unprintables as `.`.
    pub payload_printable: bool,
    /// `packet: yes`: the whole frame, base64, with `packet_info`.
    pub packet: bool,
    /// `payload-buffer-size`: at most this many payload bytes are logged.
    pub payload_buffer_size: usize,
    /// Whether alert records are written at all (the `alert` eve type).
    pub enabled: bool,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            metadata: true,
            payload: false,
            payload_printable: false,
            packet: false,
            payload_buffer_size: 4096,
            enabled: true,
        }
    }
}

impl AlertOptions {
    /// From the eve `alert` type: written only when listed; `metadata`
    /// defaults to yes as in Suricata's stock configuration.
    pub fn from_config(c: &crate::SensorConfig) -> AlertOptions {
        let eve = &c.outputs.eve_log;
        let opts = eve.types.get("alert");
        let metadata = match opts.and_then(|t| t.get("metadata")) {
            Some(toml::Value::Boolean(b)) => *b,
            Some(toml::Value::String(s)) => !matches!(s.as_str(), "no" | "false" | "off"),
            // `metadata: { app-layer: ..., flow: ... }` style blocks: on.
            _ => true,
        };
        let flag = |k: &str| match opts.and_then(|t| t.get(k)) {
            Some(toml::Value::Boolean(b)) => *b,
            Some(toml::Value::String(s)) => matches!(s.as_str(), "yes" | "true" | "on"),
            _ => false,
        };
        let payload_buffer_size = match opts.and_then(|t| t.get("payload-buffer-size")) {
            Some(toml::Value::Integer(i)) => usize::try_from(*i).unwrap_or(4096),
            Some(toml::Value::String(s)) => crate::config::parse_size(s)
                .and_then(|v| usize::try_from(v).ok())
                .unwrap_or(4096),
            _ => 4096,
        };
        AlertOptions {
            metadata,
            payload: flag("payload"),
            payload_printable: flag("payload-printable"),
            packet: flag("packet"),
            payload_buffer_size,
            enabled: eve.enabled && eve.enabled("alert"),
        }
    }
}

/// What the alert was raised on, for the payload options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// The bytes inspected (packet payload or stream data).
    pub payload: &'a [u8],
    /// The current frame and its link type number.
    pub frame: Option<(&'a [u8], u32)>,
    /// The match was on reassembled stream data.
    pub stream: bool,
    /// IP version of the packet.
    pub ip_v: Option<u8>,
}

#[derive(Serialize)]
struct PacketInfo {
    linktype: u32,
}

/// Suricata's printable rendering: bytes outside 0x20..=0x7e (and not
/// tab, CR or LF) become `.`.
fn printable(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) || c == b'\n' || c == b'\r' || c == b'\t' {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

fn push_evidence(s: &DetectSettings, ev: &Evidence<'_>, fields: &mut RawFields) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let o = &s.alert;
    let pl = &ev.payload[..ev.payload.len().min(o.payload_buffer_size)];
    if o.payload {
        fields.push("payload", &b64.encode(pl));
    }
    if o.payload_printable {
        fields.push("payload_printable", &printable(pl));
    }
    if o.payload || o.payload_printable {
        fields.push("payload_length", &ev.payload.len());
    }
    if ev.stream {
        fields.push("stream", &1u8);
    }
    if o.packet {
        if let Some((frame, linktype)) = ev.frame {
            fields.push("packet", &b64.encode(frame));
            fields.push("packet_info", &PacketInfo { linktype });
        }
    }
}

#[derive(Serialize)]
struct Endpoint {
    ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Serialize)]
struct AlertObj<'a> {
    action: &'static str,
    gid: u32,
    signature_id: u32,
    rev: u32,
    signature: &'a str,
    category: &'a str,
    severity: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `metadata: key value, key value` as Suricata logs it: each key with the
/// list of its values, in order.
fn metadata(sig: &Sig) -> Option<serde_json::Map<String, serde_json::Value>> {
    if sig.metadata.is_empty() {
        return None;
    }
    let mut m = serde_json::Map::new();
    for (k, v) in &sig.metadata {
        let e = m
            .entry(k.clone())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(a) = e {
            a.push(serde_json::Value::String(v.clone()));
        }
    }
    Some(m)
}

fn alert_obj<'a>(s: &'a DetectSettings, sig: &'a Sig, rec: &EveRecord) -> AlertObj<'a> {
    let category = sig
        .classtype
        .as_deref()
        .and_then(|c| s.categories.get(c))
        .map(String::as_str)
        .unwrap_or("");
    let ep = |ip: Option<std::net::IpAddr>, port: Option<u16>| {
        ip.map(|ip| Endpoint {
            ip: watchfloor_eve::ip_string(ip),
            port,
        })
    };
    let (source, target) = match sig.target {
        Some(Target::Dst) => (ep(rec.src_ip, rec.src_port), ep(rec.dest_ip, rec.dest_port)),
        Some(Target::Src) => (ep(rec.dest_ip, rec.dest_port), ep(rec.src_ip, rec.src_port)),
        None => (None, None),
    };
    AlertObj {
        // An IDS lets everything through; only an inline sensor blocks.
        action: match sig.header.action {
            Action::Pass => "pass",
            _ => "allowed",
        },
        gid: sig.gid,
        signature_id: sig.sid,
        rev: sig.rev,
        signature: &sig.msg,
        category,
        severity: sig.priority,
        source,
        target,
        metadata: if s.alert.metadata {
            metadata(sig)
        } else {
            None
        },
    }
}

#[derive(Serialize)]
struct FlowObj {
    pkts_toserver: u64,
    pkts_toclient: u64,
    bytes_toserver: u64,
    bytes_toclient: u64,
    start: Timestamp,
    src_ip: String,
    dest_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
}

/// An alert on a flow: the record faces the way the matching data travelled.
pub fn render<U>(
    s: &DetectSettings,
    a: &Alert,
    flow: &Flow<U>,
    dir: Direction,
    env: &Envelope,
    app_obj: Option<&(&'static str, Box<RawValue>)>,
    ev: &Evidence<'_>,
) -> EveRecord {
    let sig = s.engine.sig(a.rule);
    let mut rec = flow_envelope(flow, dir, env);
    rec.tx_id = a.tx_id;
    let head = alert_obj(s, sig, &rec);
    finish(s, rec, &head, flow, dir, env, app_obj, ev)
}

/// An alert for an indicator hit: `alert.signature` names the indicator and
/// its source; `alert.metadata` carries them as fields (kind, value, source,
/// id, tlp) for the hub to correlate on.
pub fn render_indicator<U>(
    s: &DetectSettings,
    ind: &watchfloor_indicators::Indicator,
    flow: &Flow<U>,
    dir: Direction,
    env: &Envelope,
    app_obj: Option<&(&'static str, Box<RawValue>)>,
    ev: &Evidence<'_>,
) -> EveRecord {
    let rec = flow_envelope(flow, dir, env);
    let signature = format!(
        "WATCHFLOOR INDICATOR {} {} (source: {})",
        ind.kind, ind.value, ind.source
    );
    let mut md = serde_json::Map::new();
    let mut put = |k: &str, v: String| {
        md.insert(k.to_string(), serde_json::Value::Array(vec![v.into()]));
    };
    put("indicator_kind", ind.kind.to_string());
    put("indicator", ind.value.to_string());
    put("indicator_source", ind.source.to_string());
    if let Some(id) = &ind.id {
        put("indicator_id", id.to_string());
    }
    if let Some(t) = ind.tlp {
        put("tlp", t.to_string());
    }
    if let Some(d) = &ind.desc {
        put("indicator_desc", d.to_string());
    }
    put("indicator_file", format!("{}:{}", ind.file, ind.line));
    let head = AlertObj {
        action: "allowed",
        gid: 1,
        signature_id: super::indicators::sid(ind.kind),
        rev: 1,
        signature: &signature,
        category: "Known indicator of compromise",
        severity: ind.severity,
        source: None,
        target: None,
        metadata: Some(md),
    };
    finish(s, rec, &head, flow, dir, env, app_obj, ev)
}

fn flow_envelope<U>(flow: &Flow<U>, dir: Direction, env: &Envelope) -> EveRecord {
    let mut rec = envelope(
        flow,
        dir,
        env,
        EventBody::Multi {
            event_type: "alert",
            fields: RawFields::default(),
        },
    );
    rec.pkt_src = Some("wire/pcap");
    rec
}

#[allow(clippy::too_many_arguments)]
fn finish<U>(
    s: &DetectSettings,
    mut rec: EveRecord,
    head: &AlertObj<'_>,
    flow: &Flow<U>,
    dir: Direction,
    env: &Envelope,
    app_obj: Option<&(&'static str, Box<RawValue>)>,
    ev: &Evidence<'_>,
) -> EveRecord {
    // ICMP alerts name the message, as Suricata's packet header does.
    if matches!(flow.proto(), 1 | 58) && rec.icmp_type.is_none() {
        let tc = match dir {
            Direction::ToServer => flow.icmp(),
            Direction::ToClient => flow.icmp_response(),
        };
        if let Some((t, c)) = tc {
            rec.icmp_type = Some(t);
            rec.icmp_code = Some(c);
        }
    }
    let mut fields = RawFields::default();
    fields.push("alert", head);
    if let Some((k, v)) = app_obj {
        fields.push(k, v);
    }
    if let Some(p) = flow.app_proto {
        fields.push("app_proto", p);
    }
    let packet_dir = if flow.swap_pending() {
        env.pkt_dir
    } else {
        dir
    };
    fields.push(
        "direction",
        match packet_dir {
            Direction::ToServer => "to_server",
            Direction::ToClient => "to_client",
        },
    );
    let ports = matches!(flow.proto(), 6 | 17 | 132);
    fields.push(
        "flow",
        &FlowObj {
            pkts_toserver: flow.pkts(Direction::ToServer),
            pkts_toclient: flow.pkts(Direction::ToClient),
            bytes_toserver: flow.bytes(Direction::ToServer),
            bytes_toclient: flow.bytes(Direction::ToClient),
            start: Timestamp(flow.start_ns()),
            src_ip: watchfloor_eve::ip_string(flow.src_ip()),
            dest_ip: watchfloor_eve::ip_string(flow.dst_ip()),
            src_port: ports.then(|| flow.src_port()),
            dest_port: ports.then(|| flow.dst_port()),
        },
    );
    push_evidence(s, ev, &mut fields);
    rec.body = EventBody::Multi {
        event_type: "alert",
        fields,
    };
    rec
}

/// An alert on a packet without a flow: `rec` is the packet's envelope.
pub fn fill(s: &DetectSettings, a: &Alert, rec: &mut EveRecord, ev: &Evidence<'_>) {
    let sig = s.engine.sig(a.rule);
    let mut fields = RawFields::default();
    fields.push("alert", &alert_obj(s, sig, rec));
    push_evidence(s, ev, &mut fields);
    rec.event_type = "alert";
    rec.body = EventBody::Multi {
        event_type: "alert",
        fields,
    };
}
