//! IPv4: header and option validation (Suricata's `decode-ipv4.c` rules),
//! fragments to the defragmenter, and dispatch to the transport decoders.

use crate::checksum;
use crate::decoder::{event, invalid, Cx};
use crate::defrag::{FragIn, FragKey};
use crate::events::DecodeEvent;
use crate::packet::{IpHdr, Packet, L4};
use crate::{icmpv4, ipv6, tcp, udp};
use std::net::{IpAddr, Ipv4Addr};

pub(crate) const IPV4_HEADER_LEN: usize = 20;
const IPV4_MAXPACKET_LEN: usize = 65535;

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const PROTO_ESP: u8 = 50;
pub(crate) const PROTO_ICMPV6: u8 = 58;

const OPT_EOL: u8 = 0x00;
const OPT_NOP: u8 = 0x01;
const OPT_RR: u8 = 0x07;
const OPT_QS: u8 = 0x19;
const OPT_TS: u8 = 0x44;
const OPT_SEC: u8 = 0x82;
const OPT_LSRR: u8 = 0x83;
const OPT_ESEC: u8 = 0x85;
const OPT_CIPSO: u8 = 0x86;
const OPT_SID: u8 = 0x88;
const OPT_SSRR: u8 = 0x89;
const OPT_RTRALT: u8 = 0x94;

pub(crate) fn decode_ipv4<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    decode(cx, p, data, false);
}

fn decode<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8], reassembled: bool) {
    cx.stats.ipv4 += 1;
    if !cx.add_layer(p) {
        return;
    }
    if data.len() < IPV4_HEADER_LEN {
        invalid(p, DecodeEvent::Ipv4PktTooSmall);
        return;
    }
    if data[0] >> 4 != 4 {
        invalid(p, DecodeEvent::Ipv4WrongIpVersion);
        return;
    }
    let hlen = usize::from(data[0] & 0x0f) * 4;
    if hlen < IPV4_HEADER_LEN {
        invalid(p, DecodeEvent::Ipv4HlenTooSmall);
        return;
    }
    let iplen = usize::from(u16::from_be_bytes([data[2], data[3]]));
    if iplen < hlen {
        invalid(p, DecodeEvent::Ipv4IplenSmallerThanHlen);
        return;
    }
    // A shorter IP length than the frame is Ethernet padding: it is cut off
    // below, as Suricata decodes only `iplen` bytes.
    if data.len() < iplen {
        invalid(p, DecodeEvent::Ipv4TruncPkt);
        return;
    }
    let src = Ipv4Addr::new(data[12], data[13], data[14], data[15]);
    let dst = Ipv4Addr::new(data[16], data[17], data[18], data[19]);
    let proto = data[9];
    let id = u16::from_be_bytes([data[4], data[5]]);
    let checksum_ok = cx
        .cfg
        .checksum_validation
        .then(|| checksum::verify(&data[..hlen]));
    p.ip = Some(IpHdr {
        version: 4,
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        proto,
        ttl: data[8],
        tos: data[1],
        id: u32::from(id),
        hdr_len: hlen as u16,
        total_len: iplen as u32,
        reassembled,
        checksum_ok,
    });
    if hlen > IPV4_HEADER_LEN {
        decode_options(p, &data[IPV4_HEADER_LEN..hlen]);
    }

    let flags_off = u16::from_be_bytes([data[6], data[7]]);
    let frag_offset = usize::from(flags_off & 0x1fff) * 8;
    let more_frags = flags_off & 0x2000 != 0;
    let payload = &data[hlen..iplen];
    if frag_offset > 0 || more_frags {
        fragment(cx, p, data, hlen, payload, frag_offset, more_frags);
        return;
    }

    let (src, dst) = (IpAddr::V4(src), IpAddr::V4(dst));
    match proto {
        PROTO_TCP => tcp::decode_tcp(cx, p, payload, src, dst),
        PROTO_UDP => udp::decode_udp(cx, p, payload, src, dst),
        PROTO_ICMP => icmpv4::decode_icmpv4(cx, p, payload),
        PROTO_ESP => ipv6::decode_esp(cx, p, payload),
        PROTO_ICMPV6 => {
            invalid(p, DecodeEvent::Ipv4Icmpv6);
            p.l4 = L4::Other;
        }
        _ => {
            p.l4 = L4::Other;
            p.payload = payload;
        }
    }
}

