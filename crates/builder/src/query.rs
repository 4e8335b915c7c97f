//! `playalike recommend` and `playalike search`: the native engine from the command line.
//!
//! `recommend --game ID …` answers one query liking every given game; `--all` writes one JSON
//! line per game of the catalogue, `{"id": …, "recommendations": [{"id": …, "score": …}, …]}`,
//! computed in parallel (`par_map` over profile-aligned slices, written in catalogue order).

use crate::exit::{ExitCode, Stage};
use anyhow::{Context, Result};
use playalike_engine::{Engine, Filters, RecommendQuery};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
}

/// Flags of `playalike recommend`.
#[derive(Debug, Clone, clap::Args)]
pub struct RecommendArgs {
    /// Model blob.
    #[arg(long, env = "PLAYALIKE_MODEL")]
    pub model: PathBuf,
    /// Liked game id (repeat, or comma-separated, for several: one query liking them all).
    #[arg(
        long = "game",
        env = "PLAYALIKE_RECOMMEND_GAME",
        value_delimiter = ',',
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub games: Vec<u32>,
    /// Disliked game id (repeat, or comma-separated).
    #[arg(long = "dislike", env = "PLAYALIKE_RECOMMEND_DISLIKE", value_delimiter = ',')]
    pub dislike: Vec<u32>,
    /// Recommend for every game of the catalogue, one JSON line each.
    #[arg(long, env = "PLAYALIKE_RECOMMEND_ALL")]
    pub all: bool,
    /// Results per query.
    #[arg(long, env = "PLAYALIKE_K", default_value_t = 10)]
    pub k: usize,
    /// Keep games on one of these IGDB platform ids (repeat, or comma-separated).
    #[arg(long = "platform", env = "PLAYALIKE_RECOMMEND_PLATFORM", value_delimiter = ',')]
    pub platforms: Vec<u32>,
    /// Keep games with one of these IGDB genre ids (repeat, or comma-separated).
    #[arg(long = "genre", env = "PLAYALIKE_RECOMMEND_GENRE", value_delimiter = ',')]
    pub genres: Vec<u32>,
    /// Keep games released in or after this year.
    #[arg(long, env = "PLAYALIKE_RECOMMEND_YEAR_MIN")]
    pub year_min: Option<u16>,
    /// Keep games released in or before this year.
    #[arg(long, env = "PLAYALIKE_RECOMMEND_YEAR_MAX")]
    pub year_max: Option<u16>,
    /// Keep games rated at least this (0–100).
    #[arg(long, env = "PLAYALIKE_RECOMMEND_MIN_RATING")]
    pub min_rating: Option<f32>,
    /// Keep games of these IGDB game types (repeat, or comma-separated; 0 = main game).
    #[arg(long = "game-type", env = "PLAYALIKE_RECOMMEND_GAME_TYPE", value_delimiter = ',')]
    pub game_types: Vec<u8>,
    /// Never return this id (repeat, or comma-separated).
    #[arg(long = "exclude", env = "PLAYALIKE_RECOMMEND_EXCLUDE", value_delimiter = ',')]
    pub exclude: Vec<u32>,
    /// At most this many results per franchise/collection (0 = no limit).
    #[arg(long, env = "PLAYALIKE_RECOMMEND_MAX_PER_FRANCHISE", default_value_t = 0)]
    pub max_per_franchise: usize,
    /// Print one JSON document `{query, results}` (`--all` always writes JSON lines).
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
    /// Deprecated: use `--json`. Output format (`--all` always writes JSON lines) [default: table].
    #[arg(long, value_enum, env = "PLAYALIKE_FORMAT")]
    pub format: Option<Format>,
    /// Write to this file instead of stdout.
    #[arg(long, env = "PLAYALIKE_RECOMMEND_OUT")]
    pub out: Option<PathBuf>,
    /// Worker threads for `--all` (0 = all cores).
    #[arg(long, env = "PLAYALIKE_THREADS", default_value_t = 0)]
    pub threads: usize,
}

