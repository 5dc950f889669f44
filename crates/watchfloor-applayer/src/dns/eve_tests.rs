// Test-only module: compiled under #[cfg(test)] from its parent.
use super::*;
use crate::dns::testutil::{encode_name, MsgBuilder};
use crate::dns::{DnsConfig, DnsState};
use crate::Direction;
use serde_json::json;

/// The exchange of suricata-verify's dns-udp-eve-dig, rebuilt by hand.
fn dig() -> Vec<DnsTransaction> {
    let q = MsgBuilder::query(36146, "www.suricata-ids.org", 1).build();
    let r = MsgBuilder::response(36146, 0x81a0, "www.suricata-ids.org", 1)
        .answer(
            "www.suricata-ids.org",
            5,
            3544,
            &encode_name("suricata-ids.org"),
        )
        .answer("suricata-ids.org", 1, 244, &[192, 0, 78, 24])
        .answer("suricata-ids.org", 1, 244, &[192, 0, 78, 25])
        .build();
    let mut s = DnsState::new(DnsConfig::default());
    s.parse_udp(Direction::ToServer, &q).unwrap();
    s.parse_udp(Direction::ToClient, &r).unwrap();
    s.drain().collect()
}

fn one(tx: &DnsTransaction, opts: &DnsEveOptions) -> serde_json::Value {
    let mut v = eve_dns(tx, opts);
    assert_eq!(v.len(), 1, "{v:?}");
    v.remove(0)
}

fn response(b: MsgBuilder) -> DnsTransaction {
    let mut s = DnsState::new(DnsConfig::default());
    s.parse_udp(Direction::ToClient, &b.build()).unwrap();
    let tx = s.drain().next().unwrap();
    tx
}

#[test]
fn v3_request_and_response() {
    let txs = dig();
    let opts = DnsEveOptions::default();
    assert_eq!(
        one(&txs[0], &opts),
        json!({"version":3,"type":"request","tx_id":0,"id":36146,"flags":"100","rd":true,
               "opcode":0,"rcode":"NOERROR",
               "queries":[{"rrname":"www.suricata-ids.org","rrtype":"A"}]})
    );
    let resp = one(&txs[1], &opts);
    assert_eq!(
        resp,
        json!({"version":3,"type":"response","tx_id":1,"id":36146,"flags":"81a0",
               "qr":true,"rd":true,"ra":true,"opcode":0,"rcode":"NOERROR",
               "queries":[{"rrname":"www.suricata-ids.org","rrtype":"A"}],
               "answers":[
                 {"rrname":"www.suricata-ids.org","rrtype":"CNAME","ttl":3544,"rdata":"suricata-ids.org"},
                 {"rrname":"suricata-ids.org","rrtype":"A","ttl":244,"rdata":"192.0.78.24"},
                 {"rrname":"suricata-ids.org","rrtype":"A","ttl":244,"rdata":"192.0.78.25"}],
               "grouped":{"CNAME":["suricata-ids.org"],"A":["192.0.78.24","192.0.78.25"]}})
    );
    // Field order follows Suricata's.
    let text = serde_json::to_string(&eve_dns_records(&txs[1], &opts)[0]).unwrap();
    assert!(text.starts_with(
        r#"{"version":3,"type":"response","tx_id":1,"id":36146,"flags":"81a0","qr":true"#
    ));
}

#[test]
fn v2_query_and_answer() {
    let txs = dig();
    let opts = DnsEveOptions {
        version: DnsEveVersion::V2,
        ..Default::default()
    };
    assert!(opts.envelope_follows_flow());
    assert_eq!(
        one(&txs[0], &opts),
        json!({"version":2,"type":"query","id":36146,"rrname":"www.suricata-ids.org",
               "rrtype":"A","tx_id":0,"opcode":0})
    );
    let a = one(&txs[1], &opts);
    assert_eq!(a["type"], "answer");
    assert_eq!(a["version"], 2);
    assert_eq!(a["rrname"], "www.suricata-ids.org");
    assert_eq!(a["rrtype"], "A");
    assert_eq!(a["flags"], "81a0");
    assert_eq!(a["rcode"], "NOERROR");
    assert_eq!(a["answers"][2]["rdata"], "192.0.78.25");
    assert_eq!(a["grouped"]["A"][1], "192.0.78.25");
    assert!(a.get("queries").is_none() && a.get("tx_id").is_none());

    // One query record per question, stopping at the first filtered type.
    let b = MsgBuilder::query(5, "a.example", 15)
        .question("b.example", 15)
        .question("c.example", 1)
        .question("d.example", 15)
        .build();
    let mut s = DnsState::new(DnsConfig::default());
    s.parse_udp(Direction::ToServer, &b).unwrap();
    let tx = s.drain().next().unwrap();
    assert_eq!(eve_dns(&tx, &opts).len(), 4);
    let mut mx = opts.clone();
    mx.set_types(["mx"]);
    let recs = eve_dns(&tx, &mx);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1]["rrname"], "b.example");
}

