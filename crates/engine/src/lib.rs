//! playalike's engine: the model blob format, scoring, search and explanations.
//!
//! The same code runs natively (the `playalike` CLI, training) and in WebAssembly (the npm
//! package). The core never imports wasm types; the `wasm` module is the only bridge.

pub mod catalog;
pub mod engine;
pub mod error;
pub mod format;
pub mod model;
pub mod search;
pub mod synth;
pub mod text;
pub mod validate;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use catalog::Catalog;
pub use engine::{
    Engine, EngineStream, Filters, GameView, Hit, Reason, RecommendQuery, ResultRow, SearchHit, Status,
    idf_weight, log_popularity, quality_prior,
};
pub use error::{Error, Result};
pub use model::{FIELD_COUNT, Field, Game, Metadata, Model, Params, Term};
