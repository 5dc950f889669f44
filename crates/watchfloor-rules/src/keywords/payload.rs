//! `content` and its modifiers, `pcre`, `isdataat`, the size keywords and
//! the legacy content modifiers (`content:"x"; http_uri;`).

use super::{need, no_value, parts, Builder};
use crate::error::{PResult, Perr};
use crate::lexer::{decode_content, negation};
use crate::num::{num, parse_numcmp};
use crate::sig::{
    Buffer, Check, Content, FastPattern, Inspection, IsDataAt, Item, NumCmp, Pcre, Val, VarScope,
};

pub(super) fn apply(b: &mut Builder<'_>, name: &str, v: Option<&str>) -> PResult<bool> {
    match name {
        "content" => {
            let c = new_content(need(name, v)?, name)?;
            let l = b.cur_list();
            b.push_content(l, c);
        }
        "uricontent" => {
            let c = new_content(need(name, v)?, name)?;
            let l = b.list_for(Buffer::HttpUri);
            b.push_content(l, c);
        }
        "nocase" => {
            no_value(name, v)?;
            let c = b.last_content_mut(name)?;
            if c.nocase {
                return Err(dup(name));
            }
            c.nocase = true;
        }
        "rawbytes" => {
            no_value(name, v)?;
            b.last_content_mut(name)?.rawbytes = true;
        }
        "depth" | "offset" => {
            let val = b.val(need(name, v)?, name)?;
            let c = b.last_content_mut(name)?;
            if c.startswith {
                return Err(Perr::invalid(format!(
                    "'{name}' cannot be combined with 'startswith'"
                )));
            }
            if c.is_relative() {
                return Err(mixed(name));
            }
            let slot = if name == "depth" {
                &mut c.depth
            } else {
                &mut c.offset
            };
            if slot.is_some() {
                return Err(dup(name));
            }
            if let Val::Lit(n) = val {
                if !(0..=65535).contains(&n) {
                    return Err(Perr::invalid(format!("{name} {n} is out of range")));
                }
                if name == "depth" && (n as usize) < c.pattern.len() {
                    return Err(Perr::invalid(format!(
                        "depth {n} is smaller than the content length {}",
                        c.pattern.len()
                    )));
                }
            }
            *slot = Some(val);
        }
        "distance" | "within" => {
            let val = b.val(need(name, v)?, name)?;
            let c = b.last_content_mut(name)?;
            if c.startswith {
                return Err(Perr::invalid(format!(
                    "'{name}' cannot be combined with 'startswith'"
                )));
            }
            if c.depth.is_some() || c.offset.is_some() {
                return Err(mixed(name));
            }
            let slot = if name == "distance" {
                &mut c.distance
            } else {
                &mut c.within
            };
            if slot.is_some() {
                return Err(dup(name));
            }
            if let Val::Lit(n) = val {
                if !(-65535..=65535).contains(&n) {
                    return Err(Perr::invalid(format!("{name} {n} is out of range")));
                }
                if name == "within" && n < c.pattern.len() as i64 {
                    return Err(Perr::invalid(format!(
                        "within {n} is smaller than the content length {}, so the rule can never match",
                        c.pattern.len()
                    )));
                }
            }
            *slot = Some(val);
        }
        "startswith" => {
            no_value(name, v)?;
            let c = b.last_content_mut(name)?;
            if c.startswith {
                return Err(dup(name));
            }
            if c.depth.is_some() || c.offset.is_some() || c.is_relative() {
                return Err(Perr::invalid(
                    "'startswith' cannot be combined with depth, offset, distance or within",
                ));
            }
            c.startswith = true;
        }
        "endswith" => {
            no_value(name, v)?;
            let c = b.last_content_mut(name)?;
            if c.endswith {
                return Err(dup(name));
            }
            c.endswith = true;
        }
        "fast_pattern" => {
            let fp = parse_fast_pattern(v)?;
            if b.seen_fast_pattern {
                return Err(Perr::invalid(
                    "fast_pattern is set on more than one content",
                ));
            }
            b.seen_fast_pattern = true;
            let c = b.last_content_mut(name)?;
            c.fast_pattern = fp;
        }
        "pcre" => pcre(b, need(name, v)?)?,
        "isdataat" => {
            let mut it = parts(need(name, v)?);
            let (negated, first) = negation(it.next().unwrap_or(""));
            let offset = b.val(first, name)?;
            let mut d = IsDataAt {
                negated,
                offset,
                relative: false,
                rawbytes: false,
            };
            for p in it {
                match p {
                    "relative" => d.relative = true,
                    "rawbytes" => d.rawbytes = true,
                    o => return Err(Perr::syntax(format!("invalid isdataat option '{o}'"))),
                }
            }
            let l = b.cur_list();
            b.push_item(l, Item::IsDataAt(d));
        }
        "bsize" => {
            let cmp = parse_numcmp(need(name, v)?, name, u64::MAX)?;
            let l = b
                .cur
                .ok_or_else(|| Perr::invalid("bsize needs a sticky buffer before it"))?;
            b.push_item(l, Item::Bsize(cmp));
        }
        "urilen" => {
            let mut it = parts(need(name, v)?);
            let cmp = parse_numcmp(it.next().unwrap_or(""), name, 65535)?;
            let buf = match it.next() {
                None | Some("norm") => Buffer::HttpUri,
                Some("raw") => Buffer::HttpUriRaw,
                Some(o) => {
                    return Err(Perr::syntax(format!(
                        "urilen option must be norm or raw, got '{o}'"
                    )))
                }
            };
            let l = b.list_for(buf);
            b.push_item(l, Item::Urilen(cmp));
        }
        "dsize" => {
            if b.seen_dsize {
                return Err(dup(name));
            }
            b.seen_dsize = true;
            let cmp = parse_numcmp(need(name, v)?, name, 65535)?;
            b.sig.checks.push(Check::Dsize(cmp));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn dup(kw: &str) -> Perr {
    Perr::invalid(format!("'{kw}' used twice on the same content"))
}

fn mixed(kw: &str) -> Perr {
    Perr::invalid(format!(
        "'{kw}' mixes relative (distance/within) and absolute (depth/offset) modifiers on one content"
    ))
}

fn new_content(v: &str, kw: &str) -> PResult<Content> {
    let (negated, s) = negation(v);
    let pattern = decode_content(s, kw)?;
    if pattern.is_empty() {
        return Err(Perr::invalid(format!("{kw} is empty")));
    }
    Ok(Content {
        pattern,
        negated,
        nocase: false,
        offset: None,
        depth: None,
        distance: None,
        within: None,
        startswith: false,
        endswith: false,
        fast_pattern: FastPattern::default(),
        rawbytes: false,
    })
}

fn parse_fast_pattern(v: Option<&str>) -> PResult<FastPattern> {
    let mut fp = FastPattern {
        explicit: true,
        ..FastPattern::default()
    };
    match v.map(str::trim) {
        None | Some("") => {}
        Some("only") => fp.only = true,
        Some(a) => {
            let (o, l) = a
                .split_once(',')
                .ok_or_else(|| Perr::syntax(format!("invalid fast_pattern option '{a}'")))?;
            fp.chop = Some((num(o, "fast_pattern")?, num(l, "fast_pattern")?));
        }
    }
    Ok(fp)
}

impl Builder<'_> {
    /// `content:"x"; http_uri;`: moves the last content into the buffer's
    /// list, where its relative modifiers chain with that list's items.
    pub(super) fn legacy_modifier(&mut self, kw: &str, buf: Buffer) -> PResult<()> {
        let (l, i) = self.last_content.ok_or_else(|| {
            Perr::invalid(format!(
                "content modifier '{kw}' without a preceding content"
            ))
        })?;
        if self.sig.inspections[l].buffer != Buffer::Payload {
            if self.sig.inspections[l].buffer == buf {
                // Already there (a second modifier of the same kind).
                return Ok(());
            }
            return Err(Perr::invalid(format!(
                "'{kw}' modifies a content in sticky buffer '{}'; reset with pkt_data first",
                self.sig.inspections[l].buffer.name()
            )));
        }
        let item = self.sig.inspections[l].items.remove(i);
        let t = self.list_for(buf);
        let j = self.push_item(t, item);
        self.last_content = Some((t, j));
        Ok(())
    }
}

/// Buffer named by a pcre flag, as the legacy content modifiers do.
fn pcre_flag_buffer(f: char) -> Option<Buffer> {
    Some(match f {
        'U' => Buffer::HttpUri,
        'I' => Buffer::HttpUriRaw,
        'P' => Buffer::HttpRequestBody,
        'Q' => Buffer::FileData,
        'H' => Buffer::HttpHeader,
        'D' => Buffer::HttpHeaderRaw,
        'M' => Buffer::HttpMethod,
        'C' => Buffer::HttpCookie,
        'S' => Buffer::HttpStatCode,
        'Y' => Buffer::HttpStatMsg,
        'V' => Buffer::HttpUserAgent,
        'W' => Buffer::HttpHost,
        'Z' => Buffer::HttpHostRaw,
        _ => return None,
    })
}

/// Where the regex ends and `, flow:name, pkt:name` capture targets begin.
fn split_captures(inner: &str) -> (&str, &str) {
    let bytes = inner.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        if c != b',' {
            continue;
        }
        let pre = &inner[..i];
        let post = inner[i + 1..].trim_start();
        let flags_start = pre.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if flags_start.len() > 1
            && flags_start.ends_with('/')
            && ["pkt:", "flow:", "tx:"].iter().any(|p| post.starts_with(p))
        {
            return (pre, &inner[i + 1..]);
        }
    }
    (inner, "")
}

fn scope(s: &str) -> Option<VarScope> {
    match s {
        "pkt" => Some(VarScope::Pkt),
        "flow" => Some(VarScope::Flow),
        "tx" => Some(VarScope::Tx),
        _ => None,
    }
}

pub(crate) fn parse_pcre(v: &str) -> PResult<(Pcre, Option<Buffer>, bool)> {
    let (negated, s) = negation(v);
    let s = s.trim();
    if s.len() < 2 || !s.starts_with('"') || !s.ends_with('"') {
        return Err(Perr::syntax("pcre must be a quoted \"/regex/flags\""));
    }
    let inner = &s[1..s.len() - 1];
    let (re, caps) = split_captures(inner);
    let re = re.trim_end();
    let body = re
        .strip_prefix('/')
        .ok_or_else(|| Perr::syntax("pcre must start with '/'"))?;
    let last = body
        .rfind('/')
        .ok_or_else(|| Perr::syntax("pcre has no closing '/'"))?;
    let (raw_pat, flags) = (&body[..last], &body[last + 1..]);
    // `\;` only exists to get `;` past the rule lexer; PCRE wants `;`.
    let pattern = raw_pat.replace("\\;", ";");
    let mut p = Pcre {
        pattern,
        negated,
        caseless: false,
        multiline: false,
        dotall: false,
        extended: false,
        anchored: false,
        dollar_endonly: false,
        ungreedy: false,
        relative: false,
        no_limits: false,
        captures: Vec::new(),
    };
    let mut buffer = None;
    let mut rawbytes = false;
    for f in flags.chars() {
        match f {
            'i' => p.caseless = true,
            'm' => p.multiline = true,
            's' => p.dotall = true,
            'x' => p.extended = true,
            'A' => p.anchored = true,
            'E' => p.dollar_endonly = true,
            'G' => p.ungreedy = true,
            'R' => p.relative = true,
            'O' => p.no_limits = true,
            'B' => rawbytes = true,
            c => match pcre_flag_buffer(c) {
                Some(b) if buffer.is_none() || buffer == Some(b) => buffer = Some(b),
                Some(_) => return Err(Perr::invalid("pcre names more than one buffer")),
                None => return Err(Perr::syntax(format!("unknown pcre modifier '{c}'"))),
            },
        }
    }
    // Named groups `(?P<flow_x>...)` capture into variables.
    let mut rest = p.pattern.as_str();
    let mut named = Vec::new();
    while let Some(i) = rest.find("(?P<") {
        let after = &rest[i + 4..];
        if let Some(end) = after.find('>') {
            let n = &after[..end];
            if let Some((sc, var)) = n.split_once('_') {
                if let Some(sc) = scope(sc) {
                    named.push((sc, var.to_string()));
                }
            }
        }
        rest = after;
    }
    p.captures = named;
    for c in caps.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (sc, name) = c
            .split_once(':')
            .ok_or_else(|| Perr::syntax(format!("invalid pcre capture '{c}'")))?;
        let sc = scope(sc.trim())
            .ok_or_else(|| Perr::syntax(format!("invalid pcre capture scope '{sc}'")))?;
        p.captures.push((sc, name.trim().to_string()));
    }
    Ok((p, buffer, rawbytes))
}

