use super::progress::Bar;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use watchfloor_sensor::detect::DetectHandle;
use watchfloor_sensor::output::LineSink;
use watchfloor_sensor::rules::RuleSelection;
use watchfloor_sensor::{config::ChecksumMode, RunOptions, SensorConfig};
use watchfloor_ship::live::{LiveConfig, LiveShipper};
use watchfloor_ship::{HttpConfig, SpoolConfig, Trust};

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

Shipping to the hub (every EVE record is also spooled on disk and sent until acknowledged):
  watchfloor sensor -r capture.pcap -l out/ --hub https://hub:8443 --hub-token-file token \
      --hub-fingerprint SHA256         a self-signed hub, pinned by its certificate's SHA-256
  (or --hub-ca hub.pem; without either the system's roots). The token may also come from
  --hub-token or WATCHFLOOR_HUB_TOKEN. The spool (--spool, default out/spool) keeps what the
  hub has not acknowledged; the next start sends it first.

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
    #[command(flatten)]
    hub: Box<HubArgs>,
}

#[derive(clap::Args)]
#[command(next_help_heading = "Shipping to the hub")]
struct HubArgs {
    /// Ship every EVE record to this hub (https://host:port).
    #[arg(long = "hub", value_name = "URL")]
    url: Option<String>,
    /// The sensor's token (`watchfloor admin sensor add` prints it); see also --hub-token-file
    /// and WATCHFLOOR_HUB_TOKEN.
    #[arg(long = "hub-token", value_name = "TOKEN")]
    token: Option<String>,
    /// File holding the sensor's token.
    #[arg(long = "hub-token-file", value_name = "FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// Trust this PEM file: a CA, or the hub's own certificate.
    #[arg(long = "hub-ca", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Trust the hub certificate with this SHA-256 fingerprint (self-signed hubs).
    #[arg(long = "hub-fingerprint", value_name = "SHA256", conflicts_with = "ca")]
    fingerprint: Option<String>,
    /// Spool directory (default: LOG_DIR/spool).
    #[arg(long = "spool", value_name = "DIR")]
    spool: Option<PathBuf>,
    /// Most disk the spool may use (e.g. 512m, 4g); intake stops beyond it.
    #[arg(long = "spool-max", value_name = "SIZE", default_value = "4g")]
    spool_max: String,
    /// Seconds between heartbeats (0: only the final one).
    #[arg(long = "heartbeat", value_name = "SECS", default_value_t = 30)]
    heartbeat: u64,
    /// At the end of input, wait at most this long for the hub to acknowledge everything.
    #[arg(long = "hub-drain-timeout", value_name = "SECS", default_value_t = 30)]
    drain_timeout: u64,
    /// The id envelopes carry (default: the hub's id for the token, asked at start).
    #[arg(long = "sensor-id", value_name = "ID")]
    sensor_id: Option<String>,
    /// Most records per batch (tests use small batches to get many).
    #[arg(
        long = "hub-batch",
        value_name = "N",
        default_value_t = 5000,
        hide = true
    )]
    batch: usize,
    /// Seconds one request to the hub may take.
    #[arg(
        long = "hub-timeout",
        value_name = "SECS",
        default_value_t = 60,
        hide = true
    )]
    timeout: u64,
}

fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mul) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .with_context(|| format!("--spool-max {s}: expected a size such as 512m or 4g"))
}

/// The hub settings, or None without --hub.
fn hub_config(h: &HubArgs, log_dir: &std::path::Path) -> Result<Option<LiveConfig>> {
    let Some(url) = &h.url else {
        if h.token.is_some() || h.token_file.is_some() || h.ca.is_some() || h.fingerprint.is_some()
        {
            bail!("--hub-token/--hub-ca/--hub-fingerprint need --hub URL");
        }
        return Ok(None);
    };
    let token = match (&h.token, &h.token_file) {
        (Some(t), _) => t.clone(),
        // The last non-empty line, so the whole output of `watchfloor admin
        // sensor add` saved to a file works as well as the bare token.
        (None, Some(f)) => std::fs::read_to_string(f)
            .with_context(|| format!("reading --hub-token-file {}", f.display()))?
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string(),
        (None, None) => match std::env::var("WATCHFLOOR_HUB_TOKEN") {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => bail!(
                "--hub needs the sensor's token: --hub-token, --hub-token-file or \
                 WATCHFLOOR_HUB_TOKEN"
            ),
        },
    };
    let trust = match (&h.ca, &h.fingerprint) {
        (Some(f), _) => Trust::Pem(f.clone()),
        (None, Some(fp)) => Trust::Fingerprint(watchfloor_ship::http::parse_fingerprint(fp)?),
        (None, None) => Trust::System,
    };
    let spool = SpoolConfig {
        max_total_bytes: parse_size(&h.spool_max)?,
        ..SpoolConfig::default()
    };
    let mut http = HttpConfig::new(url.clone(), token, trust);
    http.timeout = Duration::from_secs(h.timeout.max(1));
    Ok(Some(LiveConfig {
        http,
        spool_dir: h.spool.clone().unwrap_or_else(|| log_dir.join("spool")),
        spool,
        batch: watchfloor_ship::BatchConfig {
            max_records: h.batch.max(1),
            ..Default::default()
        },
        shipper: Default::default(),
        heartbeat: Duration::from_secs(h.heartbeat),
        sensor_id: h.sensor_id.clone(),
    }))
}

