//! App-layer checks (TLS, SSL, DNS), the value-style legacy TLS keywords,
//! and transforms.

use super::{need, no_value, parts, Builder};
use crate::error::{PResult, Perr};
use crate::lexer::{decode_content, negation, unquote};
use crate::num::{num, parse_numcmp};
use crate::sig::{
    Base64Mode, Buffer, Check, Content, FastPattern, Inspection, Item, NumCmp, Transform,
    SSL_CLIENT_HELLO, SSL_CLIENT_KEYX, SSL_SERVER_HELLO, SSL_SERVER_KEYX, SSL_UNKNOWN,
};

pub(super) fn apply(b: &mut Builder<'_>, name: &str, v: Option<&str>) -> PResult<bool> {
    if let Some(t) = transform(name, v)? {
        let l = b.cur.ok_or_else(|| {
            Perr::invalid(format!(
                "transform '{name}' needs a sticky buffer before it"
            ))
        })?;
        if b.sig.inspections[l].items.is_empty() {
            b.sig.inspections[l].transforms.push(t);
        } else {
            // A transform after matches (`http.uri; content:"a";
            // from_base64; content:"b";`): the earlier matches stay on the
            // buffer as it was, later ones see it transformed, so the rule
            // continues in a new list of the same buffer.
            let mut transforms = b.sig.inspections[l].transforms.clone();
            transforms.push(t);
            let buffer = b.sig.inspections[l].buffer;
            b.sig.inspections.push(Inspection {
                buffer,
                transforms,
                items: Vec::new(),
            });
            b.cur = Some(b.sig.inspections.len() - 1);
        }
        return Ok(true);
    }
    let c = match name {
        "tls.version" => Check::TlsVersion(vec![tls_version(need(name, v)?)?]),
        "ssl_version" => ssl_version(need(name, v)?)?,
        "ssl_state" => ssl_state(need(name, v)?)?,
        "tls.cert_chain_len" => {
            Check::TlsCertChainLen(parse_numcmp(need(name, v)?, name, u32::MAX as u64)?)
        }
        "tls_cert_notbefore" | "tls.cert_notbefore" | "tls_cert_notafter" | "tls.cert_notafter" => {
            Check::TlsCertValidity {
                not_after: name.ends_with("notafter"),
                op: date_cmp(need(name, v)?, name)?,
            }
        }
        "tls_cert_expired" | "tls.cert_expired" => {
            no_value(name, v)?;
            Check::TlsCertExpired(true)
        }
        "tls_cert_valid" | "tls.cert_valid" => {
            no_value(name, v)?;
            Check::TlsCertExpired(false)
        }
        "tls.subject" | "tls.issuerdn" | "tls.fingerprint" => {
            legacy_tls(b, name, need(name, v)?)?;
            return Ok(true);
        }
        "dns.opcode" => {
            let (negated, r) = negation(need(name, v)?);
            Check::DnsOpcode {
                negated,
                op: parse_numcmp(r, name, 15)?,
            }
        }
        "dns.rcode" => Check::DnsRcode(parse_numcmp(need(name, v)?, name, 4095)?),
        "dns.rrtype" => {
            let mut it = parts(need(name, v)?);
            let op = parse_numcmp(it.next().unwrap_or(""), name, 65535)?;
            match it.next() {
                None | Some("any") => {}
                Some(i) => {
                    return Err(Perr::invalid(format!(
                        "dns.rrtype with a per-record index ('{i}') is not supported"
                    )))
                }
            }
            Check::DnsRrtype(op)
        }
        _ => return Ok(false),
    };
    b.sig.checks.push(c);
    Ok(true)
}

