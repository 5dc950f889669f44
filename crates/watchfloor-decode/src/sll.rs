//! Linux "cooked" captures: SLL (16-byte header) and SLL2 (20-byte header).

use crate::decoder::{invalid, Cx};
use crate::ethernet::decode_network;
use crate::events::DecodeEvent;
use crate::packet::Packet;

const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;

pub(crate) fn decode_sll<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    cx.stats.sll += 1;
    let Some(h) = data.get(..SLL_HEADER_LEN) else {
        invalid(p, DecodeEvent::SllPktTooSmall);
        return;
    };
    if !cx.add_layer(p) {
        return;
    }
    // The protocol field is last; Suricata hands it to the ethertype dispatch
    // as is, so the ARPHRD-specific values (802.2, CAN, ...) count as unknown.
    let proto = u16::from_be_bytes([h[14], h[15]]);
    decode_network(cx, p, proto, &data[SLL_HEADER_LEN..]);
}

pub(crate) fn decode_sll2<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    cx.stats.sll2 += 1;
    let Some(h) = data.get(..SLL2_HEADER_LEN) else {
        invalid(p, DecodeEvent::Sll2PktTooSmall);
        return;
    };
    if !cx.add_layer(p) {
        return;
    }
    let proto = u16::from_be_bytes([h[0], h[1]]);
    decode_network(cx, p, proto, &data[SLL2_HEADER_LEN..]);
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeEvent, Decoder, L4};
    use watchfloor_capture::LinkType;

    fn sll(proto: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
        f.extend_from_slice(&proto.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn sll2(proto: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = proto.to_be_bytes().to_vec();
        f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn sll_ipv4_and_ipv6() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::LinuxSll, &sll(0x0800, &ipv4_tcp_syn())));
        assert!(matches!(p.l4, L4::Tcp(_)), "{:?}", p.events);
        assert!(p.ether.is_none());
        let p = d.decode(&raw(LinkType::LinuxSll, &sll(0x86dd, &ipv6_udp())));
        assert!(matches!(p.l4, L4::Udp(_)), "{:?}", p.events);
        assert_eq!(d.stats().sll, 2);
    }

    #[test]
    fn sll2_ipv4_and_vlan() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::LinuxSll2, &sll2(0x0800, &ipv4_tcp_syn())));
        assert!(matches!(p.l4, L4::Tcp(_)), "{:?}", p.events);
        let mut tagged = vec![0x00, 0x2a, 0x08, 0x00];
        tagged.extend_from_slice(&ipv4_tcp_syn());
        let p = d.decode(&raw(LinkType::LinuxSll2, &sll2(0x8100, &tagged)));
        assert_eq!(p.vlans(), &[42]);
        assert!(matches!(p.l4, L4::Tcp(_)));
        assert_eq!(d.stats().sll2, 2);
    }

    #[test]
    fn truncated_cooked_headers() {
        let mut d = Decoder::default();
        let f = sll(0x0800, &ipv4_tcp_syn());
        for n in 0..16 {
            let p = d.decode(&raw(LinkType::LinuxSll, &f[..n]));
            assert!(p.events.contains(DecodeEvent::SllPktTooSmall));
            assert!(p.is_invalid());
        }
        let f = sll2(0x0800, &ipv4_tcp_syn());
        for n in 0..20 {
            let p = d.decode(&raw(LinkType::LinuxSll2, &f[..n]));
            assert!(p.events.contains(DecodeEvent::Sll2PktTooSmall));
        }
        let p = d.decode(&raw(LinkType::LinuxSll, &sll(0x0004, &[0; 10])));
        assert!(p.events.contains(DecodeEvent::EthernetUnknownEthertype));
    }
}