/// The sensor's EVE lines into the shipper's spool.
struct SpoolLines(Arc<watchfloor_ship::live::Intake>);

impl LineSink for SpoolLines {
    fn write_lines(&self, chunk: &[u8]) {
        self.0.write_lines(chunk);
    }
}

pub fn run(a: Args) -> Result<ExitCode> {
    let hub = hub_config(&a.hub, &a.log_dir)?;
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
    let read = Arc::new(AtomicU64::new(0));
    let shipper = match hub {
        Some(cfg) => {
            let r = read.clone();
            let counters: watchfloor_ship::live::Counters = Arc::new(move || {
                let mut m = serde_json::Map::new();
                m.insert("capture_bytes".into(), r.load(Ordering::Relaxed).into());
                m
            });
            Some(LiveShipper::start(cfg, counters).context("starting the hub shipper")?)
        }
        None => None,
    };
    let sink = shipper
        .as_ref()
        .map(|s| Arc::new(SpoolLines(s.intake())) as Arc<dyn LineSink>);
    let summary = watchfloor_sensor::run_with_sink(&opts, sink, &|pos, total| {
        read.store(pos, Ordering::Relaxed);
        bar.update(pos, total)
    })
    .with_context(|| format!("sensor run over {}", a.input.display()))?;
    bar.finish();
    if !a.quiet {
        eprint!("{}", summary.human());
    }
    let mut failed = false;
    if let Some(s) = shipper {
        failed = finish_shipping(s, &summary, &a.hub, a.quiet);
    }
    if let Some(err) = &summary.capture_error {
        eprintln!("error: {}: {err}", a.input.display());
        return Ok(ExitCode::from(1));
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Waits (bounded) for the hub to acknowledge everything, sends a final heartbeat with the
/// run's counters, and says what is left. True when events were refused by the spool or the
/// hub refused the sensor for good.
fn finish_shipping(
    s: LiveShipper,
    summary: &watchfloor_sensor::RunSummary,
    h: &HubArgs,
    quiet: bool,
) -> bool {
    let st = &summary.stats;
    let mut fin = serde_json::Map::new();
    fin.insert("packets".into(), st.packets.into());
    fin.insert("bytes".into(), st.bytes.into());
    for (k, v) in &st.record_counts {
        fin.insert(format!("events_{k}"), (*v).into());
    }
    fin.insert("stats".into(), st.to_json());
    fin.insert("final".into(), true.into());
    let r = s.drain(
        Duration::from_secs(h.drain_timeout),
        Some(serde_json::Value::Object(fin)),
    );
    if let Some(e) = &r.heartbeat_error {
        if !quiet {
            eprintln!("hub: final heartbeat not delivered: {e}");
        }
    }
    for c in &r.corruptions {
        eprintln!("warning: spool damage at {c}: skipped and shipped to the hub as loss markers");
    }
    if !quiet || r.remaining > 0 {
        eprintln!(
            "hub: {} events spooled this run, acknowledged up to sequence {}, {} still spooled{}",
            r.spooled,
            r.acked,
            r.remaining,
            if r.remaining > 0 {
                " (they will be sent at the next start)"
            } else {
                ""
            }
        );
    }
    if r.remaining > 0 {
        if let Some(e) = &r.last_error {
            eprintln!("hub: last error: {e}");
        }
    }
    let mut failed = false;
    if r.refused > 0 {
        eprintln!(
            "error: {} EVE records were refused by the spool and will not reach the hub ({}); \
             they are in eve.json",
            r.refused,
            r.first_refusal.as_deref().unwrap_or("unknown reason")
        );
        failed = true;
    }
    if let Some(f) = &r.fatal {
        eprintln!("error: hub: {f}");
        failed = true;
    }
    failed
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
