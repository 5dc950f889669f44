//! Damaged and hostile input: the sensor must say clearly what is wrong, keep
//! what came before the damage, exit non-zero, and never panic. Packets that lie
//! about their lengths are not damage to the capture: they raise Suricata's
//! decoder events (as `anomaly` records when configured) and the run exits 0.

mod support;

use serde_json::Value;
use std::path::Path;
use support::*;
use watchfloor_capture::{LinkType, PacketWriter, PcapWriter, TsResolution};
use watchfloor_synth::{SynthConfig, Target};

const PCAP_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;

/// Start offsets of the records of a little-endian microsecond pcap.
fn record_offsets(pcap: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = PCAP_HEADER;
    while at + RECORD_HEADER <= pcap.len() {
        offsets.push(at);
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        at += RECORD_HEADER + caplen;
    }
    assert_eq!(at, pcap.len(), "the synthesised pcap should parse exactly");
    offsets
}

fn small_capture(path: &Path) -> Vec<u8> {
    let cfg = SynthConfig {
        seed: 5,
        target: Target::Bytes(2 << 20),
        ..Default::default()
    };
    synth(&cfg, path);
    std::fs::read(path).unwrap()
}

fn assert_failed_cleanly(r: &Run, wants: &[&str]) {
    r.expect_no_panic();
    assert!(
        r.code.is_some_and(|c| c != 0),
        "`{}` should fail, exited {:?}\nstderr:\n{}",
        r.cmdline,
        r.code,
        r.stderr
    );
    for w in wants {
        assert!(
            r.stderr.contains(w),
            "`{}`: stderr should mention {w:?}:\n{}",
            r.cmdline,
            r.stderr
        );
    }
}

#[test]
fn a_capture_cut_inside_a_record_keeps_what_came_before_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let full = small_capture(&tmp.path().join("full.pcap"));
    let offsets = record_offsets(&full);
    let cut_record = offsets.len() / 2;
    let at = offsets[cut_record];
    // Keep the record header and half its data.
    let caplen = u32::from_le_bytes(full[at + 8..at + 12].try_into().unwrap()) as usize;
    let cut = &full[..at + RECORD_HEADER + caplen / 2];
    let path = tmp.path().join("cut.pcap");
    std::fs::write(&path, cut).unwrap();
    let out = tmp.path().join("out");
    let offset = format!("byte offset {at}");
    for (how, r) in [
        ("file", sensor(&path, &out, &["--threads", "1"])),
        (
            "stdin",
            run_with_stdin(
                &[
                    "sensor",
                    "-r",
                    "-",
                    "-l",
                    tmp.path().join("out-stdin").to_str().unwrap(),
                    "-q",
                    "--threads",
                    "1",
                ],
                Some(cut),
            ),
        ),
    ] {
        r.expect_no_panic().expect_code(1);
        assert!(
            r.stderr.contains(&offset),
            "{how}: stderr should name the {offset}:\n{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("truncated"),
            "{how}: stderr should say truncated:\n{}",
            r.stderr
        );
    }
    let records = read_eve(&out);
    let flows = of_type(&records, "flow");
    assert!(
        flows.len() > 50,
        "only {} flow records before the cut",
        flows.len()
    );
    stats_record(&records);
    // Nothing after the cut was invented.
    let last_ts = {
        let p = offsets[cut_record - 1];
        let sec = u32::from_le_bytes(full[p..p + 4].try_into().unwrap()) as i64;
        let usec = u32::from_le_bytes(full[p + 4..p + 8].try_into().unwrap()) as i64;
        (sec * 1_000_000 + usec) * 1000
    };
    for f in &flows {
        let end = parse_eve_ts(f["flow"]["end"].as_str().unwrap()).unwrap();
        assert!(end <= last_ts, "flow ends after the last whole packet: {f}");
    }
    // The same run over stdin writes the same records.
    assert_eq!(
        eve_lines(&out),
        eve_lines(&tmp.path().join("out-stdin")),
        "file vs stdin"
    );
}

