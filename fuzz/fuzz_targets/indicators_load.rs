#![no_main]
//! Arbitrary bytes through the indicator loader, then every lookup with
//! slices of the same bytes. Nothing may panic; the counts must add up;
//! every loaded domain, hash and fingerprint indicator matches its own value.

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv6Addr};
use watchfloor_indicators::{Builder, Kind};

fuzz_target!(|data: &[u8]| {
    let mut b = Builder::new();
    b.add_bytes(data, "fuzz.ioc");
    let (set, report) = b.build();
    let c = &report.counts;
    assert_eq!(
        c.lines,
        c.loaded + c.replaced + c.failed + c.expired + c.directives
    );
    assert_eq!(c.loaded, set.len());
    for e in report.errors.iter().chain(&report.warnings) {
        let _ = e.to_string();
    }
    for chunk in data.chunks(17) {
        let _ = set.match_domain(chunk).count();
        let _ = set.match_url(chunk, data).count();
        let _ = set.match_ja3(chunk).count();
        let _ = set.match_ja4(chunk).count();
        let _ = set.match_file_hash(chunk).count();
        let mut a = [0u8; 16];
        let n = chunk.len().min(16);
        a[..n].copy_from_slice(&chunk[..n]);
        let _ = set.match_ip(IpAddr::V6(Ipv6Addr::from(a))).count();
        let _ = set
            .match_ip(IpAddr::V4([a[0], a[1], a[2], a[3]].into()))
            .count();
    }
    for i in set.indicators() {
        let v = i.value.as_bytes();
        let own = match i.kind {
            Kind::Domain | Kind::DomainSuffix if !v.starts_with(b"*.") => {
                set.match_domain(v).any(|h| std::ptr::eq(h, i))
            }
            Kind::Ja3 => set.match_ja3(v).any(|h| std::ptr::eq(h, i)),
            Kind::Ja3s => set.match_ja3s(v).any(|h| std::ptr::eq(h, i)),
            Kind::Ja4 => set.match_ja4(v).any(|h| std::ptr::eq(h, i)),
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 => {
                set.match_file_hash(v).any(|h| std::ptr::eq(h, i))
            }
            _ => true,
        };
        assert!(own, "{i:?}");
    }
});
