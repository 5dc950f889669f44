// Test-only module: compiled under #[cfg(test)] from its parent.
use super::*;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

fn cfg(fsync: Fsync) -> SpoolConfig {
    SpoolConfig {
        fsync,
        segment_bytes: 1024,
        max_total_bytes: 1 << 20,
    }
}

fn rec(i: u64) -> Vec<u8> {
    format!(
        r#"{{"event_type":"flow","i":{i},"pad":"{}"}}"#,
        "x".repeat((i % 50) as usize)
    )
    .into_bytes()
}

fn records(sp: &mut Spool) -> Vec<(u64, Vec<u8>)> {
    sp.read_from(0, usize::MAX, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| match e {
            Entry::Record { seq, payload } => (seq, payload),
            Entry::Lost { seq, location } => (seq, format!("LOST@{location}").into_bytes()),
        })
        .collect()
}

fn seg_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    v.sort();
    v
}

#[test]
fn numbering_survives_reopen_rollover_and_full_trim() {
    let d = tempfile::tempdir().unwrap();
    let mut sp = Spool::open(d.path(), cfg(Fsync::EveryN(7))).unwrap();
    for i in 1..=40 {
        assert_eq!(sp.append(&rec(i)).unwrap(), i);
    }
    drop(sp);
    assert!(seg_files(d.path()).len() > 2, "segments roll at 1 KiB");
    assert!(seg_files(d.path())[0].ends_with("spool-00000000000000000001.seg"));
    let mut sp = Spool::open(d.path(), cfg(Fsync::EveryN(7))).unwrap();
    let got = records(&mut sp);
    assert_eq!(got, (1..=40).map(|i| (i, rec(i))).collect::<Vec<_>>());
    assert_eq!(sp.append(&rec(41)).unwrap(), 41);
    // Batches in small pieces use the read hint and still see every record once.
    let mut seen = Vec::new();
    let mut from = 1;
    loop {
        let es = sp.read_from(from, 3, usize::MAX).unwrap();
        let Some(last) = es.last() else { break };
        from = last.seq() + 1;
        seen.extend(es.iter().map(Entry::seq));
    }
    assert_eq!(seen, (1..=41).collect::<Vec<_>>());

    sp.ack(20).unwrap();
    let st = sp.stats();
    assert_eq!((st.acked, st.depth_records, st.next_seq), (20, 21, 42));
    assert_eq!(sp.read_from(1, 100, usize::MAX).unwrap()[0].seq(), 21);
    let first = seg_files(d.path())[0].clone();
    assert!(first.file_name().unwrap().to_str().unwrap() > "spool-00000000000000000001.seg");
    sp.ack(41).unwrap();
    assert!(seg_files(d.path()).is_empty());
    assert_eq!(sp.stats().segments, 0);
    drop(sp);
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    assert_eq!(
        sp.append(&rec(42)).unwrap(),
        42,
        "numbering survives a full trim"
    );
    assert!(matches!(
        sp.ack(100),
        Err(SpoolError::AckBeyondEnd {
            ack: 100,
            durable: 42
        })
    ));
}

#[test]
fn torn_tail_is_truncated_silently() {
    let d = tempfile::tempdir().unwrap();
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    for i in 1..=3 {
        sp.append(&rec(i)).unwrap();
    }
    drop(sp);
    let seg = &seg_files(d.path())[0];
    let good = std::fs::metadata(seg).unwrap().len();
    let mut torn = Vec::new();
    format::encode(4, &rec(4), &mut torn);
    torn.truncate(torn.len() / 2);
    let mut f = std::fs::OpenOptions::new().append(true).open(seg).unwrap();
    std::io::Write::write_all(&mut f, &torn).unwrap();
    drop(f);
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    assert_eq!(std::fs::metadata(seg).unwrap().len(), good);
    assert_eq!(sp.stats().corrupt_skipped, 0);
    assert!(sp.corruptions().is_empty());
    assert_eq!(sp.append(&rec(4)).unwrap(), 4);
    assert_eq!(records(&mut sp).len(), 4);
}

