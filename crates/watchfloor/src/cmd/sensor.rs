use super::progress::Bar;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use watchfloor_sensor::{config::ChecksumMode, RunOptions, SensorConfig};

const AFTER_HELP: &str = "\
Flags follow Suricata's, so habits carry over:
  watchfloor sensor -r capture.pcap -l out/            flows, anomalies and stats to out/eve.json
  watchfloor sensor -r capture.pcapng -l out/ -k none  skip checksum validation (offloaded NICs)
  cat capture.pcap | watchfloor sensor -r - -l out/    read standard input
  watchfloor sensor -r big.pcap -l out/ --threads 2 --set stream.reassembly.depth=64kb
  watchfloor sensor -r capture.pcap -l out/ -c sensor.toml

sensor.toml uses suricata.yaml's names, e.g.:
  checksum-checks = \"none\"
  [stream]
  midstream = true
  [stream.reassembly]
  depth = \"1mb\"
  [outputs.eve-log.types]
  flow = {}
  anomaly = { types = { decode = true, stream = true, applayer = true } }

Exit status: 0 when the whole capture was read; 1 when the capture is damaged (everything
before the damage is still processed and written, and the error names the byte offset).";

/// Run the sensor over a capture: decode, track flows and TCP streams, write EVE JSON.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Capture to read (pcap or pcapng; `-` for standard input).
    #[arg(short = 'r', long = "pcap-file", value_name = "FILE")]
    input: PathBuf,
    /// Directory for eve.json (created if missing).
    #[arg(short = 'l', long = "log-dir", value_name = "DIR", default_value = ".")]
    log_dir: PathBuf,
    /// Configuration file (TOML, suricata.yaml key names).
    #[arg(short = 'c', value_name = "sensor.toml")]
    config: Option<PathBuf>,
    /// Checksum validation: `all` (default) or `none`.
    #[arg(short = 'k', value_name = "all|none")]
    checksum: Option<String>,
    /// Override a setting, Suricata style: --set stream.midstream=true (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress bar, no summary.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut config = match &a.config {
        Some(p) => SensorConfig::load(p)?,
        None => SensorConfig::default(),
    };
    if let Some(k) = &a.checksum {
        config.checksum_checks = match k.as_str() {
            "none" => ChecksumMode::None,
            "all" => ChecksumMode::All,
            other => bail!("-k {other}: expected `all` or `none`"),
        };
    }
    for s in &a.set {
        if !config.apply_set(s)? {
            eprintln!("warning: --set {s}: Watchfloor has no such setting; ignored");
        }
    }
    if let Some(t) = a.threads {
        config.threads = t;
    }
    let opts = RunOptions {
        input: a.input.clone(),
        log_dir: a.log_dir.clone(),
        config,
    };
    let bar = Bar::for_bytes(!a.quiet);
    let summary = watchfloor_sensor::run(&opts, &|pos, total| bar.update(pos, total))
        .with_context(|| format!("sensor run over {}", a.input.display()))?;
    bar.finish();
    if !a.quiet {
        eprint!("{}", summary.human());
    }
    if let Some(err) = &summary.capture_error {
        eprintln!("error: {}: {err}", a.input.display());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
