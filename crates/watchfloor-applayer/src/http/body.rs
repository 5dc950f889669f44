//! Message bodies: framing (Content-Length, chunked, until close), the
//! content-coding decoders (gzip, deflate) with their bomb caps, and what a
//! transaction keeps of a body for inspection.

use flate2::{Decompress, FlushDecompress, Status};

use super::error::HttpEvent;
use super::parser::{chomp, trim};
use crate::Direction;

/// What the parser keeps of a body.
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// What rules inspect: decoded when a content coding was undone, else
    /// the de-chunked bytes; at most the inspection limit.
    pub(crate) data: Vec<u8>,
    /// De-chunked, still content-coded bytes; at most the raw limit.
    pub(crate) raw: Vec<u8>,
    /// Body bytes on the wire, chunk framing included (libhtp's
    /// `message_len`, EVE `length`).
    pub message_len: u64,
    /// Bytes after removing the chunk framing.
    pub entity_len: u64,
    /// Bytes a content-coding decoder produced.
    pub decoded_len: u64,
    /// The inspection buffer reached its limit and dropped the rest.
    pub truncated: bool,
    /// Some body bytes were lost in the stream.
    pub gap: bool,
}

impl Body {
    /// The inspection view (`http.request_body`, `file.data`).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The de-chunked body before content decoding, up to the raw limit.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    fn keep(buf: &mut Vec<u8>, data: &[u8], limit: usize) -> bool {
        let room = limit.saturating_sub(buf.len());
        let take = room.min(data.len());
        if let Some(d) = data.get(..take) {
            buf.extend_from_slice(d);
        }
        take < data.len()
    }
}

/// Body size and decompression limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    pub inspect: usize,
    pub raw: usize,
    pub bomb_limit: u64,
    pub bomb_ratio: u64,
}

/// Feeds de-chunked body bytes into the body, through the decoder if any.
pub(crate) fn push_body(
    body: &mut Body,
    decoder: &mut Option<Decoder>,
    data: &[u8],
    lim: BodyLimits,
    events: &mut Vec<HttpEvent>,
) {
    body.entity_len += data.len() as u64;
    Body::keep(&mut body.raw, data, lim.raw);
    let Some(dec) = decoder.as_mut() else {
        body.truncated |= Body::keep(&mut body.data, data, lim.inspect);
        return;
    };
    if dec.stopped {
        return;
    }
    let before = dec.out_total;
    let (data_buf, truncated) = (&mut body.data, &mut body.truncated);
    let r = dec.push(data, lim, &mut |chunk| {
        *truncated |= Body::keep(data_buf, chunk, lim.inspect);
        data_buf.len() < lim.inspect
    });
    body.decoded_len += dec.out_total - before;
    match r {
        Ok(()) => {}
        Err(Stop::Enough) => dec.stopped = true,
        Err(Stop::Bomb) => {
            dec.stopped = true;
            events.push(HttpEvent::CompressionBomb);
        }
        Err(Stop::Failed) => {
            dec.stopped = true;
            events.push(HttpEvent::GzipDecompressionFailed);
            // libhtp hands the undecodable bytes on as they are, so rules
            // still see something; from here on the raw bytes go straight
            // to inspection.
            if body.decoded_len == 0 {
                body.data.clear();
                let raw = body.raw.clone();
                body.truncated |= Body::keep(&mut body.data, &raw, lim.inspect);
            }
            *decoder = None;
        }
    }
}

/// How a body ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Framing {
    Length(u64),
    Chunked(Chunked),
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(u64),
    /// The line ending after a chunk's data.
    DataEnd,
    Trailer,
    Done,
}

/// Longest chunk-size or trailer line kept; the rest of a longer line is
/// skipped (it still counts) and the size is judged on what was kept.
const CHUNK_LINE_CAP: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunked {
    state: ChunkState,
    line: Vec<u8>,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked {
            state: ChunkState::Size,
            line: Vec::new(),
        }
    }
}

