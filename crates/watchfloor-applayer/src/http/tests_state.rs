// Test-only module: compiled under #[cfg(test)] from its parent.
use super::*;
use crate::http::buffers;
use crate::http::tx::HttpTx;
use crate::Direction::{ToClient, ToServer};

fn run(exchanges: &[(Direction, &[u8])]) -> HttpState {
    let mut st = HttpState::new(HttpConfig::default());
    for (d, b) in exchanges {
        st.parse(*d, b);
    }
    st
}

fn all(st: &mut HttpState) -> Vec<HttpTx> {
    st.drain().collect()
}

/// A short, comparable digest of a transaction.
fn digest(tx: &HttpTx) -> String {
    let s = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    format!(
        "{} {:?} {:?} {:?} {:?} req={:?} resp={:?} len={} done={}/{} ev={:?}",
        tx.tx_id,
        s(buffers::method(tx)),
        s(buffers::uri_raw(tx)),
        tx.response.as_ref().and_then(|r| r.status_code),
        s(buffers::header(tx, ToServer).as_deref()),
        s(buffers::request_body(tx)),
        s(buffers::response_body(tx)),
        tx.response_body.message_len,
        tx.request_complete,
        tx.response_complete,
        tx.events,
    )
}

const REQ: &[u8] = b"POST /submit?x=1 HTTP/1.1\r\nHost: Example.ORG:8080\r\nUser-Agent: t\r\nContent-Length: 5\r\n\r\nhello\
GET /second HTTP/1.1\r\nHost: example.org\r\n\r\n";
const RESP: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=x\r\nTransfer-Encoding: chunked\r\n\r\n\
3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n\
HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

#[test]
fn pipelined_keep_alive_pairs_in_order() {
    let mut st = run(&[(ToServer, REQ), (ToClient, RESP)]);
    let done = st.take_complete();
    assert_eq!(
        done.len(),
        2,
        "{:?}",
        done.iter().map(digest).collect::<Vec<_>>()
    );
    let t0 = &done[0];
    assert_eq!(buffers::method(t0), Some(&b"POST"[..]));
    assert_eq!(buffers::request_body(t0), Some(&b"hello"[..]));
    assert_eq!(buffers::response_body(t0), Some(&b"abcde"[..]));
    assert_eq!(t0.response.as_ref().and_then(|r| r.status_code), Some(200));
    assert_eq!(buffers::host(t0), Some(&b"example.org"[..]));
    assert_eq!(buffers::host_raw(t0), Some(&b"Example.ORG:8080"[..]));
    assert_eq!(t0.host_port(), Some(8080));
    assert!(t0.events.contains(&HttpEvent::ResponseChunkExtension));
    // Chunk framing counts toward the wire length, trailers do not.
    assert_eq!(t0.response_body.message_len, 24);
    assert_eq!(t0.response_body.entity_len, 5);
    let t1 = &done[1];
    assert_eq!(buffers::uri(t1), Some(&b"/second"[..]));
    assert_eq!(t1.response.as_ref().and_then(|r| r.status_code), Some(404));
    assert!(st.transactions().next().is_none());
}

#[test]
fn every_split_point_gives_the_same_result() {
    let whole = {
        let mut st = run(&[(ToServer, REQ), (ToClient, RESP)]);
        all(&mut st).iter().map(digest).collect::<Vec<_>>()
    };
    for cut in 0..=REQ.len() {
        let mut st = run(&[
            (ToServer, &REQ[..cut]),
            (ToServer, &REQ[cut..]),
            (ToClient, RESP),
        ]);
        assert_eq!(
            all(&mut st).iter().map(digest).collect::<Vec<_>>(),
            whole,
            "req cut {cut}"
        );
    }
    for cut in 0..=RESP.len() {
        let mut st = run(&[
            (ToServer, REQ),
            (ToClient, &RESP[..cut]),
            (ToClient, &RESP[cut..]),
        ]);
        assert_eq!(
            all(&mut st).iter().map(digest).collect::<Vec<_>>(),
            whole,
            "resp cut {cut}"
        );
    }
    // Byte by byte.
    let mut st = HttpState::new(HttpConfig::default());
    for b in REQ {
        st.parse(ToServer, std::slice::from_ref(b));
    }
    for b in RESP {
        st.parse(ToClient, std::slice::from_ref(b));
    }
    assert_eq!(all(&mut st).iter().map(digest).collect::<Vec<_>>(), whole);
}

