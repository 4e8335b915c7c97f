//! `playalike eval`: the flags, resolved into the evaluation's configuration
//! ([`playalike_train::eval`]).

use super::train::CommonArgs;
use anyhow::Result;
pub use playalike_train::eval::Summary;
use std::path::PathBuf;

/// Flags of `playalike eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Snapshot directory.
    #[arg(long, env = "PLAYALIKE_SNAPSHOT")]
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Skip the baselines.
    #[arg(long, env = "PLAYALIKE_NO_BASELINES")]
    pub no_baselines: bool,
    /// Print one JSON line instead of a table.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

impl Args {
    /// The evaluation's configuration these flags describe.
    pub fn config(&self) -> playalike_train::eval::Args {
        playalike_train::eval::Args {
            snapshot: self.snapshot.clone(),
            common: self.common.config(),
            no_baselines: self.no_baselines,
            json: self.json,
        }
    }
}

/// Evaluates as the flags describe.
pub async fn execute(args: &Args) -> Result<Summary> {
    playalike_train::eval::execute(&args.config()).await
}

/// Runs `playalike eval` and prints the figures.
pub async fn run(args: Args) -> Result<()> {
    let s = execute(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    let k = args.common.k;
    println!("cold-start split: seed {}, holdout {}, snapshot {}", s.seed, s.holdout, s.snapshot.display());
    println!(
        "{:<22} {:>9} {:>7} {:>10} {:>11} {:>8}",
        "approach",
        format!("recall@{k}"),
        format!("hit@{k}"),
        format!("genre@{k}"),
        format!("coverage@{k}"),
        "queries"
    );
    for (name, e) in &s.results {
        println!(
            "{name:<22} {:>9.4} {:>7.4} {:>10.4} {:>11.4} {:>8}",
            e.recall, e.hit, e.genre_agreement, e.coverage, e.queries
        );
    }
    println!("playalike training: {:.2} s", s.train_seconds);
    Ok(())
}
