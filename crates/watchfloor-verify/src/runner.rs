//! Running cases through a sensor, laid out as check.py's `--all` expects:
//! `OUT/<case>/eve.json` and `OUT/<case>/exit-status`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::case::dir_name;
use crate::{Case, VerifyError};

/// What one run of the sensor over a case produced, besides its files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// As Suricata's harness sees it: non-zero fails the case.
    pub exit_status: i32,
    /// Diagnostics for the user (unsupported options, rule load errors, ...).
    pub messages: Vec<String>,
}

/// The sensor side: read `case_dir`'s pcap and rules as Suricata would for
/// this case and write `out_dir/eve.json`.
pub trait CaseRunner {
    fn run(&self, case: &Case, case_dir: &Path, out_dir: &Path) -> Result<RunOutcome, VerifyError>;
}

/// A directory with `case.json` is a case; one without is a collection whose
/// subdirectories holding `case.json` are the cases (sorted by name).
pub fn expand_case_dirs(case_dirs: &[PathBuf]) -> Result<Vec<PathBuf>, VerifyError> {
    let mut out = Vec::new();
    for dir in case_dirs {
        if dir.join("case.json").is_file() {
            out.push(dir.clone());
            continue;
        }
        let entries = std::fs::read_dir(dir).map_err(|e| VerifyError::io(dir, e))?;
        let mut found = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| VerifyError::io(dir, e))?.path();
            if path.join("case.json").is_file() {
                found.push(path);
            }
        }
        if found.is_empty() {
            return Err(VerifyError::NotACase { path: dir.clone() });
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Runs every case into `out/<case>/`, writing `exit-status` for each.
///
/// A case that cannot be loaded or whose run errors is recorded as a failed
/// run (exit status 1, the error as a message) rather than stopping the
/// others; only failures to write under `out` abort. `progress` is called
/// before each case with (1-based index, total, case name).
pub fn run_cases(
    runner: &dyn CaseRunner,
    case_dirs: &[PathBuf],
    out: &Path,
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<Vec<(String, RunOutcome)>, VerifyError> {
    let dirs = expand_case_dirs(case_dirs)?;
    // Output folders are named by case directory, as check.py --all looks
    // them up, so two directories with one name would overwrite each other.
    let mut seen: BTreeMap<String, &PathBuf> = BTreeMap::new();
    for dir in &dirs {
        let name = dir_name(dir);
        if let Some(first) = seen.insert(name.clone(), dir) {
            return Err(VerifyError::DuplicateCase {
                name,
                first: first.clone(),
                second: dir.clone(),
            });
        }
    }
    let total = dirs.len();
    let mut results = Vec::with_capacity(total);
    for (i, dir) in dirs.iter().enumerate() {
        let name = dir_name(dir);
        progress(i + 1, total, &name);
        let case_out = out.join(&name);
        std::fs::create_dir_all(&case_out).map_err(|e| VerifyError::io(&case_out, e))?;
        // A stale eve.json from an earlier run must not be judged as this
        // run's output if the runner fails before writing one.
        for stale in ["eve.json", "exit-status"] {
            let p = case_out.join(stale);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(VerifyError::io(&p, e)),
            }
        }
        let outcome = Case::load(dir)
            .and_then(|case| runner.run(&case, dir, &case_out))
            .unwrap_or_else(|e| RunOutcome {
                exit_status: 1,
                messages: vec![e.to_string()],
            });
        let status_path = case_out.join("exit-status");
        std::fs::write(&status_path, format!("{}\n", outcome.exit_status))
            .map_err(|e| VerifyError::io(&status_path, e))?;
        results.push((name, outcome));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Fake {
        ran: RefCell<Vec<String>>,
    }

    impl CaseRunner for Fake {
        fn run(&self, case: &Case, _dir: &Path, out: &Path) -> Result<RunOutcome, VerifyError> {
            self.ran.borrow_mut().push(case.name.clone());
            if case.name == "bad" {
                return Err(VerifyError::Runner {
                    case: case.name.clone(),
                    message: "pcap unreadable".into(),
                });
            }
            std::fs::write(out.join("eve.json"), "").unwrap();
            Ok(RunOutcome::default())
        }
    }

    fn make_case(root: &Path, name: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("case.json"),
            format!(r#"{{"name": "{name}", "checks": []}}"#),
        )
        .unwrap();
        dir
    }

    #[test]
    fn expands_collections_and_writes_exit_status() {
        let tmp = tempfile::tempdir().unwrap();
        let cases = tmp.path().join("cases");
        make_case(&cases, "b");
        make_case(&cases, "a");
        make_case(&cases, "bad");
        std::fs::create_dir_all(cases.join("not-a-case")).unwrap();
        let single = make_case(tmp.path(), "solo");
        let out = tmp.path().join("out");
        std::fs::create_dir_all(out.join("bad")).unwrap();
        std::fs::write(out.join("bad/eve.json"), "stale").unwrap();

        let runner = Fake {
            ran: RefCell::new(Vec::new()),
        };
        let mut seen = Vec::new();
        let results = run_cases(&runner, &[cases, single], &out, |i, n, name| {
            seen.push(format!("{i}/{n} {name}"))
        })
        .unwrap();
        assert_eq!(seen, ["1/4 a", "2/4 b", "3/4 bad", "4/4 solo"]);
        assert_eq!(results.len(), 4);
        assert_eq!(results[2].1.exit_status, 1);
        assert!(results[2].1.messages[0].contains("pcap unreadable"));
        let status = |n: &str| std::fs::read_to_string(out.join(n).join("exit-status")).unwrap();
        assert_eq!(status("a"), "0\n");
        assert_eq!(status("bad"), "1\n");
        assert!(!out.join("bad/eve.json").exists(), "stale output removed");
    }

    #[test]
    fn rejects_non_cases_and_duplicates() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let err = expand_case_dirs(&[empty]).unwrap_err();
        assert!(matches!(err, VerifyError::NotACase { .. }));
        let a = make_case(&tmp.path().join("x"), "same");
        let b = make_case(&tmp.path().join("y"), "same");
        let runner = Fake {
            ran: RefCell::new(Vec::new()),
        };
        let err = run_cases(&runner, &[a, b], &tmp.path().join("out"), |_, _, _| {}).unwrap_err();
        assert!(matches!(err, VerifyError::DuplicateCase { .. }));
        assert!(runner.ran.borrow().is_empty());
    }
}
