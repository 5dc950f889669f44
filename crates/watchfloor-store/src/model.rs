//! What the store keeps: organisations, sensors and their tokens, heartbeats, events.
//!
//! Times are microseconds since the Unix epoch (`UnixMicros`): EVE timestamps carry
//! microseconds, and one integer type keeps both backends and the hub's arithmetic simple.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Microseconds since 1970-01-01T00:00:00Z.
pub type UnixMicros = i64;
pub type OrgId = i64;
pub type SensorId = i64;

pub const MICROS_PER_SEC: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// The kinds of organisation of DESIGN.md §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    National,
    Federal,
    State,
    Local,
    Vendor,
    Party,
    Platform,
}

impl OrgKind {
    pub const ALL: [OrgKind; 7] = [
        OrgKind::National,
        OrgKind::Federal,
        OrgKind::State,
        OrgKind::Local,
        OrgKind::Vendor,
        OrgKind::Party,
        OrgKind::Platform,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::National => "national",
            OrgKind::Federal => "federal",
            OrgKind::State => "state",
            OrgKind::Local => "local",
            OrgKind::Vendor => "vendor",
            OrgKind::Party => "party",
            OrgKind::Platform => "platform",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown organisation kind {s:?}"))
    }
}

/// An organisation to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrg {
    pub name: String,
    pub kind: OrgKind,
    /// Two-letter state or territory code (`"PA"`).
    pub state: Option<String>,
    /// Five-digit county FIPS code (`"42101"`), for local offices.
    pub county_fips: Option<String>,
    pub parent: Option<OrgId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub state: Option<String>,
    pub county_fips: Option<String>,
    pub parent: Option<OrgId>,
    pub created_at: UnixMicros,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sensor {
    pub id: SensorId,
    pub org_id: OrgId,
    pub name: String,
    pub created_at: UnixMicros,
}

/// A sensor's credential as issued. `plaintext` exists only in this value: the store keeps
/// its SHA-256 and can never show it again.
#[derive(Clone, PartialEq, Eq)]
pub struct SensorToken {
    pub token_id: i64,
    pub sensor_id: SensorId,
    pub plaintext: String,
}

impl fmt::Debug for SensorToken {
    // Keeps the secret out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SensorToken")
            .field("token_id", &self.token_id)
            .field("sensor_id", &self.sensor_id)
            .field("plaintext", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub sensor_id: SensorId,
    pub at: UnixMicros,
    /// The sensor's counters (packets, drops, decode errors, flows, alerts, spool depth...).
    pub counters: serde_json::Value,
}

/// A sensor with its health, as the watch floor shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorStatus {
    pub sensor: Sensor,
    pub last_heartbeat: Option<Heartbeat>,
    /// Not heard from within the threshold given to `list_sensors` (or never heard from).
    pub stale: bool,
    /// Every sequence number up to this one is stored.
    pub highest_contiguous_seq: u64,
}

/// One EVE record as the sensor shipped it. Sequence numbers start at 1 and are unique per
/// sensor for its lifetime: `(sensor_id, seq)` is the event's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    pub sensor_id: SensorId,
    pub seq: u64,
    pub schema_version: u32,
    /// The EVE JSON line, exactly as sent (no trailing newline needed).
    pub record: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IngestOutcome {
    pub inserted: u64,
    /// Records already stored (replays) or repeated within the batch.
    pub duplicates: u64,
    /// Every sequence in `1..=highest_contiguous_seq` is durably stored, so the sensor may drop
    /// them from its spool. 0 when sequence 1 has not arrived.
    pub highest_contiguous_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub sensor_id: SensorId,
    pub seq: u64,
    pub org_id: OrgId,
    pub ts: UnixMicros,
    pub event_type: String,
    pub signature_id: Option<i64>,
    pub src_ip: Option<String>,
    pub dest_ip: Option<String>,
    pub src_port: Option<i32>,
    pub dest_port: Option<i32>,
    pub proto: Option<String>,
    pub flow_id: Option<i64>,
    pub app_proto: Option<String>,
    pub schema_version: u32,
    /// Byte for byte what the sensor sent.
    pub record: Vec<u8>,
}

/// Where a page of events ends; pass it back to get the next (older) page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub ts: UnixMicros,
    pub sensor_id: SensorId,
    pub seq: u64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.ts, self.sensor_id, self.seq)
    }
}

impl FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("malformed cursor {s:?}");
        let mut it = s.split('.');
        let (Some(ts), Some(sensor), Some(seq), None) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(bad());
        };
        Ok(Cursor {
            ts: ts.parse().map_err(|_| bad())?,
            sensor_id: sensor.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// Which events to read. Every condition given must hold. `orgs` is what the caller may see
/// (the policy module decides); `None` means no restriction, `Some(vec![])` means nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    pub orgs: Option<Vec<OrgId>>,
    /// Inclusive lower bound on event time.
    pub from: Option<UnixMicros>,
    /// Exclusive upper bound on event time.
    pub to: Option<UnixMicros>,
    pub event_type: Option<String>,
    pub sensor: Option<SensorId>,
    /// Page size for `query_events` (default 100, at most 10,000); ignored by `count_events`.
    pub limit: Option<u32>,
    /// Continue after this event (pages go newest first).
    pub cursor: Option<Cursor>,
}

impl EventFilter {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 10_000;

    pub fn page_size(&self) -> usize {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT) as usize
    }
}

/// Newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// `Some` when more events may follow.
    pub next_cursor: Option<Cursor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RetentionReport {
    pub events_deleted: u64,
    /// Day buckets (SQLite tables or PostgreSQL partitions) dropped.
    pub buckets_dropped: u64,
    pub heartbeats_deleted: u64,
}
