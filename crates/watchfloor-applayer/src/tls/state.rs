//! Per-flow TLS state: in-order stream bytes of each direction in, the
//! handshake's facts out.
//!
//! Suricata keeps one transaction per TLS flow, logged once the handshake is
//! done (or at the end of the flow): so does [`TlsState`]. After
//! ChangeCipherSpec the handshake is encrypted and is not parsed; application
//! data is counted and skipped (Suricata's default `encryption-handling:
//! track-only`). The first fatal error (Suricata's `APP_LAYER_ERROR`) stops
//! parsing of the flow in both directions; the facts gathered so far stay.

use super::cert::{self, CertInfo};
use super::error::{TlsError, TlsEvent};
use super::ja3::{self, Fingerprint};
use super::ja4;
use super::parser::{self, CertChain, Hello, HelloKind};
use super::record::{self, Frame, Framer, Reassembly, RecordHeader, Sslv2Header};
use super::version::{self, TLS_V10, TLS_V11, TLS_V12};
use crate::Direction;

/// `app-layer.protocols.tls.encryption-handling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncryptionHandling {
    /// Keep following records (counting application data), inspect nothing.
    #[default]
    TrackOnly,
    /// Stop parsing at the first application data; the sensor may bypass
    /// the flow ([`TlsState::bypass_ready`]).
    Bypass,
    /// As track-only here: payload inspection is the detector's business.
    Full,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// `ja3-fingerprints`: compute JA3/JA3S. Suricata's default (`auto`)
    /// enables them only when a loaded rule uses a ja3 keyword; the sensor
    /// resolves that and sets this.
    pub ja3_fingerprints: bool,
    /// `ja4-fingerprints`, resolved the same way.
    pub ja4_fingerprints: bool,
    pub encryption_handling: EncryptionHandling,
    /// Largest handshake message buffered across records. Certificate
    /// chains are the big ones (tens of KiB); a message announcing more is
    /// an error (`handshake_invalid_length`), so a 16 MiB claim costs nothing.
    pub max_handshake_message: usize,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            ja3_fingerprints: false,
            ja4_fingerprints: false,
            encryption_handling: EncryptionHandling::TrackOnly,
            max_handshake_message: 256 * 1024,
        }
    }
}

/// What one direction sent. `client` is the flow's initiator (to_server).
#[derive(Debug, Default)]
pub struct Side {
    /// The first Client/ServerHello of this direction.
    pub hello: Option<Hello>,
    /// Suricata's per-direction version: the hello's (ServerHello:
    /// supported_versions if present; legacy drafts before 16 folded),
    /// else the last record header's; `0x0200` for SSLv2.
    pub version: u16,
    /// Certificates of the first Certificate message.
    pub certs: CertChain,
    /// The decoded first certificate.
    pub cert: Option<CertInfo>,
    /// JA3 (client) or JA3S (server), when enabled.
    pub ja3: Option<Fingerprint>,
    /// JA4 of the ClientHello, when enabled.
    pub ja4: Option<String>,
    pub change_cipher_spec: bool,
    pub app_data_records: u64,
    pub app_data_bytes: u64,
    /// Handshake messages seen (including skipped ones).
    pub handshake_messages: u64,
    /// A certificate message was seen (even if undecodable).
    pub cert_seen: bool,
}

impl Side {
    pub fn sni(&self) -> Option<&[u8]> {
        self.hello.as_ref()?.sni.as_deref()
    }
}

#[derive(Debug, Default)]
struct Dir {
    framer: Framer,
    hs: Reassembly,
}

/// Events kept per flow; a flow that keeps misbehaving cannot grow this.
const MAX_EVENTS: usize = 64;
/// Suricata's floor on the bytes per record when counting records per call.
const MIN_RECORD_LEN: usize = 6;

