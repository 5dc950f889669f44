//! A small builder of Ethernet/IPv4/TCP/UDP frames with correct checksums,
//! written independently of the decoder it feeds.

#[derive(Debug, Clone, Copy)]
pub enum L4Spec {
    Udp {
        sp: u16,
        dp: u16,
    },
    Tcp {
        sp: u16,
        dp: u16,
        flags: u8,
        seq: u32,
        ack: u32,
    },
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub ts_ns: i64,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub ttl: u8,
    pub l4: L4Spec,
    pub payload: Vec<u8>,
}

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        acc += u32::from(w);
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

impl Frame {
    pub fn new(src: [u8; 4], dst: [u8; 4], l4: L4Spec, payload: &[u8]) -> Frame {
        Frame {
            ts_ns: super::T0,
            src,
            dst,
            ttl: 64,
            l4,
            payload: payload.to_vec(),
        }
    }

    pub fn ports(&self) -> (u16, u16) {
        match self.l4 {
            L4Spec::Udp { sp, dp } | L4Spec::Tcp { sp, dp, .. } => (sp, dp),
        }
    }

    pub fn proto(&self) -> u8 {
        match self.l4 {
            L4Spec::Udp { .. } => 17,
            L4Spec::Tcp { .. } => 6,
        }
    }

    /// The layer-4 segment (header and payload) with its checksum.
    fn segment(&self) -> Vec<u8> {
        let mut s = Vec::new();
        let (sp, dp) = self.ports();
        s.extend_from_slice(&sp.to_be_bytes());
        s.extend_from_slice(&dp.to_be_bytes());
        let ck_at = match self.l4 {
            L4Spec::Udp { .. } => {
                let len = (8 + self.payload.len()) as u16;
                s.extend_from_slice(&len.to_be_bytes());
                s.extend_from_slice(&[0, 0]);
                6
            }
            L4Spec::Tcp {
                flags, seq, ack, ..
            } => {
                s.extend_from_slice(&seq.to_be_bytes());
                s.extend_from_slice(&ack.to_be_bytes());
                s.push(5 << 4);
                s.push(flags);
                s.extend_from_slice(&64240u16.to_be_bytes());
                s.extend_from_slice(&[0, 0, 0, 0]);
                16
            }
        };
        s.extend_from_slice(&self.payload);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&self.src);
        pseudo.extend_from_slice(&self.dst);
        pseudo.push(0);
        pseudo.push(self.proto());
        pseudo.extend_from_slice(&(s.len() as u16).to_be_bytes());
        let mut ck = fold(sum16(&s, sum16(&pseudo, 0)));
        if ck == 0 && self.proto() == 17 {
            ck = 0xffff;
        }
        s[ck_at..ck_at + 2].copy_from_slice(&ck.to_be_bytes());
        s
    }

    /// Ethernet II + IPv4 (no options) + the segment.
    pub fn bytes(&self) -> Vec<u8> {
        let seg = self.segment();
        let mut f = Vec::with_capacity(14 + 20 + seg.len());
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2]);
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&0x0800u16.to_be_bytes());
        let mut ip = Vec::with_capacity(20);
        ip.push(0x45);
        ip.push(0);
        ip.extend_from_slice(&((20 + seg.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&0x1234u16.to_be_bytes());
        ip.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
        ip.push(self.ttl);
        ip.push(self.proto());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(&self.src);
        ip.extend_from_slice(&self.dst);
        let ck = fold(sum16(&ip, 0));
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&seg);
        f
    }
}
