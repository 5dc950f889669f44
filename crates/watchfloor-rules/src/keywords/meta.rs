//! Meta keywords (msg, sid, classtype, metadata, ...), `requires`, and the
//! list of every keyword the parser knows.

use super::{need, no_value, parts, Builder};
use crate::error::{PResult, Perr, RuleErrorKind};
use crate::lexer::{unescape_text, unquote};
use crate::num::num;
use crate::sig::{Tag, Target};

/// Every option keyword this parser accepts, besides the buffer keywords
/// of `buffers.rs`. `requires: keyword X` is answered from this list.
pub(crate) const KNOWN_KEYWORDS: &[&str] = &[
    // meta
    "msg",
    "sid",
    "rev",
    "gid",
    "classtype",
    "priority",
    "metadata",
    "reference",
    "target",
    "noalert",
    "tag",
    "prefilter",
    "config",
    "requires",
    "bypass",
    // payload
    "content",
    "uricontent",
    "nocase",
    "depth",
    "offset",
    "distance",
    "within",
    "startswith",
    "endswith",
    "fast_pattern",
    "rawbytes",
    "pcre",
    "isdataat",
    "bsize",
    "urilen",
    "dsize",
    // byte and decoding keywords
    "byte_test",
    "byte_jump",
    "byte_extract",
    "byte_math",
    "base64_decode",
    "asn1",
    // flow and state
    "flow",
    "flowbits",
    "flowint",
    "xbits",
    "threshold",
    "detection_filter",
    "stream_size",
    // packet
    "ttl",
    "itype",
    "icode",
    "icmp_id",
    "icmp_seq",
    "ip_proto",
    "id",
    "tos",
    "ipopts",
    "fragbits",
    "fragoffset",
    "flags",
    "tcp.flags",
    "seq",
    "ack",
    "window",
    "sameip",
    "ipv4-csum",
    "tcpv4-csum",
    "tcpv6-csum",
    "udpv4-csum",
    "udpv6-csum",
    "icmpv4-csum",
    "icmpv6-csum",
    "igmp-csum",
    "app-layer-event",
    "decode-event",
    "stream-event",
    "app-layer-protocol",
    "vlan.id",
    "vlan.layers",
    "icmpv6.mtu",
    "ftpbounce",
    // app-layer checks
    "tls.version",
    "ssl_version",
    "ssl_state",
    "tls.cert_chain_len",
    "tls_cert_notbefore",
    "tls_cert_notafter",
    "tls.cert_notbefore",
    "tls.cert_notafter",
    "tls_cert_expired",
    "tls.cert_expired",
    "tls_cert_valid",
    "tls.cert_valid",
    "tls.subject",
    "tls.issuerdn",
    "tls.fingerprint",
    "dns.opcode",
    "dns.rcode",
    "dns.rrtype",
    // transforms
    "to_lowercase",
    "to_uppercase",
    "strip_whitespace",
    "compress_whitespace",
    "url_decode",
    "dotprefix",
    "to_md5",
    "to_sha1",
    "to_sha256",
    "header_lowercase",
    "strip_pseudo_headers",
    "from_base64",
    "xor",
    "pcrexform",
];

/// The Suricata version this engine answers `requires: version` for.
pub(crate) const ENGINE_VERSION: (u32, u32, u32) = (8, 0, 0);

/// `requires: feature X` names this engine provides. Deliberately empty
/// until the sensor exposes optional features; rules needing one are
/// reported instead of loading and silently never matching.
const FEATURES: &[&str] = &[];

