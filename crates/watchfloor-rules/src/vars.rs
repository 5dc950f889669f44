//! Address and port groups (`vars.address-groups` / `vars.port-groups` of
//! suricata.yaml) and the resolution of header expressions into
//! [`AddrSet`] / [`PortSet`].
//!
//! Expressions are evaluated to exact range sets: a group is the union of
//! its plain items minus the union of its `!` items (all addresses when it
//! has only `!` items), `!X` is the complement of `X`, and variables expand
//! recursively. The result is then written in whichever of the two
//! [`AddrSet`] forms is shorter (include list, or "any except").

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::VarError;
use crate::rangeset::RangeSet;
use crate::sig::{AddrSet, IpRange, PortSet};

const V4_MAX: u128 = u32::MAX as u128;
const V6_MAX: u128 = u128::MAX;
const PORT_MAX: u128 = 65535;

/// Suricata's default address groups (suricata.yaml as shipped).
const DEFAULT_ADDRESS: &[(&str, &str)] = &[
    ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
    ("EXTERNAL_NET", "!$HOME_NET"),
    ("HTTP_SERVERS", "$HOME_NET"),
    ("SMTP_SERVERS", "$HOME_NET"),
    ("SQL_SERVERS", "$HOME_NET"),
    ("DNS_SERVERS", "$HOME_NET"),
    ("TELNET_SERVERS", "$HOME_NET"),
    ("AIM_SERVERS", "$EXTERNAL_NET"),
    ("DC_SERVERS", "$HOME_NET"),
    ("DNP3_SERVER", "$HOME_NET"),
    ("DNP3_CLIENT", "$HOME_NET"),
    ("MODBUS_CLIENT", "$HOME_NET"),
    ("MODBUS_SERVER", "$HOME_NET"),
    ("ENIP_CLIENT", "$HOME_NET"),
    ("ENIP_SERVER", "$HOME_NET"),
];

/// Suricata's default port groups.
const DEFAULT_PORT: &[(&str, &str)] = &[
    ("HTTP_PORTS", "80"),
    ("SHELLCODE_PORTS", "!80"),
    ("ORACLE_PORTS", "1521"),
    ("SSH_PORTS", "22"),
    ("DNP3_PORTS", "20000"),
    ("MODBUS_PORTS", "502"),
    ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
    ("FTP_PORTS", "21"),
    ("GENEVE_PORTS", "6081"),
    ("VXLAN_PORTS", "4789"),
    ("TEREDO_PORTS", "3544"),
];

/// Named address and port expressions, as in suricata.yaml's `vars`.
#[derive(Debug, Clone)]
pub struct Vars {
    address: HashMap<String, String>,
    port: HashMap<String, String>,
}

impl Default for Vars {
    fn default() -> Vars {
        let mut v = Vars::empty();
        for (k, e) in DEFAULT_ADDRESS {
            v.set_address(k, e);
        }
        for (k, e) in DEFAULT_PORT {
            v.set_port(k, e);
        }
        v
    }
}

/// Which table a `$NAME` is looked up in, and how atoms parse.
#[derive(Clone, Copy)]
enum Kind {
    Addr,
    Port,
}

/// An evaluated expression: one set per address family, or one port set
/// (in `v4`, with `v6` unused).
struct Sets {
    v4: RangeSet,
    v6: RangeSet,
}

impl Sets {
    fn empty(k: Kind) -> Sets {
        match k {
            Kind::Addr => Sets {
                v4: RangeSet::empty(V4_MAX),
                v6: RangeSet::empty(V6_MAX),
            },
            Kind::Port => Sets {
                v4: RangeSet::empty(PORT_MAX),
                v6: RangeSet::empty(0),
            },
        }
    }
    fn full(k: Kind) -> Sets {
        match k {
            Kind::Addr => Sets {
                v4: RangeSet::full(V4_MAX),
                v6: RangeSet::full(V6_MAX),
            },
            Kind::Port => Sets {
                v4: RangeSet::full(PORT_MAX),
                v6: RangeSet::empty(0),
            },
        }
    }
    fn complement(&self) -> Sets {
        Sets {
            v4: self.v4.complement(),
            v6: if self.v6.max == 0 {
                self.v6.clone()
            } else {
                self.v6.complement()
            },
        }
    }
    fn union(&mut self, o: &Sets) {
        self.v4.union(&o.v4);
        self.v6.union(&o.v6);
    }
    fn difference(&self, o: &Sets) -> Sets {
        Sets {
            v4: self.v4.difference(&o.v4),
            v6: self.v6.difference(&o.v6),
        }
    }
    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

impl Vars {
    /// No variables at all (rules using `$X` then fail to load).
    pub fn empty() -> Vars {
        Vars {
            address: HashMap::new(),
            port: HashMap::new(),
        }
    }

