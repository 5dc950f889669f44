//! The `case.json` model.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::pyval::OJson;
use crate::version::Requires;
use crate::VerifyError;

/// Which suricata.yaml upstream ran the test with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigKind {
    /// Suricata's stock suricata.yaml.
    #[default]
    Default,
    /// The test's own file, which replaces the stock one entirely.
    Custom,
}

/// One conformance case, as `case.json` describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct Case {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub upstream_commit: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub pcap: Vec<String>,
    #[serde(default)]
    pub rules: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub env: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    pub args: Vec<String>,
    #[serde(default)]
    pub requires: Requires,
    #[serde(default, deserialize_with = "null_default")]
    pub config: ConfigKind,
    #[serde(default)]
    pub config_notes: Option<String>,
    /// For `custom`: the list of `eve-log` outputs (types and options).
    #[serde(default)]
    pub eve_output: Value,
    #[serde(default)]
    pub app_layer_config: Value,
    pub checks: Vec<Check>,
    #[serde(default)]
    pub category: Option<String>,
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Case {
    /// Reads `dir/case.json`. A case without a `name` takes the directory's.
    pub fn load(dir: &Path) -> Result<Case, VerifyError> {
        let path = dir.join("case.json");
        let text = std::fs::read_to_string(&path).map_err(|e| VerifyError::io(&path, e))?;
        let mut case: Case =
            serde_json::from_str(&text).map_err(|source| VerifyError::CaseJson { path, source })?;
        if case.name.is_empty() {
            case.name = dir_name(dir);
        }
        Ok(case)
    }

    /// The command-line arguments upstream passed, understood.
    pub fn run_args(&self) -> RunArgs {
        RunArgs::parse(&self.args)
    }

    /// The enabled `eve-log` outputs; empty for the stock config.
    fn eve_outputs(&self) -> Vec<&serde_json::Map<String, Value>> {
        let all: Vec<&Value> = match &self.eve_output {
            Value::Array(a) => a.iter().collect(),
            Value::Object(_) => vec![&self.eve_output],
            _ => Vec::new(),
        };
        all.into_iter()
            .filter_map(Value::as_object)
            .filter(|o| o.get("enabled") != Some(&Value::Bool(false)))
            .collect()
    }

    /// The event types a `custom` config logs, in order (`None` for the stock
    /// config, which logs Suricata's default set). A type is written either as
    /// a name or as `{"name": options}`.
    pub fn eve_types(&self) -> Option<Vec<String>> {
        if self.config != ConfigKind::Custom {
            return None;
        }
        let mut names: Vec<String> = Vec::new();
        for output in self.eve_outputs() {
            let Some(Value::Array(types)) = output.get("types") else {
                continue;
            };
            for t in types {
                let found: Vec<&String> = match t {
                    Value::String(s) => vec![s],
                    Value::Object(o) => o.keys().collect(),
                    _ => Vec::new(),
                };
                for name in found {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
            }
        }
        Some(names)
    }

    /// The options a `custom` config gives event type `t` (e.g. `{"version": 2}`
    /// for dns); `None` when it is listed by name only, with null, or not at all.
    pub fn eve_type_options(&self, t: &str) -> Option<&Value> {
        if self.config != ConfigKind::Custom {
            return None;
        }
        self.eve_outputs()
            .into_iter()
            .filter_map(|o| o.get("types")?.as_array())
            .flatten()
            .filter_map(|ty| ty.as_object()?.get(t))
            .find(|opts| !opts.is_null())
    }
}

pub(crate) fn dir_name(dir: &Path) -> String {
    // `cases/x/` and `cases/x/.` both name case x.
    let cleaned: std::path::PathBuf = dir.components().collect();
    cleaned
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// Upstream's extra Suricata arguments, split on whitespace as upstream does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunArgs {
    /// `-k none`: don't validate checksums.
    pub checksum_none: bool,
    /// `--set key=value`, in order (later ones win, as in Suricata).
    pub sets: Vec<(String, String)>,
    /// Anything else, token by token, so the runner can refuse or warn.
    pub unknown: Vec<String>,
}

impl RunArgs {
    pub fn parse(args: &[String]) -> RunArgs {
        let mut out = RunArgs::default();
        let mut tokens = args.iter().flat_map(|a| a.split_whitespace());
        while let Some(tok) = tokens.next() {
            match tok {
                "-k" => match tokens.next() {
                    Some("none") => out.checksum_none = true,
                    Some(other) => out.unknown.extend([tok.to_owned(), other.to_owned()]),
                    None => out.unknown.push(tok.to_owned()),
                },
                "--set" => match tokens.next() {
                    Some(kv) => match kv.split_once('=') {
                        Some((k, v)) => out.sets.push((k.to_owned(), v.to_owned())),
                        None => out.unknown.extend([tok.to_owned(), kv.to_owned()]),
                    },
                    None => out.unknown.push(tok.to_owned()),
                },
                other => out.unknown.push(other.to_owned()),
            }
        }
        out
    }
}

/// One entry of `checks`, typed where check.py gives it meaning. The raw JSON
/// is kept because check.py's messages quote it and its truthiness rules
/// (`match or {}`) need the original value.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    Filter(FilterCheck),
    Stats(StatsCheck),
    /// `shell`, `file-compare` or anything else check.py does not evaluate.
    Unsupported {
        kind: String,
        body: Value,
        requires: Requires,
    },
    /// Not an object with exactly one key.
    Malformed(Value),
}

