//! A read-only open-addressing hash table from byte strings to entry
//! numbers. The caller computes the hash (so domains can hash their label
//! suffixes right to left in one pass and fold case on the fly) and decides
//! equality (so lookups never build a `String`).

/// FNV-1a step on one byte.
#[inline(always)]
pub(crate) fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
}

pub(crate) const FNV_INIT: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a of `bytes` left to right.
#[inline]
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_INIT, |h, &b| fnv_step(h, b))
}

/// Final mixing (MurmurHash3's fmix64) so every bit of the FNV state
/// reaches the slot index and the tag.
#[inline(always)]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Slots hold `(tag << 32) | (record offset + 1)`, 0 = empty. A record in
/// the arena is `[entry: u32][len: u32][key bytes]`, so a probe that finds
/// its tag reads one place for the key and the entry number: a hit costs
/// two cache misses (slot, record) on a table too big for the caches.
#[derive(Debug, Default)]
pub(crate) struct ByteTable {
    slots: Vec<u64>,
    mask: usize,
    len: usize,
    arena: Vec<u8>,
}

impl ByteTable {
    /// Builds the table from `(hash, key)` pairs; entry `i` is the `i`th
    /// pair. Keys must be distinct (the caller deduplicates).
    pub(crate) fn build<'k>(items: impl ExactSizeIterator<Item = (u64, &'k [u8])>) -> ByteTable {
        let n = items.len();
        // Load factor at most 1/2: misses end at an empty slot quickly.
        let cap = (n * 2).max(8).next_power_of_two();
        let mut t = ByteTable {
            slots: vec![0; cap],
            mask: cap - 1,
            len: n,
            arena: Vec::new(),
        };
        for (i, (h, key)) in items.enumerate() {
            let off = t.arena.len() as u64;
            t.arena.extend_from_slice(&(i as u32).to_le_bytes());
            t.arena.extend_from_slice(&(key.len() as u32).to_le_bytes());
            t.arena.extend_from_slice(key);
            let m = fmix(h);
            let tag = m >> 32;
            let mut s = (m as usize) & t.mask;
            while t.slots[s] != 0 {
                s = (s + 1) & t.mask;
            }
            t.slots[s] = (tag << 32) | (off + 1);
        }
        t
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Entry number and key of the record at `off`.
    #[inline]
    fn record(&self, off: usize) -> (u32, &[u8]) {
        let word = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&self.arena[at..at + 4]);
            u32::from_le_bytes(b)
        };
        let len = word(off + 4) as usize;
        (word(off), &self.arena[off + 8..off + 8 + len])
    }

    /// The entry whose hash is `h` and whose key satisfies `eq`.
    #[inline]
    pub(crate) fn find(&self, h: u64, mut eq: impl FnMut(&[u8]) -> bool) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let m = fmix(h);
        let tag = m >> 32;
        let mut s = (m as usize) & self.mask;
        loop {
            let v = self.slots[s];
            if v == 0 {
                return None;
            }
            if v >> 32 == tag {
                let (e, key) = self.record((v as u32 - 1) as usize);
                if eq(key) {
                    return Some(e);
                }
            }
            s = (s + 1) & self.mask;
        }
    }

    /// Approximate heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.arena.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_misses_others() {
        let keys: Vec<Vec<u8>> = (0..1000).map(|i| format!("k{i}").into_bytes()).collect();
        let t = ByteTable::build(keys.iter().map(|k| (fnv(k), k.as_slice())));
        assert_eq!(t.len(), 1000);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.find(fnv(k), |x| x == k.as_slice()), Some(i as u32));
        }
        assert_eq!(t.find(fnv(b"nope"), |x| x == b"nope"), None);
        let empty = ByteTable::build(std::iter::empty::<(u64, &[u8])>());
        assert_eq!(empty.find(fnv(b"x"), |_| true), None);
    }
}
