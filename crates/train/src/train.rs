//! `playalike train`: snapshot → model blob (+ `metrics.json` and `report.html`).
//!
//! Steps: read the snapshot ([`crate::features`]), split it cold-start ([`crate::eval`]), learn
//! the scoring parameters on the training part ([`learn`]), measure the held-out figures through
//! `Engine::recommend`, then write the full catalogue (every curated `similar_games` list kept)
//! with the learned parameters. Same snapshot and flags → byte-identical blob.

pub mod learn;

use crate::eval::{self, Split};
use crate::exit::{ExitCode, Stage};
use crate::features::{self, BuildOptions, BuildStats};
use anyhow::{Context, Result};
use playalike_engine::{Field, Model, Params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `playalike train` does (resolved from its flags by the CLI).
#[derive(Debug, Clone)]
pub struct Config {
    /// Snapshot directory (games.json[l][.gz] + lookup tables).
    pub snapshot: PathBuf,
    /// Where to write the model blob (written to a temporary name, then renamed).
    pub out: PathBuf,
    /// Where to write metrics.json (default: beside the blob).
    pub metrics: Option<PathBuf>,
    /// Where to write the HTML report (default: report.html beside the blob; `-` = none).
    pub report: Option<PathBuf>,
    /// The settings shared with `train` / `eval`.
    pub common: CommonConfig,
    /// The blob's `created_at`: an RFC 3339 time, or `now`. Default: the snapshot's newest
    /// `updated_at` (else the games file's mtime), so that rebuilding gives the same bytes.
    pub created_at: Option<String>,
    /// The blob's `source` (default: `snapshot:<directory name>`).
    pub source: Option<String>,
    /// Print one JSON line instead of text.
    pub json: bool,
}

/// Settings shared by `train` and `eval`.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// Seed of the cold-start split (and of the inner validation split).
    pub seed: u64,
    /// Share of games with in-set similar games held out for evaluation (0 = none: learn on all).
    pub holdout: f64,
    /// Fields to use, comma-separated IGDB names, or `all`.
    pub fields: String,
    /// Drop terms fewer than this many games share.
    pub min_df: u32,
    /// Keep at most this many games (lowest ids first).
    pub max_games: Option<usize>,
    /// Skip learning: default parameters (IDF feature weights).
    pub no_learn: bool,
    /// Cutoff k of the quality metrics.
    pub k: usize,
    /// Catalogue coverage@k the learned model must keep (caps the popularity prior).
    pub min_coverage: f64,
    /// Lift exponents γ of the supervised feature weights to try (comma-separated; 0 = IDF only).
    pub lift: String,
    /// Leave the in-degree out of the popularity prior (ablation: content + follows only).
    pub no_indegree: bool,
    /// Do not learn per-term feature weights (ablation: the candidates of IDF weights only).
    pub no_term_weights: bool,
    /// Worker threads for evaluation (0 = all cores).
    pub threads: usize,
    /// Most inner queries the search tunes on (a third as many again are the check set).
    pub max_queries: u32,
    /// Measure coverage@k over the whole catalogue (every game's top k through the engine) at any
    /// size; by default only up to 60,000 games (minutes at 333k with rich features).
    pub full_coverage: bool,
}

impl CommonConfig {
    /// The `--lift` list.
    pub fn lift_exponents(&self) -> Result<Vec<f32>> {
        self.lift
            .split(',')
            .map(|x| {
                x.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| (0.0..=4.0).contains(v))
                    .with_context(|| format!("while reading --lift: {x:?} is not a number in 0..=4"))
            })
            .collect()
    }

    /// The learning configuration the flags describe.
    pub fn learn_config(&self) -> Result<learn::LearnConfig> {
        Ok(learn::LearnConfig {
            seed: self.seed,
            k: self.k,
            min_coverage: self.min_coverage,
            lift: self.lift_exponents()?,
            no_indegree: self.no_indegree,
            threads: self.threads,
            max_queries: self.max_queries as usize,
            exact_coverage_max: if self.full_coverage { usize::MAX } else { learn::EXACT_COVERAGE_MAX },
            term_weights: !self.no_term_weights,
        })
    }

    /// Build options from the flags.
    pub fn build_options(&self) -> Result<BuildOptions> {
        Ok(BuildOptions {
            fields: features::parse_fields(&self.fields)?,
            min_df: self.min_df,
            max_games: self.max_games,
        })
    }
}

