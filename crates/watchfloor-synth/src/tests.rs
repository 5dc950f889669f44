// Test-only module: compiled under #[cfg(test)] from its parent.
//! End-to-end tests: generate captures and re-read them with an independent little parser.

use crate::*;
use std::collections::BTreeMap;
use std::net::IpAddr;

fn small(seed: u64) -> SynthConfig {
    SynthConfig {
        seed,
        duration_ns: 600_000_000_000,
        target: Target::Bytes(3 << 20),
        ..Default::default()
    }
}

fn gen(cfg: &SynthConfig) -> (Vec<u8>, Summary) {
    let mut out = Vec::new();
    let s = generate(cfg, &mut out).unwrap();
    (out, s)
}

struct Rec<'a> {
    ts_ns: i64,
    data: &'a [u8],
    orig_len: u32,
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Parses a classic pcap or pcapng file; returns the link type and records.
fn parse(file: &[u8]) -> (u32, Vec<Rec<'_>>) {
    let magic = le32(file, 0);
    let mut recs = vec![];
    if magic == 0xA1B2_C3D4 {
        assert_eq!(u16::from_le_bytes([file[4], file[5]]), 2);
        assert_eq!(u16::from_le_bytes([file[6], file[7]]), 4);
        let snap = le32(file, 16);
        let lt = le32(file, 20);
        let mut at = 24;
        while at < file.len() {
            assert!(at + 16 <= file.len(), "truncated record header");
            let usec = le32(file, at + 4);
            assert!(usec < 1_000_000);
            let ts = le32(file, at) as i64 * 1_000_000_000 + usec as i64 * 1000;
            let cap = le32(file, at + 8) as usize;
            let orig = le32(file, at + 12);
            assert!(cap as u32 <= snap && cap as u32 <= orig);
            recs.push(Rec {
                ts_ns: ts,
                data: &file[at + 16..at + 16 + cap],
                orig_len: orig,
            });
            at += 16 + cap;
        }
        assert_eq!(at, file.len());
        (lt, recs)
    } else {
        assert_eq!(magic, 0x0A0D_0D0A, "unknown magic");
        let mut at = 0;
        let mut lt = None;
        let mut tsresol_ns = 1000i64;
        while at < file.len() {
            let btype = le32(file, at);
            let len = le32(file, at + 4) as usize;
            assert!(len % 4 == 0 && len >= 12);
            assert_eq!(le32(file, at + len - 4) as usize, len, "trailing length");
            let body = &file[at + 8..at + len - 4];
            match btype {
                0x0A0D_0D0A => assert_eq!(le32(body, 0), 0x1A2B_3C4D),
                1 => {
                    lt = Some(u16::from_le_bytes([body[0], body[1]]) as u32);
                    // Options start after linktype, reserved and snaplen.
                    let mut o = 8;
                    while o + 4 <= body.len() {
                        let code = u16::from_le_bytes([body[o], body[o + 1]]);
                        let olen = u16::from_le_bytes([body[o + 2], body[o + 3]]) as usize;
                        if code == 0 {
                            break;
                        }
                        if code == 9 {
                            assert_eq!(body[o + 4], 9);
                            tsresol_ns = 1;
                        }
                        o += 4 + olen.next_multiple_of(4);
                    }
                }
                6 => {
                    assert_eq!(le32(body, 0), 0);
                    let ts =
                        ((le32(body, 4) as u64) << 32 | le32(body, 8) as u64) as i64 * tsresol_ns;
                    let cap = le32(body, 12) as usize;
                    let orig = le32(body, 16);
                    assert!(20 + cap <= body.len() && body.len() - 20 - cap < 4);
                    recs.push(Rec {
                        ts_ns: ts,
                        data: &body[20..20 + cap],
                        orig_len: orig,
                    });
                }
                other => panic!("unexpected block {other:#x}"),
            }
            at += len;
        }
        (lt.unwrap(), recs)
    }
}

