#![allow(dead_code)]

use std::net::IpAddr;
use watchfloor_capture::{LinkType, RawPacket};
use watchfloor_decode::{EtherHdr, IcmpHdr, InnerTuple, IpHdr, Packet, TcpHdr, UdpHdr, L4};
use watchfloor_eve::EveRecord;
use watchfloor_flow::{Direction, EndReason, Flow, FlowRecorder, FlowSink, StreamEvent};

static FRAME: [u8; 4096] = [0; 4096];

pub const T0: i64 = 1_730_786_400_000_000_000;
pub const SEC: i64 = 1_000_000_000;

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A packet with Ethernet-sized framing: 14 + 20 + L4 header + payload bytes.
pub fn base<'a>(
    ts: i64,
    src: &str,
    dst: &str,
    proto: u8,
    l4: L4,
    l4len: usize,
    payload: &'a [u8],
) -> Packet<'a> {
    let len = 14 + 20 + l4len + payload.len();
    let raw = RawPacket {
        ts_ns: ts,
        linktype: LinkType::Ethernet,
        data: &FRAME[..len],
        orig_len: len as u32,
        offset: 0,
        interface: 0,
    };
    let mut p = Packet::new(&raw);
    p.ether = Some(EtherHdr {
        src: [2, 0, 0, 0, 0, 1],
        dst: [2, 0, 0, 0, 0, 2],
        ether_type: 0x0800,
    });
    p.ip = Some(IpHdr {
        version: 4,
        src: ip(src),
        dst: ip(dst),
        proto,
        ttl: 64,
        tos: 0,
        id: 0,
        hdr_len: 20,
        total_len: (20 + l4len + payload.len()) as u32,
        reassembled: false,
        checksum_ok: None,
    });
    p.l4 = l4;
    p.payload = payload;
    p
}

#[allow(clippy::too_many_arguments)]
pub fn tcp<'a>(
    ts: i64,
    src: &str,
    sp: u16,
    dst: &str,
    dp: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &'a [u8],
) -> Packet<'a> {
    let th = TcpHdr {
        sport: sp,
        dport: dp,
        seq,
        ack,
        hdr_len: 20,
        flags,
        window: 65535,
        ..TcpHdr::default()
    };
    base(ts, src, dst, 6, L4::Tcp(th), 20, payload)
}

pub fn udp<'a>(ts: i64, src: &str, sp: u16, dst: &str, dp: u16, payload: &'a [u8]) -> Packet<'a> {
    let uh = UdpHdr {
        sport: sp,
        dport: dp,
        len: (8 + payload.len()) as u16,
        checksum_ok: None,
    };
    base(ts, src, dst, 17, L4::Udp(uh), 8, payload)
}

pub fn icmp<'a>(
    ts: i64,
    src: &str,
    dst: &str,
    t: u8,
    code: u8,
    inner: Option<InnerTuple>,
) -> Packet<'a> {
    let ih = IcmpHdr {
        icmp_type: t,
        code,
        id: 7,
        seq: 1,
        inner,
        checksum_ok: None,
    };
    base(ts, src, dst, 1, L4::Icmpv4(ih), 8, &[])
}

/// Records everything the table reports.
#[derive(Default)]
pub struct Rec {
    pub recorder: FlowRecorder,
    pub data: [Vec<u8>; 2],
    pub gaps: Vec<(Direction, u64)>,
    pub events: Vec<StreamEvent>,
    pub packets: Vec<(u64, Direction)>,
    pub ended: Vec<(EndReason, EveRecord)>,
}

impl FlowSink<()> for Rec {
    fn on_packet(&mut self, flow: &mut Flow<()>, dir: Direction, _pkt: &Packet<'_>) {
        self.packets.push((flow.flow_id(), dir));
    }
    fn on_stream_data(&mut self, _flow: &mut Flow<()>, dir: Direction, data: &[u8]) {
        self.data[dir.index()].extend_from_slice(data);
    }
    fn on_stream_gap(&mut self, _flow: &mut Flow<()>, dir: Direction, len: u64) {
        self.gaps.push((dir, len));
    }
    fn on_stream_event(&mut self, _flow: &mut Flow<()>, _dir: Direction, ev: StreamEvent) {
        self.events.push(ev);
    }
    fn on_flow_end(&mut self, flow: &mut Flow<()>, reason: EndReason) {
        let r = self.recorder.flow_record(flow, reason);
        self.ended.push((reason, r));
    }
}

impl Rec {
    pub fn json(&self, i: usize) -> serde_json::Value {
        let mut out = Vec::new();
        self.ended[i].1.write_line(&mut out);
        serde_json::from_slice(&out).unwrap()
    }
}
