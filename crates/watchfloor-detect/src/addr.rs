//! Address and port matching, compiled for speed: sorted, merged ranges
//! searched by binary search, and an index that finds the IP-only rules an
//! address can match without trying each of them.

use std::net::IpAddr;
use watchfloor_rules::{AddrSet, IpRange, PortSet};

/// Sorted, merged, non-overlapping inclusive ranges.
#[derive(Debug, Clone, Default)]
struct Ranges<T> {
    r: Vec<(T, T)>,
}

impl<T: Copy + Ord + One> Ranges<T> {
    fn from(mut v: Vec<(T, T)>) -> Self {
        v.sort_unstable();
        let mut r: Vec<(T, T)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            if let Some(last) = r.last_mut() {
                if a <= last.1 || last.1.succ() == Some(a) {
                    if b > last.1 {
                        last.1 = b;
                    }
                    continue;
                }
            }
            r.push((a, b));
        }
        Ranges { r }
    }

    fn contains(&self, x: T) -> bool {
        // The last range starting at or before x.
        let i = self.r.partition_point(|(a, _)| *a <= x);
        i > 0 && x <= self.r[i - 1].1
    }
}

trait One: Sized {
    fn succ(self) -> Option<Self>;
}
impl One for u32 {
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
}
impl One for u128 {
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
}
impl One for u16 {
    fn succ(self) -> Option<u16> {
        self.checked_add(1)
    }
}

#[derive(Debug, Clone, Default)]
struct Family {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

impl Family {
    fn from(list: &[IpRange]) -> Family {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for r in list {
            match *r {
                IpRange::V4(a, b) => v4.push((a, b)),
                IpRange::V6(a, b) => v6.push((a, b)),
            }
        }
        Family {
            v4: Ranges::from(v4),
            v6: Ranges::from(v6),
        }
    }
    fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(x) => self.v4.contains(u32::from(x)),
            IpAddr::V6(x) => self.v6.contains(u128::from(x)),
        }
    }
    fn is_empty(&self) -> bool {
        self.v4.r.is_empty() && self.v6.r.is_empty()
    }
}

/// A compiled [`AddrSet`].
#[derive(Debug, Clone, Default)]
pub struct AddrMatch {
    any: bool,
    include: Option<Family>,
    exclude: Family,
}

impl AddrMatch {
    pub fn new(s: &AddrSet) -> AddrMatch {
        AddrMatch {
            any: s.is_any(),
            include: s.include.as_deref().map(Family::from),
            exclude: Family::from(&s.exclude),
        }
    }
    #[inline]
    pub fn is_any(&self) -> bool {
        self.any
    }
    #[inline]
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.any {
            return true;
        }
        let inc = self.include.as_ref().is_none_or(|f| f.contains(ip));
        inc && (self.exclude.is_empty() || !self.exclude.contains(ip))
    }
    /// The explicit ranges this set is limited to, when it is (for indexing).
    fn include_ranges(&self) -> Option<&Family> {
        self.include.as_ref()
    }
}

/// A compiled [`PortSet`].
#[derive(Debug, Clone, Default)]
pub struct PortMatch {
    any: bool,
    include: Option<Ranges<u16>>,
    exclude: Ranges<u16>,
}

