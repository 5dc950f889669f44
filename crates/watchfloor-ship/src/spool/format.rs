//! On-disk framing of a segment file and the scanner that finds good records in one.
//!
//! ```text
//! segment := MAGIC record*
//! MAGIC   := "WFSPOOL1"                       (8 bytes)
//! record  := len:u32 crc:u32 seq:u64 payload  (little-endian, 16-byte header)
//! crc     := CRC-32 (IEEE) of seq's 8 bytes followed by the payload
//! ```
//! The CRC covers the sequence number too, so a flipped bit there cannot make a record
//! pose as another. Sequence numbers inside a segment are consecutive from the first one
//! (which is also in the file name), which is what lets the scanner name exactly which
//! sequences a damaged region held.

use std::ops::RangeInclusive;

pub const MAGIC: &[u8; 8] = b"WFSPOOL1";
pub const HEADER: usize = 16;
/// A record larger than this is refused at append, and a length field above it is damage.
pub const MAX_RECORD: usize = 16 << 20;

/// The definition (`encode` and `record` compute it in one pass over the framed bytes).
#[cfg(test)]
pub fn crc(seq: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(payload);
    h.finalize()
}

pub fn encode(seq: u64, payload: &[u8], out: &mut Vec<u8>) {
    // Callers check MAX_RECORD first, so the length fits in u32.
    let at = out.len();
    out.reserve(HEADER + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
    // The sequence and the payload now lie side by side: one CRC pass over both (the same
    // value as `crc`), then the CRC goes into its slot.
    let c = crc32fast::hash(&out[at + 8..]);
    out[at + 4..at + 8].copy_from_slice(&c.to_le_bytes());
}

pub fn framed_len(payload_len: usize) -> u64 {
    (HEADER + payload_len) as u64
}

/// The header fields at the start of `buf`, if a whole header is there and its length is sane.
pub fn header(buf: &[u8]) -> Option<(usize, u32, u64)> {
    let h: &[u8; HEADER] = buf.get(..HEADER)?.try_into().ok()?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    let seq = u64::from_le_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
    (len <= MAX_RECORD).then_some((len, crc, seq))
}

/// A whole, checksum-valid record at the start of `buf`: (seq, payload).
pub fn record(buf: &[u8]) -> Option<(u64, &[u8])> {
    let (len, c, seq) = header(buf)?;
    let payload = buf.get(HEADER..HEADER + len)?;
    // The sequence's bytes and the payload are contiguous: one pass, same value as `crc`.
    (crc32fast::hash(&buf[8..HEADER + len]) == c).then_some((seq, payload))
}

/// A damaged region of a segment: bytes `start..resume` hold nothing readable, and the
/// sequences in `lost` (possibly none, when only garbage was inserted) are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub start: u64,
    pub resume: u64,
    pub lost: Option<RangeInclusive<u64>>,
}

#[derive(Debug, Default)]
pub struct Scan {
    /// Offset just past the last good record (or the magic).
    pub end: u64,
    /// Highest good sequence, or `first_seq - 1` when the segment holds none.
    pub last_seq: u64,
    pub skips: Vec<Skip>,
    /// Where unreadable bytes run to the end of the last segment: a write torn by a crash.
    pub torn_at: Option<u64>,
    pub bad_magic: bool,
}

fn lost(from: u64, to_exclusive: u64) -> Option<RangeInclusive<u64>> {
    (to_exclusive > from).then(|| from..=to_exclusive - 1)
}

