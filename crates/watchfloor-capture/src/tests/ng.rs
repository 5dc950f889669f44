use super::{frame, read_all_ways, NgFile};
use crate::{CaptureError, LinkType, PacketWriter, PcapngWriter, TsResolution};

const TS: i64 = 1_730_786_400_123_456_789;

#[test]
fn writer_round_trip_two_interfaces() {
    for (res, unit) in [(TsResolution::Micro, 1000), (TsResolution::Nano, 1)] {
        let mut w = PcapngWriter::with_interfaces(
            Vec::new(),
            res,
            &[(LinkType::Ethernet, 65535), (LinkType::Raw, 0)],
        )
        .unwrap();
        assert_eq!(w.add_interface(LinkType::LinuxSll, 1000).unwrap(), 2);
        w.write_packet(TS, &frame(61, 1), 61, 0).unwrap();
        w.write_packet(TS + 1_500, &frame(40, 2), 1400, 1).unwrap();
        w.write_packet(TS + 3_000, &frame(3, 3), 3, 2).unwrap();
        w.write_packet(TS + 4_000, &[], 0, 1).unwrap();
        assert!(w.write_packet(TS, &[1], 1, 3).is_err());
        assert!(w.write_packet(-5, &[1], 1, 0).is_err());
        let bytes = w.into_inner();
        let got = read_all_ways(&bytes).unwrap().unwrap_ok();
        assert_eq!(got.len(), 4);
        let kinds: Vec<_> = got.iter().map(|p| (p.interface, p.linktype)).collect();
        assert_eq!(
            kinds,
            [
                (0, LinkType::Ethernet),
                (1, LinkType::Raw),
                (2, LinkType::LinuxSll),
                (1, LinkType::Raw)
            ]
        );
        assert_eq!(got[0].ts_ns, TS / unit * unit, "{res:?}");
        assert_eq!(got[1].ts_ns, (TS + 1_500) / unit * unit, "{res:?}");
        assert_eq!(got[0].data, frame(61, 1));
        assert_eq!((got[1].data.len(), got[1].orig_len), (40, 1400));
        assert!(got[3].data.is_empty());
    }
}

#[test]
fn hand_built_big_and_little_endian() {
    for be in [false, true] {
        let mut f = NgFile::new(be);
        f.idb(1, 65535, &[]);
        let epb_at = f.buf.len() as u64;
        f.epb(0, 1_000_000, &frame(33, 5), 50);
        let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].ts_ns, 1_000_000_000);
        assert_eq!(got[0].data, frame(33, 5));
        assert_eq!(got[0].orig_len, 50);
        assert_eq!(got[0].offset, epb_at);
    }
}

#[test]
fn tsresol_powers_of_ten_and_two_and_tsoffset() {
    for be in [false, true] {
        let mut f = NgFile::new(be);
        let offset = f.opt_u64(100);
        f.idb(1, 0, &[(9, &[3])]); // milliseconds
        f.idb(101, 0, &[(9, &[0x80 | 10])]); // 1/1024 s
        f.idb(1, 0, &[(9, &[12])]); // picoseconds
        f.idb(1, 0, &[(14, &offset), (2, b"eth0")]); // µs + 100 s
        f.idb(1, 0, &[(9, &[0])]); // whole seconds
        f.epb(0, 1_500, &[1], 1);
        f.epb(1, 3 * 1024 + 512, &[1], 1);
        f.epb(2, 7_000_000_123_456, &[1], 1);
        f.epb(3, 2_000_000, &[1], 1);
        f.epb(4, 9, &[1], 1);
        let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
        let ts: Vec<i64> = got.iter().map(|p| p.ts_ns).collect();
        assert_eq!(
            ts,
            [
                1_500_000_000,
                3_500_000_000,
                7_000_000_123,
                102_000_000_000,
                9_000_000_000
            ]
        );
        assert_eq!(got[1].linktype, LinkType::Raw);
    }
}