/// One's-complement sum, written independently of the generator's.
fn ocsum(parts: &[&[u8]]) -> u16 {
    let mut s: u32 = 0;
    for p in parts {
        for c in p.chunks(2) {
            s += (c[0] as u32) << 8 | c.get(1).copied().unwrap_or(0) as u32;
            s = (s & 0xFFFF) + (s >> 16);
        }
    }
    s as u16
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    proto: u8,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
}

struct Decoded<'a> {
    key: Key,
    vlans: Vec<u16>,
    /// TCP: (seq, ack, flags).
    tcp: Option<(u32, u32, u8)>,
    payload: &'a [u8],
}

/// Decodes one frame down to the transport layer, asserting every checksum.
fn decode(lt: u32, f: &[u8]) -> Decoded<'_> {
    let mut vlans = vec![];
    let (mut et, mut at) = match lt {
        1 => (be16(f, 12), 14),
        113 => (be16(f, 14), 16),
        276 => (be16(f, 0), 20),
        101 => (if f[0] >> 4 == 6 { 0x86DD } else { 0x0800 }, 0),
        _ => panic!("linktype {lt}"),
    };
    while et == 0x8100 || et == 0x88A8 {
        vlans.push(be16(f, at) & 0xFFF);
        et = be16(f, at + 2);
        at += 4;
    }
    let ip = &f[at..];
    let (proto, src, dst, l4, pseudo): (u8, IpAddr, IpAddr, &[u8], Vec<u8>) = match et {
        0x0800 => {
            assert_eq!(ip[0], 0x45);
            let total = be16(ip, 2) as usize;
            assert_eq!(total, ip.len(), "IPv4 total length");
            assert_eq!(ocsum(&[&ip[..20]]), 0xFFFF, "IPv4 header checksum");
            let s: [u8; 4] = ip[12..16].try_into().unwrap();
            let d: [u8; 4] = ip[16..20].try_into().unwrap();
            let l4 = &ip[20..];
            let mut ph = ip[12..20].to_vec();
            ph.extend_from_slice(&[0, ip[9]]);
            ph.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            (ip[9], s.into(), d.into(), l4, ph)
        }
        0x86DD => {
            assert_eq!(ip[0] >> 4, 6);
            assert_eq!(be16(ip, 4) as usize + 40, ip.len(), "IPv6 payload length");
            let s: [u8; 16] = ip[8..24].try_into().unwrap();
            let d: [u8; 16] = ip[24..40].try_into().unwrap();
            let l4 = &ip[40..];
            let mut ph = ip[8..40].to_vec();
            ph.extend_from_slice(&(l4.len() as u32).to_be_bytes());
            ph.extend_from_slice(&[0, 0, 0, ip[6]]);
            (ip[6], s.into(), d.into(), l4, ph)
        }
        other => panic!("ethertype {other:#x}"),
    };
    let (sport, dport, hdr) = match proto {
        6 => {
            assert_eq!(ocsum(&[&pseudo, l4]), 0xFFFF, "TCP checksum");
            let doff = (l4[12] >> 4) as usize * 4;
            assert!(doff >= 20 && doff <= l4.len());
            (be16(l4, 0), be16(l4, 2), doff)
        }
        17 => {
            assert_eq!(be16(l4, 4) as usize, l4.len());
            assert_ne!(be16(l4, 6), 0);
            assert_eq!(ocsum(&[&pseudo, l4]), 0xFFFF, "UDP checksum");
            (be16(l4, 0), be16(l4, 2), 8)
        }
        1 => {
            assert_eq!(ocsum(&[l4]), 0xFFFF, "ICMP checksum");
            (0, 0, 8)
        }
        58 => {
            assert_eq!(ocsum(&[&pseudo, l4]), 0xFFFF, "ICMPv6 checksum");
            (0, 0, 8)
        }
        p => panic!("protocol {p}"),
    };
    assert!(hdr <= l4.len());
    let tcp = (proto == 6).then(|| {
        let u32at = |i: usize| u32::from_be_bytes([l4[i], l4[i + 1], l4[i + 2], l4[i + 3]]);
        (u32at(4), u32at(8), l4[13])
    });
    Decoded {
        key: Key {
            proto,
            src,
            sport,
            dst,
            dport,
        },
        vlans,
        tcp,
        payload: &l4[hdr..],
    }
}

