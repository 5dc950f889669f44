//! Conformance against Suricata's regression suite (suricata-verify).
//!
//! A case (`case.json`, a pcap, maybe rules) is run through a sensor by a
//! [`CaseRunner`]; the resulting `eve.json` is judged by [`judge_case`], a
//! Rust port of the corpus's reference checker `check.py` so that users of
//! `watchfloor verify --check` need no Python.

mod case;
mod check;
mod error;
mod pyval;
mod runner;
mod version;

pub use case::{Case, Check, ConfigKind, FilterCheck, RunArgs, StatsCheck};
pub use check::{
    judge_case, judge_case_report, summary_line, CaseReport, CheckOptions, CheckOutcome, Verdict,
    DEFAULT_FEATURES,
};
pub use error::VerifyError;
pub use runner::{expand_case_dirs, run_cases, CaseRunner, RunOutcome};
pub use version::{Requires, Version};
