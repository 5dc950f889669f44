//! `watchfloor admin`: organisations, sensors, people, personal tokens and the audit log on
//! the hub's store.

use super::hub::HubConfigArgs;
use anyhow::{Context, Result};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use watchfloor_hub::admin::{parse_kind, parse_role, Admin};
use watchfloor_hub::store::{AuditVerification, NewOrg, OrgKind, Role};

const AFTER_HELP: &str = "\
Examples:
  watchfloor admin -c hub.toml org add --name Pennsylvania --kind state --state PA
  watchfloor admin -c hub.toml org add --name 'Philadelphia County' --kind local --state PA --county-fips 42101
  watchfloor admin -c hub.toml sensor add --org Pennsylvania --name pa-phl-01
  watchfloor admin -c hub.toml sensor list
  watchfloor admin -c hub.toml sensor revoke pa-phl-01
  watchfloor admin -c hub.toml sensor token pa-phl-01      a new token (after a revoke, or to rotate)
  watchfloor admin -c hub.toml init --email ops@cisa.example --org 'National Hub'   asks for the password
  watchfloor admin -c hub.toml user add --org Pennsylvania --email a@pa.example --role analyst --password-file pw.txt
  watchfloor admin -c hub.toml user list
  watchfloor admin -c hub.toml user disable a@pa.example
  watchfloor admin -c hub.toml token revoke 12
  watchfloor admin -c hub.toml audit verify

Passwords are read from a prompt (no echo) or the first line of --password-file; never give
one on the command line (it would be in the shell history and the process list).

Admin commands open the same store as `watchfloor hub` with the same -c / --data-dir.";

#[derive(clap::Args)]
#[command(about = "Manage the hub: organisations, sensors, people, tokens, the audit log.", after_help = AFTER_HELP)]
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
    /// Create the national organisation and its first admin (once).
    Init {
        #[arg(long)]
        email: String,
        /// Name of the national organisation.
        #[arg(long)]
        org: String,
        /// The admin's display name (default: the email).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of this file instead of a prompt.
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// People: add, list, disable.
    #[command(subcommand)]
    User(UserCmd),
    /// Personal API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
}

#[derive(clap::Subcommand)]
enum UserCmd {
    /// Add a person to an organisation.
    Add {
        /// Organisation name or id.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// admin, analyst, member or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of this file instead of a prompt.
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// List people (of one organisation with --org).
    List {
        #[arg(long)]
        org: Option<String>,
    },
    /// Disable a person (by email or id): signs them out, their tokens stop working.
    Disable { user: String },
}

#[derive(clap::Subcommand)]
enum TokenCmd {
    /// Revoke a personal API token by id.
    Revoke { id: i64 },
    /// List personal API tokens (never their secrets).
    List,
}

#[derive(clap::Subcommand)]
enum AuditCmd {
    /// Walk the chain; exit status 1 and the first broken row if it was altered.
    Verify,
}

/// The password from the file's first line, or a prompt without echo (twice, to confirm).
fn read_password(file: Option<&std::path::Path>) -> Result<String> {
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let line = text.lines().next().unwrap_or("").to_string();
        anyhow::ensure!(
            !line.is_empty(),
            "{}: the first line is empty",
            path.display()
        );
        return Ok(line);
    }
    let first = prompt("password: ")?;
    let second = prompt("again: ")?;
    anyhow::ensure!(first == second, "the passwords differ");
    Ok(first)
}

fn prompt(label: &str) -> Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let tty = std::io::stdin().is_terminal();
    eprint!("{label}");
    std::io::stderr().flush().ok();
    // No echo on a terminal (stty acts on the terminal of its standard input).
    let stty = |arg: &str| {
        if tty {
            let _ = std::process::Command::new("stty")
                .arg(arg)
                .stdin(std::process::Stdio::inherit())
                .status();
        }
    };
    stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    stty("echo");
    if tty {
        eprintln!();
    }
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
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
        Cmd::Init {
            email,
            org,
            name,
            password_file,
        } => {
            let pw = read_password(password_file.as_deref())?;
            let name = name.unwrap_or_else(|| email.clone());
            let (org, user) = admin.init(&org, &email, &name, &pw)?;
            println!(
                "national organisation {} {:?}; admin {} {}",
                org.id, org.name, user.id, user.email
            );
        }
        Cmd::User(UserCmd::Add {
            org,
            email,
            role,
            name,
            password_file,
        }) => {
            let pw = read_password(password_file.as_deref())?;
            let name = name.unwrap_or_else(|| email.clone());
            let u = admin.add_user(&org, &email, &name, role, &pw)?;
            println!(
                "user {} {} ({}) in organisation {}",
                u.id, u.email, u.role, u.org_id
            );
        }
        Cmd::User(UserCmd::List { org }) => {
            println!(
                "{:>5}  {:>5}  {:<8} {:<9} EMAIL",
                "ID", "ORG", "ROLE", "STATUS"
            );
            for u in admin.list_users(org.as_deref())? {
                println!(
                    "{:>5}  {:>5}  {:<8} {:<9} {}",
                    u.id,
                    u.org_id,
                    u.role.as_str(),
                    if u.disabled { "disabled" } else { "active" },
                    u.email
                );
            }
        }
        Cmd::User(UserCmd::Disable { user }) => {
            let u = admin.disable_user(&user)?;
            println!(
                "user {} {} disabled (signed out; tokens no longer work)",
                u.id, u.email
            );
        }
        Cmd::Token(TokenCmd::Revoke { id }) => match admin.revoke_user_token(id)? {
            Some(t) => println!("token {} {:?} of user {} revoked", t.id, t.name, t.user_id),
            None => println!("token {id} was already revoked"),
        },
        Cmd::Token(TokenCmd::List) => {
            println!(
                "{:>5}  {:>5}  {:<5} {:<8} NAME",
                "ID", "USER", "SCOPE", "STATUS"
            );
            for t in admin.list_user_tokens()? {
                println!(
                    "{:>5}  {:>5}  {:<5} {:<8} {}",
                    t.id,
                    t.user_id,
                    t.scope.as_str(),
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    },
                    t.name
                );
            }
        }
        Cmd::Audit(AuditCmd::Verify) => match admin.verify_audit()? {
            AuditVerification::Intact { rows, last_hash } => {
                println!("audit log intact: {rows} rows, last hash {last_hash}");
            }
            AuditVerification::Broken {
                rows_ok,
                id,
                reason,
            } => {
                println!(
                    "audit log BROKEN at row {id} ({rows_ok} rows before it verify): {reason}"
                );
                return Ok(ExitCode::from(1));
            }
        },
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
