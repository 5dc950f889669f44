//! `classification.config`: `config classification: name,description,priority`.
//!
//! Rules name a classtype; the classtype gives the alert its description
//! and default priority. An unknown classtype makes the rule fail to load,
//! as in Suricata.

use std::collections::HashMap;
use std::path::Path;

use crate::error::ConfigError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub name: String,
    pub description: String,
    pub priority: u8,
}

/// The classtypes known to the loader.
#[derive(Debug, Clone, Default)]
pub struct Classifications {
    by_name: HashMap<String, Classification>,
}

/// Suricata's standard classtypes (the classification.config it ships,
/// which ET Open and Snort share): name, description, priority.
const BUILTIN: &[(&str, &str, u8)] = &[
    ("not-suspicious", "Not Suspicious Traffic", 3),
    ("unknown", "Unknown Traffic", 3),
    ("bad-unknown", "Potentially Bad Traffic", 2),
    ("attempted-recon", "Attempted Information Leak", 2),
    ("successful-recon-limited", "Information Leak", 2),
    (
        "successful-recon-largescale",
        "Large Scale Information Leak",
        2,
    ),
    ("attempted-dos", "Attempted Denial of Service", 2),
    ("successful-dos", "Denial of Service", 2),
    ("attempted-user", "Attempted User Privilege Gain", 1),
    ("unsuccessful-user", "Unsuccessful User Privilege Gain", 1),
    ("successful-user", "Successful User Privilege Gain", 1),
    (
        "attempted-admin",
        "Attempted Administrator Privilege Gain",
        1,
    ),
    (
        "successful-admin",
        "Successful Administrator Privilege Gain",
        1,
    ),
    ("rpc-portmap-decode", "Decode of an RPC Query", 2),
    ("shellcode-detect", "Executable code was detected", 1),
    ("string-detect", "A suspicious string was detected", 3),
    (
        "suspicious-filename-detect",
        "A suspicious filename was detected",
        2,
    ),
    (
        "suspicious-login",
        "An attempted login using a suspicious username was detected",
        2,
    ),
    ("system-call-detect", "A system call was detected", 2),
    ("tcp-connection", "A TCP connection was detected", 4),
    ("trojan-activity", "A Network Trojan was detected", 1),
    (
        "unusual-client-port-connection",
        "A client was using an unusual port",
        2,
    ),
    ("network-scan", "Detection of a Network Scan", 3),
    (
        "denial-of-service",
        "Detection of a Denial of Service Attack",
        2,
    ),
    (
        "non-standard-protocol",
        "Detection of a non-standard protocol or event",
        2,
    ),
    (
        "protocol-command-decode",
        "Generic Protocol Command Decode",
        3,
    ),
    (
        "web-application-activity",
        "access to a potentially vulnerable web application",
        2,
    ),
    ("web-application-attack", "Web Application Attack", 1),
    ("misc-activity", "Misc activity", 3),
    ("misc-attack", "Misc Attack", 2),
    ("icmp-event", "Generic ICMP event", 3),
    (
        "inappropriate-content",
        "Inappropriate Content was Detected",
        1,
    ),
    (
        "policy-violation",
        "Potential Corporate Privacy Violation",
        1,
    ),
    (
        "default-login-attempt",
        "Attempt to login by a default username and password",
        2,
    ),
    (
        "targeted-activity",
        "Targeted Malicious Activity was Detected",
        1,
    ),
    ("exploit-kit", "Exploit Kit Activity Detected", 1),
    (
        "external-ip-check",
        "Device Retrieving External IP Address Detected",
        2,
    ),
    ("domain-c2", "Domain Observed Used for C2 Detected", 1),
    ("pup-activity", "Possibly Unwanted Program Detected", 2),
    (
        "credential-theft",
        "Successful Credential Theft Detected",
        1,
    ),
    (
        "social-engineering",
        "Possible Social Engineering Attempted",
        2,
    ),
    ("coin-mining", "Crypto Currency Mining Activity Detected", 2),
    (
        "command-and-control",
        "Malware Command and Control Activity Detected",
        1,
    ),
];

impl Classifications {
    /// An empty table: every classtype is unknown.
    pub fn empty() -> Classifications {
        Classifications::default()
    }

    /// Suricata's standard classtypes, for when no classification.config
    /// is configured.
    pub fn builtin() -> Classifications {
        let mut c = Classifications::default();
        for (n, d, p) in BUILTIN {
            c.insert(Classification {
                name: (*n).to_string(),
                description: (*d).to_string(),
                priority: *p,
            });
        }
        c
    }

    /// Adds or replaces one classtype (names are case-insensitive, as in
    /// Suricata).
    pub fn insert(&mut self, c: Classification) {
        self.by_name.insert(c.name.to_ascii_lowercase(), c);
    }

    pub fn get(&self, name: &str) -> Option<&Classification> {
        match self.by_name.get(name) {
            Some(c) => Some(c),
            None => self.by_name.get(&name.to_ascii_lowercase()),
        }
    }

    /// Every classtype, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Classification> {
        self.by_name.values()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Parses classification.config text; `origin` names it in errors.
    /// Blank lines and `#` comments are skipped.
    pub fn parse(text: &str, origin: &str) -> Result<Classifications, ConfigError> {
        let mut c = Classifications::default();
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
                .strip_prefix("config classification:")
                .ok_or_else(|| err(format!("expected 'config classification:', got '{l}'")))?;
            let mut parts = rest.splitn(3, ',');
            let (name, desc, prio) = match (parts.next(), parts.next(), parts.next()) {
                (Some(n), Some(d), Some(p)) => (n.trim(), d.trim(), p.trim()),
                _ => return Err(err("expected 'name,description,priority'".to_string())),
            };
            if name.is_empty() {
                return Err(err("empty classtype name".to_string()));
            }
            let priority = prio
                .parse::<u8>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| err(format!("invalid priority '{prio}'")))?;
            c.insert(Classification {
                name: name.to_string(),
                description: desc.to_string(),
                priority,
            });
        }
        Ok(c)
    }

    pub fn from_file(path: &Path) -> Result<Classifications, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: origin.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        Classifications::parse(&text, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_the_standard_set() {
        let c = Classifications::builtin();
        assert_eq!(c.len(), 43);
        assert_eq!(c.get("trojan-activity").map(|c| c.priority), Some(1));
        assert_eq!(c.get("tcp-connection").map(|c| c.priority), Some(4));
        assert_eq!(
            c.get("Misc-Activity").map(|c| c.description.as_str()),
            Some("Misc activity")
        );
    }

    #[test]
    fn parses_and_reports_lines() {
        let c = Classifications::parse(
            "# x\n\nconfig classification: a-b,Some thing, 2\n",
            "c.config",
        )
        .unwrap();
        assert_eq!(c.get("a-b").map(|c| c.priority), Some(2));
        let e = Classifications::parse("\nconfig classification: a,b\n", "c.config").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.config:2: expected 'name,description,priority'"
        );
        assert!(Classifications::parse("config classification: a,b,x", "f").is_err());
        assert!(Classifications::parse("bogus", "f").is_err());
    }
}
