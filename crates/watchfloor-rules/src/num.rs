//! Numbers as rules write them: decimal or `0x` hex integers and the
//! comparison forms of Suricata's integer keywords.

use crate::error::{PResult, Perr};
use crate::sig::NumCmp;

pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
        t.parse().ok()
    } else {
        None
    }
}

pub(crate) fn parse_i64(s: &str) -> Option<i64> {
    let t = s.trim();
    match t.strip_prefix('-') {
        Some(r) => parse_u64(r).and_then(|v| i64::try_from(v).ok()).map(|v| -v),
        None => parse_u64(t.strip_prefix('+').unwrap_or(t)).and_then(|v| i64::try_from(v).ok()),
    }
}

/// A number that must fit `T`, with the keyword named in the error.
pub(crate) fn num<T: TryFrom<u64>>(s: &str, kw: &str) -> PResult<T> {
    parse_u64(s)
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| Perr::syntax(format!("invalid number '{}' for {kw}", s.trim())))
}

pub(crate) fn inum<T: TryFrom<i64>>(s: &str, kw: &str) -> PResult<T> {
    parse_i64(s)
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| Perr::syntax(format!("invalid number '{}' for {kw}", s.trim())))
}

/// `N`, `=N`, `!N`, `!=N`, `<N`, `<=N`, `>N`, `>=N`, `N-M`, `N<>M`,
/// `!N-M`; `max` bounds every number (e.g. 255 for `ttl`).
pub(crate) fn parse_numcmp(s: &str, kw: &str, max: u64) -> PResult<NumCmp> {
    let bad = || Perr::syntax(format!("invalid value '{}' for {kw}", s.trim()));
    let n = |x: &str| -> PResult<u64> {
        let v = parse_u64(x).ok_or_else(bad)?;
        if v > max {
            return Err(Perr::invalid(format!(
                "{kw} value {v} is out of range (max {max})"
            )));
        }
        Ok(v)
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let (neg, t) = match t.strip_prefix("!=") {
        Some(r) => (true, r.trim()),
        None => match t.strip_prefix('!') {
            Some(r) => (true, r.trim()),
            None => (false, t),
        },
    };
    let range = t.split_once("<>").or_else(|| {
        if t.starts_with('-') {
            None
        } else {
            t.split_once('-')
        }
    });
    if let Some((a, b)) = range {
        if a.trim().is_empty() || a.trim().starts_with(['<', '>', '=']) {
            return Err(bad());
        }
        let (a, b) = (n(a)?, n(b)?);
        if a >= b {
            return Err(Perr::invalid(format!(
                "{kw} range {a}-{b}: the first number must be smaller"
            )));
        }
        return Ok(if neg {
            NumCmp::NotRange(a, b)
        } else {
            NumCmp::Range(a, b)
        });
    }
    let cmp = if let Some(r) = t.strip_prefix("<=") {
        NumCmp::Le(n(r)?)
    } else if let Some(r) = t.strip_prefix(">=") {
        NumCmp::Ge(n(r)?)
    } else if let Some(r) = t.strip_prefix('<') {
        NumCmp::Lt(n(r)?)
    } else if let Some(r) = t.strip_prefix('>') {
        NumCmp::Gt(n(r)?)
    } else if let Some(r) = t.strip_prefix('=') {
        NumCmp::Eq(n(r)?)
    } else {
        NumCmp::Eq(n(t)?)
    };
    if neg {
        return match cmp {
            NumCmp::Eq(v) => Ok(NumCmp::Ne(v)),
            _ => Err(bad()),
        };
    }
    Ok(cmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numcmp_forms() {
        let p = |s| parse_numcmp(s, "dsize", u64::MAX).unwrap();
        assert_eq!(p("300"), NumCmp::Eq(300));
        assert_eq!(p(" > 300"), NumCmp::Gt(300));
        assert_eq!(p("<=5"), NumCmp::Le(5));
        assert_eq!(p(">=0x10"), NumCmp::Ge(16));
        assert_eq!(p("!5"), NumCmp::Ne(5));
        assert_eq!(p("!=5"), NumCmp::Ne(5));
        assert_eq!(p("300<>400"), NumCmp::Range(300, 400));
        assert_eq!(p("1-3"), NumCmp::Range(1, 3));
        assert_eq!(p("!1-3"), NumCmp::NotRange(1, 3));
        assert!(parse_numcmp("400<>300", "dsize", u64::MAX).is_err());
        assert!(parse_numcmp("abc", "dsize", u64::MAX).is_err());
        assert!(parse_numcmp("", "dsize", u64::MAX).is_err());
        assert!(parse_numcmp("-1", "dsize", u64::MAX).is_err());
        assert!(parse_numcmp("256", "ttl", 255).is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64("-12"), Some(-12));
        assert_eq!(parse_u64("0x1F"), Some(31));
        assert_eq!(parse_u64("1a"), None);
        assert!(num::<u8>("300", "x").is_err());
    }
}
