//! HTTP/1.0 and 1.1, parsed as Suricata 8 (libhtp) parses and logs it.
//!
//! - [`parser`]: start lines and header sections, as spans into one buffer
//!   per message head (no allocation per header).
//! - [`body`]: Content-Length, chunked and until-close bodies; gzip and
//!   deflate undone for inspection with size and ratio caps.
//! - [`state`]: per-flow [`HttpState`]: stream bytes of each direction in,
//!   [`HttpTx`] request/response pairs out (pipelining, keep-alive, 1xx,
//!   HEAD/204/304, CONNECT and 101 hand-over), events attached.
//! - [`buffers`]: the sticky buffers rules inspect (`http.uri`, ...).
//! - [`eve`]: the EVE `http` object.
//!
//! Sensor sketch:
//! ```
//! use watchfloor_applayer::{http, Direction};
//! assert_eq!(http::probe(b"GET / HTTP/1.1\r\n"), http::Probe::Yes(Direction::ToServer));
//! let mut state = http::HttpState::new(http::HttpConfig::default());
//! state.parse(Direction::ToServer, b"GET /a HTTP/1.1\r\nHost: example.org\r\n\r\n");
//! state.parse(Direction::ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
//! let opts = http::HttpEveOptions::default();
//! for tx in state.take_complete() {
//!     assert_eq!(http::buffers::uri(&tx), Some(&b"/a"[..]));
//!     let obj = http::eve_http(&tx, &opts); // wrap in the EVE envelope here
//!     assert_eq!(obj["status"], 200);
//! }
//! ```

pub mod body;
pub mod buffers;
pub mod config;
pub mod error;
pub mod eve;
pub mod parser;
pub mod state;
pub mod tx;
mod uri;

pub use body::{Body, Coding};
pub use error::{HttpError, HttpEvent};
pub use eve::{eve_http, HttpEveOptions, HttpEveRecord};
pub use parser::{Head, Header, Span, Version};
pub use state::{Handover, HttpConfig, HttpState, TunnelKind};
pub use tx::{HttpTx, Request, Response};

use crate::Direction;

/// What a look at the first bytes of one direction says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// HTTP; the direction these bytes travel (a request goes to the server).
    Yes(Direction),
    No,
    /// Too few bytes to decide.
    NeedMore,
}

/// Methods Suricata's HTTP detection looks for at the start of a stream.
const PROBE_METHODS: &[&[u8]] = &[
    b"GET",
    b"PUT",
    b"POST",
    b"HEAD",
    b"TRACE",
    b"OPTIONS",
    b"CONNECT",
    b"DELETE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"CHECKIN",
    b"UPDATE",
    b"LABEL",
    b"REPORT",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"MERGE",
];

/// Recognises HTTP by content, not port: a request method followed by a
/// space or tab, or `HTTP/` for a response; case-insensitive, at offset 0.
pub fn probe(data: &[u8]) -> Probe {
    let mut need_more = false;
    let resp = b"HTTP/";
    let n = data.len().min(resp.len());
    if data[..n].eq_ignore_ascii_case(&resp[..n]) {
        if n == resp.len() {
            return Probe::Yes(Direction::ToClient);
        }
        need_more = true;
    }
    for m in PROBE_METHODS {
        let n = data.len().min(m.len());
        if !data[..n].eq_ignore_ascii_case(&m[..n]) {
            continue;
        }
        match data.get(m.len()) {
            Some(b' ' | b'\t') => return Probe::Yes(Direction::ToServer),
            Some(_) => {}
            None => need_more = true,
        }
    }
    if need_more {
        Probe::NeedMore
    } else {
        Probe::No
    }
}

#[cfg(test)]
mod probe_tests {
    use super::*;

    #[test]
    fn probe_by_content() {
        assert_eq!(probe(b"GET / HTTP/1.1"), Probe::Yes(Direction::ToServer));
        assert_eq!(probe(b"post /x"), Probe::Yes(Direction::ToServer));
        assert_eq!(probe(b"HTTP/1.1 200 OK"), Probe::Yes(Direction::ToClient));
        assert_eq!(probe(b"GE"), Probe::NeedMore);
        assert_eq!(probe(b"GET"), Probe::NeedMore);
        assert_eq!(probe(b"HTT"), Probe::NeedMore);
        assert_eq!(probe(b""), Probe::NeedMore);
        assert_eq!(probe(b"GETX / HTTP/1.1"), Probe::No);
        assert_eq!(probe(b"\x16\x03\x01\x02\x00"), Probe::No);
        assert_eq!(probe(b"SSH-2.0-OpenSSH"), Probe::No);
    }
}

#[cfg(test)]
#[path = "tests_conformance.rs"]
mod tests_conformance;
