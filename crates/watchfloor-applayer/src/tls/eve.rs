//! The EVE `tls` object, as Suricata 8 writes it (`src/output-json-tls.c`).
//!
//! Without options Suricata logs the basic fields (subject, issuerdn,
//! subjectaltname, plus session_resumed); `extended: yes` adds version,
//! serial, fingerprint, validity, ja3/ja3s/ja4 (when computed), ALPNs, sni
//! and the client certificate; `custom: [...]` names the fields one by one.
//! Keys are written in Suricata's order ([`TlsEveRecord`] serialises
//! straight from the state); [`eve_tls`] is the `serde_json::Value`
//! convenience.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::cert::{base64, format_time, CertInfo};
use super::parser::{CertChain, Hello};
use super::state::{Side, TlsState};
use super::version::{is_grease, is_named, is_valid, version_string};

/// A set of `tls` fields (Suricata's `LOG_TLS_FIELD_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TlsFields(u32);

impl TlsFields {
    pub const VERSION: TlsFields = TlsFields(1 << 0);
    pub const SUBJECT: TlsFields = TlsFields(1 << 1);
    pub const ISSUER: TlsFields = TlsFields(1 << 2);
    pub const SERIAL: TlsFields = TlsFields(1 << 3);
    pub const FINGERPRINT: TlsFields = TlsFields(1 << 4);
    pub const NOT_BEFORE: TlsFields = TlsFields(1 << 5);
    pub const NOT_AFTER: TlsFields = TlsFields(1 << 6);
    pub const SNI: TlsFields = TlsFields(1 << 7);
    pub const CERTIFICATE: TlsFields = TlsFields(1 << 8);
    pub const CHAIN: TlsFields = TlsFields(1 << 9);
    pub const SESSION_RESUMED: TlsFields = TlsFields(1 << 10);
    pub const JA3: TlsFields = TlsFields(1 << 11);
    pub const JA3S: TlsFields = TlsFields(1 << 12);
    pub const CLIENT: TlsFields = TlsFields(1 << 13);
    pub const CLIENT_CERTIFICATE: TlsFields = TlsFields(1 << 14);
    pub const CLIENT_CHAIN: TlsFields = TlsFields(1 << 15);
    pub const JA4: TlsFields = TlsFields(1 << 16);
    pub const SUBJECTALTNAME: TlsFields = TlsFields(1 << 17);
    pub const CLIENT_ALPNS: TlsFields = TlsFields(1 << 18);
    pub const SERVER_ALPNS: TlsFields = TlsFields(1 << 19);
    pub const CLIENT_HANDSHAKE: TlsFields = TlsFields(1 << 20);
    pub const SERVER_HANDSHAKE: TlsFields = TlsFields(1 << 21);

    /// What Suricata logs without `extended` or `custom`.
    pub const BASIC: TlsFields =
        TlsFields(Self::SUBJECT.0 | Self::ISSUER.0 | Self::SUBJECTALTNAME.0);
    /// `extended: yes`.
    pub const EXTENDED: TlsFields = TlsFields(
        Self::BASIC.0
            | Self::VERSION.0
            | Self::SERIAL.0
            | Self::FINGERPRINT.0
            | Self::NOT_BEFORE.0
            | Self::NOT_AFTER.0
            | Self::JA3.0
            | Self::JA3S.0
            | Self::JA4.0
            | Self::CLIENT.0
            | Self::CLIENT_ALPNS.0
            | Self::SERVER_ALPNS.0
            | Self::SNI.0,
    );

