//! Flow and state keywords: `flow`, `flowbits`, `flowint`, `xbits`,
//! `threshold`, `detection_filter`, `stream_size`.

use super::{need, parts, Builder};
use crate::error::{PResult, Perr};
use crate::num::num;
use crate::sig::{
    Check, FlowOpts, FlowbitCmd, Flowbits, Flowint, FlowintOp, FlowintVal, NumCmp, StreamSide,
    Threshold, ThresholdKind, Track, Xbits,
};
use crate::FlowDir;

pub(super) fn apply(b: &mut Builder<'_>, name: &str, v: Option<&str>) -> PResult<bool> {
    match name {
        "flow" => {
            if b.seen_flow {
                return Err(Perr::invalid("duplicate 'flow' keyword"));
            }
            b.seen_flow = true;
            let f = parse_flow(need(name, v)?)?;
            b.sig.checks.push(Check::Flow(f));
        }
        "flowbits" => {
            let f = parse_flowbits(need(name, v)?)?;
            if f.cmd == FlowbitCmd::NoAlert {
                b.sig.noalert = true;
            }
            b.sig.checks.push(Check::Flowbits(f));
        }
        "flowint" => b
            .sig
            .checks
            .push(Check::Flowint(parse_flowint(need(name, v)?)?)),
        "xbits" => b
            .sig
            .checks
            .push(Check::Xbits(parse_xbits(need(name, v)?)?)),
        "threshold" => {
            if b.sig.threshold.is_some() {
                return Err(Perr::invalid("duplicate 'threshold' keyword"));
            }
            b.sig.threshold = Some(parse_threshold(need(name, v)?, false)?);
        }
        "detection_filter" => {
            if b.sig.detection_filter.is_some() {
                return Err(Perr::invalid("duplicate 'detection_filter' keyword"));
            }
            b.sig.detection_filter = Some(parse_threshold(need(name, v)?, true)?);
        }
        "stream_size" => {
            let p: Vec<&str> = parts(need(name, v)?).collect();
            if p.len() != 3 {
                return Err(Perr::syntax("stream_size needs 'side,operator,bytes'"));
            }
            let side = match p[0] {
                "server" => StreamSide::Server,
                "client" => StreamSide::Client,
                "both" => StreamSide::Both,
                "either" => StreamSide::Either,
                s => return Err(Perr::syntax(format!("invalid stream_size side '{s}'"))),
            };
            let n: u64 = num::<u32>(p[2], name)? as u64;
            let op = match p[1] {
                "<" => NumCmp::Lt(n),
                ">" => NumCmp::Gt(n),
                "=" => NumCmp::Eq(n),
                "!=" => NumCmp::Ne(n),
                "<=" => NumCmp::Le(n),
                ">=" => NumCmp::Ge(n),
                o => return Err(Perr::syntax(format!("invalid stream_size operator '{o}'"))),
            };
            b.sig.checks.push(Check::StreamSize { side, op });
        }
        _ => return Ok(false),
    }
    Ok(true)
}

pub(crate) fn parse_flow(v: &str) -> PResult<FlowOpts> {
    let mut f = FlowOpts::default();
    for o in parts(v) {
        let dir = match o {
            "to_server" | "from_client" => Some(FlowDir::ToServer),
            "to_client" | "from_server" => Some(FlowDir::ToClient),
            _ => None,
        };
        if let Some(d) = dir {
            if f.dir.is_some_and(|x| x != d) {
                return Err(Perr::invalid(
                    "flow: to_server and to_client exclude each other",
                ));
            }
            f.dir = Some(d);
            continue;
        }
        match o {
            "established" => f.established = true,
            "not_established" => f.not_established = true,
            "stateless" => f.stateless = true,
            "only_stream" => f.only_stream = true,
            "no_stream" => f.no_stream = true,
            "only_frag" => f.only_frag = true,
            "no_frag" => f.no_frag = true,
            _ => return Err(Perr::syntax(format!("invalid flow option '{o}'"))),
        }
    }
    if f.established && f.not_established {
        return Err(Perr::invalid(
            "flow: established and not_established exclude each other",
        ));
    }
    if f.established && f.stateless {
        return Err(Perr::invalid(
            "flow: established and stateless exclude each other",
        ));
    }
    if f.only_stream && f.no_stream {
        return Err(Perr::invalid(
            "flow: only_stream and no_stream exclude each other",
        ));
    }
    if f.only_frag && f.no_frag {
        return Err(Perr::invalid(
            "flow: only_frag and no_frag exclude each other",
        ));
    }
    Ok(f)
}

