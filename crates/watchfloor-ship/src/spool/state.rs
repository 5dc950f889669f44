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

/// Temp file, fsync, rename, fsync the directory: a crash leaves the old or the new state.
pub fn store(dir: &Path, st: State) -> Result<(), SpoolError> {
    let tmp = dir.join(STATE_TMP);
    let body = serde_json::to_vec(&st).map_err(|e| SpoolError::State {
        path: tmp.display().to_string(),
        reason: e.to_string(),
    })?;
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(STATE))?;
        sync_dir(dir)
    };
    write().map_err(|source| SpoolError::io(&tmp, source))
}

pub fn remove_tmp(dir: &Path) {
    let _ = fs::remove_file(dir.join(STATE_TMP));
}
