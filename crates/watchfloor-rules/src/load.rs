//! Loading rule files: line handling (comments, continuations, disabled
//! rules), per-rule errors with positions, duplicate sids, counts and
//! keyword usage.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::classification::Classifications;
use crate::error::{FileError, Perr, RuleError, RuleErrorKind};
use crate::header::{parse_action, parse_header, HeaderCache};
use crate::keywords::{check_requires, Builder};
use crate::lexer::{split_options, split_rule, Opt};
use crate::sig::Sig;
use crate::vars::Vars;

/// How many rules went where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadCounts {
    /// Enabled (not commented-out) rules read.
    pub seen: usize,
    /// Rules in [`LoadReport::sigs`].
    pub loaded: usize,
    /// Rules that did not parse or validate, `requires` included.
    pub failed: usize,
    /// Of `failed`: rules whose `requires:` is not met (Suricata calls
    /// these skipped).
    pub skipped: usize,
    /// Rules that parsed but lost to another with the same gid:sid.
    pub duplicates: usize,
    /// Commented-out rules (`# alert ...`): not errors, just counted.
    pub disabled: usize,
}

/// Use of one option keyword across a load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeywordUse {
    /// Enabled rules using the keyword at least once.
    pub rules: usize,
    /// Of those, rules that parsed (duplicates included).
    pub loaded: usize,
}

/// The outcome of loading one or more rule sources.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub sigs: Vec<Sig>,
    pub errors: Vec<RuleError>,
    pub counts: LoadCounts,
    /// keyword -> usage, for a coverage table.
    pub keywords: BTreeMap<String, KeywordUse>,
}

impl LoadReport {
    /// Share of enabled rules that parsed (duplicates count as parsed).
    pub fn parse_rate(&self) -> f64 {
        if self.counts.seen == 0 {
            return 1.0;
        }
        (self.counts.loaded + self.counts.duplicates) as f64 / self.counts.seen as f64
    }
}

/// Parses one rule (continuation lines already joined).
pub fn parse_rule(text: &str, vars: &Vars, classes: &Classifications) -> Result<Sig, RuleError> {
    let mut cache = HeaderCache::default();
    let mut opts = Vec::new();
    parse_inner(text, vars, classes, &mut cache, &mut opts)
        .map(|mut s| {
            s.raw = text.trim().to_string();
            s
        })
        .map_err(|(e, sid)| RuleError {
            file: None,
            line: 0,
            sid,
            kind: e.kind,
            reason: e.msg,
        })
}

/// Loads rules from text; `origin` names it in errors and in
/// [`Sig::file`].
pub fn load_str(text: &str, origin: &str, vars: &Vars, classes: &Classifications) -> LoadReport {
    let mut l = Loader::new(vars, classes);
    l.add_str(text, origin);
    l.finish()
}

/// Loads rule files in order; duplicates are detected across all of them.
/// Rules that do not load are in the report; only a file that cannot be
/// read at all is an `Err`.
pub fn load_files<P: AsRef<Path>>(
    paths: &[P],
    vars: &Vars,
    classes: &Classifications,
) -> Result<LoadReport, FileError> {
    let mut l = Loader::new(vars, classes);
    for p in paths {
        l.add_file(p.as_ref())?;
    }
    Ok(l.finish())
}

/// An incremental load over several sources.
pub struct Loader<'a> {
    vars: &'a Vars,
    classes: &'a Classifications,
    cache: HeaderCache,
    sigs: Vec<Option<Sig>>,
    by_id: HashMap<(u32, u32), usize>,
    errors: Vec<RuleError>,
    counts: LoadCounts,
    keywords: HashMap<String, KeywordUse>,
}

