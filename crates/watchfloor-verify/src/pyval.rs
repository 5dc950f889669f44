//! JSON values seen through Python's eyes.
//!
//! check.py is the specification, and its results hinge on Python behaviour:
//! `1 == 1.0 == True`, exact int/float comparison, `str()` of values in
//! messages, `json.dumps(sort_keys=True)` in messages, truthiness in `x or {}`,
//! `str.strip()`'s idea of whitespace. Everything here mirrors that.

use std::cmp::Ordering;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A Python number: JSON integers become `int`, everything else `float`.
#[derive(Clone, Copy, Debug)]
enum Num {
    Int(i128),
    Float(f64),
}

fn num(n: &Number) -> Num {
    if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Python treats `bool` as an `int` subclass in equality, so both count here.
fn numeric(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => Some(num(n)),
        _ => None,
    }
}

/// Python compares int with float exactly (no rounding of the int), so do we.
fn int_float_cmp(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^127 bounds i128; beyond it the float decides by sign alone.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let floor = f.floor();
    let fl = floor as i128;
    Some(match i.cmp(&fl) {
        Ordering::Equal if f > floor => Ordering::Less,
        other => other,
    })
}

fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_float_cmp(x, y),
        (Num::Float(x), Num::Int(y)) => int_float_cmp(y, x).map(Ordering::reverse),
    }
}

/// Python `a == b` for values decoded by `json.loads`.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (numeric(a), numeric(b)) {
        return num_cmp(x, y) == Some(Ordering::Equal);
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => false,
    }
}

/// check.py's `compare`: numbers only, and a bool is never a number there.
pub(crate) fn py_compare(actual: &Value, expected: &Value, op: &str) -> bool {
    let (Value::Number(a), Value::Number(b)) = (actual, expected) else {
        return false;
    };
    let Some(ord) = num_cmp(num(a), num(b)) else {
        return false;
    };
    match op {
        "__gt" => ord == Ordering::Greater,
        "__gte" => ord != Ordering::Less,
        "__lt" => ord == Ordering::Less,
        _ => ord != Ordering::Greater,
    }
}

/// Python truthiness, for check.py's `x or {}` idioms.
pub(crate) fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => match num(n) {
            Num::Int(i) => i != 0,
            Num::Float(f) => f != 0.0,
        },
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `len()`, with check.py's -1 for values that have none.
pub(crate) fn py_len(v: &Value) -> i64 {
    let n = match v {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => return -1,
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1c..0x1f,
/// which Python counts and Rust's `char::is_whitespace` does not.
pub(crate) fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// `repr(float)`: shortest round-trip digits, exponent form outside 1e-4..1e16.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` yields the same shortest digits; only the layout differs.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exp + 1;
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs());
    }
    let ndigits = digits.len() as i64;
    if decpt <= 0 {
        let zeros = "0".repeat(decpt.unsigned_abs() as usize);
        format!("{sign}0.{zeros}{digits}")
    } else if decpt >= ndigits {
        let zeros = "0".repeat((decpt - ndigits) as usize);
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{sign}{int}.{frac}")
    }
}

fn number_str(n: &Number) -> String {
    match num(n) {
        Num::Int(i) => i.to_string(),
        Num::Float(f) => float_repr(f),
    }
}