    /// Sets an address group; `name` without the `$`.
    pub fn set_address(&mut self, name: &str, expr: &str) {
        self.address
            .insert(name.trim_start_matches('$').to_string(), expr.to_string());
    }

    /// Sets a port group; `name` without the `$`.
    pub fn set_port(&mut self, name: &str, expr: &str) {
        self.port
            .insert(name.trim_start_matches('$').to_string(), expr.to_string());
    }

    pub fn address(&self, name: &str) -> Option<&str> {
        self.address.get(name).map(String::as_str)
    }

    pub fn port(&self, name: &str) -> Option<&str> {
        self.port.get(name).map(String::as_str)
    }

    /// Resolves an address expression (`any`, `1.2.3.4`, `10.0.0.0/8`,
    /// `10.0.0.1-10.0.0.9`, `[..]`, `!x`, `$VAR`).
    pub fn resolve_address(&self, expr: &str) -> Result<AddrSet, VarError> {
        let mut stack = Vec::new();
        let s = self.eval(expr, Kind::Addr, &mut stack)?;
        if s.is_empty() {
            return Err(VarError::EmptyAddress(expr.to_string()));
        }
        let compl = s.complement();
        if compl.is_empty() {
            return Ok(AddrSet::any());
        }
        let to_ranges = |set: &Sets| -> Vec<IpRange> {
            let mut v: Vec<IpRange> = set
                .v4
                .ranges
                .iter()
                .map(|&(a, b)| IpRange::V4(a as u32, b as u32))
                .collect();
            v.extend(set.v6.ranges.iter().map(|&(a, b)| IpRange::V6(a, b)));
            v
        };
        let n_in = s.v4.ranges.len() + s.v6.ranges.len();
        let n_out = compl.v4.ranges.len() + compl.v6.ranges.len();
        Ok(if n_out < n_in {
            AddrSet {
                include: None,
                exclude: to_ranges(&compl),
            }
        } else {
            AddrSet {
                include: Some(to_ranges(&s)),
                exclude: Vec::new(),
            }
        })
    }

    /// Resolves a port expression (`any`, `80`, `1024:`, `:1023`, `80:90`,
    /// `[..]`, `!x`, `$VAR`).
    pub fn resolve_port(&self, expr: &str) -> Result<PortSet, VarError> {
        let mut stack = Vec::new();
        let s = self.eval(expr, Kind::Port, &mut stack)?;
        if s.is_empty() {
            return Err(VarError::EmptyPort(expr.to_string()));
        }
        let compl = s.v4.complement();
        if compl.is_empty() {
            return Ok(PortSet::any());
        }
        let conv = |r: &RangeSet| -> Vec<(u16, u16)> {
            r.ranges
                .iter()
                .map(|&(a, b)| (a as u16, b as u16))
                .collect()
        };
        Ok(if compl.ranges.len() < s.v4.ranges.len() {
            PortSet {
                include: None,
                exclude: conv(&compl),
            }
        } else {
            PortSet {
                include: Some(conv(&s.v4)),
                exclude: Vec::new(),
            }
        })
    }

    fn eval(&self, expr: &str, k: Kind, stack: &mut Vec<String>) -> Result<Sets, VarError> {
        let e = expr.trim();
        if e.is_empty() {
            return Err(VarError::Empty);
        }
        if let Some(rest) = e.strip_prefix('!') {
            return Ok(self.eval(rest, k, stack)?.complement());
        }
        if let Some(inner) = e.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| VarError::Brackets(e.to_string()))?;
            return self.eval_group(inner, e, k, stack);
        }
        if e.contains([']', ',']) {
            return Err(VarError::Brackets(e.to_string()));
        }
        self.eval_atom(e, k, stack)
    }

    fn eval_group(
        &self,
        inner: &str,
        whole: &str,
        k: Kind,
        stack: &mut Vec<String>,
    ) -> Result<Sets, VarError> {
        let mut pos = Sets::empty(k);
        let mut neg = Sets::empty(k);
        let mut any_pos = false;
        for item in split_top(inner).ok_or_else(|| VarError::Brackets(whole.to_string()))? {
            let item = item.trim();
            if let Some(rest) = item.strip_prefix('!') {
                neg.union(&self.eval(rest, k, stack)?);
            } else {
                pos.union(&self.eval(item, k, stack)?);
                any_pos = true;
            }
        }
        if !any_pos {
            pos = Sets::full(k);
        }
        Ok(pos.difference(&neg))
    }

    fn eval_atom(&self, a: &str, k: Kind, stack: &mut Vec<String>) -> Result<Sets, VarError> {
        if a.eq_ignore_ascii_case("any") {
            return Ok(Sets::full(k));
        }
        if let Some(name) = a.strip_prefix('$') {
            if stack.iter().any(|s| s == name) {
                return Err(VarError::Loop(name.to_string()));
            }
            let table = match k {
                Kind::Addr => &self.address,
                Kind::Port => &self.port,
            };
            let val = table
                .get(name)
                .ok_or_else(|| VarError::Unknown(name.to_string()))?;
            stack.push(name.to_string());
            let r = self.eval(val, k, stack);
            stack.pop();
            return r;
        }
        let mut s = Sets::empty(k);
        match k {
            Kind::Port => {
                let (lo, hi) = parse_port_range(a)?;
                s.v4.add(lo as u128, hi as u128);
            }
            Kind::Addr => {
                let (v6, lo, hi) = parse_addr_range(a)?;
                if v6 {
                    s.v6.add(lo, hi);
                } else {
                    s.v4.add(lo, hi);
                }
            }
        }
        Ok(s)
    }
}

