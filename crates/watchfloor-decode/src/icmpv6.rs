//! ICMPv6 (Suricata's `decode-icmpv6.c`): type/code validation, MLD hop
//! limit, and the original-datagram tuple carried by error messages.

use crate::checksum;
use crate::decoder::{event, invalid, Cx};
use crate::events::DecodeEvent;
use crate::ipv6::IPV6_HEADER_LEN;
use crate::packet::{IcmpHdr, InnerTuple, Packet, L4};
use std::net::{IpAddr, Ipv6Addr};

const ICMPV6_HEADER_LEN: usize = 8;
const TCP_HEADER_LEN: usize = 20;
const UDP_HEADER_LEN: usize = 8;

pub(crate) fn decode_icmpv6<'a>(
    cx: &mut Cx<'a>,
    p: &mut Packet<'a>,
    msg: &'a [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
) {
    cx.stats.icmpv6 += 1;
    if msg.len() < ICMPV6_HEADER_LEN {
        invalid(p, DecodeEvent::Icmpv6PktTooSmall);
        return;
    }
    let (t, code) = (msg[0], msg[1]);
    let mut hdr = IcmpHdr {
        icmp_type: t,
        code,
        id: 0,
        seq: 0,
        inner: None,
        checksum_ok: cx
            .cfg
            .checksum_validation
            .then(|| checksum::verify_l4(src, dst, 58, msg)),
    };
    // Messages Suricata knows to have a full 8-byte header; for the rest
    // only type, code and checksum count as header.
    let mut full_hdr = false;
    let code_ok = match t {
        // Destination unreachable, packet too big, time exceeded, parameter problem.
        1..=4 => {
            let max = [6u8, 0, 1, 2][usize::from(t - 1)];
            let ok = code <= max;
            if ok {
                hdr.inner = partial_ipv6(p, &msg[ICMPV6_HEADER_LEN..]);
                full_hdr = true;
            }
            ok
        }
        // Echo request / reply.
        128 | 129 => {
            let ok = code == 0;
            if ok {
                hdr.id = u16::from_be_bytes([msg[4], msg[5]]);
                hdr.seq = u16::from_be_bytes([msg[6], msg[7]]);
                full_hdr = true;
            }
            ok
        }
        // MLD query, report, done: link-local only, so the hop limit must be 1.
        130..=132 => {
            // Suricata reports the code before the hop limit.
            if code != 0 {
                event(p, DecodeEvent::Icmpv6UnknownCode);
            }
            if hop_limit != 1 {
                event(p, DecodeEvent::Icmpv6MldMessageWithInvalidHl);
            }
            true
        }
        // Router renumbering.
        138 => code <= 2 || code == 255,
        // Node information query / reply.
        139 | 140 => code <= 2,
        // Mobile experimental, multicast router discovery.
        150..=153 => true,
        // RPL control.
        155 => !(code > 3 && code < 128) && code <= 132,
        // Remaining assigned types (ND, inverse ND, MLDv2, mobility, SEND,
        // FMIPv6, locator update, duplicate address, MPL) use code 0 only.
        133..=137 | 141..=149 | 154 | 156..=159 => code == 0,
        _ => {
            let e = match t {
                5..=99 | 102..=126 | 160..=199 | 202..=255 => DecodeEvent::Icmpv6UnassignedType,
                100 | 101 | 200 | 201 => DecodeEvent::Icmpv6ExperimentationType,
                _ => DecodeEvent::Icmpv6UnknownType,
            };
            event(p, e);
            true
        }
    };
    if !code_ok {
        event(p, DecodeEvent::Icmpv6UnknownCode);
    }
    let body = if full_hdr { ICMPV6_HEADER_LEN } else { 4 };
    p.l4 = L4::Icmpv6(hdr);
    p.payload = &msg[body..];
}

/// The embedded datagram's tuple (Suricata's `DecodePartialIPV6`): the first
/// next header only, extension headers are not walked.
fn partial_ipv6(p: &mut Packet<'_>, emb: &[u8]) -> Option<InnerTuple> {
    if emb.len() < IPV6_HEADER_LEN {
        invalid(p, DecodeEvent::Icmpv6Ipv6TruncPkt);
        return None;
    }
    if emb[0] >> 4 != 6 {
        invalid(p, DecodeEvent::Icmpv6Ipv6UnknownVersion);
        return None;
    }
    let nh = emb[6];
    let l4 = &emb[IPV6_HEADER_LEN..];
    let (sport, dport) = match nh {
        6 if l4.len() >= TCP_HEADER_LEN => ports(l4),
        17 if l4.len() >= UDP_HEADER_LEN => ports(l4),
        _ => (0, 0),
    };
    let mut a = [0u8; 16];
    a.copy_from_slice(&emb[8..24]);
    let src = IpAddr::V6(Ipv6Addr::from(a));
    a.copy_from_slice(&emb[24..40]);
    let dst = IpAddr::V6(Ipv6Addr::from(a));
    Some(InnerTuple {
        src,
        dst,
        proto: nh,
        sport,
        dport,
    })
}

