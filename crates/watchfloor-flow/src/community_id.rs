//! Community ID v1 (https://github.com/corelight/community-id-spec):
//! `1:` + base64(sha1(seed BE16 · src addr · dst addr · proto · 0 · sport BE16 · dport BE16)),
//! with the endpoints ordered so that both directions give the same id.

use crate::key::has_ports;
use std::net::IpAddr;

/// ICMP types that have a reply type; for these the "ports" are
/// (type, counterpart) and the flow is two-way.
fn icmp_counterpart(proto: u8, t: u8) -> Option<u8> {
    let pairs: &[(u8, u8)] = match proto {
        1 => &[(8, 0), (13, 14), (15, 16), (10, 9), (17, 18)],
        58 => &[(128, 129), (133, 134), (135, 136), (130, 131), (144, 145)],
        _ => return None,
    };
    pairs.iter().find_map(|&(a, b)| {
        if t == a {
            Some(b)
        } else if t == b {
            Some(a)
        } else {
            None
        }
    })
}

fn ip_bytes(a: IpAddr, out: &mut Vec<u8>) {
    match a {
        IpAddr::V4(v) => out.extend_from_slice(&v.octets()),
        IpAddr::V6(v) => out.extend_from_slice(&v.octets()),
    }
}

fn ip_lt(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => x.octets() < y.octets(),
        (IpAddr::V6(x), IpAddr::V6(y)) => x.octets() < y.octets(),
        (IpAddr::V4(_), IpAddr::V6(_)) => true,
        (IpAddr::V6(_), IpAddr::V4(_)) => false,
    }
}

/// Community ID of a flow. For ICMP/ICMPv6 pass the type as `sport` and the
/// code as `dport`; for protocols without ports, any values (ignored).
pub fn community_id(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
) -> String {
    let icmp = proto == 1 || proto == 58;
    let (mut sp, mut dp, mut one_way) = (sport, dport, false);
    if icmp {
        // Types and codes are 8-bit; the low byte is the value.
        let t = (sport & 0xff) as u8;
        match icmp_counterpart(proto, t) {
            Some(c) => dp = u16::from(c),
            None => one_way = true,
        }
        sp = u16::from(t);
    }
    let ports = icmp || has_ports(proto);
    let (mut a, mut b) = (src, dst);
    let ordered = ip_lt(a, b) || (a == b && sp <= dp);
    if !one_way && !ordered {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut sp, &mut dp);
    }
    let mut buf = Vec::with_capacity(2 + 32 + 2 + 4);
    buf.extend_from_slice(&seed.to_be_bytes());
    ip_bytes(a, &mut buf);
    ip_bytes(b, &mut buf);
    buf.push(proto);
    buf.push(0);
    if ports {
        buf.extend_from_slice(&sp.to_be_bytes());
        buf.extend_from_slice(&dp.to_be_bytes());
    }
    let digest = sha1_smol::Sha1::from(&buf).digest().bytes();
    let mut out = String::with_capacity(30);
    out.push_str("1:");
    base64(&digest, &mut out);
    out
}

/// Standard base64 with padding.
fn base64(data: &[u8], out: &mut String) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let idx = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, &x) in idx.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(T[x as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            base64(i.as_bytes(), &mut s);
            assert_eq!(s, o);
        }
    }

    #[test]
    fn conformance_same_ip_seed_1() {
        // shared/conformance/cases/community-id-sameip
        let ip: IpAddr = "192.168.0.254".parse().unwrap();
        let id = community_id(1, ip, ip, 56162, 3306, 6);
        assert_eq!(id, "1:IJQHtzXv/tXud3FtXIufkDsfEd4=");
        assert_eq!(community_id(1, ip, ip, 3306, 56162, 6), id);
    }

    #[test]
    fn spec_baseline_vectors() {
        // Values from the spec's baseline data (seed 0).
        let a: IpAddr = "128.232.110.120".parse().unwrap();
        let b: IpAddr = "66.35.250.204".parse().unwrap();
        assert_eq!(
            community_id(0, a, b, 34855, 80, 6),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            community_id(0, b, a, 80, 34855, 6),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
    }

    #[test]
    fn icmp_echo_pairs_share_an_id() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            community_id(0, a, b, 8, 0, 1),
            community_id(0, b, a, 0, 0, 1)
        );
    }
}
