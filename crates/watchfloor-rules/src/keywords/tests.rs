//! Keyword tests, mostly with examples from Suricata's rule documentation:
//! each keyword parses into the model, and the documented misuses fail
//! with a precise reason.

use crate::sig::*;
use crate::{parse_rule, Classifications, RuleErrorKind, Vars};

fn p(opts: &str) -> Result<Sig, String> {
    p_hdr("alert tcp any any -> any any", opts)
}

fn p_hdr(hdr: &str, opts: &str) -> Result<Sig, String> {
    let rule = format!("{hdr} ({opts} sid:1;)");
    parse_rule(&rule, &Vars::default(), &Classifications::builtin()).map_err(|e| e.reason)
}

fn ok(opts: &str) -> Sig {
    p(opts).unwrap_or_else(|e| panic!("{opts}: {e}"))
}

fn err(opts: &str) -> String {
    match p(opts) {
        Ok(s) => panic!("{opts}: expected an error, got {s:?}"),
        Err(e) => e,
    }
}

fn content(s: &Sig, list: usize, item: usize) -> &Content {
    match &s.inspections[list].items[item] {
        Item::Content(c) => c,
        i => panic!("not a content: {i:?}"),
    }
}

#[test]
fn meta_keywords() {
    let s = ok(
        r#"msg:"HTTP GET \"x\""; rev:3; gid:2; classtype:trojan-activity; reference:url,example.com/a; reference:cve,2020-1234; metadata:created_at 2010_01_01, former_category X; target:dest_ip;"#,
    );
    assert_eq!(s.msg, "HTTP GET \"x\"");
    assert_eq!((s.sid, s.rev, s.gid), (1, 3, 2));
    assert_eq!(s.classtype.as_deref(), Some("trojan-activity"));
    assert_eq!(s.priority, 1, "the classtype's priority");
    assert_eq!(s.references[1], ("cve".into(), "2020-1234".into()));
    assert_eq!(s.metadata[0], ("created_at".into(), "2010_01_01".into()));
    assert_eq!(s.target, Some(Target::Dst));
    assert_eq!(ok("classtype:trojan-activity; priority:3;").priority, 3);
    assert_eq!(ok("msg:\"x\";").priority, 3, "default");
    assert_eq!(ok("priority:2;").priority, 2);
    assert_eq!(err("classtype:nope;"), "unknown classtype 'nope'");
    assert!(err("priority:0;").contains("priority"));
    assert!(err("rev:1; rev:2;").contains("duplicate 'rev'"));
    assert!(err("target:both;").contains("target"));
    assert!(err("reference:nocomma;").contains("reference"));
    let e = parse_rule(
        "alert tcp any any -> any any (msg:\"x\";)",
        &Vars::default(),
        &Classifications::builtin(),
    )
    .unwrap_err();
    assert_eq!(e.reason, "rule has no sid");
    assert!(err("sid:2;").contains("duplicate 'sid'"));
}

#[test]
fn unsupported_keyword() {
    let e = parse_rule(
        "alert tcp any any -> any any (msg:\"x\"; lua:script.lua; sid:9;)",
        &Vars::default(),
        &Classifications::builtin(),
    )
    .unwrap_err();
    assert_eq!(e.reason, "unsupported keyword 'lua'");
    assert_eq!(e.kind, RuleErrorKind::UnsupportedKeyword);
    assert_eq!(e.sid, Some(9));
}