/// Finds every good record of one segment.
///
/// `next_first` is the first sequence of the following segment (None for the last one); it
/// bounds what a damaged tail can have held. In the last segment unreadable bytes that run to
/// the end are a torn write (never synced, so never shipped); anywhere else they are damage.
pub fn scan(data: &[u8], first_seq: u64, next_first: Option<u64>) -> Scan {
    let is_last = next_first.is_none();
    let mut s = Scan {
        last_seq: first_seq.saturating_sub(1),
        ..Scan::default()
    };
    let mut pos = MAGIC.len();
    if data.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        s.bad_magic = data.len() >= MAGIC.len();
        if is_last {
            s.torn_at = Some(0);
            return s;
        }
        // Keep looking: the records after a damaged magic are still good.
        if data.len() < MAGIC.len() {
            pos = data.len();
        }
    }
    let mut expected = first_seq;
    while pos < data.len() {
        match record(&data[pos..]) {
            Some((seq, payload)) if seq == expected => {
                pos += HEADER + payload.len();
                expected += 1;
            }
            _ => {
                let upper = next_first.unwrap_or(expected.saturating_add(1 << 32));
                match find_next(data, pos + 1, expected, upper) {
                    Some((p2, seq2)) => {
                        s.skips.push(Skip {
                            start: pos as u64,
                            resume: p2 as u64,
                            lost: lost(expected, seq2),
                        });
                        pos = p2;
                        expected = seq2;
                    }
                    None if is_last => {
                        s.torn_at = Some(pos as u64);
                        break;
                    }
                    None => {
                        s.skips.push(Skip {
                            start: pos as u64,
                            resume: data.len() as u64,
                            lost: lost(expected, upper),
                        });
                        expected = upper;
                        pos = data.len();
                    }
                }
            }
        }
    }
    if let Some(nf) = next_first {
        if expected < nf {
            // The segment ends cleanly but short of the next one: records (or a whole
            // segment file) are missing.
            s.skips.push(Skip {
                start: pos as u64,
                resume: pos as u64,
                lost: lost(expected, nf),
            });
            expected = nf;
        }
    }
    s.end = s.torn_at.unwrap_or(pos as u64).max(MAGIC.len() as u64);
    if s.bad_magic {
        s.end = s.end.max(pos as u64);
    }
    s.last_seq = expected.saturating_sub(1);
    s
}

/// The next offset at or after `from` holding a good record with a sequence in
/// `min_seq..upper`. The sequence bound makes a false match need a CRC collision at a
/// plausible sequence number, and keeps the CRC off most candidate offsets.
fn find_next(data: &[u8], from: usize, min_seq: u64, upper: u64) -> Option<(usize, u64)> {
    (from..data.len().saturating_sub(HEADER - 1)).find_map(|p| {
        let (_, _, seq) = header(&data[p..])?;
        if seq < min_seq || seq >= upper {
            return None;
        }
        record(&data[p..]).map(|(seq, _)| (p, seq))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(first: u64, payloads: &[&[u8]]) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        for (i, p) in payloads.iter().enumerate() {
            encode(first + i as u64, p, &mut v);
        }
        v
    }

    #[test]
    fn one_pass_crc_matches_the_definition() {
        let mut v = Vec::new();
        encode(0x0102_0304_0506_0708, b"{\"a\":1}", &mut v);
        assert_eq!(
            &v[4..8],
            &crc(0x0102_0304_0506_0708, b"{\"a\":1}").to_le_bytes()
        );
        assert_eq!(record(&v), Some((0x0102_0304_0506_0708, &b"{\"a\":1}"[..])));
    }

    #[test]
    fn clean_segment() {
        let d = segment(10, &[b"a", b"bb", b"ccc"]);
        let s = scan(&d, 10, None);
        assert_eq!((s.end, s.last_seq, s.torn_at), (d.len() as u64, 12, None));
        assert!(s.skips.is_empty());
    }

    #[test]
    fn torn_tail_only_in_last_segment() {
        let mut d = segment(1, &[b"one", b"two"]);
        let good = d.len();
        encode(3, b"three-torn", &mut d);
        d.truncate(d.len() - 4);
        let s = scan(&d, 1, None);
        assert_eq!((s.torn_at, s.last_seq), (Some(good as u64), 2));
        let s = scan(&d, 1, Some(4));
        assert_eq!(s.torn_at, None);
        assert_eq!(s.skips.len(), 1);
        assert_eq!(s.skips[0].lost, Some(3..=3));
        assert_eq!(s.last_seq, 3);
    }

    #[test]
    fn bad_crc_in_the_middle_is_skipped_and_named() {
        let mut d = segment(5, &[b"first", b"second", b"third"]);
        let second = MAGIC.len() + HEADER + 5;
        d[second + HEADER + 1] ^= 0x40;
        let s = scan(&d, 5, None);
        assert_eq!(s.torn_at, None);
        assert_eq!(s.last_seq, 7);
        assert_eq!(
            s.skips,
            vec![Skip {
                start: second as u64,
                resume: (second + HEADER + 6) as u64,
                lost: Some(6..=6)
            }]
        );
    }

    #[test]
    fn corrupted_length_resyncs_on_the_next_record() {
        let mut d = segment(1, &[b"aaaa", b"bbbb", b"cccc", b"dddd"]);
        let second = MAGIC.len() + HEADER + 4;
        d[second..second + 4].copy_from_slice(&1000u32.to_le_bytes());
        let s = scan(&d, 1, None);
        assert_eq!(s.skips.len(), 1);
        assert_eq!(s.skips[0].lost, Some(2..=2));
        assert_eq!(s.last_seq, 4);
    }
}
