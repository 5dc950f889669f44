// Test-only module: compiled under #[cfg(test)] from its parent.
use super::*;
use crate::dns::testutil::{tcp_stream, MsgBuilder};
use crate::dns::ParseError;

fn st() -> DnsState {
    DnsState::new(DnsConfig::default())
}

fn q(id: u16, name: &str) -> Vec<u8> {
    MsgBuilder::query(id, name, 1).build()
}

fn r(id: u16, name: &str) -> Vec<u8> {
    MsgBuilder::response(id, 0x8180, name, 1)
        .answer_a(name, [10, 0, 0, 1])
        .build()
}

fn names(s: &mut DnsState) -> Vec<(u64, bool, u16, Option<u64>)> {
    s.drain()
        .map(|t| (t.tx_id, t.is_request(), t.dns_id(), t.reply_to))
        .collect()
}

#[test]
fn udp_pairing_and_tx_ids() {
    let mut s = st();
    s.parse_udp(Direction::ToServer, &q(1, "a.example"))
        .unwrap();
    s.parse_udp(Direction::ToServer, &q(2, "b.example"))
        .unwrap();
    s.parse_udp(Direction::ToClient, &r(2, "b.example"))
        .unwrap();
    s.parse_udp(Direction::ToClient, &r(9, "unsolicited.example"))
        .unwrap();
    assert_eq!(s.unanswered().collect::<Vec<_>>(), vec![(1, 0)]);
    s.parse_udp(Direction::ToClient, &r(1, "a.example"))
        .unwrap();
    assert_eq!(
        names(&mut s),
        vec![
            (0, true, 1, None),
            (1, true, 2, None),
            (2, false, 2, Some(1)),
            (3, false, 9, None),
            (4, false, 1, Some(0)),
        ]
    );
    // Ids keep counting after a drain.
    s.parse_udp(Direction::ToServer, &q(3, "c.example"))
        .unwrap();
    assert_eq!(s.drain().next().map(|t| t.tx_id), Some(5));
    assert_eq!(s.tx_count(), 6);
}

#[test]
fn header_events() {
    let mut s = st();
    // Z flag and opcode 9 on a request.
    let b = MsgBuilder::new(1, 0x4940).question("z.example", 1).build();
    s.parse_udp(Direction::ToServer, &b).unwrap();
    // A "response" without QR.
    let b = MsgBuilder::new(1, 0x0100).question("z.example", 1).build();
    s.parse_udp(Direction::ToClient, &b).unwrap();
    let txs: Vec<_> = s.drain().collect();
    assert_eq!(
        txs[0].events,
        vec![DnsEvent::ZFlagSet, DnsEvent::InvalidOpcode]
    );
    assert_eq!(txs[1].events, vec![DnsEvent::NotResponse]);
    let names: Vec<String> = txs[0].app_events().map(|e| e.rule_name()).collect();
    assert_eq!(names, vec!["dns.z_flag_set", "dns.invalid_opcode"]);
}

#[test]
fn failures_attach_to_the_newest_transaction_or_are_orphans() {
    let mut s = st();
    // Nothing to attach to yet.
    let bad = MsgBuilder::query(1, "a", 1).raw(1, 1, &[0x40]).build();
    assert!(matches!(
        s.parse_udp(Direction::ToServer, &bad),
        Err(DnsError::Parse(ParseError::Truncated { .. })
            | DnsError::Parse(ParseError::BadLabel { .. }))
    ));
    assert_eq!(s.take_orphan_events(), vec![DnsEvent::MalformedData]);

    s.parse_udp(Direction::ToServer, &q(1, "a.example"))
        .unwrap();
    assert_eq!(
        s.parse_udp(Direction::ToServer, &r(1, "a.example")),
        Err(DnsError::NotRequest)
    );
    let _ = s.parse_udp(Direction::ToServer, &bad);
    let tx = s.drain().next().unwrap();
    assert_eq!(
        tx.events,
        vec![DnsEvent::NotRequest, DnsEvent::MalformedData]
    );
    assert_eq!(s.tx_count(), 1, "failed messages make no transaction");

    // Not DNS at all: no event.
    assert!(s
        .parse_udp(Direction::ToServer, b"GET / HTTP/1.1\r\n")
        .is_err());
    assert!(s.take_orphan_events().is_empty());
}

#[test]
fn name_anomaly_events() {
    let long = vec!["a".repeat(63); 20].join(".");
    let mut s = st();
    s.parse_udp(Direction::ToServer, &q(1, &long)).unwrap();
    let loop_msg = MsgBuilder::new(3, 0x0100)
        .raw(0, 1, &[0xc0, 18, 0, 1, 0, 1, 0xc0, 18])
        .build();
    s.parse_udp(Direction::ToServer, &loop_msg).unwrap();
    let txs: Vec<_> = s.drain().collect();
    assert_eq!(txs[0].events, vec![DnsEvent::NameTooLong]);
    assert_eq!(txs[1].events, vec![DnsEvent::InfiniteLoop]);
}

#[test]
fn invalid_sections_raise_events() {
    let b = MsgBuilder::response(1, 0x8180, "a", 1)
        .raw(2, 1, &[0x40])
        .build();
    let mut s = st();
    s.parse_udp(Direction::ToClient, &b).unwrap();
    assert_eq!(
        s.drain().next().unwrap().events,
        vec![DnsEvent::InvalidAuthorities]
    );
}

