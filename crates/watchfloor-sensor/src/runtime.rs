//! Threads. One worker: the reader calls it inline and no byte is copied.
//! Several: the reading thread is also worker 0 and shards frames by the hash
//! of their address pair; the other workers get theirs in batches. Reading a
//! file, a batch holds only offsets into one shared memory map (no copies,
//! and each page is faulted in once); reading a pipe, frames are copied into
//! recycled batch buffers. Because the reading thread also reads for the
//! others, it keeps a smaller share of the flows (`INLINE_SHARE`), so that N
//! threads keep N cores evenly busy. Workers run decode → flow → output
//! independently and their stats merge at the end.

use crate::output::EveFile;
use crate::stats::RunStats;
use crate::worker::{Worker, WorkerSettings};
use crate::SensorError;
use crossbeam_channel::{bounded, Receiver, Sender};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use watchfloor_capture::{
    CaptureError, LinkType, PacketSource, RawPacket, SharedMap, SharedMmapSource,
};

/// How often (in bytes read) progress is reported, lanes are flushed and
/// pages every worker is past are released.
const PROGRESS_EVERY: u64 = 8 << 20;
const BATCH_BYTES: usize = 256 * 1024;
const BATCH_PKTS: usize = 1024;
/// Share of the flows the reading thread handles itself, relative to a fair
/// 1/N: reading, sharding and batching every frame costs it about as much as
/// half a worker's load. Measured on bench-1G with two threads (wall time,
/// median of 5): 0.2 → 0.73 s, 0.35 → 0.63 s, 0.5 → 0.53–0.55 s,
/// 0.65 → 0.56 s, 0.8 → 0.60 s, 1.0 → 0.64 s.
const INLINE_SHARE: f64 = 0.5;
/// Batches in flight per worker: enough slack that a moment of imbalance
/// (a burst of one worker's flows) does not stall the reading thread, which
/// is also a worker.
const LANE_DEPTH: usize = 32;
/// Hash buckets used to split flows between workers.
const BUCKETS: u64 = 1024;

pub type Progress<'a> = &'a (dyn Fn(u64, Option<u64>) + Sync);
type Outcome = Result<(RunStats, Option<CaptureError>), SensorError>;

/// One worker, fed inline by the reader.
pub fn run_source(
    mut src: Box<dyn PacketSource + Send>,
    settings: Arc<WorkerSettings>,
    eve: Option<Arc<EveFile>>,
    progress: Progress<'_>,
) -> Outcome {
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
    Ok((w.finish()?, err))
}

/// Several workers over a regular file: frames travel as offsets into one map.
pub fn run_file_parallel(
    path: &std::path::Path,
    settings: Arc<WorkerSettings>,
    eve: Option<Arc<EveFile>>,
    threads: usize,
    progress: Progress<'_>,
) -> Outcome {
    let src = SharedMmapSource::open(path)?;
    run_lanes(Reader::Mapped(src), settings, eve, threads, progress)
}

/// Several workers over a pipe or stdin: frames are copied into batches.
pub fn run_stream_parallel(
    src: Box<dyn PacketSource + Send>,
    settings: Arc<WorkerSettings>,
    eve: Option<Arc<EveFile>>,
    threads: usize,
    progress: Progress<'_>,
) -> Outcome {
    run_lanes(Reader::Copied(src), settings, eve, threads, progress)
}

enum Reader {
    Mapped(SharedMmapSource),
    Copied(Box<dyn PacketSource + Send>),
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
    /// Where the frame is: an offset into the shared map, or into `Batch::data`.
    start: u64,
    len: u32,
}

#[derive(Default)]
struct Batch {
    /// Copied frames (pipe input only).
    data: Vec<u8>,
    metas: Vec<Meta>,
    /// The reader's position when the batch was sent: once a worker has
    /// handled it, nothing before this offset is needed by that worker.
    upto: u64,
}

