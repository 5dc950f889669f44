//! `watchfloor rules check`: counts, `file:line: sid N: reason` for every rule
//! that does not load (first line of a multi-line rule), exit status 0/1/2;
//! and the sensor going on without the bad rules.

mod support;

use std::path::Path;
use support::*;
use watchfloor_synth::{SynthConfig, Target};

const GOOD: &str = r#"alert http any any -> any any (msg:"WF login POST"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/login"; startswith; classtype:trojan-activity; sid:9000001; rev:2;)
alert tls any any -> any any (msg:"WF beacon SNI"; tls.sni; content:"cdn-telemetry-sync.net"; classtype:trojan-activity; sid:9000002; rev:1;)
alert udp any any -> any 53 (msg:"WF dns payload"; content:"|01 00 00 01|"; offset:2; depth:4; sid:9000003; rev:1;)
"#;

/// Good rules at lines 1 and 12, bad ones at 4, 6, 7 (a `\` rule over lines
/// 7-9) and 11; a comment and a blank line between.
const MIXED: &str = r#"alert http any any -> any any (msg:"WF login POST"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/login"; startswith; classtype:trojan-activity; sid:9000001; rev:2;)
# a comment

alert tcp any any -> any any (msg:"distance first"; distance:1; content:"a"; sid:2;)
alert tcp any any -> any 80 (msg:"content then distance is fine"; content:"zzzq"; distance:1; sid:3;)
alert tcp any any -> any any (msg:"lua"; lua:script.lua; sid:4;)
alert tcp any any -> any any (msg:"multi-line"; \
    content:"x"; \
    within:3; frobnicate; sid:5;)
#alert tcp any any -> any any (msg:"disabled"; frobnicate; sid:6;)
alert tcp any any -> any any (msg:"no sid";)
alert tls any any -> any any (msg:"WF beacon SNI"; tls.sni; content:"cdn-telemetry-sync.net"; classtype:trojan-activity; sid:9000002; rev:1;)
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The lines `rules check` printed under "failures:".
fn failure_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| l.trim() != "failures:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn good_rules_load_and_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "good.rules", GOOD);
    let r = run(&["rules", "check", &f, "--no-coverage"]);
    r.expect_no_panic().expect_code(0);
    assert!(
        r.stdout.contains("3 of 3 enabled rules loaded"),
        "{}",
        r.stdout
    );
    assert!(failure_lines(&r.stdout).is_empty(), "{}", r.stdout);
    // The per-file table names the file with 3 loaded, 0 failed.
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with(&f))
        .unwrap_or_else(|| panic!("no row for {f}:\n{}", r.stdout));
    let nums: Vec<&str> = row[f.len()..].split_whitespace().collect();
    assert_eq!(nums, ["3", "0"], "{row}");
}

#[test]
fn bad_rules_are_listed_with_file_line_sid_and_reason_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "mixed.rules", MIXED);
    let r = run(&["rules", "check", &f, "--no-coverage"]);
    r.expect_no_panic().expect_code(1);
    let lines = failure_lines(&r.stdout);
    let want_prefixes = [
        format!("{f}:4: sid 2: "),
        format!("{f}:6: sid 4: "),
        format!("{f}:7: sid 5: "),
    ];
    for p in &want_prefixes {
        assert!(
            lines.iter().any(|l| l.starts_with(p.as_str())),
            "no failure line starting {p:?} in {lines:#?}"
        );
    }
    let line_of = |p: &str| lines.iter().find(|l| l.starts_with(p)).unwrap().clone();
    assert_eq!(
        line_of(&want_prefixes[0]),
        format!("{f}:4: sid 2: content modifier 'distance' without a preceding content")
    );
    assert!(line_of(&want_prefixes[1]).contains("'lua'"), "{lines:#?}");
    assert!(
        line_of(&want_prefixes[2]).contains("frobnicate"),
        "{lines:#?}"
    );
    // The rule without a sid fails too, at its line.
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{f}:11:"))),
        "{lines:#?}"
    );
    // Nothing is reported for good, commented-out or blank lines.
    for n in [1, 2, 3, 5, 8, 9, 10, 12] {
        assert!(
            !lines.iter().any(|l| l.starts_with(&format!("{f}:{n}:"))),
            "line {n} reported: {lines:#?}"
        );
    }
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(
        r.stdout.contains("3 of 7 enabled rules loaded"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unreadable_file_exits_2_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such.rules");
    let m = missing.to_str().unwrap();
    let r = run(&["rules", "check", m]);
    r.expect_no_panic().expect_code(2);
    assert!(r.stderr.contains("error"), "{}", r.stderr);
    assert!(
        r.stderr.contains(m),
        "the error names the file: {}",
        r.stderr
    );
    // A directory is not a rule file either.
    let d = tmp.path().to_str().unwrap();
    let r = run(&["rules", "check", d]);
    r.expect_no_panic().expect_code(2);
    assert!(r.stderr.contains(d), "{}", r.stderr);
}

#[test]
fn the_sensor_warns_about_bad_rules_and_runs_the_good_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let cap = tmp.path().join("office.pcap");
    synth(
        &SynthConfig {
            seed: 1,
            target: Target::Bytes(1 << 20),
            ..Default::default()
        },
        &cap,
    );
    let f = write(tmp.path(), "mixed.rules", MIXED);
    let out = tmp.path().join("out");
    let r = sensor(&cap, &out, &["--threads", "1", "-S", &f]);
    r.expect_no_panic().expect_code(0);
    for n in [4, 6, 7] {
        assert!(
            r.stderr.contains(&format!("{f}:{n}: sid")),
            "no warning for line {n}:\n{}",
            r.stderr
        );
    }
    let recs = read_eve(&out);
    let sids: std::collections::BTreeSet<u64> = of_type(&recs, "alert")
        .iter()
        .filter_map(|a| a["alert"]["signature_id"].as_u64())
        .collect();
    assert!(sids.contains(&9000001), "{sids:?}");
    assert!(sids.contains(&9000002), "{sids:?}");
    assert!(
        sids.iter().all(|s| [3, 9000001, 9000002].contains(s)),
        "only loaded rules alert: {sids:?}"
    );
}
