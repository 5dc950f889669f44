// Test-only module: compiled under #[cfg(test)] from its parent.
//! The EVE `tls` object: options, field sets, key order and values.

use serde_json::json;

use super::*;
use crate::tls::testutil::*;
use crate::tls::{TlsConfig, TlsState};
use crate::Direction;

fn handshake_state(ja: bool) -> TlsState {
    let mut st = TlsState::new(TlsConfig {
        ja3_fingerprints: ja,
        ja4_fingerprints: ja,
        ..TlsConfig::default()
    });
    let spec = ClientHelloSpec {
        sni: Some("www.example.org"),
        alpn: &["h2", "http/1.1"],
        ciphers: &[0x0a0a, 0xc02f, 0x002f],
        order: &[0x1a1a, 0, 10, 11, 13, 16],
        ..ClientHelloSpec::default()
    };
    st.parse(Direction::ToServer, &client_hello_record(&spec))
        .expect("client hello");
    let leaf = test_certificate("www.example.org", &["www.example.org", "example.org"]);
    let mut msgs = handshake(
        2,
        &server_hello_body(
            0x0303,
            &[3; 32],
            0xc02f,
            &[(
                16,
                vec![0, 9, 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1'],
            )],
        ),
    );
    msgs.extend(handshake(11, &certificate_body(&[&leaf])));
    st.parse(Direction::ToClient, &record(22, 0x0303, &msgs))
        .expect("server flight");
    st
}

#[test]
fn options_from_config() {
    let d = TlsEveOptions::from_config(&serde_json::Value::Null);
    assert_eq!(d, TlsEveOptions::default());
    assert!(d
        .fields
        .contains(TlsFields::BASIC | TlsFields::SESSION_RESUMED));
    assert!(!d.fields.contains(TlsFields::VERSION));

    let e = TlsEveOptions::from_config(&json!({"extended": "yes"}));
    assert_eq!(e, TlsEveOptions::extended());
    assert!(e
        .fields
        .contains(TlsFields::JA4 | TlsFields::SNI | TlsFields::CLIENT_ALPNS));

    let c = TlsEveOptions::from_config(&json!({
        "extended": true, "custom": ["Subject", "client_handshake", "bogus", "client_chain"],
        "session-resumption": "no"
    }));
    assert!(!c.session_resumption);
    assert_eq!(
        c.fields,
        TlsFields::SUBJECT
            | TlsFields::CLIENT_HANDSHAKE
            | TlsFields::CLIENT_CHAIN
            | TlsFields::CLIENT
    );
}

#[test]
fn default_fields() {
    let st = handshake_state(false);
    let v = eve_tls(&st, &TlsEveOptions::default());
    assert_eq!(
        v,
        json!({
            "subject": "C=US, O=Watchfloor Test, CN=www.example.org",
            "issuerdn": "C=US, O=Let's Encrypt, CN=R3",
            "subjectaltname": ["www.example.org", "example.org"],
        })
    );
    assert!(should_log(&st, &TlsEveOptions::default()));
}

#[test]
fn extended_fields_in_suricata_order() {
    let st = handshake_state(true);
    let opts = TlsEveOptions::extended();
    let text = serde_json::to_string(&TlsEveRecord {
        state: &st,
        opts: &opts,
    })
    .expect("json");
    let keys = [
        "subject",
        "issuerdn",
        "subjectaltname",
        "serial",
        "fingerprint",
        "sni",
        "version",
        "notbefore",
        "notafter",
        "ja3",
        "ja3s",
        "ja4",
        "client_alpns",
        "server_alpns",
    ];
    let mut last = 0;
    for k in keys {
        let at = text
            .find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k} in {text}"));
        assert!(at >= last, "{k} out of order in {text}");
        last = at;
    }
    let v = eve_tls(&st, &opts);
    assert_eq!(v["serial"], "00:A1:B2:C3");
    assert_eq!(v["sni"], "www.example.org");
    assert_eq!(v["version"], "TLS 1.2");
    assert_eq!(v["notbefore"], "2022-12-01T06:47:31");
    assert_eq!(v["notafter"], "2023-03-01T06:47:30");
    assert_eq!(v["client_alpns"], json!(["h2", "http/1.1"]));
    assert_eq!(v["server_alpns"], json!(["http/1.1"]));
    assert_eq!(v["ja3"]["string"], "771,49199-47,0-10-11-13-16,29-23,0");
    assert_eq!(v["ja3s"]["string"], "771,49199,16");
    assert_eq!(v["ja4"].as_str().map(str::len), Some(36));
    assert!(v["ja4"]
        .as_str()
        .is_some_and(|s| s.starts_with("t12d0205h2_")));
    assert!(v.get("session_resumed").is_none() && v.get("client_handshake").is_none());
    assert_eq!(v["fingerprint"].as_str().map(str::len), Some(59));
}

#[test]
fn custom_fields() {
    let st = handshake_state(false);
    let opts = TlsEveOptions::from_config(&json!({
        "custom": ["client_handshake", "server_handshake", "certificate", "chain", "ja3"]
    }));
    let v = eve_tls(&st, &opts);
    assert_eq!(
        v["client_handshake"],
        json!({"version": "TLS 1.2", "ciphers": [49199, 47], "exts": [0, 10, 11, 13, 16], "sig_algs": [1027, 2052]})
    );
    assert_eq!(
        v["server_handshake"],
        json!({"version": "TLS 1.2", "cipher": 49199, "exts": [16]})
    );
    let der = test_certificate("www.example.org", &["www.example.org", "example.org"]);
    assert_eq!(v["certificate"], crate::tls::cert::base64(&der));
    assert_eq!(v["chain"], json!([crate::tls::cert::base64(&der)]));
    assert!(v.get("ja3").is_none(), "not computed when disabled");
    assert!(v.get("subject").is_none());
}

#[test]
fn resumed_and_tls13_flows() {
    let mut st = TlsState::new(TlsConfig::default());
    let spec = ClientHelloSpec {
        session_id: &[4; 32],
        ..ClientHelloSpec::default()
    };
    st.parse(Direction::ToServer, &client_hello_record(&spec))
        .expect("ch");
    let sh = record(
        22,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, &[4; 32], 0x1301, &[])),
    );
    st.parse(Direction::ToClient, &sh).expect("sh");
    let opts = TlsEveOptions::default();
    assert!(should_log(&st, &opts));
    assert_eq!(eve_tls(&st, &opts), json!({"session_resumed": true}));
    let off = TlsEveOptions::from_config(&json!({"session-resumption": false}));
    assert!(!should_log(&st, &off));

    let mut st = TlsState::new(TlsConfig::default());
    let spec = ClientHelloSpec {
        versions: &[0x0304],
        sni: Some("tls13.example"),
        ..ClientHelloSpec::default()
    };
    st.parse(Direction::ToServer, &client_hello_record(&spec))
        .expect("ch");
    let sh = record(
        22,
        0x0303,
        &handshake(
            2,
            &server_hello_body(0x0303, &[], 0x1301, &[(43, vec![3, 4])]),
        ),
    );
    st.parse(Direction::ToClient, &sh).expect("sh");
    assert!(should_log(&st, &opts));
    let v = eve_tls(&st, &TlsEveOptions::extended());
    assert_eq!(v, json!({"sni": "tls13.example", "version": "TLS 1.3"}));
}
