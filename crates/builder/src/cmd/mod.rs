//! The subcommands backed by the library crates: each module holds the clap flags, resolves them
//! into the library's configuration, calls it and prints the outcome.

pub mod eval;
pub mod fetch;
pub mod generate;
pub mod publish;
pub mod sandbox;
pub mod train;
pub mod validate;
