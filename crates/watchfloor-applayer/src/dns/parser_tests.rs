// Test-only module: compiled under #[cfg(test)] from its parent.
use super::*;
use crate::dns::error::HeaderProblem;
use crate::dns::testutil::{encode_name, rr, MsgBuilder};

fn parse(b: &[u8]) -> DnsMessage {
    match parse_message(b) {
        Ok(m) => m,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn name_str(m: &DnsMessage, n: &Name) -> String {
    String::from_utf8_lossy(m.name(n)).into_owned()
}

#[test]
fn header_fields() {
    let b = MsgBuilder::response(0xbeef, 0x85c3, "x.y", 1).build();
    let m = parse(&b);
    let h = m.header;
    assert_eq!(h.id, 0xbeef);
    assert!(h.qr() && h.aa() && h.rd() && h.ra() && h.z() && !h.tc());
    assert_eq!(h.opcode(), 0);
    assert_eq!(h.rcode(), 3);
    assert_eq!(m.wire(), &b[..]);
}

#[test]
fn every_record_type() {
    let mx = [&[0, 10][..], &encode_name("mail.example.org")].concat();
    let soa = [
        encode_name("ns.example.org"),
        encode_name("hostmaster.example.org"),
        [1u32, 7200, 900, 1_209_600, 86400]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect(),
    ]
    .concat();
    let srv = [
        &[0, 20, 0, 1, 0x13, 0xc4][..],
        &encode_name("sip.example.org"),
    ]
    .concat();
    let txt = b"\x05hello\x00\x03abc";
    let svcb = [
        &[0, 1][..],
        &encode_name("svc.example.org"),
        &[0, 1, 0, 3, 2, b'h', b'2'],
    ]
    .concat();
    let sshfp = [1u8, 1, 0x19, 0x8c, 0x34];
    let opt = [0u8, 10, 0, 2, 0xab, 0xcd, 0, 8, 0, 0];
    let aaaa = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let b = MsgBuilder::response(1, 0x8180, "example.org", 255)
        .answer_a("example.org", [192, 0, 2, 1])
        .answer("example.org", 28, 60, &aaaa)
        .answer_cname("www.example.org", "example.org")
        .answer("example.org", 15, 60, &mx)
        .answer("example.org", 2, 60, &encode_name("ns.example.org"))
        .answer(
            "1.2.0.192.in-addr.arpa",
            12,
            60,
            &encode_name("example.org"),
        )
        .answer("example.org", 6, 60, &soa)
        .answer("_sip._udp.example.org", 33, 60, &srv)
        .answer("example.org", 16, 60, txt)
        .answer("example.org", 65, 60, &svcb)
        .answer("old.example.org", 39, 60, &encode_name("new.example.org"))
        .answer("example.org", 10, 60, b"\x01\x02")
        .answer("example.org", 44, 60, &sshfp)
        .answer("example.org", 65280, 60, b"raw")
        .record(3, "", 41, 0x0000_8000, &opt)
        .build();
    let m = parse(&b);
    let a = m.answers();
    assert_eq!(a.len(), 14);
    assert!(
        matches!(a[0].rdata, RData::Address(s) if m.address(s) == Some("192.0.2.1".parse().unwrap()))
    );
    assert!(
        matches!(a[1].rdata, RData::Address(s) if m.address(s) == Some("2001:db8::1".parse().unwrap()))
    );
    assert!(matches!(a[2].rdata, RData::Name(n) if name_str(&m, &n) == "example.org"));
    assert!(
        matches!(a[3].rdata, RData::Mx { preference: 10, exchange } if name_str(&m, &exchange) == "mail.example.org")
    );
    assert!(matches!(a[4].rdata, RData::Name(n) if name_str(&m, &n) == "ns.example.org"));
    assert_eq!(name_str(&m, &a[5].name), "1.2.0.192.in-addr.arpa");
    match a[6].rdata {
        RData::Soa(s) => {
            assert_eq!(name_str(&m, &s.mname), "ns.example.org");
            assert_eq!(name_str(&m, &s.rname), "hostmaster.example.org");
            assert_eq!(
                (s.serial, s.refresh, s.retry, s.expire, s.minimum),
                (1, 7200, 900, 1_209_600, 86400)
            );
        }
        other => panic!("{other:?}"),
    }
    match a[7].rdata {
        RData::Srv(s) => {
            assert_eq!((s.priority, s.weight, s.port), (20, 1, 5060));
            assert_eq!(name_str(&m, &s.target), "sip.example.org");
        }
        other => panic!("{other:?}"),
    }
    match a[8].rdata {
        RData::Txt(s) => {
            let v: Vec<&[u8]> = m.txt_strings(s).collect();
            assert_eq!(v, vec![&b"hello"[..], b"", b"abc"]);
        }
        other => panic!("{other:?}"),
    }
    match a[9].rdata {
        RData::Svcb {
            priority,
            target,
            params,
        } => {
            assert_eq!(priority, 1);
            assert_eq!(name_str(&m, &target), "svc.example.org");
            assert_eq!(m.bytes(params), &[0, 1, 0, 3, 2, b'h', b'2']);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(a[10].rdata, RData::Dname(n) if name_str(&m, &n) == "new.example.org"));
    assert!(matches!(a[11].rdata, RData::Null(s) if m.bytes(s) == [1, 2]));
    assert!(
        matches!(a[12].rdata, RData::Sshfp { algo: 1, fp_type: 1, fingerprint } if m.bytes(fingerprint) == [0x19, 0x8c, 0x34])
    );
    assert!(matches!(a[13].rdata, RData::Unknown(s) if m.bytes(s) == b"raw"));
    let edns = m.edns().expect("OPT");
    assert_eq!(
        (edns.udp_size, edns.version, edns.ext_rcode, edns.flags),
        (1, 0, 0, 0x8000)
    );
    let opts: Vec<_> = m.opt_options(edns).collect();
    assert_eq!(opts, vec![(10, &[0xab, 0xcd][..]), (8, &[][..])]);
    assert!(m.name_flags.is_empty());
}

#[test]
fn empty_rdata_is_kept_but_not_logged() {
    let b = MsgBuilder::response(1, 0x8180, "a", 1)
        .answer("a", 1, 5, &[])
        .build();
    let m = parse(&b);
    assert_eq!(m.answers()[0].rdata, RData::Empty);
    assert!(!m.answers()[0].is_logged());
}

/// Header + question "www.example.org" at offset 12, then a response body
/// built by the caller.
fn with_question(body: &[u8], counts: [u16; 4]) -> Vec<u8> {
    MsgBuilder::new(9, 0x8180)
        .raw(
            0,
            0,
            &[encode_name("www.example.org"), vec![0, 1, 0, 1]].concat(),
        )
        .raw(1, 0, body)
        .counts(counts)
        .build()
}

#[test]
fn compression_back_pointer_and_pointer_to_pointer() {
    // Answer 1 owner: pointer to the question name (offset 12).
    // Answer 1 rdata: "cdn" + pointer to "example.org" (offset 16).
    // Answer 2 owner: pointer to answer 1's rdata (a label then a pointer).
    let mut body = rr(&[0xc0, 12], 5, 1, 60, &[3, b'c', b'd', b'n', 0xc0, 16]);
    let rdata_at = 12 + 17 + 4 + 12;
    body.extend(rr(&[0xc0, rdata_at as u8], 1, 1, 60, &[1, 2, 3, 4]));
    let b = with_question(&body, [1, 2, 0, 0]);
    let m = parse(&b);
    let a = m.answers();
    assert_eq!(name_str(&m, &a[0].name), "www.example.org");
    assert!(matches!(a[0].rdata, RData::Name(n) if name_str(&m, &n) == "cdn.example.org"));
    assert_eq!(name_str(&m, &a[1].name), "cdn.example.org");
}

#[test]
fn compression_forward_pointer() {
    // The question points forward to a name stored in the answer rdata.
    let q_end = 12 + 2 + 4;
    let target = q_end + 2 + 10;
    let b = MsgBuilder::new(3, 0x8180)
        .raw(0, 1, &[0xc0, target as u8, 0, 1, 0, 1])
        .raw(
            1,
            1,
            &rr(&[0xc0, 12], 5, 1, 60, &encode_name("fwd.example")),
        )
        .build();
    let m = parse(&b);
    assert_eq!(name_str(&m, &m.questions[0].name), "fwd.example");
    assert_eq!(name_str(&m, &m.answers()[0].name), "fwd.example");
}

#[test]
fn compression_self_loop_is_an_error() {
    let b = MsgBuilder::new(3, 0x0100)
        .raw(0, 1, &[0xc0, 12, 0, 1, 0, 1])
        .build();
    assert!(matches!(
        parse_message(&b),
        Err(ParseError::InfiniteLoop { .. })
    ));
}

#[test]
fn compression_self_loop_after_a_pointer_is_tolerated() {
    // Question: pointer to offset 18, where a pointer points to itself.
    let b = MsgBuilder::new(3, 0x0100)
        .raw(0, 1, &[0xc0, 18, 0, 1, 0, 1, 0xc0, 18])
        .build();
    let m = parse(&b);
    assert!(m.name_flags.contains(NameFlags::INFINITE_LOOP));
}

#[test]
fn compression_cycle_hits_the_segment_limit() {
    // Two pointers pointing at each other, reached through a first pointer.
    let b = MsgBuilder::new(3, 0x0100)
        .raw(0, 1, &[0xc0, 18, 0, 1, 0, 1, 0xc0, 20, 0xc0, 18])
        .build();
    let m = parse(&b);
    assert!(m.name_flags.contains(NameFlags::LABEL_LIMIT));
    assert!(m.questions[0].name.is_truncated());
}

#[test]
fn pointer_past_the_end_and_reserved_label_types() {
    let b = MsgBuilder::new(3, 0x0100)
        .raw(0, 1, &[0xff, 0xff, 0, 1, 0, 1])
        .build();
    assert!(matches!(
        parse_message(&b),
        Err(ParseError::PointerOutOfRange { .. })
    ));
    for lead in [0x40u8, 0x80] {
        let b = MsgBuilder::new(3, 0x0100)
            .raw(0, 1, &[lead, b'a', 0, 0, 1, 0, 1])
            .build();
        assert!(
            matches!(parse_message(&b), Err(ParseError::BadLabel { .. })),
            "{lead:#x}"
        );
    }
}

#[test]
fn long_names_are_truncated_and_flagged() {
    let label = "a".repeat(63);
    let long = vec![label.as_str(); 20].join(".");
    let b = MsgBuilder::query(1, &long, 1).build();
    let m = parse(&b);
    assert_eq!(m.name(&m.questions[0].name).len(), MAX_NAME_LEN);
    assert!(m.name_flags.contains(NameFlags::TRUNCATED));
    // Parsing went on past the long name.
    assert_eq!(m.questions[0].rrtype, 1);
}

#[test]
fn too_many_labels_without_pointer_is_an_error() {
    let name = vec!["a"; 300].join(".");
    let b = MsgBuilder::query(1, &name, 1).build();
    assert!(matches!(
        parse_message(&b),
        Err(ParseError::TooManyLabels { .. })
    ));
}

#[test]
fn huge_counts_are_rejected_by_the_header_check() {
    let b = MsgBuilder::query(1, "a", 1)
        .counts([0xffff, 0xffff, 0xffff, 0xffff])
        .build();
    assert_eq!(
        parse_message(&b).err(),
        Some(ParseError::InvalidHeader(HeaderProblem::CountsExceedLength))
    );
    // Counts small enough for the header check but not for the data.
    let b = MsgBuilder::query(1, "a", 1).counts([1, 5, 0, 0]).build();
    assert!(matches!(
        parse_message(&b),
        Err(ParseError::Truncated { .. })
    ));
}

#[test]
fn short_and_empty_inputs() {
    for n in 0..HEADER_LEN {
        assert_eq!(
            parse_message(&vec![0; n]).err(),
            Some(ParseError::ShortHeader { len: n })
        );
    }
    // A bare header: a response with no records is fine, a query is not.
    assert!(parse_message(&[0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]).is_ok());
    assert_eq!(
        parse_message(&[0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]).err(),
        Some(ParseError::InvalidHeader(
            HeaderProblem::RequestWithoutQuestion
        ))
    );
}

#[test]
fn bad_authorities_and_additionals_are_dropped_with_a_flag() {
    let good = MsgBuilder::response(1, 0x8180, "a.b", 1).answer_a("a.b", [1, 2, 3, 4]);
    let b = good
        .clone()
        .raw(2, 1, &[0x40])
        .additional_a("x", [1, 1, 1, 1])
        .build();
    let m = parse(&b);
    assert!(m.invalid_authorities && !m.invalid_additionals);
    assert_eq!(
        (
            m.answers().len(),
            m.authorities().len(),
            m.additionals().len()
        ),
        (1, 0, 0)
    );

    let b = good
        .authority_ns("b", "ns.b")
        .raw(3, 2, &rr(&[0], 1, 1, 1, &[1, 2, 3, 4]))
        .build();
    let m = parse(&b);
    assert!(!m.invalid_authorities && m.invalid_additionals);
    assert_eq!((m.authorities().len(), m.additionals().len()), (1, 0));
}

#[test]
fn bad_rdata_fails_its_section() {
    for (t, rdata) in [
        (15u16, &b"\x00"[..]),    // MX without a name
        (33, b"\x00\x01\x00"),    // SRV too short
        (6, b"\x00\x00\x00\x00"), // SOA without the numbers
        (16, b"\x05ab"),          // TXT whose only string overruns
        (44, b"\x01"),            // SSHFP too short
        (5, b"\x05abc"),          // CNAME label running past its rdata
    ] {
        let b = MsgBuilder::response(1, 0x8180, "q", 1)
            .answer("q", t, 1, rdata)
            .build();
        assert!(parse_message(&b).is_err(), "type {t}");
    }
    // Types Suricata keeps raw never fail.
    for t in [39u16, 64, 65] {
        let b = MsgBuilder::response(1, 0x8180, "q", 1)
            .answer("q", t, 1, b"\x05abc")
            .build();
        assert!(
            matches!(parse(&b).answers()[0].rdata, RData::Unknown(_)),
            "type {t}"
        );
    }
}

#[test]
fn every_truncation_point_fails_cleanly() {
    let b = MsgBuilder::response(7, 0x8180, "www.example.org", 1)
        .answer_cname("www.example.org", "cdn.example.net")
        .answer_a("cdn.example.net", [192, 0, 2, 7])
        .authority_ns("example.net", "ns.example.net")
        .additional_a("ns.example.net", [192, 0, 2, 53])
        .build();
    assert!(parse_message(&b).is_ok());
    for cut in 0..b.len() {
        match parse_message(&b[..cut]) {
            Err(_) => {}
            Ok(m) => assert!(
                m.invalid_additionals || m.invalid_authorities,
                "cut at {cut} parsed as complete"
            ),
        }
    }
}

#[test]
fn pseudo_random_input_never_panics() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seed = MsgBuilder::response(7, 0x8180, "www.example.org", 1)
        .answer_cname("www.example.org", "cdn.example.net")
        .answer("cdn.example.net", 16, 5, b"\x02hi")
        .build();
    for _ in 0..20_000 {
        let mut b = seed.clone();
        for _ in 0..(next() % 6) {
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
        }
        b.truncate(12 + (next() as usize) % b.len());
        if let Ok(m) = parse_message(&b) {
            for r in m
                .answers()
                .iter()
                .chain(m.authorities())
                .chain(m.additionals())
            {
                let _ = m.name(&r.name);
            }
        }
    }
}
