//! Exit codes a scheduler can act on, and the error wrapper that carries one.

use std::fmt;

/// Process exit codes. Documented in `playalike --help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything worked.
    Ok = 0,
    /// An unexpected failure (bug, I/O error outside a stage).
    Failure = 1,
    /// Bad flags or configuration (clap also uses 2).
    Usage = 2,
    /// Fetching from IGDB failed (network, auth, limits, malformed answers).
    Fetch = 10,
    /// Training or evaluation failed (bad snapshot, no games).
    Train = 11,
    /// The validation gate refused the model.
    Validate = 12,
    /// Publishing to the bucket failed (or lost a race to another publisher).
    Publish = 13,
    /// Authentication failed (IGDB or the bucket): wrong or missing credentials.
    Auth = 14,
    /// `status --max-age` / `--min-recall` / `--max-failed-runs`: the live model is too old or too
    /// weak, nothing is live, or too many of the newest runs failed in a row.
    Unhealthy = 15,
}

/// An error that knows which exit code it deserves.
#[derive(Debug)]
pub struct StageError {
    /// The exit code.
    pub code: ExitCode,
    /// The underlying error, with its context chain.
    pub source: anyhow::Error,
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.source)
    }
}

impl std::error::Error for StageError {}

/// Extension to tag an error with an exit code: `op().stage(ExitCode::Fetch)?`.
pub trait Stage<T> {
    /// Tags the error with `code` (an inner tag, if any, wins).
    fn stage(self, code: ExitCode) -> anyhow::Result<T>;
}

impl<T> Stage<T> for anyhow::Result<T> {
    fn stage(self, code: ExitCode) -> anyhow::Result<T> {
        self.map_err(|e| {
            if e.downcast_ref::<StageError>().is_some() {
                e
            } else {
                anyhow::Error::new(StageError { code, source: e })
            }
        })
    }
}

/// The exit code an error deserves (1 when untagged).
pub fn code_of(e: &anyhow::Error) -> ExitCode {
    e.chain().find_map(|c| c.downcast_ref::<StageError>().map(|s| s.code)).unwrap_or(ExitCode::Failure)
}
