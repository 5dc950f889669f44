//! The malicious share of the traffic, planned up front so it is fixed for a given seed.

use crate::office::public_client_v4;
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttackKind {
    /// SYNs from one external address and source port to many ports of the results site.
    PortScan,
    /// SQL injection in request URIs to the results site.
    Sqli,
    /// sqlmap / Nikto user agents probing for admin pages and secrets.
    ScannerUa,
    /// Bursts of `POST /login` to the voter-registration portal, answered 401.
    CredStuffing,
    /// Random-looking (DGA) names answered NXDOMAIN.
    DgaDns,
    /// Dynamic-DNS, tunnel and abused-TLD names.
    SuspiciousDns,
    /// TLS every 60 s from one workstation to one external address with a fixed SNI.
    Beacon,
}

impl AttackKind {
    pub const ALL: [AttackKind; 7] = [
        AttackKind::PortScan,
        AttackKind::Sqli,
        AttackKind::ScannerUa,
        AttackKind::CredStuffing,
        AttackKind::DgaDns,
        AttackKind::SuspiciousDns,
        AttackKind::Beacon,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AttackKind::PortScan => "port_scan",
            AttackKind::Sqli => "sqli",
            AttackKind::ScannerUa => "scanner_ua",
            AttackKind::CredStuffing => "cred_stuffing",
            AttackKind::DgaDns => "dga_dns",
            AttackKind::SuspiciousDns => "suspicious_dns",
            AttackKind::Beacon => "beacon",
        }
    }

    pub(crate) fn idx(self) -> usize {
        self as usize
    }
}

/// Which attack kinds to include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttackKinds {
    pub port_scan: bool,
    pub sqli: bool,
    pub scanner_ua: bool,
    pub cred_stuffing: bool,
    pub dga_dns: bool,
    pub suspicious_dns: bool,
    pub beacon: bool,
}

impl AttackKinds {
    pub fn all() -> AttackKinds {
        AttackKinds {
            port_scan: true,
            sqli: true,
            scanner_ua: true,
            cred_stuffing: true,
            dga_dns: true,
            suspicious_dns: true,
            beacon: true,
        }
    }

    pub fn none() -> AttackKinds {
        AttackKinds {
            port_scan: false,
            sqli: false,
            scanner_ua: false,
            cred_stuffing: false,
            dga_dns: false,
            suspicious_dns: false,
            beacon: false,
        }
    }

    pub fn contains(&self, k: AttackKind) -> bool {
        match k {
            AttackKind::PortScan => self.port_scan,
            AttackKind::Sqli => self.sqli,
            AttackKind::ScannerUa => self.scanner_ua,
            AttackKind::CredStuffing => self.cred_stuffing,
            AttackKind::DgaDns => self.dga_dns,
            AttackKind::SuspiciousDns => self.suspicious_dns,
            AttackKind::Beacon => self.beacon,
        }
    }
}

impl Default for AttackKinds {
    fn default() -> Self {
        AttackKinds::all()
    }
}

/// One malicious flow to open at `ts`.
#[derive(Debug, Clone, Copy)]
pub struct Planned {
    pub ts: i64,
    pub kind: AttackKind,
    pub office: u8,
    pub attacker: [u8; 4],
    /// Port-scan probes: the probed port and the scanner's fixed source port.
    pub dport: u16,
    pub sport: u16,
}

/// Ports an nmap-style scan of a web server tries first.
const SCAN_PORTS: &[u16] = &[
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433, 1521, 1723, 2049,
    3306, 3389, 5432, 5900, 6379, 8000, 8080, 8443, 8888, 9200, 27017,
];

const HOUR: f64 = 3_600e9;
const MINUTE: i64 = 60_000_000_000;

pub fn plan(
    kinds: &AttackKinds,
    offices: u8,
    start: i64,
    duration: i64,
    rng: &mut Rng,
) -> Vec<Planned> {
    let mut out = Vec::new();
    let hours = duration as f64 / HOUR;
    let count = |per_hour: f64| ((hours * per_hour).round() as u64).max(1);
    let lo = start + duration / 50;
    let span = (duration - duration / 10).max(1) as u64;
    let at = |rng: &mut Rng| lo + rng.below(span) as i64;
    let base = |rng: &mut Rng, ts: i64, kind: AttackKind| Planned {
        ts,
        kind,
        office: rng.below(offices as u64) as u8,
        attacker: public_client_v4(rng),
        dport: 0,
        sport: 0,
    };
    if kinds.port_scan {
        for _ in 0..count(0.5) {
            let ts = at(rng);
            let p = base(rng, ts, AttackKind::PortScan);
            let sport = rng.range(32_768, 65_000) as u16;
            let mut ports: Vec<u16> = SCAN_PORTS.to_vec();
            for _ in 0..rng.range(60, 120) {
                ports.push(rng.range(1, 10_000) as u16);
            }
            ports.sort_unstable();
            ports.dedup();
            rng.shuffle(&mut ports);
            let mut ts = p.ts;
            for dport in ports {
                out.push(Planned {
                    ts,
                    dport,
                    sport,
                    ..p
                });
                ts += rng.range(300_000, 3_000_000) as i64;
            }
        }
    }
    for (kind, per_hour, burst) in [
        (AttackKind::Sqli, 2.0, 1u64),
        (AttackKind::ScannerUa, 2.0, 1),
        (AttackKind::CredStuffing, 1.0, 3),
        (AttackKind::DgaDns, 3.0, 10),
        (AttackKind::SuspiciousDns, 4.0, 1),
    ] {
        if !kinds.contains(kind) {
            continue;
        }
        for _ in 0..count(per_hour) {
            let ts = at(rng);
            let p = base(rng, ts, kind);
            let mut ts = p.ts;
            let n = if burst > 1 {
                rng.range(burst / 2 + 1, burst * 3 / 2)
            } else {
                1
            };
            for _ in 0..n {
                out.push(Planned { ts, ..p });
                ts += rng.range(200_000_000, 3_000_000_000) as i64;
            }
        }
    }
    if kinds.beacon {
        let mut ts = start + rng.below(MINUTE as u64) as i64;
        let p = base(rng, ts, AttackKind::Beacon);
        while ts < start + duration {
            out.push(Planned { ts, office: 0, ..p });
            ts += MINUTE - 800_000_000 + rng.below(1_600_000_000) as i64;
        }
    }
    // Stable sort: equal times keep their planning order, so the plan is deterministic.
    out.sort_by_key(|p| p.ts);
    out
}
