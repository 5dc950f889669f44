//! Sensor configuration: a TOML file (`-c sensor.toml`) whose keys follow
//! Suricata's suricata.yaml names (`stream.reassembly.depth`, `flow.memcap`,
//! ...), so that `--set KEY=VALUE` from a Suricata user's habits applies to the
//! same setting. Everything has a sane default: an empty file is a valid config.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("--set {arg}: expected KEY=VALUE")]
    SetSyntax { arg: String },
    #[error("--set {key}={value}: {message}")]
    SetValue {
        key: String,
        value: String,
        message: String,
    },
}

/// The whole sensor configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SensorConfig {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    pub checksum_checks: ChecksumMode,
    pub flow: FlowSection,
    pub flow_timeouts: FlowTimeouts,
    pub stream: StreamSection,
    pub defrag: DefragSection,
    pub app_layer: AppLayerSection,
    pub outputs: OutputsSection,
    /// Directory relative rule files are read from (`default-rule-path`).
    pub default_rule_path: Option<std::path::PathBuf>,
    /// Rule files to load (`rule-files`); `-S`/`-s` on the command line add to them.
    pub rule_files: Vec<std::path::PathBuf>,
    /// `classification-file`; the built-in table when unset.
    pub classification_file: Option<std::path::PathBuf>,
    /// `reference-config-file` (read for validation).
    pub reference_config_file: Option<std::path::PathBuf>,
    /// `threshold-file`: suppress and threshold lines.
    pub threshold_file: Option<std::path::PathBuf>,
    /// `vars.address-groups` / `vars.port-groups` (HOME_NET and friends).
    pub vars: VarsSection,
    /// Watchfloor's indicator files (IP/CIDR, domains, URLs, JA3/JA4...;
    /// format in crates/watchfloor-indicators/README.md); `--indicators`
    /// adds to them.
    pub indicator_files: Vec<std::path::PathBuf>,
    /// Environment values the run sees instead of the process's own (the
    /// conformance runner passes a case's `env` here). Not part of the file.
    #[serde(skip)]
    pub env: std::collections::BTreeMap<String, String>,
}

/// `vars:` of suricata.yaml: values override Suricata's defaults.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VarsSection {
    pub address_groups: std::collections::BTreeMap<String, String>,
    pub port_groups: std::collections::BTreeMap<String, toml::Value>,
}

/// Suricata's `-k`: validate checksums (`all`) or not (`none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumMode {
    #[default]
    All,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FlowSection {
    #[serde(deserialize_with = "de_size")]
    pub memcap: u64,
    pub hash_size: u32,
    pub prealloc: u32,
    /// Percentage of the memcap freed before emergency mode ends.
    pub emergency_recovery: u32,
}

impl Default for FlowSection {
    fn default() -> Self {
        FlowSection {
            memcap: 128 << 20,
            hash_size: 65_536,
            prealloc: 10_000,
            emergency_recovery: 30,
        }
    }
}

/// `flow-timeouts.<proto>.<state>` in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FlowTimeouts {
    pub default: Timeouts,
    pub tcp: Timeouts,
    pub udp: Timeouts,
    pub icmp: Timeouts,
}

