//! IP/CIDR matching: the prefixes of one address family cut the address
//! space into elementary intervals; each interval knows its most specific
//! covering prefix, and each prefix its nearest enclosing one. A lookup is
//! one 16-bit index step plus a binary search within that /16's intervals,
//! then a walk up the (short) chain of enclosing prefixes.

use crate::hits::{Node, NONE};

/// An address as an unsigned integer of its family.
pub(crate) trait Addr: Copy + Ord {
    /// The top 16 bits, for the first-level index.
    fn top16(self) -> usize;
    fn from_u128(v: u128) -> Self;
}

impl Addr for u32 {
    #[inline(always)]
    fn top16(self) -> usize {
        (self >> 16) as usize
    }
    fn from_u128(v: u128) -> u32 {
        v as u32
    }
}

impl Addr for u128 {
    #[inline(always)]
    fn top16(self) -> usize {
        (self >> 112) as usize
    }
    fn from_u128(v: u128) -> u128 {
        v
    }
}

/// One prefix of the input: first and last address (inclusive) and the
/// indicator it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrefixIn {
    pub first: u128,
    pub last: u128,
    pub indicator: u32,
}

#[derive(Debug)]
pub(crate) struct PrefixTable<A> {
    /// Start of each elementary interval, ascending; `starts[0] == 0`.
    starts: Vec<A>,
    /// The innermost prefix node covering each interval, or `NONE`.
    node_of: Vec<u32>,
    /// `index[t]`: the first interval whose start has top 16 bits `>= t`.
    index: Vec<u32>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) ids: Vec<u32>,
}

impl<A: Addr> PrefixTable<A> {
    pub(crate) fn build(mut prefixes: Vec<PrefixIn>, max: u128) -> PrefixTable<A> {
        // Outer prefixes before inner ones at the same start; the stable
        // sort keeps file order among identical prefixes.
        prefixes.sort_by(|a, b| a.first.cmp(&b.first).then(b.last.cmp(&a.last)));
        let mut nodes: Vec<Node> = Vec::new();
        let mut ranges: Vec<(u128, u128)> = Vec::new();
        let mut ids: Vec<u32> = Vec::with_capacity(prefixes.len());
        for p in &prefixes {
            if ranges.last() != Some(&(p.first, p.last)) {
                ranges.push((p.first, p.last));
                nodes.push(Node {
                    start: ids.len() as u32,
                    len: 0,
                    parent: NONE,
                });
            }
            ids.push(p.indicator);
            if let Some(n) = nodes.last_mut() {
                n.len += 1;
            }
        }

        let mut out: Vec<(u128, u32)> = vec![(0, NONE)];
        fn emit(out: &mut Vec<(u128, u32)>, start: u128, node: u32) {
            let Some(last) = out.last_mut() else {
                out.push((start, node));
                return;
            };
            if last.0 == start {
                last.1 = node;
            } else if last.1 != node {
                out.push((start, node));
            }
        }
        let mut stack: Vec<u32> = Vec::new();
        let close = |stack: &mut Vec<u32>, out: &mut Vec<(u128, u32)>, ranges: &[(u128, u128)]| {
            let Some(t) = stack.pop() else { return };
            let end = ranges[t as usize].1;
            if end != max {
                emit(out, end + 1, stack.last().copied().unwrap_or(NONE));
            }
        };
        for (i, &(first, _)) in ranges.iter().enumerate() {
            while let Some(&top) = stack.last() {
                if ranges[top as usize].1 < first {
                    close(&mut stack, &mut out, &ranges);
                } else {
                    break;
                }
            }
            nodes[i].parent = stack.last().copied().unwrap_or(NONE);
            emit(&mut out, first, i as u32);
            stack.push(i as u32);
        }
        while !stack.is_empty() {
            close(&mut stack, &mut out, &ranges);
        }

        let starts: Vec<A> = out.iter().map(|&(s, _)| A::from_u128(s)).collect();
        let node_of: Vec<u32> = out.iter().map(|&(_, n)| n).collect();
        let mut index = Vec::with_capacity(65537);
        let mut j = 0usize;
        for t in 0..=65536usize {
            while j < starts.len() && starts[j].top16() < t {
                j += 1;
            }
            index.push(j as u32);
        }
        PrefixTable {
            starts,
            node_of,
            index,
            nodes,
            ids,
        }
    }

    /// The innermost prefix node covering `a`, or `NONE`.
    #[inline]
    pub(crate) fn lookup(&self, a: A) -> u32 {
        let t = a.top16();
        let lo = self.index[t] as usize;
        let hi = self.index[t + 1] as usize;
        let pp = self.starts[lo..hi].partition_point(|&s| s <= a);
        // `starts[0] == 0`, so for t == 0 `pp >= 1`, and for t > 0 `lo >= 1`.
        self.node_of[lo + pp - 1]
    }

    pub(crate) fn prefixes(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.starts.capacity() * std::mem::size_of::<A>()
            + self.node_of.capacity() * 4
            + self.index.capacity() * 4
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.ids.capacity() * 4
    }
}

/// First and last address of `addr/len` in a `bits`-wide family, or an
/// error when host bits are set.
pub(crate) fn prefix_range(addr: u128, len: u32, bits: u32) -> Result<(u128, u128), ()> {
    let host_bits = bits - len;
    let host_mask: u128 = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    if addr & host_mask != 0 {
        return Err(());
    }
    Ok((addr, addr | host_mask))
}
