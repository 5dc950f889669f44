//! Base64 decoding with Suricata's three modes (`from_base64` transform and
//! the `base64_decode` keyword).
//!
//! * RFC 4648 (the default): decoding stops at the first byte outside the
//!   alphabet (and `=`); a partial group at that point is decoded as if it
//!   were padded.
//! * RFC 2045: bytes outside the alphabet are skipped (MIME style).
//! * strict: the whole input must be canonical, padded base64, otherwise
//!   nothing is decoded.
//!
//! A group whose first or second character is `=` is invalid: in RFC 4648 and
//! RFC 2045 mode the decode then fails as a whole (nothing decoded), as
//! Suricata's decoder does.

use watchfloor_rules::Base64Mode;

/// The 6-bit value of a base64 alphabet byte, 0xff when outside it.
const fn table() -> [u8; 256] {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'/' as usize] = 63;
    t
}

static TABLE: [u8; 256] = table();

#[inline]
fn val(b: u8) -> Option<u8> {
    let v = TABLE[b as usize];
    (v != 0xff).then_some(v)
}

/// Decode one 4-character group (which may carry `=` in positions 2 and 3).
/// Returns false when the group is invalid.
fn push_group(g: &[u8; 4], out: &mut Vec<u8>) -> bool {
    let (Some(a), Some(b)) = (val(g[0]), val(g[1])) else {
        return false;
    };
    out.push((a << 2) | (b >> 4));
    if g[2] == b'=' {
        return true;
    }
    let Some(c) = val(g[2]) else {
        return false;
    };
    out.push((b << 4) | (c >> 2));
    if g[3] == b'=' {
        return true;
    }
    let Some(d) = val(g[3]) else {
        return false;
    };
    out.push((c << 6) | d);
    true
}

/// Decode `input` in `mode`, appending to `out` (which is cleared first).
/// Returns the number of bytes decoded (0 when nothing could be decoded).
pub fn decode(input: &[u8], mode: Base64Mode, out: &mut Vec<u8>) -> usize {
    out.clear();
    let ok = match mode {
        Base64Mode::Rfc4648 => decode_rfc4648(input, out),
        Base64Mode::Rfc2045 => decode_rfc2045(input, out),
        Base64Mode::Strict => decode_strict(input, out),
    };
    if !ok {
        out.clear();
    }
    out.len()
}

fn is_b64_or_pad(b: u8) -> bool {
    b == b'=' || val(b).is_some()
}

fn decode_rfc4648(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.reserve(input.len() / 4 * 3 + 3);
    let mut g = [0u8; 4];
    let mut n = 0;
    for &b in input {
        if !is_b64_or_pad(b) {
            break;
        }
        g[n] = b;
        n += 1;
        if n == 4 {
            if !push_group(&g, out) {
                return false;
            }
            n = 0;
        }
    }
    if n > 0 {
        // Stopped (invalid byte or end) inside a group: pad it.
        for x in g.iter_mut().skip(n) {
            *x = b'=';
        }
        if !push_group(&g, out) {
            return false;
        }
    }
    true
}

fn decode_rfc2045(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.reserve(input.len() / 4 * 3 + 3);
    let mut g = [0u8; 4];
    let mut n = 0;
    for &b in input {
        if !is_b64_or_pad(b) {
            continue;
        }
        g[n] = b;
        n += 1;
        if n == 4 {
            if !push_group(&g, out) {
                return false;
            }
            n = 0;
        }
    }
    // A trailing partial group is dropped.
    true
}

fn decode_strict(input: &[u8], out: &mut Vec<u8>) -> bool {
    if input.len() & 3 != 0 {
        return false;
    }
    out.reserve(input.len() / 4 * 3);
    let groups = input.len() / 4;
    for (i, chunk) in input.chunks_exact(4).enumerate() {
        let last = i + 1 == groups;
        let g = [chunk[0], chunk[1], chunk[2], chunk[3]];
        // Padding only at the very end, `=` never followed by data.
        let pad = g.iter().filter(|&&c| c == b'=').count();
        if pad > 0 && (!last || g[3] != b'=' || (pad == 2 && g[2] != b'=')) {
            return false;
        }
        if g.iter().any(|&c| c != b'=' && val(c).is_none()) {
            return false;
        }
        // Canonical: the bits dropped by padding must be zero.
        if pad == 2 && val(g[1]).is_some_and(|v| v & 0x0f != 0) {
            return false;
        }
        if pad == 1 && val(g[2]).is_some_and(|v| v & 0x03 != 0) {
            return false;
        }
        if !push_group(&g, out) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str, m: Base64Mode) -> Vec<u8> {
        let mut o = Vec::new();
        decode(s.as_bytes(), m, &mut o);
        o
    }

    #[test]
    fn rfc4648_vectors() {
        let m = Base64Mode::Rfc4648;
        assert_eq!(d("", m), b"");
        assert_eq!(d("Zg==", m), b"f");
        assert_eq!(d("Zm8=", m), b"fo");
        assert_eq!(d("Zm9v", m), b"foo");
        assert_eq!(d("Zm9vYg==", m), b"foob");
        assert_eq!(d("Zm9vYmE=", m), b"fooba");
        assert_eq!(d("Zm9vYmFy", m), b"foobar");
        // processing stops at the first byte outside the alphabet
        assert_eq!(d("Zm 9v Ym Fy", m), b"f");
        assert_eq!(d("Zm$9vYm.Fy", m), b"f");
        // unpadded tail is decoded as if padded
        assert_eq!(d("Zm9vYg", m), b"foob");
        // '=' in the first two positions of a group: invalid
        assert_eq!(d("=m9v", m), b"");
    }

    #[test]
    fn rfc2045_vectors() {
        let m = Base64Mode::Rfc2045;
        assert_eq!(d("Zm9vYmFy", m), b"foobar");
        assert_eq!(d("Zm 9v Ym Fy", m), b"foobar");
        assert_eq!(d("Zm$9vYm.Fy", m), b"foobar");
        assert_eq!(d("Zm9v\r\nYmFy", m), b"foobar");
    }

    #[test]
    fn strict_vectors() {
        let m = Base64Mode::Strict;
        assert_eq!(d("Zm9vYmFy", m), b"foobar");
        assert_eq!(d("Zm9vYg==", m), b"foob");
        assert_eq!(d("Zm9vYg", m), b"");
        assert_eq!(d("Zm 9v", m), b"");
        assert_eq!(d("Zg==Zm9v", m), b"");
        assert_eq!(d("Zh==", m), b"", "non-canonical trailing bits");
    }
}
