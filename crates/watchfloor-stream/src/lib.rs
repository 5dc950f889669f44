//! TCP stream reassembly (see ARCHITECTURE.md).
//!
//! One [`Reassembler`] per direction of a TCP session turns segments, as they
//! arrive, into bytes delivered strictly in order to a [`StreamSink`]. It knows
//! nothing about flows: the flow table decides when a direction starts (SYN or
//! midstream pick-up), feeds it segments and ACKs from the other side, and
//! flushes it when the flow ends.
//!
//! Policy, chosen to match Suricata's defaults where they exist:
//! - overlaps: first wins (bytes already received are kept, like Linux);
//! - a hole that can no longer be filled (ACKed past, flushed, or too much
//!   buffered behind it) is reported as a gap and skipped;
//! - delivery stops after `stream.reassembly.depth` bytes;
//! - out-of-order data counts against a memory cap shared by every
//!   reassembler that uses the same [`StreamCtx`].

mod config;
mod events;
mod reassembler;
mod stats;

pub use config::{StreamConfig, StreamCtx};
pub use events::StreamEvent;
pub use reassembler::Reassembler;
pub use stats::StreamStats;

/// Consumer of one direction's reassembled byte stream.
pub trait StreamSink {
    /// The next bytes of the stream, in order. On the fast path this borrows
    /// the packet's payload directly.
    fn data(&mut self, bytes: &[u8]);
    /// `len` bytes of the stream are missing and will never arrive; the next
    /// `data` call continues after them.
    fn gap(&mut self, len: u64);
    /// A stream anomaly (Suricata's `stream.*` events) was seen.
    fn event(&mut self, _event: StreamEvent) {}
}

/// A sink that collects everything; handy for tests and tools.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CollectSink {
    pub bytes: Vec<u8>,
    pub gaps: Vec<u64>,
    pub events: Vec<StreamEvent>,
}

impl StreamSink for CollectSink {
    fn data(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }
    fn gap(&mut self, len: u64) {
        self.gaps.push(len);
    }
    fn event(&mut self, event: StreamEvent) {
        self.events.push(event);
    }
}
