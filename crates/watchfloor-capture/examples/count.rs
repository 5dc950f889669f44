//! Counts the packets and captured bytes of a capture: the reader's share of
//! the sensor's time budget.
//!
//! cargo run --release -p watchfloor-capture --example count -- FILE|-

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let path = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .unwrap_or_else(|| "/work/bench/bench-1G.pcap".into()),
    );
    let started = Instant::now();
    let mut src = match watchfloor_capture::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let (mut packets, mut bytes, mut checksum) = (0u64, 0u64, 0u64);
    let result = loop {
        match src.next_packet() {
            Ok(Some(p)) => {
                packets += 1;
                bytes += p.data.len() as u64;
                // Touch the timestamp so the work cannot be optimised away.
                checksum = checksum.wrapping_add(p.ts_ns as u64);
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{packets} packets, {bytes} captured bytes, {} input bytes in {secs:.3} s wall (ts sum {checksum:#x})",
        src.position()
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