    /// A `custom:` entry, case-insensitive; `None` for names Suricata
    /// does not know (it warns and ignores them).
    pub fn from_name(name: &str) -> Option<TlsFields> {
        const NAMES: [(&str, TlsFields); 22] = [
            ("version", TlsFields::VERSION),
            ("subject", TlsFields::SUBJECT),
            ("issuer", TlsFields::ISSUER),
            ("serial", TlsFields::SERIAL),
            ("fingerprint", TlsFields::FINGERPRINT),
            ("not_before", TlsFields::NOT_BEFORE),
            ("not_after", TlsFields::NOT_AFTER),
            ("sni", TlsFields::SNI),
            ("certificate", TlsFields::CERTIFICATE),
            ("chain", TlsFields::CHAIN),
            ("session_resumed", TlsFields::SESSION_RESUMED),
            ("ja3", TlsFields::JA3),
            ("ja3s", TlsFields::JA3S),
            ("client", TlsFields::CLIENT),
            ("client_certificate", TlsFields::CLIENT_CERTIFICATE),
            ("client_chain", TlsFields::CLIENT_CHAIN),
            ("ja4", TlsFields::JA4),
            ("subjectaltname", TlsFields::SUBJECTALTNAME),
            ("client_alpns", TlsFields::CLIENT_ALPNS),
            ("server_alpns", TlsFields::SERVER_ALPNS),
            ("client_handshake", TlsFields::CLIENT_HANDSHAKE),
            ("server_handshake", TlsFields::SERVER_HANDSHAKE),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, f)| f)
    }

    pub fn contains(self, other: TlsFields) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for TlsFields {
    type Output = TlsFields;
    fn bitor(self, rhs: TlsFields) -> TlsFields {
        TlsFields(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for TlsFields {
    fn bitor_assign(&mut self, rhs: TlsFields) {
        self.0 |= rhs.0;
    }
}

/// The eve-log `tls` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsEveOptions {
    pub fields: TlsFields,
    /// `session-resumption` (default yes): also log flows resumed without
    /// a certificate.
    pub session_resumption: bool,
}

impl Default for TlsEveOptions {
    /// `- tls` with no options.
    fn default() -> Self {
        TlsEveOptions {
            fields: TlsFields::BASIC | TlsFields::SESSION_RESUMED,
            session_resumption: true,
        }
    }
}

/// Suricata's `ConfValIsTrue`: booleans, and 1/yes/true/on as text.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64() == Some(1),
        Value::String(s) => ["1", "yes", "true", "on"]
            .iter()
            .any(|t| s.eq_ignore_ascii_case(t)),
        _ => false,
    }
}

impl TlsEveOptions {
    /// `extended: yes`.
    pub fn extended() -> Self {
        TlsEveOptions {
            fields: TlsFields::EXTENDED | TlsFields::SESSION_RESUMED,
            session_resumption: true,
        }
    }

    /// From the eve type's options object (`{"extended": true, "custom":
    /// [...], "session-resumption": false}`); anything else (null, a bare
    /// `tls`) gives the defaults. Unknown keys and field names are ignored.
    pub fn from_config(conf: &Value) -> Self {
        let mut fields = TlsFields::BASIC;
        if conf.get("extended").is_some_and(truthy) {
            fields = TlsFields::EXTENDED;
        }
        if let Some(custom) = conf.get("custom") {
            fields = TlsFields::default();
            let names = custom.as_array().map(Vec::as_slice).unwrap_or(&[]);
            for f in names
                .iter()
                .filter_map(Value::as_str)
                .filter_map(TlsFields::from_name)
            {
                fields |= f;
            }
        }
        let session_resumption = conf.get("session-resumption").is_none_or(truthy);
        if session_resumption {
            fields |= TlsFields::SESSION_RESUMED;
        }
        if fields.contains(TlsFields::CLIENT_CERTIFICATE)
            || fields.contains(TlsFields::CLIENT_CHAIN)
        {
            fields |= TlsFields::CLIENT;
        }
        TlsEveOptions {
            fields,
            session_resumption,
        }
    }
}

/// Whether Suricata writes a `tls` record for this flow at all: it needs
/// the server certificate's subject and issuer, or a resumed session (with
/// `session-resumption`), or a TLS 1.3 handshake (no cleartext certificate).
pub fn should_log(state: &TlsState, opts: &TlsEveOptions) -> bool {
    state.server.cert.is_some()
        || (state.session_resumed && opts.session_resumption)
        || state.log_without_cert
}

