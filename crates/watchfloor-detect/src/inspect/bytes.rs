//! `byte_test`, `byte_jump`, `byte_extract`, `byte_math` and the number
//! reading they share, following Suricata's `DetectByte*DoMatch`.
//!
//! Positions are computed in `i64` so that negative or huge offsets simply
//! fail instead of wrapping; values are `u64` with wrapping arithmetic, as in
//! Suricata.

use watchfloor_rules::{
    ByteExtract, ByteJump, ByteMath, ByteOp, ByteTest, Endian, MathOp, NumFormat, Val,
};

/// The longest `string` number Suricata reads ("01777777777777777777777").
pub const MAX_STRING_BYTES: usize = 23;

/// Read a binary unsigned integer of `bytes.len()` (1..=8) bytes.
pub fn read_binary(bytes: &[u8], endian: Endian) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    let mut v: u64 = 0;
    match endian {
        Endian::Big => {
            for &b in bytes {
                v = (v << 8) | u64::from(b);
            }
        }
        Endian::Little => {
            for &b in bytes.iter().rev() {
                v = (v << 8) | u64::from(b);
            }
        }
    }
    Some(v)
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Read an ASCII number as C's `strtoull(str, &end, base)` on the first
/// `bytes.len()` bytes (NUL-terminated copy), as Suricata's
/// `ByteExtractStringUint64` does: leading whitespace and a sign are
/// accepted (a `-` negates modulo 2^64), `0x` is accepted in base 16, the
/// number ends at the first non-digit. Returns the value and the number of
/// bytes consumed; `None` when no digit was read, on overflow, or when more
/// than 23 bytes are asked for.
pub fn read_string(bytes: &[u8], base: u32) -> Option<(u64, usize)> {
    if bytes.len() > MAX_STRING_BYTES || !matches!(base, 8 | 10 | 16) {
        return None;
    }
    // C string semantics: stop at NUL.
    let s = match memchr::memchr(0, bytes) {
        Some(n) => &bytes[..n],
        None => bytes,
    };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    if base == 16
        && i + 1 < s.len()
        && s[i] == b'0'
        && (s[i + 1] | 0x20) == b'x'
        && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        i += 2;
    }
    let start = i;
    let mut v: u64 = 0;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => u32::from(c - b'0'),
            c @ b'a'..=b'z' => u32::from(c - b'a') + 10,
            c @ b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => break,
        };
        if d >= base {
            break;
        }
        v = v.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((if neg { v.wrapping_neg() } else { v }, i))
}

/// Where the number is read from: Suricata's `ptr`/`len` computation.
/// `relative_must_have_data`: the relative branch fails when nothing is
/// left (`len <= 0`), as byte_jump/byte_extract/byte_math/byte_test do.
fn locate(buf_len: u32, cur: u32, offset: i64, relative: bool, nbytes: usize) -> Option<usize> {
    let len = i64::from(buf_len);
    let (ptr, left) = if relative {
        let p = i64::from(cur) + offset;
        let l = len - i64::from(cur) - offset;
        if l <= 0 {
            return None;
        }
        (p, l)
    } else {
        (offset, len - offset)
    };
    if ptr < 0 || nbytes as i64 > left {
        return None;
    }
    usize::try_from(ptr).ok()
}

/// Read a number per `format` at `pos`: (value, bytes consumed).
fn extract(buf: &[u8], pos: usize, nbytes: usize, format: NumFormat) -> Option<(u64, usize)> {
    // `nbytes` 0 (ET writes `byte_test:0,=,0,0,string,dec`): a string number
    // is read up to its first non-digit, at most 23 bytes (strtoull on the
    // rest of the buffer); a binary read of no bytes is 0.
    if nbytes == 0 {
        return match format {
            NumFormat::String(base) => {
                let rest = buf.get(pos..)?;
                read_string(&rest[..rest.len().min(MAX_STRING_BYTES)], base)
            }
            NumFormat::Binary(_) | NumFormat::Dce => Some((0, 0)),
        };
    }
    let end = pos.checked_add(nbytes)?;
    let bytes = buf.get(pos..end)?;
    match format {
        NumFormat::Binary(e) => Some((read_binary(bytes, e)?, nbytes)),
        // Without a DCE/RPC header at hand, dce reads little endian (the
        // DCE/RPC default data representation).
        NumFormat::Dce => Some((read_binary(bytes, Endian::Little)?, nbytes)),
        NumFormat::String(base) => read_string(bytes, base),
    }
}

