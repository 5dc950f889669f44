//! The sensor pipeline: capture → decode → flow → stream → EVE output.
//!
//! A reader pulls frames from a [`watchfloor_capture::PacketSource`]; with one
//! worker it decodes and tracks flows inline (no copies), with more it shards
//! frames by the hash of their address pair so that every packet of a flow —
//! fragments included — meets the same flow table.

mod applayer;
pub mod config;
pub mod detect;
pub mod output;
pub mod rules;
mod runtime;
mod stats;
mod worker;

pub use config::{ConfigError, SensorConfig};
pub use stats::{RunStats, RunSummary};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SensorError {
    #[error(transparent)]
    Capture(#[from] watchfloor_capture::CaptureError),
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot start a worker thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("a worker thread panicked")]
    WorkerPanic,
}

/// One offline run: read `input` (a file, or `-` for stdin), write `log_dir/eve.json`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub input: PathBuf,
    pub log_dir: PathBuf,
    pub config: SensorConfig,
    /// The rules to run (see [`rules::load`]); none: no detection. The
    /// handle may be given new rules while the run goes on.
    pub detect: Option<Arc<detect::DetectHandle>>,
}

/// Runs the sensor over a capture. `progress(bytes_read, total)` is called now
/// and then from the reading thread.
///
/// A capture that cannot be opened is an error. A capture damaged part-way is
/// not: everything before the damage is processed and written, and the error
/// (with its byte offset) is in [`RunSummary::capture_error`].
pub fn run(
    opts: &RunOptions,
    progress: &(dyn Fn(u64, Option<u64>) + Sync),
) -> Result<RunSummary, SensorError> {
    run_with_sink(opts, None, progress)
}

/// [`run`], also handing every chunk of EVE lines to `sink` (the shipper's spool) in the
/// order they are written. The sink needs the EVE output enabled.
pub fn run_with_sink(
    opts: &RunOptions,
    sink: Option<Arc<dyn output::LineSink>>,
    progress: &(dyn Fn(u64, Option<u64>) + Sync),
) -> Result<RunSummary, SensorError> {
    let started = Instant::now();
    if sink.is_some() && !opts.config.outputs.eve_log.enabled {
        return Err(SensorError::Config(
            "shipping to a hub needs the EVE output (outputs.eve-log.enabled)".into(),
        ));
    }
    let mut settings = worker::WorkerSettings::from_config(&opts.config)?;
    settings.detect = opts.detect.clone();
    let settings = Arc::new(settings);
    let eve = if opts.config.outputs.eve_log.enabled {
        Some(Arc::new(
            output::EveFile::create(&opts.log_dir, &opts.config.outputs.eve_log.filename)?
                .with_sink(sink),
        ))
    } else {
        None
    };
    let threads = match opts.config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let is_file =
        opts.input.as_os_str() != "-" && std::fs::metadata(&opts.input).is_ok_and(|m| m.is_file());
    let (mut stats, capture_error) = if threads > 1 && is_file {
        runtime::run_file_parallel(
            &opts.input,
            settings.clone(),
            eve.clone(),
            threads,
            progress,
        )?
    } else if threads > 1 {
        let src = watchfloor_capture::open(&opts.input)?;
        runtime::run_stream_parallel(src, settings.clone(), eve.clone(), threads, progress)?
    } else {
        let src = watchfloor_capture::open(&opts.input)?;
        runtime::run_source(src, settings.clone(), eve.clone(), progress)?
    };
    stats.elapsed = started.elapsed();
    stats.threads = threads;
    if let Some(eve) = &eve {
        if settings.eve_stats {
            let mut buf = output::EveBuffer::default();
            buf.push(&stats.eve_record());
            eve.write_chunk(&buf.buf)?;
            stats.record_counts.entry("stats").or_default();
            *stats.record_counts.entry("stats").or_default() += 1;
        }
        eve.flush()?;
    }
    Ok(RunSummary {
        stats,
        capture_error: capture_error.map(|e| e.to_string()),
        eve_path: eve.map(|e| e.path().to_path_buf()),
    })
}
