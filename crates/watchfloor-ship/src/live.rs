//! Shipping while the sensor runs: the intake that spools every EVE line the sensor writes, a
//! shipper thread that sends batches and trims on acks, a heartbeat thread, and a bounded
//! drain at the end.
//!
//! The spool sits behind one `Mutex`: the sensor's writer holds it to append a chunk of lines;
//! the shipper holds it only to read a batch's records and to record an ack (compression,
//! sending and waiting happen outside it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;

use crate::batch::BatchConfig;
use crate::http::{HttpConfig, HttpError, HttpTransport};
use crate::shipper::{Clock, ShipError, Shipper, ShipperConfig, Step};
use crate::spool::{Spool, SpoolConfig, SpoolError};

#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub http: HttpConfig,
    pub spool_dir: PathBuf,
    pub spool: SpoolConfig,
    pub batch: BatchConfig,
    pub shipper: ShipperConfig,
    /// How often counters go to the hub; zero: never (a final one is still sent at the end).
    pub heartbeat: Duration,
    /// The id envelopes carry; None: asked from the hub (`GET /api/v1/ack`) before shipping.
    pub sensor_id: Option<String>,
}

#[derive(Debug, Error)]
pub enum LiveError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("cannot start the {0} thread: {1}")]
    Thread(&'static str, std::io::Error),
}

/// Counters of this run's intake.
#[derive(Debug, Default)]
struct IntakeCounters {
    spooled: AtomicU64,
    refused: AtomicU64,
    chunks: AtomicU64,
}

/// Where the sensor's EVE lines go (see `watchfloor_sensor::output::LineSink`).
pub struct Intake {
    spool: Arc<Mutex<Spool>>,
    counters: Arc<IntakeCounters>,
    /// Intake is refused (full spool) since this message; cleared when an append succeeds.
    stopped: Mutex<Option<String>>,
    first_error: Mutex<Option<String>>,
    wake: Arc<Ctl>,
}

impl Intake {
    /// Spools each complete line of `chunk` (without its `\n`). When the spool refuses a
    /// record (full disk, `max_total_bytes`), the rest of the chunk is refused too, counted
    /// and reported once; the next chunk tries again.
    pub fn write_lines(&self, chunk: &[u8]) {
        let mut spool = self.spool.lock().unwrap_or_else(|p| p.into_inner());
        let mut ok = 0u64;
        let mut rest = chunk;
        while !rest.is_empty() {
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            if line.is_empty() {
                continue;
            }
            match spool.append(line) {
                Ok(_) => ok += 1,
                Err(SpoolError::TooLarge { len, max }) => {
                    self.refuse(1, format!("an EVE record of {len} bytes is over the spool's limit of {max}; not shipped"));
                }
                Err(e) => {
                    let lost = 1 + rest
                        .split(|&b| b == b'\n')
                        .filter(|l| !l.is_empty())
                        .count();
                    self.refuse(lost as u64, e.to_string());
                    break;
                }
            }
        }
        drop(spool);
        if ok > 0 {
            self.counters.spooled.fetch_add(ok, Ordering::Relaxed);
            let mut st = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
            if st.take().is_some() {
                tracing::warn!(
                    "spool intake resumed; {} EVE records were refused so far and will not reach the hub",
                    self.counters.refused.load(Ordering::Relaxed)
                );
            }
        }
        // Wake the shipper only now and then: it batches anyway.
        if self.counters.chunks.fetch_add(1, Ordering::Relaxed) & 7 == 0 {
            self.wake.cv.notify_all();
        }
    }

    fn refuse(&self, n: u64, reason: String) {
        self.counters.refused.fetch_add(n, Ordering::Relaxed);
        let mut st = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        if st.is_none() {
            tracing::error!("spool intake stopped: {reason}");
            eprintln!("error: spool intake stopped: {reason}");
            *st = Some(reason.clone());
        }
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert(reason);
    }
}

#[derive(Default)]
struct CtlState {
    draining: bool,
    stop: bool,
    /// Set by the shipper when the spool holds nothing unacknowledged.
    idle_empty: bool,
    fatal: Option<String>,
    last_error: Option<String>,
    sensor_id: Option<String>,
}

#[derive(Default)]
struct Ctl {
    st: Mutex<CtlState>,
    cv: Condvar,
}

