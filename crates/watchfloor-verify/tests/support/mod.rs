//! Helpers for the differential test: locating check.py, fabricating eve.json
//! variants from a case's own checks, and comparing both judges' output.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};
use watchfloor_verify::{judge_case, summary_line, Case, Check, CheckOptions, Verdict, Version};

pub struct Env {
    pub conformance: PathBuf,
}

/// The corpus and a Python to run check.py, or `None` (with the reason
/// printed) so the test is skipped where they are absent.
pub fn env() -> Option<Env> {
    let shared = std::env::var_os("WATCHFLOOR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let conformance = shared.join("conformance");
    if !conformance.join("check.py").is_file() {
        eprintln!(
            "SKIPPED: no {} (set WATCHFLOOR_SHARED to the shared folder)",
            conformance.join("check.py").display()
        );
        return None;
    }
    match Command::new("python3").arg("--version").output() {
        Ok(o) if o.status.success() => Some(Env { conformance }),
        _ => {
            eprintln!("SKIPPED: python3 is not available to run check.py");
            None
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Variant {
    Empty,
    Missing,
    Satisfy,
    Floats,
    Bools,
    Stringly,
    OneWrong,
    Doubled,
    BadJson,
    NotUtf8,
    ExitStatus,
}

/// Writes `dir/eve.json` (and maybe `exit-status`) for one case.
pub fn build_files(case: &Case, dir: &Path, variant: Variant, seed: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut records = satisfying_records(case);
    let mut extra: Vec<Vec<u8>> = Vec::new();
    match variant {
        Variant::Missing => return,
        Variant::Empty => records.clear(),
        Variant::Satisfy => {}
        Variant::Floats => records
            .iter_mut()
            .for_each(|r| map_leaves(r, &mut floatify)),
        Variant::Bools => records.iter_mut().for_each(|r| map_leaves(r, &mut boolify)),
        Variant::Stringly => records
            .iter_mut()
            .for_each(|r| map_leaves(r, &mut stringify)),
        Variant::OneWrong => one_wrong(case, &mut records),
        Variant::Doubled => records = records.into_iter().flat_map(|r| [r.clone(), r]).collect(),
        Variant::BadJson => extra.push(b"{oops\n".to_vec()),
        Variant::NotUtf8 => extra.push(b"{\"s\": \"\xff\"}\n".to_vec()),
        Variant::ExitStatus => {
            let status = ["0\n", "1\n", "", " 0 ", "3"][seed % 5];
            if !status.is_empty() || seed % 10 == 2 {
                std::fs::write(dir.join("exit-status"), status).unwrap();
            }
        }
    }
    let mut lines: Vec<Vec<u8>> = records
        .iter()
        .map(|r| format!("{r}\n").into_bytes())
        .collect();
    let at = if lines.is_empty() {
        0
    } else {
        seed % lines.len()
    };
    for (i, e) in extra.into_iter().enumerate() {
        lines.insert(at + i, e);
    }
    std::fs::write(dir.join("eve.json"), lines.concat()).unwrap();
}

/// Records built from each check's `match` so that, alone, it would hold.
fn satisfying_records(case: &Case) -> Vec<Value> {
    let mut out = Vec::new();
    for check in &case.checks {
        match check {
            Check::Filter(f) => {
                let (Some(n), Value::Object(spec)) =
                    (f.count.as_ref().and_then(Value::as_u64), &f.match_spec)
                else {
                    continue;
                };
                for _ in 0..n {
                    out.push(build(spec));
                }
            }
            Check::Stats(s) => {
                let spec: Map<String, Value> = s.counters.iter().flatten().cloned().collect();
                out.push(json!({"event_type": "stats", "stats": build(&spec)}));
            }
            _ => {}
        }
    }
    out
}

fn one_wrong(case: &Case, records: &mut Vec<Value>) {
    let zero = case.checks.iter().find_map(|c| match c {
        Check::Filter(f) if f.count == Some(json!(0)) => f.match_spec.as_object(),
        _ => None,
    });
    if let Some(spec) = zero {
        records.push(build(spec));
    } else if let Some(first) = records.first_mut() {
        let mut done = false;
        map_leaves(first, &mut |v: &Value| {
            if done || v.is_null() {
                return v.clone();
            }
            done = true;
            match v {
                Value::String(s) => json!(format!("{s}-wrong")),
                Value::Number(n) => json!(n.as_f64().unwrap_or(0.0) + 1.0),
                Value::Bool(b) => json!(!b),
                other => other.clone(),
            }
        });
    }
}

fn map_leaves(v: &mut Value, f: &mut dyn FnMut(&Value) -> Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(|x| map_leaves(x, f)),
        Value::Object(o) => o.values_mut().for_each(|x| map_leaves(x, f)),
        leaf => *leaf = f(leaf),
    }
}

fn floatify(v: &Value) -> Value {
    match v.as_i64() {
        Some(i) if v.is_i64() || v.is_u64() => json!(i as f64),
        _ => v.clone(),
    }
}

fn boolify(v: &Value) -> Value {
    match v.as_u64() {
        Some(0) => json!(false),
        Some(1) => json!(true),
        _ => v.clone(),
    }
}

fn stringify(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.to_string()),
        other => other.clone(),
    }
}

fn build(spec: &Map<String, Value>) -> Value {
    let mut rec = json!({});
    for (key, val) in spec {
        if key == "not-has-key" {
            continue;
        }
        if key == "has-key" {
            let paths: Vec<Value> = match val {
                Value::Array(a) => a.clone(),
                one => vec![one.clone()],
            };
            for p in paths.iter().filter_map(Value::as_str) {
                let parts: Vec<&str> = p.split('.').collect();
                set_path(&mut rec, &parts, json!("present"));
            }
            continue;
        }
        let mut parts: Vec<&str> = key.split('.').collect();
        let op = parts.last().copied().unwrap_or_default();
        let s = val.as_str().unwrap_or_default();
        let shift = |d: f64| match (val.as_i64(), val.as_f64()) {
            (Some(i), _) => json!(i + d as i64),
            (None, Some(f)) => json!(f + d),
            _ => val.clone(),
        };
        let value = match op {
            "__len" => match val.as_u64() {
                Some(n) => Value::Array(vec![json!(0); n as usize]),
                None => json!(7),
            },
            "__contains" if val.is_string() => json!(format!("<{s}>")),
            "__contains" => json!([val]),
            "__find" => json!(format!("<{s}>")),
            "__startswith" => json!(format!("{s}tail")),
            "__endswith" => json!(format!("head{s}")),
            "__gt" => shift(1.0),
            "__lt" => shift(-1.0),
            "__gte" | "__lte" => val.clone(),
            _ if val.is_null() => continue,
            _ => {
                set_path(&mut rec, &parts, val.clone());
                continue;
            }
        };
        parts.pop();
        set_path(&mut rec, &parts, value);
    }
    rec
}

fn set_path(rec: &mut Value, parts: &[&str], value: Value) {
    let mut cur = rec;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let (name, index) = match part.strip_suffix(']').and_then(|p| p.rsplit_once('[')) {
            Some((n, d)) if d.parse::<usize>().is_ok() => (n, d.parse::<usize>().ok()),
            _ => (*part, None),
        };
        if !cur.is_object() {
            *cur = json!({});
        }
        let obj = cur.as_object_mut().unwrap();
        let slot = obj.entry(name.to_owned()).or_insert(Value::Null);
        let target = match index {
            None => slot,
            Some(k) => {
                if !slot.is_array() {
                    *slot = json!([]);
                }
                let arr = slot.as_array_mut().unwrap();
                while arr.len() <= k {
                    arr.push(json!({}));
                }
                &mut arr[k]
            }
        };
        if last {
            *target = value;
            return;
        }
        cur = target;
    }
}

