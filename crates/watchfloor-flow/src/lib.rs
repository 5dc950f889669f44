//! The flow table (see ARCHITECTURE.md).
//!
//! Suricata's flow semantics: a bidirectional flow per 5-tuple and VLAN ids,
//! "toserver" being the direction of the first packet (reversed when a TCP
//! session is picked up from its SYN/ACK), per-protocol and per-state
//! timeouts driven by packet time, a memory cap with emergency mode, the TCP
//! state machine with reassembly per direction, and EVE `flow` records.
//!
//! ```ignore
//! let mut table: FlowTable<MyState> = FlowTable::new(FlowConfig::default(), StreamConfig::default())?;
//! for pkt in packets { table.process(&pkt, &mut sink); }
//! table.flush_all(&mut sink);
//! ```

mod community_id;
mod config;
mod flow;
mod key;
mod record;
mod stats;
mod table;
mod tcp_state;

pub use community_id::community_id;
pub use config::{FlowConfig, FlowConfigError, Timeouts};
pub use flow::{EndReason, Flow, FlowState, MacSet};
pub use key::{Direction, FlowKey};
pub use record::FlowRecorder;
pub use stats::FlowStats;
pub use table::{FlowSink, FlowTable};
pub use tcp_state::{TcpSession, TcpState};
pub use watchfloor_stream::{StreamConfig, StreamEvent};
