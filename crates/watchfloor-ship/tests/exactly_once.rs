//! The invariant of DESIGN.md §6: every record the sensor spooled is stored at the hub exactly
//! once, byte for byte, whatever fails in between (requests dropped, acks lost, 429s, hub
//! restarts, shipper crashes and restarts from the on-disk spool).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use watchfloor_ship::batch::{decompress, parse_ndjson};
use watchfloor_ship::*;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Stores idempotently by (sensor, seq) and acknowledges its contiguous watermark, like the
/// store's watermark ingest.
#[derive(Default)]
struct Hub {
    events: HashMap<(String, u64), Vec<u8>>,
    watermark: u64,
    duplicates: u64,
    inserted: u64,
}

impl Hub {
    fn ingest(&mut self, envs: &[Envelope<'_>]) {
        for e in envs {
            let key = (e.sensor.to_string(), e.seq);
            match self.events.get(&key) {
                Some(old) => {
                    assert_eq!(
                        old.as_slice(),
                        e.event,
                        "sequence {} reused for another event",
                        e.seq
                    );
                    self.duplicates += 1;
                }
                None => {
                    self.events.insert(key, e.event.to_vec());
                    self.inserted += 1;
                }
            }
        }
        while self
            .events
            .contains_key(&("s1".to_string(), self.watermark + 1))
        {
            self.watermark += 1;
        }
    }
}

/// The network and the hub process, failing at random.
struct Flaky {
    hub: Rc<RefCell<Hub>>,
    rng: Rng,
    sent: u64,
}

impl Transport for Flaky {
    fn send(&mut self, batch: &Batch) -> Result<Ack, TransportError> {
        self.sent += 1;
        let raw = decompress(&batch.body, 64 << 20)
            .map_err(|e| TransportError::transient(e.to_string()))?;
        let envs = parse_ndjson(&raw).map_err(|e| TransportError::transient(e.to_string()))?;
        assert_eq!(envs.len(), batch.records);
        let mut hub = self.hub.borrow_mut();
        match self.rng.below(10) {
            // Request lost on the way in.
            0 => Err(TransportError::transient("connection reset")),
            // Stored, then the response was lost.
            1 => {
                hub.ingest(&envs);
                Err(TransportError::transient("timed out"))
            }
            2 => Err(TransportError {
                retry_after: Some(Duration::from_secs(3)),
                permanent: false,
                too_large: false,
                message: "429 Too Many Requests".into(),
            }),
            // Hub killed mid-batch: a prefix was committed, the rest lost with the process.
            3 => {
                let cut = self.rng.below(envs.len() as u64 + 1) as usize;
                hub.ingest(&envs[..cut]);
                Err(TransportError::transient("connection closed"))
            }
            _ => {
                hub.ingest(&envs);
                Ok(Ack {
                    highest_stored: hub.watermark,
                })
            }
        }
    }
}

struct NoSleep(Duration);
impl Clock for NoSleep {
    fn sleep(&mut self, d: Duration) {
        self.0 += d;
    }
}

fn record(i: u64, rng: &mut Rng) -> Vec<u8> {
    format!(
        r#"{{"timestamp":"2024-11-05T06:00:{:02}.{:06}+0000","flow_id":{},"event_type":"flow","src_ip":"10.1.{}.{}","note":"caf\u00e9 \"q\"","n":{i}}}"#,
        i % 60,
        rng.below(1_000_000),
        rng.next() >> 12,
        rng.below(256),
        rng.below(256)
    )
    .into_bytes()
}

fn run(seed: u64, fsync: Fsync) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SpoolConfig {
        fsync,
        segment_bytes: 4096,
        max_total_bytes: 64 << 20,
    };
    let hub = Rc::new(RefCell::new(Hub::default()));
    let mut rng = Rng(seed);
    // model[seq - 1] is what the spool holds for seq.
    let mut model: Vec<Vec<u8>> = Vec::new();
    let mut spool = Spool::open(dir.path(), cfg).unwrap();
    let new_shipper = |rng: &mut Rng| {
        let t = Flaky {
            hub: hub.clone(),
            rng: Rng(rng.next()),
            sent: 0,
        };
        let batch = BatchConfig {
            max_records: 1 + rng.below(40) as usize,
            max_bytes: 1 << 20,
            zstd_level: 1,
        };
        let cfg = ShipperConfig {
            jitter_seed: Some(rng.next()),
            ..Default::default()
        };
        Shipper::new("s1", t, NoSleep(Duration::ZERO), batch, cfg)
    };
    let mut shipper = new_shipper(&mut rng);
    for _round in 0..60 {
        for _ in 0..rng.below(30) {
            let r = record(model.len() as u64 + 1, &mut rng);
            let seq = spool.append(&r).unwrap();
            assert_eq!(seq, model.len() as u64 + 1);
            model.push(r);
        }
        for _ in 0..rng.below(6) {
            shipper.step(&mut spool).unwrap();
        }
        match rng.below(8) {
            // Orderly restart of the sensor.
            0 => {
                drop(spool);
                spool = Spool::open(dir.path(), cfg).unwrap();
                shipper = new_shipper(&mut rng);
            }
            // Crash: buffered, never-synced records vanish with the process.
            1 => {
                std::mem::forget(spool);
                spool = Spool::open(dir.path(), cfg).unwrap();
                let kept = spool.stats().next_seq - 1;
                assert!(kept >= spool.acked());
                model.truncate(kept as usize);
                shipper = new_shipper(&mut rng);
            }
            _ => {}
        }
    }
    let steps = shipper.drain(&mut spool, 100_000).unwrap();
    assert!(steps < 100_000, "shipper never drained");
    let hub = hub.borrow();
    assert_eq!(hub.events.len(), model.len(), "seed {seed}");
    assert_eq!(hub.watermark, model.len() as u64);
    for (i, r) in model.iter().enumerate() {
        let got = &hub.events[&("s1".to_string(), i as u64 + 1)];
        assert_eq!(got, r, "seed {seed}: seq {} differs", i + 1);
    }
    assert_eq!(spool.stats().depth_records, 0);
    assert_eq!(spool.stats().corrupt_skipped, 0);
    assert!(
        hub.duplicates > 0 || model.is_empty(),
        "the failures should have caused replays"
    );
}

