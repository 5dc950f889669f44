//! TLS (and SSLv2-compatible hellos) over TCP, as Suricata 8 parses and
//! logs it.
//!
//! - [`record`]: records out of stream bytes, handshake messages across records.
//! - [`parser`]: ClientHello, ServerHello and Certificate bodies to values.
//! - [`cert`]: the first certificate's subject, issuer, serial, ... (x509-parser).
//! - [`ja3`], [`ja4`]: client and server fingerprints.
//! - [`state`]: per-flow [`TlsState`] (one transaction per flow, as Suricata).
//! - [`buffers`]: the sticky buffers rules inspect (`tls.sni`, `ja3.hash`, ...).
//! - [`eve`]: the EVE `tls` object (default, `extended`, `custom` fields).
//!
//! Sensor sketch:
//! ```
//! use watchfloor_applayer::{tls, Direction};
//! let client_hello: &[u8] = &[
//!     0x16, 0x03, 0x01, 0x00, 0x2d, 0x01, 0x00, 0x00, 0x29, 0x03, 0x03, // record, hello, version
//!     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // random
//!     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
//!     0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, // no session id, one suite, null compression
//! ];
//! assert_eq!(tls::probe(client_hello), tls::Probe::Tls(Direction::ToServer));
//! let mut state = tls::TlsState::new(tls::TlsConfig::default());
//! for chunk in client_hello.chunks(7) {
//!     let _ = state.parse(Direction::ToServer, chunk); // an error is also recorded as an event
//! }
//! state.eof();
//! let opts = tls::TlsEveOptions::from_config(&serde_json::json!({"extended": true}));
//! if state.log_ready() && tls::eve::should_log(&state, &opts) {
//!     let _obj = tls::eve_tls(&state, &opts); // wrap in the EVE envelope
//! }
//! assert!(tls::buffers::sni(&state).is_none());
//! ```

pub mod buffers;
pub mod cert;
pub mod error;
pub mod eve;
pub mod ja3;
pub mod ja4;
pub mod parser;
pub mod record;
pub mod state;
pub mod version;

#[cfg(test)]
mod tests_pcap;
#[cfg(test)]
pub(crate) mod testutil;

pub use cert::CertInfo;
pub use error::{TlsError, TlsEvent};
pub use eve::{eve_tls, TlsEveOptions, TlsEveRecord, TlsFields};
pub use ja3::Fingerprint;
pub use parser::{CertChain, Hello, HelloKind};
pub use state::{EncryptionHandling, Side, TlsConfig, TlsState};

use crate::Direction;

/// What a look at the first bytes of a direction says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// TLS; the direction the hello travels (a ClientHello goes to the server).
    Tls(Direction),
    NotTls,
    /// Too few bytes to decide.
    NeedMore,
}

/// Recognises TLS by content, whatever the port: a handshake record of
/// SSLv3..TLS 1.3 starting with a ClientHello or ServerHello, or an SSLv2
/// record carrying a ClientHello (Suricata's probing parser).
pub fn probe(data: &[u8]) -> Probe {
    let Some(&first) = data.first() else {
        return Probe::NeedMore;
    };
    if first & 0x80 != 0 {
        // SSLv2 2-byte header, then message type 1 and a version 0x0002/0x03xx.
        return match (data.get(2), data.get(3)) {
            (Some(1), Some(&major)) if major == 0 || major == 3 => Probe::Tls(Direction::ToServer),
            (Some(1), None) | (None, _) => Probe::NeedMore,
            _ => Probe::NotTls,
        };
    }
    if first != record::CT_HANDSHAKE {
        return Probe::NotTls;
    }
    match data.get(1) {
        None => return Probe::NeedMore,
        Some(3) => {}
        Some(_) => return Probe::NotTls,
    }
    match data.get(2) {
        None => return Probe::NeedMore,
        Some(&minor) if minor > 4 => return Probe::NotTls,
        Some(_) => {}
    }
    let len = match (data.get(3), data.get(4)) {
        (Some(&a), Some(&b)) => usize::from(u16::from_be_bytes([a, b])),
        _ => return Probe::NeedMore,
    };
    if !(4..=record::MAX_RECORD_LEN).contains(&len) {
        return Probe::NotTls;
    }
    match data.get(5) {
        None => Probe::NeedMore,
        Some(&parser::HS_CLIENT_HELLO) => Probe::Tls(Direction::ToServer),
        Some(&parser::HS_SERVER_HELLO) => Probe::Tls(Direction::ToClient),
        Some(_) => Probe::NotTls,
    }
}

#[cfg(test)]
mod probe_tests {
    use super::*;

    #[test]
    fn probe_by_content() {
        let ch = [0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00];
        assert_eq!(probe(&ch), Probe::Tls(Direction::ToServer));
        let sh = [0x16, 0x03, 0x03, 0x00, 0x40, 0x02];
        assert_eq!(probe(&sh), Probe::Tls(Direction::ToClient));
        for n in 0..6 {
            assert_eq!(probe(&ch[..n]), Probe::NeedMore, "prefix {n}");
        }
        assert_eq!(probe(b"GET / HTTP/1.1\r\n"), Probe::NotTls);
        assert_eq!(probe(&[0x16, 0x03, 0x05, 0, 0x40, 1]), Probe::NotTls);
        assert_eq!(probe(&[0x16, 0x02]), Probe::NotTls);
        assert_eq!(probe(&[0x16, 0x03, 0x01, 0, 0, 1]), Probe::NotTls);
        assert_eq!(probe(&[0x16, 0x03, 0x01, 0, 0x40, 11]), Probe::NotTls);
        assert_eq!(
            probe(&[0x80, 0x2e, 0x01, 0x03, 0x01]),
            Probe::Tls(Direction::ToServer)
        );
        assert_eq!(probe(&[0x80, 0x2e, 0x05, 0x03]), Probe::NotTls);
    }
}
