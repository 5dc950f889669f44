//! A tiny private capture writer (classic pcap and pcapng).
//!
//! Kept inside this crate on purpose so the synthesiser does not depend on the capture
//! crate's writer while that is being built; it can be swapped for it later.

use std::io::{self, BufWriter, Write};

/// Capture file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic little-endian pcap (magic a1b2c3d4), microsecond timestamps.
    Pcap,
    /// pcapng: one section, one interface with nanosecond timestamps (`if_tsresol` = 9).
    Pcapng,
}

pub(crate) struct CapWriter<W: Write> {
    out: BufWriter<W>,
    format: Format,
    snaplen: u32,
    written: u64,
}

const PAD: [u8; 4] = [0; 4];

impl<W: Write> CapWriter<W> {
    pub fn new(out: W, format: Format, linktype: u32, snaplen: u32) -> io::Result<Self> {
        let mut w = CapWriter {
            out: BufWriter::with_capacity(1 << 20, out),
            format,
            snaplen,
            written: 0,
        };
        match format {
            Format::Pcap => {
                let mut h = [0u8; 24];
                h[0..4].copy_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
                h[4..6].copy_from_slice(&2u16.to_le_bytes());
                h[6..8].copy_from_slice(&4u16.to_le_bytes());
                // thiszone and sigfigs stay zero.
                h[16..20].copy_from_slice(&snaplen.to_le_bytes());
                h[20..24].copy_from_slice(&linktype.to_le_bytes());
                w.put(&h)?;
            }
            Format::Pcapng => {
                w.section_header()?;
                w.interface_description(linktype)?;
            }
        }
        Ok(w)
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.written += b.len() as u64;
        self.out.write_all(b)
    }

    fn put_u32(&mut self, v: u32) -> io::Result<()> {
        self.put(&v.to_le_bytes())
    }

    fn section_header(&mut self) -> io::Result<()> {
        const APP: &[u8] = b"watchfloor-synth";
        // shb_userappl (code 4), padded, then opt_endofopt.
        let opts_len = 4 + APP.len().next_multiple_of(4) + 4;
        let total = (28 + opts_len) as u32;
        self.put_u32(0x0A0D_0D0A)?;
        self.put_u32(total)?;
        self.put_u32(0x1A2B_3C4D)?;
        self.put(&1u16.to_le_bytes())?;
        self.put(&0u16.to_le_bytes())?;
        // Section length unknown: we stream.
        self.put(&(-1i64).to_le_bytes())?;
        self.put(&4u16.to_le_bytes())?;
        self.put(&(APP.len() as u16).to_le_bytes())?;
        self.put(APP)?;
        self.put(&PAD[..APP.len().next_multiple_of(4) - APP.len()])?;
        self.put_u32(0)?;
        self.put_u32(total)
    }

    fn interface_description(&mut self, linktype: u32) -> io::Result<()> {
        // if_tsresol (code 9) = 9: nanoseconds; then opt_endofopt.
        let total: u32 = 20 + 8 + 4;
        self.put_u32(1)?;
        self.put_u32(total)?;
        self.put(&(linktype as u16).to_le_bytes())?;
        self.put(&0u16.to_le_bytes())?;
        self.put_u32(self.snaplen)?;
        self.put(&9u16.to_le_bytes())?;
        self.put(&1u16.to_le_bytes())?;
        self.put(&[9, 0, 0, 0])?;
        self.put_u32(0)?;
        self.put_u32(total)
    }

    /// Writes one frame; `ts_ns` must be non-negative (checked when the config is validated).
    pub fn packet(&mut self, ts_ns: i64, frame: &[u8]) -> io::Result<()> {
        let orig = frame.len() as u32;
        let cap = orig.min(self.snaplen);
        let data = &frame[..cap as usize];
        match self.format {
            Format::Pcap => {
                let secs = ts_ns.div_euclid(1_000_000_000) as u32;
                let usecs = (ts_ns.rem_euclid(1_000_000_000) / 1000) as u32;
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&secs.to_le_bytes());
                h[4..8].copy_from_slice(&usecs.to_le_bytes());
                h[8..12].copy_from_slice(&cap.to_le_bytes());
                h[12..16].copy_from_slice(&orig.to_le_bytes());
                self.put(&h)?;
                self.put(data)
            }
            Format::Pcapng => {
                let padded = (cap as usize).next_multiple_of(4);
                let total = (32 + padded) as u32;
                let ts = ts_ns as u64;
                let mut h = [0u8; 28];
                h[0..4].copy_from_slice(&6u32.to_le_bytes());
                h[4..8].copy_from_slice(&total.to_le_bytes());
                // Interface 0.
                h[12..16].copy_from_slice(&((ts >> 32) as u32).to_le_bytes());
                h[16..20].copy_from_slice(&(ts as u32).to_le_bytes());
                h[20..24].copy_from_slice(&cap.to_le_bytes());
                h[24..28].copy_from_slice(&orig.to_le_bytes());
                self.put(&h)?;
                self.put(data)?;
                self.put(&PAD[..padded - cap as usize])?;
                self.put_u32(total)
            }
        }
    }

    /// Bytes written so far, headers included.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn finish(mut self) -> io::Result<u64> {
        self.out.flush()?;
        Ok(self.written)
    }
}
