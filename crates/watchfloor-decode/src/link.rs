//! Link layers without addresses: BSD loopback/NULL and raw IP.

use crate::decoder::{event, invalid, Cx};
use crate::events::DecodeEvent;
use crate::packet::Packet;
use crate::{ipv4, ipv6};

const NULL_HEADER_LEN: usize = 4;
const IPV4_HEADER_LEN: usize = 20;

/// The address-family values of IPv6 on the systems that write NULL captures
/// (BSD, FreeBSD, Darwin, Linux, Solaris, Winsock), as Suricata accepts them.
const AF_INET6_ALL: [u32; 6] = [24, 28, 30, 10, 26, 23];
const AF_INET: u32 = 2;

pub(crate) fn decode_null<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    cx.stats.null += 1;
    let Some(h) = data.get(..NULL_HEADER_LEN) else {
        invalid(p, DecodeEvent::LtnullPktTooSmall);
        return;
    };
    if !cx.add_layer(p) {
        return;
    }
    // The family is in the byte order of the host that wrote the capture,
    // which the file does not record: try little-endian (by far the most
    // common writer) and then big-endian.
    let h = [h[0], h[1], h[2], h[3]];
    let rest = &data[NULL_HEADER_LEN..];
    for af in [u32::from_le_bytes(h), u32::from_be_bytes(h)] {
        if af == AF_INET {
            ipv4::decode_ipv4(cx, p, rest);
            return;
        }
        if AF_INET6_ALL.contains(&af) {
            ipv6::decode_ipv6(cx, p, rest);
            return;
        }
    }
    event(p, DecodeEvent::LtnullUnsupportedType);
}

pub(crate) fn decode_raw<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    cx.stats.raw += 1;
    // Suricata requires an IPv4 header's worth of bytes even for IPv6.
    if data.len() < IPV4_HEADER_LEN {
        invalid(p, DecodeEvent::Ipv4PktTooSmall);
        return;
    }
    if !cx.add_layer(p) {
        return;
    }
    match data[0] >> 4 {
        4 => ipv4::decode_ipv4(cx, p, data),
        6 => ipv6::decode_ipv6(cx, p, data),
        _ => event(p, DecodeEvent::IprawInvalidIpVersion),
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeEvent, Decoder, L4};
    use watchfloor_capture::LinkType;

    fn null(af: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut f = af.to_vec();
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn null_both_byte_orders() {
        let mut d = Decoder::default();
        for af in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let p = d.decode(&raw(LinkType::Null, &null(af, &ipv4_tcp_syn())));
            assert!(matches!(p.l4, L4::Tcp(_)), "{af:?} {:?}", p.events);
        }
        for v6 in [24u32, 28, 30] {
            for af in [v6.to_le_bytes(), v6.to_be_bytes()] {
                let p = d.decode(&raw(LinkType::Null, &null(af, &ipv6_udp())));
                assert!(matches!(p.l4, L4::Udp(_)), "{af:?} {:?}", p.events);
            }
        }
        assert_eq!(d.stats().null, 8);
    }

    #[test]
    fn null_bad_family_and_short() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Null, &null([7, 0, 0, 0], &ipv4_tcp_syn())));
        assert!(p.events.contains(DecodeEvent::LtnullUnsupportedType));
        assert!(p.ip.is_none());
        for n in 0..4 {
            let p = d.decode(&raw(LinkType::Null, &[2, 0, 0, 0][..n]));
            assert!(p.events.contains(DecodeEvent::LtnullPktTooSmall));
        }
    }

    #[test]
    fn raw_ip_version_nibble() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ipv4_tcp_syn()));
        assert!(matches!(p.l4, L4::Tcp(_)));
        let p = d.decode(&raw(LinkType::Raw, &ipv6_udp()));
        assert!(matches!(p.l4, L4::Udp(_)));
        let mut bad = ipv4_tcp_syn();
        bad[0] = 0x55;
        let p = d.decode(&raw(LinkType::Raw, &bad));
        assert!(p.events.contains(DecodeEvent::IprawInvalidIpVersion));
        let p = d.decode(&raw(LinkType::Raw, &ipv6_udp()[..19]));
        assert!(p.events.contains(DecodeEvent::Ipv4PktTooSmall));
        assert_eq!(d.stats().raw, 4);
    }

    #[test]
    fn ipv4_and_ipv6_link_types() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv4, &ipv4_tcp_syn()));
        assert!(matches!(p.l4, L4::Tcp(_)));
        let p = d.decode(&raw(LinkType::Ipv6, &ipv6_udp()));
        assert!(matches!(p.l4, L4::Udp(_)));
        let p = d.decode(&raw(LinkType::Ipv6, &ipv4_tcp_syn()));
        assert!(p.events.contains(DecodeEvent::Ipv6WrongIpVersion));
    }

    #[test]
    fn unknown_link_type_is_counted() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Other(147), &ipv4_tcp_syn()));
        assert!(p.ip.is_none());
        assert!(p.is_invalid());
        assert_eq!(d.stats().unknown_linktype, 1);
    }
}
