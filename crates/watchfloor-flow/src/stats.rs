use watchfloor_stream::StreamStats;

/// Flow table counters. Each worker keeps its own; [`FlowStats::merge`] adds
/// them up. [`FlowStats::counters`] names them as Suricata's stats do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets given to the table.
    pub pkts: u64,
    /// Packets that belong to no flow (no IP or no decodable layer 4).
    pub no_flow: u64,
    pub created_tcp: u64,
    pub created_udp: u64,
    pub created_icmpv4: u64,
    pub created_icmpv6: u64,
    pub created_other: u64,
    /// Flows in the table now.
    pub active: u64,
    pub ended_timeout: u64,
    pub ended_shutdown: u64,
    pub ended_forced: u64,
    pub ended_tcp_reuse: u64,
    pub emergency_mode_entered: u64,
    pub emergency_mode_over: u64,
    /// Flows evicted, oldest first, because timeouts did not free enough.
    pub emergency_evictions: u64,
    /// Bytes of flow state held now (estimate: table entry plus session).
    pub memuse: u64,
    pub memuse_peak: u64,
    pub tcp_sessions: u64,
    pub midstream_pickups: u64,
    /// TCP packets with a bad checksum, kept out of the stream.
    pub invalid_checksum: u64,
    /// ICMP errors attached to the flow of the packet they quote.
    pub icmp_errors_attached: u64,
    pub stream: StreamStats,
}

impl FlowStats {
    pub fn created(&self) -> u64 {
        self.created_tcp
            + self.created_udp
            + self.created_icmpv4
            + self.created_icmpv6
            + self.created_other
    }

    pub fn merge(&mut self, o: &FlowStats) {
        self.pkts += o.pkts;
        self.no_flow += o.no_flow;
        self.created_tcp += o.created_tcp;
        self.created_udp += o.created_udp;
        self.created_icmpv4 += o.created_icmpv4;
        self.created_icmpv6 += o.created_icmpv6;
        self.created_other += o.created_other;
        self.active += o.active;
        self.ended_timeout += o.ended_timeout;
        self.ended_shutdown += o.ended_shutdown;
        self.ended_forced += o.ended_forced;
        self.ended_tcp_reuse += o.ended_tcp_reuse;
        self.emergency_mode_entered += o.emergency_mode_entered;
        self.emergency_mode_over += o.emergency_mode_over;
        self.emergency_evictions += o.emergency_evictions;
        self.memuse += o.memuse;
        self.memuse_peak += o.memuse_peak;
        self.tcp_sessions += o.tcp_sessions;
        self.midstream_pickups += o.midstream_pickups;
        self.invalid_checksum += o.invalid_checksum;
        self.icmp_errors_attached += o.icmp_errors_attached;
        self.stream.merge(&o.stream);
    }

    /// The counters under Suricata's stats names (`flow.*`, `tcp.*`).
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = &self.stream;
        vec![
            ("flow.total", self.created()),
            ("flow.active", self.active),
            ("flow.tcp", self.created_tcp),
            ("flow.udp", self.created_udp),
            ("flow.icmpv4", self.created_icmpv4),
            ("flow.icmpv6", self.created_icmpv6),
            ("flow.memuse", self.memuse),
            ("flow.emerg_mode_entered", self.emergency_mode_entered),
            ("flow.emerg_mode_over", self.emergency_mode_over),
            ("flow.tcp_reuse", self.ended_tcp_reuse),
            ("flow.mgr.flows_timeout", self.ended_timeout),
            ("flow.mgr.flows_evicted", self.emergency_evictions),
            ("tcp.sessions", self.tcp_sessions),
            ("tcp.midstream_pickups", self.midstream_pickups),
            ("tcp.invalid_checksum", self.invalid_checksum),
            ("tcp.segment_memcap_drop", s.memcap_drops),
            ("tcp.reassembly_gap", s.gaps),
            ("tcp.overlap", s.overlaps),
            ("tcp.overlap_diff_data", s.overlaps_different_data),
            ("stream.pkt_retransmission", s.retransmissions),
            ("tcp.stream_depth_reached", s.depth_reached),
            ("tcp.reassembly_memuse", s.mem_peak),
        ]
    }
}
