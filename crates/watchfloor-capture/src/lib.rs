//! Capture: turns capture files into raw frames, without copying them.
//!
//! A [`PacketSource`] is a lending iterator: each [`RawPacket`] borrows the
//! source's buffer (the memory map of a file, or a read buffer for stdin)
//! until the next call. Errors carry the byte offset where the file went wrong;
//! every packet before that offset has already been returned.
//!
//! Formats are recognised by their magic: pcap (µs, ns and the modified
//! Kuznetzov variant, either byte order) and pcapng (any number of sections
//! and interfaces, EPB/SPB/PB; other blocks skipped). See `pcap.rs` and
//! `pcapng.rs` for the leniency decisions. Regular files are memory-mapped
//! and read in place; stdin and pipes go through one reusable buffer.
//!
//! Error offsets name the start of the offending record or block (for a
//! truncation, the record that is cut short); I/O errors name the first byte
//! that could not be read.

mod error;
mod link;
mod parse;
mod pcap;
mod pcapng;
mod shared;
mod source;
mod stream;
mod writer;

#[cfg(test)]
mod tests;

pub use error::CaptureError;
pub use link::LinkType;
pub use shared::{SharedMap, SharedMmapSource};
pub use source::{from_bytes, from_reader, from_slice, open, MemSource, MmapSource, PacketSource};
pub use stream::StreamSource;
pub use writer::{PacketWriter, PcapWriter, PcapngWriter, TsResolution};

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
