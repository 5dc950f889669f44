//! `watchfloor hub`: run the national hub (a thin layer over `watchfloor-hub`).

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use watchfloor_hub::HubConfig;

const AFTER_HELP: &str = "\
Examples:
  watchfloor hub                     https://127.0.0.1:8443, data in ./watchfloor-hub
  watchfloor hub -c hub.toml         as configured (crates/watchfloor-hub/README.md)
  watchfloor hub -c hub.toml --data-dir /var/lib/watchfloor --listen 0.0.0.0:8443

Without [tls] cert/key a self-signed certificate is generated into <data dir>/tls/ on first
start and reused; its SHA-256 fingerprint is printed so sensors can pin it. Without [store]
events go to SQLite at <data dir>/hub.db. Enrol sensors with `watchfloor admin sensor add`.
SIGTERM or Ctrl-C stops accepting and lets in-flight requests finish.";

#[derive(clap::Args)]
#[command(about = "Run the national hub: HTTPS ingest of sensor events, heartbeats, metrics.", after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub store: HubConfigArgs,
    /// Listen on this address instead of the configured one.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
}

/// `-c hub.toml` and `--data-dir`, shared by `hub` and `admin` so both open the same store.
#[derive(clap::Args, Clone)]
pub struct HubConfigArgs {
    /// The hub's configuration (TOML); defaults apply without it.
    #[arg(short = 'c', long = "config", value_name = "hub.toml", global = true)]
    config: Option<PathBuf>,
    /// Data directory (certificate, SQLite file); overrides `data_dir` in the config.
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
}

impl HubConfigArgs {
    pub fn load(&self) -> Result<HubConfig> {
        let mut cfg = match &self.config {
            Some(path) => HubConfig::load(path)?,
            None => HubConfig::default(),
        };
        if let Some(dir) = &self.data_dir {
            cfg.data_dir = dir.clone();
        }
        Ok(cfg)
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut cfg = args.store.load()?;
    if let Some(addr) = args.listen {
        cfg.listen = addr;
    }
    watchfloor_hub::run_blocking(cfg, |s| {
        println!("watchfloor hub listening on {}", s.url);
        println!(
            "certificate {}{}",
            s.cert_path.display(),
            if s.cert_generated {
                " (generated now, self-signed)"
            } else {
                ""
            }
        );
        println!("certificate SHA-256 fingerprint {}", s.fingerprint);
        println!("store {}", s.store);
        println!("retention {}", s.retention);
    })
    .context("hub")?;
    println!("watchfloor hub stopped");
    Ok(ExitCode::SUCCESS)
}
