//! TLS 1.2 and 1.3 conversations: real handshake structure (ClientHello extensions from
//! several client profiles, ServerHello, a DER certificate chain whose leaf names the SNI),
//! then application-data records of random bytes.

use crate::rng::Rng;
use crate::tcp::{Dir, Next};
use crate::x509::{self, ISSUERS};
use std::collections::BTreeMap;

/// Client software; decides cipher suites, extensions and their order (so JA3/JA4 differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Chrome,
    Firefox,
    /// Windows Schannel: TLS 1.2 only.
    Schannel,
    OpenSsl,
    /// The malware beacon: an old, distinctive, TLS 1.2-only hello.
    Beacon,
}

impl Profile {
    pub fn pick(rng: &mut Rng) -> Profile {
        [
            Profile::Chrome,
            Profile::Firefox,
            Profile::Schannel,
            Profile::OpenSsl,
        ][rng.weighted(&[50, 15, 25, 10])]
    }

    fn suites(self) -> &'static [u16] {
        match self {
            Profile::Chrome => &[
                0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013,
                0xC014, 0x009C, 0x009D, 0x002F, 0x0035,
            ],
            Profile::Firefox => &[
                0x1301, 0x1303, 0x1302, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xC02C, 0xC030, 0xC00A,
                0xC009, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035,
            ],
            Profile::Schannel => &[
                0xC02C, 0xC02B, 0xC030, 0xC02F, 0x009F, 0x009E, 0xC024, 0xC023, 0xC028, 0xC027,
                0xC00A, 0xC009, 0xC014, 0xC013, 0x009D, 0x009C, 0x003D, 0x003C, 0x0035, 0x002F,
                0x000A,
            ],
            Profile::OpenSsl => &[
                0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA, 0xC02B,
                0xC02F, 0x009E, 0xC024, 0xC028, 0x006B, 0xC023, 0xC027, 0x0067, 0xC00A, 0xC014,
                0x0039, 0xC009, 0xC013, 0x0033, 0x009D, 0x009C, 0x003D, 0x003C, 0x0035, 0x002F,
                0x00FF,
            ],
            Profile::Beacon => &[
                0xC02F, 0xC030, 0xC013, 0xC014, 0x009C, 0x002F, 0x0035, 0x000A,
            ],
        }
    }

    fn extensions(self) -> &'static [u16] {
        match self {
            Profile::Chrome => &[
                0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0023, 0x0010, 0x0005, 0x000D, 0x0012,
                0x0033, 0x002D, 0x002B, 0x001B,
            ],
            Profile::Firefox => &[
                0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0023, 0x0010, 0x0005, 0x0033, 0x002B,
                0x000D, 0x002D, 0x001C,
            ],
            Profile::Schannel => &[
                0x0000, 0x0005, 0x000A, 0x000B, 0x000D, 0x0023, 0x0010, 0x0017, 0xFF01,
            ],
            Profile::OpenSsl => &[
                0x0000, 0x000B, 0x000A, 0x0023, 0x0016, 0x0017, 0x000D, 0x002B, 0x002D, 0x0033,
            ],
            Profile::Beacon => &[0x0000, 0x000A, 0x000B, 0x000D, 0x0023, 0xFF01],
        }
    }

    fn groups(self) -> &'static [u16] {
        match self {
            Profile::Firefox => &[0x001D, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101],
            Profile::OpenSsl => &[0x001D, 0x0017, 0x001E, 0x0019, 0x0018],
            Profile::Beacon => &[0x0017, 0x0018],
            _ => &[0x001D, 0x0017, 0x0018],
        }
    }

    pub fn tls13(self) -> bool {
        matches!(self, Profile::Chrome | Profile::Firefox | Profile::OpenSsl)
    }

    fn alpn(self) -> bool {
        matches!(self, Profile::Chrome | Profile::Firefox | Profile::Schannel)
    }
}

const SIG_ALGS: &[u16] = &[
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
];

