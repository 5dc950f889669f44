//! Domain matching: one hash table of lower-case names. A lookup hashes the
//! queried name right to left in one pass, folding case as it goes, and
//! records the hash at each label boundary: those are the hashes of the
//! name's label suffixes (`a.b.example.com`, `b.example.com`, ...). The
//! suffixes are probed longest first; an entry found links to the next
//! shorter entry that matches subdomains, so all hits come out most
//! specific first without further probing.

use crate::bytetable::{fnv_step, ByteTable, FNV_INIT};
use crate::hits::{slice, Hits, Node, NONE};
use crate::{DomainScope, Indicator};

/// Longest name (without trailing dot) a domain indicator may have.
pub(crate) const MAX_NAME: usize = 253;

/// Hash of `name` as the lookup computes it: FNV-1a right to left over
/// ASCII-lower-cased bytes.
pub(crate) fn rev_hash(name: &[u8]) -> u64 {
    name.iter()
        .rev()
        .fold(FNV_INIT, |h, &b| fnv_step(h, b.to_ascii_lowercase()))
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
            groups.last_mut().expect("pushed").push(i);
        }
        let table = ByteTable::build(names.iter().map(|n| (rev_hash(n), *n)));
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
        let mut t = DomainTable {
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
                    if let Some(p) = t.table.find(rev_hash(suffix), |k| k == suffix) {
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
        // Hashes of the label suffixes not longer than the longest key,
        // shortest first. Keys have no empty labels and are at most 253
        // bytes, so at most 127 suffixes can match.
        let mut sfx = [(0u64, 0u32); 128];
        let mut n = 0usize;
        let mut h = FNV_INIT;
        let stop = name.len().saturating_sub(self.max_len);
        let mut i = name.len();
        while i > stop {
            i -= 1;
            let b = name[i];
            h = fnv_step(h, b.to_ascii_lowercase());
            if b != b'.' && (i == 0 || name[i - 1] == b'.') {
                sfx[n] = (h, i as u32);
                n += 1;
                if n == sfx.len() {
                    break;
                }
            }
        }
        for &(h, pos) in sfx[..n].iter().rev() {
            let rest = &name[pos as usize..];
            let Some(e) = self
                .table
                .find(h, |k| k.len() == rest.len() && k.eq_ignore_ascii_case(rest))
            else {
                continue;
            };
            let e = e as usize;
            if pos == 0 {
                let (s, l) = self.full[e];
                return Hits::new(
                    inds,
                    &self.ids,
                    slice(&self.ids, s, l),
                    &self.nodes,
                    self.nodes[e].parent,
                );
            }
            if self.nodes[e].len > 0 {
                return Hits::new(inds, &self.ids, &[], &self.nodes, e as u32);
            }
        }
        Hits::empty()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.full.capacity() * 8
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.ids.capacity() * 4
    }
}
