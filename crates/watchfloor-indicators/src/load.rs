//! Reading indicator files: lines to fields, fields to validated
//! indicators, duplicates, expiry, and a report of every bad line as
//! `file:line: reason`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use crate::domain::MAX_NAME;
use crate::exact::{decode_hex, ja4_key, JA4_LEN};
use crate::ip::prefix_range;
use crate::time::parse_expires;
use crate::url::{split_absolute, url_key, KeyBuf};
use crate::{DomainScope, Indicator, IndicatorSet, Kind, Tlp, DEFAULT_SEVERITY};

/// A bad line (an error) or a line worth a look (a warning):
/// displays as `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct LineError {
    pub file: Arc<str>,
    pub line: usize,
    pub reason: String,
}

/// An indicator file that could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read indicator file {}: {source}", path.display())]
pub struct FileError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// What a load did. Every non-blank, non-comment line is counted once:
/// `lines == loaded + replaced + failed + expired + directives`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadCounts {
    /// Non-blank, non-comment lines.
    pub lines: usize,
    /// Indicators in the built set.
    pub loaded: usize,
    /// Lines that replaced an earlier line with the same type, value and
    /// source (the later line wins).
    pub replaced: usize,
    /// Lines with an error (each is in [`LoadReport::errors`]).
    pub failed: usize,
    /// Lines dropped because `expires` was at or before the builder's
    /// `now` (see [`Builder::drop_expired_at`]).
    pub expired: usize,
    /// `type,value,...` header lines and `defaults` lines.
    pub directives: usize,
    /// Loaded indicators per kind, indexed as [`Kind::ALL`].
    pub by_kind: [usize; Kind::ALL.len()],
}

impl LoadCounts {
    /// Loaded indicators of one kind.
    pub fn of(&self, kind: Kind) -> usize {
        self.by_kind[kind.index()]
    }
}

/// Errors, warnings and counts of a load.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub errors: Vec<LineError>,
    /// Replaced duplicates, each naming the line it replaced.
    pub warnings: Vec<LineError>,
    pub counts: LoadCounts,
}

/// The optional attributes of an indicator, for [`Builder::add`] (the way
/// a STIX reader will feed the builder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    pub source: Option<String>,
    pub id: Option<String>,
    pub severity: Option<u8>,
    pub tlp: Option<Tlp>,
    pub desc: Option<String>,
    /// Unix seconds.
    pub expires: Option<i64>,
}

/// The validated match key of an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    V4 { first: u32, last: u32 },
    V6 { first: u128, last: u128 },
    Domain(Box<[u8]>, DomainScope),
    Url(Box<[u8]>),
    D16([u8; 16]),
    D20([u8; 20]),
    D32([u8; 32]),
    Ja4([u8; JA4_LEN]),
}

/// Builds an [`IndicatorSet`] from files, strings or single indicators.
#[derive(Debug, Default)]
pub struct Builder {
    now: Option<i64>,
    slots: Vec<(Indicator, Key)>,
    by_key: HashMap<(Kind, Key, Arc<str>), usize>,
    report: LoadReport,
}

/// Loads one text; bad lines are in the report, the rest in the set.
pub fn load_str(text: &str, origin: &str) -> (IndicatorSet, LoadReport) {
    let mut b = Builder::new();
    b.add_str(text, origin);
    b.build()
}

/// Loads files in order (duplicates are found across all of them). Only a
/// file that cannot be read is an `Err`.
pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<(IndicatorSet, LoadReport), FileError> {
    let mut b = Builder::new();
    for p in paths {
        b.add_file(p.as_ref())?;
    }
    Ok(b.build())
}

/// Per-file state: defaults from `defaults` lines and the header columns.
#[derive(Default)]
struct FileState {
    defaults: Attrs,
    columns: Vec<Option<AttrName>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrName {
    Source,
    Id,
    Severity,
    Tlp,
    Desc,
    Expires,
}

impl AttrName {
    fn parse(s: &str) -> Option<AttrName> {
        Some(match s.to_ascii_lowercase().as_str() {
            "source" => AttrName::Source,
            "id" => AttrName::Id,
            "severity" => AttrName::Severity,
            "tlp" => AttrName::Tlp,
            "desc" | "description" => AttrName::Desc,
            "expires" => AttrName::Expires,
            _ => return None,
        })
    }
}

const ATTR_NAMES: &str = "source, id, severity, tlp, desc, expires";

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Drops, at load, indicators whose `expires` is at or before `unix_secs`
    /// (counted in [`LoadCounts::expired`]). Without it nothing is dropped
    /// and the caller can test [`Indicator::is_expired`] at match time.
    pub fn drop_expired_at(&mut self, unix_secs: i64) -> &mut Builder {
        self.now = Some(unix_secs);
        self
    }

