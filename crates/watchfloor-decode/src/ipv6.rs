//! IPv6: fixed header, extension headers (Suricata's `decode-ipv6.c` walk and
//! events), fragments to the defragmenter, transport dispatch. Also ESP,
//! which ends header parsing for both IP versions.

use crate::decoder::{event, invalid, Cx};
use crate::defrag::{FragIn, FragKey};
use crate::events::DecodeEvent;
use crate::packet::{IpHdr, Packet, L4};
use crate::{icmpv6, tcp, udp};
use std::net::{IpAddr, Ipv6Addr};

pub(crate) const IPV6_HEADER_LEN: usize = 40;
const IPV6_MAXPACKET: usize = 65535;
const ESP_HEADER_LEN: usize = 8;

const NH_HOPOPTS: u8 = 0;
const NH_ICMP: u8 = 1;
const NH_TCP: u8 = 6;
const NH_UDP: u8 = 17;
const NH_ROUTING: u8 = 43;
const NH_FRAGMENT: u8 = 44;
const NH_ESP: u8 = 50;
const NH_AH: u8 = 51;
const NH_ICMPV6: u8 = 58;
const NH_NONE: u8 = 59;
const NH_DSTOPTS: u8 = 60;
const NH_MH: u8 = 135;
const NH_HIP: u8 = 139;
const NH_SHIM6: u8 = 140;
/// Next headers Suricata decodes (tunnels, GRE, SCTP) that we leave as
/// `L4::Other` without calling them unknown.
const NH_SURICATA_ONLY: [u8; 4] = [4, 41, 47, 132];

const OPT_PAD1: u8 = 0x00;
const OPT_PADN: u8 = 0x01;
const OPT_RA: u8 = 0x05;
const OPT_JUMBO: u8 = 0xc2;
const OPT_HAO: u8 = 0xc9;

pub(crate) fn decode_ipv6<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    decode(cx, p, data, false);
}

/// A fragment header found while walking the extension headers.
struct FragHdr {
    /// Offset of the fragment header from the start of the IPv6 header.
    at: usize,
    /// Offset of the next-header byte that announced it.
    nh_pos: usize,
    nh: u8,
    offset: usize,
    more: bool,
    id: u32,
}

fn decode<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8], reassembled: bool) {
    cx.stats.ipv6 += 1;
    if !cx.add_layer(p) {
        return;
    }
    if data.len() < IPV6_HEADER_LEN {
        invalid(p, DecodeEvent::Ipv6PktTooSmall);
        return;
    }
    if data[0] >> 4 != 6 {
        invalid(p, DecodeEvent::Ipv6WrongIpVersion);
        return;
    }
    let plen = usize::from(u16::from_be_bytes([data[4], data[5]]));
    if data.len() < IPV6_HEADER_LEN + plen {
        invalid(p, DecodeEvent::Ipv6TruncPkt);
        return;
    }
    let mut a = [0u8; 16];
    a.copy_from_slice(&data[8..24]);
    let src = IpAddr::V6(Ipv6Addr::from(a));
    a.copy_from_slice(&data[24..40]);
    let dst = IpAddr::V6(Ipv6Addr::from(a));
    let hop_limit = data[7];
    p.ip = Some(IpHdr {
        version: 6,
        src,
        dst,
        proto: data[6],
        ttl: hop_limit,
        tos: ((data[0] & 0x0f) << 4) | (data[1] >> 4),
        id: 0,
        hdr_len: IPV6_HEADER_LEN as u16,
        total_len: (IPV6_HEADER_LEN + plen) as u32,
        reassembled,
        checksum_ok: None,
    });
    let packet = &data[..IPV6_HEADER_LEN + plen];
    if let Some(fh) = walk(cx, p, packet, src, dst, hop_limit) {
        fragment(cx, p, packet, &fh);
    }
}

fn set_l4_proto(p: &mut Packet<'_>, proto: u8, hdr_len: usize) {
    if let Some(ip) = p.ip.as_mut() {
        ip.proto = proto;
        ip.hdr_len = u16::try_from(hdr_len).unwrap_or(u16::MAX);
    }
}

