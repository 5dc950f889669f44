//! The buffers HTTP rules inspect. Raw ones are slices of the transaction
//! (no copy); the ones Suricata assembles (`http.header`, `http.start`,
//! `http.header_names`, `http.request_header`) are built on demand.
//! `None` means the buffer does not exist for this transaction (a rule on
//! it cannot match), which differs from an empty buffer.

use super::parser::Head;
use super::tx::HttpTx;
use crate::Direction;

fn head(tx: &HttpTx, dir: Direction) -> Option<&Head> {
    match dir {
        Direction::ToServer => tx.request.as_ref().map(|r| &r.head),
        Direction::ToClient => tx.response.as_ref().map(|r| &r.head),
    }
}

fn req_header<'a>(tx: &'a HttpTx, name: &str) -> Option<&'a [u8]> {
    tx.request.as_ref()?.head.header(name)
}

fn resp_header<'a>(tx: &'a HttpTx, name: &str) -> Option<&'a [u8]> {
    tx.response.as_ref()?.head.header(name)
}

/// `http.method`.
pub fn method(tx: &HttpTx) -> Option<&[u8]> {
    tx.request.as_ref().map(|r| r.method())
}

/// `http.uri` (and `uricontent`, `urilen`): the normalised URI.
pub fn uri(tx: &HttpTx) -> Option<&[u8]> {
    tx.request.as_ref().map(|r| r.normalized_uri())
}

/// `http.uri.raw`: the URI as sent.
pub fn uri_raw(tx: &HttpTx) -> Option<&[u8]> {
    tx.request.as_ref().map(|r| r.uri())
}

/// `http.protocol`: of the request to the server, of the response back.
pub fn protocol(tx: &HttpTx, dir: Direction) -> Option<&[u8]> {
    match dir {
        Direction::ToServer => tx.request.as_ref()?.protocol(),
        Direction::ToClient => tx
            .response
            .as_ref()
            .map(|r| r.protocol())
            .filter(|p| !p.is_empty()),
    }
}

/// `http.request_line`, without its line ending.
pub fn request_line(tx: &HttpTx) -> Option<&[u8]> {
    tx.request.as_ref().map(|r| r.head.line())
}

/// `http.response_line`, without its line ending.
pub fn response_line(tx: &HttpTx) -> Option<&[u8]> {
    tx.response
        .as_ref()
        .map(|r| r.head.line())
        .filter(|l| !l.is_empty())
}

/// `http.stat_code`.
pub fn stat_code(tx: &HttpTx) -> Option<&[u8]> {
    tx.response
        .as_ref()
        .map(|r| r.status())
        .filter(|s| !s.is_empty())
}

/// `http.stat_msg`.
pub fn stat_msg(tx: &HttpTx) -> Option<&[u8]> {
    tx.response
        .as_ref()
        .map(|r| r.message())
        .filter(|s| !s.is_empty())
}

fn is_cookie(dir: Direction, name: &[u8]) -> bool {
    match dir {
        Direction::ToServer => name.eq_ignore_ascii_case(b"cookie"),
        Direction::ToClient => name.eq_ignore_ascii_case(b"set-cookie"),
    }
}

/// `http.header`: `Name: value\r\n` per (merged) header, the cookie header
/// left out as Suricata does (it has `http.cookie`).
pub fn header(tx: &HttpTx, dir: Direction) -> Option<Vec<u8>> {
    let h = head(tx, dir)?;
    let mut out = Vec::with_capacity(h.raw_headers().len());
    for (n, v) in h.headers().filter(|(n, _)| !is_cookie(dir, n)) {
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    (!out.is_empty()).then_some(out)
}

/// `http.header.raw`: the header lines as received, blank line included.
pub fn header_raw(tx: &HttpTx, dir: Direction) -> Option<&[u8]> {
    head(tx, dir)
        .map(|h| h.raw_headers())
        .filter(|r| !r.is_empty())
}

/// `http.header_names`: `\r\n` before each name and after the last, then
/// the blank line: `\r\nHost\r\nAccept\r\n\r\n`.
pub fn header_names(tx: &HttpTx, dir: Direction) -> Option<Vec<u8>> {
    let h = head(tx, dir)?;
    if h.header_entries().is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for (n, _) in h.headers() {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(n);
    }
    out.extend_from_slice(b"\r\n\r\n");
    Some(out)
}

/// `http.request_header` / `http.response_header`: one `name: value` item
/// per header (a multi-buffer).
pub fn header_items(tx: &HttpTx, dir: Direction) -> impl Iterator<Item = Vec<u8>> + '_ {
    head(tx, dir).into_iter().flat_map(|h| {
        h.headers().map(|(n, v)| {
            let mut o = Vec::with_capacity(n.len() + v.len() + 2);
            o.extend_from_slice(n);
            o.extend_from_slice(b": ");
            o.extend_from_slice(v);
            o
        })
    })
}

