//! Classic libpcap files: a 24-byte file header, then records.
//!
//! Accepted: microsecond (a1b2c3d4) and nanosecond (a1b23c4d) magics in both
//! byte orders, and the "modified" Kuznetzov magic (a1b2cd34), whose records
//! carry 8 extra bytes (ifindex, protocol, pkt_type) that we skip.
//!
//! Lengths: a captured length above the header's snaplen but within
//! [`MAX_CAPLEN`] is accepted and returned whole, because real writers emit
//! such files (snaplen changed mid-capture, offloaded super-frames) and the
//! bytes are there; only lengths above [`MAX_CAPLEN`] are corrupt. An
//! `orig_len` smaller than the captured length is passed through as given.

use crate::parse::{corrupt, short, u32_at, Meta, Step, MAX_CAPLEN};
use crate::{CaptureError, LinkType};

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

#[derive(Debug, Clone)]
pub(crate) struct Pcap {
    big_endian: bool,
    /// Multiplier from the fraction field to nanoseconds (1000 or 1).
    frac_to_ns: i64,
    /// Record header length: 16, or 24 for the modified format.
    hdr_len: usize,
    linktype: LinkType,
}

impl Pcap {
    pub(crate) fn is_magic(m: [u8; 4]) -> bool {
        Self::decode_magic(m).is_some()
    }

    /// (big_endian, magic as read in the file's byte order)
    fn decode_magic(m: [u8; 4]) -> Option<(bool, u32)> {
        let le = u32::from_le_bytes(m);
        let be = u32::from_be_bytes(m);
        [MAGIC_US, MAGIC_NS, MAGIC_MODIFIED]
            .into_iter()
            .find_map(|magic| {
                if le == magic {
                    Some((false, magic))
                } else if be == magic {
                    Some((true, magic))
                } else {
                    None
                }
            })
    }

    pub(crate) fn from_header(h: &[u8; 24]) -> Option<Pcap> {
        let (big_endian, magic) = Self::decode_magic([h[0], h[1], h[2], h[3]])?;
        let network = if big_endian {
            u32_at::<true, 24>(h, 20)
        } else {
            u32_at::<false, 24>(h, 20)
        };
        // The upper 16 bits carry FCS length and reserved flags, not the type.
        let linktype = LinkType::from_number(network & 0xffff);
        Some(Pcap {
            big_endian,
            frac_to_ns: if magic == MAGIC_NS { 1 } else { 1000 },
            hdr_len: if magic == MAGIC_MODIFIED { 24 } else { 16 },
            linktype,
        })
    }

    #[inline(always)]
    pub(crate) fn record(&self, rest: &[u8], offset: u64, eof: bool) -> Result<Step, CaptureError> {
        // Monomorphised per byte order so the hot loop has no swap decision.
        if self.big_endian {
            self.record_in::<true>(rest, offset, eof)
        } else {
            self.record_in::<false>(rest, offset, eof)
        }
    }

    #[inline(always)]
    fn record_in<const BE: bool>(
        &self,
        rest: &[u8],
        offset: u64,
        eof: bool,
    ) -> Result<Step, CaptureError> {
        let hdr_len = self.hdr_len;
        let (Some(h), true) = (rest.first_chunk::<16>(), rest.len() >= hdr_len) else {
            return short(rest, offset, eof, "record header", hdr_len);
        };
        let caplen = u32_at::<BE, 16>(h, 8);
        if caplen > MAX_CAPLEN {
            return Err(bad_caplen(offset, caplen));
        }
        let total = hdr_len + caplen as usize;
        if rest.len() < total {
            return short(rest, offset, eof, "packet data", total);
        }
        // u32 seconds * 1e9 + u32 fraction * 1000 stays below i64::MAX, so
        // plain arithmetic cannot overflow here.
        let ts_ns = i64::from(u32_at::<BE, 16>(h, 0)) * 1_000_000_000
            + i64::from(u32_at::<BE, 16>(h, 4)) * self.frac_to_ns;
        Ok(Step::Packet {
            meta: Meta {
                ts_ns,
                linktype: self.linktype,
                orig_len: u32_at::<BE, 16>(h, 12),
                interface: 0,
                data_start: hdr_len,
                data_len: caplen as usize,
            },
            consumed: total,
        })
    }
}

#[cold]
fn bad_caplen(offset: u64, caplen: u32) -> CaptureError {
    corrupt(
        "record header",
        offset,
        format!("captured length {caplen} exceeds the {MAX_CAPLEN}-byte limit"),
    )
}
