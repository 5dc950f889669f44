//! Ethernet II, 802.1Q/802.1ad VLAN tags, ARP, and the ethertype dispatch
//! shared with the SLL link layers.

use crate::decoder::{event, invalid, Cx};
use crate::events::DecodeEvent;
use crate::packet::{EtherHdr, Packet};
use crate::{ipv4, ipv6};

pub(crate) const ETHERNET_HEADER_LEN: usize = 14;
const VLAN_HEADER_LEN: usize = 4;
const ARP_HEADER_LEN: usize = 28;

pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;
pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;
pub(crate) const ETHERTYPE_VLAN: u16 = 0x8100;
pub(crate) const ETHERTYPE_8021AD: u16 = 0x88a8;
pub(crate) const ETHERTYPE_QINQ: u16 = 0x9100;

/// Ethertypes Suricata has decoders for but Watchfloor does not (MPLS,
/// PPPoE, 802.1ah, VN-Tag, NSH, DCE). Suricata raises no unknown-ethertype
/// event for them, so neither may we.
const SURICATA_ONLY_ETHERTYPES: [u16; 8] = [
    0x8847, 0x8848, 0x8863, 0x8864, 0x88e7, 0x8926, 0x894f, 0x8903,
];

pub(crate) fn decode_ethernet<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    cx.stats.ethernet += 1;
    let Some(hdr) = data.get(..ETHERNET_HEADER_LEN) else {
        invalid(p, DecodeEvent::EthernetPktTooSmall);
        return;
    };
    if !cx.add_layer(p) {
        return;
    }
    let mut dst = [0u8; 6];
    let mut src = [0u8; 6];
    dst.copy_from_slice(&hdr[0..6]);
    src.copy_from_slice(&hdr[6..12]);
    let ether_type = u16::from_be_bytes([hdr[12], hdr[13]]);
    p.ether = Some(EtherHdr {
        src,
        dst,
        ether_type,
    });
    decode_network(cx, p, ether_type, &data[ETHERNET_HEADER_LEN..]);
}

/// Suricata's `DecodeNetworkLayer`: false when the ethertype is unknown.
pub(crate) fn decode_network<'a>(
    cx: &mut Cx<'a>,
    p: &mut Packet<'a>,
    ether_type: u16,
    data: &'a [u8],
) -> bool {
    if let Some(eth) = p.ether.as_mut() {
        eth.ether_type = ether_type;
    }
    match ether_type {
        ETHERTYPE_IPV4 => ipv4::decode_ipv4(cx, p, data),
        ETHERTYPE_IPV6 => ipv6::decode_ipv6(cx, p, data),
        ETHERTYPE_VLAN | ETHERTYPE_8021AD | ETHERTYPE_QINQ => decode_vlan(cx, p, data),
        ETHERTYPE_ARP => decode_arp(cx, p, data),
        t if SURICATA_ONLY_ETHERTYPES.contains(&t) => cx.stats.unsupported_ethertype += 1,
        _ => {
            cx.stats.unknown_ethertype += 1;
            event(p, DecodeEvent::EthernetUnknownEthertype);
            return false;
        }
    }
    true
}

fn decode_vlan<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    match p.vlan_count {
        0 => cx.stats.vlan += 1,
        1 => cx.stats.vlan_qinq += 1,
        2 => cx.stats.vlan_qinqinq += 1,
        _ => {}
    }
    let Some(tag) = data.get(..VLAN_HEADER_LEN) else {
        invalid(p, DecodeEvent::VlanHeaderTooSmall);
        return;
    };
    if !cx.add_layer(p) {
        return;
    }
    let idx = p.vlan_count as usize;
    if idx >= p.vlan.len() {
        event(p, DecodeEvent::VlanTooManyLayers);
        return;
    }
    p.vlan[idx] = u16::from_be_bytes([tag[0], tag[1]]) & 0x0fff;
    p.vlan_count += 1;
    let inner = u16::from_be_bytes([tag[2], tag[3]]);
    if !decode_network(cx, p, inner, &data[VLAN_HEADER_LEN..]) {
        invalid(p, DecodeEvent::VlanUnknownType);
    }
}

