//! UDP header (Suricata's `decode-udp.c` length rules) and checksum.

use crate::checksum;
use crate::decoder::{event, invalid, Cx};
use crate::events::DecodeEvent;
use crate::packet::{Packet, UdpHdr, L4};
use std::net::IpAddr;

const UDP_HEADER_LEN: usize = 8;

pub(crate) fn decode_udp<'a>(
    cx: &mut Cx<'a>,
    p: &mut Packet<'a>,
    seg: &'a [u8],
    src: IpAddr,
    dst: IpAddr,
) {
    cx.stats.udp += 1;
    if seg.len() < UDP_HEADER_LEN {
        invalid(p, DecodeEvent::UdpHlenTooSmall);
        return;
    }
    let ulen = usize::from(u16::from_be_bytes([seg[4], seg[5]]));
    if seg.len() < ulen {
        invalid(p, DecodeEvent::UdpPktTooSmall);
        return;
    }
    if seg.len() != ulen {
        // Bytes after the UDP datagram inside the IP packet: suspicious,
        // but the datagram itself is intact.
        event(p, DecodeEvent::UdpHlenInvalid);
    }
    if ulen < UDP_HEADER_LEN {
        invalid(p, DecodeEvent::UdpLenInvalid);
        return;
    }
    let datagram = &seg[..ulen];
    let wire_sum = u16::from_be_bytes([seg[6], seg[7]]);
    let checksum_ok = cx.cfg.checksum_validation.then(|| {
        // Zero means "no checksum" over IPv4 only (RFC 768 / RFC 8200 8.1).
        (wire_sum == 0 && src.is_ipv4()) || checksum::verify_l4(src, dst, 17, datagram)
    });
    p.l4 = L4::Udp(UdpHdr {
        sport: u16::from_be_bytes([seg[0], seg[1]]),
        dport: u16::from_be_bytes([seg[2], seg[3]]),
        len: ulen as u16,
        checksum_ok,
    });
    p.payload = &datagram[UDP_HEADER_LEN..];
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeEvent, Decoder, L4};
    use watchfloor_capture::LinkType;

    fn events(seg: &[u8]) -> (Vec<DecodeEvent>, bool, Option<crate::UdpHdr>) {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ipv4(17, seg)));
        let u = match p.l4 {
            L4::Udp(u) => Some(u),
            _ => None,
        };
        (p.events.iter().collect(), p.is_invalid(), u)
    }

    #[test]
    fn fields_and_checksum() {
        let (ev, bad, u) = events(&udp_segment_v4(b"hello"));
        assert!(ev.is_empty() && !bad);
        let u = u.unwrap();
        assert_eq!((u.sport, u.dport, u.len), (5353, 53, 13));
        assert_eq!(u.checksum_ok, Some(true));
        let mut seg = udp_segment_v4(b"hello");
        seg[6] = 0;
        seg[7] = 0;
        assert_eq!(events(&seg).2.unwrap().checksum_ok, Some(true));
        seg[8] = b'j';
        seg[6] = 1;
        assert_eq!(events(&seg).2.unwrap().checksum_ok, Some(false));
    }

    #[test]
    fn zero_checksum_over_ipv6_is_bad() {
        let mut seg = udp_segment_v6(b"x");
        seg[6] = 0;
        seg[7] = 0;
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv6, &ipv6(17, &seg)));
        let L4::Udp(u) = p.l4 else { panic!() };
        assert_eq!(u.checksum_ok, Some(false));
    }

    #[test]
    fn length_mismatches() {
        let seg = udp_segment_v4(b"hello");
        for n in 0..8 {
            let (ev, bad, _) = events(&seg[..n]);
            assert_eq!(ev, [DecodeEvent::UdpHlenTooSmall], "len {n}");
            assert!(bad);
        }
        for n in 8..seg.len() {
            let (ev, bad, _) = events(&seg[..n]);
            assert_eq!(ev, [DecodeEvent::UdpPktTooSmall], "len {n}");
            assert!(bad);
        }
        // UDP length shorter than the IP payload.
        let mut long = seg.clone();
        long.extend_from_slice(b"trailer");
        let (ev, bad, u) = events(&long);
        assert_eq!(ev, [DecodeEvent::UdpHlenInvalid]);
        assert!(!bad);
        assert_eq!(u.unwrap().len, 13);
        // UDP length below the header size.
        let mut tiny = seg.clone();
        tiny[4..6].copy_from_slice(&4u16.to_be_bytes());
        let (ev, bad, u) = events(&tiny);
        assert_eq!(
            ev,
            [DecodeEvent::UdpHlenInvalid, DecodeEvent::UdpLenInvalid]
        );
        assert!(bad && u.is_none());
    }

    #[test]
    fn payload_stops_at_udp_length() {
        let mut seg = udp_segment_v4(b"abc");
        seg.extend_from_slice(b"zz");
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ipv4(17, &seg)));
        assert_eq!(p.payload, b"abc");
    }
}
