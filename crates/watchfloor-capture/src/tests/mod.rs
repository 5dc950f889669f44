//! Shared test helpers: hand-built captures in either byte order, and a
//! harness that reads one input through every source and checks they agree.

mod ng;
mod pcap;
mod stream;

use std::io::{Cursor, Read, Write};

use crate::{from_bytes, from_reader, from_slice, open, PacketSource, StreamSource};
use crate::{CaptureError, LinkType};

/// An owned copy of a RawPacket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pkt {
    pub ts_ns: i64,
    pub linktype: LinkType,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub offset: u64,
    pub interface: u32,
}

/// Packets read, then the error that stopped reading (if any).
#[derive(Debug)]
pub(crate) struct Outcome {
    pub packets: Vec<Pkt>,
    pub error: Option<CaptureError>,
    pub position: u64,
}

impl Outcome {
    pub fn unwrap_ok(self) -> Vec<Pkt> {
        if let Some(e) = self.error {
            panic!("unexpected error after {} packets: {e}", self.packets.len());
        }
        self.packets
    }

    pub fn err(&self) -> &CaptureError {
        self.error.as_ref().expect("expected an error")
    }
}

pub(crate) fn drain(src: &mut dyn PacketSource) -> Outcome {
    let mut packets = Vec::new();
    let error = loop {
        match src.next_packet() {
            Ok(Some(p)) => packets.push(Pkt {
                ts_ns: p.ts_ns,
                linktype: p.linktype,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
                offset: p.offset,
                interface: p.interface,
            }),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    // Sources stay finished after the end or an error.
    assert!(matches!(src.next_packet(), Ok(None)));
    Outcome {
        packets,
        error,
        position: src.position(),
    }
}

/// Hands out the input a few bytes at a time, as a slow pipe would.
pub(crate) struct Chunked<R> {
    pub inner: R,
    pub sizes: Vec<usize>,
    pub i: usize,
}

impl<R: Read> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.sizes[self.i % self.sizes.len()].min(buf.len());
        self.i += 1;
        self.inner.read(&mut buf[..n])
    }
}

pub(crate) fn chunked(bytes: &[u8], sizes: &[usize]) -> Chunked<Cursor<Vec<u8>>> {
    Chunked {
        inner: Cursor::new(bytes.to_vec()),
        sizes: sizes.to_vec(),
        i: 0,
    }
}

fn describe(r: &Result<Outcome, CaptureError>) -> String {
    match r {
        Ok(o) => format!(
            "{} packets, error {:?}, position {}",
            o.packets.len(),
            o.error.as_ref().map(|e| e.to_string()),
            o.position
        ),
        Err(e) => format!("open error {e}"),
    }
}

fn open_and_drain<S: PacketSource>(r: Result<S, CaptureError>) -> Result<Outcome, CaptureError> {
    r.map(|mut s| drain(&mut s))
}

/// Reads `bytes` through the slice, owned, mmap, streaming and chunked
/// streaming sources; asserts identical results and returns them.
pub(crate) fn read_all_ways(bytes: &[u8]) -> Result<Outcome, CaptureError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    let results = [
        ("slice", open_and_drain(from_slice(bytes))),
        ("bytes", open_and_drain(from_bytes(bytes.to_vec()))),
        ("mmap", open_and_drain(open(file.path()))),
        (
            "reader",
            open_and_drain(from_reader(Cursor::new(bytes.to_vec()))),
        ),
        (
            "tiny chunks",
            open_and_drain(StreamSource::with_capacity(
                chunked(bytes, &[1, 3, 2, 7, 5]),
                64,
            )),
        ),
        (
            "odd chunks",
            open_and_drain(StreamSource::with_capacity(
                chunked(bytes, &[13, 1, 100]),
                100,
            )),
        ),
    ];
    let mut results = results.into_iter();
    let (_, first) = results.next().unwrap();
    for (name, other) in results {
        let same = match (&first, &other) {
            (Ok(a), Ok(b)) => {
                a.packets == b.packets
                    && a.position == b.position
                    && a.error.as_ref().map(|e| e.to_string())
                        == b.error.as_ref().map(|e| e.to_string())
            }
            (Err(a), Err(b)) => a.to_string() == b.to_string(),
            _ => false,
        };
        assert!(
            same,
            "{name} source disagrees: slice gave {}, {name} gave {}",
            describe(&first),
            describe(&other)
        );
    }
    first
}

