//! Rule options into the [`Sig`] model.
//!
//! A [`Builder`] walks the options in order, keeping what Suricata keeps
//! while parsing: the current sticky buffer, the last content (the target of
//! modifiers such as `nocase` or `distance`), and the lists built so far.
//! Each family of keywords lives in its own module.

mod app;
mod bytes;
mod flow;
mod meta;
mod packet;
mod payload;
#[cfg(test)]
mod tests;

use crate::buffers::{self, BufKw};
use crate::classification::Classifications;
use crate::error::{PResult, Perr, RuleErrorKind};
use crate::lexer::Opt;
use crate::num::parse_i64;
use crate::sig::{Buffer, Content, Header, Inspection, Item, Sig, Val};

pub(crate) use flow::parse_track;
pub(crate) use meta::{check_requires, KNOWN_KEYWORDS};

/// The parse state of one rule.
pub(crate) struct Builder<'a> {
    pub sig: Sig,
    classes: &'a Classifications,
    /// The current sticky buffer's list; `None` means the payload.
    cur: Option<usize>,
    /// The payload list, once a payload keyword created it.
    payload: Option<usize>,
    /// The content that modifiers apply to: (list, item).
    last_content: Option<(usize, usize)>,
    explicit_priority: Option<u8>,
    seen_sid: bool,
    seen_rev: bool,
    seen_gid: bool,
    seen_msg: bool,
    seen_classtype: bool,
    seen_fast_pattern: bool,
    seen_dsize: bool,
    seen_flow: bool,
    seen_base64_decode: bool,
}

