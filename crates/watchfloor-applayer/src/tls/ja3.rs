//! JA3 and JA3S (salesforce/ja3): the decimal field string and its MD5.
//!
//! JA3:  `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`
//! JA3S: `SSLVersion,Cipher,Extensions`
//! Values within a field are joined with `-`; GREASE values are dropped. The
//! version is the hello's legacy field, never the record's or an extension's.

use std::fmt::Write;

use md5::{Digest, Md5};

use super::parser::{Hello, HelloKind};
use super::version::is_grease;

/// A fingerprint string and its hash, rendered once per flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The raw string (`771,4865-4866,0-11,29-23,0`).
    pub string: String,
    /// Lower-case hex MD5 of the string.
    pub hash: String,
}

impl Fingerprint {
    fn from_string(string: String) -> Self {
        let digest = Md5::digest(string.as_bytes());
        let mut hash = String::with_capacity(32);
        for b in digest {
            let _ = write!(hash, "{b:02x}");
        }
        Fingerprint { string, hash }
    }
}

fn join<T: Into<u32> + Copy>(out: &mut String, values: &[T], filter_grease: bool) {
    let mut first = true;
    for &v in values {
        let v: u32 = v.into();
        if filter_grease && u16::try_from(v).is_ok_and(is_grease) {
            continue;
        }
        if !first {
            out.push('-');
        }
        first = false;
        let _ = write!(out, "{v}");
    }
}

/// JA3 of a ClientHello, JA3S of a ServerHello.
pub fn fingerprint(h: &Hello) -> Fingerprint {
    let mut s = String::with_capacity(256);
    let _ = write!(s, "{},", h.version);
    join(&mut s, &h.ciphers, true);
    s.push(',');
    join(&mut s, &h.extensions, true);
    if h.kind == HelloKind::Client {
        s.push(',');
        join(&mut s, &h.supported_groups, true);
        s.push(',');
        // Point formats are single bytes: no GREASE value can occur.
        join(&mut s, &h.ec_point_formats, false);
    }
    Fingerprint::from_string(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(version: u16, ciphers: &[u16], exts: &[u16], groups: &[u16], pf: &[u8]) -> Hello {
        Hello {
            kind: HelloKind::Client,
            version,
            ciphers: ciphers.to_vec(),
            extensions: exts.to_vec(),
            supported_groups: groups.to_vec(),
            ec_point_formats: pf.to_vec(),
            ..Hello::default()
        }
    }

    /// The two examples of the salesforce/ja3 README.
    #[test]
    fn readme_vectors() {
        let h = client(
            769,
            &[47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
            &[0, 10, 11],
            &[23, 24, 25],
            &[0],
        );
        let f = fingerprint(&h);
        assert_eq!(
            f.string,
            "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
        );
        assert_eq!(f.hash, "ada70206e40642a3e4461f35503241d5");

        let h = client(
            769,
            &[4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99],
            &[],
            &[],
            &[],
        );
        let f = fingerprint(&h);
        assert_eq!(f.string, "769,4-5-10-9-100-98-3-6-19-18-99,,,");
        assert_eq!(f.hash, "de350869b8c85de67a350c8d186f11e6");
    }

    #[test]
    fn grease_is_dropped_and_server_has_three_fields() {
        let h = client(771, &[0x0a0a, 4865], &[0x1a1a, 0, 43], &[0x2a2a, 29], &[0]);
        assert_eq!(fingerprint(&h).string, "771,4865,0-43,29,0");
        let s = Hello {
            kind: HelloKind::Server,
            version: 771,
            ciphers: vec![4865],
            extensions: vec![43, 51],
            ..Hello::default()
        };
        assert_eq!(fingerprint(&s).string, "771,4865,43-51");
    }
}