/// Flags of `playalike search`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// Model blob.
    #[arg(long, env = "PLAYALIKE_MODEL")]
    pub model: PathBuf,
    /// Words of the title.
    #[arg(required = true)]
    pub text: Vec<String>,
    /// Results.
    #[arg(long, env = "PLAYALIKE_K", default_value_t = 10)]
    pub k: usize,
    /// Print one JSON document `{query, results}`.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
    /// Deprecated: use `--json`. Output format [default: table].
    #[arg(long, value_enum, env = "PLAYALIKE_FORMAT")]
    pub format: Option<Format>,
}

/// One result row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// IGDB id.
    pub id: u32,
    /// Score.
    pub score: f32,
    /// Title.
    pub name: String,
    /// Release year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
}

/// The output format from `--json` and the deprecated `--format` (`--json` wins), warning once
/// on stderr when `--format` (or `PLAYALIKE_FORMAT`) was used.
fn format_of(json: bool, format: Option<Format>) -> Format {
    if let Some(f) = format {
        tracing::warn!("--format (PLAYALIKE_FORMAT) is deprecated and will be removed: use --json");
        if !json {
            return f;
        }
    }
    if json { Format::Json } else { Format::Table }
}

/// Loads and indexes a model blob. A missing, unreadable or corrupt blob is an error with exit
/// code 2 (the `--model` given is not a usable model; see docs/decisions/752-cli-inspect-and-logging.md).
pub fn load(path: &Path) -> Result<Engine> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("while reading model {}", path.display()))
        .stage(ExitCode::Usage)?;
    Engine::from_bytes(&bytes)
        .with_context(|| format!("while decoding model {}", path.display()))
        .stage(ExitCode::Usage)
}

impl RecommendArgs {
    fn query(&self, liked: Vec<(u32, f32)>) -> RecommendQuery {
        RecommendQuery {
            liked,
            disliked: self.dislike.clone(),
            k: self.k,
            filters: Filters {
                platforms: self.platforms.clone(),
                genres: self.genres.clone(),
                year_min: self.year_min,
                year_max: self.year_max,
                min_rating: self.min_rating,
                game_types: self.game_types.clone(),
                exclude: self.exclude.clone(),
                ..Default::default()
            },
            max_per_franchise: self.max_per_franchise,
        }
    }
}

fn rows(engine: &Engine, hits: impl Iterator<Item = (u32, f32)>) -> Vec<Row> {
    hits.map(|(id, score)| {
        let g = engine.game(id);
        Row { id, score, name: g.map(|g| g.name.clone()).unwrap_or_default(), year: g.and_then(|g| g.year) }
    })
    .collect()
}

fn write_rows(out: &mut dyn Write, rows: &[Row], format: Format, query: &serde_json::Value) -> Result<()> {
    match format {
        Format::Table => {
            for (i, r) in rows.iter().enumerate() {
                let year = r.year.map(|y| y.to_string()).unwrap_or_default();
                writeln!(out, "{:>3}  {:>8}  {:>8.4}  {:<4}  {}", i + 1, r.id, r.score, year, r.name)?;
            }
        }
        Format::Json => {
            writeln!(out, "{}", serde_json::json!({"query": query, "results": rows}))?;
        }
        Format::Jsonl => {
            for r in rows {
                writeln!(out, "{}", serde_json::to_string(r)?)?;
            }
        }
    }
    Ok(())
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("while creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

#[derive(Serialize)]
struct AllLine<'a> {
    id: u32,
    recommendations: &'a [playalike_engine::Hit],
}

/// Fewest seeds per call of [`Engine::recommend_each`] between two steps of the progress bar.
const PROGRESS_BATCH: usize = 512;

/// `seeds` cut into runs of at least `min` (the last may be shorter), each ending where the
/// profile changes: `recommend_each` shares work only within a profile, so the cuts cost nothing.
fn profile_batches<'a>(engine: &Engine, seeds: &'a [u32], min: usize) -> Vec<&'a [u32]> {
    let profile = |i: usize| engine.shared_key(seeds[i]).map(|k| k.0);
    let mut out = Vec::new();
    let mut start = 0;
    while start < seeds.len() {
        let mut end = (start + min.max(1)).min(seeds.len());
        while end < seeds.len() && profile(end).is_some() && profile(end) == profile(end - 1) {
            end += 1;
        }
        out.push(&seeds[start..end]);
        start = end;
    }
    out
}