/// Leaf certificates by host, so a popular site's certificate is built once.
#[derive(Default)]
pub struct CertCache {
    leaves: BTreeMap<String, (usize, Vec<u8>)>,
    intermediates: Vec<Vec<u8>>,
}

impl CertCache {
    fn chain(&mut self, host: &str) -> (&[u8], &[u8]) {
        if self.intermediates.is_empty() {
            self.intermediates = ISSUERS.iter().map(x509::intermediate).collect();
        }
        if self.leaves.len() > 4096 {
            self.leaves.clear();
        }
        let entry = self.leaves.entry(host.to_string()).or_insert_with(|| {
            let i = (crate::rng::hash64(host.as_bytes()) % ISSUERS.len() as u64) as usize;
            (i, x509::leaf(host, &ISSUERS[i]))
        });
        let inter = self.intermediates.get(entry.0).map_or(&[][..], |v| &v[..]);
        (&entry.1, inter)
    }
}

fn begin(b: &mut Vec<u8>, width: usize) -> usize {
    let at = b.len();
    b.extend_from_slice(&[0, 0, 0][..width]);
    at
}

fn end(b: &mut [u8], at: usize, width: usize) {
    let len = b.len() - at - width;
    let bytes = (len as u32).to_be_bytes();
    b[at..at + width].copy_from_slice(&bytes[4 - width..]);
}

fn u16s(b: &mut Vec<u8>, v: &[u16]) {
    for x in v {
        b.extend_from_slice(&x.to_be_bytes());
    }
}

fn grease(rng: &mut Rng) -> u16 {
    let n = rng.below(16) as u16;
    (n << 12) | 0x0A00 | (n << 4) | 0x0A
}

/// Starts a record and a handshake message inside it; `end_hs` closes both.
fn begin_hs(b: &mut Vec<u8>, rec_version: u16, hs_type: u8) -> (usize, usize) {
    b.push(22);
    b.extend_from_slice(&rec_version.to_be_bytes());
    let r = begin(b, 2);
    b.push(hs_type);
    let h = begin(b, 3);
    (r, h)
}

fn end_hs(b: &mut [u8], (r, h): (usize, usize)) {
    end(b, h, 3);
    end(b, r, 2);
}

fn record(b: &mut Vec<u8>, ctype: u8, len: usize, rng: &mut Rng) {
    b.push(ctype);
    b.extend_from_slice(&[3, 3]);
    b.extend_from_slice(&(len as u16).to_be_bytes());
    rng.extend(b, len);
}

fn ccs(b: &mut Vec<u8>) {
    b.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
}

/// Encrypted application data of `n` plaintext bytes, split into full-size records.
fn app_data(b: &mut Vec<u8>, mut n: usize, overhead: usize, rng: &mut Rng) {
    while n > 0 {
        let p = n.min(16_384);
        record(b, 23, p + overhead, rng);
        n -= p;
    }
}

pub struct TlsApp {
    profile: Profile,
    v13: bool,
    sni: String,
    phase: u32,
    exchanges: u32,
    done: u32,
    close_notify: bool,
    session_id: [u8; 32],
    suite: u16,
    resp_cap: usize,
    beacon: bool,
}

impl TlsApp {
    pub fn new(profile: Profile, sni: String, rng: &mut Rng, resp_cap: usize) -> TlsApp {
        let v13 = profile.tls13() && rng.chance(0.75);
        let beacon = profile == Profile::Beacon;
        let mut session_id = [0u8; 32];
        rng.fill(&mut session_id);
        let suite = if v13 {
            *rng.pick(&[0x1301u16, 0x1302, 0x1303])
        } else {
            // The server's preference among what the client offers.
            [0xC02Bu16, 0xC02F, 0xC02C, 0xC030, 0x009C, 0x002F]
                .into_iter()
                .find(|s| profile.suites().contains(s))
                .unwrap_or(0x002F)
        };
        TlsApp {
            profile,
            v13,
            sni,
            phase: 0,
            exchanges: if beacon {
                1
            } else {
                rng.log_range(1, 8) as u32
            },
            done: 0,
            close_notify: rng.chance(0.5),
            session_id,
            suite,
            resp_cap: resp_cap.max(2048),
            beacon,
        }
    }