/// What `train` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The blob written.
    pub out: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// metrics.json path.
    pub metrics_path: PathBuf,
    /// report.html path, if written.
    pub report_path: Option<PathBuf>,
    /// The metrics also stored in the blob.
    pub metrics: BTreeMap<String, f64>,
    /// Whole-run seconds.
    pub seconds: f64,
}

/// The full outcome of training, for `train`, `eval` and the report.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model to write (full catalogue, learned parameters, metadata metrics).
    pub model: Model,
    /// The split used.
    pub split: Split,
    /// The held-out evaluation (None when nothing was held out).
    pub eval: Option<eval::Evaluation>,
    /// What learning did.
    pub learned: learn::Report,
    /// Conversion counts.
    pub stats: BuildStats,
    /// Phase timings in seconds.
    pub timings: BTreeMap<String, f64>,
    /// The raw popularity signal per game (model order), before the learned prior mix.
    pub raw_popularity: Vec<f32>,
    /// The newest `updated_at` of the snapshot's games rows (the default `created_at`).
    pub newest_updated_at: Option<i64>,
}

/// Most held-out games `train` measures on a catalogue too big for exact coverage.
const EVAL_QUERIES_MAX: usize = 5000;

/// Reads, splits, learns and measures; returns the model to write. `eval_full_coverage`:
/// measure the held-out evaluation's coverage over the whole catalogue at any size (`eval`).
pub fn train_snapshot(dir: &Path, common: &CommonConfig, eval_full_coverage: bool) -> Result<Trained> {
    let mut timings = BTreeMap::new();
    let progress = crate::progress::stages("training");
    progress.stage("reading the snapshot");
    let t = Instant::now();
    let build_options = common.build_options()?;
    let snap = features::load(dir, &build_options)
        .with_context(|| format!("while reading snapshot {}", dir.display()))?;
    timings.insert("read_seconds".into(), t.elapsed().as_secs_f64());
    let newest_updated_at = snap.newest_updated_at;
    progress.stage("features");
    let t = Instant::now();
    let (mut model, stats) = features::build_model(snap, &build_options)
        .with_context(|| format!("while converting snapshot {}", dir.display()))?;
    timings.insert("features_seconds".into(), t.elapsed().as_secs_f64());

    let split = eval::split(&model, common.seed, common.holdout);
    // The training view needs no titles (learning and evaluation only score): a lean copy.
    let split_model = split.apply(&learn::scoring_view(&model));
    let t = Instant::now();
    progress.stage("learning");
    let learned = if common.no_learn {
        learn::Report::defaults("--no-learn")
    } else {
        learn::learn(&split_model, &common.learn_config()?)?
    };
    timings.insert("learn_seconds".into(), t.elapsed().as_secs_f64());
    progress.stage("measuring recall and coverage on the held-out games");
    let t = Instant::now();
    let raw_popularity: Vec<f32> = model.games.iter().map(|g| g.popularity).collect();
    let evaluation = if split.held_out.is_empty() {
        None
    } else {
        let mut m = split_model;
        m.params = learned.params.clone();
        learn::apply_popularity(&mut m, learned.indegree_mix);
        let small = m.games.len() <= learn::EXACT_COVERAGE_MAX;
        let full = eval_full_coverage || common.full_coverage || small;
        // `train` on a big catalogue measures a bounded sample of the held-out games (its figures
        // are the same statistic with a standard error of ~0.005); `eval` measures them all.
        let sample = if full { split.clone() } else { split.sample(common.seed, EVAL_QUERIES_MAX) };
        Some(eval::evaluate(&m, &sample, common.k, common.threads, &raw_popularity, full)?)
    };
    timings.insert("eval_seconds".into(), t.elapsed().as_secs_f64());
    model.params = learned.params.clone();
    learn::apply_popularity(&mut model, learned.indegree_mix);
    let mut metrics = BTreeMap::new();
    if let Some(e) = &evaluation {
        metrics.extend(e.metrics());
    }
    metrics.insert("games".into(), model.games.len() as f64);
    metrics.insert("games_with_similar".into(), stats.with_similar as f64);
    metrics.insert("held_out".into(), split.held_out.len() as f64);
    metrics.insert("learned".into(), if learned.learned { 1.0 } else { 0.0 });
    metrics.insert(
        "published_learned_params".into(),
        if learned.chosen.starts_with("learned") { 1.0 } else { 0.0 },
    );
    model.metadata.metrics = metrics;
    Ok(Trained { model, split, eval: evaluation, learned, stats, timings, raw_popularity, newest_updated_at })
}

