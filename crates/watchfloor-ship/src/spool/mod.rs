//! Append-only disk spool: every EVE record gets its sequence number here and stays on disk
//! until the hub acknowledges it. The segment format is in `format.rs`; the choices are in
//! the crate's README.
//!
//! The rule that keeps "exactly once" across power loss: a record is readable for shipping
//! only once it is durable (fsynced). Otherwise a power cut could forget a sequence the hub
//! already holds, the spool would hand that number to a new event, and the hub would drop the
//! new event as a replay.

mod format;
mod io;
mod read;
mod recover;
mod state;
#[cfg(test)]
mod tests;

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

pub use format::{MAGIC, MAX_RECORD};
pub use io::{SegmentSink, SinkFactory};
pub use read::{Entry, EntryRef, Records};

use format::Skip;
use io::FileSinks;

/// When appended records are fsynced. Whatever the policy, records are synced before the
/// shipper may read them (see the module docs), so it trades intake latency, not safety.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Every `append` (and every `append_many` call) returns only once durable.
    Always,
    /// After every N records.
    EveryN(u64),
    /// At the first append at least this many milliseconds after the last sync.
    Interval(u64),
    /// Only when the shipper reads, a segment rolls, or the spool closes.
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolConfig {
    pub fsync: Fsync,
    /// A segment rolls over before it would grow past this.
    pub segment_bytes: u64,
    /// Intake stops with `SpoolError::Full` before the spool's files would grow past this.
    pub max_total_bytes: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            fsync: Fsync::Interval(100),
            segment_bytes: 64 << 20,
            max_total_bytes: 4 << 30,
        }
    }
}

#[derive(Debug, Error)]
pub enum SpoolError {
    #[error(
        "spool {dir} is full: {reason}. Intake is stopped; everything already spooled is kept \
         and ships as the hub acknowledges it; appends resume once space is freed"
    )]
    Full { dir: String, reason: String },
    #[error("spool I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "spool state file {path} is unreadable ({reason}); refusing to guess the next sequence \
         number, which could make the hub drop new events as replays"
    )]
    State { path: String, reason: String },
    #[error("record of {len} bytes exceeds the spool's per-record limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("hub acknowledged sequence {ack}, but the spool has only written up to {durable}")]
    AckBeyondEnd { ack: u64, durable: u64 },
}

impl SpoolError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        SpoolError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A damaged region found in a segment: reported once, counted, and shipped to the hub as a
/// loss marker per lost sequence, so nothing disappears silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    pub file: PathBuf,
    pub offset: u64,
    /// The sequences the region held (None when it held only stray bytes).
    pub lost: Option<RangeInclusive<u64>>,
}

impl Corruption {
    pub fn location(&self) -> String {
        format!("{}:{}", self.file.display(), self.offset)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpoolStats {
    /// Sequences assigned but not yet acknowledged by the hub.
    pub depth_records: u64,
    /// Bytes of the spool's segment files plus records not yet written to them.
    pub depth_bytes: u64,
    pub segments: usize,
    /// Unacknowledged sequences lost to damage (each also reported and shipped as a marker).
    pub corrupt_skipped: u64,
    pub next_seq: u64,
    pub acked: u64,
    /// Highest sequence fsynced: the shipper reads up to here.
    pub durable_seq: u64,
}

struct Segment {
    first_seq: u64,
    /// Highest sequence written to the file (`first_seq - 1` when none).
    last_seq: u64,
    path: PathBuf,
    /// Bytes on disk.
    len: u64,
    skips: Vec<Skip>,
}

/// Where the last read stopped, so sequential batch reads do not rescan a segment.
#[derive(Clone, Copy)]
struct Hint {
    first_seq: u64,
    seq: u64,
    offset: u64,
}

/// Below this, appends are gathered in memory and written in one system call.
const BUF_CAP: usize = 256 << 10;

pub struct Spool {
    dir: PathBuf,
    cfg: SpoolConfig,
    sinks: Box<dyn SinkFactory>,
    segments: Vec<Segment>,
    /// Writer of `segments.last()`; None when the next append must start a new segment.
    active: Option<Box<dyn SegmentSink>>,
    buf: Vec<u8>,
    next_seq: u64,
    flushed_seq: u64,
    durable_seq: u64,
    unsynced: u64,
    last_sync: Instant,
    acked: u64,
    /// The `acked` the state file holds. The state is written only before a trim (which is
    /// what needs it) and at close: after a crash a lower watermark only means resending
    /// what the hub already holds, which it ignores (ingest is idempotent by sequence).
    persisted_acked: u64,
    total_bytes: u64,
    corrupt_skipped: u64,
    corruptions: Vec<Corruption>,
    hint: Option<Hint>,
    /// The last write failed: intake stays stopped until a retry of it succeeds, rather than
    /// piling records up in memory behind a full disk.
    stalled: bool,
}

fn segment_name(first_seq: u64) -> String {
    format!("spool-{first_seq:020}.seg")
}

fn is_no_space(e: &std::io::Error) -> bool {
    // ENOSPC and EDQUOT: both mean "free space first", not "the device is failing".
    e.kind() == std::io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(28 | 122))
}

impl Spool {
    /// Opens (creating if needed) the spool in `dir` and recovers from whatever a crash left.
    pub fn open(dir: impl AsRef<Path>, cfg: SpoolConfig) -> Result<Spool, SpoolError> {
        Self::open_with(dir.as_ref(), cfg, Box::new(FileSinks))
    }