impl<'a> Builder<'a> {
    pub fn new(header: Header, classes: &'a Classifications) -> Builder<'a> {
        Builder {
            sig: Sig {
                header,
                sid: 0,
                gid: 1,
                rev: 0,
                msg: String::new(),
                classtype: None,
                priority: 3,
                references: Vec::new(),
                metadata: Vec::new(),
                target: None,
                noalert: false,
                checks: Vec::new(),
                inspections: Vec::new(),
                threshold: None,
                detection_filter: None,
                tag: None,
                vars: Vec::new(),
                prefilter: false,
                config: None,
                requires: None,
                file: None,
                line: 0,
                raw: String::new(),
            },
            classes,
            cur: None,
            payload: None,
            last_content: None,
            explicit_priority: None,
            seen_sid: false,
            seen_rev: false,
            seen_gid: false,
            seen_msg: false,
            seen_classtype: false,
            seen_fast_pattern: false,
            seen_dsize: false,
            seen_flow: false,
            seen_base64_decode: false,
        }
    }

    /// Applies one option.
    pub fn option(&mut self, o: &Opt<'_>) -> PResult<()> {
        let v = o.value;
        let name = o.name;
        if let Some(bk) = buffers::lookup(name) {
            no_value(name, v)?;
            return match bk {
                BufKw::Sticky(b) => self.sticky(b),
                BufKw::Modifier(b) => self.legacy_modifier(name, b),
            };
        }
        if meta::apply(self, name, v)?
            || payload::apply(self, name, v)?
            || bytes::apply(self, name, v)?
            || flow::apply(self, name, v)?
            || packet::apply(self, name, v)?
            || app::apply(self, name, v)?
        {
            return Ok(());
        }
        Err(Perr {
            kind: RuleErrorKind::UnsupportedKeyword,
            msg: format!("unsupported keyword '{name}'"),
        })
    }

    /// Validates the whole rule and returns it.
    pub fn finish(mut self) -> PResult<Sig> {
        if !self.seen_sid {
            return Err(Perr::invalid("rule has no sid"));
        }
        self.sig.priority = match (self.explicit_priority, &self.sig.classtype) {
            (Some(p), _) => p,
            (None, Some(c)) => self.classes.get(c).map(|c| c.priority).unwrap_or(3),
            (None, None) => 3,
        };
        let proto = self.sig.header.proto.clone();
        for insp in &self.sig.inspections {
            if !insp.buffer.fits_proto(&proto) {
                return Err(Perr::invalid(format!(
                    "'{}' cannot be used in a rule for protocol '{}'",
                    insp.buffer.name(),
                    proto_name(&proto)
                )));
            }
        }
        for insp in &self.sig.inspections {
            payload::validate_list(insp)?;
        }
        // Lists emptied by legacy modifiers moving their content away.
        self.sig
            .inspections
            .retain(|i| !(i.buffer == Buffer::Payload && i.items.is_empty()));
        Ok(self.sig)
    }

    // ---- list management shared by the keyword modules ----

    fn sticky(&mut self, b: Buffer) -> PResult<()> {
        if b == Buffer::Payload {
            self.cur = None;
            return Ok(());
        }
        if b == Buffer::Base64Data && !self.seen_base64_decode {
            return Err(Perr::invalid(
                "base64_data without a preceding base64_decode",
            ));
        }
        // Naming a single buffer again continues its list (relative
        // modifiers chain across the repeat, as in Suricata); a multi-buffer
        // (one instance per DNS name, certificate, header...) starts a new
        // instance that must match on its own.
        if !b.is_multi() {
            if let Some(i) = self.sig.inspections.iter().rposition(|i| i.buffer == b) {
                self.cur = Some(i);
                return Ok(());
            }
        }
        self.sig.inspections.push(Inspection {
            buffer: b,
            transforms: Vec::new(),
            items: Vec::new(),
        });
        self.cur = Some(self.sig.inspections.len() - 1);
        Ok(())
    }

    /// The list new payload items go to: the sticky buffer, else payload.
    fn cur_list(&mut self) -> usize {
        if let Some(c) = self.cur {
            return c;
        }
        match self.payload {
            Some(p) => p,
            None => {
                self.sig.inspections.push(Inspection {
                    buffer: Buffer::Payload,
                    transforms: Vec::new(),
                    items: Vec::new(),
                });
                let p = self.sig.inspections.len() - 1;
                self.payload = Some(p);
                p
            }
        }
    }

    /// The list of `b` that legacy modifiers and buffer-flagged pcres add
    /// to: the latest untransformed list of that buffer, else a new one.
    fn list_for(&mut self, b: Buffer) -> usize {
        if let Some(i) = self
            .sig
            .inspections
            .iter()
            .rposition(|i| i.buffer == b && i.transforms.is_empty())
        {
            return i;
        }
        self.sig.inspections.push(Inspection {
            buffer: b,
            transforms: Vec::new(),
            items: Vec::new(),
        });
        self.sig.inspections.len() - 1
    }

    fn push_item(&mut self, list: usize, item: Item) -> usize {
        let items = &mut self.sig.inspections[list].items;
        items.push(item);
        items.len() - 1
    }

    fn push_content(&mut self, list: usize, c: Content) {
        let i = self.push_item(list, Item::Content(Box::new(c)));
        self.last_content = Some((list, i));
    }

    /// The content a modifier keyword applies to.
    fn last_content_mut(&mut self, kw: &str) -> PResult<&mut Content> {
        let err = || {
            Perr::invalid(format!(
                "content modifier '{kw}' without a preceding content"
            ))
        };
        let (l, i) = self.last_content.ok_or_else(err)?;
        match self
            .sig
            .inspections
            .get_mut(l)
            .and_then(|x| x.items.get_mut(i))
        {
            Some(Item::Content(c)) => Ok(c),
            _ => Err(err()),
        }
    }

    /// A literal or the name of a `byte_extract`/`byte_math` variable.
    fn val(&self, s: &str, kw: &str) -> PResult<Val> {
        let t = s.trim();
        if let Some(v) = parse_i64(t) {
            return Ok(Val::Lit(v));
        }
        match self.sig.vars.iter().position(|n| n == t) {
            Some(i) => Ok(Val::Var(i as u8)),
            None if is_ident(t) => Err(Perr::invalid(format!("unknown variable '{t}' in {kw}"))),
            None => Err(Perr::syntax(format!("invalid value '{t}' for {kw}"))),
        }
    }

    /// Declares a `byte_extract`/`byte_math` variable.
    fn new_var(&mut self, name: &str, kw: &str) -> PResult<u8> {
        let n = name.trim();
        if !is_ident(n) {
            return Err(Perr::syntax(format!("invalid variable name '{n}' in {kw}")));
        }
        if let Some(i) = self.sig.vars.iter().position(|x| x == n) {
            // Suricata lets a later byte_extract reuse a name; it rebinds.
            return Ok(i as u8);
        }
        if self.sig.vars.len() >= u8::MAX as usize {
            return Err(Perr::invalid("too many byte_extract/byte_math variables"));
        }
        self.sig.vars.push(n.to_string());
        Ok((self.sig.vars.len() - 1) as u8)
    }
}

pub(crate) fn proto_name(p: &crate::sig::Proto) -> String {
    use crate::sig::Proto::*;
    match p {
        Ip => "ip".into(),
        Ipv4 => "ipv4".into(),
        Ipv6 => "ipv6".into(),
        Tcp => "tcp".into(),
        TcpPkt => "tcp-pkt".into(),
        TcpStream => "tcp-stream".into(),
        Udp => "udp".into(),
        Icmp => "icmp".into(),
        Icmpv4 => "icmpv4".into(),
        Icmpv6 => "icmpv6".into(),
        Sctp => "sctp".into(),
        Igmp => "igmp".into(),
        Pkthdr => "pkthdr".into(),
        App(a) => a.clone(),
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.')
        && !s.as_bytes()[0].is_ascii_digit()
}

/// Keywords that take no value.
fn no_value(kw: &str, v: Option<&str>) -> PResult<()> {
    match v {
        None => Ok(()),
        Some("") => Ok(()),
        Some(x) => Err(Perr::syntax(format!("'{kw}' takes no value, got '{x}'"))),
    }
}

/// Keywords that need a value.
fn need<'v>(kw: &str, v: Option<&'v str>) -> PResult<&'v str> {
    match v {
        Some(x) if !x.is_empty() => Ok(x),
        _ => Err(Perr::syntax(format!("'{kw}' needs a value"))),
    }
}

/// Splits `a, b ,c` into trimmed parts.
fn parts(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim)
}