/// Runs `playalike train` and returns what it did.
pub async fn execute(args: &Config) -> Result<Summary> {
    let start = Instant::now();
    let mut trained = train_snapshot(&args.snapshot, &args.common, false).stage(ExitCode::Train)?;
    let meta = &mut trained.model.metadata;
    meta.created_at = created_at(args.created_at.as_deref(), &args.snapshot, trained.newest_updated_at)
        .stage(ExitCode::Usage)?;
    meta.source = args.source.clone().unwrap_or_else(|| {
        format!(
            "snapshot:{}",
            args.snapshot.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        )
    });
    meta.builder_version = env!("CARGO_PKG_VERSION").to_string();
    let t = Instant::now();
    let blob = playalike_engine::format::encode(&trained.model).context("while encoding the model")?;
    write_atomic(&args.out, &blob).stage(ExitCode::Train)?;
    trained.timings.insert("write_seconds".into(), t.elapsed().as_secs_f64());
    trained.timings.insert("total_seconds".into(), start.elapsed().as_secs_f64());

    let dir = args.out.parent().map(Path::to_path_buf).unwrap_or_default();
    let metrics_path = args.metrics.clone().unwrap_or_else(|| dir.join("metrics.json"));
    let doc = metrics_document(&trained, blob.len());
    let text = serde_json::to_string_pretty(&doc).context("while serialising metrics.json")?;
    write_atomic(&metrics_path, text.as_bytes()).stage(ExitCode::Train)?;
    let report_path = match &args.report {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) => Some(p.clone()),
        None => Some(dir.join("report.html")),
    };
    if let Some(p) = &report_path {
        let html = crate::report::html(&trained, &doc).context("while rendering the report")?;
        write_atomic(p, html.as_bytes()).stage(ExitCode::Train)?;
    }
    Ok(Summary {
        out: args.out.clone(),
        bytes: blob.len(),
        metrics_path,
        report_path,
        metrics: trained.model.metadata.metrics.clone(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// metrics.json: figures, counts, timings and parameters.
pub fn metrics_document(t: &Trained, blob_bytes: usize) -> serde_json::Value {
    serde_json::json!({
        "metrics": t.model.metadata.metrics,
        "evaluation": t.eval,
        "counts": t.stats,
        "blob_bytes": blob_bytes,
        "timings": t.timings,
        "learning": t.learned,
        "params": params_summary(&t.model.params),
        "created_at": t.model.metadata.created_at,
        "source": t.model.metadata.source,
        "builder_version": t.model.metadata.builder_version,
    })
}

/// The scalar parameters (per-feature weights summarised by count).
pub fn params_summary(p: &Params) -> serde_json::Value {
    let fields: BTreeMap<&str, f32> =
        Field::ALL.iter().map(|f| (f.name(), p.field_weights[f.index()])).collect();
    let learned: BTreeMap<&str, usize> =
        Field::ALL.iter().map(|f| (f.name(), p.feature_weights[f.index()].len())).collect();
    serde_json::json!({
        "field_weights": fields,
        "learned_feature_weights": learned,
        "year_weight": p.year_weight,
        "year_scale": p.year_scale,
        "popularity_weight": p.popularity_weight,
        "rating_weight": p.rating_weight,
        "curated_weight": p.curated_weight,
    })
}

/// Writes `bytes` to `path` atomically ([`playalike_base::fs::write_atomic`]), creating its folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    playalike_base::fs::write_atomic(path, bytes, None)
        .with_context(|| format!("while writing {}", path.display()))
}

/// Resolves `--created-at`: explicit RFC 3339, `now`, or the snapshot's own time.
pub fn created_at(flag: Option<&str>, snapshot: &Path, newest_updated_at: Option<i64>) -> Result<String> {
    match flag {
        Some("now") => Ok(rfc3339(chrono::Utc::now().timestamp())),
        Some(s) => {
            if s.len() < 20 || !s.is_char_boundary(10) || &s[4..5] != "-" || &s[10..11] != "T" {
                anyhow::bail!(
                    "--created-at {s:?} is not an RFC 3339 time like 2026-01-31T12:00:00Z (or `now`)"
                );
            }
            Ok(s.to_string())
        }
        None => {
            // Read while the features streamed the games (reading them again here as JSON values
            // made the peak memory of a big catalogue's training).
            let ts = match newest_updated_at {
                Some(t) => t,
                None => crate::snapshot::find_table(snapshot, "games")
                    .and_then(|p| std::fs::metadata(p).ok())
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs() as i64),
            };
            Ok(rfc3339(ts))
        }
    }
}

/// Formats unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(ts: i64) -> String {
    let t = chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default();
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
