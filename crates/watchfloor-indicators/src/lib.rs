//! Indicator (IOC) sets for the sensor: IP/CIDR, domain, URL, JA3/JA3S/JA4
//! and file-hash indicators, read from a simple text file (see the crate's
//! README.md for the format) and matched at line rate.
//!
//! Load with [`load_str`], [`load_files`] or a [`Builder`]; every bad line is
//! reported as `file:line: reason` in the [`LoadReport`] and nothing panics.
//! The [`IndicatorSet`] built is immutable, `Send + Sync`, meant to be shared
//! through an `Arc` by every worker thread, and replaced whole on reload.
//! Each `match_*` lookup returns [`Hits`], an iterator over the matching
//! [`Indicator`]s, most specific first, without allocating.

mod bytetable;
mod domain;
mod exact;
mod hits;
mod indicator;
mod ip;
mod load;
mod time;
mod url;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use hits::Hits;
pub use indicator::{DomainScope, Indicator, Kind, Tlp, DEFAULT_SEVERITY};
pub use load::{
    load_files, load_str, Attrs, Builder, FileError, LineError, LoadCounts, LoadReport,
};

use domain::DomainTable;
use exact::{ja4_key, HexTable, KeyTable, JA4_LEN};
use hits::NONE;
use ip::{PrefixIn, PrefixTable};
use load::Key;
use url::{url_key, EqSink, HashSink};

/// The loaded indicators and their matchers.
#[derive(Debug)]
pub struct IndicatorSet {
    inds: Vec<Indicator>,
    v4: PrefixTable<u32>,
    v6: PrefixTable<u128>,
    domains: DomainTable,
    urls: KeyTable,
    ja3: HexTable<16>,
    ja3s: HexTable<16>,
    ja4: HexTable<JA4_LEN>,
    md5: HexTable<16>,
    sha1: HexTable<20>,
    sha256: HexTable<32>,
}

impl Default for IndicatorSet {
    fn default() -> IndicatorSet {
        IndicatorSet::from_parts(Vec::new())
    }
}

/// Sizes of a built set, for logs and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetStats {
    pub indicators: usize,
    pub ipv4_prefixes: usize,
    pub ipv6_prefixes: usize,
    pub domain_names: usize,
    pub urls: usize,
    pub digests: usize,
    /// Approximate heap bytes of the matchers (not the indicators' text).
    pub matcher_bytes: usize,
    /// Approximate heap bytes of the indicators themselves.
    pub indicator_bytes: usize,
}

