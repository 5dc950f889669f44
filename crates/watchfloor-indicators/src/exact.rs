//! Exact-match sets: byte-string keys (normalised URLs, JA4) and fixed-size
//! binary keys (MD5/JA3/JA3S, SHA-1, SHA-256 decoded from hex).

use rustc_hash::FxHashMap;

use crate::bytetable::{fnv, ByteTable};
use crate::hits::slice;

/// Groups `(key, indicator)` pairs by key, keeping file order per key.
fn group<K: Ord + Clone>(items: &[(K, u32)]) -> (Vec<K>, Vec<(u32, u32)>, Vec<u32>) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].0.cmp(&items[b].0));
    let mut keys: Vec<K> = Vec::new();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    let mut ids = Vec::with_capacity(items.len());
    for i in order {
        if keys.last() != Some(&items[i].0) {
            keys.push(items[i].0.clone());
            ranges.push((ids.len() as u32, 0));
        }
        ids.push(items[i].1);
        if let Some(r) = ranges.last_mut() {
            r.1 += 1;
        }
    }
    (keys, ranges, ids)
}

/// Byte-string keys compared exactly.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    table: ByteTable,
    ranges: Vec<(u32, u32)>,
    pub(crate) ids: Vec<u32>,
    pub(crate) max_len: usize,
}

impl KeyTable {
    pub(crate) fn build(items: &[(Box<[u8]>, u32)]) -> KeyTable {
        let (keys, ranges, ids) = group(items);
        KeyTable {
            table: ByteTable::build(keys.iter().map(|k| (fnv(k), &**k))),
            ranges,
            ids,
            max_len: keys.iter().map(|k| k.len()).max().unwrap_or(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The indicators of the key whose hash is `h` and which satisfies `eq`.
    #[inline]
    pub(crate) fn find(&self, h: u64, eq: impl FnMut(&[u8]) -> bool) -> &[u32] {
        match self.table.find(h, eq) {
            Some(e) => {
                let (s, l) = self.ranges[e as usize];
                slice(&self.ids, s, l)
            }
            None => &[],
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.heap_bytes() + self.ranges.capacity() * 8 + self.ids.capacity() * 4
    }
}

/// Binary digests of `N` bytes, looked up by hex text or by bytes.
#[derive(Debug, Default)]
pub(crate) struct HexTable<const N: usize> {
    map: FxHashMap<[u8; N], (u32, u32)>,
    pub(crate) ids: Vec<u32>,
}

impl<const N: usize> HexTable<N> {
    pub(crate) fn build(items: &[([u8; N], u32)]) -> HexTable<N> {
        let (keys, ranges, ids) = group(items);
        HexTable {
            map: keys.into_iter().zip(ranges).collect(),
            ids,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    #[inline]
    pub(crate) fn lookup_bytes(&self, key: &[u8; N]) -> &[u32] {
        match self.map.get(key) {
            Some(&(s, l)) => slice(&self.ids, s, l),
            None => &[],
        }
    }

    #[inline]
    pub(crate) fn lookup_hex(&self, hex: &[u8]) -> &[u32] {
        if self.map.is_empty() {
            return &[];
        }
        match decode_hex::<N>(hex) {
            Some(k) => self.lookup_bytes(&k),
            None => &[],
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.map.capacity() * (N + 8 + 1) + self.ids.capacity() * 4
    }
}

/// Hex digit values; 0xff for anything else. A table rather than
/// branches: digits of hashes are random, so branches would mispredict.
static HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Exactly `2 * N` hex digits, either case.
#[inline]
pub(crate) fn decode_hex<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    if hex.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (a, b) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        bad |= a | b;
        *o = (a << 4) | (b & 0x0f);
    }
    // Valid digits are < 16, so any 0xff shows in the high bits.
    (bad & 0xf0 == 0).then_some(out)
}

/// Length of a JA4 fingerprint: `t13d1516h2_8daaf6152771_b186095e22b6`.
pub(crate) const JA4_LEN: usize = 36;

/// The JA4 match key: the fingerprint lower-cased, if it has JA4's shape
/// (10 + `_` + 12 + `_` + 12 ASCII alphanumerics).
pub(crate) fn ja4_key(s: &[u8]) -> Option<[u8; JA4_LEN]> {
    if s.len() != JA4_LEN || s[10] != b'_' || s[23] != b'_' {
        return None;
    }
    let mut out = [0u8; JA4_LEN];
    for (i, (&c, o)) in s.iter().zip(out.iter_mut()).enumerate() {
        if i != 10 && i != 23 && !c.is_ascii_alphanumeric() {
            return None;
        }
        *o = c.to_ascii_lowercase();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex::<2>(b"aBff"), Some([0xab, 0xff]));
        assert_eq!(decode_hex::<2>(b"aBf"), None);
        assert_eq!(decode_hex::<2>(b"aBfg"), None);
        assert_eq!(decode_hex::<2>(b""), None);
    }

    #[test]
    fn ja4_shape() {
        assert!(ja4_key(b"t13d1516h2_8daaf6152771_b186095e22b6").is_some());
        assert_eq!(
            ja4_key(b"T13D1516H2_8DAAF6152771_B186095E22B6"),
            ja4_key(b"t13d1516h2_8daaf6152771_b186095e22b6")
        );
        assert!(ja4_key(b"t13d1516h2-8daaf6152771_b186095e22b6").is_none());
        assert!(ja4_key(b"t13d1516h2_8daaf6152771_b186095e22b").is_none());
        assert!(ja4_key(b"t13d1516h2_8daaf61527.1_b186095e22b6").is_none());
    }
}
