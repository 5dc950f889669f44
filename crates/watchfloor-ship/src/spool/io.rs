//! The write side of a segment behind a trait, so tests can inject a full disk or a failing
//! device without root, mounts or fault-injection tools.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

pub trait SegmentSink: Send {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    fn sync(&mut self) -> io::Result<()>;
    /// Cuts the file back to `len` bytes (drops a partial write).
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

pub trait SinkFactory: Send {
    /// Opens `path` for appending, creating it if needed.
    fn open(&mut self, path: &Path) -> io::Result<Box<dyn SegmentSink>>;
}

pub struct FileSink(File);

impl SegmentSink for FileSink {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

pub struct FileSinks;

impl SinkFactory for FileSinks {
    fn open(&mut self, path: &Path) -> io::Result<Box<dyn SegmentSink>> {
        // O_APPEND: after a set_len the next write lands at the new end, not at a stale cursor.
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Box::new(FileSink(f)))
    }
}

/// Makes a create, rename or unlink in `dir` survive power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
