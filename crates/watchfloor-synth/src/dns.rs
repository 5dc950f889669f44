//! DNS messages: queries and plausible answers (A, AAAA, CNAME chains, MX, TXT, PTR),
//! NXDOMAIN with an SOA in the authority section, and EDNS OPT records.

use crate::office::{external_v4, external_v6};
use crate::rng::{hash64, Rng};

pub const A: u16 = 1;
pub const CNAME: u16 = 5;
pub const SOA: u16 = 6;
pub const PTR: u16 = 12;
pub const MX: u16 = 15;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;
pub const OPT: u16 = 41;

pub const NOERROR: u8 = 0;
pub const NXDOMAIN: u8 = 3;

/// Pointer to the question name, which always starts right after the 12-byte header.
const QNAME_PTR: u16 = 0xC00C;

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

pub fn write_name(b: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let l = &label.as_bytes()[..label.len().min(63)];
        b.push(l.len() as u8);
        b.extend_from_slice(l);
    }
    b.push(0);
}

fn header(b: &mut Vec<u8>, id: u16, flags: u16, qd: u16, an: u16, ns: u16, ar: u16) {
    for v in [id, flags, qd, an, ns, ar] {
        put16(b, v);
    }
}

fn opt_record(b: &mut Vec<u8>, udp_size: u16) {
    b.push(0);
    put16(b, OPT);
    put16(b, udp_size);
    put32(b, 0);
    put16(b, 0);
}

/// Appends a query (recursion desired).
pub fn query(b: &mut Vec<u8>, id: u16, name: &str, qtype: u16, edns: bool) {
    header(b, id, 0x0100, 1, 0, 0, edns as u16);
    write_name(b, name);
    put16(b, qtype);
    put16(b, 1);
    if edns {
        opt_record(b, 1232);
    }
}

/// Starts a resource record whose owner is a compression pointer; returns where RDLENGTH is.
fn rr_start(b: &mut Vec<u8>, owner_ptr: u16, rtype: u16, ttl: u32) -> usize {
    put16(b, owner_ptr);
    put16(b, rtype);
    put16(b, 1);
    put32(b, ttl);
    let at = b.len();
    put16(b, 0);
    at
}

fn rr_end(b: &mut [u8], at: usize) {
    let len = (b.len() - at - 2) as u16;
    b[at..at + 2].copy_from_slice(&len.to_be_bytes());
}

/// The registrable domain (last two labels), for MX/TXT/SOA names.
fn base_domain(name: &str) -> &str {
    let mut dots = name.rmatch_indices('.');
    dots.next();
    match dots.next() {
        Some((i, _)) => &name[i + 1..],
        None => name,
    }
}

/// Appends a response to a query for `name`/`qtype`. `rcode` NXDOMAIN answers with the
/// zone's SOA in the authority section.
pub fn response(
    b: &mut Vec<u8>,
    rng: &mut Rng,
    id: u16,
    name: &str,
    qtype: u16,
    rcode: u8,
    edns: bool,
) {
    let start = b.len();
    header(b, id, 0x8180 | rcode as u16, 1, 0, 0, edns as u16);
    write_name(b, name);
    put16(b, qtype);
    put16(b, 1);
    let mut an: u16 = 0;
    let mut ns: u16 = 0;
    let base = base_domain(name);
    if rcode == NXDOMAIN {
        let zone = match name.rfind('.') {
            Some(i) => &name[i + 1..],
            None => name,
        };
        put16(b, 0xC000 | (12 + name.len() - zone.len()) as u16);
        put16(b, SOA);
        put16(b, 1);
        put32(b, 900);
        let at = b.len();
        put16(b, 0);
        write_name(b, &format!("a.nic.{zone}"));
        write_name(b, &format!("hostmaster.nic.{zone}"));
        put32(
            b,
            1_730_700_000 + (hash64(zone.as_bytes()) % 100_000) as u32,
        );
        for v in [1800u32, 900, 604_800, 86_400] {
            put32(b, v);
        }
        rr_end(b, at);
        ns = 1;
    } else {
        let ttl = *rng.pick(&[60u32, 300, 300, 3600, 86_400]);
        match qtype {
            A | AAAA => {
                let mut owner = QNAME_PTR;
                let mut target_name = name.to_string();
                if rng.chance(0.3) {
                    // Big sites answer through a CDN alias: name -> edge name -> addresses.
                    target_name = format!(
                        "{}.edge.cdn-{}.net",
                        name.replace('.', "-"),
                        hash64(base.as_bytes()) % 7
                    );
                    let at = rr_start(b, owner, CNAME, ttl);
                    let name_off = b.len();
                    write_name(b, &target_name);
                    rr_end(b, at);
                    owner = 0xC000 | (name_off - start) as u16;
                    an += 1;
                }
                let n = rng.range(1, 4);
                for i in 0..n {
                    let at = rr_start(b, owner, qtype, ttl.min(300));
                    let key = format!("{target_name}#{i}");
                    if qtype == A {
                        b.extend_from_slice(&external_v4(&key));
                    } else {
                        b.extend_from_slice(&external_v6(&key));
                    }
                    rr_end(b, at);
                    an += 1;
                }
            }
            MX => {
                for (pref, host) in [(10u16, "mx1"), (20, "mx2")] {
                    let at = rr_start(b, QNAME_PTR, MX, ttl);
                    put16(b, pref);
                    write_name(b, &format!("{host}.{base}"));
                    rr_end(b, at);
                    an += 1;
                }
            }
            TXT => {
                let texts = [
                    format!("v=spf1 include:_spf.{base} ~all"),
                    format!("site-verification={:016x}", hash64(name.as_bytes())),
                ];
                for t in &texts {
                    let at = rr_start(b, QNAME_PTR, TXT, ttl);
                    b.push(t.len() as u8);
                    b.extend_from_slice(t.as_bytes());
                    rr_end(b, at);
                    an += 1;
                }
            }
            PTR => {
                let at = rr_start(b, QNAME_PTR, PTR, ttl);
                write_name(
                    b,
                    &format!(
                        "host-{:x}.county.example.gov",
                        hash64(name.as_bytes()) & 0xFFFF
                    ),
                );
                rr_end(b, at);
                an += 1;
            }
            _ => {}
        }
    }
    if edns {
        opt_record(b, 1232);
    }
    b[start + 6..start + 8].copy_from_slice(&an.to_be_bytes());
    b[start + 8..start + 10].copy_from_slice(&ns.to_be_bytes());
}

