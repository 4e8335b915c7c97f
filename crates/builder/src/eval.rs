//! `playalike eval`: the cold-start protocol end to end, with baselines.
//!
//! The split (issue 4, used by every figure): among games with at least one in-set similar game,
//! hold out `holdout` of them (rounded), chosen by sorting on `splitmix64(seed ^ splitmix64(id))`;
//! remove their `similar_games`, and remove their ids from every other game's list. Held-out games
//! are then queried through `Engine::recommend` and compared with their original lists.
//! - recall@k: per held-out game, |top k ∩ truth| / min(|truth|, k), averaged;
//! - hit@k: share of held-out games with at least one truth game in the top k;
//! - genre agreement@k: per held-out game with genres, share of its top k sharing a genre with it;
//! - coverage@k: share of the catalogue in at least one game's top k (every game queried,
//!   curated bonus off: the content model alone).

use crate::exit::{ExitCode, Stage};
use crate::train::CommonArgs;
use anyhow::{Context, Result};
use playalike_engine::{Engine, Field, Model, RecommendQuery};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// SplitMix64 finaliser: the stable hash of the split (not `DefaultHasher`, which may change).
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The hash deciding a game's side of a split.
pub fn split_hash(seed: u64, id: u32) -> u64 {
    splitmix64(seed ^ splitmix64(u64::from(id)))
}

/// A cold-start split.
#[derive(Debug, Clone, Default)]
pub struct Split {
    /// Held-out game ids, ascending.
    pub held_out: Vec<u32>,
    /// Their original in-set similar lists.
    pub truth: HashMap<u32, Vec<u32>>,
}

/// Picks the held-out games: `round(holdout · n)` of the `n` games with in-set similar games,
/// those with the smallest split hashes.
pub fn split(model: &Model, seed: u64, holdout: f64) -> Split {
    split_ids(
        model.games.iter().filter(|g| !g.similar.is_empty()).map(|g| (g.id, g.similar.clone())),
        seed,
        holdout,
    )
}

/// [`split`] over (id, similar list) pairs.
pub fn split_ids(candidates: impl Iterator<Item = (u32, Vec<u32>)>, seed: u64, holdout: f64) -> Split {
    let mut c: Vec<(u64, u32, Vec<u32>)> = candidates.map(|(id, s)| (split_hash(seed, id), id, s)).collect();
    c.sort_by_key(|x| (x.0, x.1));
    let n = ((c.len() as f64) * holdout.clamp(0.0, 1.0)).round() as usize;
    c.truncate(n);
    let mut held_out: Vec<u32> = c.iter().map(|x| x.1).collect();
    held_out.sort_unstable();
    Split { held_out, truth: c.into_iter().map(|x| (x.1, x.2)).collect() }
}

impl Split {
    /// The training view: held-out games lose their lists, and vanish from everyone's lists.
    pub fn apply(&self, model: &Model) -> Model {
        let mut m = model.clone();
        let out: HashSet<u32> = self.held_out.iter().copied().collect();
        for g in &mut m.games {
            if out.contains(&g.id) {
                g.similar.clear();
            } else {
                g.similar.retain(|s| !out.contains(s));
            }
        }
        m
    }
}

/// Quality figures on the held-out games.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evaluation {
    /// Cutoff.
    pub k: usize,
    /// Held-out queries.
    pub queries: usize,
    /// Games in the catalogue.
    pub catalogue: usize,
    /// recall@k.
    pub recall: f64,
    /// hit@k.
    pub hit: f64,
    /// genre agreement@k.
    pub genre_agreement: f64,
    /// catalogue coverage@k.
    pub coverage: f64,
    /// Seconds spent.
    pub seconds: f64,
}

impl Evaluation {
    /// The figures as blob metrics (`recall@10`, …).
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let k = self.k;
        BTreeMap::from([
            (format!("recall@{k}"), self.recall),
            (format!("hit@{k}"), self.hit),
            (format!("genre_agreement@{k}"), self.genre_agreement),
            (format!("coverage@{k}"), self.coverage),
        ])
    }
}

