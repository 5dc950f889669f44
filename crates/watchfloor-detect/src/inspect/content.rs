//! Compiled `content` patterns: a precompiled exact finder, or for `nocase`
//! an ASCII case-insensitive one (aho-corasick with one pattern and
//! `ascii_case_insensitive`, which uses a rare-byte prefilter; patterns
//! without ASCII letters use the exact finder).

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use memchr::memmem::Finder;

/// A single pattern searcher.
// The finder is kept inline: it is searched on every run.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Searcher {
    Exact(Finder<'static>),
    Nocase(AhoCorasick),
}

impl Searcher {
    pub fn new(pattern: &[u8], nocase: bool) -> Searcher {
        if nocase && pattern.iter().any(|b| b.is_ascii_alphabetic()) {
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(AhoCorasickKind::DFA))
                .build([pattern])
                .or_else(|_| {
                    AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build([pattern])
                });
            if let Ok(ac) = ac {
                return Searcher::Nocase(ac);
            }
        }
        Searcher::Exact(Finder::new(pattern).into_owned())
    }

    /// Start of the leftmost occurrence in `hay`.
    #[inline]
    pub fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            Searcher::Exact(f) => f.find(hay),
            Searcher::Nocase(ac) => ac.find(Input::new(hay)).map(|m| m.start()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_nocase() {
        let s = Searcher::new(b"abc", false);
        assert_eq!(s.find(b"xxabcx"), Some(2));
        assert_eq!(s.find(b"xxABCx"), None);
        let n = Searcher::new(b"aBc", true);
        assert_eq!(n.find(b"xxABCx"), Some(2));
        assert_eq!(n.find(b"xxabx"), None);
        // nocase only folds ASCII letters
        let n = Searcher::new(b"\xc3\xa9a", true);
        assert_eq!(n.find(b"\xc3\x89A"), None);
        assert_eq!(n.find(b"\xc3\xa9A"), Some(0));
        let d = Searcher::new(b"|12|", true);
        assert_eq!(d.find(b"a|12|"), Some(1));
    }
}
