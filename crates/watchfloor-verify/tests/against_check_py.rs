//! Differential test: the Rust judge against the corpus's reference checker
//! `check.py`, on synthetic eve.json files for every real case and on
//! hand-written cases that exercise each operator. Both must print the same
//! line (`PASS name`, `FAIL name: check #k: reason`, `SKIP name: reason`).

mod support;

use serde_json::{json, Value};
use support::{build_files, compare, env, Variant};

fn real_variants() -> Vec<(&'static str, Variant, Vec<&'static str>)> {
    vec![
        ("empty", Variant::Empty, vec![]),
        ("missing", Variant::Missing, vec![]),
        ("satisfy", Variant::Satisfy, vec![]),
        (
            "satisfy-8.0.6",
            Variant::Satisfy,
            vec!["--suricata-version", "8.0.6"],
        ),
        (
            "satisfy-7",
            Variant::Satisfy,
            vec!["--suricata-version", "7"],
        ),
        ("satisfy-nofeat", Variant::Satisfy, vec!["--features", ""]),
        (
            "satisfy-ignore-stats",
            Variant::Satisfy,
            vec!["--ignore-stats"],
        ),
        ("floats", Variant::Floats, vec![]),
        ("bools", Variant::Bools, vec![]),
        ("stringly", Variant::Stringly, vec![]),
        ("one-wrong", Variant::OneWrong, vec![]),
        ("doubled", Variant::Doubled, vec![]),
        ("bad-json", Variant::BadJson, vec![]),
        ("not-utf8", Variant::NotUtf8, vec![]),
        ("exit-status", Variant::ExitStatus, vec![]),
        (
            "require-exit-status",
            Variant::ExitStatus,
            vec!["--require-exit-status"],
        ),
    ]
}

