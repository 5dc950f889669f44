//! Throughput check, run by hand:
//! `cargo test -p watchfloor-flow --release --test perf -- --ignored --nocapture`

mod common;

use common::*;
use std::time::Instant;
use watchfloor_decode::tcp_flags::{ACK, FIN, PSH, SYN};
use watchfloor_decode::Packet;
use watchfloor_flow::{Direction, EndReason, Flow, FlowConfig, FlowSink, FlowTable, StreamConfig};

#[derive(Default)]
struct Bytes(u64, u64);

impl FlowSink<()> for Bytes {
    fn on_stream_data(&mut self, _f: &mut Flow<()>, _d: Direction, data: &[u8]) {
        self.0 += data.len() as u64;
    }
    fn on_flow_end(&mut self, _f: &mut Flow<()>, _r: EndReason) {
        self.1 += 1;
    }
}

#[test]
#[ignore]
fn fast_path_throughput() {
    let payload = vec![0x41u8; 1400];
    let flows = 40_000u32;
    let per_flow = 36u32;
    let mut pkts: Vec<Packet<'_>> = Vec::with_capacity((flows * per_flow) as usize);
    let mut addrs = Vec::new();
    for f in 0..flows {
        addrs.push((
            format!("10.{}.{}.{}", f >> 16, (f >> 8) & 255, f & 255),
            1024 + (f % 50_000) as u16,
        ));
    }
    // 500 flows at a time, interleaved packet by packet.
    for batch in addrs.chunks(500) {
        for i in 0..per_flow {
            for (n, (c, sp)) in batch.iter().enumerate() {
                let ts = T0 + i64::from(i) * 1_000_000 + n as i64;
                let s = "192.168.1.1";
                let p = match i {
                    0 => tcp(ts, c, *sp, s, 443, SYN, 0, 0, b""),
                    1 => tcp(ts, s, 443, c, *sp, SYN | ACK, 0, 1, b""),
                    2 => tcp(ts, c, *sp, s, 443, ACK, 1, 1, b""),
                    x if x == per_flow - 1 => tcp(
                        ts,
                        c,
                        *sp,
                        s,
                        443,
                        FIN | ACK,
                        1,
                        1 + 1400 * (per_flow - 4),
                        b"",
                    ),
                    x => {
                        let seq = 1 + 1400 * (x - 3);
                        tcp(ts, s, 443, c, *sp, PSH | ACK, seq, 1, &payload)
                    }
                };
                pkts.push(p);
            }
        }
    }
    let base = Instant::now();
    let mut acc = 0u64;
    for p in &pkts {
        acc += u64::from(p.captured_len) + p.payload.len() as u64;
    }
    println!("baseline walk: {:?} ({acc})", base.elapsed());
    println!(
        "size_of Packet {} Flow {}",
        std::mem::size_of::<Packet<'_>>(),
        std::mem::size_of::<Flow<()>>()
    );
    let mut t: FlowTable<()> =
        FlowTable::new(FlowConfig::default(), StreamConfig::default()).unwrap();
    let mut sink = Bytes::default();
    let start = Instant::now();
    for p in &pkts {
        t.process(p, &mut sink);
    }
    t.flush_all(&mut sink);
    let el = start.elapsed();
    let ns = el.as_nanos() as f64 / pkts.len() as f64;
    println!(
        "{} packets, {} flows: {:?}, {:.1} ns/packet, {} stream bytes",
        pkts.len(),
        sink.1,
        el,
        ns,
        sink.0
    );
    assert_eq!(sink.1, u64::from(flows));
}
