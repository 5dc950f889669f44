// Test-only module: compiled under #[cfg(test)] from its parent.
use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;

use crate::http::{buffers, HttpConfig, HttpEvent, HttpState};
use crate::Direction::{ToClient, ToServer};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A response with the given Content-Encoding and body, fed in `step`-byte
/// pieces; returns the transaction.
fn respond(ce: &str, body: &[u8], step: usize, cfg: HttpConfig) -> crate::http::HttpTx {
    let mut st = HttpState::new(cfg);
    st.parse(ToServer, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: {ce}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    st.parse(ToClient, head.as_bytes());
    for c in body.chunks(step.max(1)) {
        st.parse(ToClient, c);
    }
    st.close(ToClient);
    let tx = st.drain().next().unwrap();
    tx
}

const TEXT: &[u8] = b"<html><body>election results page, precinct 12, turnout 61%</body></html>";

#[test]
fn gzip_and_deflate_are_decoded_at_any_split() {
    for (ce, enc) in [
        ("gzip", gzip(TEXT)),
        ("x-gzip", gzip(TEXT)),
        ("deflate", zlib(TEXT)),
        ("deflate", raw_deflate(TEXT)),
    ] {
        for step in [1, 2, 3, 7, 1000] {
            let tx = respond(ce, &enc, step, HttpConfig::default());
            assert_eq!(buffers::response_body(&tx), Some(TEXT), "{ce} step {step}");
            assert_eq!(tx.response_body.raw(), &enc[..]);
            assert_eq!(tx.response_body.message_len, enc.len() as u64);
            assert!(tx.events.is_empty(), "{:?}", tx.events);
        }
    }
}

#[test]
fn gzip_with_name_and_comment_header() {
    let mut e = flate2::GzBuilder::new()
        .filename("ballots.csv")
        .comment("count")
        .extra(vec![1, 2, 3])
        .write(Vec::new(), Compression::fast());
    e.write_all(TEXT).unwrap();
    let enc = e.finish().unwrap();
    for step in [1, 5, 100] {
        assert_eq!(
            buffers::response_body(&respond("gzip", &enc, step, HttpConfig::default())),
            Some(TEXT)
        );
    }
}

#[test]
fn two_layers_and_too_many() {
    let both = zlib(&gzip(TEXT));
    let tx = respond("gzip, deflate", &both, 3, HttpConfig::default());
    assert_eq!(buffers::response_body(&tx), Some(TEXT));
    let three = gzip(&zlib(&gzip(TEXT)));
    let tx = respond("gzip, deflate, gzip", &three, 3, HttpConfig::default());
    assert!(tx.events.contains(&HttpEvent::TooManyEncodingLayers));
    // The outer two were undone; what is left is still gzip.
    assert_eq!(buffers::response_body(&tx), Some(&gzip(TEXT)[..]));
}

#[test]
fn broken_gzip_raises_event_and_keeps_raw() {
    let tx = respond("gzip", b"this is not gzip at all", 4, HttpConfig::default());
    assert!(tx.events.contains(&HttpEvent::GzipDecompressionFailed));
    assert_eq!(
        buffers::response_body(&tx),
        Some(&b"this is not gzip at all"[..])
    );
    let mut bad = gzip(TEXT);
    bad.truncate(12);
    bad.extend_from_slice(&[0xff; 20]);
    let tx = respond("gzip", &bad, 4, HttpConfig::default());
    assert!(tx.events.contains(&HttpEvent::GzipDecompressionFailed));
}

#[test]
fn unknown_coding_is_abnormal_and_not_decoded() {
    let tx = respond("br", b"\x0b\x02\x80hello\x03", 100, HttpConfig::default());
    assert!(tx.events.contains(&HttpEvent::AbnormalCeHeader));
    assert_eq!(
        buffers::response_body(&tx),
        Some(&b"\x0b\x02\x80hello\x03"[..])
    );
}

#[test]
fn zip_bomb_is_capped_quickly_with_an_event() {
    // 1 GiB of zeros compresses to about 1 MiB; only the start is sent.
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    let t = std::time::Instant::now();
    let tx = respond("gzip", &bomb, 1460, HttpConfig::default());
    assert!(t.elapsed().as_secs() < 5, "took {:?}", t.elapsed());
    assert!(
        tx.events.contains(&HttpEvent::CompressionBomb),
        "{:?}",
        tx.events
    );
    let cfg = HttpConfig::default();
    assert_eq!(tx.response_body.data().len(), cfg.response_body_limit);
    assert!(tx.response_body.decoded_len <= cfg.compression_bomb_limit + 8192 * 2);
    assert!(tx.response_body.truncated);

    // Two layers: a few KiB that would expand to 64 MiB.
    let nested = gzip(&bomb);
    let tx = respond("gzip, gzip", &nested, 1460, HttpConfig::default());
    assert!(tx.events.contains(&HttpEvent::CompressionBomb));
}

#[test]
fn large_plain_body_is_limited_but_counted() {
    let cfg = HttpConfig {
        response_body_limit: 1000,
        raw_body_limit: 500,
        ..HttpConfig::default()
    };
    let body = vec![b'x'; 100_000];
    let tx = respond("identity", &body, 4096, cfg);
    assert_eq!(tx.response_body.data().len(), 1000);
    assert_eq!(tx.response_body.raw().len(), 500);
    assert_eq!(tx.response_body.message_len, 100_000);
    assert!(tx.response_body.truncated);
}

#[test]
fn gzip_request_body_is_decoded() {
    let enc = gzip(b"user=alice&vote=1");
    let mut req = format!(
        "POST /cast HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        enc.len()
    )
    .into_bytes();
    req.extend_from_slice(&enc);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut st = HttpState::new(HttpConfig::default());
    st.parse(ToServer, &req);
    let tx = st.drain().next().unwrap();
    assert!(tx.request_complete);
    assert_eq!(buffers::request_body(&tx), Some(&b"user=alice&vote=1"[..]));
    let off = HttpConfig {
        decompress_requests: false,
        ..HttpConfig::default()
    };
    let mut st = HttpState::new(off);
    st.parse(ToServer, &req);
    assert_eq!(
        buffers::request_body(&st.drain().next().unwrap()),
        Some(&enc[..])
    );
}

#[test]
fn empty_bodies() {
    let tx = respond("gzip", b"", 1, HttpConfig::default());
    assert!(tx.response_complete);
    assert_eq!(buffers::response_body(&tx), None);
    assert_eq!(tx.response_body.message_len, 0);
}