    /// Like `open`, writing segments through `sinks` (tests inject failing devices here).
    pub fn open_with(
        dir: &Path,
        cfg: SpoolConfig,
        sinks: Box<dyn SinkFactory>,
    ) -> Result<Spool, SpoolError> {
        recover::open(dir, cfg, sinks)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one record and returns its sequence number. On error the record was not
    /// accepted and its number will be given to the next record.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, SpoolError> {
        let seq = self.push(payload)?;
        let sync_now = match self.cfg.fsync {
            Fsync::Always => true,
            Fsync::EveryN(n) => self.unsynced >= n.max(1),
            Fsync::Interval(ms) => self.last_sync.elapsed() >= Duration::from_millis(ms),
            Fsync::Never => false,
        };
        if sync_now {
            if let Err(e) = self.commit(true) {
                if self.cfg.fsync == Fsync::Always {
                    // The record is still only in the buffer (commit keeps it on failure):
                    // take it back so "Ok" keeps meaning "durable".
                    self.unpush(payload.len());
                    return Err(e);
                }
                // Accepted; it stays buffered and the next sync writes it.
                tracing::warn!("spool sync deferred: {e}");
            }
        }
        Ok(seq)
    }

    /// Appends records in order and returns the sequences given to those accepted. When
    /// `error` is set, intake stopped there; with `Fsync::Always` an error from the final
    /// sync leaves the accepted records buffered until the next successful sync.
    pub fn append_many<I, P>(&mut self, payloads: I) -> AppendMany
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let start = self.next_seq;
        let mut error = None;
        for p in payloads {
            let r = if self.cfg.fsync == Fsync::Always {
                self.push(p.as_ref()).map(|_| ())
            } else {
                self.append(p.as_ref()).map(|_| ())
            };
            if let Err(e) = r {
                error = Some(e);
                break;
            }
        }
        if self.cfg.fsync == Fsync::Always && self.next_seq > start {
            if let Err(e) = self.commit(true) {
                error.get_or_insert(e);
            }
        }
        AppendMany {
            seqs: start..self.next_seq,
            error,
        }
    }