impl Ctl {
    fn lock(&self) -> std::sync::MutexGuard<'_, CtlState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Waits up to `d`, returning early when stopped (or woken); true when stopped.
    fn wait(&self, d: Duration) -> bool {
        let g = self.lock();
        if g.stop {
            return true;
        }
        let (g, _) = self
            .cv
            .wait_timeout(g, d)
            .unwrap_or_else(|p| p.into_inner());
        g.stop
    }
}

/// Sleeps the shipper's backoff, but wakes at once when told to stop.
struct CtlClock(Arc<Ctl>);

impl Clock for CtlClock {
    fn sleep(&mut self, d: Duration) {
        let until = Instant::now() + d;
        loop {
            let now = Instant::now();
            if now >= until || self.0.wait(until - now) {
                return;
            }
        }
    }
}

/// What the end of a run left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// Spooled but not acknowledged: they ship at the next start.
    pub remaining: u64,
    pub acked: u64,
    /// Spooled during this run.
    pub spooled: u64,
    /// Refused by the spool during this run (never shipped).
    pub refused: u64,
    pub first_refusal: Option<String>,
    /// Why shipping stopped for good (revoked token, ...).
    pub fatal: Option<String>,
    pub last_error: Option<String>,
    pub heartbeat_error: Option<String>,
    /// Damaged spool regions found (each reported, and shipped as loss markers).
    pub corruptions: Vec<String>,
}

pub struct LiveShipper {
    spool: Arc<Mutex<Spool>>,
    intake: Arc<Intake>,
    ctl: Arc<Ctl>,
    hb_transport: HttpTransport,
    threads: Vec<std::thread::JoinHandle<()>>,
    extra: Counters,
}

/// Extra counters for heartbeats (the sensor's own), called from the heartbeat thread.
pub type Counters = Arc<dyn Fn() -> serde_json::Map<String, serde_json::Value> + Send + Sync>;

impl LiveShipper {
    /// Opens the spool (recovering what a crash left) and starts the shipper and heartbeat
    /// threads. Whatever an earlier run left spooled ships first.
    pub fn start(cfg: LiveConfig, extra: Counters) -> Result<LiveShipper, LiveError> {
        let transport = HttpTransport::new(&cfg.http)?;
        let mut hb_cfg = cfg.http.clone();
        hb_cfg.timeout = hb_cfg.timeout.min(Duration::from_secs(10));
        let hb_transport = HttpTransport::new(&hb_cfg)?;
        let spool = Spool::open(&cfg.spool_dir, cfg.spool)?;
        for c in spool.corruptions() {
            eprintln!(
                "warning: spool damage at {} (sequences {:?}): skipped, and shipped to the hub as loss markers",
                c.location(),
                c.lost
            );
        }
        let st = spool.stats();
        if st.depth_records > 0 {
            eprintln!(
                "hub: {} events left spooled by an earlier run (sequences {}..={}) ship first",
                st.depth_records,
                st.acked + 1,
                st.next_seq - 1
            );
        }
        let spool = Arc::new(Mutex::new(spool));
        let ctl = Arc::new(Ctl::default());
        let intake = Arc::new(Intake {
            spool: spool.clone(),
            counters: Arc::default(),
            stopped: Mutex::new(None),
            first_error: Mutex::new(None),
            wake: ctl.clone(),
        });
        let mut threads = Vec::new();
        {
            let (spool, ctl) = (spool.clone(), ctl.clone());
            let cfg = cfg.clone();
            let numbered_before = st.next_seq - 1;
            threads.push(
                std::thread::Builder::new()
                    .name("hub-shipper".into())
                    .spawn(move || ship_loop(cfg, transport, spool, ctl, numbered_before))
                    .map_err(|e| LiveError::Thread("shipper", e))?,
            );
        }
        let me = LiveShipper {
            spool,
            intake,
            ctl,
            hb_transport,
            threads,
            extra,
        };
        if !cfg.heartbeat.is_zero() {
            let (t, every) = (me.heartbeat_fn(), cfg.heartbeat);
            let ctl = me.ctl.clone();
            let h = std::thread::Builder::new()
                .name("hub-heartbeat".into())
                .spawn(move || {
                    let mut warned = false;
                    while !ctl.wait(every) {
                        if let Err(e) = t(None) {
                            if !warned {
                                tracing::warn!("heartbeat not delivered: {e}");
                                warned = true;
                            }
                        } else {
                            warned = false;
                        }
                    }
                })
                .map_err(|e| LiveError::Thread("heartbeat", e))?;
            let mut me = me;
            me.threads.push(h);
            return Ok(me);
        }
        Ok(me)
    }