impl<'a> Loader<'a> {
    pub fn new(vars: &'a Vars, classes: &'a Classifications) -> Loader<'a> {
        Loader {
            vars,
            classes,
            cache: HeaderCache::default(),
            sigs: Vec::new(),
            by_id: HashMap::new(),
            errors: Vec::new(),
            counts: LoadCounts::default(),
            keywords: HashMap::new(),
        }
    }

    /// Reads one file (invalid UTF-8 is replaced, not fatal).
    pub fn add_file(&mut self, path: &Path) -> Result<(), FileError> {
        let bytes = std::fs::read(path).map_err(|source| FileError {
            path: path.to_path_buf(),
            source,
        })?;
        self.add_str(
            &String::from_utf8_lossy(&bytes),
            &path.display().to_string(),
        );
        Ok(())
    }

    pub fn add_str(&mut self, text: &str, origin: &str) {
        let file: Arc<str> = origin.into();
        let mut joined = String::new();
        let mut first = 0usize;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if joined.is_empty() {
                if t.is_empty() {
                    continue;
                }
                if let Some(c) = t.strip_prefix('#') {
                    if looks_like_rule(c) {
                        self.counts.disabled += 1;
                    }
                    continue;
                }
                first = i + 1;
            }
            match t.strip_suffix('\\') {
                Some(part) => {
                    joined.push_str(part);
                    continue;
                }
                None => joined.push_str(t),
            }
            let rule = std::mem::take(&mut joined);
            self.add_rule(rule, &file, first);
        }
        if !joined.is_empty() {
            let rule = std::mem::take(&mut joined);
            self.add_rule(rule, &file, first);
        }
    }

    fn add_rule(&mut self, text: String, file: &Arc<str>, line: usize) {
        self.counts.seen += 1;
        let mut opts = Vec::new();
        let res = parse_inner(&text, self.vars, self.classes, &mut self.cache, &mut opts);
        let ok = res.is_ok();
        // Keyword usage, each keyword once per rule.
        let mut names: Vec<&str> = opts.iter().map(|o| o.name).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            let e = match self.keywords.get_mut(n) {
                Some(e) => e,
                None => self.keywords.entry(n.to_string()).or_default(),
            };
            e.rules += 1;
            if ok {
                e.loaded += 1;
            }
        }
        drop(opts);
        match res {
            Ok(mut sig) => {
                sig.file = Some(file.clone());
                sig.line = line;
                sig.raw = text;
                self.insert(sig);
            }
            Err((e, sid)) => {
                self.counts.failed += 1;
                if e.kind == RuleErrorKind::Requires {
                    self.counts.skipped += 1;
                }
                self.errors.push(RuleError {
                    file: Some(file.clone()),
                    line,
                    sid,
                    kind: e.kind,
                    reason: e.msg,
                });
            }
        }
    }

    /// Suricata keeps the higher rev of a gid:sid; on equal revs the first
    /// one loaded stays.
    fn insert(&mut self, sig: Sig) {
        let key = (sig.gid, sig.sid);
        let Some(&idx) = self.by_id.get(&key) else {
            self.by_id.insert(key, self.sigs.len());
            self.sigs.push(Some(sig));
            return;
        };
        let Some(old) = self.sigs[idx].as_ref() else {
            return;
        };
        let (loser, winner_pos, winner_rev) = if sig.rev > old.rev {
            let winner = (sig.file.clone(), sig.line, sig.rev);
            let old = self.sigs[idx].replace(sig);
            (old, (winner.0, winner.1), winner.2)
        } else {
            (Some(sig), (old.file.clone(), old.line), old.rev)
        };
        if let Some(l) = loser {
            self.counts.duplicates += 1;
            self.errors.push(RuleError {
                file: l.file.clone(),
                line: l.line,
                sid: Some(l.sid),
                kind: RuleErrorKind::Duplicate,
                reason: format!(
                    "duplicate signature {}:{} rev {}: rev {} at {}:{} is kept",
                    l.gid,
                    l.sid,
                    l.rev,
                    winner_rev,
                    winner_pos.0.as_deref().unwrap_or("<rule>"),
                    winner_pos.1
                ),
            });
        }
    }

    pub fn finish(self) -> LoadReport {
        let sigs: Vec<Sig> = self.sigs.into_iter().flatten().collect();
        let mut counts = self.counts;
        counts.loaded = sigs.len();
        LoadReport {
            sigs,
            errors: self.errors,
            counts,
            keywords: self.keywords.into_iter().collect(),
        }
    }
}

/// Whether the text after a `#` is a commented-out rule rather than prose.
fn looks_like_rule(c: &str) -> bool {
    let t = c.trim_start_matches(['#', ' ', '\t']);
    let Some((action, rest)) = t.split_once(char::is_whitespace) else {
        return false;
    };
    parse_action(action).is_some() && rest.contains('(') && rest.contains("sid:")
}

