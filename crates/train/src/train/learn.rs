//! Learning the scoring parameters on the training part of a cold-start split, at any catalogue
//! size, choosing what is published on a check set the search never saw.
//!
//! Method (docs/decisions/302-learning.md, 309-learning-at-scale.md, 310-learned-term-weights.md):
//! 1. Inner split: training games with lists are held out cold (their lists removed, as the outer
//!    split does), at most `max_queries · 3/2` of them, then divided by popularity stratum into
//!    *tune* queries (2/3: the search's objective) and *check* queries (1/3: the final choice).
//! 2. Candidate pools, sub-quadratic: per tune query and per coverage-sample query, the engine's
//!    own pruned top-k under the content parameters (no priors) plus the most popular games; the
//!    per-field cosines of each pooled pair are computed once, so one evaluation of a parameter
//!    vector costs milliseconds whatever the catalogue's size.
//! 3. Feature weights `w_t = idf_t · lift_t^γ` (γ from `lift`, default 0: plain IDF).
//! 4. Priors: the popularity the engine sees is `exp(ln(1+signal) + β·ln(1+in-degree)) − 1`,
//!    in-degree = how often the training lists name the game.
//! 5. Coordinate search (multiplicative steps) over the field weights of the fields the catalogue
//!    has, year weight and scale, popularity weight, β and rating weight: tune recall@k, minus a
//!    steep penalty below the coverage floor (+ a margin) on the pooled coverage estimate, minus a
//!    small cost per doubling away from the defaults (regularisation: a move must pay for itself).
//! 6. Learned term weights (`learn/terms.rs`): `w_t = idf_t · exp(u_t)`, `u_t` fitted on the tune
//!    queries' pools under the searched θ (listwise softmax loss on the pools' weighted cosines,
//!    L2 toward 0, seeded mini-batches, the same weights on any thread count; terms that fewer
//!    than `MIN_PAIRS` (20) pooled pairs share stay at IDF). When some weight moved, the
//!    pools are drawn again under them and step 5's search and calibration run once more: the
//!    `learned term weights` candidate.
//! 7. Choice: learned, learned term weights, the defaults and TF-IDF-like weights are each
//!    measured through `Engine::recommend` on the check queries; the best whose *served*
//!    catalogue coverage@k (every game's top k through the engine, as the benchmark measures it)
//!    meets the floor is published, the term weights counting their check recall less
//!    `TERM_MARGIN` (0.005) (a weight per term has to beat the simpler models by more than the check
//!    set's noise). A learned model whose priors cost too much coverage is first backed off
//!    (priors halved).

mod terms;

pub use terms::TermWeights;

use crate::eval::{self, Evaluation, Split};
use crate::par::par_map;
use anyhow::{Context, Result};
use playalike_engine::{Engine, FIELD_COUNT, Field, Game, Model, Params, RecommendQuery};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};

/// What learning needs to know, resolved from flags once by the caller.
#[derive(Debug, Clone)]
pub struct LearnConfig {
    /// Seed of the outer split (the inner split and samples derive theirs from it).
    pub seed: u64,
    /// Cutoff k of recall and coverage.
    pub k: usize,
    /// Served catalogue coverage@k the published model must keep.
    pub min_coverage: f64,
    /// Lift exponents γ of the feature weights to try (0 = IDF only).
    pub lift: Vec<f32>,
    /// Leave the in-degree out of the popularity prior.
    pub no_indegree: bool,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Most tune queries (the check set gets half as many).
    pub max_queries: usize,
    /// Largest catalogue whose served coverage is measured exactly (every game's top k through
    /// the engine); above it the floor holds on the pooled estimate alone.
    pub exact_coverage_max: usize,
    /// Also learn per-term feature weights and offer them as one more candidate.
    pub term_weights: bool,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            seed: 42,
            k: 10,
            min_coverage: 0.85,
            lift: vec![0.0],
            no_indegree: false,
            threads: 0,
            max_queries: DEFAULT_MAX_QUERIES,
            exact_coverage_max: EXACT_COVERAGE_MAX,
            term_weights: true,
        }
    }
}

/// One parameter set measured for the final choice.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// `learned`, `learned (priors ×0.5)`, `defaults` or `tfidf`.
    pub name: String,
    /// recall@k on the check queries, through the engine.
    pub check_recall: f64,
    /// Served catalogue coverage@k (NaN when not measured: a better candidate was chosen first).
    pub coverage: f64,
    /// Whether this one was published.
    pub chosen: bool,
}

/// What learning did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether learning ran (false: defaults / IDF, and `note` says why). What was published
    /// is `chosen`: the learned parameters, or a simpler candidate that did better on the check set.
    pub learned: bool,
    /// Which candidate was published (`learned`, `defaults`, `tfidf`, …).
    pub chosen: String,
    /// Why, or how.
    pub note: String,
    /// Lift exponent γ of the feature weights.
    pub lift_exponent: f32,
    /// β: weight of the in-degree in the popularity prior.
    pub indegree_mix: f32,
    /// Tune recall@k (pooled) of the defaults.
    pub inner_recall_before: f64,
    /// Tune recall@k (pooled) after the search.
    pub inner_recall_after: f64,
    /// Pooled coverage@k estimate after the search.
    pub inner_coverage_after: f64,
    /// Tune queries (the search's objective).
    pub inner_queries: usize,
    /// Check queries (the final choice).
    pub check_queries: usize,
    /// Queries of the pooled coverage estimate.
    pub coverage_queries: usize,
    /// Parameter vectors evaluated by the search.
    pub evaluations: usize,
    /// Served coverage@k of the published parameters (NaN when not measured).
    pub served_coverage: f64,
    /// The final choice, every candidate measured.
    pub candidates: Vec<Candidate>,
    /// (pooled coverage, tune recall) of every parameter vector the search evaluated fully:
    /// the trade-off the search chose from (the report draws it).
    pub tradeoff: Vec<(f64, f64)>,
    /// The point the search ended at.
    pub tradeoff_chosen: Option<(f64, f64)>,
    /// The learned per-term weights (the `learned term weights` candidate), when learned.
    pub term_weights: Option<TermWeights>,
    /// The chosen parameters.
    #[serde(skip)]
    pub params: Params,
}

impl Report {
    /// Default parameters, with the reason.
    pub fn defaults(note: &str) -> Report {
        Report {
            learned: false,
            chosen: "defaults".into(),
            note: note.to_string(),
            lift_exponent: 0.0,
            indegree_mix: 0.0,
            inner_recall_before: f64::NAN,
            inner_recall_after: f64::NAN,
            inner_coverage_after: f64::NAN,
            inner_queries: 0,
            check_queries: 0,
            coverage_queries: 0,
            evaluations: 0,
            served_coverage: f64::NAN,
            candidates: Vec::new(),
            tradeoff: Vec::new(),
            tradeoff_chosen: None,
            term_weights: None,
            params: Params::default(),
        }
    }
}

/// Largest catalogue whose served coverage is measured exactly by default: every game's top k
/// costs ~1 ms per game with rich features, minutes at 333k games.
pub const EXACT_COVERAGE_MAX: usize = 60_000;
/// Seed offset of the inner validation split.
const INNER_SEED: u64 = 0x1A2B_3C4D_5E6F_7081;
/// Seed offset of the coverage sample.
const COVERAGE_SEED: u64 = 0x7C0F_EEA6_E5A3_9901;
/// Largest share of training games with lists held out as inner queries.
const INNER_HOLDOUT: f64 = 0.3;
/// Default cap on tune queries: recall@10 over 2,000 queries has a standard error of ~0.006
/// (per-query recall sd ≲ 0.3), well under the differences the search acts on, and paired
/// comparisons of two parameter vectors on the same queries are tighter still.
pub const DEFAULT_MAX_QUERIES: usize = 2000;
/// Queries of the pooled coverage estimate (all games when the catalogue is this small).
const COVERAGE_SAMPLE: usize = 4000;
/// Content candidates pooled per query.
const POOL_CONTENT: usize = 100;
/// Globally most popular candidates pooled per query (per popularity signal).
const POOL_POPULAR: usize = 50;
/// Coverage margin over the floor while tuning (the pooled estimate is not the served figure).
const COVERAGE_MARGIN: f64 = 0.01;
/// Searches again at most this many times when the served coverage falls short of the floor.
const CALIBRATIONS: usize = 2;
/// Fewest inner queries worth learning from.
const MIN_QUERIES: usize = 30;
/// Rounds of the coordinate search (each tries every free coordinate).
const ROUNDS: usize = 4;
/// Rounds of the search on the learned term weights: it starts from the calibrated θ.
const TERM_ROUNDS: usize = 2;
/// The name of the learned term weights' candidate.
const TERMS_NAME: &str = "learned term weights";
/// Check recall the learned term weights must gain over the simpler candidates to be published:
/// about the noise of a paired comparison on the check set.
const TERM_MARGIN: f64 = 0.005;
/// Regularisation: objective cost of each doubling (or halving) of a parameter away from its
/// default; a move has to buy at least this much tune recall.
const STEP_COST: f64 = 0.0015;

/// Per-game in-degree: how many games' `similar` lists name it.
pub fn in_degree(model: &Model) -> Vec<f32> {
    let idx: HashMap<u32, usize> = model.games.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    let mut d = vec![0f32; model.games.len()];
    for g in &model.games {
        for s in &g.similar {
            if let Some(&i) = idx.get(s) {
                d[i] += 1.0;
            }
        }
    }
    d
}

