// Test-only module: compiled under #[cfg(test)] from its parent.
//! The per-flow state: stream segmentation, handshake reassembly, versions,
//! resumption, encryption handling and anomaly events.

use super::*;
use crate::tls::testutil::*;

const TO_S: Direction = Direction::ToServer;
const TO_C: Direction = Direction::ToClient;

fn config() -> TlsConfig {
    TlsConfig {
        ja3_fingerprints: true,
        ja4_fingerprints: true,
        ..TlsConfig::default()
    }
}

fn spec() -> ClientHelloSpec<'static> {
    ClientHelloSpec {
        sni: Some("www.example.org"),
        alpn: &["h2", "http/1.1"],
        session_id: &[9; 32],
        ..ClientHelloSpec::default()
    }
}

/// A TLS 1.2 server flight: ServerHello (ALPN h2), Certificate (two
/// certificates), ServerHelloDone in one record, then CCS and Finished.
fn server_flight() -> Vec<u8> {
    let leaf = test_certificate("www.example.org", &["www.example.org", "example.org"]);
    let ca = test_certificate("ca.example", &[]);
    let mut msgs = handshake(
        2,
        &server_hello_body(0x0303, &[1; 32], 0xc02f, &[(16, vec![0, 3, 2, b'h', b'2'])]),
    );
    msgs.extend(handshake(11, &certificate_body(&[&leaf, &ca])));
    msgs.extend(handshake(14, &[]));
    let mut out = record(22, 0x0303, &msgs);
    out.extend(record(20, 0x0303, &[1]));
    out.extend(record(22, 0x0303, &[0x55; 40]));
    out
}

fn client_flight() -> Vec<u8> {
    let mut out = client_hello_record(&spec());
    out.extend(record(22, 0x0303, &handshake(16, &[0x42; 66])));
    out.extend(record(20, 0x0303, &[1]));
    out.extend(record(22, 0x0303, &[0x66; 40]));
    out.extend(record(23, 0x0303, &[0x77; 100]));
    out
}

fn check_full(st: &TlsState) {
    assert_eq!(st.events(), &[], "no anomalies");
    assert_eq!(st.error(), None);
    assert_eq!(st.client.sni(), Some(&b"www.example.org"[..]));
    assert_eq!(st.server.version, 0x0303);
    assert_eq!(st.client.version, 0x0303);
    let c = st.server.cert.as_ref().expect("leaf decoded");
    assert_eq!(c.subject, "C=US, O=Watchfloor Test, CN=www.example.org");
    assert_eq!(st.server.certs.len(), 2);
    assert!(st.client.change_cipher_spec && st.server.change_cipher_spec);
    assert_eq!(st.client.app_data_records, 1);
    assert_eq!(st.client.app_data_bytes, 100);
    assert!(st.client.ja3.is_some() && st.server.ja3.is_some() && st.client.ja4.is_some());
    assert!(!st.session_resumed);
    assert!(st.log_ready());
    assert_eq!(st.buffered(), 0, "nothing held after whole records");
}

#[test]
fn whole_handshake_in_one_call_per_direction() {
    let mut st = TlsState::new(config());
    st.parse(TO_S, &client_flight()[..client_hello_record(&spec()).len()])
        .expect("hello");
    assert!(!st.log_ready());
    st.parse(TO_C, &server_flight()).expect("server");
    let cf = client_flight();
    st.parse(TO_S, &cf[client_hello_record(&spec()).len()..])
        .expect("client rest");
    check_full(&st);
}

#[test]
fn split_at_every_byte_boundary() {
    let (cf, sf) = (client_flight(), server_flight());
    for split in 0..cf.len().max(sf.len()) {
        let mut st = TlsState::new(config());
        let (a, b) = cf.split_at(split.min(cf.len()));
        let (c, d) = sf.split_at(split.min(sf.len()));
        for (dir, part) in [(TO_S, a), (TO_C, c), (TO_C, d), (TO_S, b)] {
            st.parse(dir, part)
                .unwrap_or_else(|e| panic!("split {split}: {e}"));
        }
        check_full(&st);
    }
}