impl IndicatorSet {
    pub(crate) fn from_parts(slots: Vec<(Indicator, Key)>) -> IndicatorSet {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut doms = Vec::new();
        let mut urls = Vec::new();
        let (mut ja3, mut ja3s, mut md5) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ja4, mut sha1, mut sha256) = (Vec::new(), Vec::new(), Vec::new());
        let mut inds = Vec::with_capacity(slots.len());
        for (i, (ind, key)) in slots.into_iter().enumerate() {
            let n = i as u32;
            match key {
                Key::V4 { first, last } => v4.push(PrefixIn {
                    first: first as u128,
                    last: last as u128,
                    indicator: n,
                }),
                Key::V6 { first, last } => v6.push(PrefixIn {
                    first,
                    last,
                    indicator: n,
                }),
                Key::Domain(name, scope) => doms.push((name, scope, n)),
                Key::Url(k) => urls.push((k, n)),
                Key::D16(d) => match ind.kind {
                    Kind::Ja3 => ja3.push((d, n)),
                    Kind::Ja3s => ja3s.push((d, n)),
                    _ => md5.push((d, n)),
                },
                Key::D20(d) => sha1.push((d, n)),
                Key::D32(d) => sha256.push((d, n)),
                Key::Ja4(d) => ja4.push((d, n)),
            }
            inds.push(ind);
        }
        IndicatorSet {
            inds,
            v4: PrefixTable::build(v4, u32::MAX as u128),
            v6: PrefixTable::build(v6, u128::MAX),
            domains: DomainTable::build(&doms),
            urls: KeyTable::build(&urls),
            ja3: HexTable::build(&ja3),
            ja3s: HexTable::build(&ja3s),
            ja4: HexTable::build(&ja4),
            md5: HexTable::build(&md5),
            sha1: HexTable::build(&sha1),
            sha256: HexTable::build(&sha256),
        }
    }

    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.inds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inds.is_empty()
    }

    /// Every indicator, in load order.
    pub fn indicators(&self) -> &[Indicator] {
        &self.inds
    }

    fn flat<'a>(&'a self, ids: &'a [u32]) -> Hits<'a> {
        Hits::new(&self.inds, &[], ids, &[], NONE)
    }

    /// IP and CIDR indicators containing `ip`, longest prefix first. An
    /// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is looked up as IPv4.
    #[inline]
    pub fn match_ip(&self, ip: IpAddr) -> Hits<'_> {
        match ip {
            IpAddr::V4(a) => self.match_ipv4(a),
            IpAddr::V6(a) => self.match_ipv6(a),
        }
    }

    #[inline]
    pub fn match_ipv4(&self, ip: Ipv4Addr) -> Hits<'_> {
        let node = self.v4.lookup(u32::from(ip));
        Hits::new(&self.inds, &self.v4.ids, &[], &self.v4.nodes, node)
    }

    /// As [`IndicatorSet::match_ip`]; IPv4-mapped addresses go to IPv4.
    #[inline]
    pub fn match_ipv6(&self, ip: Ipv6Addr) -> Hits<'_> {
        if let Some(v4) = ip.to_ipv4_mapped() {
            return self.match_ipv4(v4);
        }
        let node = self.v6.lookup(u128::from(ip));
        Hits::new(&self.inds, &self.v6.ids, &[], &self.v6.nodes, node)
    }

    /// Domain indicators matching a host name (DNS query, TLS SNI, HTTP
    /// host): exact and `domain-suffix` entries for the name itself, then
    /// `*.` and `domain-suffix` entries of its parents, longest first.
    /// ASCII case is ignored, as is one trailing dot; other bytes (IDN
    /// punycode included) are compared as they are.
    #[inline]
    pub fn match_domain(&self, name: &[u8]) -> Hits<'_> {
        self.domains.lookup(&self.inds, name)
    }

    /// URL indicators matching an HTTP request: `host` is the `Host` header
    /// (port allowed), `uri` the request target (origin form `/p?q`, or
    /// absolute form `http://h/p`, whose host then wins). Both go through
    /// the normalisation described in the README.
    pub fn match_url(&self, host: &[u8], uri: &[u8]) -> Hits<'_> {
        if self.urls.len() == 0 || host.len() + uri.len() > 3 * self.urls.max_len + 16 {
            // A normalised key is at least a third of its input (only %XX
            // shrinks), so longer inputs cannot match.
            return Hits::empty();
        }
        // Hash the normalised key as it streams out; then compare the
        // candidate by normalising again: no buffer, no allocation.
        let mut hs = HashSink::new(self.urls.max_len);
        if url_key(host, uri, &mut hs).is_err() {
            return Hits::empty();
        }
        self.flat(self.urls.find(hs.h, |key| {
            let mut eq = EqSink::new(key);
            url_key(host, uri, &mut eq).is_ok() && eq.done()
        }))
    }

    /// JA3 (client) indicators for a JA3 hash in hex, either case.
    #[inline]
    pub fn match_ja3(&self, hex: &[u8]) -> Hits<'_> {
        self.flat(self.ja3.lookup_hex(hex))
    }

    /// JA3S (server) indicators for a JA3S hash in hex, either case.
    #[inline]
    pub fn match_ja3s(&self, hex: &[u8]) -> Hits<'_> {
        self.flat(self.ja3s.lookup_hex(hex))
    }

    /// JA4 indicators for a JA4 fingerprint, ASCII case ignored.
    #[inline]
    pub fn match_ja4(&self, ja4: &[u8]) -> Hits<'_> {
        if self.ja4.len() == 0 {
            return Hits::empty();
        }
        match ja4_key(ja4) {
            Some(k) => self.flat(self.ja4.lookup_bytes(&k)),
            None => Hits::empty(),
        }
    }

    #[inline]
    pub fn match_md5(&self, hex: &[u8]) -> Hits<'_> {
        self.flat(self.md5.lookup_hex(hex))
    }

    #[inline]
    pub fn match_sha1(&self, hex: &[u8]) -> Hits<'_> {
        self.flat(self.sha1.lookup_hex(hex))
    }

    #[inline]
    pub fn match_sha256(&self, hex: &[u8]) -> Hits<'_> {
        self.flat(self.sha256.lookup_hex(hex))
    }

    /// File-hash indicators for a hex digest of any supported length
    /// (32: MD5, 40: SHA-1, 64: SHA-256).
    pub fn match_file_hash(&self, hex: &[u8]) -> Hits<'_> {
        match hex.len() {
            32 => self.match_md5(hex),
            40 => self.match_sha1(hex),
            64 => self.match_sha256(hex),
            _ => Hits::empty(),
        }
    }

    /// As [`IndicatorSet::match_md5`] for a binary digest.
    #[inline]
    pub fn match_md5_bytes(&self, d: &[u8; 16]) -> Hits<'_> {
        self.flat(self.md5.lookup_bytes(d))
    }

    #[inline]
    pub fn match_sha1_bytes(&self, d: &[u8; 20]) -> Hits<'_> {
        self.flat(self.sha1.lookup_bytes(d))
    }

    #[inline]
    pub fn match_sha256_bytes(&self, d: &[u8; 32]) -> Hits<'_> {
        self.flat(self.sha256.lookup_bytes(d))
    }

    /// Whether any indicator of `kind` is loaded, so the sensor can skip
    /// whole classes of lookups.
    pub fn has(&self, kind: Kind) -> bool {
        match kind {
            Kind::Ip => self.v4.prefixes() + self.v6.prefixes() > 0,
            Kind::Domain | Kind::DomainSuffix => self.domains.len() > 0,
            Kind::Url => self.urls.len() > 0,
            Kind::Ja3 => self.ja3.len() > 0,
            Kind::Ja3s => self.ja3s.len() > 0,
            Kind::Ja4 => self.ja4.len() > 0,
            Kind::Md5 => self.md5.len() > 0,
            Kind::Sha1 => self.sha1.len() > 0,
            Kind::Sha256 => self.sha256.len() > 0,
        }
    }

    pub fn stats(&self) -> SetStats {
        let matcher_bytes = self.v4.heap_bytes()
            + self.v6.heap_bytes()
            + self.domains.heap_bytes()
            + self.urls.heap_bytes()
            + self.ja3.heap_bytes()
            + self.ja3s.heap_bytes()
            + self.ja4.heap_bytes()
            + self.md5.heap_bytes()
            + self.sha1.heap_bytes()
            + self.sha256.heap_bytes();
        let indicator_bytes = self.inds.capacity() * std::mem::size_of::<Indicator>()
            + self
                .inds
                .iter()
                .map(|i| {
                    i.value.len()
                        + i.id.as_ref().map_or(0, |s| s.len())
                        + i.desc.as_ref().map_or(0, |s| s.len())
                })
                .sum::<usize>();
        SetStats {
            indicators: self.inds.len(),
            ipv4_prefixes: self.v4.prefixes(),
            ipv6_prefixes: self.v6.prefixes(),
            domain_names: self.domains.len(),
            urls: self.urls.len(),
            digests: self.ja3.len()
                + self.ja3s.len()
                + self.ja4.len()
                + self.md5.len()
                + self.sha1.len()
                + self.sha256.len(),
            matcher_bytes,
            indicator_bytes,
        }
    }
}

#[cfg(test)]
mod tests;
