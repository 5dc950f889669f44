//! ICMPv4 (Suricata's `decode-icmpv4.c`): type/code validation and the
//! original-datagram tuple carried by error messages.

use crate::checksum;
use crate::decoder::{event, invalid, Cx};
use crate::events::DecodeEvent;
use crate::ipv4::{IPV4_HEADER_LEN, PROTO_TCP, PROTO_UDP};
use crate::packet::{IcmpHdr, InnerTuple, Packet, L4};
use std::net::{IpAddr, Ipv4Addr};

const ICMPV4_HEADER_LEN: usize = 8;
/// Originate, receive and transmit timestamps after the header.
const TIMESTAMP_LEN: usize = 12;

const ECHO_REPLY: u8 = 0;
const DEST_UNREACH: u8 = 3;
const SOURCE_QUENCH: u8 = 4;
const REDIRECT: u8 = 5;
const ECHO: u8 = 8;
const TIME_EXCEEDED: u8 = 11;
const PARAMETER_PROBLEM: u8 = 12;
const TIMESTAMP: u8 = 13;
const TIMESTAMP_REPLY: u8 = 14;
const INFO_REQUEST: u8 = 15;
const INFO_REPLY: u8 = 16;
const ADDRESS: u8 = 17;
const ADDRESS_REPLY: u8 = 18;

/// Highest valid code per error type (RFC 792, RFC 1812).
const MAX_UNREACH_CODE: u8 = 15;
const MAX_REDIRECT_CODE: u8 = 3;
const MAX_TIME_EXCEEDED_CODE: u8 = 1;

pub(crate) fn decode_icmpv4<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, msg: &'a [u8]) {
    cx.stats.icmpv4 += 1;
    if msg.len() < ICMPV4_HEADER_LEN {
        invalid(p, DecodeEvent::Icmpv4PktTooSmall);
        return;
    }
    let (icmp_type, code) = (msg[0], msg[1]);
    let mut hdr = IcmpHdr {
        icmp_type,
        code,
        id: 0,
        seq: 0,
        inner: None,
        checksum_ok: cx.cfg.checksum_validation.then(|| checksum::verify(msg)),
    };
    let mut hlen = ICMPV4_HEADER_LEN;
    // The error types embed the offending datagram; `min_body` is how many
    // bytes of it Suricata wants before it looks (source quench accepts an
    // empty one and then reports it truncated).
    let (max_code, echo_like, embeds, min_body) = match icmp_type {
        ECHO_REPLY | ECHO | INFO_REQUEST | INFO_REPLY | ADDRESS | ADDRESS_REPLY => {
            (0, true, false, 0)
        }
        TIMESTAMP | TIMESTAMP_REPLY => (0, true, false, 0),
        DEST_UNREACH => (MAX_UNREACH_CODE, false, true, 1),
        SOURCE_QUENCH => (0, false, true, 0),
        REDIRECT => (MAX_REDIRECT_CODE, false, true, 1),
        TIME_EXCEEDED => (MAX_TIME_EXCEEDED_CODE, false, true, 1),
        PARAMETER_PROBLEM => (0, false, true, 1),
        _ => {
            event(p, DecodeEvent::Icmpv4UnknownType);
            finish(p, hdr, msg, hlen);
            return;
        }
    };
    if echo_like {
        hdr.id = u16::from_be_bytes([msg[4], msg[5]]);
        hdr.seq = u16::from_be_bytes([msg[6], msg[7]]);
    }
    if code > max_code {
        event(p, DecodeEvent::Icmpv4UnknownCode);
    } else if embeds && msg.len() - ICMPV4_HEADER_LEN >= min_body {
        hdr.inner = partial_ipv4(p, &msg[ICMPV4_HEADER_LEN..]);
    }
    if matches!(icmp_type, TIMESTAMP | TIMESTAMP_REPLY) {
        if msg.len() < ICMPV4_HEADER_LEN + TIMESTAMP_LEN {
            event(p, DecodeEvent::Icmpv4Ipv4TruncPkt);
        } else {
            hlen += TIMESTAMP_LEN;
        }
    }
    finish(p, hdr, msg, hlen);
}

fn finish<'a>(p: &mut Packet<'a>, hdr: IcmpHdr, msg: &'a [u8], hlen: usize) {
    p.l4 = L4::Icmpv4(hdr);
    p.payload = msg.get(hlen..).unwrap_or(&[]);
}