/// What one feed of chunked data came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChunkOutcome {
    /// All input consumed, more to come.
    More,
    /// The last chunk and its trailers ended after `consumed` bytes.
    Done { consumed: usize },
    /// A size line that is not one: libhtp gives up on the framing; the
    /// line (as kept) and everything after `consumed` is body until the
    /// stream closes.
    Invalid { line: Vec<u8>, consumed: usize },
}

impl Chunked {
    /// Consumes chunked bytes; `body` gets chunk data, `wire` counts the
    /// bytes that are part of the message body (trailers are not).
    pub(crate) fn feed(
        &mut self,
        data: &[u8],
        dir: Direction,
        events: &mut Vec<HttpEvent>,
        wire: &mut u64,
        body: &mut dyn FnMut(&[u8]),
    ) -> ChunkOutcome {
        let mut pos = 0;
        while pos < data.len() {
            match self.state {
                ChunkState::Data(rem) => {
                    let take = usize::try_from(rem)
                        .unwrap_or(usize::MAX)
                        .min(data.len() - pos);
                    body(&data[pos..pos + take]);
                    *wire += take as u64;
                    pos += take;
                    let left = rem - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::Done => return ChunkOutcome::Done { consumed: pos },
                ChunkState::Size | ChunkState::DataEnd | ChunkState::Trailer => {
                    let start = pos;
                    let (end, complete) = match data[pos..].iter().position(|&b| b == b'\n') {
                        Some(i) => (pos + i + 1, true),
                        None => (data.len(), false),
                    };
                    let room = CHUNK_LINE_CAP.saturating_sub(self.line.len());
                    self.line.extend_from_slice(&data[pos..end.min(pos + room)]);
                    if self.state != ChunkState::Trailer {
                        *wire += (end - pos) as u64;
                    }
                    pos = end;
                    if !complete {
                        continue;
                    }
                    let line = std::mem::take(&mut self.line);
                    match self.state {
                        ChunkState::DataEnd => self.state = ChunkState::Size,
                        ChunkState::Trailer => {
                            if chomp(&line).is_empty() {
                                self.state = ChunkState::Done;
                                return ChunkOutcome::Done { consumed: pos };
                            }
                        }
                        _ => match parse_chunk_size(&line, dir, events) {
                            // Stray blank lines between chunks are tolerated.
                            SizeLine::Blank => {}
                            SizeLine::Size(0) => self.state = ChunkState::Trailer,
                            SizeLine::Size(n) => self.state = ChunkState::Data(n),
                            SizeLine::Invalid => {
                                events.push(HttpEvent::sided(
                                    dir,
                                    HttpEvent::InvalidRequestChunkLen,
                                    HttpEvent::InvalidResponseChunkLen,
                                ));
                                *wire -= (pos - start) as u64;
                                return ChunkOutcome::Invalid {
                                    line,
                                    consumed: pos,
                                };
                            }
                        },
                    }
                    self.line = line;
                    self.line.clear();
                }
            }
        }
        if self.state == ChunkState::Done {
            return ChunkOutcome::Done { consumed: pos };
        }
        ChunkOutcome::More
    }
}

enum SizeLine {
    Blank,
    Size(u64),
    Invalid,
}

/// `1a;name=value` with optional whitespace; more than 15 hex digits would
/// overflow libhtp's signed 64-bit length and is invalid.
fn parse_chunk_size(line: &[u8], dir: Direction, events: &mut Vec<HttpEvent>) -> SizeLine {
    let l = trim(chomp(line));
    if l.is_empty() {
        return SizeLine::Blank;
    }
    let (size, ext) = match l.iter().position(|&b| b == b';') {
        Some(i) => (trim(&l[..i]), true),
        None => (l, false),
    };
    if ext {
        events.push(HttpEvent::sided(
            dir,
            HttpEvent::RequestChunkExtension,
            HttpEvent::ResponseChunkExtension,
        ));
    }
    let digits = size.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 || !size[digits..].iter().all(|&b| b == b' ' || b == b'\t') {
        return SizeLine::Invalid;
    }
    let mut v = 0u64;
    for &b in &size[..digits] {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        };
        v = (v << 4) | u64::from(d);
    }
    SizeLine::Size(v)
}