/// Top-k lists of many queries, in parallel over `threads` workers (0 = all cores).
pub fn top_k_all<F>(n: usize, threads: usize, f: F) -> Result<Vec<Vec<u32>>>
where
    F: Fn(usize) -> Result<Vec<u32>> + Sync,
{
    let threads =
        if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let parts: Vec<Result<Vec<Vec<u32>>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let f = &f;
                s.spawn(move || (start..(start + chunk).min(n)).map(f).collect::<Result<Vec<_>>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("worker panicked"))))
            .collect()
    });
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Scores recommendation lists against the split. `lists[i]` is the top list of `queries[i]`.
pub fn score_lists(
    model: &Model,
    split: &Split,
    k: usize,
    held_lists: &[Vec<u32>],
    all_lists: Option<&[Vec<u32>]>,
) -> Evaluation {
    let genres: HashMap<u32, &Vec<u32>> =
        model.games.iter().map(|g| (g.id, &g.features[Field::Genres.index()])).collect();
    let (mut recall, mut hit, mut agree, mut agree_n) = (0.0, 0.0, 0.0, 0usize);
    for (q, list) in split.held_out.iter().zip(held_lists) {
        let truth = &split.truth[q];
        let list = &list[..list.len().min(k)];
        let found = list.iter().filter(|x| truth.contains(x)).count();
        recall += found as f64 / truth.len().min(k) as f64;
        hit += f64::from(u8::from(found > 0));
        let qg = genres.get(q).copied().filter(|g| !g.is_empty());
        if let (Some(qg), false) = (qg, list.is_empty()) {
            let same = list
                .iter()
                .filter(|b| genres.get(b).is_some_and(|bg| bg.iter().any(|t| qg.binary_search(t).is_ok())))
                .count();
            agree += same as f64 / list.len() as f64;
            agree_n += 1;
        }
    }
    let nq = split.held_out.len().max(1) as f64;
    let coverage = all_lists.map_or(f64::NAN, |lists| {
        let seen: HashSet<u32> = lists.iter().flat_map(|l| l.iter().take(k).copied()).collect();
        seen.len() as f64 / model.games.len().max(1) as f64
    });
    Evaluation {
        k,
        queries: split.held_out.len(),
        catalogue: model.games.len(),
        recall: recall / nq,
        hit: hit / nq,
        genre_agreement: agree / agree_n.max(1) as f64,
        coverage,
        seconds: 0.0,
    }
}

/// Measures a split model (held-out lists already removed) through `Engine::recommend`.
pub fn evaluate(split_model: &Model, split: &Split, k: usize, threads: usize) -> Result<Evaluation> {
    let start = Instant::now();
    let mut m = split_model.clone();
    m.params.curated_weight = 0.0;
    let engine = Engine::from_model(m).context("while indexing the evaluation model")?;
    let rec = |id: u32| -> Result<Vec<u32>> {
        let q = RecommendQuery { liked: vec![(id, 1.0)], k, ..Default::default() };
        Ok(engine
            .recommend(&q)
            .with_context(|| format!("while recommending for game {id}"))?
            .iter()
            .map(|h| h.id)
            .collect())
    };
    let held = top_k_all(split.held_out.len(), threads, |i| rec(split.held_out[i]))?;
    let ids: Vec<u32> = engine.games().iter().map(|g| g.id).collect();
    let all = top_k_all(ids.len(), threads, |i| rec(ids[i]))?;
    let mut e = score_lists(split_model, split, k, &held, Some(&all));
    e.seconds = start.elapsed().as_secs_f64();
    Ok(e)
}

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

/// What `eval` measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Snapshot evaluated.
    pub snapshot: PathBuf,
    /// Seed and holdout of the split.
    pub seed: u64,
    /// Holdout share.
    pub holdout: f64,
    /// Rows: approach name → figures.
    pub results: BTreeMap<String, Evaluation>,
    /// Training seconds of playalike (read + features + learn).
    pub train_seconds: f64,
}

/// Runs `playalike eval` and returns the figures.
pub async fn execute(args: &Args) -> Result<Summary> {
    let start = Instant::now();
    let common = CommonArgs {
        holdout: if args.common.holdout > 0.0 { args.common.holdout } else { 0.2 },
        ..args.common.clone()
    };
    let trained = crate::train::train_snapshot(&args.snapshot, &common).stage(ExitCode::Train)?;
    let train_seconds = start.elapsed().as_secs_f64() - trained.eval.as_ref().map_or(0.0, |e| e.seconds);
    let mut results = BTreeMap::new();
    let e = trained
        .eval
        .clone()
        .context("no held-out games: the snapshot has no in-set similar_games")
        .stage(ExitCode::Train)?;
    results.insert("playalike".to_string(), e);
    if !args.no_baselines {
        let split_model = trained.split.apply(&trained.model);
        for (name, e) in
            crate::train::learn::baselines(&split_model, &trained.split, common.k, common.threads)?
        {
            results.insert(name, e);
        }
    }
    Ok(Summary {
        snapshot: args.snapshot.clone(),
        seed: common.seed,
        holdout: common.holdout,
        results,
        train_seconds,
    })
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
