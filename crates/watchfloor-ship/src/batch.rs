//! Batches: NDJSON of envelopes from the spool, zstd-compressed; and the hub's decoder.

use std::io::Read;
use thiserror::Error;

use crate::envelope::{self, Envelope, EnvelopeError, EnvelopeWriter};
use crate::spool::{Entry, EntryRef, Records, Spool, SpoolError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    pub max_records: usize,
    /// Uncompressed payload bytes; a single larger record still goes, alone.
    pub max_bytes: usize,
    /// 1 measured best on EVE lines (see README): level 3 saves little more and costs more CPU.
    pub zstd_level: i32,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_records: 5000,
            max_bytes: 4 << 20,
            zstd_level: 1,
        }
    }
}

/// A compressed body ready to send. Its sequences are consecutive, `first_seq..=last_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub first_seq: u64,
    pub last_seq: u64,
    pub records: usize,
    /// How many of them are loss markers for damaged or unshippable spool records.
    pub lost: usize,
    /// NDJSON size before compression.
    pub raw_len: usize,
    /// zstd frame of the NDJSON.
    pub body: Vec<u8>,
}

#[derive(Debug, Error)]
pub enum BatchError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("zstd: {0}")]
    Compress(std::io::Error),
    #[error("batch body is not a valid zstd frame: {0}")]
    Decompress(std::io::Error),
    #[error("batch decompresses to more than the limit of {max} bytes; refused")]
    TooLarge { max: usize },
    #[error("batch line {line}: {error}")]
    Line { line: usize, error: EnvelopeError },
}

/// How much of each record `build_records` checks before shipping it verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// [`envelope::check_framing`]: the NDJSON line stays intact; the hub parses the rest.
    Framing,
    /// [`envelope::validate_record`]: a full JSON parse of every record.
    Full,
}

pub struct BatchBuilder {
    writer: EnvelopeWriter,
    cfg: BatchConfig,
    ndjson: Vec<u8>,
    /// Kept across batches: a fresh zstd context per batch costs its tables' set-up.
    zstd: Option<zstd::bulk::Compressor<'static>>,
    records: Records,
}

impl BatchBuilder {
    pub fn new(sensor: &str, cfg: BatchConfig) -> Self {
        BatchBuilder {
            writer: EnvelopeWriter::new(sensor),
            cfg,
            ndjson: Vec::new(),
            zstd: None,
            records: Records::new(),
        }
    }

    pub fn config(&self) -> &BatchConfig {
        &self.cfg
    }

    /// The next batch to send: everything the hub has not acknowledged, from the oldest on.
    /// None when the spool has nothing durable beyond the acknowledged watermark.
    pub fn next_batch(&mut self, spool: &mut Spool) -> Result<Option<Batch>, BatchError> {
        let mut recs = std::mem::take(&mut self.records);
        let r = spool
            .read_into(
                spool.acked() + 1,
                self.cfg.max_records,
                self.cfg.max_bytes,
                &mut recs,
            )
            .map_err(BatchError::from)
            .and_then(|()| self.build_records(&recs, Check::Framing));
        self.records = recs;
        r
    }

    /// Envelopes and compresses `entries` (consecutive sequences, as the spool returns them),
    /// each record fully validated.
    pub fn build(&mut self, entries: &[Entry]) -> Result<Option<Batch>, BatchError> {
        self.build_iter(
            entries.iter().map(|e| match e {
                Entry::Record { seq, payload } => EntryRef::Record { seq: *seq, payload },
                Entry::Lost { seq, location } => EntryRef::Lost {
                    seq: *seq,
                    location,
                },
            }),
            Check::Full,
        )
    }

    /// `build` from the spool's reusable buffer, checking each record as `check` says.
    pub fn build_records(
        &mut self,
        recs: &Records,
        check: Check,
    ) -> Result<Option<Batch>, BatchError> {
        self.build_iter(recs.iter(), check)
    }

    fn build_iter<'a>(
        &mut self,
        entries: impl Iterator<Item = EntryRef<'a>>,
        check: Check,
    ) -> Result<Option<Batch>, BatchError> {
        self.ndjson.clear();
        let mut lost = 0;
        let mut span: Option<(u64, u64)> = None;
        let mut records = 0;
        for e in entries {
            span = Some((span.map_or(e.seq(), |s| s.0), e.seq()));
            records += 1;
            match e {
                EntryRef::Record { seq, payload } => {
                    let written = match check {
                        Check::Framing => self.writer.write_framed(seq, payload, &mut self.ndjson),
                        Check::Full => self.writer.write(seq, payload, &mut self.ndjson),
                    };
                    if let Err(err) = written {
                        // The hub must still hear of this sequence, or its watermark would
                        // stop here forever; the bytes go along as a lossy string.
                        tracing::error!("spool record {seq} cannot be shipped verbatim: {err}");
                        let raw = String::from_utf8_lossy(payload);
                        let m = marker(seq, &err.to_string(), None, Some(&raw));
                        self.writer.write_unchecked(seq, &m, &mut self.ndjson);
                        lost += 1;
                    }
                }
                EntryRef::Lost { seq, location } => {
                    let m = marker(seq, "spool record damaged or missing", Some(location), None);
                    self.writer.write_unchecked(seq, &m, &mut self.ndjson);
                    lost += 1;
                }
            }
        }
        let Some((first_seq, last_seq)) = span else {
            return Ok(None);
        };
        let zstd = match &mut self.zstd {
            Some(z) => z,
            None => self.zstd.insert(
                zstd::bulk::Compressor::new(self.cfg.zstd_level).map_err(BatchError::Compress)?,
            ),
        };
        let body = zstd.compress(&self.ndjson).map_err(BatchError::Compress)?;
        Ok(Some(Batch {
            first_seq,
            last_seq,
            records,
            lost,
            raw_len: self.ndjson.len(),
            body,
        }))
    }
}

