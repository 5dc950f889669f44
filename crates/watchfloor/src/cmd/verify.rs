//! `watchfloor verify`: runs suricata-verify-style cases through the sensor exactly
//! as Suricata's harness would (the case's pcap, args, eve types and options), and
//! optionally judges the output with check.py's semantics.

use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use watchfloor_sensor::{config::ChecksumMode, RunOptions, SensorConfig};
use watchfloor_verify::{
    judge_case, run_cases, summary_line, Case, CaseRunner, CheckOptions, RunOutcome, Verdict,
    VerifyError, Version,
};

const AFTER_HELP: &str = "\
Examples:
  watchfloor verify ../shared/conformance/cases -l verify-out --check
  watchfloor verify ../shared/conformance/cases/eve-flow-vlan -l out --check
  watchfloor verify cases/ -l out --check --suricata-version 8.0.6

Each case directory holds case.json (the format of suricata-verify as kept in
shared/conformance/README.md), the capture and maybe test.rules. The run writes
OUT/<case>/eve.json and OUT/<case>/exit-status (0 only for a clean run: capture read,
every rule loaded). With --check each case is judged and the last line reads
`N passed, M failed`; the exit status is 1 when any case failed.";

/// Run conformance cases (suricata-verify format) and optionally judge them.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Case directories, or directories of cases.
    #[arg(required = true, value_name = "CASE_DIR")]
    cases: Vec<PathBuf>,
    /// Output directory: OUT/<case>/eve.json and exit-status.
    #[arg(short = 'l', value_name = "OUT")]
    out: PathBuf,
    /// Judge each case's output and print PASS/FAIL/SKIP lines and a total.
    #[arg(long)]
    check: bool,
    /// Version the cases' version guards are evaluated against.
    #[arg(long, default_value = "9.0.0")]
    suricata_version: String,
    /// Skip checks on Suricata's internal stats counters.
    #[arg(long)]
    ignore_stats: bool,
    /// Only print failures and the total.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let quiet = a.quiet;
    let results = run_cases(&SensorRunner, &a.cases, &a.out, |i, n, name| {
        if !quiet {
            eprint!("\r[{i}/{n}] {name:<60}");
        }
    })?;
    if !quiet {
        eprintln!();
    }
    if !a.check {
        let failed = results.iter().filter(|(_, o)| o.exit_status != 0).count();
        println!(
            "ran {} cases into {} ({failed} with a non-zero exit status)",
            results.len(),
            a.out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let opts = CheckOptions {
        version: Version::parse(&a.suricata_version)?,
        ignore_stats: a.ignore_stats,
        ..CheckOptions::default()
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let dirs = watchfloor_verify::expand_case_dirs(&a.cases)?;
    for dir in &dirs {
        let case = Case::load(dir)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let verdict = judge_case(&case, &a.out.join(&name), &opts);
        match verdict {
            Verdict::Pass { .. } => passed += 1,
            Verdict::Fail { .. } => failed += 1,
            Verdict::Skip { .. } => skipped += 1,
        }
        if !(quiet && matches!(verdict, Verdict::Pass { .. } | Verdict::Skip { .. })) {
            println!("{}", verdict.line(&name));
        }
    }
    println!("{}", summary_line(passed, failed, skipped));
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Maps a case onto the sensor's configuration, one Suricata setting to one of ours.
pub struct SensorRunner;

impl CaseRunner for SensorRunner {
    fn run(&self, case: &Case, case_dir: &Path, out_dir: &Path) -> Result<RunOutcome, VerifyError> {
        let mut messages = Vec::new();
        let config = case_config(case, &mut messages);
        let Some(pcap) = case.pcap.first() else {
            return Ok(RunOutcome {
                exit_status: 1,
                messages: vec!["case names no capture".into()],
            });
        };
        let mut exit_status = 0;
        let mut detect = None;
        if let Some(rules) = &case.rules {
            let sel = watchfloor_sensor::rules::RuleSelection {
                exclusive: vec![case_dir.join(rules)],
                extra: Vec::new(),
                indicators: Vec::new(),
            };
            match watchfloor_sensor::rules::load(&config, &sel) {
                Ok(Some(l)) => {
                    // Suricata's harness counts a rule that fails to load as
                    // a failed run.
                    for line in l.failure_lines() {
                        messages.push(format!("rule not loaded: {line}"));
                        exit_status = 1;
                    }
                    detect = l.settings.map(watchfloor_sensor::detect::DetectHandle::new);
                }
                Ok(None) => {}
                Err(e) => {
                    messages.push(format!("{rules}: {e}"));
                    exit_status = 1;
                }
            }
        }
        let opts = RunOptions {
            input: case_dir.join(pcap),
            log_dir: out_dir.to_path_buf(),
            config,
            detect,
        };
        match watchfloor_sensor::run(&opts, &|_, _| {}) {
            Ok(summary) => {
                if let Some(e) = summary.capture_error {
                    messages.push(format!("capture: {e}"));
                    exit_status = 1;
                }
            }
            Err(e) => {
                messages.push(format!("sensor: {e}"));
                exit_status = 1;
            }
        }
        Ok(RunOutcome {
            exit_status,
            messages,
        })
    }
}

fn case_config(case: &Case, messages: &mut Vec<String>) -> SensorConfig {
    let mut config = SensorConfig {
        threads: 1,
        ..SensorConfig::default()
    };
    if let Some(types) = case.eve_types() {
        let eve = &mut config.outputs.eve_log;
        eve.types.clear();
        for t in types {
            let opts = case
                .eve_type_options(&t)
                .map(json_to_toml_table)
                .unwrap_or_default();
            eve.types.insert(t, opts);
        }
        for output in eve_outputs(case) {
            if let Some(b) = output.get("ethernet").and_then(json_bool) {
                eve.ethernet = b;
            }
            if let Some(b) = output.get("community-id").and_then(json_bool) {
                eve.community_id = b;
            }
            if let Some(n) = output.get("community-id-seed").and_then(Value::as_u64) {
                eve.community_id_seed = n.min(u16::MAX as u64) as u16;
            }
        }
    }
    config.env = case.env.clone().into_iter().collect();
    if let Some(protos) = case
        .app_layer_config
        .get("protocols")
        .and_then(Value::as_object)
    {
        for (name, settings) in protos {
            config
                .app_layer
                .protocols
                .insert(name.clone(), json_to_toml_table(settings));
        }
    }
    let args = case.run_args();
    if args.checksum_none {
        config.checksum_checks = ChecksumMode::None;
    }
    for (k, v) in &args.sets {
        match config.apply_set(&format!("{k}={v}")) {
            Ok(true) => {}
            Ok(false) => messages.push(format!("--set {k}={v}: no such setting; ignored")),
            Err(e) => messages.push(e.to_string()),
        }
    }
    for u in &args.unknown {
        messages.push(format!("argument {u:?} not understood; ignored"));
    }
    config
}

fn eve_outputs(case: &Case) -> Vec<&serde_json::Map<String, Value>> {
    match &case.eve_output {
        Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => vec![o],
        _ => Vec::new(),
    }
}

fn json_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.as_str() {
            "yes" | "true" | "on" => Some(true),
            "no" | "false" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn json_to_toml_table(v: &Value) -> toml::Table {
    match json_to_toml(v) {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    }
}

fn json_to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => match json_bool(v) {
            Some(b) => toml::Value::Boolean(b),
            None => toml::Value::String(s.clone()),
        },
        Value::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect(),
        ),
    })
}
