use super::{frame, read_all_ways, PcapFile};
use crate::{from_slice, CaptureError, LinkType, PacketSource, PacketWriter, PcapWriter};
use crate::{MemSource, TsResolution};

const US: u32 = 0xa1b2_c3d4;
const NS: u32 = 0xa1b2_3c4d;
const MODIFIED: u32 = 0xa1b2_cd34;

fn written(res: TsResolution, linktype: LinkType, packets: &[(i64, Vec<u8>, u32)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), linktype, 65535, res).unwrap();
    for (ts, data, orig) in packets {
        w.write_packet(*ts, data, *orig, 0).unwrap();
    }
    w.into_inner()
}

#[test]
fn writer_round_trip_micro_and_nano() {
    let packets = vec![
        (1_730_786_400_123_456_789, frame(60, 1), 60),
        (1_730_786_401_000_000_001, frame(1514, 2), 1514),
        (0, frame(0, 3), 0),
        (1_730_786_402_999_999_999, frame(100, 4), 9000),
    ];
    for (res, unit) in [(TsResolution::Micro, 1000), (TsResolution::Nano, 1)] {
        let bytes = written(res, LinkType::Ethernet, &packets);
        let got = read_all_ways(&bytes).unwrap().unwrap_ok();
        assert_eq!(got.len(), packets.len());
        let mut offset = 24;
        for (p, (ts, data, orig)) in got.iter().zip(&packets) {
            assert_eq!(p.ts_ns, ts / unit * unit, "{res:?}");
            assert_eq!(&p.data, data);
            assert_eq!(p.orig_len, *orig);
            assert_eq!(p.linktype, LinkType::Ethernet);
            assert_eq!(p.interface, 0);
            assert_eq!(p.offset, offset);
            offset += 16 + data.len() as u64;
        }
    }
}

#[test]
fn writer_keeps_link_type() {
    let bytes = written(TsResolution::Micro, LinkType::Raw, &[(5, frame(20, 0), 20)]);
    let got = read_all_ways(&bytes).unwrap().unwrap_ok();
    assert_eq!(got[0].linktype, LinkType::Raw);
    let bytes = written(
        TsResolution::Micro,
        LinkType::Other(147),
        &[(5, frame(20, 0), 20)],
    );
    assert_eq!(
        read_all_ways(&bytes).unwrap().unwrap_ok()[0].linktype,
        LinkType::Other(147)
    );
}

#[test]
fn writer_rejects_unrepresentable() {
    let mut w =
        PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535, TsResolution::Micro).unwrap();
    assert!(w.write_packet(-1, &[1], 1, 0).is_err());
    assert!(w.write_packet(1 << 62, &[1], 1, 0).is_err());
    assert!(w.write_packet(0, &vec![0; 300_000], 300_000, 0).is_err());
    assert_eq!(
        w.into_inner().len(),
        24,
        "nothing written for rejected packets"
    );
}

#[test]
fn hand_built_both_byte_orders_and_resolutions() {
    for be in [false, true] {
        for (magic, unit) in [(US, 1000), (NS, 1)] {
            let mut f = PcapFile::new(be, magic, 1, 262_144);
            f.record(1_700_000_000, 250, &frame(42, 9), 42);
            f.record(4_000_000_000, 999_999, &frame(7, 8), 70);
            let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].ts_ns, 1_700_000_000 * 1_000_000_000 + 250 * unit);
            assert_eq!(got[1].ts_ns, 4_000_000_000 * 1_000_000_000 + 999_999 * unit);
            assert_eq!(got[0].data, frame(42, 9));
            assert_eq!((got[1].data.len(), got[1].orig_len), (7, 70));
        }
    }
}

#[test]
fn modified_kuznetzov_records() {
    for be in [false, true] {
        let mut f = PcapFile::new(be, MODIFIED, 1, 65535);
        for i in 0..3u32 {
            f.u32(10 + i).u32(5).u32(30).u32(30);
            f.u32(2).u16(0x0800).buf.extend_from_slice(&[0, 0]);
            f.buf.extend_from_slice(&frame(30, i as u8));
        }
        let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].data, frame(30, 2));
        assert_eq!(got[2].ts_ns, 12_000_005_000);
        assert_eq!(got[1].offset, 24 + 54);
    }
}

#[test]
fn link_type_flag_bits_ignored() {
    // FCS-length bits in the upper half must not change the link type.
    let mut f = PcapFile::new(false, US, 0x2000_0001, 65535);
    f.record(1, 0, &frame(14, 0), 14);
    assert_eq!(
        read_all_ways(&f.buf).unwrap().unwrap_ok()[0].linktype,
        LinkType::Ethernet
    );
}

