//! Reading records back, in sequence order, for batches.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::format::{self, Skip, HEADER, MAGIC};
use super::{Hint, Spool, SpoolError};

/// One sequence as the spool holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Record {
        seq: u64,
        payload: Vec<u8>,
    },
    /// The sequence was assigned but its bytes are damaged or missing; `location` is
    /// `file:offset` of the damage. It must still reach the hub (as a marker) so that the
    /// hub's watermark can pass it and the loss is visible there.
    Lost {
        seq: u64,
        location: String,
    },
}

impl Entry {
    pub fn seq(&self) -> u64 {
        match self {
            Entry::Record { seq, .. } | Entry::Lost { seq, .. } => *seq,
        }
    }
}

/// Reads a file through a window of whole chunks, so a batch costs a few system calls.
struct Window {
    file: File,
    start: u64,
    buf: Vec<u8>,
}

const CHUNK: usize = 1 << 20;

impl Window {
    fn get(&mut self, off: u64, len: usize) -> std::io::Result<Option<&[u8]>> {
        let end = off + len as u64;
        if off < self.start || end > self.start + self.buf.len() as u64 {
            self.start = off;
            self.buf.clear();
            self.file.seek(SeekFrom::Start(off))?;
            (&mut self.file)
                .take(len.max(CHUNK) as u64)
                .read_to_end(&mut self.buf)?;
        }
        let lo = (off - self.start) as usize;
        Ok(self.buf.get(lo..lo + len))
    }
}

struct Limits {
    max_records: usize,
    max_bytes: usize,
}

struct Out {
    entries: Vec<Entry>,
    bytes: usize,
    want: u64,
}

impl Out {
    fn full(&self, l: &Limits) -> bool {
        self.entries.len() >= l.max_records
            || (self.bytes >= l.max_bytes && !self.entries.is_empty())
    }
    fn lost(&mut self, seq: u64, location: String) {
        self.bytes += location.len();
        self.entries.push(Entry::Lost { seq, location });
        self.want = seq + 1;
    }
}

enum SegRead {
    Done,
    /// Damage found while reading: the segment was rescanned, read it again.
    Again,
}

