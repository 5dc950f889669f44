//! Start lines and header sections, parsed in place.
//!
//! A message head (start line, header lines, blank line) is copied once into
//! its transaction's [`Head`] buffer as it arrives; every field is a [`Span`]
//! into that buffer, so headers cost no allocation each. Values libhtp
//! rewrites (folded lines joined, repeated headers merged with `", "`) are
//! appended after the raw bytes, so a span always points into one buffer.

use super::error::HttpEvent;
use crate::Direction;

/// A range of a [`Head`] buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        // Head buffers are capped far below 4 GiB (`HttpConfig::head_limit`).
        let s = u32::try_from(start).unwrap_or(u32::MAX);
        let e = u32::try_from(end.max(start)).unwrap_or(u32::MAX);
        Span {
            start: s,
            len: e - s,
        }
    }

    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        let s = self.start as usize;
        buf.get(s..s + self.len as usize).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Header flags, as libhtp keeps them.
pub mod flags {
    /// Value joined from folded continuation lines.
    pub const FOLDED: u8 = 1;
    /// The name appeared more than once; values are merged.
    pub const REPEATED: u8 = 2;
    /// Whitespace around or invalid characters in the name.
    pub const INVALID: u8 = 4;
    /// No colon: empty name, the whole line is the value.
    pub const NO_COLON: u8 = 8;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub name: Span,
    pub value: Span,
    pub flags: u8,
    /// How many lines carried this name.
    pub count: u16,
}

/// A message head: the start line and the headers, libhtp's merged table.
#[derive(Debug, Clone, Default)]
pub struct Head {
    pub(crate) buf: Vec<u8>,
    /// Bytes of the head as received (start line to blank line included).
    pub(crate) raw_len: u32,
    pub(crate) line: Span,
    /// Header lines and the terminating blank line, as received.
    pub(crate) raw_headers: Span,
    pub(crate) headers: Vec<Header>,
}

impl Head {
    /// The start line without its line ending.
    pub fn line(&self) -> &[u8] {
        self.line.get(&self.buf)
    }

    /// Header lines as received, including the blank line that ends them.
    pub fn raw_headers(&self) -> &[u8] {
        self.raw_headers.get(&self.buf)
    }

    /// The whole head as received.
    pub fn raw(&self) -> &[u8] {
        self.buf.get(..self.raw_len as usize).unwrap_or(&[])
    }

    pub fn get(&self, s: Span) -> &[u8] {
        s.get(&self.buf)
    }

    /// Merged headers in order of first appearance: (name, value).
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers
            .iter()
            .map(|h| (h.name.get(&self.buf), h.value.get(&self.buf)))
    }

    pub fn header_entries(&self) -> &[Header] {
        &self.headers
    }

    /// The value of a header, name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.find(name.as_bytes()).map(|h| h.value.get(&self.buf))
    }

    pub(crate) fn find(&self, name: &[u8]) -> Option<&Header> {
        self.headers
            .iter()
            .find(|h| h.name.get(&self.buf).eq_ignore_ascii_case(name))
    }
}

pub(crate) fn is_lws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// libhtp's `htp_is_space`: SP, HT, LF, VT, FF, CR.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_token(b: u8) -> bool {
    (33..127).contains(&b) && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

pub(crate) fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|&c| !is_space(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|&c| !is_space(c)).map_or(s, |e| e + 1);
    b.get(s..e.max(s)).unwrap_or(&[])
}