/// Walk the extension headers and decode the transport layer. Returns the
/// fragment header when the packet is a fragment (the rest waits for
/// reassembly).
fn walk<'a>(
    cx: &mut Cx<'a>,
    p: &mut Packet<'a>,
    packet: &'a [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
) -> Option<FragHdr> {
    let mut nh = packet[6];
    let mut nh_pos = 6;
    let mut pos = IPV6_HEADER_LEN;
    let (mut hh, mut rh, mut ah, mut fh) = (false, false, false, false);
    let mut dstopts = 0u8;
    loop {
        let rest = &packet[pos..];
        set_l4_proto(p, nh, pos);
        if nh == NH_NONE {
            if !rest.is_empty() {
                event(p, DecodeEvent::Ipv6DataAfterNoneHeader);
            }
            p.l4 = L4::Other;
            return None;
        }
        // The fixed header's next header goes straight to the transport
        // decoders in Suricata; only extension headers need two bytes first.
        if pos > IPV6_HEADER_LEN && rest.len() < 2 {
            invalid(p, DecodeEvent::Ipv6TruncExthdr);
            return None;
        }
        let hdrlen = match nh {
            NH_TCP => {
                tcp::decode_tcp(cx, p, rest, src, dst);
                return None;
            }
            NH_UDP => {
                udp::decode_udp(cx, p, rest, src, dst);
                return None;
            }
            NH_ICMPV6 => {
                icmpv6::decode_icmpv6(cx, p, rest, src, dst, hop_limit);
                return None;
            }
            NH_ESP => {
                decode_esp(cx, p, rest);
                return None;
            }
            NH_ICMP => {
                event(p, DecodeEvent::Ipv6Icmpv4);
                p.l4 = L4::Other;
                return None;
            }
            _ if rest.len() < 2 => {
                // Only reachable for the fixed header's next header.
                invalid(p, DecodeEvent::Ipv6TruncExthdr);
                return None;
            }
            NH_ROUTING | NH_MH | NH_HIP | NH_SHIM6 => {
                let len = 8 + usize::from(rest[1]) * 8;
                if len > rest.len() {
                    invalid(p, DecodeEvent::Ipv6TruncExthdr);
                    return None;
                }
                if nh == NH_ROUTING {
                    if rh {
                        event(p, DecodeEvent::Ipv6ExthdrDuplRh);
                    } else {
                        rh = true;
                        if rest.get(2) == Some(&0) {
                            event(p, DecodeEvent::Ipv6RhType0);
                        }
                    }
                }
                len
            }
            NH_HOPOPTS | NH_DSTOPTS => {
                let len = (usize::from(rest[1]) + 1) * 8;
                if len > rest.len() {
                    invalid(p, DecodeEvent::Ipv6TruncExthdr);
                    return None;
                }
                let dup = if nh == NH_HOPOPTS {
                    std::mem::replace(&mut hh, true)
                } else {
                    dstopts += 1;
                    dstopts > 2
                };
                if dup {
                    let e = if nh == NH_HOPOPTS {
                        DecodeEvent::Ipv6ExthdrDuplHh
                    } else {
                        DecodeEvent::Ipv6ExthdrDuplDh
                    };
                    event(p, e);
                } else {
                    options(p, nh, &rest[2..len]);
                }
                len
            }
            NH_FRAGMENT => {
                if rest.len() < 8 {
                    invalid(p, DecodeEvent::Ipv6TruncExthdr);
                    return None;
                }
                if rest[1] != 0 {
                    event(p, DecodeEvent::Ipv6FhNonZeroReservedField);
                }
                if fh {
                    event(p, DecodeEvent::Ipv6ExthdrDuplFh);
                } else {
                    fh = true;
                    let off_flags = u16::from_be_bytes([rest[2], rest[3]]);
                    let frag = FragHdr {
                        at: pos,
                        nh_pos,
                        nh: rest[0],
                        offset: usize::from(off_flags & 0xfff8),
                        more: off_flags & 1 != 0,
                        id: u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]),
                    };
                    if let Some(ip) = p.ip.as_mut() {
                        ip.id = frag.id;
                    }
                    if frag.offset == 0 && !frag.more {
                        event(p, DecodeEvent::Ipv6ExthdrUselessFh);
                    } else {
                        // RFC 8200 4.5: all fragments but the last carry a
                        // multiple of 8 bytes.
                        if frag.more && rest.len() & 7 != 0 {
                            invalid(p, DecodeEvent::Ipv6FragInvalidLength);
                        }
                        return Some(frag);
                    }
                }
                8
            }
            NH_AH => {
                let mut len = 12;
                if rest[1] > 0 {
                    len += (usize::from(rest[1]) - 1) * 4;
                }
                if len > rest.len() {
                    invalid(p, DecodeEvent::Ipv6TruncExthdr);
                    return None;
                }
                if rest[2] != 0 || rest[3] != 0 {
                    event(p, DecodeEvent::Ipv6ExthdrAhResNotNull);
                }
                if ah {
                    event(p, DecodeEvent::Ipv6ExthdrDuplAh);
                }
                ah = true;
                len
            }
            _ if NH_SURICATA_ONLY.contains(&nh) => {
                p.l4 = L4::Other;
                p.payload = rest;
                return None;
            }
            _ => {
                event(p, DecodeEvent::Ipv6UnknownNextHeader);
                p.l4 = L4::Other;
                return None;
            }
        };
        nh = rest[0];
        nh_pos = pos;
        pos += hdrlen;
    }
}

