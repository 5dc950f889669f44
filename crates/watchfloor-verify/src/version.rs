//! Version guards (`requires`) on cases and checks.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::pyval::{py_repr, py_str, py_truthy, OJson};
use crate::VerifyError;

/// A Suricata version as (major, minor, patch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub [u64; 3]);

impl Version {
    /// Like check.py's `parse_version`: the first `N[.N[.N]]` anywhere in the
    /// text, missing parts 0 (`"suricata-8.0"` is 8.0.0).
    pub fn parse(text: &str) -> Result<Version, VerifyError> {
        let parts = scan_version(text).ok_or_else(|| VerifyError::BadVersion(text.to_owned()))?;
        Ok(Version(parts.map(|p| p.unwrap_or(0))))
    }
}

impl Default for Version {
    fn default() -> Self {
        Version([9, 0, 0])
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.0;
        write!(f, "{a}.{b}.{c}")
    }
}

/// The regex `(\d+)(?:\.(\d+))?(?:\.(\d+))?` searched in `text`; parts the
/// text leaves out are `None` (a `version:` pin treats them as wildcards).
fn scan_version(text: &str) -> Option<[Option<u64>; 3]> {
    let bytes = text.as_bytes();
    let start = bytes.iter().position(u8::is_ascii_digit)?;
    let mut parts = [None; 3];
    let mut pos = start;
    for (i, slot) in parts.iter_mut().enumerate() {
        if i > 0 {
            let has_dot = bytes.get(pos) == Some(&b'.');
            let digit_follows = bytes.get(pos + 1).is_some_and(u8::is_ascii_digit);
            if !(has_dot && digit_follows) {
                break;
            }
            pos += 1;
        }
        let end = bytes[pos..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |n| pos + n);
        // Python's ints are unbounded; saturating keeps absurd numbers ordered.
        let value = text[pos..end].bytes().fold(0u64, |acc, d| {
            acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        *slot = Some(value);
        pos = end;
    }
    Some(parts)
}

/// Guards in document order, because check.py reports the first that fails.
/// Accessors give the usual keys; evaluation walks [`Requires::entries`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Requires {
    entries: Vec<(String, Value)>,
    /// Set when `requires` is neither an object nor falsy (check.py crashes).
    malformed: Option<Value>,
}

impl Requires {
    pub(crate) fn from_ojson(o: Option<&OJson>) -> Requires {
        match o {
            Some(OJson::Object(entries)) => Requires {
                entries: entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
                malformed: None,
            },
            Some(other) => {
                let v = other.to_value();
                Requires {
                    entries: Vec::new(),
                    malformed: py_truthy(&v).then_some(v),
                }
            }
            None => Requires::default(),
        }
    }

    pub fn entries(&self) -> &[(String, Value)] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.malformed.is_none()
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The guard's text as check.py reads it (`str()` of a number).
    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(py_str)
    }

    pub fn min_version(&self) -> Option<String> {
        self.text("min-version")
    }
    pub fn lt_version(&self) -> Option<String> {
        self.text("lt-version")
    }
    pub fn gt_version(&self) -> Option<String> {
        self.text("gt-version")
    }
    pub fn version(&self) -> Option<String> {
        self.text("version")
    }
    pub fn features(&self) -> Vec<String> {
        match self.get("features") {
            Some(Value::Array(a)) => a.iter().map(py_str).collect(),
            _ => Vec::new(),
        }
    }

    /// check.py's `version_guard_ok`: `Ok(None)` when the guards allow this
    /// version, `Ok(Some(reason))` to skip, `Err` where check.py would crash.
    pub(crate) fn evaluate(
        &self,
        version: Version,
        features: &BTreeSet<String>,
    ) -> Result<Option<String>, String> {
        if let Some(bad) = &self.malformed {
            return Err(format!("malformed requires: {}", py_repr(bad)));
        }
        for (key, val) in &self.entries {
            let shown = py_str(val);
            let parse = |wild: bool| {
                scan_version(&shown)
                    .map(|p| p.map(|x| x.or(if wild { None } else { Some(0) })))
                    .ok_or_else(|| {
                        format!("not a version: {}", py_repr(&Value::String(shown.clone())))
                    })
            };
            let want = || parse(false).map(|p| p.map(|x| x.unwrap_or(0)));
            let reason = match key.as_str() {
                "min-version" => {
                    (version.0 < want()?).then(|| format!("requires version >= {shown}"))
                }
                "lt-version" => {
                    (version.0 >= want()?).then(|| format!("requires version < {shown}"))
                }
                "gt-version" => {
                    (version.0 <= want()?).then(|| format!("requires version > {shown}"))
                }
                "version" => {
                    let pin = parse(true)?;
                    let differs = version
                        .0
                        .iter()
                        .zip(pin)
                        .any(|(have, w)| w.is_some_and(|w| *have != w));
                    differs.then(|| format!("only for version {shown}"))
                }
                "features" => missing_feature(val, features)?,
                "pcap" | "files" => None,
                other => Some(format!(
                    "unsupported requirement {}",
                    py_repr(&Value::String(other.to_owned()))
                )),
            };
            if reason.is_some() {
                return Ok(reason);
            }
        }
        Ok(None)
    }
}

