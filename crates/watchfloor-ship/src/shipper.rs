//! The send loop, independent of HTTP: send the oldest unacknowledged batch, trim on
//! acknowledgement, back off and resend on failure. One batch is in flight at a time, always
//! starting right after the hub's watermark, so no sequence is ever skipped.

use std::sync::Mutex;
use std::time::Duration;
use thiserror::Error;

use crate::batch::{Batch, BatchBuilder, BatchConfig, BatchError, Check};
use crate::spool::{Records, Spool, SpoolError};

/// The hub's answer: every sequence `1..=highest_stored` is durably stored (the store's
/// `IngestOutcome::highest_contiguous_seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub highest_stored: u64,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct TransportError {
    /// The hub asked to wait this long (HTTP 429/503 `Retry-After`).
    pub retry_after: Option<Duration>,
    /// Resending cannot help (revoked token, refused batch): stop and tell the operator.
    pub permanent: bool,
    /// The hub refused the batch's size (HTTP 413): the shipper resends it in smaller parts,
    /// and stops only when a single record is refused.
    pub too_large: bool,
    pub message: String,
}

impl TransportError {
    pub fn transient(message: impl Into<String>) -> Self {
        TransportError {
            retry_after: None,
            permanent: false,
            too_large: false,
            message: message.into(),
        }
    }
}

pub trait Transport {
    fn send(&mut self, batch: &Batch) -> Result<Ack, TransportError>;
}

/// Time as the shipper waits on it; tests pass one that only records.
pub trait Clock {
    fn sleep(&mut self, d: Duration);
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShipperConfig {
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A hub's Retry-After above this is clamped, so a bad header cannot stall a sensor.
    pub retry_after_max: Duration,
    /// Seeds the jitter; None seeds from the clock (tests pass a seed to be deterministic).
    pub jitter_seed: Option<u64>,
}

impl Default for ShipperConfig {
    fn default() -> Self {
        ShipperConfig {
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(60),
            retry_after_max: Duration::from_secs(600),
            jitter_seed: None,
        }
    }
}

#[derive(Debug, Error)]
pub enum ShipError {
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("the hub refused batch {first}..={last} for good: {message}")]
    Permanent {
        first: u64,
        last: u64,
        message: String,
    },
}

/// What one `step` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing durable is waiting.
    Idle,
    /// The hub's watermark moved to `acked`.
    Acked { acked: u64 },
    /// The send failed, or the hub stored nothing new; the shipper waited `waited`.
    Retried { waited: Duration, reason: String },
}

/// How `step` reaches the spool: directly, or through a lock shared with the writer, which
/// is then held only to read records and to record an ack, never across a send or a wait.
pub trait SpoolAccess {
    fn with<R>(&mut self, f: impl FnOnce(&mut Spool) -> R) -> R;
}

impl SpoolAccess for &mut Spool {
    fn with<R>(&mut self, f: impl FnOnce(&mut Spool) -> R) -> R {
        f(self)
    }
}

impl SpoolAccess for &Mutex<Spool> {
    fn with<R>(&mut self, f: impl FnOnce(&mut Spool) -> R) -> R {
        // A writer that panicked mid-append leaves a spool that recovers like after a crash;
        // shipping what is durable is still right.
        let mut g = self.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }
}

pub struct Shipper<T: Transport, C: Clock> {
    transport: T,
    clock: C,
    builder: BatchBuilder,
    cfg: ShipperConfig,
    pending: Option<Batch>,
    /// The records `pending` was built from (reused buffer).
    records: Records,
    /// `pending` was built with the full JSON check (after the hub refused it).
    pending_checked: bool,
    failures: u32,
    rng: u64,
    /// Records per batch now: lowered when the hub answers 413, grown back on success.
    limit: usize,
}

