//! Tests of loading and matching through the public API.

use super::*;
use std::net::IpAddr;

fn load(text: &str) -> (IndicatorSet, LoadReport) {
    load_str(text, "/etc/watchfloor/test.ioc")
}

fn ok(text: &str) -> IndicatorSet {
    let (s, r) = load(text);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    s
}

fn values(h: Hits<'_>) -> Vec<String> {
    h.map(|i| i.value.to_string()).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn errors(text: &str) -> Vec<String> {
    load(text).1.errors.iter().map(|e| e.to_string()).collect()
}

#[test]
fn set_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<IndicatorSet>();
    check::<std::sync::Arc<IndicatorSet>>();
}

#[test]
fn fields_and_attributes() {
    let s = ok(r#"
# election office block list
ip 198.51.100.7 source=MS-ISAC id=ioc-1 severity=1 tlp=amber+strict desc="C2, seen 2026-10-01" expires=2030-01-01T00:00:00Z
domain Evil.Example.   # trailing comment
"#);
    let i: Vec<_> = s.match_ip(ip("198.51.100.7")).collect();
    assert_eq!(i.len(), 1);
    let i = i[0];
    assert_eq!(i.kind, Kind::Ip);
    assert_eq!(&*i.value, "198.51.100.7");
    assert_eq!(&*i.source, "MS-ISAC");
    assert_eq!(i.id.as_deref(), Some("ioc-1"));
    assert_eq!(i.severity, 1);
    assert_eq!(i.tlp, Some(Tlp::AmberStrict));
    assert_eq!(i.desc.as_deref(), Some("C2, seen 2026-10-01"));
    assert_eq!(i.expires, Some(1_893_456_000));
    assert_eq!(&*i.file, "/etc/watchfloor/test.ioc");
    assert_eq!(i.line, 3);
    let d: Vec<_> = s.match_domain(b"evil.example").collect();
    assert_eq!(d.len(), 1);
    // Defaults: source is the file name, severity 2, no tlp.
    assert_eq!(&*d[0].source, "test.ioc");
    assert_eq!(d[0].severity, DEFAULT_SEVERITY);
    assert_eq!(d[0].tlp, None);
    assert_eq!(&*d[0].value, "Evil.Example.");
    assert_eq!(d[0].scope, Some(DomainScope::Exact));
}

#[test]
fn csv_lines_and_header() {
    let s = ok("\u{feff}type,value,source,severity,tlp,desc\r\n\
         domain,evil.example,MS-ISAC,1,amber,\"Phishing, fake ballot tracker\"\r\n\
         ip,203.0.113.0/24,,,,\r\n\
         ,,,\r\n\
         md5, D41D8CD98F00B204E9800998ECF8427E ,CISA,3,clear,empty file,id=x1\r\n");
    let d = s.match_domain(b"EVIL.example").next().unwrap();
    assert_eq!(&*d.source, "MS-ISAC");
    assert_eq!(d.severity, 1);
    assert_eq!(d.tlp, Some(Tlp::Amber));
    assert_eq!(d.desc.as_deref(), Some("Phishing, fake ballot tracker"));
    let i = s.match_ip(ip("203.0.113.9")).next().unwrap();
    assert_eq!(&*i.source, "test.ioc");
    assert_eq!(i.severity, 2);
    let m = s
        .match_md5(b"d41d8cd98f00b204e9800998ecf8427e")
        .next()
        .unwrap();
    assert_eq!(m.id.as_deref(), Some("x1"));
    assert_eq!(m.desc.as_deref(), Some("empty file"));
}

#[test]
fn csv_quotes_and_escapes() {
    let s = ok(r#"domain evil.example desc="say ""hi"" \"there\" \\ ok"
domain b.example "desc=quoted, whole field""#);
    assert_eq!(
        s.match_domain(b"evil.example")
            .next()
            .unwrap()
            .desc
            .as_deref(),
        Some(r#"say "hi" "there" \ ok"#)
    );
    assert_eq!(
        s.match_domain(b"b.example").next().unwrap().desc.as_deref(),
        Some("quoted, whole field")
    );
}

#[test]
fn defaults_lines() {
    let s = ok("defaults source=EI-ISAC tlp=green severity=1\n\
         ip 192.0.2.1\n\
         ip 192.0.2.2 severity=3 source=local\n");
    let a = s.match_ip(ip("192.0.2.1")).next().unwrap();
    assert_eq!(
        (&*a.source, a.severity, a.tlp),
        ("EI-ISAC", 1, Some(Tlp::Green))
    );
    let b = s.match_ip(ip("192.0.2.2")).next().unwrap();
    assert_eq!(
        (&*b.source, b.severity, b.tlp),
        ("local", 3, Some(Tlp::Green))
    );
}

#[test]
fn bad_lines_are_reported_with_file_and_line() {
    let text = "ip 10.0.0.1/8\n\
        \n\
        # fine\n\
        ip 300.1.1.1\n\
        ip 10.0.0.0/33\n\
        domain http://evil.example/x\n\
        bogus 1.2.3.4\n\
        ip\n\
        md5 abc\n\
        sha256 zz\n\
        domain a..b\n\
        ip 1.2.3.4 severity=5\n\
        ip 1.2.3.4 tlp=purple\n\
        ip 1.2.3.4 colour=red\n\
        ip 1.2.3.4 oops\n\
        ip 1.2.3.4 desc=\"unterminated\n\
        domain bücher.example\n\
        url ftp://x/y\n\
        ip 1.2.3.4, source=x\n\
        ip 1.2.3.4 expires=soon\n\
        domain-suffix *.x.example\n\
        ip 1.2.3.4 source=a source=b\n\
        ja4 nope\n\
        ip 5.6.7.8\n";
    let e = errors(text);
    let f = "/etc/watchfloor/test.ioc";
    let want = vec![
        format!("{f}:1: ip '10.0.0.1/8': host bits set (the network is 10.0.0.0/8)"),
        format!("{f}:4: ip '300.1.1.1': not an IPv4 or IPv6 address"),
        format!("{f}:5: ip '10.0.0.0/33': prefix length 33 is more than 32"),
        format!("{f}:6: domain 'http://evil.example/x': looks like a URL: use type url"),
        format!("{f}:7: unknown type 'bogus' (want ip, domain, domain-suffix, url, ja3, ja3s, ja4, md5, sha1 or sha256)"),
        format!("{f}:8: ip: missing value"),
        format!("{f}:9: md5 'abc': want 32 hex digits, found 3 characters"),
        format!("{f}:10: sha256 'zz': want 64 hex digits, found 2 characters"),
        format!("{f}:11: domain 'a..b': empty label"),
        format!("{f}:12: severity must be 1..4 (1 is the most severe), found '5'"),
        format!("{f}:13: unknown tlp 'purple' (want clear, green, amber, amber+strict or red)"),
        format!("{f}:14: unknown attribute 'colour' (keys: source, id, severity, tlp, desc, expires)"),
        format!("{f}:15: expected key=value, found 'oops' (keys: source, id, severity, tlp, desc, expires)"),
        format!("{f}:16: unterminated quote"),
        format!("{f}:17: domain 'bücher.example': not ASCII: write an international name in its punycode form (xn--...), as it appears in DNS"),
        format!("{f}:18: url 'ftp://x/y': scheme 'ftp' is not matched (http and https only)"),
        format!("{f}:19: 'ip 1.2.3.4' is not a type: separate fields with commas or with whitespace, not both"),
        format!("{f}:20: bad expires 'soon': want RFC 3339 like 2026-11-03T20:00:00Z or a date like 2026-11-03"),
        format!("{f}:21: domain-suffix '*.x.example': write the name without '*.' (domain-suffix already matches every name below it)"),
        format!("{f}:22: source given twice"),
        format!("{f}:23: ja4 'nope': want a JA4 fingerprint like t13d1516h2_8daaf6152771_b186095e22b6"),
    ];
    assert_eq!(e, want);
    let (s, r) = load(text);
    assert_eq!(s.len(), 1);
    assert_eq!(r.counts.lines, 22);
    assert_eq!(r.counts.failed, 21);
    assert_eq!(r.counts.loaded, 1);
}

#[test]
fn non_utf8_line_is_reported() {
    let mut b = Builder::new();
    b.add_bytes(b"ip 1.2.3.4\nip \xff\xfe\nip 1.2.3.5\n", "x.ioc");
    let (s, r) = b.build();
    assert_eq!(s.len(), 2);
    assert_eq!(r.errors[0].to_string(), "x.ioc:2: line is not valid UTF-8");
}

#[test]
fn cidr_edges_and_longest_prefix_first() {
    let s = ok("ip 0.0.0.0/0 id=all4\n\
         ip ::/0 id=all6\n\
         ip 10.0.0.0/8\n\
         ip 10.1.0.0/16\n\
         ip 10.1.2.3/32\n\
         ip 10.1.2.3\n\
         ip 255.255.255.255/32\n\
         ip 2001:db8::/32\n\
         ip 2001:db8::1/128\n\
         ip ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\n");
    // `10.1.2.3/32` and `10.1.2.3` are the same key and source: the later wins.
    assert_eq!(
        values(s.match_ip(ip("10.1.2.3"))),
        ["10.1.2.3", "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]
    );
    assert_eq!(
        values(s.match_ip(ip("10.1.2.4"))),
        ["10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]
    );
    assert_eq!(
        values(s.match_ip(ip("10.2.0.0"))),
        ["10.0.0.0/8", "0.0.0.0/0"]
    );
    assert_eq!(values(s.match_ip(ip("11.0.0.0"))), ["0.0.0.0/0"]);
    assert_eq!(values(s.match_ip(ip("0.0.0.0"))), ["0.0.0.0/0"]);
    assert_eq!(
        values(s.match_ip(ip("255.255.255.255"))),
        ["255.255.255.255/32", "0.0.0.0/0"]
    );
    assert_eq!(
        values(s.match_ip(ip("2001:db8::1"))),
        ["2001:db8::1/128", "2001:db8::/32", "::/0"]
    );
    assert_eq!(
        values(s.match_ip(ip("2001:db8::2"))),
        ["2001:db8::/32", "::/0"]
    );
    assert_eq!(values(s.match_ip(ip("::"))), ["::/0"]);
    assert_eq!(
        values(s.match_ip(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))),
        ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "::/0"]
    );
    let none = ok("ip 10.0.0.0/8\nip 2001:db8::/32");
    assert!(none.match_ip(ip("9.255.255.255")).is_empty());
    assert!(none.match_ip(ip("11.0.0.0")).is_empty());
    assert!(none.match_ip(ip("2001:db9::")).is_empty());
    assert!(IndicatorSet::default().match_ip(ip("1.2.3.4")).is_empty());
}

#[test]
fn v4_mapped_v6_is_v4() {
    let s = ok("ip 192.0.2.0/24\nip ::ffff:198.51.100.7\nip ::ffff:0:0/96 id=mapped\n");
    assert_eq!(values(s.match_ip(ip("::ffff:192.0.2.5"))).len(), 2); // /24 and ::ffff:0:0/96 (= 0.0.0.0/0)
    assert_eq!(
        values(s.match_ip(ip("198.51.100.7"))),
        ["::ffff:198.51.100.7", "::ffff:0:0/96"]
    );
    // Not mapped: IPv4-compatible and NAT64 addresses stay IPv6.
    assert!(s.match_ip(ip("::192.0.2.5")).is_empty());
    assert!(s.match_ip(ip("64:ff9b::192.0.2.5")).is_empty());
}

#[test]
fn sources_merge_same_source_replaces() {
    let (s, r) = load(
        "domain evil.example source=A desc=first\n\
         domain evil.example source=B\n\
         domain EVIL.example. source=A desc=second\n",
    );
    assert_eq!(s.len(), 2);
    assert_eq!(r.counts.replaced, 1);
    assert_eq!(
        r.warnings[0].to_string(),
        "/etc/watchfloor/test.ioc:3: domain EVIL.example.: replaces /etc/watchfloor/test.ioc:1 (same value and source; the later line wins)"
    );
    let h: Vec<_> = s.match_domain(b"evil.example").collect();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (&*h[0].source, h[0].desc.as_deref(), h[0].line),
        ("A", Some("second"), 3)
    );
    assert_eq!(&*h[1].source, "B");
}

#[test]
fn domains_exact_subdomain_suffix() {
    let s = ok("domain exact.example\n\
         domain *.wild.example\n\
         domain-suffix suffix.example\n\
         domain-suffix example\n\
         domain a.b.suffix.example\n");
    let v = |n: &str| values(s.match_domain(n.as_bytes()));
    assert_eq!(v("exact.example"), ["exact.example", "example"]);
    assert_eq!(v("www.exact.example"), ["example"]);
    assert_eq!(v("wild.example"), ["example"]);
    assert_eq!(v("a.wild.example"), ["*.wild.example", "example"]);
    assert_eq!(v("a.b.wild.example"), ["*.wild.example", "example"]);
    assert_eq!(v("suffix.example"), ["suffix.example", "example"]);
    assert_eq!(
        v("a.b.suffix.example"),
        ["a.b.suffix.example", "suffix.example", "example"]
    );
    assert_eq!(v("x.a.b.suffix.example"), ["suffix.example", "example"]);
    assert_eq!(v("WWW.Suffix.EXAMPLE."), ["suffix.example", "example"]);
    assert!(s.match_domain(b"example.com").is_empty());
    assert!(s.match_domain(b"notsuffix.example.org").is_empty());
    assert!(s.match_domain(b"xsuffix.example2").is_empty());
    // A label boundary is required: `xexample` is not below `example`.
    assert!(s.match_domain(b"xexample").is_empty());
    assert!(s.match_domain(b"").is_empty());
    assert!(s.match_domain(b".").is_empty());
    assert!(!s.match_domain(b"..example").is_empty());
}

#[test]
fn idn_punycode_is_compared_as_is() {
    let s = ok("domain xn--bcher-kva.example\n");
    assert!(!s.match_domain(b"xn--bcher-kva.example").is_empty());
    assert!(!s.match_domain(b"XN--BCHER-KVA.EXAMPLE").is_empty());
    assert!(s.match_domain("bücher.example".as_bytes()).is_empty());
}

#[test]
fn long_names_and_many_labels() {
    let s = ok("domain-suffix evil.example\n");
    let mut long = "a.".repeat(5000);
    long.push_str("evil.example");
    assert_eq!(values(s.match_domain(long.as_bytes())), ["evil.example"]);
    let dots = ".".repeat(10_000) + "evil.example";
    assert!(!s.match_domain(dots.as_bytes()).is_empty());
    assert!(s.match_domain(&[0xff; 10_000]).is_empty());
    let max = format!("{}.example", ["a"; 122].join("."));
    assert_eq!(max.len(), 251);
    let s = ok(&format!("domain-suffix {max}\n"));
    assert!(!s.match_domain(format!("x.{max}").as_bytes()).is_empty());
    let e = errors(&format!("domain {}\n", "a".repeat(64)));
    assert!(e[0].ends_with("is longer than 63 characters"), "{e:?}");
    let e = errors(&format!("domain {}.example\n", ["abc"; 70].join(".")));
    assert!(e[0].ends_with("longer than 253 characters"), "{e:?}");
}

#[test]
fn urls() {
    let s = ok("url http://Evil.Example/Login.php?a=1\n\
         url https://evil.example:443/%7euser/\n\
         url evil.example:8080/x\n\
         url http://evil.example\n");
    let v = |h: &str, u: &str| values(s.match_url(h.as_bytes(), u.as_bytes()));
    assert_eq!(
        v("evil.example", "/Login.php?a=1"),
        ["http://Evil.Example/Login.php?a=1"]
    );
    assert_eq!(v("EVIL.EXAMPLE:80", "/Login.php?a=1").len(), 1);
    assert!(v("evil.example", "/login.php?a=1").is_empty()); // path case matters
    assert!(v("evil.example", "/Login.php?a=2").is_empty());
    assert!(v("evil.example", "/Login.php").is_empty());
    assert_eq!(
        v("evil.example", "/~user/"),
        ["https://evil.example:443/%7euser/"]
    );
    assert_eq!(v("evil.example", "/%7Euser/").len(), 1);
    assert_eq!(v("evil.example:8080", "/x"), ["evil.example:8080/x"]);
    assert!(v("evil.example", "/x").is_empty());
    assert_eq!(v("evil.example", "/"), ["http://evil.example"]);
    assert_eq!(v("proxy", "http://evil.example/Login.php?a=1").len(), 1);
    assert!(v("evil.example", &"/a".repeat(100_000)).is_empty());
    assert!(IndicatorSet::default().match_url(b"a", b"/").is_empty());
}

#[test]
fn hashes_and_fingerprints() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let ja4 = "t13d1516h2_8daaf6152771_b186095e22b6";
    let s = ok(&format!(
        "md5 {md5}\nsha1 {}\nsha256 {sha256}\nja3 e7d705a3286e19ea42f587b344ee6865\n\
         ja3s 15af977ce25de452b96affa2addb1036\nja4 {}\n",
        sha1.to_uppercase(),
        ja4.to_uppercase()
    ));
    assert_eq!(s.match_md5(md5.to_uppercase().as_bytes()).count(), 1);
    assert_eq!(s.match_sha1(sha1.as_bytes()).count(), 1);
    assert_eq!(s.match_sha256(sha256.as_bytes()).count(), 1);
    assert_eq!(s.match_file_hash(sha256.as_bytes()).count(), 1);
    assert_eq!(s.match_file_hash(sha1.as_bytes()).count(), 1);
    assert_eq!(s.match_file_hash(md5.as_bytes()).count(), 1);
    assert_eq!(s.match_file_hash(b"abc").count(), 0);
    assert_eq!(s.match_ja3(b"E7D705A3286E19EA42F587B344EE6865").count(), 1);
    // JA3 and JA3S are separate sets; an MD5 file hash is not a JA3.
    assert_eq!(s.match_ja3s(b"e7d705a3286e19ea42f587b344ee6865").count(), 0);
    assert_eq!(s.match_ja3(md5.as_bytes()).count(), 0);
    assert_eq!(s.match_ja3s(b"15af977ce25de452b96affa2addb1036").count(), 1);
    assert_eq!(s.match_ja4(ja4.as_bytes()).count(), 1);
    assert_eq!(
        s.match_ja4(b"t13d1516h2_8daaf6152771_b186095e22b7").count(),
        0
    );
    assert_eq!(s.match_ja4(b"").count(), 0);
    assert_eq!(s.match_md5(b"d41d8cd98f00b204e9800998ecf8427g").count(), 0);
    let d: [u8; 16] = [
        0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42,
        0x7e,
    ];
    assert_eq!(s.match_md5_bytes(&d).count(), 1);
    assert!(s.has(Kind::Ja4) && !s.has(Kind::Ip) && !s.has(Kind::Url));
    let r = load_str(&format!("md5 {md5}\nja3 {md5}\n"), "x").1;
    assert_eq!((r.counts.of(Kind::Md5), r.counts.of(Kind::Ja3)), (1, 1));
}

#[test]
fn expiry() {
    let text = "ip 192.0.2.1 expires=2026-11-03\nip 192.0.2.2 expires=2026-11-05T00:00:00Z\nip 192.0.2.3\n";
    let mut b = Builder::new();
    b.drop_expired_at(parse_time("2026-11-04T00:00:00Z"));
    b.add_str(text, "x");
    let (s, r) = b.build();
    assert_eq!((s.len(), r.counts.expired), (2, 1));
    let (s, _) = load_str(text, "x");
    assert_eq!(s.len(), 3);
    let i = s.match_ip(ip("192.0.2.1")).next().unwrap();
    assert!(!i.is_expired(parse_time("2026-11-03T23:59:59Z")));
    assert!(i.is_expired(parse_time("2026-11-04T00:00:00Z")));
}

fn parse_time(s: &str) -> i64 {
    crate::time::parse_expires(s).unwrap()
}

#[test]
fn counts() {
    let (_, r) = load(
        "type,value,source\n\
         defaults tlp=green\n\
         ip,1.2.3.4\n\
         ip 1.2.3.4\n\
         domain a.example\n\
         domain-suffix a.example\n\
         bad line\n",
    );
    let c = &r.counts;
    assert_eq!(
        (c.lines, c.loaded, c.replaced, c.failed, c.directives),
        (7, 3, 1, 1, 2)
    );
    assert_eq!(
        c.lines,
        c.loaded + c.replaced + c.failed + c.expired + c.directives
    );
    assert_eq!(
        (c.of(Kind::Ip), c.of(Kind::Domain), c.of(Kind::DomainSuffix)),
        (1, 1, 1)
    );
}

#[test]
fn programmatic_add() {
    let mut b = Builder::new();
    b.add(
        Kind::Domain,
        "*.evil.example",
        Attrs {
            source: Some("stix-feed".into()),
            id: Some("indicator--1".into()),
            ..Attrs::default()
        },
        "feed.json",
        0,
    )
    .unwrap();
    assert!(b
        .add(Kind::Ip, "nope", Attrs::default(), "feed.json", 0)
        .is_err());
    let (s, r) = b.build();
    assert_eq!(r.errors.len(), 1);
    let h = s.match_domain(b"x.evil.example").next().unwrap();
    assert_eq!(h.id.as_deref(), Some("indicator--1"));
    assert_eq!(h.scope, Some(DomainScope::Subdomains));
}

/// A tiny deterministic generator for the randomized tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn ip_matches_brute_force() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..40 {
        let mut text = String::new();
        let mut nets: Vec<(u32, u32)> = Vec::new();
        for _ in 0..(1 + r.below(60)) {
            // Few distinct top bits so prefixes nest and collide.
            let addr = ((r.below(4) as u32) << 30) | (r.next() as u32 & 0x00ff_ffff);
            let len = r.below(33) as u32;
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let net = addr & mask;
            nets.push((net, len));
            text.push_str(&format!("ip {}/{}\n", std::net::Ipv4Addr::from(net), len));
        }
        let (s, rep) = load_str(&text, "r");
        assert!(rep.errors.is_empty());
        for _ in 0..500 {
            let a = if r.below(2) == 0 {
                let (n, _) = nets[r.below(nets.len() as u64) as usize];
                n.wrapping_add(r.below(3) as u32).wrapping_sub(1)
            } else {
                ((r.below(4) as u32) << 30) | (r.next() as u32 & 0x00ff_ffff)
            };
            let mut want: Vec<(u32, u32)> = nets
                .iter()
                .copied()
                .filter(|&(n, l)| {
                    let mask = if l == 0 { 0 } else { u32::MAX << (32 - l) };
                    a & mask == n
                })
                .collect();
            want.sort_by_key(|x| std::cmp::Reverse(x.1));
            want.dedup();
            let got: Vec<(u32, u32)> = s
                .match_ipv4(a.into())
                .map(|i| {
                    let (n, l) = i.value.split_once('/').unwrap();
                    (
                        u32::from(n.parse::<std::net::Ipv4Addr>().unwrap()),
                        l.parse().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                got,
                want,
                "round {round} addr {}",
                std::net::Ipv4Addr::from(a)
            );
        }
    }
}

#[test]
fn domain_matches_brute_force() {
    let labels = ["a", "b", "c", "example", "x"];
    let mut r = Rng(12345);
    for _ in 0..40 {
        let mut text = String::new();
        let mut inds: Vec<(String, u8)> = Vec::new();
        for _ in 0..(1 + r.below(20)) {
            let n = 1 + r.below(4) as usize;
            let name: Vec<&str> = (0..n).map(|_| labels[r.below(5) as usize]).collect();
            let name = name.join(".");
            let kind = r.below(3) as u8;
            match kind {
                0 => text.push_str(&format!("domain {name} source={}\n", inds.len())),
                1 => text.push_str(&format!("domain *.{name} source={}\n", inds.len())),
                _ => text.push_str(&format!("domain-suffix {name} source={}\n", inds.len())),
            }
            inds.push((name, kind));
        }
        let (s, rep) = load_str(&text, "r");
        assert!(rep.errors.is_empty());
        for _ in 0..300 {
            let n = 1 + r.below(6) as usize;
            let q: Vec<&str> = (0..n).map(|_| labels[r.below(5) as usize]).collect();
            let q = q.join(".");
            let mut want: Vec<(usize, usize)> = Vec::new(); // (name len desc, index)
            for (i, (name, kind)) in inds.iter().enumerate() {
                let below = q.ends_with(&format!(".{name}"));
                let same = q == *name;
                let m = match kind {
                    0 => same,
                    1 => below,
                    _ => same || below,
                };
                if m {
                    want.push((name.len(), i));
                }
            }
            want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let want: Vec<String> = want.iter().map(|&(_, i)| i.to_string()).collect();
            let got: Vec<String> = s
                .match_domain(q.as_bytes())
                .map(|i| i.source.to_string())
                .collect();
            assert_eq!(got, want, "{q}\n{text}");
        }
    }
}

#[test]
fn random_input_never_panics() {
    const PIECES: &[&str] = &[
        "ip ",
        "domain ",
        "domain-suffix ",
        "url ",
        "ja3 ",
        "ja4 ",
        "md5 ",
        "sha1 ",
        "sha256 ",
        "type,value,desc\n",
        "defaults ",
        "10.0.0.0/8",
        "::/0",
        "::ffff:1.2.3.4/120",
        "*.",
        "a.b",
        "http://",
        "%7e",
        "%",
        "/",
        "?",
        "#",
        "\"",
        "\"\"",
        "\\",
        ",",
        " ",
        "\t",
        "\n",
        "\r\n",
        "source=",
        "severity=",
        "tlp=amber",
        "desc=",
        "expires=2026-11-03",
        "=",
        ".",
        ":",
        "d41d8cd98f00b204e9800998ecf8427e",
        "t13d1516h2_8daaf6152771_b186095e22b6",
        "\u{feff}",
        "ü",
        "\0",
    ];
    let mut r = Rng(0xdead_beef);
    for _ in 0..20_000 {
        let mut data: Vec<u8> = Vec::new();
        for _ in 0..r.below(40) {
            if r.below(4) == 0 {
                data.push(r.next() as u8);
            } else {
                data.extend_from_slice(PIECES[r.below(PIECES.len() as u64) as usize].as_bytes());
            }
        }
        let mut b = Builder::new();
        b.add_bytes(&data, "fuzz.ioc");
        let (s, rep) = b.build();
        let c = &rep.counts;
        assert_eq!(
            c.lines,
            c.loaded + c.replaced + c.failed + c.expired + c.directives
        );
        assert_eq!(c.loaded, s.len());
        for e in &rep.errors {
            let _ = e.to_string();
        }
        for chunk in data.chunks(13) {
            let _ = s.match_domain(chunk).count();
            let _ = s.match_url(chunk, &data).count();
            let _ = s.match_ja4(chunk).count();
            let _ = s.match_file_hash(chunk).count();
        }
        let _ = s.match_ip(ip("10.1.2.3")).count();
        let _ = s.match_ip(ip("::ffff:1.2.3.4")).count();
        // Every loaded indicator matches its own value.
        for i in s.indicators() {
            let v = i.value.as_bytes();
            let hit = match i.kind {
                Kind::Ip => true, // checked by the brute-force test
                Kind::Domain | Kind::DomainSuffix => {
                    let v = v
                        .strip_prefix(b"*.")
                        .map_or(v.to_vec(), |r| [b"x.", r].concat());
                    s.match_domain(&v).any(|h| std::ptr::eq(h, i))
                }
                Kind::Url => {
                    s.match_url(b"", v).any(|h| std::ptr::eq(h, i)) || !v.starts_with(b"http")
                }
                Kind::Ja3 => s.match_ja3(v).any(|h| std::ptr::eq(h, i)),
                Kind::Ja3s => s.match_ja3s(v).any(|h| std::ptr::eq(h, i)),
                Kind::Ja4 => s.match_ja4(v).any(|h| std::ptr::eq(h, i)),
                Kind::Md5 | Kind::Sha1 | Kind::Sha256 => {
                    s.match_file_hash(v).any(|h| std::ptr::eq(h, i))
                }
            };
            assert!(hit, "{i:?}");
        }
    }
}
