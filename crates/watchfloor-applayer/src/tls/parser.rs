//! Handshake message bodies to typed values: ClientHello, ServerHello and
//! Certificate. No I/O and no record framing: the input is one complete
//! handshake message body (after the 4-byte type/length header).
//!
//! Malformed input never fails the whole message: what was read before the
//! fault is kept and the fault is reported as Suricata's event, because the
//! fields before it (SNI, ciphers) are what detection and logging need.

use super::error::TlsEvent;

pub const HS_HELLO_REQUEST: u8 = 0;
pub const HS_CLIENT_HELLO: u8 = 1;
pub const HS_SERVER_HELLO: u8 = 2;
pub const HS_NEW_SESSION_TICKET: u8 = 4;
pub const HS_CERTIFICATE: u8 = 11;
pub const HS_SERVER_KEY_EXCHANGE: u8 = 12;
pub const HS_CERTIFICATE_REQUEST: u8 = 13;
pub const HS_SERVER_HELLO_DONE: u8 = 14;
pub const HS_CERTIFICATE_VERIFY: u8 = 15;
pub const HS_CLIENT_KEY_EXCHANGE: u8 = 16;
pub const HS_FINISHED: u8 = 20;
pub const HS_CERTIFICATE_URL: u8 = 21;
pub const HS_CERTIFICATE_STATUS: u8 = 22;

pub const EXT_SERVER_NAME: u16 = 0;
pub const EXT_SUPPORTED_GROUPS: u16 = 10;
pub const EXT_EC_POINT_FORMATS: u16 = 11;
pub const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
pub const EXT_ALPN: u16 = 16;
pub const EXT_SESSION_TICKET: u16 = 35;
pub const EXT_EARLY_DATA: u16 = 42;
pub const EXT_SUPPORTED_VERSIONS: u16 = 43;
pub const EXT_KEY_SHARE: u16 = 51;

/// The handshake types Suricata parses or knowingly skips; anything else
/// before ChangeCipherSpec is an `invalid_handshake_message`.
pub fn is_known_handshake_type(t: u8) -> bool {
    matches!(
        t,
        HS_HELLO_REQUEST
            | HS_CLIENT_HELLO
            | HS_SERVER_HELLO
            | HS_NEW_SESSION_TICKET
            | HS_CERTIFICATE
            | HS_SERVER_KEY_EXCHANGE
            | HS_CERTIFICATE_REQUEST
            | HS_SERVER_HELLO_DONE
            | HS_CERTIFICATE_VERIFY
            | HS_CLIENT_KEY_EXCHANGE
            | HS_FINISHED
            | HS_CERTIFICATE_URL
            | HS_CERTIFICATE_STATUS
    )
}

/// A bounds-checked big-endian cursor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
    /// A vector with an `n`-byte length prefix.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// Which hello a [`Hello`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HelloKind {
    #[default]
    Client,
    Server,
}

/// A ClientHello or ServerHello. Lists keep wire order and GREASE values;
/// the fingerprints and the log filter them.
#[derive(Debug, Clone, Default)]
pub struct Hello {
    pub kind: HelloKind,
    /// The `legacy_version` field.
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    /// Offered suites (client) or the chosen one (server).
    pub ciphers: Vec<u16>,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// The first SNI host name, raw bytes.
    pub sni: Option<Vec<u8>>,
    /// supported_versions: the client's list, or the server's choice.
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    /// Groups of the key_share entries.
    pub key_share_groups: Vec<u16>,
    /// The ALPN protocol list as on the wire (1-byte length prefixed names),
    /// walked lazily by [`Hello::alpns`] so no name is allocated.
    pub(crate) alpn_raw: Vec<u8>,
    pub session_ticket: bool,
    pub early_data: bool,
    /// Parsing reached the end of the message without a fault.
    pub complete: bool,
    /// The fixed fields (version to compression) were all present, so the
    /// fingerprints are meaningful.
    pub fingerprintable: bool,
}

