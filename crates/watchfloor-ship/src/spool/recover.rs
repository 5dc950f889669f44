//! Opening a spool: find the segments, the last good record, torn tails and damage.

use std::fs;
use std::path::Path;
use std::time::Instant;

use super::format::{self, MAGIC};
use super::io::{sync_dir, SinkFactory};
use super::{segment_name, state, Segment, Spool, SpoolConfig, SpoolError};

fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("spool-")?.strip_suffix(".seg")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub fn open(
    dir: &Path,
    cfg: SpoolConfig,
    sinks: Box<dyn SinkFactory>,
) -> Result<Spool, SpoolError> {
    fs::create_dir_all(dir).map_err(|e| SpoolError::io(dir, e))?;
    state::remove_tmp(dir);
    let st = state::load(dir)?.unwrap_or_default();

    let mut firsts = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| SpoolError::io(dir, e))? {
        let entry = entry.map_err(|e| SpoolError::io(dir, e))?;
        if let Some(first) = entry.file_name().to_str().and_then(parse_name) {
            // Sequence 0 is never assigned; such a name is not ours.
            if first > 0 {
                firsts.push(first);
            }
        }
    }
    firsts.sort_unstable();

    let mut sp = Spool {
        dir: dir.to_path_buf(),
        cfg,
        sinks,
        segments: Vec::new(),
        active: None,
        buf: Vec::new(),
        next_seq: 1,
        flushed_seq: 0,
        durable_seq: 0,
        unsynced: 0,
        last_sync: Instant::now(),
        acked: st.acked,
        persisted_acked: st.acked,
        total_bytes: 0,
        corrupt_skipped: 0,
        corruptions: Vec::new(),
        hint: None,
        stalled: false,
    };

    for (i, &first) in firsts.iter().enumerate() {
        let path = dir.join(segment_name(first));
        let next_first = firsts.get(i + 1).copied();
        let data = fs::read(&path).map_err(|e| SpoolError::io(&path, e))?;
        let scan = format::scan(&data, first, next_first);
        if scan.bad_magic {
            tracing::error!(
                "spool corruption at {}:0: not a spool segment header",
                path.display()
            );
        }
        let mut len = data.len() as u64;
        if let Some(at) = scan.torn_at {
            // Unsynced bytes of the last segment: nothing in them was ever shipped.
            tracing::warn!(
                "spool: torn write at {}:{at} (crash mid-append), truncating {} bytes",
                path.display(),
                len - at
            );
            let f = fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| SpoolError::io(&path, e))?;
            let fix = || -> std::io::Result<()> {
                f.set_len(at)?;
                if at < MAGIC.len() as u64 {
                    f.set_len(0)?;
                    std::io::Write::write_all(&mut &f, MAGIC)?;
                }
                f.sync_all()
            };
            fix().map_err(|e| SpoolError::io(&path, e))?;
            len = scan.end;
        }
        let seg = Segment {
            first_seq: first,
            last_seq: scan.last_seq,
            path,
            len,
            skips: scan.skips,
        };
        for skip in seg.skips.clone() {
            sp.report(&seg.path, &skip);
        }
        sp.total_bytes += seg.len;
        sp.segments.push(seg);
    }

    let on_disk = sp.segments.last().map_or(0, |s| s.last_seq);
    // The state file may know of sequences whose segments are gone (trimmed, or lost).
    sp.durable_seq = on_disk.max(st.next_seq.saturating_sub(1)).max(st.acked);
    sp.flushed_seq = sp.durable_seq;
    sp.next_seq = sp.durable_seq + 1;
    report_gaps(&mut sp, on_disk);

    if let Some(seg) = sp.segments.last() {
        // After a process crash the tail may sit only in the page cache; it must be on disk
        // before the shipper may send it.
        let f = fs::File::open(&seg.path).map_err(|e| SpoolError::io(&seg.path, e))?;
        f.sync_all().map_err(|e| SpoolError::io(&seg.path, e))?;
        let appendable = seg.last_seq == sp.durable_seq && seg.len < cfg.segment_bytes;
        if appendable {
            let path = seg.path.clone();
            let sink = sp.sinks.open(&path).map_err(|e| SpoolError::io(&path, e))?;
            sp.active = Some(sink);
        }
    }
    sync_dir(dir).map_err(|e| SpoolError::io(dir, e))?;
    // Finish a trim a crash interrupted.
    sp.trim()?;
    Ok(sp)
}

/// Sequences no segment holds although they were assigned: before the first segment, and
/// after the last. (Gaps between segments show up as skips of the earlier segment.)
fn report_gaps(sp: &mut Spool, on_disk: u64) {
    let mut gaps = Vec::new();
    let first_on_disk = sp.segments.first().map(|s| s.first_seq);
    if let Some(first) = first_on_disk {
        if first > sp.acked + 1 {
            gaps.push((sp.acked + 1, first - 1));
        }
    }
    let tail_from = if first_on_disk.is_some() {
        on_disk + 1
    } else {
        sp.acked + 1
    };
    if sp.durable_seq >= tail_from {
        gaps.push((tail_from.max(sp.acked + 1), sp.durable_seq));
    }
    for (a, b) in gaps {
        if a > b {
            continue;
        }
        tracing::error!(
            "spool corruption in {}: sequences {a}..={b} were written but no segment holds them \
             (segment files missing); reported to the hub as loss markers",
            sp.dir.display()
        );
        sp.corrupt_skipped += b - a + 1;
        sp.corruptions.push(super::Corruption {
            file: sp.dir.clone(),
            offset: 0,
            lost: Some(a..=b),
        });
    }
}
