//! What was generated: totals, per-protocol counts, malicious flows by kind, and an
//! optional per-flow ground truth a test can compare a sensor's flow records against.

use crate::attacks::AttackKind;
use std::fmt::Write;
use std::net::IpAddr;

/// Application protocol of a flow (the label a sensor's `app_proto` should agree with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppProto {
    Dns,
    Http,
    Tls,
    Smb,
    /// Opaque backup stream on TCP 2500.
    Backup,
    Ntp,
    /// ICMP or ICMPv6 echo.
    Icmp,
    /// TCP without application data (port-scan probes).
    Tcp,
}

impl AppProto {
    pub const ALL: [AppProto; 8] = [
        AppProto::Dns,
        AppProto::Http,
        AppProto::Tls,
        AppProto::Smb,
        AppProto::Backup,
        AppProto::Ntp,
        AppProto::Icmp,
        AppProto::Tcp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AppProto::Dns => "dns",
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Smb => "smb",
            AppProto::Backup => "backup",
            AppProto::Ntp => "ntp",
            AppProto::Icmp => "icmp",
            AppProto::Tcp => "tcp",
        }
    }

    pub(crate) fn idx(self) -> usize {
        self as usize
    }
}

/// Ground truth for one flow. The client is `src`; "to server" means from `src` to `dst`.
/// Bytes are whole frames as written (link header included), which is what Suricata counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowTruth {
    /// Flows are numbered in the order they start.
    pub id: u64,
    /// IP protocol number (6, 17, 1 or 58).
    pub ip_proto: u8,
    pub src: IpAddr,
    /// 0 for ICMP.
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
    /// ICMP echo identifier (0 otherwise).
    pub icmp_id: u16,
    pub app: AppProto,
    pub attack: Option<AttackKind>,
    /// 802.1Q VLAN id (the inner one for QinQ) and the 802.1ad outer id.
    pub vlan: Option<u16>,
    pub outer_vlan: Option<u16>,
    /// For TLS flows: whether the handshake negotiated TLS 1.3.
    pub tls13: bool,
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    pub retransmissions: u64,
    pub out_of_order: u64,
}

impl FlowTruth {
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(320);
        let _ = write!(
            s,
            "{{\"id\":{},\"proto\":{},\"src_ip\":\"{}\",\"src_port\":{},\"dest_ip\":\"{}\",\"dest_port\":{},\"app_proto\":\"{}\"",
            self.id,
            self.ip_proto,
            self.src,
            self.src_port,
            self.dst,
            self.dst_port,
            self.app.name()
        );
        if let Some(a) = self.attack {
            let _ = write!(s, ",\"attack\":\"{}\"", a.name());
        }
        if let Some(v) = self.vlan {
            let _ = write!(s, ",\"vlan\":{v}");
        }
        if let Some(v) = self.outer_vlan {
            let _ = write!(s, ",\"outer_vlan\":{v}");
        }
        if self.ip_proto == 1 || self.ip_proto == 58 {
            let _ = write!(s, ",\"icmp_id\":{}", self.icmp_id);
        }
        let _ = write!(
            s,
            ",\"pkts_toserver\":{},\"pkts_toclient\":{},\"bytes_toserver\":{},\"bytes_toclient\":{},\"first_ts_ns\":{},\"last_ts_ns\":{},\"retransmissions\":{},\"out_of_order\":{}}}",
            self.pkts_toserver,
            self.pkts_toclient,
            self.bytes_toserver,
            self.bytes_toclient,
            self.first_ts_ns,
            self.last_ts_ns,
            self.retransmissions,
            self.out_of_order
        );
        s
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProtoStats {
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub packets: u64,
    /// Sum of frame lengths on the wire (pcap `orig_len`).
    pub bytes: u64,
    /// Size of the capture file written, headers included.
    pub file_bytes: u64,
    pub flows: u64,
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    /// Indexed like [`AppProto::ALL`]; see [`Summary::proto`].
    pub by_proto: [ProtoStats; 8],
    /// Malicious flows, indexed like [`AttackKind::ALL`]; see [`Summary::attack_flows`].
    pub malicious: [u64; 7],
    pub malicious_flows: u64,
    pub retransmissions: u64,
    pub out_of_order: u64,
    pub ipv6_flows: u64,
    pub vlan_flows: u64,
    pub qinq_flows: u64,
    pub tls12_flows: u64,
    pub tls13_flows: u64,
    /// Per-flow ground truth in start order (empty unless `SynthConfig::ground_truth`).
    pub truth: Vec<FlowTruth>,
}

impl Summary {
    pub fn proto(&self, p: AppProto) -> ProtoStats {
        self.by_proto[p.idx()]
    }

