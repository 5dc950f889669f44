//! A train of IPv4 or IPv6 fragments built from the fuzz input, fed through
//! one decoder: reassembly, overlap policies, timeouts and the memcap must
//! never panic, and memory accounting must return to zero.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfloor_capture::{LinkType, RawPacket};
use watchfloor_decode::{DecodeConfig, Decoder, DefragConfig, OverlapPolicy};

const POLICIES: [OverlapPolicy; 6] = [
    OverlapPolicy::First,
    OverlapPolicy::Last,
    OverlapPolicy::Bsd,
    OverlapPolicy::Linux,
    OverlapPolicy::Windows,
    OverlapPolicy::Solaris,
];

fn ipv4_fragment(id: u16, off8: u16, more: bool, data: &[u8]) -> Vec<u8> {
    let total = (20 + data.len()) as u16;
    let flags = (off8 & 0x1fff) | if more { 0x2000 } else { 0 };
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&flags.to_be_bytes());
    p.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend_from_slice(data);
    p
}

fn ipv6_fragment(id: u16, off8: u16, more: bool, data: &[u8]) -> Vec<u8> {
    let plen = (8 + data.len()) as u16;
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&plen.to_be_bytes());
    p.extend_from_slice(&[44, 64]);
    p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(&[17, 0]);
    p.extend_from_slice(&(((off8 & 0x1fff) << 3) | u16::from(more)).to_be_bytes());
    p.extend_from_slice(&u32::from(id).to_be_bytes());
    p.extend_from_slice(data);
    p
}

fuzz_target!(|input: &[u8]| {
    let Some((&cfg, mut rest)) = input.split_first() else {
        return;
    };
    let mut d = Decoder::new(DecodeConfig {
        checksum_validation: cfg & 0x80 != 0,
        defrag: DefragConfig {
            overlap_policy: POLICIES[usize::from(cfg & 7) % POLICIES.len()],
            memcap_bytes: if cfg & 0x08 != 0 { 4096 } else { 1 << 20 },
            max_frags: if cfg & 0x10 != 0 { 4 } else { 64 },
            timeout_ns: 1_000,
        },
    });
    let v6 = cfg & 0x20 != 0;
    let mut ts = 0i64;
    // Each fragment: id (1 byte, few trains), offset in 8-byte units
    // (2 bytes), flags/length byte, then that many data bytes.
    while rest.len() >= 4 {
        let id = u16::from(rest[0] & 3);
        let off8 = u16::from_be_bytes([rest[1], rest[2]]);
        let more = rest[3] & 0x80 != 0;
        ts += i64::from(rest[3] & 0x40) * 10;
        let len = usize::from(rest[3] & 0x3f).min(rest.len() - 4);
        let data = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let pkt = if v6 {
            ipv6_fragment(id, off8, more, data)
        } else {
            ipv4_fragment(id, off8, more, data)
        };
        let raw = RawPacket {
            ts_ns: ts,
            linktype: LinkType::Raw,
            data: &pkt,
            orig_len: pkt.len() as u32,
            offset: 0,
            interface: 0,
        };
        let p = d.decode(&raw);
        if let Some(ip) = p.ip {
            if ip.reassembled {
                assert!(p.fragment);
            }
        }
    }
    d.expire(i64::MAX);
    assert_eq!(d.pending_fragment_trains(), 0);
    assert_eq!(d.defrag_memuse(), 0);
});