/// The sid of a rule whose options could not be split, found by a plain
/// text search, so that even syntax errors name their rule when possible.
fn scan_sid(text: &str) -> Option<u32> {
    let mut from = 0;
    while let Some(i) = text[from..].find("sid:") {
        let at = from + i;
        let before = text[..at].trim_end().chars().last();
        if matches!(before, Some(';') | Some('(')) {
            let digits: String = text[at + 4..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            return digits.parse().ok();
        }
        from = at + 4;
    }
    None
}

type Failure = (Perr, Option<u32>);

fn parse_inner<'t>(
    text: &'t str,
    vars: &Vars,
    classes: &Classifications,
    cache: &mut HeaderCache,
    opts: &mut Vec<Opt<'t>>,
) -> Result<Sig, Failure> {
    let (header, body) = split_rule(text).map_err(|e| (e, scan_sid(text)))?;
    *opts = split_options(body).map_err(|e| (e, scan_sid(text)))?;
    let sid = opts
        .iter()
        .find(|o| o.name == "sid")
        .and_then(|o| o.value)
        .and_then(|v| v.trim().parse::<u32>().ok());
    // Like Suricata, `requires` is judged before anything else, so a rule
    // for a newer engine reports that rather than an unknown keyword.
    for o in opts.iter().filter(|o| o.name == "requires") {
        check_requires(o.value.unwrap_or("")).map_err(|e| (e, sid))?;
    }
    let h = parse_header(header, vars, cache).map_err(|e| (e, sid))?;
    let mut b = Builder::new(h, classes);
    for o in opts.iter() {
        b.option(o).map_err(|e| (e, sid))?;
    }
    b.finish().map_err(|e| (e, sid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(t: &str) -> LoadReport {
        load_str(t, "t.rules", &Vars::default(), &Classifications::builtin())
    }

    #[test]
    fn lines_comments_continuations() {
        let r = load(
            "# a comment\n\
             #alert tcp any any -> any any (msg:\"off\"; sid:9;)\n\
             ## alert http any any -> any any (msg:\"off too\"; sid:10;)\n\
             \n\
             alert tcp any any -> any any (msg:\"a\"; \\\n  content:\"x\"; sid:1;)\n\
             alert tcp any any -> any any (msg:\"b\"; lua:x.lua; sid:2;)\n",
        );
        assert_eq!(r.counts.seen, 2);
        assert_eq!(r.counts.loaded, 1);
        assert_eq!(r.counts.failed, 1);
        assert_eq!(r.counts.disabled, 2);
        assert_eq!(r.sigs[0].line, 5);
        assert_eq!(r.sigs[0].file.as_deref(), Some("t.rules"));
        assert!(r.sigs[0].raw.contains("content:\"x\""));
        assert_eq!(
            r.errors[0].to_string(),
            "t.rules:7: sid 2: unsupported keyword 'lua'"
        );
        assert_eq!(
            r.keywords["content"],
            KeywordUse {
                rules: 1,
                loaded: 1
            }
        );
        assert_eq!(
            r.keywords["lua"],
            KeywordUse {
                rules: 1,
                loaded: 0
            }
        );
        assert_eq!(
            r.keywords["sid"],
            KeywordUse {
                rules: 2,
                loaded: 1
            }
        );
    }

    #[test]
    fn duplicates_keep_the_higher_rev() {
        let r = load(
            "alert tcp any any -> any any (msg:\"old\"; sid:1; rev:1;)\n\
             alert tcp any any -> any any (msg:\"new\"; sid:1; rev:2;)\n\
             alert tcp any any -> any any (msg:\"same\"; sid:1; rev:2;)\n\
             alert tcp any any -> any any (msg:\"other gid\"; sid:1; gid:3; rev:1;)\n",
        );
        assert_eq!(r.counts.loaded, 2);
        assert_eq!(r.counts.duplicates, 2);
        assert_eq!(r.sigs[0].msg, "new");
        let lines: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 3]);
        assert!(r.errors.iter().all(|e| e.kind == RuleErrorKind::Duplicate));
        assert!(
            r.errors[0].reason.contains("rev 2 at t.rules:2 is kept"),
            "{}",
            r.errors[0]
        );
    }

    #[test]
    fn requires_is_a_skip_with_a_reason() {
        let r = load(
            "alert tcp any any -> any any (msg:\"x\"; requires: version >= 9; foo:bar; sid:5;)\n",
        );
        assert_eq!((r.counts.failed, r.counts.skipped), (1, 1));
        assert_eq!(r.errors[0].kind, RuleErrorKind::Requires);
        assert!(r.errors[0]
            .to_string()
            .starts_with("t.rules:1: sid 5: requires Suricata version >= 9"));
    }

    #[test]
    fn syntax_errors_still_name_the_sid() {
        let r = load("alert tcp any any -> any any (msg:\"x; sid:7;)\n");
        assert_eq!(r.errors[0].sid, Some(7));
        let e = parse_rule(
            "alert tcp any any -> any any (msg:\"x\";)",
            &Vars::default(),
            &Classifications::builtin(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "<rule>: rule has no sid");
    }
}
