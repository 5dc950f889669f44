//! Capture: turns capture files into raw frames, without copying them.
//!
//! A [`PacketSource`] is a lending iterator: each [`RawPacket`] borrows the
//! source's buffer (the memory map of a file, or a read buffer for stdin)
//! until the next call. Errors carry the byte offset where the file went wrong;
//! every packet before that offset has already been returned.

mod error;
mod link;
// The helper fills these in (see ARCHITECTURE.md):
// mod pcap; mod pcapng; mod source; mod writer;

pub use error::CaptureError;
pub use link::LinkType;

/// One frame as the capture file holds it.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Link type of the interface the frame was captured on.
    pub linktype: LinkType,
    /// Captured bytes (may be shorter than `orig_len` when the snap length cut it).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
    /// Byte offset of this packet's record in the input (for error messages).
    pub offset: u64,
    /// Interface index (pcapng IDB number; 0 for pcap).
    pub interface: u32,
}