impl Hello {
    /// ALPN protocol names in wire order; empty names are skipped, as
    /// Suricata skips them.
    pub fn alpns(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut c = Cursor::new(&self.alpn_raw);
        std::iter::from_fn(move || loop {
            let name = c.vec8()?;
            if !name.is_empty() {
                return Some(name);
            }
        })
    }

    pub fn has_extension(&self, t: u16) -> bool {
        self.extensions.contains(&t)
    }

    /// The version the hello negotiates or offers at most: the
    /// supported_versions extension's highest non-GREASE value, else the
    /// legacy field (the JA4 rule).
    pub fn max_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|&v| !super::version::is_grease(v))
            .max()
            .unwrap_or(self.version)
    }
}

/// Parses a ClientHello or ServerHello body. Events are appended to `events`.
pub fn parse_hello(kind: HelloKind, body: &[u8], events: &mut Vec<TlsEvent>) -> Hello {
    let mut h = Hello {
        kind,
        ..Hello::default()
    };
    if parse_hello_into(&mut h, body, events).is_none() {
        push(events, TlsEvent::HandshakeInvalidLength);
    }
    h
}

fn push(events: &mut Vec<TlsEvent>, e: TlsEvent) {
    if !events.contains(&e) {
        events.push(e);
    }
}

/// `None` means a length ran past the message: the caller raises
/// `handshake_invalid_length`.
fn parse_hello_into(h: &mut Hello, body: &[u8], events: &mut Vec<TlsEvent>) -> Option<()> {
    let mut c = Cursor::new(body);
    h.version = c.u16()?;
    h.random.copy_from_slice(c.take(32)?);
    let server = h.kind == HelloKind::Server;
    // The ServerHello of TLS 1.3 drafts before 22 dropped the session id and
    // compression fields; those drafts put their version in this field.
    let draft_layout = server && (h.version == 0x0304 || h.version >> 8 == 0x7f);
    if !draft_layout {
        h.session_id = c.vec8()?.to_vec();
    }
    if server {
        h.ciphers.push(c.u16()?);
    } else {
        let suites = c.vec16()?;
        if suites.len() % 2 != 0 {
            return None;
        }
        h.ciphers.reserve_exact(suites.len() / 2);
        h.ciphers.extend(u16s(suites));
    }
    if !draft_layout {
        if server {
            c.u8()?;
        } else {
            c.vec8()?;
        }
    }
    h.fingerprintable = true;
    // Extensions are optional (RFC 5246 7.4.1.2).
    if c.rest().len() < 2 {
        h.complete = true;
        return Some(());
    }
    let mut exts = Cursor::new(c.vec16()?);
    h.extensions.reserve(16);
    while !exts.is_empty() {
        let t = exts.u16()?;
        let data = exts.vec16()?;
        h.extensions.push(t);
        match parse_extension(h, t, data, events) {
            Ext::Ok => {}
            Ext::BadLength => return None,
            // Suricata stops reading extensions at a bad SNI but keeps the rest.
            Ext::Stop => return Some(()),
        }
    }
    h.complete = true;
    Some(())
}

enum Ext {
    Ok,
    BadLength,
    Stop,
}