#[test]
fn deterministic_and_seed_sensitive() {
    let (a, sa) = gen(&small(11));
    let (b, sb) = gen(&small(11));
    let (c, _) = gen(&small(12));
    assert!(a == b, "same config must give identical bytes");
    assert_eq!(sa.to_json(), sb.to_json());
    assert_eq!(sa.truth, sb.truth);
    assert!(a != c, "another seed must differ");
}

#[test]
fn pcap_records_checksums_and_summary_agree() {
    let cfg = small(3);
    let (file, sum) = gen(&cfg);
    let (lt, recs) = parse(&file);
    assert_eq!(lt, 1);
    assert_eq!(sum.file_bytes, file.len() as u64);
    assert_eq!(sum.packets, recs.len() as u64);
    assert_eq!(
        sum.bytes,
        recs.iter().map(|r| r.orig_len as u64).sum::<u64>()
    );
    assert!(
        recs.windows(2).all(|w| w[0].ts_ns < w[1].ts_ns),
        "timestamps strictly increase"
    );
    assert_eq!(recs[0].ts_ns, cfg.start_ns);
    assert_eq!(sum.first_ts_ns, recs[0].ts_ns);
    assert_eq!(sum.last_ts_ns, recs[recs.len() - 1].ts_ns);
    // Around the byte target, not wildly over it.
    assert!(
        file.len() as u64 >= 3 << 20 && file.len() as u64 <= 6 << 20,
        "{}",
        file.len()
    );
    let mut per_key: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
    for r in &recs {
        assert_eq!(r.data.len() as u32, r.orig_len);
        let d = decode(lt, r.data);
        // Count by the client->server orientation of the flow the packet belongs to.
        let rev = Key {
            proto: d.key.proto,
            src: d.key.dst,
            sport: d.key.dport,
            dst: d.key.src,
            dport: d.key.sport,
        };
        let k = if per_key.contains_key(&rev) {
            rev
        } else {
            d.key
        };
        let e = per_key.entry(k).or_default();
        e.0 += 1;
        e.1 += r.orig_len as u64;
    }
    // The ground truth accounts for every packet and byte, tuple by tuple.
    let mut truth: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
    for t in &sum.truth {
        let k = Key {
            proto: t.ip_proto,
            src: t.src,
            sport: t.src_port,
            dst: t.dst,
            dport: t.dst_port,
        };
        let e = truth.entry(k).or_default();
        e.0 += t.pkts_toserver + t.pkts_toclient;
        e.1 += t.bytes_toserver + t.bytes_toclient;
    }
    assert_eq!(sum.truth.len() as u64, sum.flows);
    assert_eq!(per_key.len(), truth.len());
    // ICMP keys carry no ports, so several pings between the same hosts share a key.
    for (k, v) in &truth {
        assert_eq!(per_key.get(k), Some(v), "{k:?}");
    }
    let by_proto: u64 = sum.by_proto.iter().map(|p| p.packets).sum();
    assert_eq!(by_proto, sum.packets);
    assert!(sum.proto(AppProto::Dns).flows > sum.proto(AppProto::Http).flows);
    assert!(sum.proto(AppProto::Tls).bytes > sum.proto(AppProto::Dns).bytes);
    assert!(sum.tls12_flows > 0 && sum.tls13_flows > 0);
}

