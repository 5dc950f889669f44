// Test-only module: compiled under #[cfg(test)] from its parent.
use super::*;

#[test]
fn request_line_forms() {
    let mut ev = Vec::new();
    let l = b"GET /a?b HTTP/1.1";
    let rl = parse_request_line(l, &mut ev);
    assert_eq!(&l[rl.method.0..rl.method.1], b"GET");
    assert_eq!(&l[rl.uri.0..rl.uri.1], b"/a?b");
    assert_eq!(rl.version, Version::V1_1);
    assert!(ev.is_empty());

    let rl = parse_request_line(b"GET /", &mut ev);
    assert_eq!(rl.protocol, None);
    assert_eq!(rl.version, Version::V0_9);
    assert_eq!(ev, vec![HttpEvent::RequestLineMissingProtocol]);

    ev.clear();
    parse_request_line(b"GET", &mut ev);
    assert_eq!(ev, vec![HttpEvent::RequestLineIncomplete]);

    ev.clear();
    let rl = parse_request_line(b"BREW /pot HTCPCP/1.0", &mut ev);
    assert_eq!(rl.version, Version::Invalid);
    assert_eq!(ev, vec![HttpEvent::RequestLineInvalid]);
}

#[test]
fn status_line_forms() {
    let mut ev = Vec::new();
    let l = b"HTTP/1.1 404 Not Found";
    let sl = parse_status_line(l, &mut ev);
    assert_eq!(sl.code, Some(404));
    assert_eq!(&l[sl.message.0..sl.message.1], b"Not Found");
    assert!(ev.is_empty());
    let sl = parse_status_line(b"HTTP/1.1 2XX odd", &mut ev);
    assert_eq!(sl.code, None);
    assert_eq!(ev, vec![HttpEvent::ResponseInvalidStatus]);
    assert!(looks_like_status_line(b"  http/1.0 200"));
    assert!(!looks_like_status_line(b"<html>"));
}

fn head_of(text: &[u8]) -> (Head, Vec<HttpEvent>) {
    let mut head = Head {
        buf: text.to_vec(),
        ..Head::default()
    };
    head.raw_headers = Span::new(0, text.len());
    let mut ev = Vec::new();
    let lim = HeaderLimits {
        max_headers: 4,
        max_repetitions: 2,
    };
    parse_headers(&mut head, Direction::ToServer, lim, &mut ev);
    (head, ev)
}

#[test]
fn header_oddities() {
    let (h, ev) = head_of(b"Host : a\r\nnocolon\r\nX:  v  \r\n\r\n");
    assert_eq!(h.header("host"), Some(&b"a"[..]));
    assert_eq!(h.header(""), Some(&b"nocolon"[..]));
    assert_eq!(h.header("x"), Some(&b"v"[..]));
    assert!(ev.contains(&HttpEvent::RequestHeaderInvalid));
    assert!(ev.contains(&HttpEvent::RequestFieldMissingColon));

    let (_, ev) = head_of(b" folded-first\r\nA: 1\r\n");
    assert!(ev.contains(&HttpEvent::InvalidRequestFieldFolding));

    let (h, ev) = head_of(b"A: 1\r\nA: 2\r\nA: 3\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n");
    assert_eq!(h.header("a"), Some(&b"1, 2, 3"[..]));
    assert!(ev.contains(&HttpEvent::RequestHeaderRepetition));
    assert!(ev.contains(&HttpEvent::RequestTooManyHeaders));
    assert_eq!(h.header("e"), None);

    let (h, ev) = head_of(b"Content-Length: 5\r\nContent-Length: 6\r\n");
    assert_eq!(h.header("content-length"), Some(&b"5"[..]));
    assert!(ev.contains(&HttpEvent::DuplicateContentLengthFieldInRequest));
    assert!(ev.contains(&HttpEvent::InvalidContentLengthFieldInRequest));
}

#[test]
fn content_length_values() {
    assert_eq!(parse_content_length(b" 42 "), Some(42));
    assert_eq!(parse_content_length(b"-1"), None);
    assert_eq!(parse_content_length(b"99999999999999999999"), None);
    assert_eq!(parse_content_length(b""), None);
}
