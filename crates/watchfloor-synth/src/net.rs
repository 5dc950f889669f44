//! Frame building: link header, VLAN tags, IPv4/IPv6, TCP/UDP/ICMP/ICMPv6, checksums.
//!
//! One reusable buffer per generator; building a frame never allocates once the buffer has
//! grown to the largest frame.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Link layer of the written capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// LINKTYPE_ETHERNET (1); the only link that carries VLAN tags.
    Ethernet,
    /// LINKTYPE_LINUX_SLL (113).
    Sll,
    /// LINKTYPE_LINUX_SLL2 (276).
    Sll2,
    /// LINKTYPE_RAW (101): bare IPv4/IPv6 packets.
    Raw,
}

impl Link {
    pub fn linktype(self) -> u32 {
        match self {
            Link::Ethernet => 1,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Raw => 101,
        }
    }
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// 802.1Q tagging of a flow (both directions carry the same tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tags {
    None,
    Single(u16),
    /// 802.1ad service tag outside an 802.1Q customer tag.
    QinQ {
        outer: u16,
        inner: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addrs {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

impl Addrs {
    pub fn swapped(self) -> Addrs {
        match self {
            Addrs::V4(s, d) => Addrs::V4(d, s),
            Addrs::V6(s, d) => Addrs::V6(d, s),
        }
    }

    pub fn src(self) -> IpAddr {
        match self {
            Addrs::V4(s, _) => IpAddr::V4(Ipv4Addr::from(s)),
            Addrs::V6(s, _) => IpAddr::V6(Ipv6Addr::from(s)),
        }
    }

    pub fn dst(self) -> IpAddr {
        self.swapped().src()
    }

    pub fn is_v6(self) -> bool {
        matches!(self, Addrs::V6(..))
    }
}

/// Everything about one direction of a flow that does not change from packet to packet.
#[derive(Debug, Clone, Copy)]
pub struct Path {
    pub addrs: Addrs,
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub ttl: u8,
    pub tags: Tags,
    pub flow_label: u32,
    /// Whether the capturing host sent it (the SLL packet type).
    pub outgoing: bool,
}

impl Path {
    pub fn reverse(&self, ttl: u8) -> Path {
        Path {
            addrs: self.addrs.swapped(),
            src_mac: self.dst_mac,
            dst_mac: self.src_mac,
            ttl,
            tags: self.tags,
            flow_label: self.flow_label,
            outgoing: !self.outgoing,
        }
    }
}

pub enum L4<'a> {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        win: u16,
        /// Already padded to a multiple of 4 bytes.
        opts: &'a [u8],
    },
    Udp {
        sport: u16,
        dport: u16,
    },
    /// ICMP echo on IPv4, ICMPv6 echo on IPv6 (the caller picks the matching type numbers).
    Echo {
        typ: u8,
        id: u16,
        seq: u16,
    },
}

/// Sum of the data as big-endian 32-bit words (zero padded); folding it gives the
/// one's-complement sum of 16-bit words, because 2^16 is 1 modulo 65535.
#[inline]
pub fn sum_words(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_be_bytes(w);
        acc += (v >> 32) + (v & 0xFFFF_FFFF);
    }
    let rest = chunks.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    let v = u64::from_be_bytes(w);
    acc + (v >> 32) + (v & 0xFFFF_FFFF)
}

