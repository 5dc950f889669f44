//! SSL/TLS version numbers as Suricata names and validates them.

pub const SSL_V2: u16 = 0x0200;
pub const SSL_V3: u16 = 0x0300;
pub const TLS_V10: u16 = 0x0301;
pub const TLS_V11: u16 = 0x0302;
pub const TLS_V12: u16 = 0x0303;
pub const TLS_V13: u16 = 0x0304;
/// Suricata folds every draft before 16 into this value: those drafts used
/// 0x0304 (or a non-conforming 0x7f0x) on the wire, so they cannot be told apart.
pub const TLS_V13_PRE_DRAFT16: u16 = 0x7f01;

/// Facebook's experimental TLS 1.3 variants (0xfbXX).
const FB_DRAFTS: [u16; 5] = [0xfb14, 0xfb15, 0xfb16, 0xfb17, 0xfb1a];

/// Whether a record may carry this version (Suricata's `TLSVersionValid`):
/// SSLv3 up to TLS 1.3, its drafts 16..=28, the pre-16 marker and the
/// Facebook drafts. SSLv2 and 0 are not.
pub fn is_valid(v: u16) -> bool {
    matches!(v, SSL_V3..=TLS_V13 | 0x7f10..=0x7f1c | TLS_V13_PRE_DRAFT16) || FB_DRAFTS.contains(&v)
}

/// GREASE values (RFC 8701): 0x?A?A with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// The version string of EVE's `tls.version` (Suricata's `SCTlsVersion`);
/// a value it does not know is printed in decimal, as Suricata 8 does.
pub fn version_string(v: u16) -> std::borrow::Cow<'static, str> {
    let s = match v {
        0 => "UNDETERMINED",
        SSL_V2 => "SSLv2",
        SSL_V3 => "SSLv3",
        TLS_V10 => "TLSv1",
        TLS_V11 => "TLS 1.1",
        TLS_V12 => "TLS 1.2",
        TLS_V13 => "TLS 1.3",
        TLS_V13_PRE_DRAFT16 => "TLS 1.3 draft-<16",
        0x7f10..=0x7f1c => {
            return format!("TLS 1.3 draft-{}", v & 0xff).into();
        }
        0xfb14 | 0xfb15 | 0xfb16 | 0xfb17 | 0xfb1a => {
            return format!("TLS 1.3 draft-{}-fb", v & 0xff).into();
        }
        _ => return v.to_string().into(),
    };
    s.into()
}

/// Whether [`version_string`] knows the value (Suricata omits the
/// handshake `version` key otherwise).
pub fn is_named(v: u16) -> bool {
    v == 0 || v == SSL_V2 || is_valid(v)
}

/// The two characters of a version in JA4_a (FoxIO table).
pub fn ja4_code(v: u16) -> &'static str {
    match v {
        TLS_V13 => "13",
        TLS_V12 => "12",
        TLS_V11 => "11",
        TLS_V10 => "10",
        SSL_V3 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The version a ServerHello's legacy field stands for in Suricata: the
/// drafts before 16 (0x7f01..0x7f0f and a literal 0x0304) cannot be told
/// apart.
pub fn fold_legacy(v: u16) -> u16 {
    match v {
        0x7f01..=0x7f0f | TLS_V13 => TLS_V13_PRE_DRAFT16,
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_suricata() {
        assert_eq!(version_string(0), "UNDETERMINED");
        assert_eq!(version_string(0x0300), "SSLv3");
        assert_eq!(version_string(0x0301), "TLSv1");
        assert_eq!(version_string(0x0302), "TLS 1.1");
        assert_eq!(version_string(0x0303), "TLS 1.2");
        assert_eq!(version_string(0x0304), "TLS 1.3");
        assert_eq!(version_string(0x7f12), "TLS 1.3 draft-18");
        assert_eq!(version_string(0x7f1c), "TLS 1.3 draft-28");
        assert_eq!(version_string(0x7f01), "TLS 1.3 draft-<16");
        assert_eq!(version_string(0xfb1a), "TLS 1.3 draft-26-fb");
        assert_eq!(version_string(0x1234), "4660");
    }

    #[test]
    fn validity_and_grease() {
        assert!(is_valid(0x0300) && is_valid(0x0304) && is_valid(0x7f10));
        assert!(!is_valid(0x0200) && !is_valid(0) && !is_valid(0x7f02) && !is_valid(0x0305));
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x5a5a));
        assert!(!is_grease(0x0a1a) && !is_grease(0x0303) && !is_grease(0x1301));
        assert_eq!(fold_legacy(0x0304), TLS_V13_PRE_DRAFT16);
        assert_eq!(fold_legacy(0x7f0e), TLS_V13_PRE_DRAFT16);
        assert_eq!(fold_legacy(0x7f12), 0x7f12);
    }
}
