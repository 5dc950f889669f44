use crate::{CollectSink, Reassembler, StreamConfig, StreamCtx, StreamEvent};

fn ctx() -> StreamCtx {
    StreamCtx::new(StreamConfig::default())
}

fn started(isn: u32) -> Reassembler {
    let mut r = Reassembler::new();
    r.init(isn);
    r
}

/// A sink that fails the test if the fast path is not zero-copy: it checks the
/// slice it gets points into the caller's buffer.
struct PtrSink {
    expect: *const u8,
    hit: bool,
}

impl crate::StreamSink for PtrSink {
    fn data(&mut self, bytes: &[u8]) {
        self.hit = bytes.as_ptr() == self.expect;
    }
    fn gap(&mut self, _len: u64) {}
}

#[test]
fn in_order_is_delivered_zero_copy() {
    let mut c = ctx();
    let mut r = started(1000);
    let data = b"hello".to_vec();
    let mut s = PtrSink {
        expect: data.as_ptr(),
        hit: false,
    };
    r.segment(1001, &data, &mut c, &mut s);
    assert!(s.hit);
    let mut s = CollectSink::default();
    r.segment(1006, b" world", &mut c, &mut s);
    assert_eq!(s.bytes, b" world");
    assert_eq!(c.stats.fast_path, 2);
    assert_eq!(r.offset(), 11);
    assert_eq!(r.next_seq(), 1012);
}

#[test]
fn out_of_order_waits_for_the_hole() {
    let mut c = ctx();
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(7, b"world", &mut c, &mut s);
    r.segment(6, b" ", &mut c, &mut s);
    assert!(s.bytes.is_empty());
    assert_eq!(c.mem_used(), 6);
    r.segment(1, b"hello", &mut c, &mut s);
    assert_eq!(s.bytes, b"hello world");
    assert_eq!(c.mem_used(), 0);
    assert_eq!(r.buffered_bytes(), 0);
    assert!(s.gaps.is_empty());
}

#[test]
fn overlap_first_wins_and_different_data_is_reported() {
    let mut c = ctx();
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(5, b"EFGH", &mut c, &mut s);
    // Covers the buffered run with other bytes: the run (first) wins.
    r.segment(1, b"abcdXXXXij", &mut c, &mut s);
    assert_eq!(s.bytes, b"abcdEFGHij");
    assert_eq!(s.events, vec![StreamEvent::ReassemblyOverlapDifferentData]);
    assert_eq!(c.stats.overlaps_different_data, 1);

    // Same bytes again overlapping the buffered run: an overlap, no event.
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(5, b"EFGH", &mut c, &mut s);
    r.segment(3, b"cdEF", &mut c, &mut s);
    r.segment(1, b"ab", &mut c, &mut s);
    assert_eq!(s.bytes, b"abcdEFGH");
    assert!(s.events.is_empty());
}

#[test]
fn retransmission_is_ignored_and_counted() {
    let mut c = ctx();
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(1, b"abcd", &mut c, &mut s);
    r.segment(1, b"abcd", &mut c, &mut s);
    // Partly old, partly new: only the new tail is delivered.
    r.segment(3, b"cdef", &mut c, &mut s);
    assert_eq!(s.bytes, b"abcdef");
    assert_eq!(c.stats.retransmissions, 1);
    assert_eq!(c.stats.overlaps, 1);
    assert!(s.events.contains(&StreamEvent::PktRetransmission));
    // Duplicate of a buffered out-of-order run is a retransmission too.
    r.segment(20, b"zz", &mut c, &mut s);
    r.segment(20, b"zz", &mut c, &mut s);
    assert_eq!(c.stats.retransmissions, 2);
}

#[test]
fn sequence_wraparound() {
    let mut c = ctx();
    let isn = u32::MAX - 3;
    let mut r = started(isn);
    let mut s = CollectSink::default();
    // First byte is at u32::MAX - 2; the last bytes sit past zero.
    let s1 = isn.wrapping_add(1);
    r.segment(s1.wrapping_add(6), b"ghij", &mut c, &mut s);
    r.segment(s1, b"abc", &mut c, &mut s);
    r.segment(s1.wrapping_add(3), b"def", &mut c, &mut s);
    assert_eq!(s.bytes, b"abcdefghij");
    assert_eq!(r.next_seq(), 7);
}

