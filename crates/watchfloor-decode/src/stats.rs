//! Decoder counters, named as in Suricata's stats (`decoder.*`, `defrag.*`).

use crate::events::DecodeEvent;
use crate::packet::Events;

macro_rules! counters {
    ($( $(#[$meta:meta])* $field:ident => $name:literal, )*) => {
        /// Counters one decoder keeps. Plain integers so a multi-threaded sensor
        /// can [`merge`](DecodeStats::merge) per-thread copies and export them
        /// however it likes.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct DecodeStats {
            $( $(#[$meta])* pub $field: u64, )*
            /// Largest frame seen (`decoder.max_pkt_size`).
            pub max_pkt_size: u64,
            /// Per-event counts, indexed by [`DecodeEvent::index`].
            pub event_counts: [u64; DecodeEvent::COUNT],
        }

        impl Default for DecodeStats {
            fn default() -> Self {
                DecodeStats {
                    $( $field: 0, )*
                    max_pkt_size: 0,
                    event_counts: [0; DecodeEvent::COUNT],
                }
            }
        }

        impl DecodeStats {
            /// Add another decoder's counters to these.
            pub fn merge(&mut self, other: &DecodeStats) {
                $( self.$field += other.$field; )*
                self.max_pkt_size = self.max_pkt_size.max(other.max_pkt_size);
                for (a, b) in self.event_counts.iter_mut().zip(other.event_counts.iter()) {
                    *a += *b;
                }
            }

            /// Every plain counter with its Suricata stats name (events excluded,
            /// see [`DecodeStats::events`]).
            pub fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
                [
                    $( ($name, self.$field), )*
                    ("decoder.max_pkt_size", self.max_pkt_size),
                    ("decoder.avg_pkt_size", self.avg_pkt_size()),
                ]
                .into_iter()
            }
        }
    };
}

counters! {
    /// Frames decoded.
    pkts => "decoder.pkts",
    /// Captured bytes of those frames.
    bytes => "decoder.bytes",
    /// Frames Suricata would mark invalid.
    invalid => "decoder.invalid",
    ethernet => "decoder.ethernet",
    arp => "decoder.arp",
    vlan => "decoder.vlan",
    vlan_qinq => "decoder.vlan_qinq",
    vlan_qinqinq => "decoder.vlan_qinqinq",
    sll => "decoder.sll",
    sll2 => "decoder.sll2",
    raw => "decoder.raw",
    null => "decoder.null",
    ipv4 => "decoder.ipv4",
    ipv6 => "decoder.ipv6",
    tcp => "decoder.tcp",
    udp => "decoder.udp",
    icmpv4 => "decoder.icmpv4",
    icmpv6 => "decoder.icmpv6",
    esp => "decoder.esp",
    too_many_layers => "decoder.too_many_layers",
    unknown_ethertype => "decoder.unknown_ethertype",
    /// Frames of a link type this decoder does not handle (Suricata refuses
    /// such inputs at start-up, so it has no counter of its own).
    unknown_linktype => "decoder.unknown_linktype",
    /// Ethertypes Suricata decodes (MPLS, PPPoE, ...) but Watchfloor does not.
    unsupported_ethertype => "decoder.unsupported_ethertype",
    tcp_syn => "tcp.syn",
    tcp_synack => "tcp.synack",
    tcp_rst => "tcp.rst",
    defrag_ipv4_fragments => "defrag.ipv4.fragments",
    defrag_ipv4_reassembled => "defrag.ipv4.reassembled",
    defrag_ipv4_timeouts => "defrag.ipv4.timeouts",
    defrag_ipv6_fragments => "defrag.ipv6.fragments",
    defrag_ipv6_reassembled => "defrag.ipv6.reassembled",
    defrag_ipv6_timeouts => "defrag.ipv6.timeouts",
    /// Fragments dropped because the memcap was reached.
    defrag_memcap_drops => "defrag.memcap_drops",
    defrag_max_frags_reached => "defrag.max_frags_reached",
}

impl DecodeStats {
    pub fn new() -> DecodeStats {
        DecodeStats::default()
    }

    /// `decoder.avg_pkt_size` as Suricata computes it (bytes / pkts).
    pub fn avg_pkt_size(&self) -> u64 {
        self.bytes.checked_div(self.pkts).unwrap_or(0)
    }

    /// How often `e` was raised.
    pub fn event(&self, e: DecodeEvent) -> u64 {
        self.event_counts[e.index()]
    }

    /// Every event with its count (zeros included, like Suricata's stats),
    /// keyed by the event name (`decoder.ipv4.trunc_pkt`).
    pub fn events(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DecodeEvent::ALL
            .iter()
            .map(|e| (e.name(), self.event_counts[e.index()]))
    }

    pub(crate) fn count_events(&mut self, events: &Events) {
        for e in events.iter() {
            self.event_counts[e.index()] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_and_keeps_max() {
        let mut a = DecodeStats::new();
        a.pkts = 2;
        a.bytes = 100;
        a.max_pkt_size = 60;
        a.event_counts[DecodeEvent::Ipv4TruncPkt.index()] = 1;
        let mut b = DecodeStats::new();
        b.pkts = 3;
        b.bytes = 50;
        b.max_pkt_size = 40;
        b.defrag_ipv6_timeouts = 7;
        b.event_counts[DecodeEvent::Ipv4TruncPkt.index()] = 2;
        a.merge(&b);
        assert_eq!(a.pkts, 5);
        assert_eq!(a.bytes, 150);
        assert_eq!(a.max_pkt_size, 60);
        assert_eq!(a.avg_pkt_size(), 30);
        assert_eq!(a.defrag_ipv6_timeouts, 7);
        assert_eq!(a.event(DecodeEvent::Ipv4TruncPkt), 3);
        let trunc: Vec<_> = a
            .events()
            .filter(|(n, _)| *n == "decoder.ipv4.trunc_pkt")
            .collect();
        assert_eq!(trunc, vec![("decoder.ipv4.trunc_pkt", 3)]);
        assert_eq!(a.events().count(), DecodeEvent::COUNT);
        assert!(a.counters().any(|(n, v)| n == "decoder.pkts" && v == 5));
    }

    #[test]
    fn avg_of_nothing_is_zero() {
        assert_eq!(DecodeStats::new().avg_pkt_size(), 0);
    }
}
