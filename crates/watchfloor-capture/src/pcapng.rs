//! pcapng: a sequence of blocks, grouped in sections that each start with a
//! Section Header Block fixing the byte order and resetting the interfaces.
//!
//! Packets come from Enhanced Packet Blocks, Simple Packet Blocks and the
//! obsolete Packet Block (type 2). Every other block (NRB, ISB, DSB, custom,
//! unknown) is length-checked and skipped.
//!
//! Packet lengths are bounded by their block, and blocks by [`MAX_BLOCK`]; an
//! EPB captured length above the interface snaplen is accepted, as in pcap.
//!
//! Simple Packet Blocks carry no timestamp; they get the previous packet's so
//! that time does not jump back to 1970 and make downstream flow tables expire
//! everything.

use crate::parse::{corrupt, rd16, rd32, short, Meta, Step, MAX_BLOCK};
use crate::{CaptureError, LinkType};

pub(crate) const SHB: u32 = 0x0A0D_0D0A;
pub(crate) const IDB: u32 = 1;
pub(crate) const PB: u32 = 2;
pub(crate) const SPB: u32 = 3;
pub(crate) const EPB: u32 = 6;
pub(crate) const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// Converts an interface's timestamp units to nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsUnit {
    /// 10^-n with n <= 9 (the default, microseconds, is Mul(1000)).
    Mul(u64),
    /// 10^-n with n > 9.
    Div(u64),
    /// 2^-n.
    Pow2(u32),
}

impl TsUnit {
    fn from_tsresol(v: u8) -> TsUnit {
        if v & 0x80 == 0 {
            let n = u32::from(v);
            if n <= 9 {
                TsUnit::Mul(10u64.pow(9 - n))
            } else {
                // Beyond 10^-28 every u64 count divides down to zero anyway.
                TsUnit::Div(10u64.checked_pow(n - 9).unwrap_or(u64::MAX))
            }
        } else {
            TsUnit::Pow2(u32::from(v & 0x7f))
        }
    }

