//! The record layer of one direction: record headers, whole records out of
//! arbitrarily segmented stream bytes, and handshake messages reassembled
//! across records.
//!
//! As in Suricata, a record is handled once it is complete (so a handshake
//! header never straddles a TCP segment boundary inside a record), except
//! application data, which is counted and skipped without buffering. A
//! record that is already whole in the input is handled in place; only one
//! split across segments is copied, into a buffer bounded by the largest
//! legal record.

pub const HEADER_LEN: usize = 5;
/// RFC 5246 6.2.3: 2^14 plus 1024 bytes of expansion.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 1024;

pub const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;
pub const CT_HEARTBEAT: u8 = 24;

/// A TLS record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: u8,
    pub version: u16,
    pub length: usize,
}

impl RecordHeader {
    pub fn parse(b: &[u8]) -> Option<Self> {
        match b {
            [t, v0, v1, l0, l1, ..] => Some(RecordHeader {
                content_type: *t,
                version: u16::from_be_bytes([*v0, *v1]),
                length: usize::from(u16::from_be_bytes([*l0, *l1])),
            }),
            _ => None,
        }
    }

    pub fn is_known_type(&self) -> bool {
        (CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(&self.content_type)
    }
}

/// An SSLv2 record header: a 2-byte length (top bit set) or a 3-byte one
/// (with padding), then the message type as the first body byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sslv2Header {
    /// Bytes of length prefix (2 or 3).
    pub prefix: usize,
    /// Bytes after the prefix, message type included.
    pub length: usize,
}

impl Sslv2Header {
    /// Whether a record starting with this byte is SSLv2 (one of the top
    /// two bits set, which no TLS content type has).
    pub fn starts(first: u8) -> bool {
        first & 0xc0 != 0
    }

    pub fn parse(b: &[u8]) -> Option<Self> {
        let (&b0, &b1) = (b.first()?, b.get(1)?);
        if b0 & 0x80 != 0 {
            Some(Sslv2Header {
                prefix: 2,
                length: usize::from(b0 & 0x7f) << 8 | usize::from(b1),
            })
        } else {
            Some(Sslv2Header {
                prefix: 3,
                length: usize::from(b0 & 0x3f) << 8 | usize::from(b1),
            })
        }
    }
}

/// What [`Framer::next`] found at the front of the input.
#[derive(Debug)]
pub enum Frame<'a> {
    /// A complete TLS record (header validated by the caller's closure).
    Record(RecordHeader, &'a [u8]),
    /// The header of an application-data record; its body is skipped.
    AppData(RecordHeader),
    /// A complete SSLv2 record: header and body (message type first).
    Sslv2(Sslv2Header, &'a [u8]),
    /// The input ended inside a record; the bytes are kept.
    Incomplete,
}

/// Cuts one direction's stream into records. Bytes of a record that spans
/// calls are kept in `buf` (at most one record).
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Body bytes of an application-data record still to skip.
    skip: usize,
}

impl Framer {
    /// Drops any partial record (after a gap or an error).
    pub fn reset(&mut self) {
        self.buf = Vec::new();
        self.skip = 0;
    }

