//! Application conversations as sequences of messages, and the small protocols (DNS, NTP,
//! ICMP echo, SMB2, backup stream) that need no module of their own.

use crate::dns;
use crate::http::HttpApp;
use crate::rng::Rng;
use crate::tcp::{Dir, Next};
use crate::tls::{CertCache, TlsApp};

pub enum App {
    Http(HttpApp),
    Tls(TlsApp),
    Dns(DnsApp),
    Ntp(NtpApp),
    Echo(EchoApp),
    Smb(SmbApp),
    Bulk(BulkApp),
    /// No payload at all (port-scan probes).
    None,
}

impl App {
    /// Appends the next message to `b` (empty on entry).
    pub fn next(
        &mut self,
        rng: &mut Rng,
        now_ns: i64,
        certs: &mut CertCache,
        b: &mut Vec<u8>,
    ) -> Option<Next> {
        match self {
            App::Http(a) => a.next(rng, now_ns, b),
            App::Tls(a) => a.next(rng, certs, b),
            App::Dns(a) => a.next(rng, b),
            App::Ntp(a) => a.next(rng, now_ns, b),
            App::Echo(a) => a.next(b),
            App::Smb(a) => a.next(rng, b),
            App::Bulk(a) => a.next(rng, b),
            App::None => None,
        }
    }
}

pub struct DnsApp {
    pub name: String,
    pub qtype: u16,
    pub rcode: u8,
    /// Over TCP the messages carry a 2-byte length prefix.
    pub tcp: bool,
    pub edns: bool,
    /// Resolver latency: a cache hit is fast, recursion to the Internet is not.
    pub latency_ns: i64,
    id: u16,
    step: u8,
}

impl DnsApp {
    pub fn new(name: String, qtype: u16, rcode: u8, tcp: bool, rng: &mut Rng) -> DnsApp {
        let latency_ns = if rng.chance(0.6) {
            rng.range(80_000, 900_000)
        } else {
            rng.log_range(3_000_000, 120_000_000)
        } as i64;
        DnsApp {
            name,
            qtype,
            rcode,
            tcp,
            edns: rng.chance(0.7),
            latency_ns,
            id: rng.next_u32() as u16,
            step: 0,
        }
    }

    fn next(&mut self, rng: &mut Rng, b: &mut Vec<u8>) -> Option<Next> {
        let step = self.step;
        self.step += 1;
        let at = b.len();
        if self.tcp {
            b.extend_from_slice(&[0, 0]);
        }
        let next = match step {
            0 => {
                dns::query(b, self.id, &self.name, self.qtype, self.edns);
                Next {
                    dir: Dir::ToServer,
                    gap_ns: 0,
                }
            }
            1 => {
                dns::response(
                    b, rng, self.id, &self.name, self.qtype, self.rcode, self.edns,
                );
                Next {
                    dir: Dir::ToClient,
                    gap_ns: self.latency_ns,
                }
            }
            _ => return None,
        };
        if self.tcp {
            let len = (b.len() - at - 2) as u16;
            b[at..at + 2].copy_from_slice(&len.to_be_bytes());
        }
        Some(next)
    }
}

/// NTP client/server exchange (mode 3 then mode 4).
pub struct NtpApp {
    polls: u32,
    step: u32,
    rtt_ns: i64,
    last_client_tx: u64,
}

fn ntp_ts(unix_ns: i64) -> u64 {
    let secs = (unix_ns.div_euclid(1_000_000_000) + 2_208_988_800) as u64;
    let frac = ((unix_ns.rem_euclid(1_000_000_000) as u128) << 32) / 1_000_000_000;
    (secs << 32) | frac as u64
}

impl NtpApp {
    pub fn new(rng: &mut Rng, rtt_ns: i64) -> NtpApp {
        NtpApp {
            polls: rng.range(1, 4) as u32,
            step: 0,
            rtt_ns,
            last_client_tx: 0,
        }
    }