fn ports(l4: &[u8]) -> (u16, u16) {
    (
        u16::from_be_bytes([l4[0], l4[1]]),
        u16::from_be_bytes([l4[2], l4[3]]),
    )
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeEvent, Decoder, IcmpHdr, L4};
    use watchfloor_capture::LinkType;

    fn decode_hl(msg: &[u8], hop_limit: u8) -> (Vec<DecodeEvent>, Option<IcmpHdr>, Vec<u8>) {
        let mut pkt = ipv6(58, msg);
        pkt[7] = hop_limit;
        fix_icmpv6_checksum(&mut pkt);
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv6, &pkt));
        let h = match p.l4 {
            L4::Icmpv6(h) => Some(h),
            _ => None,
        };
        (p.events.iter().collect(), h, p.payload.to_vec())
    }

    fn decode(msg: &[u8]) -> (Vec<DecodeEvent>, Option<IcmpHdr>, Vec<u8>) {
        decode_hl(msg, 64)
    }

    #[test]
    fn echo_and_checksum() {
        let (ev, h, payload) = decode(&icmp_msg(128, 0, [0, 1, 0, 2], b"ping"));
        assert!(ev.is_empty());
        let h = h.unwrap();
        assert_eq!((h.icmp_type, h.id, h.seq), (128, 1, 2));
        assert_eq!(h.checksum_ok, Some(true));
        assert_eq!(payload, b"ping");
    }

    #[test]
    fn type_classes() {
        let cases: [(u8, Option<DecodeEvent>); 9] = [
            (0, Some(DecodeEvent::Icmpv6UnknownType)),
            (5, Some(DecodeEvent::Icmpv6UnassignedType)),
            (100, Some(DecodeEvent::Icmpv6ExperimentationType)),
            (127, Some(DecodeEvent::Icmpv6UnknownType)),
            (160, Some(DecodeEvent::Icmpv6UnassignedType)),
            (201, Some(DecodeEvent::Icmpv6ExperimentationType)),
            (255, Some(DecodeEvent::Icmpv6UnassignedType)),
            (135, None),
            (151, None),
        ];
        for (t, want) in cases {
            let (ev, _, _) = decode(&icmp_msg(t, 0, [0; 4], &[0; 16]));
            assert_eq!(ev, want.into_iter().collect::<Vec<_>>(), "type {t}");
        }
    }

    #[test]
    fn codes() {
        for (t, bad) in [
            (1u8, 7u8),
            (2, 1),
            (3, 2),
            (4, 3),
            (128, 1),
            (135, 1),
            (139, 3),
            (155, 4),
        ] {
            let (ev, _, _) = decode(&icmp_msg(t, bad, [0; 4], &[0; 48]));
            assert_eq!(ev, [DecodeEvent::Icmpv6UnknownCode], "type {t} code {bad}");
        }
        for (t, ok) in [(138u8, 255u8), (155, 128), (150, 9)] {
            let (ev, _, _) = decode(&icmp_msg(t, ok, [0; 4], &[0; 8]));
            assert!(ev.is_empty(), "type {t} code {ok}");
        }
    }

    #[test]
    fn mld_hop_limit() {
        let (ev, _, _) = decode_hl(&icmp_msg(130, 0, [0; 4], &[0; 16]), 1);
        assert!(ev.is_empty());
        let (ev, _, _) = decode_hl(&icmp_msg(131, 0, [0; 4], &[0; 16]), 64);
        assert_eq!(ev, [DecodeEvent::Icmpv6MldMessageWithInvalidHl]);
        let (ev, _, _) = decode_hl(&icmp_msg(132, 1, [0; 4], &[0; 16]), 64);
        assert_eq!(
            ev,
            [
                DecodeEvent::Icmpv6UnknownCode,
                DecodeEvent::Icmpv6MldMessageWithInvalidHl
            ]
        );
    }

    #[test]
    fn errors_carry_the_inner_tuple() {
        let inner = ipv6_udp();
        let (ev, h, _) = decode(&icmp_msg(1, 4, [0; 4], &inner[..48]));
        assert!(ev.is_empty(), "{ev:?}");
        let i = h.unwrap().inner.unwrap();
        assert_eq!(i.src.to_string(), "2001:db8::1");
        assert_eq!((i.proto, i.sport, i.dport), (17, 5353, 53));
        let (ev, h, _) = decode(&icmp_msg(2, 0, [0, 0, 5, 0], &inner[..40]));
        assert!(ev.is_empty());
        assert_eq!(h.unwrap().inner.unwrap().sport, 0);
        let (ev, _, _) = decode(&icmp_msg(3, 0, [0; 4], &inner[..39]));
        assert_eq!(ev, [DecodeEvent::Icmpv6Ipv6TruncPkt]);
        let (ev, _, _) = decode(&icmp_msg(4, 0, [0; 4], &ipv4_udp(&[0; 40])));
        assert_eq!(ev, [DecodeEvent::Icmpv6Ipv6UnknownVersion]);
    }

    #[test]
    fn short_messages_and_info_payload() {
        for n in 0..8 {
            let (ev, h, _) = decode(&[135, 0, 0, 0, 0, 0, 0, 0][..n]);
            assert_eq!(ev, [DecodeEvent::Icmpv6PktTooSmall], "len {n}");
            assert!(h.is_none());
        }
        // Neighbour solicitation: the payload starts after 4 bytes.
        let (_, _, payload) = decode(&icmp_msg(135, 0, [1, 2, 3, 4], b"tgt"));
        assert_eq!(payload, [1, 2, 3, 4, b't', b'g', b't']);
    }
}