#[test]
fn byte_by_byte() {
    let mut st = TlsState::new(config());
    for b in client_flight().chunks(1) {
        st.parse(TO_S, b).expect("client byte");
    }
    for b in server_flight().chunks(1) {
        st.parse(TO_C, b).expect("server byte");
    }
    check_full(&st);
}

#[test]
fn handshake_message_across_records_and_segments() {
    let msg = handshake(1, &client_hello_body(&spec()));
    // The ClientHello cut into three records of 40, 1 and the rest bytes.
    let mut stream = record(22, 0x0301, &msg[..40]);
    stream.extend(record(22, 0x0301, &msg[40..41]));
    stream.extend(record(22, 0x0301, &msg[41..]));
    for split in 0..stream.len() {
        let mut st = TlsState::new(config());
        st.parse(TO_S, &stream[..split]).expect("first part");
        st.parse(TO_S, &stream[split..]).expect("second part");
        assert_eq!(
            st.client.sni(),
            Some(&b"www.example.org"[..]),
            "split {split}"
        );
        assert_eq!(st.events(), &[]);
    }
}

fn server_hello_state(
    version: u16,
    exts: &[(u16, Vec<u8>)],
    client_versions: &'static [u16],
) -> TlsState {
    let mut st = TlsState::new(config());
    let spec = ClientHelloSpec {
        versions: client_versions,
        ..spec()
    };
    st.parse(TO_S, &client_hello_record(&spec))
        .expect("client hello");
    let sh = record(
        22,
        0x0303,
        &handshake(2, &server_hello_body(version, &[], 0x1301, exts)),
    );
    st.parse(TO_C, &sh).expect("server hello");
    st
}

#[test]
fn tls13_versions() {
    use crate::tls::version::version_string;
    let st = server_hello_state(0x0303, &[(43, vec![3, 4])], &[0x0304, 0x0303]);
    assert_eq!(version_string(st.server.version), "TLS 1.3");
    assert_eq!(st.client.version, 0x0304);
    assert!(st.log_without_cert);
    let st = server_hello_state(0x0303, &[(43, vec![0x7f, 0x12])], &[0x7f12]);
    assert_eq!(version_string(st.server.version), "TLS 1.3 draft-18");
    let st = server_hello_state(0x7f12, &[], &[0x7f12]);
    assert_eq!(version_string(st.server.version), "TLS 1.3 draft-18");
    assert!(st.log_without_cert);
    let st = server_hello_state(0x0304, &[], &[]);
    assert_eq!(version_string(st.server.version), "TLS 1.3 draft-<16");
    let st = server_hello_state(0x7f0e, &[], &[]);
    assert_eq!(version_string(st.server.version), "TLS 1.3 draft-<16");
    let st = server_hello_state(0x0301, &[], &[]);
    assert_eq!(version_string(st.server.version), "TLSv1");
    assert!(!st.log_without_cert);
    // supported_versions from a server whose client did not offer it.
    let st = server_hello_state(0x0303, &[(43, vec![3, 4])], &[]);
    assert!(!st.log_without_cert);
}

#[test]
fn tls13_encrypted_flight_is_not_parsed() {
    let mut st = server_hello_state(0x0303, &[(43, vec![3, 4])], &[0x0304]);
    let mut rest = record(20, 0x0303, &[1]);
    rest.extend(record(23, 0x0303, &[0xaa; 3000]));
    rest.extend(record(23, 0x0303, &[0xbb; 50]));
    st.parse(TO_C, &rest).expect("encrypted");
    assert_eq!(st.server.app_data_records, 2);
    assert_eq!(st.server.app_data_bytes, 3050);
    assert_eq!(st.events(), &[]);
    assert!(st.server.cert.is_none());
}

