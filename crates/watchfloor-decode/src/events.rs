//! Decoder events with Suricata's names (`decode-events.c`, 8.0 set).
//!
//! Only events our decoders can raise are listed; tunnel decoders (GRE,
//! MPLS, VXLAN, ...) are out of scope, so their events never occur.

macro_rules! decode_events {
    ($( $(#[$meta:meta])* $variant:ident => $name:literal, )*) => {
        /// Suricata decoder events (names as in Suricata's `decode-events.c`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum DecodeEvent {
            $( $(#[$meta])* $variant, )*
        }

        impl DecodeEvent {
            /// Every event, in declaration order (`ALL[e.index()] == e`).
            pub const ALL: &'static [DecodeEvent] = &[$(DecodeEvent::$variant,)*];
            /// Number of distinct events.
            pub const COUNT: usize = <[&str]>::len(&[$($name,)*]);

            /// The name Suricata logs in EVE `anomaly.event` and uses in stats.
            pub fn name(self) -> &'static str {
                match self {
                    $( DecodeEvent::$variant => $name, )*
                }
            }
        }
    };
}

decode_events! {
    Ipv4PktTooSmall => "decoder.ipv4.pkt_too_small",
    Ipv4HlenTooSmall => "decoder.ipv4.hlen_too_small",
    Ipv4IplenSmallerThanHlen => "decoder.ipv4.iplen_smaller_than_hlen",
    Ipv4TruncPkt => "decoder.ipv4.trunc_pkt",
    Ipv4OptInvalid => "decoder.ipv4.opt_invalid",
    Ipv4OptInvalidLen => "decoder.ipv4.opt_invalid_len",
    Ipv4OptMalformed => "decoder.ipv4.opt_malformed",
    Ipv4OptPadRequired => "decoder.ipv4.opt_pad_required",
    Ipv4OptEolRequired => "decoder.ipv4.opt_eol_required",
    Ipv4OptDuplicate => "decoder.ipv4.opt_duplicate",
    Ipv4OptUnknown => "decoder.ipv4.opt_unknown",
    Ipv4WrongIpVersion => "decoder.ipv4.wrong_ip_version",
    Ipv4Icmpv6 => "decoder.ipv4.icmpv6",

    Icmpv4PktTooSmall => "decoder.icmpv4.pkt_too_small",
    Icmpv4UnknownType => "decoder.icmpv4.unknown_type",
    Icmpv4UnknownCode => "decoder.icmpv4.unknown_code",
    Icmpv4Ipv4TruncPkt => "decoder.icmpv4.ipv4_trunc_pkt",
    Icmpv4Ipv4UnknownVer => "decoder.icmpv4.ipv4_unknown_ver",

    Icmpv6UnknownType => "decoder.icmpv6.unknown_type",
    Icmpv6UnknownCode => "decoder.icmpv6.unknown_code",
    Icmpv6PktTooSmall => "decoder.icmpv6.pkt_too_small",
    Icmpv6Ipv6UnknownVersion => "decoder.icmpv6.ipv6_unknown_version",
    Icmpv6Ipv6TruncPkt => "decoder.icmpv6.ipv6_trunc_pkt",
    Icmpv6MldMessageWithInvalidHl => "decoder.icmpv6.mld_message_with_invalid_hl",
    Icmpv6UnassignedType => "decoder.icmpv6.unassigned_type",
    Icmpv6ExperimentationType => "decoder.icmpv6.experimentation_type",

    Ipv6PktTooSmall => "decoder.ipv6.pkt_too_small",
    Ipv6TruncPkt => "decoder.ipv6.trunc_pkt",
    Ipv6TruncExthdr => "decoder.ipv6.trunc_exthdr",
    Ipv6ExthdrDuplFh => "decoder.ipv6.exthdr_dupl_fh",
    Ipv6ExthdrUselessFh => "decoder.ipv6.exthdr_useless_fh",
    Ipv6ExthdrDuplRh => "decoder.ipv6.exthdr_dupl_rh",
    Ipv6ExthdrDuplHh => "decoder.ipv6.exthdr_dupl_hh",
    Ipv6ExthdrDuplDh => "decoder.ipv6.exthdr_dupl_dh",
    Ipv6ExthdrDuplAh => "decoder.ipv6.exthdr_dupl_ah",
    Ipv6ExthdrDuplEh => "decoder.ipv6.exthdr_dupl_eh",
    Ipv6ExthdrInvalidOptlen => "decoder.ipv6.exthdr_invalid_optlen",
    Ipv6WrongIpVersion => "decoder.ipv6.wrong_ip_version",
    Ipv6ExthdrAhResNotNull => "decoder.ipv6.exthdr_ah_res_not_null",
    Ipv6HopoptsUnknownOpt => "decoder.ipv6.hopopts_unknown_opt",
    Ipv6HopoptsOnlyPadding => "decoder.ipv6.hopopts_only_padding",
    Ipv6DstoptsUnknownOpt => "decoder.ipv6.dstopts_unknown_opt",
    Ipv6DstoptsOnlyPadding => "decoder.ipv6.dstopts_only_padding",
    Ipv6RhType0 => "decoder.ipv6.rh_type_0",
    Ipv6ZeroLenPadn => "decoder.ipv6.zero_len_padn",
    Ipv6FhNonZeroReservedField => "decoder.ipv6.fh_non_zero_reserved_field",
    Ipv6DataAfterNoneHeader => "decoder.ipv6.data_after_none_header",
    Ipv6UnknownNextHeader => "decoder.ipv6.unknown_next_header",
    Ipv6Icmpv4 => "decoder.ipv6.icmpv4",

    TcpPktTooSmall => "decoder.tcp.pkt_too_small",
    TcpHlenTooSmall => "decoder.tcp.hlen_too_small",
    TcpInvalidOptlen => "decoder.tcp.invalid_optlen",
    TcpOptInvalidLen => "decoder.tcp.opt_invalid_len",
    TcpOptDuplicate => "decoder.tcp.opt_duplicate",

    UdpPktTooSmall => "decoder.udp.pkt_too_small",
    UdpHlenTooSmall => "decoder.udp.hlen_too_small",
    UdpHlenInvalid => "decoder.udp.hlen_invalid",
    UdpLenInvalid => "decoder.udp.len_invalid",

    SllPktTooSmall => "decoder.sll.pkt_too_small",
    Sll2PktTooSmall => "decoder.sll2.pkt_too_small",
    EthernetPktTooSmall => "decoder.ethernet.pkt_too_small",
    EthernetUnknownEthertype => "decoder.ethernet.unknown_ethertype",

    VlanHeaderTooSmall => "decoder.vlan.header_too_small",
    VlanUnknownType => "decoder.vlan.unknown_type",
    VlanTooManyLayers => "decoder.vlan.too_many_layers",

    ArpPktTooSmall => "decoder.arp.pkt_too_small",
    ArpUnsupportedHardware => "decoder.arp.unsupported_hardware",
    ArpUnsupportedProtocol => "decoder.arp.unsupported_protocol",
    ArpInvalidHardwareSize => "decoder.arp.invalid_hardware_size",
    ArpInvalidProtocolSize => "decoder.arp.invalid_protocol_size",
    ArpUnsupportedOpcode => "decoder.arp.unsupported_opcode",

    IprawInvalidIpVersion => "decoder.ipraw.invalid_ip_version",
    LtnullPktTooSmall => "decoder.ltnull.pkt_too_small",
    LtnullUnsupportedType => "decoder.ltnull.unsupported_type",

    EspPktTooSmall => "decoder.esp.pkt_too_small",

    Ipv4FragPktTooLarge => "decoder.ipv4.frag_pkt_too_large",
    Ipv6FragPktTooLarge => "decoder.ipv6.frag_pkt_too_large",
    Ipv4FragOverlap => "decoder.ipv4.frag_overlap",
    Ipv6FragOverlap => "decoder.ipv6.frag_overlap",
    Ipv6FragInvalidLength => "decoder.ipv6.frag_invalid_length",
    Ipv4FragIgnored => "decoder.ipv4.frag_ignored",
    Ipv6FragIgnored => "decoder.ipv6.frag_ignored",

    TooManyLayers => "decoder.too_many_layers",
}

impl DecodeEvent {
    /// Position in [`DecodeEvent::ALL`] (and in per-event counter arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The event with this Suricata name (`decoder.ipv4.trunc_pkt`).
    pub fn from_name(name: &str) -> Option<DecodeEvent> {
        DecodeEvent::ALL.iter().copied().find(|e| e.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn all_is_indexed_in_order() {
        assert_eq!(DecodeEvent::ALL.len(), DecodeEvent::COUNT);
        for (i, e) in DecodeEvent::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
        }
    }

    #[test]
    fn names_are_unique_and_suricata_shaped() {
        let mut seen = HashSet::new();
        for e in DecodeEvent::ALL {
            let n = e.name();
            assert!(n.starts_with("decoder."), "{n}");
            assert!(seen.insert(n), "duplicate {n}");
            assert_eq!(DecodeEvent::from_name(n), Some(*e));
        }
        assert_eq!(DecodeEvent::from_name("decoder.nope"), None);
    }
}