#[test]
fn every_record_once_under_failures_and_restarts() {
    for seed in 0..12 {
        let fsync = [
            Fsync::Always,
            Fsync::EveryN(5),
            Fsync::Interval(1),
            Fsync::Never,
        ][seed as usize % 4];
        run(seed, fsync);
    }
}

#[test]
fn permanent_refusal_stops_without_trimming() {
    struct Revoked;
    impl Transport for Revoked {
        fn send(&mut self, _: &Batch) -> Result<Ack, TransportError> {
            Err(TransportError {
                retry_after: None,
                permanent: true,
                too_large: false,
                message: "401 token revoked".into(),
            })
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), SpoolConfig::default()).unwrap();
    spool.append(br#"{"event_type":"alert"}"#).unwrap();
    let mut s = Shipper::new(
        "s1",
        Revoked,
        NoSleep(Duration::ZERO),
        BatchConfig::default(),
        ShipperConfig::default(),
    );
    let e = s.step(&mut spool).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the hub refused batch 1..=1 for good: 401 token revoked"
    );
    assert_eq!(spool.stats().depth_records, 1);
}

#[test]
fn an_ack_beyond_what_was_written_is_refused() {
    struct Liar;
    impl Transport for Liar {
        fn send(&mut self, _: &Batch) -> Result<Ack, TransportError> {
            Ok(Ack { highest_stored: 99 })
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), SpoolConfig::default()).unwrap();
    spool.append(br#"{"event_type":"alert"}"#).unwrap();
    let mut s = Shipper::new(
        "s1",
        Liar,
        NoSleep(Duration::ZERO),
        BatchConfig::default(),
        ShipperConfig::default(),
    );
    assert!(matches!(
        s.step(&mut spool),
        Err(ShipError::Spool(SpoolError::AckBeyondEnd {
            ack: 99,
            durable: 1
        }))
    ));
    assert_eq!(spool.stats().acked, 0);
}