/// Rewrites `Game.popularity` (the raw signal) into the engine's prior with in-degree mix β.
pub fn apply_popularity(model: &mut Model, beta: f32) {
    if beta == 0.0 {
        return;
    }
    let d = in_degree(model);
    for (g, d) in model.games.iter_mut().zip(d) {
        let l = g.popularity.ln_1p() + beta * d.ln_1p();
        g.popularity = l.min(80.0).exp_m1();
    }
}

/// IDF as the engine computes it ([`playalike_engine::idf_weight`]).
pub fn idf(model: &Model) -> [Vec<f32>; FIELD_COUNT] {
    let n = model.games.len();
    std::array::from_fn(|fi| {
        let mut df = vec![0u32; model.vocab[fi].len()];
        for g in &model.games {
            for &t in &g.features[fi] {
                df[t as usize] += 1;
            }
        }
        df.iter().map(|&d| playalike_engine::idf_weight(n, d)).collect()
    })
}

/// Lift of each term from the model's `similar` lists (pairs sharing it vs chance), smoothed.
fn lift(model: &Model) -> [Vec<f32>; FIELD_COUNT] {
    let n = model.games.len();
    let idx: HashMap<u32, usize> = model.games.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    std::array::from_fn(|fi| {
        let v = model.vocab[fi].len();
        let mut df = vec![0f64; v];
        for g in &model.games {
            for &t in &g.features[fi] {
                df[t as usize] += 1.0;
            }
        }
        let (mut pos, mut expected) = (vec![0f64; v], vec![0f64; v]);
        for g in &model.games {
            if g.similar.is_empty() {
                continue;
            }
            let m = g.similar.len() as f64;
            for &t in &g.features[fi] {
                expected[t as usize] += m * (df[t as usize] - 1.0).max(0.0) / (n.max(2) - 1) as f64;
            }
            for s in &g.similar {
                let Some(&j) = idx.get(s) else { continue };
                let other = &model.games[j].features[fi];
                for t in &g.features[fi] {
                    if other.binary_search(t).is_ok() {
                        pos[*t as usize] += 1.0;
                    }
                }
            }
        }
        (0..v).map(|t| ((pos[t] + 1.0) / (expected[t] + 1.0)) as f32).collect()
    })
}

fn feature_weights(
    idf: &[Vec<f32>; FIELD_COUNT],
    lift: &[Vec<f32>; FIELD_COUNT],
    gamma: f32,
) -> [Vec<f32>; FIELD_COUNT] {
    std::array::from_fn(|fi| idf[fi].iter().zip(&lift[fi]).map(|(i, l)| i * l.powf(gamma)).collect())
}

/// Feature weights per field and term.
type Weights = [Vec<f32>; FIELD_COUNT];

/// θ (its bits) → (recall, pooled coverage when measured).
type Memo = HashMap<[u32; THETA_LEN], (f64, Option<f64>)>;

/// Precomputed candidate pools with per-field cosines, for fast parameter evaluation. One flat
/// array per quantity (no allocation per query): query `q`'s candidates are `offs[q]..offs[q+1]`,
/// and its cosines a block of `fields.len()` rows (field-major: one row per stored field, one
/// column per candidate), so that scoring a query is a few vectorised row passes.
struct Pools {
    /// Candidate offsets per pooled query (len = queries + 1).
    offs: Vec<usize>,
    /// Candidate model indices.
    cand: Vec<u32>,
    /// Fields stored (those some game has: an absent field's cosines are all exact zeros).
    fields: Vec<usize>,
    /// Per-field cosines: query `q`'s block starts at `fields.len() · offs[q]`.
    cos: Vec<f32>,
    /// |Δyear| per candidate (`NO_YEAR` when a year is missing).
    dyear: Vec<u16>,
    /// (recall, pooled coverage) of every θ evaluated on these pools: the calibration searches
    /// walk through many of the vectors an earlier search measured, and neither figure depends
    /// on the floor.
    memo: std::sync::Mutex<Memo>,
    /// Per pooled query, the pool positions of its best `hint_k` at its last evaluation
    /// (`u32::MAX`: none): where [`top_k`] starts. Only speed depends on them, never a result.
    hints: Vec<AtomicU32>,
    hint_k: usize,
    /// Per pooled query, its content scores (Σ w·cos over the fields, before year and priors)
    /// under the field weights of the key (their bits), from its last evaluation.
    content: Vec<std::sync::Mutex<ContentScores>>,
}

/// Field weights (bits) → per-candidate content scores of one pooled query.
type ContentScores = ([u32; FIELD_COUNT], Vec<f32>);

impl Pools {
    fn hint(&self, q: usize) -> &[AtomicU32] {
        self.hints.get(q * self.hint_k..(q + 1) * self.hint_k).unwrap_or(&[])
    }
}

/// Per-game inputs of the priors.
struct Priors {
    l_sig: Vec<f32>,
    l_in: Vec<f32>,
    quality: Vec<f32>,
}

impl Priors {
    /// The engine's own formulas: its prior is ln(1+p) over the largest, and the quality.
    fn of(model: &Model, in_degree: &[f32]) -> Priors {
        Priors {
            l_sig: model.games.iter().map(|g| playalike_engine::log_popularity(g.popularity)).collect(),
            l_in: in_degree.iter().map(|&d| playalike_engine::log_popularity(d)).collect(),
            quality: model
                .games
                .iter()
                .map(|g| playalike_engine::quality_prior(g.rating, g.rating_count))
                .collect(),
        }
    }
}

fn norms(model: &Model, w: &[Vec<f32>; FIELD_COUNT]) -> Vec<[f32; FIELD_COUNT]> {
    model
        .games
        .iter()
        .map(|g| {
            std::array::from_fn(|fi| {
                g.features[fi].iter().map(|&t| w[fi][t as usize].powi(2)).sum::<f32>().sqrt()
            })
        })
        .collect()
}

/// The content-only parameters the pools are drawn with: the defaults' field and year weights
/// with the feature weights `w`, no priors, no curated bonus.
fn content_params(w: &[Vec<f32>; FIELD_COUNT]) -> Params {
    Params {
        feature_weights: w.clone(),
        popularity_weight: 0.0,
        rating_weight: 0.0,
        curated_weight: 0.0,
        ..Params::default()
    }
}

/// Builds the pools of `queries` (model indices): per query, the engine's top content matches
/// under [`content_params`] ∪ the most popular games, with per-field cosines under `w`.
fn build_pools(
    model: &Model,
    w: &[Vec<f32>; FIELD_COUNT],
    queries: &[usize],
    popular: &[u32],
    k: usize,
    threads: usize,
) -> Result<Pools> {
    let mut m = model.clone();
    m.params = content_params(w);
    let engine = Engine::from_model(m).context("while indexing the catalogue for the learning pools")?;
    let idx: HashMap<u32, u32> = model.games.iter().enumerate().map(|(i, g)| (g.id, i as u32)).collect();
    let nr = norms(model, w);
    let fields: Vec<usize> =
        (0..FIELD_COUNT).filter(|&fi| model.games.iter().any(|g| !g.features[fi].is_empty())).collect();
    type Pool = (Vec<u32>, Vec<f32>, Vec<u16>);
    let per: Vec<Result<Pool>> = par_map(queries.len(), threads, |qi| {
        let a = queries[qi];
        let ga = &model.games[a];
        let q = RecommendQuery { liked: vec![(ga.id, 1.0)], k: POOL_CONTENT, ..Default::default() };
        let hits =
            engine.recommend(&q).with_context(|| format!("while pooling candidates of game {}", ga.id))?;
        let mut cand: Vec<u32> = hits.iter().filter_map(|h| idx.get(&h.id).copied()).collect();
        cand.extend(popular.iter().copied().filter(|&b| b as usize != a));
        cand.sort_unstable();
        cand.dedup();
        let mut cos = Vec::with_capacity(fields.len() * cand.len());
        SHARED.with_borrow_mut(|mark| {
            for &fi in &fields {
                // w² of the query's terms, zero elsewhere: a candidate's Σ over its own (sorted)
                // terms is the sorted intersection's sum, plus exact zeros.
                if mark.len() < w[fi].len() {
                    mark.resize(w[fi].len(), 0.0);
                }
                for &t in &ga.features[fi] {
                    if let (Some(m), Some(x)) = (mark.get_mut(t as usize), w[fi].get(t as usize)) {
                        *m = x.powi(2);
                    }
                }
                cos.extend(cand.iter().map(|&b| {
                    let gb = &model.games[b as usize];
                    let d = nr[a][fi] * nr[b as usize][fi];
                    if d > 0.0 {
                        gb.features[fi]
                            .iter()
                            .fold(0.0f32, |s, &t| s + mark.get(t as usize).copied().unwrap_or(0.0))
                            / d
                    } else {
                        0.0
                    }
                }));
                for &t in &ga.features[fi] {
                    if let Some(m) = mark.get_mut(t as usize) {
                        *m = 0.0;
                    }
                }
            }
        });
        let dyear = cand
            .iter()
            .map(|&b| match (ga.year, model.games[b as usize].year) {
                (Some(x), Some(y)) => x.abs_diff(y).min(NO_YEAR - 1),
                _ => NO_YEAR,
            })
            .collect();
        Ok((cand, cos, dyear))
    })?;
    drop(engine);
    let total = per.iter().map(|p| p.as_ref().map_or(0, |p| p.0.len())).sum::<usize>();
    let mut pools = Pools {
        offs: Vec::with_capacity(queries.len() + 1),
        cand: Vec::with_capacity(total),
        cos: Vec::with_capacity(total * fields.len()),
        dyear: Vec::with_capacity(total),
        fields,
        memo: Default::default(),
        hints: (0..queries.len() * k).map(|_| AtomicU32::new(u32::MAX)).collect(),
        hint_k: k,
        content: (0..queries.len()).map(|_| Default::default()).collect(),
    };
    pools.offs.push(0);
    for p in per {
        let (c, co, d) = p?;
        pools.cand.extend(c);
        pools.cos.extend(co);
        pools.dyear.extend(d);
        pools.offs.push(pools.cand.len());
    }
    Ok(pools)
}

