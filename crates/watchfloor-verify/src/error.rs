use std::path::PathBuf;

/// Everything that can go wrong loading cases or writing run results.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: invalid case.json: {source}", path.display())]
    CaseJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: not a case directory (no case.json, and no subdirectory with one)", path.display())]
    NotACase { path: PathBuf },
    #[error("two cases named {name}: {} and {}", first.display(), second.display())]
    DuplicateCase {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("not a version: {0:?}")]
    BadVersion(String),
    #[error("{case}: {message}")]
    Runner { case: String, message: String },
}

impl VerifyError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VerifyError::Io {
            path: path.into(),
            source,
        }
    }
}