fn fragment<'a>(
    cx: &mut Cx<'a>,
    p: &mut Packet<'a>,
    data: &'a [u8],
    hlen: usize,
    payload: &'a [u8],
    frag_offset: usize,
    more_frags: bool,
) {
    p.fragment = true;
    cx.stats.defrag_ipv4_fragments += 1;
    if IPV4_HEADER_LEN + frag_offset + payload.len() > IPV4_MAXPACKET_LEN {
        event(p, DecodeEvent::Ipv4FragPktTooLarge);
        return;
    }
    let Some(ip) = p.ip else { return };
    let Some(defrag) = cx.defrag.take() else {
        return;
    };
    let frag = FragIn {
        key: FragKey::new(ip.src, ip.dst, ip.id, ip.proto, p.vlans()),
        ts_ns: p.ts_ns,
        offset: frag_offset,
        more_frags,
        header: &data[..hlen],
        nh_patch: None,
        data: payload,
    };
    let frame_off = cx.offset_of(data);
    if let Some(datagram) = defrag.insert(cx.stats, &mut p.events, &frag) {
        cx.stats.defrag_ipv4_reassembled += 1;
        decode(cx, p, datagram, true);
        p.captured_len = u32::try_from(frame_off + datagram.len()).unwrap_or(u32::MAX);
    }
}

/// Suricata's `DecodeIPV4Options`. Errors stop option parsing (and mark the
/// packet invalid) but, as in Suricata, not the decoding of the packet.
fn decode_options(p: &mut Packet<'_>, opts: &[u8]) {
    if opts.len() & 7 != 0 {
        event(p, DecodeEvent::Ipv4OptPadRequired);
    }
    let mut seen: u16 = 0;
    let mut rest = opts;
    while let Some(&kind) = rest.first() {
        match kind {
            OPT_EOL => break,
            OPT_NOP => {
                rest = &rest[1..];
                continue;
            }
            _ => {}
        }
        if rest.len() < 2 {
            event(p, DecodeEvent::Ipv4OptEolRequired);
            break;
        }
        let len = usize::from(rest[1]);
        if len > rest.len() || len < 2 {
            invalid(p, DecodeEvent::Ipv4OptInvalidLen);
            return;
        }
        let opt = &rest[..len];
        let bit = match kind {
            OPT_RR => 1,
            OPT_QS => 2,
            OPT_TS => 4,
            OPT_SEC => 8,
            OPT_LSRR => 16,
            OPT_ESEC => 32,
            OPT_CIPSO => 64,
            OPT_SID => 128,
            OPT_SSRR => 256,
            OPT_RTRALT => 512,
            _ => 0,
        };
        if bit == 0 {
            event(p, DecodeEvent::Ipv4OptInvalid);
        } else if seen & bit != 0 {
            event(p, DecodeEvent::Ipv4OptDuplicate);
        } else {
            if let Err(e) = validate_option(kind, opt) {
                invalid(p, e);
                return;
            }
            seen |= bit;
        }
        rest = &rest[len..];
    }
}

/// Per-option checks; `opt` is the whole option (type and length included).
fn validate_option(kind: u8, opt: &[u8]) -> Result<(), DecodeEvent> {
    let len = opt.len();
    match kind {
        OPT_RR | OPT_LSRR | OPT_SSRR => {
            if len < 3 {
                return Err(DecodeEvent::Ipv4OptInvalidLen);
            }
            // The 1-based pointer must land on an address slot inside the option.
            let ptr = usize::from(opt[2]);
            if ptr < 4 || ptr % 4 != 0 || ptr > len + 1 {
                return Err(DecodeEvent::Ipv4OptMalformed);
            }
        }
        OPT_TS => {
            if len < 5 {
                return Err(DecodeEvent::Ipv4OptInvalidLen);
            }
            let ptr = usize::from(opt[2]);
            if ptr < 5 {
                return Err(DecodeEvent::Ipv4OptMalformed);
            }
            // Flags 1 and 3 carry an address with each timestamp.
            let rec = if matches!(opt[3] & 0x0f, 1 | 3) { 8 } else { 4 };
            if (ptr - 5) % rec != 0 || ptr > len + 1 {
                return Err(DecodeEvent::Ipv4OptMalformed);
            }
        }
        OPT_QS if len < 8 => return Err(DecodeEvent::Ipv4OptInvalidLen),
        OPT_SEC if len != 11 => return Err(DecodeEvent::Ipv4OptInvalidLen),
        OPT_ESEC if len < 3 => return Err(DecodeEvent::Ipv4OptInvalidLen),
        OPT_SID | OPT_RTRALT if len != 4 => return Err(DecodeEvent::Ipv4OptInvalidLen),
        OPT_CIPSO => validate_cipso(opt)?,
        _ => {}
    }
    Ok(())
}

