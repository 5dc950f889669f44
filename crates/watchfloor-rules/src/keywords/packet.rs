//! Packet header keywords (IP, TCP, ICMP, VLAN), checksums, and the event
//! keywords (`decode-event`, `stream-event`, `app-layer-event`).

use super::{need, no_value, parts, Builder};
use crate::error::{PResult, Perr};
use crate::header::APP_PROTOS;
use crate::lexer::negation;
use crate::num::{num, parse_numcmp};
use crate::sig::{
    Check, EventMatch, FlagsMod, NumCmp, TcpFlags, FRAG_DONT, FRAG_MORE, FRAG_RESERVED, TCP_ACK,
    TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
};

const IPOPTS: &[&str] = &[
    "rr", "eol", "nop", "ts", "sec", "esec", "lsrr", "lsrre", "ssrr", "satid", "any",
];

const CSUMS: &[&str] = &[
    "ipv4-csum",
    "tcpv4-csum",
    "tcpv6-csum",
    "udpv4-csum",
    "udpv6-csum",
    "icmpv4-csum",
    "icmpv6-csum",
    "igmp-csum",
];

pub(super) fn apply(b: &mut Builder<'_>, name: &str, v: Option<&str>) -> PResult<bool> {
    let c = match name {
        "ttl" => Check::Ttl(parse_numcmp(need(name, v)?, name, 255)?),
        "itype" => Check::Itype(parse_numcmp(need(name, v)?, name, 255)?),
        "icode" => Check::Icode(parse_numcmp(need(name, v)?, name, 255)?),
        "icmp_id" => Check::IcmpId(num(need(name, v)?, name)?),
        "icmp_seq" => Check::IcmpSeq(num(need(name, v)?, name)?),
        "icmpv6.mtu" => Check::Icmpv6Mtu(parse_numcmp(need(name, v)?, name, u32::MAX as u64)?),
        "id" => Check::IpId(num(need(name, v)?, name)?),
        "seq" => Check::Seq(num(need(name, v)?, name)?),
        "ack" => Check::Ack(num(need(name, v)?, name)?),
        "window" => {
            let (negated, w) = negation(need(name, v)?);
            Check::Window {
                negated,
                value: num(w, name)?,
            }
        }
        "tos" => {
            let (negated, t) = negation(need(name, v)?);
            // Suricata also takes `x10` for hex.
            let value = match t.strip_prefix('x') {
                Some(h) => u8::from_str_radix(h, 16)
                    .map_err(|_| Perr::syntax(format!("invalid tos '{t}'")))?,
                None => num(t, name)?,
            };
            Check::Tos { negated, value }
        }
        "ip_proto" => {
            let raw = need(name, v)?.trim();
            let (negated, r) = negation(raw);
            let (prefix, rest) = match r.as_bytes().first() {
                Some(b'<') | Some(b'>') => r.split_at(1),
                _ => ("", r),
            };
            let n = match proto_number(rest.trim()) {
                Some(n) => n as u64,
                None => num::<u8>(rest, name)? as u64,
            };
            let op = match prefix {
                "<" => NumCmp::Lt(n),
                ">" => NumCmp::Gt(n),
                _ => NumCmp::Eq(n),
            };
            if negated && prefix.is_empty() {
                Check::IpProto { negated: true, op }
            } else if negated {
                return Err(Perr::syntax(format!("invalid ip_proto '{raw}'")));
            } else {
                Check::IpProto { negated: false, op }
            }
        }
        "ipopts" => {
            let o = need(name, v)?.trim();
            if !IPOPTS.contains(&o) {
                return Err(Perr::syntax(format!("invalid ipopts option '{o}'")));
            }
            Check::IpOpts(o.to_string())
        }
        "fragbits" => parse_fragbits(need(name, v)?)?,
        "fragoffset" => {
            let (negated, r) = negation(need(name, v)?);
            let op = parse_numcmp(r, name, 8191)?;
            if !matches!(op, NumCmp::Eq(_) | NumCmp::Lt(_) | NumCmp::Gt(_)) {
                return Err(Perr::syntax(format!("invalid fragoffset '{r}'")));
            }
            Check::Fragoffset { negated, op }
        }
        "flags" | "tcp.flags" => Check::TcpFlags(parse_tcp_flags(need(name, v)?)?),
        "sameip" => {
            no_value(name, v)?;
            Check::SameIp
        }
        "ftpbounce" => {
            no_value(name, v)?;
            Check::FtpBounce
        }
        n if CSUMS.contains(&n) => {
            let valid = match need(name, v)?.trim() {
                "valid" => true,
                "invalid" => false,
                o => {
                    return Err(Perr::syntax(format!(
                        "{n} must be valid or invalid, got '{o}'"
                    )))
                }
            };
            Check::Checksum {
                layer: n.trim_end_matches("-csum").to_string(),
                valid,
            }
        }
        "decode-event" => {
            let e = need(name, v)?.trim();
            let e = e.strip_prefix("decoder.").unwrap_or(e);
            check_event_name(e, name)?;
            Check::DecodeEvent(EventMatch {
                layer: "decoder".to_string(),
                event: e.to_string(),
            })
        }
        "stream-event" => {
            let e = need(name, v)?.trim();
            let e = e.strip_prefix("stream.").unwrap_or(e);
            check_event_name(e, name)?;
            Check::StreamEvent(EventMatch {
                layer: "stream".to_string(),
                event: e.to_string(),
            })
        }
        "app-layer-event" => {
            let e = need(name, v)?.trim();
            check_event_name(e, name)?;
            let (layer, event) = e.split_once('.').unwrap_or(("applayer", e));
            Check::AppLayerEvent(EventMatch {
                layer: layer.to_string(),
                event: event.to_string(),
            })
        }
        "app-layer-protocol" => {
            let mut it = parts(need(name, v)?);
            let (negated, proto) = negation(it.next().unwrap_or(""));
            if !(APP_PROTOS.contains(&proto) || proto == "unknown") {
                return Err(Perr::invalid(format!(
                    "unknown app-layer protocol '{proto}'"
                )));
            }
            match it.next() {
                None | Some("final" | "original" | "either" | "to_server" | "to_client") => {}
                Some(m) => {
                    return Err(Perr::syntax(format!(
                        "invalid app-layer-protocol mode '{m}'"
                    )))
                }
            }
            Check::AppLayerProtocol {
                negated,
                proto: proto.to_string(),
            }
        }
        "vlan.id" => {
            let mut it = parts(need(name, v)?);
            let op = parse_numcmp(it.next().unwrap_or(""), name, 4095)?;
            let layer = match it.next() {
                None | Some("any") | Some("all") => None,
                Some(l) => Some(
                    l.parse::<i32>()
                        .ok()
                        .filter(|l| (-3..=2).contains(l))
                        .ok_or_else(|| Perr::syntax(format!("invalid vlan.id layer '{l}'")))?,
                ),
            };
            Check::VlanId { op, layer }
        }
        "vlan.layers" => Check::VlanLayers(parse_numcmp(need(name, v)?, name, 3)?),
        _ => return Ok(false),
    };
    b.sig.checks.push(c);
    Ok(true)
}

