//! Loading the rules a sensor runs: the files named by the configuration
//! (`default-rule-path`, `rule-files`) or the command line (`-S`, `-s`),
//! with the configuration's variables and classification table, compiled
//! into the detection engine.

use crate::detect::{alert::AlertOptions, DetectSettings};
use crate::SensorConfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use watchfloor_detect::{BuildError, Engine};
use watchfloor_rules::{Classifications, LoadReport, Vars};

/// Which rule files to read.
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    /// `-S`: only these files (the configuration's `rule-files` are ignored).
    pub exclusive: Vec<PathBuf>,
    /// `-s`: these files in addition to the configuration's.
    pub extra: Vec<PathBuf>,
    /// `--indicators`: indicator files in addition to `indicator-files`.
    pub indicators: Vec<PathBuf>,
}

/// The outcome of loading: the engine (when any rule loaded) and every rule
/// that did not make it, with why.
pub struct RulesLoad {
    pub settings: Option<DetectSettings>,
    pub report: LoadReport,
    pub build_errors: Vec<BuildError>,
    pub files: Vec<PathBuf>,
    pub elapsed: Duration,
    /// What the indicator files gave, when any were named.
    pub indicators: Option<watchfloor_indicators::LoadReport>,
}

impl RulesLoad {
    /// Rules that did not load, for any reason (parse, requirements,
    /// duplicates, compilation).
    pub fn failed(&self) -> usize {
        self.report.errors.len() + self.build_errors.len()
    }

    pub fn loaded(&self) -> usize {
        self.settings.as_ref().map_or(0, |s| s.engine.len())
    }

    /// Every rule that failed, as `file:line: sid N: reason`.
    pub fn failure_lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.report.errors.iter().map(|e| e.to_string()).collect();
        v.extend(self.build_errors.iter().map(|e| e.to_string()));
        v
    }

    /// Every indicator line that failed, as `file:line: reason`.
    pub fn indicator_failure_lines(&self) -> Vec<String> {
        self.indicators
            .as_ref()
            .map(|r| r.errors.iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }

    /// Indicators loaded.
    pub fn indicators_loaded(&self) -> usize {
        self.indicators.as_ref().map_or(0, |r| r.counts.loaded)
    }
}

/// The configuration's variables over Suricata's defaults.
pub fn vars(c: &SensorConfig) -> Vars {
    let mut v = Vars::default();
    for (k, e) in &c.vars.address_groups {
        v.set_address(k, e);
    }
    for (k, e) in &c.vars.port_groups {
        let text = match e {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Array(a) => {
                let items: Vec<String> = a
                    .iter()
                    .map(|x| match x {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        _ => String::new(),
                    })
                    .collect();
                format!("[{}]", items.join(","))
            }
            _ => String::new(),
        };
        v.set_port(k, &text);
    }
    v
}

/// `classification-file`, or the built-in table.
pub fn classifications(c: &SensorConfig) -> Result<Classifications, String> {
    match &c.classification_file {
        Some(p) => Classifications::from_file(p).map_err(|e| e.to_string()),
        None => Ok(Classifications::builtin()),
    }
}

/// The files to read: `-S` alone, or `rule-files` (relative to
/// `default-rule-path`) plus `-s`.
pub fn rule_files(c: &SensorConfig, sel: &RuleSelection) -> Vec<PathBuf> {
    if !sel.exclusive.is_empty() {
        return sel.exclusive.clone();
    }
    let base = c.default_rule_path.as_deref().unwrap_or(Path::new("."));
    let mut v: Vec<PathBuf> = c
        .rule_files
        .iter()
        .map(|f| {
            if f.is_absolute() {
                f.clone()
            } else {
                base.join(f)
            }
        })
        .collect();
    v.extend(sel.extra.iter().cloned());
    v
}

/// Reads, parses and compiles the selected rules. An unreadable file or
/// classification file is an error; a rule that does not load is reported
/// in the result, not an error (Suricata goes on without it).
pub fn load(c: &SensorConfig, sel: &RuleSelection) -> Result<Option<RulesLoad>, String> {
    let files = rule_files(c, sel);
    let mut ioc_files: Vec<PathBuf> = c.indicator_files.clone();
    ioc_files.extend(sel.indicators.iter().cloned());
    if files.is_empty() && ioc_files.is_empty() {
        return Ok(None);
    }
    let started = Instant::now();
    let (indicators, ioc_report) = if ioc_files.is_empty() {
        (None, None)
    } else {
        let (set, report) =
            watchfloor_indicators::load_files(&ioc_files).map_err(|e| e.to_string())?;
        (Some(Arc::new(set)), Some(report))
    };
    let classes = classifications(c)?;
    let vars = vars(c);
    let report =
        watchfloor_rules::load_files(&files, &vars, &classes).map_err(|e| e.to_string())?;
    let sigs = report.sigs.clone();
    let (mut engine, build_errors) = Engine::build(sigs);
    if let Some(p) = &c.threshold_file {
        let cfg =
            watchfloor_rules::ThresholdConfig::from_file(p, &vars).map_err(|e| e.to_string())?;
        engine.apply_threshold_config(&cfg);
    }
    let categories: HashMap<String, String> = classes
        .iter()
        .map(|c| (c.name.clone(), c.description.clone()))
        .collect();
    let settings = (!engine.is_empty() || indicators.is_some()).then(|| DetectSettings {
        engine: Arc::new(engine),
        categories: Arc::new(categories),
        alert: AlertOptions::from_config(c),
        indicators,
    });
    Ok(Some(RulesLoad {
        settings,
        report,
        build_errors,
        files,
        elapsed: started.elapsed(),
        indicators: ioc_report,
    }))
}
