//! The judge: a port of the corpus's `check.py`, which is the specification.
//!
//! Where check.py would crash on a malformed case (a Python exception it does
//! not catch), the check fails here with a "malformed" reason instead, which
//! agrees with check.py's non-zero exit.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::case::{Check, FilterCheck, StatsCheck};
use crate::pyval::{py_compare, py_eq, py_len, py_repr, py_str, py_strip, py_truthy, short};
use crate::{Case, Version};

pub const DEFAULT_FEATURES: [&str; 2] = ["HAVE_JA3", "HAVE_JA4"];

const COMPARISONS: [&str; 4] = ["__gt", "__gte", "__lt", "__lte"];
const STRING_OPS: [&str; 4] = ["__contains", "__find", "__startswith", "__endswith"];

/// check.py's command-line options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// `--suricata-version`: the version guards are evaluated against.
    pub version: Version,
    /// `--features`: build features assumed present.
    pub features: BTreeSet<String>,
    /// `--ignore-stats`: skip checks on Suricata's internal counters.
    pub ignore_stats: bool,
    /// `--require-exit-status`: fail a case with no `exit-status` file.
    pub require_exit_status: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            version: Version::default(),
            features: DEFAULT_FEATURES.iter().map(|s| s.to_string()).collect(),
            ignore_stats: false,
            require_exit_status: false,
        }
    }
}

/// The result for one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check that was not skipped held (`checks` of them).
    Pass {
        checks: usize,
    },
    /// `check_index` (1-based) is the first failing check; `None` when the
    /// case failed before any check ran (bad case.json, failed run).
    Fail {
        check_index: Option<usize>,
        reason: String,
    },
    Skip {
        reason: String,
    },
}

impl Verdict {
    /// The line check.py's `--all` mode prints for this case.
    pub fn line(&self, name: &str) -> String {
        match self {
            Verdict::Pass { .. } => format!("PASS {name}"),
            Verdict::Fail { .. } | Verdict::Skip { .. } => {
                format!("{} {name}: {self}", self.status())
            }
        }
    }

    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Pass { .. } => "PASS",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Skip { .. } => "SKIP",
        }
    }
}

/// The reason, as check.py words it (`check #k: ...`, `N checks` for a pass);
/// [`Verdict::line`] adds the status and name.
impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass { checks } => write!(f, "{checks} checks"),
            Verdict::Fail {
                check_index: Some(i),
                reason,
            } => write!(f, "check #{i}: {reason}"),
            Verdict::Fail {
                check_index: None,
                reason,
            }
            | Verdict::Skip { reason } => f.write_str(reason),
        }
    }
}

/// What happened to one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    Ok(String),
    Skipped(String),
    Failed(String),
}

impl fmt::Display for CheckOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckOutcome::Ok(note) => write!(f, "ok: {note}"),
            CheckOutcome::Skipped(why) => write!(f, "skipped: {why}"),
            CheckOutcome::Failed(why) => write!(f, "FAILED: {why}"),
        }
    }
}

/// A verdict with the per-check detail check.py prints for a single case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseReport {
    pub verdict: Verdict,
    pub checks: Vec<CheckOutcome>,
}

/// check.py's closing line(s): a count of skipped cases only when there are
/// some, on its own line, then `N passed, M failed`.
pub fn summary_line(passed: usize, failed: usize, skipped: usize) -> String {
    let tally = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        format!("{skipped} skipped by version/feature guards\n{tally}")
    } else {
        tally
    }
}

/// Judges `eve_dir/eve.json` (and `eve_dir/exit-status`) against `case`.
pub fn judge_case(case: &Case, eve_dir: &Path, opts: &CheckOptions) -> Verdict {
    judge_case_report(case, eve_dir, opts).verdict
}

enum Outcome {
    Skip(String),
    Fail(String),
}