fn pcre(b: &mut Builder<'_>, v: &str) -> PResult<()> {
    let (p, buf, _rawbytes) = parse_pcre(v)?;
    let l = match (buf, b.cur) {
        (None, _) => b.cur_list(),
        (Some(fb), Some(c)) => {
            let cb = b.sig.inspections[c].buffer;
            // Suricata inspects http.response_body through the file.data
            // list, so `/Q` there names the same bytes.
            let same = cb == fb
                || matches!(
                    (cb, fb),
                    (Buffer::HttpResponseBody, Buffer::FileData)
                        | (Buffer::FileData, Buffer::HttpResponseBody)
                );
            if !same {
                return Err(Perr::invalid(format!(
                    "pcre buffer flag for '{}' conflicts with sticky buffer '{}'",
                    fb.name(),
                    cb.name()
                )));
            }
            c
        }
        (Some(fb), None) => b.list_for(fb),
    };
    b.push_item(l, Item::Pcre(Box::new(p)));
    Ok(())
}

/// Highest buffer length a `bsize` allows, if bounded.
fn bsize_max(c: &NumCmp) -> Option<u64> {
    match *c {
        NumCmp::Eq(n) | NumCmp::Le(n) => Some(n),
        NumCmp::Lt(n) => Some(n.saturating_sub(1)),
        NumCmp::Range(_, hi) => Some(hi.saturating_sub(1)),
        _ => None,
    }
}

