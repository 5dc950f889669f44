//! The EVE `http` object, as Suricata 8 writes it (`output-json-http.c`).
//!
//! Basic fields always (hostname, http_port, url, http_user_agent, xff,
//! http_content_type, content_range); with `extended: yes` also
//! http_refer, http_method, protocol, status (or status_string), redirect
//! and length; header arrays with `dump-all-headers` or `custom`.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::parser::{trim, Head};
use super::tx::HttpTx;

/// `custom` fields: (config name, header name, logged by `extended`).
const CUSTOM_FIELDS: &[(&str, &str, bool)] = &[
    ("accept", "accept", false),
    ("accept_charset", "accept-charset", false),
    ("accept_encoding", "accept-encoding", false),
    ("accept_language", "accept-language", false),
    ("accept_datetime", "accept-datetime", false),
    ("authorization", "authorization", false),
    ("cache_control", "cache-control", false),
    ("cookie", "cookie", false),
    ("from", "from", false),
    ("max_forwards", "max-forwards", false),
    ("origin", "origin", false),
    ("pragma", "pragma", false),
    ("proxy_authorization", "proxy-authorization", false),
    ("range", "range", false),
    ("te", "te", false),
    ("via", "via", false),
    ("x_requested_with", "x-requested-with", false),
    ("dnt", "dnt", false),
    ("x_forwarded_proto", "x-forwarded-proto", false),
    ("x_authenticated_user", "x-authenticated-user", false),
    ("x_flash_version", "x-flash-version", false),
    ("accept_range", "accept-range", false),
    ("age", "age", false),
    ("allow", "allow", false),
    ("connection", "connection", false),
    ("content_encoding", "content-encoding", false),
    ("content_language", "content-language", false),
    ("content_length", "content-length", false),
    ("content_location", "content-location", false),
    ("content_md5", "content-md5", false),
    ("content_range", "content-range", false),
    ("content_type", "content-type", false),
    ("date", "date", false),
    ("etag", "etags", false),
    ("expires", "expires", false),
    ("last_modified", "last-modified", false),
    ("link", "link", false),
    ("location", "location", false),
    ("proxy_authenticate", "proxy-authenticate", false),
    ("referer", "referer", true),
    ("refresh", "refresh", false),
    ("retry_after", "retry-after", false),
    ("server", "server", false),
    ("set_cookie", "set-cookie", false),
    ("trailer", "trailer", false),
    ("transfer_encoding", "transfer-encoding", false),
    ("upgrade", "upgrade", false),
    ("vary", "vary", false),
    ("warning", "warning", false),
    ("www_authenticate", "www-authenticate", false),
    ("true_client_ip", "true-client-ip", false),
    ("org_src_ip", "org-src-ip", false),
    ("x_bluecoat_via", "x-bluecoat-via", false),
];

const MAX_HEADER_NAME: usize = 255;
const MAX_HEADER_VALUE: usize = 2047;

/// The eve-log `http` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpEveOptions {
    pub extended: bool,
    /// `dump-all-headers: request|both`.
    pub dump_request_headers: bool,
    /// `dump-all-headers: response|both`.
    pub dump_response_headers: bool,
    /// `custom`: indices into the known-field table.
    custom: Vec<usize>,
}

impl Default for HttpEveOptions {
    /// Suricata's stock suricata.yaml: `- http: extended: yes`.
    fn default() -> Self {
        HttpEveOptions {
            extended: true,
            dump_request_headers: false,
            dump_response_headers: false,
            custom: Vec::new(),
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1"),
        Value::Number(n) => n.as_u64() == Some(1),
        _ => false,
    }
}

impl HttpEveOptions {
    /// From the options of the `http` eve type as written in the config
    /// (`{"extended": "yes", "custom": [...], "dump-all-headers": "both"}`;
    /// `null` for a bare `- http`). Options left out take Suricata's
    /// built-in defaults, so `extended` is off unless given.
    pub fn from_config(v: &Value) -> HttpEveOptions {
        let mut o = HttpEveOptions {
            extended: v.get("extended").is_some_and(truthy),
            ..HttpEveOptions::default()
        };
        if let Some(d) = v.get("dump-all-headers").and_then(Value::as_str) {
            if d.starts_with("both") {
                o.dump_request_headers = true;
                o.dump_response_headers = true;
            } else if d.starts_with("request") {
                o.dump_request_headers = true;
            } else if d.starts_with("response") {
                o.dump_response_headers = true;
            }
        }
        if let Some(list) = v.get("custom").and_then(Value::as_array) {
            o.set_custom(list.iter().filter_map(Value::as_str));
        }
        o
    }

    /// `custom: [accept, content-md5, ...]`: config or header names;
    /// unknown names are ignored, as Suricata ignores them.
    pub fn set_custom<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for n in names {
            let f = CUSTOM_FIELDS
                .iter()
                .position(|&(c, h, _)| c == n || h.eq_ignore_ascii_case(n));
            if let Some(i) = f.filter(|i| !self.custom.contains(i)) {
                self.custom.push(i);
            }
        }
    }

    fn wants(&self, name: &[u8]) -> bool {
        self.custom.iter().any(|&i| {
            let (_, h, ext) = CUSTOM_FIELDS[i];
            (!self.extended || !ext) && name.eq_ignore_ascii_case(h.as_bytes())
        })
    }
}

/// Bytes as Suricata's JSON builder writes them: the UTF-8 text when valid,
/// otherwise ASCII kept and every other byte as a literal `\xNN`.
struct Text<'a>(&'a [u8]);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(t) => s.serialize_str(t),
            Err(_) => {
                let mut out = String::with_capacity(self.0.len() * 2);
                for &b in self.0 {
                    if b.is_ascii() {
                        out.push(char::from(b));
                    } else {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                s.serialize_str(&out)
            }
        }
    }
}