fn check_event_name(e: &str, kw: &str) -> PResult<()> {
    if e.is_empty()
        || !e
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
    {
        return Err(Perr::syntax(format!("invalid {kw} name '{e}'")));
    }
    Ok(())
}

fn proto_number(s: &str) -> Option<u8> {
    Some(match s.to_ascii_lowercase().as_str() {
        "ip" | "hopopt" => 0,
        "icmp" => 1,
        "igmp" => 2,
        "ipip" | "ipencap" => 4,
        "tcp" => 6,
        "egp" => 8,
        "udp" => 17,
        "ipv6" => 41,
        "ipv6-route" => 43,
        "ipv6-frag" => 44,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" => 58,
        "ipv6-nonxt" => 59,
        "ipv6-opts" => 60,
        "ospf" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "sctp" => 132,
        _ => return None,
    })
}

fn flag_bit(c: char) -> Option<u8> {
    Some(match c {
        'F' => TCP_FIN,
        'S' => TCP_SYN,
        'R' => TCP_RST,
        'P' => TCP_PSH,
        'A' => TCP_ACK,
        'U' => TCP_URG,
        'C' | '1' => TCP_CWR,
        'E' | '2' => TCP_ECE,
        _ => return None,
    })
}

fn modifier(c: char) -> Option<FlagsMod> {
    Some(match c {
        '+' => FlagsMod::Plus,
        '*' => FlagsMod::Any,
        '!' => FlagsMod::Not,
        _ => return None,
    })
}