/// A content coding libhtp can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
}

/// The codings of a Content-Encoding value, in the order they were applied.
/// `Err(())` for a value with a coding we cannot undo.
pub(crate) fn parse_codings(v: &[u8]) -> Result<Vec<Coding>, ()> {
    let mut out = Vec::new();
    for tok in v.split(|&b| b == b',').map(trim) {
        if tok.eq_ignore_ascii_case(b"gzip") || tok.eq_ignore_ascii_case(b"x-gzip") {
            out.push(Coding::Gzip);
        } else if tok.eq_ignore_ascii_case(b"deflate") || tok.eq_ignore_ascii_case(b"x-deflate") {
            out.push(Coding::Deflate);
        } else if tok.is_empty() || tok.eq_ignore_ascii_case(b"identity") {
            continue;
        } else {
            return Err(());
        }
    }
    Ok(out)
}

/// Why decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Failed,
    Bomb,
    /// Nothing downstream wants more and the bomb window is past.
    Enough,
}

/// Stacked inflaters, outermost coding first, with the bomb accounting.
#[derive(Debug)]
pub(crate) struct Decoder {
    layers: Vec<Inflate>,
    in_total: u64,
    out_total: u64,
    pub(crate) stopped: bool,
}

/// The next layer (or the sink) of a decoder stack.
type Next<'n> = dyn FnMut(&[u8], &mut Ctl<'_>) -> Result<(), Stop> + 'n;

struct Ctl<'a> {
    in_total: &'a mut u64,
    out_total: &'a mut u64,
    lim: BodyLimits,
    sink: &'a mut dyn FnMut(&[u8]) -> bool,
}

impl Decoder {
    /// `codings` in the order applied; the last one applied is undone first.
    pub(crate) fn new(codings: &[Coding]) -> Decoder {
        Decoder {
            layers: codings.iter().rev().map(|&c| Inflate::new(c)).collect(),
            in_total: 0,
            out_total: 0,
            stopped: false,
        }
    }

    /// `sink` gets decoded bytes and answers whether it wants more.
    fn push(
        &mut self,
        input: &[u8],
        lim: BodyLimits,
        sink: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), Stop> {
        let mut ctl = Ctl {
            in_total: &mut self.in_total,
            out_total: &mut self.out_total,
            lim,
            sink,
        };
        run(&mut self.layers, 0, input, &mut ctl)
    }
}

fn run(layers: &mut [Inflate], depth: usize, input: &[u8], ctl: &mut Ctl<'_>) -> Result<(), Stop> {
    let Some((first, rest)) = layers.split_first_mut() else {
        *ctl.out_total += input.len() as u64;
        let wants = (ctl.sink)(input);
        let out = *ctl.out_total;
        if out >= ctl.lim.bomb_limit {
            let ratio = out / (*ctl.in_total).max(1);
            if ratio > ctl.lim.bomb_ratio {
                return Err(Stop::Bomb);
            }
            if !wants {
                return Err(Stop::Enough);
            }
        }
        return Ok(());
    };
    first.inflate(input, depth, ctl, &mut |chunk, ctl| {
        run(rest, depth + 1, chunk, ctl)
    })
}

#[derive(Debug)]
enum Stage {
    /// Collecting a gzip member header (or the 2 bytes that tell zlib from
    /// raw deflate).
    Header(Vec<u8>),
    Stream(Box<Decompress>),
    Finished,
}

#[derive(Debug)]
struct Inflate {
    coding: Coding,
    stage: Stage,
}

/// Gzip headers longer than this (file names, comments) are not believed.
const GZIP_HEADER_CAP: usize = 4096;
const OUT_CHUNK: usize = 8192;