/// Cuts at a byte limit without splitting a UTF-8 character.
fn cut(b: &[u8], max: usize) -> &[u8] {
    if b.len() <= max {
        return b;
    }
    let mut end = max;
    while end > 0 && b.get(end).is_some_and(|&c| c & 0xc0 == 0x80) {
        end -= 1;
    }
    &b[..end]
}

struct Headers<'a> {
    head: &'a Head,
    filter: Option<&'a HttpEveOptions>,
}

impl Headers<'_> {
    fn items(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.head
            .headers()
            .filter(move |(n, _)| self.filter.is_none_or(|o| o.wants(n)))
    }
}

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for (n, v) in self.items() {
            seq.serialize_element(&HeaderObj(n, v))?;
        }
        seq.end()
    }
}

struct HeaderObj<'a>(&'a [u8], &'a [u8]);

impl Serialize for HeaderObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", &Text(cut(self.0, MAX_HEADER_NAME)))?;
        m.serialize_entry("value", &Text(cut(self.1, MAX_HEADER_VALUE)))?;
        m.end()
    }
}

/// `Content-Range: bytes 0-99/1234` → (start, end, size); `*` is absent.
fn content_range(v: &[u8]) -> Option<(Option<u64>, Option<u64>, Option<u64>)> {
    let v = trim(v);
    let v = match v.get(..6) {
        Some(p) if p.eq_ignore_ascii_case(b"bytes ") => trim(&v[6..]),
        _ => v,
    };
    let slash = v.iter().position(|&b| b == b'/')?;
    let (range, size) = (&v[..slash], &v[slash + 1..]);
    let num = |b: &[u8]| super::parser::parse_content_length(b);
    let size = if size == b"*" { None } else { Some(num(size)?) };
    let (start, end) = if range == b"*" {
        (None, None)
    } else {
        let dash = range.iter().position(|&b| b == b'-')?;
        (Some(num(&range[..dash])?), Some(num(&range[dash + 1..])?))
    };
    Some((start, end, size))
}

struct Range<'a>(&'a [u8]);

impl Serialize for Range<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("raw", &Text(self.0))?;
        if let Some((a, b, c)) = content_range(self.0) {
            for (k, v) in [("start", a), ("end", b), ("size", c)] {
                if let Some(v) = v {
                    m.serialize_entry(k, &v)?;
                }
            }
        }
        m.end()
    }
}

/// One EVE `http` object, borrowing its transaction; serialises with
/// Suricata's field order.
#[derive(Debug, Clone, Copy)]
pub struct HttpEveRecord<'a> {
    pub tx: &'a HttpTx,
    pub opts: &'a HttpEveOptions,
}

impl Serialize for HttpEveRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (tx, o) = (self.tx, self.opts);
        let req = tx.request.as_ref();
        let resp = tx.response.as_ref();
        let rh = |n: &str| req.and_then(|r| r.head.header(n));
        let sh = |n: &str| resp.and_then(|r| r.head.header(n));
        let mut m = s.serialize_map(None)?;
        if let Some(h) = tx.hostname() {
            m.serialize_entry("hostname", &Text(h))?;
        }
        if let Some(p) = tx.host_port() {
            m.serialize_entry("http_port", &p)?;
        }
        if let Some(r) = req {
            m.serialize_entry("url", &Text(r.uri()))?;
        }
        if let Some(v) = rh("user-agent") {
            m.serialize_entry("http_user_agent", &Text(v))?;
        }
        if let Some(v) = rh("x-forwarded-for") {
            m.serialize_entry("xff", &Text(v))?;
        }
        if let Some(v) = sh("content-type") {
            let end = v.iter().position(|&b| b == b';').unwrap_or(v.len());
            m.serialize_entry("http_content_type", &Text(&v[..end]))?;
        }
        if let Some(v) = sh("content-range") {
            m.serialize_entry("content_range", &Range(v))?;
        }
        if o.extended {
            if let Some(v) = rh("referer") {
                m.serialize_entry("http_refer", &Text(v))?;
            }
            if let Some(r) = req {
                m.serialize_entry("http_method", &Text(r.method()))?;
                if let Some(p) = r.protocol() {
                    m.serialize_entry("protocol", &Text(p))?;
                }
            }
            if let Some(r) = resp {
                match r.status_code {
                    Some(c) => m.serialize_entry("status", &c)?,
                    None if !r.status().is_empty() => {
                        m.serialize_entry("status_string", &Text(r.status()))?
                    }
                    None => {}
                }
            }
            if let Some(v) = sh("location") {
                m.serialize_entry("redirect", &Text(v))?;
            }
            m.serialize_entry("length", &tx.response_body.message_len)?;
        }
        let custom = !o.custom.is_empty();
        for (key, head, dump) in [
            (
                "request_headers",
                req.map(|r| &r.head),
                o.dump_request_headers,
            ),
            (
                "response_headers",
                resp.map(|r| &r.head),
                o.dump_response_headers,
            ),
        ] {
            let Some(head) = head else { continue };
            if !dump && !custom {
                continue;
            }
            let h = Headers {
                head,
                filter: (!dump).then_some(o),
            };
            if h.items().next().is_some() {
                m.serialize_entry(key, &h)?;
            }
        }
        m.end()
    }
}

/// The `http` object of a transaction as a JSON value (keys sorted; use
/// [`HttpEveRecord`] to write Suricata's field order).
pub fn eve_http(tx: &HttpTx, opts: &HttpEveOptions) -> Value {
    serde_json::to_value(HttpEveRecord { tx, opts }).unwrap_or(Value::Null)
}

#[cfg(test)]
#[path = "tests_eve.rs"]
mod tests;
