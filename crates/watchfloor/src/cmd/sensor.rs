use super::progress::Bar;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use watchfloor_sensor::detect::DetectHandle;
use watchfloor_sensor::rules::RuleSelection;
use watchfloor_sensor::{config::ChecksumMode, RunOptions, SensorConfig};

const AFTER_HELP: &str = "\
Flags follow Suricata's, so habits carry over:
  watchfloor sensor -r capture.pcap -l out/            flows, anomalies and stats to out/eve.json
  watchfloor sensor -r capture.pcapng -l out/ -k none  skip checksum validation (offloaded NICs)
  cat capture.pcap | watchfloor sensor -r - -l out/    read standard input
  watchfloor sensor -r big.pcap -l out/ --threads 2 --set stream.reassembly.depth=64kb
  watchfloor sensor -r capture.pcap -l out/ -c sensor.toml
  watchfloor sensor -r capture.pcap -l out/ -S local.rules          alerts from these rules only
  watchfloor sensor -r capture.pcap -l out/ -s extra.rules          ... in addition to rule-files
  watchfloor sensor -r capture.pcap -l out/ --indicators state-feed.txt   alerts on known-bad
                                        addresses, names, URLs and TLS fingerprints

sensor.toml uses suricata.yaml's names, e.g.:
  checksum-checks = \"none\"
  [stream]
  midstream = true
  [stream.reassembly]
  depth = \"1mb\"
  [outputs.eve-log.types]
  flow = {}
  anomaly = { types = { decode = true, stream = true, applayer = true } }

Rules use Suricata's language; HOME_NET and the other vars come from [vars.address-groups]
and [vars.port-groups] in sensor.toml, or Suricata's defaults.

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
    /// Load only this rule file (repeatable); the config's rule-files are ignored.
    #[arg(short = 'S', value_name = "FILE")]
    rules_exclusive: Vec<PathBuf>,
    /// Load this rule file in addition to the config's rule-files (repeatable).
    #[arg(short = 's', value_name = "FILE")]
    rules_extra: Vec<PathBuf>,
    /// Indicator file (IP/CIDR, domains, URLs, JA3/JA4; repeatable), in addition to indicator-files.
    #[arg(long = "indicators", value_name = "FILE")]
    indicators: Vec<PathBuf>,
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
    let sel = watchfloor_sensor::rules::RuleSelection {
        exclusive: a.rules_exclusive.clone(),
        extra: a.rules_extra.clone(),
        indicators: a.indicators.clone(),
    };
    let loaded = watchfloor_sensor::rules::load(&config, &sel)
        .map_err(anyhow::Error::msg)
        .context("loading rules")?;
    let detect = match loaded {
        Some(l) => {
            for line in l.indicator_failure_lines().iter().take(20) {
                eprintln!("warning: indicator not loaded: {line}");
            }
            let failed = l.failed();
            for line in l.failure_lines().iter().take(20) {
                eprintln!("warning: rule not loaded: {line}");
            }
            if failed > 20 {
                eprintln!(
                    "warning: ... and {} more rules not loaded (see `watchfloor rules check`)",
                    failed - 20
                );
            }
            if !a.quiet {
                eprintln!(
                    "rules: {} loaded, {} failed, from {} file(s); indicators: {} in {:.0} ms",
                    l.loaded(),
                    failed,
                    l.files.len(),
                    l.indicators_loaded(),
                    l.elapsed.as_secs_f64() * 1000.0
                );
            }
            l.settings
        }
        None => None,
    };
    let detect = detect.map(DetectHandle::new);
    if let Some(h) = &detect {
        reload_on_sighup(h.clone(), config.clone(), sel.clone())?;
    }
    let opts = RunOptions {
        input: a.input.clone(),
        log_dir: a.log_dir.clone(),
        config,
        detect,
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

/// SIGHUP reloads the rule files (as Suricata's live rule reload): the new
/// rules take over between two packets; if they fail to load the old ones
/// stay in force and the reason is printed.
fn reload_on_sighup(
    handle: Arc<DetectHandle>,
    config: SensorConfig,
    sel: RuleSelection,
) -> Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])
        .context("installing the SIGHUP handler for rule reloads")?;
    std::thread::Builder::new()
        .name("rule-reload".into())
        .spawn(move || {
            for _ in signals.forever() {
                match watchfloor_sensor::rules::load(&config, &sel) {
                    Ok(Some(l)) => {
                        let failed = l.failed();
                        match l.settings {
                            Some(s) => {
                                let n = s.engine.len();
                                handle.replace(s);
                                eprintln!("rules reloaded: {n} loaded, {failed} failed");
                            }
                            None => {
                                eprintln!("rule reload: no rule loaded; keeping the current rules")
                            }
                        }
                    }
                    Ok(None) => eprintln!(
                        "rule reload: no rule files configured; keeping the current rules"
                    ),
                    Err(e) => eprintln!("rule reload failed, keeping the current rules: {e}"),
                }
            }
        })
        .context("starting the rule reload thread")?;
    Ok(())
}