/// Offset range of `b` after trimming whitespace, relative to `b`.
fn trim_range(b: &[u8]) -> (usize, usize) {
    let s = b.iter().position(|&c| !is_space(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|&c| !is_space(c)).map_or(s, |e| e + 1);
    (s, e.max(s))
}

/// A line without its `\n` and an optional `\r` before it.
pub(crate) fn chomp(line: &[u8]) -> &[u8] {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// The protocol version, as libhtp numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// No protocol on the request line (a simple request).
    V0_9,
    V1_0,
    #[default]
    V1_1,
    /// `HTTP/` followed by something else that parses (e.g. `HTTP/2.0`).
    Other,
    Invalid,
}

pub(crate) fn parse_version(p: &[u8]) -> Version {
    let p = trim(p);
    let Some(rest) = p.get(..5).filter(|h| h.eq_ignore_ascii_case(b"HTTP/")) else {
        return Version::Invalid;
    };
    let _ = rest;
    match p.get(5..).unwrap_or(&[]) {
        b"1.1" => Version::V1_1,
        b"1.0" => Version::V1_0,
        b"0.9" => Version::V0_9,
        [a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit() => Version::Other,
        _ => Version::Invalid,
    }
}

const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"VERSION-CONTROL",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"CHECKIN",
    b"UPDATE",
    b"LABEL",
    b"REPORT",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"BASELINE-CONTROL",
    b"MERGE",
    b"INVALID",
];

pub fn is_known_method(m: &[u8]) -> bool {
    KNOWN_METHODS.contains(&m)
}

/// Request line fields, as spans relative to the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RequestLine {
    pub method: (usize, usize),
    pub uri: (usize, usize),
    pub protocol: Option<(usize, usize)>,
    pub version: Version,
}

/// libhtp's generic request-line parser, with its anomaly events.
pub(crate) fn parse_request_line(line: &[u8], events: &mut Vec<HttpEvent>) -> RequestLine {
    let mut pos = 0;
    while line.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    if pos > 0 {
        events.push(HttpEvent::RequestLineLeadingWhitespace);
    }
    let m_start = pos;
    while line.get(pos).is_some_and(|&b| !is_space(b)) {
        pos += 1;
    }
    let method = (m_start, pos);
    if line.get(pos).is_some_and(|&b| b != b' ') {
        events.push(HttpEvent::MethodDelimNonCompliant);
    }
    while line.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    let known = is_known_method(line.get(method.0..method.1).unwrap_or(&[]));
    let mut rl = RequestLine {
        method,
        uri: (pos, pos),
        protocol: None,
        version: Version::V0_9,
    };
    if pos >= line.len() {
        events.push(HttpEvent::RequestLineIncomplete);
        if !known {
            events.push(HttpEvent::RequestLineInvalid);
        }
        return rl;
    }
    let rest = &line[pos..];
    // A URI with spaces in it still ends before a trailing "HTTP/x.y".
    let last_ws = rest.iter().rposition(|&b| is_space(b));
    let proto_at = last_ws.map(|i| i + 1).filter(|&i| {
        rest.get(i..i + 4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP"))
    });
    let uri_end = match proto_at {
        Some(p) => {
            let mut e = p;
            while e > 0 && rest.get(e - 1).is_some_and(|&b| is_space(b)) {
                e -= 1;
            }
            e
        }
        None => rest.iter().position(|&b| is_space(b)).unwrap_or(rest.len()),
    };
    rl.uri = (pos, pos + uri_end);
    if rest.get(uri_end).is_some_and(|&b| b != b' ') {
        events.push(HttpEvent::UriDelimNonCompliant);
    }
    let mut p = uri_end;
    while rest.get(p).is_some_and(|&b| is_space(b)) {
        p += 1;
    }
    if p < rest.len() {
        let (ts, te) = trim_range(&rest[p..]);
        rl.protocol = Some((pos + p + ts, pos + p + te));
        rl.version = parse_version(&rest[p..]);
    } else {
        events.push(HttpEvent::RequestLineMissingProtocol);
    }
    if !known && rl.version == Version::Invalid {
        events.push(HttpEvent::RequestLineInvalid);
    }
    rl
}

/// Status line fields, as spans relative to the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StatusLine {
    pub protocol: (usize, usize),
    pub status: (usize, usize),
    pub message: (usize, usize),
    pub version: Version,
    pub code: Option<u16>,
}

