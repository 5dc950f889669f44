//! Tests of the test helpers themselves: the JSON Schema validator must catch
//! what it claims to catch, or the schema checks in the other files prove nothing.

mod support;

use serde_json::{json, Value};
use support::pattern::Regex;
use support::schema::Schema;

fn errors(schema: Value, instance: Value) -> Vec<String> {
    Schema::new(schema)
        .expect("schema loads")
        .validate(&instance)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn eve_like() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["event_type", "timestamp"],
        "properties": {
            "event_type": {"type": "string"},
            "timestamp": {
                "type": "string",
                "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d+[+\\-]\\d+$"
            },
            "vlan": {"type": "array", "minItems": 1, "items": {"type": "integer"}},
            "port": {"type": ["integer", "string"]},
            "engine": {"type": "string", "enum": ["fw", "td"]},
            "flow": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"pkts": {"type": "integer", "minimum": 0}, "soa": {"$ref": "#/$defs/soa"}}
            },
            "flags": {"type": "array", "items": {"oneOf": [{"const": "aa"}, {"const": "rd"}]}}
        },
        "$defs": {
            "soa": {"type": "object", "additionalProperties": false, "properties": {"mname": {"type": "string"}}}
        }
    })
}

const TS: &str = "2024-11-05T06:00:00.000000+0000";

#[test]
fn a_valid_record_has_no_errors() {
    let r = json!({"event_type": "flow", "timestamp": TS, "vlan": [10, 20], "port": "x",
        "engine": "fw", "flow": {"pkts": 3, "soa": {"mname": "ns"}}, "flags": ["aa", "rd"]});
    assert_eq!(errors(eve_like(), r), Vec::<String>::new());
}

#[test]
fn an_unknown_field_under_additional_properties_false_is_reported_with_its_path() {
    let e = errors(
        eve_like(),
        json!({"event_type": "flow", "timestamp": TS, "flow": {"pkts": 1, "bogus": 2}}),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("/flow/bogus:"), "{e:?}");
    let e = errors(
        eve_like(),
        json!({"event_type": "flow", "timestamp": TS, "extra": 1}),
    );
    assert!(e.len() == 1 && e[0].starts_with("/extra:"), "{e:?}");
}

#[test]
fn wrong_types_are_reported() {
    let e = errors(
        eve_like(),
        json!({"event_type": 5, "timestamp": TS, "flow": {"pkts": 1.5}, "port": true}),
    );
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.starts_with("/event_type: expected string, got integer")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("/flow/pkts: expected integer")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("/port: expected integer or string")),
        "{e:?}"
    );
    // An integral float is an integer in JSON Schema.
    assert!(errors(json!({"type": "integer"}), json!(2.0)).is_empty());
}

#[test]
fn required_enum_min_items_items_minimum_and_pattern() {
    let e = errors(eve_like(), json!({"event_type": "flow"}));
    assert_eq!(
        e,
        vec!["/: required property \"timestamp\" is missing".to_string()]
    );
    let base = || json!({"event_type": "flow", "timestamp": TS});
    let with = |k: &str, v: Value| {
        let mut r = base();
        r[k] = v;
        errors(eve_like(), r)
    };
    assert!(with("engine", json!("xx"))[0].starts_with("/engine:"));
    assert!(with("vlan", json!([]))[0].starts_with("/vlan:"));
    assert!(with("vlan", json!([1, "2"]))[0].starts_with("/vlan/1:"));
    assert!(with("flow", json!({"pkts": -1}))[0].starts_with("/flow/pkts:"));
    assert!(with("timestamp", json!("2024-11-05 06:00:00"))[0].starts_with("/timestamp:"));
    assert!(with("timestamp", json!("2024-11-05T06:00:00.1+0000x"))[0].starts_with("/timestamp:"));
}

#[test]
fn refs_and_one_of_are_followed() {
    let e = errors(
        eve_like(),
        json!({"event_type": "dns", "timestamp": TS, "flow": {"soa": {"x": 1}}}),
    );
    assert!(e.len() == 1 && e[0].starts_with("/flow/soa/x:"), "{e:?}");
    let e = errors(
        eve_like(),
        json!({"event_type": "dns", "timestamp": TS, "flags": ["aa", "zz"]}),
    );
    assert!(e.len() == 1 && e[0].starts_with("/flags/1:"), "{e:?}");
    let any = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    assert!(errors(any.clone(), json!(1)).is_empty());
    assert_eq!(errors(any, json!(null)).len(), 1);
}

#[test]
fn unsupported_keywords_and_unresolvable_refs_are_refused_at_load() {
    assert!(Schema::new(json!({"patternProperties": {}})).is_err());
    assert!(Schema::new(json!({"properties": {"a": {"$ref": "#/$defs/nope"}}})).is_err());
    assert!(Schema::new(json!({"pattern": "(a|b)"})).is_err());
    assert!(Schema::new(json!({"description": "x", "suricata": {"keywords": []}})).is_ok());
}

#[test]
fn regex_subset() {
    let re = |p: &str| Regex::new(p).unwrap();
    assert!(re("^[1-2]\\d{3}-\\d{2}$").is_match("2024-11"));
    assert!(!re("^[1-2]\\d{3}-\\d{2}$").is_match("3024-11"));
    assert!(re("b+c").is_match("aabbbcd"), "unanchored search");
    assert!(!re("^b+c").is_match("abc"));
    assert!(re("^a.?c*$").is_match("a"));
    assert!(re("^[^x]{2,}$").is_match("yz"));
    assert!(!re("^[^x]{2,}$").is_match("yx"));
}

#[test]
fn eve_timestamps_parse() {
    use support::parse_eve_ts;
    assert_eq!(parse_eve_ts(TS), Ok(watchfloor_synth::DEFAULT_START_NS));
    assert_eq!(
        parse_eve_ts("1970-01-01T00:00:01.000002+0000"),
        Ok(1_000_002_000)
    );
    assert_eq!(
        parse_eve_ts("2000-03-01T00:00:00.000000+0000"),
        Ok(951_868_800_000_000_000)
    );
    assert!(parse_eve_ts("2024-11-05T06:00:00.000+0000").is_err());
    assert!(parse_eve_ts("2024-11-05T06:00:00.000000Z").is_err());
}

#[test]
fn suricata_schema_loads_with_this_validator() {
    let Some(schema) = support::eve_schema() else {
        return;
    };
    // Suricata's own example shapes validate; a typo'd field does not.
    let ok = json!({"timestamp": TS, "event_type": "flow", "src_ip": "10.0.0.1", "proto": "TCP",
        "vlan": [10], "flow": {"pkts_toserver": 1, "start": TS, "end": TS}});
    assert_eq!(schema.validate(&ok), vec![]);
    let bad = json!({"timestamp": TS, "event_type": "flow", "flow": {"pkts_toservr": 1}});
    let e = schema.validate(&bad);
    assert!(e.len() == 1 && e[0].path == "/flow/pkts_toservr", "{e:?}");
}