#[test]
fn ack_past_a_hole_reports_a_gap() {
    let mut c = ctx();
    let mut r = started(100);
    let mut s = CollectSink::default();
    r.segment(101, b"abc", &mut c, &mut s);
    r.segment(110, b"xyz", &mut c, &mut s);
    r.ack(104, &mut c, &mut s); // nothing missing yet
    assert!(s.gaps.is_empty());
    r.ack(113, &mut c, &mut s);
    assert_eq!(s.gaps, vec![6]);
    assert_eq!(s.bytes, b"abcxyz");
    assert!(r.has_gap());
    assert!(s.events.contains(&StreamEvent::ReassemblySeqGap));
    // Late copy of the lost bytes is old now.
    r.segment(104, b"defghi", &mut c, &mut s);
    assert_eq!(s.bytes, b"abcxyz");
    r.segment(113, b"!", &mut c, &mut s);
    assert_eq!(s.bytes, b"abcxyz!");
}

#[test]
fn ack_of_fin_is_not_a_gap() {
    let mut c = ctx();
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(1, b"abc", &mut c, &mut s);
    r.fin(4);
    r.ack(5, &mut c, &mut s);
    assert!(s.gaps.is_empty());
}

#[test]
fn flush_reports_gaps_and_delivers_the_rest() {
    let mut c = ctx();
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(1, b"ab", &mut c, &mut s);
    r.segment(5, b"ef", &mut c, &mut s);
    r.segment(9, b"ij", &mut c, &mut s);
    r.fin(13);
    r.flush(&mut c, &mut s);
    assert_eq!(s.bytes, b"abefij");
    assert_eq!(s.gaps, vec![2, 2, 2]);
    assert_eq!(c.mem_used(), 0);
    assert_eq!(c.stats.gaps, 3);
    assert_eq!(c.stats.gap_bytes, 6);
}

#[test]
fn depth_stops_delivery_once() {
    let mut c = StreamCtx::new(StreamConfig {
        depth: 5,
        ..StreamConfig::default()
    });
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(1, b"abc", &mut c, &mut s);
    r.segment(4, b"defgh", &mut c, &mut s);
    r.segment(9, b"ijk", &mut c, &mut s);
    r.flush(&mut c, &mut s);
    assert_eq!(s.bytes, b"abcde");
    assert!(r.depth_reached());
    assert_eq!(
        s.events
            .iter()
            .filter(|e| **e == StreamEvent::ReassemblyDepthReached)
            .count(),
        1
    );
    assert_eq!(c.stats.depth_reached, 1);
}

#[test]
fn unlimited_depth() {
    let mut c = StreamCtx::new(StreamConfig {
        depth: 0,
        ..StreamConfig::default()
    });
    let mut r = started(0);
    let mut s = CollectSink::default();
    let big = vec![7u8; 3 << 20];
    r.segment(1, &big, &mut c, &mut s);
    assert_eq!(s.bytes.len(), big.len());
    assert!(!r.depth_reached());
}

#[test]
fn memcap_drops_and_counts() {
    let mut c = StreamCtx::new(StreamConfig {
        memcap: 8,
        ..StreamConfig::default()
    });
    let mut a = started(0);
    let mut b = started(0);
    let mut s = CollectSink::default();
    a.segment(10, b"123456", &mut c, &mut s);
    // The budget is shared: the second direction cannot buffer 6 more.
    b.segment(10, b"abcdef", &mut c, &mut s);
    assert_eq!(c.mem_used(), 6);
    assert_eq!(c.stats.memcap_drops, 1);
    assert_eq!(b.buffered_bytes(), 0);
    // The dropped data later shows up as a gap, not as silence.
    b.segment(16, b"g", &mut c, &mut s);
    b.flush(&mut c, &mut s);
    a.flush(&mut c, &mut s);
    assert_eq!(c.mem_used(), 0);
}

