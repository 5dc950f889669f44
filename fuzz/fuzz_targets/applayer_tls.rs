#![no_main]
//! Arbitrary bytes through the TLS probe, the hello/certificate parsers and
//! the per-flow state (split at fuzz-chosen points, both directions), then
//! the EVE builder and the rule buffers.

use libfuzzer_sys::fuzz_target;
use watchfloor_applayer::tls::{
    self, buffers, eve_tls, EncryptionHandling, HelloKind, TlsConfig, TlsEveOptions, TlsFields,
    TlsState,
};
use watchfloor_applayer::Direction;

fuzz_target!(|data: &[u8]| {
    // First byte: split stride and direction pattern; the rest is the stream.
    let Some((&stride, payload)) = data.split_first() else {
        return;
    };
    let _ = tls::probe(payload);
    let mut events = Vec::new();
    let h = tls::parser::parse_hello(HelloKind::Client, payload, &mut events);
    let _ = (tls::ja3::fingerprint(&h), tls::ja4::ja4(&h, false));
    let _ = tls::parser::parse_hello(HelloKind::Server, payload, &mut events);
    let chain = tls::parser::parse_certificates(payload, &mut events);
    if let Some(der) = chain.get(0) {
        let _ = tls::cert::decode(der, &mut events);
    }

    let mut st = TlsState::new(TlsConfig {
        ja3_fingerprints: true,
        ja4_fingerprints: true,
        encryption_handling: if stride & 0x80 != 0 {
            EncryptionHandling::Bypass
        } else {
            EncryptionHandling::TrackOnly
        },
        max_handshake_message: 64 * 1024,
    });
    let step = usize::from(stride & 0x3f).max(1);
    for (i, chunk) in payload.chunks(step).enumerate() {
        let dir = if stride & 0x40 != 0 && i % 2 == 1 {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        let _ = st.parse(dir, chunk);
        assert!(st.buffered() <= 2 * (17_408 + 5) + 2 * 64 * 1024);
    }
    st.eof();
    for opts in [
        TlsEveOptions::default(),
        TlsEveOptions::extended(),
        TlsEveOptions {
            fields: TlsFields::CERTIFICATE
                | TlsFields::CHAIN
                | TlsFields::CLIENT_HANDSHAKE
                | TlsFields::SERVER_HANDSHAKE
                | TlsFields::CLIENT
                | TlsFields::CLIENT_CHAIN,
            session_resumption: true,
        },
    ] {
        let _ = eve_tls(&st, &opts).to_string();
    }
    let _ = (
        buffers::sni(&st),
        buffers::ja3_hash(&st),
        buffers::ja4_hash(&st),
    );
    let _ = buffers::certs(&st, Direction::ToClient).count();
    let _ = buffers::alpn(&st, Direction::ToServer).count();
});
