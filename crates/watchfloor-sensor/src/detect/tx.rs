//! The app layer's transactions as the detection engine sees them: each
//! sticky buffer of a rule mapped to the parser's zero-copy getter.

use watchfloor_applayer::dns::{buffers as db, DnsTransaction};
use watchfloor_applayer::http::{buffers as hb, HttpTx};
use watchfloor_applayer::tls::{buffers as tb, TlsState};
use watchfloor_applayer::{AppEvent, Direction as AppDir};
use watchfloor_detect::TxSource;
use watchfloor_rules::{Buffer, Check, FlowDir};

fn app_dir(d: FlowDir) -> AppDir {
    match d {
        FlowDir::ToServer => AppDir::ToServer,
        FlowDir::ToClient => AppDir::ToClient,
    }
}

fn one(b: Option<&[u8]>, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    b.is_some_and(f)
}

fn owned(b: Option<Vec<u8>>, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    b.is_some_and(|b| f(&b))
}

fn many<'a>(it: impl Iterator<Item = &'a [u8]>, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    for b in it {
        if f(b) {
            return true;
        }
    }
    false
}

/// `app-layer-event:http.request_field_too_long` style names: the rule's
/// layer is the protocol; names compare without regard to case.
fn has_event(events: impl Iterator<Item = AppEvent>, layer: &str, name: &str) -> bool {
    let (layer, name) = if layer.is_empty() {
        name.split_once('.').unwrap_or(("", name))
    } else {
        (layer, name)
    };
    events
        .into_iter()
        .any(|e| e.name.eq_ignore_ascii_case(name) && (layer.is_empty() || proto_is(e, layer)))
}

fn proto_is(e: AppEvent, layer: &str) -> bool {
    let p = e.proto.name();
    p.eq_ignore_ascii_case(layer) || (layer == "http1" && p == "http")
}

pub struct HttpSrc<'a>(pub &'a HttpTx);

impl TxSource for HttpSrc<'_> {
    fn each(&self, b: Buffer, dir: FlowDir, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let tx = self.0;
        let d = app_dir(dir);
        match b {
            Buffer::HttpUri => one(hb::uri(tx), f),
            Buffer::HttpUriRaw => one(hb::uri_raw(tx), f),
            Buffer::HttpMethod => one(hb::method(tx), f),
            Buffer::HttpProtocol => one(hb::protocol(tx, d), f),
            Buffer::HttpRequestLine => one(hb::request_line(tx), f),
            Buffer::HttpResponseLine => one(hb::response_line(tx), f),
            Buffer::HttpHeader => owned(hb::header(tx, d), f),
            Buffer::HttpHeaderRaw => one(hb::header_raw(tx, d), f),
            Buffer::HttpHeaderNames => owned(hb::header_names(tx, d), f),
            Buffer::HttpCookie => one(hb::cookie(tx, d), f),
            Buffer::HttpUserAgent => one(hb::user_agent(tx), f),
            Buffer::HttpHost => one(hb::host(tx), f),
            Buffer::HttpHostRaw => one(hb::host_raw(tx), f),
            Buffer::HttpAccept => one(hb::accept(tx), f),
            Buffer::HttpAcceptEnc => one(hb::accept_enc(tx), f),
            Buffer::HttpAcceptLang => one(hb::accept_lang(tx), f),
            Buffer::HttpConnection => one(hb::connection(tx, d), f),
            Buffer::HttpContentType => one(hb::content_type(tx, d), f),
            Buffer::HttpContentLen => one(hb::content_len(tx, d), f),
            Buffer::HttpReferer => one(hb::referer(tx), f),
            Buffer::HttpStart => owned(hb::start(tx, d), f),
            Buffer::HttpRequestBody => one(hb::request_body(tx), f),
            Buffer::HttpResponseBody => one(hb::response_body(tx), f),
            Buffer::HttpStatCode => one(hb::stat_code(tx), f),
            Buffer::HttpStatMsg => one(hb::stat_msg(tx), f),
            Buffer::HttpServer => one(hb::server(tx), f),
            Buffer::HttpLocation => one(hb::location(tx), f),
            Buffer::FileData => one(hb::file_data(tx, d), f),
            Buffer::HttpRequestHeader => {
                for h in hb::header_items(tx, AppDir::ToServer) {
                    if f(&h) {
                        return true;
                    }
                }
                false
            }
            Buffer::HttpResponseHeader => {
                for h in hb::header_items(tx, AppDir::ToClient) {
                    if f(&h) {
                        return true;
                    }
                }
                false
            }
            _ => false,
        }
    }

    fn check(&self, _c: &Check, _dir: FlowDir) -> Option<bool> {
        None
    }

    fn has_event(&self, layer: &str, name: &str) -> bool {
        has_event(self.0.app_events(), layer, name)
    }
}