#[test]
fn unknown_blocks_are_skipped() {
    let mut f = NgFile::new(false);
    f.idb(1, 65535, &[]);
    f.block(4, &[1, 0, 4, 0, 10, 0, 0, 1, 0, 0, 0, 0]); // NRB
    f.epb(0, 1, &frame(20, 0), 20);
    f.block(5, &[0; 12]); // ISB
    f.block(0x0A, &[0x4b, 0x53, 0x4c, 0x4b, 3, 0, 0, 0, 1, 2, 3]); // DSB
    f.block(0x0000_0BAD, &[0, 0, 0x7e, 0x7e, 9, 9]); // custom
    f.block(0x4000_0BAD, &[]);
    f.block(0x1234_5678, &[0; 100]);
    f.epb(0, 2, &frame(21, 0), 21);
    let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].data, frame(21, 0));
}

#[test]
fn simple_packet_blocks_use_interface_zero_snaplen() {
    for be in [false, true] {
        let mut f = NgFile::new(be);
        f.idb(1, 64, &[]);
        f.idb(101, 0, &[]);
        f.epb(1, 5_000_000, &frame(10, 0), 10);
        // Writer stored min(orig_len, snaplen) = 64 bytes of a 100-byte frame.
        f.spb(100, &frame(64, 1));
        // A short frame: orig_len bounds the data, not the padding.
        f.spb(5, &frame(5, 2));
        let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].data, frame(64, 1));
        assert_eq!(got[1].orig_len, 100);
        assert_eq!((got[1].interface, got[1].linktype), (0, LinkType::Ethernet));
        assert_eq!(got[2].data, frame(5, 2));
        // No timestamp in an SPB: the previous packet's carries over.
        assert_eq!(got[1].ts_ns, 5_000_000_000);
    }
}

#[test]
fn obsolete_packet_block() {
    for be in [false, true] {
        let mut f = NgFile::new(be);
        f.idb(1, 0, &[]);
        f.idb(113, 0, &[(9, &[9])]);
        f.pb(1, 42, &frame(30, 0), 31);
        let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
        assert_eq!(got[0].ts_ns, 42);
        assert_eq!((got[0].interface, got[0].linktype), (1, LinkType::LinuxSll));
        assert_eq!((got[0].data.len(), got[0].orig_len), (30, 31));
    }
}

#[test]
fn sections_reset_interfaces_and_byte_order() {
    let mut f = NgFile::new(false);
    f.idb(1, 0, &[]);
    f.idb(101, 0, &[]);
    f.epb(1, 1, &[1], 1);
    f.shb(true);
    f.idb(113, 0, &[(9, &[9])]);
    f.epb(0, 7, &[2, 2], 2);
    let second_at = f.buf.len() as u64;
    // Interface 1 belonged to the first section only.
    f.epb(1, 8, &[3], 1);
    let out = read_all_ways(&f.buf).unwrap();
    assert_eq!(out.packets.len(), 2);
    assert_eq!(out.packets[0].linktype, LinkType::Raw);
    assert_eq!(
        (out.packets[1].linktype, out.packets[1].ts_ns),
        (LinkType::LinuxSll, 7)
    );
    assert!(
        matches!(out.err(), CaptureError::Corrupt { offset, .. } if *offset == second_at),
        "{}",
        out.err()
    );
}

#[test]
fn epb_with_unknown_interface() {
    let mut f = NgFile::new(true);
    f.idb(1, 0, &[]);
    f.epb(0, 1, &[1], 1);
    let bad_at = f.buf.len() as u64;
    f.epb(4, 1, &[1], 1);
    f.epb(0, 1, &[1], 1);
    let out = read_all_ways(&f.buf).unwrap();
    assert_eq!(out.packets.len(), 1);
    let msg = out.err().to_string();
    assert!(
        msg.contains(&format!("offset {bad_at}")) && msg.contains("interface id 4"),
        "{msg}"
    );
}

#[test]
fn spb_without_interface_is_corrupt() {
    let mut f = NgFile::new(false);
    f.spb(4, &[1, 2, 3, 4]);
    let out = read_all_ways(&f.buf).unwrap();
    assert!(matches!(
        out.err(),
        CaptureError::Corrupt { offset: 28, .. }
    ));
}