#[test]
fn caplen_above_snaplen_is_accepted_up_to_limit() {
    let mut f = PcapFile::new(false, US, 1, 64);
    f.record(1, 0, &frame(1500, 0), 1500);
    f.record(2, 0, &vec![7; 262_144], 262_144);
    let got = read_all_ways(&f.buf).unwrap().unwrap_ok();
    assert_eq!(got[0].data.len(), 1500);
    assert_eq!(got[1].data.len(), 262_144);
}

#[test]
fn absurd_caplen_is_corrupt_after_earlier_packets() {
    for be in [false, true] {
        let mut f = PcapFile::new(be, US, 1, 65535);
        f.record(1, 0, &frame(60, 0), 60);
        let bad_at = f.buf.len() as u64;
        f.u32(2).u32(0).u32(0x7fff_ffff).u32(60);
        f.buf.extend_from_slice(&frame(60, 1));
        let out = read_all_ways(&f.buf).unwrap();
        assert_eq!(out.packets.len(), 1);
        assert!(
            matches!(out.err(), CaptureError::Corrupt { offset, .. } if *offset == bad_at),
            "{}",
            out.err()
        );
        assert_eq!(out.position, bad_at);
    }
}

#[test]
fn truncated_record_header() {
    let mut f = PcapFile::new(false, US, 1, 65535);
    f.record(1, 0, &frame(60, 0), 60);
    f.record(2, 0, &frame(61, 0), 61);
    f.buf.extend_from_slice(&[1, 2, 3, 4, 5]);
    let out = read_all_ways(&f.buf).unwrap();
    assert_eq!(out.packets.len(), 2);
    match out.err() {
        CaptureError::Truncated {
            what,
            offset,
            needed,
            available,
        } => {
            assert_eq!(*what, "record header");
            assert_eq!(*offset, 24 + 76 + 77);
            assert_eq!((*needed, *available), (16, 5));
        }
        e => panic!("wrong error {e}"),
    }
}

#[test]
fn truncated_packet_data() {
    let mut f = PcapFile::new(true, NS, 1, 65535);
    f.record(1, 0, &frame(60, 0), 60);
    f.record(2, 0, &frame(100, 0), 100);
    let full = f.buf.len();
    let out = read_all_ways(&f.buf[..full - 10]).unwrap();
    assert_eq!(out.packets.len(), 1);
    assert_eq!(out.packets[0].data, frame(60, 0));
    match out.err() {
        CaptureError::Truncated {
            what,
            offset,
            needed,
            available,
        } => {
            assert_eq!(*what, "packet data");
            assert_eq!(*offset, 24 + 76);
            assert_eq!((*needed, *available), (116, 106));
        }
        e => panic!("wrong error {e}"),
    }
    assert_eq!(out.err().offset(), Some(100));
}

#[test]
fn header_only_file_has_no_packets() {
    let f = PcapFile::new(false, US, 1, 65535);
    let out = read_all_ways(&f.buf).unwrap();
    assert!(out.unwrap_ok().is_empty());
}

#[test]
fn empty_short_and_garbage_inputs() {
    assert!(matches!(read_all_ways(&[]), Err(CaptureError::Empty)));
    for n in 1..4 {
        assert!(matches!(
            read_all_ways(&[0xd4, 0xc3, 0xb2][..n]),
            Err(CaptureError::Truncated { offset: 0, .. })
        ));
    }
    let f = PcapFile::new(false, US, 1, 65535);
    assert!(matches!(
        read_all_ways(&f.buf[..20]),
        Err(CaptureError::Truncated {
            what: "pcap file header",
            needed: 24,
            available: 20,
            ..
        })
    ));
    let garbage = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    match read_all_ways(garbage) {
        Err(CaptureError::UnknownFormat { magic }) => assert_eq!(magic, 0x4745_5420),
        other => panic!("wrong result {:?}", other.map(|o| o.packets.len())),
    }
}

#[test]
fn positions_and_total_len() {
    let mut f = PcapFile::new(false, US, 1, 65535);
    f.record(1, 0, &frame(10, 0), 10);
    let mut src: MemSource<&[u8]> = from_slice(&f.buf).unwrap();
    assert_eq!(src.position(), 24);
    assert_eq!(src.total_len(), Some(50));
    assert!(src.next_packet().unwrap().is_some());
    assert_eq!(src.position(), 50);
    assert!(src.next_packet().unwrap().is_none());
}
