//! `reference.config`: `config reference: type url-prefix`, which turns a
//! rule's `reference:type,id` into a link.

use std::collections::HashMap;
use std::path::Path;

use crate::error::ConfigError;

#[derive(Debug, Clone, Default)]
pub struct References {
    prefixes: HashMap<String, String>,
}

impl References {
    pub fn parse(text: &str, origin: &str) -> Result<References, ConfigError> {
        let mut r = References::default();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let err = |reason: String| ConfigError {
                file: origin.to_string(),
                line: i + 1,
                reason,
            };
            let rest = l
                .strip_prefix("config reference:")
                .ok_or_else(|| err(format!("expected 'config reference:', got '{l}'")))?
                .trim();
            let (name, url) = rest
                .split_once(char::is_whitespace)
                .map(|(n, u)| (n.trim(), u.trim()))
                .ok_or_else(|| err("expected 'type url-prefix'".to_string()))?;
            if name.is_empty() || url.is_empty() {
                return Err(err("expected 'type url-prefix'".to_string()));
            }
            r.prefixes
                .insert(name.to_ascii_lowercase(), url.to_string());
        }
        Ok(r)
    }

    pub fn from_file(path: &Path) -> Result<References, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: origin.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        References::parse(&text, &origin)
    }

    /// The URL prefix of a reference type (case-insensitive).
    pub fn prefix(&self, kind: &str) -> Option<&str> {
        self.prefixes
            .get(&kind.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// `prefix + id` for a known type.
    pub fn url(&self, kind: &str, id: &str) -> Option<String> {
        self.prefix(kind).map(|p| format!("{p}{id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let r = References::parse(
            "# c\nconfig reference: cve       https://cve.mitre.org/cgi-bin/cvename.cgi?name=\nconfig reference: url\thttps://\n",
            "reference.config",
        )
        .unwrap();
        assert_eq!(
            r.url("CVE", "2020-1").as_deref(),
            Some("https://cve.mitre.org/cgi-bin/cvename.cgi?name=2020-1")
        );
        assert_eq!(r.url("url", "x.org").as_deref(), Some("https://x.org"));
        let e = References::parse("\n\nconfig reference: lonely", "r.config").unwrap_err();
        assert_eq!(e.line, 3);
    }
}
