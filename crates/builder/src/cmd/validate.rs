//! `playalike validate`: the flags, resolved into the gate's configuration
//! ([`playalike_bucket::validate`]).

use crate::exit::{ExitCode, Stage};
use anyhow::{Context, Result};
use playalike_bucket::validate::{self, Summary};
use std::path::PathBuf;

/// Flags of `playalike validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The new model blob.
    #[arg(long, env = "PLAYALIKE_MODEL")]
    pub model: PathBuf,
    /// The model currently published, to compare quality against.
    #[arg(long, env = "PLAYALIKE_PREVIOUS")]
    pub previous: Option<PathBuf>,
    /// Fewest games the model must hold.
    #[arg(long, env = "PLAYALIKE_MIN_GAMES", default_value_t = 1000)]
    pub min_games: usize,
    /// Largest allowed drop of recall@10 below the previous model's (absolute).
    #[arg(long, env = "PLAYALIKE_TOLERANCE", default_value_t = 0.02, allow_negative_numbers = true)]
    pub tolerance: f64,
    /// The snapshot the model was trained from: the model must hold at least 90 % of its games.
    #[arg(long, env = "PLAYALIKE_SNAPSHOT")]
    pub snapshot: Option<PathBuf>,
    /// Print one JSON line instead of text.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

impl Args {
    /// The gate's configuration these flags describe (reads the snapshot's games, when given).
    pub fn config(&self) -> Result<validate::Args> {
        let snapshot_games = match &self.snapshot {
            Some(dir) => {
                // Counted as the rows stream past: the table is never held (333k games would
                // hold ~1 GB as `Value`s).
                let mut games = 0usize;
                playalike_igdb::snapshot::for_each_game(dir, |_: playalike_igdb::snapshot::Skip| games += 1)
                    .with_context(|| format!("while reading snapshot {}", dir.display()))
                    .stage(ExitCode::Usage)?;
                Some(games)
            }
            None => None,
        };
        Ok(validate::Args {
            model: self.model.clone(),
            previous: self.previous.clone(),
            min_games: self.min_games,
            tolerance: self.tolerance,
            snapshot: self.snapshot.clone(),
            snapshot_games,
            json: self.json,
        })
    }
}

fn print(s: &Summary, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
    } else {
        for c in &s.checks {
            println!("{} {:<20} {}", if c.ok { "ok  " } else { "FAIL" }, c.name, c.detail);
        }
        println!("{}", if s.ok { "model accepted" } else { "model refused" });
    }
    Ok(())
}

/// Runs `playalike validate` and prints what it compared.
pub async fn run(args: Args) -> Result<()> {
    let config = args.config()?;
    let s = validate::check(&config).stage(ExitCode::Usage)?;
    print(&s, args.json)?;
    if s.ok { Ok(()) } else { validate::execute(&config).await.map(|_| ()) }
}
