//! The buffers TLS rules inspect, as zero-copy slices into the state.
//!
//! Suricata's sticky buffers: `tls.sni`, `tls.cert_subject`,
//! `tls.cert_issuer`, `tls.cert_serial`, `tls.cert_fingerprint`,
//! `tls.certs` (multi), `tls.subjectaltname` (multi), `tls.alpn` (multi),
//! `ja3.hash`, `ja3.string`, `ja3s.hash`, `ja3s.string`, `ja4.hash`,
//! `tls.random*`; plus the values of `tls.version`, `ssl_version`,
//! `tls.cert_chain_len` and the validity keywords. Certificate buffers are
//! those of the direction's own certificate (to_client: the server's).

use super::cert::CertInfo;
use super::state::{Side, TlsState};
use crate::Direction;

fn cert(state: &TlsState, dir: Direction) -> Option<&CertInfo> {
    state.side(dir).cert.as_ref()
}

/// `tls.sni` (to_server).
pub fn sni(state: &TlsState) -> Option<&[u8]> {
    state.client.sni()
}

/// `tls.cert_subject`.
pub fn cert_subject(state: &TlsState, dir: Direction) -> Option<&[u8]> {
    cert(state, dir).map(|c| c.subject.as_bytes())
}

/// `tls.cert_issuer`.
pub fn cert_issuer(state: &TlsState, dir: Direction) -> Option<&[u8]> {
    cert(state, dir).map(|c| c.issuer.as_bytes())
}

/// `tls.cert_serial` (`00:97:E6:...`).
pub fn cert_serial(state: &TlsState, dir: Direction) -> Option<&[u8]> {
    cert(state, dir).map(|c| c.serial.as_bytes())
}

/// `tls.cert_fingerprint` (`3a:0b:...`).
pub fn cert_fingerprint(state: &TlsState, dir: Direction) -> Option<&[u8]> {
    cert(state, dir).map(|c| c.fingerprint.as_bytes())
}

/// `tls.subjectaltname`: the first certificate's DNS names.
pub fn subjectaltname(state: &TlsState, dir: Direction) -> impl Iterator<Item = &[u8]> + '_ {
    cert(state, dir)
        .into_iter()
        .flat_map(|c| c.sans.iter().map(String::as_bytes))
}

/// `tls.certs`: the DER of every certificate of the direction's chain.
pub fn certs(state: &TlsState, dir: Direction) -> impl Iterator<Item = &[u8]> + '_ {
    state.side(dir).certs.iter()
}

/// `tls.cert_chain_len`.
pub fn cert_chain_len(state: &TlsState, dir: Direction) -> usize {
    state.side(dir).certs.len()
}

/// `tls_cert_notbefore` / `tls_cert_notafter` / `tls_cert_expired` input:
/// (not_before, not_after) in Unix seconds.
pub fn cert_validity(state: &TlsState, dir: Direction) -> Option<(i64, i64)> {
    cert(state, dir).map(|c| (c.not_before, c.not_after))
}

/// `tls.alpn`: the ALPN names of the direction's hello.
pub fn alpn(state: &TlsState, dir: Direction) -> impl Iterator<Item = &[u8]> + '_ {
    state.side(dir).hello.iter().flat_map(|h| h.alpns())
}

fn ja3_of(side: &Side) -> Option<&super::ja3::Fingerprint> {
    side.ja3.as_ref()
}

/// `ja3.hash`.
pub fn ja3_hash(state: &TlsState) -> Option<&[u8]> {
    ja3_of(&state.client).map(|f| f.hash.as_bytes())
}

/// `ja3.string`.
pub fn ja3_string(state: &TlsState) -> Option<&[u8]> {
    ja3_of(&state.client).map(|f| f.string.as_bytes())
}

/// `ja3s.hash`.
pub fn ja3s_hash(state: &TlsState) -> Option<&[u8]> {
    ja3_of(&state.server).map(|f| f.hash.as_bytes())
}

/// `ja3s.string`.
pub fn ja3s_string(state: &TlsState) -> Option<&[u8]> {
    ja3_of(&state.server).map(|f| f.string.as_bytes())
}

/// `ja4.hash`.
pub fn ja4_hash(state: &TlsState) -> Option<&[u8]> {
    state.client.ja4.as_deref().map(str::as_bytes)
}

/// `tls.random`: the 32-byte random of the direction's hello;
/// `tls.random_time` is its first 4 bytes, `tls.random_bytes` the other 28.
pub fn random(state: &TlsState, dir: Direction) -> Option<&[u8]> {
    state.side(dir).hello.as_ref().map(|h| &h.random[..])
}

/// `tls.version`: the version Suricata matches (the server direction's,
/// as logged in EVE), as a number (`0x0303`).
pub fn version(state: &TlsState) -> u16 {
    state.server.version
}

/// `ssl_version`: the version of the given direction.
pub fn ssl_version(state: &TlsState, dir: Direction) -> u16 {
    state.side(dir).version
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::testutil::{client_hello_record, ClientHelloSpec};
    use crate::tls::{TlsConfig, TlsState};

    #[test]
    fn buffers_borrow_the_state() {
        let mut st = TlsState::new(TlsConfig {
            ja3_fingerprints: true,
            ja4_fingerprints: true,
            ..TlsConfig::default()
        });
        let spec = ClientHelloSpec {
            sni: Some("example.org"),
            alpn: &["h2", "http/1.1"],
            ..ClientHelloSpec::default()
        };
        st.parse(Direction::ToServer, &client_hello_record(&spec))
            .expect("parses");
        assert_eq!(sni(&st), Some(&b"example.org"[..]));
        assert_eq!(
            alpn(&st, Direction::ToServer).collect::<Vec<_>>(),
            vec![&b"h2"[..], &b"http/1.1"[..]]
        );
        assert_eq!(ja3_hash(&st).map(<[u8]>::len), Some(32));
        assert!(ja3_string(&st).is_some_and(|s| s.starts_with(b"771,")));
        assert_eq!(ja4_hash(&st).map(<[u8]>::len), Some(36));
        assert_eq!(random(&st, Direction::ToServer).map(<[u8]>::len), Some(32));
        assert!(ja3s_hash(&st).is_none());
        assert_eq!(cert_chain_len(&st, Direction::ToClient), 0);
        assert_eq!(ssl_version(&st, Direction::ToServer), 0x0303);
    }
}
