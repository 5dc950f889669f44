//! The request URI as libhtp normalises it for `http.uri`, and the
//! authority (Host header or absolute URI) for `hostname` and `http.host`.
//!
//! Suricata runs libhtp's IDS personality minus lower-casing: in the path,
//! `%XX` and `%uXXXX` are decoded (separators too), `\` becomes `/`, runs
//! of `/` collapse and dot segments are removed; the query is only
//! percent-decoded; an absolute URI keeps only path, query and fragment.

use super::error::HttpEvent;

/// The normalised URI: a range of the raw URI when nothing changed, else
/// owned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NormUri {
    Same(usize, usize),
    Owned(Vec<u8>),
}

impl NormUri {
    pub(crate) fn get<'a>(&'a self, raw: &'a [u8]) -> &'a [u8] {
        match self {
            NormUri::Same(s, e) => raw.get(*s..*e).unwrap_or(&[]),
            NormUri::Owned(v) => v,
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Start of the path in an absolute URI (`http://host/x` → index of `/x`),
/// `None` for origin-form and anything else.
fn absolute_path_start(uri: &[u8]) -> Option<usize> {
    let colon = uri.iter().position(|&b| b == b':')?;
    if colon == 0
        || !uri[..colon]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
    {
        return None;
    }
    let rest = uri.get(colon + 1..)?;
    if !rest.starts_with(b"//") {
        return None;
    }
    let auth = colon + 3;
    let end = uri[auth..]
        .iter()
        .position(|&b| b == b'/' || b == b'?' || b == b'#')
        .map_or(uri.len(), |i| auth + i);
    Some(end)
}

/// The authority part of an absolute URI (`user@host:port`).
pub(crate) fn uri_authority(uri: &[u8]) -> Option<&[u8]> {
    let end = absolute_path_start(uri)?;
    let colon = uri.iter().position(|&b| b == b':')?;
    let auth = uri.get(colon + 3..end)?;
    Some(match auth.iter().rposition(|&b| b == b'@') {
        Some(i) => &auth[i + 1..],
        None => auth,
    })
}

pub(crate) fn normalize(uri: &[u8], events: &mut Vec<HttpEvent>) -> NormUri {
    let start = match uri.first() {
        Some(b'/') => 0,
        _ => match absolute_path_start(uri) {
            Some(s) => s,
            // Authority form (CONNECT), `*`, or junk: used as sent.
            None => return NormUri::Same(0, uri.len()),
        },
    };
    let rest = &uri[start..];
    let q = rest.iter().position(|&b| b == b'?' || b == b'#');
    let (path, tail) = rest.split_at(q.unwrap_or(rest.len()));
    let needs = path
        .iter()
        .zip(path.iter().skip(1).chain(std::iter::once(&0)))
        .any(|(&a, &b)| a == b'%' || a == b'\\' || (a == b'/' && (b == b'/' || b == b'.')))
        || tail.contains(&b'%');
    if !needs {
        return NormUri::Same(start, uri.len());
    }
    if contains_double_encoding(path) {
        events.push(HttpEvent::DoubleEncodedUri);
    }
    let mut out = Vec::with_capacity(rest.len());
    let mut decoded = Vec::with_capacity(path.len());
    let mut i = 0;
    while i < path.len() {
        let b = path[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                path.get(i + 1).and_then(|&c| hex(c)),
                path.get(i + 2).and_then(|&c| hex(c)),
            ) {
                decoded.push(h << 4 | l);
                i += 3;
                continue;
            }
            if matches!(path.get(i + 1), Some(b'u' | b'U')) {
                let digits: Option<Vec<u8>> = path
                    .get(i + 2..i + 6)
                    .map(|d| d.iter().filter_map(|&c| hex(c)).collect());
                if let Some(d) = digits.filter(|d| d.len() == 4) {
                    let v = u16::from(d[0]) << 12
                        | u16::from(d[1]) << 8
                        | u16::from(d[2]) << 4
                        | u16::from(d[3]);
                    // Best fit for a code point past Latin-1 is libhtp's `?`.
                    decoded.push(u8::try_from(v).unwrap_or(b'?'));
                    i += 6;
                    continue;
                }
            }
        }
        decoded.push(b);
        i += 1;
    }
    for b in decoded.iter_mut() {
        if *b == b'\\' {
            *b = b'/';
        }
    }
    decoded.dedup_by(|a, b| *a == b'/' && *b == b'/');
    remove_dot_segments(&decoded, &mut out);
    // The query and fragment are only percent-decoded.
    let mut j = 0;
    while j < tail.len() {
        let b = tail[j];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                tail.get(j + 1).and_then(|&c| hex(c)),
                tail.get(j + 2).and_then(|&c| hex(c)),
            ) {
                out.push(h << 4 | l);
                j += 3;
                continue;
            }
        }
        out.push(b);
        j += 1;
    }
    NormUri::Owned(out)
}