#[test]
fn real_cases_agree_with_check_py() {
    let Some(env) = env() else { return };
    let cases_dir = env.conformance.join("cases");
    let mut names: Vec<String> = std::fs::read_dir(&cases_dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            p.join("case.json")
                .is_file()
                .then(|| p.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    assert!(names.len() > 250, "expected the whole corpus");
    let tmp = tempfile::tempdir().unwrap();
    let mut total = support::Tally::default();
    for (label, variant, args) in real_variants() {
        let out = tmp.path().join(label);
        for (i, name) in names.iter().enumerate() {
            let case = watchfloor_verify::Case::load(&cases_dir.join(name)).unwrap();
            build_files(&case, &out.join(name), variant, i);
        }
        let tally = compare(&env, &cases_dir, &out, &args, label);
        eprintln!("{label}: {tally}");
        total.add(&tally);
    }
    eprintln!("all variants: {total}");
    assert!(
        total.pass > 300 && total.fail > 300,
        "variants should exercise both outcomes"
    );
}

/// (name, case.json, eve.json lines or None for no file, exit-status).
type Synthetic = (
    &'static str,
    Value,
    Option<&'static str>,
    Option<&'static str>,
);

fn filter(count: Value, m: Value) -> Value {
    json!({"filter": {"count": count, "match": m}})
}

fn synthetic() -> Vec<Synthetic> {
    let ev = concat!(
        r#"{"event_type":"alert","n":5,"f":2.5,"b":true,"z":0,"s":"héllo wörld","nul":null,"#,
        r#""l":[1,"x",[2],{"k":1}],"o":{"k":1,"i":[10,20]},"big":18446744073709551615,"#,
        r#""dns":{"answers":[{"rrname":"a.example","ttl":60},{"rrname":null}]}}"#,
        "\n",
        r#"{"event_type":"flow","n":5.0,"b":1,"s":"","l":[],"o":{}}"#,
        "\r\n\u{1c}\n   \n",
        r#"{"event_type":"stats","stats":{"decoder":{"pkts":10,"ipv4":9.0},"tcp":{"syn":0}}}"#,
        "\n",
        r#"{"event_type":"stats","stats":{"decoder":{"pkts":12,"ipv4":9.0},"tcp":{"syn":0}}}"#,
    );
    let one = |m: Value| json!([filter(json!(1), m)]);
    let mut v: Vec<Synthetic> = vec![
        (
            "eq-int-float",
            one(json!({"n": 5.0, "event_type": "alert"})),
            Some(ev),
            None,
        ),
        (
            "eq-true-one",
            one(json!({"b": 1, "event_type": "alert"})),
            Some(ev),
            None,
        ),
        (
            "eq-one-true",
            json!([filter(json!(2), json!({"b": true}))]),
            Some(ev),
            None,
        ),
        ("eq-zero-false", one(json!({"z": false})), Some(ev), None),
        (
            "eq-null-missing",
            json!([filter(json!(4), json!({"nope": null}))]),
            Some(ev),
            None,
        ),
        (
            "eq-null-null",
            json!([filter(json!(4), json!({"nul": null}))]),
            Some(ev),
            None,
        ),
        ("eq-str-num", one(json!({"n": "5"})), Some(ev), None),
        (
            "eq-list",
            one(json!({"l": [true, "x", [2.0], {"k": 1.0}]})),
            Some(ev),
            None,
        ),
        (
            "eq-dict",
            one(json!({"o": {"k": 1, "i": [10, 20]}})),
            Some(ev),
            None,
        ),
        (
            "eq-big",
            one(json!({"big": 18446744073709551615u64})),
            Some(ev),
            None,
        ),
        (
            "eq-big-float",
            one(json!({"big": 1.8446744073709552e19})),
            Some(ev),
            None,
        ),
        (
            "idx",
            one(json!({"dns.answers[0].rrname": "a.example", "dns.answers[0].ttl": 60})),
            Some(ev),
            None,
        ),
        (
            "idx-null",
            one(json!({"dns.answers[1].rrname": null, "event_type": "alert"})),
            Some(ev),
            None,
        ),
        (
            "idx-oob",
            one(json!({"dns.answers[2].rrname": "a.example"})),
            Some(ev),
            None,
        ),
        ("idx-str", one(json!({"s[1]": "é"})), Some(ev), None),
        (
            "idx-nested",
            one(json!({"o.i[1]": 20, "l[2][0]": 2})),
            Some(ev),
            None,
        ),
        ("len-list", one(json!({"l.__len": 4})), Some(ev), None),
        ("len-str", one(json!({"s.__len": 11})), Some(ev), None),
        (
            "len-num",
            json!([filter(json!(2), json!({"n.__len": -1}))]),
            Some(ev),
            None,
        ),
        (
            "len-bool",
            json!([filter(json!(2), json!({"b.__len": -1}))]),
            Some(ev),
            None,
        ),
        (
            "len-missing",
            json!([filter(json!(2), json!({"dns.__len": null}))]),
            Some(ev),
            None,
        ),
        ("len-empty", one(json!({"o.__len": 0})), Some(ev), None),
        (
            "contains-str",
            one(json!({"s.__contains": "wör"})),
            Some(ev),
            None,
        ),
        (
            "contains-list",
            one(json!({"l.__contains": "x"})),
            Some(ev),
            None,
        ),
        (
            "contains-list-num",
            one(json!({"l.__contains": 1.0})),
            Some(ev),
            None,
        ),
        (
            "contains-list-dict",
            one(json!({"l.__contains": {"k": true}})),
            Some(ev),
            None,
        ),
        (
            "contains-dict",
            one(json!({"o.__contains": "k"})),
            Some(ev),
            None,
        ),
        (
            "contains-dict-num",
            one(json!({"o.__contains": 1})),
            Some(ev),
            None,
        ),
        (
            "contains-num",
            one(json!({"n.__contains": 5})),
            Some(ev),
            None,
        ),
        ("find", one(json!({"s.__find": "llo"})), Some(ev), None),
        ("find-list", one(json!({"l.__find": "x"})), Some(ev), None),
        (
            "startswith",
            one(json!({"s.__startswith": "hé"})),
            Some(ev),
            None,
        ),
        (
            "endswith",
            one(json!({"s.__endswith": "wörld"})),
            Some(ev),
            None,
        ),
        (
            "endswith-num",
            one(json!({"n.__endswith": 5})),
            Some(ev),
            None,
        ),
        (
            "gt",
            json!([filter(json!(2), json!({"n.__gt": 4.5}))]),
            Some(ev),
            None,
        ),
        (
            "gte",
            json!([filter(json!(2), json!({"n.__gte": 5}))]),
            Some(ev),
            None,
        ),
        ("lt", one(json!({"f.__lt": 3})), Some(ev), None),
        ("lte-bool", one(json!({"b.__lte": 1})), Some(ev), None),
        ("gt-str", one(json!({"s.__gt": 1})), Some(ev), None),
        ("gt-big", one(json!({"big.__gt": 1.8e19})), Some(ev), None),
        (
            "has-key",
            one(json!({"has-key": ["dns.answers[0].ttl", "o.k"]})),
            Some(ev),
            None,
        ),
        (
            "has-key-null",
            one(json!({"has-key": "nul"})),
            Some(ev),
            None,
        ),
        (
            "not-has-key",
            json!([filter(json!(3), json!({"not-has-key": ["dns", "nul"]}))]),
            Some(ev),
            None,
        ),
        (
            "has-key-len",
            one(json!({"has-key": "nul.__len"})),
            Some(ev),
            None,
        ),
        (
            "match-null",
            json!([filter(json!(4), Value::Null)]),
            Some(ev),
            None,
        ),
        (
            "match-empty-list",
            json!([filter(json!(4), json!([]))]),
            Some(ev),
            None,
        ),
        (
            "count-float",
            json!([filter(json!(4.0), json!({}))]),
            Some(ev),
            None,
        ),
        (
            "count-str",
            json!([{"filter": {"count": "4", "match": {}}}]),
            Some(ev),
            None,
        ),
        (
            "comment",
            json!([{"filter": {"count": 9, "match": {"n": 5}, "comment": "five"}}]),
            Some(ev),
            None,
        ),
        (
            "comment-empty",
            json!([{"filter": {"count": 9, "match": {"n": 5}, "comment": ""}}]),
            Some(ev),
            None,
        ),
        (
            "long-match",
            one(json!({"s": "x".repeat(300)})),
            Some(ev),
            None,
        ),
        (
            "no-count",
            json!([{"filter": {"match": {"n": 5}}}]),
            Some(ev),
            None,
        ),
        (
            "two-keys",
            json!([{"filter": {"count": 1, "match": {}}, "stats": {}}]),
            Some(ev),
            None,
        ),
        (
            "unsupported",
            json!([{"shell": {"args": "true"}}]),
            Some(ev),
            None,
        ),
        (
            "shell-guarded",
            json!([{"shell": {"args": "true", "requires": {"min-version": 99}}}]),
            Some(ev),
            None,
        ),
        (
            "guard-lt",
            json!([{"filter": {"count": 9, "match": {}, "requires": {"lt-version": 9}}}, filter(json!(4), json!({}))]),
            Some(ev),
            None,
        ),
        (
            "guard-all",
            json!([{"filter": {"count": 9, "match": {}, "requires": {"min-version": "10.0.1"}}}]),
            None,
            None,
        ),
        (
            "guard-pin",
            json!([{"filter": {"count": 9, "match": {}, "requires": {"version": "9.0"}}}]),
            Some(ev),
            None,
        ),
        (
            "guard-pin-other",
            json!([{"filter": {"count": 9, "match": {}, "requires": {"version": 8}}}]),
            Some(ev),
            None,
        ),
        (
            "guard-feature-str",
            json!([{"filter": {"count": 9, "match": {}, "requires": {"features": "HAVE_JA3"}}}]),
            Some(ev),
            None,
        ),
        (
            "guard-unknown",
            json!([{"filter": {"count": 9, "match": {}, "requires": {"pcap": true, "script": "x"}}}]),
            Some(ev),
            None,
        ),
        (
            "stats",
            json!([{"stats": {"decoder.pkts": 12, "decoder.ipv4": 9, "tcp.syn": false}}]),
            Some(ev),
            None,
        ),
        (
            "stats-wrong",
            json!([{"stats": {"decoder.pkts": 10}}]),
            Some(ev),
            None,
        ),
        (
            "stats-cmp",
            json!([{"stats": {"decoder.pkts.__gt": 11, "decoder.ipv4.__lte": 9}}]),
            Some(ev),
            None,
        ),
        (
            "stats-missing-counter",
            json!([{"stats": {"decoder.nope": 0}}]),
            Some(ev),
            None,
        ),
        (
            "stats-none",
            json!([{"stats": {"x": 1}}]),
            Some("{\"event_type\":\"alert\"}\n"),
            None,
        ),
        (
            "stats-filter",
            json!([filter(json!(2), json!({"event_type": "stats"}))]),
            Some(ev),
            None,
        ),
        ("no-checks", json!([]), None, None),
        ("exit-1", one(json!({"n": 5})), Some(ev), Some("1\n")),
        (
            "exit-0",
            json!([filter(json!(2), json!({"n": 5}))]),
            Some(ev),
            Some(" 0 \n"),
        ),
        (
            "exit-junk",
            json!([filter(json!(2), json!({"n": 5}))]),
            Some(ev),
            Some("oops"),
        ),
        (
            "exit-empty",
            json!([filter(json!(2), json!({"n": 5}))]),
            Some(ev),
            Some(""),
        ),
        (
            "exit-underscore",
            json!([filter(json!(2), json!({"n": 5}))]),
            Some(ev),
            Some("1_000"),
        ),
        (
            "missing-eve",
            json!([
                filter(json!(0), json!({})),
                filter(json!(0), json!({"a": 1}))
            ]),
            None,
            None,
        ),
        (
            "bom",
            json!([filter(json!(0), json!({}))]),
            Some("\u{feff}{}\n"),
            None,
        ),
        (
            "trailing-junk",
            json!([filter(json!(1), json!({}))]),
            Some("{} x\n"),
            None,
        ),
        (
            "unterminated",
            json!([filter(json!(1), json!({}))]),
            Some("{\"a\": \"b\n"),
            None,
        ),
        (
            "extra-value",
            json!([filter(json!(1), json!({}))]),
            Some("{}{}\n"),
            None,
        ),
        (
            "scalar-lines",
            json!([
                filter(json!(3), json!({})),
                filter(json!(1), json!({"__len": 2}))
            ]),
            Some("[1, 2]\n5\n\"s\"\n"),
            None,
        ),
        (
            "dup-keys",
            one(json!({"a": 2})),
            Some("{\"a\": 1, \"a\": 2}\n"),
            None,
        ),
        (
            "other-file",
            json!([{"filter": {"count": 1, "filename": "other.json", "match": {"x": 1}}}]),
            Some(""),
            None,
        ),
        (
            "other-file-missing",
            json!([{"filter": {"count": 0, "filename": "nope.json", "match": {}}}]),
            Some(""),
            None,
        ),
        (
            "case-requires",
            json!([filter(json!(9), json!({}))]),
            Some(ev),
            None,
        ),
    ];
    v.sort_by_key(|s| s.0);
    v
}

#[test]
fn synthetic_cases_agree_with_check_py() {
    let Some(env) = env() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cases = tmp.path().join("cases");
    let out = tmp.path().join("out");
    for (name, checks, eve, status) in synthetic() {
        let dir = cases.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut case = json!({"name": name, "checks": checks});
        if name == "case-requires" {
            case["requires"] = json!({"min-version": 8, "features": ["HAVE_JA4"]});
        }
        std::fs::write(
            dir.join("case.json"),
            serde_json::to_string_pretty(&case).unwrap(),
        )
        .unwrap();
        let o = out.join(name);
        std::fs::create_dir_all(&o).unwrap();
        if let Some(eve) = eve {
            std::fs::write(o.join("eve.json"), eve).unwrap();
        }
        if let Some(s) = status {
            std::fs::write(o.join("exit-status"), s).unwrap();
        }
        if name == "other-file" {
            std::fs::write(o.join("other.json"), "{\"x\": 1.0}\n").unwrap();
        }
    }
    // Raw bytes json! cannot express.
    let raw: [(&str, &[u8]); 3] = [
        ("bad-utf8-start", b"{}\n\x80\n"),
        ("bad-utf8-cont", b"{\"a\":\"\xe2\x82\"}\n"),
        ("bad-utf8-eof", b"{}\n\"\xe2\x82"),
    ];
    for (name, bytes) in raw {
        let dir = cases.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("case.json"),
            r#"{"checks": [{"filter": {"count": 0, "match": {}}}]}"#,
        )
        .unwrap();
        std::fs::create_dir_all(out.join(name)).unwrap();
        std::fs::write(out.join(name).join("eve.json"), bytes).unwrap();
    }
    let mut total = support::Tally::default();
    for (label, args) in [
        ("synthetic", vec![]),
        ("synthetic-8.0.6", vec!["--suricata-version", "8.0.6"]),
        (
            "synthetic-ignore-stats",
            vec!["--ignore-stats", "--features", "HAVE_JA4"],
        ),
        ("synthetic-require-exit", vec!["--require-exit-status"]),
    ] {
        let tally = compare(&env, &cases, &out, &args, label);
        eprintln!("{label}: {tally}");
        total.add(&tally);
    }
    assert!(
        total.pass > 100 && total.fail > 100 && total.skip > 10,
        "{total}"
    );
}