#[derive(Debug)]
pub struct TlsState {
    config: TlsConfig,
    pub client: Side,
    pub server: Side,
    /// Session resumption as Suricata flags it: a ClientHello with a
    /// session_ticket extension, or a ServerHello echoing the client's
    /// non-empty session id. Logged only without a certificate.
    pub session_resumed: bool,
    /// A TLS 1.3 (or draft) ServerHello: no cleartext certificate will come,
    /// so the flow is logged without one.
    pub log_without_cert: bool,
    /// The server sent a CertificateRequest.
    pub client_cert_requested: bool,
    early_data: bool,
    fatal_alert: bool,
    eof: bool,
    failed: Option<TlsError>,
    bypass: bool,
    hb_inflight: Option<Direction>,
    hb_record_len: usize,
    dirs: [Dir; 2],
    events: Vec<TlsEvent>,
}

impl TlsState {
    pub fn new(config: TlsConfig) -> Self {
        TlsState {
            config,
            client: Side::default(),
            server: Side::default(),
            session_resumed: false,
            log_without_cert: false,
            client_cert_requested: false,
            early_data: false,
            fatal_alert: false,
            eof: false,
            failed: None,
            bypass: false,
            hb_inflight: None,
            hb_record_len: 0,
            dirs: Default::default(),
            events: Vec::new(),
        }
    }

    pub fn config(&self) -> &TlsConfig {
        &self.config
    }

    pub fn side(&self, dir: Direction) -> &Side {
        match dir {
            Direction::ToServer => &self.client,
            Direction::ToClient => &self.server,
        }
    }

