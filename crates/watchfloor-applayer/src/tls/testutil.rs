// Test-only module: compiled under #[cfg(test)] from its parent.
//! Builders for hand-made TLS records, hellos and DER certificates.

/// What goes into a built ClientHello; extensions are emitted in `order`
/// (types without built-in content get an empty body).
#[derive(Debug, Clone)]
pub struct ClientHelloSpec<'a> {
    pub version: u16,
    pub session_id: &'a [u8],
    pub ciphers: &'a [u16],
    pub sni: Option<&'a str>,
    pub alpn: &'a [&'a str],
    pub groups: &'a [u16],
    pub point_formats: &'a [u8],
    pub sig_algs: &'a [u16],
    pub versions: &'a [u16],
    /// Extension types in wire order; 0 (SNI), 10, 11, 13, 16, 43 take
    /// their content from the fields above.
    pub order: &'a [u16],
}

impl Default for ClientHelloSpec<'_> {
    fn default() -> Self {
        ClientHelloSpec {
            version: 0x0303,
            session_id: &[],
            ciphers: &[0x1301, 0xc02f, 0x002f],
            sni: None,
            alpn: &[],
            groups: &[29, 23],
            point_formats: &[0],
            sig_algs: &[0x0403, 0x0804],
            versions: &[],
            order: &[0, 10, 11, 13, 16, 43],
        }
    }
}

pub fn be16(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

fn be24(v: usize) -> [u8; 3] {
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

fn list16(items: &[u16]) -> Vec<u8> {
    items.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn ext(out: &mut Vec<u8>, t: u16, body: &[u8]) {
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&be16(body.len()));
    out.extend_from_slice(body);
}

/// The ClientHello body (no handshake header).
pub fn client_hello_body(s: &ClientHelloSpec) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&s.version.to_be_bytes());
    b.extend_from_slice(&[0x11; 32]);
    b.push(s.session_id.len() as u8);
    b.extend_from_slice(s.session_id);
    let c = list16(s.ciphers);
    b.extend_from_slice(&be16(c.len()));
    b.extend_from_slice(&c);
    b.extend_from_slice(&[1, 0]);
    let mut exts = Vec::new();
    for &t in s.order {
        let mut body = Vec::new();
        match t {
            0 => {
                let Some(name) = s.sni else { continue };
                body.extend_from_slice(&be16(name.len() + 3));
                body.push(0);
                body.extend_from_slice(&be16(name.len()));
                body.extend_from_slice(name.as_bytes());
            }
            10 => {
                let l = list16(s.groups);
                body.extend_from_slice(&be16(l.len()));
                body.extend_from_slice(&l);
            }
            11 => {
                body.push(s.point_formats.len() as u8);
                body.extend_from_slice(s.point_formats);
            }
            13 => {
                let l = list16(s.sig_algs);
                body.extend_from_slice(&be16(l.len()));
                body.extend_from_slice(&l);
            }
            16 => {
                if s.alpn.is_empty() {
                    continue;
                }
                let l: Vec<u8> = s
                    .alpn
                    .iter()
                    .flat_map(|a| std::iter::once(a.len() as u8).chain(a.bytes()))
                    .collect();
                body.extend_from_slice(&be16(l.len()));
                body.extend_from_slice(&l);
            }
            43 => {
                if s.versions.is_empty() {
                    continue;
                }
                body.push((s.versions.len() * 2) as u8);
                body.extend_from_slice(&list16(s.versions));
            }
            _ => {}
        }
        ext(&mut exts, t, &body);
    }
    if !exts.is_empty() {
        b.extend_from_slice(&be16(exts.len()));
        b.extend_from_slice(&exts);
    }
    b
}