fn parse_extension(h: &mut Hello, t: u16, data: &[u8], events: &mut Vec<TlsEvent>) -> Ext {
    let client = h.kind == HelloKind::Client;
    let mut c = Cursor::new(data);
    let ok = match t {
        _ if data.is_empty() && t != EXT_SESSION_TICKET && t != EXT_EARLY_DATA => Some(()),
        EXT_SERVER_NAME => return parse_sni(h, data, events),
        EXT_SUPPORTED_VERSIONS if client => c
            .vec8()
            .and_then(|l| (l.len() >= 2).then(|| h.supported_versions.extend(u16s(l)))),
        EXT_SUPPORTED_VERSIONS => c.u16().map(|v| h.supported_versions.push(v)),
        EXT_SUPPORTED_GROUPS => c.vec16().map(|l| h.supported_groups.extend(u16s(l))),
        EXT_EC_POINT_FORMATS => c.vec8().map(|l| h.ec_point_formats.extend_from_slice(l)),
        EXT_SIGNATURE_ALGORITHMS => c
            .vec16()
            .and_then(|l| (l.len() % 2 == 0).then(|| h.signature_algorithms.extend(u16s(l)))),
        EXT_ALPN => c.vec16().map(|l| {
            // Keep only whole names: a name running past the list ends it.
            let mut names = Cursor::new(l);
            let mut end = 0;
            while let Some(n) = names.vec8() {
                end += 1 + n.len();
            }
            h.alpn_raw.extend_from_slice(&l[..end]);
        }),
        EXT_KEY_SHARE if client => c.vec16().map(|l| {
            let mut ks = Cursor::new(l);
            while let (Some(g), Some(_)) = (ks.u16(), ks.vec16()) {
                h.key_share_groups.push(g);
            }
        }),
        EXT_KEY_SHARE => c.u16().map(|g| h.key_share_groups.push(g)),
        _ => Some(()),
    };
    match t {
        EXT_SESSION_TICKET => h.session_ticket = true,
        EXT_EARLY_DATA => h.early_data = true,
        _ => {}
    }
    if ok.is_some() {
        Ext::Ok
    } else {
        Ext::BadLength
    }
}

fn parse_sni(h: &mut Hello, data: &[u8], events: &mut Vec<TlsEvent>) -> Ext {
    let mut c = Cursor::new(data);
    if c.u16().is_none() {
        return Ext::BadLength;
    }
    match c.u8() {
        None => return Ext::BadLength,
        Some(0) => {}
        Some(_) => {
            push(events, TlsEvent::InvalidSniType);
            return Ext::Stop;
        }
    }
    let Some(len) = c.u16().map(usize::from) else {
        return Ext::BadLength;
    };
    // A host name is a domain name: at most 255 bytes.
    let Some(name) = c.take(len).filter(|_| (1..=255).contains(&len)) else {
        push(events, TlsEvent::InvalidSniLength);
        return Ext::Stop;
    };
    if h.sni.is_some() {
        push(events, TlsEvent::MultipleSniExtensions);
    } else {
        h.sni = Some(name.to_vec());
    }
    Ext::Ok
}

/// A Certificate message: the DER of each certificate, in chain order.
#[derive(Debug, Clone, Default)]
pub struct CertChain {
    data: Vec<u8>,
    ranges: Vec<(u32, u32)>,
}

impl CertChain {
    pub fn len(&self) -> usize {
        self.ranges.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(s, e) = self.ranges.get(i)?;
        self.data.get(s as usize..e as usize)
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.ranges.len()).filter_map(|i| self.get(i))
    }
}

/// Parses a (TLS 1.2 and earlier) Certificate message body. Certificates
/// before a lying length are kept; the lie raises `invalid_certificate`.
pub fn parse_certificates(body: &[u8], events: &mut Vec<TlsEvent>) -> CertChain {
    let mut c = Cursor::new(body);
    let Some(list) = c.u24().and_then(|n| c.take(n)) else {
        push(events, TlsEvent::InvalidCertificate);
        return CertChain::default();
    };
    let mut chain = CertChain {
        data: list.to_vec(),
        ranges: Vec::with_capacity(4),
    };
    let mut certs = Cursor::new(list);
    while !certs.is_empty() {
        let start = list.len() - certs.rest().len() + 3;
        match certs.u24().and_then(|n| certs.take(n)) {
            Some(der) => {
                // The list is at most 16 MiB (24-bit length), so offsets fit u32.
                chain
                    .ranges
                    .push((start as u32, (start + der.len()) as u32));
            }
            None => {
                push(events, TlsEvent::InvalidCertificate);
                break;
            }
        }
    }
    chain
}

#[cfg(test)]
#[path = "tests_parser.rs"]
mod tests;
