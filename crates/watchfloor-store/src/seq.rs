//! Idempotency by `(sensor, seq)` without a table that grows with every event.
//!
//! Per sensor the store keeps a watermark W (every sequence in `1..=W` is stored) and the set
//! of stored sequences above W (`seq_pending`, normally empty: it only holds what arrived out
//! of order). A sequence is a duplicate iff it is ≤ W or in that set. After a batch, W moves
//! up over the new and pending sequences and the pending rows it passed are deleted. Retention
//! can drop old events without forgetting which sequences were seen, and the dedup state stays
//! a few rows per sensor however much is ingested.

use crate::eve::{parse_record, EventColumns, RecordError};
use crate::model::{EventEnvelope, SensorId};
use crate::StoreError;
use std::borrow::Borrow;

/// A record that passed validation.
pub struct Prepared {
    pub seq: u64,
    pub schema_version: u32,
    pub cols: EventColumns,
    pub record: Vec<u8>,
}

/// Checks every record before anything is written: one bad line refuses the whole batch.
pub fn validate(sensor: SensorId, batch: Vec<EventEnvelope>) -> Result<Vec<Prepared>, StoreError> {
    let mut out = Vec::with_capacity(batch.len());
    for (i, env) in batch.into_iter().enumerate() {
        let line = i + 1;
        if env.sensor_id != sensor {
            return Err(StoreError::WrongSensor {
                line,
                claimed: env.sensor_id,
                authenticated: sensor,
            });
        }
        if env.seq == 0 || env.seq > i64::MAX as u64 {
            return Err(StoreError::BadSequence { line, seq: env.seq });
        }
        let record_error = |reason| StoreError::Record {
            line,
            seq: env.seq,
            reason,
        };
        // JSON is UTF-8 (RFC 8259) and SQLite keeps the record as TEXT, but the parser does
        // not check the strings it skips: check the whole record here, off the writer.
        if let Err(e) = std::str::from_utf8(&env.record) {
            return Err(record_error(RecordError::Json(e.to_string())));
        }
        let cols = parse_record(&env.record).map_err(record_error)?;
        out.push(Prepared {
            seq: env.seq,
            schema_version: env.schema_version,
            cols,
            record: env.record,
        });
    }
    Ok(out)
}

/// The batch's records above `watermark`, first occurrence of each sequence, by sequence.
/// Returns them and how many were dropped as duplicates.
pub fn above_watermark<P: Borrow<Prepared>>(watermark: u64, batch: Vec<P>) -> (Vec<P>, u64) {
    let total = batch.len() as u64;
    let mut keep: Vec<P> = batch
        .into_iter()
        .filter(|p| Borrow::<Prepared>::borrow(p).seq > watermark)
        .collect();
    // Stable, so the first of two records with one sequence stays first and wins.
    keep.sort_by_key(|p| Borrow::<Prepared>::borrow(p).seq);
    keep.dedup_by_key(|p| Borrow::<Prepared>::borrow(&*p).seq);
    let dups = total - keep.len() as u64;
    (keep, dups)
}

/// Walks the watermark up over the newly stored sequences and the pending ones.
pub struct Advance<'a> {
    w: u64,
    new: &'a [u64],
    i: usize,
}

impl<'a> Advance<'a> {
    /// `new` ascending, distinct, all above `w`, disjoint from the pending set.
    pub fn new(w: u64, new: &'a [u64]) -> Self {
        let mut a = Advance { w, new, i: 0 };
        a.consume_new();
        a
    }

    pub fn watermark(&self) -> u64 {
        self.w
    }

    /// Feeds the next pending sequences above `watermark()`, ascending. Returns whether the
    /// watermark moved, i.e. whether more pending rows are worth fetching.
    pub fn feed(&mut self, pending: &[u64]) -> bool {
        let before = self.w;
        for &p in pending {
            self.consume_new();
            if p == self.w + 1 {
                self.w = p;
            } else {
                break;
            }
        }
        self.consume_new();
        self.w != before
    }

    fn consume_new(&mut self) {
        while self.i < self.new.len() && self.new[self.i] == self.w + 1 {
            self.w += 1;
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_over_new_and_pending() {
        let new = [1, 2, 3, 7];
        let mut a = Advance::new(0, &new);
        assert_eq!(a.watermark(), 3);
        assert!(a.feed(&[4, 5, 6, 9]));
        assert_eq!(a.watermark(), 7);
        assert!(!a.feed(&[9]));
        assert_eq!(a.watermark(), 7);
        let mut b = Advance::new(10, &[12]);
        assert!(!b.feed(&[]));
        assert_eq!(b.watermark(), 10);
    }
}
