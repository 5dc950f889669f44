use std::io::{Cursor, Read, Write};

use super::{chunked, drain, frame, read_all_ways, NgFile, PcapFile};
use crate::{open, CaptureError, LinkType, PacketSource, PacketWriter, PcapWriter};
use crate::{PcapngWriter, StreamSource, TsResolution};

#[test]
fn records_larger_than_the_buffer_grow_it() {
    let mut f = PcapFile::new(false, 0xa1b2_c3d4, 1, 65535);
    f.record(1, 0, &frame(10, 0), 10);
    f.record(2, 0, &frame(200_000, 1), 200_000);
    f.record(3, 0, &frame(10, 2), 10);
    let mut src = StreamSource::with_capacity(chunked(&f.buf, &[4096, 1]), 64).unwrap();
    let out = drain(&mut src);
    assert_eq!(out.packets.len(), 3);
    assert_eq!(out.packets[1].data, frame(200_000, 1));
    assert_eq!(out.packets[2].offset, 24 + 26 + 200_016);
    assert!(out.error.is_none());
}

#[test]
fn many_packets_through_a_small_buffer() {
    let mut w = PcapngWriter::with_interfaces(
        Vec::new(),
        TsResolution::Nano,
        &[(LinkType::Ethernet, 0), (LinkType::Raw, 0)],
    )
    .unwrap();
    for i in 0..2000u32 {
        let len = (i as usize * 37) % 1600;
        w.write_packet(i64::from(i) * 1000, &frame(len, i as u8), len as u32, i % 2)
            .unwrap();
    }
    let bytes = w.into_inner();
    let got = read_all_ways(&bytes).unwrap().unwrap_ok();
    assert_eq!(got.len(), 2000);
    let mut src = StreamSource::with_capacity(chunked(&bytes, &[777]), 1000).unwrap();
    assert_eq!(drain(&mut src).packets, got);
}

/// Fails after handing out `good` bytes.
struct Failing {
    data: Cursor<Vec<u8>>,
    good: u64,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.data.position() >= self.good {
            return Err(std::io::Error::other("cable unplugged"));
        }
        let room = (self.good - self.data.position()) as usize;
        let n = buf.len().min(room);
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn read_errors_carry_the_offset() {
    let mut f = PcapFile::new(false, 0xa1b2_c3d4, 1, 65535);
    f.record(1, 0, &frame(50, 0), 50);
    f.record(2, 0, &frame(50, 0), 50);
    let mut src = StreamSource::new(Failing {
        data: Cursor::new(f.buf.clone()),
        good: 24 + 66 + 20,
    })
    .unwrap();
    let out = drain(&mut src);
    assert_eq!(out.packets.len(), 1);
    assert!(
        matches!(out.err(), CaptureError::Io { offset: 110, .. }),
        "{}",
        out.err()
    );
}

#[test]
fn interrupted_reads_are_retried() {
    struct Interrupting(Cursor<Vec<u8>>, bool);
    impl Read for Interrupting {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = !self.1;
            if self.1 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(10);
            self.0.read(&mut buf[..n])
        }
    }
    let mut f = PcapFile::new(true, 0xa1b2_c3d4, 1, 65535);
    f.record(1, 0, &frame(50, 0), 50);
    let mut src = StreamSource::new(Interrupting(Cursor::new(f.buf), false)).unwrap();
    assert_eq!(drain(&mut src).unwrap_ok().len(), 1);
}

#[test]
fn mmap_source_releases_pages_and_reads_everything() {
    // Larger than the release chunk so the page-dropping path runs.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut w = PcapWriter::new(
        std::io::BufWriter::new(file.as_file_mut()),
        LinkType::Ethernet,
        65535,
        TsResolution::Micro,
    )
    .unwrap();
    let n = 30_000u32;
    for i in 0..n {
        w.write_packet(i64::from(i) * 1000, &frame(1400, i as u8), 1400, 0)
            .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let mut src = open(file.path()).unwrap();
    let total = src.total_len().unwrap();
    assert_eq!(total, 24 + u64::from(n) * 1416);
    let mut count = 0u32;
    while let Some(p) = src.next_packet().unwrap() {
        assert_eq!(p.data, &frame(1400, count as u8)[..]);
        count += 1;
    }
    assert_eq!(count, n);
    assert_eq!(src.position(), total);
}

#[test]
fn open_reports_missing_and_empty_files() {
    let err = open(std::path::Path::new("/nonexistent/capture.pcap"))
        .err()
        .unwrap();
    assert!(matches!(err, CaptureError::Open { .. }));
    assert_eq!(err.offset(), None);
    let empty = tempfile::NamedTempFile::new().unwrap();
    assert!(matches!(open(empty.path()), Err(CaptureError::Empty)));
}

#[cfg(unix)]
#[test]
fn open_streams_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("cap.fifo");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(status, Ok(s) if s.success()) {
        return; // no mkfifo on this system
    }
    let mut f = NgFile::new(false);
    f.idb(1, 0, &[]);
    f.epb(0, 3, &frame(99, 1), 99);
    let bytes = f.buf.clone();
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut out = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        out.write_all(&bytes).unwrap();
    });
    let mut src = open(&fifo).unwrap();
    assert_eq!(src.total_len(), None);
    let out = drain(&mut src);
    writer.join().unwrap();
    assert_eq!(out.unwrap_ok()[0].data, frame(99, 1));
}

/// Small deterministic generator, so mutation tests need no extra crates.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Every source must agree on every input, including broken ones: mutate
/// valid captures at random and compare (read_all_ways asserts agreement).
#[test]
fn mutated_inputs_read_identically_everywhere() {
    let mut seeds = Vec::new();
    let mut p = PcapFile::new(false, 0xa1b2_c3d4, 1, 65535);
    let mut q = PcapFile::new(true, 0xa1b2_cd34, 1, 65535);
    for i in 0..6 {
        p.record(i, i, &frame(20 + i as usize * 9, 0), 90);
        q.u32(i)
            .u32(0)
            .u32(8)
            .u32(8)
            .u32(0)
            .u32(0)
            .buf
            .extend_from_slice(&[9; 8]);
    }
    seeds.push(p.buf);
    seeds.push(q.buf);
    let mut g = NgFile::new(false);
    g.idb(1, 40, &[(9, &[0x85])]).epb(0, 77, &frame(30, 1), 30);
    g.spb(60, &frame(40, 2)).block(5, &[1; 12]).shb(true);
    g.idb(101, 0, &[])
        .pb(0, 1, &frame(17, 3), 17)
        .epb(0, 2, &[], 0);
    seeds.push(g.buf);

    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..400 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(4) {
            match rng.below(4) {
                0 => {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
                1 => bytes.truncate(rng.below(bytes.len() + 1)),
                2 => {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
                _ => {
                    let i = rng.below(bytes.len() + 1);
                    let len = rng.below(16);
                    let at = rng.below(bytes.len() + 1);
                    let chunk: Vec<u8> = bytes[i.min(bytes.len())..]
                        .iter()
                        .take(len)
                        .copied()
                        .collect();
                    bytes.splice(at..at, chunk);
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        let _ = read_all_ways(&bytes);
    }
}
