//! `watchfloor rules check`: load rule files exactly as the sensor would and
//! say what loaded, what did not and why, and which keywords the rules use.

use anyhow::Result;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use watchfloor_sensor::rules::{self, RuleSelection};
use watchfloor_sensor::SensorConfig;

const AFTER_HELP: &str = "\
Examples:
  watchfloor rules check emerging-all.rules
  watchfloor rules check ../shared/rules/et-open/*.rules --classification ../shared/rules/et-open/classification.config
  watchfloor rules check local.rules -c sensor.toml     use the sensor's HOME_NET and friends

Every rule that does not load is printed as file:line: sid N: reason, e.g.
  local.rules:12: sid 1000004: content modifier 'distance' without a preceding content
Exit status: 0 when every enabled rule loads, 1 when any fails, 2 when a file cannot be read.";

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Load rule files, print per-file counts, every failure and the keyword coverage.
    #[command(after_help = AFTER_HELP)]
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Rule files to load.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Sensor configuration (for vars such as HOME_NET, classification-file).
    #[arg(short = 'c', value_name = "sensor.toml")]
    config: Option<PathBuf>,
    /// classification.config to use instead of the built-in table.
    #[arg(long, value_name = "FILE")]
    classification: Option<PathBuf>,
    /// Print at most this many failures (all with 0).
    #[arg(long, default_value_t = 0, value_name = "N")]
    max_failures: usize,
    /// Skip the keyword coverage table.
    #[arg(long)]
    no_coverage: bool,
    /// Also check an indicator file (repeatable): bad lines as file:line: reason.
    #[arg(long, value_name = "FILE")]
    indicators: Vec<PathBuf>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.cmd {
        Cmd::Check(c) => check(c),
    }
}

fn check(a: CheckArgs) -> Result<ExitCode> {
    let mut config = match &a.config {
        Some(p) => SensorConfig::load(p)?,
        None => SensorConfig::default(),
    };
    if a.classification.is_some() {
        config.classification_file = a.classification.clone();
    }
    let sel = RuleSelection {
        exclusive: a.files.clone(),
        extra: Vec::new(),
        indicators: a.indicators.clone(),
    };
    let load = match rules::load(&config, &sel) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let report = &load.report;
    // Per-file counts from where each rule and failure came from.
    let mut per_file: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for f in &load.files {
        per_file.entry(f.display().to_string()).or_default();
    }
    for sig in &report.sigs {
        let f = sig.file.as_deref().unwrap_or("<rules>").to_string();
        per_file.entry(f).or_default().0 += 1;
    }
    for e in &report.errors {
        let f = e.file.as_deref().unwrap_or("<rules>").to_string();
        per_file.entry(f).or_default().1 += 1;
    }
    for e in &load.build_errors {
        let f = e.sig.file.as_deref().unwrap_or("<rules>").to_string();
        let c = per_file.entry(f).or_default();
        c.0 = c.0.saturating_sub(1);
        c.1 += 1;
    }
    println!("{:<56} {:>8} {:>8}", "file", "loaded", "failed");
    for (f, (ok, bad)) in &per_file {
        println!("{f:<56} {ok:>8} {bad:>8}");
    }
    let failures = load.failure_lines();
    if !failures.is_empty() {
        println!();
        println!("failures:");
        let limit = if a.max_failures == 0 {
            usize::MAX
        } else {
            a.max_failures
        };
        for line in failures.iter().take(limit) {
            println!("  {line}");
        }
        if failures.len() > limit {
            println!("  ... and {} more", failures.len() - limit);
        }
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for e in &report.errors {
            *reasons.entry(e.reason.clone()).or_default() += 1;
        }
        for e in &load.build_errors {
            *reasons.entry(e.error.to_string()).or_default() += 1;
        }
        let mut by_count: Vec<_> = reasons.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        println!();
        println!("failure reasons:");
        for (r, n) in by_count.iter().take(30) {
            println!("  {n:>6}  {r}");
        }
    }
    if !a.no_coverage {
        println!();
        println!("{:<28} {:>8} {:>8}", "keyword", "rules", "loaded");
        let mut kw: Vec<_> = report.keywords.iter().collect();
        kw.sort_by(|a, b| b.1.rules.cmp(&a.1.rules).then(a.0.cmp(b.0)));
        for (k, u) in kw {
            println!("{k:<28} {:>8} {:>8}", u.rules, u.loaded);
        }
    }
    let enabled = load.loaded() + load.failed();
    let pct = if enabled == 0 {
        100.0
    } else {
        100.0 * load.loaded() as f64 / enabled as f64
    };
    println!();
    println!(
        "{} of {} enabled rules loaded ({pct:.2}%), {} failed, {} disabled; {:.0} ms",
        load.loaded(),
        enabled,
        load.failed(),
        report.counts.disabled,
        load.elapsed.as_secs_f64() * 1000.0
    );
    if let Some(r) = &load.indicators {
        let c = &r.counts;
        println!(
            "indicators: {} loaded from {} line(s), {} failed, {} replaced by a later line, {} expired",
            c.loaded, c.lines, c.failed, c.replaced, c.expired
        );
        for e in &r.errors {
            println!("  {e}");
        }
        for w in &r.warnings {
            println!("  warning: {w}");
        }
    }
    if let Some(s) = &load.settings {
        let st = s.engine.stats();
        println!(
            "engine: {} ip-only, {} packet, {} packet-payload, {} stream, {} app-layer, {} event rules; {} prefilter patterns ({:.1} MiB)",
            st.ip_only,
            st.packet,
            st.payload,
            st.stream,
            st.tx,
            st.events,
            st.prefilter_patterns,
            st.prefilter_bytes as f64 / (1 << 20) as f64
        );
    }
    let ioc_failed = load.indicators.as_ref().map_or(0, |r| r.errors.len());
    Ok(if load.failed() == 0 && ioc_failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
