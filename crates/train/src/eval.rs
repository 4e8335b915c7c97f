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
use crate::train::CommonConfig;
use anyhow::{Context, Result};
use playalike_engine::{Engine, Field, Model, RecommendQuery};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// SplitMix64 finaliser: the stable hash of the split (not `DefaultHasher`, which may change).
pub use playalike_base::rng::splitmix64;

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
    /// At most `max` of the held-out games (the smallest hashes under another seed), with their
    /// truth: a uniform sample for measuring, the training view unchanged.
    pub fn sample(&self, seed: u64, max: usize) -> Split {
        if self.held_out.len() <= max {
            return self.clone();
        }
        let mut ids: Vec<(u64, u32)> =
            self.held_out.iter().map(|&id| (split_hash(seed ^ 0x5A4D_9E11_0C3B_27F5, id), id)).collect();
        ids.sort_unstable();
        let mut held_out: Vec<u32> = ids.into_iter().take(max).map(|x| x.1).collect();
        held_out.sort_unstable();
        let truth = held_out.iter().filter_map(|id| self.truth.get(id).map(|t| (*id, t.clone()))).collect();
        Split { held_out, truth }
    }

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
    /// recall@k of the tail queries: held-out games below the catalogue's median popularity.
    pub tail_recall: f64,
    /// Tail queries.
    pub tail_queries: usize,
    /// Mean popularity percentile (0..1) of what the held-out queries were shown: about 0.5 for
    /// a list indifferent to popularity, near 1 when a popularity prior does the work.
    pub shown_popularity: f64,
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
            (format!("tail_recall@{k}"), self.tail_recall),
            ("shown_popularity_percentile".to_string(), self.shown_popularity),
        ])
    }
}

/// Popularity percentile of each value (0..1, ties share their mean rank): the share of the
/// catalogue strictly less popular, plus half the share equally popular.
pub fn popularity_percentiles(pop: &[f32]) -> Vec<f64> {
    let n = pop.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| pop[a].total_cmp(&pop[b]));
    let mut pct = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && pop[order[j]] == pop[order[i]] {
            j += 1;
        }
        let p = (i as f64 + (j - i) as f64 / 2.0) / n.max(1) as f64;
        for &o in &order[i..j] {
            pct[o] = p;
        }
        i = j;
    }
    pct
}

/// Every game's top-k list through the engine (curated bonus as the model has it), in the order
/// of `engine.games()`. Games sharing a profile share work ([`Engine::recommend_each`]).
pub fn all_lists(engine: &Engine, k: usize, threads: usize) -> Result<Vec<Vec<u32>>> {
    let mut ids: Vec<(Option<(u32, u16)>, u32)> =
        engine.games().iter().map(|g| (engine.shared_key(g.id), g.id)).collect();
    ids.sort_unstable();
    let ids: Vec<u32> = ids.into_iter().map(|x| x.1).collect();
    let parts = crate::par::workers(threads) * 4;
    let chunk = ids.len().div_ceil(parts.max(1)).max(1);
    let chunks: Vec<&[u32]> = ids.chunks(chunk).collect();
    let template = RecommendQuery { k, ..Default::default() };
    let lists = crate::par::try_par_map(chunks.len(), threads, |c| {
        engine.recommend_each(chunks[c], &template).context("while recommending for every game")
    })?;
    let by_id: HashMap<u32, Vec<u32>> = ids
        .iter()
        .zip(lists.into_iter().flatten())
        .map(|(&id, hits)| (id, hits.into_iter().map(|h| h.id).collect()))
        .collect();
    Ok(engine.games().iter().map(|g| by_id.get(&g.id).cloned().unwrap_or_default()).collect())
}

/// Catalogue coverage@k of the model `engine` serves, as the benchmark measures it: the share of
/// the catalogue in the union of every game's top k.
pub fn served_coverage(engine: &Engine, k: usize, threads: usize) -> Result<f64> {
    let lists = all_lists(engine, k, threads)?;
    let seen: HashSet<u32> = lists.into_iter().flatten().collect();
    Ok(seen.len() as f64 / engine.len().max(1) as f64)
}

/// Scores recommendation lists against the split. `held_lists[i]` is the top list of
/// `split.held_out[i]`; `raw_popularity` is the popularity signal per game in model order
/// (before any learned prior), for the tail and shown-popularity figures.
pub fn score_lists(
    model: &Model,
    split: &Split,
    k: usize,
    held_lists: &[Vec<u32>],
    all_lists: Option<&[Vec<u32>]>,
    raw_popularity: &[f32],
) -> Evaluation {
    let genres: HashMap<u32, &Vec<u32>> =
        model.games.iter().map(|g| (g.id, &g.features[Field::Genres.index()])).collect();
    let pct_of: HashMap<u32, f64> =
        model.games.iter().map(|g| g.id).zip(popularity_percentiles(raw_popularity)).collect();
    let (mut recall, mut hit, mut agree, mut agree_n) = (0.0, 0.0, 0.0, 0usize);
    let (mut tail, mut tail_n, mut shown, mut shown_n) = (0.0, 0usize, 0.0, 0usize);
    for (q, list) in split.held_out.iter().zip(held_lists) {
        let Some(truth) = split.truth.get(q) else { continue };
        let list = &list[..list.len().min(k)];
        let found = list.iter().filter(|x| truth.contains(x)).count();
        let r = found as f64 / truth.len().min(k).max(1) as f64;
        recall += r;
        if pct_of.get(q).is_some_and(|&p| p < 0.5) {
            tail += r;
            tail_n += 1;
        }
        for b in list {
            if let Some(p) = pct_of.get(b) {
                shown += p;
                shown_n += 1;
            }
        }
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
        tail_recall: tail / tail_n.max(1) as f64,
        tail_queries: tail_n,
        shown_popularity: shown / shown_n.max(1) as f64,
        seconds: 0.0,
    }
}