/// CIPSO (draft-ietf-cipso-ipsecurity): a 4-byte DOI then tags of known types.
fn validate_cipso(opt: &[u8]) -> Result<(), DecodeEvent> {
    if opt.len() < 10 {
        return Err(DecodeEvent::Ipv4OptInvalidLen);
    }
    let mut tags = &opt[6..];
    while !tags.is_empty() {
        if tags.len() < 2 {
            return Err(DecodeEvent::Ipv4OptMalformed);
        }
        let (ttype, tlen) = (tags[0], usize::from(tags[1]));
        if tlen > tags.len() {
            return Err(DecodeEvent::Ipv4OptMalformed);
        }
        match ttype {
            1 | 2 | 5 | 6 | 7 => {
                if tlen < 4 {
                    return Err(DecodeEvent::Ipv4OptMalformed);
                }
                // Every tag but type 7 has a zero alignment octet.
                if ttype != 7 && tags[2] != 0 {
                    return Err(DecodeEvent::Ipv4OptMalformed);
                }
                tags = &tags[tlen..];
            }
            _ => return Err(DecodeEvent::Ipv4OptMalformed),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeConfig, DecodeEvent, Decoder, L4};
    use std::net::IpAddr;
    use watchfloor_capture::LinkType;

    fn decode_raw_ip(d: &mut Decoder, ip: &[u8]) -> Vec<DecodeEvent> {
        let p = d.decode(&raw(LinkType::Raw, ip));
        p.events.iter().collect()
    }

    #[test]
    fn header_fields() {
        let ip = ipv4_tcp_syn();
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ip));
        let h = p.ip.unwrap();
        assert_eq!(h.version, 4);
        assert_eq!(h.src, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(h.dst, "10.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!((h.proto, h.ttl, h.hdr_len), (6, 64, 20));
        assert_eq!(h.total_len as usize, ip.len());
        assert_eq!(h.checksum_ok, Some(true));
        assert!(!h.reassembled);
        assert!(!p.is_invalid());
    }

    #[test]
    fn checksum_validation_modes() {
        let mut ip = ipv4_tcp_syn();
        ip[10] ^= 0xff;
        let mut d = Decoder::default();
        assert_eq!(
            d.decode(&raw(LinkType::Raw, &ip)).ip.unwrap().checksum_ok,
            Some(false)
        );
        let mut d = Decoder::new(DecodeConfig {
            checksum_validation: false,
            ..DecodeConfig::default()
        });
        let p = d.decode(&raw(LinkType::Raw, &ip));
        assert_eq!(p.ip.unwrap().checksum_ok, None);
        let L4::Tcp(t) = p.l4 else { panic!() };
        assert_eq!(t.checksum_ok, None);
    }

    #[test]
    fn ethernet_padding_is_trimmed() {
        let mut frame = eth(0x0800, &ipv4_udp(b"hi"));
        frame.extend_from_slice(&[0u8; 16]);
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ethernet, &frame));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.payload, b"hi");
        assert_eq!(p.captured_len as usize, frame.len());
    }

    #[test]
    fn lying_lengths() {
        let mut d = Decoder::default();
        let mut ip = ipv4_tcp_syn();
        ip[0] = 0x44;
        assert_eq!(decode_raw_ip(&mut d, &ip), [DecodeEvent::Ipv4HlenTooSmall]);
        let mut ip = ipv4_tcp_syn();
        ip[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(
            decode_raw_ip(&mut d, &ip),
            [DecodeEvent::Ipv4IplenSmallerThanHlen]
        );
        let mut ip = ipv4_tcp_syn();
        ip[2..4].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(decode_raw_ip(&mut d, &ip), [DecodeEvent::Ipv4TruncPkt]);
        let mut ip = ipv4_tcp_syn();
        ip[0] = 0x4f; // 60-byte header in a 40-byte packet
        assert_eq!(
            decode_raw_ip(&mut d, &ip),
            [DecodeEvent::Ipv4IplenSmallerThanHlen]
        );
        assert_eq!(
            decode_raw_ip(&mut d, &ipv6_udp()[..]),
            Vec::<DecodeEvent>::new()
        );
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv4, &ipv6_udp()));
        assert!(p.events.contains(DecodeEvent::Ipv4WrongIpVersion));
    }

    #[test]
    fn every_truncation_raises_an_ipv4_event() {
        let ip = ipv4_tcp_syn();
        let mut d = Decoder::default();
        for n in 0..ip.len() {
            let p = d.decode(&raw(LinkType::Ipv4, &ip[..n]));
            let want = if n < 20 {
                DecodeEvent::Ipv4PktTooSmall
            } else {
                DecodeEvent::Ipv4TruncPkt
            };
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [want], "len {n}");
            assert!(p.is_invalid());
            assert!(matches!(p.l4, L4::None));
        }
    }

    fn with_options(opts: &[u8]) -> Vec<u8> {
        ipv4_with_options(opts, 6, &tcp_syn_segment())
    }

    #[test]
    fn options() {
        let mut d = Decoder::default();
        // Router alert (4 bytes): valid, but not padded to 8.
        let ev = decode_raw_ip(&mut d, &with_options(&[0x94, 4, 0, 0]));
        assert_eq!(ev, [DecodeEvent::Ipv4OptPadRequired]);
        // Router alert + NOPs + EOL, 8 bytes: clean.
        let ev = decode_raw_ip(&mut d, &with_options(&[0x94, 4, 0, 0, 1, 1, 1, 0]));
        assert!(ev.is_empty(), "{ev:?}");
        // Zero length option.
        let ev = decode_raw_ip(&mut d, &with_options(&[0x94, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(ev, [DecodeEvent::Ipv4OptInvalidLen]);
        // Length running past the header.
        let ev = decode_raw_ip(&mut d, &with_options(&[1, 1, 1, 1, 1, 1, 0x94, 9]));
        assert_eq!(ev, [DecodeEvent::Ipv4OptInvalidLen]);
        // Unknown option type.
        let ev = decode_raw_ip(&mut d, &with_options(&[0x99, 4, 0, 0, 0, 0, 0, 0]));
        assert_eq!(ev, [DecodeEvent::Ipv4OptInvalid]);
        // Duplicate router alert.
        let ev = decode_raw_ip(&mut d, &with_options(&[0x94, 4, 0, 0, 0x94, 4, 0, 0]));
        assert_eq!(ev, [DecodeEvent::Ipv4OptDuplicate]);
        // Record route with a bad pointer.
        let ev = decode_raw_ip(&mut d, &with_options(&[7, 7, 5, 0, 0, 0, 0, 0]));
        assert_eq!(ev, [DecodeEvent::Ipv4OptMalformed]);
        // Record route, pointer 4: fine.
        let ev = decode_raw_ip(&mut d, &with_options(&[7, 7, 4, 0, 0, 0, 0, 0]));
        assert!(ev.is_empty(), "{ev:?}");
        // Timestamp with flag 1 (addr+ts records) and pointer 13.
        let mut ts = vec![0x44, 12, 13, 1];
        ts.extend_from_slice(&[0; 8]);
        let ev = decode_raw_ip(&mut d, &with_options(&ts));
        assert_eq!(ev, [DecodeEvent::Ipv4OptPadRequired]);
        // Multi-byte option cut by the end of the header.
        let ev = decode_raw_ip(&mut d, &with_options(&[1, 1, 1, 0x94]));
        assert_eq!(
            ev,
            [
                DecodeEvent::Ipv4OptPadRequired,
                DecodeEvent::Ipv4OptEolRequired
            ]
        );
    }

    #[test]
    fn option_errors_do_not_stop_decoding() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(
            LinkType::Raw,
            &with_options(&[0x94, 0, 0, 0, 0, 0, 0, 0]),
        ));
        assert!(p.is_invalid());
        assert!(matches!(p.l4, L4::Tcp(_)));
    }

    #[test]
    fn icmpv6_in_ipv4_and_other_protocols() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &ipv4(58, &[128, 0, 0, 0, 0, 0, 0, 0])));
        assert!(p.events.contains(DecodeEvent::Ipv4Icmpv6));
        assert!(p.is_invalid());
        let p = d.decode(&raw(LinkType::Raw, &ipv4(47, &[0, 0, 8, 0])));
        assert!(matches!(p.l4, L4::Other));
        assert_eq!(p.ip.unwrap().proto, 47);
        assert_eq!(p.payload, &[0, 0, 8, 0]);
        assert!(p.events.is_empty());
    }
}