/// The `tls` object of a flow (the sensor adds the envelope and, after
/// STARTTLS-like upgrades, `from_proto`).
pub fn eve_tls(state: &TlsState, opts: &TlsEveOptions) -> Value {
    serde_json::to_value(TlsEveRecord { state, opts }).unwrap_or(Value::Null)
}

/// The `tls` object, serialising in Suricata's key order.
#[derive(Debug, Clone, Copy)]
pub struct TlsEveRecord<'a> {
    pub state: &'a TlsState,
    pub opts: &'a TlsEveOptions,
}

struct Lossy<'a>(&'a [u8]);

impl Serialize for Lossy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(self.0))
    }
}

struct Alpns<'a>(&'a Hello);

impl Serialize for Alpns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for a in self.0.alpns() {
            seq.serialize_element(&Lossy(a))?;
        }
        seq.end()
    }
}

struct Chain<'a>(&'a CertChain);

impl Serialize for Chain<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for der in self.0.iter() {
            seq.serialize_element(&base64(der))?;
        }
        seq.end()
    }
}

struct Ja3Obj<'a>(&'a super::ja3::Fingerprint);

impl Serialize for Ja3Obj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("hash", &self.0.hash)?;
        m.serialize_entry("string", &self.0.string)?;
        m.end()
    }
}

fn no_grease(v: &[u16]) -> Vec<u16> {
    v.iter().copied().filter(|&x| !is_grease(x)).collect()
}

/// `client_handshake` / `server_handshake` (Suricata's `HandshakeParams`).
struct Handshake<'a>(&'a Hello);

impl Serialize for Handshake<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = self.0;
        let server = h.kind == super::HelloKind::Server;
        // Suricata tracks the highest of the legacy field and (client only)
        // the first valid supported_versions entry.
        let mut v = if is_grease(h.version) { 0 } else { h.version };
        if !server {
            if let Some(&sv) = h.supported_versions.iter().find(|&&x| is_valid(x)) {
                v = v.max(sv);
            }
        }
        let mut m = s.serialize_map(None)?;
        if is_named(v) {
            m.serialize_entry("version", &version_string(v))?;
        }
        let ciphers = no_grease(&h.ciphers);
        if server {
            m.serialize_entry("cipher", &ciphers.first().copied().unwrap_or(0))?;
        } else if !ciphers.is_empty() {
            m.serialize_entry("ciphers", &ciphers)?;
        }
        let exts = no_grease(&h.extensions);
        if !exts.is_empty() {
            m.serialize_entry("exts", &exts)?;
        }
        let sigs = no_grease(&h.signature_algorithms);
        if !server && !sigs.is_empty() {
            m.serialize_entry("sig_algs", &sigs)?;
        }
        m.end()
    }
}

fn cert_fields<M: SerializeMap>(
    m: &mut M,
    c: &CertInfo,
    side: &Side,
    log_cert: bool,
    log_chain: bool,
) -> Result<(), M::Error> {
    m.serialize_entry("subject", &c.subject)?;
    m.serialize_entry("issuerdn", &c.issuer)?;
    m.serialize_entry("fingerprint", &c.fingerprint)?;
    m.serialize_entry("serial", &c.serial)?;
    if c.not_before != 0 {
        m.serialize_entry("notbefore", &format_time(c.not_before))?;
    }
    if c.not_after != 0 {
        m.serialize_entry("notafter", &format_time(c.not_after))?;
    }
    if let Some(der) = side.certs.get(0).filter(|_| log_cert) {
        m.serialize_entry("certificate", &base64(der))?;
    }
    if log_chain && !side.certs.is_empty() {
        m.serialize_entry("chain", &Chain(&side.certs))?;
    }
    Ok(())
}

struct ClientObj<'a>(&'a Side, TlsFields);

impl Serialize for ClientObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(c) = &self.0.cert {
            let log_cert = self.1.contains(TlsFields::CLIENT_CERTIFICATE);
            let log_chain = self.1.contains(TlsFields::CLIENT_CHAIN);
            cert_fields(&mut m, c, self.0, log_cert, log_chain)?;
        }
        m.end()
    }
}