/// `for feat in val or []`: Python iterates a string by character and a dict
/// by key, so those shapes are honoured; scalars would crash check.py.
fn missing_feature(val: &Value, have: &BTreeSet<String>) -> Result<Option<String>, String> {
    if !py_truthy(val) {
        return Ok(None);
    }
    let wanted: Vec<Value> = match val {
        Value::Array(a) => a.clone(),
        Value::String(s) => s.chars().map(|c| Value::String(c.into())).collect(),
        Value::Object(o) => o.keys().map(|k| Value::String(k.clone())).collect(),
        other => return Err(format!("malformed features: {}", py_repr(other))),
    };
    for feat in &wanted {
        match feat {
            Value::String(s) if have.contains(s) => {}
            Value::Array(_) | Value::Object(_) => {
                return Err(format!("malformed feature: {}", py_repr(feat)))
            }
            _ => return Ok(Some(format!("requires feature {}", py_str(feat)))),
        }
    }
    Ok(None)
}

impl<'de> Deserialize<'de> for Requires {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let o = OJson::deserialize(d)?;
        Ok(Requires::from_ojson(Some(&o)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(json: &str) -> Requires {
        serde_json::from_str(json).unwrap()
    }

    fn feats(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_like_check_py() {
        assert_eq!(Version::parse("8.0.6").unwrap(), Version([8, 0, 6]));
        assert_eq!(Version::parse("8").unwrap(), Version([8, 0, 0]));
        assert_eq!(Version::parse("suricata-7.1").unwrap(), Version([7, 1, 0]));
        assert_eq!(Version::parse("8.").unwrap(), Version([8, 0, 0]));
        assert_eq!(Version::parse("8.0.5.1").unwrap(), Version([8, 0, 5]));
        assert!(Version::parse("none").is_err());
        assert_eq!(scan_version("7.0"), Some([Some(7), Some(0), None]));
    }

    #[test]
    fn guards() {
        let v8 = Version([8, 0, 6]);
        let v9 = Version::default();
        let f = feats(&["HAVE_JA3"]);
        let r = req(r#"{"min-version": 9}"#);
        assert_eq!(
            r.evaluate(v8, &f).unwrap().as_deref(),
            Some("requires version >= 9")
        );
        assert_eq!(r.evaluate(v9, &f).unwrap(), None);
        let r = req(r#"{"lt-version": 9.0}"#);
        assert_eq!(
            r.evaluate(v9, &f).unwrap().as_deref(),
            Some("requires version < 9.0")
        );
        assert_eq!(r.evaluate(v8, &f).unwrap(), None);
        let r = req(r#"{"gt-version": "8.0.6"}"#);
        assert!(r.evaluate(v8, &f).unwrap().is_some());
        let r = req(r#"{"version": "8"}"#);
        assert_eq!(r.evaluate(v8, &f).unwrap(), None);
        assert_eq!(
            r.evaluate(v9, &f).unwrap().as_deref(),
            Some("only for version 8")
        );
        let r = req(r#"{"features": ["HAVE_JA3", "HAVE_JA4"], "min-version": 99}"#);
        assert_eq!(
            r.evaluate(v9, &f).unwrap().as_deref(),
            Some("requires feature HAVE_JA4")
        );
        let r = req(r#"{"min-version": 99, "features": ["HAVE_JA4"]}"#);
        assert_eq!(
            r.evaluate(v9, &f).unwrap().as_deref(),
            Some("requires version >= 99")
        );
        let r = req(r#"{"pcap": false, "foo": 1}"#);
        assert_eq!(
            r.evaluate(v9, &f).unwrap().as_deref(),
            Some("unsupported requirement 'foo'")
        );
        assert!(req(r#"{"min-version": null}"#).evaluate(v9, &f).is_err());
        assert!(req("[1]").evaluate(v9, &f).is_err());
        assert!(req("null").is_empty());
        assert_eq!(r.features(), Vec::<String>::new());
    }
}
