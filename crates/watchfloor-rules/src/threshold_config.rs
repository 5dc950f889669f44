//! `threshold.config`: global suppress, threshold/event_filter and
//! rate_filter entries keyed by gen_id/sig_id (0 = all).
//!
//! ```text
//! suppress gen_id 1, sig_id 2002087, track by_src, ip 10.0.0.0/8
//! threshold gen_id 1, sig_id 2002087, type limit, track by_src, count 1, seconds 60
//! event_filter gen_id 1, sig_id 1000, type both, track by_dst, count 5, seconds 60
//! rate_filter gen_id 1, sig_id 1000, track by_rule, count 100, seconds 60, new_action alert, timeout 30
//! ```

use std::path::Path;

use crate::error::ConfigError;
use crate::header::parse_action;
use crate::keywords::parse_track;
use crate::sig::{Action, AddrSet, Threshold, ThresholdKind, Track};
use crate::vars::Vars;

/// `track` of a `suppress` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressTrack {
    BySrc,
    ByDst,
    /// The source or the destination address is in the set.
    ByEither,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThresholdEntry {
    /// Alerts of gid:sid are dropped: all of them, or those whose
    /// tracked address is in the set.
    Suppress {
        gid: u32,
        sid: u32,
        track: Option<(SuppressTrack, AddrSet)>,
    },
    /// `threshold` and `event_filter` (the same thing): replaces the rule's
    /// own `threshold`.
    Threshold {
        gid: u32,
        sid: u32,
        threshold: Threshold,
    },
    RateFilter {
        gid: u32,
        sid: u32,
        threshold: Threshold,
        new_action: Action,
        timeout: u32,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThresholdConfig {
    pub entries: Vec<ThresholdEntry>,
}

/// Splits `k v, k v` at commas outside `[...]` (suppress `ip` lists).
fn fields(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

impl ThresholdConfig {
    pub fn parse(text: &str, origin: &str, vars: &Vars) -> Result<ThresholdConfig, ConfigError> {
        let mut cfg = ThresholdConfig::default();
        let mut pending = String::new();
        let mut first_line = 0;
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if pending.is_empty() && (l.is_empty() || l.starts_with('#')) {
                continue;
            }
            if pending.is_empty() {
                first_line = i + 1;
            }
            if let Some(cont) = l.strip_suffix('\\') {
                pending.push_str(cont);
                continue;
            }
            pending.push_str(l);
            let entry = parse_line(&pending, vars).map_err(|reason| ConfigError {
                file: origin.to_string(),
                line: first_line,
                reason,
            })?;
            cfg.entries.push(entry);
            pending.clear();
        }
        if !pending.is_empty() {
            return Err(ConfigError {
                file: origin.to_string(),
                line: first_line,
                reason: "file ends inside a continued line".to_string(),
            });
        }
        Ok(cfg)
    }

    pub fn from_file(path: &Path, vars: &Vars) -> Result<ThresholdConfig, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: origin.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        ThresholdConfig::parse(&text, &origin, vars)
    }
}

fn parse_line(l: &str, vars: &Vars) -> Result<ThresholdEntry, String> {
    let (kind, rest) = l
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("incomplete line '{l}'"))?;
    let mut gid = None;
    let mut sid = None;
    let mut ttype = None;
    let mut track_s: Option<&str> = None;
    let mut count = None;
    let mut seconds = None;
    let mut ip = None;
    let mut new_action = None;
    let mut timeout = None;
    let n = |v: &str, k: &str| -> Result<u32, String> {
        v.parse::<u32>()
            .map_err(|_| format!("invalid number '{v}' for {k}"))
    };
    for f in fields(rest) {
        let (k, v) = f
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k, v.trim()))
            .ok_or_else(|| format!("expected 'key value', got '{f}'"))?;
        match k {
            "gen_id" => gid = Some(n(v, k)?),
            "sig_id" => sid = Some(n(v, k)?),
            "type" => ttype = Some(v),
            "track" => track_s = Some(v),
            "count" => count = Some(n(v, k)?),
            "seconds" => seconds = Some(n(v, k)?),
            "ip" => ip = Some(v),
            "new_action" => new_action = Some(v),
            "timeout" => timeout = Some(n(v, k)?),
            _ => return Err(format!("unknown field '{k}'")),
        }
    }
    let gid = gid.ok_or("missing gen_id")?;
    let sid = sid.ok_or("missing sig_id")?;
    match kind {
        "suppress" => {
            let track = match (track_s, ip) {
                (None, None) => None,
                (Some(t), Some(ip)) => {
                    let t = match t {
                        "by_src" => SuppressTrack::BySrc,
                        "by_dst" => SuppressTrack::ByDst,
                        "by_either" => SuppressTrack::ByEither,
                        o => return Err(format!("invalid suppress track '{o}'")),
                    };
                    let set = vars
                        .resolve_address(ip)
                        .map_err(|e| format!("suppress ip: {e}"))?;
                    Some((t, set))
                }
                (Some(_), None) => return Err("suppress with track needs ip".to_string()),
                (None, Some(_)) => return Err("suppress with ip needs track".to_string()),
            };
            Ok(ThresholdEntry::Suppress { gid, sid, track })
        }
        "threshold" | "event_filter" | "rate_filter" => {
            let track: Track = parse_track(track_s.ok_or("missing track")?)
                .ok_or_else(|| format!("invalid track '{}'", track_s.unwrap_or("")))?;
            let count = count.ok_or("missing count")?;
            let seconds = seconds.ok_or("missing seconds")?;
            if kind == "rate_filter" {
                let a = new_action.ok_or("missing new_action")?;
                let new_action = parse_action(a)
                    .filter(|a| *a != Action::Config)
                    .ok_or_else(|| format!("invalid new_action '{a}'"))?;
                return Ok(ThresholdEntry::RateFilter {
                    gid,
                    sid,
                    threshold: Threshold {
                        kind: ThresholdKind::Rate,
                        track,
                        count,
                        seconds,
                    },
                    new_action,
                    timeout: timeout.ok_or("missing timeout")?,
                });
            }
            let kind = match ttype.ok_or("missing type")? {
                "limit" => ThresholdKind::Limit,
                "threshold" => ThresholdKind::Threshold,
                "both" => ThresholdKind::Both,
                o => return Err(format!("invalid type '{o}'")),
            };
            Ok(ThresholdEntry::Threshold {
                gid,
                sid,
                threshold: Threshold {
                    kind,
                    track,
                    count,
                    seconds,
                },
            })
        }
        o => Err(format!("unknown entry '{o}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let v = Vars::default();
        let c = ThresholdConfig::parse(
            "# x\nsuppress gen_id 1, sig_id 2002087, track by_src, ip [10.0.0.1, 10.0.0.2]\n\
             suppress gen_id 1, sig_id 5\n\
             threshold gen_id 1, sig_id 7, type limit, track by_src, count 1, seconds 60\n\
             event_filter gen_id 1, sig_id 8, \\\n type both, track by_dst, count 5, seconds 60\n\
             rate_filter gen_id 1, sig_id 9, track by_rule, count 100, seconds 60, new_action drop, timeout 30\n",
            "threshold.config",
            &v,
        )
        .unwrap();
        assert_eq!(c.entries.len(), 5);
        match &c.entries[0] {
            ThresholdEntry::Suppress {
                track: Some((SuppressTrack::BySrc, set)),
                ..
            } => assert!(set.contains("10.0.0.2".parse().unwrap())),
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            c.entries[3],
            ThresholdEntry::Threshold {
                sid: 8,
                threshold: Threshold {
                    kind: ThresholdKind::Both,
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            c.entries[4],
            ThresholdEntry::RateFilter {
                new_action: Action::Drop,
                timeout: 30,
                ..
            }
        ));
    }

    #[test]
    fn errors_name_file_and_line() {
        let v = Vars::default();
        let e =
            ThresholdConfig::parse("\nthreshold gen_id 1, sig_id 7, type limit", "t.config", &v)
                .unwrap_err();
        assert_eq!(e.to_string(), "t.config:2: missing track");
        let e = ThresholdConfig::parse(
            "suppress gen_id 1, sig_id 1, track by_src, ip $NOPE",
            "t",
            &v,
        )
        .unwrap_err();
        assert!(e.reason.contains("unknown variable"), "{e}");
        assert!(ThresholdConfig::parse("frobnicate gen_id 1, sig_id 1", "t", &v).is_err());
    }
}