/// Hop-by-hop / destination options (`body` excludes next-header and length).
fn options(p: &mut Packet<'_>, nh: u8, body: &[u8]) {
    let (mut padding, mut other) = (0u32, 0u32);
    let mut off = 0;
    while off < body.len() {
        let kind = body[off];
        if kind == OPT_PAD1 {
            padding += 1;
            off += 1;
            continue;
        }
        if off + 1 >= body.len() {
            invalid(p, DecodeEvent::Ipv6ExthdrInvalidOptlen);
            break;
        }
        let olen = usize::from(body[off + 1]);
        if off + 1 + olen > body.len() {
            invalid(p, DecodeEvent::Ipv6ExthdrInvalidOptlen);
            break;
        }
        let min_len = match kind {
            OPT_PADN => {
                padding += 1;
                if olen == 0 {
                    event(p, DecodeEvent::Ipv6ZeroLenPadn);
                }
                0
            }
            OPT_RA => {
                other += 1;
                2
            }
            OPT_JUMBO => 4,
            OPT_HAO => {
                other += 1;
                16
            }
            _ => {
                let e = if nh == NH_HOPOPTS {
                    DecodeEvent::Ipv6HopoptsUnknownOpt
                } else {
                    DecodeEvent::Ipv6DstoptsUnknownOpt
                };
                event(p, e);
                other += 1;
                0
            }
        };
        if olen < min_len {
            invalid(p, DecodeEvent::Ipv6ExthdrInvalidOptlen);
            break;
        }
        off += olen + 2;
    }
    if padding > 0 && other == 0 {
        let e = if nh == NH_HOPOPTS {
            DecodeEvent::Ipv6HopoptsOnlyPadding
        } else {
            DecodeEvent::Ipv6DstoptsOnlyPadding
        };
        event(p, e);
    }
}

fn fragment<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, packet: &'a [u8], fh: &FragHdr) {
    p.fragment = true;
    p.l4 = L4::None;
    p.payload = &[];
    cx.stats.defrag_ipv6_fragments += 1;
    let data = &packet[fh.at + 8..];
    if fh.offset + data.len() > IPV6_MAXPACKET {
        event(p, DecodeEvent::Ipv6FragPktTooLarge);
        return;
    }
    let Some(ip) = p.ip else { return };
    let Some(defrag) = cx.defrag.take() else {
        return;
    };
    let frag = FragIn {
        key: FragKey::new(ip.src, ip.dst, fh.id, 0, p.vlans()),
        ts_ns: p.ts_ns,
        offset: fh.offset,
        more_frags: fh.more,
        header: &packet[..fh.at],
        nh_patch: Some((fh.nh_pos, fh.nh)),
        data,
    };
    let frame_off = cx.offset_of(packet);
    if let Some(datagram) = defrag.insert(cx.stats, &mut p.events, &frag) {
        cx.stats.defrag_ipv6_reassembled += 1;
        decode(cx, p, datagram, true);
        p.captured_len = u32::try_from(frame_off + datagram.len()).unwrap_or(u32::MAX);
    }
}