/// A ServerHello body: legacy version, session id, cipher, extensions
/// given as (type, body).
pub fn server_hello_body(
    version: u16,
    session_id: &[u8],
    cipher: u16,
    exts: &[(u16, Vec<u8>)],
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&version.to_be_bytes());
    b.extend_from_slice(&[0x22; 32]);
    if !(version == 0x0304 || version >> 8 == 0x7f) {
        b.push(session_id.len() as u8);
        b.extend_from_slice(session_id);
    }
    b.extend_from_slice(&cipher.to_be_bytes());
    if !(version == 0x0304 || version >> 8 == 0x7f) {
        b.push(0);
    }
    let mut e = Vec::new();
    for (t, body) in exts {
        ext(&mut e, *t, body);
    }
    if !exts.is_empty() {
        b.extend_from_slice(&be16(e.len()));
        b.extend_from_slice(&e);
    }
    b
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend_from_slice(&be24(body.len()));
    m.extend_from_slice(body);
    m
}

/// One record of the given type and version.
pub fn record(ct: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&be16(body.len()));
    r.extend_from_slice(body);
    r
}

pub fn client_hello_record(s: &ClientHelloSpec) -> Vec<u8> {
    record(22, 0x0301, &handshake(1, &client_hello_body(s)))
}

/// A Certificate message body holding the given DER certificates.
pub fn certificate_body(certs: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&be24(c.len()));
        list.extend_from_slice(c);
    }
    let mut b = be24(list.len()).to_vec();
    b.extend_from_slice(&list);
    b
}

/// DER TLV with a definite length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A Name of (OID bytes, value) attributes, one per RDN, as PrintableString.
fn name(attrs: &[(&[u8], &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attrs
        .iter()
        .map(|(oid, val)| {
            let atv = seq(&[&tlv(0x06, oid), &tlv(0x13, val.as_bytes())]);
            tlv(0x31, &atv)
        })
        .collect();
    tlv(0x30, &rdns.concat())
}

const OID_C: &[u8] = &[0x55, 0x04, 0x06];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
/// sha256WithRSAEncryption
const OID_SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
/// id-ecPublicKey, prime256v1
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

/// A structurally valid X.509 v3 certificate (the signature is filler):
/// subject `C=US, O=Watchfloor Test, CN=<cn>`, issuer `C=US, O=Let's
/// Encrypt, CN=R3`, serial 00:A1:B2:C3, valid 2022-12-01T06:47:31 to
/// 2023-03-01T06:47:30, SANs as given.
pub fn test_certificate(cn: &str, sans: &[&str]) -> Vec<u8> {
    let version = tlv(0xa0, &tlv(0x02, &[2]));
    let serial = tlv(0x02, &[0x00, 0xa1, 0xb2, 0xc3]);
    let alg = seq(&[&tlv(0x06, OID_SHA256_RSA), &[0x05, 0x00]]);
    let issuer = name(&[(OID_C, "US"), (OID_O, "Let's Encrypt"), (OID_CN, "R3")]);
    let validity = seq(&[&tlv(0x17, b"221201064731Z"), &tlv(0x17, b"230301064730Z")]);
    let subject = name(&[(OID_C, "US"), (OID_O, "Watchfloor Test"), (OID_CN, cn)]);
    let mut point = vec![0x00, 0x04];
    point.extend_from_slice(&[0x42; 64]);
    let spki = seq(&[
        &seq(&[&tlv(0x06, OID_EC), &tlv(0x06, OID_P256)]),
        &tlv(0x03, &point),
    ]);
    let mut tbs_parts: Vec<Vec<u8>> = vec![
        version,
        serial,
        alg.clone(),
        issuer,
        validity,
        subject,
        spki,
    ];
    if !sans.is_empty() {
        let names: Vec<u8> = sans.iter().flat_map(|s| tlv(0x82, s.as_bytes())).collect();
        let san_ext = seq(&[&tlv(0x06, OID_SAN), &tlv(0x04, &tlv(0x30, &names))]);
        tbs_parts.push(tlv(0xa3, &seq(&[&san_ext])));
    }
    let tbs = tlv(0x30, &tbs_parts.concat());
    seq(&[&tbs, &alg, &tlv(0x03, &[0x00, 0xde, 0xad, 0xbe, 0xef])])
}