impl Default for FlowTimeouts {
    fn default() -> Self {
        // Suricata's stock suricata.yaml values.
        FlowTimeouts {
            default: Timeouts::new(30, 300, 0, 10, 100, 0),
            tcp: Timeouts::new(60, 600, 60, 10, 300, 20),
            udp: Timeouts::new(30, 300, 0, 10, 100, 0),
            icmp: Timeouts::new(30, 300, 0, 10, 100, 0),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Timeouts {
    pub new: u64,
    pub established: u64,
    #[serde(default)]
    pub closed: u64,
    pub emergency_new: u64,
    pub emergency_established: u64,
    #[serde(default)]
    pub emergency_closed: u64,
}

impl Timeouts {
    const fn new(n: u64, e: u64, c: u64, en: u64, ee: u64, ec: u64) -> Self {
        Timeouts {
            new: n,
            established: e,
            closed: c,
            emergency_new: en,
            emergency_established: ee,
            emergency_closed: ec,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::new(30, 300, 0, 10, 100, 0)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct StreamSection {
    #[serde(deserialize_with = "de_size")]
    pub memcap: u64,
    #[serde(deserialize_with = "de_bool")]
    pub checksum_validation: bool,
    #[serde(deserialize_with = "de_bool")]
    pub midstream: bool,
    pub midstream_policy: Option<String>,
    #[serde(deserialize_with = "de_bool")]
    pub async_oneside: bool,
    #[serde(deserialize_with = "de_bool")]
    pub inline: bool,
    pub reassembly: ReassemblySection,
}

impl Default for StreamSection {
    fn default() -> Self {
        StreamSection {
            memcap: 64 << 20,
            checksum_validation: true,
            midstream: false,
            midstream_policy: None,
            async_oneside: false,
            inline: false,
            reassembly: ReassemblySection::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReassemblySection {
    #[serde(deserialize_with = "de_size")]
    pub memcap: u64,
    /// Bytes reassembled per direction; 0 means no limit.
    #[serde(deserialize_with = "de_size")]
    pub depth: u64,
}

impl Default for ReassemblySection {
    fn default() -> Self {
        ReassemblySection {
            memcap: 256 << 20,
            depth: 1 << 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DefragSection {
    #[serde(deserialize_with = "de_size")]
    pub memcap: u64,
    /// Seconds a fragment train may wait for its missing parts.
    pub timeout: u64,
}

impl Default for DefragSection {
    fn default() -> Self {
        DefragSection {
            memcap: 32 << 20,
            timeout: 60,
        }
    }
}

/// `app-layer.protocols.<name>.*`: kept as written, read by the parsers.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppLayerSection {
    pub protocols: BTreeMap<String, toml::Table>,
}

/// `outputs.eve-log`: which EVE types are written and their options.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutputsSection {
    pub eve_log: EveLogSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct EveLogSection {
    #[serde(deserialize_with = "de_bool")]
    pub enabled: bool,
    pub filename: String,
    /// Event types with their options (`{ anomaly = { types = { decode = true } } }`).
    pub types: BTreeMap<String, toml::Table>,
    #[serde(deserialize_with = "de_bool")]
    pub ethernet: bool,
    #[serde(deserialize_with = "de_bool")]
    pub community_id: bool,
    pub community_id_seed: u16,
}

impl Default for EveLogSection {
    fn default() -> Self {
        // Suricata's stock eve-log: these types, anomaly limited to app-layer events.
        let mut types = BTreeMap::new();
        for t in ["alert", "dns", "files", "stats", "flow"] {
            types.insert(t.to_string(), toml::Table::new());
        }
        // Stock suricata.yaml logs http and tls with `extended: yes`.
        for t in ["http", "tls"] {
            let mut ext = toml::Table::new();
            ext.insert("extended".into(), true.into());
            types.insert(t.to_string(), ext);
        }
        let mut anomaly_types = toml::Table::new();
        anomaly_types.insert("decode".into(), false.into());
        anomaly_types.insert("stream".into(), false.into());
        anomaly_types.insert("applayer".into(), true.into());
        let mut anomaly = toml::Table::new();
        anomaly.insert("types".into(), anomaly_types.into());
        types.insert("anomaly".into(), anomaly);
        EveLogSection {
            enabled: true,
            filename: "eve.json".into(),
            types,
            ethernet: false,
            community_id: false,
            community_id_seed: 0,
        }
    }
}

impl EveLogSection {
    pub fn enabled(&self, event_type: &str) -> bool {
        self.enabled
            && self
                .types
                .get(event_type)
                .is_some_and(|t| t.get("enabled").and_then(toml::Value::as_bool) != Some(false))
    }

    /// Whether anomaly records of `kind` (`decode`, `stream`, `applayer`) are written.
    pub fn anomaly_enabled(&self, kind: &str) -> bool {
        let Some(a) = self.types.get("anomaly") else {
            return false;
        };
        if a.get("enabled").and_then(toml::Value::as_bool) == Some(false) || !self.enabled {
            return false;
        }
        match a.get("types").and_then(toml::Value::as_table) {
            // Without a `types` table Suricata logs every kind.
            None => true,
            Some(t) => t.get(kind).and_then(toml::Value::as_bool).unwrap_or(false),
        }
    }
}

impl SensorConfig {
    /// An environment variable, from `env` first, then the process.
    pub fn env_var(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }

    pub fn load(path: &Path) -> Result<SensorConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_toml(text: &str) -> Result<SensorConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies `--set KEY=VALUE`. Returns `Ok(false)` when Watchfloor has no
    /// such setting (the caller warns and goes on, as Suricata ignores keys
    /// it does not use), and an error when the value does not fit the key.
    pub fn apply_set(&mut self, arg: &str) -> Result<bool, ConfigError> {
        let (key, value) = arg.split_once('=').ok_or_else(|| ConfigError::SetSyntax {
            arg: arg.to_string(),
        })?;
        let (key, value) = (key.trim(), value.trim());
        let mut tree = self.to_table();
        let path: Vec<&str> = key.split('.').collect();
        if !set_path(&mut tree, &path, infer_value(value)) {
            return Ok(false);
        }
        match toml::Value::Table(tree).try_into::<SensorConfig>() {
            Ok(cfg) => {
                let env = std::mem::take(&mut self.env);
                *self = cfg;
                self.env = env;
                Ok(true)
            }
            Err(e) if e.to_string().contains("unknown field") => Ok(false),
            Err(e) => Err(ConfigError::SetValue {
                key: key.into(),
                value: value.into(),
                message: e.to_string(),
            }),
        }
    }

    fn to_table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        let mut ins = |path: &[&str], v: toml::Value| {
            set_path(&mut t, path, v);
        };
        ins(&["threads"], (self.threads as i64).into());
        ins(
            &["checksum-checks"],
            match self.checksum_checks {
                ChecksumMode::All => "all",
                ChecksumMode::None => "none",
            }
            .into(),
        );
        let f = &self.flow;
        ins(&["flow", "memcap"], (f.memcap as i64).into());
        ins(&["flow", "hash-size"], (f.hash_size as i64).into());
        ins(&["flow", "prealloc"], (f.prealloc as i64).into());
        ins(
            &["flow", "emergency-recovery"],
            (f.emergency_recovery as i64).into(),
        );
        for (name, t) in [
            ("default", &self.flow_timeouts.default),
            ("tcp", &self.flow_timeouts.tcp),
            ("udp", &self.flow_timeouts.udp),
            ("icmp", &self.flow_timeouts.icmp),
        ] {
            for (k, v) in [
                ("new", t.new),
                ("established", t.established),
                ("closed", t.closed),
                ("emergency-new", t.emergency_new),
                ("emergency-established", t.emergency_established),
                ("emergency-closed", t.emergency_closed),
            ] {
                ins(&["flow-timeouts", name, k], (v as i64).into());
            }
        }
        let s = &self.stream;
        ins(&["stream", "memcap"], (s.memcap as i64).into());
        ins(
            &["stream", "checksum-validation"],
            s.checksum_validation.into(),
        );
        ins(&["stream", "midstream"], s.midstream.into());
        if let Some(p) = &s.midstream_policy {
            ins(&["stream", "midstream-policy"], p.clone().into());
        }
        ins(&["stream", "async-oneside"], s.async_oneside.into());
        ins(&["stream", "inline"], s.inline.into());
        ins(
            &["stream", "reassembly", "memcap"],
            (s.reassembly.memcap as i64).into(),
        );
        ins(
            &["stream", "reassembly", "depth"],
            (s.reassembly.depth as i64).into(),
        );
        ins(&["defrag", "memcap"], (self.defrag.memcap as i64).into());
        ins(&["defrag", "timeout"], (self.defrag.timeout as i64).into());
        let mut protos = toml::Table::new();
        for (k, v) in &self.app_layer.protocols {
            protos.insert(k.clone(), v.clone().into());
        }
        ins(&["app-layer", "protocols"], protos.into());
        let e = &self.outputs.eve_log;
        ins(&["outputs", "eve-log", "enabled"], e.enabled.into());
        ins(
            &["outputs", "eve-log", "filename"],
            e.filename.clone().into(),
        );
        let mut types = toml::Table::new();
        for (k, v) in &e.types {
            types.insert(k.clone(), v.clone().into());
        }
        ins(&["outputs", "eve-log", "types"], types.into());
        ins(&["outputs", "eve-log", "ethernet"], e.ethernet.into());
        ins(
            &["outputs", "eve-log", "community-id"],
            e.community_id.into(),
        );
        ins(
            &["outputs", "eve-log", "community-id-seed"],
            (e.community_id_seed as i64).into(),
        );
        let path = |p: &std::path::Path| toml::Value::String(p.to_string_lossy().into_owned());
        if let Some(p) = &self.default_rule_path {
            ins(&["default-rule-path"], path(p));
        }
        ins(
            &["rule-files"],
            toml::Value::Array(self.rule_files.iter().map(|p| path(p)).collect()),
        );
        for (k, v) in [
            ("classification-file", &self.classification_file),
            ("reference-config-file", &self.reference_config_file),
            ("threshold-file", &self.threshold_file),
        ] {
            if let Some(p) = v {
                ins(&[k], path(p));
            }
        }
        ins(
            &["indicator-files"],
            toml::Value::Array(self.indicator_files.iter().map(|p| path(p)).collect()),
        );
        let mut addr = toml::Table::new();
        for (k, v) in &self.vars.address_groups {
            addr.insert(k.clone(), v.clone().into());
        }
        ins(&["vars", "address-groups"], addr.into());
        let mut ports = toml::Table::new();
        for (k, v) in &self.vars.port_groups {
            ports.insert(k.clone(), v.clone());
        }
        ins(&["vars", "port-groups"], ports.into());
        t
    }
}

/// Sets `path` in `t`, creating intermediate tables for open-ended maps
/// (`app-layer.protocols.*`, eve types). Returns false if a non-table value
/// sits on the way.
fn set_path(t: &mut toml::Table, path: &[&str], v: toml::Value) -> bool {
    match path {
        [] => false,
        [last] => {
            t.insert((*last).to_string(), v);
            true
        }
        [first, rest @ ..] => {
            let entry = t
                .entry((*first).to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(inner) => set_path(inner, rest, v),
                _ => false,
            }
        }
    }
}

/// Suricata's YAML scalars: yes/no/on/off/true/false, integers, else strings.
fn infer_value(s: &str) -> toml::Value {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => return true.into(),
        "no" | "false" | "off" => return false.into(),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return i.into();
    }
    s.to_string().into()
}

/// Parses Suricata's sizes: `1048576`, `64kb`, `1mb`, `2gb` (powers of 1024).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = t[digits.len()..].trim();
    let n: u64 = digits.trim().parse().ok()?;
    let mult: u64 = match unit {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        N(u64),
        S(String),
    }
    match Size::deserialize(d)? {
        Size::N(n) => Ok(n),
        Size::S(s) => parse_size(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid size {s:?} (try 1048576, 64kb, 1mb)"))
        }),
    }
}

fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        B(bool),
        S(String),
    }
    match B::deserialize(d)? {
        B::B(b) => Ok(b),
        B::S(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" => Ok(true),
            "no" | "false" | "off" | "0" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "expected yes/no or true/false, got {s:?}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_suricata_defaults() {
        let c = SensorConfig::from_toml("").unwrap();
        assert_eq!(c.stream.reassembly.depth, 1 << 20);
        assert!(!c.stream.midstream);
        assert_eq!(c.flow_timeouts.tcp.established, 600);
        assert!(c.outputs.eve_log.enabled("flow"));
        assert!(!c.outputs.eve_log.anomaly_enabled("decode"));
        assert!(c.outputs.eve_log.anomaly_enabled("applayer"));
    }

    #[test]
    fn toml_uses_suricata_names() {
        let c = SensorConfig::from_toml(
            "[stream]\nmidstream = true\n[stream.reassembly]\ndepth = \"64kb\"\n[flow]\nmemcap = \"1gb\"\n",
        )
        .unwrap();
        assert!(c.stream.midstream);
        assert_eq!(c.stream.reassembly.depth, 65_536);
        assert_eq!(c.flow.memcap, 1 << 30);
    }

    #[test]
    fn unknown_key_in_file_is_an_error_that_names_it() {
        let e = SensorConfig::from_toml("[stream]\nmidstreem = true\n").unwrap_err();
        assert!(e.contains("midstreem"), "{e}");
    }

    #[test]
    fn set_applies_known_keys_and_reports_unknown_ones() {
        let mut c = SensorConfig::default();
        assert!(c.apply_set("stream.midstream=true").unwrap());
        assert!(c.stream.midstream);
        assert!(c.apply_set("stream.reassembly.depth=50").unwrap());
        assert_eq!(c.stream.reassembly.depth, 50);
        assert!(c.apply_set("flow.hash-size=1").unwrap());
        assert_eq!(c.flow.hash_size, 1);
        assert!(c
            .apply_set("app-layer.protocols.tls.encryption-handling=bypass")
            .unwrap());
        assert!(!c.apply_set("detect.guess-applayer-tx=true").unwrap());
        assert!(c.apply_set("stream.midstream=maybe").is_err());
        assert!(c.apply_set("novalue").is_err());
        // A rejected value leaves the config as it was.
        assert!(c.stream.midstream);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1mb"), Some(1 << 20));
        assert_eq!(parse_size("4kb"), Some(4096));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("1tb"), None);
        assert_eq!(parse_size("99999999999999999999gb"), None);
    }
}