impl PortMatch {
    pub fn new(s: &PortSet) -> PortMatch {
        PortMatch {
            any: s.is_any(),
            include: s.include.clone().map(Ranges::from),
            exclude: Ranges::from(s.exclude.clone()),
        }
    }
    #[inline]
    pub fn is_any(&self) -> bool {
        self.any
    }
    #[inline]
    pub fn contains(&self, p: u16) -> bool {
        if self.any {
            return true;
        }
        let inc = self.include.as_ref().is_none_or(|r| r.contains(p));
        inc && !self.exclude.contains(p)
    }
    /// The single port this set is, if it is exactly one (for grouping).
    pub fn single(&self) -> Option<u16> {
        match &self.include {
            Some(r) if r.r.len() == 1 && r.r[0].0 == r.r[0].1 && self.exclude.r.is_empty() => {
                Some(r.r[0].0)
            }
            _ => None,
        }
    }
    /// Every port this set includes, when it is a short explicit list.
    pub fn small_list(&self, max: usize) -> Option<Vec<u16>> {
        let r = self.include.as_ref()?;
        let mut out = Vec::new();
        for (a, b) in &r.r {
            for p in *a..=*b {
                if !self.exclude.contains(p) {
                    out.push(p);
                }
                if out.len() > max {
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// Elementary-interval index over one address family: the candidate rules
/// for an address are found with one binary search.
#[derive(Debug, Default)]
struct Segments<T> {
    /// Segment starts, sorted; segment i covers [starts[i], starts[i+1]).
    starts: Vec<T>,
    rules: Vec<Vec<u32>>,
}

impl<T: Copy + Ord + One> Segments<T> {
    fn build(items: &[(T, T, u32)]) -> Segments<T> {
        let mut bounds: Vec<T> = Vec::with_capacity(items.len() * 2);
        for (a, b, _) in items {
            bounds.push(*a);
            if let Some(n) = b.succ() {
                bounds.push(n);
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut rules = vec![Vec::new(); bounds.len()];
        for (a, b, id) in items {
            let first = bounds.partition_point(|s| s < a);
            for (i, s) in bounds.iter().enumerate().skip(first) {
                if s > b {
                    break;
                }
                rules[i].push(*id);
            }
        }
        Segments {
            starts: bounds,
            rules,
        }
    }
    fn lookup(&self, x: T) -> &[u32] {
        let i = self.starts.partition_point(|s| *s <= x);
        if i == 0 {
            return &[];
        }
        &self.rules[i - 1]
    }
}

/// Finds the IP-only rules whose most specific side can match an address
/// pair. Rules are verified in full afterwards; this only narrows.
#[derive(Debug, Default)]
pub struct IpOnlyIndex {
    by_src_v4: Segments<u32>,
    by_src_v6: Segments<u128>,
    by_dst_v4: Segments<u32>,
    by_dst_v6: Segments<u128>,
    /// Rules with no explicit range on either side (or bidirectional).
    always: Vec<u32>,
}

impl IpOnlyIndex {
    /// `rules`: (rule id, source, destination, bidirectional).
    pub fn build(rules: &[(u32, &AddrMatch, &AddrMatch, bool)]) -> IpOnlyIndex {
        let mut s4 = Vec::new();
        let mut s6 = Vec::new();
        let mut d4 = Vec::new();
        let mut d6 = Vec::new();
        let mut always = Vec::new();
        let width = |f: &Family| -> u128 {
            let a: u128 = f.v4.r.iter().map(|(a, b)| u128::from(b - a) + 1).sum();
            let b: u128 =
                f.v6.r
                    .iter()
                    .map(|(a, b)| (b - a).saturating_add(1))
                    .fold(0u128, |x, y| x.saturating_add(y));
            a.saturating_add(b)
        };
        for (id, src, dst, bidir) in rules {
            let s = src.include_ranges();
            let d = dst.include_ranges();
            let pick_src = match (s, d) {
                _ if *bidir => {
                    always.push(*id);
                    continue;
                }
                (None, None) => {
                    always.push(*id);
                    continue;
                }
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(a), Some(b)) => width(a) <= width(b),
            };
            let (fam, v4, v6) = if pick_src {
                (s, &mut s4, &mut s6)
            } else {
                (d, &mut d4, &mut d6)
            };
            if let Some(f) = fam {
                v4.extend(f.v4.r.iter().map(|(a, b)| (*a, *b, *id)));
                v6.extend(f.v6.r.iter().map(|(a, b)| (*a, *b, *id)));
            }
        }
        IpOnlyIndex {
            by_src_v4: Segments::build(&s4),
            by_src_v6: Segments::build(&s6),
            by_dst_v4: Segments::build(&d4),
            by_dst_v6: Segments::build(&d6),
            always,
        }
    }

    /// Candidate rule ids for a packet from `src` to `dst` (may repeat).
    pub fn candidates(&self, src: IpAddr, dst: IpAddr, out: &mut Vec<u32>) {
        out.extend_from_slice(&self.always);
        match src {
            IpAddr::V4(x) => out.extend_from_slice(self.by_src_v4.lookup(u32::from(x))),
            IpAddr::V6(x) => out.extend_from_slice(self.by_src_v6.lookup(u128::from(x))),
        }
        match dst {
            IpAddr::V4(x) => out.extend_from_slice(self.by_dst_v4.lookup(u32::from(x))),
            IpAddr::V6(x) => out.extend_from_slice(self.by_dst_v6.lookup(u128::from(x))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4], b: [u8; 4]) -> IpRange {
        IpRange::V4(u32::from_be_bytes(a), u32::from_be_bytes(b))
    }

    #[test]
    fn ranges_merge_and_search() {
        let s = AddrSet {
            include: Some(vec![
                v4([10, 0, 0, 0], [10, 255, 255, 255]),
                v4([10, 1, 0, 0], [10, 1, 0, 255]),
                v4([192, 168, 0, 0], [192, 168, 255, 255]),
            ]),
            exclude: vec![v4([10, 9, 9, 9], [10, 9, 9, 9])],
        };
        let m = AddrMatch::new(&s);
        assert!(m.contains("10.1.2.3".parse().unwrap()));
        assert!(m.contains("192.168.7.1".parse().unwrap()));
        assert!(!m.contains("10.9.9.9".parse().unwrap()));
        assert!(!m.contains("11.0.0.0".parse().unwrap()));
        assert!(!m.contains("::1".parse().unwrap()));
        assert!(AddrMatch::new(&AddrSet::any()).contains("::1".parse().unwrap()));
    }

    #[test]
    fn ports() {
        let p = PortMatch::new(&PortSet {
            include: Some(vec![(80, 80), (8000, 8100)]),
            exclude: vec![(8080, 8080)],
        });
        assert!(p.contains(80) && p.contains(8000) && !p.contains(8080) && !p.contains(81));
        let neg = PortMatch::new(&PortSet {
            include: None,
            exclude: vec![(80, 80)],
        });
        assert!(!neg.contains(80) && neg.contains(443));
        assert_eq!(
            PortMatch::new(&PortSet {
                include: Some(vec![(445, 445)]),
                exclude: vec![]
            })
            .single(),
            Some(445)
        );
    }

    #[test]
    fn ip_only_index_narrows_by_the_specific_side() {
        let list = AddrMatch::new(&AddrSet {
            include: Some(vec![
                v4([1, 2, 3, 4], [1, 2, 3, 4]),
                v4([5, 0, 0, 0], [5, 0, 0, 255]),
            ]),
            exclude: vec![],
        });
        let home = AddrMatch::new(&AddrSet {
            include: Some(vec![v4([10, 0, 0, 0], [10, 255, 255, 255])]),
            exclude: vec![],
        });
        let any = AddrMatch::new(&AddrSet::any());
        let idx = IpOnlyIndex::build(&[
            (0, &list, &home, false),
            (1, &home, &list, false),
            (2, &any, &any, false),
        ]);
        let mut c = Vec::new();
        idx.candidates(
            "1.2.3.4".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
            &mut c,
        );
        c.sort();
        assert_eq!(c, vec![0, 2]);
        c.clear();
        idx.candidates(
            "10.0.0.1".parse().unwrap(),
            "5.0.0.9".parse().unwrap(),
            &mut c,
        );
        c.sort();
        assert_eq!(c, vec![1, 2]);
        c.clear();
        idx.candidates(
            "9.9.9.9".parse().unwrap(),
            "8.8.8.8".parse().unwrap(),
            &mut c,
        );
        assert_eq!(c, vec![2]);
    }
}