fn decode_arp<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    cx.stats.arp += 1;
    let Some(h) = data.get(..ARP_HEADER_LEN) else {
        invalid(p, DecodeEvent::ArpPktTooSmall);
        return;
    };
    if !cx.add_layer(p) {
        return;
    }
    let problem = if u16::from_be_bytes([h[0], h[1]]) != 1 {
        Some(DecodeEvent::ArpUnsupportedHardware)
    } else if u16::from_be_bytes([h[2], h[3]]) != ETHERTYPE_IPV4 {
        Some(DecodeEvent::ArpUnsupportedProtocol)
    } else if h[4] != 6 {
        Some(DecodeEvent::ArpInvalidHardwareSize)
    } else if h[5] != 4 {
        Some(DecodeEvent::ArpInvalidProtocolSize)
    } else if !matches!(u16::from_be_bytes([h[6], h[7]]), 1 | 2) {
        Some(DecodeEvent::ArpUnsupportedOpcode)
    } else {
        None
    };
    if let Some(e) = problem {
        invalid(p, e);
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeEvent, Decoder, L4};
    use watchfloor_capture::LinkType;

    #[test]
    fn plain_ethernet_tcp() {
        let frame = eth(0x0800, &ipv4_tcp_syn());
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ethernet, &frame));
        assert!(p.events.is_empty(), "{:?}", p.events);
        let e = p.ether.unwrap();
        assert_eq!(e.ether_type, 0x0800);
        assert_eq!(e.dst, [0x02, 0, 0, 0, 0, 1]);
        assert!(matches!(p.l4, L4::Tcp(_)));
        assert_eq!(d.stats().ethernet, 1);
        assert_eq!(d.stats().ipv4, 1);
        assert_eq!(d.stats().tcp, 1);
    }

    #[test]
    fn vlan_and_qinq_ids_outermost_first() {
        let ip = ipv4_tcp_syn();
        let single = eth_vlans(&[(0x8100, 10)], 0x0800, &ip);
        let double = eth_vlans(&[(0x88a8, 1), (0x8100, 10)], 0x0800, &ip);
        let triple = eth_vlans(&[(0x9100, 1), (0x88a8, 2), (0x8100, 3)], 0x0800, &ip);
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ethernet, &single));
        assert_eq!(p.vlans(), &[10]);
        assert!(matches!(p.l4, L4::Tcp(_)));
        let p = d.decode(&raw(LinkType::Ethernet, &double));
        assert_eq!(p.vlans(), &[1, 10]);
        assert_eq!(p.ether.unwrap().ether_type, 0x0800);
        let p = d.decode(&raw(LinkType::Ethernet, &triple));
        assert_eq!(p.vlans(), &[1, 2, 3]);
        assert!(p.events.is_empty());
        let s = d.stats();
        assert_eq!((s.vlan, s.vlan_qinq, s.vlan_qinqinq), (3, 2, 1));
    }

    #[test]
    fn fourth_vlan_tag_is_too_many() {
        let frame = eth_vlans(
            &[(0x8100, 1), (0x8100, 2), (0x8100, 3), (0x8100, 4)],
            0x0800,
            &ipv4_tcp_syn(),
        );
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ethernet, &frame));
        assert!(p.events.contains(DecodeEvent::VlanTooManyLayers));
        assert_eq!(p.vlans(), &[1, 2, 3]);
        assert!(p.ip.is_none());
    }

    #[test]
    fn short_frames() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ethernet, &[0u8; 13]));
        assert!(p.events.contains(DecodeEvent::EthernetPktTooSmall));
        assert!(p.is_invalid());
        let mut f = eth(0x8100, &[]);
        f.extend_from_slice(&[0, 1]);
        let p = d.decode(&raw(LinkType::Ethernet, &f));
        assert!(p.events.contains(DecodeEvent::VlanHeaderTooSmall));
        assert_eq!(d.stats().invalid, 2);
    }

    #[test]
    fn unknown_ethertype_and_after_vlan() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ethernet, &eth(0x1234, &[0; 30])));
        assert!(p.events.contains(DecodeEvent::EthernetUnknownEthertype));
        assert!(!p.is_invalid());
        let f = eth_vlans(&[(0x8100, 5)], 0x1234, &[0; 30]);
        let p = d.decode(&raw(LinkType::Ethernet, &f));
        assert!(p.events.contains(DecodeEvent::EthernetUnknownEthertype));
        assert!(p.events.contains(DecodeEvent::VlanUnknownType));
        assert!(p.is_invalid());
        assert_eq!(d.stats().unknown_ethertype, 2);
        // MPLS: Suricata decodes it, so no unknown-ethertype event here.
        let p = d.decode(&raw(LinkType::Ethernet, &eth(0x8847, &[0; 30])));
        assert!(p.events.is_empty());
        assert_eq!(d.stats().unsupported_ethertype, 1);
    }

    #[test]
    fn arp_is_counted_without_ip() {
        let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
        arp.extend_from_slice(&[0u8; 20]);
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ethernet, &eth(0x0806, &arp)));
        assert!(p.events.is_empty());
        assert!(p.ip.is_none());
        assert_eq!(d.stats().arp, 1);
        arp[7] = 9;
        let p = d.decode(&raw(LinkType::Ethernet, &eth(0x0806, &arp)));
        assert!(p.events.contains(DecodeEvent::ArpUnsupportedOpcode));
        let p = d.decode(&raw(LinkType::Ethernet, &eth(0x0806, &arp[..20])));
        assert!(p.events.contains(DecodeEvent::ArpPktTooSmall));
    }

    #[test]
    fn every_truncation_of_a_vlan_frame_is_handled() {
        let frame = eth_vlans(&[(0x8100, 7)], 0x0800, &ipv4_tcp_syn());
        let mut d = Decoder::default();
        for n in 0..frame.len() {
            let p = d.decode(&raw(LinkType::Ethernet, &frame[..n]));
            let expect = match n {
                0..=13 => DecodeEvent::EthernetPktTooSmall,
                14..=17 => DecodeEvent::VlanHeaderTooSmall,
                18..=37 => DecodeEvent::Ipv4PktTooSmall,
                _ => DecodeEvent::Ipv4TruncPkt,
            };
            assert!(p.events.contains(expect), "len {n}: {:?}", p.events);
            assert!(p.is_invalid());
        }
    }
}