#[test]
fn too_much_behind_a_hole_forces_a_gap() {
    let mut c = StreamCtx::new(StreamConfig {
        max_buffered_segments: 2,
        ..StreamConfig::default()
    });
    let mut r = started(0);
    let mut s = CollectSink::default();
    r.segment(3, b"c", &mut c, &mut s);
    r.segment(5, b"e", &mut c, &mut s);
    r.segment(7, b"g", &mut c, &mut s);
    assert_eq!(c.stats.forced_gaps, 1);
    assert_eq!(s.gaps, vec![2]);
    assert_eq!(s.bytes, b"c");
}

#[test]
fn uninitialized_ignores_everything() {
    let mut c = ctx();
    let mut r = Reassembler::new();
    let mut s = CollectSink::default();
    r.segment(1, b"abc", &mut c, &mut s);
    r.ack(100, &mut c, &mut s);
    r.flush(&mut c, &mut s);
    assert!(s.bytes.is_empty() && s.gaps.is_empty());
}

/// Tiny xorshift PRNG: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_segmentation_reassembles_to_the_original() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        let len = 1 + rng.below(4000) as usize;
        let original: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Near the wrap point every few rounds.
        let isn = if round % 3 == 0 {
            u32::MAX - rng.below(2000) as u32
        } else {
            rng.next() as u32
        };
        // Random segments covering everything, some overlapping, some repeated.
        let mut segs: Vec<(usize, usize)> = Vec::new();
        let mut pos = 0;
        while pos < len {
            let n = 1 + rng.below(300) as usize;
            let back = if pos > 0 && rng.below(4) == 0 {
                rng.below(pos.min(50) as u64) as usize
            } else {
                0
            };
            let start = pos - back;
            let end = (pos + n).min(len);
            segs.push((start, end));
            if rng.below(5) == 0 {
                segs.push((start, end));
            }
            pos = end;
        }
        for i in (1..segs.len()).rev() {
            // Local shuffle: real reordering is rarely far.
            if rng.below(2) == 0 {
                let j = i.saturating_sub(rng.below(8) as usize);
                segs.swap(i, j);
            }
        }
        let mut c = ctx();
        let mut r = started(isn);
        let mut s = CollectSink::default();
        for (a, b) in segs {
            let seq = isn.wrapping_add(1).wrapping_add(a as u32);
            r.segment(seq, &original[a..b], &mut c, &mut s);
        }
        r.flush(&mut c, &mut s);
        assert_eq!(s.bytes, original, "round {round}");
        assert!(s.gaps.is_empty(), "round {round}");
        assert_eq!(c.mem_used(), 0);
    }
}

/// The fuzz target's invariants (fuzz/fuzz_targets/stream_reassembly.rs) on
/// random operation sequences, so they hold in plain `cargo test` too.
#[test]
fn random_operations_keep_the_invariants() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let pool: Vec<u8> = (0..512).map(|_| rng.next() as u8).collect();
    for _ in 0..500 {
        let isn = rng.next() as u32;
        let depth = rng.below(4) * 300;
        let mut c = StreamCtx::new(StreamConfig {
            depth,
            memcap: 2048,
            max_buffered_segments: 16,
            ..StreamConfig::default()
        });
        let mut r = started(isn);
        let mut s = CollectSink::default();
        let mut offered = 0u64;
        for _ in 0..rng.below(60) {
            let off = (rng.below(3000) as u32).wrapping_sub(500);
            let seq = isn.wrapping_add(off);
            let len = rng.below(200) as usize;
            let start = rng.below(300) as usize;
            match rng.below(4) {
                0 | 1 => {
                    offered += len as u64;
                    r.segment(seq, &pool[start..start + len], &mut c, &mut s);
                }
                2 => r.ack(seq, &mut c, &mut s),
                _ => r.fin(seq),
            }
        }
        r.flush(&mut c, &mut s);
        assert!(s.bytes.len() as u64 <= offered);
        if depth != 0 {
            assert!(s.bytes.len() as u64 <= depth);
        }
        assert_eq!(c.mem_used(), 0);
    }
}
