//! Cheap flow-sharding hash for the capture thread, computed before (and
//! without) a full decode.

use watchfloor_capture::LinkType;

const ETH_LEN: usize = 14;

/// A hash of the unordered IP address pair of a frame: the same for both
/// directions of a flow and for every fragment of a datagram, so one worker
/// sees all of them. ICMP errors hash by the datagram they quote, which lands
/// them with the flow they are about. 0 when the frame carries no IP.
pub fn shard_hash(linktype: LinkType, data: &[u8]) -> u64 {
    match ip_start(linktype, data) {
        Some(off) => ip_pair_hash(data.get(off..).unwrap_or(&[]), true),
        None => 0,
    }
}

fn ip_start(linktype: LinkType, data: &[u8]) -> Option<usize> {
    let be16 =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*data.get(i)?, *data.get(i + 1)?])) };
    let (mut off, mut et) = match linktype {
        LinkType::Ethernet => (ETH_LEN, be16(12)?),
        LinkType::LinuxSll => (16, be16(14)?),
        LinkType::LinuxSll2 => (20, be16(0)?),
        LinkType::Null => return Some(4),
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => return Some(0),
        LinkType::Other(_) => return None,
    };
    for _ in 0..3 {
        if !matches!(et, 0x8100 | 0x88a8 | 0x9100) {
            break;
        }
        et = be16(off + 2)?;
        off += 4;
    }
    matches!(et, 0x0800 | 0x86dd).then_some(off)
}

fn ip_pair_hash(ip: &[u8], follow_icmp: bool) -> u64 {
    let Some(&first) = ip.first() else { return 0 };
    match first >> 4 {
        4 if ip.len() >= 20 => {
            let a = u32::from_be_bytes([ip[12], ip[13], ip[14], ip[15]]);
            let b = u32::from_be_bytes([ip[16], ip[17], ip[18], ip[19]]);
            let hlen = usize::from(first & 0x0f) * 4;
            let not_fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff == 0;
            if follow_icmp && ip[9] == 1 && not_fragment {
                if let Some(icmp) = ip.get(hlen..) {
                    if matches!(icmp.first(), Some(3 | 4 | 5 | 11 | 12)) {
                        if let Some(inner) = icmp.get(8..) {
                            let h = ip_pair_hash(inner, false);
                            if h != 0 {
                                return h;
                            }
                        }
                    }
                }
            }
            mix(u64::from(a.min(b)) << 32 | u64::from(a.max(b)))
        }
        6 if ip.len() >= 40 => {
            let fold = |s: &[u8]| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&s[0..8]);
                let hi = u64::from_le_bytes(w);
                w.copy_from_slice(&s[8..16]);
                hi ^ u64::from_le_bytes(w).rotate_left(29)
            };
            let (a, b) = (fold(&ip[8..24]), fold(&ip[24..40]));
            if follow_icmp && ip[6] == 58 {
                if let Some(&(1..=4)) = ip.get(40) {
                    if let Some(inner) = ip.get(48..) {
                        let h = ip_pair_hash(inner, false);
                        if h != 0 {
                            return h;
                        }
                    }
                }
            }
            mix(a.min(b) ^ mix(a.max(b)))
        }
        _ => 0,
    }
}

/// A 64-bit finaliser (splitmix64) so nearby addresses spread over shards.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn swap_v4(mut ip: Vec<u8>) -> Vec<u8> {
        let (s, d) = (ip[12..16].to_vec(), ip[16..20].to_vec());
        ip[12..16].copy_from_slice(&d);
        ip[16..20].copy_from_slice(&s);
        ip
    }

    #[test]
    fn symmetric_and_link_independent() {
        let ip = ipv4_tcp_syn();
        let h = shard_hash(LinkType::Raw, &ip);
        assert_ne!(h, 0);
        assert_eq!(shard_hash(LinkType::Raw, &swap_v4(ip.clone())), h);
        assert_eq!(shard_hash(LinkType::Ethernet, &eth(0x0800, &ip)), h);
        let q = eth_vlans(&[(0x88a8, 1), (0x8100, 2)], 0x0800, &ip);
        assert_eq!(shard_hash(LinkType::Ethernet, &q), h);
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(&ip);
        assert_eq!(shard_hash(LinkType::Null, &null), h);
        let other = ipv4_udp(b"x");
        assert_eq!(shard_hash(LinkType::Raw, &other), h, "same address pair");
    }

    #[test]
    fn ipv6_symmetric() {
        let ip = ipv6_udp();
        let mut rev = ip.clone();
        rev[8..24].copy_from_slice(&ip[24..40]);
        rev[24..40].copy_from_slice(&ip[8..24]);
        let h = shard_hash(LinkType::Raw, &ip);
        assert_ne!(h, 0);
        assert_eq!(shard_hash(LinkType::Raw, &rev), h);
    }

    #[test]
    fn fragments_and_icmp_errors_follow_the_flow() {
        let flow = shard_hash(LinkType::Raw, &ipv4_udp(b"x"));
        let frag = ipv4_frag(17, 1, 8, false, &[0; 8]);
        assert_eq!(shard_hash(LinkType::Raw, &frag), flow);
        let mut err = ipv4(1, &icmp_msg(3, 3, [0; 4], &ipv4_udp(b"x")[..28]));
        err[12..16].copy_from_slice(&[192, 0, 2, 1]);
        assert_eq!(shard_hash(LinkType::Raw, &err), flow);
    }

    #[test]
    fn non_ip_is_zero_and_never_panics() {
        assert_eq!(shard_hash(LinkType::Ethernet, &eth(0x0806, &[0; 28])), 0);
        assert_eq!(shard_hash(LinkType::Other(9), &ipv4_tcp_syn()), 0);
        let frame = eth_vlans(&[(0x8100, 1)], 0x0800, &ipv4_tcp_syn());
        for lt in [
            LinkType::Ethernet,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Null,
            LinkType::Raw,
        ] {
            for n in 0..frame.len() {
                let _ = shard_hash(lt, &frame[..n]);
            }
        }
    }
}