#[test]
fn session_resumption() {
    // Server echoes the client's session id, sends no certificate.
    let mut st = TlsState::new(config());
    st.parse(TO_S, &client_hello_record(&spec())).expect("ch");
    let sh = record(
        22,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, &[9; 32], 0xc02f, &[])),
    );
    st.parse(TO_C, &sh).expect("sh");
    assert!(st.session_resumed);
    // A different id is a full handshake.
    let mut st = TlsState::new(config());
    st.parse(TO_S, &client_hello_record(&spec())).expect("ch");
    let sh = record(
        22,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, &[8; 32], 0xc02f, &[])),
    );
    st.parse(TO_C, &sh).expect("sh");
    assert!(!st.session_resumed);
    // A session_ticket extension flags it as well (Suricata).
    let mut st = TlsState::new(config());
    let spec = ClientHelloSpec {
        order: &[0, 35],
        ..spec()
    };
    st.parse(TO_S, &client_hello_record(&spec)).expect("ch");
    assert!(st.session_resumed);
}

#[test]
fn bypass_stops_at_application_data() {
    let mut st = TlsState::new(TlsConfig {
        encryption_handling: EncryptionHandling::Bypass,
        ..config()
    });
    st.parse(TO_S, &client_flight()).expect("client");
    assert!(st.bypass_ready());
    st.parse(TO_C, &server_flight()).expect("ignored");
    assert!(st.server.hello.is_none());
}

fn events_of(dir: Direction, stream: &[u8]) -> (TlsState, Result<(), TlsError>) {
    let mut st = TlsState::new(config());
    let r = st.parse(dir, stream);
    (st, r)
}

#[test]
fn record_layer_anomalies() {
    // Unknown content type: fatal unless the direction speaks TLS 1.0/1.1.
    // (Types of 64 and above have an SSLv2 header bit set.)
    let (st, r) = events_of(TO_S, &record(30, 0x0303, &[1, 2, 3]));
    assert_eq!(r, Err(TlsError::InvalidRecordType(30)));
    assert_eq!(st.events(), &[TlsEvent::InvalidRecordType]);
    let mut s = record(21, 0x0301, &[1, 0]);
    s.extend(record(30, 0x0301, &[1, 2, 3]));
    s.extend(client_hello_record(&spec()));
    let (st, r) = events_of(TO_S, &s);
    assert_eq!(r, Ok(()));
    assert_eq!(st.events(), &[TlsEvent::InvalidRecordType]);
    assert!(st.client.hello.is_some(), "parsing went on");

    let (st, r) = events_of(TO_S, &record(22, 0x0303, &[]));
    assert_eq!(r, Err(TlsError::InvalidRecordLength(0)));
    assert_eq!(st.events(), &[TlsEvent::InvalidRecordLength]);

    // A header announcing 65535 bytes is refused before any byte is kept.
    let (st, r) = events_of(TO_S, &[22, 3, 3, 0xff, 0xff, 1, 2, 3]);
    assert_eq!(r, Err(TlsError::InvalidRecordLength(0xffff)));
    assert_eq!(st.buffered(), 0);

    let (st, r) = events_of(TO_S, &record(22, 0x0305, &[1, 0, 0, 0]));
    assert_eq!(r, Err(TlsError::InvalidRecordVersion(0x0305)));
    assert_eq!(st.events(), &[TlsEvent::InvalidRecordVersion]);

    let (st, r) = events_of(TO_S, &record(22, 0x0303, &[1, 0]));
    assert!(r.is_err());
    assert_eq!(st.events(), &[TlsEvent::InvalidSslRecord]);

    let (st, r) = events_of(TO_C, &record(21, 0x0303, &[2]));
    assert_eq!(r, Err(TlsError::InvalidAlert));
    assert_eq!(st.events(), &[TlsEvent::InvalidAlertMessage]);

    // After an error nothing more is parsed.
    let mut st = st;
    assert_eq!(st.parse(TO_S, &client_hello_record(&spec())), Ok(()));
    assert!(st.client.hello.is_none());
    assert!(st.log_ready());
}

