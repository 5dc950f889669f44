//! Writes a synthetic capture: `gen OUT.pcap[ng] SIZE [SEED] [eth|sll|sll2|raw] [OFFICES]`,
//! e.g. `cargo run --release -p watchfloor-synth --example gen -- out.pcap 64M`.
//! The summary is printed and written next to the capture as `OUT.json`.

use std::time::Instant;
use watchfloor_synth::{generate, parse_size, Format, Link, SynthConfig, Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: gen OUT.pcap[ng] SIZE [SEED] [eth|sll|sll2|raw] [OFFICES]");
        std::process::exit(2);
    };
    let size = args.get(1).and_then(|s| parse_size(s)).unwrap_or(64 << 20);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let link = match args.get(3).map(String::as_str) {
        Some("sll") => Link::Sll,
        Some("sll2") => Link::Sll2,
        Some("raw") => Link::Raw,
        _ => Link::Ethernet,
    };
    let offices = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let cfg = SynthConfig {
        seed,
        target: Target::Bytes(size),
        // About 150 kbit/s per 256 MiB over four hours, like a quiet office.
        duration_ns: ((size as f64 / (256u64 << 20) as f64) * 4.0 * 3600e9).max(600e9) as i64,
        format: if out.ends_with(".pcapng") {
            Format::Pcapng
        } else {
            Format::Pcap
        },
        link,
        offices,
        ground_truth: false,
        ..Default::default()
    };
    let file = std::fs::File::create(out)?;
    let t = Instant::now();
    let summary = generate(&cfg, file)?;
    let secs = t.elapsed().as_secs_f64();
    let json = summary.to_json();
    if !out.starts_with("/dev/") {
        std::fs::write(format!("{out}.json"), &json)?;
    }
    println!("{json}");
    eprintln!(
        "{} packets, {:.1} MB in {:.2} s: {:.0} MB/s",
        summary.packets,
        summary.file_bytes as f64 / 1e6,
        secs,
        summary.file_bytes as f64 / 1e6 / secs
    );
    Ok(())
}