    pub fn is_v13(&self) -> bool {
        self.v13
    }

    pub fn next(&mut self, rng: &mut Rng, certs: &mut CertCache, b: &mut Vec<u8>) -> Option<Next> {
        let phase = self.phase;
        self.phase += 1;
        let small = rng.range(50_000, 2_000_000) as i64;
        let overhead = if self.v13 { 17 } else { 24 };
        match phase {
            0 => {
                self.client_hello(b, rng);
                Some(Next {
                    dir: Dir::ToServer,
                    gap_ns: 0,
                })
            }
            1 => {
                self.server_flight(b, rng, certs);
                Some(Next {
                    dir: Dir::ToClient,
                    gap_ns: small,
                })
            }
            2 => {
                if self.v13 {
                    ccs(b);
                    record(b, 23, 53, rng);
                } else {
                    let hs = begin_hs(b, 0x0303, 16);
                    b.push(32);
                    rng.extend(b, 32);
                    end_hs(b, hs);
                    ccs(b);
                    record(b, 22, 40, rng);
                }
                Some(Next {
                    dir: Dir::ToServer,
                    gap_ns: small,
                })
            }
            3 => {
                if self.v13 {
                    for _ in 0..2 {
                        record(b, 23, rng.range(200, 280) as usize, rng);
                    }
                } else {
                    if self.profile != Profile::Beacon {
                        let hs = begin_hs(b, 0x0303, 4);
                        b.extend_from_slice(&7200u32.to_be_bytes());
                        let t = begin(b, 2);
                        rng.extend(b, 192);
                        end(b, t, 2);
                        end_hs(b, hs);
                    }
                    ccs(b);
                    record(b, 22, 40, rng);
                }
                Some(Next {
                    dir: Dir::ToClient,
                    gap_ns: small,
                })
            }
            _ => {
                let k = phase - 4;
                if self.done < self.exchanges {
                    if k % 2 == 0 {
                        let n = if self.beacon {
                            rng.range(300, 420)
                        } else {
                            rng.log_range(80, 4000)
                        } as usize;
                        app_data(b, n, overhead, rng);
                        let gap = if k == 0 {
                            rng.range(1_000, 200_000)
                        } else {
                            rng.log_range(5_000_000, 8_000_000_000)
                        };
                        Some(Next {
                            dir: Dir::ToServer,
                            gap_ns: gap as i64,
                        })
                    } else {
                        self.done += 1;
                        let n = if self.beacon {
                            rng.range(100, 700) as usize
                        } else if rng.chance(0.01) {
                            // Now and then a download.
                            (rng.log_range(100_000, 1_000_000) as usize).min(self.resp_cap)
                        } else {
                            (rng.log_range(100, 20_000) as usize).min(self.resp_cap)
                        };
                        app_data(b, n, overhead, rng);
                        Some(Next {
                            dir: Dir::ToClient,
                            gap_ns: rng.log_range(300_000, 60_000_000) as i64,
                        })
                    }
                } else if self.close_notify {
                    self.close_notify = false;
                    if self.v13 {
                        record(b, 23, 19, rng);
                    } else {
                        record(b, 21, 26, rng);
                    }
                    Some(Next {
                        dir: Dir::ToServer,
                        gap_ns: rng.range(1_000_000, 200_000_000) as i64,
                    })
                } else {
                    None
                }
            }
        }
    }

