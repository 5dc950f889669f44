//! URL normalisation. Indicators and traffic go through the same function,
//! so they meet on one key: `host[:port]` + `path[?query]` where
//!
//! - the host is ASCII-lower-cased, one trailing dot dropped, and the
//!   default ports `:80` and `:443` dropped (an HTTP sensor does not see the
//!   scheme, so `http://` and `https://` URLs share a key);
//! - `%XX` escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are
//!   decoded, other escapes get upper-case hex (RFC 3986 section 6.2.2);
//! - the fragment is dropped and an empty path is `/`;
//! - path and query are otherwise byte for byte (case kept, no dot-segment
//!   removal, `+` is not a space).
//!
//! A request in absolute form (`GET http://host/path`, as proxies see it)
//! takes its host from the URI rather than from the `Host` header.

use crate::bytetable::{fnv_step, FNV_INIT};

/// Longest normalised key an indicator may have.
pub(crate) const MAX_KEY: usize = 4096;

/// Where the normaliser writes the key: a buffer at load time; at lookup
/// time a hasher and then a comparator, so lookups neither allocate nor
/// copy. `Err` stops the normaliser.
pub(crate) trait Sink {
    fn push(&mut self, b: u8) -> Result<(), ()>;
}

/// Collects the key (load time).
pub(crate) struct KeyBuf(pub(crate) Vec<u8>);

impl Sink for KeyBuf {
    fn push(&mut self, b: u8) -> Result<(), ()> {
        if self.0.len() == MAX_KEY {
            return Err(());
        }
        self.0.push(b);
        Ok(())
    }
}

/// FNV-1a of the key, giving up past `max` bytes (no key is longer).
pub(crate) struct HashSink {
    pub(crate) h: u64,
    len: usize,
    max: usize,
}

impl HashSink {
    pub(crate) fn new(max: usize) -> HashSink {
        HashSink {
            h: FNV_INIT,
            len: 0,
            max,
        }
    }
}

impl Sink for HashSink {
    #[inline]
    fn push(&mut self, b: u8) -> Result<(), ()> {
        if self.len == self.max {
            return Err(());
        }
        self.len += 1;
        self.h = fnv_step(self.h, b);
        Ok(())
    }
}

/// Compares the key with a stored one, stopping at the first difference.
pub(crate) struct EqSink<'a> {
    key: &'a [u8],
    pos: usize,
}

impl<'a> EqSink<'a> {
    pub(crate) fn new(key: &'a [u8]) -> EqSink<'a> {
        EqSink { key, pos: 0 }
    }

    pub(crate) fn done(&self) -> bool {
        self.pos == self.key.len()
    }
}

impl Sink for EqSink<'_> {
    #[inline]
    fn push(&mut self, b: u8) -> Result<(), ()> {
        if self.key.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(())
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a [u8], p: &[u8]) -> Option<&'a [u8]> {
    if s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p) {
        Some(&s[p.len()..])
    } else {
        None
    }
}

/// Splits an absolute URI (`http://authority/rest`) into authority (without
/// userinfo) and the rest; `None` when `uri` is not absolute.
pub(crate) fn split_absolute(uri: &[u8]) -> Option<(&[u8], &[u8])> {
    let after = strip_prefix_ci(uri, b"http://").or_else(|| strip_prefix_ci(uri, b"https://"))?;
    let end = after
        .iter()
        .position(|&c| c == b'/' || c == b'?' || c == b'#')
        .unwrap_or(after.len());
    let mut auth = &after[..end];
    if let Some(at) = auth.iter().rposition(|&c| c == b'@') {
        auth = &auth[at + 1..];
    }
    Some((auth, &after[end..]))
}

/// The host with default port and trailing dot removed (not yet lower-cased).
fn host_part(host: &[u8]) -> &[u8] {
    let mut h = host;
    // The port is after the last ':' unless that is inside an IPv6 literal.
    let port_at = match h.iter().rposition(|&c| c == b':') {
        Some(i) if !h[i..].contains(&b']') => Some(i),
        _ => None,
    };
    if let Some(i) = port_at {
        let port = &h[i + 1..];
        if port.is_empty() || port == b"80" || port == b"443" {
            h = &h[..i];
        }
    }
    match h.split_last() {
        Some((b'.', rest)) => rest,
        _ => h,
    }
}

#[inline]
fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Writes the match key of a request for `uri` with `Host: host` into
/// `out`. `Err` when the key does not fit (it then matches nothing).
pub(crate) fn url_key(host: &[u8], uri: &[u8], out: &mut impl Sink) -> Result<(), ()> {
    let (host, uri) = split_absolute(uri).unwrap_or((host, uri));
    for &c in host_part(host) {
        out.push(c.to_ascii_lowercase())?;
    }
    let uri = match uri.iter().position(|&c| c == b'#') {
        Some(i) => &uri[..i],
        None => uri,
    };
    if uri.first() != Some(&b'/') {
        out.push(b'/')?;
    }
    let mut i = 0;
    while i < uri.len() {
        let c = uri[i];
        if c == b'%' && i + 2 < uri.len() {
            if let (Some(a), Some(b)) = (hex_val(uri[i + 1]), hex_val(uri[i + 2])) {
                let v = (a << 4) | b;
                if unreserved(v) {
                    out.push(v)?;
                } else {
                    out.push(b'%')?;
                    out.push(uri[i + 1].to_ascii_uppercase())?;
                    out.push(uri[i + 2].to_ascii_uppercase())?;
                }
                i += 3;
                continue;
            }
        }
        out.push(c)?;
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(host: &str, uri: &str) -> String {
        let mut b = KeyBuf(Vec::new());
        url_key(host.as_bytes(), uri.as_bytes(), &mut b).unwrap();
        String::from_utf8(b.0).unwrap()
    }

    #[test]
    fn normalises() {
        assert_eq!(key("Evil.Example", "/A/b?Q=1"), "evil.example/A/b?Q=1");
        assert_eq!(key("evil.example:80", "/"), "evil.example/");
        assert_eq!(key("evil.example:443", "/"), "evil.example/");
        assert_eq!(key("evil.example:8080", "/"), "evil.example:8080/");
        assert_eq!(key("evil.example.", ""), "evil.example/");
        assert_eq!(key("h", "/%7e%41%2f%2F%zz%4"), "h/~A%2F%2F%zz%4");
        assert_eq!(key("h", "/a#frag"), "h/a");
        assert_eq!(key("h", "?q"), "h/?q");
        assert_eq!(key("[::1]:80", "/"), "[::1]/");
        assert_eq!(key("[::1]", "/"), "[::1]/");
        assert_eq!(key("ignored", "HTTP://u:p@X.org:80/p"), "x.org/p");
        assert_eq!(key("ignored", "https://x.org"), "x.org/");
    }

    #[test]
    fn too_long_is_an_error() {
        let mut b = KeyBuf(Vec::new());
        let long = vec![b'a'; MAX_KEY + 1];
        assert!(url_key(b"h", &long, &mut b).is_err());
    }
}