#[derive(Default)]
pub struct Tally {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.pass += o.pass;
        self.fail += o.fail;
        self.skip += o.skip;
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pass, {} fail, {} skip (identical)",
            self.pass, self.fail, self.skip
        )
    }
}

fn options(args: &[&str]) -> CheckOptions {
    let mut o = CheckOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--suricata-version" => o.version = Version::parse(it.next().unwrap()).unwrap(),
            "--features" => {
                o.features = it
                    .next()
                    .unwrap()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }
            "--ignore-stats" => o.ignore_stats = true,
            "--require-exit-status" => o.require_exit_status = true,
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// Runs `check.py --all` and the Rust judge over the same folders and
/// asserts every per-case line and the closing summary are identical.
pub fn compare(env: &Env, cases: &Path, out: &Path, args: &[&str], label: &str) -> Tally {
    let py = Command::new("python3")
        .arg(env.conformance.join("check.py"))
        .arg("--all")
        .arg(cases)
        .arg("--eve-dir")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(py.stdout).unwrap();
    assert!(
        py.status.code().is_some_and(|c| c <= 1),
        "{label}: check.py crashed: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    let mut py_lines: BTreeMap<String, String> = BTreeMap::new();
    let mut py_tail = Vec::new();
    for line in stdout.lines() {
        let mut words = line.splitn(2, ' ');
        match (words.next(), words.next()) {
            (Some("PASS" | "FAIL" | "SKIP"), Some(rest)) => {
                let name = rest.split(':').next().unwrap_or(rest).to_owned();
                py_lines.insert(name, line.to_owned());
            }
            _ => py_tail.push(line.to_owned()),
        }
    }

    let opts = options(args);
    let mut names: Vec<String> = std::fs::read_dir(cases)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            p.join("case.json")
                .is_file()
                .then(|| p.file_name()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    let mut tally = Tally::default();
    let mut mismatches = Vec::new();
    for name in &names {
        let case = Case::load(&cases.join(name)).unwrap();
        let verdict = judge_case(&case, &out.join(name), &opts);
        match verdict {
            Verdict::Pass { .. } => tally.pass += 1,
            Verdict::Fail { .. } => tally.fail += 1,
            Verdict::Skip { .. } => tally.skip += 1,
        }
        let ours = verdict.line(name);
        let theirs = py_lines.get(name).cloned().unwrap_or_default();
        if ours != theirs {
            mismatches.push(format!("  check.py: {theirs}\n  rust:     {ours}"));
        }
    }
    assert_eq!(py_lines.len(), names.len(), "{label}: case sets differ");
    assert!(
        mismatches.is_empty(),
        "{label}: {} of {} cases differ:\n{}",
        mismatches.len(),
        names.len(),
        mismatches.join("\n")
    );
    let summary = summary_line(tally.pass, tally.fail, tally.skip);
    assert_eq!(py_tail.join("\n"), summary, "{label}: summary differs");
    assert_eq!(
        py.status.code(),
        Some(i32::from(tally.fail > 0)),
        "{label}: exit status"
    );
    tally
}
