//! `playalike validate`: the flags, resolved into the release gate's configuration
//! ([`playalike_bucket::gate`], the same gate `playalike run` runs as its validate stage).

use crate::exit::{ExitCode, Stage};
use anyhow::{Context, Result};
use playalike_bucket::gate::{self, Baseline, Report};
use serde::Serialize;
use std::path::PathBuf;

/// The gate's comparison flags, shared by `validate` and `run` (each has its own `--min-games`
/// default: 1000 for `validate`, 1 for `run`).
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    /// Gate: refuse a model with fewer games than this share of the live (or previous) one's, 0..=1.
    #[arg(long, env = "PLAYALIKE_MIN_GAMES_RATIO", default_value_t = 0.9)]
    pub min_games_ratio: f64,
    /// Gate: refuse a model whose held-out recall@k is lower than the live (or previous) one's by
    /// more than this (absolute), 0..=1.
    #[arg(long, env = "PLAYALIKE_MAX_RECALL_DROP", default_value_t = 0.02, allow_negative_numbers = true)]
    pub max_recall_drop: f64,
}

impl GateArgs {
    /// The gate's configuration, with the command's absolute floor.
    pub fn config(&self, min_games: usize) -> gate::Config {
        gate::Config {
            min_games,
            min_games_ratio: self.min_games_ratio,
            max_recall_drop: self.max_recall_drop,
            snapshot_games: None,
        }
    }
}

/// Flags of `playalike validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The new model blob.
    #[arg(long, env = "PLAYALIKE_MODEL")]
    pub model: PathBuf,
    /// The model currently published, to compare quality against (a local file).
    #[arg(long, env = "PLAYALIKE_PREVIOUS", conflicts_with = "live")]
    pub previous: Option<PathBuf>,
    /// Compare against the bucket's live model (through latest.json, checksum checked), as
    /// `playalike run` does.
    #[arg(long, env = "PLAYALIKE_VALIDATE_LIVE")]
    pub live: bool,
    #[command(flatten)]
    pub target: crate::publish::BucketArgs,
    /// Fewest games the model must hold.
    #[arg(long, env = "PLAYALIKE_MIN_GAMES", default_value_t = 1000)]
    pub min_games: usize,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Deprecated: the old name of --max-recall-drop (wins over it when given).
    #[arg(long, env = "PLAYALIKE_TOLERANCE", allow_negative_numbers = true)]
    pub tolerance: Option<f64>,
    /// The snapshot the model was trained from: the model must hold at least 90 % of its games.
    #[arg(long, env = "PLAYALIKE_SNAPSHOT")]
    pub snapshot: Option<PathBuf>,
    /// Print one JSON line instead of text.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

impl Args {
    /// The gate's configuration these flags describe (reads the snapshot's games, when given).
    pub fn config(&self) -> Result<gate::Config> {
        let snapshot_games = match &self.snapshot {
            Some(dir) => {
                // Counted as the rows stream past: the table is never held (333k games would
                // hold ~1 GB as `Value`s).
                let mut games = 0usize;
                playalike_igdb::snapshot::for_each_game(dir, |_: playalike_igdb::snapshot::Skip| games += 1)
                    .with_context(|| format!("while reading snapshot {}", dir.display()))
                    .stage(ExitCode::Usage)?;
                Some((dir.clone(), games))
            }
            None => None,
        };
        let mut config = self.gate.config(self.min_games);
        if let Some(t) = self.tolerance {
            config.max_recall_drop = t;
        }
        config.snapshot_games = snapshot_games;
        Ok(config)
    }

    /// What the model is compared against: `--previous`, the bucket's live model with `--live`,
    /// or nothing.
    async fn baseline(&self) -> Result<Baseline> {
        if let Some(p) = &self.previous {
            return Ok(Baseline::file(p));
        }
        if !self.live {
            return Ok(Baseline::None { why: "no --previous or --live given".into() });
        }
        let target = self.target.config();
        Ok(match crate::publish::live_blob(&target, ExitCode::Publish).await? {
            Some(l) => Baseline::Live(l),
            None => Baseline::None { why: format!("nothing is published yet in {}", target.bucket) },
        })
    }
}

/// What `validate --json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary<'a> {
    model: &'a PathBuf,
    previous: Option<&'a PathBuf>,
    #[serde(flatten)]
    report: &'a Report,
}

fn print(args: &Args, r: &Report) -> Result<()> {
    if args.json {
        let s = Summary { model: &args.model, previous: args.previous.as_ref(), report: r };
        println!("{}", serde_json::to_string(&s)?);
    } else {
        for c in &r.checks {
            println!("{} {:<20} {}", if c.ok { "ok  " } else { "FAIL" }, c.name, c.detail);
        }
        println!(
            "{}",
            match (r.ok, r.unchanged) {
                (false, _) => "model refused",
                (true, true) => "model accepted (same content as the previous one: nothing to publish)",
                (true, false) => "model accepted",
            }
        );
    }
    Ok(())
}

/// Runs `playalike validate` and prints what it compared; a refusal exits 12.
pub async fn run(args: Args) -> Result<()> {
    let config = args.config()?;
    let baseline = args.baseline().await?;
    let name = args.model.display().to_string();
    let bytes = std::fs::read(&args.model).map_err(|e| format!("while reading {name}: {e}"));
    let r = gate::check(&name, bytes.as_deref().map_err(Clone::clone), &baseline, &config);
    print(&args, &r)?;
    r.enforce(&name)
}