pub fn judge_case_report(case: &Case, eve_dir: &Path, opts: &CheckOptions) -> CaseReport {
    let report = |verdict| CaseReport {
        verdict,
        checks: Vec::new(),
    };
    let fail = |reason: String| {
        report(Verdict::Fail {
            check_index: None,
            reason,
        })
    };
    match case.requires.evaluate(opts.version, &opts.features) {
        Ok(None) => {}
        Ok(Some(reason)) => return report(Verdict::Skip { reason }),
        Err(why) => return fail(why),
    }
    let eve_path = eve_dir.join("eve.json");
    // Like Suricata's harness, a run that failed (a rule did not load, ...)
    // fails the case even where its checks would hold on empty output.
    let status_path = eve_dir.join("exit-status");
    if status_path.exists() {
        match read_exit_status(&status_path) {
            Ok(None) => {}
            Ok(Some(code)) => return fail(format!("the run failed (exit-status {code})")),
            Err(why) => return fail(why),
        }
    } else if opts.require_exit_status {
        return fail(format!("no exit-status file beside {}", eve_path.display()));
    }

    let mut out = Outputs::new(eve_path);
    let mut lines = Vec::with_capacity(case.checks.len());
    let (mut first_fail, mut passed, mut skipped) = (None, 0usize, 0usize);
    for (i, check) in case.checks.iter().enumerate() {
        match run_check(check, &mut out, opts) {
            Ok(note) => {
                passed += 1;
                lines.push(CheckOutcome::Ok(note));
            }
            Err(Outcome::Skip(why)) => {
                skipped += 1;
                lines.push(CheckOutcome::Skipped(why));
            }
            Err(Outcome::Fail(why)) => {
                // A broken or missing eve file fails every check the same way.
                let fatal = why.starts_with("eve output missing")
                    || why.starts_with(&out.eve_path.display().to_string());
                lines.push(CheckOutcome::Failed(why.clone()));
                first_fail.get_or_insert((i + 1, why));
                if fatal {
                    break;
                }
            }
        }
    }
    let verdict = match first_fail {
        Some((index, reason)) => Verdict::Fail {
            check_index: Some(index),
            reason,
        },
        None if passed == 0 && skipped > 0 => Verdict::Skip {
            reason: "every check excluded by its guards".into(),
        },
        None => Verdict::Pass { checks: passed },
    };
    CaseReport {
        verdict,
        checks: lines,
    }
}

/// `int(text.strip() or "1")`, any error meaning 1. `Ok(None)` for zero,
/// else the code as Python's `%d` prints it (kept as text: Python's ints are
/// unbounded). `Err` where check.py would crash (unreadable, not UTF-8).
fn read_exit_status(path: &Path) -> Result<Option<String>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let t = py_strip(text);
    let code = if t.is_empty() {
        Some("1".to_owned())
    } else {
        py_int(t).map_or(Some("1".to_owned()), |n| (n != "0").then_some(n))
    };
    Ok(code)
}

/// Python's `int(str)` grammar (sign, digits, single `_` between digits),
/// normalised to `%d`'s output.
fn py_int(t: &str) -> Option<String> {
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut clean = String::with_capacity(digits.len());
    let mut prev_digit = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => {
                clean.push(c);
                prev_digit = true;
            }
            '_' if prev_digit => prev_digit = false,
            _ => return None,
        }
    }
    if !prev_digit {
        return None;
    }
    let trimmed = clean.trim_start_matches('0');
    Some(match (trimmed.is_empty(), neg) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("-{trimmed}"),
        (false, false) => trimmed.to_owned(),
    })
}

/// Output files of one run, each read at most once.
struct Outputs {
    eve_path: PathBuf,
    cache: HashMap<PathBuf, Result<Vec<Value>, String>>,
}

impl Outputs {
    fn new(eve_path: PathBuf) -> Self {
        Outputs {
            eve_path,
            cache: HashMap::new(),
        }
    }

    fn events(&mut self, filename: Option<&Value>) -> Result<&[Value], String> {
        let path = match filename {
            None | Some(Value::Null) => self.eve_path.clone(),
            Some(Value::String(f)) if f == "eve.json" => self.eve_path.clone(),
            Some(Value::String(f)) if Path::new(f).is_absolute() => PathBuf::from(f),
            Some(Value::String(f)) => self
                .eve_path
                .parent()
                .map_or_else(|| PathBuf::from(f), |d| d.join(f)),
            Some(other) => return Err(format!("malformed filename: {}", py_repr(other))),
        };
        let entry = self.cache.entry(path).or_insert_with_key(|p| read_eve(p));
        match entry {
            Ok(events) => Ok(events),
            Err(e) => Err(e.clone()),
        }
    }
}

