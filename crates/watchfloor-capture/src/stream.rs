//! Streaming source for inputs that cannot be mapped: stdin, pipes, FIFOs.
//!
//! One reusable buffer holds the unread input. Packets are slices of it; when
//! a record runs past its end the partial record (never more than one) moves
//! to the front and the rest is refilled, so there is no per-packet
//! allocation or copy. The buffer only grows when a single record is larger
//! than it, and the parser's length limits bound that growth.

use std::io::{ErrorKind, Read};

use crate::parse::{Meta, Parser, Step};
use crate::source::PacketSource;
use crate::{CaptureError, RawPacket};

const INITIAL_BUFFER: usize = 1 << 20;

pub struct StreamSource<R> {
    reader: R,
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Input offset of `buf[0]`.
    base: u64,
    eof: bool,
    done: bool,
    parser: Parser,
}

impl<R> std::fmt::Debug for StreamSource<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSource")
            .field("position", &(self.base + self.start as u64))
            .field("buffered", &(self.end - self.start))
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

impl<R: Read> StreamSource<R> {
    /// Reads the file header (blocking until it arrives); fails on empty,
    /// unknown or truncated headers.
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        Self::with_capacity(reader, INITIAL_BUFFER)
    }

    /// As [`StreamSource::new`] with a chosen initial buffer size (tests use
    /// tiny ones to exercise refills).
    pub fn with_capacity(reader: R, capacity: usize) -> Result<Self, CaptureError> {
        let mut s = StreamSource {
            reader,
            buf: vec![0; capacity.max(64)],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            done: false,
            parser: Parser::new(),
        };
        while !s.parser.started() {
            match s.parser.step(&s.buf[s.start..s.end], s.base, s.eof)? {
                Step::Skip(n) => s.start += n,
                Step::Need(n) => s.fill(n)?,
                // The start state turns end of input into Empty/Truncated, so
                // this is unreachable; failing beats looping.
                Step::End | Step::Packet { .. } => return Err(CaptureError::Empty),
            }
        }
        Ok(s)
    }

    /// Makes at least `needed` bytes available from `start`, or sets `eof`.
    #[cold]
    fn fill(&mut self, needed: usize) -> Result<(), CaptureError> {
        if self.start + needed > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
            if needed > self.buf.len() {
                self.buf.resize(needed.next_power_of_two(), 0);
            }
        }
        while self.end - self.start < needed {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n.min(self.buf.len() - self.end),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CaptureError::Io {
                        offset: self.base + self.end as u64,
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Finds the next packet, returning its metadata and record start.
    #[inline]
    fn advance(&mut self) -> Result<Option<(Meta, usize)>, CaptureError> {
        loop {
            let rest = &self.buf[self.start..self.end];
            match self
                .parser
                .step(rest, self.base + self.start as u64, self.eof)?
            {
                Step::Packet { meta, consumed } => {
                    let at = self.start;
                    self.start += consumed;
                    return Ok(Some((meta, at)));
                }
                Step::Skip(n) => self.start += n,
                Step::Need(n) => self.fill(n)?,
                Step::End => return Ok(None),
            }
        }
    }
}

impl<R: Read> PacketSource for StreamSource<R> {
    #[inline]
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some((meta, at))) => {
                let record = &self.buf[at..self.end];
                meta.packet(record, self.base + at as u64).map(Some)
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    fn total_len(&self) -> Option<u64> {
        None
    }
}
