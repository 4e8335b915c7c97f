//! `playalike train`: the flags, resolved into the training configuration
//! ([`playalike_train::train`]).

use anyhow::Result;
pub use playalike_train::train::Summary;
use std::path::PathBuf;

/// Flags of `playalike train`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Snapshot directory (games.json[l][.gz] + lookup tables).
    #[arg(long, env = "PLAYALIKE_SNAPSHOT")]
    pub snapshot: PathBuf,
    /// Where to write the model blob (written to a temporary name, then renamed).
    #[arg(long, env = "PLAYALIKE_OUT", default_value = "model.bin")]
    pub out: PathBuf,
    #[command(flatten)]
    pub settings: Settings,
    /// Print one JSON line instead of text.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

/// How to train and what to write beside the blob: flags of `train`, read by `run` from their
/// environment variables.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Where to write metrics.json (default: beside the blob).
    #[arg(long, env = "PLAYALIKE_METRICS")]
    pub metrics: Option<PathBuf>,
    /// Where to write the HTML report (default: report.html beside the blob; `-` = none).
    #[arg(long, env = "PLAYALIKE_REPORT")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// The blob's `created_at`: an RFC 3339 time, or `now`. Default: the snapshot's newest
    /// `updated_at` (else the games file's mtime), so that rebuilding gives the same bytes.
    #[arg(long, env = "PLAYALIKE_CREATED_AT")]
    pub created_at: Option<String>,
    /// The blob's `source` (default: `snapshot:<directory name>`).
    #[arg(long, env = "PLAYALIKE_SOURCE")]
    pub source: Option<String>,
}

/// Flags shared by `train` and `eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Seed of the cold-start split (and of the inner validation split).
    #[arg(long, env = "PLAYALIKE_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Share of games with in-set similar games held out for evaluation (0 = none: learn on all).
    #[arg(long, env = "PLAYALIKE_HOLDOUT", default_value_t = 0.2)]
    pub holdout: f64,
    /// Fields to use, comma-separated IGDB names, or `all`.
    #[arg(long, env = "PLAYALIKE_FIELDS", default_value = "all")]
    pub fields: String,
    /// Drop terms fewer than this many games share.
    #[arg(long, env = "PLAYALIKE_MIN_DF", default_value_t = 2)]
    pub min_df: u32,
    /// Keep at most this many games (lowest ids first).
    #[arg(long, env = "PLAYALIKE_MAX_GAMES")]
    pub max_games: Option<usize>,
    /// Skip learning: default parameters (IDF feature weights).
    #[arg(long, env = "PLAYALIKE_NO_LEARN")]
    pub no_learn: bool,
    /// Cutoff k of the quality metrics.
    #[arg(long, env = "PLAYALIKE_K", default_value_t = 10)]
    pub k: usize,
    /// Catalogue coverage@k the learned model must keep (caps the popularity prior).
    #[arg(long, env = "PLAYALIKE_MIN_COVERAGE", default_value_t = 0.85)]
    pub min_coverage: f64,
    /// Lift exponents γ of the supervised feature weights to try (comma-separated; 0 = IDF only).
    #[arg(long = "lift", env = "PLAYALIKE_LIFT", default_value = "0")]
    pub lift: String,
    /// Leave the in-degree out of the popularity prior (ablation: content + follows only).
    #[arg(long, env = "PLAYALIKE_NO_INDEGREE")]
    pub no_indegree: bool,
    /// Do not learn per-term feature weights (ablation: the candidates of IDF weights only).
    #[arg(long, env = "PLAYALIKE_NO_TERM_WEIGHTS")]
    pub no_term_weights: bool,
    /// Worker threads for evaluation (0 = all cores).
    #[arg(long, env = "PLAYALIKE_THREADS", default_value_t = 0)]
    pub threads: usize,
    /// Most inner queries the search tunes on (a third as many again are the check set).
    #[arg(long, env = "PLAYALIKE_MAX_QUERIES", default_value_t = playalike_train::train::learn::DEFAULT_MAX_QUERIES as u32,
          value_parser = clap::value_parser!(u32).range(30..=1_000_000))]
    pub max_queries: u32,
    /// Measure coverage@k over the whole catalogue (every game's top k through the engine) at any
    /// size; by default only up to 60,000 games (minutes at 333k with rich features).
    #[arg(long, env = "PLAYALIKE_FULL_COVERAGE")]
    pub full_coverage: bool,
}

impl Args {
    /// The training configuration these flags describe.
    pub fn config(&self) -> playalike_train::train::Config {
        playalike_train::train::Config {
            snapshot: self.snapshot.clone(),
            out: self.out.clone(),
            metrics: self.settings.metrics.clone(),
            report: self.settings.report.clone(),
            common: self.settings.common.config(),
            created_at: self.settings.created_at.clone(),
            source: self.settings.source.clone(),
            json: self.json,
        }
    }
}

impl CommonArgs {
    /// The settings shared by `train` and `eval` these flags describe.
    pub fn config(&self) -> playalike_train::train::CommonConfig {
        playalike_train::train::CommonConfig {
            seed: self.seed,
            holdout: self.holdout,
            fields: self.fields.clone(),
            min_df: self.min_df,
            max_games: self.max_games,
            no_learn: self.no_learn,
            k: self.k,
            min_coverage: self.min_coverage,
            lift: self.lift.clone(),
            no_indegree: self.no_indegree,
            no_term_weights: self.no_term_weights,
            threads: self.threads,
            max_queries: self.max_queries,
            full_coverage: self.full_coverage,
        }
    }
}

/// Trains the model the flags describe.
pub async fn execute(args: &Args) -> Result<Summary> {
    playalike_train::train::execute(&args.config()).await
}

/// Runs `playalike train` and prints the outcome.
pub async fn run(args: Args) -> Result<()> {
    let s = execute(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!("wrote {} ({} bytes) in {:.2} s", s.out.display(), s.bytes, s.seconds);
        for (k, v) in &s.metrics {
            println!("  {k:<28} {v:.4}");
        }
        println!("metrics: {}", s.metrics_path.display());
        if let Some(r) = &s.report_path {
            println!("report:  {}", r.display());
        }
    }
    Ok(())
}
