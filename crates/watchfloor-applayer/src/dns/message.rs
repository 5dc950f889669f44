//! Typed DNS messages. A parsed [`DnsMessage`] owns one byte buffer: a copy
//! of the wire message followed by every decoded name. Records refer into it
//! by [`Span`], so a message costs three allocations however many records it
//! holds (buffer, questions, records) and nothing per name or rdata.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::{HeaderProblem, ParseError};

pub const HEADER_LEN: usize = 12;

pub(super) fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

pub(super) fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The on-the-wire transaction id.
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn parse(input: &[u8]) -> Result<Header, ParseError> {
        let short = ParseError::ShortHeader { len: input.len() };
        let f = |at| be16(input, at).ok_or(short);
        Ok(Header {
            id: f(0)?,
            flags: f(2)?,
            qdcount: f(4)?,
            ancount: f(6)?,
            nscount: f(8)?,
            arcount: f(10)?,
        })
    }

    pub fn qr(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    pub fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x000f) as u8
    }

    pub fn record_count(&self) -> usize {
        usize::from(self.qdcount)
            + usize::from(self.ancount)
            + usize::from(self.nscount)
            + usize::from(self.arcount)
    }

    /// Suricata's plausibility test for a header heading `msg_len` bytes.
    /// It is what rejects huge counts before any allocation sized by them.
    pub fn check(&self, msg_len: usize) -> Result<(), ParseError> {
        let n = self.record_count();
        if 2 * n > msg_len {
            return Err(ParseError::InvalidHeader(HeaderProblem::CountsExceedLength));
        }
        if n == 0 && msg_len > HEADER_LEN {
            return Err(ParseError::InvalidHeader(
                HeaderProblem::TrailingDataWithoutRecords,
            ));
        }
        if !self.qr() && self.qdcount == 0 {
            return Err(ParseError::InvalidHeader(
                HeaderProblem::RequestWithoutQuestion,
            ));
        }
        Ok(())
    }
}

/// Anomalies met while decoding names that did not stop the parse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameFlags(u8);

impl NameFlags {
    pub const INFINITE_LOOP: NameFlags = NameFlags(1);
    pub const TRUNCATED: NameFlags = NameFlags(2);
    pub const LABEL_LIMIT: NameFlags = NameFlags(4);

    pub fn contains(self, other: NameFlags) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn insert(&mut self, other: NameFlags) {
        self.0 |= other.0;
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A byte range of [`DnsMessage`]'s buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(super) fn new(start: usize, end: usize) -> Span {
        // Messages are at most 64 KiB and names at most ~1 KiB each, so the
        // buffer stays far below u32::MAX; saturate rather than wrap anyway.
        let s = u32::try_from(start).unwrap_or(u32::MAX);
        let e = u32::try_from(end).unwrap_or(u32::MAX);
        Span {
            start: s,
            len: e.saturating_sub(s),
        }
    }
    pub fn len(self) -> usize {
        self.len as usize
    }
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// A decoded name: labels joined by `.`, no trailing dot, root is empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Name {
    pub(super) span: Span,
    pub flags: NameFlags,
}