/// Splits at commas outside brackets; `None` when brackets do not balance.
fn split_top(s: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    out.push(&s[start..]);
    Some(out)
}

fn parse_port(s: &str, whole: &str) -> Result<u16, VarError> {
    s.trim()
        .parse::<u16>()
        .map_err(|_| VarError::BadPort(whole.to_string()))
}

fn parse_port_range(a: &str) -> Result<(u16, u16), VarError> {
    match a.split_once(':') {
        None => {
            let p = parse_port(a, a)?;
            Ok((p, p))
        }
        Some((lo, hi)) => {
            let lo = if lo.trim().is_empty() {
                0
            } else {
                parse_port(lo, a)?
            };
            let hi = if hi.trim().is_empty() {
                65535
            } else {
                parse_port(hi, a)?
            };
            if lo > hi {
                return Err(VarError::BadPort(a.to_string()));
            }
            Ok((lo, hi))
        }
    }
}

/// One address atom to (is IPv6, first, last).
fn parse_addr_range(a: &str) -> Result<(bool, u128, u128), VarError> {
    let bad = || VarError::BadAddress(a.to_string());
    if let Some((ip, mask)) = a.split_once('/') {
        let cidr = || VarError::BadCidr(a.to_string());
        if let Ok(v4) = ip.parse::<Ipv4Addr>() {
            let bits: u32 = if mask.contains('.') {
                // Netmask form 255.255.255.0: must be contiguous ones.
                let m = u32::from(mask.parse::<Ipv4Addr>().map_err(|_| cidr())?);
                if m.leading_ones() + m.trailing_zeros() != 32 {
                    return Err(cidr());
                }
                m.leading_ones()
            } else {
                mask.parse().map_err(|_| cidr())?
            };
            if bits > 32 {
                return Err(cidr());
            }
            let m: u32 = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            let lo = u32::from(v4) & m;
            return Ok((false, lo as u128, (lo | !m) as u128));
        }
        let v6 = ip.parse::<Ipv6Addr>().map_err(|_| bad())?;
        let bits: u32 = mask.parse().map_err(|_| cidr())?;
        if bits > 128 {
            return Err(cidr());
        }
        let m: u128 = if bits == 0 {
            0
        } else {
            u128::MAX << (128 - bits)
        };
        let lo = u128::from(v6) & m;
        return Ok((true, lo, lo | !m));
    }
    if let Ok(v4) = a.parse::<Ipv4Addr>() {
        let x = u32::from(v4) as u128;
        return Ok((false, x, x));
    }
    if let Ok(v6) = a.parse::<Ipv6Addr>() {
        let x = u128::from(v6);
        return Ok((true, x, x));
    }
    if let Some((lo, hi)) = a.split_once('-') {
        if let (Ok(l), Ok(h)) = (lo.trim().parse::<Ipv4Addr>(), hi.trim().parse::<Ipv4Addr>()) {
            let (l, h) = (u32::from(l), u32::from(h));
            if l > h {
                return Err(bad());
            }
            return Ok((false, l as u128, h as u128));
        }
        if let (Ok(l), Ok(h)) = (lo.trim().parse::<Ipv6Addr>(), hi.trim().parse::<Ipv6Addr>()) {
            let (l, h) = (u128::from(l), u128::from(h));
            if l > h {
                return Err(bad());
            }
            return Ok((true, l, h));
        }
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn home_and_external() {
        let v = Vars::default();
        let home = v.resolve_address("$HOME_NET").unwrap();
        assert!(home.contains(ip("10.1.2.3")));
        assert!(home.contains(ip("172.31.255.255")));
        assert!(!home.contains(ip("8.8.8.8")));
        assert!(!home.contains(ip("::1")));
        let ext = v.resolve_address("$EXTERNAL_NET").unwrap();
        assert!(ext.include.is_none(), "written as any-except: {ext:?}");
        assert!(ext.contains(ip("8.8.8.8")));
        assert!(ext.contains(ip("2001:db8::1")));
        assert!(!ext.contains(ip("192.168.1.1")));
        assert!(v.resolve_address("any").unwrap().is_any());
        assert!(v.resolve_address("$HTTP_SERVERS").unwrap() == home);
    }

    #[test]
    fn groups_and_nested_negation() {
        let v = Vars::default();
        let s = v
            .resolve_address("[10.0.0.0/8, ![10.1.0.0/16, !10.1.2.0/24]]")
            .unwrap();
        assert!(s.contains(ip("10.2.0.1")));
        assert!(!s.contains(ip("10.1.3.1")));
        assert!(s.contains(ip("10.1.2.9")));
        let s = v.resolve_address("[!1.2.3.4]").unwrap();
        assert!(!s.contains(ip("1.2.3.4")) && s.contains(ip("1.2.3.5")));
        let s = v.resolve_address("![1.2.3.4,5.6.7.8]").unwrap();
        assert!(!s.contains(ip("5.6.7.8")) && s.contains(ip("::1")));
        let s = v.resolve_address("[1.2.3.4 , 2001:db8::/32]").unwrap();
        assert!(s.contains(ip("2001:db8::5")));
        let s = v.resolve_address("10.0.0.5-10.0.0.7").unwrap();
        assert!(s.contains(ip("10.0.0.6")) && !s.contains(ip("10.0.0.8")));
        let s = v.resolve_address("10.0.0.0/255.255.255.0").unwrap();
        assert!(s.contains(ip("10.0.0.200")) && !s.contains(ip("10.0.1.0")));
        let s = v.resolve_address("[$HOME_NET,!192.168.1.0/24]").unwrap();
        assert!(!s.contains(ip("192.168.1.1")) && s.contains(ip("192.168.2.1")));
    }

    #[test]
    fn address_errors() {
        let v = Vars::default();
        assert_eq!(
            v.resolve_address("$NOPE"),
            Err(VarError::Unknown("NOPE".into()))
        );
        assert!(matches!(
            v.resolve_address("10.0.0.0/33"),
            Err(VarError::BadCidr(_))
        ));
        assert!(matches!(
            v.resolve_address("!any"),
            Err(VarError::EmptyAddress(_))
        ));
        assert!(matches!(
            v.resolve_address("[1.2.3.4,!1.2.3.4]"),
            Err(VarError::EmptyAddress(_))
        ));
        assert!(matches!(
            v.resolve_address("[1.2.3.4"),
            Err(VarError::Brackets(_))
        ));
        assert!(matches!(
            v.resolve_address("300.1.1.1"),
            Err(VarError::BadAddress(_))
        ));
        let mut l = Vars::empty();
        l.set_address("A", "[$B]");
        l.set_address("B", "$A");
        assert!(matches!(l.resolve_address("$A"), Err(VarError::Loop(_))));
    }

    #[test]
    fn ports() {
        let v = Vars::default();
        assert!(v.resolve_port("any").unwrap().is_any());
        let p = v.resolve_port("$FILE_DATA_PORTS").unwrap();
        assert!(p.contains(80) && p.contains(110) && p.contains(143) && !p.contains(81));
        let p = v.resolve_port("$SHELLCODE_PORTS").unwrap();
        assert!(!p.contains(80) && p.contains(81));
        assert!(p.include.is_none());
        let p = v.resolve_port("[1024:]").unwrap();
        assert!(p.contains(65535) && !p.contains(1023));
        let p = v.resolve_port(":1023").unwrap();
        assert!(p.contains(0) && !p.contains(1024));
        let p = v.resolve_port("[80:100,!99]").unwrap();
        assert!(p.contains(98) && !p.contains(99) && p.contains(100));
        let p = v.resolve_port("[1:80,![2,4]]").unwrap();
        assert!(p.contains(3) && !p.contains(4));
        assert!(matches!(v.resolve_port("70000"), Err(VarError::BadPort(_))));
        assert!(matches!(v.resolve_port("90:80"), Err(VarError::BadPort(_))));
        assert!(matches!(
            v.resolve_port("!any"),
            Err(VarError::EmptyPort(_))
        ));
        assert!(matches!(
            v.resolve_port("$HOME_NET"),
            Err(VarError::Unknown(_))
        ));
    }
}
