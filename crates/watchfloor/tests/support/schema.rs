//! A small JSON Schema validator: the subset that Suricata's `etc/schema.json` uses
//! (and a little more), for checking eve.json in tests.
//!
//! Why not the `jsonschema` crate: it brings an HTTP client for remote `$ref`s,
//! fancy-regex, IDNA and email parsing, and would change the workspace's
//! Cargo.lock for test-only code. Suricata's schema needs only local `$ref`s and
//! two anchored patterns.
//!
//! Supported: `type` (a name or a list of names), `enum`, `const`, `properties`,
//! `additionalProperties` (bool or schema), `required`, `minProperties`,
//! `maxProperties`, `items` (one schema), `minItems`, `maxItems`, `uniqueItems`,
//! `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`,
//! `maxLength`, `pattern` (a regex subset: anchors, `.`, classes, `\d\w\s`,
//! quantifiers; no groups or alternation), `oneOf`, `anyOf`, `allOf`, `not`, and
//! local `$ref` (`#/$defs/...`). Annotations (`description`, `title`, `$comment`,
//! Suricata's `suricata` and `keywords`, ...) are ignored. Any other keyword is
//! refused when the schema is loaded, so nothing is silently left unchecked.

use serde_json::{Map, Value};
use std::fmt;
use std::path::Path;

use super::pattern::Regex;

/// One violation: a JSON pointer into the instance and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{p}: {}", self.message)
    }
}

#[derive(Debug)]
pub struct Schema {
    root: Value,
}

const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
    "title",
    "description",
    "desription", // sic, in Suricata's schema
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "format",
    "suricata",
    "keywords",
];

const ASSERTIONS: &[&str] = &[
    "type",
    "enum",
    "const",
    "properties",
    "additionalProperties",
    "required",
    "minProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "$ref",
];

impl Schema {
    pub fn load(path: &Path) -> Result<Schema, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        Schema::new(v).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks that every keyword is supported, every `$ref` resolves and every
    /// `pattern` compiles.
    pub fn new(root: Value) -> Result<Schema, String> {
        let s = Schema { root };
        s.check_schema(&s.root, "#")?;
        Ok(s)
    }

    /// All violations of `instance`; empty when it is valid.
    pub fn validate(&self, instance: &Value) -> Vec<SchemaError> {
        let mut errs = Vec::new();
        self.check(&self.root, instance, &mut String::new(), &mut errs, 0);
        errs
    }

    fn resolve(&self, r: &str) -> Option<&Value> {
        self.root.pointer(r.strip_prefix('#')?)
    }

    fn check_schema(&self, s: &Value, at: &str) -> Result<(), String> {
        let obj = match s {
            Value::Bool(_) => return Ok(()),
            Value::Object(o) => o,
            _ => return Err(format!("{at}: a schema must be an object or a bool")),
        };
        for (k, v) in obj {
            let here = format!("{at}/{k}");
            match k.as_str() {
                "properties" | "$defs" | "definitions" => {
                    let m = v.as_object().ok_or(format!("{here}: expected an object"))?;
                    for (name, sub) in m {
                        self.check_schema(sub, &format!("{here}/{name}"))?;
                    }
                }
                "additionalProperties" | "items" | "not" => {
                    if v.is_array() {
                        return Err(format!("{here}: tuple form is not supported"));
                    }
                    self.check_schema(v, &here)?;
                }
                "oneOf" | "anyOf" | "allOf" => {
                    let a = v.as_array().ok_or(format!("{here}: expected an array"))?;
                    for (i, sub) in a.iter().enumerate() {
                        self.check_schema(sub, &format!("{here}/{i}"))?;
                    }
                }
                "$ref" => {
                    let r = v.as_str().ok_or(format!("{here}: expected a string"))?;
                    if self.resolve(r).is_none() {
                        return Err(format!("{here}: cannot resolve {r:?} (local refs only)"));
                    }
                }
                "pattern" => {
                    let p = v.as_str().ok_or(format!("{here}: expected a string"))?;
                    Regex::new(p).map_err(|e| format!("{here}: {e}"))?;
                }
                k if ASSERTIONS.contains(&k) || ANNOTATIONS.contains(&k) => {}
                k => return Err(format!("{here}: unsupported keyword {k:?}")),
            }
        }
        Ok(())
    }

