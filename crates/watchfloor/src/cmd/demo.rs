//! `watchfloor demo`: everything that exists so far, on one machine, in one command.
//! Today that is the sensor: synthesise an office's traffic, run the sensor over it
//! with the starter rules, and summarise what it wrote. The hub and portal join as
//! they land.

use super::progress::Bar;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use watchfloor_sensor::{RunOptions, SensorConfig};

const AFTER_HELP: &str = "\
Examples:
  watchfloor demo                         ./watchfloor-demo, 32 MiB of traffic
  watchfloor demo --dir /tmp/wf --size 256M --seed 7
  watchfloor demo --reset                 start again from an empty directory

The directory keeps the capture (office.pcap), its ground truth (office.pcap.json), the
starter rules the sensor ran (starter.rules: edit them and run the demo again) and the
sensor's output (eve/eve.json) so you can look at them afterwards.";

/// The starter rules shipped with Watchfloor (rules/starter.rules).
const STARTER_RULES: &str = include_str!("../../../../rules/starter.rules");

/// Run Watchfloor end to end on this machine, nothing else to install.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Working directory for the demo.
    #[arg(long, default_value = "watchfloor-demo")]
    dir: PathBuf,
    /// Size of the synthesised capture.
    #[arg(long, default_value = "32M")]
    size: String,
    /// Seed for the synthesiser.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Delete the directory's earlier contents first (otherwise a capture already there is reused).
    #[arg(long)]
    reset: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    if a.reset && a.dir.exists() {
        std::fs::remove_dir_all(&a.dir)
            .with_context(|| format!("cannot reset {}", a.dir.display()))?;
    }
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create {}", a.dir.display()))?;
    let pcap = a.dir.join("office.pcap");
    let truth_path = a.dir.join("office.pcap.json");
    if pcap.exists() && truth_path.exists() {
        println!(
            "Reusing {} (use --reset to make a new one).",
            pcap.display()
        );
    } else {
        println!(
            "1. Synthesising an election office's traffic ({}) ...",
            a.size
        );
        let cfg = watchfloor_synth::SynthConfig {
            seed: a.seed,
            target: watchfloor_synth::Target::Bytes(super::synth::parse_bytes(&a.size)?),
            ..Default::default()
        };
        let f = std::fs::File::create(&pcap)
            .with_context(|| format!("cannot create {}", pcap.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let summary = watchfloor_synth::generate(&cfg, &mut w)?;
        w.flush()?;
        std::fs::write(&truth_path, summary.to_json())?;
    }
    println!("2. Running the sensor over {} ...", pcap.display());
    let out = a.dir.join("eve");
    // threads = 0: one worker per core.
    let config = SensorConfig::default();
    let rules_path = a.dir.join("starter.rules");
    if !rules_path.exists() {
        std::fs::write(&rules_path, STARTER_RULES)
            .with_context(|| format!("cannot write {}", rules_path.display()))?;
    }
    let sel = watchfloor_sensor::rules::RuleSelection {
        exclusive: vec![rules_path.clone()],
        extra: Vec::new(),
        indicators: Vec::new(),
    };
    let loaded = watchfloor_sensor::rules::load(&config, &sel)
        .map_err(anyhow::Error::msg)
        .context("loading the starter rules")?;
    let detect = match loaded {
        Some(l) => {
            println!(
                "   rules: {} loaded from {}{}",
                l.loaded(),
                rules_path.display(),
                if l.failed() > 0 {
                    format!(", {} not loaded (see `watchfloor rules check`)", l.failed())
                } else {
                    String::new()
                }
            );
            l.settings.map(watchfloor_sensor::detect::DetectHandle::new)
        }
        None => None,
    };
    let opts = RunOptions {
        input: pcap.clone(),
        log_dir: out.clone(),
        config,
        detect,
    };
    let bar = Bar::for_bytes(true);
    let summary = watchfloor_sensor::run(&opts, &|p, t| bar.update(p, t))?;
    bar.finish();
    print!("{}", summary.human());
    println!(
        "\n3. What the sensor wrote ({}):",
        out.join("eve.json").display()
    );
    print_flow_digest(&out.join("eve.json"))?;
    print_truth_check(&truth_path, summary.stats.flow.created());
    println!(
        "\nNext: open {} in your favourite JSON tool, or try\n  watchfloor sensor -r {} -l out/ --threads 1",
        out.join("eve.json").display(),
        pcap.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Compares the sensor's flow count with what the synthesiser says it made.
fn print_truth_check(truth_path: &std::path::Path, flows_seen: u64) {
    let Ok(text) = std::fs::read_to_string(truth_path) else {
        return;
    };
    let Ok(truth) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    let made = truth["flows"].as_u64().unwrap_or(0);
    if made == flows_seen {
        println!("\n   ground truth: the synthesiser made {made} conversations; the sensor tracked all {flows_seen}.");
    } else {
        println!(
            "\n   ground truth: the synthesiser made {made} conversations; the sensor tracked {flows_seen} flows\n   \
             (conversations that reuse the same addresses and ports within the flow timeout are one\n   \
             flow, as Suricata counts them)."
        );
    }
    if let Some(m) = truth["malicious"].as_object() {
        let kinds: Vec<String> = m
            .iter()
            .filter(|(_, n)| n.as_u64().unwrap_or(0) > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!(
            "   attack flows in the capture: {}.\n   The starter rules catch the web attacks, scanners, password guessing,\n   suspicious names and port scans; DGA names and beaconing are for the hub's\n   baselines (coming with the hub).",
            kinds.join(", ")
        );
    }
}

/// A person-sized digest of eve.json: flows per protocol and the busiest destinations.
fn print_flow_digest(path: &std::path::Path) -> Result<()> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut by_proto: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut by_dest: BTreeMap<String, u64> = BTreeMap::new();
    let mut anomalies: BTreeMap<String, u64> = BTreeMap::new();
    let mut alerts: BTreeMap<(String, u64), u64> = BTreeMap::new();
    // What people ask first: which names the office looked up, which sites it
    // talked TLS to, which web hosts it used.
    let mut names: [BTreeMap<String, u64>; 3] = Default::default();
    for line in std::io::BufReader::new(f).lines() {
        let line = line?;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        match v["event_type"].as_str() {
            Some("flow") => {
                let proto = v["proto"].as_str().unwrap_or("?").to_string();
                let port = v["dest_port"]
                    .as_u64()
                    .map(|p| format!("/{p}"))
                    .unwrap_or_default();
                let bytes = v["flow"]["bytes_toserver"].as_u64().unwrap_or(0)
                    + v["flow"]["bytes_toclient"].as_u64().unwrap_or(0);
                let e = by_proto.entry(proto).or_default();
                e.0 += 1;
                e.1 += bytes;
                let dest = format!("{}{}", v["dest_ip"].as_str().unwrap_or("?"), port);
                *by_dest.entry(dest).or_default() += bytes;
            }
            Some("dns") => {
                for q in v["dns"]["queries"].as_array().into_iter().flatten() {
                    if let Some(n) = q["rrname"].as_str() {
                        *names[0].entry(n.to_string()).or_default() += 1;
                    }
                }
            }
            Some("tls") => {
                if let Some(n) = v["tls"]["sni"].as_str() {
                    *names[1].entry(n.to_string()).or_default() += 1;
                }
            }
            Some("http") => {
                if let Some(n) = v["http"]["hostname"].as_str() {
                    *names[2].entry(n.to_string()).or_default() += 1;
                }
            }
            Some("alert") => {
                let sig = v["alert"]["signature"].as_str().unwrap_or("?").to_string();
                let sev = v["alert"]["severity"].as_u64().unwrap_or(3);
                *alerts.entry((sig, sev)).or_default() += 1;
            }
            Some("anomaly") => {
                let ev = v["anomaly"]["event"].as_str().unwrap_or("?").to_string();
                *anomalies.entry(ev).or_default() += 1;
            }
            _ => {}
        }
    }
    println!("   flows by protocol:");
    for (p, (n, b)) in &by_proto {
        println!(
            "     {p:<10} {n:>7} flows {:>10.1} MiB",
            *b as f64 / 1048576.0
        );
    }
    let mut dests: Vec<_> = by_dest.into_iter().collect();
    dests.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("   busiest destinations:");
    for (d, b) in dests.iter().take(5) {
        println!("     {d:<40} {:>10.1} MiB", *b as f64 / 1048576.0);
    }
    for (title, counts) in ["DNS names asked", "TLS servers (SNI)", "web hosts (HTTP)"]
        .iter()
        .zip(names.iter())
    {
        let mut top: Vec<_> = counts.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if top.is_empty() {
            continue;
        }
        println!("   {title}, most frequent of {}:", counts.len());
        for (n, c) in top.iter().take(5) {
            println!("     {n:<40} {c:>7}");
        }
    }
    if alerts.is_empty() {
        println!("   alerts: none");
    } else {
        let mut top: Vec<_> = alerts.iter().collect();
        top.sort_by(|a, b| a.0 .1.cmp(&b.0 .1).then(b.1.cmp(a.1)).then(a.0.cmp(b.0)));
        println!(
            "   alerts: {} from {} rules (severity 1 is the most urgent):",
            alerts.values().sum::<u64>(),
            alerts.len()
        );
        for ((sig, sev), n) in top {
            println!("     [{sev}] {sig:<66} {n:>5}");
        }
    }
    if !anomalies.is_empty() {
        println!("   anomalies:");
        for (e, n) in &anomalies {
            println!("     {e:<40} {n:>7}");
        }
    }
    Ok(())
}
