use crate::StreamStats;

/// Reassembly settings (Suricata's `stream:` section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// `stream.reassembly.depth`: bytes per direction after which reassembly
    /// stops. 0 means unlimited.
    pub depth: u64,
    /// `stream.reassembly.memcap`: bytes of out-of-order data all reassemblers
    /// sharing one [`StreamCtx`] may buffer. 0 means unlimited.
    pub memcap: u64,
    /// `stream.midstream`: pick up sessions whose handshake was not seen.
    pub midstream: bool,
    /// `stream.async-oneside`: accept sessions where only one direction is seen.
    pub async_oneside: bool,
    /// Out-of-order bytes one direction may hold behind a hole before the
    /// hole is declared a gap. Keeps one lost segment from pinning memory.
    pub max_buffered_bytes: u64,
    /// Out-of-order segments one direction may hold behind a hole, for the
    /// same reason (many tiny segments cost more than their bytes).
    pub max_buffered_segments: usize,
    /// `stream.checksum-validation`: drop segments with a bad TCP checksum.
    pub checksum_validation: bool,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            depth: 1 << 20,
            memcap: 256 << 20,
            midstream: false,
            async_oneside: false,
            max_buffered_bytes: 8 << 20,
            max_buffered_segments: 4096,
            checksum_validation: true,
        }
    }
}

/// State shared by all reassemblers of one worker: the settings, the memory
/// budget and the counters. Passed by `&mut` so no locking is needed.
#[derive(Debug, Clone, Default)]
pub struct StreamCtx {
    pub config: StreamConfig,
    pub stats: StreamStats,
    pub(crate) mem_used: u64,
}

impl StreamCtx {
    pub fn new(config: StreamConfig) -> Self {
        StreamCtx {
            config,
            stats: StreamStats::default(),
            mem_used: 0,
        }
    }

    /// Bytes of out-of-order data currently buffered.
    pub fn mem_used(&self) -> u64 {
        self.mem_used
    }

    pub(crate) fn try_reserve(&mut self, len: u64) -> bool {
        let cap = self.config.memcap;
        if cap != 0 && self.mem_used.saturating_add(len) > cap {
            self.stats.memcap_drops += 1;
            return false;
        }
        self.mem_used += len;
        self.stats.mem_peak = self.stats.mem_peak.max(self.mem_used);
        true
    }

    pub(crate) fn release(&mut self, len: u64) {
        self.mem_used = self.mem_used.saturating_sub(len);
    }
}