/// ESP: the SPI and sequence number are all there is to decode.
pub(crate) fn decode_esp<'a>(cx: &mut Cx<'a>, p: &mut Packet<'a>, data: &'a [u8]) {
    cx.stats.esp += 1;
    p.l4 = L4::Other;
    if data.len() < ESP_HEADER_LEN {
        invalid(p, DecodeEvent::EspPktTooSmall);
        return;
    }
    p.payload = &data[ESP_HEADER_LEN..];
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeEvent, Decoder, L4};
    use watchfloor_capture::LinkType;

    fn events(d: &mut Decoder, pkt: &[u8]) -> Vec<DecodeEvent> {
        d.decode(&raw(LinkType::Ipv6, pkt)).events.iter().collect()
    }

    /// An 8-byte extension header of type-specific layout.
    fn ext(nh: u8, body6: [u8; 6]) -> Vec<u8> {
        let mut v = vec![nh, 0];
        v.extend_from_slice(&body6);
        v
    }

    #[test]
    fn fixed_header_fields() {
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv6, &ipv6_udp()));
        let ip = p.ip.unwrap();
        assert_eq!((ip.version, ip.proto, ip.ttl, ip.hdr_len), (6, 17, 64, 40));
        assert!(p.events.is_empty());
        let L4::Udp(u) = p.l4 else { panic!() };
        assert_eq!(u.checksum_ok, Some(true));
    }

    #[test]
    fn each_extension_header() {
        let udp = udp_segment_v6(b"abc");
        let mut d = Decoder::default();
        // Hop-by-hop with a router alert option: no event.
        let mut hbh = vec![17, 0, 5, 2, 0, 0, 0, 0];
        hbh.extend_from_slice(&udp);
        let p = d.decode(&raw(LinkType::Ipv6, &ipv6(0, &hbh)));
        assert!(p.events.is_empty(), "{:?}", p.events);
        assert_eq!(p.ip.unwrap().proto, 17);
        assert_eq!(p.ip.unwrap().hdr_len, 48);
        assert!(matches!(p.l4, L4::Udp(_)));
        assert_eq!(p.payload, b"abc");
        // Destination options with only padding.
        let mut dst = ext(17, [1, 4, 0, 0, 0, 0]);
        dst.extend_from_slice(&udp);
        let ev = events(&mut d, &ipv6(60, &dst));
        assert_eq!(ev, [DecodeEvent::Ipv6DstoptsOnlyPadding]);
        // Routing header type 0.
        let mut rh = ext(17, [0, 0, 0, 0, 0, 0]);
        rh.extend_from_slice(&udp);
        let ev = events(&mut d, &ipv6(43, &rh));
        assert_eq!(ev, [DecodeEvent::Ipv6RhType0]);
        // Routing header type 4 (SRH), twice.
        let mut rh2 = ext(43, [4, 0, 0, 0, 0, 0]);
        rh2.extend_from_slice(&ext(17, [4, 0, 0, 0, 0, 0]));
        rh2.extend_from_slice(&udp);
        let ev = events(&mut d, &ipv6(43, &rh2));
        assert_eq!(ev, [DecodeEvent::Ipv6ExthdrDuplRh]);
        // AH (length field 1: 12 bytes) with non-zero reserved bits.
        let mut ah = vec![17, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        ah.extend_from_slice(&udp);
        let p = d.decode(&raw(LinkType::Ipv6, &ipv6(51, &ah)));
        assert_eq!(
            p.events.iter().collect::<Vec<_>>(),
            [DecodeEvent::Ipv6ExthdrAhResNotNull]
        );
        assert!(matches!(p.l4, L4::Udp(_)));
        // ESP stops header parsing.
        let p = d.decode(&raw(
            LinkType::Ipv6,
            &ipv6(50, &[0, 0, 0, 1, 0, 0, 0, 1, 9, 9]),
        ));
        assert!(matches!(p.l4, L4::Other));
        assert_eq!(p.payload, &[9, 9]);
        assert_eq!(d.stats().esp, 1);
        let ev = events(&mut d, &ipv6(50, &[0, 0, 0, 1]));
        assert_eq!(ev, [DecodeEvent::EspPktTooSmall]);
        // No next header, with and without trailing data.
        assert!(events(&mut d, &ipv6(59, &[])).is_empty());
        let ev = events(&mut d, &ipv6(59, &[1, 2, 3]));
        assert_eq!(ev, [DecodeEvent::Ipv6DataAfterNoneHeader]);
        // Useless fragment header (offset 0, no more fragments).
        let mut fh = vec![17, 0, 0, 0, 0, 0, 0, 7];
        fh.extend_from_slice(&udp);
        let p = d.decode(&raw(LinkType::Ipv6, &ipv6(44, &fh)));
        assert_eq!(
            p.events.iter().collect::<Vec<_>>(),
            [DecodeEvent::Ipv6ExthdrUselessFh]
        );
        assert!(matches!(p.l4, L4::Udp(_)));
        assert!(!p.fragment);
    }

    #[test]
    fn extension_header_anomalies() {
        let udp = udp_segment_v6(b"x");
        let mut d = Decoder::default();
        // Two hop-by-hop headers.
        let mut two = ext(0, [1, 4, 0, 0, 0, 0]);
        two.extend_from_slice(&ext(17, [5, 2, 0, 0, 1, 0]));
        two.extend_from_slice(&udp);
        let ev = events(&mut d, &ipv6(0, &two));
        assert_eq!(
            ev,
            [
                DecodeEvent::Ipv6HopoptsOnlyPadding,
                DecodeEvent::Ipv6ExthdrDuplHh
            ]
        );
        // Unknown option, zero-length PadN.
        let mut odd = ext(17, [0x3e, 0, 1, 0, 0, 0]);
        odd.extend_from_slice(&udp);
        let ev = events(&mut d, &ipv6(60, &odd));
        assert_eq!(
            ev,
            [
                DecodeEvent::Ipv6DstoptsUnknownOpt,
                DecodeEvent::Ipv6ZeroLenPadn
            ]
        );
        // Option length beyond the header.
        let mut bad = ext(17, [0x3e, 9, 0, 0, 0, 0]);
        bad.extend_from_slice(&udp);
        let ev = events(&mut d, &ipv6(0, &bad));
        assert_eq!(ev, [DecodeEvent::Ipv6ExthdrInvalidOptlen]);
        // Header length beyond the packet.
        let ev = events(&mut d, &ipv6(60, &[17, 5, 1, 0, 0, 0, 0, 0]));
        assert_eq!(ev, [DecodeEvent::Ipv6TruncExthdr]);
        // Extension header with one byte left for the next one.
        let mut short = ext(60, [1, 4, 0, 0, 0, 0]);
        short.push(17);
        let ev = events(&mut d, &ipv6(60, &short));
        assert_eq!(
            ev,
            [
                DecodeEvent::Ipv6DstoptsOnlyPadding,
                DecodeEvent::Ipv6TruncExthdr
            ]
        );
        // ICMPv4 inside IPv6, unknown next header.
        assert_eq!(
            events(&mut d, &ipv6(1, &[8, 0, 0, 0])),
            [DecodeEvent::Ipv6Icmpv4]
        );
        assert_eq!(
            events(&mut d, &ipv6(253, &[0; 8])),
            [DecodeEvent::Ipv6UnknownNextHeader]
        );
        // Duplicate fragment header after a useless one.
        let mut dup = vec![44, 0, 0, 0, 0, 0, 0, 1, 17, 1, 0, 0, 0, 0, 0, 1];
        dup.extend_from_slice(&udp);
        let ev = events(&mut d, &ipv6(44, &dup));
        assert_eq!(
            ev,
            [
                DecodeEvent::Ipv6ExthdrUselessFh,
                DecodeEvent::Ipv6FhNonZeroReservedField,
                DecodeEvent::Ipv6ExthdrDuplFh
            ]
        );
    }

    #[test]
    fn every_truncation_of_an_ipv6_packet() {
        let mut hbh = vec![17, 0, 5, 2, 0, 0, 0, 0];
        hbh.extend_from_slice(&udp_segment_v6(b"hello"));
        let pkt = ipv6(0, &hbh);
        let mut d = Decoder::default();
        for n in 0..pkt.len() {
            let p = d.decode(&raw(LinkType::Ipv6, &pkt[..n]));
            let want = if n < 40 {
                DecodeEvent::Ipv6PktTooSmall
            } else {
                DecodeEvent::Ipv6TruncPkt
            };
            assert_eq!(p.events.iter().collect::<Vec<_>>(), [want], "len {n}");
        }
        // And every lie of the payload length about the extension header.
        for plen in 0..hbh.len() as u16 {
            let mut short = pkt.clone();
            short[4..6].copy_from_slice(&plen.to_be_bytes());
            let p = d.decode(&raw(LinkType::Ipv6, &short));
            assert!(p.is_invalid(), "plen {plen}: {:?}", p.events);
        }
    }
}