/// `repr(str)`, close enough for messages: Python's quote choice and the
/// common escapes (its full "printable" table is not reproduced).
fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(value)` of the Python object `json.loads` would have produced.
pub(crate) fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => str_repr(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => py_str(other),
    }
}

/// `str(value)`, as `%s` formatting uses it.
pub(crate) fn py_str(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => number_str(n),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => py_repr(v),
    }
}

/// `json.dumps(v, sort_keys=True)`: ASCII-only, `", "` and `": "` separators.
pub(crate) fn py_dumps(v: &Value) -> String {
    let mut out = String::new();
    dump_into(v, &mut out);
    out
}

fn dump_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

fn dump_into(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match num(n) {
            Num::Int(i) => out.push_str(&i.to_string()),
            Num::Float(f) if f.is_nan() => out.push_str("NaN"),
            Num::Float(f) if f.is_infinite() => {
                out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Num::Float(f) => out.push_str(&float_repr(f)),
        },
        Value::String(s) => dump_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump_into(item, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            // Sorted explicitly: serde_json's map order depends on a feature
            // flag another crate in the workspace might switch on.
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump_str(k, out);
                out.push_str(": ");
                if let Some(val) = o.get(k) {
                    dump_into(val, out);
                }
            }
            out.push('}');
        }
    }
}

/// check.py's `short()`: the dump, cut to `limit` characters with "...".
pub(crate) fn short(v: &Value, limit: usize) -> String {
    let s = py_dumps(v);
    // py_dumps is pure ASCII, so byte offsets are character offsets.
    if s.len() <= limit {
        s
    } else {
        format!("{}...", &s[..limit.saturating_sub(3)])
    }
}

/// JSON kept in document order. Python dicts iterate in insertion order, and
/// check.py reports the first failing `requires` guard or `stats` counter in
/// that order; serde_json's default map is sorted, so it would report another.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OJson {
    Scalar(Value),
    Array(Vec<OJson>),
    /// Duplicate keys keep the first position and the last value, as in Python.
    Object(Vec<(String, OJson)>),
}

impl OJson {
    pub(crate) fn to_value(&self) -> Value {
        match self {
            OJson::Scalar(v) => v.clone(),
            OJson::Array(a) => Value::Array(a.iter().map(OJson::to_value).collect()),
            OJson::Object(o) => {
                let mut map = Map::new();
                for (k, v) in o {
                    map.insert(k.clone(), v.to_value());
                }
                Value::Object(map)
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&OJson> {
        match self {
            OJson::Object(o) => o.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

struct OJsonVisitor;

impl<'de> Visitor<'de> for OJsonVisitor {
    type Value = OJson;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<OJson, E> {
        Ok(OJson::Scalar(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<OJson, E> {
        Ok(OJson::Scalar(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<OJson, E> {
        Ok(OJson::Scalar(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<OJson, E> {
        Ok(OJson::Scalar(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<OJson, E> {
        Ok(OJson::Scalar(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<OJson, E> {
        Ok(OJson::Scalar(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<OJson, E> {
        Ok(OJson::Scalar(Value::Null))
    }
    fn visit_none<E>(self) -> Result<OJson, E> {
        Ok(OJson::Scalar(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<OJson, D::Error> {
        OJson::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OJson::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OJson, A::Error> {
        let mut entries: Vec<(String, OJson)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, OJson>()? {
            match entries.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = v,
                None => entries.push((k, v)),
            }
        }
        Ok(OJson::Object(entries))
    }
}

impl<'de> Deserialize<'de> for OJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OJsonVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_is_pythons() {
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(py_eq(&json!(true), &json!(1.0)));
        assert!(py_eq(&json!(false), &json!(0)));
        assert!(!py_eq(&json!(true), &json!(2)));
        assert!(!py_eq(&json!("1"), &json!(1)));
        assert!(!py_eq(&json!(null), &json!(0)));
        assert!(py_eq(&json!([1, {"a": true}]), &json!([1.0, {"a": 1}])));
        assert!(!py_eq(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        // 2^53 + 1 is not representable; Python compares exactly.
        assert!(!py_eq(
            &json!(9_007_199_254_740_993u64),
            &json!(9_007_199_254_740_992.0)
        ));
        assert!(py_eq(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(py_eq(&json!(-5), &json!(-5.0)));
    }

    #[test]
    fn comparisons_take_numbers_only() {
        assert!(py_compare(&json!(2), &json!(1.5), "__gt"));
        assert!(py_compare(&json!(2), &json!(2.0), "__gte"));
        assert!(py_compare(&json!(2), &json!(2.5), "__lt"));
        assert!(py_compare(&json!(-3), &json!(-3), "__lte"));
        assert!(!py_compare(&json!(2), &json!(2), "__gt"));
        assert!(!py_compare(&json!(true), &json!(0), "__gt"));
        assert!(!py_compare(&json!(1), &json!(false), "__gte"));
        assert!(!py_compare(&json!("5"), &json!(1), "__gt"));
        assert!(!py_compare(&json!(null), &json!(1), "__lt"));
        assert!(py_compare(&json!(u64::MAX), &json!(1e19), "__gt"));
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123.456, "123.456"),
            (1.2345e-7, "1.2345e-07"),
            (1e300, "1e+300"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn str_and_dumps_match_python() {
        assert_eq!(py_str(&json!(null)), "None");
        assert_eq!(py_str(&json!(true)), "True");
        assert_eq!(py_str(&json!(8)), "8");
        assert_eq!(py_str(&json!(7.0)), "7.0");
        assert_eq!(py_str(&json!(["a", 1, null])), "['a', 1, None]");
        assert_eq!(py_str(&json!({"k": "it's"})), "{'k': \"it's\"}");
        assert_eq!(
            py_dumps(&json!({"b": [1, 2.0], "a": "é\u{1F600}\n"})),
            r#"{"a": "\u00e9\ud83d\ude00\n", "b": [1, 2.0]}"#
        );
        assert_eq!(short(&json!("abcdefgh"), 8), "\"abcd...");
    }

    #[test]
    fn whitespace_and_truthiness() {
        assert_eq!(py_strip("\u{1c}\u{c} x \u{85}"), "x");
        assert!(!py_truthy(&json!(0.0)));
        assert!(!py_truthy(&json!({})));
        assert!(py_truthy(&json!([0])));
        assert_eq!(py_len(&json!("héllo")), 5);
        assert_eq!(py_len(&json!(3)), -1);
        assert_eq!(py_len(&json!(true)), -1);
        assert_eq!(py_len(&json!(null)), -1);
    }

    #[test]
    fn ordered_json_keeps_document_order() {
        let o: OJson = serde_json::from_str(r#"{"z": 1, "a": 2, "z": 3}"#).unwrap();
        let OJson::Object(entries) = &o else {
            panic!("object expected")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a"]);
        assert_eq!(o.to_value(), json!({"z": 3, "a": 2}));
    }
}