/// The tunable parameters as one vector.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Theta {
    field: [f32; FIELD_COUNT],
    year_weight: f32,
    year_scale: f32,
    pop_weight: f32,
    beta: f32,
    rating_weight: f32,
}

const THETA_LEN: usize = FIELD_COUNT + 5;
const I_YEAR_WEIGHT: usize = FIELD_COUNT;
const I_YEAR_SCALE: usize = FIELD_COUNT + 1;
const I_POP: usize = FIELD_COUNT + 2;
const I_BETA: usize = FIELD_COUNT + 3;
const I_RATING: usize = FIELD_COUNT + 4;

impl Theta {
    fn get(&self, i: usize) -> f32 {
        match i {
            i if i < FIELD_COUNT => self.field[i],
            I_YEAR_WEIGHT => self.year_weight,
            I_YEAR_SCALE => self.year_scale,
            I_POP => self.pop_weight,
            I_BETA => self.beta,
            _ => self.rating_weight,
        }
    }
    fn set(&mut self, i: usize, v: f32) {
        let (lo, hi) = match i {
            I_YEAR_SCALE => (0.5, 50.0),
            I_BETA => (0.0, 20.0),
            _ => (0.0, 10.0),
        };
        let v = v.clamp(lo, hi);
        match i {
            i if i < FIELD_COUNT => self.field[i] = v,
            I_YEAR_WEIGHT => self.year_weight = v,
            I_YEAR_SCALE => self.year_scale = v,
            I_POP => self.pop_weight = v,
            I_BETA => self.beta = v,
            _ => self.rating_weight = v,
        }
    }
    /// Regularisation: doublings away from `base`, summed (a zero counts as three).
    fn distance(&self, base: &Theta) -> f64 {
        (0..THETA_LEN)
            .map(|i| {
                let (v, b) = (self.get(i), base.get(i));
                if v == b {
                    0.0
                } else if v == 0.0 || b == 0.0 {
                    3.0
                } else {
                    f64::from((v / b).log2().abs())
                }
            })
            .sum()
    }
    /// The exact bits of θ (the memo's key).
    fn key(&self) -> [u32; THETA_LEN] {
        std::array::from_fn(|i| self.get(i).to_bits())
    }
    /// The priors scaled by `s` (the back-off of a model whose priors cost too much coverage).
    fn with_priors_scaled(mut self, s: f32) -> Theta {
        self.pop_weight *= s;
        self.rating_weight *= s;
        self.beta *= s;
        self
    }
}

/// Per-candidate prior values for θ (engine semantics: ln(1+pop)/ln(1+max pop)).
fn prior_vec(pr: &Priors, th: &Theta) -> Vec<f32> {
    let l: Vec<f32> = pr.l_sig.iter().zip(&pr.l_in).map(|(s, i)| (s + th.beta * i).min(80.0)).collect();
    let max = l.iter().copied().fold(0.0f32, f32::max);
    l.iter()
        .zip(&pr.quality)
        .map(|(&x, &q)| th.pop_weight * if max > 0.0 { x / max } else { 0.0 } + th.rating_weight * q)
        .collect()
}

/// Marks a missing year difference.
const NO_YEAR: u16 = 512;

/// Year proximity per |Δyear| (index `NO_YEAR` = 0: a missing year adds nothing).
fn year_lut(th: &Theta) -> Vec<f32> {
    (0..=NO_YEAR)
        .map(|d| if d == NO_YEAR { 0.0 } else { th.year_weight * (-f32::from(d) / th.year_scale).exp() })
        .collect()
}

/// The best `k` of pooled query `q` under θ: (score, candidate index), best first.
/// The score of each candidate is the same sum, in the same order, as a per-candidate loop over
/// the weighted fields (`0 + w·cos` per field, then `+ (year + prior)`), computed a row at a time.
///
/// The order (score descending, then candidate index) is total on distinct candidates, so the
/// best `k` are the same whichever way they are found: when the query's best `k` at its previous
/// evaluation (its hint) are still `k` candidates, the worst of them is a bar the best `k` all
/// reach; nearly every candidate is one comparison with it, and the few that pass are inserted.
fn top_k(pools: &Pools, q: usize, th: &Theta, prior: &[f32], lut: &[f32], k: usize) -> Vec<(f32, u32)> {
    let (lo, hi) = (pools.offs[q], pools.offs[q + 1]);
    let m = hi - lo;
    SCORES.with_borrow_mut(|score| {
        score.clear();
        {
            // The content part depends on the field weights only: moves of the year and the
            // priors reuse it.
            let mut cached = pools.content.get(q).map(|c| c.lock().unwrap_or_else(|e| e.into_inner()));
            match cached.as_deref_mut() {
                Some((key, c)) if *key == th.field.map(f32::to_bits) && c.len() == m => {
                    score.extend_from_slice(c)
                }
                _ => {
                    score.resize(m, 0.0);
                    let block = &pools.cos[pools.fields.len() * lo..pools.fields.len() * hi];
                    for (row, &fi) in block.chunks_exact(m.max(1)).zip(&pools.fields) {
                        let w = th.field[fi];
                        // Only the fields with weight: the others add exact zeros.
                        if w != 0.0 {
                            for (s, &c) in score.iter_mut().zip(row) {
                                *s += w * c;
                            }
                        }
                    }
                    if let Some((key, c)) = cached.as_deref_mut() {
                        *key = th.field.map(f32::to_bits);
                        c.clear();
                        c.extend_from_slice(score);
                    }
                }
            }
        }
        let cand = &pools.cand[lo..hi];
        for ((s, &b), &dy) in score.iter_mut().zip(cand).zip(&pools.dyear[lo..hi]) {
            *s += lut[dy as usize] + prior[b as usize];
        }
        // (score, candidate, position in the pool)
        let hint = pools.hint(q);
        let (mut bar, mut hinted) = (None, 0);
        for h in hint {
            let j = h.load(Ordering::Relaxed) as usize;
            if j < m {
                let x = (score[j], cand[j], j as u32);
                hinted += 1;
                bar = match bar {
                    Some(w) if before(&x, &w) => Some(w),
                    _ => Some(x),
                };
            }
        }
        if hinted != k {
            bar = None;
        }
        let scan = |bar: Option<(f32, u32, u32)>| {
            let mut out: Vec<(f32, u32, u32)> = Vec::with_capacity(k);
            for (j, (&s, &b)) in score.iter().zip(cand).enumerate() {
                let x = (s, b, j as u32);
                if bar.is_some_and(|w| before(&w, &x)) {
                    continue;
                }
                if out.len() == k && out.last().is_none_or(|w| !before(&x, w)) {
                    continue;
                }
                offer(&mut out, k, x);
            }
            out
        };
        let mut out = scan(bar);
        // When k candidates reach the bar, none of the best k is below it; otherwise (hints that
        // repeat a candidate) the bar was too high: the plain scan.
        if bar.is_some() && out.len() < k.min(m) {
            out = scan(None);
        }
        for (h, x) in hint.iter().zip(out.iter().map(|x| x.2).chain(std::iter::repeat(u32::MAX))) {
            h.store(x, Ordering::Relaxed);
        }
        out.into_iter().map(|x| (x.0, x.1)).collect()
    })
}

/// [`top_k`]'s order on (score, candidate, position): higher score first, then lower candidate.
fn before(x: &(f32, u32, u32), y: &(f32, u32, u32)) -> bool {
    x.0 > y.0 || (x.0 == y.0 && x.1 < y.1)
}

/// Puts `x` in its place in the sorted best `k` so far.
#[inline(never)]
fn offer(out: &mut Vec<(f32, u32, u32)>, k: usize, x: (f32, u32, u32)) {
    if out.len() == k {
        out.pop();
    }
    out.push(x);
    let mut i = out.len() - 1;
    while i > 0 && before(&out[i], &out[i - 1]) {
        out.swap(i, i - 1);
        i -= 1;
    }
}

thread_local! {
    /// [`build_pools`]' per-field w² of the query's terms, one per worker thread.
    static SHARED: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    /// [`top_k`]'s score buffer, one per worker thread.
    static SCORES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What every search of one learning run shares.
struct Setup<'a> {
    priors: &'a Priors,
    queries: &'a [(usize, Vec<u32>)],
    coverage_pools: &'a [usize],
    n: usize,
    k: usize,
    threads: usize,
    base: Theta,
    frozen: Vec<usize>,
}

