//! Ageing data out: a background task that periodically applies the configured retention.

use crate::model::{UnixMicros, MICROS_PER_SEC};
use crate::Store;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionConfig {
    /// Keep events this many days (whole UTC days: a day goes once all of it is older).
    pub keep_days: u32,
    /// How often the job runs, in seconds.
    pub interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            keep_days: 90,
            interval_secs: 3600,
        }
    }
}

impl RetentionConfig {
    /// The cutoff for a run at `now`.
    pub fn cutoff(&self, now: UnixMicros) -> UnixMicros {
        now.saturating_sub(i64::from(self.keep_days) * 86_400 * MICROS_PER_SEC)
    }
}

/// Runs retention now and then every `interval_secs` until the returned handle is aborted
/// (or the runtime stops). Failures are logged and retried at the next tick: retention is
/// housekeeping, never a reason to stop the hub.
pub fn spawn(store: Arc<dyn Store>, config: RetentionConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(config.interval_secs.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let cutoff = config.cutoff(crate::now_micros());
            match store.apply_retention(cutoff).await {
                Ok(r) => tracing::info!(
                    events = r.events_deleted,
                    buckets = r.buckets_dropped,
                    heartbeats = r.heartbeats_deleted,
                    "retention applied"
                ),
                Err(e) => tracing::warn!(error = %e, "retention failed; retrying next interval"),
            }
        }
    })
}