/// Apply a `bitmask`: AND, then shift right by the mask's trailing zeros.
#[inline]
pub fn apply_bitmask(v: u64, mask: Option<u64>) -> u64 {
    match mask {
        None => v,
        Some(m) => {
            let v = v & m;
            if v != 0 && m != 0 {
                v >> m.trailing_zeros()
            } else {
                v
            }
        }
    }
}

/// A rule value as Suricata's `int32_t` offset (variables are cast the way
/// Suricata casts `byte_values[]`).
#[inline]
pub fn val_i32(v: Val, vars: &[i64]) -> i32 {
    match v {
        Val::Lit(x) => x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
        Val::Var(i) => vars.get(usize::from(i)).copied().unwrap_or(0) as u64 as u32 as i32,
    }
}

/// A rule value as Suricata's `uint64_t` (byte_test value, byte_math rvalue).
#[inline]
pub fn val_u64(v: Val, vars: &[i64]) -> u64 {
    match v {
        Val::Lit(x) => x as u64,
        Val::Var(i) => vars.get(usize::from(i)).copied().unwrap_or(0) as u64,
    }
}

/// `byte_test`. `cur` is the current (relative) position.
pub fn byte_test(t: &ByteTest, buf: &[u8], cur: u32, vars: &[i64]) -> bool {
    let buf_len = buf.len() as u32;
    if buf_len == 0 {
        return false;
    }
    let nbytes = usize::from(t.nbytes);
    let offset = i64::from(val_i32(t.offset, vars));
    let Some(pos) = locate(buf_len, cur, offset, t.relative, nbytes) else {
        return false;
    };
    let Some((v, _)) = extract(buf, pos, nbytes, t.format) else {
        return false;
    };
    let v = apply_bitmask(v, t.bitmask);
    let value = val_u64(t.value, vars);
    let m = match t.op {
        ByteOp::Eq => v == value,
        ByteOp::Lt => v < value,
        ByteOp::Gt => v > value,
        ByteOp::Le => v <= value,
        ByteOp::Ge => v >= value,
        ByteOp::And => v & value != 0,
        ByteOp::Xor => v ^ value != 0,
    };
    m != t.negated
}

/// `byte_jump`: on success returns the new current position.
pub fn byte_jump(j: &ByteJump, buf: &[u8], cur: u32, vars: &[i64]) -> Option<u32> {
    let buf_len = buf.len() as u32;
    if buf_len == 0 {
        return None;
    }
    let nbytes = usize::from(j.nbytes);
    let offset = i64::from(val_i32(j.offset, vars));
    let pos = locate(buf_len, cur, offset, j.relative, nbytes)?;
    let (v, consumed) = extract(buf, pos, nbytes, j.format)?;
    let mut v = apply_bitmask(v, j.bitmask);
    v = v.wrapping_mul(u64::from(j.multiplier.max(1)));
    if j.align && v & 3 != 0 {
        v = v.wrapping_add(4 - v % 4);
    }
    v = v.wrapping_add(j.post_offset as i64 as u64);
    let delta = i128::from(v as i64);
    let target: i128 = if j.from_beginning {
        delta
    } else if j.from_end {
        i128::from(buf_len) + delta
    } else {
        pos as i128 + consumed as i128 + delta
    };
    if target < 0 {
        // Before the buffer start: Suricata resets to the start.
        return Some(0);
    }
    if target >= i128::from(buf_len) {
        return None;
    }
    Some(target as u32)
}