impl Setup<'_> {
    /// A fresh search over `pools` with the pooled coverage floor `floor`.
    fn search<'p>(&'p self, pools: &'p Pools, floor: f64) -> Search<'p> {
        Search {
            pools,
            priors: self.priors,
            queries: self.queries,
            coverage_pools: self.coverage_pools,
            n: self.n,
            k: self.k,
            threads: self.threads,
            floor,
            base: self.base,
            evals: 0,
            frozen: self.frozen.clone(),
            seen: Vec::new(),
        }
    }
}

/// A search's end: (θ, objective, recall, coverage, evaluations, every (coverage, recall) seen).
type SearchResult = (Theta, f64, f64, f64, usize, Vec<(f64, f64)>);

struct Search<'a> {
    pools: &'a Pools,
    priors: &'a Priors,
    /// (pool index, truth as model indices) of the tune queries.
    queries: &'a [(usize, Vec<u32>)],
    /// Pool indices of the coverage sample.
    coverage_pools: &'a [usize],
    /// Catalogue size.
    n: usize,
    k: usize,
    threads: usize,
    floor: f64,
    base: Theta,
    evals: usize,
    /// Coordinates left alone.
    frozen: Vec<usize>,
    /// (coverage, recall) of each fully evaluated vector.
    seen: Vec<(f64, f64)>,
}