#[test]
fn version_selection() {
    assert_eq!(DnsEveVersion::select(None, None), DnsEveVersion::V3);
    assert_eq!(DnsEveVersion::select(None, Some("2")), DnsEveVersion::V2);
    assert_eq!(
        DnsEveVersion::select(Some("3"), Some("2")),
        DnsEveVersion::V3
    );
    assert_eq!(DnsEveVersion::select(Some("1"), None), DnsEveVersion::V3);
    assert_eq!(DnsEveVersion::select(Some("x"), None), DnsEveVersion::V3);
}

#[test]
fn request_response_type_and_format_filters() {
    let txs = dig();
    let mut o = DnsEveOptions {
        requests: false,
        ..Default::default()
    };
    assert!(eve_dns(&txs[0], &o).is_empty());
    assert_eq!(eve_dns(&txs[1], &o).len(), 1);
    o = DnsEveOptions {
        responses: false,
        ..Default::default()
    };
    assert_eq!(eve_dns(&txs[0], &o).len(), 1);
    assert!(eve_dns(&txs[1], &o).is_empty());

    o = DnsEveOptions::default();
    o.set_types(["mx"]);
    assert!(eve_dns(&txs[0], &o).is_empty() && eve_dns(&txs[1], &o).is_empty());
    o.set_types(["A", "bogus"]);
    assert_eq!(o.types, Some(vec![1]));
    assert_eq!(eve_dns(&txs[1], &o).len(), 1);

    o = DnsEveOptions::default();
    o.set_formats(["detailed"]);
    let v = one(&txs[1], &o);
    assert!(v.get("answers").is_some() && v.get("grouped").is_none());
    o.set_formats(["GROUPED"]);
    let v = one(&txs[1], &o);
    assert!(v.get("answers").is_none() && v.get("grouped").is_some());
    o.set_formats(["nonsense"]);
    assert!(
        !o.detailed && o.grouped,
        "an invalid list keeps what was there"
    );
}

#[test]
fn unknown_question_types_follow_suricatas_bitmask() {
    let b = MsgBuilder::query(1, "svc.example", 64).build();
    let mut s = DnsState::new(DnsConfig::default());
    s.parse_udp(Direction::ToServer, &b).unwrap();
    let tx = s.drain().next().unwrap();
    let v = one(&tx, &DnsEveOptions::default());
    assert_eq!(v["queries"][0]["rrtype"], "64");
    // Any non-default option narrows logging to the types Suricata knows.
    let o = DnsEveOptions {
        responses: false,
        ..Default::default()
    };
    assert!(eve_dns(&tx, &o).is_empty());
}

