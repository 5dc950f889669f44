//! Packet sources over memory: byte slices, owned buffers and memory maps.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;
#[cfg(unix)]
use memmap2::{Advice, UncheckedAdvice};

use crate::parse::{Parser, Step};
use crate::stream::StreamSource;
use crate::{CaptureError, RawPacket};

/// A lending iterator over the packets of one capture.
///
/// The returned packet borrows the source until the next call. After an error
/// or the end of input every further call returns `Ok(None)`.
pub trait PacketSource {
    /// The next packet, `Ok(None)` at the end of the input.
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError>;
    /// Bytes of the input consumed so far (record boundaries only).
    fn position(&self) -> u64;
    /// Size of the input when known (files), for progress reporting.
    fn total_len(&self) -> Option<u64>;
}

impl<S: PacketSource + ?Sized> PacketSource for Box<S> {
    #[inline]
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        (**self).next_packet()
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
    fn total_len(&self) -> Option<u64> {
        (**self).total_len()
    }
}

/// Opens a capture file: `-` is standard input, a regular file is memory
/// mapped, anything else (pipe, FIFO, character device) is streamed.
pub fn open(path: &Path) -> Result<Box<dyn PacketSource + Send>, CaptureError> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(StreamSource::new(std::io::stdin())?));
    }
    let open_err = |source| CaptureError::Open {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if meta.is_file() {
        Ok(Box::new(MmapSource::new(&file).map_err(|e| match e {
            CaptureError::Io { source, .. } => open_err(source),
            other => other,
        })?))
    } else {
        Ok(Box::new(StreamSource::new(file)?))
    }
}

/// A streaming source over any reader (standard input, sockets, tests).
pub fn from_reader<R: std::io::Read + Send + 'static>(
    r: R,
) -> Result<Box<dyn PacketSource + Send>, CaptureError> {
    Ok(Box::new(StreamSource::new(r)?))
}

/// A source owning an in-memory capture.
pub fn from_bytes(bytes: Vec<u8>) -> Result<Box<dyn PacketSource + Send>, CaptureError> {
    Ok(Box::new(MemSource::new(bytes)?))
}

/// A source borrowing an in-memory capture (fuzzing, tests).
pub fn from_slice(bytes: &[u8]) -> Result<MemSource<&[u8]>, CaptureError> {
    MemSource::new(bytes)
}

/// A source over bytes that are all present up front: packets are slices of
/// the buffer itself, so nothing is ever copied.
#[derive(Debug)]
pub struct MemSource<B> {
    buf: B,
    pos: usize,
    parser: Parser,
    done: bool,
}

impl<B: AsRef<[u8]>> MemSource<B> {
    /// Reads the file header; fails on empty, unknown or truncated headers.
    pub fn new(buf: B) -> Result<Self, CaptureError> {
        let mut s = MemSource {
            buf,
            pos: 0,
            parser: Parser::new(),
            done: false,
        };
        let data = s.buf.as_ref();
        while !s.parser.started() {
            let rest = data.get(s.pos..).unwrap_or_default();
            match s.parser.step(rest, s.pos as u64, true)? {
                Step::Skip(n) => s.pos += n,
                // With the whole input present the start state ends in Skip or
                // an error; anything else would loop, so treat it as empty.
                _ => return Err(CaptureError::Empty),
            }
        }
        Ok(s)
    }
}

impl<B: AsRef<[u8]>> PacketSource for MemSource<B> {
    #[inline]
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        let data = self.buf.as_ref();
        loop {
            let start = self.pos;
            let rest = data.get(start..).unwrap_or_default();
            match self.parser.step(rest, start as u64, true) {
                Ok(Step::Packet { meta, consumed }) => {
                    self.pos = start + consumed;
                    return meta.packet(rest, start as u64).map(Some);
                }
                Ok(Step::Skip(n)) => self.pos = start + n,
                Ok(Step::End | Step::Need(_)) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }

    fn position(&self) -> u64 {
        self.pos as u64
    }

    fn total_len(&self) -> Option<u64> {
        Some(self.buf.as_ref().len() as u64)
    }
}

/// How much consumed input accumulates before its pages are dropped. Large
/// enough that the madvise calls cost nothing measurable, small enough that
/// resident memory stays flat.
const RELEASE_CHUNK: usize = 4 << 20;
/// Alignment of the released range: a multiple of every page size in use, so
/// the page holding the cursor is never included.
const RELEASE_ALIGN: usize = 64 << 10;

/// A memory-mapped regular file. Pages behind the cursor are handed back to
/// the kernel as reading advances, so resident memory does not grow with the
/// file size.
#[derive(Debug)]
pub struct MmapSource {
    inner: MemSource<Mmap>,
    released: usize,
}

impl MmapSource {
    pub fn new(file: &File) -> Result<Self, CaptureError> {
        let io = |source| CaptureError::Io { offset: 0, source };
        if file.metadata().map_err(io)?.len() == 0 {
            return Err(CaptureError::Empty);
        }
        // SAFETY: the map is read-only and every access is bounds-checked
        // against its length at creation. If another process truncates or
        // rewrites the file underneath us we may read changed bytes or take
        // SIGBUS; like Suricata and tcpdump we accept that for capture files,
        // which nobody should be editing while they are analysed.
        let map = unsafe { Mmap::map(file) }.map_err(io)?;
        // Purely a hint; reading works the same without it.
        #[cfg(unix)]
        let _ = map.advise(Advice::Sequential);
        Ok(MmapSource {
            inner: MemSource::new(map)?,
            released: 0,
        })
    }

    #[cold]
    fn release_behind(&mut self) {
        let upto = self.inner.pos / RELEASE_ALIGN * RELEASE_ALIGN;
        if upto <= self.released {
            return;
        }
        #[cfg(unix)]
        // SAFETY: `&mut self` proves no RawPacket borrowing the map is alive,
        // and the range lies wholly before the cursor, which never moves
        // back. For a shared read-only file mapping DONTNEED only drops our
        // page-table entries; a later touch would re-read the file, so even a
        // stray access would see the file's bytes, not freed memory.
        let _ = unsafe {
            self.inner.buf.unchecked_advise_range(
                UncheckedAdvice::DontNeed,
                self.released,
                upto - self.released,
            )
        };
        self.released = upto;
    }
}

impl PacketSource for MmapSource {
    #[inline]
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        if self.inner.pos.saturating_sub(self.released) >= RELEASE_CHUNK {
            self.release_behind();
        }
        self.inner.next_packet()
    }

    fn position(&self) -> u64 {
        self.inner.position()
    }

    fn total_len(&self) -> Option<u64> {
        self.inner.total_len()
    }
}