    fn next(&mut self, rng: &mut Rng, now_ns: i64, b: &mut Vec<u8>) -> Option<Next> {
        if self.step >= self.polls * 2 {
            return None;
        }
        let client = self.step % 2 == 0;
        let first = self.step == 0;
        self.step += 1;
        let mut p = [0u8; 48];
        if client {
            // LI 0, version 4, mode 3; only the transmit timestamp is set.
            p[0] = 0x23;
            p[2] = 6;
            p[3] = 0xE9;
            self.last_client_tx = ntp_ts(now_ns) ^ (rng.next_u32() as u64 & 0xFFF);
            p[40..48].copy_from_slice(&self.last_client_tx.to_be_bytes());
        } else {
            p[0] = 0x24;
            p[1] = 2;
            p[2] = 6;
            p[3] = 0xE8;
            p[4..8].copy_from_slice(&(rng.range(200, 3000) as u32).to_be_bytes());
            p[8..12].copy_from_slice(&(rng.range(500, 8000) as u32).to_be_bytes());
            p[12..16].copy_from_slice(&[129, 6, 15, 28]);
            let rx = ntp_ts(now_ns + self.rtt_ns / 2);
            p[16..24].copy_from_slice(&ntp_ts(now_ns - 512_000_000_000).to_be_bytes());
            p[24..32].copy_from_slice(&self.last_client_tx.to_be_bytes());
            p[32..40].copy_from_slice(&rx.to_be_bytes());
            p[40..48].copy_from_slice(&(rx + 40_000).to_be_bytes());
        }
        b.extend_from_slice(&p);
        let gap_ns = if client {
            if first {
                0
            } else {
                rng.range(16, 64) as i64 * 1_000_000_000
            }
        } else {
            self.rtt_ns
        };
        Some(Next {
            dir: if client { Dir::ToServer } else { Dir::ToClient },
            gap_ns,
        })
    }
}

/// ping: Windows sends 32 bytes of the alphabet, Linux 56 bytes after a timestamp.
pub struct EchoApp {
    count: u32,
    step: u32,
    windows: bool,
    rtt_ns: i64,
}

impl EchoApp {
    pub fn new(rng: &mut Rng, windows: bool, rtt_ns: i64) -> EchoApp {
        EchoApp {
            count: rng.range(1, 5) as u32,
            step: 0,
            windows,
            rtt_ns,
        }
    }

    /// The echo sequence number of the current message.
    pub fn seq(&self) -> u16 {
        (self.step.saturating_sub(1) / 2 + 1) as u16
    }

    fn next(&mut self, b: &mut Vec<u8>) -> Option<Next> {
        if self.step >= self.count * 2 {
            return None;
        }
        let request = self.step % 2 == 0;
        let first = self.step == 0;
        self.step += 1;
        if self.windows {
            b.extend_from_slice(b"abcdefghijklmnopqrstuvwabcdefghi");
        } else {
            b.extend_from_slice(&(self.step as u64 * 1_000_003).to_le_bytes());
            b.extend((0x10u8..0x40).take(48));
        }
        Some(if request {
            Next {
                dir: Dir::ToServer,
                gap_ns: if first {
                    0
                } else {
                    1_000_000_000 - self.rtt_ns
                },
            }
        } else {
            Next {
                dir: Dir::ToClient,
                gap_ns: self.rtt_ns,
            }
        })
    }
}

/// SMB2 over NBSS on 445: NEGOTIATE, TREE_CONNECT, then 64 KiB WRITEs or READs.
pub struct SmbApp {
    remaining: usize,
    write: bool,
    step: u32,
    msg_id: u64,
    session: u64,
    file_id: [u8; 16],
    pending_read: usize,
}

const SMB2_NEGOTIATE: u16 = 0;
const SMB2_TREE_CONNECT: u16 = 3;
const SMB2_READ: u16 = 8;
const SMB2_WRITE: u16 = 9;
const CHUNK: usize = 65_536;

impl SmbApp {
    pub fn new(rng: &mut Rng, cap: usize) -> SmbApp {
        let mut file_id = [0u8; 16];
        rng.fill(&mut file_id);
        SmbApp {
            remaining: (rng.log_range(32 * 1024, 2 << 20) as usize).min(cap.max(CHUNK)),
            write: rng.chance(0.5),
            step: 0,
            msg_id: 0,
            session: rng.next_u64() | 1,
            file_id,
            pending_read: 0,
        }
    }