    fn side_mut(&mut self, dir: Direction) -> &mut Side {
        match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        }
    }

    /// Anomalies raised so far, oldest first, each once.
    pub fn events(&self) -> &[TlsEvent] {
        &self.events
    }

    pub fn app_events(&self) -> impl Iterator<Item = crate::AppEvent> + '_ {
        self.events.iter().map(|&e| e.into())
    }

    /// The error that stopped parsing, if one did.
    pub fn error(&self) -> Option<TlsError> {
        self.failed
    }

    /// `encryption-handling: bypass` and encrypted data has started: the
    /// sensor may stop feeding (and reassembling) this flow.
    pub fn bypass_ready(&self) -> bool {
        self.bypass
    }

    /// Bytes held for partial records and handshake messages.
    pub fn buffered(&self) -> usize {
        self.dirs
            .iter()
            .map(|d| d.framer.buffered() + d.hs.data.capacity())
            .sum()
    }

    /// The handshake is over as far as logging goes (Suricata's
    /// `SERVER_HANDSHAKE_DONE` and `CLIENT_HANDSHAKE_DONE`), or parsing
    /// stopped, or the flow ended: time to write the `tls` record.
    pub fn log_ready(&self) -> bool {
        if self.failed.is_some() || self.eof || self.fatal_alert {
            return true;
        }
        let server_done = self.server.cert.is_some() || self.server.app_data_records > 0;
        let client_done = self.client.change_cipher_spec || self.client.app_data_records > 0;
        server_done && client_done
    }

    /// The flow ended (FIN/RST or timeout).
    pub fn eof(&mut self) {
        self.eof = true;
    }

    fn event(&mut self, e: TlsEvent) {
        if self.events.len() < MAX_EVENTS && !self.events.contains(&e) {
            self.events.push(e);
        }
    }

    fn fail(&mut self, e: TlsError) -> Result<(), TlsError> {
        self.event(e.event());
        self.failed = Some(e);
        for d in &mut self.dirs {
            d.framer.reset();
            d.hs = Reassembly::default();
        }
        Err(e)
    }

    /// Bytes of one direction were lost: a partial record cannot be finished.
    pub fn gap(&mut self, dir: Direction) {
        let d = &mut self.dirs[dir.index()];
        d.framer.reset();
        d.hs = Reassembly::default();
    }

    /// In-order stream bytes of one direction, any segmentation. After an
    /// error further calls do nothing and return `Ok`.
    pub fn parse(&mut self, dir: Direction, data: &[u8]) -> Result<(), TlsError> {
        if self.failed.is_some() || self.bypass || data.is_empty() {
            return Ok(());
        }
        // Whole records in the input are at least MIN_RECORD_LEN bytes;
        // one finished from buffered bytes and one started may be shorter.
        let max_records = data.len() / MIN_RECORD_LEN + 2;
        let mut records = 0usize;
        let mut input = data;
        while !input.is_empty() && !self.bypass {
            let mut framer = std::mem::take(&mut self.dirs[dir.index()].framer);
            let mut scratch = Vec::new();
            let frame = framer.next(&mut input, &mut scratch, |h| self.check_header(dir, h));
            self.dirs[dir.index()].framer = framer;
            if matches!(frame, Ok(Frame::Incomplete)) {
                continue;
            }
            records += 1;
            if records > max_records {
                return self.fail(TlsError::TooManyRecords);
            }
            match frame {
                Err(e) => return self.fail(e),
                Ok(Frame::Incomplete) => {}
                Ok(Frame::AppData(h)) => self.app_data(dir, &h),
                Ok(Frame::Record(h, body)) => self.record(dir, &h, body)?,
                Ok(Frame::Sslv2(h, body)) => self.sslv2(dir, &h, body)?,
            }
        }
        Ok(())
    }

    /// Suricata's header checks, in its order, with its version tracking:
    /// a direction's version follows the record headers until its hello.
    fn check_header(&mut self, dir: Direction, h: &RecordHeader) -> Result<(), TlsError> {
        let prev = self.side(dir).version;
        let hello_seen = self.side(dir).hello.is_some() && prev != 0;
        if !h.is_known_type() {
            if prev == TLS_V10 || prev == TLS_V11 {
                // Tolerated by Suricata (after Wireshark) for these versions.
                self.event(TlsEvent::InvalidRecordType);
                return Ok(());
            }
            return Err(TlsError::InvalidRecordType(h.content_type));
        }
        if !hello_seen {
            self.side_mut(dir).version = h.version;
        }
        if h.length == 0 || h.length > record::MAX_RECORD_LEN {
            return Err(TlsError::InvalidRecordLength(h.length));
        }
        let v = self.side(dir).version;
        if !version::is_valid(v) {
            return Err(TlsError::InvalidRecordVersion(v));
        }
        Ok(())
    }

    fn app_data(&mut self, dir: Direction, h: &RecordHeader) {
        let side = self.side_mut(dir);
        side.app_data_records += 1;
        side.app_data_bytes += h.length as u64;
        let zero_rtt = self.early_data && self.server.hello.is_none();
        if self.config.encryption_handling == EncryptionHandling::Bypass && !zero_rtt {
            self.bypass = true;
        }
    }

    fn record(&mut self, dir: Direction, h: &RecordHeader, body: &[u8]) -> Result<(), TlsError> {
        match h.content_type {
            record::CT_CHANGE_CIPHER_SPEC => self.side_mut(dir).change_cipher_spec = true,
            record::CT_ALERT => {
                if body.len() < 2 {
                    return self.fail(TlsError::InvalidAlert);
                }
                // A longer alert is an encrypted one; level 2 is fatal.
                if body.len() == 2 && body[0] == 2 {
                    self.fatal_alert = true;
                }
            }
            record::CT_HANDSHAKE => return self.handshake_record(dir, body),
            record::CT_HEARTBEAT => return self.heartbeat(dir, body),
            // Unknown types tolerated by check_header.
            _ => {}
        }
        Ok(())
    }

    fn encrypted(&self) -> bool {
        self.client.change_cipher_spec || self.server.change_cipher_spec
    }

    fn handshake_record(&mut self, dir: Direction, body: &[u8]) -> Result<(), TlsError> {
        // Each direction's own ChangeCipherSpec encrypts what it sends next.
        // (Suricata looks at either direction's; the sensor may deliver one
        // direction's bytes late, so the direction's own flag is the one
        // that cannot skip a cleartext certificate.)
        if self.side(dir).change_cipher_spec {
            // TLS 1.3 middlebox-compatibility CCS may precede a second
            // ClientHello (after HelloRetryRequest): keep parsing then.
            let tls13_client = self.client.hello.is_some()
                && self.client.version > TLS_V12
                && self.server.hello.is_none();
            if !tls13_client {
                return Ok(());
            }
        }
        if body.len() < 4 && !self.dirs[dir.index()].hs.active() {
            return self.fail(TlsError::ShortHandshakeRecord(body.len()));
        }
        let mut input = body;
        while !input.is_empty() {
            let hs = &mut self.dirs[dir.index()].hs;
            if hs.active() {
                let n = hs.add(input);
                input = &input[n..];
                if hs.complete() {
                    let msg = std::mem::take(hs);
                    self.handshake_message(dir, msg.msg_type, &msg.data);
                }
                continue;
            }
            let mut c = parser::Cursor::new(input);
            let (Some(t), Some(len)) = (c.u8(), c.u24()) else {
                self.event(TlsEvent::InvalidHandshakeMessage);
                return self.fail(TlsError::ShortHandshakeRecord(input.len()));
            };
            input = c.rest();
            self.side_mut(dir).handshake_messages += 1;
            if !parser::is_known_handshake_type(t) {
                input = &input[len.min(input.len())..];
                if !self.side(dir).change_cipher_spec {
                    self.event(TlsEvent::InvalidHandshakeMessage);
                }
                continue;
            }
            if len <= input.len() {
                let (msg, rest) = input.split_at(len);
                input = rest;
                self.handshake_message(dir, t, msg);
            } else {
                let cap = self.config.max_handshake_message;
                if len > cap {
                    return self.fail(TlsError::HandshakeTooLarge { len, cap });
                }
                let hs = &mut self.dirs[dir.index()].hs;
                hs.msg_type = t;
                hs.len = len;
                // Reserve what this record brings, not what the header claims.
                hs.data.reserve_exact(input.len());
                hs.add(input);
                input = &[];
            }
        }
        Ok(())
    }

    fn handshake_message(&mut self, dir: Direction, t: u8, body: &[u8]) {
        let mut events = Vec::new();
        match t {
            // Only the first hello of a direction counts (a second
            // ClientHello after HelloRetryRequest changes no fingerprint).
            parser::HS_CLIENT_HELLO
                if dir == Direction::ToServer && self.client.hello.is_none() =>
            {
                let h = parser::parse_hello(HelloKind::Client, body, &mut events);
                self.client_hello(h);
            }
            parser::HS_SERVER_HELLO
                if dir == Direction::ToClient && self.server.hello.is_none() =>
            {
                let h = parser::parse_hello(HelloKind::Server, body, &mut events);
                self.server_hello(h);
            }
            parser::HS_CERTIFICATE => {
                let side = self.side_mut(dir);
                if !side.cert_seen {
                    side.cert_seen = true;
                    side.certs = parser::parse_certificates(body, &mut events);
                    side.cert = side
                        .certs
                        .get(0)
                        .and_then(|der| cert::decode(der, &mut events));
                }
            }
            parser::HS_CERTIFICATE_REQUEST if dir == Direction::ToClient => {
                self.client_cert_requested = true;
            }
            _ => {}
        }
        for e in events {
            self.event(e);
        }
    }

    fn client_hello(&mut self, h: Hello) {
        // Suricata's client version: the first valid supported_versions
        // entry, else the legacy field.
        let sv = h
            .supported_versions
            .iter()
            .copied()
            .find(|&v| version::is_valid(v));
        self.client.version = sv.unwrap_or(h.version);
        if h.session_ticket {
            self.session_resumed = true;
        }
        self.early_data = h.early_data;
        if h.fingerprintable {
            if self.config.ja3_fingerprints {
                self.client.ja3 = Some(ja3::fingerprint(&h));
            }
            if self.config.ja4_fingerprints {
                self.client.ja4 = Some(ja4::ja4(&h, false));
            }
        }
        self.client.hello = Some(h);
    }

    fn server_hello(&mut self, h: Hello) {
        let client_sv = self
            .client
            .hello
            .as_ref()
            .is_some_and(|c| c.has_extension(parser::EXT_SUPPORTED_VERSIONS));
        if h.version == version::TLS_V13 || h.version >> 8 == 0x7f {
            self.log_without_cert = true;
        }
        self.server.version = version::fold_legacy(h.version);
        if let Some(&v) = h.supported_versions.first() {
            if client_sv && v > TLS_V12 {
                self.log_without_cert = true;
            }
            self.server.version = v;
        }
        let echoed = self
            .client
            .hello
            .as_ref()
            .is_some_and(|c| !c.session_id.is_empty() && c.session_id == h.session_id);
        if echoed {
            self.session_resumed = true;
        }
        if h.fingerprintable && self.config.ja3_fingerprints {
            self.server.ja3 = Some(ja3::fingerprint(&h));
        }
        self.server.hello = Some(h);
    }

    fn sslv2(&mut self, dir: Direction, _h: &Sslv2Header, body: &[u8]) -> Result<(), TlsError> {
        const MT_ERROR: u8 = 0;
        const MT_CLIENT_HELLO: u8 = 1;
        const MT_SERVER_HELLO: u8 = 4;
        let Some((&mt, rest)) = body.split_first() else {
            self.event(TlsEvent::InvalidSslv2Header);
            return self.fail(TlsError::InvalidSslv2);
        };
        self.side_mut(dir).version = version::SSL_V2;
        match mt {
            MT_ERROR => self.event(TlsEvent::ErrorMessageEncountered),
            MT_CLIENT_HELLO => {
                // version, cipher-spec length, session-id length.
                let Some(v) = rest.get(..6) else {
                    return self.fail(TlsError::InvalidSslv2);
                };
                // An SSLv2-compatible hello offering SSLv3/TLS: the client
                // speaks the offered version from here on.
                self.client.version = u16::from_be_bytes([v[0], v[1]]);
            }
            MT_SERVER_HELLO => {}
            _ => {}
        }
        Ok(())
    }

    /// RFC 6520 heartbeats, with Suricata's heartbleed checks.
    fn heartbeat(&mut self, dir: Direction, body: &[u8]) -> Result<(), TlsError> {
        if body.len() < 3 {
            return Ok(());
        }
        let encrypted = self.encrypted();
        let hb_type = body[0];
        if !encrypted && hb_type != 1 && hb_type != 2 {
            return self.fail(TlsError::InvalidHeartbeat(
                TlsEvent::InvalidHeartbeatMessage,
            ));
        }
        match self.hb_inflight {
            None => {
                self.hb_inflight = Some(dir);
                if encrypted {
                    self.hb_record_len = body.len();
                    return Ok(());
                }
                let payload = usize::from(u16::from_be_bytes([body[1], body[2]]));
                if payload + 3 > body.len() {
                    return self.fail(TlsError::InvalidHeartbeat(
                        TlsEvent::OverflowHeartbeatMessage,
                    ));
                }
                if body.len() - payload - 3 < 16 {
                    return self.fail(TlsError::InvalidHeartbeat(
                        TlsEvent::InvalidHeartbeatMessage,
                    ));
                }
            }
            Some(d) if d == dir => {
                return self.fail(TlsError::InvalidHeartbeat(
                    TlsEvent::InvalidHeartbeatMessage,
                ));
            }
            Some(_) => {
                self.hb_inflight = None;
                if encrypted && self.hb_record_len > 0 && self.hb_record_len < body.len() {
                    self.hb_record_len = 0;
                    return self.fail(TlsError::InvalidHeartbeat(
                        TlsEvent::DataleakHeartbeatMismatch,
                    ));
                }
                self.hb_record_len = 0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tests_state.rs"]
mod tests;