#[test]
fn an_empty_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("empty.pcap");
    std::fs::write(&path, b"").unwrap();
    let r = sensor(&path, &tmp.path().join("out"), &[]);
    assert_failed_cleanly(&r, &["empty.pcap", "empty"]);
}

#[test]
fn a_garbage_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("garbage.pcap");
    // Deterministic noise (xorshift), no pcap/pcapng magic.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, &noise).unwrap();
    let r = sensor(&path, &tmp.path().join("out"), &[]);
    assert_failed_cleanly(&r, &["garbage.pcap", "not a pcap or pcapng file"]);
    // Half a header is no better.
    std::fs::write(&path, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]).unwrap();
    let r = sensor(&path, &tmp.path().join("out2"), &[]);
    assert_failed_cleanly(&r, &["garbage.pcap"]);
}

/// A pcap header (Ethernet, microseconds) with the given snaplen.
fn pcap_header(snaplen: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&snaplen.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h
}

fn record(ts_sec: u32, caplen: u32, orig_len: u32, data: &[u8]) -> Vec<u8> {
    let mut r = Vec::new();
    for v in [ts_sec, 0, caplen, orig_len] {
        r.extend_from_slice(&v.to_le_bytes());
    }
    r.extend_from_slice(data);
    r
}

/// Ethernet + IPv4 + UDP 10.0.0.1:1000 -> 10.0.0.2:53, 4 payload bytes, valid checksums
/// except the UDP one (zero: "no checksum" in IPv4).
fn udp_frame() -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let mut ip = vec![
        0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    let sum = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&[0x03, 0xe8, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4]);
    f
}

fn ip_checksum(h: &[u8]) -> u16 {
    let mut s: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[test]
fn an_absurd_snaplen_is_tolerated_like_libpcap_does() {
    // libpcap reads files whose snaplen is bogus (it clamps it); the records are what count.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("snaplen.pcap");
    let frame = udp_frame();
    let mut bytes = pcap_header(u32::MAX);
    bytes.extend(record(
        1_730_786_400,
        frame.len() as u32,
        frame.len() as u32,
        &frame,
    ));
    std::fs::write(&path, &bytes).unwrap();
    let out = tmp.path().join("out");
    sensor(&path, &out, &[]).expect_no_panic().expect_code(0);
    assert_eq!(
        of_type(&read_eve(&out), "flow").len(),
        1,
        "the one UDP packet makes one flow"
    );
}

#[test]
fn a_record_claiming_4_gib_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("caplen.pcap");
    let frame = udp_frame();
    let mut bytes = pcap_header(65_535);
    bytes.extend(record(
        1_730_786_400,
        frame.len() as u32,
        frame.len() as u32,
        &frame,
    ));
    let bad_at = bytes.len();
    bytes.extend(record(1_730_786_401, u32::MAX, u32::MAX, &frame));
    std::fs::write(&path, &bytes).unwrap();
    for snaplen_case in [false, true] {
        if snaplen_case {
            // The same with an absurd snaplen in the file header.
            bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
            std::fs::write(&path, &bytes).unwrap();
        }
        let out = tmp.path().join(format!("out{snaplen_case}"));
        let r = sensor(&path, &out, &[]);
        assert_failed_cleanly(
            &r,
            &[
                "caplen.pcap",
                &format!("byte offset {bad_at}"),
                "4294967295",
            ],
        );
        // The good packet before it was still processed.
        assert_eq!(of_type(&read_eve(&out), "flow").len(), 1);
    }
}

const ANOMALY_CONFIG: &str = r#"
[outputs.eve-log.types]
alert = {}
http = {}
dns = {}
tls = {}
files = {}
stats = {}
flow = {}

[outputs.eve-log.types.anomaly.types]
decode = true
stream = false
applayer = true
"#;

