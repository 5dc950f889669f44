//! One request/response exchange and what the heads say about the bodies.

use super::body::{Body, Chunked, Framing};
use super::error::HttpEvent;
use super::parser::{parse_content_length, Head, RequestLine, Span, StatusLine, Version};
use super::state::TunnelKind;
use super::uri::{self, NormUri};
use crate::{AppEvent, Direction};

#[derive(Debug, Clone)]
pub struct Request {
    pub head: Head,
    pub(crate) method: Span,
    pub(crate) uri: Span,
    pub(crate) protocol: Option<Span>,
    pub version: Version,
    pub(crate) uri_norm: NormUri,
}

impl Request {
    pub(crate) fn new(head: Head, rl: RequestLine) -> Request {
        let base = head.line.start as usize;
        let sp = |(s, e): (usize, usize)| Span {
            start: u32::try_from(base + s).unwrap_or(u32::MAX),
            len: u32::try_from(e.saturating_sub(s)).unwrap_or(0),
        };
        Request {
            method: sp(rl.method),
            uri: sp(rl.uri),
            protocol: rl.protocol.map(sp),
            version: rl.version,
            uri_norm: NormUri::Same(0, 0),
            head,
        }
    }

    pub fn method(&self) -> &[u8] {
        self.head.get(self.method)
    }

    /// The URI as sent.
    pub fn uri(&self) -> &[u8] {
        self.head.get(self.uri)
    }

    /// `None` for a simple (HTTP/0.9) request.
    pub fn protocol(&self) -> Option<&[u8]> {
        self.protocol.map(|p| self.head.get(p))
    }

    /// The URI as libhtp normalises it (`http.uri`).
    pub fn normalized_uri(&self) -> &[u8] {
        self.uri_norm.get(self.uri())
    }

    pub fn is_connect(&self) -> bool {
        self.method() == b"CONNECT"
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub head: Head,
    pub(crate) protocol: Span,
    pub(crate) status: Span,
    pub(crate) message: Span,
    pub version: Version,
    /// The status when it is a valid number (EVE `status`).
    pub status_code: Option<u16>,
}

impl Response {
    pub(crate) fn new(head: Head, sl: StatusLine) -> Response {
        let base = head.line.start as usize;
        let sp = |(s, e): (usize, usize)| Span {
            start: u32::try_from(base + s).unwrap_or(u32::MAX),
            len: u32::try_from(e.saturating_sub(s)).unwrap_or(0),
        };
        Response {
            protocol: sp(sl.protocol),
            status: sp(sl.status),
            message: sp(sl.message),
            version: sl.version,
            status_code: sl.code,
            head,
        }
    }

    /// A response without a status line (to a simple request, or one
    /// libhtp took as body).
    pub(crate) fn simple() -> Response {
        Response {
            head: Head::default(),
            protocol: Span::default(),
            status: Span::default(),
            message: Span::default(),
            version: Version::V0_9,
            status_code: None,
        }
    }

    pub fn protocol(&self) -> &[u8] {
        self.head.get(self.protocol)
    }

    /// The status as sent (`http.stat_code`).
    pub fn status(&self) -> &[u8] {
        self.head.get(self.status)
    }

    pub fn message(&self) -> &[u8] {
        self.head.get(self.message)
    }
}

/// Host and port of the request, from the URI authority or the Host header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Authority {
    pub host: Option<Vec<u8>>,
    pub port: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct HttpTx {
    /// Per-flow id from 0: EVE's `tx_id`.
    pub tx_id: u64,
    /// `None` when a response came with no request to answer.
    pub request: Option<Request>,
    pub response: Option<Response>,
    pub request_body: Body,
    pub response_body: Body,
    pub request_complete: bool,
    pub response_complete: bool,
    /// Anomalies, each once, in the order raised.
    pub events: Vec<HttpEvent>,
    pub(crate) authority: Authority,
    continue_seen: bool,
}

impl HttpTx {
    pub(crate) fn new(tx_id: u64) -> HttpTx {
        HttpTx {
            tx_id,
            request: None,
            response: None,
            request_body: Body::default(),
            response_body: Body::default(),
            request_complete: false,
            response_complete: false,
            events: Vec::new(),
            authority: Authority::default(),
            continue_seen: false,
        }
    }

    pub fn is_complete(&self) -> bool {
        self.request_complete && self.response_complete
    }

    /// Normalised host name: lower case, no port, no trailing dot.
    pub fn hostname(&self) -> Option<&[u8]> {
        self.authority.host.as_deref()
    }

    /// The port given in the URI or Host header, if any.
    pub fn host_port(&self) -> Option<u16> {
        self.authority.port
    }

    pub fn body(&self, dir: Direction) -> &Body {
        match dir {
            Direction::ToServer => &self.request_body,
            Direction::ToClient => &self.response_body,
        }
    }

    pub fn app_events(&self) -> impl Iterator<Item = AppEvent> + '_ {
        self.events.iter().map(|&e| e.into())
    }

    pub(crate) fn push_event(&mut self, e: HttpEvent) {
        if !self.events.contains(&e) {
            self.events.push(e);
        }
    }
}

fn has_token(v: &[u8], tok: &[u8]) -> bool {
    v.split(|&b| b == b',')
        .any(|t| super::parser::trim(t).eq_ignore_ascii_case(tok))
}

