use anyhow::{bail, Context, Result};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  watchfloor synth -o office.pcap                        64 MiB, one office, seed 1
  watchfloor synth -o day.pcapng --format pcapng --size 256M --seed 7
  watchfloor synth -o vlan-sll.pcap --link sll2 --no-attacks
  watchfloor synth -o - --size 8M | watchfloor sensor -r - -l out/

The same arguments always give byte-identical output, so tests and exercises can rely on it.
A summary (packets, bytes, flows by protocol, attack flows by kind) is written next to the
capture as FILE.json and printed.";

/// Synthesise an election office's network traffic (DNS, HTTP, TLS, bulk, ICMP, VLANs,
/// IPv6 and a few attacks) as a pcap or pcapng file.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Output file (`-` for standard output).
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Approximate capture size: 64M, 1G, 500K.
    #[arg(long, default_value = "64M")]
    size: String,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// pcap or pcapng.
    #[arg(long, default_value = "pcap")]
    format: String,
    /// Link layer: eth, sll, sll2, raw.
    #[arg(long, default_value = "eth")]
    link: String,
    /// Capture span: 30m, 4h, 1d.
    #[arg(long, default_value = "4h")]
    duration: String,
    /// Benign traffic only.
    #[arg(long)]
    no_attacks: bool,
    /// Don't print the summary.
    #[arg(short, long)]
    quiet: bool,
}

pub fn parse_bytes(s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => bail!("size {s:?}: unit must be K, M or G"),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .parse()
        .with_context(|| format!("size {s:?}: expected a number such as 64M"))?;
    n.checked_mul(mult)
        .with_context(|| format!("size {s:?} is too large"))
}

pub fn parse_duration_ns(s: &str) -> Result<i64> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let n: i64 = num
        .parse()
        .with_context(|| format!("duration {s:?}: expected e.g. 30m, 4h, 1d"))?;
    let secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("duration {s:?}: unit must be s, m, h or d"),
    };
    n.checked_mul(secs)
        .and_then(|v| v.checked_mul(1_000_000_000))
        .filter(|v| *v > 0)
        .with_context(|| format!("duration {s:?} out of range"))
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut cfg = watchfloor_synth::SynthConfig {
        seed: a.seed,
        target: watchfloor_synth::Target::Bytes(parse_bytes(&a.size)?),
        duration_ns: parse_duration_ns(&a.duration)?,
        attacks: !a.no_attacks,
        ..Default::default()
    };
    cfg.format = match a.format.as_str() {
        "pcap" => watchfloor_synth::Format::Pcap,
        "pcapng" => watchfloor_synth::Format::Pcapng,
        f => bail!("--format {f}: expected pcap or pcapng"),
    };
    cfg.link = match a.link.as_str() {
        "eth" | "ethernet" => watchfloor_synth::Link::Ethernet,
        "sll" => watchfloor_synth::Link::Sll,
        "sll2" => watchfloor_synth::Link::Sll2,
        "raw" => watchfloor_synth::Link::Raw,
        l => bail!("--link {l}: expected eth, sll, sll2 or raw"),
    };
    let summary = if a.out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
        let s = watchfloor_synth::generate(&cfg, &mut w)?;
        w.flush()?;
        s
    } else {
        let f = std::fs::File::create(&a.out)
            .with_context(|| format!("cannot create {}", a.out.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let s = watchfloor_synth::generate(&cfg, &mut w)?;
        w.flush()
            .with_context(|| format!("cannot write {}", a.out.display()))?;
        let json_path = PathBuf::from(format!("{}.json", a.out.display()));
        std::fs::write(&json_path, s.to_json())
            .with_context(|| format!("cannot write {}", json_path.display()))?;
        s
    };
    if !a.quiet {
        eprintln!("{}", summary.to_json());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_bytes("64M").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1000").unwrap(), 1000);
        assert!(parse_bytes("12X").is_err());
        assert!(parse_bytes("99999999999G").is_err());
        assert_eq!(parse_duration_ns("4h").unwrap(), 4 * 3600 * 1_000_000_000);
        assert!(parse_duration_ns("0s").is_err());
        assert!(parse_duration_ns("5y").is_err());
    }
}