pub(super) fn apply(b: &mut Builder<'_>, name: &str, v: Option<&str>) -> PResult<bool> {
    match name {
        "msg" => {
            once(&mut b.seen_msg, name)?;
            b.sig.msg = unescape_text(need(name, v)?);
        }
        "sid" => {
            once(&mut b.seen_sid, name)?;
            let sid: u32 = num(need(name, v)?, name)?;
            if sid == 0 {
                return Err(Perr::invalid("sid must be greater than 0"));
            }
            b.sig.sid = sid;
        }
        "rev" => {
            once(&mut b.seen_rev, name)?;
            b.sig.rev = num(need(name, v)?, name)?;
        }
        "gid" => {
            once(&mut b.seen_gid, name)?;
            b.sig.gid = num(need(name, v)?, name)?;
        }
        "classtype" => {
            once(&mut b.seen_classtype, name)?;
            let c = need(name, v)?.trim();
            match b.classes.get(c) {
                Some(cl) => b.sig.classtype = Some(cl.name.clone()),
                None => return Err(Perr::invalid(format!("unknown classtype '{c}'"))),
            }
        }
        "priority" => {
            let p: u8 = num(need(name, v)?, name)?;
            if p == 0 {
                return Err(Perr::invalid("priority must be between 1 and 255"));
            }
            b.explicit_priority = Some(p);
        }
        "metadata" => {
            for item in parts(need(name, v)?) {
                if item.is_empty() {
                    continue;
                }
                let (k, val) = match item.split_once(char::is_whitespace) {
                    Some((k, val)) => (k, val.trim()),
                    None => (item, ""),
                };
                b.sig.metadata.push((k.to_string(), val.to_string()));
            }
        }
        "reference" => {
            let r = need(name, v)?;
            let (k, id) = r
                .split_once(',')
                .ok_or_else(|| Perr::syntax(format!("reference '{r}' is not 'type,id'")))?;
            let (k, id) = (k.trim(), unquote(id.trim()));
            if k.is_empty() || id.is_empty() {
                return Err(Perr::syntax(format!("reference '{r}' is not 'type,id'")));
            }
            b.sig.references.push((k.to_string(), id.to_string()));
        }
        "target" => {
            b.sig.target = Some(match need(name, v)?.trim() {
                "src_ip" => Target::Src,
                "dest_ip" => Target::Dst,
                t => {
                    return Err(Perr::syntax(format!(
                        "target must be src_ip or dest_ip, got '{t}'"
                    )))
                }
            });
        }
        "noalert" => {
            no_value(name, v)?;
            b.sig.noalert = true;
        }
        "prefilter" => {
            no_value(name, v)?;
            b.sig.prefilter = true;
        }
        "bypass" => no_value(name, v)?,
        "config" => b.sig.config = Some(need(name, v)?.trim().to_string()),
        "requires" => {
            // Already evaluated before the header was parsed; a rule only
            // gets here when its requirements hold.
            b.sig.requires = Some(need(name, v)?.trim().to_string());
        }
        "tag" => b.sig.tag = Some(parse_tag(need(name, v)?)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn once(seen: &mut bool, kw: &str) -> PResult<()> {
    if *seen {
        return Err(Perr::invalid(format!("duplicate '{kw}' keyword")));
    }
    *seen = true;
    Ok(())
}

fn parse_tag(v: &str) -> PResult<Tag> {
    let p: Vec<&str> = parts(v).collect();
    let session = match p[0] {
        "session" => true,
        "host" => false,
        t => {
            return Err(Perr::syntax(format!(
                "tag type must be session or host, got '{t}'"
            )))
        }
    };
    // Suricata's defaults when only the type is given.
    let count = match p.get(1) {
        Some(c) => num(c, "tag")?,
        None => 256,
    };
    let metric = match p.get(2).copied() {
        Some(m @ ("packets" | "seconds" | "bytes")) => m.to_string(),
        Some(m) => {
            return Err(Perr::syntax(format!(
                "tag metric must be packets, seconds or bytes, got '{m}'"
            )))
        }
        None => "packets".to_string(),
    };
    match p.get(3).copied() {
        None | Some("src") | Some("dst") => {}
        Some(d) => {
            return Err(Perr::syntax(format!(
                "tag direction must be src or dst, got '{d}'"
            )))
        }
    }
    Ok(Tag {
        session,
        count,
        metric,
    })
}

fn parse_version(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.trim().split('.');
    let a = it.next()?.parse().ok()?;
    let b = match it.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    let c = match it.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    if it.next().is_some() {
        return None;
    }
    Some((a, b, c))
}

/// One `|` alternative of a version requirement: `>= 7.0.3 < 8`.
fn version_alt_holds(alt: &str) -> PResult<bool> {
    let bad = || {
        Perr::syntax(format!(
            "requires: invalid version expression '{}'",
            alt.trim()
        ))
    };
    let mut rest = alt.trim();
    let mut any = false;
    while !rest.is_empty() {
        let (op, r) = ["<=", ">=", "<", ">", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|r| (*op, r)))
            .ok_or_else(bad)?;
        let r = r.trim_start();
        let end = r
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(r.len());
        let ver = parse_version(&r[..end]).ok_or_else(bad)?;
        let e = ENGINE_VERSION;
        let ok = match op {
            "<=" => e <= ver,
            ">=" => e >= ver,
            "<" => e < ver,
            ">" => e > ver,
            _ => e == ver,
        };
        if !ok {
            return Ok(false);
        }
        any = true;
        rest = r[end..].trim_start();
    }
    if !any {
        return Err(bad());
    }
    Ok(true)
}

/// Evaluates a `requires:` value; `Err` (kind [`RuleErrorKind::Requires`]
/// when unmet) says why the rule cannot load here.
pub(crate) fn check_requires(v: &str) -> PResult<()> {
    let unmet = |msg: String| Perr {
        kind: RuleErrorKind::Requires,
        msg,
    };
    for req in parts(v) {
        if req.is_empty() {
            continue;
        }
        let (key, arg) = match req.split_once(char::is_whitespace) {
            Some((k, a)) => (k, a.trim()),
            None => (req, ""),
        };
        match key {
            "version" => {
                let mut ok = false;
                for alt in arg.split('|') {
                    if version_alt_holds(alt)? {
                        ok = true;
                    }
                }
                if !ok {
                    let (a, b, c) = ENGINE_VERSION;
                    return Err(unmet(format!(
                        "requires Suricata version {arg} (this engine is {a}.{b}.{c})"
                    )));
                }
            }
            "feature" => {
                if !FEATURES.contains(&arg) {
                    return Err(unmet(format!(
                        "requires feature '{arg}', which this engine lacks"
                    )));
                }
            }
            "keyword" => {
                if !KNOWN_KEYWORDS.contains(&arg) && crate::buffers::lookup(arg).is_none() {
                    return Err(unmet(format!(
                        "requires keyword '{arg}', which this engine lacks"
                    )));
                }
            }
            _ => {
                return Err(unmet(format!(
                    "requires '{req}', which this engine does not know"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires() {
        assert!(check_requires("version >= 7").is_ok());
        assert!(check_requires("version >= 8").is_ok());
        assert!(check_requires("version >= 7.0.3 < 8 | >= 8.0.0").is_ok());
        let e = check_requires("version >= 8.1").unwrap_err();
        assert_eq!(e.kind, RuleErrorKind::Requires);
        assert!(e.msg.contains(">= 8.1"), "{}", e.msg);
        assert!(check_requires("version >= 7, version < 8").is_err());
        assert_eq!(
            check_requires("feature geoip").unwrap_err().kind,
            RuleErrorKind::Requires
        );
        assert!(check_requires("keyword http.uri, keyword content").is_ok());
        assert!(check_requires("keyword lua").is_err());
        assert_eq!(
            check_requires("version >= x").unwrap_err().kind,
            RuleErrorKind::Syntax
        );
    }

    #[test]
    fn tags() {
        let t = parse_tag("session,10,packets").unwrap();
        assert!(t.session && t.count == 10 && t.metric == "packets");
        let t = parse_tag("host,600,seconds,src").unwrap();
        assert!(!t.session && t.metric == "seconds");
        assert!(parse_tag("session").is_ok());
        assert!(parse_tag("flow,1,packets").is_err());
        assert!(parse_tag("host,1,minutes").is_err());
    }
}