fn contains_double_encoding(path: &[u8]) -> bool {
    path.windows(5).any(|w| {
        w[0] == b'%' && w[1] == b'2' && w[2] == b'5' && hex(w[3]).is_some() && hex(w[4]).is_some()
    })
}

/// RFC 3986 5.2.4, on a path that starts with `/` (others pass through).
fn remove_dot_segments(path: &[u8], out: &mut Vec<u8>) {
    if path.first() != Some(&b'/') {
        out.extend_from_slice(path);
        return;
    }
    let base = out.len();
    let mut segs = path[1..].split(|&b| b == b'/').peekable();
    let mut stack: Vec<&[u8]> = Vec::new();
    let mut trailing_slash = false;
    while let Some(seg) = segs.next() {
        let last = segs.peek().is_none();
        match seg {
            b"." => trailing_slash = last,
            b".." => {
                stack.pop();
                trailing_slash = last;
            }
            s => {
                stack.push(s);
                trailing_slash = false;
            }
        }
    }
    for s in &stack {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if trailing_slash || out.len() == base {
        out.push(b'/');
    }
}

/// A host and port as libhtp splits `Host` values and URI authorities.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HostPort<'a> {
    pub host: &'a [u8],
    /// `Some(Err)` when a port is present but not a valid number.
    pub port: Option<Result<u16, ()>>,
    pub valid: bool,
}

pub(crate) fn split_host_port(v: &[u8]) -> HostPort<'_> {
    let v = super::parser::trim(v);
    let (host, port) = if v.first() == Some(&b'[') {
        match v.iter().position(|&b| b == b']') {
            Some(e) => (&v[..=e], v.get(e + 1..).and_then(|r| r.strip_prefix(b":"))),
            None => (v, None),
        }
    } else {
        match v.iter().rposition(|&b| b == b':') {
            Some(c) => (&v[..c], Some(&v[c + 1..])),
            None => (v, None),
        }
    };
    let port = port.map(|p| {
        let p = super::parser::trim(p);
        super::parser::parse_content_length(p)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or(())
    });
    let valid = !host.is_empty()
        && (host.first() == Some(&b'[')
            || host
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"-._".contains(&b)));
    HostPort { host, port, valid }
}

/// libhtp's hostname normalisation: lower case, trailing dots removed.
pub(crate) fn normalize_host(h: &[u8]) -> Vec<u8> {
    let mut v = h.to_ascii_lowercase();
    while v.last() == Some(&b'.') {
        v.pop();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(u: &str) -> String {
        let mut ev = Vec::new();
        String::from_utf8_lossy(normalize(u.as_bytes(), &mut ev).get(u.as_bytes())).into_owned()
    }

    #[test]
    fn normalisation() {
        assert_eq!(norm("/index.html"), "/index.html");
        assert_eq!(norm("/a/./b/../c"), "/a/c");
        assert_eq!(
            norm("//index.php?page=../../../etc/passwd"),
            "/index.php?page=../../../etc/passwd"
        );
        assert_eq!(norm("/%41%2fb\\c"), "/A/b/c");
        assert_eq!(norm("/x%u0041"), "/xA");
        assert_eq!(norm("http://Example.com:8080/p?q=%20"), "/p?q= ");
        assert_eq!(norm("http://example.com"), "");
        assert_eq!(norm("example.com:443"), "example.com:443");
        assert_eq!(norm("/a/.."), "/");
        assert_eq!(norm("/a/b/"), "/a/b/");
        assert_eq!(norm("/%zz"), "/%zz");
        let mut ev = Vec::new();
        normalize(b"/%252e", &mut ev);
        assert_eq!(ev, vec![HttpEvent::DoubleEncodedUri]);
    }

    #[test]
    fn host_port() {
        let h = split_host_port(b"Example.com:8080");
        assert_eq!(h.host, b"Example.com");
        assert_eq!(h.port, Some(Ok(8080)));
        assert!(h.valid);
        assert_eq!(split_host_port(b"[::1]:80").host, b"[::1]");
        assert_eq!(split_host_port(b"a:x").port, Some(Err(())));
        assert!(!split_host_port(b"a, b").valid);
        assert_eq!(normalize_host(b"WWW.Example.COM."), b"www.example.com");
        assert_eq!(uri_authority(b"http://u@h:1/x"), Some(&b"h:1"[..]));
        assert_eq!(uri_authority(b"/x"), None);
    }
}