/// check.py's `read_eve`: one JSON value per non-blank line.
fn read_eve(path: &Path) -> Result<Vec<Value>, String> {
    let shown = path.display();
    if !path.is_file() {
        return Err(format!("eve output missing: {shown}"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut events = Vec::new();
    // Lines keep their '\n' so a UTF-8 error is described as Python's
    // decoder would see it (a truncated sequence before '\n' is "invalid
    // continuation byte", not "unexpected end of data").
    for (lineno, raw) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let lineno = lineno + 1;
        let line = std::str::from_utf8(raw).map_err(|e| {
            format!(
                "{shown} line {lineno}: not UTF-8 ({})",
                utf8_reason(raw, &e)
            )
        })?;
        if py_strip(line).is_empty() {
            continue;
        }
        if line.starts_with('\u{feff}') {
            return Err(format!(
                "{shown} line {lineno}: invalid JSON (Unexpected UTF-8 BOM (decode using utf-8-sig))"
            ));
        }
        let event = serde_json::from_str(line)
            .map_err(|e| format!("{shown} line {lineno}: invalid JSON ({})", json_reason(&e)))?;
        events.push(event);
    }
    Ok(events)
}

fn utf8_reason(raw: &[u8], e: &std::str::Utf8Error) -> &'static str {
    if e.error_len().is_none() {
        return "unexpected end of data";
    }
    match raw.get(e.valid_up_to()) {
        Some(0xc2..=0xf4) => "invalid continuation byte",
        _ => "invalid start byte",
    }
}

/// Python's wording for the common JSON errors, serde_json's otherwise.
fn json_reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let table = [
        ("trailing characters", "Extra data"),
        ("expected value", "Expecting value"),
        ("EOF while parsing a value", "Expecting value"),
        (
            "key must be a string",
            "Expecting property name enclosed in double quotes",
        ),
        ("expected `:`", "Expecting ':' delimiter"),
        ("expected `,` or `}`", "Expecting ',' delimiter"),
        ("expected `,` or `]`", "Expecting ',' delimiter"),
        (
            "EOF while parsing a string",
            "Unterminated string starting at",
        ),
        ("control character", "Invalid control character at"),
    ];
    table
        .iter()
        .find(|(serde, _)| msg.starts_with(serde))
        .map_or(msg.clone(), |(_, py)| (*py).to_owned())
}

fn is_stats_check(check: &Check) -> Result<bool, String> {
    match check {
        Check::Stats(_) => Ok(true),
        Check::Filter(f) if f.raw.is_object() => {
            let et = match &f.match_spec {
                m if !py_truthy(m) => None,
                Value::Object(m) => m.get("event_type"),
                other => return Err(format!("malformed match: {}", short(other, 240))),
            };
            Ok(matches!(et, Some(Value::String(s)) if py_strip(s) == "stats"))
        }
        _ => Ok(false),
    }
}

fn run_check(check: &Check, out: &mut Outputs, opts: &CheckOptions) -> Result<String, Outcome> {
    if let Check::Malformed(raw) = check {
        return Err(Outcome::Fail(format!(
            "malformed check: {}",
            short(raw, 240)
        )));
    }
    if opts.ignore_stats && is_stats_check(check).map_err(Outcome::Fail)? {
        return Err(Outcome::Skip("stats check ignored (--ignore-stats)".into()));
    }
    let guard = match check {
        Check::Filter(f) if f.raw.is_object() => Some(&f.requires),
        Check::Unsupported {
            kind,
            body: Value::Object(_),
            requires,
        } if kind == "shell" || kind == "file-compare" => Some(requires),
        _ => None,
    };
    if let Some(requires) = guard {
        match requires.evaluate(opts.version, &opts.features) {
            Ok(None) => {}
            Ok(Some(why)) => return Err(Outcome::Skip(why)),
            Err(why) => return Err(Outcome::Fail(why)),
        }
    }
    match check {
        Check::Filter(f) => run_filter(f, out).map_err(Outcome::Fail),
        Check::Stats(s) => run_stats(s, out).map_err(Outcome::Fail),
        Check::Unsupported { kind, .. } => Err(Outcome::Fail(format!(
            "unsupported check type {}",
            py_repr(&Value::String(kind.clone()))
        ))),
        Check::Malformed(_) => Err(Outcome::Fail("malformed check".into())),
    }
}

fn run_filter(f: &FilterCheck, out: &mut Outputs) -> Result<String, String> {
    let Some(want) = f.count.as_ref().filter(|_| f.raw.is_object()) else {
        return Err(format!(
            "malformed filter check (no count): {}",
            short(&f.raw, 240)
        ));
    };
    let empty = Value::Object(serde_json::Map::new());
    let spec = if py_truthy(&f.match_spec) {
        &f.match_spec
    } else {
        &empty
    };
    let events = out.events(f.filename.as_ref())?;
    let got = match spec {
        Value::Object(m) => events.iter().filter(|ev| event_matches(m, ev)).count(),
        // check.py calls `.items()` on it, which only happens with an event.
        _ if events.is_empty() => 0,
        other => return Err(format!("malformed match: {}", short(other, 240))),
    };
    if !py_eq(&Value::from(got), want) {
        let label = match &f.comment {
            Some(c) if py_truthy(c) => py_str(c),
            _ => short(spec, 240),
        };
        return Err(format!(
            "expected {} matches, got {got} for {label}",
            py_str(want)
        ));
    }
    Ok(format!("{got} matches for {}", short(spec, 120)))
}

