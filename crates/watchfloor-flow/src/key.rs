//! Flow keys: the same key for both directions of a conversation.
//!
//! Like Suricata, a flow is the 5-tuple plus the VLAN ids. ICMP is keyed on
//! the addresses alone (Suricata hashes ICMP without ports), so an echo
//! request and its reply share a flow. An ICMPv4 destination-unreachable
//! carrying the tuple of the packet it complains about is attached to that
//! packet's flow when one exists (see `FlowTable::process`); otherwise it is
//! an ordinary ICMP flow between the two addresses.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Direction of a packet relative to its flow: "toserver" is the direction
/// of the flow's first packet (after Suricata's SYN/ACK reversal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer = 0,
    ToClient = 1,
}

impl Direction {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// Compact, direction-independent flow key. The lower (address, port) pair
/// always comes first so both directions hash alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    lo: [u8; 16],
    hi: [u8; 16],
    lo_port: u16,
    hi_port: u16,
    vlan: [u16; 3],
    proto: u8,
    v6: bool,
}

impl Hash for FlowKey {
    // Six word writes instead of the derive's dozen small ones: this runs
    // for every packet.
    fn hash<H: Hasher>(&self, h: &mut H) {
        let w = |b: &[u8; 16], i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[i..i + 8]);
            u64::from_ne_bytes(x)
        };
        h.write_u64(w(&self.lo, 0));
        h.write_u64(w(&self.lo, 8));
        h.write_u64(w(&self.hi, 0));
        h.write_u64(w(&self.hi, 8));
        h.write_u64(
            u64::from(self.lo_port)
                | u64::from(self.hi_port) << 16
                | u64::from(self.proto) << 32
                | u64::from(self.v6) << 40,
        );
        h.write_u64(
            u64::from(self.vlan[0]) | u64::from(self.vlan[1]) << 16 | u64::from(self.vlan[2]) << 32,
        );
    }
}

pub(crate) fn addr_bytes(a: IpAddr) -> ([u8; 16], bool) {
    match a {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            (b, false)
        }
        IpAddr::V6(v6) => (v6.octets(), true),
    }
}

impl FlowKey {
    pub fn new(
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        proto: u8,
        vlan: [u16; 3],
    ) -> Self {
        let (s, v6) = addr_bytes(src);
        let (d, _) = addr_bytes(dst);
        let ((lo, lo_port), (hi, hi_port)) = if (s, sport) <= (d, dport) {
            ((s, sport), (d, dport))
        } else {
            ((d, dport), (s, sport))
        };
        FlowKey {
            lo,
            hi,
            lo_port,
            hi_port,
            vlan,
            proto,
            v6,
        }
    }

    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// A 32-bit hash that does not depend on process, run or thread count
    /// (FxHash has no random seed), used in the flow id.
    pub fn stable_hash(&self) -> u32 {
        let mut h = rustc_hash::FxHasher::default();
        self.hash(&mut h);
        let x = h.finish();
        (x ^ (x >> 32)) as u32
    }
}

/// Ports the flow key uses for a protocol: real ports for TCP, UDP and SCTP,
/// none for the rest.
pub(crate) fn has_ports(proto: u8) -> bool {
    matches!(proto, 6 | 17 | 132)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_a_key() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let k1 = FlowKey::new(a, b, 1234, 80, 6, [0; 3]);
        let k2 = FlowKey::new(b, a, 80, 1234, 6, [0; 3]);
        assert_eq!(k1, k2);
        assert_eq!(k1.stable_hash(), k2.stable_hash());
        assert_ne!(k1, FlowKey::new(a, b, 1234, 80, 6, [5, 0, 0]));
        assert_ne!(k1, FlowKey::new(a, b, 1234, 80, 17, [0; 3]));
    }

    #[test]
    fn same_address_is_ordered_by_port() {
        let a: IpAddr = "192.168.0.254".parse().unwrap();
        assert_eq!(
            FlowKey::new(a, a, 56162, 3306, 6, [0; 3]),
            FlowKey::new(a, a, 3306, 56162, 6, [0; 3])
        );
    }
}
