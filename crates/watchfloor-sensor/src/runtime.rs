//! Threads. One worker: the reader calls it inline and no byte is copied.
//! Several, reading a file: every worker maps the file itself, walks all
//! records and keeps those whose address-pair hash is its own — no copy, no
//! channel, and the only shared work is skimming record headers. Several,
//! reading a pipe: one reader shards frames into per-worker batches (one copy
//! into a recycled buffer). Either way workers run decode → flow → output
//! independently and their stats merge at the end.

use crate::output::EveFile;
use crate::stats::RunStats;
use crate::worker::{Worker, WorkerSettings};
use crate::SensorError;
use crossbeam_channel::{bounded, Receiver, Sender};
use std::sync::Arc;
use watchfloor_capture::{LinkType, PacketSource, RawPacket};

/// How often (in bytes read) the progress callback runs.
const PROGRESS_EVERY: u64 = 8 << 20;
const BATCH_BYTES: usize = 256 * 1024;
const BATCH_PKTS: usize = 1024;

pub type Progress<'a> = &'a (dyn Fn(u64, Option<u64>) + Sync);

/// Runs the whole capture. A capture error ends the input but not the run:
/// everything read before it is processed and written, then the error is returned
/// alongside the stats.
pub fn run_source(
    mut src: Box<dyn PacketSource + Send>,
    settings: Arc<WorkerSettings>,
    eve: Option<Arc<EveFile>>,
    threads: usize,
    progress: Progress<'_>,
) -> Result<(RunStats, Option<watchfloor_capture::CaptureError>), SensorError> {
    if threads <= 1 {
        let mut w = Worker::new(settings, eve)?;
        let mut next_progress = PROGRESS_EVERY;
        let mut pcap_cnt = 0u64;
        let err = loop {
            match src.next_packet() {
                Ok(Some(p)) => {
                    pcap_cnt += 1;
                    w.handle(&p, pcap_cnt)?;
                    if p.offset >= next_progress {
                        next_progress = p.offset + PROGRESS_EVERY;
                        progress(src.position(), src.total_len());
                    }
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        progress(src.position(), src.total_len());
        let stats = w.finish()?;
        return Ok((stats, err));
    }
    run_sharded(src, settings, eve, threads, progress)
}

/// Several workers over one file, each with its own memory map of it.
pub fn run_file_parallel(
    path: &std::path::Path,
    settings: Arc<WorkerSettings>,
    eve: Option<Arc<EveFile>>,
    threads: usize,
    progress: Progress<'_>,
) -> Result<(RunStats, Option<watchfloor_capture::CaptureError>), SensorError> {
    // Open every source up front so that an unreadable file fails before any thread starts.
    let mut sources = Vec::with_capacity(threads);
    for _ in 0..threads {
        sources.push(watchfloor_capture::open(path)?);
    }
    let n = threads as u64;
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for (i, mut src) in sources.into_iter().enumerate() {
            let settings = settings.clone();
            let eve = eve.clone();
            let h = std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn_scoped(
                    scope,
                    move || -> Result<(RunStats, Option<watchfloor_capture::CaptureError>), SensorError> {
                        let mut w = Worker::new(settings, eve)?;
                        let mine = i as u64;
                        let mut next_progress = PROGRESS_EVERY;
                        let mut pcap_cnt = 0u64;
                        let err = loop {
                            match src.next_packet() {
                                Ok(Some(p)) => {
                                    pcap_cnt += 1;
                                    if watchfloor_decode::shard_hash(p.linktype, p.data) % n == mine {
                                        w.handle(&p, pcap_cnt)?;
                                    } else {
                                        w.tick(p.ts_ns)?;
                                    }
                                    if i == 0 && p.offset >= next_progress {
                                        next_progress = p.offset + PROGRESS_EVERY;
                                        progress(src.position(), src.total_len());
                                    }
                                }
                                Ok(None) => break None,
                                Err(e) => break Some(e),
                            }
                        };
                        if i == 0 {
                            progress(src.position(), src.total_len());
                        }
                        Ok((w.finish()?, err))
                    },
                )
                .map_err(SensorError::Thread)?;
            handles.push(h);
        }
        let mut total = RunStats::default();
        let mut first_err = None;
        for h in handles {
            let (stats, err) = h.join().map_err(|_| SensorError::WorkerPanic)??;
            total.merge(&stats);
            // Every worker reads the same bytes, so they all meet the same damage.
            if first_err.is_none() {
                first_err = err;
            }
        }
        Ok((total, first_err))
    })
}

/// `Meta::len` of an entry that carries no frame, only packet time.
const TICK: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Meta {
    ts_ns: i64,
    linktype: LinkType,
    orig_len: u32,
    offset: u64,
    interface: u32,
    pcap_cnt: u64,
    start: u32,
    len: u32,
}

#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    metas: Vec<Meta>,
}

