//! Arbitrary bytes through the capture readers. Besides not panicking, the
//! slice reader and the streaming reader (fed in small, uneven chunks) must
//! agree exactly: same packets, same error, same position.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use watchfloor_capture::{from_slice, CaptureError, PacketSource, StreamSource};

/// Hands out the input in chunks whose sizes come from the input itself, so
/// the fuzzer also explores refill boundaries.
struct Chunks<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.data[self.pos..];
        let want = rest.first().map_or(1, |b| usize::from(b % 23) + 1);
        let n = want.min(buf.len()).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

type Summary = Result<(Vec<(i64, u32, u64, u32, Vec<u8>)>, Option<String>, u64), String>;

fn summarize<S: PacketSource>(src: Result<S, CaptureError>, input_len: usize) -> Summary {
    let mut src = src.map_err(|e| e.to_string())?;
    let mut packets = Vec::new();
    let error = loop {
        match src.next_packet() {
            Ok(Some(p)) => {
                // A packet's bytes lie inside the input, after its record start.
                assert!(p.offset as usize + p.data.len() <= input_len);
                packets.push((p.ts_ns, p.orig_len, p.offset, p.interface, p.data.to_vec()))
            }
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        }
    };
    assert!(matches!(src.next_packet(), Ok(None)));
    Ok((packets, error, src.position()))
}

fuzz_target!(|data: &[u8]| {
    let from_memory = summarize(from_slice(data), data.len());
    let streamed = summarize(
        StreamSource::with_capacity(Chunks { data, pos: 0 }, 64),
        data.len(),
    );
    assert_eq!(from_memory, streamed);
});