/// `flags:[+*!]FSRPAUCE012[+*!][,ignored]`.
pub(crate) fn parse_tcp_flags(v: &str) -> PResult<TcpFlags> {
    let (f, ign) = match v.split_once(',') {
        Some((f, i)) => (f.trim(), Some(i.trim())),
        None => (v.trim(), None),
    };
    let mut out = TcpFlags {
        flags: 0,
        ignore: 0,
        modifier: FlagsMod::Exact,
    };
    let mut seen_mod = false;
    let mut zero = false;
    for c in f.chars().filter(|c| !c.is_whitespace()) {
        if let Some(m) = modifier(c) {
            if seen_mod {
                return Err(Perr::syntax(format!(
                    "flags '{f}' has more than one modifier"
                )));
            }
            seen_mod = true;
            out.modifier = m;
        } else if c == '0' {
            zero = true;
        } else {
            out.flags |=
                flag_bit(c).ok_or_else(|| Perr::syntax(format!("invalid tcp flag '{c}'")))?;
        }
    }
    if zero && out.flags != 0 {
        return Err(Perr::syntax(
            "flags: '0' (no flags) cannot be combined with other flags",
        ));
    }
    if out.flags == 0 && !zero {
        return Err(Perr::syntax(format!("flags '{f}' names no flag")));
    }
    if let Some(i) = ign {
        for c in i.chars().filter(|c| !c.is_whitespace()) {
            out.ignore |=
                flag_bit(c).ok_or_else(|| Perr::syntax(format!("invalid tcp flag '{c}'")))?;
        }
    }
    Ok(out)
}

fn parse_fragbits(v: &str) -> PResult<Check> {
    let mut bits = 0u8;
    let mut m = FlagsMod::Exact;
    let mut seen_mod = false;
    let body = v.split(',').next().unwrap_or("");
    for c in body.chars().filter(|c| !c.is_whitespace()) {
        if let Some(x) = modifier(c) {
            if seen_mod {
                return Err(Perr::syntax(format!(
                    "fragbits '{v}' has more than one modifier"
                )));
            }
            seen_mod = true;
            m = x;
            continue;
        }
        bits |= match c {
            'M' => FRAG_MORE,
            'D' => FRAG_DONT,
            'R' => FRAG_RESERVED,
            _ => return Err(Perr::syntax(format!("invalid fragbits flag '{c}'"))),
        };
    }
    if bits == 0 {
        return Err(Perr::syntax(format!("fragbits '{v}' names no flag")));
    }
    Ok(Check::Fragbits { bits, modifier: m })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_flags() {
        let f = parse_tcp_flags("S,12").unwrap();
        assert_eq!(
            (f.flags, f.ignore, f.modifier),
            (TCP_SYN, TCP_CWR | TCP_ECE, FlagsMod::Exact)
        );
        let f = parse_tcp_flags("SA+").unwrap();
        assert_eq!((f.flags, f.modifier), (TCP_SYN | TCP_ACK, FlagsMod::Plus));
        let f = parse_tcp_flags("!R").unwrap();
        assert_eq!(f.modifier, FlagsMod::Not);
        assert_eq!(parse_tcp_flags("0").unwrap().flags, 0);
        assert!(parse_tcp_flags("SX").is_err());
        assert!(parse_tcp_flags("+*S").is_err());
        assert!(parse_tcp_flags("").is_err());
    }

    #[test]
    fn fragbits() {
        assert_eq!(
            parse_fragbits("+D").unwrap(),
            Check::Fragbits {
                bits: FRAG_DONT,
                modifier: FlagsMod::Plus
            }
        );
        assert_eq!(
            parse_fragbits("MR").unwrap(),
            Check::Fragbits {
                bits: FRAG_MORE | FRAG_RESERVED,
                modifier: FlagsMod::Exact
            }
        );
        assert!(parse_fragbits("X").is_err());
    }
}
