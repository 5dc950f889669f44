//! Record types and response codes with the names Suricata writes.

/// Resource record type numbers the parser treats specially.
pub mod rrtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const NULL: u16 = 10;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const DNAME: u16 = 39;
    pub const OPT: u16 = 41;
    pub const SSHFP: u16 = 44;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    pub const ANY: u16 = 255;
}

/// Suricata's record type table: number, name as logged. Only these types
/// can be selected by the EVE `types` option, so the table doubles as the
/// list of accepted option values (lower-cased). SVCB (64) is absent on
/// purpose: Suricata 8 does not know it and logs it as `"64"`.
const RRTYPES: &[(u16, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (3, "MD"),
    (4, "MF"),
    (5, "CNAME"),
    (6, "SOA"),
    (7, "MB"),
    (8, "MG"),
    (9, "MR"),
    (10, "NULL"),
    (11, "WKS"),
    (12, "PTR"),
    (13, "HINFO"),
    (14, "MINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (19, "X25"),
    (20, "ISDN"),
    (21, "RT"),
    (22, "NSAP"),
    (23, "NSAPPTR"),
    (24, "SIG"),
    (25, "KEY"),
    (26, "PX"),
    (27, "GPOS"),
    (28, "AAAA"),
    (29, "LOC"),
    (30, "NXT"),
    (33, "SRV"),
    (34, "ATMA"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (38, "A6"),
    (39, "DNAME"),
    (41, "OPT"),
    (42, "APL"),
    (43, "DS"),
    (44, "SSHFP"),
    (45, "IPSECKEY"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (49, "DHCID"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (55, "HIP"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (65, "HTTPS"),
    (99, "SPF"),
    (249, "TKEY"),
    (250, "TSIG"),
    (254, "MAILA"),
    (255, "ANY"),
    (256, "URI"),
];

/// The name Suricata logs for a record type, `None` for types it does not
/// know (those are logged as the decimal number).
pub fn rrtype_name(t: u16) -> Option<&'static str> {
    // Sorted by number, so a binary search keeps this off the profile.
    RRTYPES
        .binary_search_by_key(&t, |&(n, _)| n)
        .ok()
        .map(|i| RRTYPES[i].1)
}

/// A record type as logged: its name or its number.
pub fn rrtype_string(t: u16) -> std::borrow::Cow<'static, str> {
    match rrtype_name(t) {
        Some(n) => n.into(),
        None => t.to_string().into(),
    }
}

/// The record type a value of the EVE `types` option selects
/// (case-insensitive, as Suricata compares).
pub fn rrtype_from_config(name: &str) -> Option<u16> {
    RRTYPES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|&(t, _)| t)
}

const RCODES: [&str; 11] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",
];

/// The `rcode` string of a header's flags. Only the 4 header bits are used:
/// Suricata does not combine them with the EDNS extended rcode, so 11..=15
/// are logged as numbers and the BADVERS family never appears.
pub fn rcode_string(flags: u16) -> std::borrow::Cow<'static, str> {
    let rc = flags & 0x000f;
    match RCODES.get(usize::from(rc)) {
        Some(n) => (*n).into(),
        None => rc.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(RRTYPES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn names() {
        assert_eq!(rrtype_string(1), "A");
        assert_eq!(rrtype_string(65), "HTTPS");
        assert_eq!(rrtype_string(64), "64");
        assert_eq!(rrtype_string(41), "OPT");
        assert_eq!(rrtype_string(65280), "65280");
        assert_eq!(rrtype_from_config("mx"), Some(15));
        assert_eq!(rrtype_from_config("Aaaa"), Some(28));
        assert_eq!(rrtype_from_config("svcb"), None);
        assert_eq!(rcode_string(0x8183), "NXDOMAIN");
        assert_eq!(rcode_string(0x8180), "NOERROR");
        assert_eq!(rcode_string(0x000a), "NOTZONE");
        assert_eq!(rcode_string(0x000b), "11");
    }
}
