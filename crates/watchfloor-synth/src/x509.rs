//! Hand-built DER X.509 v3 certificates: structurally valid (a TLV walker or a real parser
//! can read them), signed with random bytes (nobody can verify them, and nothing needs to).

use crate::rng::{hash64, Rng};

const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const OID_EC_PUBKEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const OID_P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const OID_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const OID_CN: &[u64] = &[2, 5, 4, 3];
const OID_C: &[u64] = &[2, 5, 4, 6];
const OID_O: &[u64] = &[2, 5, 4, 10];
const OID_SAN: &[u64] = &[2, 5, 29, 17];
const OID_BASIC: &[u64] = &[2, 5, 29, 19];
const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const OID_EKU: &[u64] = &[2, 5, 29, 37];
const OID_SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
const OID_CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];

const SEQ: u8 = 0x30;
const SET: u8 = 0x31;

/// A certificate authority that issues the synthetic leaves.
#[derive(Debug, Clone, Copy)]
pub struct Issuer {
    pub country: &'static str,
    pub org: &'static str,
    pub cn: &'static str,
    /// The issuing CA's own key type decides the leaf's signature algorithm.
    pub rsa: bool,
}

pub const ISSUERS: &[Issuer] = &[
    Issuer {
        country: "US",
        org: "Let's Encrypt",
        cn: "R11",
        rsa: true,
    },
    Issuer {
        country: "US",
        org: "Let's Encrypt",
        cn: "E6",
        rsa: false,
    },
    Issuer {
        country: "US",
        org: "DigiCert Inc",
        cn: "DigiCert Global G2 TLS RSA SHA256 2020 CA1",
        rsa: true,
    },
    Issuer {
        country: "US",
        org: "Microsoft Corporation",
        cn: "Microsoft Azure RSA TLS Issuing CA 04",
        rsa: true,
    },
];

fn push_len(out: &mut Vec<u8>, at: usize, len: usize) {
    let mut tmp = [0u8; 9];
    let n = if len < 0x80 {
        tmp[0] = len as u8;
        1
    } else {
        let bytes = (usize::BITS as usize / 8) - (len.leading_zeros() as usize / 8);
        tmp[0] = 0x80 | bytes as u8;
        for i in 0..bytes {
            tmp[1 + i] = (len >> (8 * (bytes - 1 - i))) as u8;
        }
        1 + bytes
    };
    out.splice(at..at, tmp[..n].iter().copied());
}

/// Writes `tag`, then whatever `f` writes, then inserts the minimal DER length.
fn nest(out: &mut Vec<u8>, tag: u8, f: impl FnOnce(&mut Vec<u8>)) {
    out.push(tag);
    let start = out.len();
    f(out);
    let len = out.len() - start;
    push_len(out, start, len);
}

fn prim(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    nest(out, tag, |o| o.extend_from_slice(content));
}

pub fn encode_oid(arcs: &[u64], out: &mut Vec<u8>) {
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (a * 40 + b, rest),
        [a] => (a * 40, &[][..]),
        [] => return,
    };
    for &arc in std::iter::once(&first).chain(rest) {
        let mut groups = [0u8; 10];
        let mut n = 0;
        let mut v = arc;
        loop {
            groups[n] = (v & 0x7F) as u8;
            n += 1;
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for i in (0..n).rev() {
            out.push(groups[i] | if i > 0 { 0x80 } else { 0 });
        }
    }
}

fn oid(out: &mut Vec<u8>, arcs: &[u64]) {
    nest(out, 0x06, |o| encode_oid(arcs, o));
}

fn name(out: &mut Vec<u8>, parts: &[(&[u64], &str)]) {
    nest(out, SEQ, |o| {
        for &(id, value) in parts {
            nest(o, SET, |o| {
                nest(o, SEQ, |o| {
                    oid(o, id);
                    // Country codes are PrintableString; everything else UTF8String.
                    let tag = if id == OID_C { 0x13 } else { 0x0C };
                    prim(o, tag, value.as_bytes());
                })
            })
        }
    });
}

fn sig_alg(out: &mut Vec<u8>, rsa: bool) {
    nest(out, SEQ, |o| {
        if rsa {
            oid(o, OID_SHA256_RSA);
            o.extend_from_slice(&[0x05, 0x00]);
        } else {
            oid(o, OID_ECDSA_SHA256);
        }
    });
}

/// A positive INTEGER of `n` random bytes (high bit cleared, first byte non-zero).
fn random_int(out: &mut Vec<u8>, rng: &mut Rng, n: usize) {
    nest(out, 0x02, |o| {
        let start = o.len();
        rng.extend(o, n);
        o[start] = (o[start] & 0x7F) | 0x01;
    });
}