/// Hand-built pcap in either byte order.
pub(crate) struct PcapFile {
    pub be: bool,
    pub buf: Vec<u8>,
}

impl PcapFile {
    pub fn new(be: bool, magic: u32, linktype: u32, snaplen: u32) -> PcapFile {
        let mut f = PcapFile {
            be,
            buf: Vec::new(),
        };
        f.u32(magic);
        f.u16(2);
        f.u16(4);
        f.u32(0);
        f.u32(0);
        f.u32(snaplen);
        f.u32(linktype);
        f
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        let b = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
        self
    }

    pub fn u16(&mut self, v: u16) -> &mut Self {
        let b = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
        self
    }

    pub fn record(&mut self, sec: u32, frac: u32, data: &[u8], orig_len: u32) -> &mut Self {
        self.u32(sec).u32(frac).u32(data.len() as u32).u32(orig_len);
        self.buf.extend_from_slice(data);
        self
    }
}

/// Hand-built pcapng; the byte order can change at each section.
pub(crate) struct NgFile {
    pub be: bool,
    pub buf: Vec<u8>,
}

impl NgFile {
    pub fn new(be: bool) -> NgFile {
        let mut f = NgFile {
            be,
            buf: Vec::new(),
        };
        f.shb(be);
        f
    }

    fn n32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn n16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// A block with correct lengths; the body is padded to 4 bytes.
    pub fn block(&mut self, btype: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().next_multiple_of(4);
        let len = (12 + padded) as u32;
        let (t, l) = (self.n32(btype), self.n32(len));
        self.buf.extend_from_slice(&t);
        self.buf.extend_from_slice(&l);
        self.buf.extend_from_slice(body);
        self.buf.resize(self.buf.len() + padded - body.len(), 0);
        self.buf.extend_from_slice(&l);
        self
    }

    pub fn shb(&mut self, be: bool) -> &mut Self {
        self.be = be;
        let mut body = Vec::new();
        body.extend_from_slice(&self.n32(0x1A2B_3C4D));
        body.extend_from_slice(&self.n16(1));
        body.extend_from_slice(&self.n16(0));
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0A0D_0D0A, &body)
    }

    /// An IDB with options given as (code, value).
    pub fn idb(&mut self, linktype: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.n16(linktype));
        body.extend_from_slice(&self.n16(0));
        body.extend_from_slice(&self.n32(snaplen));
        for (code, value) in opts {
            body.extend_from_slice(&self.n16(*code));
            body.extend_from_slice(&self.n16(value.len() as u16));
            body.extend_from_slice(value);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        if !opts.is_empty() {
            body.extend_from_slice(&[0; 4]);
        }
        self.block(1, &body)
    }

    pub fn epb(&mut self, iface: u32, units: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.n32(iface));
        body.extend_from_slice(&self.n32((units >> 32) as u32));
        body.extend_from_slice(&self.n32(units as u32));
        body.extend_from_slice(&self.n32(data.len() as u32));
        body.extend_from_slice(&self.n32(orig_len));
        body.extend_from_slice(data);
        self.block(6, &body)
    }

    pub fn pb(&mut self, iface: u16, units: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.n16(iface));
        body.extend_from_slice(&self.n16(0));
        body.extend_from_slice(&self.n32((units >> 32) as u32));
        body.extend_from_slice(&self.n32(units as u32));
        body.extend_from_slice(&self.n32(data.len() as u32));
        body.extend_from_slice(&self.n32(orig_len));
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    pub fn spb(&mut self, orig_len: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.n32(orig_len));
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    pub fn opt_u64(&self, v: u64) -> [u8; 8] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
}

pub(crate) fn frame(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}
