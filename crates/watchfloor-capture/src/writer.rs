//! pcap and pcapng writers (little-endian), for the synthesiser and tests.
//!
//! Writers refuse what the readers would refuse (captured lengths above
//! 256 KiB, timestamps the format cannot hold) rather than produce files the
//! rest of the system cannot read back. They write straight to `W`; wrap
//! files in a `BufWriter`.

use std::io::{self, Write};

use crate::parse::MAX_CAPLEN;
use crate::pcapng::{BYTE_ORDER_MAGIC, EPB, IDB, SHB};
use crate::LinkType;

/// Timestamp resolution of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsResolution {
    #[default]
    Micro,
    Nano,
}

impl TsResolution {
    fn per_second(self) -> i64 {
        match self {
            TsResolution::Micro => 1_000_000,
            TsResolution::Nano => 1_000_000_000,
        }
    }

    fn ns_per_unit(self) -> i64 {
        1_000_000_000 / self.per_second()
    }
}

/// Anything packets can be written to; lets callers pick the format at run
/// time.
pub trait PacketWriter {
    /// Writes one packet. `interface` is the pcapng interface index (see
    /// [`PcapngWriter::add_interface`]); pcap has a single interface and
    /// ignores it.
    fn write_packet(
        &mut self,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
        interface: u32,
    ) -> io::Result<()>;
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn check_caplen(data: &[u8]) -> io::Result<u32> {
    match u32::try_from(data.len()) {
        Ok(n) if n <= MAX_CAPLEN => Ok(n),
        _ => Err(invalid(format!(
            "packet of {} bytes exceeds the {MAX_CAPLEN}-byte capture limit",
            data.len()
        ))),
    }
}

/// A classic pcap file writer.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    resolution: TsResolution,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(
        mut out: W,
        linktype: LinkType,
        snaplen: u32,
        resolution: TsResolution,
    ) -> io::Result<Self> {
        let magic: u32 = match resolution {
            TsResolution::Micro => 0xa1b2_c3d4,
            TsResolution::Nano => 0xa1b2_3c4d,
        };
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&magic.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // 8..16: thiszone and sigfigs, always zero in practice.
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&linktype.number().to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out, resolution })
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> PacketWriter for PcapWriter<W> {
    fn write_packet(
        &mut self,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
        _interface: u32,
    ) -> io::Result<()> {
        let caplen = check_caplen(data)?;
        let secs = u32::try_from(ts_ns.div_euclid(1_000_000_000)).map_err(|_| {
            invalid(format!(
                "timestamp {ts_ns} ns does not fit pcap's u32 seconds"
            ))
        })?;
        let frac = ts_ns.rem_euclid(1_000_000_000) / self.resolution.ns_per_unit();
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&(frac as u32).to_le_bytes());
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }
}

/// A pcapng writer: one section, any number of interfaces, EPBs.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    resolution: TsResolution,
    interfaces: u32,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block. Add interfaces before packets.
    pub fn new(mut out: W, resolution: TsResolution) -> io::Result<Self> {
        let mut b = Vec::with_capacity(28);
        b.extend_from_slice(&SHB.to_le_bytes());
        b.extend_from_slice(&28u32.to_le_bytes());
        b.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        // Section length unknown: we stream.
        b.extend_from_slice(&(-1i64).to_le_bytes());
        b.extend_from_slice(&28u32.to_le_bytes());
        out.write_all(&b)?;
        Ok(PcapngWriter {
            out,
            resolution,
            interfaces: 0,
        })
    }

    /// As [`PcapngWriter::new`], then one interface per entry.
    pub fn with_interfaces(
        out: W,
        resolution: TsResolution,
        interfaces: &[(LinkType, u32)],
    ) -> io::Result<Self> {
        let mut w = Self::new(out, resolution)?;
        for &(linktype, snaplen) in interfaces {
            w.add_interface(linktype, snaplen)?;
        }
        Ok(w)
    }

    /// Writes an Interface Description Block; returns the interface index to
    /// pass to `write_packet`.
    pub fn add_interface(&mut self, linktype: LinkType, snaplen: u32) -> io::Result<u32> {
        let number = linktype.number();
        let linktype16 = u16::try_from(number)
            .map_err(|_| invalid(format!("link type {number} does not fit pcapng's u16")))?;
        let mut opts = Vec::new();
        if self.resolution == TsResolution::Nano {
            // if_tsresol = 9 (10^-9 s), padded to 4 bytes.
            opts.extend_from_slice(&9u16.to_le_bytes());
            opts.extend_from_slice(&1u16.to_le_bytes());
            opts.extend_from_slice(&[9, 0, 0, 0]);
            opts.extend_from_slice(&[0; 4]);
        }
        let len = (20 + opts.len()) as u32;
        let mut b = Vec::with_capacity(len as usize);
        b.extend_from_slice(&IDB.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&linktype16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&snaplen.to_le_bytes());
        b.extend_from_slice(&opts);
        b.extend_from_slice(&len.to_le_bytes());
        self.out.write_all(&b)?;
        self.interfaces += 1;
        Ok(self.interfaces - 1)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> PacketWriter for PcapngWriter<W> {
    fn write_packet(
        &mut self,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
        interface: u32,
    ) -> io::Result<()> {
        if interface >= self.interfaces {
            return Err(invalid(format!(
                "interface {interface} not added ({} interfaces)",
                self.interfaces
            )));
        }
        let caplen = check_caplen(data)?;
        let units = u64::try_from(ts_ns)
            .map_err(|_| invalid(format!("negative timestamp {ts_ns} ns")))?
            / self.resolution.ns_per_unit() as u64;
        let padded = (caplen as usize).next_multiple_of(4);
        let len = 32 + padded as u32;
        let mut h = [0u8; 28];
        h[0..4].copy_from_slice(&EPB.to_le_bytes());
        h[4..8].copy_from_slice(&len.to_le_bytes());
        h[8..12].copy_from_slice(&interface.to_le_bytes());
        h[12..16].copy_from_slice(&((units >> 32) as u32).to_le_bytes());
        h[16..20].copy_from_slice(&(units as u32).to_le_bytes());
        h[20..24].copy_from_slice(&caplen.to_le_bytes());
        h[24..28].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..padded - caplen as usize])?;
        self.out.write_all(&len.to_le_bytes())
    }
}