fn signature(out: &mut Vec<u8>, rng: &mut Rng, rsa: bool) {
    nest(out, 0x03, |o| {
        o.push(0);
        if rsa {
            rng.extend(o, 256);
        } else {
            nest(o, SEQ, |o| {
                random_int(o, rng, 32);
                random_int(o, rng, 32);
            });
        }
    });
}

fn ec_spki(out: &mut Vec<u8>, rng: &mut Rng) {
    nest(out, SEQ, |o| {
        nest(o, SEQ, |o| {
            oid(o, OID_EC_PUBKEY);
            oid(o, OID_P256);
        });
        nest(o, 0x03, |o| {
            o.extend_from_slice(&[0x00, 0x04]);
            rng.extend(o, 64);
        });
    });
}

fn rsa_spki(out: &mut Vec<u8>, rng: &mut Rng) {
    nest(out, SEQ, |o| {
        nest(o, SEQ, |o| {
            oid(o, OID_RSA);
            o.extend_from_slice(&[0x05, 0x00]);
        });
        nest(o, 0x03, |o| {
            o.push(0);
            nest(o, SEQ, |o| {
                nest(o, 0x02, |o| {
                    o.push(0x00);
                    let s = o.len();
                    rng.extend(o, 256);
                    o[s] |= 0x80;
                });
                prim(o, 0x02, &[0x01, 0x00, 0x01]);
            });
        });
    });
}

fn extension(out: &mut Vec<u8>, id: &[u64], critical: bool, value: impl FnOnce(&mut Vec<u8>)) {
    nest(out, SEQ, |o| {
        oid(o, id);
        if critical {
            o.extend_from_slice(&[0x01, 0x01, 0xFF]);
        }
        nest(o, 0x04, value);
    });
}

/// A server certificate for `host` (CN and the single SAN dNSName), issued by `issuer`.
/// The same host and issuer always give the same bytes.
pub fn leaf(host: &str, issuer: &Issuer) -> Vec<u8> {
    let mut rng = Rng::new(hash64(host.as_bytes()) ^ hash64(issuer.cn.as_bytes()));
    let mut out = Vec::with_capacity(1400);
    nest(&mut out, SEQ, |o| {
        nest(o, SEQ, |o| {
            o.extend_from_slice(&[0xA0, 0x03, 0x02, 0x01, 0x02]);
            random_int(o, &mut rng, 16);
            sig_alg(o, issuer.rsa);
            name(
                o,
                &[
                    (OID_C, issuer.country),
                    (OID_O, issuer.org),
                    (OID_CN, issuer.cn),
                ],
            );
            nest(o, SEQ, |o| {
                prim(o, 0x17, b"241001000000Z");
                prim(o, 0x17, b"241230235959Z");
            });
            name(o, &[(OID_CN, host)]);
            ec_spki(o, &mut rng);
            nest(o, 0xA3, |o| {
                nest(o, SEQ, |o| {
                    extension(o, OID_KEY_USAGE, true, |o| {
                        o.extend_from_slice(&[0x03, 0x02, 0x07, 0x80])
                    });
                    extension(o, OID_EKU, false, |o| {
                        nest(o, SEQ, |o| {
                            oid(o, OID_SERVER_AUTH);
                            oid(o, OID_CLIENT_AUTH);
                        })
                    });
                    extension(o, OID_BASIC, true, |o| o.extend_from_slice(&[0x30, 0x00]));
                    extension(o, OID_SAN, false, |o| {
                        nest(o, SEQ, |o| prim(o, 0x82, host.as_bytes()));
                    });
                });
            });
        });
        sig_alg(o, issuer.rsa);
        signature(o, &mut rng, issuer.rsa);
    });
    out
}

