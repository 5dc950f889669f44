//! The sensor's shipper: a disk spool that numbers every EVE record, envelopes that carry
//! the record verbatim, zstd NDJSON batches, and a send loop that resends until the hub
//! acknowledges. The HTTPS transport plugs in through [`shipper::Transport`].
//!
//! See README.md for the spool format and the design decisions.

pub mod batch;
pub mod envelope;
pub mod http;
pub mod live;
pub mod shipper;
pub mod spool;
#[cfg(test)]
mod testrng;

pub use batch::{Batch, BatchBuilder, BatchConfig, BatchError, Check};
pub use envelope::{Envelope, EnvelopeError, EnvelopeWriter};
pub use http::{HttpConfig, HttpError, HttpTransport, Trust};
pub use shipper::{
    Ack, Clock, ShipError, Shipper, ShipperConfig, SpoolAccess, Step, SystemClock, Transport,
    TransportError,
};
pub use spool::{Entry, EntryRef, Fsync, Records, Spool, SpoolConfig, SpoolError, SpoolStats};