    fn client_hello(&mut self, b: &mut Vec<u8>, rng: &mut Rng) {
        let p = self.profile;
        let chrome = p == Profile::Chrome;
        let hs = begin_hs(b, 0x0301, 1);
        b.extend_from_slice(&[3, 3]);
        rng.extend(b, 32);
        // TLS 1.3 clients send a legacy session id for middlebox compatibility.
        if p.tls13() || rng.chance(0.3) {
            b.push(32);
            b.extend_from_slice(&self.session_id);
        } else {
            b.push(0);
        }
        let s = begin(b, 2);
        if chrome {
            u16s(b, &[grease(rng)]);
        }
        u16s(b, p.suites());
        end(b, s, 2);
        b.extend_from_slice(&[1, 0]);
        let exts_at = begin(b, 2);
        let mut order: [u16; 16] = [0; 16];
        let list = p.extensions();
        order[..list.len()].copy_from_slice(list);
        let order = &mut order[..list.len()];
        if chrome {
            // Chrome randomises its extension order on every connection.
            rng.shuffle(order);
            self.ext(b, grease(rng), rng);
        }
        for &id in order.iter() {
            self.ext(b, id, rng);
        }
        if chrome {
            let g = grease(rng);
            b.extend_from_slice(&g.to_be_bytes());
            b.extend_from_slice(&[0, 1, 0]);
        }
        end(b, exts_at, 2);
        end_hs(b, hs);
    }

    fn ext(&self, b: &mut Vec<u8>, id: u16, rng: &mut Rng) {
        let p = self.profile;
        b.extend_from_slice(&id.to_be_bytes());
        let at = begin(b, 2);
        match id {
            0x0000 => {
                let l = begin(b, 2);
                b.push(0);
                let n = begin(b, 2);
                b.extend_from_slice(self.sni.as_bytes());
                end(b, n, 2);
                end(b, l, 2);
            }
            0x000A => {
                let l = begin(b, 2);
                if p == Profile::Chrome {
                    u16s(b, &[grease(rng)]);
                }
                u16s(b, p.groups());
                end(b, l, 2);
            }
            0x000B => b.extend_from_slice(&[1, 0]),
            0x000D => {
                let l = begin(b, 2);
                u16s(b, SIG_ALGS);
                end(b, l, 2);
            }
            0x0010 if p.alpn() => {
                let l = begin(b, 2);
                for proto in [&b"h2"[..], b"http/1.1"] {
                    b.push(proto.len() as u8);
                    b.extend_from_slice(proto);
                }
                end(b, l, 2);
            }
            0x0005 => b.extend_from_slice(&[1, 0, 0, 0, 0]),
            0xFF01 => b.push(0),
            0x002B => {
                let l = begin(b, 1);
                if p == Profile::Chrome {
                    u16s(b, &[grease(rng)]);
                }
                u16s(b, &[0x0304, 0x0303]);
                end(b, l, 1);
            }
            0x0033 => {
                let l = begin(b, 2);
                if p == Profile::Chrome {
                    u16s(b, &[grease(rng), 1]);
                    b.push(0);
                }
                u16s(b, &[0x001D, 32]);
                rng.extend(b, 32);
                end(b, l, 2);
            }
            0x002D => b.extend_from_slice(&[1, 1]),
            0x001B => b.extend_from_slice(&[2, 0, 2]),
            0x001C => b.extend_from_slice(&[0x40, 0x01]),
            // extended_master_secret, session_ticket, SCT, encrypt_then_mac: empty.
            _ => {}
        }
        end(b, at, 2);
    }