/// Builds SHB + IDB + EPB, then a block whose length fields are `lead` and
/// `trail`, and returns (bytes, offset of the bad block).
fn with_bad_block(lead: u32, trail: u32, body: usize) -> (Vec<u8>, u64) {
    let mut f = NgFile::new(false);
    f.idb(1, 0, &[]);
    f.epb(0, 1, &[1; 8], 8);
    let at = f.buf.len() as u64;
    f.buf.extend_from_slice(&6u32.to_le_bytes());
    f.buf.extend_from_slice(&lead.to_le_bytes());
    f.buf.extend_from_slice(&vec![0; body]);
    f.buf.extend_from_slice(&trail.to_le_bytes());
    (f.buf, at)
}

#[test]
fn block_length_lies() {
    let cases = [
        (8, 8, 0, "below the minimum"),
        (34, 34, 22, "multiple of 4"),
        (36, 40, 24, "does not match"),
        (0x7fff_fff0, 0x7fff_fff0, 20, "exceeds"),
    ];
    for (lead, trail, body, reason) in cases {
        let (bytes, at) = with_bad_block(lead, trail, body);
        let out = read_all_ways(&bytes).unwrap();
        assert_eq!(out.packets.len(), 1, "{reason}");
        let msg = out.err().to_string();
        assert!(msg.contains(reason), "{msg}");
        assert_eq!(out.err().offset(), Some(at), "{msg}");
    }
}

#[test]
fn block_longer_than_file_is_truncated() {
    let (bytes, at) = with_bad_block(400, 400, 20);
    let out = read_all_ways(&bytes).unwrap();
    assert_eq!(out.packets.len(), 1);
    assert!(
        matches!(out.err(), CaptureError::Truncated { what: "block", offset, needed: 400, available: 32 } if *offset == at),
        "{}",
        out.err()
    );
}

#[test]
fn epb_caplen_overrunning_block() {
    let mut f = NgFile::new(false);
    f.idb(1, 0, &[]);
    let at = f.buf.len() as u64;
    let mut body = Vec::new();
    for v in [0u32, 0, 0, 200, 200] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&[0; 8]);
    f.block(6, &body);
    let out = read_all_ways(&f.buf).unwrap();
    assert!(out.packets.is_empty());
    assert!(out.err().to_string().contains("overruns"), "{}", out.err());
    assert_eq!(out.err().offset(), Some(at));
}

#[test]
fn bad_section_headers() {
    let mut f = NgFile::new(false);
    f.buf[8..12].copy_from_slice(&[1, 2, 3, 4]);
    assert!(matches!(
        read_all_ways(&f.buf),
        Err(CaptureError::Corrupt { offset: 0, .. })
    ));
    let mut f = NgFile::new(true);
    f.buf[12..14].copy_from_slice(&2u16.to_be_bytes());
    let err = read_all_ways(&f.buf).unwrap_err();
    assert!(err.to_string().contains("version 2"), "{err}");
    let f = NgFile::new(false);
    for cut in [5, 11, 20] {
        assert!(matches!(
            read_all_ways(&f.buf[..cut]),
            Err(CaptureError::Truncated { offset: 0, .. })
        ));
    }
    // A truncated second SHB is reported at its own offset.
    let mut f = NgFile::new(false);
    f.idb(1, 0, &[]);
    let at = f.buf.len() as u64;
    f.shb(true);
    f.buf.truncate(f.buf.len() - 3);
    let out = read_all_ways(&f.buf).unwrap();
    assert_eq!(out.err().offset(), Some(at));
}

#[test]
fn idb_option_overrun_is_corrupt() {
    let mut f = NgFile::new(false);
    let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&[9, 0, 200, 0, 6, 0, 0, 0]);
    f.block(1, &body);
    let out = read_all_ways(&f.buf).unwrap();
    assert!(out.err().to_string().contains("overruns"), "{}", out.err());
}

#[test]
fn truncated_trailing_block_header() {
    let mut f = NgFile::new(false);
    f.idb(1, 0, &[]);
    f.epb(0, 1, &[1], 1);
    let at = f.buf.len() as u64;
    f.buf.extend_from_slice(&[6, 0, 0]);
    let out = read_all_ways(&f.buf).unwrap();
    assert_eq!(out.packets.len(), 1);
    assert!(
        matches!(out.err(), CaptureError::Truncated { what: "block header", offset, .. } if *offset == at)
    );
}
