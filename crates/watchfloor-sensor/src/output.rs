//! EVE output: workers render records into their own buffers and hand whole
//! chunks of complete lines to one writer, so lines never interleave and the
//! hot path takes no lock per record.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;
use watchfloor_eve::EveRecord;

/// Chunk size at which a worker hands its lines to the writer.
pub const FLUSH_AT: usize = 256 * 1024;

#[derive(Debug, Error)]
pub enum OutputError {
    #[error("cannot create log directory {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Receives every chunk of complete EVE lines (each ending in `\n`) in the order they go to
/// eve.json, under the file's lock: the shipper's spool hooks in here. It handles its own
/// errors (a full spool must not stop eve.json).
pub trait LineSink: Send + Sync {
    fn write_lines(&self, chunk: &[u8]);
}

/// The eve.json file, shared by all workers.
pub struct EveFile {
    path: PathBuf,
    inner: Mutex<BufWriter<File>>,
    sink: Option<Arc<dyn LineSink>>,
}

impl EveFile {
    /// Creates `dir/filename` (truncating an earlier run's file, as Suricata does).
    pub fn create(dir: &Path, filename: &str) -> Result<EveFile, OutputError> {
        std::fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join(filename);
        let f = File::create(&path).map_err(|source| OutputError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(EveFile {
            path,
            inner: Mutex::new(BufWriter::with_capacity(1 << 20, f)),
            sink: None,
        })
    }

    /// Also hands every chunk to `sink`.
    pub fn with_sink(mut self, sink: Option<Arc<dyn LineSink>>) -> Self {
        self.sink = sink;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends whole lines.
    pub fn write_chunk(&self, chunk: &[u8]) -> Result<(), OutputError> {
        if chunk.is_empty() {
            return Ok(());
        }
        // A poisoned lock only means another worker panicked mid-write; the
        // buffer itself is still a valid writer, so keep going.
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        w.write_all(chunk).map_err(|source| OutputError::Write {
            path: self.path.display().to_string(),
            source,
        })?;
        if let Some(s) = &self.sink {
            s.write_lines(chunk);
        }
        Ok(())
    }

    pub fn flush(&self) -> Result<(), OutputError> {
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        w.flush().map_err(|source| OutputError::Write {
            path: self.path.display().to_string(),
            source,
        })
    }
}

/// A worker's pending lines, plus counts per event type for the summary.
#[derive(Default)]
pub struct EveBuffer {
    pub buf: Vec<u8>,
    pub counts: std::collections::BTreeMap<&'static str, u64>,
}

impl EveBuffer {
    pub fn push(&mut self, rec: &EveRecord) {
        rec.write_line(&mut self.buf);
        *self.counts.entry(rec.event_type).or_default() += 1;
    }

    /// Hands the lines to `file` once enough have gathered (or always, with `force`).
    pub fn drain_to(&mut self, file: Option<&EveFile>, force: bool) -> Result<(), OutputError> {
        if force || self.buf.len() >= FLUSH_AT {
            if let Some(f) = file {
                f.write_chunk(&self.buf)?;
            }
            self.buf.clear();
        }
        Ok(())
    }
}