    pub fn intake(&self) -> Arc<Intake> {
        self.intake.clone()
    }

    fn heartbeat_fn(
        &self,
    ) -> impl Fn(Option<serde_json::Value>) -> Result<(), String> + Send + 'static {
        let (t, spool, counters, extra) = (
            self.hb_transport.clone(),
            self.spool.clone(),
            self.intake.counters.clone(),
            self.extra.clone(),
        );
        move |more: Option<serde_json::Value>| {
            let st = spool.lock().unwrap_or_else(|p| p.into_inner()).stats();
            let mut m = extra();
            let mut put = |k: &str, v: u64| {
                m.insert(k.into(), serde_json::Value::from(v));
            };
            put("spool_depth", st.depth_records);
            put("spool_bytes", st.depth_bytes);
            put("spool_segments", st.segments as u64);
            put("spool_corrupt_skipped", st.corrupt_skipped);
            put("spool_next_seq", st.next_seq);
            put("spool_acked", st.acked);
            put("events_spooled", counters.spooled.load(Ordering::Relaxed));
            put("events_refused", counters.refused.load(Ordering::Relaxed));
            if let Some(serde_json::Value::Object(o)) = more {
                m.extend(o);
            }
            t.heartbeat(&serde_json::Value::Object(m))
                .map_err(|e| e.message)
        }
    }

    /// Sends one heartbeat now with `extra` merged in (e.g. the run's final counters).
    pub fn heartbeat_now(&self, extra: Option<serde_json::Value>) -> Result<(), String> {
        self.heartbeat_fn()(extra)
    }

    /// Waits up to `timeout` for everything spooled to be acknowledged, then stops the
    /// threads and sends a last heartbeat with `final_counters` merged in (the hub then sees
    /// the final spool depth). What is left stays in the spool for the next start.
    pub fn drain(
        mut self,
        timeout: Duration,
        final_counters: Option<serde_json::Value>,
    ) -> DrainReport {
        let deadline = Instant::now() + timeout;
        {
            let mut g = self.ctl.lock();
            g.draining = true;
            g.idle_empty = false;
            self.ctl.cv.notify_all();
            loop {
                if g.idle_empty || g.fatal.is_some() {
                    break;
                }
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                g = self
                    .ctl
                    .cv
                    .wait_timeout(g, (deadline - now).min(Duration::from_millis(200)))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            g.stop = true;
            self.ctl.cv.notify_all();
        }
        // A request in flight may take until its timeout: wait a little, then leave it.
        let grace = Instant::now() + Duration::from_secs(2);
        for h in std::mem::take(&mut self.threads) {
            while !h.is_finished() && Instant::now() < grace {
                std::thread::sleep(Duration::from_millis(10));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
        let heartbeat_error = self.heartbeat_fn()(final_counters).err();
        let g = self.ctl.lock();
        let mut spool = self.spool.lock().unwrap_or_else(|p| p.into_inner());
        let unwritten = spool.discard_unwritten();
        if unwritten > 0 {
            let m = format!(
                "{unwritten} EVE records accepted into the spool's buffer could not be written \
                 (disk full) and are given up"
            );
            eprintln!("error: spool: {m}");
            self.intake.refuse(unwritten, m);
            self.intake.counters.spooled.fetch_sub(
                unwritten.min(self.intake.counters.spooled.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
        }
        let st = spool.stats();
        let c = &self.intake.counters;
        DrainReport {
            remaining: st.depth_records,
            acked: st.acked,
            spooled: c.spooled.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            first_refusal: self
                .intake
                .first_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            fatal: g.fatal.clone(),
            heartbeat_error,
            last_error: g.last_error.clone(),
            corruptions: spool
                .corruptions()
                .iter()
                .map(|c| format!("{} (sequences {:?})", c.location(), c.lost))
                .collect(),
        }
    }
}

fn ship_loop(
    cfg: LiveConfig,
    transport: HttpTransport,
    spool: Arc<Mutex<Spool>>,
    ctl: Arc<Ctl>,
    numbered_before: u64,
) {
    let mut clock = CtlClock(ctl.clone());
    let set_error = |msg: String, fatal: bool| {
        let mut g = ctl.lock();
        if fatal {
            g.fatal = Some(msg.clone());
            ctl.cv.notify_all();
        }
        g.last_error = Some(msg);
    };
    // Which id the envelopes carry: given, or the hub's answer for this token.
    // Before shipping anything: where the hub stands (and, unless given, which id the
    // envelopes carry).
    let mut failures = 0u32;
    let sensor_id = loop {
        match transport.ack() {
            Ok(info) => {
                if info.acked_seq > numbered_before {
                    // The hub holds sequences this spool never gave out: the spool was reset
                    // or is another sensor's. New events would reuse numbers the hub already
                    // holds and be dropped there as replays.
                    let m = format!(
                        "the hub already holds this sensor's events up to sequence {}, but this \
                         spool ({}) has numbered only up to {numbered_before}: it was reset or \
                         belongs to another sensor. Restore the spool, or enrol this sensor anew \
                         (a new token); nothing is shipped",
                        info.acked_seq,
                        cfg.spool_dir.display()
                    );
                    eprintln!("error: hub: {m}");
                    set_error(m, true);
                    return;
                }
                let id = cfg
                    .sensor_id
                    .clone()
                    .or_else(|| info.sensor_id.map(|i| i.to_string()))
                    .or(info.sensor);
                match id {
                    Some(id) => break id,
                    None => {
                        let m = "the hub's /api/v1/ack names no sensor id; give --sensor-id"
                            .to_string();
                        eprintln!("error: hub: {m}");
                        set_error(m, true);
                        return;
                    }
                }
            }
            Err(e) if e.permanent => {
                eprintln!("error: hub: {}", e.message);
                set_error(e.message, true);
                return;
            }
            Err(e) => {
                if failures == 0 {
                    tracing::warn!("hub not reachable yet: {}", e.message);
                }
                set_error(e.message, false);
                failures = failures.saturating_add(1);
                let d = cfg
                    .shipper
                    .backoff_base
                    .saturating_mul(1 << failures.min(8))
                    .min(cfg.shipper.backoff_max);
                clock.sleep(e.retry_after.unwrap_or(d));
                if ctl.lock().stop {
                    return;
                }
            }
        }
    };
    ctl.lock().sensor_id = Some(sensor_id.clone());
    let mut shipper = Shipper::new(&sensor_id, transport, clock, cfg.batch, cfg.shipper);
    let small = (cfg.batch.max_records / 4).max(1) as u64;
    loop {
        if ctl.lock().stop {
            return;
        }
        let before = spool.lock().unwrap_or_else(|p| p.into_inner()).acked();
        match shipper.step_shared(&spool) {
            Ok(Step::Idle) => {
                let empty = spool
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .stats()
                    .depth_records
                    == 0;
                let mut g = ctl.lock();
                g.idle_empty = empty;
                if g.draining {
                    ctl.cv.notify_all();
                }
                let wait = if g.draining {
                    Duration::from_millis(20)
                } else {
                    Duration::from_millis(250)
                };
                drop(g);
                if ctl.wait(wait) {
                    return;
                }
            }
            Ok(Step::Acked { acked }) => {
                let mut g = ctl.lock();
                g.last_error = None;
                // A small batch while the sensor is busy: let records gather, batches are
                // what keeps the shipper cheap.
                if !g.draining && acked.saturating_sub(before) < small {
                    drop(g);
                    if ctl.wait(Duration::from_millis(100)) {
                        return;
                    }
                }
            }
            Ok(Step::Retried { reason, .. }) => set_error(reason, false),
            Err(ShipError::Permanent {
                first,
                last,
                message,
            }) => {
                let m = format!(
                    "the hub refused events {first}..={last} for good: {message}; shipping \
                     stopped, everything stays spooled"
                );
                eprintln!("error: hub: {m}");
                set_error(m, true);
                return;
            }
            Err(e) => {
                // Spool trouble (I/O, an ack beyond what was written): report, wait, retry.
                let m = e.to_string();
                tracing::error!("shipper: {m}");
                set_error(m, false);
                if ctl.wait(Duration::from_secs(1)) {
                    return;
                }
            }
        }
    }
}
