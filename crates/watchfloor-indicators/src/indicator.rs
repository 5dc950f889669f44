//! What one indicator is: its type, the value as written, where it came
//! from and the attributes an alert reports.

use std::fmt;
use std::sync::Arc;

/// The type of an indicator, as written in the first field of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `ip`: an IPv4/IPv6 address or CIDR prefix.
    Ip,
    /// `domain`: an exact host name, or `*.example.com` for the strict
    /// subdomains of `example.com` (not `example.com` itself).
    Domain,
    /// `domain-suffix`: a host name and every name below it.
    DomainSuffix,
    /// `url`: an HTTP URL, matched normalised on host + path?query.
    Url,
    /// `ja3`: a TLS client JA3 hash (MD5 hex).
    Ja3,
    /// `ja3s`: a TLS server JA3S hash (MD5 hex).
    Ja3s,
    /// `ja4`: a TLS client JA4 fingerprint (`t13d1516h2_8daaf6152771_b186095e22b6`).
    Ja4,
    /// `md5`: a file MD5 (hex).
    Md5,
    /// `sha1`: a file SHA-1 (hex).
    Sha1,
    /// `sha256`: a file SHA-256 (hex).
    Sha256,
}

impl Kind {
    /// Every kind, in the order counts are reported.
    pub const ALL: [Kind; 10] = [
        Kind::Ip,
        Kind::Domain,
        Kind::DomainSuffix,
        Kind::Url,
        Kind::Ja3,
        Kind::Ja3s,
        Kind::Ja4,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
    ];

    /// The name used in indicator files and in EVE output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ip => "ip",
            Kind::Domain => "domain",
            Kind::DomainSuffix => "domain-suffix",
            Kind::Url => "url",
            Kind::Ja3 => "ja3",
            Kind::Ja3s => "ja3s",
            Kind::Ja4 => "ja4",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
        }
    }

    /// Parses a type name, case-insensitively.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which names a domain indicator matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainScope {
    /// `domain example.com`: exactly `example.com`.
    Exact,
    /// `domain *.example.com`: `a.example.com`, `a.b.example.com`, ... but
    /// not `example.com`.
    Subdomains,
    /// `domain-suffix example.com`: `example.com` and every name below it.
    Suffix,
}

/// Traffic Light Protocol 2.0 label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    /// `clear`, `green`, `amber`, `amber+strict`, `red`; case-insensitive,
    /// an optional `TLP:` prefix, and TLP 1.0's `white` as `clear`.
    pub fn parse(s: &str) -> Option<Tlp> {
        let s = s.trim();
        let s = if s.len() >= 4 && s[..4].eq_ignore_ascii_case("tlp:") {
            &s[4..]
        } else {
            s
        };
        let l = s.to_ascii_lowercase();
        Some(match l.as_str() {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return None,
        })
    }

    /// The TLP 2.0 label in lower case (`amber+strict`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The severity used when a line gives none (Suricata's scale: 1 is the
/// most severe, 4 the least).
pub const DEFAULT_SEVERITY: u8 = 2;

/// One indicator as loaded: what an alert needs to say which indicator
/// matched and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub kind: Kind,
    /// The value exactly as written in the file (`10.0.0.0/8`,
    /// `*.Example.com`, `HTTP://x/a%7e`).
    pub value: Box<str>,
    /// For domains: which names it matches. `None` for other kinds.
    pub scope: Option<DomainScope>,
    /// `source=`: the feed or organisation; defaults to the file's name.
    pub source: Arc<str>,
    /// `id=`: the indicator's identifier in its source (a STIX id later).
    pub id: Option<Box<str>>,
    /// `severity=1..4`, [`DEFAULT_SEVERITY`] when not given.
    pub severity: u8,
    /// `tlp=`: the sharing label, if any.
    pub tlp: Option<Tlp>,
    /// `desc=`: free text for the analyst.
    pub desc: Option<Box<str>>,
    /// `expires=`: Unix seconds (UTC) after which the indicator is stale.
    pub expires: Option<i64>,
    /// The file (origin name) and 1-based line the indicator was read from.
    pub file: Arc<str>,
    pub line: u32,
}

impl Indicator {
    /// True when `expires` is set and `unix_secs` is at or after it. The
    /// sensor passes packet time, so replays of old captures judge by the
    /// capture's clock.
    pub fn is_expired(&self, unix_secs: i64) -> bool {
        self.expires.is_some_and(|e| unix_secs >= e)
    }
}