/// The body framing a head announces: `Err` carries the events of a
/// Transfer-Encoding or Content-Length that cannot be used.
fn framing(
    head: &Head,
    dir: Direction,
    version: Version,
    ev: &mut Vec<HttpEvent>,
) -> Option<Framing> {
    let side = |r, s| HttpEvent::sided(dir, r, s);
    if let Some(te) = head.header("transfer-encoding") {
        let te = super::parser::trim(te);
        let last_chunked = te
            .rsplit(|&b| b == b',')
            .next()
            .is_some_and(|t| super::parser::trim(t).eq_ignore_ascii_case(b"chunked"));
        if last_chunked || has_token(te, b"chunked") {
            if dir == Direction::ToClient {
                if !te.eq_ignore_ascii_case(b"chunked") {
                    ev.push(HttpEvent::ResponseAbnormalTransferEncoding);
                }
                if matches!(version, Version::V1_0 | Version::V0_9) {
                    ev.push(HttpEvent::ResponseChunkedOldProto);
                }
            }
            return Some(Framing::Chunked(Chunked::default()));
        }
        ev.push(side(
            HttpEvent::InvalidTransferEncodingValueInRequest,
            HttpEvent::InvalidTransferEncodingValueInResponse,
        ));
    }
    match head.header("content-length") {
        Some(cl) => match parse_content_length(cl) {
            Some(n) => Some(Framing::Length(n)),
            None => {
                ev.push(side(
                    HttpEvent::InvalidContentLengthFieldInRequest,
                    HttpEvent::InvalidContentLengthFieldInResponse,
                ));
                (dir == Direction::ToClient).then_some(Framing::UntilClose)
            }
        },
        None => (dir == Direction::ToClient).then_some(Framing::UntilClose),
    }
}

/// Fills in the request; returns the body framing (`None`: no body).
pub(crate) fn finish_request(
    tx: &mut HttpTx,
    mut req: Request,
    ev: &mut Vec<HttpEvent>,
) -> Option<Framing> {
    req.uri_norm = uri::normalize(req.uri(), ev);
    let host_hdr = req.head.find(b"host").copied();
    let uri_auth = if req.is_connect() {
        Some(req.uri())
    } else {
        uri::uri_authority(req.uri())
    };
    let mut auth = Authority::default();
    let mut uri_host = None;
    if let Some(a) = uri_auth {
        let hp = uri::split_host_port(a);
        if !hp.valid {
            ev.push(HttpEvent::RequestUriHostInvalid);
        }
        if matches!(hp.port, Some(Err(()))) {
            ev.push(HttpEvent::InvalidAuthorityPort);
        }
        if !hp.host.is_empty() {
            let h = uri::normalize_host(hp.host);
            uri_host = Some(h.clone());
            auth.host = Some(h);
        }
        auth.port = hp.port.and_then(Result::ok);
    }
    match host_hdr {
        Some(h) => {
            let hp = uri::split_host_port(req.head.get(h.value));
            if !hp.valid {
                ev.push(HttpEvent::RequestHeaderHostInvalid);
            }
            if matches!(hp.port, Some(Err(()))) {
                ev.push(HttpEvent::InvalidAuthorityPort);
            }
            let host = uri::normalize_host(hp.host);
            let repeated = h.flags & super::parser::flags::REPEATED != 0;
            if repeated || uri_host.as_ref().is_some_and(|u| *u != host) {
                ev.push(HttpEvent::HostHeaderAmbiguous);
            }
            if auth.host.is_none() && !host.is_empty() {
                auth.host = Some(host);
            }
            if auth.port.is_none() {
                auth.port = hp.port.and_then(Result::ok);
            }
        }
        None if req.version == Version::V1_1 => ev.push(HttpEvent::MissingHostHeader),
        None => {}
    }
    tx.authority = auth;
    let f = if req.version == Version::V0_9 {
        None
    } else {
        framing(&req.head, Direction::ToServer, req.version, ev)
    };
    tx.request = Some(req);
    f
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResponseOutcome {
    /// 1xx other than 101: the final response is still to come.
    Interim,
    Tunnel(TunnelKind),
    NoBody,
    Body(Framing),
}

pub(crate) fn finish_response(
    tx: &mut HttpTx,
    resp: Response,
    ev: &mut Vec<HttpEvent>,
) -> ResponseOutcome {
    let code = resp.status_code;
    let (connect, head_req) = match &tx.request {
        Some(r) => (r.is_connect(), r.method() == b"HEAD"),
        None => (false, false),
    };
    let out = match code {
        Some(101) => ResponseOutcome::Tunnel(TunnelKind::Upgrade),
        Some(c @ 100..=199) => {
            if c == 100 {
                if tx.continue_seen {
                    ev.push(HttpEvent::ContinueAlreadySeen);
                }
                tx.continue_seen = true;
            }
            ResponseOutcome::Interim
        }
        Some(200..=299) if connect => ResponseOutcome::Tunnel(TunnelKind::Connect),
        Some(204 | 304) => ResponseOutcome::NoBody,
        _ if head_req => ResponseOutcome::NoBody,
        _ => match framing(&resp.head, Direction::ToClient, resp.version, ev) {
            Some(f) => ResponseOutcome::Body(f),
            None => ResponseOutcome::NoBody,
        },
    };
    tx.response = Some(resp);
    out
}
