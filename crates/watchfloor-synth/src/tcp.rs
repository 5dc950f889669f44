//! TCP session model: handshake, MSS segmentation, delayed ACKs, slow-start rounds,
//! occasional retransmissions and out-of-order pairs, FIN or RST teardown.
//!
//! The model is a state machine that yields one segment per call, so a flow's packets can
//! be interleaved with every other flow's in time order. Application bytes come from a
//! message buffer the caller refills whenever [`TcpConn::wants_message`] says so.

use crate::net::{ACK, FIN, PSH, RST, SYN};
use crate::rng::Rng;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    pub fn idx(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }

    pub fn flip(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }
}

/// The application's next message: who sends it and how long after the previous one.
#[derive(Debug, Clone, Copy)]
pub struct Next {
    pub dir: Dir,
    pub gap_ns: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// A probe to a closed port: SYN answered by RST/ACK.
    ScanClosed,
    /// A probe to an open port: SYN, SYN/ACK, and the scanner resets.
    ScanOpen,
}

/// Parameters that describe the two endpoints.
#[derive(Debug, Clone, Copy)]
pub struct TcpParams {
    pub mode: Mode,
    /// MSS announced by both sides (1460 on IPv4, 1440 on IPv6).
    pub mss: u16,
    /// Windows clients do not send TCP timestamps; Linux clients do.
    pub timestamps: bool,
    pub client_wscale: u8,
    pub server_wscale: u8,
    pub rtt_ns: i64,
    /// Serialisation time per payload byte (link speed).
    pub ns_per_byte: i64,
    pub retx_ratio: f64,
    pub ooo_ratio: f64,
    pub start_ns: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Syn,
    SynAck,
    ScanReset,
    HsAck,
    NeedMsg,
    Data,
    AckThenData,
    Close1,
    Close2,
    Close3,
    Done,
}

#[derive(Debug, Clone, Copy)]
struct PendingSeg {
    seq: u32,
    range: (usize, usize),
    push: bool,
}

/// One emitted segment; `payload` indexes the message buffer.
#[derive(Debug, Clone)]
pub struct Seg {
    pub dir: Dir,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub opts: [u8; 20],
    pub opts_len: usize,
    pub payload: Range<usize>,
    /// Time until the connection's next segment (ignored when `last`).
    pub next_in_ns: i64,
    pub last: bool,
}

impl Seg {
    pub fn opts(&self) -> &[u8] {
        &self.opts[..self.opts_len]
    }
}

pub struct TcpConn {
    p: TcpParams,
    st: St,
    nxt: [u32; 2],
    ts_base: [u32; 2],
    last_tsval: [u32; 2],
    win: [u16; 2],
    seg_payload: usize,
    msg_dir: Dir,
    msg_len: usize,
    off: usize,
    unacked: u32,
    cwnd: u32,
    sent_in_round: u32,
    retx: Option<PendingSeg>,
    hole: Option<PendingSeg>,
    pending_gap: i64,
    /// Who sends the owed pure ACK (the receiver of the data being acknowledged).
    ack_dir: Dir,
    closer: Dir,
    reset_close: bool,
    pub retransmissions: u64,
    pub out_of_order: u64,
}

const SYN_WIN: u16 = 64240;
const MAX_CWND: u32 = 64;