fn run_stats(s: &StatsCheck, out: &mut Outputs) -> Result<String, String> {
    let mut stats: Option<&Value> = None;
    for ev in out.events(None)? {
        if let Value::Object(m) = ev {
            if m.get("event_type").is_some_and(|t| t == "stats") {
                stats = m.get("stats").filter(|v| !v.is_null());
            }
        }
    }
    let Some(stats) = stats else {
        return Err("stats check: no stats event in eve output".into());
    };
    let Some(counters) = &s.counters else {
        return Err(format!("malformed stats check: {}", short(&s.raw, 240)));
    };
    for (key, expected) in counters {
        let val = lookup(key, stats);
        let val = val.as_deref().unwrap_or(&Value::Null);
        let suffix = key.rsplit('.').next().unwrap_or(key);
        let ok = if COMPARISONS.contains(&suffix) {
            py_compare(val, expected, suffix)
        } else {
            py_eq(val, expected)
        };
        if !ok {
            return Err(format!(
                "stats.{key}: expected {}, got {}",
                short(expected, 240),
                short(val, 240)
            ));
        }
    }
    Ok("stats hold".into())
}

fn event_matches(spec: &serde_json::Map<String, Value>, event: &Value) -> bool {
    spec.iter().all(|(k, v)| key_holds(k, v, event))
}

/// One `match` entry against one event.
fn key_holds(key: &str, expected: &Value, event: &Value) -> bool {
    if key == "has-key" || key == "not-has-key" {
        let wanted: &[Value] = match expected {
            Value::Array(a) => a,
            one => std::slice::from_ref(one),
        };
        let mut present = wanted.iter().map(|k| lookup(&py_str(k), event).is_some());
        return if key == "has-key" {
            present.all(|p| p)
        } else {
            !present.any(|p| p)
        };
    }
    let val = lookup(key, event);
    let val = val.as_deref().unwrap_or(&Value::Null);
    let suffix = key.rsplit('.').next().unwrap_or(key);
    match (suffix, val, expected) {
        ("__find" | "__contains", Value::String(v), Value::String(e)) => v.contains(e.as_str()),
        ("__find", _, _) | ("__contains", Value::String(_), _) => false,
        ("__contains", Value::Array(items), _) => items.iter().any(|x| py_eq(x, expected)),
        ("__contains", Value::Object(o), Value::String(e)) => o.contains_key(e),
        ("__contains", _, _) => false,
        ("__startswith", Value::String(v), Value::String(e)) => v.starts_with(e.as_str()),
        ("__endswith", Value::String(v), Value::String(e)) => v.ends_with(e.as_str()),
        ("__startswith" | "__endswith", _, _) => false,
        (op, _, _) if COMPARISONS.contains(&op) => py_compare(val, expected, op),
        // Python equality, as upstream: 1 == 1.0 and true == 1 hold.
        _ => py_eq(val, expected),
    }
}

/// Resolves a dotted path such as `dns.answers[0].rrname`. `None` when the
/// field is absent or JSON null. `__len` yields the length of the value
/// reached so far (-1 if it has none); an operator suffix ends the walk.
fn lookup<'a>(path: &str, event: &'a Value) -> Option<Cow<'a, Value>> {
    let mut cur: Cow<'a, Value> = Cow::Borrowed(event);
    for part in path.split('.') {
        if part == "__len" {
            return Some(Cow::Owned(Value::from(py_len(&cur))));
        }
        if COMPARISONS.contains(&part) || STRING_OPS.contains(&part) {
            break;
        }
        let (name, index) = match split_index(part) {
            Some((name, index)) => (name, Some(index)),
            None => (part, None),
        };
        let Cow::Borrowed(Value::Object(map)) = cur else {
            return None;
        };
        let next: &'a Value = map.get(name)?;
        cur = match (index, next) {
            (None, v) => Cow::Borrowed(v),
            (Some(i), Value::Array(items)) => Cow::Borrowed(items.get(i?)?),
            // Python indexes a string by code point, giving a 1-char string.
            (Some(i), Value::String(s)) => Cow::Owned(Value::String(s.chars().nth(i?)?.into())),
            (Some(_), _) => return None,
        };
    }
    (!cur.is_null()).then_some(cur)
}

/// check.py's `^(.*)\[(\d+)\]$` (ASCII digits only). `Some((name, None))`
/// for an index too large for memory, which can only be out of range.
fn split_index(part: &str) -> Option<(&str, Option<usize>)> {
    // Python's `$` also matches before one trailing newline.
    let body = part.strip_suffix('\n').unwrap_or(part);
    let inner = body.strip_suffix(']')?;
    let open = inner.rfind('[')?;
    let (name, digits) = (&inner[..open], &inner[open + 1..]);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || name.contains('\n') {
        return None;
    }
    Some((name, digits.parse().ok()))
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
