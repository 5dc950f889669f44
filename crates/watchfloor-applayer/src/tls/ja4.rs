//! JA4 (FoxIO) of a ClientHello, exactly per the published specification
//! (`technical_details/JA4.md`):
//!
//! `t` + version + `d`/`i` + cipher count + extension count + ALPN chars,
//! `_` + sha256 of the sorted cipher list (12 hex),
//! `_` + sha256 of the sorted extension list without SNI and ALPN, then `_`
//! and the signature algorithms in wire order (12 hex).
//!
//! Two details differ from Suricata 8, which always hashes: an empty cipher
//! or extension list gives `000000000000`, and with no signature algorithms
//! the hashed string has no trailing `_`.

use std::fmt::Write;

use sha2::{Digest, Sha256};

use super::parser::{Hello, EXT_ALPN, EXT_SERVER_NAME};
use super::version::{is_grease, ja4_code};

/// JA4 of a ClientHello over TCP (`quic` selects the `q` prefix).
pub fn ja4(h: &Hello, quic: bool) -> String {
    let mut ciphers: Vec<u16> = h
        .ciphers
        .iter()
        .copied()
        .filter(|&c| !is_grease(c))
        .collect();
    let exts = || h.extensions.iter().copied().filter(|&e| !is_grease(e));
    let ext_count = exts().count();
    let mut hashed_exts: Vec<u16> = exts()
        .filter(|&e| e != EXT_SERVER_NAME && e != EXT_ALPN)
        .collect();
    let mut out = String::with_capacity(36);
    out.push(if quic { 'q' } else { 't' });
    out.push_str(ja4_code(h.max_version()));
    out.push(if h.has_extension(EXT_SERVER_NAME) {
        'd'
    } else {
        'i'
    });
    let _ = write!(out, "{:02}{:02}", ciphers.len().min(99), ext_count.min(99));
    let alpn = h.alpns().next().unwrap_or(&[]);
    out.push_str(&alpn_chars(alpn));
    out.push('_');

    ciphers.sort_unstable();
    let mut list = String::with_capacity(5 * ciphers.len().max(hashed_exts.len()) + 128);
    hex_list(&mut list, &ciphers);
    push_hash12(&mut out, &list, ciphers.is_empty());
    out.push('_');

    hashed_exts.sort_unstable();
    list.clear();
    hex_list(&mut list, &hashed_exts);
    let sigs: Vec<u16> = h
        .signature_algorithms
        .iter()
        .copied()
        .filter(|&s| !is_grease(s))
        .collect();
    if !sigs.is_empty() {
        list.push('_');
        hex_list(&mut list, &sigs);
    }
    push_hash12(&mut out, &list, hashed_exts.is_empty());
    out
}

fn hex_list(out: &mut String, values: &[u16]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{v:04x}");
    }
}

fn push_hash12(out: &mut String, s: &str, empty: bool) {
    if empty {
        out.push_str("000000000000");
        return;
    }
    for b in &Sha256::digest(s.as_bytes())[..6] {
        let _ = write!(out, "{b:02x}");
    }
}

/// First and last character of the first ALPN name; `00` when absent or
/// GREASE; the outer hex digits when either end is not alphanumeric.
fn alpn_chars(alpn: &[u8]) -> String {
    let (Some(&first), Some(&last)) = (alpn.first(), alpn.last()) else {
        return "00".into();
    };
    if alpn.len() == 2 && is_grease(u16::from_be_bytes([first, last])) {
        return "00".into();
    }
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        [char::from(first), char::from(last)].iter().collect()
    } else {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        [
            char::from(HEX[usize::from(first >> 4)]),
            char::from(HEX[usize::from(last & 0xf)]),
        ]
        .iter()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_rules_from_the_spec() {
        assert_eq!(alpn_chars(b"h2"), "h2");
        assert_eq!(alpn_chars(b"http/1.1"), "h1");
        assert_eq!(alpn_chars(b"b"), "bb");
        assert_eq!(alpn_chars(b""), "00");
        assert_eq!(alpn_chars(&[0xab]), "ab");
        assert_eq!(alpn_chars(&[0xab, 0xcd]), "ad");
        assert_eq!(alpn_chars(&[0x30, 0xab]), "3b");
        assert_eq!(alpn_chars(&[0x30, 0x31, 0xab, 0xcd]), "3d");
        assert_eq!(alpn_chars(&[0x30, 0xab, 0xcd, 0x31]), "01");
        assert_eq!(alpn_chars(&[0x2a, 0x2a]), "00");
    }
}
