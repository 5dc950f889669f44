//! Format-independent record stepping shared by every source.
//!
//! The parser never owns bytes: a source hands it the unread remainder of its
//! buffer and the parser answers with what the next record is and how long it
//! is. The memory-mapped source and the streaming source therefore accept and
//! reject exactly the same inputs (the fuzz target checks this).

use crate::pcap::Pcap;
use crate::pcapng::Pcapng;
use crate::{CaptureError, LinkType, RawPacket};

/// Largest captured length accepted in a pcap record. libpcap and Wireshark
/// use the same 256 KiB ceiling; anything above it is a corrupt length field,
/// and refusing it bounds how far the streaming buffer can be made to grow.
pub(crate) const MAX_CAPLEN: u32 = 256 * 1024;

/// Largest pcapng block accepted (Wireshark's limit). Bounds the streaming
/// buffer for the same reason as [`MAX_CAPLEN`].
pub(crate) const MAX_BLOCK: u32 = 16 * 1024 * 1024;

/// Everything about a packet except its bytes, with the data's position given
/// relative to the start of its record, so that no borrow is held while a
/// streaming source refills its buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    pub ts_ns: i64,
    pub linktype: LinkType,
    pub orig_len: u32,
    pub interface: u32,
    pub data_start: usize,
    pub data_len: usize,
}

impl Meta {
    /// Builds the packet from the record's bytes (starting at the record).
    #[inline(always)]
    pub(crate) fn packet<'a>(
        &self,
        record: &'a [u8],
        offset: u64,
    ) -> Result<RawPacket<'a>, CaptureError> {
        // The parser has already checked the bounds; `get` keeps a parser bug
        // from turning into a panic on hostile input.
        let data = record
            .get(self.data_start..self.data_start + self.data_len)
            .ok_or_else(|| CaptureError::Corrupt {
                what: "record",
                offset,
                reason: "packet data lies outside its record".into(),
            })?;
        Ok(RawPacket {
            ts_ns: self.ts_ns,
            linktype: self.linktype,
            data,
            orig_len: self.orig_len,
            offset,
            interface: self.interface,
        })
    }
}

/// What the next bytes hold.
#[derive(Debug)]
pub(crate) enum Step {
    /// A packet whose record is `consumed` bytes long.
    Packet { meta: Meta, consumed: usize },
    /// A record that carries no packet (file header, SHB, IDB, NRB, ...).
    Skip(usize),
    /// The record is not complete yet: at least this many bytes (counted from
    /// the record start) are needed. Only returned when not at end of input.
    Need(usize),
    /// Clean end of input on a record boundary.
    End,
}

/// Answer for a record that does not fit in `rest`: ask for more, end cleanly
/// on a record boundary, or report the truncation.
#[inline]
pub(crate) fn short(
    rest: &[u8],
    offset: u64,
    eof: bool,
    what: &'static str,
    needed: usize,
) -> Result<Step, CaptureError> {
    if !eof {
        Ok(Step::Need(needed))
    } else if rest.is_empty() {
        Ok(Step::End)
    } else {
        Err(CaptureError::Truncated {
            what,
            offset,
            needed: needed as u64,
            available: rest.len() as u64,
        })
    }
}

#[inline]
pub(crate) fn corrupt(what: &'static str, offset: u64, reason: String) -> CaptureError {
    CaptureError::Corrupt {
        what,
        offset,
        reason,
    }
}

/// Reads a u32 at a fixed position of a fixed-size header; after inlining the
/// index is a constant and no bounds check survives.
#[inline(always)]
pub(crate) fn u32_at<const BE: bool, const N: usize>(h: &[u8; N], i: usize) -> u32 {
    let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
    if BE {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// Byte-order-at-runtime readers for the colder pcapng paths. Callers check
/// lengths first; short slices read as zero rather than panicking.
#[inline(always)]
pub(crate) fn rd32(be: bool, b: &[u8], i: usize) -> u32 {
    match b.get(i..i + 4) {
        Some(&[a, b1, c, d]) if be => u32::from_be_bytes([a, b1, c, d]),
        Some(&[a, b1, c, d]) => u32::from_le_bytes([a, b1, c, d]),
        _ => 0,
    }
}

#[inline(always)]
pub(crate) fn rd16(be: bool, b: &[u8], i: usize) -> u16 {
    match b.get(i..i + 2) {
        Some(&[a, b1]) if be => u16::from_be_bytes([a, b1]),
        Some(&[a, b1]) => u16::from_le_bytes([a, b1]),
        _ => 0,
    }
}

/// The per-input parsing state: which format, and its header's settings.
#[derive(Debug)]
pub(crate) enum Parser {
    /// Nothing read yet: the next bytes are the file magic.
    Start,
    Pcap(Pcap),
    Pcapng(Pcapng),
}

impl Parser {
    pub(crate) fn new() -> Parser {
        Parser::Start
    }

    /// True once the file header (pcap header or first SHB) has been read.
    pub(crate) fn started(&self) -> bool {
        !matches!(self, Parser::Start)
    }

    /// Examines the record at the start of `rest`, which begins at byte
    /// `offset` of the input. `eof` says no more bytes will follow `rest`.
    #[inline(always)]
    pub(crate) fn step(
        &mut self,
        rest: &[u8],
        offset: u64,
        eof: bool,
    ) -> Result<Step, CaptureError> {
        match self {
            Parser::Pcap(p) => p.record(rest, offset, eof),
            Parser::Pcapng(p) => p.block(rest, offset, eof),
            Parser::Start => self.start(rest, offset, eof),
        }
    }

    #[cold]
    fn start(&mut self, rest: &[u8], offset: u64, eof: bool) -> Result<Step, CaptureError> {
        let Some(magic) = rest.first_chunk::<4>() else {
            return match short(rest, offset, eof, "file header", 4)? {
                Step::End => Err(CaptureError::Empty),
                other => Ok(other),
            };
        };
        if Pcap::is_magic(*magic) {
            let Some(h) = rest.first_chunk::<24>() else {
                return short(rest, offset, eof, "pcap file header", 24);
            };
            if let Some(p) = Pcap::from_header(h) {
                *self = Parser::Pcap(p);
                return Ok(Step::Skip(24));
            }
        }
        if Pcapng::is_magic(*magic) {
            let mut ng = Pcapng::new();
            let step = ng.block(rest, offset, eof)?;
            // Stay in Start until the whole SHB is in: a retry re-reads it.
            if !matches!(step, Step::Need(_)) {
                *self = Parser::Pcapng(ng);
            }
            return Ok(step);
        }
        Err(CaptureError::UnknownFormat {
            magic: u32::from_be_bytes(*magic),
        })
    }
}