fn flowbit_cmd(s: &str) -> Option<FlowbitCmd> {
    Some(match s {
        "set" => FlowbitCmd::Set,
        "unset" => FlowbitCmd::Unset,
        "toggle" => FlowbitCmd::Toggle,
        "isset" => FlowbitCmd::IsSet,
        "isnotset" => FlowbitCmd::IsNotSet,
        "noalert" => FlowbitCmd::NoAlert,
        _ => return None,
    })
}

fn valid_bit_name(n: &str) -> bool {
    !n.is_empty() && !n.contains(char::is_whitespace)
}

pub(crate) fn parse_flowbits(v: &str) -> PResult<Flowbits> {
    let (cmd, names) = match v.split_once(',') {
        Some((c, n)) => (c.trim(), Some(n.trim())),
        None => (v.trim(), None),
    };
    let cmd = flowbit_cmd(cmd)
        .ok_or_else(|| Perr::syntax(format!("invalid flowbits command '{cmd}'")))?;
    let names = match (cmd.clone(), names) {
        (FlowbitCmd::NoAlert, None) => {
            return Ok(Flowbits {
                cmd,
                names: Vec::new(),
                any: false,
            })
        }
        (FlowbitCmd::NoAlert, Some(_)) => {
            return Err(Perr::syntax("flowbits:noalert takes no name"))
        }
        (_, None) | (_, Some("")) => return Err(Perr::syntax("flowbits needs a name")),
        (_, Some(n)) => n,
    };
    let any = names.contains('|');
    if any && names.contains('&') {
        return Err(Perr::syntax("flowbits cannot mix '|' and '&'"));
    }
    if any && !matches!(cmd, FlowbitCmd::IsSet | FlowbitCmd::IsNotSet) {
        return Err(Perr::invalid(
            "flowbits: 'a|b' is only valid with isset and isnotset",
        ));
    }
    let list: Vec<String> = names
        .split(['|', '&'])
        .map(|n| n.trim().to_string())
        .collect();
    if let Some(bad) = list.iter().find(|n| !valid_bit_name(n)) {
        return Err(Perr::syntax(format!("invalid flowbit name '{bad}'")));
    }
    Ok(Flowbits {
        cmd,
        names: list,
        any,
    })
}

pub(crate) fn parse_flowint(v: &str) -> PResult<Flowint> {
    let p: Vec<&str> = parts(v).collect();
    if p.len() < 2 || p[0].is_empty() {
        return Err(Perr::syntax("flowint needs 'name,operator[,value]'"));
    }
    let op = match p[1] {
        "=" => FlowintOp::Set,
        "+" => FlowintOp::Add,
        "-" => FlowintOp::Sub,
        "<" => FlowintOp::Lt,
        "<=" => FlowintOp::Le,
        "==" => FlowintOp::Eq,
        "!=" => FlowintOp::Ne,
        ">=" => FlowintOp::Ge,
        ">" => FlowintOp::Gt,
        "isset" => FlowintOp::IsSet,
        "isnotset" | "notset" => FlowintOp::IsNotSet,
        o => return Err(Perr::syntax(format!("invalid flowint operator '{o}'"))),
    };
    let needs_value = !matches!(op, FlowintOp::IsSet | FlowintOp::IsNotSet);
    let value = match (needs_value, p.get(2)) {
        (false, None) => None,
        (false, Some(_)) => return Err(Perr::syntax("flowint isset/isnotset take no value")),
        (true, None) => {
            return Err(Perr::syntax(format!(
                "flowint operator '{}' needs a value",
                p[1]
            )))
        }
        (true, Some(x)) => Some(match x.parse::<u32>() {
            Ok(n) => FlowintVal::Lit(n),
            Err(_)
                if valid_bit_name(x)
                    && !x.starts_with(|c: char| c.is_ascii_digit() || c == '-') =>
            {
                FlowintVal::Var((*x).to_string())
            }
            Err(_) => return Err(Perr::syntax(format!("invalid flowint value '{x}'"))),
        }),
    };
    if p.len() > 3 {
        return Err(Perr::syntax("flowint has too many arguments"));
    }
    Ok(Flowint {
        name: p[0].to_string(),
        op,
        value,
    })
}

