//! Learning the scoring parameters on the training part of a cold-start split.

use crate::eval::{Evaluation, Split};
use crate::train::CommonArgs;
use anyhow::Result;
use playalike_engine::{Model, Params};
use serde::Serialize;

/// What learning did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether anything was learned (false: defaults / IDF).
    pub learned: bool,
    /// Why not, or how.
    pub note: String,
    /// The chosen parameters.
    #[serde(skip)]
    pub params: Params,
}

impl Report {
    /// Default parameters, with the reason.
    pub fn defaults(note: &str) -> Report {
        Report { learned: false, note: note.to_string(), params: Params::default() }
    }
}

/// Learns parameters on the training view of the split.
pub fn learn(_train: &Model, _split: &Split, _common: &CommonArgs) -> Result<Report> {
    Ok(Report::defaults("learning not built yet"))
}

/// Baselines measured on the same split.
pub fn baselines(
    _split_model: &Model,
    _split: &Split,
    _k: usize,
    _threads: usize,
) -> Result<Vec<(String, Evaluation)>> {
    Ok(Vec::new())
}
