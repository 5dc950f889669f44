//! The event model shared by every Watchfloor component.
//!
//! Records are Suricata's EVE JSON: the same field names, types and meanings as
//! `suricata/etc/schema.json`. Types here serialise with serde so that the
//! sensor writes them and the hub reads them with one definition.

mod record;
mod time;

pub use record::{
    ip_string, AnomalyInfo, EtherInfo, EveRecord, EventBody, FlowInfo, Proto, RawField, RawFields,
    StatsInfo, TcpInfo,
};
pub use time::{format_timestamp, Timestamp};