#[test]
fn pcapng_is_well_formed() {
    // A flow target, so pcapng's larger framing does not change what is generated.
    let base = SynthConfig {
        target: Target::Flows(1500),
        ..small(5)
    };
    let cfg = SynthConfig {
        format: Format::Pcapng,
        ..base.clone()
    };
    let (file, sum) = gen(&cfg);
    let (lt, recs) = parse(&file);
    assert_eq!(lt, 1);
    assert_eq!(recs.len() as u64, sum.packets);
    assert!(recs.windows(2).all(|w| w[0].ts_ns < w[1].ts_ns));
    for r in recs.iter().step_by(7) {
        decode(lt, r.data);
    }
    // Same traffic as the pcap, only framed differently.
    let (pcap, _) = gen(&base);
    let (_, precs) = parse(&pcap);
    assert_eq!(precs.len(), recs.len());
    assert!(precs
        .iter()
        .zip(&recs)
        .all(|(a, b)| a.data == b.data && a.ts_ns == b.ts_ns));
}

#[test]
fn every_link_type_parses() {
    for (link, lt) in [
        (Link::Ethernet, 1),
        (Link::Sll, 113),
        (Link::Sll2, 276),
        (Link::Raw, 101),
    ] {
        let cfg = SynthConfig {
            link,
            target: Target::Bytes(1 << 20),
            vlan_ratio: 0.2,
            ..small(7)
        };
        let (file, sum) = gen(&cfg);
        let (got, recs) = parse(&file);
        assert_eq!(got, lt);
        assert_eq!(recs.len() as u64, sum.packets);
        let mut vlan_frames = 0;
        for r in &recs {
            if !decode(lt, r.data).vlans.is_empty() {
                vlan_frames += 1;
            }
        }
        assert_eq!(vlan_frames > 0, link == Link::Ethernet);
    }
}

#[test]
fn vlan_and_ipv6_shares_follow_config() {
    let cfg = SynthConfig {
        vlan_ratio: 0.3,
        qinq_ratio: 0.25,
        ipv6_ratio: 0.4,
        attacks: false,
        target: Target::Flows(3000),
        ..small(9)
    };
    let (file, sum) = gen(&cfg);
    assert_eq!(sum.flows, 3000);
    let f = sum.flows as f64;
    let v6 = sum.ipv6_flows as f64 / f;
    let vlan = sum.vlan_flows as f64 / f;
    let qinq = sum.qinq_flows as f64 / sum.vlan_flows as f64;
    assert!((0.35..0.45).contains(&v6), "ipv6 share {v6}");
    assert!((0.26..0.34).contains(&vlan), "vlan share {vlan}");
    assert!((0.17..0.33).contains(&qinq), "qinq share {qinq}");
    assert_eq!(sum.malicious_flows, 0);
    let (lt, recs) = parse(&file);
    let mut seen_qinq = false;
    for r in &recs {
        let d = decode(lt, r.data);
        seen_qinq |= d.vlans.len() == 2;
    }
    assert!(seen_qinq);
}

#[test]
fn attacks_are_present_and_flagged() {
    let cfg = SynthConfig {
        duration_ns: 1_800_000_000_000,
        target: Target::Bytes(6 << 20),
        ..small(4)
    };
    let (file, sum) = gen(&cfg);
    for k in AttackKind::ALL {
        assert!(sum.attack_flows(k) > 0, "{} missing", k.name());
    }
    let beacons: Vec<&FlowTruth> = sum
        .truth
        .iter()
        .filter(|t| t.attack == Some(AttackKind::Beacon))
        .collect();
    assert!(beacons.len() >= 20, "beacons {}", beacons.len());
    for w in beacons.windows(2) {
        let gap = w[1].first_ts_ns - w[0].first_ts_ns;
        assert!(
            (59_000_000_000..61_000_000_000).contains(&gap),
            "beacon gap {gap}"
        );
        assert_eq!(w[0].dst, w[1].dst);
    }
    let ratio = sum.malicious_flows as f64 / sum.flows as f64;
    // Attacks are planned per hour, so a small capture has a large malicious share.
    assert!(ratio < 0.5, "malicious ratio {ratio}");
    let text = String::from_utf8_lossy(&file);
    for needle in [
        "UNION SELECT",
        "sqlmap/",
        "Nikto/2.1.6",
        "POST /login ",
        "HTTP/1.1 401 Unauthorized",
        "cdn-telemetry-sync.net",
        "Transfer-Encoding: chunked",
        "Content-Encoding: gzip",
        "/api/pollbook/sync",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }
    let scan = sum
        .truth
        .iter()
        .filter(|t| t.attack == Some(AttackKind::PortScan))
        .count();
    assert!(scan >= 30);
}

