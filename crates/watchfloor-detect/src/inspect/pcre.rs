//! Compiled `pcre` items (PCRE2 with JIT through the `pcre2` crate).
//!
//! Suricata compiles with the rule's flags as PCRE options. The `pcre2` crate
//! exposes i/m/s/x directly; the others are expressed in the pattern:
//! `G` (ungreedy) as a leading `(?U)`, `A` (anchored at the start offset) as
//! `\G(?:...)`, `E` (dollar matches only at the very end) by rewriting `$`
//! outside classes/escapes to `\z` (it has no effect with `m`, as in PCRE).
//! Leading `(*VERB)` items stay in front. Matching runs on the buffer (or, for
//! `R`, on the rest of the buffer after the previous match), with PCRE2's
//! default match limits.

use std::sync::{Arc, Mutex};

use pcre2::bytes::{CaptureLocations, Regex, RegexBuilder};
use watchfloor_rules::{Pcre, VarScope};

use super::CompileError;

#[derive(Debug)]
pub struct PcreOp {
    pub re: Regex,
    pub negated: bool,
    pub relative: bool,
    /// Set by the driver: a later relative item depends on this match, so on
    /// its failure the pcre is retried at its next match.
    pub relative_next: bool,
    /// (group index, scope, name) of captures to store.
    pub captures: Vec<(usize, VarScope, Arc<str>)>,
    /// Reused capture locations (per-thread contention falls back to a
    /// fresh allocation).
    locs: Mutex<Option<CaptureLocations>>,
}

/// Length of the leading `(*VERB)` items of a pattern.
fn leading_verbs(p: &str) -> usize {
    let b = p.as_bytes();
    let mut i = 0;
    while b.get(i..i + 2) == Some(b"(*") {
        match b[i..].iter().position(|&c| c == b')') {
            Some(n) => i += n + 1,
            None => break,
        }
    }
    i
}

