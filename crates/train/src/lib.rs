//! Training: snapshot → features → cold-start split → learned scoring parameters → evaluated
//! model (and its report); plus synthetic snapshots for machines without real data.
//!
//! Same snapshot and configuration → byte-identical model.

pub mod eval;
pub mod features;
pub mod generate;
pub mod par;
pub mod report;
pub mod train;

pub(crate) use playalike_base::{exit, progress};
pub(crate) use playalike_igdb::snapshot;
