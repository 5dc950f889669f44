//! Helpers shared by the end-to-end tests: run the `watchfloor` binary, read its
//! eve.json, find `../shared`, synthesise captures, and parse EVE timestamps
//! independently of the product's own formatter.
//!
//! Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

pub mod pattern;
pub mod schema;

use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Path of the `watchfloor` binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_watchfloor");

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for assertion messages.
    pub cmdline: String,
}

impl Run {
    /// Asserts the exit status, printing the command and its stderr otherwise.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`{}` exited with {:?}, expected {code}\nstderr:\n{}",
            self.cmdline,
            self.code,
            self.stderr
        );
        self
    }

    /// No panic message and no death by signal.
    pub fn expect_no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked"),
            "`{}` panicked:\n{}",
            self.cmdline,
            self.stderr
        );
        assert!(
            self.code.is_some(),
            "`{}` was killed by a signal\nstderr:\n{}",
            self.cmdline,
            self.stderr
        );
        self
    }
}

fn describe<S: AsRef<OsStr>>(args: &[S]) -> String {
    let mut s = String::from("watchfloor");
    for a in args {
        s.push(' ');
        s.push_str(&a.as_ref().to_string_lossy());
    }
    s
}

/// Runs `watchfloor ARGS` with stdin closed.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Run {
    run_with_stdin(args, None)
}

/// Runs `watchfloor ARGS`, feeding `stdin` (if any) through a pipe.
pub fn run_with_stdin<S: AsRef<OsStr>>(args: &[S], stdin: Option<&[u8]>) -> Run {
    let cmdline = describe(args);
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{cmdline}`: {e}"));
    // Write stdin from a thread so a full stdout/stderr pipe cannot deadlock us.
    let feeder = stdin.map(|data| {
        let data = data.to_vec();
        let mut pipe = child.stdin.take().expect("stdin is piped");
        std::thread::spawn(move || {
            // The child may stop reading early (e.g. on a damaged capture).
            let _ = pipe.write_all(&data);
        })
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for `{cmdline}`: {e}"));
    if let Some(f) = feeder {
        f.join().expect("stdin feeder thread");
    }
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        cmdline,
    }
}

/// `watchfloor sensor -r INPUT -l LOG_DIR -q` plus `extra` (e.g. `--threads 1`).
pub fn sensor(input: &Path, log_dir: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("sensor"),
        OsStr::new("-r"),
        input.as_os_str(),
        OsStr::new("-l"),
        log_dir.as_os_str(),
        OsStr::new("-q"),
    ];
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// The lines of `DIR/eve.json`, as written.
pub fn eve_lines(log_dir: &Path) -> Vec<String> {
    let path = log_dir.join("eve.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines().map(str::to_owned).collect()
}

/// `DIR/eve.json` parsed line by line; every line must be one JSON object.
pub fn read_eve(log_dir: &Path) -> Vec<Value> {
    eve_lines(log_dir)
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("eve.json line {}: not JSON ({e}): {l}", i + 1));
            assert!(v.is_object(), "eve.json line {}: not an object: {l}", i + 1);
            v
        })
        .collect()
}

/// The records of one `event_type`.
pub fn of_type<'a>(records: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["event_type"] == event_type)
        .collect()
}

/// The single `stats` record (there must be exactly one, and it must be last).
pub fn stats_record(records: &[Value]) -> &Value {
    let stats = of_type(records, "stats");
    assert_eq!(stats.len(), 1, "expected exactly one stats record");
    assert_eq!(
        records.last().map(|r| &r["event_type"]),
        Some(&Value::from("stats")),
        "the stats record should be the last line"
    );
    &stats[0]["stats"]
}

/// `../shared` next to the repository (or `$WATCHFLOOR_SHARED`); `None`, with a
/// printed "skipped: <reason>", when it is not there.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("WATCHFLOOR_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: shared directory {} not found (set WATCHFLOOR_SHARED)",
            dir.display()
        );
        None
    }
}

/// Suricata's EVE schema from `../shared/eve/schema.json`, or `None` with a printed reason.
pub fn eve_schema() -> Option<schema::Schema> {
    let path = shared_dir()?.join("eve/schema.json");
    if !path.is_file() {
        println!("skipped: {} not found", path.display());
        return None;
    }
    Some(schema::Schema::load(&path).unwrap_or_else(|e| panic!("{e}")))
}

/// Validates every record against `schema`; panics listing the first errors.
pub fn assert_schema_valid(schema: &schema::Schema, records: &[Value], what: &str) {
    let mut failures = Vec::new();
    // Group identical errors by event type so one bad field does not hide the rest.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        for e in schema.validate(r) {
            let key = format!("{} {e}", r["event_type"]);
            let n = seen.entry(key.clone()).or_default();
            if *n == 0 {
                failures.push(format!("line {}: {key}", i + 1));
            }
            *n += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{what}: {} distinct schema violation(s) against Suricata's schema.json:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Synthesises a capture into `path` and returns its summary.
pub fn synth(cfg: &watchfloor_synth::SynthConfig, path: &Path) -> watchfloor_synth::Summary {
    let f = std::fs::File::create(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    let mut w = std::io::BufWriter::new(f);
    let s = watchfloor_synth::generate(cfg, &mut w).expect("synthesiser failed");
    w.flush().expect("flushing the capture");
    s
}

/// Parses Suricata's `YYYY-MM-DDTHH:MM:SS.ffffff+0000` into nanoseconds since
/// the epoch, checking the exact shape (six fraction digits, UTC offset +0000).
pub fn parse_eve_ts(s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 31
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            26 => c == b'+',
            _ => c.is_ascii_digit(),
        })
        && &s[26..] == "+0000";
    if !shape_ok {
        return Err(format!(
            "timestamp {s:?} is not YYYY-MM-DDTHH:MM:SS.ffffff+0000"
        ));
    }
    let n = |r: std::ops::Range<usize>| -> i64 { s[r].parse().expect("digits") };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss, us) = (n(11..13), n(14..16), n(17..19), n(20..26));
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return Err(format!("timestamp {s:?} has an out-of-range field"));
    }
    // Howard Hinnant's days_from_civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000 + us) * 1000)
}
