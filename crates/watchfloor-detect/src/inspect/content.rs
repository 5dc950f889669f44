//! Compiled `content` patterns: a precompiled SIMD finder (`memchr::memmem`)
//! for exact patterns; for `nocase` patterns with ASCII letters a rare-byte
//! scan (`memchr`/`memchr2` on the pattern's rarest byte, both cases for a
//! letter, by a heuristic frequency table) verified with an ASCII
//! case-insensitive comparison. (Measured on a 1.5 KB HTTP-like buffer with
//! no match: 107-196 ns per scan against 268-797 ns for aho-corasick with
//! `ascii_case_insensitive`; an exact memmem scan is 25 ns.)

use memchr::memmem::Finder;

/// Heuristic rank of a byte's frequency in network payloads (higher = more
/// common).
fn freq(b: u8) -> u32 {
    const LOWER: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";
    match b {
        0 | b' ' => 255,
        b'a'..=b'z' => 250 - 4 * LOWER.iter().position(|&c| c == b).unwrap_or(25) as u32,
        b'A'..=b'Z' => {
            150 - 2 * LOWER
                .iter()
                .position(|&c| c == b.to_ascii_lowercase())
                .unwrap_or(25) as u32
        }
        b'0'..=b'9' => 160,
        b'\r' | b'\n' | b'/' | b'.' | b':' | b'=' | b'-' | b'_' | b'&' | b'%' | b'"' => 180,
        0xff => 120,
        _ => 60,
    }
}

/// A single pattern searcher.
// The finder is kept inline: it is searched on every run.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Searcher {
    Exact(Finder<'static>),
    Nocase {
        pattern: Vec<u8>,
        /// Index of the anchor byte in the pattern.
        at: usize,
        /// The anchor byte's two cases (equal for a non-letter).
        b1: u8,
        b2: u8,
    },
}

impl Searcher {
    pub fn new(pattern: &[u8], nocase: bool) -> Searcher {
        if nocase && pattern.iter().any(|b| b.is_ascii_alphabetic()) {
            let cost = |b: u8| {
                if b.is_ascii_alphabetic() {
                    // both cases are searched
                    freq(b.to_ascii_lowercase()) + freq(b.to_ascii_uppercase()) + 40
                } else {
                    freq(b)
                }
            };
            let at = (0..pattern.len())
                .min_by_key(|&i| cost(pattern[i]))
                .unwrap_or(0);
            let b = pattern[at];
            return Searcher::Nocase {
                pattern: pattern.to_vec(),
                at,
                b1: b.to_ascii_lowercase(),
                b2: b.to_ascii_uppercase(),
            };
        }
        Searcher::Exact(Finder::new(pattern).into_owned())
    }

    /// Start of the leftmost occurrence in `hay`.
    #[inline]
    pub fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            Searcher::Exact(f) => f.find(hay),
            Searcher::Nocase {
                pattern,
                at,
                b1,
                b2,
            } => {
                let n = pattern.len();
                if n > hay.len() {
                    return None;
                }
                // The anchor can only be at positions at..=hay.len()-n+at.
                let last = hay.len() - n + at;
                let mut i = *at;
                while i <= last {
                    let window = &hay[i..=last];
                    let p = if b1 == b2 {
                        memchr::memchr(*b1, window)
                    } else {
                        memchr::memchr2(*b1, *b2, window)
                    }?;
                    let start = i + p - at;
                    if hay[start..start + n].eq_ignore_ascii_case(pattern) {
                        return Some(start);
                    }
                    i += p + 1;
                }
                None
            }
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
        assert_eq!(n.find(b"ab"), None);
        assert_eq!(n.find(b"abc"), Some(0));
        assert_eq!(n.find(b"aBaBC"), Some(2));
        // nocase only folds ASCII letters
        let n = Searcher::new(b"\xc3\xa9a", true);
        assert_eq!(n.find(b"\xc3\x89A"), None);
        assert_eq!(n.find(b"\xc3\xa9A"), Some(0));
        let d = Searcher::new(b"|12|", true);
        assert_eq!(d.find(b"a|12|"), Some(1));
        let h = Searcher::new(b"X-Evil-Header", true);
        assert_eq!(h.find(b"GET / HTTP/1.1\r\nx-evil-header: 1"), Some(16));
        assert_eq!(h.find(b"GET / HTTP/1.1\r\nx-evil-heade"), None);
    }

    #[test]
    fn nocase_agrees_with_naive() {
        let hay: Vec<u8> = (0..600u32)
            .map(|i| b"aAbB-c. \x00Zz"[(i * 7 % 11) as usize])
            .collect();
        for pat in [&b"ab"[..], b"a-c", b"Zz\x00", b"b-C. ", b"zZa", b"q", b"A"] {
            let s = Searcher::new(pat, true);
            for start in 0..hay.len() {
                let h = &hay[start..];
                let naive = h
                    .windows(pat.len())
                    .position(|w| w.eq_ignore_ascii_case(pat));
                assert_eq!(s.find(h), naive, "{pat:?} at {start}");
            }
        }
    }
}
