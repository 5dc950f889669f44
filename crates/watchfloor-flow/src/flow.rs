use crate::key::{Direction, FlowKey};
use crate::tcp_state::{TcpSession, TcpState};
use std::net::IpAddr;
use watchfloor_stream::Reassembler;

/// Suricata's flow state (`flow.state` in EVE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowState {
    New,
    Established,
    Closed,
    Bypassed,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
            FlowState::Bypassed => "bypassed",
        }
    }
}

/// Why a flow ended (`flow.reason` in EVE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    Timeout,
    Forced,
    Shutdown,
    /// A new SYN reused the 5-tuple of a closed TCP session.
    TcpReuse,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
            EndReason::TcpReuse => "tcp_reuse",
        }
    }
}

/// Distinct MAC addresses seen on each side of a flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MacSet {
    /// MACs of the flow's source side (toserver source, toclient destination).
    pub src: Vec<[u8; 6]>,
    pub dst: Vec<[u8; 6]>,
}

impl MacSet {
    pub(crate) fn add(&mut self, dir: Direction, src: [u8; 6], dst: [u8; 6]) {
        let (s, d) = match dir {
            Direction::ToServer => (src, dst),
            Direction::ToClient => (dst, src),
        };
        // Usually one MAC per side: a linear scan beats any set here.
        if !self.src.contains(&s) {
            self.src.push(s);
        }
        if !self.dst.contains(&d) {
            self.dst.push(d);
        }
    }
}

/// One flow. `U` is per-flow state owned by the layers above (app-layer
/// parsers, detection); the table creates it with `U::default()`.
#[derive(Debug)]
pub struct Flow<U> {
    pub(crate) key: FlowKey,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) sp: u16,
    pub(crate) dp: u16,
    pub(crate) proto: u8,
    pub(crate) vlan: [u16; 3],
    pub(crate) vlan_count: u8,
    pub(crate) flow_id: u64,
    pub(crate) start_ns: i64,
    pub(crate) last_ns: i64,
    pub(crate) end_ns: i64,
    pub(crate) pkts: [u64; 2],
    pub(crate) bytes: [u64; 2],
    pub(crate) state: FlowState,
    pub(crate) tcp: Option<TcpSession>,
    /// Taken out while data is delivered, so the sink can borrow the flow.
    pub(crate) streams: Option<Box<[Reassembler; 2]>>,
    pub(crate) icmp: Option<(u8, u8)>,
    pub(crate) icmp_response: Option<(u8, u8)>,
    pub(crate) macs: Option<Box<MacSet>>,
    pub(crate) emergency: bool,
    pub(crate) bad_checksums: u32,
    /// An app-layer probe found the flow backwards; the table swaps it once
    /// the packet being handled is done (streams are out of the flow until then).
    pub(crate) swap_pending: bool,
    /// The TCP session was established before the packet being handled
    /// (Suricata flags a packet `established` by the state it found, so the
    /// ACK that completes the handshake is not yet established).
    pub(crate) pkt_established: bool,
    /// Set by detection when an alert fired on this flow.
    pub alerted: bool,
    /// Set by app-layer detection; `Some("failed")` when detection gave up.
    pub app_proto: Option<&'static str>,
    pub user: U,
}