#[test]
fn content_and_modifiers() {
    let s = ok(
        r#"content:"GET"; nocase; depth:3; offset:0; content:!"|0d 0a|x"; distance:1; within:10; content:"abc"; startswith; endswith;"#,
    );
    let c0 = content(&s, 0, 0);
    assert!(c0.nocase && c0.depth == Some(Val::Lit(3)) && c0.offset == Some(Val::Lit(0)));
    let c1 = content(&s, 0, 1);
    assert!(c1.negated && c1.pattern == b"\r\nx" && c1.is_relative());
    assert_eq!(
        (c1.distance, c1.within),
        (Some(Val::Lit(1)), Some(Val::Lit(10)))
    );
    let c2 = content(&s, 0, 2);
    assert!(c2.startswith && c2.endswith);
    assert_eq!(
        err(r#"distance:1; content:"a";"#),
        "content modifier 'distance' without a preceding content"
    );
    assert_eq!(
        err("nocase;"),
        "content modifier 'nocase' without a preceding content"
    );
    assert!(
        err(r#"content:"abcd"; depth:3;"#).contains("depth 3 is smaller than the content length 4")
    );
    assert!(err(r#"content:"a"; content:"abcd"; within:2;"#).contains("within 2 is smaller"));
    assert!(err(r#"content:"a"; depth:5; distance:0;"#).contains("mixes relative"));
    assert!(err(r#"content:"a"; within:5; offset:1;"#).contains("mixes relative"));
    assert!(err(r#"content:"a"; startswith; depth:5;"#).contains("startswith"));
    assert!(err(r#"content:"a"; depth:5; startswith;"#).contains("startswith"));
    assert!(err(r#"content:"a"; nocase; nocase;"#).contains("twice"));
    assert!(err(r#"content:"";"#).contains("empty"));
    assert!(err(r#"content:"a\x";"#).contains("invalid escape"));
    assert!(err(r#"content:"a;b";"#).contains("unescaped ';'"));
    assert!(err(r#"content:"|4|";"#).contains("hex"));
    assert!(err("content:abc;").contains("quoted"));
}

#[test]
fn fast_pattern() {
    let s = ok(r#"content:"abcdef"; fast_pattern:2,3; content:"x";"#);
    assert_eq!(
        content(&s, 0, 0).fast_pattern,
        FastPattern {
            explicit: true,
            only: false,
            chop: Some((2, 3))
        }
    );
    let s = ok(r#"content:"abc"; fast_pattern:only;"#);
    assert!(content(&s, 0, 0).fast_pattern.only);
    assert!(
        err(r#"content:"a"; fast_pattern; content:"b"; fast_pattern;"#).contains("more than one")
    );
    assert!(err(r#"content:"abc"; fast_pattern:2,3;"#).contains("past the end"));
    ok(r#"content:!"abc"; fast_pattern;"#);
    assert!(err(r#"content:"x"; content:!"abc"; fast_pattern; distance:0;"#).contains("negated"));
}

#[test]
fn sticky_buffers_and_legacy_modifiers() {
    let s = p_hdr(
        "alert http any any -> any any",
        r#"http.method; content:"POST"; http.uri; content:"/a"; startswith; http.header; content:"X-Y"; file.data; content:"z";"#,
    )
    .unwrap();
    let bufs: Vec<Buffer> = s.inspections.iter().map(|i| i.buffer).collect();
    assert_eq!(
        bufs,
        [
            Buffer::HttpMethod,
            Buffer::HttpUri,
            Buffer::HttpHeader,
            Buffer::FileData
        ]
    );

    // Legacy: the content moves to the buffer; modifiers before or after.
    let s = ok(
        r#"content:"GET"; http_method; content:"/x"; http_uri; content:"y"; distance:0; http_uri; uricontent:"z"; content:"p";"#,
    );
    let bufs: Vec<(Buffer, usize)> = s
        .inspections
        .iter()
        .map(|i| (i.buffer, i.items.len()))
        .collect();
    assert_eq!(
        bufs,
        [
            (Buffer::Payload, 1),
            (Buffer::HttpMethod, 1),
            (Buffer::HttpUri, 3)
        ]
    );
    assert_eq!(content(&s, 2, 1).distance, Some(Val::Lit(0)));
    assert!(err(r#"http.uri; content:"a"; http_header;"#).contains("sticky buffer"));
    assert_eq!(
        err("http_uri;"),
        "content modifier 'http_uri' without a preceding content"
    );

    // pkt_data returns to the payload list.
    let s = ok(r#"content:"a"; http.uri; content:"b"; pkt_data; content:"c"; distance:0;"#);
    assert_eq!(s.inspections[0].items.len(), 2);
}

#[test]
fn header_protocol_conflicts() {
    let e = p_hdr("alert dns any any -> any any", r#"http.uri; content:"x";"#).unwrap_err();
    assert_eq!(e, "'http.uri' cannot be used in a rule for protocol 'dns'");
    assert!(p_hdr(
        "alert http2 any any -> any any",
        r#"http.uri; content:"x";"#
    )
    .is_ok());
    assert!(p_hdr("alert tls any any -> any any", r#"dns.query; content:"x";"#).is_err());
    assert!(p_hdr(
        "alert smtp any any -> any any",
        r#"file.data; content:"x";"#
    )
    .is_ok());
    assert!(p_hdr("alert tcp any any -> any any", r#"tls.sni; content:"x";"#).is_ok());
}

#[test]
fn pcre() {
    let s = ok(r#"content:"a"; pcre:"/^b\;c/Rsmi"; pcre:!"/x/U"; pcre:"/(?P<flow_ua>.+)/H";"#);
    let Item::Pcre(pc) = &s.inspections[0].items[1] else {
        panic!()
    };
    assert_eq!(pc.pattern, "^b;c");
    assert!(pc.relative && pc.dotall && pc.multiline && pc.caseless);
    assert_eq!(s.inspections[1].buffer, Buffer::HttpUri);
    let Item::Pcre(pc) = &s.inspections[1].items[0] else {
        panic!()
    };
    assert!(pc.negated);
    let Item::Pcre(pc) = &s.inspections[2].items[0] else {
        panic!()
    };
    assert_eq!(pc.captures, [(VarScope::Flow, "ua".to_string())]);
    let s = ok(r#"pcre:"/([a-z]+)\/(.+)/GU, flow:ua/repo, pkt:name";"#);
    let Item::Pcre(pc) = &s.inspections[0].items[0] else {
        panic!()
    };
    assert!(pc.ungreedy && pc.captures.len() == 2);
    assert!(err(r#"pcre:"/x/q";"#).contains("unknown pcre modifier 'q'"));
    assert!(err(r#"pcre:"x";"#).contains("'/'"));
    assert!(err(r#"http.host; pcre:"/x/U";"#).contains("conflicts"));
    ok(r#"http.response_body; pcre:"/x/Q";"#);
}

#[test]
fn byte_keywords_and_variables() {
    let s = ok(
        r#"content:"x"; byte_extract:2,0,len,relative,little; byte_test:2,!=,len,0,relative; byte_jump:4,len,relative,little,align,post_offset -2; isdataat:!len,relative; content:"y"; distance:len; byte_math:bytes 2, offset 0, oper +, rvalue len, result sum; byte_test:1,&,0x80,sum,bitmask 0xf0;"#,
    );
    assert_eq!(s.vars, ["len", "sum"]);
    let items = &s.inspections[0].items;
    let Item::ByteTest(t) = &items[2] else {
        panic!()
    };
    assert!(t.negated && t.op == ByteOp::Eq && t.value == Val::Var(0));
    let Item::ByteJump(j) = &items[3] else {
        panic!()
    };
    assert!(j.align && j.post_offset == -2 && j.format == NumFormat::Binary(Endian::Little));
    let Item::ByteMath(m) = &items[6] else {
        panic!()
    };
    assert_eq!((m.op, m.rvalue, m.result), (MathOp::Add, Val::Var(0), 1));
    let s = ok("byte_test:4,>,1000,0,string,dec; byte_jump:2,0,dce;");
    let Item::ByteTest(t) = &s.inspections[0].items[0] else {
        panic!()
    };
    assert_eq!(t.format, NumFormat::String(10));
    assert!(err("byte_test:2,>,nope,0;").contains("unknown variable 'nope'"));
    assert!(
        err("byte_test:9,>,1,0;").contains("1 to 8")
            || err("byte_test:9,>,1,0;").contains("0 to 8")
    );
    assert!(err("byte_test:2,~,1,0;").contains("operator"));
    assert!(err("byte_test:2,>,1;").contains("at least 4"));
    assert!(err("byte_math:bytes 2, offset 0, oper +, rvalue 1;").contains("result"));
    assert!(err("byte_jump:2,0,from_beginning,from_end;").contains("exclude"));
    assert!(err(r#"content:"x"; depth:nope;"#).contains("unknown variable"));
}

#[test]
fn sizes() {
    let s = ok(r#"dsize:>10; http.uri; content:"a"; bsize:<=20; urilen:5<>10,raw;"#);
    assert_eq!(s.checks, [Check::Dsize(NumCmp::Gt(10))]);
    assert_eq!(s.inspections[0].items[1], Item::Bsize(NumCmp::Le(20)));
    assert_eq!(s.inspections[1].buffer, Buffer::HttpUriRaw);
    assert_eq!(
        s.inspections[1].items[0],
        Item::Urilen(NumCmp::Range(5, 10))
    );
    assert!(err("bsize:10;").contains("sticky buffer"));
    assert!(err("dsize:1; dsize:2;").contains("twice"));
    assert!(err(r#"http.uri; bsize:3; content:"abcd";"#).contains("can never match"));
}

#[test]
fn base64_and_asn1() {
    let s = ok(
        r#"content:"a"; base64_decode:bytes 10, offset 1, relative; base64_data; content:"b"; asn1:bitstring_overflow, relative_offset -1;"#,
    );
    assert_eq!(
        s.inspections[0].items[1],
        Item::Base64Decode(Base64Decode {
            bytes: Some(10),
            offset: 1,
            relative: true
        })
    );
    assert_eq!(s.inspections[1].buffer, Buffer::Base64Data);
    assert!(err("base64_data;").contains("base64_decode"));
    assert!(err("asn1:frobnicate;").contains("asn1"));
}

#[test]
fn transforms() {
    let s = p_hdr(
        "alert dns any any -> any any",
        r#"dns.query; to_lowercase; dotprefix; content:".x.com"; endswith;"#,
    )
    .unwrap();
    assert_eq!(
        s.inspections[0].transforms,
        [Transform::ToLowercase, Transform::Dotprefix]
    );
    // After matches: a new list of the same buffer sees the transformed bytes.
    let s = ok(r#"http.uri; content:"/?a=dGhp"; from_base64: offset 6; content:"thi";"#);
    assert_eq!(s.inspections.len(), 2);
    assert!(s.inspections[0].transforms.is_empty());
    assert_eq!(s.inspections[1].transforms.len(), 1);
    assert!(err("to_md5;").contains("sticky buffer"));
}

#[test]
fn flow_state_keywords() {
    let s = ok("flow:established,to_client; flowbits:set,a; flowbits:isset,b|c; flowbits:noalert; flowint:n,+,1; xbits:isset,x,track ip_pair; threshold:type both, track by_dst, count 2, seconds 30; detection_filter:track by_src, count 5, seconds 60; stream_size:client,>=,100;");
    assert!(s.noalert);
    assert_eq!(
        s.flow().map(|f| f.dir),
        Some(Some(crate::FlowDir::ToClient))
    );
    assert_eq!(s.threshold.map(|t| t.kind), Some(ThresholdKind::Both));
    assert_eq!(s.detection_filter.map(|t| t.count), Some(5));
    assert!(s.checks.contains(&Check::StreamSize {
        side: StreamSide::Client,
        op: NumCmp::Ge(100)
    }));
    assert!(err("flow:established; flow:to_server;").contains("duplicate 'flow'"));
    assert!(err("threshold:type limit, track by_src, count 1, seconds 1; threshold:type limit, track by_src, count 1, seconds 1;").contains("duplicate"));
    assert!(err("stream_size:client,~,1;").contains("operator"));
}

#[test]
fn packet_keywords() {
    let s = ok("ttl:<5; itype:>30; icode:0; icmp_id:5; icmp_seq:7; ip_proto:!tcp; id:1; tos:!x10; ipopts:lsrr; fragbits:M+; fragoffset:>100; flags:SA,CE; seq:1; ack:2; window:!1024; sameip; ipv4-csum:invalid; tcp.flags:0;");
    assert!(s.checks.contains(&Check::Ttl(NumCmp::Lt(5))));
    assert!(s.checks.contains(&Check::IpProto {
        negated: true,
        op: NumCmp::Eq(6)
    }));
    assert!(s.checks.contains(&Check::Tos {
        negated: true,
        value: 0x10
    }));
    assert!(s.checks.contains(&Check::Fragbits {
        bits: FRAG_MORE,
        modifier: FlagsMod::Plus
    }));
    assert!(s.checks.contains(&Check::TcpFlags(TcpFlags {
        flags: TCP_SYN | TCP_ACK,
        ignore: TCP_CWR | TCP_ECE,
        modifier: FlagsMod::Exact
    })));
    assert!(s.checks.contains(&Check::Checksum {
        layer: "ipv4".into(),
        valid: false
    }));
    assert!(err("ttl:300;").contains("out of range"));
    assert!(err("ipopts:bogus;").contains("ipopts"));
    assert!(err("flags:Q;").contains("flag"));
    assert!(err("icmp_id:70000;").contains("icmp_id"));
    assert!(err("ipv4-csum:maybe;").contains("valid or invalid"));
}

#[test]
fn event_keywords() {
    let s = ok("app-layer-event:http.request_field_too_long; decode-event:ipv4.trunc_pkt; stream-event:3whs_synack_in_wrong_direction; app-layer-event:applayer_mismatch_protocol_both_directions; app-layer-protocol:!http,final;");
    assert!(s.checks.contains(&Check::AppLayerEvent(EventMatch {
        layer: "http".into(),
        event: "request_field_too_long".into()
    })));
    assert!(s.checks.contains(&Check::DecodeEvent(EventMatch {
        layer: "decoder".into(),
        event: "ipv4.trunc_pkt".into()
    })));
    assert!(s.checks.contains(&Check::StreamEvent(EventMatch {
        layer: "stream".into(),
        event: "3whs_synack_in_wrong_direction".into()
    })));
    assert!(s.checks.contains(&Check::AppLayerProtocol {
        negated: true,
        proto: "http".into()
    }));
    assert!(err("app-layer-protocol:gopher;").contains("unknown app-layer protocol"));
}

#[test]
fn app_checks() {
    let s = p_hdr("alert tls any any -> any any", "tls.version:1.2; ssl_version:tls1.0,tls1.1; ssl_state:client_hello; tls.cert_chain_len:>2; tls_cert_notafter:>2015; tls_cert_expired; tls.subject:\"CN=x\"; ja3.hash; content:\"e7eca2baf4458d095b7f45da28c16c34\";").unwrap();
    assert!(s.checks.contains(&Check::TlsVersion(vec![0x0303])));
    assert!(s.checks.contains(&Check::TlsVersion(vec![0x0301, 0x0302])));
    assert!(s.checks.contains(&Check::TlsCertExpired(true)));
    assert_eq!(s.inspections[0].buffer, Buffer::TlsCertSubject);
    assert_eq!(s.inspections[1].buffer, Buffer::Ja3Hash);
    let s = p_hdr(
        "alert dns any any -> any any",
        "dns.opcode:!0; dns.rcode:3; dns.rrtype:1;",
    )
    .unwrap();
    assert!(s.checks.contains(&Check::DnsOpcode {
        negated: true,
        op: NumCmp::Eq(0)
    }));
    assert!(err("tls.version:4.0;").contains("tls.version"));
    assert!(err("vlan.id:5000;").contains("out of range"));
    assert_eq!(
        ok("vlan.id:300,1;").checks,
        [Check::VlanId {
            op: NumCmp::Eq(300),
            layer: Some(1)
        }]
    );
}

#[test]
fn misc_keywords() {
    let s = ok("noalert; tag:session,10,packets; prefilter; bypass; config:logging disable, type tx, scope tx; requires:version >= 7;");
    assert!(s.noalert && s.prefilter);
    assert_eq!(
        s.config.as_deref(),
        Some("logging disable, type tx, scope tx")
    );
    assert_eq!(s.requires.as_deref(), Some("version >= 7"));
    assert_eq!(s.tag.map(|t| t.count), Some(10));
}

/// Every keyword the parser lists as known parses with a typical value.
#[test]
fn every_known_keyword_parses() {
    let sample = |k: &str| -> String {
        let v = match k {
            "msg" => "msg:\"x\";",
            "sid" => return String::new(),
            "rev" | "gid" | "priority" => return format!("{k}:1;"),
            "classtype" => "classtype:misc-activity;",
            "metadata" => "metadata:a b;",
            "reference" => "reference:url,x;",
            "target" => "target:src_ip;",
            "tag" => "tag:session;",
            "config" => "config:logging disable;",
            "requires" => "requires:version >= 7;",
            "content" => "content:\"x\";",
            "uricontent" => "uricontent:\"x\";",
            "depth" | "offset" | "distance" | "within" => return format!("content:\"x\"; {k}:1;"),
            "nocase" | "startswith" | "endswith" | "fast_pattern" | "rawbytes" => {
                return format!("content:\"x\"; {k};")
            }
            "pcre" => "pcre:\"/x/\";",
            "isdataat" => "isdataat:1;",
            "bsize" => "http.uri; bsize:1;",
            "urilen" | "dsize" | "ttl" | "itype" | "icode" | "vlan.layers" => {
                return format!("{k}:1;")
            }
            "byte_test" => "byte_test:1,=,1,0;",
            "byte_jump" => "byte_jump:1,0;",
            "byte_extract" => "byte_extract:1,0,v;",
            "byte_math" => "byte_math:bytes 1, offset 0, oper +, rvalue 1, result r;",
            "base64_decode" | "noalert" | "prefilter" | "bypass" | "sameip" | "ftpbounce" => {
                return format!("{k};")
            }
            "asn1" => "asn1:double_overflow;",
            "flow" => "flow:to_server;",
            "flowbits" => "flowbits:set,a;",
            "flowint" => "flowint:a,=,1;",
            "xbits" => "xbits:set,a,track ip_src;",
            "threshold" => "threshold:type limit, track by_src, count 1, seconds 1;",
            "detection_filter" => "detection_filter:track by_src, count 1, seconds 1;",
            "stream_size" => "stream_size:server,>,1;",
            "icmp_id" | "icmp_seq" | "id" | "seq" | "ack" | "window" | "tos" | "ip_proto"
            | "icmpv6.mtu" | "tls.cert_chain_len" | "dns.opcode" | "dns.rcode" | "dns.rrtype" => {
                return format!("{k}:1;")
            }
            "ipopts" => "ipopts:rr;",
            "fragbits" => "fragbits:M;",
            "fragoffset" => "fragoffset:0;",
            "flags" | "tcp.flags" => return format!("{k}:S;"),
            k if k.ends_with("-csum") => return format!("{k}:valid;"),
            "app-layer-event" => "app-layer-event:http.x;",
            "decode-event" => "decode-event:ipv4.trunc_pkt;",
            "stream-event" => "stream-event:x;",
            "app-layer-protocol" => "app-layer-protocol:http;",
            "vlan.id" => "vlan.id:1;",
            "tls.version" => "tls.version:1.2;",
            "ssl_version" => "ssl_version:tls1.2;",
            "ssl_state" => "ssl_state:client_hello;",
            k if k.contains("notbefore") || k.contains("notafter") => return format!("{k}:>2015;"),
            k if k.contains("expired") || k.contains("cert_valid") => return format!("{k};"),
            "tls.subject" | "tls.issuerdn" | "tls.fingerprint" => return format!("{k}:\"x\";"),
            "from_base64" => "http.uri; from_base64;",
            "xor" => "http.uri; xor:\"0d\";",
            "pcrexform" => "http.uri; pcrexform:\"(x)\";",
            t => return format!("http.uri; {t};"),
        };
        v.to_string()
    };
    for k in crate::keywords::KNOWN_KEYWORDS {
        let opts = sample(k);
        if let Err(e) = p(&opts) {
            panic!("{k}: '{opts}': {e}");
        }
    }
    for k in crate::buffers::keyword_names() {
        let opts = match crate::buffers::lookup(k) {
            Some(crate::buffers::BufKw::Modifier(_)) => format!("content:\"x\"; {k};"),
            _ if k == "base64_data" => "base64_decode; base64_data; content:\"x\";".to_string(),
            _ => format!("{k}; content:\"x\";"),
        };
        if let Err(e) = p(&opts) {
            panic!("{k}: '{opts}': {e}");
        }
    }
}
