#![no_main]
//! Arbitrary bytes (as lossy UTF-8) through the rule loader, the single-rule
//! parser, address/port resolution and the threshold.config reader. None
//! of them may panic; every input either loads or is reported.

use libfuzzer_sys::fuzz_target;
use watchfloor_rules::{load_str, parse_rule, Classifications, ThresholdConfig, Vars};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let vars = Vars::default();
    let classes = Classifications::builtin();
    let report = load_str(&text, "fuzz.rules", &vars, &classes);
    assert_eq!(
        report.counts.seen,
        report.counts.loaded + report.counts.failed + report.counts.duplicates
    );
    for e in &report.errors {
        let _ = e.to_string();
    }
    let _ = parse_rule(&text, &vars, &classes);
    let _ = vars.resolve_address(&text);
    let _ = vars.resolve_port(&text);
    let _ = ThresholdConfig::parse(&text, "fuzz.config", &vars);
    let _ = Classifications::parse(&text, "fuzz.config");
});