impl TcpConn {
    pub fn new(p: TcpParams, rng: &mut Rng) -> TcpConn {
        let seg_payload = p.mss as usize - if p.timestamps { 12 } else { 0 };
        let closer = if rng.chance(0.7) {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        TcpConn {
            st: St::Syn,
            nxt: [rng.next_u32(), rng.next_u32()],
            ts_base: [rng.next_u32() >> 1, rng.next_u32() >> 1],
            last_tsval: [0, 0],
            // Scaled receive windows typical of the two stacks once established.
            win: [
                if p.client_wscale >= 8 { 1026 } else { 502 },
                rng.range(235, 1024) as u16,
            ],
            seg_payload,
            msg_dir: Dir::ToServer,
            msg_len: 0,
            off: 0,
            unacked: 0,
            cwnd: 10,
            sent_in_round: 0,
            retx: None,
            hole: None,
            pending_gap: 0,
            ack_dir: Dir::ToClient,
            closer,
            reset_close: rng.chance(0.04),
            retransmissions: 0,
            out_of_order: 0,
            p,
        }
    }

    pub fn wants_message(&self) -> bool {
        self.st == St::NeedMsg
    }

    /// Hands the connection its next message (already in the caller's buffer, `len` bytes),
    /// or `None` to close. Returns extra delay to add before the next segment.
    pub fn set_message(&mut self, next: Option<Next>, len: usize, rng: &mut Rng) -> i64 {
        let Some(next) = next.filter(|_| len > 0) else {
            self.st = St::Close1;
            return rng.range(200_000, 30_000_000) as i64;
        };
        let turn = if next.dir != self.msg_dir {
            self.p.rtt_ns / 2
        } else {
            0
        };
        let owe_ack = self.unacked > 0 && (next.dir == self.msg_dir || next.gap_ns > 50_000_000);
        self.ack_dir = self.msg_dir.flip();
        self.msg_dir = next.dir;
        self.msg_len = len;
        self.off = 0;
        self.sent_in_round = 0;
        if owe_ack {
            // The receiver's delayed-ACK timer fires before the next message starts.
            let ack_delay = next.gap_ns.clamp(0, 40_000_000);
            self.pending_gap = (next.gap_ns - ack_delay).max(1_000) + turn;
            self.st = St::AckThenData;
            ack_delay
        } else {
            self.unacked = 0;
            self.st = St::Data;
            next.gap_ns.max(0) + turn
        }
    }

    fn tsval(&mut self, side: usize, now_ns: i64) -> u32 {
        let ms = ((now_ns - self.p.start_ns).max(0) / 1_000_000) as u32;
        let v = self.ts_base[side].wrapping_add(ms);
        self.last_tsval[side] = v;
        v
    }

    fn seg(&mut self, dir: Dir, flags: u8, now_ns: i64) -> Seg {
        let s = dir.idx();
        let r = 1 - s;
        let mut opts = [0u8; 20];
        let mut opts_len = 0;
        let syn = flags & SYN != 0;
        let mss = self.p.mss.to_be_bytes();
        if self.p.mode != Mode::Normal && syn && dir == Dir::ToServer {
            // Scanners send a bare MSS option.
            opts[..4].copy_from_slice(&[2, 4, mss[0], mss[1]]);
            opts_len = 4;
        } else if syn {
            let ws = if dir == Dir::ToServer {
                self.p.client_wscale
            } else {
                self.p.server_wscale
            };
            if self.p.timestamps {
                let tsval = self.tsval(s, now_ns);
                let tsecr = if flags & ACK != 0 {
                    self.last_tsval[r]
                } else {
                    0
                };
                opts[..8].copy_from_slice(&[2, 4, mss[0], mss[1], 4, 2, 8, 10]);
                opts[8..12].copy_from_slice(&tsval.to_be_bytes());
                opts[12..16].copy_from_slice(&tsecr.to_be_bytes());
                opts[16..20].copy_from_slice(&[1, 3, 3, ws]);
                opts_len = 20;
            } else {
                opts[..12].copy_from_slice(&[2, 4, mss[0], mss[1], 1, 3, 3, ws, 1, 1, 4, 2]);
                opts_len = 12;
            }
        } else if self.p.timestamps && flags & RST == 0 {
            let tsval = self.tsval(s, now_ns);
            opts[..4].copy_from_slice(&[1, 1, 8, 10]);
            opts[4..8].copy_from_slice(&tsval.to_be_bytes());
            opts[8..12].copy_from_slice(&self.last_tsval[r].to_be_bytes());
            opts_len = 12;
        }
        let win = if syn {
            if self.p.mode != Mode::Normal && dir == Dir::ToServer {
                1024
            } else {
                SYN_WIN
            }
        } else if flags & RST != 0 && self.p.mode != Mode::Normal {
            0
        } else {
            self.win[s]
        };
        Seg {
            dir,
            flags,
            seq: self.nxt[s],
            ack: if flags & ACK != 0 { self.nxt[r] } else { 0 },
            win,
            opts,
            opts_len,
            payload: 0..0,
            next_in_ns: 0,
            last: false,
        }
    }

    fn jitter(&self, rng: &mut Rng, base: i64) -> i64 {
        base + rng.below(base as u64 / 4 + 1) as i64
    }

    /// The next segment. Must not be called while [`Self::wants_message`] is true.
    pub fn step(&mut self, now_ns: i64, rng: &mut Rng) -> Seg {
        let half_rtt = self.p.rtt_ns / 2;
        match self.st {
            St::Syn => {
                let mut s = self.seg(Dir::ToServer, SYN, now_ns);
                self.nxt[0] = self.nxt[0].wrapping_add(1);
                self.st = match self.p.mode {
                    Mode::ScanClosed => St::ScanReset,
                    _ => St::SynAck,
                };
                s.next_in_ns = self.jitter(rng, half_rtt);
                s
            }
            St::SynAck => {
                let mut s = self.seg(Dir::ToClient, SYN | ACK, now_ns);
                self.nxt[1] = self.nxt[1].wrapping_add(1);
                self.st = match self.p.mode {
                    Mode::ScanOpen => St::ScanReset,
                    _ => St::HsAck,
                };
                s.next_in_ns = self.jitter(rng, half_rtt);
                s
            }
            St::ScanReset => {
                let mut s = if self.p.mode == Mode::ScanClosed {
                    self.seg(Dir::ToClient, RST | ACK, now_ns)
                } else {
                    self.seg(Dir::ToServer, RST, now_ns)
                };
                s.last = true;
                self.st = St::Done;
                s
            }
            St::HsAck => {
                let mut s = self.seg(Dir::ToServer, ACK, now_ns);
                self.st = St::NeedMsg;
                self.msg_dir = Dir::ToServer;
                s.next_in_ns = rng.range(20_000, 400_000) as i64;
                s
            }
            St::AckThenData => {
                let mut s = self.seg(self.ack_dir, ACK, now_ns);
                self.unacked = 0;
                self.st = St::Data;
                s.next_in_ns = self.pending_gap;
                s
            }
            St::Data => self.data(now_ns, rng),
            St::Close1 if self.reset_close => {
                let mut s = self.seg(self.closer, RST | ACK, now_ns);
                s.last = true;
                self.st = St::Done;
                s
            }
            St::Close1 => {
                let mut s = self.seg(self.closer, FIN | ACK, now_ns);
                self.nxt[self.closer.idx()] = self.nxt[self.closer.idx()].wrapping_add(1);
                self.st = St::Close2;
                s.next_in_ns = self.jitter(rng, half_rtt) + 30_000;
                s
            }
            St::Close2 => {
                let mut s = self.seg(self.closer.flip(), FIN | ACK, now_ns);
                let i = self.closer.flip().idx();
                self.nxt[i] = self.nxt[i].wrapping_add(1);
                self.st = St::Close3;
                s.next_in_ns = self.jitter(rng, half_rtt);
                s
            }
            // NeedMsg is a caller bug; ending the connection is the safe answer.
            St::Close3 | St::NeedMsg | St::Done => {
                let mut s = self.seg(self.closer, ACK, now_ns);
                s.last = true;
                self.st = St::Done;
                s
            }
        }
    }

    fn data(&mut self, now_ns: i64, rng: &mut Rng) -> Seg {
        let side = self.msg_dir.idx();
        let (pending, retransmit) = if let Some(p) = self.retx.take() {
            self.retransmissions += 1;
            (p, true)
        } else if let Some(p) = self.hole.take() {
            (p, false)
        } else {
            let len = self.seg_payload.min(self.msg_len - self.off);
            let first = PendingSeg {
                seq: self.nxt[side],
                range: (self.off, self.off + len),
                push: self.off + len == self.msg_len,
            };
            self.off += len;
            self.nxt[side] = self.nxt[side].wrapping_add(len as u32);
            if self.off < self.msg_len && rng.chance(self.p.ooo_ratio) {
                // Emit the following segment first and the held-back one next time.
                let len2 = self.seg_payload.min(self.msg_len - self.off);
                let second = PendingSeg {
                    seq: self.nxt[side],
                    range: (self.off, self.off + len2),
                    push: self.off + len2 == self.msg_len,
                };
                self.off += len2;
                self.nxt[side] = self.nxt[side].wrapping_add(len2 as u32);
                self.hole = Some(first);
                self.out_of_order += 1;
                (second, false)
            } else {
                if rng.chance(self.p.retx_ratio) {
                    self.retx = Some(first);
                }
                (first, false)
            }
        };
        let mut s = self.seg(self.msg_dir, ACK, now_ns);
        s.seq = pending.seq;
        if pending.push {
            s.flags |= PSH;
        }
        s.payload = pending.range.0..pending.range.1;
        let len = (pending.range.1 - pending.range.0) as i64;
        let wire = len * self.p.ns_per_byte + 2_000;
        if !retransmit {
            self.unacked += 1;
            self.sent_in_round += 1;
        }
        s.next_in_ns = if self.retx.is_some() {
            // The sender waits for its retransmission timer (Linux minimum RTO is 200 ms).
            self.st = St::Data;
            200_000_000 + self.p.rtt_ns
        } else if self.hole.is_some() {
            self.st = St::Data;
            wire
        } else if self.off < self.msg_len {
            self.ack_dir = self.msg_dir.flip();
            self.st = if self.unacked >= 2 {
                St::AckThenData
            } else {
                St::Data
            };
            if self.sent_in_round >= self.cwnd {
                // End of a slow-start round: the sender waits for the ACK clock.
                self.sent_in_round = 0;
                self.cwnd = (self.cwnd * 2).min(MAX_CWND);
                self.pending_gap = self.p.rtt_ns;
            } else {
                self.pending_gap = wire;
            }
            if self.st == St::AckThenData {
                wire / 2 + 1_000
            } else {
                self.pending_gap
            }
        } else {
            self.st = St::NeedMsg;
            wire
        };
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(mode: Mode) -> TcpParams {
        TcpParams {
            mode,
            mss: 1460,
            timestamps: true,
            client_wscale: 7,
            server_wscale: 9,
            rtt_ns: 1_000_000,
            ns_per_byte: 8,
            retx_ratio: 0.05,
            ooo_ratio: 0.05,
            start_ns: 0,
        }
    }

    /// Reassembles each direction by sequence number and checks ACKs never run ahead.
    #[test]
    fn sequence_numbers_are_consistent() {
        let mut rng = Rng::new(3);
        for _ in 0..50 {
            let mut c = TcpConn::new(params(Mode::Normal), &mut rng);
            let msgs = [
                (Dir::ToServer, 300usize),
                (Dir::ToClient, 50_000),
                (Dir::ToServer, 9000),
            ];
            let mut i = 0;
            let mut now = 0i64;
            let mut isn = [None::<u32>; 2];
            let mut received = [0u64; 2];
            loop {
                if c.wants_message() {
                    let n = msgs.get(i).map(|&(d, _)| Next {
                        dir: d,
                        gap_ns: 1000,
                    });
                    let len = msgs.get(i).map_or(0, |m| m.1);
                    i += 1;
                    now += c.set_message(n, len, &mut rng);
                }
                let s = c.step(now, &mut rng);
                let d = s.dir.idx();
                if s.flags & SYN != 0 {
                    isn[d] = Some(s.seq);
                }
                if !s.payload.is_empty() {
                    let base = isn[d].unwrap().wrapping_add(1);
                    let rel = s.seq.wrapping_sub(base) as u64;
                    assert_eq!(
                        rel as usize,
                        s.payload.start
                            + msgs[..i - 1]
                                .iter()
                                .filter(|m| m.0 == s.dir)
                                .map(|m| m.1)
                                .sum::<usize>()
                    );
                    received[d] = received[d].max(rel + s.payload.len() as u64);
                }
                if s.flags & ACK != 0 && s.flags & SYN == 0 && s.flags & RST == 0 {
                    let o = 1 - d;
                    let acked = s.ack.wrapping_sub(isn[o].unwrap().wrapping_add(1)) as u64;
                    assert!(acked <= received[o] + 1, "ack beyond data");
                }
                now += s.next_in_ns.max(1);
                if s.last {
                    break;
                }
            }
            assert_eq!(received[0], 9300);
            assert_eq!(received[1], 50_000);
        }
    }

    #[test]
    fn scan_probes_are_short() {
        let mut rng = Rng::new(1);
        let mut c = TcpConn::new(params(Mode::ScanClosed), &mut rng);
        let a = c.step(0, &mut rng);
        let b = c.step(1, &mut rng);
        assert_eq!(a.flags, SYN);
        assert_eq!(b.flags, RST | ACK);
        assert!(b.last);
        let mut c = TcpConn::new(params(Mode::ScanOpen), &mut rng);
        let flags: Vec<u8> = (0..3).map(|t| c.step(t, &mut rng).flags).collect();
        assert_eq!(flags, vec![SYN, SYN | ACK, RST]);
    }
}