impl Search<'_> {
    fn recall(&self, th: &Theta, prior: &[f32]) -> Result<f64> {
        let lut = year_lut(th);
        let per = par_map(self.queries.len(), self.threads, |i| {
            let (q, truth) = &self.queries[i];
            let top = top_k(self.pools, *q, th, prior, &lut, self.k);
            let found = top.iter().filter(|(_, b)| truth.contains(b)).count();
            found as f64 / truth.len().min(self.k).max(1) as f64
        })?;
        Ok(per.iter().sum::<f64>() / self.queries.len().max(1) as f64)
    }

    /// Pooled coverage: distinct games in the sample's top-k lists over what the sample could
    /// show at most (the exact pooled coverage when every game is in the sample).
    fn coverage(&self, th: &Theta, prior: &[f32]) -> Result<f64> {
        let lut = year_lut(th);
        let lists = par_map(self.coverage_pools.len(), self.threads, |i| {
            top_k(self.pools, self.coverage_pools[i], th, prior, &lut, self.k)
                .into_iter()
                .map(|x| x.1)
                .collect::<Vec<u32>>()
        })?;
        let mut shown = vec![false; self.n];
        let mut seen = 0usize;
        for b in lists.into_iter().flatten() {
            if !std::mem::replace(&mut shown[b as usize], true) {
                seen += 1;
            }
        }
        let most = self.n.min(self.k * self.coverage_pools.len()).max(1);
        Ok(seen as f64 / most as f64)
    }

    /// Runs `f` on the pools' memo of evaluated θ.
    fn memo<T>(&self, f: impl FnOnce(&mut Memo) -> T) -> T {
        // A poisoned lock only means another search panicked; the entries are still whole.
        f(&mut self.pools.memo.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// (objective, recall, coverage): recall, minus a steep penalty below the coverage floor,
    /// minus the regularisation.
    fn objective(&mut self, th: &Theta, best: f64) -> Result<(f64, f64, f64)> {
        self.evals += 1;
        let key = th.key();
        let known = self.memo(|m| m.get(&key).copied()).unwrap_or((f64::NAN, None));
        let mut prior: Option<Vec<f32>> = None;
        let r = if known.0.is_nan() {
            let p = prior.insert(prior_vec(self.priors, th));
            self.recall(th, p)?
        } else {
            known.0
        };
        let reg = STEP_COST * th.distance(&self.base);
        if r - reg <= best {
            self.memo(|m| m.entry(key).or_insert((r, None)).0 = r);
            return Ok((r - reg, r, f64::NAN)); // cannot win even with full coverage
        }
        let c = match known.1 {
            Some(c) => c,
            None => {
                let p = match prior {
                    Some(p) => p,
                    None => prior_vec(self.priors, th),
                };
                self.coverage(th, &p)?
            }
        };
        self.memo(|m| m.insert(key, (r, Some(c))));
        self.seen.push((c, r));
        Ok((r - reg - 4.0 * (self.floor - c).max(0.0), r, c))
    }

    fn run(&mut self, start: Theta, rounds: usize) -> Result<(Theta, f64, f64, f64)> {
        let mut th = start;
        let (mut best, mut br, mut bc) = self.objective(&th, f64::NEG_INFINITY)?;
        let factors = [0.0f32, 0.5, 0.75, 1.33, 2.0];
        for round in 1..=rounds {
            tracing::trace!(target: "progress", "learning: search round {round} (at most {rounds})");
            let before = best;
            let free: Vec<usize> = (0..THETA_LEN).filter(|i| !self.frozen.contains(i)).collect();
            for i in free {
                for &f in &factors {
                    let cur = th.get(i);
                    if i == I_YEAR_SCALE && f == 0.0 {
                        continue;
                    }
                    let v = if cur == 0.0 { if f > 1.0 { 0.25 * f } else { continue } } else { cur * f };
                    let mut cand = th;
                    cand.set(i, v);
                    if cand == th {
                        continue;
                    }
                    let (o, r, c) = self.objective(&cand, best)?;
                    if o > best + 1e-9 {
                        (th, best, br, bc) = (cand, o, r, c);
                    }
                }
            }
            if best <= before + 1e-4 {
                break;
            }
        }
        Ok((th, best, br, bc))
    }
}

fn to_params(th: &Theta, w: [Vec<f32>; FIELD_COUNT]) -> Params {
    Params {
        field_weights: th.field,
        feature_weights: w,
        year_weight: th.year_weight,
        year_scale: th.year_scale,
        popularity_weight: th.pop_weight,
        rating_weight: th.rating_weight,
        ..Params::default()
    }
}

fn theta_of(p: &Params, beta: f32) -> Theta {
    Theta {
        field: p.field_weights,
        year_weight: p.year_weight,
        year_scale: p.year_scale,
        pop_weight: p.popularity_weight,
        beta,
        rating_weight: p.rating_weight,
    }
}

/// The TF-IDF-like candidate: every field the catalogue has weighs 1, no year, no priors.
fn tfidf_theta(present: &[bool; FIELD_COUNT]) -> Theta {
    Theta {
        field: std::array::from_fn(|fi| if present[fi] { 1.0 } else { 0.0 }),
        year_weight: 0.0,
        year_scale: 5.0,
        pop_weight: 0.0,
        beta: 0.0,
        rating_weight: 0.0,
    }
}

/// recall@k of `queries` (model ids → truth ids) through the engine serving `model` with θ.
fn engine_recall(
    model: &Model,
    th: &Theta,
    w: &[Vec<f32>; FIELD_COUNT],
    queries: &[(u32, Vec<u32>)],
    k: usize,
    threads: usize,
) -> Result<f64> {
    let engine = serve(model, th, w)?;
    let per = crate::par::try_par_map(queries.len(), threads, |i| {
        let (id, truth) = &queries[i];
        let q = RecommendQuery { liked: vec![(*id, 1.0)], k, ..Default::default() };
        let hits = engine.recommend(&q).with_context(|| format!("while recommending for game {id}"))?;
        let found = hits.iter().filter(|h| truth.contains(&h.id)).count();
        Ok(found as f64 / truth.len().min(k).max(1) as f64)
    })?;
    Ok(per.iter().sum::<f64>() / queries.len().max(1) as f64)
}

/// The engine serving `model` with θ (priors applied, curated bonus off: the content model).
fn serve(model: &Model, th: &Theta, w: &[Vec<f32>; FIELD_COUNT]) -> Result<Engine> {
    let mut m = model.clone();
    m.params = to_params(th, w.clone());
    m.params.curated_weight = 0.0;
    apply_popularity(&mut m, th.beta);
    Engine::from_model(m).context("while indexing a candidate model")
}

/// The part of `model` that scoring reads (features, year, ratings, popularity, game type,
/// lists, vocabulary, parameters), without titles, slugs, alternative names or covers: the
/// learner's copies and the engines it builds, a few per run, then neither copy nor index text
/// (at 333k games the titles alone are hundreds of MB across the copies).
pub fn scoring_view(model: &Model) -> Model {
    Model {
        games: model
            .games
            .iter()
            .map(|g| Game {
                id: g.id,
                year: g.year,
                rating: g.rating,
                rating_count: g.rating_count,
                popularity: g.popularity,
                game_type: g.game_type,
                features: g.features.clone(),
                similar: g.similar.clone(),
                ..Game::default()
            })
            .collect(),
        vocab: model.vocab.clone(),
        params: model.params.clone(),
        metadata: Default::default(),
    }
}

/// Learns parameters on the training view of the split (`train`: held-out lists removed).
/// The returned params carry explicit feature weights; `indegree_mix` must be applied to any
/// model served with them ([`apply_popularity`]).
pub fn learn(train: &Model, cfg: &LearnConfig) -> Result<Report> {
    // Every model and engine below is built from the scoring view (no text to copy or index).
    let train = &scoring_view(train);
    let n = train.games.len();
    let with_lists = train.games.iter().filter(|g| !g.similar.is_empty()).count();
    let wanted = cfg.max_queries.max(MIN_QUERIES) * 3 / 2;
    let share = INNER_HOLDOUT.min(wanted as f64 / with_lists.max(1) as f64);
    let inner = eval::split(train, cfg.seed ^ INNER_SEED, share);
    if inner.held_out.len() < MIN_QUERIES {
        let mut r = Report::defaults(&format!(
            "no ground truth to learn from ({} inner queries < {MIN_QUERIES}): default field weights, IDF feature weights",
            inner.held_out.len()
        ));
        r.params.feature_weights = idf(train);
        return Ok(r);
    }
    let inner_model = inner.apply(train);
    let idx: HashMap<u32, usize> = inner_model.games.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    let raw_pct =
        eval::popularity_percentiles(&inner_model.games.iter().map(|g| g.popularity).collect::<Vec<_>>());
    // Tune and check sets with the same popularity mix: by quartile, in hash order, two to tune,
    // one to check.
    let mut strata: Vec<(usize, u64, u32)> = inner
        .held_out
        .iter()
        .filter_map(|id| {
            idx.get(id).map(|&i| {
                (((raw_pct[i] * 4.0) as usize).min(3), eval::split_hash(cfg.seed ^ INNER_SEED, *id), *id)
            })
        })
        .collect();
    strata.sort_unstable();
    let (mut tune_ids, mut check_ids) = (Vec::new(), Vec::new());
    let mut last = usize::MAX;
    let mut pos = 0;
    for (s, _, id) in strata {
        if s != last {
            (last, pos) = (s, 0);
        }
        if pos % 3 == 2 {
            check_ids.push(id)
        } else {
            tune_ids.push(id)
        }
        pos += 1;
    }
    let truth_of = |id: &u32| -> Vec<u32> { inner.truth.get(id).cloned().unwrap_or_default() };

    let present: [bool; FIELD_COUNT] =
        std::array::from_fn(|fi| inner_model.games.iter().any(|g| !g.features[fi].is_empty()));
    let has_year = inner_model.games.iter().any(|g| g.year.is_some());
    let has_rating = inner_model.games.iter().any(|g| g.rating.is_some());
    let idf_w = idf(&inner_model);
    let lift_w = if cfg.lift.iter().any(|&g| g != 0.0) { Some(lift(&inner_model)) } else { None };
    let deg = in_degree(&inner_model);
    let priors = Priors::of(&inner_model, &deg);
    let mut popular: Vec<u32> = Vec::new();
    for key in [&priors.l_sig, &priors.l_in] {
        let mut o: Vec<u32> = (0..n as u32).collect();
        o.sort_by(|&a, &b| key[b as usize].total_cmp(&key[a as usize]).then(a.cmp(&b)));
        popular.extend(o.into_iter().take(POOL_POPULAR));
    }
    popular.sort_unstable();
    popular.dedup();

    // Pooled queries: the coverage sample, then the tune queries it lacks (a game's pool is the
    // same whichever role it plays, so a tune query in the sample shares its pool).
    let coverage_sample: Vec<usize> = if n <= COVERAGE_SAMPLE {
        (0..n).collect()
    } else {
        let mut o: Vec<(u64, usize)> = inner_model
            .games
            .iter()
            .enumerate()
            .map(|(i, g)| (eval::split_hash(cfg.seed ^ COVERAGE_SEED, g.id), i))
            .collect();
        o.select_nth_unstable(COVERAGE_SAMPLE - 1);
        o.truncate(COVERAGE_SAMPLE);
        o.sort_unstable();
        o.into_iter().map(|x| x.1).collect()
    };
    let coverage_pools: Vec<usize> = (0..coverage_sample.len()).collect();
    let mut pooled = coverage_sample.clone();
    let mut pool_of: HashMap<usize, usize> = pooled.iter().enumerate().map(|(p, &a)| (a, p)).collect();
    let tune_pools: Vec<usize> = tune_ids
        .iter()
        .map(|id| {
            *pool_of.entry(idx[id]).or_insert_with(|| {
                pooled.push(idx[id]);
                pooled.len() - 1
            })
        })
        .collect();
    drop(pool_of);
    let queries: Vec<(usize, Vec<u32>)> = tune_ids
        .iter()
        .zip(&tune_pools)
        .map(|(id, &p)| (p, truth_of(id).iter().filter_map(|s| idx.get(s).map(|&i| i as u32)).collect()))
        .collect();

    let defaults = Params::default();
    let mut frozen: Vec<usize> = (0..FIELD_COUNT).filter(|&fi| !present[fi]).collect();
    if !has_year {
        frozen.extend([I_YEAR_WEIGHT, I_YEAR_SCALE]);
    }
    if !has_rating {
        frozen.push(I_RATING);
    }
    if cfg.no_indegree {
        frozen.push(I_BETA);
    }
    let start_beta = if cfg.no_indegree { 0.0 } else { 1.0 };
    let base = theta_of(&defaults, start_beta);
    let setup = Setup {
        priors: &priors,
        queries: &queries,
        coverage_pools: &coverage_pools,
        n,
        k: cfg.k,
        threads: cfg.threads,
        base,
        frozen,
    };
    let search = |pools: &Pools, floor: f64, start: Theta, rounds: usize| -> Result<SearchResult> {
        let mut s = setup.search(pools, floor);
        let (th, obj, r, c) = s.run(start, rounds)?;
        Ok((th, obj, r, c, s.evals, s.seen))
    };
    let weights_for = |gamma: f32| match &lift_w {
        Some(l) if gamma != 0.0 => feature_weights(&idf_w, l, gamma),
        _ => idf_w.clone(),
    };
    // Weights of the served model come from the whole training view.
    let train_idf = idf(train);
    let train_lift = if cfg.lift.iter().any(|&g| g != 0.0) { Some(lift(train)) } else { None };
    let served_w = |gamma: f32| -> [Vec<f32>; FIELD_COUNT] {
        match &train_lift {
            Some(l) if gamma != 0.0 => feature_weights(&train_idf, l, gamma),
            _ => train_idf.clone(),
        }
    };
    let exact = n <= cfg.exact_coverage_max;
    let served = |th: &Theta, w: &Weights| -> Result<f64> {
        eval::served_coverage(&serve(train, th, w)?, cfg.k, cfg.threads)
    };
    // The pooled coverage estimate is on another scale than the served one (a sample of queries,
    // a bounded pool each): pairs (pooled, served) measured at the same parameters map the
    // served floor onto the pooled one, by a secant through the last two pairs.
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    let target = cfg.min_coverage + COVERAGE_MARGIN;
    let pooled_floor = |pairs: &[(f64, f64)]| -> f64 {
        match pairs {
            [] => target,
            [(p, s)] => p + (target - s),
            [.., (p0, s0), (p1, s1)] => {
                let slope =
                    if (p1 - p0).abs() > 1e-6 { ((s1 - s0) / (p1 - p0)).clamp(0.2, 5.0) } else { 1.0 };
                p1 + (target - s1) / slope
            }
        }
    };
    let mut best: Option<(f64, f32, Theta, f64, f64, Pools)> = None;
    let mut before = f64::NAN;
    let (mut evals, mut tradeoff) = (0, Vec::new());
    let mut theta = base;
    for &gamma in &cfg.lift {
        tracing::trace!(target: "progress", "learning: candidate pools (lift {gamma})");
        let t = std::time::Instant::now();
        let pools = build_pools(&inner_model, &weights_for(gamma), &pooled, &popular, cfg.k, cfg.threads)?;
        tracing::debug!("gamma {gamma}: {} pools in {:.2} s", pooled.len(), t.elapsed().as_secs_f64());
        let mut probe = setup.search(&pools, 0.0);
        if before.is_nan() {
            before = probe.objective(&theta_of(&defaults, 0.0), f64::NEG_INFINITY)?.1;
        }
        if exact && pairs.is_empty() {
            // The reference pair, at the search's start.
            let prior = prior_vec(&priors, &theta);
            let p0 = probe.coverage(&theta, &prior)?;
            let s0 = served(&theta, &served_w(gamma))?;
            tracing::debug!("reference: pooled coverage {p0:.4}, served {s0:.4}");
            pairs.push((p0, s0));
        }
        let (th, obj, r, c, e, seen) = search(&pools, pooled_floor(&pairs), theta, ROUNDS)?;
        tracing::debug!(
            "gamma {gamma}: recall {r:.4} coverage {c:.4} after {e} evaluations, {:.2} s",
            t.elapsed().as_secs_f64()
        );
        evals += e;
        tradeoff.extend(seen);
        theta = th;
        if best.as_ref().is_none_or(|b| obj > b.0) {
            best = Some((obj, gamma, th, r, c, pools));
        }
    }
    let Some((_, gamma, learned_th, r, c, pools)) = best else { anyhow::bail!("learning evaluated nothing") };

    // Calibrate against the served model: search again with the pooled floor moved by what the
    // served coverage missed (or left unused), and keep the best that meets the floor.
    let calibrate = |pools: &Pools,
                     pairs: &mut Vec<(f64, f64)>,
                     start: (Theta, f64, f64),
                     w: &Weights,
                     rounds: usize|
     -> Result<Calibrated> {
        let (mut th, mut r, mut c) = start;
        let (mut evals, mut tradeoff) = (0, Vec::new());
        let mut good: Option<(Theta, f64, f64, f64)> = None;
        let mut attempt = 0;
        let cov = loop {
            if !exact {
                break f64::NAN;
            }
            tracing::trace!(target: "progress", "learning: served coverage, calibration {attempt}");
            let cov = served(&th, w)?;
            pairs.push((c, cov));
            tracing::debug!("calibration {attempt}: pooled coverage {c:.4}, served {cov:.4}, recall {r:.4}");
            if cov >= cfg.min_coverage && good.is_none_or(|g| r > g.1) {
                good = Some((th, r, c, cov));
            }
            let close = cov >= cfg.min_coverage && cov <= target + 0.02;
            if close || attempt == CALIBRATIONS {
                break cov;
            }
            attempt += 1;
            let (t2, _, r2, c2, e, seen) = search(pools, pooled_floor(pairs), th, rounds)?;
            evals += e;
            tradeoff.extend(seen);
            if t2 == th {
                break cov; // recall, not coverage, holds the search where it is
            }
            (th, r, c) = (t2, r2, c2);
        };
        let cov = match good {
            Some((t2, r2, c2, cv)) => {
                (th, r, c) = (t2, r2, c2);
                cv
            }
            None => cov,
        };
        Ok(Calibrated { th, r, c, cov, evals, tradeoff })
    };
    let learned = calibrate(&pools, &mut pairs, (learned_th, r, c), &served_w(gamma), ROUNDS)?;
    evals += learned.evals;
    tradeoff.extend(learned.tradeoff.iter().copied());
    if let Ok(m) = pools.memo.lock() {
        tracing::debug!(
            "{evals} evaluations: {} distinct θ, {} with coverage",
            m.len(),
            m.values().filter(|v| v.1.is_some()).count()
        );
    }

    // Learned per-term weights: fitted on these pools under the calibrated θ, then the search
    // and its calibration again, on pools drawn and scored with them.
    let inner_w = weights_for(gamma);
    let mut term_report = None;
    let term = if cfg.term_weights {
        tracing::trace!(target: "progress", "learning: term weights");
        let t = std::time::Instant::now();
        let fit = terms::fit(
            &inner_model,
            &inner_w,
            &pools,
            &pooled,
            &queries,
            &learned.th,
            &priors,
            cfg.seed,
            cfg.threads,
        )?;
        tracing::debug!("term weights: {:?} in {:.2} s", fit.info, t.elapsed().as_secs_f64());
        let mut info = fit.info;
        let out = if info.moved_terms == 0 {
            // Nothing moved: the candidate would be the learned one again.
            drop(pools);
            None
        } else {
            let w_inner = terms::scaled(&inner_w, &fit.mult);
            let w_served = terms::scaled(&served_w(gamma), &fit.mult);
            // Pools drawn and scored again under the learned weights (they reach truth the IDF
            // pools missed).
            drop(pools);
            let pools2 = build_pools(&inner_model, &w_inner, &pooled, &popular, cfg.k, cfg.threads)?;
            let (th, _, r, c, e, seen) = search(&pools2, pooled_floor(&pairs), learned.th, TERM_ROUNDS)?;
            evals += e;
            tradeoff.extend(seen);
            let cal = calibrate(&pools2, &mut pairs.clone(), (th, r, c), &w_served, TERM_ROUNDS)?;
            evals += cal.evals;
            tradeoff.extend(cal.tradeoff.iter().copied());
            (info.inner_recall, info.served_coverage) = (cal.r, cal.cov);
            tracing::debug!(
                "term weights: search done after {} evaluations, {:.2} s",
                e + cal.evals,
                t.elapsed().as_secs_f64()
            );
            Some((cal, w_inner, w_served))
        };
        term_report = Some(info);
        out
    } else {
        drop(pools);
        None
    };

    // The choice, on the check queries through the engine (inner model: the check games are cold).
    // Weight sets (the inner model's, the served model's): plain IDF, the learned γ's, the
    // learned term weights.
    const PLAIN: usize = 0;
    const LEARNED: usize = 1;
    const TERMS: usize = 2;
    let mut weights: Vec<(Weights, Weights)> =
        vec![(idf_w.clone(), train_idf.clone()), (inner_w, served_w(gamma))];
    let check: Vec<(u32, Vec<u32>)> = check_ids.iter().map(|id| (*id, truth_of(id))).collect();
    let mut options = vec![
        ("learned", learned.th, LEARNED, learned.cov),
        ("defaults", theta_of(&defaults, 0.0), PLAIN, f64::NAN),
        ("tfidf", tfidf_theta(&present), PLAIN, f64::NAN),
    ];
    let mut term_point = None;
    if let Some((cal, w_inner, w_served)) = term {
        weights.push((w_inner, w_served));
        options.insert(1, (TERMS_NAME, cal.th, TERMS, cal.cov));
        term_point = Some((cal.c, cal.r));
    }
    let mut measured: Vec<(Candidate, Theta, usize)> = Vec::new();
    for (name, th, ws, coverage) in options {
        let name = name.to_string();
        let rc = engine_recall(&inner_model, &th, &weights[ws].0, &check, cfg.k, cfg.threads)?;
        measured.push((Candidate { name, check_recall: rc, coverage, chosen: false }, th, ws));
    }
    measured.sort_by(|a, b| rank(&b.0).total_cmp(&rank(&a.0)));
    let mut chosen: Option<usize> = None;
    let mut i = 0;
    while i < measured.len() {
        let (th, ws) = (measured[i].1, measured[i].2);
        if !exact {
            chosen = Some(i); // the best on the check set; its coverage is the pooled estimate's
            break;
        }
        let cov = if measured[i].0.coverage.is_nan() {
            served(&th, &weights[ws].1)?
        } else {
            measured[i].0.coverage
        };
        measured[i].0.coverage = cov;
        if cov >= cfg.min_coverage {
            chosen = Some(i);
            break;
        }
        // Back off the priors of a candidate that has some, once, and measure it in turn.
        let has_priors = th.pop_weight > 0.0 || th.rating_weight > 0.0 || th.beta > 0.0;
        if has_priors && !measured[i].0.name.contains("priors") {
            let backed = th.with_priors_scaled(0.5);
            let rc = engine_recall(&inner_model, &backed, &weights[ws].0, &check, cfg.k, cfg.threads)?;
            let name = format!("{} (priors ×0.5)", measured[i].0.name);
            let backed_c = Candidate { name, check_recall: rc, coverage: f64::NAN, chosen: false };
            let at = measured[i + 1..]
                .iter()
                .position(|m| rank(&m.0) < rank(&backed_c))
                .map_or(measured.len(), |p| i + 1 + p);
            measured.insert(at, (backed_c, backed, ws));
        }
        i += 1;
    }
    let floor_met = chosen.is_some();
    let pick = chosen.unwrap_or_else(|| {
        // Nothing meets the floor: the widest catalogue wins.
        (0..measured.len())
            .filter(|&j| !measured[j].0.coverage.is_nan())
            .max_by(|&a, &b| measured[a].0.coverage.total_cmp(&measured[b].0.coverage))
            .unwrap_or(0)
    });
    measured[pick].0.chosen = true;
    let (th, ws) = (measured[pick].1, measured[pick].2);
    let chosen_name = measured[pick].0.name.clone();
    let served_coverage = measured[pick].0.coverage;
    // The search figures of what was published (the IDF search's for the simple candidates).
    let (c, r) = match term_point {
        Some(p) if ws == TERMS => p,
        _ => (learned.c, learned.r),
    };
    let note = format!(
        "coordinate search on {} tune queries ({} pooled for coverage){}; {} chosen on {} check queries{}",
        queries.len(),
        coverage_sample.len(),
        match (&term_report, term_point) {
            (Some(_), Some(_)) => ", then on learned term weights",
            (Some(_), None) => "; no learned term weight moved",
            (None, _) => "",
        },
        chosen_name,
        check.len(),
        if !exact {
            format!(
                "; coverage floor {:.2} held on the pooled estimate ({c:.3}): the catalogue's {n} games exceed {} for an exact served measurement",
                cfg.min_coverage + COVERAGE_MARGIN,
                cfg.exact_coverage_max
            )
        } else if floor_met {
            format!(" with served coverage@{} {served_coverage:.3} ≥ {:.2}", cfg.k, cfg.min_coverage)
        } else {
            format!(
                ": no candidate reaches coverage {:.2}; the widest ({served_coverage:.3}) is published",
                cfg.min_coverage
            )
        }
    );
    let served_weights = weights.swap_remove(ws).1;
    Ok(Report {
        learned: true,
        chosen: chosen_name,
        note,
        lift_exponent: if ws == PLAIN { 0.0 } else { gamma },
        indegree_mix: th.beta,
        inner_recall_before: before,
        inner_recall_after: r,
        inner_coverage_after: c,
        inner_queries: queries.len(),
        check_queries: check.len(),
        coverage_queries: coverage_sample.len(),
        evaluations: evals,
        served_coverage,
        candidates: measured.into_iter().map(|m| m.0).collect(),
        tradeoff,
        tradeoff_chosen: Some((c, r)),
        term_weights: term_report,
        params: to_params(&th, served_weights),
    })
}

/// The order of the check-set choice: check recall, the learned term weights' (and their backed-off
/// variant's) less [`TERM_MARGIN`]: a model with a weight per term has to beat the simpler ones by
/// more than the noise of the check set.
fn rank(c: &Candidate) -> f64 {
    c.check_recall - if c.name.starts_with(TERMS_NAME) { TERM_MARGIN } else { 0.0 }
}

/// A search calibrated against the served coverage: θ, tune recall, pooled coverage, served
/// coverage (NaN when not measured), evaluations, every (coverage, recall) seen.
struct Calibrated {
    th: Theta,
    r: f64,
    c: f64,
    cov: f64,
    evals: usize,
    tradeoff: Vec<(f64, f64)>,
}

/// Baselines measured on the same split: popularity, the plan's one-hot cosine, TF-IDF cosine.
pub fn baselines(
    split_model: &Model,
    split: &Split,
    k: usize,
    threads: usize,
) -> Result<Vec<(String, Evaluation)>> {
    let raw_popularity: &[f32] = &split_model.games.iter().map(|g| g.popularity).collect::<Vec<_>>();
    let n = split_model.games.len();
    let ids: Vec<u32> = split_model.games.iter().map(|g| g.id).collect();
    let idx: HashMap<u32, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let mut out = Vec::new();
    let all: Vec<usize> = (0..n).collect();
    let held: Vec<usize> = split.held_out.iter().filter_map(|id| idx.get(id).copied()).collect();
    let mut measure = |name: &str, vecs: &[Vec<(u32, f32)>]| {
        tracing::trace!(target: "progress", "baseline {name}");
        let run = |qs: &[usize]| -> Result<Vec<Vec<u32>>> {
            Ok(cosine_top_k(vecs, qs, k, threads)?
                .into_iter()
                .map(|l| l.into_iter().map(|i| ids[i as usize]).collect())
                .collect())
        };
        let e = eval::score_lists(split_model, split, k, &run(&held)?, Some(&run(&all)?), raw_popularity);
        out.push((name.to_string(), e));
        Ok::<(), anyhow::Error>(())
    };
    // The plan: one-hot genres, platforms, themes + min-max rating, year, popularity; cosine.
    measure("plan-onehot-cosine", &plan_vectors(split_model))?;
    measure("tfidf-cosine", &tfidf_vectors(split_model))?;
    // Popularity: the same most popular games for everyone.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        split_model.games[b].popularity.total_cmp(&split_model.games[a].popularity).then(a.cmp(&b))
    });
    let pop_list =
        |q: usize| -> Vec<u32> { order.iter().filter(|&&b| b != q).take(k).map(|&b| ids[b]).collect() };
    let held_l: Vec<Vec<u32>> = held.iter().map(|&q| pop_list(q)).collect();
    let all_l: Vec<Vec<u32>> = (0..n).map(pop_list).collect();
    out.push((
        "popularity".to_string(),
        eval::score_lists(split_model, split, k, &held_l, Some(&all_l), raw_popularity),
    ));
    Ok(out)
}