#[test]
fn rdata_formats() {
    let soa = [
        encode_name("n0g.akamai.net"),
        encode_name("hostmaster.akamai.com"),
        [1_372_967_523u32, 1000, 1000, 1000, 1800]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect(),
    ]
    .concat();
    let srv = [
        &[0, 20, 0, 1, 0x13, 0xc4][..],
        &encode_name("sip-anycast-2.voice.google.com"),
    ]
    .concat();
    let mx = [&[0, 5][..], &encode_name("mx.example.org")].concat();
    let aaaa = [
        0x2a, 0x00, 0x14, 0x50, 0x40, 0x01, 0x08, 0x18, 0, 0, 0, 0, 0, 0, 0x20, 0x04,
    ];
    let sshfp = [1u8, 1, 0x19, 0x8c, 0x34, 0xa9];
    let tx = response(
        MsgBuilder::response(2, 0x8180, "q.example", 255)
            .answer("q.example", 28, 60, &aaaa)
            .answer("q.example", 15, 60, &mx)
            .answer("q.example", 33, 60, &srv)
            .answer("q.example", 16, 3, b"\x05first\x00")
            .answer("q.example", 10, 60, b"VACKD\x03\xc5\xe9\x01")
            .answer("q.example", 44, 60, &sshfp)
            .answer("q.example", 65, 60, b"\x00\x01\x00")
            .answer("q.example", 1, 60, &[1, 2, 3])
            .record(2, "g.akamai.net", 6, 1000, &soa)
            .record(3, "", 41, 0, &[0, 10, 0, 2, 0xab, 0xcd])
            .record(3, "", 41, 0, &[0xff])
            .additional_a("ns.example", [192, 0, 2, 53]),
    );
    let v = one(&tx, &DnsEveOptions::default());
    let a = &v["answers"];
    assert_eq!(a[0]["rdata"], "2a00:1450:4001:0818:0000:0000:0000:2004");
    assert_eq!(a[1]["rdata"], "mx.example.org");
    assert_eq!(
        a[2]["srv"],
        json!({"priority":20,"weight":1,"port":5060,"name":"sip-anycast-2.voice.google.com"})
    );
    assert_eq!(a[3]["rdata"], "first");
    assert_eq!(a[4]["rdata"], "", "each TXT string is its own answer");
    assert_eq!(a[4]["ttl"], 3);
    assert_eq!(a[5]["rdata"], "VACKD\u{3}\\xc5\\xe9\u{1}");
    assert_eq!(
        a[6]["sshfp"],
        json!({"fingerprint":"19:8c:34:a9","algo":1,"type":1})
    );
    assert_eq!(
        a[7],
        json!({"rrname":"q.example","rrtype":"HTTPS","ttl":60})
    );
    assert_eq!(a[8]["rdata"], "", "an A record of the wrong length");
    assert_eq!(a.as_array().map(Vec::len), Some(9));
    let g = &v["grouped"];
    assert_eq!(g["TXT"], json!(["first", ""]));
    assert_eq!(g["MX"], json!(["mx.example.org"]));
    assert_eq!(g["SSHFP"][0]["algo"], 1);
    assert!(g.get("HTTPS").is_none());
    assert_eq!(
        v["authorities"][0],
        json!({"rrname":"g.akamai.net","rrtype":"SOA","ttl":1000,
               "soa":{"mname":"n0g.akamai.net","rname":"hostmaster.akamai.com","serial":1_372_967_523u32,
                      "refresh":1000,"retry":1000,"expire":1000,"minimum":1800}})
    );
    // The OPT with options is logged, the one without is not.
    assert_eq!(
        v["additionals"],
        json!([{"rrname":"","rrtype":"OPT","ttl":0,"opt":[{"code":10,"data":"abcd"}]},
               {"rrname":"ns.example","rrtype":"A","ttl":3600,"rdata":"192.0.2.53"}])
    );
}

#[test]
fn flags_opcode_and_truncation_markers() {
    let long = vec!["b".repeat(63); 20].join(".");
    let tx = response(
        MsgBuilder::response(3, 0xcf43, &long, 1)
            .answer_cname("x.example", &long)
            .answer("x.example", 16, 1, b"\x00"),
    );
    let v = one(&tx, &DnsEveOptions::default());
    assert_eq!(v["flags"], "cf43");
    assert_eq!(v["opcode"], 9);
    assert_eq!(v["rcode"], "NXDOMAIN");
    for k in ["qr", "aa", "tc", "rd", "z"] {
        assert_eq!(v[k], true, "{k}");
    }
    assert!(v.get("ra").is_none());
    assert_eq!(v["queries"][0]["rrname_truncated"], true);
    assert_eq!(v["queries"][0]["rrname"].as_str().map(str::len), Some(1025));
    assert_eq!(v["answers"][0]["rdata_truncated"], true);
    assert_eq!(v["answers"][1]["rdata"], "");
}

#[test]
fn messages_without_questions_or_answers() {
    // A response with no question is not logged (Suricata checks the
    // question types before logging).
    let tx = response(MsgBuilder::new(4, 0x8180).answer_a("x", [1, 1, 1, 1]));
    assert!(eve_dns(&tx, &DnsEveOptions::default()).is_empty());
    // NXDOMAIN without answers: no answers/grouped keys.
    let tx = response(MsgBuilder::response(4, 0x8183, "nx.example", 1));
    let v = one(&tx, &DnsEveOptions::default());
    assert_eq!(v["rcode"], "NXDOMAIN");
    assert!(v.get("answers").is_none() && v.get("grouped").is_none());
}