impl Batch {
    fn push(&mut self, p: &RawPacket<'_>, pcap_cnt: u64) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(p.data);
        self.metas.push(Meta {
            ts_ns: p.ts_ns,
            linktype: p.linktype,
            orig_len: p.orig_len,
            offset: p.offset,
            interface: p.interface,
            pcap_cnt,
            start,
            len: p.data.len() as u32,
        });
    }
    /// Packet time reached `ts_ns` (another lane's packet).
    fn tick(&mut self, ts_ns: i64) {
        self.metas.push(Meta {
            ts_ns,
            linktype: LinkType::Ethernet,
            orig_len: 0,
            offset: 0,
            interface: 0,
            pcap_cnt: 0,
            start: 0,
            len: TICK,
        });
    }

    fn full(&self) -> bool {
        self.data.len() >= BATCH_BYTES || self.metas.len() >= BATCH_PKTS
    }
}

struct Lane {
    tx: Sender<Batch>,
    recycle: Receiver<Batch>,
    current: Batch,
}

fn run_sharded(
    mut src: Box<dyn PacketSource + Send>,
    settings: Arc<WorkerSettings>,
    eve: Option<Arc<EveFile>>,
    threads: usize,
    progress: Progress<'_>,
) -> Result<(RunStats, Option<watchfloor_capture::CaptureError>), SensorError> {
    std::thread::scope(|scope| {
        let mut lanes = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let (tx, rx) = bounded::<Batch>(4);
            let (rtx, rrx) = bounded::<Batch>(8);
            for _ in 0..4 {
                let _ = rtx.try_send(Batch::default());
            }
            let settings = settings.clone();
            let eve = eve.clone();
            let h = std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn_scoped(scope, move || -> Result<RunStats, SensorError> {
                    let mut w = Worker::new(settings, eve)?;
                    for mut batch in rx {
                        for m in &batch.metas {
                            if m.len == TICK {
                                w.tick(m.ts_ns)?;
                                continue;
                            }
                            let s = m.start as usize;
                            let data = batch.data.get(s..s + m.len as usize).unwrap_or(&[]);
                            let raw = RawPacket {
                                ts_ns: m.ts_ns,
                                linktype: m.linktype,
                                data,
                                orig_len: m.orig_len,
                                offset: m.offset,
                                interface: m.interface,
                            };
                            w.handle(&raw, m.pcap_cnt)?;
                        }
                        batch.data.clear();
                        batch.metas.clear();
                        // The reader may already have enough spares; dropping is fine.
                        let _ = rtx.try_send(batch);
                    }
                    w.finish()
                })
                .map_err(SensorError::Thread)?;
            handles.push(h);
            lanes.push(Lane {
                tx,
                recycle: rrx,
                current: Batch::default(),
            });
        }

        let mut next_progress = PROGRESS_EVERY;
        let mut pcap_cnt = 0u64;
        let n = threads as u64;
        // When a single worker would scan for timeouts, every lane is told the
        // time, so each times its flows out at the same packet time.
        let interval = settings.flow.manager_interval_ns.max(1);
        let mut next_tick = i64::MIN;
        let mut last_ts = None;
        let err = loop {
            match src.next_packet() {
                Ok(Some(p)) => {
                    pcap_cnt += 1;
                    let lane_ix = (watchfloor_decode::shard_hash(p.linktype, p.data) % n) as usize;
                    last_ts = Some(p.ts_ns);
                    if p.ts_ns >= next_tick {
                        next_tick = p.ts_ns.saturating_add(interval);
                        for (i, lane) in lanes.iter_mut().enumerate() {
                            if i != lane_ix {
                                lane.current.tick(p.ts_ns);
                            }
                        }
                    }
                    let lane = &mut lanes[lane_ix];
                    lane.current.push(&p, pcap_cnt);
                    if lane.current.full() {
                        let fresh = lane.recycle.try_recv().unwrap_or_default();
                        let full = std::mem::replace(&mut lane.current, fresh);
                        if lane.tx.send(full).is_err() {
                            // The worker stopped early: its error is reported on join.
                            break None;
                        }
                    }
                    if p.offset >= next_progress {
                        next_progress = p.offset + PROGRESS_EVERY;
                        progress(src.position(), src.total_len());
                    }
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        progress(src.position(), src.total_len());
        for lane in lanes {
            let Lane {
                tx, mut current, ..
            } = lane;
            // Flows still open end at the capture's last packet time, whichever lane saw it.
            if let Some(ts) = last_ts {
                current.tick(ts);
            }
            let _ = tx.send(current);
            drop(tx);
        }
        let mut total = RunStats::default();
        for h in handles {
            let stats = h.join().map_err(|_| SensorError::WorkerPanic)??;
            total.merge(&stats);
        }
        Ok((total, err))
    })
}
