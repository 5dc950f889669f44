//! DNS over UDP and TCP, as Suricata 8 parses and logs it.
//!
//! - [`parser`]: bytes to [`DnsMessage`] (no I/O, no framing).
//! - [`state`]: per-flow [`DnsState`]: UDP datagrams and TCP stream bytes in,
//!   one [`DnsTransaction`] per message out (Suricata 8 makes requests and
//!   responses separate transactions), responses paired with their request
//!   by DNS id, anomaly events attached.
//! - [`buffers`]: the sticky buffers rules inspect (`dns.query`, ...).
//! - [`eve`]: the EVE `dns` object, v3 (default) or v2.
//!
//! Sensor sketch:
//! ```
//! use watchfloor_applayer::{dns, Direction};
//! let mut state = dns::DnsState::new(dns::DnsConfig::default());
//! let query = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 0, 0, 1, 0, 1];
//! let _ = state.parse_udp(Direction::ToServer, &query); // errors are also events
//! let opts = dns::DnsEveOptions::default();
//! for tx in state.drain() {
//!     for obj in dns::eve_dns(&tx, &opts) {
//!         assert_eq!(obj["type"], "request"); // wrap in the EVE envelope here
//!     }
//! }
//! ```

pub mod buffers;
pub mod error;
pub mod eve;
pub mod message;
pub mod parser;
pub mod state;
pub mod tcp;
pub mod types;

#[cfg(test)]
pub(crate) mod testutil;

pub use error::{DnsError, DnsEvent, HeaderProblem, ParseError, Section};
pub use eve::{eve_dns, eve_dns_records, DnsEveOptions, DnsEveRecord, DnsEveVersion};
pub use message::{
    DnsMessage, Header, Name, NameFlags, Opt, Question, RData, Record, Soa, Span, Srv,
};
pub use parser::parse_message;
pub use state::{DnsConfig, DnsState, DnsTransaction, Transport};
pub use types::{rcode_string, rrtype_name, rrtype_string};

use crate::Direction;
use message::{be16, HEADER_LEN};

/// What a look at the first bytes of a flow says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// DNS; the direction the message travels (a query goes to the server).
    Dns(Direction),
    NotDns,
    /// Too few bytes to decide.
    NeedMore,
}

/// Recognises a DNS message in a UDP payload by content, not port.
/// Returns the direction the message travels.
pub fn probe_udp(payload: &[u8]) -> Option<Direction> {
    if payload.len() < HEADER_LEN {
        return None;
    }
    match probe(payload, payload.len()) {
        Probe::Dns(d) => Some(d),
        _ => None,
    }
}

/// Recognises a length-prefixed DNS message at the start of a TCP stream.
pub fn probe_tcp(stream_start: &[u8]) -> Probe {
    match be16(stream_start, 0) {
        Some(len) if stream_start.len() >= HEADER_LEN + 2 => {
            probe(stream_start.get(2..).unwrap_or(&[]), usize::from(len))
        }
        _ => Probe::NeedMore,
    }
}

/// Suricata's probe: a complete message must parse, a partial one only
/// needs a plausible header for the announced length.
fn probe(input: &[u8], msg_len: usize) -> Probe {
    let input = input.get(..msg_len).unwrap_or(input);
    let dir = |h: &Header| {
        if h.qr() {
            Direction::ToClient
        } else {
            Direction::ToServer
        }
    };
    if input.len() < msg_len {
        return match Header::parse(input) {
            Ok(h) if h.check(msg_len).is_ok() => Probe::Dns(dir(&h)),
            _ => Probe::NotDns,
        };
    }
    match parse_message(input) {
        Ok(m) => Probe::Dns(dir(&m.header)),
        Err(ParseError::Truncated { .. }) => Probe::NeedMore,
        Err(_) => Probe::NotDns,
    }
}