#[test]
fn retransmissions_and_reordering_are_counted() {
    let cfg = SynthConfig {
        retransmit_ratio: 0.02,
        out_of_order_ratio: 0.02,
        ..small(13)
    };
    let (_, sum) = gen(&cfg);
    assert!(
        sum.retransmissions > 10 && sum.out_of_order > 10,
        "{} {}",
        sum.retransmissions,
        sum.out_of_order
    );
    let r: u64 = sum.truth.iter().map(|t| t.retransmissions).sum();
    assert_eq!(r, sum.retransmissions);
}

#[test]
fn summary_json_is_sane() {
    let (_, sum) = gen(&SynthConfig {
        target: Target::Flows(200),
        ..small(2)
    });
    let j = sum.to_json();
    assert!(j.starts_with('{') && j.ends_with('}'));
    assert!(j.contains("\"by_proto\":{\"dns\":{"));
    assert!(j.contains("\"malicious\":{\"port_scan\":"));
    assert_eq!(j.matches('{').count(), j.matches('}').count());
    let lines = sum.truth_jsonl();
    assert_eq!(lines.lines().count() as u64, sum.flows);
}

#[test]
fn config_is_validated() {
    assert!(generate(
        &SynthConfig {
            offices: 0,
            ..Default::default()
        },
        Vec::new()
    )
    .is_err());
    assert!(generate(
        &SynthConfig {
            ipv6_ratio: 1.5,
            ..Default::default()
        },
        Vec::new()
    )
    .is_err());
    assert!(generate(
        &SynthConfig {
            target: Target::Bytes(0),
            ..Default::default()
        },
        Vec::new()
    )
    .is_err());
    assert_eq!(parse_size("64M"), Some(64 << 20));
    assert_eq!(parse_size("1000"), Some(1000));
    assert_eq!(parse_size("x"), None);
}

#[test]
fn several_offices() {
    let cfg = SynthConfig {
        offices: 5,
        target: Target::Flows(500),
        ..small(21)
    };
    let (_, sum) = gen(&cfg);
    let mut offices = std::collections::BTreeSet::new();
    for t in &sum.truth {
        if let IpAddr::V4(a) = t.src {
            if a.octets()[0] == 10 {
                offices.insert(a.octets()[1]);
            }
        }
    }
    assert_eq!(offices.len(), 5);
}

