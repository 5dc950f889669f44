//! The address plan of an election office, and the outside world it talks to.
//!
//! Office `o` (0-based) has workstations 10.o.10.11-50 (Windows), poll books 10.o.20.21-36
//! (Linux), servers on 10.o.30.x, and a DMZ on 192.168.o.x; on IPv6 the same hosts live in
//! 2001:db8:o::/48. All of it is inside a usual HOME_NET (10/8, 192.168/16, 2001:db8::/32).

use crate::rng::{hash64, Rng};

pub const WORKSTATIONS: u8 = 40;
pub const POLLBOOKS: u8 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Workstation(u8),
    PollBook(u8),
    DnsServer,
    FileServer,
    BackupServer,
    VrApp,
    NtpServer,
    /// DMZ: the public election-results site.
    ResultsSite,
    /// DMZ: the public voter-registration portal.
    Portal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    pub office: u8,
    pub role: Role,
}

impl Host {
    pub fn new(office: u8, role: Role) -> Host {
        Host { office, role }
    }

    /// (segment, host) numbers shared by the IPv4 and IPv6 plans.
    fn seg_host(&self) -> (u8, u8) {
        match self.role {
            Role::Workstation(n) => (10, 11 + n % WORKSTATIONS),
            Role::PollBook(n) => (20, 21 + n % POLLBOOKS),
            Role::DnsServer => (30, 53),
            Role::FileServer => (30, 10),
            Role::BackupServer => (30, 20),
            Role::VrApp => (30, 80),
            Role::NtpServer => (30, 123),
            Role::ResultsSite => (100, 10),
            Role::Portal => (100, 20),
        }
    }

    pub fn is_dmz(&self) -> bool {
        matches!(self.role, Role::ResultsSite | Role::Portal)
    }

    pub fn v4(&self) -> [u8; 4] {
        let (seg, host) = self.seg_host();
        if self.is_dmz() {
            [192, 168, self.office, host]
        } else {
            [10, self.office, seg, host]
        }
    }

    pub fn v6(&self) -> [u8; 16] {
        let (seg, host) = self.seg_host();
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        a[5] = self.office;
        a[7] = seg;
        a[15] = host;
        a
    }

    pub fn mac(&self) -> [u8; 6] {
        let (seg, host) = self.seg_host();
        [0x02, 0x57, 0x46, self.office, seg, host]
    }

    /// The router's MAC on this host's segment: the other end of every routed frame.
    pub fn gateway_mac(&self) -> [u8; 6] {
        let (seg, _) = self.seg_host();
        [0x02, 0x57, 0x46, self.office, seg, 0x01]
    }

    pub fn same_segment(&self, other: &Host) -> bool {
        self.office == other.office && self.seg_host().0 == other.seg_host().0
    }

    pub fn windows(&self) -> bool {
        matches!(
            self.role,
            Role::Workstation(_) | Role::DnsServer | Role::FileServer
        )
    }

    pub fn ttl(&self) -> u8 {
        if self.windows() {
            128
        } else {
            64
        }
    }

    pub fn vlan(&self) -> u16 {
        self.seg_host().0 as u16 + 100 * (self.office as u16 % 40)
    }

    /// Index into the per-host ephemeral port counters.
    pub fn slot(&self) -> usize {
        let k = match self.role {
            Role::Workstation(n) => n % WORKSTATIONS,
            Role::PollBook(n) => WORKSTATIONS + n % POLLBOOKS,
            Role::DnsServer => 56,
            Role::FileServer => 57,
            Role::BackupServer => 58,
            Role::VrApp => 59,
            Role::NtpServer => 60,
            Role::ResultsSite => 61,
            Role::Portal => 62,
        };
        self.office as usize * 64 + k as usize
    }

    pub fn random_workstation(office: u8, rng: &mut Rng) -> Host {
        Host::new(
            office,
            Role::Workstation(rng.below(WORKSTATIONS as u64) as u8),
        )
    }

    pub fn random_client(office: u8, rng: &mut Rng) -> Host {
        if rng.chance(0.75) {
            Host::random_workstation(office, rng)
        } else {
            Host::new(office, Role::PollBook(rng.below(POLLBOOKS as u64) as u8))
        }
    }
}

/// Hands out ephemeral ports per host, sequentially as real stacks do, so a 5-tuple is not
/// reused until a host has gone through its whole range.
pub struct PortAlloc {
    next: Vec<u16>,
}

impl PortAlloc {
    pub fn new(offices: u8, rng: &mut Rng) -> PortAlloc {
        let n = offices as usize * 64;
        PortAlloc {
            next: (0..n).map(|_| rng.next_u32() as u16).collect(),
        }
    }

    pub fn take(&mut self, host: &Host) -> u16 {
        // Windows uses 49152-65535; Linux 32768-60999.
        let (lo, span) = if host.windows() {
            (49152u32, 16384u32)
        } else {
            (32768, 28232)
        };
        let Some(c) = self.next.get_mut(host.slot()) else {
            return lo as u16;
        };
        *c = c.wrapping_add(1);
        (lo + *c as u32 % span) as u16
    }
}