    fn server_flight(&self, b: &mut Vec<u8>, rng: &mut Rng, certs: &mut CertCache) {
        let hs = begin_hs(b, 0x0303, 2);
        b.extend_from_slice(&[3, 3]);
        rng.extend(b, 32);
        b.push(32);
        b.extend_from_slice(&self.session_id);
        b.extend_from_slice(&self.suite.to_be_bytes());
        b.push(0);
        let e = begin(b, 2);
        if self.v13 {
            b.extend_from_slice(&[0x00, 0x2B, 0, 2, 3, 4]);
            b.extend_from_slice(&[0x00, 0x33, 0, 36, 0x00, 0x1D, 0, 32]);
            rng.extend(b, 32);
        } else {
            b.extend_from_slice(&[0xFF, 0x01, 0, 1, 0]);
            b.extend_from_slice(&[0x00, 0x0B, 0, 2, 1, 0]);
            if self.profile != Profile::Beacon {
                b.extend_from_slice(&[0x00, 0x17, 0, 0, 0x00, 0x23, 0, 0]);
            }
            if self.profile.alpn() {
                b.extend_from_slice(&[0x00, 0x10, 0, 5, 0, 3, 2, b'h', b'2']);
            }
        }
        end(b, e, 2);
        end_hs(b, hs);
        let (leaf, inter) = certs.chain(&self.sni);
        if self.v13 {
            ccs(b);
            // EncryptedExtensions, Certificate, CertificateVerify and Finished, encrypted.
            let n = leaf.len() + inter.len() + 10 + 6 + 80 + 36 + 40;
            app_data(b, n, 17, rng);
            return;
        }
        let hs = begin_hs(b, 0x0303, 11);
        let all = begin(b, 3);
        for der in [leaf, inter] {
            let c = begin(b, 3);
            b.extend_from_slice(der);
            end(b, c, 3);
        }
        end(b, all, 3);
        end_hs(b, hs);
        let hs = begin_hs(b, 0x0303, 12);
        b.extend_from_slice(&[3, 0x00, 0x1D, 32]);
        rng.extend(b, 32);
        b.extend_from_slice(&[0x04, 0x03]);
        let sig = begin(b, 2);
        b.extend_from_slice(&[0x30, 0x44, 0x02, 0x20]);
        rng.extend(b, 32);
        b.extend_from_slice(&[0x02, 0x20]);
        rng.extend(b, 32);
        let r = sig + 2 + 4;
        b[r] &= 0x7F;
        b[r + 34] &= 0x7F;
        end(b, sig, 2);
        end_hs(b, hs);
        let hs = begin_hs(b, 0x0303, 14);
        end_hs(b, hs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks records; returns handshake types seen and the SNI from the ClientHello.
    pub fn records(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = vec![];
        let mut at = 0;
        while at < b.len() {
            let len = u16::from_be_bytes([b[at + 3], b[at + 4]]) as usize;
            out.push((b[at], b[at + 5..at + 5 + len].to_vec()));
            at += 5 + len;
        }
        assert_eq!(at, b.len());
        out
    }

    #[test]
    fn handshakes_are_well_formed() {
        let mut rng = Rng::new(9);
        let mut certs = CertCache::default();
        for profile in [
            Profile::Chrome,
            Profile::Firefox,
            Profile::Schannel,
            Profile::OpenSsl,
            Profile::Beacon,
        ] {
            for _ in 0..8 {
                let mut app = TlsApp::new(profile, "portal.example.gov".into(), &mut rng, 100_000);
                let mut b = vec![];
                let mut n = 0;
                while let Some(_next) = app.next(&mut rng, &mut certs, &mut b) {
                    let recs = records(&b);
                    if n == 0 {
                        let (t, body) = &recs[0];
                        assert_eq!(*t, 22);
                        assert_eq!(body[0], 1);
                        let hl = u32::from_be_bytes([0, body[1], body[2], body[3]]) as usize;
                        assert_eq!(hl + 4, body.len());
                        assert!(body.windows(18).any(|w| w == b"portal.example.gov"));
                    }
                    if n == 1 && !app.is_v13() {
                        let types: Vec<u8> = recs.iter().map(|r| r.1[0]).collect();
                        assert_eq!(types, vec![2, 11, 12, 14]);
                        let cert_msg = &recs[1].1;
                        let first_len =
                            u32::from_be_bytes([0, cert_msg[7], cert_msg[8], cert_msg[9]]) as usize;
                        let der = &cert_msg[10..10 + first_len];
                        assert_eq!(crate::x509::tests::check_cert(der), "portal.example.gov");
                    }
                    b.clear();
                    n += 1;
                }
                assert!(n >= 6);
            }
        }
    }
}
