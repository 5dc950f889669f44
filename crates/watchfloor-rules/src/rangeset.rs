//! Sorted, merged sets of inclusive integer ranges, with the set algebra
//! address and port expressions need (`!`, groups, nested negation).
//! Computing exact sets, rather than keeping the expression tree, is what
//! makes `[10.0.0.0/8, ![10.1.0.0/16, !10.1.2.0/24]]` come out right.

/// Inclusive ranges over `0..=max`, sorted and non-overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RangeSet {
    pub max: u128,
    pub ranges: Vec<(u128, u128)>,
}

impl RangeSet {
    pub fn empty(max: u128) -> RangeSet {
        RangeSet {
            max,
            ranges: Vec::new(),
        }
    }
    pub fn full(max: u128) -> RangeSet {
        RangeSet {
            max,
            ranges: vec![(0, max)],
        }
    }
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
    #[cfg(test)]
    pub fn is_full(&self) -> bool {
        self.ranges.len() == 1 && self.ranges[0] == (0, self.max)
    }
    pub fn add(&mut self, a: u128, b: u128) {
        self.ranges.push((a.min(b), a.max(b)));
        self.normalise();
    }
    fn normalise(&mut self) {
        self.ranges.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(self.ranges.len());
        for &(a, b) in &self.ranges {
            match out.last_mut() {
                // Adjacent ranges merge too, so the form is canonical.
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        self.ranges = out;
    }
    pub fn union(&mut self, other: &RangeSet) {
        self.ranges.extend_from_slice(&other.ranges);
        self.normalise();
    }
    pub fn complement(&self) -> RangeSet {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut next: Option<u128> = Some(0);
        for &(a, b) in &self.ranges {
            if let Some(n) = next {
                if a > n {
                    out.push((n, a - 1));
                }
            }
            next = if b >= self.max { None } else { Some(b + 1) };
        }
        if let Some(n) = next {
            out.push((n, self.max));
        }
        RangeSet {
            max: self.max,
            ranges: out,
        }
    }
    pub fn difference(&self, other: &RangeSet) -> RangeSet {
        let mut c = other.complement();
        c.intersect(self);
        c
    }
    pub fn intersect(&mut self, other: &RangeSet) {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a1, b1) = self.ranges[i];
            let (a2, b2) = other.ranges[j];
            let lo = a1.max(a2);
            let hi = b1.min(b2);
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        self.ranges = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algebra() {
        let mut s = RangeSet::empty(100);
        s.add(10, 20);
        s.add(21, 30);
        s.add(50, 60);
        assert_eq!(s.ranges, vec![(10, 30), (50, 60)]);
        assert_eq!(s.complement().ranges, vec![(0, 9), (31, 49), (61, 100)]);
        let mut t = RangeSet::empty(100);
        t.add(25, 55);
        assert_eq!(s.difference(&t).ranges, vec![(10, 24), (56, 60)]);
        assert!(RangeSet::full(100).complement().is_empty());
        assert!(RangeSet::empty(100).complement().is_full());
    }
}