impl<T: Transport, C: Clock> Shipper<T, C> {
    pub fn new(
        sensor: &str,
        transport: T,
        clock: C,
        batch: BatchConfig,
        cfg: ShipperConfig,
    ) -> Self {
        let seed = cfg.jitter_seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x5151, |d| d.as_nanos() as u64)
                ^ u64::from(std::process::id()) << 32
        });
        Shipper {
            transport,
            clock,
            builder: BatchBuilder::new(sensor, batch),
            cfg,
            pending: None,
            records: Records::new(),
            pending_checked: false,
            failures: 0,
            rng: seed,
            limit: batch.max_records.max(1),
        }
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn into_parts(self) -> (T, C) {
        (self.transport, self.clock)
    }

    /// Sends the oldest unacknowledged batch once; on failure waits out the backoff before
    /// returning, so calling `step` in a loop is the whole shipper.
    pub fn step(&mut self, spool: &mut Spool) -> Result<Step, ShipError> {
        self.step_via(spool)
    }

    /// `step` with the spool behind a lock shared with the writer: the lock is held to read
    /// the batch's records and to record the ack, not while compressing, sending or waiting.
    pub fn step_shared(&mut self, spool: &Mutex<Spool>) -> Result<Step, ShipError> {
        self.step_via(spool)
    }

    fn step_via<A: SpoolAccess>(&mut self, mut spool: A) -> Result<Step, ShipError> {
        let from = spool.with(|s| s.acked()) + 1;
        if self.pending.as_ref().is_none_or(|b| b.first_seq != from) {
            let max_bytes = self.builder.config().max_bytes;
            let limit = self.limit;
            let recs = &mut self.records;
            spool.with(|s| s.read_into(from, limit, max_bytes, recs))?;
            self.pending = self.builder.build_records(&self.records, Check::Framing)?;
            self.pending_checked = false;
        }
        let Some(batch) = self.pending.as_ref() else {
            self.failures = 0;
            return Ok(Step::Idle);
        };
        match self.transport.send(batch) {
            Ok(ack) if ack.highest_stored >= from => {
                // Validate before trimming: an ack beyond what was ever written means the
                // hub and this spool disagree about history, and trimming on it could drop
                // records the hub does not have.
                spool.with(|s| s.ack(ack.highest_stored))?;
                if ack.highest_stored >= batch.last_seq {
                    self.pending = None;
                }
                self.failures = 0;
                let max = self.builder.config().max_records.max(1);
                self.limit = self.limit.saturating_mul(2).min(max);
                Ok(Step::Acked {
                    acked: ack.highest_stored,
                })
            }
            Ok(ack) => {
                // Stored but the watermark did not reach us (the hub misses an earlier
                // sequence, or regressed): resend later, never skip ahead.
                let reason = format!(
                    "hub acknowledged only up to {} while {}..={} was sent",
                    ack.highest_stored, batch.first_seq, batch.last_seq
                );
                tracing::warn!("{reason}");
                Ok(self.wait(None, reason))
            }
            Err(e) if e.too_large && batch.records > 1 => {
                // Resend the same sequences in halves; no wait, the hub answered at once.
                self.limit = (batch.records / 2).max(1);
                tracing::warn!(
                    "{}; resending {}..={} in batches of at most {} records",
                    e.message,
                    batch.first_seq,
                    batch.last_seq,
                    self.limit
                );
                self.pending = None;
                Ok(Step::Retried {
                    waited: Duration::ZERO,
                    reason: e.message,
                })
            }
            Err(e) if e.permanent && !self.pending_checked => {
                // Batches carry records checked for framing only (the sensor wrote them, the
                // CRC proves they are those bytes). Before giving up, check this one in full:
                // a record that is not JSON becomes a loss marker, and the batch goes again.
                let (first, last, lost_before) = (batch.first_seq, batch.last_seq, batch.lost);
                let rebuilt = self.builder.build_records(&self.records, Check::Full)?;
                self.pending_checked = true;
                match rebuilt {
                    Some(b) if b.lost > lost_before && b.first_seq == first => {
                        tracing::warn!(
                            "{}; {} record(s) of {first}..={last} are not valid JSON: resending \
                             them as loss markers",
                            e.message,
                            b.lost - lost_before
                        );
                        self.pending = Some(b);
                        Ok(Step::Retried {
                            waited: Duration::ZERO,
                            reason: e.message,
                        })
                    }
                    _ => Err(ShipError::Permanent {
                        first,
                        last,
                        message: e.message,
                    }),
                }
            }
            Err(e) if e.permanent => Err(ShipError::Permanent {
                first: batch.first_seq,
                last: batch.last_seq,
                message: e.message,
            }),
            Err(e) => Ok(self.wait(e.retry_after, e.message)),
        }
    }

    /// Steps until the spool has nothing left to send or `max_steps` is reached; returns the
    /// steps taken.
    pub fn drain(&mut self, spool: &mut Spool, max_steps: usize) -> Result<usize, ShipError> {
        for n in 0..max_steps {
            if self.step(spool)? == Step::Idle {
                return Ok(n);
            }
        }
        Ok(max_steps)
    }

    fn wait(&mut self, retry_after: Option<Duration>, reason: String) -> Step {
        let waited = match retry_after {
            Some(d) => d.min(self.cfg.retry_after_max),
            None => self.backoff(),
        };
        self.failures = self.failures.saturating_add(1);
        self.clock.sleep(waited);
        Step::Retried { waited, reason }
    }

    /// Exponential with "equal jitter": half the delay fixed, half random, so sensors that
    /// lost the hub together do not come back in lockstep, yet none retries too soon.
    fn backoff(&mut self) -> Duration {
        let exp = self
            .cfg
            .backoff_base
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.cfg.backoff_max);
        let half = exp / 2;
        let nanos = half.as_nanos() as u64;
        half + Duration::from_nanos(if nanos == 0 {
            0
        } else {
            self.next_rand() % (nanos + 1)
        })
    }

    fn next_rand(&mut self) -> u64 {
        // SplitMix64: tiny, and seedable for deterministic tests.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rec(Vec<Duration>);
    impl Clock for &mut Rec {
        fn sleep(&mut self, d: Duration) {
            self.0.push(d);
        }
    }
    struct Down;
    impl Transport for Down {
        fn send(&mut self, _: &Batch) -> Result<Ack, TransportError> {
            Err(TransportError::transient("connection refused"))
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), Default::default()).unwrap();
        spool.append(br#"{"event_type":"flow"}"#).unwrap();
        let mut clock = Rec(Vec::new());
        let cfg = ShipperConfig {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            jitter_seed: Some(1),
            ..Default::default()
        };
        let mut s = Shipper::new("1", Down, &mut clock, BatchConfig::default(), cfg);
        for _ in 0..8 {
            assert!(matches!(s.step(&mut spool).unwrap(), Step::Retried { .. }));
        }
        drop(s);
        let ms: Vec<u128> = clock.0.iter().map(|d| d.as_millis()).collect();
        for (i, &m) in ms.iter().enumerate() {
            let full = (100u128 << i).min(2000);
            assert!(
                m >= full / 2 && m <= full,
                "attempt {i}: {m} ms not in [{}, {full}]",
                full / 2
            );
        }
        assert_eq!(spool.stats().acked, 0);
    }
}