    /// Writes and fsyncs everything appended so far.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        self.commit(true)
    }

    /// Records that the hub durably stores every sequence up to `upto`, and deletes the
    /// segments that hold nothing above it.
    pub fn ack(&mut self, upto: u64) -> Result<(), SpoolError> {
        if upto <= self.acked {
            return Ok(());
        }
        if upto > self.durable_seq {
            return Err(SpoolError::AckBeyondEnd {
                ack: upto,
                durable: self.durable_seq,
            });
        }
        self.acked = upto;
        if self.trimmable() {
            // Before any segment goes: with every segment trimmed, the state file alone
            // keeps the numbering monotonic, and a first segment above the stored watermark
            // would read as damage at the next open.
            self.write_state()?;
            self.trim()?;
        }
        Ok(())
    }

    /// Gives up records accepted into the write buffer that a failed write (full disk) left
    /// unwritten, and returns how many: their sequences go to the next records, so the hub
    /// never sees a hole. For a clean close when the disk stays full; the caller reports them.
    pub fn discard_unwritten(&mut self) -> u64 {
        if self.commit(true).is_ok() {
            return 0;
        }
        let n = (self.next_seq - 1).saturating_sub(self.flushed_seq);
        self.total_bytes = self.total_bytes.saturating_sub(self.buf.len() as u64);
        self.buf.clear();
        self.next_seq = self.flushed_seq + 1;
        self.unsynced = self.unsynced.saturating_sub(n);
        self.stalled = false;
        n
    }

    pub fn stats(&self) -> SpoolStats {
        SpoolStats {
            depth_records: (self.next_seq - 1).saturating_sub(self.acked),
            depth_bytes: self.total_bytes,
            segments: self.segments.len(),
            corrupt_skipped: self.corrupt_skipped,
            next_seq: self.next_seq,
            acked: self.acked,
            durable_seq: self.durable_seq,
        }
    }

    /// Every damaged region found since the spool was opened.
    pub fn corruptions(&self) -> &[Corruption] {
        &self.corruptions
    }

    pub fn acked(&self) -> u64 {
        self.acked
    }

    fn full(&self, reason: String) -> SpoolError {
        SpoolError::Full {
            dir: self.dir.display().to_string(),
            reason,
        }
    }

    fn write_error(&self, path: &Path, e: std::io::Error) -> SpoolError {
        if is_no_space(&e) {
            self.full(format!("writing {}: {e}", path.display()))
        } else {
            SpoolError::io(path, e)
        }
    }

    /// Frames one record into the buffer, starting or rolling a segment as needed.
    fn push(&mut self, payload: &[u8]) -> Result<u64, SpoolError> {
        if payload.len() > MAX_RECORD {
            return Err(SpoolError::TooLarge {
                len: payload.len(),
                max: MAX_RECORD,
            });
        }
        if self.stalled {
            self.commit(false)?;
        }
        let rec = format::framed_len(payload.len());
        if self.total_bytes + rec > self.cfg.max_total_bytes {
            return Err(self.full(format!(
                "{} of max_total_bytes {} in use, the next record needs {rec}",
                self.total_bytes, self.cfg.max_total_bytes
            )));
        }
        if let (Some(_), Some(seg)) = (&self.active, self.segments.last()) {
            let holds_records = self.next_seq > seg.first_seq;
            if holds_records && seg.len + self.buf.len() as u64 + rec > self.cfg.segment_bytes {
                self.commit(true)?;
                self.active = None;
            }
        }
        if self.active.is_none() {
            self.start_segment()?;
        }
        if !self.buf.is_empty() && self.buf.len() + rec as usize > BUF_CAP {
            self.commit(false)?;
        }
        let seq = self.next_seq;
        format::encode(seq, payload, &mut self.buf);
        self.next_seq += 1;
        self.unsynced += 1;
        self.total_bytes += rec;
        Ok(seq)
    }

    fn unpush(&mut self, payload_len: usize) {
        let rec = format::framed_len(payload_len);
        self.buf.truncate(self.buf.len() - rec as usize);
        self.next_seq -= 1;
        self.unsynced -= 1;
        self.total_bytes -= rec;
    }

    fn start_segment(&mut self) -> Result<(), SpoolError> {
        let first = self.next_seq;
        let path = self.dir.join(segment_name(first));
        let mut sink = self
            .sinks
            .open(&path)
            .map_err(|e| self.write_error(&path, e))?;
        let r = sink
            .set_len(0)
            .and_then(|_| sink.write_all(MAGIC))
            .and_then(|_| sink.sync())
            .and_then(|_| io::sync_dir(&self.dir));
        if let Err(e) = r {
            let _ = std::fs::remove_file(&path);
            return Err(self.write_error(&path, e));
        }
        self.total_bytes += MAGIC.len() as u64;
        self.segments.push(Segment {
            first_seq: first,
            last_seq: first - 1,
            path,
            len: MAGIC.len() as u64,
            skips: Vec::new(),
        });
        self.active = Some(sink);
        Ok(())
    }

    /// Writes the buffer to the active segment (and fsyncs when `sync`). On failure the file
    /// is cut back to what it held before and the buffer kept, so a full disk leaves no torn
    /// record behind and the next commit retries the same bytes.
    fn commit(&mut self, sync: bool) -> Result<(), SpoolError> {
        let (Some(sink), Some(seg)) = (self.active.as_mut(), self.segments.last_mut()) else {
            return Ok(());
        };
        if self.buf.is_empty() && (!sync || self.durable_seq == self.flushed_seq) {
            return Ok(());
        }
        let before = seg.len;
        let mut r = sink.write_all(&self.buf);
        if r.is_ok() && sync {
            r = sink.sync();
        }
        if let Err(e) = r {
            let path = seg.path.clone();
            if let Err(e2) = sink.set_len(before) {
                tracing::error!("cannot cut {} back to {before} bytes: {e2}", path.display());
            }
            self.stalled = true;
            return Err(self.write_error(&path, e));
        }
        seg.len += self.buf.len() as u64;
        self.buf.clear();
        self.stalled = false;
        self.flushed_seq = self.next_seq - 1;
        seg.last_seq = self.flushed_seq;
        if sync {
            self.durable_seq = self.flushed_seq;
            self.unsynced = 0;
            self.last_sync = Instant::now();
        }
        Ok(())
    }

    fn write_state(&mut self) -> Result<(), SpoolError> {
        state::store(
            &self.dir,
            state::State {
                next_seq: self.durable_seq + 1,
                acked: self.acked,
            },
        )?;
        self.persisted_acked = self.acked;
        Ok(())
    }

    /// The last sequence the first segment accounts for, when it may be deleted now.
    fn first_trimmable(&self) -> Option<u64> {
        let seg = self.segments.first()?;
        let last = match self.segments.get(1) {
            Some(next) => next.first_seq - 1,
            // The active segment goes only once nothing is buffered or unsynced for it.
            None if self.buf.is_empty() && self.flushed_seq == self.durable_seq => seg.last_seq,
            None => return None,
        };
        (last <= self.acked).then_some(last)
    }

    fn trimmable(&self) -> bool {
        self.first_trimmable().is_some()
    }

    /// Deletes leading segments whose every sequence is acknowledged. The state file must
    /// already hold `acked` (see `ack`).
    fn trim(&mut self) -> Result<(), SpoolError> {
        let mut removed = false;
        while let Some(seg) = self.segments.first() {
            if self.first_trimmable().is_none() {
                break;
            }
            if self.segments.len() == 1 {
                self.active = None;
            }
            match std::fs::remove_file(&seg.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(SpoolError::io(&seg.path, e)),
            }
            self.total_bytes = self.total_bytes.saturating_sub(seg.len);
            if self.hint.is_some_and(|h| h.first_seq == seg.first_seq) {
                self.hint = None;
            }
            self.segments.remove(0);
            removed = true;
        }
        if removed {
            io::sync_dir(&self.dir).map_err(|e| SpoolError::io(&self.dir, e))?;
        }
        Ok(())
    }

    fn report(&mut self, file: &Path, skip: &Skip) {
        let unacked = skip.lost.as_ref().map_or(0, |r| {
            r.end().saturating_sub((*r.start()).max(self.acked + 1) - 1)
        });
        let c = Corruption {
            file: file.to_path_buf(),
            offset: skip.start,
            lost: skip.lost.clone(),
        };
        tracing::error!(
            "spool corruption at {}: bytes {}..{} unreadable, sequences {:?} lost ({} not yet \
             acknowledged); skipped and reported to the hub as loss markers",
            c.location(),
            skip.start,
            skip.resume,
            skip.lost,
            unacked
        );
        self.corrupt_skipped += unacked;
        self.corruptions.push(c);
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Err(e) = self.commit(true) {
            tracing::error!("spool close: buffered records not written: {e}");
        }
        if self.acked > self.persisted_acked {
            if let Err(e) = self.write_state() {
                tracing::warn!(
                    "spool close: acknowledged watermark not saved ({e}); the next start \
                     resends from the last saved one, which the hub ignores as duplicates"
                );
            }
        }
    }
}

/// What `append_many` did.
#[derive(Debug)]
pub struct AppendMany {
    pub seqs: std::ops::Range<u64>,
    pub error: Option<SpoolError>,
}
