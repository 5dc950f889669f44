//! Indicator matching in the sensor: where each kind of indicator is looked
//! up. Addresses once per flow (its first packet), names and fingerprints
//! when a transaction is inspected, with the same buffers rules see.

use watchfloor_detect::TxSource;
use watchfloor_indicators::{Indicator, IndicatorSet, Kind};
use watchfloor_rules::{Buffer, FlowDir};

/// Indicators a transaction's names, URL and fingerprints hit.
pub fn tx_hits<'s>(
    set: &'s IndicatorSet,
    app: &str,
    dir: FlowDir,
    tx: &dyn TxSource,
    out: &mut Vec<&'s Indicator>,
) {
    let domain = |b: &[u8], out: &mut Vec<&'s Indicator>| out.extend(set.match_domain(b));
    match (app, dir) {
        ("dns", FlowDir::ToServer) if set.has(Kind::Domain) || set.has(Kind::DomainSuffix) => {
            tx.each(Buffer::DnsQuery, dir, &mut |q| {
                domain(q, out);
                false
            });
        }
        ("tls", FlowDir::ToServer) => {
            tx.each(Buffer::TlsSni, dir, &mut |n| {
                domain(n, out);
                false
            });
            if set.has(Kind::Ja3) {
                tx.each(Buffer::Ja3Hash, dir, &mut |h| {
                    out.extend(set.match_ja3(h));
                    false
                });
            }
            if set.has(Kind::Ja4) {
                tx.each(Buffer::Ja4Hash, dir, &mut |h| {
                    out.extend(set.match_ja4(h));
                    false
                });
            }
        }
        ("tls", FlowDir::ToClient) if set.has(Kind::Ja3s) => {
            tx.each(Buffer::Ja3sHash, dir, &mut |h| {
                out.extend(set.match_ja3s(h));
                false
            });
        }
        ("http", FlowDir::ToServer) => {
            let mut host: Vec<u8> = Vec::new();
            tx.each(Buffer::HttpHost, dir, &mut |h| {
                host.extend_from_slice(h);
                true
            });
            if !host.is_empty() {
                domain(&host, out);
                if set.has(Kind::Url) {
                    tx.each(Buffer::HttpUriRaw, dir, &mut |u| {
                        out.extend(set.match_url(&host, u));
                        true
                    });
                }
            }
        }
        _ => {}
    }
}

/// The alert's signature id for an indicator kind: one per kind, so
/// analysts can tune or suppress a kind like any rule (gid 1).
pub fn sid(kind: Kind) -> u32 {
    match kind {
        Kind::Ip => 9_100_001,
        Kind::Domain | Kind::DomainSuffix => 9_100_002,
        Kind::Url => 9_100_003,
        Kind::Ja3 => 9_100_004,
        Kind::Ja3s => 9_100_005,
        Kind::Ja4 => 9_100_006,
        _ => 9_100_007,
    }
}
