//! `watchfloor`: one binary for the sensor, the tools around it and (later) the hub.
//! Each subcommand is a thin layer over a library crate; see ARCHITECTURE.md.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

const ABOUT: &str = "Watchfloor protects election infrastructure: network sensors at election \
offices, a national hub that sorts signal from noise, and a portal where officials and partners \
share what they see.";

const AFTER_HELP: &str = "\
Examples:
  watchfloor demo                                  see everything working on this machine
  watchfloor synth -o office.pcap --size 64M       make a realistic election-office capture
  watchfloor sensor -r office.pcap -l out/         write out/eve.json (Suricata's EVE format)
  watchfloor sensor -r office.pcap -l out/ -S emerging-all.rules    ... with alerts from these rules
  watchfloor rules check local.rules               what loads, what does not and why
  watchfloor verify ../shared/conformance/cases -l verify-out --check
  watchfloor hub -c hub.toml                       run the national hub (HTTPS)
  watchfloor admin sensor add --org PA --name pa-phl-01    enrol a sensor, print its token

Run `watchfloor help <command>` for a command's own examples.";

#[derive(Parser)]
#[command(name = "watchfloor", version, about = ABOUT, after_help = AFTER_HELP)]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Sensor(Box<cmd::sensor::Args>),
    Synth(cmd::synth::Args),
    Verify(cmd::verify::Args),
    Demo(cmd::demo::Args),
    /// Check Suricata rule files: what loads, what does not and why.
    Rules(cmd::rules::Args),
    Hub(cmd::hub::Args),
    Admin(cmd::admin::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Sensor(a) => cmd::sensor::run(*a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Hub(a) => cmd::hub::run(a),
        Command::Admin(a) => cmd::admin::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text the
/// message before it already quotes (typed errors often include their source).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