    #[inline(always)]
    fn to_ns(self, units: u64) -> u64 {
        match self {
            TsUnit::Mul(m) => units.saturating_mul(m),
            TsUnit::Div(d) => units / d,
            TsUnit::Pow2(n) => {
                let ns = (u128::from(units) * 1_000_000_000) >> n;
                u64::try_from(ns).unwrap_or(u64::MAX)
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Interface {
    linktype: LinkType,
    snaplen: u32,
    unit: TsUnit,
    offset_ns: i64,
}

impl Interface {
    #[inline(always)]
    fn ts_ns(&self, hi: u32, lo: u32) -> i64 {
        let ns = self.unit.to_ns((u64::from(hi) << 32) | u64::from(lo));
        i64::try_from(ns)
            .unwrap_or(i64::MAX)
            .saturating_add(self.offset_ns)
    }
}

#[derive(Debug)]
pub(crate) struct Pcapng {
    big_endian: bool,
    interfaces: Vec<Interface>,
    last_ts: i64,
}

impl Pcapng {
    pub(crate) fn new() -> Pcapng {
        Pcapng {
            big_endian: false,
            interfaces: Vec::new(),
            last_ts: 0,
        }
    }

    pub(crate) fn is_magic(m: [u8; 4]) -> bool {
        // Palindromic on purpose, so it reads the same in either byte order.
        u32::from_le_bytes(m) == SHB
    }

    #[inline(always)]
    pub(crate) fn block(
        &mut self,
        rest: &[u8],
        offset: u64,
        eof: bool,
    ) -> Result<Step, CaptureError> {
        let Some(h) = rest.first_chunk::<8>() else {
            return short(rest, offset, eof, "block header", 8);
        };
        if u32::from_le_bytes([h[0], h[1], h[2], h[3]]) == SHB {
            return self.section_header(rest, offset, eof);
        }
        let be = self.big_endian;
        let btype = rd32(be, h, 0);
        let len = check_len(rd32(be, h, 4), 12, offset)?;
        let Some(block) = rest.get(..len) else {
            return short(rest, offset, eof, "block", len);
        };
        check_trailer(be, block, offset)?;
        let body = block.get(8..len - 4).unwrap_or_default();
        match btype {
            EPB => self.enhanced_packet(body, offset, len),
            SPB => self.simple_packet(body, offset, len),
            PB => self.obsolete_packet(body, offset, len),
            IDB => {
                self.interface_description(body, offset)?;
                Ok(Step::Skip(len))
            }
            _ => Ok(Step::Skip(len)),
        }
    }

    #[cold]
    fn section_header(
        &mut self,
        rest: &[u8],
        offset: u64,
        eof: bool,
    ) -> Result<Step, CaptureError> {
        let Some(h) = rest.first_chunk::<12>() else {
            return short(rest, offset, eof, "section header block", 12);
        };
        let be = match [h[8], h[9], h[10], h[11]] {
            b if u32::from_le_bytes(b) == BYTE_ORDER_MAGIC => false,
            b if u32::from_be_bytes(b) == BYTE_ORDER_MAGIC => true,
            b => {
                return Err(corrupt(
                    "section header block",
                    offset,
                    format!("bad byte-order magic {:#010x}", u32::from_be_bytes(b)),
                ))
            }
        };
        let len = check_len(rd32(be, h, 4), 28, offset)?;
        let Some(block) = rest.get(..len) else {
            return short(rest, offset, eof, "section header block", len);
        };
        check_trailer(be, block, offset)?;
        let major = rd16(be, block, 12);
        if major != 1 {
            return Err(corrupt(
                "section header block",
                offset,
                format!("unsupported pcapng major version {major}"),
            ));
        }
        // Only now, with the whole block validated, may state change: a Need
        // above makes the caller retry this block from scratch.
        self.big_endian = be;
        self.interfaces.clear();
        Ok(Step::Skip(len))
    }

    #[cold]
    fn interface_description(&mut self, body: &[u8], offset: u64) -> Result<(), CaptureError> {
        const WHAT: &str = "interface description block";
        let be = self.big_endian;
        if body.len() < 8 {
            return Err(corrupt(WHAT, offset, "block shorter than 20 bytes".into()));
        }
        let mut iface = Interface {
            linktype: LinkType::from_number(u32::from(rd16(be, body, 0))),
            snaplen: rd32(be, body, 4),
            unit: TsUnit::Mul(1000),
            offset_ns: 0,
        };
        let mut opts = body.get(8..).unwrap_or_default();
        while opts.len() >= 4 {
            let code = rd16(be, opts, 0);
            let olen = usize::from(rd16(be, opts, 2));
            if code == OPT_ENDOFOPT {
                break;
            }
            let Some(value) = opts.get(4..4 + olen) else {
                return Err(corrupt(
                    WHAT,
                    offset,
                    format!("option {code} of length {olen} overruns the block"),
                ));
            };
            match (code, value) {
                (OPT_IF_TSRESOL, [v, ..]) => iface.unit = TsUnit::from_tsresol(*v),
                (OPT_IF_TSOFFSET, v) => {
                    if let Ok(b) = <[u8; 8]>::try_from(v) {
                        let secs = if be {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        };
                        iface.offset_ns = secs.saturating_mul(1_000_000_000);
                    }
                }
                _ => {}
            }
            // The final option's padding may be missing; that is harmless.
            opts = opts.get(4 + olen.next_multiple_of(4)..).unwrap_or_default();
        }
        self.interfaces.push(iface);
        Ok(())
    }

    #[inline(always)]
    fn interface(
        &self,
        id: u32,
        offset: u64,
        what: &'static str,
    ) -> Result<&Interface, CaptureError> {
        match self.interfaces.get(id as usize) {
            Some(i) => Ok(i),
            None => Err(unknown_interface(what, offset, id, self.interfaces.len())),
        }
    }

    #[inline(always)]
    fn enhanced_packet(
        &mut self,
        body: &[u8],
        offset: u64,
        len: usize,
    ) -> Result<Step, CaptureError> {
        const WHAT: &str = "enhanced packet block";
        let be = self.big_endian;
        let Some(h) = body.first_chunk::<20>() else {
            return Err(corrupt(WHAT, offset, "block shorter than 32 bytes".into()));
        };
        let id = rd32(be, h, 0);
        self.timed_packet(body, offset, len, WHAT, id)
    }

    #[cold]
    fn obsolete_packet(
        &mut self,
        body: &[u8],
        offset: u64,
        len: usize,
    ) -> Result<Step, CaptureError> {
        const WHAT: &str = "packet block";
        let Some(h) = body.first_chunk::<20>() else {
            return Err(corrupt(WHAT, offset, "block shorter than 32 bytes".into()));
        };
        let id = u32::from(rd16(self.big_endian, h, 0));
        self.timed_packet(body, offset, len, WHAT, id)
    }

    /// EPB and PB share their layout after the interface id: ts high, ts low,
    /// captured length, original length, data.
    #[inline(always)]
    fn timed_packet(
        &mut self,
        body: &[u8],
        offset: u64,
        len: usize,
        what: &'static str,
        id: u32,
    ) -> Result<Step, CaptureError> {
        const FIXED: usize = 20;
        let be = self.big_endian;
        let caplen = rd32(be, body, 12);
        if caplen as usize > body.len().saturating_sub(FIXED) {
            return Err(corrupt(
                what,
                offset,
                format!("captured length {caplen} overruns the {len}-byte block"),
            ));
        }
        let iface = self.interface(id, offset, what)?;
        let ts_ns = iface.ts_ns(rd32(be, body, 4), rd32(be, body, 8));
        let linktype = iface.linktype;
        self.last_ts = ts_ns;
        Ok(Step::Packet {
            meta: Meta {
                ts_ns,
                linktype,
                orig_len: rd32(be, body, 16),
                interface: id,
                data_start: 8 + FIXED,
                data_len: caplen as usize,
            },
            consumed: len,
        })
    }

    #[cold]
    fn simple_packet(
        &mut self,
        body: &[u8],
        offset: u64,
        len: usize,
    ) -> Result<Step, CaptureError> {
        const WHAT: &str = "simple packet block";
        if body.len() < 4 {
            return Err(corrupt(WHAT, offset, "block shorter than 16 bytes".into()));
        }
        let orig_len = rd32(self.big_endian, body, 0);
        let iface = self.interface(0, offset, WHAT)?;
        // The block holds min(orig_len, snaplen) bytes plus padding; the block
        // length is the final bound in case a writer got that wrong.
        let mut caplen = (orig_len as usize).min(body.len() - 4);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        Ok(Step::Packet {
            meta: Meta {
                ts_ns: self.last_ts,
                linktype: iface.linktype,
                orig_len,
                interface: 0,
                data_start: 12,
                data_len: caplen,
            },
            consumed: len,
        })
    }
}

#[inline(always)]
fn check_len(len: u32, min: u32, offset: u64) -> Result<usize, CaptureError> {
    if len < min || len & 3 != 0 || len > MAX_BLOCK {
        return Err(bad_len(len, min, offset));
    }
    Ok(len as usize)
}

#[cold]
fn bad_len(len: u32, min: u32, offset: u64) -> CaptureError {
    let reason = if len < min {
        format!("block length {len} is below the minimum {min}")
    } else if len & 3 != 0 {
        format!("block length {len} is not a multiple of 4")
    } else {
        format!("block length {len} exceeds the {MAX_BLOCK}-byte limit")
    };
    corrupt("block header", offset, reason)
}

#[inline(always)]
fn check_trailer(be: bool, block: &[u8], offset: u64) -> Result<(), CaptureError> {
    let lead = rd32(be, block, 4);
    let trail = rd32(be, block, block.len().saturating_sub(4));
    if lead != trail {
        return Err(corrupt(
            "block trailer",
            offset,
            format!("trailing length {trail} does not match leading length {lead}"),
        ));
    }
    Ok(())
}

#[cold]
fn unknown_interface(what: &'static str, offset: u64, id: u32, known: usize) -> CaptureError {
    corrupt(
        what,
        offset,
        format!("interface id {id} but the section describes only {known} interface(s)"),
    )
}
