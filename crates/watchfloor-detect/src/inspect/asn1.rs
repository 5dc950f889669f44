//! `asn1`: a structural check of BER-encoded data, as Suricata's keyword.
//!
//! Options (comma separated): `bitstring_overflow`, `double_overflow`,
//! `oversize_length N`, `absolute_offset N`, `relative_offset N`. Decoding
//! starts at the absolute offset (from the buffer start) or the relative one
//! (from the current position; without either, at the current position as
//! Suricata does) and walks up to 30 BER objects, nested ones included. The
//! keyword matches when any object trips one of the checks; undecodable data
//! does not match.

use super::CompileError;

/// Suricata's `asn1.max-frames` default.
const MAX_FRAMES: usize = 30;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asn1Op {
    pub bitstring_overflow: bool,
    pub double_overflow: bool,
    pub oversize_length: Option<u32>,
    pub absolute_offset: Option<u32>,
    pub relative_offset: Option<i32>,
}

impl Asn1Op {
    pub fn parse(s: &str) -> Result<Asn1Op, CompileError> {
        let bad = |m: String| CompileError::Asn1(m);
        let mut op = Asn1Op::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut it = part.split_whitespace();
            let key = it.next().unwrap_or("");
            let arg = it.next();
            let num = |a: Option<&str>| -> Result<i64, CompileError> {
                a.and_then(|v| v.parse::<i64>().ok())
                    .ok_or_else(|| bad(format!("{key}: a number is required")))
            };
            match key {
                "bitstring_overflow" => op.bitstring_overflow = true,
                "double_overflow" => op.double_overflow = true,
                "oversize_length" => {
                    op.oversize_length = Some(
                        u32::try_from(num(arg)?)
                            .map_err(|_| bad("oversize_length out of range".into()))?,
                    )
                }
                "absolute_offset" => {
                    op.absolute_offset = Some(
                        u32::try_from(num(arg)?)
                            .map_err(|_| bad("absolute_offset out of range".into()))?,
                    )
                }
                "relative_offset" => {
                    op.relative_offset = Some(
                        i32::try_from(num(arg)?)
                            .map_err(|_| bad("relative_offset out of range".into()))?,
                    )
                }
                other => return Err(bad(format!("unknown asn1 option {other:?}"))),
            }
        }
        if op.absolute_offset.is_some() && op.relative_offset.is_some() {
            return Err(bad(
                "absolute_offset and relative_offset are exclusive".into()
            ));
        }
        Ok(op)
    }

    /// Evaluate on `buf` with the current position `cur`.
    pub fn matches(&self, buf: &[u8], cur: u32) -> bool {
        let start: i64 = match (self.absolute_offset, self.relative_offset) {
            (Some(a), _) => i64::from(a),
            (None, Some(r)) => i64::from(cur) + i64::from(r),
            (None, None) => i64::from(cur),
        };
        if start < 0 || start >= buf.len() as i64 {
            return false;
        }
        let mut frames = 0;
        self.walk(&buf[start as usize..], &mut frames, 0)
    }

    /// Walk the objects in `data`; true as soon as one trips a check.
    fn walk(&self, mut data: &[u8], frames: &mut usize, depth: usize) -> bool {
        while !data.is_empty() && *frames < MAX_FRAMES && depth < MAX_FRAMES {
            let Some(h) = header(data) else {
                return false;
            };
            *frames += 1;
            let avail = data.len() - h.hdr_len;
            let content_len = match h.len {
                Some(l) => l,
                None => avail as u64, // indefinite: up to the data we have
            };
            if let Some(max) = self.oversize_length {
                if content_len > u64::from(max) {
                    return true;
                }
            }
            let clen = content_len.min(avail as u64) as usize;
            let content = &data[h.hdr_len..h.hdr_len + clen];
            if h.class == 0 && !h.constructed {
                // BIT STRING: the unused-bits count cannot exceed the bits there.
                if self.bitstring_overflow && h.tag == 3 && content_len > 0 {
                    if let Some(&unused) = content.first() {
                        if u64::from(unused) > content_len.saturating_mul(8)
                            || (content_len == 1 && unused > 0)
                            || unused > 7
                        {
                            return true;
                        }
                    }
                }
                // REAL in decimal encoding (top bits 00) longer than 256 bytes.
                if self.double_overflow && h.tag == 9 && content_len > 0 {
                    if let Some(&first) = content.first() {
                        if first & 0xc0 == 0 && content_len > 256 {
                            return true;
                        }
                    }
                }
            }
            if h.constructed && self.walk(content, frames, depth + 1) {
                return true;
            }
            if h.len.is_none() || (h.len.is_some_and(|l| l > avail as u64)) {
                return false;
            }
            data = &data[h.hdr_len + clen..];
        }
        false
    }
}

