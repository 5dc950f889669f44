//! Flow settings with Suricata's defaults (`flow:` and `flow-timeouts:` in
//! the stock suricata.yaml).

use crate::flow::FlowState;
use thiserror::Error;

const SEC: i64 = 1_000_000_000;

/// Timeouts of one protocol, in seconds, normal and in emergency mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub new: u32,
    pub established: u32,
    pub closed: u32,
    pub bypassed: u32,
    pub emergency_new: u32,
    pub emergency_established: u32,
    pub emergency_closed: u32,
    pub emergency_bypassed: u32,
}

impl Timeouts {
    pub const DEFAULT: Timeouts = Timeouts {
        new: 30,
        established: 300,
        closed: 0,
        bypassed: 100,
        emergency_new: 10,
        emergency_established: 100,
        emergency_closed: 0,
        emergency_bypassed: 50,
    };
    pub const TCP: Timeouts = Timeouts {
        new: 60,
        established: 600,
        closed: 60,
        bypassed: 100,
        emergency_new: 5,
        emergency_established: 100,
        emergency_closed: 10,
        emergency_bypassed: 50,
    };
    pub const UDP: Timeouts = Timeouts {
        new: 30,
        established: 300,
        closed: 0,
        bypassed: 100,
        emergency_new: 10,
        emergency_established: 100,
        emergency_closed: 0,
        emergency_bypassed: 50,
    };
    pub const ICMP: Timeouts = Timeouts::UDP;

    /// Timeout in nanoseconds for a flow in `state`.
    pub fn for_state(&self, state: FlowState, emergency: bool) -> i64 {
        let s = match (state, emergency) {
            (FlowState::New, false) => self.new,
            (FlowState::Established, false) => self.established,
            (FlowState::Closed, false) => self.closed,
            (FlowState::Bypassed, false) => self.bypassed,
            (FlowState::New, true) => self.emergency_new,
            (FlowState::Established, true) => self.emergency_established,
            (FlowState::Closed, true) => self.emergency_closed,
            (FlowState::Bypassed, true) => self.emergency_bypassed,
        };
        i64::from(s) * SEC
    }
}

/// The flow table's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowConfig {
    /// `flow.memcap`: bytes of flow state before emergency mode. The stock
    /// suricata.yaml sets 128 MiB; Watchfloor's flows are smaller than
    /// Suricata's, so the same number holds more of them.
    pub memcap: u64,
    /// `flow.hash-size`: initial capacity of the table.
    pub hash_size: usize,
    /// `flow.emergency-recovery`: emergency mode ends once memory use is this
    /// many percent below the memcap.
    pub emergency_recovery: u8,
    pub default_timeouts: Timeouts,
    pub tcp: Timeouts,
    pub udp: Timeouts,
    pub icmp: Timeouts,
    /// How often (in packet time) the table looks for timed-out flows, like
    /// Suricata's flow manager wake-ups.
    pub manager_interval_ns: i64,
    /// Record the MAC addresses each flow saw (for EVE `ether`).
    pub track_macs: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            memcap: 128 << 20,
            hash_size: 65_536,
            emergency_recovery: 30,
            default_timeouts: Timeouts::DEFAULT,
            tcp: Timeouts::TCP,
            udp: Timeouts::UDP,
            icmp: Timeouts::ICMP,
            manager_interval_ns: SEC,
            track_macs: true,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FlowConfigError {
    #[error("flow.emergency-recovery must be 1..=100, got {0}")]
    EmergencyRecovery(u8),
    #[error("flow.memcap must be larger than zero")]
    ZeroMemcap,
    #[error("the flow manager interval must be larger than zero")]
    ZeroInterval,
}

impl FlowConfig {
    pub fn validate(&self) -> Result<(), FlowConfigError> {
        if self.emergency_recovery == 0 || self.emergency_recovery > 100 {
            return Err(FlowConfigError::EmergencyRecovery(self.emergency_recovery));
        }
        if self.memcap == 0 {
            return Err(FlowConfigError::ZeroMemcap);
        }
        if self.manager_interval_ns <= 0 {
            return Err(FlowConfigError::ZeroInterval);
        }
        Ok(())
    }

    pub fn timeouts(&self, proto: u8) -> &Timeouts {
        match proto {
            6 => &self.tcp,
            17 => &self.udp,
            1 | 58 => &self.icmp,
            _ => &self.default_timeouts,
        }
    }
}