impl Batch {
    fn push(&mut self, p: &RawPacket<'_>, pcap_cnt: u64, mapped_at: Option<u64>) {
        let start = match mapped_at {
            Some(off) => off,
            None => {
                let s = self.data.len() as u64;
                self.data.extend_from_slice(p.data);
                s
            }
        };
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
    /// Highest `Batch::upto` the worker has finished.
    done: Arc<AtomicU64>,
}

impl Lane {
    /// Sends the current batch; false when the worker has stopped.
    fn send(&mut self, upto: u64) -> bool {
        let fresh = self.recycle.try_recv().unwrap_or_default();
        let mut full = std::mem::replace(&mut self.current, fresh);
        full.upto = upto;
        self.tx.send(full).is_ok()
    }
}

fn worker_loop(
    rx: Receiver<Batch>,
    recycle: Sender<Batch>,
    done: Arc<AtomicU64>,
    map: Option<SharedMap>,
    mut w: Worker,
) -> Result<RunStats, SensorError> {
    for mut batch in rx {
        for m in &batch.metas {
            if m.len == TICK {
                w.tick(m.ts_ns)?;
                continue;
            }
            let len = m.len as usize;
            let data = match &map {
                Some(map) => map.get(m.start, len),
                None => usize::try_from(m.start)
                    .ok()
                    .and_then(|s| batch.data.get(s..s + len)),
            }
            .unwrap_or(&[]);
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
        done.store(batch.upto, Ordering::Release);
        batch.data.clear();
        batch.metas.clear();
        // The reader may already have enough spares; dropping is fine.
        let _ = recycle.try_send(batch);
    }
    w.finish()
}

fn run_lanes(
    mut reader: Reader,
    settings: Arc<WorkerSettings>,
    eve: Option<Arc<EveFile>>,
    threads: usize,
    progress: Progress<'_>,
) -> Outcome {
    let map = match &reader {
        Reader::Mapped(s) => Some(s.map()),
        Reader::Copied(_) => None,
    };
    std::thread::scope(|scope| {
        let mut inline = Worker::new(settings.clone(), eve.clone())?;
        let mut lanes = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for i in 1..threads {
            let (tx, rx) = bounded::<Batch>(LANE_DEPTH);
            let (rtx, rrx) = bounded::<Batch>(LANE_DEPTH + 2);
            let done = Arc::new(AtomicU64::new(0));
            let w = Worker::new(settings.clone(), eve.clone())?;
            let (map, worker_done) = (map.clone(), done.clone());
            let h = std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn_scoped(scope, move || worker_loop(rx, rtx, worker_done, map, w))
                .map_err(SensorError::Thread)?;
            handles.push(h);
            lanes.push(Lane {
                tx,
                recycle: rrx,
                current: Batch::default(),
                done,
            });
        }

        let others = (threads - 1).max(1) as u64;
        let inline_cut = ((BUCKETS as f64) * INLINE_SHARE / threads as f64) as u64;
        let mut next_progress = PROGRESS_EVERY;
        let mut pcap_cnt = 0u64;
        // When a single worker would scan for timeouts, every lane is told the
        // time, so each times its flows out at the same packet time.
        let interval = settings.flow.manager_interval_ns.max(1);
        let mut next_tick = i64::MIN;
        let mut last_ts = None;
        let mut stopped = false;
        let err = loop {
            let (p, mapped_at, position) = match &mut reader {
                Reader::Mapped(src) => match src.next_packet() {
                    Ok(Some(p)) => {
                        let at = src_offset(&map, p.data);
                        (p, Some(at), p.offset)
                    }
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                },
                Reader::Copied(src) => match src.next_packet() {
                    Ok(Some(p)) => (p, None, p.offset),
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                },
            };
            pcap_cnt += 1;
            last_ts = Some(p.ts_ns);
            let bucket = watchfloor_decode::shard_hash(p.linktype, p.data) % BUCKETS;
            // None: the reading thread's own share.
            let lane_ix = (bucket >= inline_cut).then(|| ((bucket - inline_cut) % others) as usize);
            if p.ts_ns >= next_tick {
                next_tick = p.ts_ns.saturating_add(interval);
                for (i, lane) in lanes.iter_mut().enumerate() {
                    if Some(i) != lane_ix {
                        lane.current.tick(p.ts_ns);
                    }
                }
            }
            match lane_ix {
                None => inline.handle(&p, pcap_cnt)?,
                Some(i) => {
                    inline.tick(p.ts_ns)?;
                    lanes[i].current.push(&p, pcap_cnt, mapped_at);
                }
            }
            for lane in lanes.iter_mut() {
                if lane.current.full() && !lane.send(position) {
                    // A worker stopped early: its error is reported on join.
                    stopped = true;
                }
            }
            if stopped {
                break None;
            }
            if position >= next_progress {
                next_progress = position + PROGRESS_EVERY;
                // Flush every lane so no worker holds back page release or
                // falls far behind in packet time.
                for lane in lanes.iter_mut() {
                    if !lane.current.metas.is_empty() && !lane.send(position) {
                        stopped = true;
                    }
                }
                let (pos, total) = match &mut reader {
                    Reader::Mapped(src) => {
                        let safe = lanes
                            .iter()
                            .map(|l| l.done.load(Ordering::Acquire))
                            .min()
                            .unwrap_or(0);
                        src.release_before(safe);
                        (src.position(), src.total_len())
                    }
                    Reader::Copied(src) => (src.position(), src.total_len()),
                };
                progress(pos, total);
            }
        };
        let (pos, total) = match &reader {
            Reader::Mapped(src) => (src.position(), src.total_len()),
            Reader::Copied(src) => (src.position(), src.total_len()),
        };
        progress(pos, total);
        for lane in lanes {
            let Lane {
                tx, mut current, ..
            } = lane;
            // Flows still open end at the capture's last packet time, whichever lane saw it.
            if let Some(ts) = last_ts {
                current.tick(ts);
            }
            current.upto = pos;
            let _ = tx.send(current);
        }
        let mut total = inline.finish()?;
        for h in handles {
            let stats = h.join().map_err(|_| SensorError::WorkerPanic)??;
            total.merge(&stats);
        }
        Ok((total, err))
    })
}

fn src_offset(map: &Option<SharedMap>, data: &[u8]) -> u64 {
    match map {
        Some(m) => (data.as_ptr() as usize).wrapping_sub(m.as_ref().as_ptr() as usize) as u64,
        None => 0,
    }
}