/// Reassembles every TCP connection in a capture and checks the streams: no holes, ACKs
/// never ahead of data, and the application framing (HTTP, TLS records, DNS length
/// prefixes, NBSS) intact from first byte to last.
#[test]
fn tcp_streams_reassemble_into_valid_protocols() {
    let cfg = SynthConfig {
        retransmit_ratio: 0.02,
        out_of_order_ratio: 0.02,
        ..small(17)
    };
    let (file, _) = gen(&cfg);
    let (lt, recs) = parse(&file);
    struct Side {
        isn: Option<u32>,
        segs: Vec<(u32, Vec<u8>)>,
        max_end: u32,
    }
    struct Conn {
        sides: [Side; 2],
        client: (IpAddr, u16),
        server_port: u16,
        acks: Vec<(usize, u32)>,
    }
    let mut conns: BTreeMap<Key, Conn> = BTreeMap::new();
    for r in &recs {
        let d = decode(lt, r.data);
        let Some((seq, ack, flags)) = d.tcp else {
            continue;
        };
        let k = d.key;
        let rev = Key {
            proto: 6,
            src: k.dst,
            sport: k.dport,
            dst: k.src,
            dport: k.sport,
        };
        let key = if conns.contains_key(&rev) { rev } else { k };
        let c = conns.entry(key).or_insert_with(|| Conn {
            sides: [0, 1].map(|_| Side {
                isn: None,
                segs: vec![],
                max_end: 0,
            }),
            client: (k.src, k.sport),
            server_port: k.dport,
            acks: vec![],
        });
        let side = usize::from((k.src, k.sport) != c.client);
        if flags & 0x02 != 0 {
            c.sides[side].isn = Some(seq);
        }
        let Some(isn) = c.sides[side].isn else {
            // A closed port answers a probe's SYN with a bare RST.
            assert!(flags & 0x04 != 0 && d.payload.is_empty(), "data before SYN");
            continue;
        };
        if !d.payload.is_empty() {
            let rel = seq.wrapping_sub(isn.wrapping_add(1));
            c.sides[side].segs.push((rel, d.payload.to_vec()));
            let end = rel + d.payload.len() as u32;
            c.sides[side].max_end = c.sides[side].max_end.max(end);
        }
        if flags & 0x10 != 0 && flags & 0x04 == 0 {
            if let Some(other) = c.sides[1 - side].isn {
                let acked = ack.wrapping_sub(other.wrapping_add(1));
                // Data plus one for a FIN.
                assert!(acked <= c.sides[1 - side].max_end + 1, "ACK beyond data");
                c.acks.push((side, acked));
            }
        }
    }
    let mut checked = [0usize; 5];
    for c in conns.values_mut() {
        let mut streams = [vec![], vec![]];
        for (i, s) in c.sides.iter_mut().enumerate() {
            s.segs.sort_by_key(|x| x.0);
            for (rel, data) in &s.segs {
                let at = *rel as usize;
                let have = streams[i].len();
                assert!(at <= have, "hole in stream");
                if at + data.len() > have {
                    // Retransmissions must repeat the same bytes.
                    assert_eq!(&streams[i][at..have], &data[..have - at]);
                    streams[i].extend_from_slice(&data[have - at..]);
                } else {
                    assert_eq!(&streams[i][at..at + data.len()], &data[..]);
                }
            }
        }
        let [cs, ss] = &streams;
        match c.server_port {
            80 | 8080 if !cs.is_empty() => {
                assert!(cs.starts_with(b"GET ") || cs.starts_with(b"POST "));
                assert!(ss.starts_with(b"HTTP/1.1 "));
                checked[0] += 1;
            }
            443 if !cs.is_empty() => {
                for st in [cs, ss] {
                    let mut at = 0;
                    while at < st.len() {
                        assert!(matches!(st[at], 20..=23), "record type {}", st[at]);
                        assert_eq!(st[at + 1], 3);
                        at += 5 + be16(st, at + 3) as usize;
                    }
                    assert_eq!(at, st.len());
                }
                assert_eq!(cs[5], 1, "ClientHello first");
                checked[1] += 1;
            }
            53 => {
                for st in [cs, ss] {
                    let mut at = 0;
                    while at < st.len() {
                        at += 2 + be16(st, at) as usize;
                    }
                    assert_eq!(at, st.len());
                }
                checked[2] += 1;
            }
            445 => {
                for st in [cs, ss] {
                    let mut at = 0;
                    while at < st.len() {
                        assert_eq!(st[at], 0);
                        assert_eq!(&st[at + 4..at + 8], b"\xfeSMB");
                        at += 4
                            + (u32::from_be_bytes([0, st[at + 1], st[at + 2], st[at + 3]])
                                as usize);
                    }
                    assert_eq!(at, st.len());
                }
                checked[3] += 1;
            }
            _ => checked[4] += 1,
        }
    }
    assert!(
        checked[0] > 5 && checked[1] > 20 && checked[3] > 0,
        "{checked:?}"
    );
}
