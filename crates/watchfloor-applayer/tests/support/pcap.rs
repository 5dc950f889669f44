//! What the app-layer conformance replays share: where the Suricata cases
//! are, and the packets of a capture as the sensor's own decoder sees them.
//! Integration tests use it as `mod support`; the unit-test replays inside
//! `src/` include it by path.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use watchfloor_capture::PacketSource;
use watchfloor_decode::{DecodeConfig, Decoder, L4};

/// `../shared/conformance/cases` beside the repository (or under
/// `$WATCHFLOOR_SHARED`); `None`, with a printed reason, when absent.
pub fn cases_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("WATCHFLOOR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("conformance/cases");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is not available", dir.display());
        None
    }
}

/// One frame of a capture. `proto` is 6 or 17 for TCP or UDP, 0 otherwise
/// (then the other fields are empty). Addresses are 16 bytes, IPv4 in the
/// first four.
// Each replay reads the fields it needs; not all read every one.
#[allow(dead_code)]
pub struct Pkt {
    /// 1-based frame number (Suricata's `pcap_cnt`).
    pub cnt: u64,
    pub proto: u8,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    /// TCP flags and sequence number (0 for UDP).
    pub flags: u8,
    pub seq: u32,
    pub payload: Vec<u8>,
}

fn addr(a: IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match a {
        IpAddr::V4(v) => out[..4].copy_from_slice(&v.octets()),
        IpAddr::V6(v) => out = v.octets(),
    }
    out
}

/// Every frame of `path`, decoded without checksum validation (the cases
/// run with `-k none` or carry offloaded checksums). Empty if unreadable.
pub fn packets(path: &Path) -> Vec<Pkt> {
    let Ok(mut src) = watchfloor_capture::open(path) else {
        return Vec::new();
    };
    let mut decoder = Decoder::new(DecodeConfig {
        checksum_validation: false,
        ..DecodeConfig::default()
    });
    let mut out = Vec::new();
    let mut cnt = 0u64;
    while let Ok(Some(raw)) = src.next_packet() {
        cnt += 1;
        let p = decoder.decode(&raw);
        let mut pkt = Pkt {
            cnt,
            proto: 0,
            src: [0; 16],
            dst: [0; 16],
            sport: 0,
            dport: 0,
            flags: 0,
            seq: 0,
            payload: Vec::new(),
        };
        if let Some(ip) = p.ip {
            match p.l4 {
                L4::Tcp(t) => {
                    (pkt.proto, pkt.flags, pkt.seq) = (6, t.flags, t.seq);
                    (pkt.sport, pkt.dport) = (t.sport, t.dport);
                }
                L4::Udp(u) => {
                    pkt.proto = 17;
                    (pkt.sport, pkt.dport) = (u.sport, u.dport);
                }
                _ => {}
            }
            if pkt.proto != 0 {
                (pkt.src, pkt.dst) = (addr(ip.src), addr(ip.dst));
                pkt.payload = p.payload.to_vec();
            }
        }
        out.push(pkt);
    }
    out
}
