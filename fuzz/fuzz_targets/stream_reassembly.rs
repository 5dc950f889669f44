//! Random segment sequences through one reassembler: never panics, never
//! delivers more bytes than were offered, and returns all memory on flush.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfloor_stream::{Reassembler, StreamConfig, StreamCtx, StreamSink};

#[derive(Default)]
struct Count {
    bytes: u64,
    gaps: u64,
}

impl StreamSink for Count {
    fn data(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
    }
    fn gap(&mut self, len: u64) {
        self.gaps += len;
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let isn = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let depth = u64::from(data[4]) * 16;
    let mut ctx = StreamCtx::new(StreamConfig {
        depth,
        memcap: 4096,
        max_buffered_segments: 64,
        ..StreamConfig::default()
    });
    let mut r = Reassembler::new();
    r.init(isn);
    let mut sink = Count::default();
    let mut offered = 0u64;
    let mut rest = &data[5..];
    // Each record: op (1 byte), seq offset (2 bytes), len (1 byte), then data.
    while rest.len() >= 4 {
        let op = rest[0];
        let off = u32::from(u16::from_le_bytes([rest[1], rest[2]]));
        let len = usize::from(rest[3]).min(rest.len() - 4);
        let seq = isn
            .wrapping_add(off)
            .wrapping_sub(u32::from(op & 0x80) << 8);
        let payload = &rest[4..4 + len];
        match op & 3 {
            0 | 1 => {
                offered += len as u64;
                r.segment(seq, payload, &mut ctx, &mut sink);
            }
            2 => r.ack(seq, &mut ctx, &mut sink),
            _ => r.fin(seq),
        }
        rest = &rest[4 + len..];
    }
    r.flush(&mut ctx, &mut sink);
    assert!(sink.bytes <= offered);
    if depth != 0 {
        assert!(sink.bytes <= depth);
    }
    assert_eq!(ctx.mem_used(), 0);
});
