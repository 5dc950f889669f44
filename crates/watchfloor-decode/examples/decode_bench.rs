//! Decode every packet of a classic pcap file and report the decode rate.
//!
//! `cargo run --release -p watchfloor-decode --example decode_bench -- FILE.pcap`
//!
//! The file is read in chunks outside the timed region so that only
//! `Decoder::decode` is measured. Reads the classic pcap format directly
//! (either byte order, micro- or nanosecond timestamps).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::time::{Duration, Instant};
use watchfloor_capture::{LinkType, RawPacket};
use watchfloor_decode::{DecodeConfig, Decoder, L4};

const CHUNK_BYTES: usize = 1 << 20;

struct Pcap<R> {
    r: R,
    big_endian: bool,
    nanos: bool,
    linktype: LinkType,
}

impl<R: Read> Pcap<R> {
    fn open(mut r: R) -> io::Result<Self> {
        let mut h = [0u8; 24];
        r.read_exact(&mut h)?;
        let magic = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let (big_endian, nanos) = match magic {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("not a classic pcap file (magic {magic:#010x})"),
                ))
            }
        };
        let mut pcap = Pcap {
            r,
            big_endian,
            nanos,
            linktype: LinkType::Other(0),
        };
        pcap.linktype = LinkType::from_number(pcap.u32(&h[20..24]) & 0x0fff_ffff);
        Ok(pcap)
    }

    fn u32(&self, b: &[u8]) -> u32 {
        let b = [b[0], b[1], b[2], b[3]];
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    /// Append records to `buf` until about `CHUNK_BYTES`; false at end of file.
    fn fill(
        &mut self,
        buf: &mut Vec<u8>,
        index: &mut Vec<(i64, usize, usize)>,
    ) -> io::Result<bool> {
        buf.clear();
        index.clear();
        while buf.len() < CHUNK_BYTES {
            let mut rec = [0u8; 16];
            match self.r.read_exact(&mut rec) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
                Err(e) => return Err(e),
            }
            let secs = i64::from(self.u32(&rec[0..4]));
            let frac = i64::from(self.u32(&rec[4..8]));
            let ts = secs * 1_000_000_000 + if self.nanos { frac } else { frac * 1000 };
            let caplen = self.u32(&rec[8..12]) as usize;
            let start = buf.len();
            buf.resize(start + caplen, 0);
            self.r.read_exact(&mut buf[start..])?;
            index.push((ts, start, caplen));
        }
        Ok(true)
    }
}

fn main() -> io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/work/bench/bench-64M.pcap".to_string());
    let checksums = std::env::args().any(|a| a == "-k");
    let mut pcap = Pcap::open(BufReader::with_capacity(1 << 20, File::open(&path)?))?;
    let mut decoder = Decoder::new(DecodeConfig {
        checksum_validation: checksums,
        ..DecodeConfig::default()
    });
    let (mut buf, mut index) = (Vec::new(), Vec::new());
    let mut busy = Duration::ZERO;
    let (mut tcp, mut payload_bytes) = (0u64, 0u64);
    loop {
        let more = pcap.fill(&mut buf, &mut index)?;
        let t0 = Instant::now();
        for &(ts_ns, start, len) in &index {
            let raw = RawPacket {
                ts_ns,
                linktype: pcap.linktype,
                data: &buf[start..start + len],
                orig_len: len as u32,
                offset: 0,
                interface: 0,
            };
            let p = decoder.decode(&raw);
            // Use the result so the optimiser cannot drop the decode.
            tcp += u64::from(matches!(p.l4, L4::Tcp(_)));
            payload_bytes += p.payload.len() as u64;
        }
        busy += t0.elapsed();
        if !more {
            break;
        }
    }
    let s = decoder.stats();
    let secs = busy.as_secs_f64().max(1e-9);
    println!("file            {path} ({:?})", pcap.linktype);
    println!(
        "checksums       {}",
        if checksums { "validated" } else { "off" }
    );
    println!("packets         {}", s.pkts);
    println!("bytes           {}", s.bytes);
    println!("decode time     {:.3} s", secs);
    println!(
        "rate            {:.2} Mpkt/s, {:.1} ns/pkt, {:.2} Gbit/s",
        s.pkts as f64 / secs / 1e6,
        secs * 1e9 / s.pkts.max(1) as f64,
        s.bytes as f64 * 8.0 / secs / 1e9
    );
    println!("tcp packets     {tcp}  payload bytes {payload_bytes}");
    for (name, v) in s.counters().filter(|(_, v)| *v > 0) {
        println!("  {name:32} {v}");
    }
    for (name, v) in s.events().filter(|(_, v)| *v > 0) {
        println!("  {name:40} {v}");
    }
    Ok(())
}
