//! The `state` file: the next sequence to assign and the hub's acknowledged watermark.
//!
//! Segments alone cannot carry these: once every segment is trimmed nothing on disk would
//! say where numbering stopped, and a sensor that restarted at 1 would have its new events
//! taken for replays by the hub.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;

use super::io::sync_dir;
use super::SpoolError;

pub const STATE: &str = "state";
const STATE_TMP: &str = "state.tmp";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Only ever written as of durable records, so it never runs ahead of the segments.
    pub next_seq: u64,
    pub acked: u64,
}

pub fn load(dir: &Path) -> Result<Option<State>, SpoolError> {
    let path = dir.join(STATE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(SpoolError::io(&path, source)),
    };
    // Refuse rather than guess: a guessed next_seq could reuse sequences the hub holds.
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| SpoolError::State {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// State files are padded to this size (JSON, then spaces), and a spare temp file of this
/// size is kept, so recording an ack on a full disk overwrites blocks the spool already owns
/// instead of allocating new ones; otherwise a full disk could not record the acks whose
/// trims are what frees it.
const STATE_SIZE: usize = 4096;

fn padded(st: State) -> Vec<u8> {
    // Two u64 fields: always far below STATE_SIZE.
    let mut body = serde_json::to_vec(&st).unwrap_or_default();
    if body.len() < STATE_SIZE {
        body.resize(STATE_SIZE - 1, b' ');
        body.push(b'\n');
    }
    body
}

/// Temp file, fsync, rename, fsync the directory: a crash leaves the old or the new state.
/// The temp file is the spare when there is one (overwritten in place, no allocation); a new
/// spare is made afterwards from the blocks the old state file gave back.
pub fn store(dir: &Path, st: State) -> Result<(), SpoolError> {
    let tmp = dir.join(STATE_TMP);
    let body = padded(st);
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&tmp)?;
        f.write_all(&body)?;
        f.set_len(body.len() as u64)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(STATE))?;
        sync_dir(dir)
    };
    write().map_err(|source| SpoolError::io(&tmp, source))?;
    make_spare(dir);
    Ok(())
}

/// Best effort: without a spare, the next store allocates (and may fail on a full disk).
pub fn make_spare(dir: &Path) {
    let tmp = dir.join(STATE_TMP);
    if fs::metadata(&tmp).is_ok_and(|m| m.len() >= STATE_SIZE as u64) {
        return;
    }
    let r = fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(&padded(State::default()))?;
        f.sync_all()
    });
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// A leftover temp file is a spare or a write a crash interrupted: either way it is only
/// ever overwritten whole, never read.
pub fn remove_tmp(dir: &Path) {
    make_spare(dir);
}