    /// Reads one file; its name (without directories) is the default source.
    pub fn add_file(&mut self, path: &Path) -> Result<(), FileError> {
        let bytes = std::fs::read(path).map_err(|source| FileError {
            path: path.to_path_buf(),
            source,
        })?;
        self.add_bytes(&bytes, &path.display().to_string());
        Ok(())
    }

    /// Adds the lines of `text`; `origin` names it in errors and, without
    /// its directories, is the default source.
    pub fn add_str(&mut self, text: &str, origin: &str) {
        self.add_bytes(text.as_bytes(), origin);
    }

    /// As [`Builder::add_str`] for bytes that may not be UTF-8 (a line that is
    /// not is reported). A UTF-8 byte order mark and CRLF line ends are
    /// accepted (spreadsheet exports have both).
    pub fn add_bytes(&mut self, text: &[u8], origin: &str) {
        let file: Arc<str> = origin.into();
        let base = Path::new(origin)
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .unwrap_or(origin);
        let mut st = FileState {
            defaults: Attrs {
                source: Some(base.to_string()),
                ..Attrs::default()
            },
            columns: Vec::new(),
        };
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let lineno = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let line = match std::str::from_utf8(raw) {
                Ok(l) => l,
                Err(_) => {
                    if raw.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    self.report.counts.lines += 1;
                    self.fail(&file, lineno, "line is not valid UTF-8".into());
                    continue;
                }
            };
            let fields = match split_fields(line) {
                Ok(f) => f,
                Err(e) => {
                    self.report.counts.lines += 1;
                    self.fail(&file, lineno, e);
                    continue;
                }
            };
            if fields.is_empty() {
                continue;
            }
            self.report.counts.lines += 1;
            if let Err(e) = self.line(&mut st, &fields, &file, lineno) {
                self.fail(&file, lineno, e);
            }
        }
    }

    fn fail(&mut self, file: &Arc<str>, line: usize, reason: String) {
        self.report.counts.failed += 1;
        self.report.errors.push(LineError {
            file: file.clone(),
            line,
            reason,
        });
    }

    fn line(
        &mut self,
        st: &mut FileState,
        fields: &[String],
        file: &Arc<str>,
        lineno: usize,
    ) -> Result<(), String> {
        let first = fields[0].as_str();
        if first.eq_ignore_ascii_case("type")
            && fields
                .get(1)
                .is_some_and(|f| f.eq_ignore_ascii_case("value"))
        {
            let mut cols = Vec::new();
            for f in &fields[2..] {
                if f.is_empty() {
                    cols.push(None);
                    continue;
                }
                match AttrName::parse(f) {
                    Some(a) => cols.push(Some(a)),
                    None => {
                        return Err(format!(
                        "unknown column '{f}' in header (columns after type,value: {ATTR_NAMES})"
                    ))
                    }
                }
            }
            st.columns = cols;
            self.report.counts.directives += 1;
            return Ok(());
        }
        if first.eq_ignore_ascii_case("defaults") {
            let mut d = st.defaults.clone();
            let mut seen = Vec::new();
            for f in &fields[1..] {
                if f.is_empty() {
                    continue;
                }
                let (k, v) = key_value(f)?;
                if k == AttrName::Id {
                    return Err("id cannot be a default".into());
                }
                set_attr(&mut d, &mut seen, k, v)?;
            }
            st.defaults = d;
            self.report.counts.directives += 1;
            return Ok(());
        }
        let kind = Kind::parse(first).ok_or_else(|| {
            if first.contains(char::is_whitespace) {
                format!("'{first}' is not a type: separate fields with commas or with whitespace, not both")
            } else {
                format!(
                    "unknown type '{first}' (want ip, domain, domain-suffix, url, ja3, ja3s, ja4, md5, sha1 or sha256)"
                )
            }
        })?;
        let value = fields
            .get(1)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{kind}: missing value"))?;
        let mut attrs = st.defaults.clone();
        let mut seen = Vec::new();
        for (j, f) in fields[2..].iter().enumerate() {
            match st.columns.get(j) {
                Some(col) => {
                    if let (Some(k), false) = (col, f.is_empty()) {
                        set_attr(&mut attrs, &mut seen, *k, f)?;
                    }
                }
                None => {
                    if !f.is_empty() {
                        let (k, v) = key_value(f)?;
                        set_attr(&mut attrs, &mut seen, k, v)?;
                    }
                }
            }
        }
        self.insert(kind, value, attrs, file, lineno)
    }

    /// Adds one indicator, validated as a file line would be. `origin` and
    /// `line` say where it came from; `attrs.source` defaults to `origin`.
    pub fn add(
        &mut self,
        kind: Kind,
        value: &str,
        mut attrs: Attrs,
        origin: &str,
        line: usize,
    ) -> Result<(), String> {
        if attrs.source.is_none() {
            attrs.source = Some(origin.to_string());
        }
        if let Some(s) = attrs.severity {
            if !(1..=4).contains(&s) {
                return Err(format!("severity must be 1..4, found {s}"));
            }
        }
        let file: Arc<str> = origin.into();
        self.report.counts.lines += 1;
        let r = self.insert(kind, value, attrs, &file, line);
        if let Err(e) = &r {
            self.fail(&file, line, e.clone());
        }
        r
    }

    fn insert(
        &mut self,
        kind: Kind,
        value: &str,
        attrs: Attrs,
        file: &Arc<str>,
        line: usize,
    ) -> Result<(), String> {
        let value = value.trim();
        let (key, scope) = parse_value(kind, value)?;
        let source: Arc<str> = attrs
            .source
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| file.to_string())
            .into();
        if let (Some(now), Some(exp)) = (self.now, attrs.expires) {
            if exp <= now {
                self.report.counts.expired += 1;
                return Ok(());
            }
        }
        let ind = Indicator {
            kind,
            value: value.into(),
            scope,
            source: source.clone(),
            id: attrs.id.map(Into::into),
            severity: attrs.severity.unwrap_or(DEFAULT_SEVERITY),
            tlp: attrs.tlp,
            desc: attrs.desc.map(Into::into),
            expires: attrs.expires,
            file: file.clone(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
        };
        match self.by_key.entry((kind, key.clone(), source)) {
            std::collections::hash_map::Entry::Occupied(o) => {
                let slot = &mut self.slots[*o.get()];
                self.report.warnings.push(LineError {
                    file: file.clone(),
                    line,
                    reason: format!(
                        "{kind} {value}: replaces {}:{} (same value and source; the later line wins)",
                        slot.0.file, slot.0.line
                    ),
                });
                self.report.counts.replaced += 1;
                slot.0 = ind;
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(self.slots.len());
                self.slots.push((ind, key));
            }
        }
        Ok(())
    }

    /// Builds the matchers. The set is immutable and `Send + Sync`.
    pub fn build(self) -> (IndicatorSet, LoadReport) {
        let mut report = self.report;
        let set = IndicatorSet::from_parts(self.slots);
        report.counts.loaded = set.len();
        for i in set.indicators() {
            report.counts.by_kind[i.kind.index()] += 1;
        }
        (set, report)
    }
}