/// `--all`: one JSON line per game, in catalogue order; returns the number of lines.
///
/// Seeds are sorted by [`Engine::shared_key`] (games of the same profile share its scores and
/// the blocks' order in [`Engine::recommend_each`], those of the same year too one walk), the
/// profiles split over the threads, and the lines written back in catalogue order.
pub fn recommend_all(engine: &Engine, args: &RecommendArgs, out: &mut dyn Write) -> Result<usize> {
    let ids: Vec<u32> = (0..engine.len()).filter_map(|i| engine.id_of(i)).collect();
    let threads = crate::par::workers(args.threads).max(1);
    // Positions in catalogue order, grouped by key (stable: catalogue order within a group).
    let mut order: Vec<usize> = (0..ids.len()).collect();
    let keys: Vec<Option<(u32, u16)>> = ids.iter().map(|&id| engine.shared_key(id)).collect();
    order.sort_by_key(|&i| keys[i]);
    // Thread slices end at a profile's boundary (its games share the profile's scores).
    let mut cuts = vec![0];
    let per = order.len().div_ceil(threads).max(1);
    while let Some(&last) = cuts.last() {
        let mut end = (last + per).min(order.len());
        while end < order.len() && keys[order[end]].map(|k| k.0) == keys[order[end - 1]].map(|k| k.0) {
            end += 1;
        }
        cuts.push(end);
        if end == order.len() {
            break;
        }
    }
    let template = args.query(Vec::new());
    // One profile-aligned slice per worker (par_map gives each worker one window here), answered
    // in batches so that the progress bar moves.
    let progress = crate::progress::bar(ids.len() as u64, "recommending");
    let answers = crate::par::try_par_map(cuts.len() - 1, threads, |c| {
        let seeds: Vec<u32> = order[cuts[c]..cuts[c + 1]].iter().map(|&i| ids[i]).collect();
        let mut hits = Vec::with_capacity(seeds.len());
        for batch in profile_batches(engine, &seeds, PROGRESS_BATCH) {
            hits.extend(
                engine.recommend_each(batch, &template).context("while recommending for every game")?,
            );
            progress.inc(batch.len() as u64);
        }
        Ok(hits)
    })?;
    progress.finish();
    let mut by_pos: Vec<Vec<playalike_engine::Hit>> = vec![Vec::new(); ids.len()];
    let mut next = order.iter();
    for part in answers {
        for hits in part {
            if let Some(&pos) = next.next() {
                by_pos[pos] = hits;
            }
        }
    }
    for (id, hits) in ids.iter().zip(&by_pos) {
        let line = serde_json::to_string(&AllLine { id: *id, recommendations: hits })?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ids.len())
}

/// Runs `playalike recommend`.
pub async fn recommend(args: RecommendArgs) -> Result<()> {
    let format = format_of(args.json, args.format);
    let engine = load(&args.model)?;
    let mut out = output(args.out.as_deref())?;
    if args.all {
        recommend_all(&engine, &args, &mut *out)?;
        return Ok(());
    }
    for &id in args.games.iter().chain(&args.dislike) {
        if engine.game(id).is_none() {
            return Err(anyhow::anyhow!("game {id} is not in the model")).stage(ExitCode::Usage);
        }
    }
    let q = args.query(args.games.iter().map(|&id| (id, 1.0)).collect());
    let hits = engine.recommend(&q).context("while recommending").stage(ExitCode::Usage)?;
    let rows = rows(&engine, hits.iter().map(|h| (h.id, h.score)));
    write_rows(&mut *out, &rows, format, &serde_json::json!({"liked": args.games, "k": args.k}))?;
    out.flush()?;
    Ok(())
}

/// Runs `playalike search`.
pub async fn search(args: SearchArgs) -> Result<()> {
    let format = format_of(args.json, args.format);
    let engine = load(&args.model)?;
    let text = args.text.join(" ");
    let hits = engine.search(&text, args.k.clamp(1, 1000));
    let rows = rows(&engine, hits.iter().map(|h| (h.id, h.score)));
    let mut out = output(None)?;
    write_rows(&mut *out, &rows, format, &serde_json::json!({"text": text, "k": args.k}))?;
    out.flush()?;
    Ok(())
}