    fn check(
        &self,
        s: &Value,
        v: &Value,
        path: &mut String,
        errs: &mut Vec<SchemaError>,
        depth: u32,
    ) {
        let mut err = |path: &str, message: String| {
            errs.push(SchemaError {
                path: path.to_string(),
                message,
            })
        };
        let obj = match s {
            Value::Bool(true) => return,
            Value::Bool(false) => return err(path, "no value is allowed here".into()),
            Value::Object(o) => o,
            _ => return,
        };
        if depth > 64 {
            return err(path, "schema nesting too deep ($ref loop?)".into());
        }
        if let Some(t) = obj.get("type") {
            let names: Vec<&str> = match t {
                Value::String(n) => vec![n.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !names.iter().any(|n| type_matches(n, v)) {
                err(
                    path,
                    format!("expected {}, got {}", names.join(" or "), type_name(v)),
                );
            }
        }
        if let Some(Value::Array(options)) = obj.get("enum") {
            if !options.contains(v) {
                err(
                    path,
                    format!("{v} is not one of {}", Value::Array(options.clone())),
                );
            }
        }
        if let Some(c) = obj.get("const") {
            if c != v {
                err(path, format!("{v} is not {c}"));
            }
        }
        match v {
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                let bound = |k: &str| obj.get(k).and_then(Value::as_f64);
                if bound("minimum").is_some_and(|m| x < m)
                    || bound("maximum").is_some_and(|m| x > m)
                    || bound("exclusiveMinimum").is_some_and(|m| x <= m)
                    || bound("exclusiveMaximum").is_some_and(|m| x >= m)
                {
                    err(path, format!("{n} is out of range"));
                }
            }
            Value::String(text) => {
                let len = text.chars().count() as u64;
                if obj
                    .get("minLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| len < m)
                    || obj
                        .get("maxLength")
                        .and_then(Value::as_u64)
                        .is_some_and(|m| len > m)
                {
                    err(path, format!("length {len} is out of range"));
                }
                if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
                    // Compiled once already in `new`, so this cannot fail.
                    if Regex::new(p).is_ok_and(|re| !re.is_match(text)) {
                        err(path, format!("{text:?} does not match /{p}/"));
                    }
                }
            }
            _ => {}
        }
        if let Value::Array(items) = v {
            let n = items.len() as u64;
            if obj
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n < m)
            {
                err(
                    path,
                    format!("{n} items, at least {} required", obj["minItems"]),
                );
            }
            if obj
                .get("maxItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n > m)
            {
                err(
                    path,
                    format!("{n} items, at most {} allowed", obj["maxItems"]),
                );
            }
            if obj.get("uniqueItems") == Some(&Value::Bool(true))
                && items
                    .iter()
                    .enumerate()
                    .any(|(i, a)| items[..i].contains(a))
            {
                err(path, "items are not unique".into());
            }
        }
        if let Value::Object(fields) = v {
            self.check_object(obj, fields, path, errs, depth);
        }
        if let (Value::Array(items), Some(sub)) = (v, obj.get("items")) {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                self.check(sub, item, path, errs, depth + 1);
                path.truncate(len);
            }
        }
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            if let Some(target) = self.resolve(r) {
                self.check(target, v, path, errs, depth + 1);
            }
        }
        if let Some(Value::Array(subs)) = obj.get("allOf") {
            for sub in subs {
                self.check(sub, v, path, errs, depth + 1);
            }
        }
        let here = path.clone();
        let passes = |sub: &Value| {
            let mut e = Vec::new();
            self.check(sub, v, &mut here.clone(), &mut e, depth + 1);
            e.is_empty()
        };
        if let Some(Value::Array(subs)) = obj.get("anyOf") {
            if !subs.iter().any(passes) {
                errs.push(SchemaError {
                    path: here.clone(),
                    message: format!("{v} matches none of anyOf"),
                });
            }
        }
        if let Some(Value::Array(subs)) = obj.get("oneOf") {
            let n = subs.iter().filter(|s| passes(s)).count();
            if n != 1 {
                errs.push(SchemaError {
                    path: here.clone(),
                    message: format!("{v} matches {n} of oneOf, exactly 1 required"),
                });
            }
        }
        if let Some(sub) = obj.get("not") {
            if passes(sub) {
                errs.push(SchemaError {
                    path: here,
                    message: format!("{v} matches a `not` schema"),
                });
            }
        }
    }

    fn check_object(
        &self,
        obj: &Map<String, Value>,
        fields: &Map<String, Value>,
        path: &mut String,
        errs: &mut Vec<SchemaError>,
        depth: u32,
    ) {
        let n = fields.len() as u64;
        if obj
            .get("minProperties")
            .and_then(Value::as_u64)
            .is_some_and(|m| n < m)
            || obj
                .get("maxProperties")
                .and_then(Value::as_u64)
                .is_some_and(|m| n > m)
        {
            errs.push(SchemaError {
                path: path.clone(),
                message: format!("{n} properties is out of range"),
            });
        }
        if let Some(Value::Array(req)) = obj.get("required") {
            for name in req.iter().filter_map(Value::as_str) {
                if !fields.contains_key(name) {
                    errs.push(SchemaError {
                        path: path.clone(),
                        message: format!("required property {name:?} is missing"),
                    });
                }
            }
        }
        let props = obj.get("properties").and_then(Value::as_object);
        for (name, value) in fields {
            let len = path.len();
            path.push('/');
            path.push_str(&name.replace('~', "~0").replace('/', "~1"));
            match (
                props.and_then(|p| p.get(name)),
                obj.get("additionalProperties"),
            ) {
                (Some(sub), _) => self.check(sub, value, path, errs, depth + 1),
                (None, Some(Value::Bool(false))) => errs.push(SchemaError {
                    path: path.clone(),
                    message: "property is not allowed (additionalProperties: false)".into(),
                }),
                (None, Some(sub)) => self.check(sub, value, path, errs, depth + 1),
                (None, None) => {}
            }
            path.truncate(len);
        }
    }
}

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
