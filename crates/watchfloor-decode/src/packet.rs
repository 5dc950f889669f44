use crate::DecodeEvent;
use std::net::IpAddr;
use watchfloor_capture::LinkType;

/// TCP flag bits as they sit in the header's 13th byte.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// A decoded packet. Fields below the layer where decoding stopped are empty
/// (`ip == None`, `l4 == L4::None`), and `events` says why.
#[derive(Debug, Clone)]
pub struct Packet<'a> {
    pub ts_ns: i64,
    pub interface: u32,
    pub linktype: LinkType,
    /// Bytes of the frame as captured (what Suricata counts in flow bytes).
    pub captured_len: u32,
    pub ether: Option<EtherHdr>,
    /// VLAN ids, outermost first (802.1Q and 802.1ad/QinQ); up to 3 as Suricata keeps.
    pub vlan: [u16; 3],
    pub vlan_count: u8,
    pub ip: Option<IpHdr>,
    pub l4: L4,
    /// Layer-4 payload: TCP/UDP data, or the ICMP message body after the 8-byte header.
    pub payload: &'a [u8],
    pub events: Events,
    /// Suricata's `PKT_IS_INVALID`: a decoder rejected a header. Events that
    /// are only warnings (unknown ICMP type, IP option oddities) leave it false.
    pub invalid: bool,
    /// The frame carried an IP fragment. When it completed a datagram,
    /// `ip.reassembled` is set and the layers above IP are the datagram's;
    /// otherwise `l4` is `L4::None` and `payload` is empty.
    pub fragment: bool,
}

impl<'a> Packet<'a> {
    /// An empty packet for `raw`, before any layer is decoded.
    pub fn new(raw: &watchfloor_capture::RawPacket<'a>) -> Packet<'a> {
        Packet {
            ts_ns: raw.ts_ns,
            interface: raw.interface,
            linktype: raw.linktype,
            captured_len: u32::try_from(raw.data.len()).unwrap_or(u32::MAX),
            ether: None,
            vlan: [0; 3],
            vlan_count: 0,
            ip: None,
            l4: L4::None,
            payload: &[],
            events: Events::default(),
            invalid: false,
            fragment: false,
        }
    }
}

impl Packet<'_> {
    pub fn vlans(&self) -> &[u16] {
        &self.vlan[..self.vlan_count as usize]
    }

    /// True when Suricata would mark this packet invalid.
    pub fn is_invalid(&self) -> bool {
        self.invalid
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtherHdr {
    pub src: [u8; 6],
    pub dst: [u8; 6],
    /// The EtherType of the innermost layer (after any VLAN tags).
    pub ether_type: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpHdr {
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub proto: u8,
    pub ttl: u8,
    pub tos: u8,
    /// IPv4 identification, or the IPv6 fragment header's identification.
    pub id: u32,
    /// Header length in bytes, options / extension headers included.
    pub hdr_len: u16,
    /// Total length as the header claims it (IPv6: 40 + payload length).
    pub total_len: u32,
    /// True when this packet was rebuilt from fragments.
    pub reassembled: bool,
    /// None when checksums are not validated (`-k none`), or for IPv6.
    pub checksum_ok: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    None,
    Tcp(TcpHdr),
    Udp(UdpHdr),
    Icmpv4(IcmpHdr),
    Icmpv6(IcmpHdr),
    /// Another IP protocol; the number is in `IpHdr::proto`.
    Other,
}

impl L4 {
    pub fn ports(&self) -> (u16, u16) {
        match self {
            L4::Tcp(t) => (t.sport, t.dport),
            L4::Udp(u) => (u.sport, u.dport),
            _ => (0, 0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpHdr {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    /// Header length in bytes (data offset * 4).
    pub hdr_len: u8,
    pub flags: u8,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
    /// None when not validated.
    pub checksum_ok: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    /// SACK blocks (left, right), up to 4.
    pub sack: [(u32, u32); 4],
    pub sack_count: u8,
    /// (TSval, TSecr)
    pub timestamp: Option<(u32, u32)>,
    /// TCP Fast Open cookie option present.
    pub tfo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpHdr {
    pub sport: u16,
    pub dport: u16,
    pub len: u16,
    pub checksum_ok: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpHdr {
    pub icmp_type: u8,
    pub code: u8,
    /// Echo id and sequence (0 for other messages).
    pub id: u16,
    pub seq: u16,
    /// For error messages: the 5-tuple of the packet the error is about
    /// (src, dst, proto, sport, dport), as Suricata uses to find its flow.
    pub inner: Option<InnerTuple>,
    pub checksum_ok: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InnerTuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
}

/// Decoder events carried by one packet. Like Suricata (`PACKET_ENGINE_EVENT_MAX`)
/// at most 15 are kept; further ones are dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Events {
    list: [Option<DecodeEvent>; 15],
    len: u8,
}

impl Events {
    pub fn push(&mut self, e: DecodeEvent) {
        if (self.len as usize) < self.list.len() {
            self.list[self.len as usize] = Some(e);
            self.len += 1;
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = DecodeEvent> + '_ {
        self.list[..self.len as usize].iter().flatten().copied()
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn contains(&self, e: DecodeEvent) -> bool {
        self.iter().any(|x| x == e)
    }
}