#[cfg(test)]
mod framing_tests {
    use super::*;
    use crate::batch::{decompress, parse_ndjson};

    /// Stores like the hub: refuses the whole batch (400, permanent) when a line is not JSON.
    #[derive(Default)]
    struct StrictHub {
        stored: Vec<(u64, Vec<u8>)>,
        refused: usize,
    }
    impl Transport for &mut StrictHub {
        fn send(&mut self, batch: &Batch) -> Result<Ack, TransportError> {
            let raw = decompress(&batch.body, 1 << 24).map_err(|e| TransportError {
                permanent: true,
                ..TransportError::transient(e.to_string())
            })?;
            let envs = parse_ndjson(&raw).map_err(|e| {
                self.refused += 1;
                TransportError {
                    permanent: true,
                    ..TransportError::transient(e.to_string())
                }
            })?;
            for e in envs {
                self.stored.push((e.seq, e.event.to_vec()));
            }
            Ok(Ack {
                highest_stored: batch.last_seq,
            })
        }
    }

    #[test]
    fn a_record_that_passes_framing_but_is_not_json_ships_as_a_loss_marker() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), Default::default()).unwrap();
        spool.append(br#"{"event_type":"flow","n":1}"#).unwrap();
        spool.append(br#"{"event_type":"flow","n":}"#).unwrap();
        spool.append(br#"{"event_type":"flow","n":3}"#).unwrap();
        let mut hub = StrictHub::default();
        let mut s = Shipper::new(
            "1",
            &mut hub,
            SystemClock,
            BatchConfig::default(),
            ShipperConfig::default(),
        );
        assert!(matches!(
            s.step(&mut spool).unwrap(),
            Step::Retried { waited, .. } if waited == Duration::ZERO
        ));
        assert_eq!(s.step(&mut spool).unwrap(), Step::Acked { acked: 3 });
        assert_eq!(s.step(&mut spool).unwrap(), Step::Idle);
        drop(s);
        assert_eq!(hub.refused, 1);
        let seqs: Vec<u64> = hub.stored.iter().map(|r| r.0).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(hub.stored[0].1, br#"{"event_type":"flow","n":1}"#);
        let m: serde_json::Value = serde_json::from_slice(&hub.stored[1].1).unwrap();
        assert_eq!(m["event_type"], "watchfloor_spool_loss");
        assert_eq!(m["spool_loss"]["raw"], r#"{"event_type":"flow","n":}"#);
    }

    #[test]
    fn a_refusal_that_full_checking_cannot_fix_stays_permanent() {
        struct Revoked;
        impl Transport for Revoked {
            fn send(&mut self, _: &Batch) -> Result<Ack, TransportError> {
                Err(TransportError {
                    permanent: true,
                    ..TransportError::transient("401 token revoked")
                })
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), Default::default()).unwrap();
        spool.append(br#"{"event_type":"flow"}"#).unwrap();
        let mut s = Shipper::new(
            "1",
            Revoked,
            SystemClock,
            BatchConfig::default(),
            ShipperConfig::default(),
        );
        assert!(matches!(
            s.step(&mut spool),
            Err(ShipError::Permanent {
                first: 1,
                last: 1,
                ..
            })
        ));
        assert_eq!(spool.stats().acked, 0);
    }
}
