//! Domain matching: one hash table of lower-case names. A name's hash is
//! built label by label from the right (`com`, then `example.com`, ...), so
//! one right-to-left pass over the queried name yields the hash of every
//! label suffix. Each suffix is checked against a Bloom filter that stays
//! in cache, and only suffixes that pass are probed in the table. The
//! longest suffix entry that applies (the name itself, or a parent with
//! subdomain indicators) wins; it links to the next shorter entry that
//! matches subdomains, so all hits come out most specific first.

use crate::bytetable::ByteTable;
use crate::hits::{slice, Hits, Node, NONE};
use crate::{DomainScope, Indicator};

/// Longest name (without trailing dot) a domain indicator may have.
pub(crate) const MAX_NAME: usize = 253;

const K: u64 = 0x9e37_79b9_7f4a_7c15;
const INIT: u64 = 0x243f_6a88_85a3_08d3;

/// ASCII lower case of 8 bytes at once (other bytes unchanged).
#[inline(always)]
fn lower8(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let hept = w & (0x7f * ONES);
    let ge_a = hept.wrapping_add((0x80 - b'A' as u64) * ONES);
    let gt_z = hept.wrapping_add((0x7f - b'Z' as u64) * ONES);
    let upper = !w & (ge_a ^ gt_z) & (0x80 * ONES);
    w | (upper >> 2)
}

/// Hash of one label, case folded, eight bytes per step.
#[inline(always)]
fn label_hash(label: &[u8]) -> u64 {
    let mut h = (label.len() as u64).wrapping_mul(K);
    let mut chunks = label.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        h = (h ^ lower8(u64::from_le_bytes(b))).wrapping_mul(K);
        h ^= h >> 29;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h ^ lower8(u64::from_le_bytes(b))).wrapping_mul(K);
        h ^= h >> 29;
    }
    h
}

/// Hash of `label.suffix` from the hash of `suffix`.
#[inline(always)]
fn extend(suffix: u64, label: &[u8]) -> u64 {
    (suffix.rotate_left(27) ^ label_hash(label)).wrapping_mul(0xff51_afd7_ed55_8ccd)
}

/// Hash of a whole name, as the lookup computes it for a suffix.
pub(crate) fn name_hash(name: &[u8]) -> u64 {
    name.rsplit(|&b| b == b'.').fold(INIT, extend)
}

#[derive(Debug, Default)]
pub(crate) struct DomainTable {
    table: ByteTable,
    /// Per entry: the indicators that match the name itself (exact and
    /// suffix scopes), as `(start, len)` in `ids`.
    full: Vec<(u32, u32)>,
    /// Per entry: the indicators that match names below it (subdomain and
    /// suffix scopes), linked to the next shorter such entry.
    pub(crate) nodes: Vec<Node>,
    pub(crate) ids: Vec<u32>,
    max_len: usize,
    /// One-hash Bloom filters over the hashes of the names that have
    /// indicators for themselves (`full`) and for names below them (`sub`),
    /// 16+ bits per name (256 KiB each for 100k names, so they stay in
    /// cache): most suffixes are rejected without touching the table, and
    /// the parents of an exact-only name are not probed at all.
    filter_full: Vec<u64>,
    filter_sub: Vec<u64>,
    filter_shift: u32,
}

#[inline(always)]
fn test_bit(filter: &[u64], b: usize) -> bool {
    filter[b / 64] & (1 << (b % 64)) != 0
}

#[inline(always)]
fn filter_bit(h: u64, shift: u32) -> usize {
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift) as usize
}