impl Inflate {
    fn new(coding: Coding) -> Inflate {
        Inflate {
            coding,
            stage: Stage::Header(Vec::new()),
        }
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        depth: usize,
        ctl: &mut Ctl<'_>,
        next: &mut Next<'_>,
    ) -> Result<(), Stop> {
        if let Stage::Header(buf) = &mut self.stage {
            let before = buf.len();
            let room = GZIP_HEADER_CAP.saturating_sub(before);
            buf.extend_from_slice(&input[..room.min(input.len())]);
            let parsed = match self.coding {
                Coding::Gzip => gzip_header_len(buf)?,
                Coding::Deflate => match *buf.as_slice() {
                    [cmf, flg, ..] => {
                        let zlib =
                            cmf & 0x0f == 8 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0;
                        Some((0, zlib))
                    }
                    _ => None,
                },
            };
            let Some((hlen, zlib)) = parsed else {
                if buf.len() >= GZIP_HEADER_CAP {
                    return Err(Stop::Failed);
                }
                return Ok(());
            };
            // Bytes of this input not consumed by the header.
            let skip = hlen.saturating_sub(before);
            let replay = if self.coding == Coding::Deflate {
                buf.clone()
            } else {
                Vec::new()
            };
            self.stage = Stage::Stream(Box::new(Decompress::new(zlib)));
            if self.coding == Coding::Deflate {
                // The detection bytes are stream bytes; feed them first.
                let fresh = input.get(replay.len() - before..).unwrap_or(&[]);
                self.stream(&replay, depth, ctl, next)?;
                return self.stream(fresh, depth, ctl, next);
            }
            input = input.get(skip..).unwrap_or(&[]);
        }
        self.stream(input, depth, ctl, next)
    }

    fn stream(
        &mut self,
        mut input: &[u8],
        depth: usize,
        ctl: &mut Ctl<'_>,
        next: &mut Next<'_>,
    ) -> Result<(), Stop> {
        let Stage::Stream(d) = &mut self.stage else {
            return Ok(());
        };
        let mut out = [0u8; OUT_CHUNK];
        loop {
            let (in0, out0) = (d.total_in(), d.total_out());
            let status = d
                .decompress(input, &mut out, FlushDecompress::None)
                .map_err(|_| Stop::Failed)?;
            let consumed = usize::try_from(d.total_in() - in0).unwrap_or(input.len());
            let produced = usize::try_from(d.total_out() - out0).unwrap_or(0);
            input = input.get(consumed..).unwrap_or(&[]);
            if depth == 0 {
                *ctl.in_total += consumed as u64;
            }
            if produced > 0 {
                next(&out[..produced.min(OUT_CHUNK)], ctl)?;
            }
            if status == Status::StreamEnd {
                // Trailers (gzip CRC and size) and any further members are
                // not inspected.
                self.stage = Stage::Finished;
                return Ok(());
            }
            if (consumed == 0 && produced == 0) || (input.is_empty() && produced < OUT_CHUNK) {
                return Ok(());
            }
        }
    }
}

/// Length of a complete gzip member header (RFC 1952 2.3) at the start of
/// `b`, `None` when more bytes are needed.
fn gzip_header_len(b: &[u8]) -> Result<Option<(usize, bool)>, Stop> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if b.len() < 10 {
        if b.first().is_some_and(|&x| x != 0x1f) || b.get(1).is_some_and(|&x| x != 0x8b) {
            return Err(Stop::Failed);
        }
        return Ok(None);
    }
    if b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
        return Err(Stop::Failed);
    }
    let flg = b[3];
    let mut pos = 10;
    if flg & FEXTRA != 0 {
        let (Some(&lo), Some(&hi)) = (b.get(pos), b.get(pos + 1)) else {
            return Ok(None);
        };
        pos += 2 + usize::from(u16::from_le_bytes([lo, hi]));
    }
    for f in [FNAME, FCOMMENT] {
        if flg & f != 0 {
            match b.get(pos..).and_then(|r| r.iter().position(|&x| x == 0)) {
                Some(i) => pos += i + 1,
                None => return Ok(None),
            }
        }
    }
    if flg & FHCRC != 0 {
        pos += 2;
    }
    Ok((pos <= b.len()).then_some((pos, false)))
}

#[cfg(test)]
#[path = "tests_body.rs"]
mod tests;
