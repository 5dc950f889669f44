//! `watchfloor admin`: organisations and sensor enrolment on the hub's store.

use super::hub::HubConfigArgs;
use anyhow::{Context, Result};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use watchfloor_hub::admin::{parse_kind, Admin};
use watchfloor_hub::store::{NewOrg, OrgKind};

const AFTER_HELP: &str = "\
Examples:
  watchfloor admin -c hub.toml org add --name Pennsylvania --kind state --state PA
  watchfloor admin -c hub.toml org add --name 'Philadelphia County' --kind local --state PA --county-fips 42101
  watchfloor admin -c hub.toml sensor add --org Pennsylvania --name pa-phl-01
  watchfloor admin -c hub.toml sensor list
  watchfloor admin -c hub.toml sensor revoke pa-phl-01
  watchfloor admin -c hub.toml sensor token pa-phl-01      a new token (after a revoke, or to rotate)

Admin commands open the same store as `watchfloor hub` with the same -c / --data-dir.";

#[derive(clap::Args)]
#[command(about = "Manage the hub: organisations and sensors.", after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    store: HubConfigArgs,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Organisations (states, counties, vendors...).
    #[command(subcommand)]
    Org(OrgCmd),
    /// Sensors: enrol (prints the token once), revoke, list.
    #[command(subcommand)]
    Sensor(SensorCmd),
}

#[derive(clap::Subcommand)]
enum OrgCmd {
    /// Create an organisation.
    Add {
        #[arg(long)]
        name: String,
        /// national, federal, state, local, vendor, party or platform.
        #[arg(long, default_value = "state", value_parser = parse_kind)]
        kind: OrgKind,
        /// Two-letter state code (required for local).
        #[arg(long)]
        state: Option<String>,
        /// Five-digit county FIPS code.
        #[arg(long)]
        county_fips: Option<String>,
        /// Parent organisation id.
        #[arg(long)]
        parent: Option<i64>,
    },
    /// List organisations.
    List,
}

#[derive(clap::Subcommand)]
enum SensorCmd {
    /// Enrol a sensor; prints its token once (the hub keeps only a hash).
    Add {
        /// Organisation name or id.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
    },
    /// Revoke every token of a sensor (its batches are then refused with 401).
    Revoke {
        /// Sensor name or id.
        sensor: String,
    },
    /// Issue a new token for a sensor; prints it once.
    Token {
        /// Sensor name or id.
        sensor: String,
    },
    /// List sensors with their last heartbeat and whether they are stale.
    List,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let cfg = args.store.load()?;
    let admin = Admin::open(&cfg).context("opening the hub's store")?;
    match args.cmd {
        Cmd::Org(OrgCmd::Add {
            name,
            kind,
            state,
            county_fips,
            parent,
        }) => {
            let org = admin.add_org(NewOrg {
                name,
                kind,
                state,
                county_fips,
                parent,
            })?;
            println!("organisation {} {:?} ({})", org.id, org.name, org.kind);
        }
        Cmd::Org(OrgCmd::List) => {
            println!(
                "{:>5}  {:<9} {:<5} {:<6} NAME",
                "ID", "KIND", "STATE", "FIPS"
            );
            for o in admin.list_orgs()? {
                println!(
                    "{:>5}  {:<9} {:<5} {:<6} {}",
                    o.id,
                    o.kind.as_str(),
                    o.state.as_deref().unwrap_or("-"),
                    o.county_fips.as_deref().unwrap_or("-"),
                    o.name
                );
            }
        }
        Cmd::Sensor(SensorCmd::Add { org, name }) => {
            let (sensor, token) = admin.add_sensor(&org, &name)?;
            println!(
                "sensor {} {:?} enrolled in organisation {}",
                sensor.id, sensor.name, sensor.org_id
            );
            println!("token (shown once; the hub keeps only its hash):");
            println!("{}", token.plaintext);
        }
        Cmd::Sensor(SensorCmd::Revoke { sensor }) => {
            let (s, n) = admin.revoke_sensor(&sensor)?;
            println!("sensor {} {:?}: {n} token(s) revoked", s.id, s.name);
        }
        Cmd::Sensor(SensorCmd::Token { sensor }) => {
            let (s, token) = admin.issue_token(&sensor)?;
            println!("sensor {} {:?}: new token (shown once):", s.id, s.name);
            println!("{}", token.plaintext);
        }
        Cmd::Sensor(SensorCmd::List) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            println!(
                "{:>5}  {:>5}  {:<24} {:<6} {:>12}  {:<14} NAME",
                "ID", "ORG", "LAST HEARTBEAT", "STALE", "ACKED SEQ", "AGO"
            );
            for s in admin.list_sensors()? {
                let (last, ago) = match &s.last_heartbeat {
                    Some(h) => (
                        rfc3339(h.at),
                        format!(
                            "{}s",
                            Duration::from_micros((now - h.at).max(0) as u64).as_secs()
                        ),
                    ),
                    None => ("never".to_string(), "-".to_string()),
                };
                println!(
                    "{:>5}  {:>5}  {:<24} {:<6} {:>12}  {:<14} {}",
                    s.sensor.id,
                    s.sensor.org_id,
                    last,
                    if s.stale { "stale" } else { "ok" },
                    s.highest_contiguous_seq,
                    ago,
                    s.sensor.name
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `2024-11-05T06:00:00Z` from microseconds since the epoch (UTC).
fn rfc3339(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = watchfloor_hub::store::eve::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}