/// Rewrite unescaped `$` outside character classes to `\z`.
fn dollar_endonly(p: &str, extended: bool) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    let mut in_quote = false;
    while i < b.len() {
        let c = b[i];
        if in_quote {
            if c == b'\\' && b.get(i + 1) == Some(&b'E') {
                in_quote = false;
                out.push_str("\\E");
                i += 2;
            } else {
                out.push(c as char);
                i += 1;
            }
            continue;
        }
        match c {
            b'\\' => {
                if b.get(i + 1) == Some(&b'Q') {
                    in_quote = true;
                }
                out.push('\\');
                if let Some(&n) = b.get(i + 1) {
                    out.push(n as char);
                }
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                // A `]` right after `[` or `[^` is literal.
                if b.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            b'[' if in_class && b.get(i + 1) == Some(&b':') => {
                // POSIX class [:name:]
                if let Some(end) = p[i + 2..].find(":]") {
                    out.push_str(&p[i..i + 2 + end + 2]);
                    i += 2 + end + 2;
                    continue;
                }
                out.push('[');
            }
            b']' if in_class => {
                in_class = false;
                out.push(']');
            }
            b'#' if extended && !in_class => {
                // comment to end of line
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |n| i + n);
                out.push_str(&p[i..end]);
                i = end;
                continue;
            }
            b'$' if !in_class => out.push_str("\\z"),
            _ => {
                // copy the whole UTF-8 sequence
                let ch_len = p[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&p[i..i + ch_len]);
                i += ch_len;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The pattern PCRE2 compiles for this rule's pcre.
pub fn effective_pattern(p: &Pcre) -> String {
    let v = leading_verbs(&p.pattern);
    let (verbs, body) = p.pattern.split_at(v);
    let body = if p.dollar_endonly && !p.multiline {
        dollar_endonly(body, p.extended)
    } else {
        body.to_string()
    };
    let mut s = String::with_capacity(body.len() + 16);
    s.push_str(verbs);
    if p.ungreedy {
        s.push_str("(?U)");
    }
    if p.anchored {
        s.push_str("\\G(?:");
        s.push_str(&body);
        // In extended mode a trailing comment would swallow the `)`.
        if p.extended {
            s.push('\n');
        }
        s.push(')');
    } else {
        s.push_str(&body);
    }
    s
}

pub fn build(
    pattern: &str,
    caseless: bool,
    multiline: bool,
    dotall: bool,
    extended: bool,
) -> Result<Regex, CompileError> {
    RegexBuilder::new()
        .caseless(caseless)
        .multi_line(multiline)
        .dotall(dotall)
        .extended(extended)
        .jit_if_available(true)
        .build(pattern)
        .map_err(|e| CompileError::Pcre {
            pattern: pattern.to_string(),
            message: e.to_string(),
        })
}

impl PcreOp {
    pub fn compile(p: &Pcre) -> Result<PcreOp, CompileError> {
        let pat = effective_pattern(p);
        let re = build(&pat, p.caseless, p.multiline, p.dotall, p.extended)?;
        let names = re.capture_names().to_vec();
        let mut captures = Vec::new();
        for (i, (scope, name)) in p.captures.iter().enumerate() {
            let prefix = match scope {
                VarScope::Pkt => "pkt_",
                VarScope::Flow => "flow_",
                VarScope::Tx => "tx_",
            };
            // A named group `(?P<flow_name>...)` wins; else capture order.
            let group = names
                .iter()
                .position(|n| {
                    n.as_deref()
                        .is_some_and(|n| n.strip_prefix(prefix) == Some(name.as_str()))
                })
                .unwrap_or(i + 1);
            captures.push((group, *scope, Arc::from(name.as_str())));
        }
        // Named groups that the model did not list still capture.
        for (idx, n) in names.iter().enumerate() {
            let Some(n) = n else { continue };
            let (scope, name) = if let Some(r) = n.strip_prefix("pkt_") {
                (VarScope::Pkt, r)
            } else if let Some(r) = n.strip_prefix("flow_") {
                (VarScope::Flow, r)
            } else if let Some(r) = n.strip_prefix("tx_") {
                (VarScope::Tx, r)
            } else {
                continue;
            };
            if !captures.iter().any(|(g, _, _)| *g == idx) {
                captures.push((idx, scope, Arc::from(name)));
            }
        }
        Ok(PcreOp {
            re,
            negated: p.negated,
            relative: p.relative,
            relative_next: false,
            captures,
            locs: Mutex::new(None),
        })
    }

    /// Find a match in `subject` starting at `start`: (start, end) of the
    /// whole match. Errors (e.g. match limit) count as no match.
    #[inline]
    pub fn find_at(&self, subject: &[u8], start: usize) -> Option<(usize, usize)> {
        if start > subject.len() {
            return None;
        }
        match self.re.find_at(subject, start) {
            Ok(Some(m)) => Some((m.start(), m.end())),
            _ => None,
        }
    }

    /// Like [`find_at`](Self::find_at), also reporting each wanted capture
    /// through `sink(scope, name, bytes)`.
    pub fn captures_at(
        &self,
        subject: &[u8],
        start: usize,
        mut sink: impl FnMut(VarScope, &Arc<str>, &[u8]),
    ) -> Option<(usize, usize)> {
        if start > subject.len() {
            return None;
        }
        let mut guard = self.locs.try_lock().ok();
        let mut fresh;
        let locs: &mut CaptureLocations = match guard.as_deref_mut() {
            Some(slot) => slot.get_or_insert_with(|| self.re.capture_locations()),
            None => {
                fresh = self.re.capture_locations();
                &mut fresh
            }
        };
        let m = match self.re.captures_read_at(locs, subject, start) {
            Ok(Some(m)) => (m.start(), m.end()),
            _ => return None,
        };
        for (g, scope, name) in &self.captures {
            if let Some((s, e)) = locs.get(*g) {
                // Suricata stores at most 64 KiB per capture.
                let e = e.min(s.saturating_add(0xffff));
                if let Some(bytes) = subject.get(s..e) {
                    sink(*scope, name, bytes);
                }
            }
        }
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcre(p: &str) -> Pcre {
        Pcre {
            pattern: p.to_string(),
            negated: false,
            caseless: false,
            multiline: false,
            dotall: false,
            extended: false,
            anchored: false,
            dollar_endonly: false,
            ungreedy: false,
            relative: false,
            no_limits: false,
            captures: vec![],
        }
    }

    #[test]
    fn rewrites() {
        let mut p = pcre("(*CR)a$[$]\\$");
        p.dollar_endonly = true;
        p.anchored = true;
        p.ungreedy = true;
        assert_eq!(effective_pattern(&p), "(*CR)(?U)\\G(?:a\\z[$]\\$)");
        p.multiline = true;
        assert_eq!(effective_pattern(&p), "(*CR)(?U)\\G(?:a$[$]\\$)");
        let mut q = pcre("a$ # end$\n b$");
        q.extended = true;
        q.dollar_endonly = true;
        assert_eq!(effective_pattern(&q), "a\\z # end$\n b\\z");
        let mut c = pcre("[]$]$[^]$]\\Q$\\E$");
        c.dollar_endonly = true;
        assert_eq!(effective_pattern(&c), "[]$]\\z[^]$]\\Q$\\E\\z");
    }

    #[test]
    fn flags_behave() {
        let op = |p: Pcre| PcreOp::compile(&p).unwrap();
        // E: `$` no longer matches before a final newline
        let mut e = pcre("abc$");
        assert!(op(e.clone()).find_at(b"abc\n", 0).is_some());
        e.dollar_endonly = true;
        assert!(op(e.clone()).find_at(b"abc\n", 0).is_none());
        assert!(op(e).find_at(b"abc", 0).is_some());
        // A: anchored at the start offset
        let mut a = pcre("bc");
        a.anchored = true;
        let a = op(a);
        assert!(a.find_at(b"abc", 0).is_none());
        assert_eq!(a.find_at(b"abc", 1), Some((1, 3)));
        // G: ungreedy
        let mut g = pcre("a.+b");
        g.ungreedy = true;
        assert_eq!(op(g).find_at(b"axbxb", 0), Some((0, 3)));
        // i, s, m, x
        let mut i = pcre("ABC");
        i.caseless = true;
        assert!(op(i).find_at(b"xabc", 0).is_some());
        let mut s = pcre("a.b");
        assert!(op(s.clone()).find_at(b"a\nb", 0).is_none());
        s.dotall = true;
        assert!(op(s).find_at(b"a\nb", 0).is_some());
        let mut m = pcre("^b");
        assert!(op(m.clone()).find_at(b"a\nb", 0).is_none());
        m.multiline = true;
        assert!(op(m).find_at(b"a\nb", 0).is_some());
        let mut x = pcre("a b # comment");
        x.extended = true;
        assert!(op(x).find_at(b"ab", 0).is_some());
        // binary subjects, no UTF checks
        assert!(op(pcre("\\xff\\x00")).find_at(b"\xfe\xff\x00", 0).is_some());
    }

    #[test]
    fn bad_pattern() {
        let e = PcreOp::compile(&pcre("a(")).unwrap_err();
        assert!(e.to_string().contains("pcre"), "{e}");
    }

    #[test]
    fn captures() {
        let mut p = pcre("user=(?P<flow_user>\\w+) id=(\\d+)");
        p.captures = vec![
            (VarScope::Flow, "user".into()),
            (VarScope::Pkt, "id".into()),
        ];
        let op = PcreOp::compile(&p).unwrap();
        let mut got = Vec::new();
        let m = op.captures_at(b"x user=bob id=42", 0, |s, n, b| {
            got.push((s, n.to_string(), b.to_vec()))
        });
        assert_eq!(m, Some((2, 16)));
        assert_eq!(
            got,
            vec![
                (VarScope::Flow, "user".to_string(), b"bob".to_vec()),
                (VarScope::Pkt, "id".to_string(), b"42".to_vec())
            ]
        );
    }
}
