//! Suricata's rule language, parsed into typed signatures ([`sig::Sig`]).
//!
//! Every rule either loads or is reported with file:line, sid and a precise
//! reason. Matching lives in `watchfloor-detect`; this crate only reads.
//!
//! Entry points: [`parse_rule`] for one rule, [`load_str`] /
//! [`load_files`] (or a [`Loader`]) for rule files, [`Vars`] for address
//! and port groups, [`Classifications`], [`References`] and
//! [`ThresholdConfig`] for the companion config files.

mod buffers;
pub mod classification;
pub mod error;
mod header;
mod keywords;
mod lexer;
pub mod load;
mod num;
mod rangeset;
pub mod reference;
pub mod sig;
pub mod threshold_config;
pub mod vars;

pub use classification::{Classification, Classifications};
pub use error::{ConfigError, FileError, RuleError, RuleErrorKind, VarError};
pub use load::{load_files, load_str, parse_rule, KeywordUse, LoadCounts, LoadReport, Loader};
pub use reference::References;
pub use sig::*;
pub use threshold_config::{SuppressTrack, ThresholdConfig, ThresholdEntry};
pub use vars::Vars;

/// Direction within a flow, as `flow:to_server` and app-layer buffers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowDir {
    ToServer,
    ToClient,
}

/// Every option keyword the parser accepts (buffer keywords included), for
/// documentation and coverage tables.
pub fn supported_keywords() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = keywords::KNOWN_KEYWORDS.to_vec();
    v.extend(buffers::keyword_names());
    v.sort_unstable();
    v
}