const V4_PREFIXES: &[[u8; 2]] = &[
    [13, 107],
    [20, 190],
    [23, 215],
    [34, 117],
    [35, 186],
    [40, 126],
    [52, 84],
    [104, 16],
    [142, 250],
    [151, 101],
    [172, 217],
    [199, 232],
    [204, 79],
];

const V6_PREFIXES: &[[u8; 4]] = &[
    [0x26, 0x00, 0x1f, 0x18],
    [0x26, 0x06, 0x47, 0x00],
    [0x2a, 0x00, 0x14, 0x50],
    [0x26, 0x20, 0x01, 0xec],
    [0x26, 0x03, 0x10, 0x30],
];

/// A stable public-looking IPv4 address for a server name.
pub fn external_v4(name: &str) -> [u8; 4] {
    let h = hash64(name.as_bytes());
    let p = V4_PREFIXES[(h % V4_PREFIXES.len() as u64) as usize];
    [p[0], p[1], (h >> 16) as u8, 1 + ((h >> 24) as u8 % 253)]
}

pub fn external_v6(name: &str) -> [u8; 16] {
    let h = hash64(name.as_bytes());
    let p = V6_PREFIXES[(h % V6_PREFIXES.len() as u64) as usize];
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&p);
    a[8..16].copy_from_slice(&hash64(&h.to_le_bytes()).to_be_bytes());
    a
}

const CLIENT_FIRST_OCTETS: &[u8] = &[24, 50, 66, 67, 68, 71, 73, 76, 98, 99, 107, 108, 174];

/// A residential-looking public address: a member of the public visiting a DMZ site.
pub fn public_client_v4(rng: &mut Rng) -> [u8; 4] {
    [
        *rng.pick(CLIENT_FIRST_OCTETS),
        rng.below(256) as u8,
        rng.below(256) as u8,
        1 + rng.below(253) as u8,
    ]
}

pub fn public_client_v6(rng: &mut Rng) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x26, 0x01, 0x04, rng.below(16) as u8]);
    rng.fill(&mut a[4..]);
    a
}

/// Names the office's machines look up and connect to, with relative popularity.
pub const WEB_NAMES: &[(&str, u32)] = &[
    ("www.google.com", 30),
    ("login.microsoftonline.com", 25),
    ("outlook.office365.com", 25),
    ("teams.microsoft.com", 15),
    ("update.microsoft.com", 8),
    ("settings-win.data.microsoft.com", 10),
    ("ocsp.digicert.com", 8),
    ("www.eac.gov", 6),
    ("www.cisa.gov", 5),
    ("vote.gov", 4),
    ("sos.state.example.gov", 10),
    ("elections.state.example.gov", 10),
    ("api.pollbook-vendor.example.com", 8),
    ("cdn.jsdelivr.net", 5),
    ("fonts.gstatic.com", 6),
    ("www.weather.gov", 3),
    ("github.com", 2),
    ("clients2.google.com", 6),
    ("safebrowsing.googleapis.com", 5),
    ("www.msftconnecttest.com", 3),
];

pub fn pick_web_name(rng: &mut Rng) -> &'static str {
    let mut weights = [0u32; 32];
    for (i, (_, w)) in WEB_NAMES.iter().enumerate() {
        weights[i] = *w;
    }
    WEB_NAMES[rng.weighted(&weights[..WEB_NAMES.len()])].0
}

/// The beacon: one workstation calls one external address every minute.
pub const BEACON_IP: [u8; 4] = [185, 220, 101, 47];
pub const BEACON_SNI: &str = "cdn-telemetry-sync.net";
pub const BEACON_WORKSTATION: u8 = 7;

/// Hostname of a DMZ site (what its certificate and Host header say).
pub fn dmz_name(host: &Host) -> String {
    let county = host.office as u32 + 1;
    match host.role {
        Role::Portal => format!("register.county{county}.example.gov"),
        _ => format!("results.county{county}.example.gov"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_inside_home_net() {
        let h = Host::new(3, Role::Workstation(0));
        assert_eq!(h.v4(), [10, 3, 10, 11]);
        assert_eq!(Host::new(3, Role::Portal).v4(), [192, 168, 3, 20]);
        assert_eq!(&h.v6()[..4], &[0x20, 0x01, 0x0d, 0xb8]);
        let e = external_v4("www.google.com");
        assert!(e[0] != 10 && e[0] != 192 && e[0] != 127);
        assert_eq!(external_v4("x.example"), external_v4("x.example"));
    }

    #[test]
    fn ephemeral_ports_rotate() {
        let mut rng = Rng::new(1);
        let mut pa = PortAlloc::new(1, &mut rng);
        let h = Host::new(0, Role::Workstation(1));
        let a = pa.take(&h);
        let b = pa.take(&h);
        assert_ne!(a, b);
        assert!(a >= 49152 && b >= 49152);
    }
}