/// Measures a split model (held-out lists already removed) through `Engine::recommend`.
/// `raw_popularity`: the popularity signal per game in model order, before any learned prior.
/// Coverage is NaN unless `full_coverage` (every game's top k: minutes at 333k games).
pub fn evaluate(
    split_model: &Model,
    split: &Split,
    k: usize,
    threads: usize,
    raw_popularity: &[f32],
    full_coverage: bool,
) -> Result<Evaluation> {
    let start = Instant::now();
    let mut m = split_model.clone();
    m.params.curated_weight = 0.0;
    let engine = Engine::from_model(m).context("while indexing the evaluation model")?;
    let template = RecommendQuery { k, ..Default::default() };
    let held: Vec<Vec<u32>> = crate::par::try_par_map(split.held_out.len(), threads, |i| {
        let id = split.held_out[i];
        let q = RecommendQuery { liked: vec![(id, 1.0)], ..template.clone() };
        Ok(engine
            .recommend(&q)
            .with_context(|| format!("while recommending for game {id}"))?
            .iter()
            .map(|h| h.id)
            .collect())
    })?;
    let all = if full_coverage { Some(all_lists(&engine, k, threads)?) } else { None };
    let mut e = score_lists(split_model, split, k, &held, all.as_deref(), raw_popularity);
    e.seconds = start.elapsed().as_secs_f64();
    Ok(e)
}

/// What `playalike eval` measures (resolved from its flags by the CLI).
#[derive(Debug, Clone)]
pub struct Config {
    /// Snapshot directory.
    pub snapshot: PathBuf,
    /// The settings shared with `train` / `eval`.
    pub common: CommonConfig,
    /// Skip the baselines.
    pub no_baselines: bool,
    /// Print one JSON line instead of a table.
    pub json: bool,
}

/// What `eval` measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
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
pub async fn execute(args: &Config) -> Result<Summary> {
    let start = Instant::now();
    let common = CommonConfig {
        holdout: if args.common.holdout > 0.0 { args.common.holdout } else { 0.2 },
        ..args.common.clone()
    };
    let trained = crate::train::train_snapshot(&args.snapshot, &common, true).stage(ExitCode::Train)?;
    let train_seconds = start.elapsed().as_secs_f64() - trained.eval.as_ref().map_or(0.0, |e| e.seconds);
    let mut results = BTreeMap::new();
    let e = trained
        .eval
        .clone()
        .context("no held-out games: the snapshot has no in-set similar_games")
        .stage(ExitCode::Train)?;
    results.insert("playalike".to_string(), e);
    if !args.no_baselines {
        let _progress = crate::progress::stages("evaluating the baselines");
        let mut split_model = trained.split.apply(&trained.model);
        for (g, p) in split_model.games.iter_mut().zip(&trained.raw_popularity) {
            g.popularity = *p;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popularity_percentiles_share_ties() {
        let p = popularity_percentiles(&[0.0, 0.0, 5.0, 1.0]);
        assert_eq!(p, vec![0.25, 0.25, 0.875, 0.625]);
        assert!(popularity_percentiles(&[]).is_empty());
    }

    #[test]
    fn tail_recall_and_shown_popularity_follow_the_lists() {
        let mut m = Model::default();
        for id in 1..=4u32 {
            m.games.push(playalike_engine::Game { id, ..Default::default() });
        }
        let split = Split { held_out: vec![1, 4], truth: HashMap::from([(1, vec![2, 3]), (4, vec![2])]) };
        // Game 1 is the least popular (tail), game 4 the most.
        let pop = [0.0, 1.0, 2.0, 3.0];
        let e = score_lists(&m, &split, 2, &[vec![2, 4], vec![3, 1]], None, &pop);
        assert_eq!(e.recall, 0.25); // (1/2 + 0/1) / 2
        assert_eq!((e.tail_recall, e.tail_queries), (0.5, 1));
        // Shown: 2, 4, 3, 1 → percentiles 0.375, 0.875, 0.625, 0.125.
        assert!((e.shown_popularity - 0.5).abs() < 1e-12);
        assert!(e.coverage.is_nan());
    }
}
