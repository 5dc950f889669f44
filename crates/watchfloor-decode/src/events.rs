/// Suricata decoder events (names as in Suricata's `decode-events.c`).
/// The decode helper extends this list to every event the decoders raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeEvent {
    Ipv4TruncPkt,
    Ipv4PktTooSmall,
    Ipv4HlenTooSmall,
    Ipv4IplenSmallerThanHlen,
    Ipv6TruncPkt,
    Ipv6PktTooSmall,
    TcpPktTooSmall,
    TcpHlenTooSmall,
    UdpPktTooSmall,
    EthernetPktTooSmall,
}

impl DecodeEvent {
    pub fn name(self) -> &'static str {
        match self {
            DecodeEvent::Ipv4TruncPkt => "decoder.ipv4.trunc_pkt",
            DecodeEvent::Ipv4PktTooSmall => "decoder.ipv4.pkt_too_small",
            DecodeEvent::Ipv4HlenTooSmall => "decoder.ipv4.hlen_too_small",
            DecodeEvent::Ipv4IplenSmallerThanHlen => "decoder.ipv4.iplen_smaller_than_hlen",
            DecodeEvent::Ipv6TruncPkt => "decoder.ipv6.trunc_pkt",
            DecodeEvent::Ipv6PktTooSmall => "decoder.ipv6.pkt_too_small",
            DecodeEvent::TcpPktTooSmall => "decoder.tcp.pkt_too_small",
            DecodeEvent::TcpHlenTooSmall => "decoder.tcp.hlen_too_small",
            DecodeEvent::UdpPktTooSmall => "decoder.udp.pkt_too_small",
            DecodeEvent::EthernetPktTooSmall => "decoder.ethernet.pkt_too_small",
        }
    }
}