impl Name {
    pub fn is_truncated(&self) -> bool {
        self.flags.contains(NameFlags::TRUNCATED)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub name: Name,
    pub rrtype: u16,
    pub rrclass: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Soa {
    pub mname: Name,
    pub rname: Name,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: Name,
}

/// EDNS(0) pseudo-record fields (RFC 6891), unpacked from class and TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt {
    pub udp_size: u16,
    pub ext_rcode: u8,
    pub version: u8,
    /// The DO bit is `0x8000`.
    pub flags: u16,
    /// The well-formed prefix of the options; walk it with [`DnsMessage::opt_options`].
    pub options: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RData {
    /// rdlength 0. Suricata drops such records, so EVE and buffers skip them.
    Empty,
    /// A or AAAA, kept raw: a wrong length is logged as an empty address.
    Address(Span),
    /// CNAME, NS, PTR.
    Name(Name),
    Mx {
        preference: u16,
        exchange: Name,
    },
    Soa(Soa),
    Srv(Srv),
    /// The well-formed prefix of the character-strings, at least one.
    Txt(Span),
    Null(Span),
    Sshfp {
        algo: u8,
        fp_type: u8,
        fingerprint: Span,
    },
    Opt(Opt),
    Dname(Name),
    /// SVCB or HTTPS (RFC 9460); `params` stays raw.
    Svcb {
        priority: u16,
        target: Name,
        params: Span,
    },
    Unknown(Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub name: Name,
    pub rrtype: u16,
    pub rrclass: u16,
    pub ttl: u32,
    pub rdata: RData,
}

impl Record {
    /// Whether Suricata would have kept this record (it drops empty rdata).
    pub fn is_logged(&self) -> bool {
        !matches!(self.rdata, RData::Empty)
    }
}

/// One parsed DNS message.
#[derive(Debug, Clone)]
pub struct DnsMessage {
    pub header: Header,
    /// Wire message (`..wire_len`) then decoded names.
    pub(super) buf: Vec<u8>,
    pub(super) wire_len: usize,
    pub questions: Vec<Question>,
    pub(super) records: Vec<Record>,
    pub(super) answers_end: usize,
    pub(super) authorities_end: usize,
    /// The authority section could not be parsed; it and the additional
    /// section are empty.
    pub invalid_authorities: bool,
    /// The additional section could not be parsed and is empty.
    pub invalid_additionals: bool,
    /// Union of the flags of every name decoded.
    pub name_flags: NameFlags,
}

impl DnsMessage {
    /// The message as it was on the wire.
    pub fn wire(&self) -> &[u8] {
        self.buf.get(..self.wire_len).unwrap_or(&[])
    }

    pub fn bytes(&self, s: Span) -> &[u8] {
        let start = s.start as usize;
        self.buf.get(start..start + s.len as usize).unwrap_or(&[])
    }

    pub fn name(&self, n: &Name) -> &[u8] {
        self.bytes(n.span)
    }

    pub fn answers(&self) -> &[Record] {
        self.records.get(..self.answers_end).unwrap_or(&[])
    }

    pub fn authorities(&self) -> &[Record] {
        self.records
            .get(self.answers_end..self.authorities_end)
            .unwrap_or(&[])
    }

    pub fn additionals(&self) -> &[Record] {
        self.records.get(self.authorities_end..).unwrap_or(&[])
    }

    /// The address of an A/AAAA rdata, `None` when its length is wrong.
    pub fn address(&self, s: Span) -> Option<IpAddr> {
        let b = self.bytes(s);
        if let Ok(a) = <[u8; 4]>::try_from(b) {
            Some(IpAddr::V4(Ipv4Addr::from(a)))
        } else if let Ok(a) = <[u8; 16]>::try_from(b) {
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        } else {
            None
        }
    }

    /// The character-strings of a TXT rdata.
    pub fn txt_strings(&self, s: Span) -> TxtStrings<'_> {
        TxtStrings {
            rest: self.bytes(s),
        }
    }

    /// `(code, data)` of each EDNS option.
    pub fn opt_options(&self, opt: &Opt) -> OptOptions<'_> {
        OptOptions {
            rest: self.bytes(opt.options),
        }
    }

    /// The EDNS pseudo-record, if the message carries one.
    pub fn edns(&self) -> Option<&Opt> {
        self.additionals().iter().find_map(|r| match &r.rdata {
            RData::Opt(o) => Some(o),
            _ => None,
        })
    }
}

pub struct TxtStrings<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TxtStrings<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let s = tail.get(..usize::from(len))?;
        self.rest = &tail[s.len()..];
        Some(s)
    }
}

pub struct OptOptions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for OptOptions<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let code = be16(self.rest, 0)?;
        let len = usize::from(be16(self.rest, 2)?);
        let data = self.rest.get(4..4 + len)?;
        self.rest = &self.rest[4 + len..];
        Some((code, data))
    }
}
