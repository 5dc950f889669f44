//! The detection engine: Suricata rules (parsed by `watchfloor-rules`)
//! compiled into groups by where they run (IP-only, packet header, packet
//! payload, TCP stream, app-layer transaction), each group behind a
//! multi-pattern prefilter, then checked in full on candidates only.
//!
//! The sensor calls [`Engine::inspect_packet`], [`Engine::inspect_stream`]
//! and [`Engine::inspect_tx`]; matches come back as [`Alert`]s the sensor
//! renders as EVE `alert` records.

pub mod addr;
pub mod compile;
mod engine;
mod eval;
pub mod inspect;
mod intern;
pub mod prefilter;
pub mod state;

pub use engine::{
    Alert, BuildError, Ctx, Engine, EngineStats, FlowInfo, Headers, Scratch, TxSource,
};
pub use state::FlowDetect;