fn key_value(f: &str) -> Result<(AttrName, &str), String> {
    let Some((k, v)) = f.split_once('=') else {
        return Err(format!(
            "expected key=value, found '{f}' (keys: {ATTR_NAMES})"
        ));
    };
    let k = k.trim();
    let name = AttrName::parse(k)
        .ok_or_else(|| format!("unknown attribute '{k}' (keys: {ATTR_NAMES})"))?;
    Ok((name, v))
}

fn set_attr(a: &mut Attrs, seen: &mut Vec<AttrName>, k: AttrName, v: &str) -> Result<(), String> {
    let name = match k {
        AttrName::Source => "source",
        AttrName::Id => "id",
        AttrName::Severity => "severity",
        AttrName::Tlp => "tlp",
        AttrName::Desc => "desc",
        AttrName::Expires => "expires",
    };
    if seen.contains(&k) {
        return Err(format!("{name} given twice"));
    }
    seen.push(k);
    let v = v.trim();
    match k {
        AttrName::Source | AttrName::Id if v.is_empty() => {
            return Err(format!("empty {name}"));
        }
        AttrName::Source => a.source = Some(v.to_string()),
        AttrName::Id => a.id = Some(v.to_string()),
        AttrName::Severity => {
            a.severity = Some(match v {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                _ => {
                    return Err(format!(
                        "severity must be 1..4 (1 is the most severe), found '{v}'"
                    ))
                }
            })
        }
        AttrName::Tlp => {
            a.tlp = Some(Tlp::parse(v).ok_or_else(|| {
                format!("unknown tlp '{v}' (want clear, green, amber, amber+strict or red)")
            })?)
        }
        AttrName::Desc => a.desc = Some(v.to_string()).filter(|d| !d.is_empty()),
        AttrName::Expires => a.expires = Some(parse_expires(v)?),
    }
    Ok(())
}

