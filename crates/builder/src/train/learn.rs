//! Learning the scoring parameters on the training part of a cold-start split.
//!
//! Method (docs/decisions/302-learning.md):
//! 1. Inner split: a quarter of the training games that have lists become inner-validation
//!    queries (same cold-start rule, another seed). Everything below is fitted on the inner
//!    training lists and judged by recall@k on the inner-validation queries.
//! 2. Feature weights: `w_t = idf_t · lift_t^γ`, where `lift_t` = (positive pairs sharing `t` + 1)
//!    / (pairs expected to share `t` by chance + 1), counted over the training lists. γ ∈ {0, ½, 1}
//!    is chosen by validation among `--lift` (default `0`: plain IDF; on igdb-sample-4k ½ and 1
//!    validated worse and cost a pool rebuild each, so they are opt-in).
//! 3. Priors: the popularity the engine sees is `exp(ln(1+signal) + β·ln(1+in-degree)) − 1`, i.e.
//!    `ln(1+pop)` blends the raw signal (follows, hypes, ratings) with how often the training lists
//!    name the game (its in-degree); β is learned.
//! 4. Coordinate search (multiplicative steps) over the ten field weights, year weight and scale,
//!    popularity weight, β and rating weight, maximising inner-validation recall@k subject to
//!    catalogue coverage@k ≥ the floor (+ a margin): the popularity prior's strength is capped by
//!    coverage, not by hand. Candidates are pooled per query (top content matches ∪ most popular),
//!    so one evaluation of a parameter vector costs milliseconds; the final figures are measured
//!    through `Engine::recommend`.

use crate::eval::{self, Evaluation, Split};
use crate::train::CommonArgs;
use anyhow::Result;
use playalike_engine::{FIELD_COUNT, Field, Model, Params};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What learning did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether anything was learned (false: defaults / IDF).
    pub learned: bool,
    /// Why not, or how.
    pub note: String,
    /// Lift exponent γ of the feature weights.
    pub lift_exponent: f32,
    /// β: weight of the in-degree in the popularity prior.
    pub indegree_mix: f32,
    /// Inner-validation recall@k of the defaults and of the learned parameters.
    pub inner_recall_before: f64,
    /// Inner-validation recall@k after learning.
    pub inner_recall_after: f64,
    /// Pooled coverage@k estimate after learning.
    pub inner_coverage_after: f64,
    /// Inner-validation queries.
    pub inner_queries: usize,
    /// Parameter vectors evaluated.
    pub evaluations: usize,
    /// The chosen parameters.
    #[serde(skip)]
    pub params: Params,
}

impl Report {
    /// Default parameters, with the reason.
    pub fn defaults(note: &str) -> Report {
        Report {
            learned: false,
            note: note.to_string(),
            lift_exponent: 0.0,
            indegree_mix: 0.0,
            inner_recall_before: f64::NAN,
            inner_recall_after: f64::NAN,
            inner_coverage_after: f64::NAN,
            inner_queries: 0,
            evaluations: 0,
            params: Params::default(),
        }
    }
}

/// Seed offset of the inner validation split.
const INNER_SEED: u64 = 0x1A2B_3C4D_5E6F_7081;
/// Share of training games with lists used as inner-validation queries.
const INNER_HOLDOUT: f64 = 0.25;
/// Content candidates pooled per query.
const POOL_CONTENT: usize = 100;
/// Globally most popular candidates pooled per query (per popularity signal).
const POOL_POPULAR: usize = 30;
/// Coverage margin over the floor while tuning (the pooled estimate is not the final figure).
const COVERAGE_MARGIN: f64 = 0.04;
/// Largest catalogue learning runs on (pools cost O(n²)); larger ones keep defaults + IDF.
const MAX_LEARN_GAMES: usize = 30_000;
/// Fewest inner-validation queries worth learning from.
const MIN_QUERIES: usize = 30;

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