/// PTR query name for an IPv4 address.
pub fn reverse_name(ip: [u8; 4]) -> String {
    format!("{}.{}.{}.{}.in-addr.arpa", ip[3], ip[2], ip[1], ip[0])
}

/// A random-looking (DGA) name.
pub fn dga_name(rng: &mut Rng) -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = rng.range(12, 24) as usize;
    let mut s = String::with_capacity(len + 6);
    for _ in 0..len {
        s.push(*rng.pick(ALPHA) as char);
    }
    const TLDS: &[&str] = &[".com", ".net", ".info", ".biz", ".xyz"];
    s.push_str(TLDS[rng.below(TLDS.len() as u64) as usize]);
    s
}

/// Suspicious but resolvable names: dynamic DNS, tunnels, abused TLDs.
pub const SUSPICIOUS_NAMES: &[&str] = &[
    "ballot-sync.duckdns.org",
    "vr-export.ngrok-free.app",
    "county-results-update.top",
    "pollbook-patch.zip",
    "secure-login-verify.xyz",
    "cdn-upd4te.ddns.net",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Skips a (possibly compressed) name, returning the offset after it.
    fn skip_name(m: &[u8], mut at: usize) -> usize {
        loop {
            let l = m[at] as usize;
            if l == 0 {
                return at + 1;
            }
            if l & 0xC0 == 0xC0 {
                assert!(((l & 0x3F) << 8 | m[at + 1] as usize) < at);
                return at + 2;
            }
            at += 1 + l;
        }
    }

    fn check(m: &[u8]) -> (u16, u16, u16, u16) {
        let c = |i: usize| u16::from_be_bytes([m[i], m[i + 1]]);
        let (qd, an, ns, ar) = (c(4), c(6), c(8), c(10));
        let mut at = 12;
        for _ in 0..qd {
            at = skip_name(m, at) + 4;
        }
        for _ in 0..(an + ns + ar) {
            at = skip_name(m, at);
            let rdlen = c(at + 8) as usize;
            at += 10 + rdlen;
        }
        assert_eq!(at, m.len());
        (qd, an, ns, ar)
    }

    #[test]
    fn responses_are_well_formed() {
        let mut rng = Rng::new(5);
        for qtype in [A, AAAA, MX, TXT, PTR] {
            for _ in 0..20 {
                let mut b = vec![];
                response(&mut b, &mut rng, 7, "www.example.com", qtype, NOERROR, true);
                let (qd, an, _, ar) = check(&b);
                assert_eq!((qd, ar), (1, 1));
                assert!(an >= 1);
            }
        }
        let mut b = vec![];
        response(&mut b, &mut rng, 7, "qwhe7sdf8.com", A, NXDOMAIN, false);
        assert_eq!(check(&b), (1, 0, 1, 0));
        assert_eq!(b[3] & 0x0F, 3);
        let mut q = vec![];
        query(&mut q, 1, "www.example.com", A, true);
        assert_eq!(check(&q), (1, 0, 0, 1));
    }
}