/// The issuing CA's own certificate (sent after the leaf, as servers send their chain).
pub fn intermediate(issuer: &Issuer) -> Vec<u8> {
    let mut rng = Rng::new(hash64(issuer.cn.as_bytes()) ^ 0x5EED);
    let mut out = Vec::with_capacity(1400);
    nest(&mut out, SEQ, |o| {
        nest(o, SEQ, |o| {
            o.extend_from_slice(&[0xA0, 0x03, 0x02, 0x01, 0x02]);
            random_int(o, &mut rng, 16);
            sig_alg(o, true);
            name(
                o,
                &[
                    (OID_C, "US"),
                    (OID_O, "Synthetic Trust Services"),
                    (OID_CN, "Synthetic Root CA X1"),
                ],
            );
            nest(o, SEQ, |o| {
                prim(o, 0x17, b"240313000000Z");
                prim(o, 0x17, b"270312235959Z");
            });
            name(
                o,
                &[
                    (OID_C, issuer.country),
                    (OID_O, issuer.org),
                    (OID_CN, issuer.cn),
                ],
            );
            if issuer.rsa {
                rsa_spki(o, &mut rng);
            } else {
                ec_spki(o, &mut rng);
            }
            nest(o, 0xA3, |o| {
                nest(o, SEQ, |o| {
                    extension(o, OID_KEY_USAGE, true, |o| {
                        o.extend_from_slice(&[0x03, 0x02, 0x01, 0x86])
                    });
                    extension(o, OID_BASIC, true, |o| {
                        nest(o, SEQ, |o| {
                            o.extend_from_slice(&[0x01, 0x01, 0xFF]);
                            prim(o, 0x02, &[0x00]);
                        })
                    });
                });
            });
        });
        sig_alg(o, true);
        signature(o, &mut rng, true);
    });
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Walks one TLV; returns (tag, content range, end).
    pub fn tlv(b: &[u8], at: usize) -> Option<(u8, usize, usize)> {
        let tag = *b.get(at)?;
        let first = *b.get(at + 1)? as usize;
        let (len, hdr) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7F;
            if n == 0 || n > 4 {
                return None;
            }
            let mut l = 0usize;
            for i in 0..n {
                l = (l << 8) | *b.get(at + 2 + i)? as usize;
            }
            // DER: the long form only when needed, without leading zeros.
            if l < 0x80 || (n > 1 && b[at + 2] == 0) {
                return None;
            }
            (l, 2 + n)
        };
        let start = at + hdr;
        let end = start.checked_add(len)?;
        (end <= b.len()).then_some((tag, start, end))
    }

    /// Recursively checks that every constructed element's children tile it exactly.
    pub fn walk(b: &[u8], start: usize, end: usize) -> bool {
        let mut at = start;
        while at < end {
            let Some((tag, cs, ce)) = tlv(b, at) else {
                return false;
            };
            if ce > end {
                return false;
            }
            let constructed = tag & 0x20 != 0;
            if constructed && !walk(b, cs, ce) {
                return false;
            }
            at = ce;
        }
        at == end
    }

    /// Checks the X.509 outline and returns the SAN dNSName.
    pub fn check_cert(der: &[u8]) -> String {
        let (tag, cs, ce) = tlv(der, 0).unwrap();
        assert_eq!(tag, 0x30);
        assert_eq!(ce, der.len());
        assert!(walk(der, 0, der.len()));
        let (tbs_tag, ts, te) = tlv(der, cs).unwrap();
        assert_eq!(tbs_tag, 0x30);
        let (alg_tag, _, ae) = tlv(der, te).unwrap();
        assert_eq!(alg_tag, 0x30);
        let (sig_tag, _, se) = tlv(der, ae).unwrap();
        assert_eq!(sig_tag, 0x03);
        assert_eq!(se, ce);
        // tbs: [0] version, serial, sigalg, issuer, validity, subject, spki, [3] extensions
        let mut tags = vec![];
        let mut at = ts;
        let mut ext = None;
        while at < te {
            let (t, s, e) = tlv(der, at).unwrap();
            tags.push(t);
            if t == 0xA3 {
                ext = Some((s, e));
            }
            at = e;
        }
        assert_eq!(tags, vec![0xA0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30, 0xA3]);
        let (s, e) = ext.unwrap();
        let mut san_oid = vec![];
        encode_oid(OID_SAN, &mut san_oid);
        let hay = &der[s..e];
        let pos = hay
            .windows(san_oid.len())
            .position(|w| w == san_oid)
            .unwrap();
        let p = s + pos + san_oid.len();
        let (t, os, _) = tlv(der, p).unwrap();
        assert_eq!(t, 0x04);
        let (t, gs, _) = tlv(der, os).unwrap();
        assert_eq!(t, 0x30);
        let (t, ns, ne) = tlv(der, gs).unwrap();
        assert_eq!(t, 0x82);
        String::from_utf8(der[ns..ne].to_vec()).unwrap()
    }

    #[test]
    fn oid_encoding_matches_known_bytes() {
        let mut v = vec![];
        encode_oid(OID_SHA256_RSA, &mut v);
        assert_eq!(v, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B]);
        v.clear();
        encode_oid(OID_P256, &mut v);
        assert_eq!(v, [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]);
    }

    #[test]
    fn leaf_and_intermediate_parse() {
        for issuer in ISSUERS {
            let der = leaf("results.county.example", issuer);
            assert_eq!(check_cert(&der), "results.county.example");
            assert_eq!(der, leaf("results.county.example", issuer));
            let ca = intermediate(issuer);
            assert!(walk(&ca, 0, ca.len()));
        }
    }
}