/// Checks that need the whole list: fast_pattern restrictions and
/// contents longer than the `bsize` allows.
pub(super) fn validate_list(insp: &Inspection) -> PResult<()> {
    let mut max = None;
    for it in &insp.items {
        if let Item::Bsize(c) = it {
            max = bsize_max(c);
        }
    }
    for it in &insp.items {
        let Item::Content(c) = it else { continue };
        if c.fast_pattern.explicit {
            if c.negated
                && (c.offset.is_some()
                    || c.depth.is_some()
                    || c.distance.is_some()
                    || c.within.is_some())
            {
                return Err(Perr::invalid(
                    "fast_pattern cannot be used on a negated content with offset, depth, distance or within",
                ));
            }
            if let Some((o, l)) = c.fast_pattern.chop {
                if o as usize + l as usize > c.pattern.len() {
                    return Err(Perr::invalid(format!(
                        "fast_pattern {o},{l} goes past the end of a {}-byte content",
                        c.pattern.len()
                    )));
                }
            }
        }
        if let Some(m) = max {
            if !c.negated && c.pattern.len() as u64 > m {
                return Err(Perr::invalid(format!(
                    "content of {} bytes can never match in '{}' with bsize at most {m}",
                    c.pattern.len(),
                    insp.buffer.name()
                )));
            }
        }
    }
    Ok(())
}
