//! EVE `flow` records, field for field as Suricata's output-json-flow writes them.

use crate::community_id::community_id;
use crate::flow::{EndReason, Flow};
use crate::key::{has_ports, Direction};
use watchfloor_eve::{EtherInfo, EveRecord, EventBody, FlowInfo, Proto, TcpInfo, Timestamp};

/// Output options of flow records; cheap to clone into a sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowRecorder {
    /// `community-id: yes` with its seed (`community-id-seed`, default 0).
    pub community_id_seed: Option<u16>,
    /// `ethernet: yes`: write the MACs each side used.
    pub ethernet: bool,
}

fn mac_str(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

impl FlowRecorder {
    /// Community ID of `flow`, if enabled.
    pub fn community_id<U>(&self, flow: &Flow<U>) -> Option<String> {
        let seed = self.community_id_seed?;
        let (sp, dp) = match flow.icmp {
            Some((t, c)) => (u16::from(t), u16::from(c)),
            None => (flow.sp, flow.dp),
        };
        Some(community_id(seed, flow.src, flow.dst, sp, dp, flow.proto))
    }

    /// The `flow` record of a flow that ended for `reason`.
    pub fn flow_record<U>(&self, flow: &Flow<U>, reason: EndReason) -> EveRecord {
        let ts = if flow.end_ns != 0 {
            flow.end_ns
        } else {
            flow.last_ns
        };
        let start = Timestamp(flow.start_ns);
        let end = Timestamp(flow.last_ns);
        let info = FlowInfo {
            pkts_toserver: flow.pkts[0],
            pkts_toclient: flow.pkts[1],
            bytes_toserver: flow.bytes[0],
            bytes_toclient: flow.bytes[1],
            start,
            end,
            age: end.secs() - start.secs(),
            state: Some(flow.state.as_str()),
            reason: reason.as_str(),
            alerted: flow.alerted,
            emergency: flow.emergency.then_some(true),
            tx_cnt: None,
        };
        let tcp = (flow.proto == 6).then(|| self.tcp_info(flow));
        let mut r = EveRecord::new(Timestamp(ts), EventBody::Flow { flow: info, tcp });
        r.flow_id = Some(flow.flow_id);
        r.vlan = flow.vlans().to_vec();
        r.src_ip = Some(flow.src);
        r.dest_ip = Some(flow.dst);
        r.ip_v = Some(if flow.src.is_ipv4() { 4 } else { 6 });
        if has_ports(flow.proto) {
            r.src_port = Some(flow.sp);
            r.dest_port = Some(flow.dp);
        }
        r.proto = Some(Proto(flow.proto));
        if let Some((t, c)) = flow.icmp {
            r.icmp_type = Some(t);
            r.icmp_code = Some(c);
            if flow.pkts[Direction::ToClient.index()] > 0 {
                if let Some((rt, rc)) = flow.icmp_response {
                    r.response_icmp_type = Some(rt);
                    r.response_icmp_code = Some(rc);
                }
            }
        }
        r.app_proto = flow.app_proto.map(str::to_owned);
        r.community_id = self.community_id(flow);
        if self.ethernet {
            if let Some(m) = flow.macs() {
                r.ether = Some(EtherInfo {
                    src_macs: m.src.iter().map(mac_str).collect(),
                    dest_macs: m.dst.iter().map(mac_str).collect(),
                    ..EtherInfo::default()
                });
            }
        }
        r
    }

    fn tcp_info<U>(&self, flow: &Flow<U>) -> TcpInfo {
        let ts = flow.tcp_flags(Direction::ToServer);
        let tc = flow.tcp_flags(Direction::ToClient);
        let mut info = TcpInfo::from_flags(ts, tc);
        if let Some(s) = flow.tcp() {
            info.state = Some(s.state().as_str());
            if let Some(st) = flow.streams.as_deref() {
                info.ts_gap = st[0].has_gap();
                info.tc_gap = st[1].has_gap();
                info.ts_max_regions = Some(st[0].max_regions());
                info.tc_max_regions = Some(st[1].max_regions());
            } else {
                info.ts_max_regions = Some(1);
                info.tc_max_regions = Some(1);
            }
        }
        info
    }
}
