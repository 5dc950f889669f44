//! One memory map of a capture file, shared by several threads: a reader
//! walks the records and hands out (offset, length) pairs, and workers read
//! the frames straight from the same map — no copies, and every page is
//! faulted in once, not once per thread.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
#[cfg(unix)]
use memmap2::{Advice, UncheckedAdvice};

use crate::source::MemSource;
use crate::{CaptureError, PacketSource, RawPacket};

/// Alignment of released ranges (a multiple of every page size in use).
const RELEASE_ALIGN: usize = 64 << 10;

/// A cheaply clonable handle on the mapped file.
#[derive(Debug, Clone)]
pub struct SharedMap(Arc<Mmap>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl SharedMap {
    /// The bytes at `offset..offset+len`, or `None` if that lies outside the file.
    pub fn get(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        self.0.get(start..start.checked_add(len)?)
    }
}

/// A capture file mapped once for several threads. Unlike [`crate::MmapSource`]
/// it never drops pages on its own: only the owner knows when every worker is
/// past them, and says so with [`SharedMmapSource::release_before`].
#[derive(Debug)]
pub struct SharedMmapSource {
    inner: MemSource<SharedMap>,
    map: SharedMap,
    released: usize,
}

impl SharedMmapSource {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let file = File::open(path).map_err(|source| CaptureError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let io = |source| CaptureError::Io { offset: 0, source };
        if file.metadata().map_err(io)?.len() == 0 {
            return Err(CaptureError::Empty);
        }
        // SAFETY: as for MmapSource: a read-only map whose every access is
        // bounds-checked; a capture file edited while being read may show
        // changed bytes or raise SIGBUS, which Suricata and tcpdump accept too.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        #[cfg(unix)]
        let _ = map.advise(Advice::Sequential);
        let map = SharedMap(Arc::new(map));
        Ok(SharedMmapSource {
            inner: MemSource::new(map.clone())?,
            map,
            released: 0,
        })
    }

    /// The map, for workers to read frames from by offset.
    pub fn map(&self) -> SharedMap {
        self.map.clone()
    }

    /// Byte offset of `data` (a slice of this map) from the start of the file.
    pub fn offset_of(&self, data: &[u8]) -> u64 {
        (data.as_ptr() as usize).wrapping_sub(self.map.0.as_ptr() as usize) as u64
    }

    /// Every thread is done with the bytes before `offset`: hand their pages
    /// back so resident memory stays flat however large the file.
    pub fn release_before(&mut self, offset: u64) {
        let upto = (usize::try_from(offset).unwrap_or(usize::MAX))
            .min(self.inner.position() as usize)
            / RELEASE_ALIGN
            * RELEASE_ALIGN;
        if upto <= self.released {
            return;
        }
        #[cfg(unix)]
        // SAFETY: for a shared read-only file mapping DONTNEED only drops
        // this process's page-table entries; a later touch by any thread
        // re-reads the file, so a thread still reading there sees the file's
        // bytes, never freed memory. The range lies within the map.
        let _ = unsafe {
            self.map.0.unchecked_advise_range(
                UncheckedAdvice::DontNeed,
                self.released,
                upto - self.released,
            )
        };
        self.released = upto;
    }
}

impl PacketSource for SharedMmapSource {
    #[inline]
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        self.inner.next_packet()
    }

    fn position(&self) -> u64 {
        self.inner.position()
    }

    fn total_len(&self) -> Option<u64> {
        self.inner.total_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LinkType;
    use crate::{PacketWriter, PcapWriter, TsResolution};

    #[test]
    fn frames_are_found_again_by_offset() {
        let mut w =
            PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535, TsResolution::Micro).unwrap();
        for i in 0..50u8 {
            w.write_packet(i64::from(i) * 1000, &vec![i; 60 + usize::from(i)], 0, 0)
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pcap");
        std::fs::write(&path, w.into_inner()).unwrap();
        let mut src = SharedMmapSource::open(&path).unwrap();
        let map = src.map();
        let mut seen = Vec::new();
        while let Some(p) = src.next_packet().unwrap() {
            let (ts, off, len) = (p.ts_ns, src_offset(&map, p.data), p.data.len());
            seen.push((ts, off, len));
        }
        src.release_before(u64::MAX);
        assert_eq!(seen.len(), 50);
        for (i, (_, off, len)) in seen.iter().enumerate() {
            let frame = map.get(*off, *len).unwrap();
            assert!(frame.iter().all(|b| usize::from(*b) == i));
        }
        assert!(map.get(u64::MAX, 1).is_none());
    }

    fn src_offset(map: &SharedMap, data: &[u8]) -> u64 {
        (data.as_ptr() as usize - map.0.as_ptr() as usize) as u64
    }
}