#[test]
fn handshake_anomalies() {
    // Unknown handshake type: an event, the record goes on.
    let mut msgs = handshake(99, &[0; 8]);
    msgs.extend(handshake(1, &client_hello_body(&spec())));
    let (st, r) = events_of(TO_S, &record(22, 0x0301, &msgs));
    assert_eq!(r, Ok(()));
    assert_eq!(st.events(), &[TlsEvent::InvalidHandshakeMessage]);
    assert!(st.client.hello.is_some());

    // A handshake message claiming 16 MiB: refused, nothing buffered.
    let (st, r) = events_of(TO_C, &record(22, 0x0303, &[11, 0xff, 0xff, 0xff, 0, 0, 0]));
    assert!(matches!(r, Err(TlsError::HandshakeTooLarge { .. })));
    assert_eq!(st.events(), &[TlsEvent::HandshakeInvalidLength]);
    assert_eq!(st.buffered(), 0);

    // A message announcing more than its records carry stays bounded.
    let mut st = TlsState::new(config());
    let body = vec![0u8; 16_000];
    let mut hs = vec![11, 0x03, 0xff, 0xff];
    hs.extend_from_slice(&body);
    st.parse(TO_C, &record(22, 0x0303, &hs))
        .expect("partial message");
    assert!(st.buffered() < 40_000);
    assert_eq!(st.events(), &[]);

    // A certificate that does not decode.
    let cert = certificate_body(&[&[0x30, 0x03, 0x01, 0x01, 0xff]]);
    let (st, r) = events_of(TO_C, &record(22, 0x0303, &handshake(11, &cert)));
    assert_eq!(r, Ok(()));
    assert!(st.server.cert.is_none() && st.server.certs.len() == 1);
    assert_eq!(st.events().len(), 1);
}

#[test]
fn heartbeats() {
    // Payload length 0x4000 in a 19-byte record: heartbleed.
    let mut hb = vec![1, 0x40, 0x00];
    hb.extend_from_slice(&[0; 16]);
    let (st, r) = events_of(TO_S, &record(24, 0x0303, &hb));
    assert!(r.is_err());
    assert_eq!(st.events(), &[TlsEvent::OverflowHeartbeatMessage]);
    let mut ok = vec![1, 0, 1, 0x61];
    ok.extend_from_slice(&[0; 16]);
    let (st, r) = events_of(TO_S, &record(24, 0x0303, &ok));
    assert_eq!((r, st.events().len()), (Ok(()), 0));
}

#[test]
fn sslv2_client_hello() {
    // SSLv2-compatible ClientHello offering TLS 1.0.
    let mut body = vec![1, 0x03, 0x01, 0, 3, 0, 0, 0, 16, 0, 0, 0x2f];
    body.extend_from_slice(&[0x11; 16]);
    let mut rec = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
    rec.extend_from_slice(&body);
    assert_eq!(crate::tls::probe(&rec), crate::tls::Probe::Tls(TO_S));
    for split in 0..rec.len() {
        let mut st = TlsState::new(config());
        st.parse(TO_S, &rec[..split]).expect("part 1");
        st.parse(TO_S, &rec[split..]).expect("part 2");
        assert_eq!(st.client.version, 0x0301, "split {split}");
        assert_eq!(st.events(), &[]);
    }
}

#[test]
fn garbage_never_panics_and_stays_bounded() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let base = [client_flight(), server_flight()].concat();
    for _ in 0..400 {
        let mut data = base.clone();
        for _ in 0..(next() % 8) {
            let i = (next() as usize) % data.len();
            data[i] = next() as u8;
        }
        let mut st = TlsState::new(config());
        let step = (next() % 50 + 1) as usize;
        for (i, c) in data.chunks(step).enumerate() {
            let _ = st.parse(if i % 2 == 0 { TO_S } else { TO_C }, c);
            assert!(st.buffered() <= 2 * (record::MAX_RECORD_LEN + 5) + 2 * 256 * 1024);
        }
        let _ = crate::tls::eve_tls(&st, &crate::tls::TlsEveOptions::extended());
    }
}