struct Header {
    class: u8,
    constructed: bool,
    tag: u64,
    /// None: indefinite length.
    len: Option<u64>,
    hdr_len: usize,
}

fn header(d: &[u8]) -> Option<Header> {
    let b0 = *d.first()?;
    let class = b0 >> 6;
    let constructed = b0 & 0x20 != 0;
    let mut i = 1;
    let mut tag = u64::from(b0 & 0x1f);
    if tag == 0x1f {
        tag = 0;
        loop {
            let b = *d.get(i)?;
            i += 1;
            tag = tag.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
            if b & 0x80 == 0 {
                break;
            }
            if i > 10 {
                return None;
            }
        }
    }
    let lb = *d.get(i)?;
    i += 1;
    let len = if lb & 0x80 == 0 {
        Some(u64::from(lb))
    } else if lb == 0x80 {
        if !constructed {
            return None;
        }
        None
    } else {
        let n = usize::from(lb & 0x7f);
        if n > 8 || lb == 0xff {
            return None;
        }
        let mut l: u64 = 0;
        for _ in 0..n {
            l = (l << 8) | u64::from(*d.get(i)?);
            i += 1;
        }
        Some(l)
    };
    Some(Header {
        class,
        constructed,
        tag,
        len,
        hdr_len: i,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_options() {
        let o =
            Asn1Op::parse("bitstring_overflow, oversize_length 100, absolute_offset 0").unwrap();
        assert!(o.bitstring_overflow && !o.double_overflow);
        assert_eq!(o.oversize_length, Some(100));
        assert_eq!(o.absolute_offset, Some(0));
        assert!(Asn1Op::parse("oversize_length").is_err());
        assert!(Asn1Op::parse("bogus").is_err());
        assert!(Asn1Op::parse("absolute_offset 1, relative_offset 1").is_err());
    }

    #[test]
    fn oversize_length() {
        // SEQUENCE { OCTET STRING len 0x0200 (claimed) }
        let data = [0x30, 0x84, 0, 0, 0x02, 0x04, 0x04, 0x82, 0x02, 0x00, b'a'];
        let o = Asn1Op::parse("oversize_length 500").unwrap();
        assert!(o.matches(&data, 0));
        let o = Asn1Op::parse("oversize_length 600").unwrap();
        assert!(!o.matches(&data, 0));
        let o = Asn1Op::parse("oversize_length 500, absolute_offset 1").unwrap();
        assert!(
            !o.matches(&data, 0),
            "garbage at offset 1 does not decode to a large object"
        );
    }

    #[test]
    fn bitstring_overflow() {
        let bad = [0x03, 0x01, 0x08];
        let good = [0x03, 0x02, 0x07, 0x80];
        let o = Asn1Op::parse("bitstring_overflow").unwrap();
        assert!(o.matches(&bad, 0));
        assert!(!o.matches(&good, 0));
        let o = Asn1Op::parse("bitstring_overflow, relative_offset 2").unwrap();
        assert!(o.matches(&[0xaa, 0xbb, 0x03, 0x01, 0x08], 0));
        assert!(!o.matches(&[0xaa, 0xbb, 0x03, 0x01, 0x08], 10));
    }

    #[test]
    fn double_overflow() {
        let mut real = vec![0x09, 0x82, 0x01, 0x01, 0x01];
        real.extend(std::iter::repeat_n(b'1', 256));
        let o = Asn1Op::parse("double_overflow").unwrap();
        assert!(o.matches(&real, 0));
        assert!(!o.matches(&[0x09, 0x03, 0x01, b'1', b'2'], 0));
    }
}