#[test]
fn bad_checksum_in_the_middle_is_reported_skipped_and_shipped_as_lost() {
    let d = tempfile::tempdir().unwrap();
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    for i in 1..=4 {
        sp.append(&rec(i)).unwrap();
    }
    drop(sp);
    let seg = seg_files(d.path())[0].clone();
    let mut bytes = std::fs::read(&seg).unwrap();
    let second = MAGIC.len() + format::HEADER + rec(1).len();
    bytes[second + format::HEADER + 3] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();

    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    assert_eq!(sp.stats().corrupt_skipped, 1);
    let c = &sp.corruptions()[0];
    assert_eq!((c.offset, c.lost.clone()), (second as u64, Some(2..=2)));
    assert_eq!(c.location(), format!("{}:{second}", seg.display()));
    let got = records(&mut sp);
    assert_eq!(got[0], (1, rec(1)));
    assert_eq!(got[1].0, 2);
    assert!(got[1]
        .1
        .starts_with(format!("LOST@{}:{second}", seg.display()).as_bytes()));
    assert_eq!(got[2..], [(3, rec(3)), (4, rec(4))]);
    assert_eq!(sp.append(&rec(5)).unwrap(), 5);
}

#[test]
fn damage_found_while_reading_is_reported_too() {
    let d = tempfile::tempdir().unwrap();
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    for i in 1..=30 {
        sp.append(&rec(i)).unwrap();
    }
    let seg = seg_files(d.path())[0].clone();
    let mut bytes = std::fs::read(&seg).unwrap();
    let third = MAGIC.len() + 2 * format::HEADER + rec(1).len() + rec(2).len();
    bytes[third + format::HEADER] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let got = sp.read_from(1, 5, usize::MAX).unwrap();
    assert!(
        matches!(&got[2], Entry::Lost { seq: 3, location } if location.ends_with(&format!(":{third}")))
    );
    assert_eq!(
        got.iter().map(Entry::seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(sp.stats().corrupt_skipped, 1);
    assert_eq!(records(&mut sp).len(), 30);
}

#[test]
fn missing_segment_files_are_reported_as_lost() {
    let d = tempfile::tempdir().unwrap();
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    for i in 1..=40 {
        sp.append(&rec(i)).unwrap();
    }
    drop(sp);
    let segs = seg_files(d.path());
    std::fs::remove_file(&segs[1]).unwrap();
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    let got = records(&mut sp);
    assert_eq!(
        got.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>()
    );
    let lost = got.iter().filter(|r| r.1.starts_with(b"LOST@")).count() as u64;
    assert!(lost > 0);
    assert_eq!(sp.stats().corrupt_skipped, lost);
}

#[test]
fn max_total_bytes_stops_intake_and_keeps_everything() {
    let d = tempfile::tempdir().unwrap();
    let c = SpoolConfig {
        max_total_bytes: 4096,
        ..cfg(Fsync::EveryN(4))
    };
    let mut sp = Spool::open(d.path(), c).unwrap();
    let mut n = 0;
    let err = loop {
        match sp.append(&rec(n + 1)) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, SpoolError::Full { .. }));
    assert!(err.to_string().contains("max_total_bytes 4096"), "{err}");
    assert!(
        err.to_string()
            .contains("everything already spooled is kept"),
        "{err}"
    );
    assert_eq!(records(&mut sp).len() as u64, n);
    sp.ack(n / 2).unwrap();
    assert_eq!(
        sp.append(&rec(n + 1)).unwrap(),
        n + 1,
        "intake resumes after the trim"
    );
}

/// A device with `budget` bytes of space left: writes past it are cut short with ENOSPC.
struct TightSinks(Arc<AtomicI64>);
struct TightSink {
    inner: Box<dyn SegmentSink>,
    budget: Arc<AtomicI64>,
}

impl SinkFactory for TightSinks {
    fn open(&mut self, path: &Path) -> std::io::Result<Box<dyn SegmentSink>> {
        Ok(Box::new(TightSink {
            inner: FileSinks.open(path)?,
            budget: self.0.clone(),
        }))
    }
}

impl SegmentSink for TightSink {
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let left = self.budget.fetch_sub(buf.len() as i64, Ordering::SeqCst);
        if left < buf.len() as i64 {
            self.budget.store(0, Ordering::SeqCst);
            // A partial write, as a real full disk gives.
            self.inner.write_all(&buf[..left.max(0) as usize / 2])?;
            return Err(std::io::Error::from_raw_os_error(28));
        }
        self.inner.write_all(buf)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.inner.sync()
    }
    fn set_len(&mut self, len: u64) -> std::io::Result<()> {
        self.inner.set_len(len)
    }
}

