//! The multi-pattern prefilter: one case-insensitive Aho-Corasick automaton
//! per (buffer, transforms) of a rule group. A rule whose fast pattern
//! occurs in the buffer becomes a candidate; the full rule is checked after,
//! so the prefilter may over-approximate (case) but never miss.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct MpmBuilder {
    patterns: Vec<Vec<u8>>,
    owners: Vec<Vec<u32>>,
    index: HashMap<Vec<u8>, usize>,
}

impl MpmBuilder {
    /// `pattern` must already be lowercased.
    pub fn add(&mut self, pattern: &[u8], rule: u32) {
        let i = match self.index.get(pattern) {
            Some(i) => *i,
            None => {
                let i = self.patterns.len();
                self.patterns.push(pattern.to_vec());
                self.owners.push(Vec::new());
                self.index.insert(pattern.to_vec(), i);
                i
            }
        };
        self.owners[i].push(rule);
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn build(self) -> Result<Mpm, aho_corasick::BuildError> {
        // The DFA is the fastest to scan with, but its memory grows with
        // states x alphabet; past a few thousand patterns the contiguous NFA
        // keeps the engine within its memory budget.
        let kind = if self.patterns.len() <= 300 {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(&self.patterns)?;
        Ok(Mpm {
            ac,
            owners: self.owners,
        })
    }
}

#[derive(Debug)]
pub struct Mpm {
    ac: AhoCorasick,
    owners: Vec<Vec<u32>>,
}

/// Per-worker marks so each pattern and rule is reported once per scan.
#[derive(Debug, Default)]
pub struct Marks {
    pattern_gen: Vec<u32>,
    rule_gen: Vec<u32>,
    gen: u32,
}

impl Marks {
    /// Starts a new round of candidate collection (one inspection).
    pub fn next_round(&mut self, rules: usize) {
        if self.rule_gen.len() < rules {
            self.rule_gen.resize(rules, 0);
        }
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.pattern_gen.iter_mut().for_each(|g| *g = 0);
            self.rule_gen.iter_mut().for_each(|g| *g = 0);
            self.gen = 1;
        }
    }

    /// Adds a rule to the round's candidates unless already there.
    #[inline]
    pub fn add_rule(&mut self, rule: u32, out: &mut Vec<u32>) {
        let g = &mut self.rule_gen[rule as usize];
        if *g != self.gen {
            *g = self.gen;
            out.push(rule);
        }
    }
}

impl Mpm {
    pub fn pattern_count(&self) -> usize {
        self.owners.len()
    }

    pub fn memory_usage(&self) -> usize {
        self.ac.memory_usage()
            + self
                .owners
                .iter()
                .map(|o| o.capacity() * 4 + 24)
                .sum::<usize>()
    }

    /// Candidates of `hay` appended to `out` (each rule once per round).
    pub fn scan(&self, hay: &[u8], marks: &mut Marks, base: usize, out: &mut Vec<u32>) {
        self.scan_from(hay, 0, marks, base, out)
    }

    /// Like [`Mpm::scan`], counting only matches that end after `new_start`
    /// (the bytes before it were scanned with the previous chunk).
    pub fn scan_from(
        &self,
        hay: &[u8],
        new_start: usize,
        marks: &mut Marks,
        base: usize,
        out: &mut Vec<u32>,
    ) {
        if hay.len() <= new_start {
            return;
        }
        if marks.pattern_gen.len() < base + self.owners.len() {
            marks.pattern_gen.resize(base + self.owners.len(), 0);
        }
        for m in self.ac.find_overlapping_iter(hay) {
            if m.end() <= new_start {
                continue;
            }
            let p = m.pattern().as_usize();
            let g = &mut marks.pattern_gen[base + p];
            if *g == marks.gen {
                continue;
            }
            *g = marks.gen;
            for r in &self.owners[p] {
                marks.add_rule(*r, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_overlapping_and_case_insensitive() {
        let mut b = MpmBuilder::default();
        b.add(b"abc", 0);
        b.add(b"bcd", 1);
        b.add(b"abc", 2);
        b.add(b"zzz", 3);
        let m = b.build().unwrap();
        let mut marks = Marks::default();
        marks.next_round(4);
        let mut out = Vec::new();
        m.scan(b"xxABCDabc", &mut marks, 0, &mut out);
        out.sort();
        assert_eq!(out, vec![0, 1, 2]);
        marks.next_round(4);
        out.clear();
        m.scan(b"zz", &mut marks, 0, &mut out);
        assert!(out.is_empty());
    }
}
