//! A built-in, deterministic synthesiser of an election office's network traffic, written
//! as pcap or pcapng.
//!
//! The same [`SynthConfig`] always gives byte-identical output. Packets are produced in
//! time order by a priority queue of active flows, so memory stays bounded however large
//! the output. The returned [`Summary`] says what is in the file, down to per-flow ground
//! truth that tests can compare a sensor's flow records against.
//!
//! ```no_run
//! use watchfloor_synth::{generate, SynthConfig, Target};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = SynthConfig { target: Target::Bytes(8 << 20), ..Default::default() };
//! let summary = generate(&cfg, std::fs::File::create("office.pcap")?)?;
//! println!("{}", summary.to_json());
//! # Ok(())
//! # }
//! ```

mod apps;
mod attacks;
mod dns;
mod http;
mod net;
mod office;
mod rng;
mod schedule;
mod summary;
mod tcp;
mod tls;
mod writer;
mod x509;

pub use attacks::{AttackKind, AttackKinds};
pub use net::Link;
pub use summary::{AppProto, FlowTruth, ProtoStats, Summary};
pub use writer::Format;

/// 2024-11-05T06:00:00Z, election day morning.
pub const DEFAULT_START_NS: i64 = 1_730_786_400_000_000_000;

/// When to stop opening new flows (flows already open always finish).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// About this many bytes of capture file.
    Bytes(u64),
    /// Exactly this many flows (unless the duration runs out first).
    Flows(u64),
}

#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub seed: u64,
    /// First packet time, nanoseconds since the Unix epoch (rounded to microseconds).
    pub start_ns: i64,
    /// The span flows are spread over; with [`Target::Bytes`] the arrival rate adapts so
    /// that the target is reached near the end of it.
    pub duration_ns: i64,
    pub target: Target,
    /// Number of office networks (10.o.x.x / 192.168.o.x); 1..=250.
    pub offices: u8,
    pub format: Format,
    pub link: Link,
    /// Share of flows on an 802.1Q VLAN (Ethernet only).
    pub vlan_ratio: f64,
    /// Share of the VLAN flows that are QinQ (802.1ad outer tag).
    pub qinq_ratio: f64,
    /// Share of benign flows over IPv6.
    pub ipv6_ratio: f64,
    /// Probability that a TCP data segment is lost and retransmitted after the RTO.
    pub retransmit_ratio: f64,
    /// Probability that a TCP data segment is swapped with the one after it.
    pub out_of_order_ratio: f64,
    pub attacks: bool,
    pub attack_kinds: AttackKinds,
    /// Keep the per-flow ground truth in [`Summary::truth`].
    pub ground_truth: bool,
    pub snaplen: u32,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            start_ns: DEFAULT_START_NS,
            duration_ns: 3_600_000_000_000,
            target: Target::Bytes(32 << 20),
            offices: 1,
            format: Format::Pcap,
            link: Link::Ethernet,
            vlan_ratio: 0.05,
            qinq_ratio: 0.1,
            ipv6_ratio: 0.11,
            retransmit_ratio: 0.005,
            out_of_order_ratio: 0.001,
            attacks: true,
            attack_kinds: AttackKinds::all(),
            ground_truth: true,
            snaplen: 65_535,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("writing the capture: {0}")]
    Io(#[from] std::io::Error),
}

impl SynthConfig {
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |m: &str| Err(SynthError::Config(m.to_string()));
        if self.offices == 0 || self.offices > 250 {
            return bad("offices must be 1..=250");
        }
        if self.start_ns < 0 {
            return bad("start_ns must not be before 1970");
        }
        if self.duration_ns <= 0 {
            return bad("duration_ns must be positive");
        }
        if self
            .start_ns
            .checked_add(self.duration_ns.saturating_mul(2))
            .is_none()
            || self.start_ns / 1_000_000_000 + self.duration_ns / 500_000_000 > u32::MAX as i64
        {
            return bad("start_ns + duration_ns does not fit a pcap timestamp");
        }
        for (name, v) in [
            ("vlan_ratio", self.vlan_ratio),
            ("qinq_ratio", self.qinq_ratio),
            ("ipv6_ratio", self.ipv6_ratio),
            ("retransmit_ratio", self.retransmit_ratio),
            ("out_of_order_ratio", self.out_of_order_ratio),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(SynthError::Config(format!("{name} must be within 0..=1")));
            }
        }
        match self.target {
            Target::Bytes(0) | Target::Flows(0) => bad("target must be positive"),
            _ if self.snaplen < 64 => bad("snaplen must be at least 64"),
            _ => Ok(()),
        }
    }
}

/// Writes a capture to `out` and says what is in it.
pub fn generate<W: std::io::Write>(cfg: &SynthConfig, out: W) -> Result<Summary, SynthError> {
    cfg.validate()?;
    schedule::Generator::new(cfg, out)?.run()
}

/// Parses sizes like `64M`, `1G`, `512k` or `1000` (binary multiples).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests;
