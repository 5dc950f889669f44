//! The iterator every lookup returns.

use crate::Indicator;

pub(crate) const NONE: u32 = u32::MAX;

/// A group of indicators (`ids[start..start + len]`) and the next, less
/// specific group that also matches whatever matched this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    pub start: u32,
    pub len: u32,
    pub parent: u32,
}

/// The indicators that match one lookup, most specific first (longest
/// prefix, longest domain suffix); indicators for the same value come in
/// file order. Empty when nothing matches; `next().is_some()` is the
/// "is there any match" test. No allocation.
#[derive(Debug, Clone)]
pub struct Hits<'a> {
    inds: &'a [Indicator],
    ids: &'a [u32],
    pending: &'a [u32],
    nodes: &'a [Node],
    next: u32,
}

impl<'a> Hits<'a> {
    pub(crate) fn empty() -> Hits<'a> {
        Hits {
            inds: &[],
            ids: &[],
            pending: &[],
            nodes: &[],
            next: NONE,
        }
    }

    /// Starts with `pending`, then follows the chain from node `next`.
    pub(crate) fn new(
        inds: &'a [Indicator],
        ids: &'a [u32],
        pending: &'a [u32],
        nodes: &'a [Node],
        next: u32,
    ) -> Hits<'a> {
        Hits {
            inds,
            ids,
            pending,
            nodes,
            next,
        }
    }

    /// True when nothing matched (does not consume anything).
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.next == NONE
    }
}

impl<'a> Iterator for Hits<'a> {
    type Item = &'a Indicator;

    #[inline]
    fn next(&mut self) -> Option<&'a Indicator> {
        loop {
            if let Some((&first, rest)) = self.pending.split_first() {
                self.pending = rest;
                return Some(&self.inds[first as usize]);
            }
            if self.next == NONE {
                return None;
            }
            let n = self.nodes[self.next as usize];
            self.pending = &self.ids[n.start as usize..(n.start + n.len) as usize];
            self.next = n.parent;
        }
    }
}

pub(crate) fn slice(ids: &[u32], start: u32, len: u32) -> &[u32] {
    &ids[start as usize..(start + len) as usize]
}