/// The record shipped in place of one the spool lost: a valid EVE-shaped event (the hub
/// requires `timestamp` and `event_type`), so the loss is stored and visible at the hub.
fn marker(seq: u64, reason: &str, location: Option<&str>, raw: Option<&str>) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let mut ts = String::new();
    watchfloor_eve::format_timestamp(watchfloor_eve::Timestamp(now), &mut ts);
    let v = serde_json::json!({
        "timestamp": ts,
        "event_type": "watchfloor_spool_loss",
        "spool_loss": { "seq": seq, "reason": reason, "location": location, "raw": raw },
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// The hub side: decompresses a body, refusing to produce more than `max_bytes`.
pub fn decompress(body: &[u8], max_bytes: usize) -> Result<Vec<u8>, BatchError> {
    let dec = zstd::stream::read::Decoder::new(body).map_err(BatchError::Decompress)?;
    let mut out = Vec::new();
    // One byte more than allowed tells "exactly at the limit" from "over it" without ever
    // holding more than the limit.
    dec.take(max_bytes as u64 + 1)
        .read_to_end(&mut out)
        .map_err(BatchError::Decompress)?;
    if out.len() > max_bytes {
        return Err(BatchError::TooLarge { max: max_bytes });
    }
    Ok(out)
}

/// The hub side: every envelope of a decompressed batch, or the first bad line (1-based).
pub fn parse_ndjson(ndjson: &[u8]) -> Result<Vec<Envelope<'_>>, BatchError> {
    let body = ndjson.strip_suffix(b"\n").unwrap_or(ndjson);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            envelope::parse(line).map_err(|error| BatchError::Line { line: i + 1, error })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u64) -> Vec<Entry> {
        (1..=n)
            .map(|seq| Entry::Record {
                seq,
                payload: format!(r#"{{"timestamp":"2024-11-05T06:00:00.000000+0000","event_type":"flow","n":{seq}}}"#)
                    .into_bytes(),
            })
            .collect()
    }

    #[test]
    fn batch_round_trips() {
        let mut b = BatchBuilder::new("7", BatchConfig::default());
        let es = entries(100);
        let batch = b.build(&es).unwrap().unwrap();
        assert_eq!(
            (batch.first_seq, batch.last_seq, batch.records, batch.lost),
            (1, 100, 100, 0)
        );
        assert!(
            batch.body.len() < batch.raw_len / 4,
            "{} vs {}",
            batch.body.len(),
            batch.raw_len
        );
        let raw = decompress(&batch.body, 1 << 20).unwrap();
        assert_eq!(raw.len(), batch.raw_len);
        let envs = parse_ndjson(&raw).unwrap();
        for (env, e) in envs.iter().zip(&es) {
            let Entry::Record { seq, payload } = e else {
                unreachable!()
            };
            assert_eq!(
                (env.sensor.as_ref(), env.seq, env.event),
                ("7", *seq, payload.as_slice())
            );
        }
    }

    #[test]
    fn lost_and_invalid_records_become_markers() {
        let mut b = BatchBuilder::new("7", BatchConfig::default());
        let es = vec![
            Entry::Lost {
                seq: 4,
                location: "/s/spool-1.seg:120".into(),
            },
            Entry::Record {
                seq: 5,
                payload: b"not json".to_vec(),
            },
        ];
        let batch = b.build(&es).unwrap().unwrap();
        assert_eq!(batch.lost, 2);
        let raw = decompress(&batch.body, 1 << 20).unwrap();
        let envs = parse_ndjson(&raw).unwrap();
        let m: serde_json::Value = serde_json::from_slice(envs[0].event).unwrap();
        assert_eq!(m["event_type"], "watchfloor_spool_loss");
        assert_eq!(m["spool_loss"]["location"], "/s/spool-1.seg:120");
        let m: serde_json::Value = serde_json::from_slice(envs[1].event).unwrap();
        assert_eq!(m["spool_loss"]["raw"], "not json");
    }

    #[test]
    fn zip_bomb_is_refused() {
        let bomb = zstd::bulk::compress(&vec![b'{'; 8 << 20], 3).unwrap();
        assert!(bomb.len() < 4096);
        let e = decompress(&bomb, 1 << 20).unwrap_err();
        assert!(
            e.to_string().contains("more than the limit of 1048576"),
            "{e}"
        );
        assert_eq!(decompress(&bomb, 8 << 20).unwrap().len(), 8 << 20);
        assert!(matches!(
            decompress(b"garbage!", 100),
            Err(BatchError::Decompress(_))
        ));
    }

    #[test]
    fn bad_line_is_named() {
        let e = parse_ndjson(b"{\"sensor\":\"1\",\"seq\":1,\"v\":1,\"event\":{}}\n{\"seq\":2}\n")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("batch line 2: envelope is malformed"),
            "{e}"
        );
    }
}