fn transform(name: &str, v: Option<&str>) -> PResult<Option<Transform>> {
    let simple = match name {
        "to_lowercase" => Some(Transform::ToLowercase),
        "to_uppercase" => Some(Transform::ToUppercase),
        "strip_whitespace" => Some(Transform::StripWhitespace),
        "compress_whitespace" => Some(Transform::CompressWhitespace),
        "url_decode" => Some(Transform::UrlDecode),
        "dotprefix" => Some(Transform::Dotprefix),
        "to_md5" => Some(Transform::ToMd5),
        "to_sha1" => Some(Transform::ToSha1),
        "to_sha256" => Some(Transform::ToSha256),
        "header_lowercase" => Some(Transform::HeaderLowercase),
        "strip_pseudo_headers" => Some(Transform::StripPseudoHeaders),
        _ => None,
    };
    if let Some(t) = simple {
        no_value(name, v)?;
        return Ok(Some(t));
    }
    Ok(Some(match name {
        "from_base64" => {
            let (mut offset, mut bytes, mut mode) = (0u32, None, Base64Mode::default());
            for o in parts(v.unwrap_or("")).filter(|o| !o.is_empty()) {
                let (k, a) = o
                    .split_once(char::is_whitespace)
                    .map(|(k, a)| (k, a.trim()))
                    .unwrap_or((o, ""));
                match k {
                    "offset" => offset = num(a, name)?,
                    "bytes" => bytes = Some(num(a, name)?),
                    "mode" => {
                        mode = match a {
                            "rfc4648" => Base64Mode::Rfc4648,
                            "rfc2045" => Base64Mode::Rfc2045,
                            "strict" => Base64Mode::Strict,
                            m => {
                                return Err(Perr::syntax(format!("invalid from_base64 mode '{m}'")))
                            }
                        }
                    }
                    _ => return Err(Perr::syntax(format!("invalid from_base64 option '{o}'"))),
                }
            }
            Transform::FromBase64 {
                offset,
                bytes,
                mode,
            }
        }
        "xor" => {
            let k = unquote(need(name, v)?);
            if k.is_empty() || k.len() & 1 == 1 || !k.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(Perr::syntax(format!(
                    "xor key '{k}' must be an even number of hex digits"
                )));
            }
            let key = (0..k.len())
                .step_by(2)
                .map(|i| {
                    u8::from_str_radix(&k[i..i + 2], 16)
                        .map_err(|_| Perr::syntax("invalid xor key"))
                })
                .collect::<PResult<Vec<u8>>>()?;
            Transform::Xor(key)
        }
        "pcrexform" => {
            let re = unquote(need(name, v)?);
            if re.is_empty() {
                return Err(Perr::syntax("pcrexform needs a regular expression"));
            }
            if !has_capture_group(re) {
                return Err(Perr::invalid("pcrexform needs a capture group"));
            }
            Transform::Pcrexform(re.replace("\\;", ";"))
        }
        _ => return Ok(None),
    }))
}

/// A `(` that opens a capturing group: not escaped, not `(?:`-style.
fn has_capture_group(re: &str) -> bool {
    let b = re.as_bytes();
    let mut esc = false;
    for (i, &c) in b.iter().enumerate() {
        if esc {
            esc = false;
        } else if c == b'\\' {
            esc = true;
        } else if c == b'('
            && (b.get(i + 1) != Some(&b'?')
                || re[i + 1..].starts_with("?P<")
                || re[i + 1..].starts_with("?<"))
        {
            return true;
        }
    }
    false
}

fn tls_version(v: &str) -> PResult<u16> {
    let t = v.trim();
    Ok(match t {
        "1.0" => 0x0301,
        "1.1" => 0x0302,
        "1.2" => 0x0303,
        "1.3" => 0x0304,
        "3.0" | "ssl3" => 0x0300,
        "2.0" | "ssl2" => 0x0200,
        h => {
            let hex = h
                .strip_prefix("0x")
                .ok_or_else(|| Perr::syntax(format!("invalid tls.version '{h}'")))?;
            u16::from_str_radix(hex, 16)
                .map_err(|_| Perr::syntax(format!("invalid tls.version '{h}'")))?
        }
    })
}

fn ssl_version(v: &str) -> PResult<Check> {
    let (mut any, mut not) = (Vec::new(), Vec::new());
    for p in parts(v) {
        let (neg, name) = negation(p);
        let ver = match name {
            "sslv2" => 0x0200,
            "sslv3" => 0x0300,
            "tls1.0" => 0x0301,
            "tls1.1" => 0x0302,
            "tls1.2" => 0x0303,
            "tls1.3" => 0x0304,
            o => return Err(Perr::syntax(format!("invalid ssl_version '{o}'"))),
        };
        if neg {
            not.push(ver)
        } else {
            any.push(ver)
        }
    }
    Ok(if !not.is_empty() {
        Check::SslVersion { any, not }
    } else {
        Check::TlsVersion(any)
    })
}

fn ssl_state(v: &str) -> PResult<Check> {
    let (mut states, mut negated) = (0u8, 0u8);
    for p in v.split(['|', ',']).map(str::trim) {
        let (neg, name) = negation(p);
        let bit = match name {
            "client_hello" => SSL_CLIENT_HELLO,
            "server_hello" => SSL_SERVER_HELLO,
            "client_keyx" => SSL_CLIENT_KEYX,
            "server_keyx" => SSL_SERVER_KEYX,
            "unknown" => SSL_UNKNOWN,
            o => return Err(Perr::syntax(format!("invalid ssl_state '{o}'"))),
        };
        if neg {
            negated |= bit
        } else {
            states |= bit
        }
    }
    Ok(Check::SslState { states, negated })
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `YYYY[-MM[-DD[THH[:MM[:SS]]]]]` to a unix time (UTC).
fn parse_date(s: &str) -> Option<u64> {
    let s = s.trim();
    let (date, time) = s.split_once('T').unwrap_or((s, ""));
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let mo: i64 = d.next().map(str::parse).transpose().ok()?.unwrap_or(1);
    let da: i64 = d.next().map(str::parse).transpose().ok()?.unwrap_or(1);
    if d.next().is_some()
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&da)
        || !(1970..=9999).contains(&y)
    {
        return None;
    }
    let mut t = time.split(':').filter(|x| !x.is_empty());
    let h: i64 = t.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    let mi: i64 = t.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    let se: i64 = t.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    u64::try_from(days_from_civil(y, mo, da) * 86400 + h * 3600 + mi * 60 + se).ok()
}