/// Does this line start a response (libhtp treats anything else as body)?
pub(crate) fn looks_like_status_line(line: &[u8]) -> bool {
    let t = line
        .iter()
        .position(|&b| !is_space(b))
        .map_or(&[][..], |s| &line[s..]);
    t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP"))
}

pub(crate) fn parse_status_line(line: &[u8], events: &mut Vec<HttpEvent>) -> StatusLine {
    let mut pos = 0;
    while line.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    let ps = pos;
    while line.get(pos).is_some_and(|&b| !is_space(b)) {
        pos += 1;
    }
    let protocol = (ps, pos);
    while line.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    let ss = pos;
    while line.get(pos).is_some_and(|&b| !is_space(b)) {
        pos += 1;
    }
    let status = (ss, pos);
    while line.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    let version = parse_version(line.get(protocol.0..protocol.1).unwrap_or(&[]));
    if version == Version::Invalid {
        events.push(HttpEvent::ResponseInvalidProtocol);
    }
    let code = parse_status(line.get(status.0..status.1).unwrap_or(&[]));
    if code.is_none() {
        events.push(HttpEvent::ResponseInvalidStatus);
    }
    StatusLine {
        protocol,
        status,
        message: (pos, line.len().max(pos)),
        version,
        code,
    }
}

/// Three digits, 100 to 999, as libhtp accepts a status.
fn parse_status(s: &[u8]) -> Option<u16> {
    match *trim(s) {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let v = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            (v >= 100).then_some(v)
        }
        _ => None,
    }
}

/// Limits applied while building the header table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderLimits {
    pub max_headers: usize,
    /// Repetitions of one name before libhtp complains.
    pub max_repetitions: u16,
}