/// `filter: {count, match, filename?, requires?, comment?}`.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterCheck {
    /// Absent when the check omits it (a malformed check).
    pub count: Option<Value>,
    /// The `match` map as written (Null when absent).
    pub match_spec: Value,
    pub filename: Option<Value>,
    pub comment: Option<Value>,
    pub requires: Requires,
    /// The whole filter body.
    pub raw: Value,
}

/// `stats: {counter.path: value, ...}` against the last stats record.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsCheck {
    /// Counters in document order: check.py reports the first that fails.
    /// `None` when the body is a non-empty non-object.
    pub counters: Option<Vec<(String, Value)>>,
    pub raw: Value,
}

impl Check {
    pub(crate) fn from_ojson(o: &OJson) -> Check {
        let OJson::Object(entries) = o else {
            return Check::Malformed(o.to_value());
        };
        let [(kind, body)] = entries.as_slice() else {
            return Check::Malformed(o.to_value());
        };
        let raw = body.to_value();
        // check.py reads guards only from object bodies (`body.get("requires") or {}`).
        let requires = match body {
            OJson::Object(_) => Requires::from_ojson(body.get("requires")),
            _ => Requires::default(),
        };
        match kind.as_str() {
            "filter" => Check::Filter(FilterCheck {
                count: body.get("count").map(OJson::to_value),
                match_spec: body.get("match").map_or(Value::Null, OJson::to_value),
                filename: body.get("filename").map(OJson::to_value),
                comment: body.get("comment").map(OJson::to_value),
                requires,
                raw,
            }),
            "stats" => Check::Stats(StatsCheck {
                counters: match body {
                    OJson::Object(c) => {
                        Some(c.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
                    }
                    _ if !crate::pyval::py_truthy(&raw) => Some(Vec::new()),
                    _ => None,
                },
                raw,
            }),
            _ => Check::Unsupported {
                kind: kind.clone(),
                body: raw,
                requires,
            },
        }
    }

    /// The check as the JSON object it was written as.
    pub fn to_value(&self) -> Value {
        let (kind, body) = match self {
            Check::Filter(f) => ("filter", &f.raw),
            Check::Stats(s) => ("stats", &s.raw),
            Check::Unsupported { kind, body, .. } => (kind.as_str(), body),
            Check::Malformed(v) => return v.clone(),
        };
        let mut map = serde_json::Map::new();
        map.insert(kind.to_owned(), body.clone());
        Value::Object(map)
    }
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Check::from_ojson(&OJson::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(json: &str) -> Case {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn run_args_split_on_whitespace() {
        let a = RunArgs::parse(&[
            "-k none --set stream.midstream=true".into(),
            "--set  outputs.1.eve-log.types.2.anomaly.types.stream=yes".into(),
            "-v".into(),
            "--set".into(),
        ]);
        assert!(a.checksum_none);
        assert_eq!(
            a.sets,
            [
                ("stream.midstream".into(), "true".into()),
                (
                    "outputs.1.eve-log.types.2.anomaly.types.stream".into(),
                    "yes".into()
                )
            ]
        );
        assert_eq!(a.unknown, ["-v", "--set"]);
    }

    #[test]
    fn eve_types_and_options() {
        let c = case(
            r#"{"name": "x", "config": "custom", "checks": [],
                "eve_output": [{"enabled": true, "types": [
                    {"alert": {"payload": false}}, "http", {"dns": {"version": 2}},
                    {"anomaly": {"types": {"decode": true}}}, {"smtp": null}]}]}"#,
        );
        assert_eq!(
            c.eve_types().unwrap(),
            ["alert", "http", "dns", "anomaly", "smtp"]
        );
        assert_eq!(c.eve_type_options("dns"), Some(&json!({"version": 2})));
        assert_eq!(c.eve_type_options("http"), None);
        assert_eq!(c.eve_type_options("smtp"), None);
        let stock = case(r#"{"name": "y", "config": "default", "eve_output": null, "checks": []}"#);
        assert_eq!(stock.eve_types(), None);
    }

    #[test]
    fn checks_are_typed() {
        let c = case(
            r#"{"checks": [
                {"filter": {"count": 1, "match": {"event_type": "alert"},
                            "requires": {"lt-version": 8, "min-version": 7}}},
                {"stats": {"b": 1, "a": 2}},
                {"shell": {"args": "true"}},
                {"filter": {}, "stats": {}},
                [1]
            ], "env": null, "args": null}"#,
        );
        let Check::Filter(f) = &c.checks[0] else {
            panic!("filter expected")
        };
        assert_eq!(f.count, Some(json!(1)));
        let keys: Vec<&str> = f
            .requires
            .entries()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["lt-version", "min-version"]);
        let Check::Stats(s) = &c.checks[1] else {
            panic!("stats expected")
        };
        let keys: Vec<&str> = s
            .counters
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["b", "a"]);
        assert!(matches!(&c.checks[2], Check::Unsupported { kind, .. } if kind == "shell"));
        assert!(matches!(c.checks[3], Check::Malformed(_)));
        assert!(matches!(c.checks[4], Check::Malformed(_)));
        assert_eq!(c.checks[2].to_value(), json!({"shell": {"args": "true"}}));
    }

    #[test]
    fn load_reports_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = Case::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("case.json"), "{err}");
        std::fs::write(dir.path().join("case.json"), "{\"checks\": 3}").unwrap();
        let err = Case::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("invalid case.json"), "{err}");
        std::fs::write(dir.path().join("case.json"), "{\"checks\": []}").unwrap();
        let c = Case::load(dir.path()).unwrap();
        assert_eq!(c.name, dir_name(dir.path()));
    }
}