/// Splits a line into fields. A line with a comma outside quotes is CSV:
/// fields are separated by commas only and trimmed, and empty fields are
/// kept (for header columns). Otherwise fields are separated by
/// whitespace. A `"..."` section anywhere in a field is literal (`""` or
/// `\"` for a quote, `\\` for a backslash). A `#` that starts a field
/// starts a comment. No fields: a blank or comment line.
pub(crate) fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let csv = {
        let mut q = false;
        let mut at_start = true;
        let mut found = false;
        for c in line.chars() {
            if q {
                if c == '"' {
                    q = false;
                }
                continue;
            }
            match c {
                '"' => q = true,
                '#' if at_start => break,
                ',' => {
                    found = true;
                    break;
                }
                _ => {}
            }
            at_start = c.is_whitespace();
        }
        found
    };
    let is_sep = |c: char| if csv { c == ',' } else { c.is_whitespace() };
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut started = false; // the current field has content or quotes
    let mut keep = 0usize; // length of `cur` that trimming must not cut
    let mut chars = line.chars().peekable();
    let finish =
        |fields: &mut Vec<String>, cur: &mut String, started: &mut bool, keep: &mut usize| {
            let t = cur[*keep..].trim_end().len() + *keep;
            cur.truncate(t);
            if csv || *started {
                fields.push(std::mem::take(cur));
            }
            cur.clear();
            *started = false;
            *keep = 0;
        };
    let mut commented = false;
    while let Some(c) = chars.next() {
        if is_sep(c) {
            if csv || started {
                finish(&mut fields, &mut cur, &mut started, &mut keep);
            }
            continue;
        }
        if !started && c.is_whitespace() {
            continue;
        }
        if !started && c == '#' {
            commented = true;
            break;
        }
        if c == '"' {
            started = true;
            loop {
                match chars.next() {
                    None => return Err("unterminated quote".into()),
                    Some('"') => {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            cur.push('"');
                        } else {
                            break;
                        }
                    }
                    Some('\\') => match chars.peek() {
                        Some(&e @ ('"' | '\\')) => {
                            chars.next();
                            cur.push(e);
                        }
                        _ => cur.push('\\'),
                    },
                    Some(q) => cur.push(q),
                }
            }
            keep = cur.len();
            continue;
        }
        started = true;
        cur.push(c);
    }
    if started || (csv && !fields.is_empty() && !commented) {
        finish(&mut fields, &mut cur, &mut started, &mut keep);
    }
    // A CSV line of only empty fields (",,,") is blank.
    if fields.iter().all(|f| f.is_empty()) {
        fields.clear();
    }
    Ok(fields)
}

/// Validates a value of `kind` and returns its match key.
pub(crate) fn parse_value(kind: Kind, value: &str) -> Result<(Key, Option<DomainScope>), String> {
    let v = value.trim();
    match kind {
        Kind::Ip => parse_ip(v).map(|k| (k, None)),
        Kind::Domain | Kind::DomainSuffix => {
            let (name, scope) = match (kind, v.strip_prefix("*.")) {
                (Kind::Domain, Some(rest)) => (rest, DomainScope::Subdomains),
                (Kind::Domain, None) => (v, DomainScope::Exact),
                (_, Some(_)) => {
                    return Err(format!(
                        "domain-suffix '{v}': write the name without '*.' (domain-suffix already matches every name below it)"
                    ))
                }
                (_, None) => (v, DomainScope::Suffix),
            };
            let name = parse_domain(name).map_err(|e| format!("{kind} '{v}': {e}"))?;
            Ok((Key::Domain(name, scope), Some(scope)))
        }
        Kind::Url => parse_url(v).map(|k| (Key::Url(k), None)),
        Kind::Ja3 | Kind::Ja3s | Kind::Md5 => decode_hex::<16>(v.as_bytes())
            .map(|d| (Key::D16(d), None))
            .ok_or_else(|| hex_error(kind, v, 32)),
        Kind::Sha1 => decode_hex::<20>(v.as_bytes())
            .map(|d| (Key::D20(d), None))
            .ok_or_else(|| hex_error(kind, v, 40)),
        Kind::Sha256 => decode_hex::<32>(v.as_bytes())
            .map(|d| (Key::D32(d), None))
            .ok_or_else(|| hex_error(kind, v, 64)),
        Kind::Ja4 => ja4_key(v.as_bytes())
            .map(|k| (Key::Ja4(k), None))
            .ok_or_else(|| {
                format!(
                    "ja4 '{v}': want a JA4 fingerprint like t13d1516h2_8daaf6152771_b186095e22b6"
                )
            }),
    }
}

