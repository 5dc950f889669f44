// Test-only module: compiled under #[cfg(test)] from its parent.
use super::*;
use serde_json::json;

fn holds(key: &str, expected: Value, event: Value) -> bool {
    key_holds(key, &expected, &event)
}

#[test]
fn lookup_paths_and_indexes() {
    let ev = json!({"dns": {"answers": [{"rrname": "a"}, {"rrname": null}]}, "s": "héllo",
                    "a.b": 1, "x[0]": {"y": 2}, "n": null});
    assert_eq!(
        lookup("dns.answers[0].rrname", &ev).as_deref(),
        Some(&json!("a"))
    );
    assert_eq!(
        lookup("dns.answers[1].rrname", &ev),
        None,
        "null is missing"
    );
    assert_eq!(lookup("dns.answers[2].rrname", &ev), None, "out of range");
    assert_eq!(lookup("dns.answers[99999999999999999999999]", &ev), None);
    assert_eq!(
        lookup("s[1]", &ev).as_deref(),
        Some(&json!("é")),
        "code point"
    );
    assert_eq!(lookup("s[5]", &ev), None);
    assert_eq!(lookup("s[0].x", &ev), None);
    assert_eq!(lookup("a.b", &ev), None, "dots always split");
    assert_eq!(
        lookup("x[0][0]", &ev),
        None,
        "greedy name 'x[0]' then index"
    );
    assert_eq!(lookup("nope", &ev), None);
    assert_eq!(lookup("n", &ev), None);
    assert_eq!(lookup("dns.answers.__len", &ev).as_deref(), Some(&json!(2)));
    assert_eq!(lookup("s.__len", &ev).as_deref(), Some(&json!(5)));
    assert_eq!(
        lookup("n.__len", &ev).as_deref(),
        Some(&json!(-1)),
        "len(None)"
    );
    assert_eq!(lookup("nope.__len", &ev), None, "missing before __len");
    assert_eq!(lookup("__len", &ev).as_deref(), Some(&json!(5)));
    assert_eq!(
        lookup("s.__gt.whatever", &ev).as_deref(),
        Some(&json!("héllo"))
    );
    assert_eq!(lookup("k", &json!([1])), None, "non-object event");
    assert_eq!(split_index("a[0]\n"), Some(("a", Some(0))));
    assert_eq!(split_index("a[]"), None);
    assert_eq!(split_index("a[-1]"), None);
}

#[test]
fn equality_operators() {
    assert!(holds("v", json!(1), json!({"v": 1.0})));
    assert!(holds("v", json!(1), json!({"v": true})));
    assert!(holds("v", json!(true), json!({"v": 1})));
    assert!(!holds("v", json!(1), json!({"v": "1"})));
    assert!(holds("v", json!(null), json!({"v": null})));
    assert!(holds("v", json!(null), json!({})), "missing equals null");
    assert!(!holds("v", json!(null), json!({"v": 0})));
    assert!(holds(
        "v",
        json!([1, {"a": 1}]),
        json!({"v": [true, {"a": 1.0}]})
    ));
    assert!(
        holds("v.__len", json!(-1), json!({"v": 7})),
        "__len of number"
    );
    assert!(holds("v.__len", json!(-1), json!({"v": false})));
    assert!(holds(
        "v.__len",
        json!(3),
        json!({"v": {"a": 1, "b": 2, "c": 3}})
    ));
    assert!(
        !holds("v.__len", json!(0), json!({})),
        "missing stays missing"
    );
    assert!(holds("v.__len", json!(null), json!({})));
}

#[test]
fn string_and_membership_operators() {
    let ev = json!({"s": "hello", "l": [1, "x", [2]], "o": {"k": 1}, "n": 5});
    assert!(holds("s.__contains", json!("ell"), ev.clone()));
    assert!(!holds("s.__contains", json!(1), ev.clone()));
    assert!(holds("s.__find", json!("lo"), ev.clone()));
    assert!(
        !holds("l.__find", json!("x"), ev.clone()),
        "__find is strings only"
    );
    assert!(holds("l.__contains", json!("x"), ev.clone()));
    assert!(holds("l.__contains", json!(1.0), ev.clone()));
    assert!(holds("l.__contains", json!(true), ev.clone()));
    assert!(holds("l.__contains", json!([2]), ev.clone()));
    assert!(!holds("l.__contains", json!(2), ev.clone()));
    assert!(holds("o.__contains", json!("k"), ev.clone()));
    assert!(!holds("o.__contains", json!(1), ev.clone()));
    assert!(!holds("n.__contains", json!(5), ev.clone()));
    assert!(!holds("missing.__contains", json!("x"), ev.clone()));
    assert!(holds("s.__startswith", json!("he"), ev.clone()));
    assert!(holds("s.__endswith", json!("llo"), ev.clone()));
    assert!(!holds("s.__endswith", json!(1), ev.clone()));
    assert!(!holds("l.__startswith", json!(1), ev.clone()));
    assert!(holds("s.__startswith", json!(""), ev));
}

