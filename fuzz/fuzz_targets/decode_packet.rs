//! Arbitrary bytes as a frame of every link type: decoding must never panic,
//! and the packet it returns must be internally consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfloor_capture::{LinkType, RawPacket};
use watchfloor_decode::{shard_hash, DecodeConfig, Decoder};

const LINK_TYPES: [LinkType; 8] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Raw,
    LinkType::Null,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Other(147),
];

fuzz_target!(|data: &[u8]| {
    for (i, lt) in LINK_TYPES.iter().enumerate() {
        let _ = shard_hash(*lt, data);
        let mut d = Decoder::new(DecodeConfig {
            checksum_validation: i % 2 == 0,
            ..DecodeConfig::default()
        });
        let raw = RawPacket {
            ts_ns: 0,
            linktype: *lt,
            data,
            orig_len: data.len() as u32,
            offset: 0,
            interface: 0,
        };
        let p = d.decode(&raw);
        assert!(p.vlan_count <= 3);
        assert!(p.payload.len() <= data.len() || p.fragment);
        if !p.events.is_empty() {
            for e in p.events.iter() {
                assert!(e.name().starts_with("decoder."));
            }
        }
        let invalid = p.is_invalid();
        let s = d.stats();
        assert_eq!(s.pkts, 1);
        assert_eq!(s.invalid, u64::from(invalid));
    }
});
