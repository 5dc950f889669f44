// Test-only module: compiled under #[cfg(test)] from its parent.
//! Hello and certificate parsing, and the published JA3/JA4 vectors
//! reproduced with hand-built ClientHellos.

use super::*;
use crate::tls::testutil::{
    certificate_body, client_hello_body, test_certificate, ClientHelloSpec,
};
use crate::tls::{ja3, ja4};

/// The ClientHello of FoxIO's JA4 example (`technical_details/JA4.md`),
/// with GREASE sprinkled in as browsers send it.
fn foxio_hello<'a>(sig_algs: &'a [u16]) -> ClientHelloSpec<'a> {
    ClientHelloSpec {
        ciphers: &[
            0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
            0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ],
        order: &[
            0x2a2a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
            0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x3a3a,
        ],
        sni: Some("example.com"),
        alpn: &["h2", "http/1.1"],
        versions: &[0x4a4a, 0x0304, 0x0303],
        groups: &[0x5a5a, 29, 23, 24],
        sig_algs,
        ..ClientHelloSpec::default()
    }
}

fn parse_client(spec: &ClientHelloSpec) -> (Hello, Vec<TlsEvent>) {
    let mut ev = Vec::new();
    let h = parse_hello(HelloKind::Client, &client_hello_body(spec), &mut ev);
    (h, ev)
}