    /// Bytes held for a partial record.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next frame from `input` (advancing it). `check` sees each
    /// TLS header as soon as it is complete and may reject it, which drops
    /// the partial record. The returned slice borrows either the input or
    /// `scratch`, which the caller provides and keeps for the frame's life.
    pub fn next<'f, 'a: 'f, 'b: 'f, E>(
        &mut self,
        input: &mut &'a [u8],
        scratch: &'b mut Vec<u8>,
        mut check: impl FnMut(&RecordHeader) -> Result<(), E>,
    ) -> Result<Frame<'f>, E> {
        if self.skip > 0 {
            let n = self.skip.min(input.len());
            self.skip -= n;
            *input = &input[n..];
            return Ok(Frame::Incomplete);
        }
        // Fast path: nothing buffered and the whole record is in the input.
        if self.buf.is_empty() {
            let data: &'a [u8] = input;
            if let Some((frame, used)) = self.frame_in(data, Some(&mut check))? {
                *input = &data[used..];
                return Ok(frame);
            }
        }
        // Slow path: grow the buffer one header or body at a time so the
        // header is checked before any body byte is kept.
        loop {
            let need = match self.needed(&mut check)? {
                Need::Bytes(n) => n,
                Need::Skip(h) => {
                    self.buf.clear();
                    self.skip = h.length;
                    return Ok(Frame::AppData(h));
                }
                Need::Done => break,
            };
            let n = need.min(input.len());
            self.buf.extend_from_slice(&input[..n]);
            *input = &input[n..];
            if n < need {
                return Ok(Frame::Incomplete);
            }
        }
        *scratch = std::mem::take(&mut self.buf);
        // The header was checked when it completed.
        match self.frame_in(scratch, None::<&mut fn(&RecordHeader) -> Result<(), E>>)? {
            Some((frame, _)) => Ok(frame),
            None => Ok(Frame::Incomplete),
        }
    }

    fn needed<E>(&self, check: &mut impl FnMut(&RecordHeader) -> Result<(), E>) -> Result<Need, E> {
        let b = &self.buf;
        let Some(&first) = b.first() else {
            return Ok(Need::Bytes(1));
        };
        if Sslv2Header::starts(first) {
            let prefix = if first & 0x80 != 0 { 2 } else { 3 };
            return Ok(match Sslv2Header::parse(b) {
                Some(h) if b.len() >= prefix => sub(prefix + h.length, b.len()),
                _ => Need::Bytes(prefix - b.len()),
            });
        }
        if b.len() < HEADER_LEN {
            return Ok(Need::Bytes(HEADER_LEN - b.len()));
        }
        let Some(h) = RecordHeader::parse(b) else {
            return Ok(Need::Bytes(HEADER_LEN));
        };
        if b.len() == HEADER_LEN {
            check(&h)?;
            if h.content_type == CT_APPLICATION_DATA {
                return Ok(Need::Skip(h));
            }
        }
        Ok(sub(HEADER_LEN + h.length, b.len()))
    }

    /// A whole frame at the start of `data`, if there is one.
    fn frame_in<'a, E, F: FnMut(&RecordHeader) -> Result<(), E>>(
        &mut self,
        data: &'a [u8],
        check: Option<&mut F>,
    ) -> Result<Option<(Frame<'a>, usize)>, E> {
        let Some(&first) = data.first() else {
            return Ok(None);
        };
        if Sslv2Header::starts(first) {
            let Some(h) = Sslv2Header::parse(data) else {
                return Ok(None);
            };
            let end = h.prefix + h.length;
            return Ok(data
                .get(h.prefix..end)
                .map(|body| (Frame::Sslv2(h, body), end)));
        }
        let Some(h) = RecordHeader::parse(data) else {
            return Ok(None);
        };
        let end = HEADER_LEN + h.length;
        if h.content_type != CT_APPLICATION_DATA && data.len() < end {
            // Checked by the slow path once the header is buffered.
            return Ok(None);
        }
        if let Some(check) = check {
            check(&h)?;
        }
        if h.content_type == CT_APPLICATION_DATA {
            let avail = data.len() - HEADER_LEN;
            self.skip = h.length.saturating_sub(avail);
            return Ok(Some((Frame::AppData(h), HEADER_LEN + h.length.min(avail))));
        }
        Ok(data
            .get(HEADER_LEN..end)
            .map(|body| (Frame::Record(h, body), end)))
    }
}

enum Need {
    Bytes(usize),
    Skip(RecordHeader),
    Done,
}

fn sub(total: usize, have: usize) -> Need {
    if have >= total {
        Need::Done
    } else {
        Need::Bytes(total - have)
    }
}

/// A handshake message being collected across records.
#[derive(Debug, Default)]
pub struct Reassembly {
    pub msg_type: u8,
    pub len: usize,
    pub data: Vec<u8>,
}

impl Reassembly {
    pub fn active(&self) -> bool {
        self.len > 0
    }

    /// Adds bytes; returns how many were used.
    pub fn add(&mut self, bytes: &[u8]) -> usize {
        let n = (self.len - self.data.len()).min(bytes.len());
        self.data.extend_from_slice(&bytes[..n]);
        n
    }

    pub fn complete(&self) -> bool {
        self.active() && self.data.len() == self.len
    }

    pub fn reset(&mut self) {
        *self = Reassembly::default();
    }
}
