//! Decoder configuration (the parts of Suricata's `-k` and `defrag:` settings
//! that change what the decoder produces).

use std::fmt;
use std::str::FromStr;

/// Which fragment's bytes win where fragments overlap. Suricata's names and
/// semantics (`defrag.c`); it defaults to `bsd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverlapPolicy {
    /// The earliest fragment to arrive wins.
    First,
    /// The latest fragment to arrive wins.
    Last,
    /// The fragment with the lower offset wins; on equal offsets the earlier one.
    #[default]
    Bsd,
    /// The fragment with the lower offset wins; on equal offsets the later one.
    Linux,
    /// The earlier fragment wins unless the later one covers it entirely,
    /// starting before and ending after it.
    Windows,
    /// The earlier fragment wins unless the later one starts before it and
    /// ends at or after its end.
    Solaris,
}

impl OverlapPolicy {
    pub fn name(self) -> &'static str {
        match self {
            OverlapPolicy::First => "first",
            OverlapPolicy::Last => "last",
            OverlapPolicy::Bsd => "bsd",
            OverlapPolicy::Linux => "linux",
            OverlapPolicy::Windows => "windows",
            OverlapPolicy::Solaris => "solaris",
        }
    }
}

impl fmt::Display for OverlapPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A policy name that is not one of Suricata's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown defrag overlap policy {0:?} (expected first, last, bsd, linux, windows or solaris)"
)]
pub struct UnknownPolicy(pub String);

impl FromStr for OverlapPolicy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "first" => OverlapPolicy::First,
            "last" => OverlapPolicy::Last,
            "bsd" => OverlapPolicy::Bsd,
            "linux" => OverlapPolicy::Linux,
            "windows" => OverlapPolicy::Windows,
            "solaris" => OverlapPolicy::Solaris,
            _ => return Err(UnknownPolicy(s.to_string())),
        })
    }
}

/// IP fragment reassembly limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefragConfig {
    /// A fragment train with no new fragment for this long is dropped
    /// (Suricata's `defrag.timeout`, 60 s).
    pub timeout_ns: i64,
    /// Bytes all pending fragments may hold together (Suricata's
    /// `defrag.memcap`, 32 MiB); fragments beyond it are ignored.
    pub memcap_bytes: usize,
    /// Fragments one datagram may have. 8192 lets a 64 KiB datagram arrive
    /// in minimum-size (8-byte) fragments and no further.
    pub max_frags: usize,
    pub overlap_policy: OverlapPolicy,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            timeout_ns: 60_000_000_000,
            memcap_bytes: 32 * 1024 * 1024,
            max_frags: 8192,
            overlap_policy: OverlapPolicy::Bsd,
        }
    }
}

/// Decoder configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeConfig {
    /// Verify IP/TCP/UDP/ICMP checksums (Suricata `-k all`); when false
    /// (`-k none`) every `checksum_ok` is `None`.
    pub checksum_validation: bool,
    pub defrag: DefragConfig,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            checksum_validation: true,
            defrag: DefragConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip() {
        for p in [
            OverlapPolicy::First,
            OverlapPolicy::Last,
            OverlapPolicy::Bsd,
            OverlapPolicy::Linux,
            OverlapPolicy::Windows,
            OverlapPolicy::Solaris,
        ] {
            assert_eq!(p.name().parse::<OverlapPolicy>(), Ok(p));
        }
        assert!("nope".parse::<OverlapPolicy>().is_err());
        assert_eq!(OverlapPolicy::default(), OverlapPolicy::Bsd);
    }
}