/// The embedded datagram's tuple (Suricata's `DecodePartialIPV4`).
fn partial_ipv4(p: &mut Packet<'_>, emb: &[u8]) -> Option<InnerTuple> {
    if emb.len() < IPV4_HEADER_LEN {
        invalid(p, DecodeEvent::Icmpv4Ipv4TruncPkt);
        return None;
    }
    if emb[0] >> 4 != 4 {
        invalid(p, DecodeEvent::Icmpv4Ipv4UnknownVer);
        return None;
    }
    let proto = emb[9];
    // Suricata reads the transport header right after a 20-byte IP header,
    // whatever the embedded header length says; flows must match its view.
    let l4 = &emb[IPV4_HEADER_LEN..];
    let (sport, dport) = match proto {
        PROTO_TCP if l4.len() >= 4 => ports(l4),
        PROTO_UDP if l4.len() >= 8 => ports(l4),
        _ => (0, 0),
    };
    Some(InnerTuple {
        src: IpAddr::V4(Ipv4Addr::new(emb[12], emb[13], emb[14], emb[15])),
        dst: IpAddr::V4(Ipv4Addr::new(emb[16], emb[17], emb[18], emb[19])),
        proto,
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

    fn decode(msg: &[u8]) -> (Vec<DecodeEvent>, Option<IcmpHdr>, Vec<u8>) {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ipv4(1, msg)));
        let h = match p.l4 {
            L4::Icmpv4(h) => Some(h),
            _ => None,
        };
        (p.events.iter().collect(), h, p.payload.to_vec())
    }

    #[test]
    fn echo_request() {
        let (ev, h, payload) = decode(&icmp_msg(8, 0, [0x12, 0x34, 0, 7], b"ping"));
        assert!(ev.is_empty());
        let h = h.unwrap();
        assert_eq!((h.icmp_type, h.code, h.id, h.seq), (8, 0, 0x1234, 7));
        assert_eq!(h.checksum_ok, Some(true));
        assert_eq!(payload, b"ping");
    }

    #[test]
    fn unknown_types_and_codes() {
        for t in [1u8, 2, 6, 7, 9, 10, 19, 40, 255] {
            let (ev, h, _) = decode(&icmp_msg(t, 0, [0; 4], b""));
            assert_eq!(ev, [DecodeEvent::Icmpv4UnknownType], "type {t}");
            assert!(h.is_some());
        }
        for (t, bad) in [
            (0u8, 1u8),
            (3, 16),
            (4, 1),
            (5, 4),
            (8, 1),
            (11, 2),
            (12, 1),
            (13, 1),
        ] {
            let (ev, _, _) = decode(&icmp_msg(t, bad, [0; 4], &[0; 12]));
            assert_eq!(ev, [DecodeEvent::Icmpv4UnknownCode], "type {t} code {bad}");
        }
        for (t, ok) in [(3u8, 15u8), (5, 3), (11, 1)] {
            let (ev, _, _) = decode(&icmp_msg(t, ok, [0; 4], &ipv4_udp(b"x")));
            assert!(ev.is_empty(), "type {t} code {ok}: {ev:?}");
        }
    }

    #[test]
    fn errors_carry_the_inner_tuple() {
        let inner = ipv4_udp(b"query");
        for t in [3u8, 4, 5, 11, 12] {
            let (ev, h, _) = decode(&icmp_msg(t, 0, [0; 4], &inner[..28]));
            assert!(ev.is_empty(), "type {t}: {ev:?}");
            let i = h.unwrap().inner.unwrap();
            assert_eq!(i.src.to_string(), "10.0.0.1");
            assert_eq!(i.dst.to_string(), "10.0.0.2");
            assert_eq!((i.proto, i.sport, i.dport), (17, 5353, 53));
        }
        let tcp = ipv4_tcp_syn();
        let (_, h, _) = decode(&icmp_msg(3, 3, [0; 4], &tcp[..24]));
        let i = h.unwrap().inner.unwrap();
        assert_eq!((i.proto, i.sport, i.dport), (6, 40000, 80));
        // UDP needs its whole 8-byte header for ports.
        let (_, h, _) = decode(&icmp_msg(3, 3, [0; 4], &inner[..24]));
        let i = h.unwrap().inner.unwrap();
        assert_eq!((i.sport, i.dport), (0, 0));
    }

    #[test]
    fn broken_embedded_headers() {
        let inner = ipv4_udp(b"query");
        let (ev, h, _) = decode(&icmp_msg(3, 1, [0; 4], &inner[..19]));
        assert_eq!(ev, [DecodeEvent::Icmpv4Ipv4TruncPkt]);
        assert!(h.unwrap().inner.is_none());
        let mut v6 = inner.clone();
        v6[0] = 0x65;
        let (ev, _, _) = decode(&icmp_msg(11, 0, [0; 4], &v6));
        assert_eq!(ev, [DecodeEvent::Icmpv4Ipv4UnknownVer]);
        // Source quench looks even at an empty body.
        let (ev, _, _) = decode(&icmp_msg(4, 0, [0; 4], b""));
        assert_eq!(ev, [DecodeEvent::Icmpv4Ipv4TruncPkt]);
        let (ev, _, _) = decode(&icmp_msg(3, 0, [0; 4], b""));
        assert!(ev.is_empty());
    }

    #[test]
    fn timestamp_needs_its_body() {
        let (ev, _, payload) = decode(&icmp_msg(13, 0, [0; 4], &[1; 12]));
        assert!(ev.is_empty());
        assert!(payload.is_empty());
        let (ev, _, _) = decode(&icmp_msg(14, 0, [0; 4], &[1; 4]));
        assert_eq!(ev, [DecodeEvent::Icmpv4Ipv4TruncPkt]);
    }

    #[test]
    fn every_truncation() {
        let msg = icmp_msg(3, 1, [0; 4], &ipv4_tcp_syn());
        let mut d = Decoder::default();
        for n in 0..msg.len() {
            let p = d.decode(&raw(LinkType::Raw, &ipv4(1, &msg[..n])));
            let ev: Vec<_> = p.events.iter().collect();
            match n {
                0..=7 => assert_eq!(ev, [DecodeEvent::Icmpv4PktTooSmall], "len {n}"),
                8 => assert!(ev.is_empty()),
                9..=27 => assert_eq!(ev, [DecodeEvent::Icmpv4Ipv4TruncPkt], "len {n}"),
                _ => assert!(ev.is_empty(), "len {n}: {ev:?}"),
            }
        }
    }
}
