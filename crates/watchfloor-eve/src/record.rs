//! EVE records. Field order follows Suricata's output so that a diff against
//! Suricata's eve.json reads naturally; optional parts are omitted, not null.

use crate::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

/// IP protocol, written as Suricata names it (`TCP`, `UDP`, `ICMP`, `IPv6-ICMP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Proto(pub u8);

impl Proto {
    pub const ICMP: Proto = Proto(1);
    pub const TCP: Proto = Proto(6);
    pub const UDP: Proto = Proto(17);
    pub const ICMPV6: Proto = Proto(58);
    pub const SCTP: Proto = Proto(132);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "ICMP",
            2 => "IGMP",
            6 => "TCP",
            17 => "UDP",
            41 => "IPV6",
            47 => "GRE",
            50 => "ESP",
            51 => "AH",
            58 => "IPv6-ICMP",
            89 => "OSPF",
            103 => "PIM",
            112 => "VRRP",
            132 => "SCTP",
            _ => return None,
        })
    }
}

impl Serialize for Proto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            // Suricata prints the number when it has no name for the protocol.
            None => s.serialize_str(&self.0.to_string()),
        }
    }
}

/// One EVE line. `event_type` says which of the optional objects is present.
/// An address as Suricata writes it: IPv4 dotted, IPv6 as eight groups of
/// four hex digits, never compressed (`2001:0db8:0000:...:0001`).
pub fn ip_string(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!(
                "{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}",
                s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
            )
        }
    }
}

fn ser_ip<S: serde::Serializer>(ip: &Option<IpAddr>, s: S) -> Result<S::Ok, S::Error> {
    match ip {
        Some(ip) => s.serialize_str(&ip_string(*ip)),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EveRecord {
    pub timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_iface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap_cnt: Option<u64>,
    pub event_type: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vlan: Vec<u16>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_ip")]
    pub src_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_ip")]
    pub dest_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// IP version of the packet or flow (Suricata 8 writes it on every
    /// record that has addresses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_v: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<Proto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_icmp_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkt_src: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_proto_ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_proto_tc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ether: Option<EtherInfo>,
    #[serde(flatten)]
    pub body: EventBody,
}

impl EveRecord {
    /// A record with only the time and type set; callers fill the rest.
    pub fn new(timestamp: Timestamp, body: EventBody) -> Self {
        EveRecord {
            timestamp,
            flow_id: None,
            in_iface: None,
            pcap_cnt: None,
            event_type: body.event_type(),
            vlan: Vec::new(),
            src_ip: None,
            src_port: None,
            dest_ip: None,
            dest_port: None,
            ip_v: None,
            proto: None,
            icmp_type: None,
            icmp_code: None,
            response_icmp_type: None,
            response_icmp_code: None,
            pkt_src: None,
            tx_id: None,
            app_proto: None,
            app_proto_ts: None,
            app_proto_tc: None,
            community_id: None,
            ether: None,
            body,
        }
    }

    /// Appends the record as one JSON line (with the trailing newline).
    pub fn write_line(&self, out: &mut Vec<u8>) {
        // Serialising plain data into a Vec cannot fail: every type here has
        // string keys and no fallible Serialize impl.
        if serde_json::to_writer(&mut *out, self).is_ok() {
            out.push(b'\n');
        }
    }
}

/// The event-specific part of a record.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EventBody {
    Flow {
        flow: FlowInfo,
        #[serde(skip_serializing_if = "Option::is_none")]
        tcp: Option<TcpInfo>,
    },
    Anomaly {
        anomaly: AnomalyInfo,
    },
    Stats {
        stats: StatsInfo,
    },
    /// An app-layer record (`dns`, `http`, `tls`, ...): the protocol's object
    /// under its own key, rendered once as JSON in the protocol's own field
    /// order (no `Value` tree is built).
    AppRaw {
        #[serde(skip)]
        event_type: &'static str,
        #[serde(flatten)]
        field: RawField,
    },
    /// A record with several pre-rendered objects, in order: an `alert` with
    /// the transaction's `http`/`dns`/`tls` object, `app_proto`, `flow`...
    Multi {
        #[serde(skip)]
        event_type: &'static str,
        #[serde(flatten)]
        fields: RawFields,
    },
}

/// Several `"key": <raw JSON>` entries, flattened into the record in order.
#[derive(Debug, Clone, Default)]
pub struct RawFields(pub Vec<RawField>);

impl RawFields {
    /// Adds `key: value`, rendering the value now. A value that cannot be
    /// rendered is left out rather than written half.
    pub fn push<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        if let Ok(value) = serde_json::value::to_raw_value(value) {
            self.0.push(RawField { key, value });
        }
    }
}

impl Serialize for RawFields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for f in &self.0 {
            m.serialize_entry(f.key, &f.value)?;
        }
        m.end()
    }
}

/// One `"key": <raw JSON>` entry, flattened into the record.
#[derive(Debug, Clone)]
pub struct RawField {
    pub key: &'static str,
    pub value: Box<serde_json::value::RawValue>,
}

impl Serialize for RawField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.key, &self.value)?;
        m.end()
    }
}