#[test]
fn ja4_foxio_example() {
    let sigs = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    let (h, ev) = parse_client(&foxio_hello(&sigs));
    assert!(ev.is_empty(), "{ev:?}");
    assert!(h.complete);
    assert_eq!(ja4::ja4(&h, false), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(ja4::ja4(&h, true), "q13d1516h2_8daaf6152771_e5627efa2ab1");
}

#[test]
fn ja4_without_signature_algorithms_has_no_trailing_underscore() {
    let (h, _) = parse_client(&foxio_hello(&[]));
    assert_eq!(ja4::ja4(&h, false), "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

#[test]
fn ja4_empty_lists_and_legacy_version() {
    let spec = ClientHelloSpec {
        version: 0x0301,
        ciphers: &[],
        order: &[],
        ..ClientHelloSpec::default()
    };
    let (h, _) = parse_client(&spec);
    assert_eq!(ja4::ja4(&h, false), "t10i000000_000000000000_000000000000");
}

/// tls13-draft19 conformance case: the JA3 Suricata logs for that pcap.
#[test]
fn ja3_of_conformance_hello() {
    let spec = ClientHelloSpec {
        version: 771,
        ciphers: &[4866, 255],
        sni: Some("localhost"),
        order: &[0, 11, 10, 35, 13, 22, 23, 43, 45, 40],
        groups: &[29, 23, 25, 24],
        point_formats: &[0, 1, 2],
        versions: &[0x7f13],
        ..ClientHelloSpec::default()
    };
    let (h, _) = parse_client(&spec);
    let f = ja3::fingerprint(&h);
    assert_eq!(
        f.string,
        "771,4866-255,0-11-10-35-13-22-23-43-45-40,29-23-25-24,0-1-2"
    );
    assert_eq!(f.hash, "0e870cb29dd59424064948532781a7f6");
}

#[test]
fn client_hello_fields() {
    let sigs = [0x0403];
    let mut spec = foxio_hello(&sigs);
    spec.session_id = &[7; 32];
    let (h, _) = parse_client(&spec);
    assert_eq!(h.version, 0x0303);
    assert_eq!(h.session_id, vec![7; 32]);
    assert_eq!(h.sni.as_deref(), Some(&b"example.com"[..]));
    assert_eq!(
        h.alpns().collect::<Vec<_>>(),
        vec![&b"h2"[..], &b"http/1.1"[..]]
    );
    assert_eq!(h.supported_versions, vec![0x4a4a, 0x0304, 0x0303]);
    assert_eq!(h.max_version(), 0x0304);
    assert_eq!(h.supported_groups, vec![0x5a5a, 29, 23, 24]);
    assert_eq!(h.signature_algorithms, vec![0x0403]);
    assert_eq!(h.extensions.len(), 18);
    assert!(h.session_ticket, "0x0023 is offered");
}

#[test]
fn every_truncation_is_handled() {
    let sigs = [0x0403, 0x0804];
    let body = client_hello_body(&foxio_hello(&sigs));
    // Version, random, empty session id, 16 suites, compression.
    let fixed = 2 + 32 + 1 + 2 + 2 * 16 + 2;
    for n in 0..body.len() {
        let mut ev = Vec::new();
        let h = parse_hello(HelloKind::Client, &body[..n], &mut ev);
        if n == fixed || n == fixed + 1 {
            // Extensions are optional: a hello ending here is whole.
            assert!(h.complete && ev.is_empty(), "cut at {n}");
            continue;
        }
        assert!(!h.complete, "cut at {n}");
        // A cut inside the extension list is a length that lies.
        assert!(
            ev.contains(&TlsEvent::HandshakeInvalidLength),
            "cut at {n}: {ev:?}"
        );
        let _ = (ja3::fingerprint(&h), ja4::ja4(&h, false));
    }
    let mut ev = Vec::new();
    assert!(parse_hello(HelloKind::Client, &body, &mut ev).complete);
    assert!(ev.is_empty());
}

#[test]
fn lying_lengths_and_huge_counts() {
    // Extension block claims 0xffff bytes; cipher list claims 0xfffe.
    let mut b = client_hello_body(&ClientHelloSpec::default());
    let ext_len_at = 2 + 32 + 1 + 2 + 6 + 2;
    b[ext_len_at] = 0xff;
    b[ext_len_at + 1] = 0xff;
    let mut ev = Vec::new();
    let h = parse_hello(HelloKind::Client, &b, &mut ev);
    assert_eq!(ev, vec![TlsEvent::HandshakeInvalidLength]);
    assert_eq!(h.ciphers.len(), 3, "fields before the lie are kept");
    assert!(h.fingerprintable);

    let mut b = client_hello_body(&ClientHelloSpec::default());
    b[2 + 32 + 1] = 0xff;
    b[2 + 32 + 2] = 0xfe;
    let mut ev = Vec::new();
    let h = parse_hello(HelloKind::Client, &b, &mut ev);
    assert!(h.ciphers.is_empty() && !h.fingerprintable);
    assert_eq!(ev, vec![TlsEvent::HandshakeInvalidLength]);

    // 16k empty extensions: parsed, no allocation per extension body.
    let mut b = client_hello_body(&ClientHelloSpec {
        order: &[],
        ..ClientHelloSpec::default()
    });
    let exts: Vec<u8> = (0..16_000u16)
        .flat_map(|i| [(i >> 8) as u8 | 0x80, i as u8, 0, 0])
        .collect();
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    let mut ev = Vec::new();
    let h = parse_hello(HelloKind::Client, &b, &mut ev);
    assert!(h.complete && ev.is_empty());
    assert_eq!(h.extensions.len(), 16_000);
    assert!(ja4::ja4(&h, false).starts_with("t12i0399"));
}

#[test]
fn sni_anomalies() {
    let mut ev = Vec::new();
    // SNI of type 1.
    let mut b = client_hello_body(&ClientHelloSpec {
        sni: Some("a.example"),
        order: &[0, 10],
        ..ClientHelloSpec::default()
    });
    let pos = b.windows(9).position(|w| w == b"a.example").expect("sni") - 3;
    b[pos] = 1;
    let h = parse_hello(HelloKind::Client, &b, &mut ev);
    assert_eq!(ev, vec![TlsEvent::InvalidSniType]);
    assert!(
        h.sni.is_none() && h.supported_groups.is_empty(),
        "parsing stops"
    );

    // Two SNI extensions: the first is kept.
    let spec = ClientHelloSpec {
        sni: Some("first.example"),
        order: &[0, 0],
        ..ClientHelloSpec::default()
    };
    let (h, ev) = parse_client(&spec);
    assert_eq!(ev, vec![TlsEvent::MultipleSniExtensions]);
    assert_eq!(h.sni.as_deref(), Some(&b"first.example"[..]));

    // An empty host name.
    let spec = ClientHelloSpec {
        sni: Some(""),
        order: &[0],
        ..ClientHelloSpec::default()
    };
    let (_, ev) = parse_client(&spec);
    assert_eq!(ev, vec![TlsEvent::InvalidSniLength]);
}

#[test]
fn server_hello_layouts() {
    use crate::tls::testutil::server_hello_body;
    let mut ev = Vec::new();
    let b = server_hello_body(
        0x0303,
        &[5; 32],
        0x1301,
        &[(43, vec![3, 4]), (16, vec![0, 3, 2, b'h', b'2'])],
    );
    let h = parse_hello(HelloKind::Server, &b, &mut ev);
    assert!(h.complete && ev.is_empty());
    assert_eq!(
        (h.ciphers.clone(), h.supported_versions.clone()),
        (vec![0x1301], vec![0x0304])
    );
    assert_eq!(h.alpns().collect::<Vec<_>>(), vec![&b"h2"[..]]);
    assert_eq!(h.session_id, vec![5; 32]);
    // Draft 18 in the legacy field: no session id or compression.
    let b = server_hello_body(0x7f12, &[], 0x1301, &[(51, vec![0, 29, 0, 1, 9])]);
    let h = parse_hello(HelloKind::Server, &b, &mut ev);
    assert!(h.complete && ev.is_empty(), "{ev:?}");
    assert_eq!(h.key_share_groups, vec![29]);
}

#[test]
fn certificate_chain_and_lies() {
    let leaf = test_certificate("leaf.example", &["leaf.example", "www.leaf.example"]);
    let ca = test_certificate("ca.example", &[]);
    let mut ev = Vec::new();
    let chain = parse_certificates(&certificate_body(&[&leaf, &ca]), &mut ev);
    assert!(ev.is_empty());
    assert_eq!(chain.len(), 2);
    assert_eq!(chain.get(0), Some(&leaf[..]));
    assert_eq!(chain.iter().nth(1), Some(&ca[..]));

    let mut body = certificate_body(&[&leaf, &ca]);
    let second = 3 + 3 + leaf.len();
    body[second] = 0x7f; // second cert claims ~8 MiB
    let chain = parse_certificates(&body, &mut ev);
    assert_eq!(chain.len(), 1);
    assert_eq!(ev, vec![TlsEvent::InvalidCertificate]);

    let mut ev = Vec::new();
    let chain = parse_certificates(&[0xff, 0xff, 0xff, 0, 0], &mut ev);
    assert!(chain.is_empty());
    assert_eq!(ev, vec![TlsEvent::InvalidCertificate]);
}

#[test]
fn certificate_fields() {
    let der = test_certificate(
        "xn--j1ahhq.xn--p1ai",
        &["server1.example", "server2.example"],
    );
    let mut ev = Vec::new();
    let c = super::super::cert::decode(&der, &mut ev).expect("decodes");
    assert!(ev.is_empty());
    assert_eq!(c.subject, "C=US, O=Watchfloor Test, CN=xn--j1ahhq.xn--p1ai");
    assert_eq!(c.issuer, "C=US, O=Let's Encrypt, CN=R3");
    assert_eq!(c.serial, "00:A1:B2:C3");
    assert_eq!(
        super::super::cert::format_time(c.not_before),
        "2022-12-01T06:47:31"
    );
    assert_eq!(
        super::super::cert::format_time(c.not_after),
        "2023-03-01T06:47:30"
    );
    assert_eq!(c.sans, vec!["server1.example", "server2.example"]);
    let sha1 = sha1_smol::Sha1::from(&der).digest().to_string();
    assert_eq!(c.fingerprint.replace(':', ""), sha1);
    assert_eq!(c.fingerprint.len(), 59);
    // Every truncation of the DER is an event, never a panic.
    for n in 0..der.len() {
        let mut ev = Vec::new();
        assert!(
            super::super::cert::decode(&der[..n], &mut ev).is_none(),
            "cut at {n}"
        );
        assert_eq!(ev.len(), 1);
    }
}