#[test]
fn enospc_stops_intake_leaves_no_torn_record_and_recovers() {
    for fsync in [Fsync::Always, Fsync::EveryN(3), Fsync::Never] {
        let d = tempfile::tempdir().unwrap();
        let budget = Arc::new(AtomicI64::new(700));
        let c = SpoolConfig {
            segment_bytes: 64 << 20,
            ..cfg(fsync)
        };
        let mut sp = Spool::open_with(d.path(), c, Box::new(TightSinks(budget.clone()))).unwrap();
        let mut accepted = Vec::new();
        let mut full = None;
        for i in 1..=2000 {
            match sp.append(&rec(i)) {
                Ok(seq) => accepted.push(seq),
                Err(e) => {
                    full = Some(e);
                    break;
                }
            }
            if fsync != Fsync::Always && i % 5 == 0 {
                // The shipper's reads force syncs, which is where buffered policies hit ENOSPC.
                let _ = sp.read_from(1, 1, usize::MAX);
            }
        }
        let full = full.unwrap_or_else(|| panic!("{fsync:?}: never full"));
        assert!(matches!(full, SpoolError::Full { .. }), "{fsync:?}: {full}");
        assert!(full.to_string().contains("No space left"), "{full}");
        // What is durable is readable; nothing on disk is torn.
        let durable = records(&mut sp);
        assert!(!durable.is_empty());
        let seg = &seg_files(d.path())[0];
        let scan = format::scan(&std::fs::read(seg).unwrap(), 1, None);
        assert_eq!(scan.torn_at, None, "{fsync:?}");
        // Space comes back: the next append works and numbering has no hole.
        budget.store(1 << 30, Ordering::SeqCst);
        let next = sp.append(&rec(9999)).unwrap();
        assert_eq!(next, accepted.last().copied().unwrap_or(0) + 1, "{fsync:?}");
        drop(sp);
        let mut sp = Spool::open(d.path(), c).unwrap();
        let all = records(&mut sp);
        assert_eq!(all.len() as u64, next, "{fsync:?}");
        assert!(all.iter().all(|(_, p)| !p.starts_with(b"LOST")));
    }
}

#[test]
fn state_file_damage_is_refused_clearly() {
    let d = tempfile::tempdir().unwrap();
    let mut sp = Spool::open(d.path(), cfg(Fsync::Always)).unwrap();
    sp.append(&rec(1)).unwrap();
    sp.ack(1).unwrap();
    drop(sp);
    std::fs::write(d.path().join("state"), b"{\"next_s").unwrap();
    let e = Spool::open(d.path(), cfg(Fsync::Always)).err().unwrap();
    assert!(e.to_string().contains("refusing to guess"), "{e}");
}

#[test]
fn ack_without_trim_is_saved_at_close_and_a_crash_only_resends() {
    let d = tempfile::tempdir().unwrap();
    let big = SpoolConfig {
        segment_bytes: 1 << 20,
        ..cfg(Fsync::Always)
    };
    let mut sp = Spool::open(d.path(), big).unwrap();
    for i in 1..=10 {
        sp.append(&rec(i)).unwrap();
    }
    // Nothing can be trimmed (one segment, not fully acknowledged): the state file is not
    // rewritten; a crash now (no Drop) leaves the older watermark.
    sp.ack(4).unwrap();
    std::mem::forget(sp);
    let mut sp = Spool::open(d.path(), big).unwrap();
    assert_eq!(sp.acked(), 0, "the watermark saved before the crash");
    assert!(sp.corruptions().is_empty(), "{:?}", sp.corruptions());
    assert_eq!(
        records(&mut sp),
        (1..=10).map(|i| (i, rec(i))).collect::<Vec<_>>()
    );
    // A clean close saves it.
    sp.ack(4).unwrap();
    drop(sp);
    let mut sp = Spool::open(d.path(), big).unwrap();
    assert_eq!(sp.acked(), 4);
    assert_eq!(
        records(&mut sp),
        (5..=10).map(|i| (i, rec(i))).collect::<Vec<_>>()
    );
    // A trim saves it first, even if the process then crashes: numbering stays monotonic
    // and nothing reads as damage.
    sp.ack(10).unwrap();
    assert!(seg_files(d.path()).is_empty());
    std::mem::forget(sp);
    let mut sp = Spool::open(d.path(), big).unwrap();
    assert_eq!((sp.acked(), sp.stats().next_seq), (10, 11));
    assert!(sp.corruptions().is_empty());
    assert_eq!(sp.append(&rec(11)).unwrap(), 11);
}