impl Serialize for TlsEveRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let st = self.state;
        let f = self.opts.fields;
        let has = |x| f.contains(x);
        let srv = &st.server;
        let cert = srv.cert.as_ref();
        let mut m = s.serialize_map(None)?;
        if let Some(c) = cert {
            if has(TlsFields::SUBJECT) {
                m.serialize_entry("subject", &c.subject)?;
            }
            if has(TlsFields::ISSUER) {
                m.serialize_entry("issuerdn", &c.issuer)?;
            }
            if has(TlsFields::SUBJECTALTNAME) && !c.sans.is_empty() {
                m.serialize_entry("subjectaltname", &c.sans)?;
            }
        }
        // Resumed means no certificate, a ServerHello, and not TLS 1.3.
        if has(TlsFields::SESSION_RESUMED)
            && st.session_resumed
            && cert.is_none()
            && srv.hello.is_some()
            && !st.log_without_cert
        {
            m.serialize_entry("session_resumed", &true)?;
        }
        if let Some(c) = cert {
            if has(TlsFields::SERIAL) {
                m.serialize_entry("serial", &c.serial)?;
            }
            if has(TlsFields::FINGERPRINT) {
                m.serialize_entry("fingerprint", &c.fingerprint)?;
            }
        }
        if let Some(sni) = st.client.sni().filter(|_| has(TlsFields::SNI)) {
            m.serialize_entry("sni", &Lossy(sni))?;
        }
        if has(TlsFields::VERSION) {
            // Without a word from the server, the client's version is what
            // Suricata reports (conformance case bug-5713-01).
            let v = if srv.version == 0 {
                st.client.version
            } else {
                srv.version
            };
            m.serialize_entry("version", &version_string(v))?;
        }
        if let Some(c) = cert {
            if has(TlsFields::NOT_BEFORE) && c.not_before != 0 {
                m.serialize_entry("notbefore", &format_time(c.not_before))?;
            }
            if has(TlsFields::NOT_AFTER) && c.not_after != 0 {
                m.serialize_entry("notafter", &format_time(c.not_after))?;
            }
        }
        if let Some(der) = srv.certs.get(0).filter(|_| has(TlsFields::CERTIFICATE)) {
            m.serialize_entry("certificate", &base64(der))?;
        }
        if has(TlsFields::CHAIN) && !srv.certs.is_empty() {
            m.serialize_entry("chain", &Chain(&srv.certs))?;
        }
        if let Some(j) = st.client.ja3.as_ref().filter(|_| has(TlsFields::JA3)) {
            m.serialize_entry("ja3", &Ja3Obj(j))?;
        }
        if let Some(j) = srv.ja3.as_ref().filter(|_| has(TlsFields::JA3S)) {
            m.serialize_entry("ja3s", &Ja3Obj(j))?;
        }
        if let Some(j) = st.client.ja4.as_ref().filter(|_| has(TlsFields::JA4)) {
            m.serialize_entry("ja4", j)?;
        }
        for (field, key, side) in [
            (TlsFields::CLIENT_ALPNS, "client_alpns", &st.client),
            (TlsFields::SERVER_ALPNS, "server_alpns", srv),
        ] {
            if let Some(h) = side.hello.as_ref().filter(|_| has(field)) {
                if h.alpns().next().is_some() {
                    m.serialize_entry(key, &Alpns(h))?;
                }
            }
        }
        for (field, key, side) in [
            (TlsFields::CLIENT_HANDSHAKE, "client_handshake", &st.client),
            (TlsFields::SERVER_HANDSHAKE, "server_handshake", srv),
        ] {
            if let Some(h) = side.hello.as_ref().filter(|_| has(field)) {
                m.serialize_entry(key, &Handshake(h))?;
            }
        }
        if has(TlsFields::CLIENT) && st.client.cert.is_some() {
            m.serialize_entry("client", &ClientObj(&st.client, f))?;
        }
        m.end()
    }
}

#[cfg(test)]
#[path = "tests_eve.rs"]
mod tests;