impl DomainTable {
    /// `items`: (lower-case name without `*.` or trailing dot, scope,
    /// indicator number), in file order.
    pub(crate) fn build(items: &[(Box<[u8]>, DomainScope, u32)]) -> DomainTable {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| items[a].0.cmp(&items[b].0)); // stable: file order kept
        let mut names: Vec<&[u8]> = Vec::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for i in order {
            if names.last() != Some(&&*items[i].0) {
                names.push(&items[i].0);
                groups.push(Vec::new());
            }
            if let Some(g) = groups.last_mut() {
                g.push(i);
            }
        }
        let table = ByteTable::build(names.iter().map(|n| (name_hash(n), *n)));
        let mut ids = Vec::new();
        let mut full = Vec::with_capacity(names.len());
        let mut nodes = Vec::with_capacity(names.len());
        for g in &groups {
            let s = ids.len() as u32;
            ids.extend(
                g.iter()
                    .filter(|&&i| items[i].1 != DomainScope::Subdomains)
                    .map(|&i| items[i].2),
            );
            full.push((s, ids.len() as u32 - s));
            let s = ids.len() as u32;
            ids.extend(
                g.iter()
                    .filter(|&&i| items[i].1 != DomainScope::Exact)
                    .map(|&i| items[i].2),
            );
            nodes.push(Node {
                start: s,
                len: ids.len() as u32 - s,
                parent: NONE,
            });
        }
        let bits = (names.len() * 16).max(512).next_power_of_two();
        let filter_shift = 64 - bits.trailing_zeros();
        let mut filter_full = vec![0u64; bits / 64];
        let mut filter_sub = vec![0u64; bits / 64];
        for (e, n) in names.iter().enumerate() {
            let b = filter_bit(name_hash(n), filter_shift);
            if full[e].1 > 0 {
                filter_full[b / 64] |= 1 << (b % 64);
            }
            if nodes[e].len > 0 {
                filter_sub[b / 64] |= 1 << (b % 64);
            }
        }
        let mut t = DomainTable {
            filter_full,
            filter_sub,
            filter_shift,
            table,
            full,
            nodes,
            ids,
            max_len: names.iter().map(|n| n.len()).max().unwrap_or(0),
        };
        // Each entry's parent: its longest proper suffix that matches
        // subdomains.
        for (e, name) in names.iter().enumerate() {
            let mut parent = NONE;
            for (i, &b) in name.iter().enumerate() {
                if b == b'.' && i + 1 < name.len() {
                    let suffix = &name[i + 1..];
                    if let Some(p) = t.table.find(name_hash(suffix), |k| k == suffix) {
                        if t.nodes[p as usize].len > 0 {
                            parent = p;
                            break;
                        }
                    }
                }
            }
            t.nodes[e].parent = parent;
        }
        t
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    #[inline]
    pub(crate) fn lookup<'a>(&'a self, inds: &'a [Indicator], name: &[u8]) -> Hits<'a> {
        let name = match name.split_last() {
            Some((b'.', rest)) => rest,
            _ => name,
        };
        if self.table.len() == 0 || name.is_empty() {
            return Hits::empty();
        }
        // Suffixes shortest first; the longest entry that applies wins.
        let mut best: Option<(usize, bool)> = None;
        let mut h = INIT;
        let mut end = name.len();
        loop {
            let start = name[..end]
                .iter()
                .rposition(|&b| b == b'.')
                .map_or(0, |p| p + 1);
            let suffix_len = name.len() - start;
            if suffix_len > self.max_len {
                break;
            }
            let label = &name[start..end];
            h = extend(h, label);
            let f = filter_bit(h, self.filter_shift);
            let filter = if start == 0 {
                &self.filter_full
            } else {
                &self.filter_sub
            };
            if !label.is_empty() && test_bit(filter, f) {
                let rest = &name[start..];
                if let Some(e) = self
                    .table
                    .find(h, |k| k.len() == rest.len() && k.eq_ignore_ascii_case(rest))
                {
                    let e = e as usize;
                    if start == 0 && self.full[e].1 > 0 {
                        best = Some((e, true));
                    } else if start > 0 && self.nodes[e].len > 0 {
                        best = Some((e, false));
                    }
                }
            }
            if start == 0 {
                break;
            }
            end = start - 1;
        }
        match best {
            None => Hits::empty(),
            Some((e, true)) => {
                let (s, l) = self.full[e];
                Hits::new(
                    inds,
                    &self.ids,
                    slice(&self.ids, s, l),
                    &self.nodes,
                    self.nodes[e].parent,
                )
            }
            Some((e, false)) => Hits::new(inds, &self.ids, &[], &self.nodes, e as u32),
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.full.capacity() * 8
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.ids.capacity() * 4
            + (self.filter_full.capacity() + self.filter_sub.capacity()) * 8
    }
}