#[test]
fn comparison_operators() {
    let ev = json!({"n": 5, "f": 2.5, "b": true, "s": "9"});
    assert!(holds("n.__gt", json!(4), ev.clone()));
    assert!(!holds("n.__gt", json!(5), ev.clone()));
    assert!(holds("n.__gte", json!(5.0), ev.clone()));
    assert!(holds("f.__lt", json!(3), ev.clone()));
    assert!(holds("f.__lte", json!(2.5), ev.clone()));
    assert!(
        !holds("b.__gt", json!(0), ev.clone()),
        "bools never compare"
    );
    assert!(!holds("n.__gt", json!(false), ev.clone()));
    assert!(!holds("s.__gt", json!(1), ev.clone()));
    assert!(!holds("missing.__lt", json!(1), ev));
}

#[test]
fn has_key() {
    let ev = json!({"a": {"b": 1}, "n": null, "None": 1, "1": 2});
    assert!(holds("has-key", json!("a.b"), ev.clone()));
    assert!(holds("has-key", json!(["a", "a.b"]), ev.clone()));
    assert!(
        !holds("has-key", json!(["a", "n"]), ev.clone()),
        "null is absent"
    );
    assert!(holds("not-has-key", json!(["n", "zz"]), ev.clone()));
    assert!(!holds("not-has-key", json!(["n", "a"]), ev.clone()));
    assert!(holds("has-key", json!([]), ev.clone()));
    assert!(holds("not-has-key", json!([]), ev.clone()));
    assert!(
        holds("has-key", json!(null), ev.clone()),
        "str(None) is 'None'"
    );
    assert!(holds("has-key", json!(1), ev));
}

fn case_with(checks: Value) -> Case {
    serde_json::from_value(json!({"name": "t", "checks": checks})).unwrap()
}

fn dir_with(eve: Option<&str>, status: Option<&str>) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    if let Some(e) = eve {
        std::fs::write(d.path().join("eve.json"), e).unwrap();
    }
    if let Some(s) = status {
        std::fs::write(d.path().join("exit-status"), s).unwrap();
    }
    d
}

fn judge(checks: Value, eve: Option<&str>, status: Option<&str>, opts: &CheckOptions) -> Verdict {
    let d = dir_with(eve, status);
    judge_case(&case_with(checks), d.path(), opts)
}

fn count(n: i64, m: Value) -> Value {
    json!({"filter": {"count": n, "match": m}})
}

#[test]
fn case_verdicts() {
    let o = CheckOptions::default();
    let eve =
        "{\"event_type\":\"alert\",\"alert\":{\"sid\":1}}\n\n \u{c}\n{\"event_type\":\"flow\"}\n";
    let checks = json!([
        count(1, json!({"event_type": "alert", "alert.sid": 1})),
        count(2, json!({})),
        count(2, json!(null))
    ]);
    assert_eq!(
        judge(checks.clone(), Some(eve), None, &o),
        Verdict::Pass { checks: 3 }
    );
    let v = judge(
        json!([
            count(2, json!({})),
            count(3, json!({"event_type": "alert"}))
        ]),
        Some(eve),
        None,
        &o,
    );
    assert_eq!(
        v,
        Verdict::Fail {
            check_index: Some(2),
            reason: r#"expected 3 matches, got 1 for {"event_type": "alert"}"#.into()
        }
    );
    assert_eq!(
        v.line("t"),
        r#"FAIL t: check #2: expected 3 matches, got 1 for {"event_type": "alert"}"#
    );
    // count compares with Python equality too.
    let c = json!([{"filter": {"count": 1.0, "match": {"event_type": "flow"}}},
                   {"filter": {"count": true, "match": {"event_type": "flow"}}}]);
    assert!(matches!(
        judge(c, Some(eve), None, &o),
        Verdict::Pass { .. }
    ));
    let c = json!([{"filter": {"count": "1", "match": {}, "comment": "as text"}}]);
    let v = judge(c, Some(eve), None, &o);
    assert_eq!(
        v.to_string(),
        "check #1: expected 1 matches, got 2 for as text"
    );
    // No checks at all passes, as in check.py.
    assert_eq!(
        judge(json!([]), None, None, &o),
        Verdict::Pass { checks: 0 }
    );
}

#[test]
fn broken_output() {
    let o = CheckOptions::default();
    let d = dir_with(None, None);
    let v = judge_case(&case_with(json!([count(0, json!({}))])), d.path(), &o);
    let want = format!(
        "check #1: eve output missing: {}",
        d.path().join("eve.json").display()
    );
    assert_eq!(v.to_string(), want);
    let v = judge(json!([count(0, json!({}))]), Some("{}\n{nope\n"), None, &o);
    let Verdict::Fail { reason, .. } = v else {
        panic!()
    };
    assert!(
        reason
            .ends_with("line 2: invalid JSON (Expecting property name enclosed in double quotes)"),
        "{reason}"
    );
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("eve.json"), b"{}\n\"\xe2\x82\n").unwrap();
    let v = judge_case(&case_with(json!([count(0, json!({}))])), d.path(), &o);
    assert!(
        v.to_string()
            .ends_with("line 2: not UTF-8 (invalid continuation byte)"),
        "{v}"
    );
    // The first failure decides, even after a fatal one.
    let v = judge(json!([{"bogus": 1}, count(0, json!({}))]), None, None, &o);
    assert_eq!(v.to_string(), "check #1: unsupported check type 'bogus'");
    let v = judge(json!([{"filter": {"match": {}}}]), None, None, &o);
    assert_eq!(
        v.to_string(),
        r#"check #1: malformed filter check (no count): {"match": {}}"#
    );
}

