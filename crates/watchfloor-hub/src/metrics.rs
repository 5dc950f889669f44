//! Prometheus text exposition (format 0.0.4), written by hand: a handful of counters and one
//! histogram do not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the ingest latency histogram.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
pub struct Metrics {
    ingest_by_status: Mutex<BTreeMap<u16, u64>>,
    events_stored: AtomicU64,
    duplicates: AtomicU64,
    batch_bytes_compressed: AtomicU64,
    batch_bytes_decompressed: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    store_errors: AtomicU64,
    heartbeats: AtomicU64,
}

/// Values computed at scrape time.
pub struct Gauges {
    /// `None` when the store could not be asked; the lines are then left out.
    pub sensors: Option<u64>,
    pub sensors_stale: Option<u64>,
    pub ingest_in_flight: u64,
    pub ingest_capacity: u64,
}

impl Metrics {
    pub fn ingest_finished(&self, status: u16, elapsed: Duration) {
        if let Ok(mut m) = self.ingest_by_status.lock() {
            *m.entry(status).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.latency_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    pub fn stored(&self, inserted: u64, duplicates: u64) {
        self.events_stored.fetch_add(inserted, Relaxed);
        self.duplicates.fetch_add(duplicates, Relaxed);
    }

    pub fn batch_bytes(&self, compressed: usize, decompressed: usize) {
        self.batch_bytes_compressed
            .fetch_add(compressed as u64, Relaxed);
        self.batch_bytes_decompressed
            .fetch_add(decompressed as u64, Relaxed);
    }

    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Relaxed);
    }

    pub fn heartbeat(&self) {
        self.heartbeats.fetch_add(1, Relaxed);
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut o = String::with_capacity(4096);
        let _ = self.write(&mut o, g);
        o
    }

    fn write(&self, o: &mut String, g: &Gauges) -> std::fmt::Result {
        writeln!(
            o,
            "# HELP watchfloor_hub_build_info Build of the running hub."
        )?;
        writeln!(o, "# TYPE watchfloor_hub_build_info gauge")?;
        writeln!(
            o,
            "watchfloor_hub_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )?;

        writeln!(
            o,
            "# HELP watchfloor_hub_ingest_requests_total Ingest requests by HTTP status."
        )?;
        writeln!(o, "# TYPE watchfloor_hub_ingest_requests_total counter")?;
        if let Ok(m) = self.ingest_by_status.lock() {
            for (status, n) in m.iter() {
                writeln!(
                    o,
                    "watchfloor_hub_ingest_requests_total{{status=\"{status}\"}} {n}"
                )?;
            }
        }
        counter(
            o,
            "watchfloor_hub_events_stored_total",
            "Events newly stored.",
            &self.events_stored,
        )?;
        counter(
            o,
            "watchfloor_hub_events_duplicate_total",
            "Events received again and not stored (replays).",
            &self.duplicates,
        )?;
        counter(
            o,
            "watchfloor_hub_batch_bytes_compressed_total",
            "Ingest body bytes as received (zstd).",
            &self.batch_bytes_compressed,
        )?;
        counter(
            o,
            "watchfloor_hub_batch_bytes_decompressed_total",
            "Ingest NDJSON bytes after decompression.",
            &self.batch_bytes_decompressed,
        )?;
        counter(
            o,
            "watchfloor_hub_store_errors_total",
            "Store operations that failed (any endpoint).",
            &self.store_errors,
        )?;
        counter(
            o,
            "watchfloor_hub_heartbeats_total",
            "Heartbeats recorded.",
            &self.heartbeats,
        )?;

        writeln!(o, "# HELP watchfloor_hub_ingest_duration_seconds Ingest request time, from the handler's start to the answer.")?;
        writeln!(o, "# TYPE watchfloor_hub_ingest_duration_seconds histogram")?;
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            writeln!(
                o,
                "watchfloor_hub_ingest_duration_seconds_bucket{{le=\"{le}\"}} {}",
                self.latency_buckets[i].load(Relaxed)
            )?;
        }
        let count = self.latency_count.load(Relaxed);
        writeln!(
            o,
            "watchfloor_hub_ingest_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        )?;
        writeln!(
            o,
            "watchfloor_hub_ingest_duration_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        )?;
        writeln!(o, "watchfloor_hub_ingest_duration_seconds_count {count}")?;

        if let Some(n) = g.sensors {
            gauge(o, "watchfloor_hub_sensors", "Enrolled sensors.", n)?;
        }
        if let Some(n) = g.sensors_stale {
            gauge(
                o,
                "watchfloor_hub_sensors_stale",
                "Sensors not heard from within stale_after.",
                n,
            )?;
        }
        gauge(
            o,
            "watchfloor_hub_ingest_in_flight",
            "Ingest requests being processed.",
            g.ingest_in_flight,
        )?;
        gauge(
            o,
            "watchfloor_hub_ingest_capacity",
            "Ingest requests processed at once before 429.",
            g.ingest_capacity,
        )?;
        Ok(())
    }
}

fn counter(o: &mut String, name: &str, help: &str, v: &AtomicU64) -> std::fmt::Result {
    writeln!(o, "# HELP {name} {help}")?;
    writeln!(o, "# TYPE {name} counter")?;
    writeln!(o, "{name} {}", v.load(Relaxed))
}

fn gauge(o: &mut String, name: &str, help: &str, v: u64) -> std::fmt::Result {
    writeln!(o, "# HELP {name} {help}")?;
    writeln!(o, "# TYPE {name} gauge")?;
    writeln!(o, "{name} {v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_histogram() {
        let m = Metrics::default();
        m.ingest_finished(200, Duration::from_millis(20));
        m.ingest_finished(200, Duration::from_millis(700));
        m.ingest_finished(429, Duration::from_micros(10));
        m.stored(10, 2);
        let g = Gauges {
            sensors: Some(3),
            sensors_stale: Some(1),
            ingest_in_flight: 0,
            ingest_capacity: 16,
        };
        let t = m.render(&g);
        assert!(
            t.contains("watchfloor_hub_ingest_requests_total{status=\"200\"} 2\n"),
            "{t}"
        );
        assert!(t.contains("watchfloor_hub_ingest_requests_total{status=\"429\"} 1\n"));
        assert!(t.contains("watchfloor_hub_events_stored_total 10\n"));
        assert!(t.contains("watchfloor_hub_ingest_duration_seconds_bucket{le=\"0.025\"} 2\n"));
        assert!(t.contains("watchfloor_hub_ingest_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(t.contains("watchfloor_hub_sensors_stale 1\n"));
        for line in t.lines().filter(|l| !l.starts_with('#')) {
            let v = line.rsplit(' ').next().unwrap();
            assert!(v.parse::<f64>().is_ok(), "{line}");
        }
    }
}