fn hex_error(kind: Kind, v: &str, digits: usize) -> String {
    if v.len() != digits {
        format!(
            "{kind} '{v}': want {digits} hex digits, found {} characters",
            v.chars().count()
        )
    } else {
        format!("{kind} '{v}': not hex")
    }
}

fn parse_ip(v: &str) -> Result<Key, String> {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => {
            let len: u32 = if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit())
            {
                l.parse()
                    .map_err(|_| format!("ip '{v}': bad prefix length '{l}'"))?
            } else {
                return Err(format!("ip '{v}': bad prefix length '{l}'"));
            };
            (a, Some(len))
        }
        None => (v, None),
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("ip '{v}': not an IPv4 or IPv6 address"))?;
    let (bits, num) = match ip {
        IpAddr::V4(a) => (32, u32::from(a) as u128),
        IpAddr::V6(a) => (128, u128::from(a)),
    };
    let len = len.unwrap_or(bits);
    if len > bits {
        return Err(format!("ip '{v}': prefix length {len} is more than {bits}"));
    }
    let (first, last) = prefix_range(num, len, bits).map_err(|_| {
        let host = bits - len;
        let net = if host == 128 { 0 } else { num >> host << host };
        let net = match ip {
            IpAddr::V4(_) => std::net::Ipv4Addr::from(net as u32).to_string(),
            IpAddr::V6(_) => std::net::Ipv6Addr::from(net).to_string(),
        };
        format!("ip '{v}': host bits set (the network is {net}/{len})")
    })?;
    Ok(match ip {
        IpAddr::V4(_) => Key::V4 {
            first: first as u32,
            last: last as u32,
        },
        IpAddr::V6(_) => {
            // IPv4-mapped (::ffff:a.b.c.d/96+) is stored as IPv4, as
            // lookups of mapped addresses are done as IPv4.
            const MAPPED: u128 = 0xffff_0000_0000;
            if len >= 96 && first >> 32 == MAPPED >> 32 {
                Key::V4 {
                    first: first as u32,
                    last: last as u32,
                }
            } else {
                Key::V6 { first, last }
            }
        }
    })
}

fn parse_domain(name: &str) -> Result<Box<[u8]>, String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name.contains("://") || name.contains('/') {
        return Err("looks like a URL: use type url".into());
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err("an IP address: use type ip".into());
    }
    if !name.is_ascii() {
        return Err("not ASCII: write an international name in its punycode form (xn--...), as it appears in DNS".into());
    }
    if name.len() > MAX_NAME {
        return Err(format!("longer than {MAX_NAME} characters"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label".into());
        }
        if label.len() > 63 {
            return Err(format!("label '{label}' is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(format!("'{c}' is not allowed in a host name"));
        }
    }
    Ok(name.to_ascii_lowercase().into_bytes().into_boxed_slice())
}

fn parse_url(v: &str) -> Result<Box<[u8]>, String> {
    let b = v.as_bytes();
    let lower = v.to_ascii_lowercase();
    let (host, rest) = if lower.starts_with("http://") || lower.starts_with("https://") {
        split_absolute(b).ok_or_else(|| format!("url '{v}': cannot parse"))?
    } else if let Some(i) = lower.find("://") {
        return Err(format!(
            "url '{v}': scheme '{}' is not matched (http and https only)",
            &v[..i]
        ));
    } else {
        // No scheme: host up to the first '/', '?' or '#'.
        let end = b
            .iter()
            .position(|&c| c == b'/' || c == b'?' || c == b'#')
            .unwrap_or(b.len());
        (&b[..end], &b[end..])
    };
    if host.is_empty() {
        return Err(format!("url '{v}': no host"));
    }
    if let Some(c) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "url '{v}': {c:?} is not allowed (percent-encode it)"
        ));
    }
    let mut buf = KeyBuf(Vec::new());
    url_key(host, rest, &mut buf).map_err(|_| format!("url '{v}': too long"))?;
    Ok(buf.0.into_boxed_slice())
}