/// Writes `frames` (Ethernet) as a pcap with Watchfloor's own writer.
fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(f, LinkType::Ethernet, 65_535, TsResolution::Micro).unwrap();
    for (i, fr) in frames.iter().enumerate() {
        let ts = watchfloor_synth::DEFAULT_START_NS + i as i64 * 1_000_000_000;
        w.write_packet(ts, fr, fr.len() as u32, 0).unwrap();
    }
    w.flush().unwrap();
}

/// IPv4 claims 1500 bytes; 32 are there.
fn ipv4_longer_than_captured() -> Vec<u8> {
    let mut f = udp_frame();
    f[16..18].copy_from_slice(&1500u16.to_be_bytes());
    f[24..26].copy_from_slice(&[0, 0]);
    let sum = ip_checksum(&f[14..34]);
    f[24..26].copy_from_slice(&sum.to_be_bytes());
    f
}

/// A TCP header whose data offset (60 bytes) runs past the 20 bytes there.
fn tcp_offset_beyond_packet() -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let mut ip = vec![
        0x45, 0, 0, 40, 0, 2, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    let sum = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    let mut tcp = vec![
        0x04, 0x00, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0xF0, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ];
    tcp[12] = 15 << 4;
    f.extend_from_slice(&tcp);
    f
}

fn anomalies(records: &[Value]) -> Vec<(String, String)> {
    of_type(records, "anomaly")
        .iter()
        .map(|r| {
            (
                r["anomaly"]["type"].as_str().unwrap_or("?").to_string(),
                r["anomaly"]["event"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

#[test]
fn packets_that_lie_about_their_lengths_raise_suricatas_decoder_events() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("liars.pcap");
    write_pcap(
        &path,
        &[
            udp_frame(),
            ipv4_longer_than_captured(),
            tcp_offset_beyond_packet(),
        ],
    );
    let config = tmp.path().join("sensor.toml");
    std::fs::write(&config, ANOMALY_CONFIG).unwrap();
    let out = tmp.path().join("out");
    let cfg = config.to_str().unwrap();
    sensor(&path, &out, &["-c", cfg])
        .expect_no_panic()
        .expect_code(0);
    let records = read_eve(&out);
    let got = anomalies(&records);
    let want = [
        ("decode".to_string(), "decoder.ipv4.trunc_pkt".to_string()),
        (
            "decode".to_string(),
            "decoder.tcp.hlen_too_small".to_string(),
        ),
    ];
    assert_eq!(got, want, "anomaly records (type, event)");
    // Each anomaly record carries the time of its packet (the 2nd and 3rd, 1 s apart).
    for (i, a) in of_type(&records, "anomaly").iter().enumerate() {
        let ts = parse_eve_ts(a["timestamp"].as_str().unwrap()).unwrap();
        assert_eq!(
            ts,
            watchfloor_synth::DEFAULT_START_NS + (i as i64 + 1) * 1_000_000_000,
            "{a}"
        );
    }
    assert_eq!(
        of_type(&records, "flow").len(),
        1,
        "only the honest packet makes a flow"
    );
    if let Some(schema) = eve_schema() {
        let lines: Vec<Value> = records
            .iter()
            .filter(|r| r["event_type"] != "stats")
            .cloned()
            .collect();
        assert_schema_valid(&schema, &lines, "anomaly and flow records");
    }
    // Suricata's default logs no decoder anomalies.
    let out = tmp.path().join("out-default");
    sensor(&path, &out, &[]).expect_no_panic().expect_code(0);
    assert!(
        anomalies(&read_eve(&out)).is_empty(),
        "decode anomalies are off by default"
    );
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("one.pcap");
    write_pcap(&path, &[udp_frame()]);
    let config = tmp.path().join("bad.toml");
    std::fs::write(&config, "[stream]\nmidstreem = true\n").unwrap();
    let r = sensor(
        &path,
        &tmp.path().join("out"),
        &["-c", config.to_str().unwrap()],
    );
    assert_failed_cleanly(&r, &["bad.toml", "midstreem"]);
}