/// Builds the merged header table from the raw header lines in
/// `head.raw_headers`, raising libhtp's events for the given side.
pub(crate) fn parse_headers(
    head: &mut Head,
    dir: Direction,
    limits: HeaderLimits,
    events: &mut Vec<HttpEvent>,
) {
    let ev = |r, s| HttpEvent::sided(dir, r, s);
    let start = head.raw_headers.start as usize;
    let end = start + head.raw_headers.len as usize;
    // Logical headers: (first line start, first line end, last line end) —
    // continuation lines follow the first contiguously.
    let mut pos = start;
    let mut logical: Vec<(usize, usize, usize)> = Vec::new();
    let mut folded_orphan = false;
    let mut too_many = false;
    while pos < end {
        let nl = head.buf[pos..end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(end, |i| pos + i + 1);
        let line = chomp(&head.buf[pos..nl]);
        let line_end = pos + line.len();
        if line.is_empty() {
            pos = nl;
            continue;
        }
        if is_lws(line[0]) {
            match logical.last_mut() {
                Some(last) => last.2 = line_end,
                None => {
                    folded_orphan = true;
                    logical.push((pos, line_end, line_end));
                }
            }
        } else if logical.len() < limits.max_headers {
            logical.push((pos, line_end, line_end));
        } else {
            too_many = true;
        }
        pos = nl;
    }
    if folded_orphan {
        events.push(ev(
            HttpEvent::InvalidRequestFieldFolding,
            HttpEvent::InvalidResponseFieldFolding,
        ));
    }
    if too_many {
        events.push(ev(
            HttpEvent::RequestTooManyHeaders,
            HttpEvent::ResponseTooManyHeaders,
        ));
    }

    let merge_budget = head.buf.len() * 3 + 4096;
    let mut headers: Vec<Header> = Vec::with_capacity(logical.len());
    let (mut no_colon, mut invalid, mut repetition) = (false, false, false);
    let (mut dup_cl, mut bad_cl) = (false, false);
    for &(ls, le, fe) in &logical {
        let line = &head.buf[ls..le];
        let mut flags = 0u8;
        let (name, value_start) = match line.iter().position(|&b| b == b':') {
            Some(c) => {
                let (ns, ne) = trim_range(&line[..c]);
                if ns != 0 || ne != c || ne == ns || !line[ns..ne].iter().all(|&b| is_token(b)) {
                    flags |= flags::INVALID;
                    invalid = true;
                }
                (Span::new(ls + ns, ls + ne), ls + c + 1)
            }
            None => {
                flags |= flags::NO_COLON;
                no_colon = true;
                (Span::new(ls, ls), ls)
            }
        };
        let (vs, ve) = trim_range(&head.buf[value_start..le]);
        let mut value = Span::new(value_start + vs, value_start + ve);
        if fe > le {
            // Folded: the first line's value, then each continuation
            // trimmed and joined by one space.
            flags |= flags::FOLDED;
            let at = head.buf.len();
            head.buf
                .extend_from_within(value_start + vs..value_start + ve);
            let mut p = le;
            while p < fe {
                let nl = head.buf[p..fe]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(fe, |i| p + i + 1);
                let (cs, ce) = trim_range(&head.buf[p..nl]);
                if ce > cs {
                    if head.buf.len() > at {
                        head.buf.push(b' ');
                    }
                    head.buf.extend_from_within(p + cs..p + ce);
                }
                p = nl;
            }
            value = Span::new(at, head.buf.len());
        }
        let name_bytes = name.get(&head.buf);
        let existing = headers
            .iter()
            .position(|h| h.name.get(&head.buf).eq_ignore_ascii_case(name_bytes));
        match existing {
            None => headers.push(Header {
                name,
                value,
                flags,
                count: 1,
            }),
            Some(i) => {
                let h = &mut headers[i];
                h.count = h.count.saturating_add(1);
                h.flags |= flags::REPEATED | flags;
                if h.count > limits.max_repetitions {
                    repetition = true;
                }
                if name_bytes.eq_ignore_ascii_case(b"content-length") {
                    // Not merged: a second length is either redundant or
                    // an attempt at smuggling.
                    dup_cl = true;
                    if trim(h.value.get(&head.buf)) != trim(value.get(&head.buf)) {
                        bad_cl = true;
                    }
                    continue;
                }
                // Merged values are copies; past this budget a hostile
                // stream of repeats would copy quadratically, so stop.
                let need = (h.value.len + value.len) as usize + 2;
                if head.buf.len() + need > merge_budget {
                    continue;
                }
                let at = head.buf.len();
                head.buf.extend_from_within(
                    h.value.start as usize..(h.value.start + h.value.len) as usize,
                );
                head.buf.extend_from_slice(b", ");
                head.buf
                    .extend_from_within(value.start as usize..(value.start + value.len) as usize);
                h.value = Span::new(at, head.buf.len());
            }
        }
    }
    if no_colon {
        events.push(ev(
            HttpEvent::RequestFieldMissingColon,
            HttpEvent::ResponseFieldMissingColon,
        ));
    }
    if invalid {
        events.push(ev(
            HttpEvent::RequestHeaderInvalid,
            HttpEvent::ResponseHeaderInvalid,
        ));
    }
    if repetition {
        events.push(ev(
            HttpEvent::RequestHeaderRepetition,
            HttpEvent::ResponseHeaderRepetition,
        ));
    }
    if dup_cl {
        events.push(ev(
            HttpEvent::DuplicateContentLengthFieldInRequest,
            HttpEvent::DuplicateContentLengthFieldInResponse,
        ));
    }
    if bad_cl {
        events.push(ev(
            HttpEvent::InvalidContentLengthFieldInRequest,
            HttpEvent::InvalidContentLengthFieldInResponse,
        ));
    }
    head.headers = headers;
}

/// A Content-Length value: digits with optional surrounding whitespace.
pub(crate) fn parse_content_length(v: &[u8]) -> Option<u64> {
    let t = trim(v);
    if t.is_empty() || t.len() > 19 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    t.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
#[path = "tests_parser.rs"]
mod tests;