pub(crate) fn parse_xbits(v: &str) -> PResult<Xbits> {
    let p: Vec<&str> = parts(v).collect();
    if p.len() < 3 {
        return Err(Perr::syntax(
            "xbits needs 'command,name,track ip_src|ip_dst|ip_pair'",
        ));
    }
    let cmd = flowbit_cmd(p[0])
        .filter(|c| *c != FlowbitCmd::NoAlert)
        .ok_or_else(|| Perr::syntax(format!("invalid xbits command '{}'", p[0])))?;
    if !valid_bit_name(p[1]) {
        return Err(Perr::syntax(format!("invalid xbits name '{}'", p[1])));
    }
    let track = match p[2].split_whitespace().collect::<Vec<_>>().as_slice() {
        ["track", "ip_src"] => Track::BySrc,
        ["track", "ip_dst"] => Track::ByDst,
        ["track", "ip_pair"] => Track::IpPair,
        _ => return Err(Perr::syntax(format!("invalid xbits track '{}'", p[2]))),
    };
    let mut expire = None;
    for o in &p[3..] {
        match o.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["expire", n] => expire = Some(num(n, "xbits expire")?),
            _ => return Err(Perr::syntax(format!("invalid xbits option '{o}'"))),
        }
    }
    Ok(Xbits {
        cmd,
        name: p[1].to_string(),
        track,
        expire,
    })
}

pub(crate) fn parse_track(s: &str) -> Option<Track> {
    Some(match s {
        "by_src" => Track::BySrc,
        "by_dst" => Track::ByDst,
        "by_rule" => Track::ByRule,
        "by_both" => Track::ByBoth,
        "by_flow" => Track::ByFlow,
        _ => return None,
    })
}