    pub fn attack_flows(&self, k: AttackKind) -> u64 {
        self.malicious[k.idx()]
    }

    pub(crate) fn add_flow(&mut self, t: &FlowTruth, keep: bool) {
        self.flows += 1;
        let p = &mut self.by_proto[t.app.idx()];
        p.flows += 1;
        if let Some(a) = t.attack {
            self.malicious[a.idx()] += 1;
            self.malicious_flows += 1;
        }
        self.retransmissions += t.retransmissions;
        self.out_of_order += t.out_of_order;
        if t.src.is_ipv6() {
            self.ipv6_flows += 1;
        }
        if t.vlan.is_some() {
            self.vlan_flows += 1;
        }
        if t.outer_vlan.is_some() {
            self.qinq_flows += 1;
        }
        if t.app == AppProto::Tls {
            if t.tls13 {
                self.tls13_flows += 1;
            } else {
                self.tls12_flows += 1;
            }
        }
        if keep {
            self.truth.push(t.clone());
        }
    }

    /// The totals as one JSON object (the per-flow truth is in [`Summary::truth_jsonl`]).
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(2048);
        let _ = write!(
            s,
            "{{\"packets\":{},\"bytes\":{},\"file_bytes\":{},\"flows\":{},\"first_ts_ns\":{},\"last_ts_ns\":{},",
            self.packets, self.bytes, self.file_bytes, self.flows, self.first_ts_ns, self.last_ts_ns
        );
        s.push_str("\"by_proto\":{");
        for (i, p) in AppProto::ALL.iter().enumerate() {
            let st = self.by_proto[p.idx()];
            let _ = write!(
                s,
                "{}\"{}\":{{\"flows\":{},\"packets\":{},\"bytes\":{}}}",
                if i > 0 { "," } else { "" },
                p.name(),
                st.flows,
                st.packets,
                st.bytes
            );
        }
        s.push_str("},\"malicious\":{");
        for (i, k) in AttackKind::ALL.iter().enumerate() {
            let _ = write!(
                s,
                "{}\"{}\":{}",
                if i > 0 { "," } else { "" },
                k.name(),
                self.malicious[k.idx()]
            );
        }
        let ratio = if self.flows > 0 {
            self.malicious_flows as f64 / self.flows as f64
        } else {
            0.0
        };
        let _ = write!(
            s,
            "}},\"malicious_flows\":{},\"malicious_ratio\":{:.5},\"retransmissions\":{},\"out_of_order\":{},\"ipv6_flows\":{},\"vlan_flows\":{},\"qinq_flows\":{},\"tls12_flows\":{},\"tls13_flows\":{}}}",
            self.malicious_flows,
            ratio,
            self.retransmissions,
            self.out_of_order,
            self.ipv6_flows,
            self.vlan_flows,
            self.qinq_flows,
            self.tls12_flows,
            self.tls13_flows
        );
        s
    }

    /// The per-flow ground truth, one JSON object per line.
    pub fn truth_jsonl(&self) -> String {
        let mut s = String::with_capacity(self.truth.len() * 300);
        for t in &self.truth {
            s.push_str(&t.to_json());
            s.push('\n');
        }
        s
    }
}