#[test]
fn truncation_at_every_point_is_safe() {
    for cut in 0..REQ.len() {
        let mut st = run(&[(ToServer, &REQ[..cut])]);
        st.close(ToServer);
        st.close(ToClient);
        let _ = all(&mut st);
    }
    for cut in 0..RESP.len() {
        let mut st = run(&[(ToServer, REQ), (ToClient, &RESP[..cut])]);
        st.close(ToClient);
        for tx in all(&mut st) {
            assert!(tx.response_complete || tx.response.is_none());
        }
    }
}

#[test]
fn http10_close_delimited_body() {
    let mut st = run(&[
        (
            ToServer,
            b"GET /blah/ HTTP/1.0\r\nUser-Agent: Wget/1.11.4\r\n\r\n",
        ),
        (
            ToClient,
            b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\nnot here",
        ),
    ]);
    assert!(st.take_complete().is_empty(), "body runs to the close");
    st.close(ToClient);
    let tx = st.take_complete().remove(0);
    assert_eq!(buffers::response_body(&tx), Some(&b"not here"[..]));
    assert_eq!(tx.response_body.message_len, 8);
    assert!(
        !tx.events.contains(&HttpEvent::MissingHostHeader),
        "1.0 needs no Host"
    );
}

#[test]
fn no_body_for_head_204_304_and_1xx() {
    let mut st = run(&[
        (ToServer, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\nPOST /d HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz"),
        (ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
    ]);
    let txs = st.take_complete();
    let codes: Vec<_> = txs
        .iter()
        .map(|t| t.response.as_ref().and_then(|r| r.status_code))
        .collect();
    assert_eq!(codes, vec![Some(200), Some(204), Some(304), Some(201)]);
    assert_eq!(buffers::response_body(&txs[3]), Some(&b"ok"[..]));
    assert!(txs[3].events.contains(&HttpEvent::ContinueAlreadySeen));
    assert_eq!(buffers::request_body(&txs[3]), Some(&b"z"[..]));
}

#[test]
fn connect_2xx_hands_over() {
    let mut st = run(&[
        (
            ToServer,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01",
        ),
        (
            ToClient,
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03",
        ),
    ]);
    let h = st.handover().cloned().expect("tunnel");
    assert_eq!(h.kind, TunnelKind::Connect);
    assert_eq!(h.pending[0], b"\x16\x03\x01");
    assert_eq!(h.pending[1], b"\x16\x03\x03");
    st.parse(ToServer, b"GET /not-parsed HTTP/1.1\r\n\r\n");
    let txs = st.take_complete();
    assert_eq!(txs.len(), 1);
    assert_eq!(buffers::uri_raw(&txs[0]), Some(&b"example.com:443"[..]));
    assert_eq!(buffers::host(&txs[0]), Some(&b"example.com"[..]));
    assert_eq!(txs[0].host_port(), Some(443));
}

#[test]
fn connect_refused_resumes_parsing() {
    let mut st = run(&[
        (ToServer, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"),
        (ToClient, b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert!(!st.is_tunnel());
    let txs = st.take_complete();
    assert_eq!(txs.len(), 2);
    assert_eq!(buffers::uri_raw(&txs[1]), Some(&b"/next"[..]));
}

#[test]
fn upgrade_101_hands_over() {
    let mut st = run(&[
        (
            ToServer,
            b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ),
        (
            ToClient,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        ),
    ]);
    let h = st.handover().expect("tunnel");
    assert_eq!(h.kind, TunnelKind::Upgrade);
    assert_eq!(h.pending[1], b"\x81\x05hello");
    let tx = st.take_complete().remove(0);
    assert_eq!(buffers::connection(&tx, ToServer), Some(&b"Upgrade"[..]));
}

#[test]
fn http09_simple_request() {
    let mut st = run(&[(ToServer, b"GET /old\r\n"), (ToClient, b"<html>raw</html>")]);
    st.close(ToClient);
    let tx = st.take_complete().remove(0);
    let req = tx.request.as_ref().unwrap();
    assert_eq!(req.version, Version::V0_9);
    assert_eq!(req.protocol(), None);
    assert_eq!(buffers::response_body(&tx), Some(&b"<html>raw</html>"[..]));
    assert_eq!(tx.response.as_ref().unwrap().status_code, None);
}

#[test]
fn response_without_request_is_unmatched() {
    let mut st = run(&[(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")]);
    let txs = all(&mut st);
    assert_eq!(txs.len(), 1);
    assert!(txs[0].request.is_none());
    assert_eq!(
        txs[0].events,
        vec![HttpEvent::UnableToMatchResponseToRequest]
    );
}

#[test]
fn response_not_starting_with_status_line_is_body() {
    let mut st = run(&[
        (ToServer, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        (ToClient, b"garbage line\r\nmore"),
    ]);
    st.close(ToClient);
    let tx = st.take_complete().remove(0);
    assert_eq!(
        buffers::response_body(&tx),
        Some(&b"garbage line\r\nmore"[..])
    );
    assert!(tx.events.contains(&HttpEvent::ResponseInvalidProtocol));
}

#[test]
fn request_line_anomalies() {
    let ev = |line: &[u8]| {
        let mut st = run(&[(ToServer, line)]);
        st.close(ToServer);
        all(&mut st).remove(0).events
    };
    assert!(ev(b" GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .contains(&HttpEvent::RequestLineLeadingWhitespace));
    assert!(ev(b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n").contains(&HttpEvent::MethodDelimNonCompliant));
    assert!(ev(b"GET /\tHTTP/1.1\r\nHost: a\r\n\r\n").contains(&HttpEvent::UriDelimNonCompliant));
    assert!(ev(b"FOO / BAR\r\n\r\n").contains(&HttpEvent::RequestLineInvalid));
    assert!(ev(b"GET / HTTP/1.1\r\n\r\n").contains(&HttpEvent::MissingHostHeader));
    assert!(ev(b"GET http://a.com/ HTTP/1.1\r\nHost: b.com\r\n\r\n")
        .contains(&HttpEvent::HostHeaderAmbiguous));
    assert!(ev(b"GET / HTTP/1.1\r\nHost: a:xx\r\n\r\n").contains(&HttpEvent::InvalidAuthorityPort));
    assert!(
        ev(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n")
            .contains(&HttpEvent::InvalidTransferEncodingValueInRequest)
    );
    assert!(
        ev(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n")
            .contains(&HttpEvent::InvalidContentLengthFieldInRequest)
    );
    let uri_with_space = {
        let mut st = run(&[(ToServer, b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n")]);
        all(&mut st).remove(0)
    };
    assert_eq!(buffers::uri_raw(&uri_with_space), Some(&b"/a b"[..]));
}

#[test]
fn bad_chunk_sizes() {
    for bad in [
        &b"zz\r\n"[..],
        b"fffffffffffffffff\r\n",
        b"-1\r\n",
        b"1 2\r\n",
    ] {
        let mut resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        resp.extend_from_slice(bad);
        resp.extend_from_slice(b"rest");
        let mut st = run(&[
            (ToServer, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            (ToClient, &resp),
        ]);
        st.close(ToClient);
        let tx = all(&mut st).remove(0);
        assert!(
            tx.events.contains(&HttpEvent::InvalidResponseChunkLen),
            "{bad:?}"
        );
        // libhtp gives up the framing: the rest is body.
        assert!(
            buffers::response_body(&tx).is_some_and(|b| b.ends_with(b"rest")),
            "{bad:?} {:?}",
            tx.response_body
        );
    }
    // A huge but valid size just waits for data (no allocation up front).
    let mut st = run(&[(
        ToServer,
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nabc",
    )]);
    st.close(ToServer);
    assert_eq!(buffers::request_body(&all(&mut st)[0]), Some(&b"abc"[..]));
}

#[test]
fn endless_headers_are_bounded() {
    let mut st = HttpState::new(HttpConfig::default());
    st.parse(ToServer, b"GET / HTTP/1.1\r\nX: ");
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..64 {
        st.parse(ToServer, &chunk);
    }
    for _ in 0..5000 {
        st.parse(ToServer, b"\r\nY: b");
    }
    st.parse(ToServer, b"\r\n\r\n");
    let tx = all(&mut st).remove(0);
    let head = &tx.request.as_ref().unwrap().head;
    assert!(head.buf.len() <= 3 * 64 * 1024 + 4096, "{}", head.buf.len());
    assert!(tx.events.contains(&HttpEvent::RequestFieldTooLong));
    assert!(tx.request_complete);
}

#[test]
fn many_repeated_headers_are_bounded() {
    let mut req = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for _ in 0..2000 {
        req.extend_from_slice(b"X-Rep: aaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let mut st = run(&[(ToServer, &req)]);
    let tx = all(&mut st).remove(0);
    assert!(tx.events.contains(&HttpEvent::RequestHeaderRepetition));
    assert!(tx.request.as_ref().unwrap().head.buf.len() < 4 * 64 * 1024);
}

#[test]
fn transactions_are_capped() {
    let mut st = HttpState::new(HttpConfig {
        max_transactions: 8,
        ..HttpConfig::default()
    });
    for _ in 0..100 {
        st.parse(ToServer, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    }
    assert_eq!(st.transactions().count(), 8);
    assert_eq!(st.tx_count(), 100);
    st.parse(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let _ = all(&mut st);
}

#[test]
fn gaps() {
    let mut st = run(&[
        (ToServer, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        (ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"),
    ]);
    assert!(st.gap(ToClient, 5).is_ok());
    st.parse(ToClient, b"cde");
    let tx = st.take_complete().remove(0);
    assert!(tx.response_body.gap);
    assert_eq!(tx.response_body.message_len, 10);

    let mut st = run(&[(ToServer, b"GET / HTTP/1.1\r\nHo")]);
    assert_eq!(
        st.gap(ToServer, 3),
        Err(HttpError::GapInHeaders { dir: ToServer })
    );
    assert!(st.is_failed(ToServer));
    st.parse(ToServer, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(st.tx_count(), 1);
}

#[test]
fn folded_headers_are_joined() {
    let mut st = run(&[(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n  two\r\n\tthree\r\nAccept: */*\r\nAccept: text/html\r\n\r\n",
    )]);
    let tx = all(&mut st).remove(0);
    let head = &tx.request.as_ref().unwrap().head;
    assert_eq!(head.header("x-long"), Some(&b"one two three"[..]));
    assert_eq!(head.header("accept"), Some(&b"*/*, text/html"[..]));
    assert_eq!(
        buffers::header(&tx, ToServer).unwrap(),
        b"Host: a\r\nX-Long: one two three\r\nAccept: */*, text/html\r\n"
    );
    assert_eq!(
        buffers::header_names(&tx, ToServer).unwrap(),
        b"\r\nHost\r\nX-Long\r\nAccept\r\n\r\n"
    );
}

#[test]
fn mutated_streams_never_panic() {
    // Deterministic xorshift mutations of a valid exchange, fed in varying
    // pieces with gaps and closes: a cheap stand-in for the fuzz target.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = b"\r\n :;0fF\t-GETHTTP/1.1chunkedgzip";
    for _ in 0..3000 {
        let mut req = REQ.to_vec();
        let mut resp = RESP.to_vec();
        for buf in [&mut req, &mut resp] {
            for _ in 0..(rnd() % 6) {
                let i = (rnd() as usize) % buf.len();
                match rnd() % 3 {
                    0 => buf[i] = alphabet[(rnd() as usize) % alphabet.len()],
                    1 => {
                        buf.remove(i);
                    }
                    _ => buf.insert(i, alphabet[(rnd() as usize) % alphabet.len()]),
                }
            }
        }
        let mut st = HttpState::new(HttpConfig::default());
        let step = 1 + (rnd() as usize) % 17;
        for (i, (a, b)) in req.chunks(step).zip(resp.chunks(step)).enumerate() {
            st.parse(ToServer, a);
            if i == 3 && rnd() % 8 == 0 {
                let _ = st.gap(ToClient, rnd() % 10);
            }
            st.parse(ToClient, b);
        }
        let _ = st.take_complete();
        st.close(ToServer);
        st.close(ToClient);
        for tx in all(&mut st) {
            let _ = digest(&tx);
            let _ = crate::http::eve_http(&tx, &crate::http::HttpEveOptions::default());
            let _ = buffers::start(&tx, ToClient);
        }
    }
}
