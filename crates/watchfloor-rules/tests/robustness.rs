//! No input may panic the loader. cargo-fuzz covers this in depth
//! (`fuzz/fuzz_targets/rules_parse.rs`); this is a cheap, deterministic
//! stand-in that runs with the normal tests: real rules, mutated at random
//! positions with the characters the grammar cares about.

use watchfloor_rules::{load_str, parse_rule, Classifications, Vars};

const SEEDS: &[&str] = &[
    r#"alert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"ET x \"y\""; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/a.php?id="; startswith; fast_pattern; pcre:"/id=\d{2,}/Ui"; http.header_names; content:!"Referer"; classtype:trojan-activity; sid:2000001; rev:3; metadata:created_at 2020_01_01;)"#,
    r#"alert tcp [10.0.0.0/8,!10.1.0.0/16] ![80,443] <> any 1024: (msg:"b"; content:"|ff|SMB"; depth:4; byte_extract:2,0,len,relative,little; byte_test:2,>,len,2,relative; isdataat:!len,relative; content:"x"; distance:len; within:10; flowbits:isset,a|b; threshold:type limit, track by_src, count 1, seconds 60; sid:2;)"#,
    r#"alert dns any any -> any any (msg:"d"; dns.query; to_lowercase; dotprefix; content:".evil.com"; endswith; bsize:>9; byte_math:bytes 1, offset 0, oper <<, rvalue 2, result r; requires: version >= 7.0.3 < 8 | >= 8; sid:3;)"#,
    r#"alert ip any any -> any any (msg:"c"; ttl:<5; flags:SA+,12; fragbits:!D; ip_proto:<10; tos:!x10; tls.subject:"CN=x"; ssl_version:!tls1.3,tls1.2; vlan.id:100<>200,1; tls_cert_notafter:2015-01-01<>2016; sid:4;)"#,
];

#[test]
fn mutated_rules_never_panic() {
    let vars = Vars::default();
    let classes = Classifications::builtin();
    let mut corpus: Vec<Vec<u8>> = SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    if let Ok(t) = std::fs::read_to_string("/work/shared/rules/et-open/emerging-exploit.rules") {
        corpus.extend(
            t.lines()
                .filter(|l| l.starts_with("alert"))
                .take(200)
                .map(|l| l.as_bytes().to_vec()),
        );
    }
    let specials = b";:\"\\|!,()[]$-<>/ 09x#\n";
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for _ in 0..20_000 {
        let mut d = corpus[next() as usize % corpus.len()].clone();
        for _ in 0..1 + next() % 5 {
            if d.is_empty() {
                break;
            }
            let p = next() as usize % d.len();
            match next() % 5 {
                0 => d[p] = specials[next() as usize % specials.len()],
                1 => {
                    d.remove(p);
                }
                2 => d.insert(p, specials[next() as usize % specials.len()]),
                3 => d.truncate(p),
                _ => d[p] = next() as u8,
            }
        }
        let text = String::from_utf8_lossy(&d);
        let _ = parse_rule(&text, &vars, &classes);
        let r = load_str(&text, "m.rules", &vars, &classes);
        assert_eq!(
            r.counts.seen,
            r.counts.loaded + r.counts.failed + r.counts.duplicates
        );
    }
}