/// IDF as the engine computes it.
fn idf(model: &Model) -> [Vec<f32>; FIELD_COUNT] {
    let n = model.games.len().max(1) as f32;
    std::array::from_fn(|fi| {
        let mut df = vec![0u32; model.vocab[fi].len()];
        for g in &model.games {
            for &t in &g.features[fi] {
                df[t as usize] += 1;
            }
        }
        df.iter().map(|&d| (n / (1.0 + d as f32)).ln().max(0.0) + 1.0).collect()
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

/// Precomputed candidate pools with per-field cosines, for fast parameter evaluation.
struct Pools {
    /// Per query (all games), candidate indices.
    cand: Vec<Vec<u32>>,
    /// Per query, per candidate, the per-field cosines (FIELD_COUNT each).
    cos: Vec<Vec<[f32; FIELD_COUNT]>>,
    /// Per query, per candidate, |Δyear| (`NO_YEAR` when a year is missing).
    dyear: Vec<Vec<u16>>,
}

/// Per-game inputs of the priors.
struct Priors {
    l_sig: Vec<f32>,
    l_in: Vec<f32>,
    quality: Vec<f32>,
}

struct Postings {
    lists: [Vec<Vec<u32>>; FIELD_COUNT],
}

fn postings(model: &Model) -> Postings {
    Postings {
        lists: std::array::from_fn(|fi| {
            let mut p = vec![Vec::new(); model.vocab[fi].len()];
            for (i, g) in model.games.iter().enumerate() {
                for &t in &g.features[fi] {
                    p[t as usize].push(i as u32);
                }
            }
            p
        }),
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

/// Per-field cosines of query `a` against every game, into `acc` (FIELD_COUNT × n, zeroed after use by caller).
fn accumulate(model: &Model, post: &Postings, w: &[Vec<f32>; FIELD_COUNT], a: usize, acc: &mut [Vec<f32>]) {
    for fi in 0..FIELD_COUNT {
        for &t in &model.games[a].features[fi] {
            let wt = w[fi][t as usize].powi(2);
            for &b in &post.lists[fi][t as usize] {
                acc[fi][b as usize] += wt;
            }
        }
    }
}

fn split_threads<T: Send, F: Fn(usize) -> T + Sync>(n: usize, threads: usize, f: F) -> Vec<T> {
    let threads =
        if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
    let chunk = n.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|st| {
                let f = &f;
                s.spawn(move || (st..(st + chunk).min(n)).map(f).collect::<Vec<T>>())
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// Builds the pools: per query, the top content candidates under `base` ∪ the most popular.
fn build_pools(
    model: &Model,
    w: &[Vec<f32>; FIELD_COUNT],
    base: &Params,
    popular: &[u32],
    threads: usize,
) -> Pools {
    let n = model.games.len();
    let post = postings(model);
    let nr = norms(model, w);
    type Pool = (Vec<u32>, Vec<[f32; FIELD_COUNT]>, Vec<u16>);
    let per: Vec<Pool> = split_threads(n, threads, |a| {
        thread_local! {
            static BUF: std::cell::RefCell<(Vec<Vec<f32>>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
        }
        BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            let (acc, touched) = &mut *buf;
            if acc.len() != FIELD_COUNT || acc[0].len() != n {
                *acc = vec![vec![0f32; n]; FIELD_COUNT];
            }
            accumulate(model, &post, w, a, acc);
            // Dense over the catalogue: cheaper than sorting the touched list at this size.
            touched.clear();
            touched.extend(0..n as u32);
            let cosv = |b: usize, acc: &[Vec<f32>]| -> [f32; FIELD_COUNT] {
                std::array::from_fn(|fi| {
                    let d = nr[a][fi] * nr[b][fi];
                    if d > 0.0 { acc[fi][b] / d } else { 0.0 }
                })
            };
            // Fields that can contribute (the seed has terms and the field has weight): the
            // others add exact zeros, so skipping them leaves every sum bit-identical.
            let active: Vec<usize> =
                (0..FIELD_COUNT).filter(|&fi| nr[a][fi] > 0.0 && base.field_weights[fi] != 0.0).collect();
            let mut scored: Vec<(f32, u32)> = touched
                .iter()
                .filter(|&&b| b as usize != a)
                .map(|&b| {
                    let b_ = b as usize;
                    let mut s = 0.0f32;
                    for &fi in &active {
                        let d = nr[a][fi] * nr[b_][fi];
                        if d > 0.0 {
                            s += base.field_weights[fi] * (acc[fi][b_] / d);
                        }
                    }
                    (s, b)
                })
                .collect();
            let keep = POOL_CONTENT.min(scored.len());
            if keep > 0 && keep < scored.len() {
                scored.select_nth_unstable_by(keep - 1, |x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            }
            scored.truncate(keep);
            let mut cand: Vec<u32> = scored.into_iter().map(|x| x.1).collect();
            cand.extend(popular.iter().copied().filter(|&b| b as usize != a));
            cand.sort_unstable();
            cand.dedup();
            let cos: Vec<[f32; FIELD_COUNT]> = cand.iter().map(|&b| cosv(b as usize, acc)).collect();
            let ya = model.games[a].year;
            let dyear = cand
                .iter()
                .map(|&b| match (ya, model.games[b as usize].year) {
                    (Some(x), Some(y)) => x.abs_diff(y).min(NO_YEAR - 1),
                    _ => NO_YEAR,
                })
                .collect();
            // `accumulate` only wrote the rows of the fields the seed has terms in.
            for (fi, row) in acc.iter_mut().enumerate() {
                if !model.games[a].features[fi].is_empty() {
                    row.fill(0.0);
                }
            }
            (cand, cos, dyear)
        })
    });
    let mut pools =
        Pools { cand: Vec::with_capacity(n), cos: Vec::with_capacity(n), dyear: Vec::with_capacity(n) };
    for (c, co, d) in per {
        pools.cand.push(c);
        pools.cos.push(co);
        pools.dyear.push(d);
    }
    pools
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

impl Theta {
    fn get(&self, i: usize) -> f32 {
        match i {
            i if i < FIELD_COUNT => self.field[i],
            10 => self.year_weight,
            11 => self.year_scale,
            12 => self.pop_weight,
            13 => self.beta,
            _ => self.rating_weight,
        }
    }
    fn set(&mut self, i: usize, v: f32) {
        let (lo, hi) = if i == 11 {
            (0.5, 50.0)
        } else if i == 13 {
            (0.0, 20.0)
        } else {
            (0.0, 10.0)
        };
        let v = v.clamp(lo, hi);
        match i {
            i if i < FIELD_COUNT => self.field[i] = v,
            10 => self.year_weight = v,
            11 => self.year_scale = v,
            12 => self.pop_weight = v,
            13 => self.beta = v,
            _ => self.rating_weight = v,
        }
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

fn top_k(
    pools: &Pools,
    q: usize,
    th: &Theta,
    prior: &[f32],
    lut: &[f32],
    k: usize,
    out: &mut Vec<(f32, u32)>,
) {
    // The best k (score descending, then index ascending), kept sorted by insertion: after the
    // first few candidates most are rejected by one comparison with the current k-th.
    let before = |x: &(f32, u32), y: &(f32, u32)| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).is_lt();
    out.clear();
    if k == 0 {
        return;
    }
    for (j, &b) in pools.cand[q].iter().enumerate() {
        let c = &pools.cos[q][j];
        let mut s: f32 = th.field.iter().zip(c).map(|(w, x)| w * x).sum();
        s += lut[usize::from(pools.dyear[q][j])];
        s += prior[b as usize];
        let x = (s, b);
        if out.len() == k {
            if out.last().is_none_or(|w| !before(&x, w)) {
                continue;
            }
            out.pop();
        }
        let at = out.partition_point(|y| before(y, &x));
        out.insert(at, x);
    }
}

/// Inner-validation recall@k.
fn recall(
    pools: &Pools,
    queries: &[(usize, Vec<u32>)],
    th: &Theta,
    prior: &[f32],
    k: usize,
    threads: usize,
) -> f64 {
    let lut = year_lut(th);
    // Per query on all cores, summed in query order (the same figure on any thread count).
    let per = split_threads(queries.len(), threads, |i| {
        let (q, truth) = &queries[i];
        let mut buf = Vec::new();
        top_k(pools, *q, th, prior, &lut, k, &mut buf);
        let found = buf.iter().filter(|(_, b)| truth.contains(b)).count();
        found as f64 / truth.len().min(k) as f64
    });
    per.iter().sum::<f64>() / queries.len().max(1) as f64
}

/// Pooled catalogue coverage@k (every game queried).
fn coverage(pools: &Pools, th: &Theta, prior: &[f32], k: usize, threads: usize) -> f64 {
    let n = pools.cand.len();
    let lut = year_lut(th);
    let lists = split_threads(n, threads, |q| {
        let mut buf = Vec::new();
        top_k(pools, q, th, prior, &lut, k, &mut buf);
        buf.into_iter().map(|x| x.1).collect::<Vec<u32>>()
    });
    let mut seen = vec![false; n];
    for l in lists {
        for b in l {
            seen[b as usize] = true;
        }
    }
    seen.iter().filter(|&&s| s).count() as f64 / n.max(1) as f64
}

fn theta_of(p: &Params) -> Theta {
    Theta {
        field: p.field_weights,
        year_weight: p.year_weight,
        year_scale: p.year_scale,
        pop_weight: p.popularity_weight,
        beta: 1.0, // start from an even blend of signal and in-degree; the search moves it
        rating_weight: p.rating_weight,
    }
}

struct Search<'a> {
    pools: &'a Pools,
    priors: &'a Priors,
    queries: &'a [(usize, Vec<u32>)],
    k: usize,
    threads: usize,
    floor: f64,
    evals: usize,
    /// Coordinates left alone.
    frozen: Vec<usize>,
}

impl Search<'_> {
    /// (objective, recall, coverage): recall, minus a steep penalty below the coverage floor.
    fn objective(&mut self, th: &Theta, best: f64) -> (f64, f64, f64) {
        self.evals += 1;
        let prior = prior_vec(self.priors, th);
        let r = recall(self.pools, self.queries, th, &prior, self.k, self.threads);
        if r <= best {
            return (r, r, f64::NAN); // cannot win even with full coverage
        }
        let c = coverage(self.pools, th, &prior, self.k, self.threads);
        (r - 4.0 * (self.floor - c).max(0.0), r, c)
    }

    fn run(&mut self, start: Theta, rounds: usize) -> (Theta, f64, f64, f64) {
        let mut th = start;
        let (mut best, mut br, mut bc) = self.objective(&th, f64::NEG_INFINITY);
        let factors = [0.0f32, 0.5, 0.75, 1.33, 2.0];
        for _ in 0..rounds {
            let before = best;
            let free: Vec<usize> = (0..THETA_LEN).filter(|i| !self.frozen.contains(i)).collect();
            for i in free {
                for &f in &factors {
                    let cur = th.get(i);
                    if i == 11 && f == 0.0 {
                        continue;
                    }
                    let v = if cur == 0.0 { if f > 1.0 { 0.25 * f } else { continue } } else { cur * f };
                    let mut cand = th;
                    cand.set(i, v);
                    if cand == th {
                        continue;
                    }
                    let (o, r, c) = self.objective(&cand, best);
                    if o > best + 1e-9 {
                        (th, best, br, bc) = (cand, o, r, c);
                    }
                }
            }
            if best <= before + 1e-4 {
                break;
            }
        }
        (th, best, br, bc)
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

/// Learns parameters on the training view of the split (`train`: held-out lists removed).
/// The returned params carry explicit feature weights; `indegree_mix` must be applied to any
/// model served with them ([`apply_popularity`]).
pub fn learn(train: &Model, _split: &Split, common: &CommonArgs, min_coverage: f64) -> Result<Report> {
    // Inner split on the training view.
    let inner = eval::split(train, common.seed ^ INNER_SEED, INNER_HOLDOUT);
    if train.games.len() > MAX_LEARN_GAMES {
        let mut r = Report::defaults(&format!(
            "catalogue of {} games exceeds the learning limit {MAX_LEARN_GAMES}: default field weights, IDF feature weights",
            train.games.len()
        ));
        r.params.feature_weights = idf(train);
        return Ok(r);
    }
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
    let queries: Vec<(usize, Vec<u32>)> = inner
        .held_out
        .iter()
        .map(|id| (idx[id], inner.truth[id].iter().filter_map(|s| idx.get(s).map(|&i| i as u32)).collect()))
        .collect();
    let idf_w = idf(&inner_model);
    let lift_w = lift(&inner_model);
    let deg = in_degree(&inner_model);
    let priors = Priors {
        l_sig: inner_model.games.iter().map(|g| g.popularity.ln_1p()).collect(),
        l_in: deg.iter().map(|d| d.ln_1p()).collect(),
        quality: inner_model
            .games
            .iter()
            .map(|g| match g.rating {
                Some(r) => (r / 100.0).clamp(0.0, 1.0) * (1.0 - (-(g.rating_count as f32) / 10.0).exp()),
                None => 0.0,
            })
            .collect(),
    };
    let mut popular: Vec<u32> = Vec::new();
    for key in [&priors.l_sig, &priors.l_in] {
        let mut o: Vec<u32> = (0..inner_model.games.len() as u32).collect();
        o.sort_by(|&a, &b| key[b as usize].total_cmp(&key[a as usize]).then(a.cmp(&b)));
        popular.extend(o.into_iter().take(POOL_POPULAR));
    }
    popular.sort_unstable();
    popular.dedup();
    let defaults = Params::default();
    let mut best: Option<(f64, f32, Theta, f64, f64)> = None;
    let mut before = f64::NAN;
    let mut evals = 0;
    let mut theta = theta_of(&defaults);
    for &gamma in &common.lift_exponents()? {
        let t = std::time::Instant::now();
        let w = feature_weights(&idf_w, &lift_w, gamma);
        let pools = build_pools(&inner_model, &w, &defaults, &popular, common.threads);
        tracing::debug!("gamma {gamma}: pools in {:.2} s", t.elapsed().as_secs_f64());
        let mut s = Search {
            pools: &pools,
            priors: &priors,
            queries: &queries,
            k: common.k,
            threads: common.threads,
            floor: min_coverage + COVERAGE_MARGIN,
            evals: 0,
            frozen: if common.no_indegree { vec![13] } else { Vec::new() },
        };
        if common.no_indegree {
            theta.beta = 0.0;
        }
        if before.is_nan() {
            before = s.objective(&theta_of(&defaults), f64::NEG_INFINITY).1;
        }
        let (th, obj, r, c) = s.run(theta, 4);
        tracing::debug!(
            "gamma {gamma}: recall {r:.4} coverage {c:.4} after {} evaluations, {:.2} s",
            s.evals,
            t.elapsed().as_secs_f64()
        );
        evals += s.evals;
        theta = th;
        if best.as_ref().is_none_or(|b| obj > b.0) {
            best = Some((obj, gamma, th, r, c));
        }
    }
    let Some((_, gamma, th, r, c)) = best else { anyhow::bail!("learning evaluated nothing") };
    // Final feature weights from the whole training view.
    let w = feature_weights(&idf(train), &lift(train), gamma);
    Ok(Report {
        learned: true,
        note: format!(
            "coordinate search on {} inner-validation queries of the training part; coverage floor {:.2}",
            queries.len(),
            min_coverage + COVERAGE_MARGIN
        ),
        lift_exponent: gamma,
        indegree_mix: th.beta,
        inner_recall_before: before,
        inner_recall_after: r,
        inner_coverage_after: c,
        inner_queries: queries.len(),
        evaluations: evals,
        params: to_params(&th, w),
    })
}

/// Baselines measured on the same split: popularity, the plan's one-hot cosine, TF-IDF cosine.
pub fn baselines(
    split_model: &Model,
    split: &Split,
    k: usize,
    threads: usize,
) -> Result<Vec<(String, Evaluation)>> {
    let n = split_model.games.len();
    let ids: Vec<u32> = split_model.games.iter().map(|g| g.id).collect();
    let idx: HashMap<u32, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let mut out = Vec::new();
    let all: Vec<usize> = (0..n).collect();
    let held: Vec<usize> = split.held_out.iter().filter_map(|id| idx.get(id).copied()).collect();
    let mut measure = |name: &str, vecs: &[Vec<(u32, f32)>]| {
        let run = |qs: &[usize]| -> Vec<Vec<u32>> {
            cosine_top_k(vecs, qs, k, threads)
                .into_iter()
                .map(|l| l.into_iter().map(|i| ids[i as usize]).collect())
                .collect()
        };
        let e = eval::score_lists(split_model, split, k, &run(&held), Some(&run(&all)));
        out.push((name.to_string(), e));
    };
    // The plan: one-hot genres, platforms, themes + min-max rating, year, popularity; cosine.
    measure("plan-onehot-cosine", &plan_vectors(split_model));
    measure("tfidf-cosine", &tfidf_vectors(split_model));
    // Popularity: the same most popular games for everyone.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        split_model.games[b].popularity.total_cmp(&split_model.games[a].popularity).then(a.cmp(&b))
    });
    let pop_list =
        |q: usize| -> Vec<u32> { order.iter().filter(|&&b| b != q).take(k).map(|&b| ids[b]).collect() };
    let held_l: Vec<Vec<u32>> = held.iter().map(|&q| pop_list(q)).collect();
    let all_l: Vec<Vec<u32>> = (0..n).map(pop_list).collect();
    out.push(("popularity".to_string(), eval::score_lists(split_model, split, k, &held_l, Some(&all_l))));
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
pub fn cosine_top_k(vecs: &[Vec<(u32, f32)>], queries: &[usize], k: usize, threads: usize) -> Vec<Vec<u32>> {
    let dims = vecs.iter().flat_map(|v| v.iter().map(|x| x.0 + 1)).max().unwrap_or(0) as usize;
    let mut post: Vec<Vec<(u32, f32)>> = vec![Vec::new(); dims];
    let norm: Vec<f32> = vecs.iter().map(|v| v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt()).collect();
    for (i, v) in vecs.iter().enumerate() {
        for &(d, x) in v {
            post[d as usize].push((i as u32, x));
        }
    }
    let n = vecs.len();
    split_threads(queries.len(), threads, |qi| {
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