fn date_cmp(v: &str, kw: &str) -> PResult<NumCmp> {
    let bad = || Perr::syntax(format!("invalid date '{}' for {kw}", v.trim()));
    let t = v.trim();
    if let Some((a, b)) = t.split_once("<>") {
        let (a, b) = (
            parse_date(a).ok_or_else(bad)?,
            parse_date(b).ok_or_else(bad)?,
        );
        return if a < b {
            Ok(NumCmp::Range(a, b))
        } else {
            Err(bad())
        };
    }
    Ok(if let Some(r) = t.strip_prefix('<') {
        NumCmp::Lt(parse_date(r).ok_or_else(bad)?)
    } else if let Some(r) = t.strip_prefix('>') {
        NumCmp::Gt(parse_date(r).ok_or_else(bad)?)
    } else {
        NumCmp::Eq(parse_date(t).ok_or_else(bad)?)
    })
}

/// `tls.subject:"CN=x"` and friends (pre-sticky-buffer keywords that carry
/// their own value): a substring match on the certificate field, written
/// as a one-content inspection of the matching buffer. `tls.fingerprint`
/// compares the whole value.
fn legacy_tls(b: &mut Builder<'_>, name: &str, v: &str) -> PResult<()> {
    let (negated, s) = negation(v);
    let quoted = if s.starts_with('"') {
        s.to_string()
    } else {
        format!("\"{s}\"")
    };
    let pattern = decode_content(&quoted, name)?;
    if pattern.is_empty() {
        return Err(Perr::invalid(format!("{name} is empty")));
    }
    let (buffer, whole) = match name {
        "tls.subject" => (Buffer::TlsCertSubject, false),
        "tls.issuerdn" => (Buffer::TlsCertIssuer, false),
        _ => (Buffer::TlsCertFingerprint, true),
    };
    b.sig.inspections.push(Inspection {
        buffer,
        transforms: Vec::new(),
        items: vec![Item::Content(Box::new(Content {
            pattern,
            negated,
            nocase: whole,
            offset: None,
            depth: None,
            distance: None,
            within: None,
            startswith: whole,
            endswith: whole,
            fast_pattern: FastPattern::default(),
            rawbytes: false,
        }))],
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970"), Some(0));
        assert_eq!(parse_date("2015"), Some(1_420_070_400));
        assert_eq!(parse_date("2000-03-01T12:30:15"), Some(951_913_815));
        assert!(parse_date("2015-13").is_none());
        assert_eq!(date_cmp(">2015", "x").unwrap(), NumCmp::Gt(1_420_070_400));
        assert!(date_cmp("2016<>2015", "x").is_err());
    }

    #[test]
    fn versions_and_states() {
        assert_eq!(tls_version("1.2").unwrap(), 0x0303);
        assert_eq!(tls_version("0x7f12").unwrap(), 0x7f12);
        assert!(tls_version("9").is_err());
        assert_eq!(
            ssl_version("tls1.0,tls1.1").unwrap(),
            Check::TlsVersion(vec![0x0301, 0x0302])
        );
        assert_eq!(
            ssl_version("!tls1.3,tls1.2").unwrap(),
            Check::SslVersion {
                any: vec![0x0303],
                not: vec![0x0304]
            }
        );
        assert_eq!(
            ssl_state("client_hello|!unknown").unwrap(),
            Check::SslState {
                states: SSL_CLIENT_HELLO,
                negated: SSL_UNKNOWN
            }
        );
        assert!(ssl_state("hello").is_err());
    }

    #[test]
    fn transforms() {
        assert_eq!(
            transform("dotprefix", None).unwrap(),
            Some(Transform::Dotprefix)
        );
        assert!(transform("dotprefix", Some("x")).is_err());
        assert_eq!(
            transform("from_base64", Some("bytes 6, offset 6, mode strict")).unwrap(),
            Some(Transform::FromBase64 {
                offset: 6,
                bytes: Some(6),
                mode: Base64Mode::Strict
            })
        );
        assert_eq!(
            transform("xor", Some("\"0d0ac8ff\"")).unwrap(),
            Some(Transform::Xor(vec![0x0d, 0x0a, 0xc8, 0xff]))
        );
        assert!(transform("xor", Some("\"0d0\"")).is_err());
        assert!(transform("pcrexform", Some("\"(?:a)\"")).is_err());
        assert!(transform("pcrexform", Some("\"a(b)\"")).unwrap().is_some());
        assert_eq!(transform("content", Some("x")).unwrap(), None);
    }
}
