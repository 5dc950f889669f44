use thiserror::Error;

/// Why a capture could not be read further. `offset` is the byte offset in the
/// input where the problem starts.
#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("read error at byte offset {offset}: {source}")]
    Io {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("not a pcap or pcapng file (magic {magic:#010x} at byte offset 0)")]
    UnknownFormat { magic: u32 },
    #[error("file is empty")]
    Empty,
    #[error("truncated {what} at byte offset {offset}: need {needed} bytes, {available} left")]
    Truncated {
        what: &'static str,
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("corrupt {what} at byte offset {offset}: {reason}")]
    Corrupt {
        what: &'static str,
        offset: u64,
        reason: String,
    },
}

impl CaptureError {
    /// Byte offset of the problem, when it has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Io { offset, .. }
            | CaptureError::Truncated { offset, .. }
            | CaptureError::Corrupt { offset, .. } => Some(*offset),
            CaptureError::UnknownFormat { .. } | CaptureError::Empty => Some(0),
            CaptureError::Open { .. } => None,
        }
    }
}
