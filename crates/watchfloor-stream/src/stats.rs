/// Reassembly counters. Each worker keeps its own; [`StreamStats::merge`]
/// adds them up for the stats record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Segments offered to a reassembler (with or without data).
    pub segments: u64,
    /// Segments delivered straight from the packet (in order, nothing buffered).
    pub fast_path: u64,
    /// Bytes delivered to sinks.
    pub bytes: u64,
    /// Segments buffered out of order.
    pub out_of_order: u64,
    /// Segments wholly made of bytes already received (`stream.pkt_retransmission`).
    pub retransmissions: u64,
    /// Segments partly overlapping bytes already received.
    pub overlaps: u64,
    /// Overlaps whose bytes differ from the first copy
    /// (`stream.reassembly_overlap_different_data`).
    pub overlaps_different_data: u64,
    /// Holes skipped (`stream.reassembly_seq_gap` / Suricata's `tcp.reassembly_gap`).
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Directions that hit `stream.reassembly.depth`.
    pub depth_reached: u64,
    /// Segments (or parts) not buffered because the memcap was hit.
    pub memcap_drops: u64,
    /// Holes declared gaps because too much data waited behind them.
    pub forced_gaps: u64,
    /// Highest buffered out-of-order bytes seen.
    pub mem_peak: u64,
}

impl StreamStats {
    pub fn merge(&mut self, o: &StreamStats) {
        self.segments += o.segments;
        self.fast_path += o.fast_path;
        self.bytes += o.bytes;
        self.out_of_order += o.out_of_order;
        self.retransmissions += o.retransmissions;
        self.overlaps += o.overlaps;
        self.overlaps_different_data += o.overlaps_different_data;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.depth_reached += o.depth_reached;
        self.memcap_drops += o.memcap_drops;
        self.forced_gaps += o.forced_gaps;
        // Peaks of separate workers happen at different times; their sum is
        // the only bound that holds without a shared clock.
        self.mem_peak += o.mem_peak;
    }
}