    fn header(&mut self, b: &mut Vec<u8>, cmd: u16, response: bool) {
        b.extend_from_slice(&[0xFE, b'S', b'M', b'B', 64, 0, 1, 0]);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&cmd.to_le_bytes());
        b.extend_from_slice(&(if response { 32u16 } else { 1 }).to_le_bytes());
        b.extend_from_slice(&(if response { 1u32 } else { 0 }).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&self.msg_id.to_le_bytes());
        b.extend_from_slice(&0xFEFFu32.to_le_bytes());
        b.extend_from_slice(&(if cmd == SMB2_NEGOTIATE { 0u32 } else { 1 }).to_le_bytes());
        b.extend_from_slice(
            &(if cmd == SMB2_NEGOTIATE {
                0
            } else {
                self.session
            })
            .to_le_bytes(),
        );
        b.extend_from_slice(&[0; 16]);
    }

    fn next(&mut self, rng: &mut Rng, b: &mut Vec<u8>) -> Option<Next> {
        let step = self.step;
        let request = step % 2 == 0;
        if request && step >= 4 && self.remaining == 0 {
            return None;
        }
        self.step += 1;
        // NetBIOS session header; its 24-bit length is patched at the end.
        b.extend_from_slice(&[0, 0, 0, 0]);
        match (step, request) {
            (0, _) | (1, _) => {
                self.header(b, SMB2_NEGOTIATE, !request);
                if request {
                    b.extend_from_slice(&[36, 0, 2, 0, 1, 0, 0, 0, 0x7F, 0, 0, 0]);
                    rng.extend(b, 16);
                    b.extend_from_slice(&[0; 8]);
                    b.extend_from_slice(&[0x02, 0x02, 0x10, 0x02]);
                } else {
                    b.extend_from_slice(&[65, 0, 1, 0, 0x10, 0x02, 0, 0]);
                    rng.extend(b, 16);
                    b.extend_from_slice(&[0x2F, 0, 0, 0]);
                    for v in [8u32 << 20, 8 << 20, 8 << 20] {
                        b.extend_from_slice(&v.to_le_bytes());
                    }
                    b.extend_from_slice(&[0; 16]);
                    b.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0]);
                }
            }
            (2, _) | (3, _) => {
                self.header(b, SMB2_TREE_CONNECT, !request);
                if request {
                    let share: Vec<u8> = "\\\\FS01\\elections"
                        .encode_utf16()
                        .flat_map(|u| u.to_le_bytes())
                        .collect();
                    b.extend_from_slice(&[9, 0, 0, 0, 72, 0]);
                    b.extend_from_slice(&(share.len() as u16).to_le_bytes());
                    b.extend_from_slice(&share);
                } else {
                    b.extend_from_slice(&[
                        16, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x01, 0x1F, 0,
                    ]);
                }
            }
            (_, true) => {
                self.msg_id += 1;
                let n = self.remaining.min(CHUNK);
                self.remaining -= n;
                let cmd = if self.write { SMB2_WRITE } else { SMB2_READ };
                self.header(b, cmd, false);
                b.extend_from_slice(&[49, 0, 0x70, 0]);
                b.extend_from_slice(&(n as u32).to_le_bytes());
                b.extend_from_slice(&((self.msg_id * CHUNK as u64).to_le_bytes()));
                b.extend_from_slice(&self.file_id);
                b.extend_from_slice(&[0; 16]);
                b.push(0);
                if self.write {
                    rng.extend(b, n);
                } else {
                    self.pending_read = n;
                }
            }
            (_, false) => {
                let cmd = if self.write { SMB2_WRITE } else { SMB2_READ };
                self.header(b, cmd, true);
                if self.write {
                    b.extend_from_slice(&[17, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
                } else {
                    b.extend_from_slice(&[17, 0, 0x50, 0]);
                    b.extend_from_slice(&(self.pending_read as u32).to_le_bytes());
                    b.extend_from_slice(&[0; 8]);
                    rng.extend(b, self.pending_read);
                }
            }
        }
        let len = (b.len() - 4) as u32;
        b[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
        Some(Next {
            dir: if request {
                Dir::ToServer
            } else {
                Dir::ToClient
            },
            gap_ns: if request {
                rng.range(20_000, 2_000_000) as i64
            } else {
                rng.range(50_000, 800_000) as i64
            },
        })
    }
}

/// An opaque backup stream: the client pushes large blocks; the server acknowledges now
/// and then with a small record.
pub struct BulkApp {
    remaining: usize,
    since_ack: u32,
    done: bool,
}

impl BulkApp {
    pub fn new(rng: &mut Rng, cap: usize) -> BulkApp {
        BulkApp {
            remaining: (rng.log_range(128 * 1024, 4 << 20) as usize).min(cap.max(CHUNK)),
            since_ack: 0,
            done: false,
        }
    }

    fn next(&mut self, rng: &mut Rng, b: &mut Vec<u8>) -> Option<Next> {
        if self.since_ack >= 16 || (self.remaining == 0 && !self.done) {
            self.since_ack = 0;
            self.done = self.remaining == 0;
            b.extend_from_slice(b"BKACK\0\0\0");
            rng.extend(b, 8);
            return Some(Next {
                dir: Dir::ToClient,
                gap_ns: rng.range(100_000, 2_000_000) as i64,
            });
        }
        if self.remaining == 0 {
            return None;
        }
        let n = self.remaining.min(CHUNK);
        self.remaining -= n;
        self.since_ack += 1;
        rng.extend(b, n);
        Some(Next {
            dir: Dir::ToServer,
            gap_ns: rng.range(10_000, 300_000) as i64,
        })
    }
}