/// `byte_extract`: on success returns (value, new current position).
pub fn byte_extract(e: &ByteExtract, buf: &[u8], cur: u32) -> Option<(u64, u32)> {
    let buf_len = buf.len() as u32;
    if buf_len == 0 {
        return None;
    }
    let nbytes = usize::from(e.nbytes);
    let pos = locate(buf_len, cur, i64::from(e.offset), e.relative, nbytes)?;
    let (v, consumed) = extract(buf, pos, nbytes, e.format)?;
    let mut v = apply_bitmask(v, e.bitmask);
    v = v.wrapping_mul(u64::from(e.multiplier.max(1)));
    let align = u64::from(e.align);
    if align > 1 && v.checked_rem(align) != Some(0) {
        v = v.wrapping_add(align - v % align);
    }
    let new_cur = u32::try_from(pos + consumed).ok()?;
    Some((v, new_cur))
}

/// `byte_math`: on success returns (result, new current position).
/// Division by zero does not match; shifts of 64 or more give 0.
pub fn byte_math(m: &ByteMath, buf: &[u8], cur: u32, vars: &[i64]) -> Option<(u64, u32)> {
    let buf_len = buf.len() as u32;
    if buf_len == 0 {
        return None;
    }
    let nbytes = usize::from(m.nbytes);
    let pos = locate(buf_len, cur, i64::from(m.offset), m.relative, nbytes)?;
    let (v, consumed) = extract(buf, pos, nbytes, m.format)?;
    let r = val_u64(m.rvalue, vars);
    let v = match m.op {
        MathOp::Add => v.wrapping_add(r),
        MathOp::Sub => v.wrapping_sub(r),
        MathOp::Mul => v.wrapping_mul(r),
        MathOp::Div => v.checked_div(r)?,
        MathOp::Shl => {
            if r < 64 {
                v << r
            } else {
                0
            }
        }
        MathOp::Shr => {
            if r < 64 {
                v >> r
            } else {
                0
            }
        }
    };
    let v = apply_bitmask(v, m.bitmask);
    let new_cur = u32::try_from(pos + consumed).ok()?;
    Some((v, new_cur))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bt(nbytes: u8, op: ByteOp, value: i64, offset: i64) -> ByteTest {
        ByteTest {
            nbytes,
            op,
            negated: false,
            value: Val::Lit(value),
            offset: Val::Lit(offset),
            relative: false,
            format: NumFormat::Binary(Endian::Big),
            bitmask: None,
        }
    }

    #[test]
    fn strings() {
        assert_eq!(read_string(b"123", 10), Some((123, 3)));
        assert_eq!(read_string(b"12ab", 10), Some((12, 2)));
        assert_eq!(read_string(b" 42", 10), Some((42, 3)));
        assert_eq!(read_string(b"ff", 16), Some((255, 2)));
        assert_eq!(read_string(b"0x1F", 16), Some((31, 4)));
        assert_eq!(read_string(b"0x", 16), Some((0, 1)));
        assert_eq!(read_string(b"017", 8), Some((15, 3)));
        assert_eq!(read_string(b"89", 8), None);
        assert_eq!(read_string(b"abc", 10), None);
        assert_eq!(read_string(b"-1", 10), Some((u64::MAX, 2)));
        assert_eq!(read_string(b"99999999999999999999", 10), None, "overflow");
        assert_eq!(read_string(b"1\x002", 10), Some((1, 1)));
        assert_eq!(read_string(&[b'1'; 24], 10), None);
    }

    #[test]
    fn binary() {
        assert_eq!(read_binary(&[1, 2], Endian::Big), Some(0x0102));
        assert_eq!(read_binary(&[1, 2], Endian::Little), Some(0x0201));
        assert_eq!(read_binary(&[0xff; 8], Endian::Big), Some(u64::MAX));
        assert_eq!(read_binary(&[0; 9], Endian::Big), None);
        assert_eq!(read_binary(&[], Endian::Big), None);
    }

    #[test]
    fn byte_test_ops() {
        let buf = [0x00, 0x10, 0x41, 0x02];
        assert!(byte_test(&bt(2, ByteOp::Eq, 0x10, 0), &buf, 0, &[]));
        assert!(!byte_test(&bt(2, ByteOp::Eq, 0x11, 0), &buf, 0, &[]));
        assert!(byte_test(&bt(1, ByteOp::Gt, 0x40, 2), &buf, 0, &[]));
        assert!(byte_test(&bt(1, ByteOp::Lt, 3, 3), &buf, 0, &[]));
        assert!(byte_test(&bt(1, ByteOp::Le, 2, 3), &buf, 0, &[]));
        assert!(byte_test(&bt(1, ByteOp::Ge, 2, 3), &buf, 0, &[]));
        assert!(byte_test(&bt(1, ByteOp::And, 0x01, 2), &buf, 0, &[]));
        assert!(!byte_test(&bt(1, ByteOp::And, 0x02, 2), &buf, 0, &[]));
        assert!(byte_test(&bt(1, ByteOp::Xor, 0x40, 2), &buf, 0, &[]));
        assert!(!byte_test(&bt(1, ByteOp::Xor, 0x41, 2), &buf, 0, &[]));
        let mut neg = bt(1, ByteOp::Eq, 0x41, 2);
        neg.negated = true;
        assert!(!byte_test(&neg, &buf, 0, &[]));
        neg.value = Val::Lit(0x42);
        assert!(byte_test(&neg, &buf, 0, &[]));
        // out of bounds / negative offsets
        assert!(!byte_test(&bt(2, ByteOp::Eq, 0x0200, 3), &buf, 0, &[]));
        assert!(!byte_test(&bt(1, ByteOp::Eq, 0, -1), &buf, 0, &[]));
        assert!(!byte_test(&bt(1, ByteOp::Eq, 0, i64::MAX), &buf, 0, &[]));
        assert!(!byte_test(&bt(1, ByteOp::Eq, 0, 0), &[], 0, &[]));
    }

    #[test]
    fn byte_test_relative_and_vars() {
        let buf = b"xxAB\x05";
        let mut t = bt(1, ByteOp::Eq, 5, 0);
        t.relative = true;
        assert!(byte_test(&t, buf, 4, &[]));
        assert!(!byte_test(&t, buf, 5, &[]), "nothing left after the match");
        t.offset = Val::Lit(-1);
        t.value = Val::Lit(b'B' as i64);
        assert!(byte_test(&t, buf, 4, &[]));
        t.offset = Val::Var(0);
        t.value = Val::Var(1);
        assert!(byte_test(&t, buf, 2, &[1, b'B' as i64]));
    }

    #[test]
    fn byte_test_string_and_bitmask() {
        // docs: byte_test:3,=,123,0,string,dec
        let mut t = bt(3, ByteOp::Eq, 123, 0);
        t.format = NumFormat::String(10);
        assert!(byte_test(&t, b"123abc", 0, &[]));
        assert!(!byte_test(&t, b"124abc", 0, &[]));
        assert!(!byte_test(&t, b"abc", 0, &[]), "no number");
        t.format = NumFormat::String(16);
        t.value = Val::Lit(0x12a);
        assert!(byte_test(&t, b"12a", 0, &[]));
        // bitmask 0x3c00 on 0x1f00 -> 0x1c00 >> 10 = 7
        let mut m = bt(2, ByteOp::Eq, 7, 0);
        m.bitmask = Some(0x3c00);
        assert!(byte_test(&m, &[0x1f, 0x00], 0, &[]));
        m.format = NumFormat::Binary(Endian::Little);
        assert!(!byte_test(&m, &[0x1f, 0x00], 0, &[]));
        assert!(byte_test(&m, &[0x00, 0x1f], 0, &[]));
    }

    fn bj(nbytes: u8, offset: i64) -> ByteJump {
        ByteJump {
            nbytes,
            offset: Val::Lit(offset),
            relative: false,
            format: NumFormat::Binary(Endian::Big),
            multiplier: 1,
            align: false,
            from_beginning: false,
            from_end: false,
            post_offset: 0,
            bitmask: None,
        }
    }

    #[test]
    fn byte_jump_cases() {
        let buf = [0u8, 2, 9, 9, 7, 7, 7, 7, 7, 7];
        // read 1 byte at 1 (=2), jump from after the read: 2 + 2 = 4
        assert_eq!(byte_jump(&bj(1, 1), &buf, 0, &[]), Some(4));
        let mut j = bj(1, 1);
        j.multiplier = 3;
        assert_eq!(byte_jump(&j, &buf, 0, &[]), Some(8));
        j.multiplier = 1;
        j.align = true; // 2 -> 4
        assert_eq!(byte_jump(&j, &buf, 0, &[]), Some(6));
        j.align = false;
        j.from_beginning = true;
        assert_eq!(byte_jump(&j, &buf, 0, &[]), Some(2));
        j.post_offset = -5;
        assert_eq!(byte_jump(&j, &buf, 0, &[]), Some(0), "clamped to start");
        j.from_beginning = false;
        j.from_end = true;
        j.post_offset = -4;
        // from_end: 10 + 2 - 4 = 8
        assert_eq!(byte_jump(&j, &buf, 0, &[]), Some(8));
        j.post_offset = 0;
        assert_eq!(byte_jump(&j, &buf, 0, &[]), None, "past the end");
        // jump landing exactly at the end fails
        assert_eq!(byte_jump(&bj(1, 1), &[0, 7, 0], 0, &[]), None);
        let mut r = bj(1, 0);
        r.relative = true;
        assert_eq!(byte_jump(&r, &buf, 1, &[]), Some(4));
        assert_eq!(byte_jump(&r, &buf, 10, &[]), None);
        let mut s = bj(2, 0);
        s.format = NumFormat::String(10);
        // "3x" consumes 1 byte: 0 + 1 + 3 = 4
        assert_eq!(byte_jump(&s, b"3xxxxxx", 0, &[]), Some(4));
        let mut h = bj(8, 0);
        h.multiplier = u32::MAX;
        // u64 arithmetic wraps as in Suricata; a jump before the start lands on it
        assert_eq!(byte_jump(&h, &[0xff; 16], 0, &[]), Some(0));
        h.multiplier = 1;
        assert_eq!(byte_jump(&h, &[0x7f; 16], 0, &[]), None);
    }

    #[test]
    fn byte_extract_and_math() {
        let e = ByteExtract {
            nbytes: 2,
            offset: 1,
            relative: false,
            format: NumFormat::Binary(Endian::Big),
            multiplier: 2,
            align: 4,
            bitmask: None,
            var: 0,
        };
        // 0x0003 * 2 = 6 -> aligned to 8; position after the bytes = 3
        assert_eq!(byte_extract(&e, &[0, 0, 3, 1], 0), Some((8, 3)));
        assert_eq!(byte_extract(&e, &[0, 0], 0), None);
        let mut m = ByteMath {
            nbytes: 1,
            offset: 0,
            relative: false,
            format: NumFormat::Binary(Endian::Big),
            op: MathOp::Add,
            rvalue: Val::Lit(10),
            bitmask: None,
            result: 0,
        };
        assert_eq!(byte_math(&m, &[5, 1], 0, &[]), Some((15, 1)));
        m.op = MathOp::Sub;
        assert_eq!(
            byte_math(&m, &[5], 0, &[]),
            Some((5u64.wrapping_sub(10), 1))
        );
        m.op = MathOp::Div;
        m.rvalue = Val::Lit(0);
        assert_eq!(byte_math(&m, &[5], 0, &[]), None, "division by zero");
        m.rvalue = Val::Var(0);
        assert_eq!(byte_math(&m, &[50], 0, &[5]), Some((10, 1)));
        m.op = MathOp::Shl;
        m.rvalue = Val::Lit(64);
        assert_eq!(byte_math(&m, &[5], 0, &[]), Some((0, 1)));
        m.rvalue = Val::Lit(2);
        assert_eq!(byte_math(&m, &[5], 0, &[]), Some((20, 1)));
        m.op = MathOp::Shr;
        assert_eq!(byte_math(&m, &[20], 0, &[]), Some((5, 1)));
        m.op = MathOp::Mul;
        m.bitmask = Some(0xf0);
        // (0x0c * 2) & 0xf0 = 0x10, >> 4 = 1: the bitmask applies to the result
        assert_eq!(byte_math(&m, &[0x0c], 0, &[]), Some((1, 1)));
    }
}
