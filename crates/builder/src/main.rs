//! `playalike`: the builder CLI. It owns flags and orchestration only; each subcommand lives in
//! its own module, and the model format and scoring live in `playalike-engine`.

mod eval;
#[allow(dead_code)] // stage tags arrive with the subcommands
mod exit;
mod features;
mod fetch;
mod generate;
mod par;
mod publish;
mod query;
mod report;
mod run;
mod sandbox;
#[allow(dead_code)] // readers arrive with train and sandbox
mod snapshot;
mod train;
mod validate;

use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0   success
  1   unexpected failure
  2   bad flags or configuration
  10  fetch from IGDB failed
  11  training or evaluation failed
  12  validation gate refused the model
  13  publishing failed (nothing was changed, or another publisher won)
  14  authentication failed (IGDB or bucket credentials)
  15  status check failed (live model older than --max-age, below --min-recall, or none)";

/// playalike: game recommendations that run in the browser.
///
/// The builder fetches the catalogue from IGDB, trains a model, checks it and publishes one
/// compact blob to a bucket; the wasm engine answers queries from that blob.
#[derive(Debug, Parser)]
#[command(name = "playalike", version, after_help = EXIT_CODES, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch the game catalogue from IGDB into a snapshot directory.
    Fetch(fetch::Args),
    /// Write a synthetic IGDB snapshot (for machines without real data).
    Generate(generate::Args),
    /// Serve a snapshot directory as a local IGDB-compatible API (tests, demo).
    Sandbox(sandbox::Args),
    /// Train a model blob from a snapshot.
    Train(train::Args),
    /// Evaluate the model on the cold-start split, with baselines.
    Eval(eval::Args),
    /// The gate before publishing: decode, size floor, quality vs the previous model.
    Validate(validate::Args),
    /// Recommend games with the native engine.
    Recommend(query::RecommendArgs),
    /// Search titles with the native engine.
    Search(query::SearchArgs),
    /// Publish a model to the bucket as a new version.
    Publish(publish::Args),
    /// Point the bucket's latest.json back at an earlier version.
    Rollback(publish::RollbackArgs),
    /// Show the bucket's live version, history and metrics.
    Status(publish::StatusArgs),
    /// The scheduled job: fetch → train → validate → publish, one JSON summary line.
    Run(run::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(dispatch(cli.command)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                return std::process::ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(exit::code_of(&e) as u8)
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Fetch(a) => fetch::run(a).await,
        Command::Generate(a) => generate::run(a).await,
        Command::Sandbox(a) => sandbox::run(a).await,
        Command::Train(a) => train::run(a).await,
        Command::Eval(a) => eval::run(a).await,
        Command::Validate(a) => validate::run(a).await,
        Command::Recommend(a) => query::recommend(a).await,
        Command::Search(a) => query::search(a).await,
        Command::Publish(a) => publish::run(a).await,
        Command::Rollback(a) => publish::rollback(a).await,
        Command::Status(a) => publish::status(a).await,
        Command::Run(a) => run::run(a).await,
    }
}

/// Logs go to stderr (stdout is for results); `RUST_LOG` / `PLAYALIKE_LOG` set the level.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLAYALIKE_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
