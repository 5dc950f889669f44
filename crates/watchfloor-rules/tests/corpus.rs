//! Loads the real rule sets shipped beside the repository (ET Open and
//! Suricata's own rules) and the conformance cases' rules, and prints the
//! failures grouped by reason. Skips, with a note, when they are absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use watchfloor_rules::{load_files, Classifications, LoadReport, RuleErrorKind, Vars};

fn shared() -> PathBuf {
    std::env::var_os("WATCHFLOOR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared"))
}

fn rule_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rules"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Reason with numbers and quoted specifics blurred, so that like failures
/// group together.
fn group_key(reason: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    let mut quoted = String::new();
    for c in reason.chars() {
        if c == '\'' {
            if in_quote {
                // Keep keyword names (short, no spaces), blur long values.
                if quoted.len() <= 24 && !quoted.contains(' ') {
                    out.push_str(&quoted);
                } else {
                    out.push('…');
                }
                quoted.clear();
            }
            in_quote = !in_quote;
            out.push(c);
        } else if in_quote {
            quoted.push(c);
        } else if c.is_ascii_digit() {
            if !out.ends_with('N') {
                out.push('N');
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn print_failures(r: &LoadReport, show_each: bool) {
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for e in &r.errors {
        *groups.entry(group_key(&e.reason)).or_default() += 1;
    }
    let mut g: Vec<_> = groups.into_iter().collect();
    g.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (k, n) in g {
        eprintln!("{n:6}  {k}");
    }
    if show_each {
        for e in &r.errors {
            eprintln!("  {e}");
        }
    }
}

#[test]
fn et_open_and_suricata_rules_load() {
    let root = shared().join("rules");
    let et = root.join("et-open");
    if !et.is_dir() {
        eprintln!("skipped: {} not found", et.display());
        return;
    }
    let classes = Classifications::from_file(&et.join("classification.config"))
        .expect("classification.config");
    let mut files = rule_files(&et);
    files.extend(rule_files(&root.join("suricata")));
    let vars = Vars::default();
    let t = Instant::now();
    let r = load_files(&files, &vars, &classes).expect("rule files readable");
    let took = t.elapsed();
    let c = r.counts;
    let rate = r.parse_rate();
    eprintln!(
        "{} files: seen {} loaded {} failed {} (requires {}) duplicates {} disabled {} in {:?}; parse rate {:.3}%",
        files.len(),
        c.seen,
        c.loaded,
        c.failed,
        c.skipped,
        c.duplicates,
        c.disabled,
        took,
        rate * 100.0
    );
    print_failures(&r, false);
    let non_dup: Vec<_> = r
        .errors
        .iter()
        .filter(|e| e.kind != RuleErrorKind::Duplicate)
        .take(40)
        .collect();
    for e in non_dup {
        eprintln!("  {e}");
    }
    assert!(rate >= 0.99, "load rate {rate}");
}

#[test]
fn conformance_rules_load() {
    let cases = shared().join("conformance").join("cases");
    if !cases.is_dir() {
        eprintln!("skipped: {} not found", cases.display());
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cases)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path().join("test.rules"))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let vars = Vars::default();
    let classes = Classifications::builtin();
    let mut failed = 0;
    let mut seen = 0;
    for f in &files {
        // Each case is its own load: cases reuse sids.
        let r = load_files(std::slice::from_ref(f), &vars, &classes).expect("readable");
        seen += r.counts.seen;
        for e in r
            .errors
            .iter()
            .filter(|e| e.kind != RuleErrorKind::Duplicate)
        {
            failed += 1;
            eprintln!("  {e}");
        }
    }
    eprintln!(
        "conformance: {} files, {seen} rules, {failed} failed",
        files.len()
    );
}