/// Sparse vectors of the plan's model: dims = (field, term) one-hot for genres, platforms,
/// themes, then three dense dims (rating, year, popularity), each min-max scaled (missing = 0).
pub fn plan_vectors(m: &Model) -> Vec<Vec<(u32, f32)>> {
    let fields = [Field::Genres, Field::Platforms, Field::Themes];
    let mut offset = [0u32; 3];
    let mut next = 0u32;
    for (i, f) in fields.iter().enumerate() {
        offset[i] = next;
        next += m.vocab[f.index()].len() as u32;
    }
    let mm = |vals: Vec<Option<f32>>| -> Vec<f32> {
        let present: Vec<f32> = vals.iter().flatten().copied().collect();
        let lo = present.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = present.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        vals.iter().map(|v| v.map_or(0.0, |x| if hi > lo { (x - lo) / (hi - lo) } else { 0.0 })).collect()
    };
    let rating = mm(m.games.iter().map(|g| g.rating).collect());
    let year = mm(m.games.iter().map(|g| g.year.map(f32::from)).collect());
    let pop = mm(m.games.iter().map(|g| Some(g.popularity)).collect());
    m.games
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut v: Vec<(u32, f32)> = Vec::new();
            for (fi, f) in fields.iter().enumerate() {
                v.extend(g.features[f.index()].iter().map(|&t| (offset[fi] + t, 1.0)));
            }
            v.extend(
                [(next, rating[i]), (next + 1, year[i]), (next + 2, pop[i])]
                    .into_iter()
                    .filter(|x| x.1 != 0.0),
            );
            v
        })
        .collect()
}