#[test]
fn exit_status() {
    let o = CheckOptions::default();
    let c = json!([count(0, json!({}))]);
    for (text, ok) in [
        ("0", true),
        (" 0\n", true),
        ("-0", true),
        ("0_0", true),
        ("00", true),
        ("2", false),
        ("", false),
        ("x", false),
        ("1__0", false),
        ("0_", false),
    ] {
        let v = judge(c.clone(), Some(""), Some(text), &o);
        assert_eq!(matches!(v, Verdict::Pass { .. }), ok, "{text:?}: {v}");
    }
    assert_eq!(
        judge(c.clone(), Some(""), Some("+07\n"), &o).to_string(),
        "the run failed (exit-status 7)"
    );
    assert_eq!(
        judge(c.clone(), Some(""), Some("junk"), &o).to_string(),
        "the run failed (exit-status 1)"
    );
    let strict = CheckOptions {
        require_exit_status: true,
        ..CheckOptions::default()
    };
    let v = judge(c.clone(), Some(""), None, &strict);
    assert!(
        v.to_string().starts_with("no exit-status file beside "),
        "{v}"
    );
    assert!(matches!(
        judge(c, Some(""), Some("0"), &strict),
        Verdict::Pass { .. }
    ));
}

#[test]
fn guards_and_skips() {
    let o = CheckOptions::default();
    let old = CheckOptions {
        version: Version([8, 0, 6]),
        ..CheckOptions::default()
    };
    let guarded = json!({"filter": {"count": 5, "match": {}, "requires": {"lt-version": 9}}});
    assert_eq!(
        judge(json!([guarded.clone()]), None, None, &o),
        Verdict::Skip {
            reason: "every check excluded by its guards".into()
        }
    );
    assert!(matches!(
        judge(json!([guarded.clone()]), Some(""), None, &old),
        Verdict::Fail { .. }
    ));
    let v = judge(json!([guarded, count(0, json!({}))]), Some(""), None, &o);
    assert_eq!(v, Verdict::Pass { checks: 1 });
    let mut case = case_with(json!([count(1, json!({}))]));
    case.requires = serde_json::from_value(json!({"features": ["HAVE_NOPE"]})).unwrap();
    let d = dir_with(None, Some("3"));
    assert_eq!(
        judge_case(&case, d.path(), &o).line("t"),
        "SKIP t: requires feature HAVE_NOPE"
    );
    let shell = json!({"shell": {"args": "x", "requires": {"min-version": 99}}});
    assert!(matches!(
        judge(json!([shell]), None, None, &o),
        Verdict::Skip { .. }
    ));
}

#[test]
fn stats_checks() {
    let o = CheckOptions::default();
    let eve = concat!(
        "{\"event_type\":\"stats\",\"stats\":{\"app_layer\":{\"flow\":{\"tls\":1}}}}\n",
        "{\"event_type\":\"stats\",\"stats\":{\"app_layer\":{\"flow\":{\"tls\":5}},\"n\":2}}\n"
    );
    let c = json!([{"stats": {"app_layer.flow.tls": 5, "n.__gt": 1}}]);
    assert_eq!(judge(c, Some(eve), None, &o), Verdict::Pass { checks: 1 });
    // Document order decides which counter is reported, so parse from text.
    let case: Case = serde_json::from_str(
        r#"{"checks": [{"stats": {"n": 2, "app_layer.flow.tls": 4, "a": 1}}]}"#,
    )
    .unwrap();
    let d = dir_with(Some(eve), None);
    assert_eq!(
        judge_case(&case, d.path(), &o).to_string(),
        "check #1: stats.app_layer.flow.tls: expected 4, got 5"
    );
    let c = json!([{"stats": {"x": 1}}]);
    assert_eq!(
        judge(c.clone(), Some("{}\n"), None, &o).to_string(),
        "check #1: stats check: no stats event in eve output"
    );
    let ignore = CheckOptions {
        ignore_stats: true,
        ..CheckOptions::default()
    };
    let c = json!([{"stats": {"x": 1}}, count(0, json!({"event_type": " stats "}))]);
    assert!(matches!(
        judge(c, None, None, &ignore),
        Verdict::Skip { .. }
    ));
}

#[test]
fn summary() {
    assert_eq!(summary_line(3, 1, 0), "3 passed, 1 failed");
    assert_eq!(
        summary_line(3, 1, 2),
        "2 skipped by version/feature guards\n3 passed, 1 failed"
    );
}