pub struct DnsSrc<'a>(pub &'a DnsTransaction);

impl TxSource for DnsSrc<'_> {
    fn each(&self, b: Buffer, _dir: FlowDir, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let tx = self.0;
        match b {
            Buffer::DnsQuery => many(db::query(tx), f),
            Buffer::DnsQueriesRrname => many(db::query_names(tx), f),
            Buffer::DnsAnswersRrname => many(db::answer_names(tx), f),
            Buffer::DnsResponseRrname => many(db::response_names(tx), f),
            Buffer::DnsAuthoritiesRrname => many(db::authority_names(tx), f),
            Buffer::DnsAdditionalsRrname => many(db::additional_names(tx), f),
            _ => false,
        }
    }

    fn check(&self, c: &Check, _dir: FlowDir) -> Option<bool> {
        let tx = self.0;
        Some(match c {
            Check::DnsOpcode { negated, op } => op.matches(u64::from(db::opcode(tx))) != *negated,
            // The header's rcode of the message inspected, either direction.
            Check::DnsRcode(op) => op.matches(u64::from(tx.message.header.rcode())),
            Check::DnsRrtype(op) => db::rrtypes(tx).any(|t| op.matches(u64::from(t))),
            _ => return None,
        })
    }

    fn has_event(&self, layer: &str, name: &str) -> bool {
        has_event(self.0.app_events(), layer, name)
    }
}

pub struct TlsSrc<'a>(pub &'a TlsState);

impl TxSource for TlsSrc<'_> {
    fn each(&self, b: Buffer, dir: FlowDir, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let st = self.0;
        // Certificates come from the server, whichever way the rule looks.
        let certs = AppDir::ToClient;
        let d = app_dir(dir);
        match b {
            Buffer::TlsSni => one(tb::sni(st), f),
            Buffer::TlsCertSubject => one(tb::cert_subject(st, certs), f),
            Buffer::TlsCertIssuer => one(tb::cert_issuer(st, certs), f),
            Buffer::TlsCertSerial => one(tb::cert_serial(st, certs), f),
            Buffer::TlsCertFingerprint => one(tb::cert_fingerprint(st, certs), f),
            Buffer::TlsCerts => many(tb::certs(st, certs), f),
            Buffer::TlsSubjectAltName => many(tb::subjectaltname(st, certs), f),
            Buffer::TlsAlpn => many(tb::alpn(st, d), f),
            Buffer::TlsRandom => one(tb::random(st, d), f),
            Buffer::TlsRandomTime => one(tb::random(st, d).and_then(|r| r.get(..4)), f),
            Buffer::TlsRandomBytes => one(tb::random(st, d).and_then(|r| r.get(4..)), f),
            Buffer::Ja3Hash => one(tb::ja3_hash(st), f),
            Buffer::Ja3String => one(tb::ja3_string(st), f),
            Buffer::Ja3sHash => one(tb::ja3s_hash(st), f),
            Buffer::Ja3sString => one(tb::ja3s_string(st), f),
            Buffer::Ja4Hash => one(tb::ja4_hash(st), f),
            _ => false,
        }
    }

    fn check(&self, c: &Check, dir: FlowDir) -> Option<bool> {
        let st = self.0;
        let certs = AppDir::ToClient;
        Some(match c {
            Check::TlsVersion(vs) => vs.contains(&tb::version(st)),
            // `ssl_version:!tls1.0,...`: the version of the direction inspected.
            Check::SslVersion { any, not } => {
                let v = tb::ssl_version(st, app_dir(dir));
                v != 0 && (any.contains(&v) || (!not.is_empty() && !not.contains(&v)))
            }
            Check::TlsCertChainLen(op) => op.matches(tb::cert_chain_len(st, certs) as u64),
            Check::TlsCertValidity { not_after, op } => match tb::cert_validity(st, certs) {
                Some((nb, na)) => {
                    let t = if *not_after { na } else { nb };
                    t >= 0 && op.matches(t as u64)
                }
                None => false,
            },
            _ => return None,
        })
    }

    fn has_event(&self, layer: &str, name: &str) -> bool {
        has_event(self.0.app_events(), layer, name)
    }
}
