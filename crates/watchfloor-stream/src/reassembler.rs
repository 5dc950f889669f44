use crate::{StreamCtx, StreamEvent, StreamSink};
use std::collections::VecDeque;

/// ACKs further than this past the next expected byte are not believed: a
/// real receiver cannot have seen a gigabyte that never crossed the wire, and
/// trusting a corrupt ACK would skip the rest of the stream.
const MAX_ACK_JUMP: i64 = 1 << 30;

const F_INIT: u8 = 0x01;
const F_DEPTH: u8 = 0x02;
const F_GAP: u8 = 0x04;

/// One buffered out-of-order run. Runs never overlap each other.
#[derive(Debug)]
struct Run {
    start: u64,
    data: Box<[u8]>,
}

impl Run {
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

/// Reassembly state of one direction of a TCP session.
///
/// Positions are kept as 64-bit stream offsets (0 = first byte after the
/// ISN) so that 32-bit sequence wraparound only matters at the edge, where a
/// sequence number is turned into an offset relative to the next expected
/// byte.
#[derive(Debug, Default)]
pub struct Reassembler {
    next_seq: u32,
    offset: u64,
    runs: VecDeque<Run>,
    buffered: u64,
    fin_offset: Option<u64>,
    flags: u8,
    max_regions: u32,
}

impl Reassembler {
    pub fn new() -> Self {
        Reassembler::default()
    }

    /// Starts the stream from a SYN: the first data byte is `isn + 1`.
    pub fn init(&mut self, isn: u32) {
        self.init_at(isn.wrapping_add(1));
    }

    /// Starts the stream at `seq` (midstream pick-up: no SYN seen).
    pub fn init_at(&mut self, seq: u32) {
        self.next_seq = seq;
        self.offset = 0;
        self.flags = F_INIT;
        self.max_regions = 1;
    }

    pub fn is_initialized(&self) -> bool {
        self.flags & F_INIT != 0
    }

    /// Sequence number of the next byte to deliver.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    /// Stream offset of the next byte to deliver (bytes delivered plus gaps).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Out-of-order bytes held by this direction.
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered
    }

    pub fn depth_reached(&self) -> bool {
        self.flags & F_DEPTH != 0
    }

    /// True once any gap was skipped (Suricata's `ts_gap` / `tc_gap`).
    pub fn has_gap(&self) -> bool {
        self.flags & F_GAP != 0
    }

    /// Highest number of separate regions held at once (the delivered stream
    /// plus disjoint out-of-order runs), like Suricata's `*_max_regions`.
    pub fn max_regions(&self) -> u32 {
        self.max_regions.max(1)
    }

    /// Offset of `seq` relative to the next expected byte.
    fn rel(&self, seq: u32) -> i64 {
        i64::from(seq.wrapping_sub(self.next_seq) as i32)
    }

