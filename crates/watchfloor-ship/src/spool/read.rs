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

/// Records read for one batch, in one reusable buffer: the file regions read are appended to
/// `data` and each record is a range of it, so a batch costs no allocation per record.
#[derive(Debug, Default)]
pub struct Records {
    data: Vec<u8>,
    items: Vec<Item>,
}

#[derive(Debug)]
enum Item {
    Record { seq: u64, start: usize, end: usize },
    Lost { seq: u64, location: String },
}

/// One sequence of [`Records`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRef<'a> {
    Record { seq: u64, payload: &'a [u8] },
    Lost { seq: u64, location: &'a str },
}

impl EntryRef<'_> {
    pub fn seq(&self) -> u64 {
        match self {
            EntryRef::Record { seq, .. } | EntryRef::Lost { seq, .. } => *seq,
        }
    }

    pub fn to_entry(&self) -> Entry {
        match *self {
            EntryRef::Record { seq, payload } => Entry::Record {
                seq,
                payload: payload.to_vec(),
            },
            EntryRef::Lost { seq, location } => Entry::Lost {
                seq,
                location: location.to_string(),
            },
        }
    }
}

impl Records {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.items.clear();
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<EntryRef<'_>> {
        Some(match self.items.get(i)? {
            Item::Record { seq, start, end } => match self.data.get(*start..*end) {
                Some(payload) => EntryRef::Record { seq: *seq, payload },
                // Cannot happen (ranges are taken from `data` as it grows); if it did, the
                // sequence still reaches the hub, as a loss marker, rather than vanish.
                None => EntryRef::Lost {
                    seq: *seq,
                    location: "spool read buffer (record range out of bounds)",
                },
            },
            Item::Lost { seq, location } => EntryRef::Lost {
                seq: *seq,
                location,
            },
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        (0..self.items.len()).filter_map(|i| self.get(i))
    }

    /// Payload bytes held (what `max_bytes` limits).
    pub fn payload_bytes(&self) -> usize {
        self.items
            .iter()
            .map(|i| match i {
                Item::Record { start, end, .. } => end - start,
                Item::Lost { location, .. } => location.len(),
            })
            .sum()
    }
}

/// Reads a file sequentially into the tail of the batch's buffer, in chunks, so a batch costs
/// a few system calls and its records are sliced out of the buffer in place.
struct Window {
    file: File,
    /// `data[base..]` holds the file from offset `base_off` on.
    base: usize,
    base_off: u64,
    /// Bytes of the file that are ours (past this, a failed write may be being cut back).
    len: u64,
}

const CHUNK: usize = 256 << 10;

impl Window {
    /// The index in `data` where `len` bytes at file offset `off` start, reading as needed;
    /// None when the file ends first.
    fn get(&mut self, data: &mut Vec<u8>, off: u64, len: usize) -> std::io::Result<Option<usize>> {
        let end = off + len as u64;
        let have_end = self.base_off + (data.len() - self.base) as u64;
        if off < self.base_off || off > have_end {
            // Not contiguous with what was read (a skip moved us): start a new region.
            self.base = data.len();
            self.base_off = off;
            self.file.seek(SeekFrom::Start(off))?;
        }
        let have_end = self.base_off + (data.len() - self.base) as u64;
        if end > have_end {
            let want = (end - have_end)
                .max(CHUNK as u64)
                .min(self.len.saturating_sub(have_end).max(end - have_end));
            let before = data.len();
            (&mut self.file).take(want).read_to_end(data)?;
            if data.len() - before < (end - have_end) as usize {
                return Ok(None);
            }
        }
        Ok(Some(self.base + (off - self.base_off) as usize))
    }
}

struct Limits {
    max_records: usize,
    max_bytes: usize,
}

struct Out<'r> {
    recs: &'r mut Records,
    bytes: usize,
    want: u64,
}

impl Out<'_> {
    fn full(&self, l: &Limits) -> bool {
        self.recs.items.len() >= l.max_records
            || (self.bytes >= l.max_bytes && !self.recs.items.is_empty())
    }
    fn lost(&mut self, seq: u64, location: String) {
        self.bytes += location.len();
        self.recs.items.push(Item::Lost { seq, location });
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
        let mut recs = Records::new();
        self.read_into(from, max_records, max_bytes, &mut recs)?;
        Ok(recs.iter().map(|e| e.to_entry()).collect())
    }

    /// `read_from` into a reusable buffer (cleared first): no allocation per record.
    pub fn read_into(
        &mut self,
        from: u64,
        max_records: usize,
        max_bytes: usize,
        recs: &mut Records,
    ) -> Result<(), SpoolError> {
        recs.clear();
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
            recs,
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
        Ok(())
    }

    fn lost_run(&self, out: &mut Out<'_>, lim: &Limits, upto: u64) {
        let upto = upto.min(self.durable_seq);
        let at = format!("{}:0 (no segment holds it)", self.dir.display());
        while out.want <= upto && !out.full(lim) {
            out.lost(out.want, at.clone());
        }
    }

    fn read_segment(
        &mut self,
        i: usize,
        out: &mut Out<'_>,
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
        // Starts empty; the first `get` opens a region where reading begins.
        let mut w = Window {
            file,
            base: out.recs.data.len(),
            base_off: 0,
            len,
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
            let data = &mut out.recs.data;
            let good = match w
                .get(data, pos, HEADER)
                .map_err(|e| SpoolError::io(&path, e))?
            {
                Some(at) => match format::header(&data[at..]) {
                    Some((plen, _, _)) => w
                        .get(data, pos, HEADER + plen)
                        .map_err(|e| SpoolError::io(&path, e))?
                        .and_then(|at| {
                            let (seq, p) = format::record(&data[at..])?;
                            (seq == expect).then_some((seq, at + HEADER, at + HEADER + p.len()))
                        }),
                    None => None,
                },
                None => None,
            };
            let Some((seq, start, end)) = good else {
                self.rescan(i)?;
                return Ok(SegRead::Again);
            };
            pos += format::framed_len(end - start);
            expect += 1;
            if seq >= out.want {
                out.bytes += end - start;
                out.recs.items.push(Item::Record { seq, start, end });
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