impl<U> Flow<U> {
    pub fn key(&self) -> &FlowKey {
        &self.key
    }
    /// Address of the flow's client (source of its first packet).
    pub fn src_ip(&self) -> IpAddr {
        self.src
    }
    pub fn dst_ip(&self) -> IpAddr {
        self.dst
    }
    pub fn src_port(&self) -> u16 {
        self.sp
    }
    pub fn dst_port(&self) -> u16 {
        self.dp
    }
    pub fn proto(&self) -> u8 {
        self.proto
    }
    pub fn vlans(&self) -> &[u16] {
        &self.vlan[..self.vlan_count as usize]
    }
    /// Stable 51-bit id shared by every record of this flow.
    pub fn flow_id(&self) -> u64 {
        self.flow_id
    }
    pub fn start_ns(&self) -> i64 {
        self.start_ns
    }
    pub fn last_ns(&self) -> i64 {
        self.last_ns
    }
    /// Time the flow ended (0 while it is alive).
    pub fn end_ns(&self) -> i64 {
        self.end_ns
    }
    pub fn pkts(&self, dir: Direction) -> u64 {
        self.pkts[dir.index()]
    }
    pub fn bytes(&self, dir: Direction) -> u64 {
        self.bytes[dir.index()]
    }
    pub fn state(&self) -> FlowState {
        self.state
    }
    /// Suricata's local bypass: stream processing stops, the flow lives on
    /// with the bypassed timeout and is logged as `bypassed`.
    pub fn bypass(&mut self) {
        self.state = FlowState::Bypassed;
    }
    /// The TCP session, if the state machine tracks one.
    pub fn tcp(&self) -> Option<&TcpSession> {
        self.tcp.as_ref()
    }
    /// Whether the packet being handled counts as `established` for
    /// `flow:established`: TCP by the session's state before this packet;
    /// other protocols once both directions have been seen.
    pub fn pkt_established(&self) -> bool {
        if self.proto == 6 {
            self.pkt_established
        } else {
            self.state != FlowState::New
        }
    }

    pub fn tcp_state(&self) -> Option<TcpState> {
        self.tcp.as_ref().map(|s| s.state())
    }
    /// OR of the TCP flags seen in `dir` (0 without a session, as Suricata).
    pub fn tcp_flags(&self, dir: Direction) -> u8 {
        self.tcp.as_ref().map_or(0, |s| s.flags(dir))
    }
    /// Reassembly state of `dir`, when the session is reassembled.
    pub fn stream(&self, dir: Direction) -> Option<&Reassembler> {
        self.streams.as_ref().map(|s| &s[dir.index()])
    }
    /// ICMP type and code of the flow's first packet.
    pub fn icmp(&self) -> Option<(u8, u8)> {
        self.icmp
    }
    /// ICMP type and code of the first packet in the toclient direction.
    pub fn icmp_response(&self) -> Option<(u8, u8)> {
        self.icmp_response
    }
    pub fn macs(&self) -> Option<&MacSet> {
        self.macs.as_deref()
    }
    /// True if the flow ended during emergency mode.
    pub fn emergency(&self) -> bool {
        self.emergency
    }
    /// Packets of this flow whose TCP checksum was wrong (not reassembled).
    pub fn bad_checksums(&self) -> u32 {
        self.bad_checksums
    }

    /// Direction of a packet from `src:sport` in this flow.
    pub fn direction_of(&self, src: IpAddr, sport: u16) -> Direction {
        if src == self.src && (src != self.dst || sport == self.sp) {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// Reverses the flow's endpoints and counters, not its TCP session
    /// (used when the session is created already in the new orientation).
    pub(crate) fn swap_endpoints(&mut self) {
        std::mem::swap(&mut self.src, &mut self.dst);
        std::mem::swap(&mut self.sp, &mut self.dp);
        self.pkts.swap(0, 1);
        self.bytes.swap(0, 1);
        if let Some(m) = self.macs.as_deref_mut() {
            std::mem::swap(&mut m.src, &mut m.dst);
        }
        if let (Some(a), Some(b)) = (self.icmp, self.icmp_response) {
            self.icmp = Some(b);
            self.icmp_response = Some(a);
        }
    }

    /// Asks for [`Flow::swap`] once the current packet is handled: safe to call
    /// from a sink callback, where the streams are lent out.
    pub fn request_swap(&mut self) {
        self.swap_pending = true;
    }

    /// True between [`Flow::request_swap`] and the swap itself.
    pub fn swap_pending(&self) -> bool {
        self.swap_pending
    }

    /// Reverses the whole flow (Suricata's FlowSwap): what was toserver
    /// becomes toclient, session and streams included. For layers that learn
    /// late who the server is (e.g. an app-layer probe).
    pub fn swap(&mut self) {
        self.swap_endpoints();
        if let Some(t) = self.tcp.as_mut() {
            t.swap();
        }
        if let Some(s) = self.streams.as_deref_mut() {
            s.swap(0, 1);
        }
    }
}