/// Folds a word sum into the final (complemented) 16-bit Internet checksum.
#[inline]
pub fn finish_checksum(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

fn pseudo_sum(addrs: Addrs, proto: u8, len: usize) -> u64 {
    match addrs {
        Addrs::V4(s, d) => sum_words(&s) + sum_words(&d) + proto as u64 + len as u64,
        Addrs::V6(s, d) => sum_words(&s) + sum_words(&d) + proto as u64 + len as u64,
    }
}

pub struct FrameBuf {
    buf: Vec<u8>,
    link: Link,
}

impl FrameBuf {
    pub fn new(link: Link) -> FrameBuf {
        FrameBuf {
            buf: Vec::with_capacity(2048),
            link,
        }
    }

    fn link_header(&mut self, path: &Path, ethertype: u16) {
        let b = &mut self.buf;
        match self.link {
            Link::Ethernet => {
                b.extend_from_slice(&path.dst_mac);
                b.extend_from_slice(&path.src_mac);
                match path.tags {
                    Tags::None => {}
                    Tags::Single(vid) => {
                        b.extend_from_slice(&0x8100u16.to_be_bytes());
                        b.extend_from_slice(&(vid & 0x0FFF).to_be_bytes());
                    }
                    Tags::QinQ { outer, inner } => {
                        b.extend_from_slice(&0x88A8u16.to_be_bytes());
                        b.extend_from_slice(&(outer & 0x0FFF).to_be_bytes());
                        b.extend_from_slice(&0x8100u16.to_be_bytes());
                        b.extend_from_slice(&(inner & 0x0FFF).to_be_bytes());
                    }
                }
                b.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll => {
                let pkttype: u16 = if path.outgoing { 4 } else { 0 };
                b.extend_from_slice(&pkttype.to_be_bytes());
                b.extend_from_slice(&1u16.to_be_bytes());
                b.extend_from_slice(&6u16.to_be_bytes());
                b.extend_from_slice(&path.src_mac);
                b.extend_from_slice(&[0, 0]);
                b.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll2 => {
                b.extend_from_slice(&ethertype.to_be_bytes());
                b.extend_from_slice(&[0, 0]);
                b.extend_from_slice(&2u32.to_be_bytes());
                b.extend_from_slice(&1u16.to_be_bytes());
                b.push(if path.outgoing { 4 } else { 0 });
                b.push(6);
                b.extend_from_slice(&path.src_mac);
                b.extend_from_slice(&[0, 0]);
            }
            Link::Raw => {}
        }
    }

    /// Builds one frame and returns it; every checksum is filled in.
    pub fn build(&mut self, path: &Path, ip_id: u16, l4: &L4, payload: &[u8]) -> &[u8] {
        self.buf.clear();
        let v6 = path.addrs.is_v6();
        self.link_header(path, if v6 { 0x86DD } else { 0x0800 });
        let ip_start = self.buf.len();
        let proto = match l4 {
            L4::Tcp { .. } => PROTO_TCP,
            L4::Udp { .. } => PROTO_UDP,
            L4::Echo { .. } if v6 => PROTO_ICMPV6,
            L4::Echo { .. } => PROTO_ICMP,
        };
        let b = &mut self.buf;
        match path.addrs {
            Addrs::V4(s, d) => {
                // DF on TCP, as modern stacks do; lengths and checksum patched below.
                let frag: u16 = if proto == PROTO_TCP { 0x4000 } else { 0 };
                b.extend_from_slice(&[0x45, 0, 0, 0]);
                b.extend_from_slice(&ip_id.to_be_bytes());
                b.extend_from_slice(&frag.to_be_bytes());
                b.extend_from_slice(&[path.ttl, proto, 0, 0]);
                b.extend_from_slice(&s);
                b.extend_from_slice(&d);
            }
            Addrs::V6(s, d) => {
                let w = 0x6000_0000u32 | (path.flow_label & 0x000F_FFFF);
                b.extend_from_slice(&w.to_be_bytes());
                b.extend_from_slice(&[0, 0, proto, path.ttl]);
                b.extend_from_slice(&s);
                b.extend_from_slice(&d);
            }
        }
        let l4_start = b.len();
        let csum_at = match *l4 {
            L4::Tcp {
                sport,
                dport,
                seq,
                ack,
                flags,
                win,
                opts,
            } => {
                b.extend_from_slice(&sport.to_be_bytes());
                b.extend_from_slice(&dport.to_be_bytes());
                b.extend_from_slice(&seq.to_be_bytes());
                b.extend_from_slice(&ack.to_be_bytes());
                let words = (5 + opts.len() / 4) as u8;
                b.push(words << 4);
                b.push(flags);
                b.extend_from_slice(&win.to_be_bytes());
                b.extend_from_slice(&[0, 0, 0, 0]);
                b.extend_from_slice(opts);
                l4_start + 16
            }
            L4::Udp { sport, dport } => {
                let len = (8 + payload.len()) as u16;
                b.extend_from_slice(&sport.to_be_bytes());
                b.extend_from_slice(&dport.to_be_bytes());
                b.extend_from_slice(&len.to_be_bytes());
                b.extend_from_slice(&[0, 0]);
                l4_start + 6
            }
            L4::Echo { typ, id, seq } => {
                b.extend_from_slice(&[typ, 0, 0, 0]);
                b.extend_from_slice(&id.to_be_bytes());
                b.extend_from_slice(&seq.to_be_bytes());
                l4_start + 2
            }
        };
        b.extend_from_slice(payload);
        let l4_len = b.len() - l4_start;
        match path.addrs {
            Addrs::V4(..) => {
                let total = (b.len() - ip_start) as u16;
                b[ip_start + 2..ip_start + 4].copy_from_slice(&total.to_be_bytes());
                let c = finish_checksum(sum_words(&b[ip_start..ip_start + 20]));
                b[ip_start + 10..ip_start + 12].copy_from_slice(&c.to_be_bytes());
            }
            Addrs::V6(..) => {
                b[ip_start + 4..ip_start + 6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            }
        }
        let mut acc = sum_words(&b[l4_start..]);
        if proto != PROTO_ICMP {
            acc += pseudo_sum(path.addrs, proto, l4_len);
        }
        let mut c = finish_checksum(acc);
        if c == 0 && proto == PROTO_UDP {
            // Zero means "no checksum" for UDP; its one's-complement twin is sent instead.
            c = 0xFFFF;
        }
        b[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 section 3 example words.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(finish_checksum(sum_words(&data)), !0xddf2);
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let path = Path {
            addrs: Addrs::V4([10, 0, 10, 11], [8, 8, 8, 8]),
            src_mac: [2; 6],
            dst_mac: [4; 6],
            ttl: 128,
            tags: Tags::Single(10),
            flow_label: 0,
            outgoing: true,
        };
        let mut fb = FrameBuf::new(Link::Ethernet);
        let f = fb.build(
            &path,
            7,
            &L4::Udp {
                sport: 5000,
                dport: 53,
            },
            b"hello",
        );
        let ip = &f[18..38];
        assert_eq!(finish_checksum(sum_words(ip)), 0);
        assert_eq!(f.len(), 18 + 20 + 8 + 5);
    }
}
