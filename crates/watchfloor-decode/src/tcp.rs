//! TCP header and options (Suricata's `decode-tcp.c` checks and events).

use crate::checksum;
use crate::decoder::{event, invalid, Cx};
use crate::events::DecodeEvent;
use crate::packet::{tcp_flags, Packet, TcpHdr, TcpOptions, L4};
use std::net::IpAddr;

const TCP_HEADER_LEN: usize = 20;
const TCP_OPTLENMAX: usize = 40;

const OPT_EOL: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
const OPT_WS: u8 = 3;
const OPT_SACKOK: u8 = 4;
const OPT_SACK: u8 = 5;
const OPT_TS: u8 = 8;
const OPT_MD5: u8 = 19;
const OPT_AO: u8 = 29;
const OPT_TFO: u8 = 34;
const OPT_EXP1: u8 = 253;
const OPT_EXP2: u8 = 254;
/// The experimental-option magic that marks a pre-RFC 7413 Fast Open cookie.
const TFO_EXP_MAGIC: u16 = 0xf989;

pub(crate) fn decode_tcp<'a>(
    cx: &mut Cx<'a>,
    p: &mut Packet<'a>,
    seg: &'a [u8],
    src: IpAddr,
    dst: IpAddr,
) {
    cx.stats.tcp += 1;
    if seg.len() < TCP_HEADER_LEN {
        invalid(p, DecodeEvent::TcpPktTooSmall);
        return;
    }
    let hlen = usize::from(seg[12] >> 4) * 4;
    if seg.len() < hlen {
        invalid(p, DecodeEvent::TcpHlenTooSmall);
        return;
    }
    // A data offset under 5 words makes Suricata's unsigned option length
    // wrap, so it reports it as an invalid option length.
    if hlen < TCP_HEADER_LEN || hlen - TCP_HEADER_LEN > TCP_OPTLENMAX {
        invalid(p, DecodeEvent::TcpInvalidOptlen);
        return;
    }
    let options = if hlen > TCP_HEADER_LEN {
        decode_options(p, &seg[TCP_HEADER_LEN..hlen])
    } else {
        TcpOptions::default()
    };
    let flags = seg[13];
    if flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN | tcp_flags::ACK {
        cx.stats.tcp_synack += 1;
    } else if flags & tcp_flags::SYN != 0 {
        cx.stats.tcp_syn += 1;
    }
    if flags & tcp_flags::RST != 0 {
        cx.stats.tcp_rst += 1;
    }
    let be16 = |i: usize| u16::from_be_bytes([seg[i], seg[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([seg[i], seg[i + 1], seg[i + 2], seg[i + 3]]);
    p.l4 = L4::Tcp(TcpHdr {
        sport: be16(0),
        dport: be16(2),
        seq: be32(4),
        ack: be32(8),
        hdr_len: hlen as u8,
        flags,
        window: be16(14),
        urgent: be16(18),
        options,
        checksum_ok: cx
            .cfg
            .checksum_validation
            .then(|| checksum::verify_l4(src, dst, 6, seg)),
    });
    p.payload = &seg[hlen..];
}

fn decode_options(p: &mut Packet<'_>, mut opts: &[u8]) -> TcpOptions {
    let mut o = TcpOptions::default();
    let mut seen: u8 = 0;
    while let Some(&kind) = opts.first() {
        match kind {
            OPT_EOL => break,
            OPT_NOP => {
                opts = &opts[1..];
                continue;
            }
            _ => {}
        }
        if opts.len() < 2 {
            break;
        }
        let len = usize::from(opts[1]);
        if len > opts.len() || len < 2 {
            invalid(p, DecodeEvent::TcpOptInvalidLen);
            break;
        }
        let body = &opts[2..len];
        opts = &opts[len..];
        let valid = match kind {
            OPT_WS => len == 3,
            OPT_MSS => len == 4,
            OPT_SACKOK => len == 2,
            OPT_TS => len == 10,
            OPT_SACK => len == 2 || ((10..=34).contains(&len) && (len - 2) % 8 == 0),
            OPT_TFO => len == 2 || ((6..=18).contains(&len) && len % 2 == 0),
            OPT_EXP1 | OPT_EXP2 => len == 4 || len == 12,
            OPT_MD5 => len == 18,
            OPT_AO => len >= 4,
            _ => true,
        };
        if !valid {
            // MD5 signature (RFC 2385) and TCP-AO (RFC 5925) keys are out of
            // band: a bad length is all that can be wrong, and Suricata
            // treats it as fatal.
            if matches!(kind, OPT_MD5 | OPT_AO) {
                invalid(p, DecodeEvent::TcpOptInvalidLen);
            } else {
                event(p, DecodeEvent::TcpOptInvalidLen);
            }
            continue;
        }
        // One bit per option kept in `TcpOptions`, for duplicate detection.
        let bit: u8 = match kind {
            OPT_WS => 1,
            OPT_MSS => 2,
            OPT_SACKOK => 4,
            OPT_TS => 8,
            OPT_SACK => 16,
            OPT_TFO => 32,
            OPT_EXP1 | OPT_EXP2 if u16::from_be_bytes([body[0], body[1]]) == TFO_EXP_MAGIC => 32,
            _ => 0,
        };
        if bit == 0 {
            continue;
        }
        if seen & bit != 0 {
            event(p, DecodeEvent::TcpOptDuplicate);
            continue;
        }
        seen |= bit;
        match kind {
            OPT_WS => o.wscale = Some(body[0]),
            OPT_MSS => o.mss = Some(u16::from_be_bytes([body[0], body[1]])),
            OPT_SACKOK => o.sack_permitted = true,
            OPT_TS => {
                let val = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let ecr = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                o.timestamp = Some((val, ecr));
            }
            OPT_SACK => {
                for block in body.chunks_exact(8).take(o.sack.len()) {
                    let l = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                    let r = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                    o.sack[usize::from(o.sack_count)] = (l, r);
                    o.sack_count += 1;
                }
            }
            _ => o.tfo = true,
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeEvent, Decoder, L4};
    use watchfloor_capture::LinkType;

    fn decode_opts(opts: &[u8]) -> (Vec<DecodeEvent>, Option<crate::TcpHdr>, bool) {
        let pkt = ipv4(6, &tcp_segment(opts, b"data"));
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &pkt));
        let hdr = match p.l4 {
            L4::Tcp(t) => Some(t),
            _ => None,
        };
        (p.events.iter().collect(), hdr, p.is_invalid())
    }

    #[test]
    fn syn_fields() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ipv4_tcp_syn()));
        let L4::Tcp(t) = p.l4 else { panic!() };
        assert_eq!((t.sport, t.dport, t.seq, t.ack), (40000, 80, 1000, 0));
        assert_eq!(t.flags, crate::tcp_flags::SYN);
        assert_eq!(t.hdr_len, 20);
        assert_eq!(t.window, 65535);
        assert_eq!(t.checksum_ok, Some(true));
        assert_eq!(p.l4.ports(), (40000, 80));
        assert_eq!(d.stats().tcp_syn, 1);
    }

    #[test]
    fn all_known_options() {
        let mut opts = vec![2, 4, 0x05, 0xb4]; // MSS 1460
        opts.extend_from_slice(&[1, 3, 3, 7]); // NOP, WS 7
        opts.extend_from_slice(&[4, 2]); // SACK permitted
        opts.extend_from_slice(&[8, 10, 0, 0, 0, 1, 0, 0, 0, 2]); // TS 1/2
        opts.extend_from_slice(&[5, 10, 0, 0, 0, 10, 0, 0, 0, 20]); // SACK 10-20
        opts.extend_from_slice(&[34, 2]); // TFO cookie request
        assert_eq!(opts.len(), 32);
        opts.extend_from_slice(&[0, 0, 0, 0]); // EOL and padding to 36
        let (ev, t, bad) = decode_opts(&opts);
        assert!(ev.is_empty(), "{ev:?}");
        assert!(!bad);
        let t = t.unwrap();
        let o = t.options;
        assert_eq!(t.hdr_len, 56);
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.wscale, Some(7));
        assert!(o.sack_permitted);
        assert_eq!(o.timestamp, Some((1, 2)));
        assert_eq!(o.sack_count, 1);
        assert_eq!(o.sack[0], (10, 20));
        assert!(o.tfo);
        assert_eq!(t.checksum_ok, Some(true));
    }

    #[test]
    fn option_length_problems() {
        // Zero length: invalid packet, parsing stops.
        let (ev, t, bad) = decode_opts(&[2, 0, 0, 0]);
        assert_eq!(ev, [DecodeEvent::TcpOptInvalidLen]);
        assert!(bad);
        assert!(t.is_some(), "the TCP header is still decoded");
        // Length past the end of the options.
        let (ev, _, bad) = decode_opts(&[1, 1, 8, 10]);
        assert_eq!(ev, [DecodeEvent::TcpOptInvalidLen]);
        assert!(bad);
        // Wrong fixed length: a warning only.
        let (ev, t, bad) = decode_opts(&[2, 3, 5, 0]);
        assert_eq!(ev, [DecodeEvent::TcpOptInvalidLen]);
        assert!(!bad);
        assert_eq!(t.unwrap().options.mss, None);
        // SACK of a length not 2 + 8n.
        let (ev, _, _) = decode_opts(&[5, 6, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ev, [DecodeEvent::TcpOptInvalidLen]);
        // Duplicate window scale.
        let (ev, t, _) = decode_opts(&[3, 3, 1, 3, 3, 2, 0, 0]);
        assert_eq!(ev, [DecodeEvent::TcpOptDuplicate]);
        assert_eq!(t.unwrap().options.wscale, Some(1));
        // Multi-byte option with its length byte cut off: ignored.
        let (ev, _, _) = decode_opts(&[1, 1, 1, 2]);
        assert!(ev.is_empty());
        // Experimental option carrying the TFO magic.
        let (ev, t, _) = decode_opts(&[254, 4, 0xf9, 0x89]);
        assert!(ev.is_empty());
        assert!(t.unwrap().options.tfo);
        // MD5 with a bad length marks the packet invalid.
        let (ev, _, bad) = decode_opts(&[19, 4, 0, 0]);
        assert_eq!(ev, [DecodeEvent::TcpOptInvalidLen]);
        assert!(bad);
    }

    #[test]
    fn lying_data_offset() {
        let mut d = Decoder::default();
        let mut seg = tcp_segment(&[], b"");
        seg[12] = 0xf0; // 60-byte header in a 20-byte segment
        let p = d.decode(&raw(LinkType::Raw, &ipv4(6, &seg)));
        assert_eq!(
            p.events.iter().collect::<Vec<_>>(),
            [DecodeEvent::TcpHlenTooSmall]
        );
        assert!(matches!(p.l4, L4::None));
        seg[12] = 0x40; // 16 bytes: below the minimum
        let p = d.decode(&raw(LinkType::Raw, &ipv4(6, &seg)));
        assert_eq!(
            p.events.iter().collect::<Vec<_>>(),
            [DecodeEvent::TcpInvalidOptlen]
        );
    }

    #[test]
    fn every_truncation_of_the_segment() {
        let seg = tcp_segment(&[2, 4, 5, 0xb4], b"payload");
        let mut d = Decoder::default();
        for n in 0..24 {
            let p = d.decode(&raw(LinkType::Raw, &ipv4(6, &seg[..n])));
            let want = if n < 20 {
                DecodeEvent::TcpPktTooSmall
            } else {
                DecodeEvent::TcpHlenTooSmall
            };
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [want], "len {n}");
            assert!(p.is_invalid());
        }
        for n in 24..=seg.len() {
            let p = d.decode(&raw(LinkType::Raw, &ipv4(6, &seg[..n])));
            assert!(p.events.is_empty());
            assert_eq!(p.payload, &seg[24..n]);
        }
    }

    #[test]
    fn bad_checksum_is_reported_not_dropped() {
        let mut seg = tcp_segment(&[], b"x");
        seg[16] ^= 0xff;
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ipv4(6, &seg)));
        let L4::Tcp(t) = p.l4 else { panic!() };
        assert_eq!(t.checksum_ok, Some(false));
        assert!(p.events.is_empty());
    }

    #[test]
    fn tcp_over_ipv6_checksum() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv6, &ipv6(6, &tcp_segment_v6(b"hi"))));
        let L4::Tcp(t) = p.l4 else {
            panic!("{:?}", p.events)
        };
        assert_eq!(t.checksum_ok, Some(true));
        assert_eq!(p.payload, b"hi");
    }
}