/// `threshold: type T, track X, count N, seconds M` (any order) or, for
/// `detection_filter`, the same without `type`.
pub(crate) fn parse_threshold(v: &str, detection_filter: bool) -> PResult<Threshold> {
    let kw = if detection_filter {
        "detection_filter"
    } else {
        "threshold"
    };
    let (mut kind, mut track, mut count, mut seconds) = (None, None, None, None);
    let mut multiplier = None;
    for o in parts(v) {
        let (k, a) = o
            .split_once(char::is_whitespace)
            .map(|(k, a)| (k, a.trim()))
            .ok_or_else(|| Perr::syntax(format!("invalid {kw} option '{o}'")))?;
        match k {
            "type" if !detection_filter => {
                kind = Some(match a {
                    "limit" => ThresholdKind::Limit,
                    "threshold" => ThresholdKind::Threshold,
                    "both" => ThresholdKind::Both,
                    "backoff" => ThresholdKind::Backoff { multiplier: 0 },
                    t => return Err(Perr::syntax(format!("unsupported {kw} type '{t}'"))),
                })
            }
            "track" => {
                track = Some(
                    parse_track(a)
                        .ok_or_else(|| Perr::syntax(format!("invalid {kw} track '{a}'")))?,
                )
            }
            "count" => count = Some(num::<u32>(a, kw)?),
            "seconds" => seconds = Some(num::<u32>(a, kw)?),
            "multiplier" if !detection_filter => multiplier = Some(num::<u32>(a, kw)?),
            _ => return Err(Perr::syntax(format!("invalid {kw} option '{o}'"))),
        }
    }
    let missing = |w: &str| Perr::syntax(format!("{kw} needs '{w}'"));
    let kind = if detection_filter {
        ThresholdKind::DetectionFilter
    } else {
        kind.ok_or_else(|| missing("type"))?
    };
    let track = track.ok_or_else(|| missing("track"))?;
    let count = count.ok_or_else(|| missing("count"))?;
    if let ThresholdKind::Backoff { .. } = kind {
        if seconds.is_some() {
            return Err(Perr::syntax("threshold type backoff takes no 'seconds'"));
        }
        let m = multiplier.ok_or_else(|| missing("multiplier"))?;
        if m < 2 || count == 0 {
            return Err(Perr::invalid(
                "threshold backoff needs count > 0 and multiplier > 1",
            ));
        }
        return Ok(Threshold {
            kind: ThresholdKind::Backoff { multiplier: m },
            track,
            count,
            seconds: 0,
        });
    }
    if multiplier.is_some() {
        return Err(Perr::syntax(
            "'multiplier' is only valid with threshold type backoff",
        ));
    }
    Ok(Threshold {
        kind,
        track,
        count,
        seconds: seconds.ok_or_else(|| missing("seconds"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow() {
        let f = parse_flow("established,to_server").unwrap();
        assert!(f.established && f.dir == Some(FlowDir::ToServer));
        assert_eq!(
            parse_flow("from_server").unwrap().dir,
            Some(FlowDir::ToClient)
        );
        assert!(parse_flow("to_server,to_client").is_err());
        assert!(parse_flow("established,not_established").is_err());
        assert!(parse_flow("sideways").is_err());
    }

    #[test]
    fn flowbits() {
        let f = parse_flowbits("isset,a|b").unwrap();
        assert!(f.any && f.names == ["a", "b"]);
        let f = parse_flowbits("set, ET.foo").unwrap();
        assert_eq!(
            (f.cmd, f.names),
            (FlowbitCmd::Set, vec!["ET.foo".to_string()])
        );
        let f = parse_flowbits("isset,a&b").unwrap();
        assert!(!f.any && f.names.len() == 2);
        assert_eq!(parse_flowbits("noalert").unwrap().cmd, FlowbitCmd::NoAlert);
        assert!(parse_flowbits("set").is_err());
        assert!(parse_flowbits("set,a|b").is_err());
        assert!(parse_flowbits("frob,a").is_err());
    }

    #[test]
    fn flowint() {
        let f = parse_flowint("cnt,+,1").unwrap();
        assert_eq!((f.op, f.value), (FlowintOp::Add, Some(FlowintVal::Lit(1))));
        let f = parse_flowint("cnt, >, other").unwrap();
        assert_eq!(f.value, Some(FlowintVal::Var("other".into())));
        assert_eq!(parse_flowint("cnt,isset").unwrap().op, FlowintOp::IsSet);
        assert!(parse_flowint("cnt,+").is_err());
        assert!(parse_flowint("cnt,**,1").is_err());
    }

    #[test]
    fn xbits_and_thresholds() {
        let x = parse_xbits("set,ET.x,track ip_src,expire 3600").unwrap();
        assert_eq!((x.track, x.expire), (Track::BySrc, Some(3600)));
        assert!(parse_xbits("set,x,track flow").is_err());
        let t = parse_threshold("type limit, track by_src, count 1, seconds 3600", false).unwrap();
        assert_eq!(
            (t.kind, t.track, t.count, t.seconds),
            (ThresholdKind::Limit, Track::BySrc, 1, 3600)
        );
        let t = parse_threshold("track by_dst, count 5, seconds 60", true).unwrap();
        assert_eq!(t.kind, ThresholdKind::DetectionFilter);
        assert!(parse_threshold("type limit, track by_src, count 1", false).is_err());
        let t =
            parse_threshold("type backoff, track by_flow, count 1, multiplier 10", false).unwrap();
        assert_eq!(
            (t.kind, t.count, t.seconds),
            (ThresholdKind::Backoff { multiplier: 10 }, 1, 0)
        );
        assert!(parse_threshold("type backoff, track by_flow, count 1", false).is_err());
        assert!(parse_threshold(
            "type limit, track by_src, count 1, seconds 1, multiplier 2",
            false
        )
        .is_err());
        assert!(
            parse_threshold("type sometimes, track by_src, count 1, seconds 1", false).is_err()
        );
    }
}