fn stream() -> (Vec<Vec<u8>>, Vec<u8>) {
    let msgs = vec![
        q(1, "one.example"),
        q(2, "two.example"),
        q(3, "three.example"),
    ];
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let bytes = tcp_stream(&refs);
    (msgs, bytes)
}

fn ids(s: &mut DnsState) -> Vec<u16> {
    s.drain().map(|t| t.dns_id()).collect()
}

#[test]
fn tcp_several_messages_in_one_segment() {
    let (_, bytes) = stream();
    let mut s = st();
    s.parse_tcp(Direction::ToServer, &bytes).unwrap();
    assert_eq!(ids(&mut s), vec![1, 2, 3]);
    assert!(s.transactions().next().is_none());
}

#[test]
fn tcp_split_at_every_byte_boundary() {
    let (_, bytes) = stream();
    for cut in 0..=bytes.len() {
        let mut s = st();
        s.parse_tcp(Direction::ToServer, &bytes[..cut]).unwrap();
        s.parse_tcp(Direction::ToServer, &bytes[cut..]).unwrap();
        assert_eq!(ids(&mut s), vec![1, 2, 3], "cut at {cut}");
    }
    for a in 0..bytes.len() {
        for b in a..=bytes.len() {
            let mut s = st();
            for part in [&bytes[..a], &bytes[a..b], &bytes[b..]] {
                s.parse_tcp(Direction::ToServer, part).unwrap();
            }
            assert_eq!(ids(&mut s), vec![1, 2, 3], "cuts at {a}, {b}");
        }
    }
}

#[test]
fn tcp_byte_at_a_time_and_directions_are_independent() {
    let (_, bytes) = stream();
    let resp = tcp_stream(&[&r(1, "one.example")]);
    let mut s = st();
    for (i, b) in bytes.iter().enumerate() {
        s.parse_tcp(Direction::ToServer, std::slice::from_ref(b))
            .unwrap();
        if let Some(rb) = resp.get(i) {
            s.parse_tcp(Direction::ToClient, std::slice::from_ref(rb))
                .unwrap();
        }
    }
    let txs: Vec<_> = s
        .drain()
        .map(|t| (t.dns_id(), t.is_request(), t.transport))
        .collect();
    assert_eq!(txs.len(), 4);
    assert!(txs.contains(&(1, false, Transport::Tcp)));
}

#[test]
fn tcp_zero_length_messages_are_skipped() {
    let m = q(5, "z.example");
    let mut bytes = vec![0, 0];
    bytes.extend(tcp_stream(&[&m]));
    bytes.extend([0, 0]);
    let mut s = st();
    s.parse_tcp(Direction::ToServer, &bytes).unwrap();
    assert_eq!(ids(&mut s), vec![5]);
}

#[test]
fn tcp_memcap_and_errors_stop_the_flow() {
    let (_, bytes) = stream();
    let mut s = DnsState::new(DnsConfig {
        tcp_buffer_cap: 20,
        ..DnsConfig::default()
    });
    assert!(matches!(
        s.parse_tcp(Direction::ToServer, &bytes),
        Err(DnsError::TcpMessageTooLarge { cap: 20, .. })
    ));
    assert!(s.is_failed());
    assert_eq!(s.parse_tcp(Direction::ToServer, &bytes), Ok(()));
    assert_eq!(s.tx_count(), 0);

    // A malformed message also stops TCP parsing (Suricata returns an error).
    let mut s = st();
    let junk = tcp_stream(&[b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x40"]);
    assert!(s.parse_tcp(Direction::ToServer, &junk).is_err());
    assert!(s.is_failed());
}

#[test]
fn tcp_gap_resynchronises_on_a_message_start() {
    let (msgs, bytes) = stream();
    let mut s = st();
    s.parse_tcp(Direction::ToServer, &bytes[..5]).unwrap();
    s.tcp_gap(Direction::ToServer);
    // Mid-message bytes after the gap are ignored...
    s.parse_tcp(
        Direction::ToServer,
        b"\xff\xff\xff garbage, not a DNS header at all",
    )
    .unwrap();
    // ...until something that looks like a message start.
    s.parse_tcp(Direction::ToServer, &tcp_stream(&[&msgs[2]]))
        .unwrap();
    assert_eq!(ids(&mut s), vec![3]);
    assert!(!s.is_failed());
}

#[test]
fn transactions_are_bounded() {
    let mut s = DnsState::new(DnsConfig {
        max_transactions: 3,
        max_pending_requests: 2,
        ..DnsConfig::default()
    });
    for id in 0..10 {
        s.parse_udp(Direction::ToServer, &q(id, "x.example"))
            .unwrap();
    }
    assert_eq!(s.transactions().count(), 3);
    assert_eq!(s.unanswered().count(), 2);
    assert_eq!(s.get(9).map(|t| t.dns_id()), Some(9));
    assert!(s.get(0).is_none());
}

#[test]
fn pseudo_random_tcp_and_udp_never_panic() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (_, seed) = stream();
    for _ in 0..3000 {
        let mut b = seed.clone();
        for _ in 0..(next() % 4) {
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
        }
        let mut s = st();
        let mut rest = &b[..];
        while !rest.is_empty() {
            let n = 1 + (next() as usize) % rest.len();
            let _ = s.parse_tcp(Direction::ToServer, &rest[..n]);
            let _ = s.parse_udp(Direction::ToClient, &rest[..n]);
            rest = &rest[n..];
        }
        for tx in s.drain() {
            let _ = crate::dns::eve_dns(&tx, &Default::default());
        }
    }
}