    /// Feeds one segment. Bytes are delivered to `sink` as soon as they are
    /// in order; the fast path (in order, nothing buffered) passes `data`
    /// through without copying.
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        ctx: &mut StreamCtx,
        sink: &mut impl StreamSink,
    ) {
        ctx.stats.segments += 1;
        if data.is_empty() || self.flags & (F_INIT | F_DEPTH) != F_INIT {
            return;
        }
        let rel = self.rel(seq);
        let len = data.len() as i64;
        if rel == 0 && self.runs.is_empty() {
            ctx.stats.fast_path += 1;
            self.deliver(data, ctx, sink);
            return;
        }
        if rel + len <= 0 {
            ctx.stats.retransmissions += 1;
            sink.event(StreamEvent::PktRetransmission);
            return;
        }
        // Bytes before the next expected one were delivered already and win.
        let data = if rel < 0 {
            ctx.stats.overlaps += 1;
            &data[(-rel) as usize..]
        } else {
            data
        };
        let start = self.offset + rel.max(0) as u64;
        if start == self.offset {
            // In order but with runs buffered ahead: the prefix up to the
            // first run can still go straight through.
            let first = self.runs.front().map_or(u64::MAX, |r| r.start);
            let direct = (first - start).min(data.len() as u64) as usize;
            self.deliver(&data[..direct], ctx, sink);
            if direct < data.len() && !self.depth_reached() {
                self.insert(start + direct as u64, &data[direct..], ctx, sink);
            }
        } else {
            ctx.stats.out_of_order += 1;
            self.insert(start, data, ctx, sink);
        }
        self.drain(ctx, sink);
        self.enforce_limits(ctx, sink);
    }

    /// The other side acknowledged everything before `ack`: any byte before it
    /// that we still lack was lost to the capture, so report it as a gap.
    pub fn ack(&mut self, ack: u32, ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        if self.flags & (F_INIT | F_DEPTH) != F_INIT {
            return;
        }
        let rel = self.rel(ack);
        if rel <= 0 || rel > MAX_ACK_JUMP {
            return;
        }
        let mut target = self.offset + rel as u64;
        // A FIN takes a sequence number but carries no byte.
        if let Some(fin) = self.fin_offset {
            target = target.min(fin);
        }
        self.fill_gaps_until(target, ctx, sink);
    }

    /// Notes the FIN's position so that its ACK is not mistaken for lost data
    /// and so that [`Reassembler::flush`] knows where the stream ended.
    pub fn fin(&mut self, seq: u32) {
        if self.flags & F_INIT == 0 || self.fin_offset.is_some() {
            return;
        }
        let rel = self.rel(seq);
        if (0..=MAX_ACK_JUMP).contains(&rel) {
            self.fin_offset = Some(self.offset + rel as u64);
        }
    }

    /// End of the stream: everything buffered is delivered, holes before it
    /// (and before a seen FIN) become gaps, and the memory is returned.
    pub fn flush(&mut self, ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        if self.flags & (F_INIT | F_DEPTH) == F_INIT {
            let mut target = self.runs.back().map_or(self.offset, Run::end);
            if let Some(fin) = self.fin_offset {
                target = target.max(fin);
            }
            self.fill_gaps_until(target, ctx, sink);
        }
        self.clear(ctx);
    }

    /// Drops buffered data and returns its memory without delivering it.
    pub fn clear(&mut self, ctx: &mut StreamCtx) {
        ctx.release(self.buffered);
        self.buffered = 0;
        self.runs.clear();
    }

    fn fill_gaps_until(&mut self, target: u64, ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        while self.offset < target && !self.depth_reached() {
            let hole_end = self.runs.front().map_or(target, |r| r.start.min(target));
            if hole_end > self.offset {
                self.skip(hole_end - self.offset, ctx, sink);
            }
            self.drain(ctx, sink);
        }
    }

    fn skip(&mut self, len: u64, ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        ctx.stats.gaps += 1;
        ctx.stats.gap_bytes += len;
        self.flags |= F_GAP;
        sink.event(StreamEvent::ReassemblySeqGap);
        sink.gap(len);
        self.advance(len);
        let depth = ctx.config.depth;
        if depth != 0 && self.offset >= depth {
            self.reach_depth(ctx, sink);
        }
    }

    fn advance(&mut self, len: u64) {
        self.offset += len;
        // Truncation is the point: sequence numbers live modulo 2^32.
        self.next_seq = self.next_seq.wrapping_add(len as u32);
    }

    fn deliver(&mut self, bytes: &[u8], ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        if bytes.is_empty() {
            return;
        }
        let depth = ctx.config.depth;
        let room = if depth == 0 {
            u64::MAX
        } else {
            depth.saturating_sub(self.offset)
        };
        let n = (bytes.len() as u64).min(room) as usize;
        if n > 0 {
            sink.data(&bytes[..n]);
            ctx.stats.bytes += n as u64;
            self.advance(n as u64);
        }
        if n < bytes.len() || (depth != 0 && self.offset >= depth) {
            self.reach_depth(ctx, sink);
        }
    }

    fn reach_depth(&mut self, ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        if self.depth_reached() {
            return;
        }
        self.flags |= F_DEPTH;
        ctx.stats.depth_reached += 1;
        sink.event(StreamEvent::ReassemblyDepthReached);
        self.clear(ctx);
    }

    /// Buffers `[start, start + data.len())` keeping, where it overlaps runs
    /// already held, the bytes that arrived first.
    fn insert(&mut self, start: u64, data: &[u8], ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        let end = start + data.len() as u64;
        let mut idx = self.runs.partition_point(|r| r.end() <= start);
        let mut cur = start;
        let mut overlapped = false;
        let mut differs = false;
        let mut fresh = false;
        while cur < end {
            let (piece_end, next_cur) = match self.runs.get(idx) {
                Some(r) if r.start < end => {
                    if cur >= r.start {
                        // Overlap with a run already held: the run wins.
                        let ov_end = r.end().min(end);
                        let ours = &data[(cur - start) as usize..(ov_end - start) as usize];
                        let theirs = &r.data[(cur - r.start) as usize..(ov_end - r.start) as usize];
                        overlapped = true;
                        differs |= ours != theirs;
                        idx += 1;
                        (cur, ov_end)
                    } else {
                        (r.start, r.start)
                    }
                }
                _ => (end, end),
            };
            if piece_end > cur {
                fresh = true;
                let piece = &data[(cur - start) as usize..(piece_end - start) as usize];
                if ctx.try_reserve(piece.len() as u64) {
                    self.runs.insert(
                        idx,
                        Run {
                            start: cur,
                            data: piece.into(),
                        },
                    );
                    self.buffered += piece.len() as u64;
                    idx += 1;
                }
            }
            cur = next_cur.max(piece_end);
        }
        if overlapped {
            if !fresh && !differs {
                ctx.stats.retransmissions += 1;
                sink.event(StreamEvent::PktRetransmission);
            } else {
                ctx.stats.overlaps += 1;
            }
        }
        if differs {
            ctx.stats.overlaps_different_data += 1;
            sink.event(StreamEvent::ReassemblyOverlapDifferentData);
        }
        self.max_regions = self.max_regions.max(self.regions());
    }

    fn regions(&self) -> u32 {
        let mut n = 1u32;
        let mut prev_end = self.offset;
        for r in &self.runs {
            if r.start > prev_end {
                n += 1;
            }
            prev_end = r.end();
        }
        n
    }

    /// Delivers runs that have become contiguous with the stream.
    fn drain(&mut self, ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        while let Some(front) = self.runs.front() {
            if front.start > self.offset {
                break;
            }
            let Some(run) = self.runs.pop_front() else {
                break;
            };
            let len = run.data.len() as u64;
            self.buffered -= len;
            ctx.release(len);
            if run.end() > self.offset {
                let skip = (self.offset - run.start) as usize;
                self.deliver(&run.data[skip..], ctx, sink);
                if self.depth_reached() {
                    return;
                }
            }
        }
    }

    fn enforce_limits(&mut self, ctx: &mut StreamCtx, sink: &mut impl StreamSink) {
        let cfg = ctx.config;
        while !self.runs.is_empty()
            && (self.buffered > cfg.max_buffered_bytes
                || self.runs.len() > cfg.max_buffered_segments)
        {
            ctx.stats.forced_gaps += 1;
            let first = self.runs.front().map_or(self.offset, |r| r.start);
            if first > self.offset {
                self.skip(first - self.offset, ctx, sink);
            }
            self.drain(ctx, sink);
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