/// TF-IDF (smooth idf, as scikit-learn) over every categorical field, concatenated.
pub fn tfidf_vectors(m: &Model) -> Vec<Vec<(u32, f32)>> {
    let n = m.games.len() as f32;
    let mut offset = [0u32; FIELD_COUNT];
    let mut next = 0;
    for f in Field::ALL {
        offset[f.index()] = next;
        next += m.vocab[f.index()].len() as u32;
    }
    let mut df = vec![0f32; next as usize];
    for g in &m.games {
        for f in Field::ALL {
            for &t in &g.features[f.index()] {
                df[(offset[f.index()] + t) as usize] += 1.0;
            }
        }
    }
    m.games
        .iter()
        .map(|g| {
            Field::ALL
                .iter()
                .flat_map(|f| g.features[f.index()].iter().map(|&t| offset[f.index()] + t))
                .map(|d| (d, ((1.0 + n) / (1.0 + df[d as usize])).ln() + 1.0))
                .collect()
        })
        .collect()
}

/// Exact cosine top-k (query itself excluded) over sparse vectors, via an inverted index.
pub fn cosine_top_k(
    vecs: &[Vec<(u32, f32)>],
    queries: &[usize],
    k: usize,
    threads: usize,
) -> Result<Vec<Vec<u32>>> {
    let dims = vecs.iter().flat_map(|v| v.iter().map(|x| x.0 + 1)).max().unwrap_or(0) as usize;
    let mut post: Vec<Vec<(u32, f32)>> = vec![Vec::new(); dims];
    let norm: Vec<f32> = vecs.iter().map(|v| v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt()).collect();
    for (i, v) in vecs.iter().enumerate() {
        for &(d, x) in v {
            post[d as usize].push((i as u32, x));
        }
    }
    let n = vecs.len();
    par_map(queries.len(), threads, |qi| {
        let q = queries[qi];
        let mut acc: HashMap<u32, f32> = HashMap::new();
        for &(d, x) in &vecs[q] {
            for &(b, y) in &post[d as usize] {
                *acc.entry(b).or_default() += x * y;
            }
        }
        let mut s: Vec<(f32, u32)> = acc
            .into_iter()
            .filter(|&(b, _)| b as usize != q)
            .map(|(b, dot)| {
                (if norm[q] * norm[b as usize] > 0.0 { dot / (norm[q] * norm[b as usize]) } else { 0.0 }, b)
            })
            .collect();
        // Games sharing nothing score 0: fill by index order, as a stable tie-break.
        if s.len() < k {
            let have: HashSet<u32> = s.iter().map(|x| x.1).collect();
            s.extend(
                (0..n as u32)
                    .filter(|b| *b as usize != q && !have.contains(b))
                    .take(k - s.len())
                    .map(|b| (0.0, b)),
            );
        }
        s.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        s.truncate(k);
        s.into_iter().map(|x| x.1).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated catalogue with a hidden truth, read as `train` reads it.
    fn generated(games: u32, flavor: crate::generate::Flavor) -> Model {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        crate::generate::generate_blocking(&dir, games, 5, flavor).unwrap();
        let opts = crate::features::BuildOptions::default();
        let snap = crate::features::load(&dir, &opts).unwrap();
        crate::features::build_model(snap, &opts).unwrap().0
    }

    #[test]
    fn the_published_candidate_is_the_best_on_the_check_set_that_keeps_the_floor() {
        for flavor in [crate::generate::Flavor::Igdb, crate::generate::Flavor::Store] {
            let model = generated(1500, flavor);
            let cfg = LearnConfig { threads: 2, ..LearnConfig::default() };
            let r = learn(&model, &cfg).unwrap();
            assert!(r.learned, "{flavor:?}: {}", r.note);
            assert_eq!(r.candidates.iter().filter(|c| c.chosen).count(), 1, "{flavor:?}: one published");
            let chosen = r.candidates.iter().find(|c| c.chosen).unwrap();
            assert_eq!(chosen.name, r.chosen);
            assert!((r.served_coverage - chosen.coverage).abs() < 1e-12);
            if chosen.coverage >= cfg.min_coverage {
                // No candidate that met the floor did better on the check set.
                for c in &r.candidates {
                    if c.coverage >= cfg.min_coverage {
                        assert!(rank(c) <= rank(chosen), "{flavor:?}: {c:?} beat {chosen:?}");
                    }
                }
            } else {
                assert!(r.note.contains("no candidate reaches"), "{}", r.note);
            }
            // The published weights hold for every field the catalogue has (explicit, positive).
            for fi in 0..FIELD_COUNT {
                assert_eq!(r.params.feature_weights[fi].len(), model.vocab[fi].len());
                assert!(r.params.feature_weights[fi].iter().all(|w| w.is_finite() && *w > 0.0));
            }
            assert!(!r.tradeoff.is_empty() && r.evaluations > 0);
            // Term weights were learned and said; a candidate was offered only if some moved.
            let tw = r.term_weights.as_ref().expect("term weights learned");
            let offered = r.candidates.iter().any(|c| c.name.starts_with(TERMS_NAME));
            assert_eq!(offered, tw.moved_terms > 0, "{flavor:?}: {tw:?}");
            if r.chosen.starts_with(TERMS_NAME) {
                assert_ne!(
                    r.params.feature_weights,
                    idf(&model),
                    "{flavor:?}: published term weights are IDF"
                );
            }
        }
    }

    /// 600 games with four of 40 noise tags each; a third also carry tag 40, and only their lists
    /// are set: ten other holders of tag 40 each. Tag 40 decides the truth, but is common enough
    /// that IDF gives it less weight than the rarer noise tags.
    fn one_tag_catalogue() -> Model {
        let kw = Field::Keywords.index();
        let mut rng = playalike_base::rng::SplitMix::new(7);
        let mut m = Model::default();
        m.vocab[kw] =
            (0..41).map(|i| playalike_engine::Term { igdb_id: i + 1, name: format!("t{i}") }).collect();
        let holders: Vec<u32> = (0..600).filter(|i| i % 3 == 0).map(|i| i + 1).collect();
        for i in 0..600u32 {
            let mut f: Vec<u32> = (0..4).map(|_| (rng.next_u64() % 40) as u32).collect();
            let holds = i % 3 == 0;
            if holds {
                f.push(40);
            }
            f.sort_unstable();
            f.dedup();
            let mut g = Game { id: i + 1, popularity: 1.0, ..Game::default() };
            g.features[kw] = f;
            if holds {
                g.similar =
                    (0..10).map(|_| holders[(rng.next_u64() % holders.len() as u64) as usize]).collect();
                g.similar.retain(|&s| s != i + 1);
                g.similar.sort_unstable();
                g.similar.dedup();
            }
            m.games.push(g);
        }
        m
    }

    #[test]
    fn the_weight_of_the_tag_that_decides_the_truth_rises_above_its_idf_the_same_on_any_thread_count() {
        let model = one_tag_catalogue();
        let kw = Field::Keywords.index();
        let w = idf(&model);
        let queries: Vec<usize> =
            (0..model.games.len()).filter(|&i| !model.games[i].similar.is_empty()).collect();
        let pools = build_pools(&model, &w, &queries, &[], 10, 2).unwrap();
        let idx: HashMap<u32, u32> = model.games.iter().enumerate().map(|(i, g)| (g.id, i as u32)).collect();
        let tune: Vec<(usize, Vec<u32>)> = queries
            .iter()
            .enumerate()
            .map(|(p, &a)| (p, model.games[a].similar.iter().map(|s| idx[s]).collect()))
            .collect();
        let th = theta_of(&Params::default(), 0.0);
        let priors = Priors::of(&model, &in_degree(&model));
        let fit =
            |threads| terms::fit(&model, &w, &pools, &queries, &tune, &th, &priors, 42, threads).unwrap();
        let one = fit(1);
        // The deciding tag gains weight over IDF, and more than any noise tag.
        let up = one.mult[kw][40];
        assert!(up > 1.2, "tag 40 ×{up} ({:?})", one.info);
        assert!(one.mult[kw][..40].iter().all(|&x| x < up), "{:?}", one.mult[kw]);
        assert!(one.info.loss_last_epoch < one.info.loss_first_epoch, "{:?}", one.info);
        // Deterministic, whatever the thread count: the same weights, bit for bit.
        let bits = |f: &terms::Fit| f.mult.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
        for threads in [1, 2, 3] {
            assert_eq!(bits(&fit(threads)), bits(&one), "{threads} threads");
        }
        // Other fields, absent here, keep their (empty) weights.
        assert!(one.mult.iter().enumerate().all(|(fi, v)| fi == kw || v.is_empty()));
    }

    #[test]
    fn without_ground_truth_the_defaults_with_idf_are_kept_and_said() {
        let mut model = generated(300, crate::generate::Flavor::Igdb);
        for g in &mut model.games {
            g.similar.clear();
        }
        let r = learn(&model, &LearnConfig::default()).unwrap();
        assert!(!r.learned && r.note.contains("no ground truth"), "{}", r.note);
        assert_eq!(r.params.feature_weights, idf(&model));
    }

    #[test]
    fn regularisation_counts_doublings_away_from_the_defaults() {
        let base = theta_of(&Params::default(), 1.0);
        assert_eq!(base.distance(&base), 0.0);
        let mut t = base;
        t.set(0, base.get(0) * 4.0);
        assert!((t.distance(&base) - 2.0).abs() < 1e-6);
        t.set(1, 0.0);
        assert!((t.distance(&base) - 5.0).abs() < 1e-6, "a zeroed weight counts as three doublings");
        let scaled = base.with_priors_scaled(0.5);
        assert_eq!(scaled.pop_weight, base.pop_weight * 0.5);
        assert_eq!(scaled.field, base.field);
    }

    /// The plain reading of [`top_k`]: every candidate's score as one sum, all of them sorted.
    fn top_k_reference(
        pools: &Pools,
        q: usize,
        th: &Theta,
        prior: &[f32],
        lut: &[f32],
        k: usize,
    ) -> Vec<(f32, u32)> {
        let (lo, hi) = (pools.offs[q], pools.offs[q + 1]);
        let m = hi - lo;
        let mut all: Vec<(f32, u32)> = (0..m)
            .map(|j| {
                let mut s = 0.0f32;
                for (r, &fi) in pools.fields.iter().enumerate() {
                    if th.field[fi] != 0.0 {
                        s += th.field[fi] * pools.cos[pools.fields.len() * lo + r * m + j];
                    }
                }
                let b = pools.cand[lo + j];
                (s + (lut[pools.dyear[lo + j] as usize] + prior[b as usize]), b)
            })
            .collect();
        all.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap().then(x.1.cmp(&y.1)));
        all.truncate(k);
        all
    }

    #[test]
    fn top_k_is_the_same_whatever_its_hints_and_cached_scores_hold() {
        let model = generated(600, crate::generate::Flavor::Igdb);
        let w = idf(&model);
        let queries: Vec<usize> = (0..model.games.len()).step_by(7).collect();
        let k = 10;
        let pools = build_pools(&model, &w, &queries, &[0, 1, 2, 3], k, 2).unwrap();
        let deg = in_degree(&model);
        let priors = Priors::of(&model, &deg);
        // The pooled cosines are the sorted intersection's Σ w², over the norms, bit for bit.
        let nr = norms(&model, &w);
        for (q, &a) in queries.iter().enumerate() {
            let (lo, hi) = (pools.offs[q], pools.offs[q + 1]);
            for (r, &fi) in pools.fields.iter().enumerate() {
                for j in 0..hi - lo {
                    let b = pools.cand[lo + j] as usize;
                    let (fa, fb) = (&model.games[a].features[fi], &model.games[b].features[fi]);
                    let shared = fa.iter().filter(|t| fb.binary_search(t).is_ok());
                    let sum = shared.fold(0.0f32, |s, &t| s + w[fi][t as usize].powi(2));
                    let d = nr[a][fi] * nr[b][fi];
                    let want = if d > 0.0 { sum / d } else { 0.0 };
                    assert_eq!(
                        pools.cos[pools.fields.len() * lo + r * (hi - lo) + j].to_bits(),
                        want.to_bits()
                    );
                }
            }
        }
        // A walk like the search's: one coordinate at a time, back and forth, so that hints and
        // cached content scores come from other θ (and a field weight of zero drops a row).
        let mut thetas = vec![theta_of(&Params::default(), 1.0)];
        for (i, f) in
            [(0, 2.0), (I_POP, 3.0), (1, 0.0), (I_YEAR_SCALE, 0.5), (I_BETA, 4.0), (0, 0.25), (I_RATING, 2.0)]
        {
            let mut t = *thetas.last().unwrap();
            t.set(i, t.get(i) * f);
            thetas.push(t);
            thetas.push(thetas[0]);
        }
        let mut changed = 0;
        let mut last: Option<Vec<(f32, u32)>> = None;
        for th in &thetas {
            let (prior, lut) = (prior_vec(&priors, th), year_lut(th));
            for q in 0..queries.len() {
                let want = top_k_reference(&pools, q, th, &prior, &lut, k);
                assert_eq!(want.len(), k.min(pools.offs[q + 1] - pools.offs[q]));
                assert_eq!(top_k(&pools, q, th, &prior, &lut, k), want, "query {q} at {th:?}");
                if q == 0 {
                    changed += usize::from(last.replace(want.clone()).is_some_and(|l| l != want));
                }
            }
        }
        assert!(changed > 3, "the walk must move the lists ({changed} changes)");
        // Garbage hints (out of range, repeated) are only a slower start.
        for h in &pools.hints {
            h.store(3, Ordering::Relaxed);
        }
        pools.hints[0].store(u32::MAX - 1, Ordering::Relaxed);
        let th = thetas[3];
        let (prior, lut) = (prior_vec(&priors, &th), year_lut(&th));
        for q in 0..queries.len() {
            assert_eq!(
                top_k(&pools, q, &th, &prior, &lut, k),
                top_k_reference(&pools, q, &th, &prior, &lut, k)
            );
        }
    }
}
