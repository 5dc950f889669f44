//! Errors: one rule that does not load ([`RuleError`]), one bad line of a
//! config file ([`ConfigError`]), and the internal reason type the parser
//! passes around before it knows the rule's position ([`Perr`]).

use std::fmt;
use std::sync::Arc;

/// Why a rule did not load, coarsely, so reports can group failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleErrorKind {
    /// Malformed text: header, option list, quoting, numbers.
    Syntax,
    /// A keyword this parser does not know (`unsupported keyword 'lua'`).
    UnsupportedKeyword,
    /// Well-formed but rejected as Suricata rejects it (conflicting
    /// modifiers, unknown classtype, missing sid, ...).
    Invalid,
    /// `requires:` not met: the rule is for a newer engine or a feature we
    /// lack. Suricata counts these as skipped rather than failed.
    Requires,
    /// Same gid:sid as another rule; the lower (or equal, later) rev loses.
    Duplicate,
}

/// A rule that did not load: where it is, its sid when one could be read,
/// and a reason in Suricata's terms.
///
/// Displays as `file:line: sid N: reason` (the sid part only when known).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct RuleError {
    pub file: Option<Arc<str>>,
    pub line: usize,
    pub sid: Option<u32>,
    pub kind: RuleErrorKind,
    pub reason: String,
}

impl RuleError {
    fn render(&self) -> String {
        let mut s = String::new();
        match &self.file {
            Some(f) => s.push_str(f),
            None => s.push_str("<rule>"),
        }
        if self.line > 0 {
            s.push(':');
            s.push_str(&self.line.to_string());
        }
        s.push_str(": ");
        if let Some(sid) = self.sid {
            s.push_str("sid ");
            s.push_str(&sid.to_string());
            s.push_str(": ");
        }
        s.push_str(&self.reason);
        s
    }
}

/// A bad line in `classification.config`, `reference.config` or
/// `threshold.config`: `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// A rule file that could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read rule file {}: {source}", path.display())]
pub struct FileError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Errors resolving address and port expressions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("unknown variable '${0}'")]
    Unknown(String),
    #[error("variable '${0}' refers to itself")]
    Loop(String),
    #[error("invalid address '{0}'")]
    BadAddress(String),
    #[error("invalid CIDR '{0}'")]
    BadCidr(String),
    #[error("invalid port '{0}'")]
    BadPort(String),
    #[error("address expression '{0}' matches nothing")]
    EmptyAddress(String),
    #[error("port expression '{0}' matches nothing")]
    EmptyPort(String),
    #[error("unbalanced brackets in '{0}'")]
    Brackets(String),
    #[error("empty expression")]
    Empty,
}

/// The parser's internal error: a reason without a position yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perr {
    pub kind: RuleErrorKind,
    pub msg: String,
}

impl Perr {
    pub fn syntax(msg: impl Into<String>) -> Perr {
        Perr {
            kind: RuleErrorKind::Syntax,
            msg: msg.into(),
        }
    }
    pub fn invalid(msg: impl Into<String>) -> Perr {
        Perr {
            kind: RuleErrorKind::Invalid,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for Perr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl From<VarError> for Perr {
    fn from(e: VarError) -> Perr {
        Perr::invalid(e.to_string())
    }
}

pub type PResult<T> = Result<T, Perr>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_sid() {
        let e = RuleError {
            file: Some("a.rules".into()),
            line: 3,
            sid: Some(7),
            kind: RuleErrorKind::Invalid,
            reason: "bad".into(),
        };
        assert_eq!(e.to_string(), "a.rules:3: sid 7: bad");
        let e = RuleError { sid: None, ..e };
        assert_eq!(e.to_string(), "a.rules:3: bad");
    }
}