impl Spool {
    /// Up to `max_records` entries from `from` on (never below the acknowledged watermark),
    /// stopping once `max_bytes` of payload is reached (at least one entry is returned when
    /// any is readable). Only durable records are returned; unsynced ones are synced first.
    pub fn read_from(
        &mut self,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Entry>, SpoolError> {
        if self.durable_seq + 1 < self.next_seq {
            if let Err(e) = self.commit(true) {
                // A full disk must not stop shipping: what is durable still goes out, and
                // the acknowledgements it earns are what frees space.
                tracing::warn!("spool: cannot sync before reading: {e}");
            }
        }
        let lim = Limits {
            max_records: max_records.max(1),
            max_bytes,
        };
        let mut out = Out {
            entries: Vec::new(),
            bytes: 0,
            want: from.max(self.acked + 1),
        };
        let mut rescans = 0;
        while out.want <= self.durable_seq && !out.full(&lim) {
            let idx = self.segments.partition_point(|s| s.first_seq <= out.want);
            if idx == 0 {
                let upto = self
                    .segments
                    .first()
                    .map_or(self.durable_seq, |s| s.first_seq - 1);
                self.lost_run(&mut out, &lim, upto);
                continue;
            }
            let i = idx - 1;
            if out.want > self.segments[i].last_seq {
                let upto = self
                    .segments
                    .get(i + 1)
                    .map_or(self.durable_seq, |s| s.first_seq - 1);
                self.lost_run(&mut out, &lim, upto);
                continue;
            }
            match self.read_segment(i, &mut out, &lim)? {
                SegRead::Done => {}
                SegRead::Again => {
                    rescans += 1;
                    if rescans > 3 {
                        let seg = &self.segments[i];
                        return Err(SpoolError::io(
                            &seg.path,
                            std::io::Error::other("segment reads differently on every pass"),
                        ));
                    }
                }
            }
        }
        Ok(out.entries)
    }

    fn lost_run(&self, out: &mut Out, lim: &Limits, upto: u64) {
        let upto = upto.min(self.durable_seq);
        let at = format!("{}:0 (no segment holds it)", self.dir.display());
        while out.want <= upto && !out.full(lim) {
            out.lost(out.want, at.clone());
        }
    }

    fn read_segment(
        &mut self,
        i: usize,
        out: &mut Out,
        lim: &Limits,
    ) -> Result<SegRead, SpoolError> {
        let seg = &self.segments[i];
        let (first_seq, last_seq, len) =
            (seg.first_seq, seg.last_seq.min(self.durable_seq), seg.len);
        let path = seg.path.clone();
        let skips = seg.skips.clone();
        let (mut pos, mut expect) = match self.hint {
            Some(h) if h.first_seq == first_seq && h.seq == out.want => (h.offset, h.seq),
            _ => (MAGIC.len() as u64, first_seq),
        };
        let file = File::open(&path).map_err(|e| SpoolError::io(&path, e))?;
        let mut w = Window {
            file,
            start: 0,
            buf: Vec::new(),
        };
        let mut si = skips.partition_point(|s| s.start < pos);
        let mut resumable = true;
        while expect <= last_seq && !out.full(lim) {
            if let Some(skip) = skips.get(si).filter(|s| s.start == pos) {
                if let Some(r) = &skip.lost {
                    let at = format!("{}:{}", path.display(), skip.start);
                    for s in r.clone() {
                        if s >= out.want && s <= last_seq {
                            if out.full(lim) {
                                resumable = false;
                                break;
                            }
                            out.lost(s, at.clone());
                        }
                    }
                    expect = r.end() + 1;
                }
                if !resumable {
                    break;
                }
                pos = skip.resume;
                si += 1;
                continue;
            }
            if pos >= len {
                break;
            }
            let rec = w
                .get(pos, HEADER)
                .map_err(|e| SpoolError::io(&path, e))?
                .and_then(format::header);
            let good = match rec {
                Some((plen, _, _)) => w
                    .get(pos, HEADER + plen)
                    .map_err(|e| SpoolError::io(&path, e))?
                    .and_then(format::record)
                    .filter(|(seq, _)| *seq == expect)
                    .map(|(seq, p)| (seq, p.to_vec())),
                None => None,
            };
            let Some((seq, payload)) = good else {
                self.rescan(i)?;
                return Ok(SegRead::Again);
            };
            pos += format::framed_len(payload.len());
            expect += 1;
            if seq >= out.want {
                out.bytes += payload.len();
                out.entries.push(Entry::Record { seq, payload });
                out.want = seq + 1;
            }
        }
        self.hint = (resumable && expect == out.want).then_some(Hint {
            first_seq,
            seq: expect,
            offset: pos,
        });
        Ok(SegRead::Done)
    }

    /// A record that was good went bad (bit rot, an outside write): find every damaged region
    /// of the segment again and report the new ones.
    fn rescan(&mut self, i: usize) -> Result<(), SpoolError> {
        let seg = &self.segments[i];
        let path = seg.path.clone();
        let data = std::fs::read(&path).map_err(|e| SpoolError::io(&path, e))?;
        // Bytes past `len` are not ours yet (a failed write being cut back).
        let data = &data[..(seg.len as usize).min(data.len())];
        let bound = self
            .segments
            .get(i + 1)
            .map_or(seg.last_seq + 1, |s| s.first_seq);
        let scan = format::scan(data, seg.first_seq, Some(bound));
        let known = seg.skips.clone();
        let fresh: Vec<Skip> = scan
            .skips
            .iter()
            .filter(|s| !known.iter().any(|k| k.start == s.start))
            .cloned()
            .collect();
        if fresh.is_empty() {
            return Err(SpoolError::io(
                &path,
                std::io::Error::other(
                    "a record failed its checksum but the rescan found no damage",
                ),
            ));
        }
        for s in &fresh {
            self.report(Path::new(&path), s);
        }
        self.segments[i].skips = scan.skips;
        self.hint = None;
        Ok(())
    }
}