impl EventBody {
    /// `{"<event_type>": <object>}` from anything serialisable, rendered once
    /// in its own field order. Falls back to an empty object if rendering fails.
    pub fn app_serialize<T: Serialize + ?Sized>(event_type: &'static str, obj: &T) -> EventBody {
        let value = serde_json::value::to_raw_value(obj).unwrap_or_else(|_| {
            // "{}" is valid JSON, so this cannot fail; keep a typed fallback anyway.
            serde_json::value::RawValue::from_string("{}".to_string())
                .unwrap_or_else(|_| Box::<serde_json::value::RawValue>::default())
        });
        EventBody::AppRaw {
            event_type,
            field: RawField {
                key: event_type,
                value,
            },
        }
    }

    pub fn event_type(&self) -> &'static str {
        match self {
            EventBody::Flow { .. } => "flow",
            EventBody::Anomaly { .. } => "anomaly",
            EventBody::Stats { .. } => "stats",
            EventBody::AppRaw { event_type, .. } => event_type,
            EventBody::Multi { event_type, .. } => event_type,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EtherInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ether_type: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_mac: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub src_macs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dest_macs: Vec<String>,
}

/// `flow` object of a flow record. Directions are the flow's: "toserver" is
/// the direction of the flow's first packet.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowInfo {
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Whole seconds between the first and last packet, as Suricata computes it.
    pub age: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    pub reason: &'static str,
    pub alerted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_cnt: Option<u64>,
}

/// `tcp` object of a flow record: flags seen, per direction and in total, as hex.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TcpInfo {
    pub tcp_flags: String,
    pub tcp_flags_ts: String,
    pub tcp_flags_tc: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub syn: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rst: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub psh: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ack: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub urg: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ecn: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cwr: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ts_gap: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tc_gap: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// Most separate regions one direction's reassembly buffer held at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts_max_regions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tc_max_regions: Option<u32>,
}

impl TcpInfo {
    /// Builds the object from the OR of flags seen in each direction.
    pub fn from_flags(ts: u8, tc: u8) -> Self {
        let all = ts | tc;
        TcpInfo {
            tcp_flags: format!("{all:02x}"),
            tcp_flags_ts: format!("{ts:02x}"),
            tcp_flags_tc: format!("{tc:02x}"),
            fin: all & 0x01 != 0,
            syn: all & 0x02 != 0,
            rst: all & 0x04 != 0,
            psh: all & 0x08 != 0,
            ack: all & 0x10 != 0,
            urg: all & 0x20 != 0,
            ecn: all & 0x40 != 0,
            cwr: all & 0x80 != 0,
            ..TcpInfo::default()
        }
    }
}

/// `anomaly` object: `type` is `decode`, `stream` or `applayer`; `event` is
/// Suricata's event name, e.g. `decoder.ipv4.trunc_pkt`.
#[derive(Debug, Clone, Serialize)]
pub struct AnomalyInfo {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<&'static str>,
}

/// `stats` object: Suricata's nested counters (`decoder.pkts`, `flow.tcp`, ...).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct StatsInfo(pub serde_json::Value);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_record_has_suricata_shape() {
        let mut r = EveRecord::new(
            Timestamp::from_secs_micros(1_730_786_400, 0),
            EventBody::Flow {
                flow: FlowInfo {
                    pkts_toserver: 3,
                    pkts_toclient: 2,
                    bytes_toserver: 180,
                    bytes_toclient: 120,
                    start: Timestamp::from_secs_micros(1_730_786_400, 0),
                    end: Timestamp::from_secs_micros(1_730_786_401, 5),
                    age: 1,
                    state: Some("closed"),
                    reason: "shutdown",
                    alerted: false,
                    ..FlowInfo::default()
                },
                tcp: Some(TcpInfo::from_flags(0x1b, 0x13)),
            },
        );
        r.flow_id = Some(42);
        r.src_ip = Some("10.0.10.11".parse().unwrap());
        r.src_port = Some(50000);
        r.dest_ip = Some("2001:db8::1".parse().unwrap());
        r.dest_port = Some(443);
        r.proto = Some(Proto::TCP);
        let mut out = Vec::new();
        r.write_line(&mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["event_type"], "flow");
        assert_eq!(v["proto"], "TCP");
        // Suricata writes IPv6 uncompressed.
        assert_eq!(v["dest_ip"], "2001:0db8:0000:0000:0000:0000:0000:0001");
        assert_eq!(v["flow"]["pkts_toserver"], 3);
        assert_eq!(v["flow"]["start"], "2024-11-05T06:00:00.000000+0000");
        assert_eq!(v["tcp"]["tcp_flags"], "1b");
        assert_eq!(v["tcp"]["syn"], true);
        assert!(v["tcp"].get("rst").is_none());
        assert!(out.ends_with(b"\n"));
    }

    #[test]
    fn raw_app_object_keeps_its_field_order() {
        #[derive(Serialize)]
        struct Obj {
            zeta: u8,
            alpha: &'static str,
        }
        let r = EveRecord::new(
            Timestamp(0),
            EventBody::app_serialize(
                "tls",
                &Obj {
                    zeta: 1,
                    alpha: "x",
                },
            ),
        );
        let mut out = Vec::new();
        r.write_line(&mut out);
        let line = String::from_utf8(out).unwrap();
        assert!(line.contains(r#""event_type":"tls""#), "{line}");
        assert!(line.contains(r#""tls":{"zeta":1,"alpha":"x"}"#), "{line}");
    }

    #[test]
    fn unnamed_protocol_is_its_number() {
        assert_eq!(serde_json::to_string(&Proto(253)).unwrap(), "\"253\"");
        assert_eq!(
            serde_json::to_string(&Proto::ICMPV6).unwrap(),
            "\"IPv6-ICMP\""
        );
    }
}
