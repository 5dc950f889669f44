//! Packet builders for the unit tests.

use crate::checksum;
use std::net::IpAddr;
use watchfloor_capture::{LinkType, RawPacket};

pub const V4_SRC: [u8; 4] = [10, 0, 0, 1];
pub const V4_DST: [u8; 4] = [10, 0, 0, 2];

fn v6_addr(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = last;
    a
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

fn v6(last: u8) -> IpAddr {
    IpAddr::from(v6_addr(last))
}

/// A raw frame holding a (leaked) copy of `data`, so tests can decode
/// temporaries without binding each one.
pub fn raw(linktype: LinkType, data: &[u8]) -> RawPacket<'static> {
    rawt(linktype, data, 0)
}

pub fn rawt(linktype: LinkType, data: &[u8], ts_ns: i64) -> RawPacket<'static> {
    let data: &'static [u8] = Box::leak(data.to_vec().into_boxed_slice());
    RawPacket {
        ts_ns,
        linktype,
        data,
        orig_len: data.len() as u32,
        offset: 0,
        interface: 0,
    }
}

pub fn eth(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    eth_vlans(&[], ether_type, payload)
}

pub fn eth_vlans(tags: &[(u16, u16)], ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    for (tpid, id) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
    }
    // The TPIDs chain: each tag's type field is the next tag's TPID.
    let mut types: Vec<u16> = tags.iter().map(|t| t.0).collect();
    types.push(ether_type);
    let mut out = f[..12].to_vec();
    out.extend_from_slice(&types[0].to_be_bytes());
    for (i, (_, id)) in tags.iter().enumerate() {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&types[i + 1].to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

pub fn ipv4_with_options(opts: &[u8], proto: u8, payload: &[u8]) -> Vec<u8> {
    assert_eq!(opts.len() % 4, 0);
    let hlen = 20 + opts.len();
    let total = (hlen + payload.len()) as u16;
    let mut h = vec![0x40 | (hlen / 4) as u8, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34, 0x40, 0x00, 64, proto, 0, 0]);
    h.extend_from_slice(&V4_SRC);
    h.extend_from_slice(&V4_DST);
    h.extend_from_slice(opts);
    let c = checksum::compute(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

pub fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_with_options(&[], proto, payload)
}

pub fn ipv4_frag(proto: u8, id: u16, offset: u16, more: bool, data: &[u8]) -> Vec<u8> {
    let mut h = ipv4(proto, data);
    h[4..6].copy_from_slice(&id.to_be_bytes());
    let flags = (offset / 8) | if more { 0x2000 } else { 0 };
    h[6..8].copy_from_slice(&flags.to_be_bytes());
    h[10] = 0;
    h[11] = 0;
    let c = checksum::compute(&h[..20]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

pub fn ipv6(nh: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[nh, 64]);
    h.extend_from_slice(&v6_addr(1));
    h.extend_from_slice(&v6_addr(2));
    h.extend_from_slice(payload);
    h
}

fn tcp_raw(opts: &[u8], flags: u8, seq: u32, payload: &[u8], src: IpAddr, dst: IpAddr) -> Vec<u8> {
    assert_eq!(opts.len() % 4, 0);
    let mut s = Vec::new();
    s.extend_from_slice(&40000u16.to_be_bytes());
    s.extend_from_slice(&80u16.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&0u32.to_be_bytes());
    s.push((((20 + opts.len()) / 4) as u8) << 4);
    s.push(flags);
    s.extend_from_slice(&65535u16.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(opts);
    s.extend_from_slice(payload);
    let c = checksum::compute_l4(src, dst, 6, &s);
    s[16..18].copy_from_slice(&c.to_be_bytes());
    s
}

pub fn tcp_syn_segment() -> Vec<u8> {
    tcp_raw(&[], 0x02, 1000, &[], v4(V4_SRC), v4(V4_DST))
}

pub fn tcp_segment(opts: &[u8], payload: &[u8]) -> Vec<u8> {
    tcp_raw(opts, 0x18, 1, payload, v4(V4_SRC), v4(V4_DST))
}

pub fn tcp_segment_v6(payload: &[u8]) -> Vec<u8> {
    tcp_raw(&[], 0x18, 1, payload, v6(1), v6(2))
}

pub fn ipv4_tcp_syn() -> Vec<u8> {
    ipv4(6, &tcp_syn_segment())
}

fn udp_raw(payload: &[u8], src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&5353u16.to_be_bytes());
    s.extend_from_slice(&53u16.to_be_bytes());
    s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    let c = checksum::compute_l4(src, dst, 17, &s);
    s[6..8].copy_from_slice(&c.to_be_bytes());
    s
}

pub fn udp_segment_v4(payload: &[u8]) -> Vec<u8> {
    udp_raw(payload, v4(V4_SRC), v4(V4_DST))
}

pub fn udp_segment_v6(payload: &[u8]) -> Vec<u8> {
    udp_raw(payload, v6(1), v6(2))
}

pub fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
    ipv4(17, &udp_segment_v4(payload))
}

pub fn ipv6_udp() -> Vec<u8> {
    ipv6(17, &udp_segment_v6(b"hello"))
}

/// An ICMP message (ICMPv4 checksum filled in).
pub fn icmp_msg(icmp_type: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = vec![icmp_type, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let c = checksum::compute(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// Recompute the ICMPv6 checksum of an IPv6 packet with no extension headers.
pub fn fix_icmpv6_checksum(pkt: &mut [u8]) {
    if pkt.len() < 44 {
        return;
    }
    pkt[42] = 0;
    pkt[43] = 0;
    let c = checksum::compute_l4(v6(1), v6(2), 58, &pkt[40..]);
    pkt[42..44].copy_from_slice(&c.to_be_bytes());
}