/// `http.start`: the start line and the headers, `\r\n` after each and a
/// final blank line.
pub fn start(tx: &HttpTx, dir: Direction) -> Option<Vec<u8>> {
    let h = head(tx, dir)?;
    if h.line().is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(h.raw().len() + 4);
    out.extend_from_slice(h.line());
    out.extend_from_slice(b"\r\n");
    for (n, v) in h.headers() {
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Some(out)
}

/// `http.cookie`: the Cookie header to the server, Set-Cookie back.
pub fn cookie(tx: &HttpTx, dir: Direction) -> Option<&[u8]> {
    match dir {
        Direction::ToServer => req_header(tx, "cookie"),
        Direction::ToClient => resp_header(tx, "set-cookie"),
    }
}

/// `http.host`: the normalised host name (lower case, no port).
pub fn host(tx: &HttpTx) -> Option<&[u8]> {
    tx.hostname()
}

/// `http.host.raw`: the Host header as sent, else the URI's authority.
pub fn host_raw(tx: &HttpTx) -> Option<&[u8]> {
    req_header(tx, "host").or_else(|| {
        let r = tx.request.as_ref()?;
        super::uri::uri_authority(r.uri())
    })
}

/// `http.user_agent`.
pub fn user_agent(tx: &HttpTx) -> Option<&[u8]> {
    req_header(tx, "user-agent")
}

/// `http.referer`.
pub fn referer(tx: &HttpTx) -> Option<&[u8]> {
    req_header(tx, "referer")
}

/// `http.accept`.
pub fn accept(tx: &HttpTx) -> Option<&[u8]> {
    req_header(tx, "accept")
}

/// `http.accept_enc`.
pub fn accept_enc(tx: &HttpTx) -> Option<&[u8]> {
    req_header(tx, "accept-encoding")
}

/// `http.accept_lang`.
pub fn accept_lang(tx: &HttpTx) -> Option<&[u8]> {
    req_header(tx, "accept-language")
}

/// `http.content_type`, of either message.
pub fn content_type(tx: &HttpTx, dir: Direction) -> Option<&[u8]> {
    head(tx, dir)?.header("content-type")
}

/// `http.content_len`, of either message.
pub fn content_len(tx: &HttpTx, dir: Direction) -> Option<&[u8]> {
    head(tx, dir)?.header("content-length")
}

/// `http.connection`, of either message.
pub fn connection(tx: &HttpTx, dir: Direction) -> Option<&[u8]> {
    head(tx, dir)?.header("connection")
}

/// `http.location`.
pub fn location(tx: &HttpTx) -> Option<&[u8]> {
    resp_header(tx, "location")
}

/// `http.server`.
pub fn server(tx: &HttpTx) -> Option<&[u8]> {
    resp_header(tx, "server")
}

/// `http.request_body` (`http_client_body`): decoded, up to the limit.
pub fn request_body(tx: &HttpTx) -> Option<&[u8]> {
    let d = tx.request_body.data();
    (!d.is_empty()).then_some(d)
}

/// `http.response_body`: decoded, up to the limit.
pub fn response_body(tx: &HttpTx) -> Option<&[u8]> {
    let d = tx.response_body.data();
    (!d.is_empty()).then_some(d)
}

/// `file.data` (`file_data`) for HTTP: the body of the given direction.
pub fn file_data(tx: &HttpTx, dir: Direction) -> Option<&[u8]> {
    match dir {
        Direction::ToServer => request_body(tx),
        Direction::ToClient => response_body(tx),
    }
}
