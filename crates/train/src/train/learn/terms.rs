//! Learned per-term feature weights: `w_t = idf_t · exp(u_t)`, with `u_t` fitted on the tune
//! queries' candidate pools and regularised toward 0 (plain IDF).
//!
//! Loss, per tune query `q` whose pool holds some of its truth: the listwise softmax
//! cross-entropy of the pool, `−mean_{p ∈ truth} log softmax(s/τ)_p`, where `s_c` is the score the
//! search ranks by (`Σ_f W_f cos_f(q, c) + year + priors`, θ fixed) and `cos_f` the weighted cosine
//! `Σ_{t ∈ q∩c} w_t² / (‖q‖_w ‖c‖_w)` of the pools. Plus `λ Σ u_t²`. Mini-batches in a seeded
//! order, AdaGrad steps; every batch's gradient is summed query by query in a fixed order, so the
//! weights do not depend on the thread count. Terms that fewer than [`MIN_PAIRS`] pooled pairs
//! share keep `u_t = 0`.

use super::{Pools, Priors, Theta, prior_vec, year_lut};
use crate::eval;
use crate::par::par_map;
use anyhow::Result;
use playalike_engine::{FIELD_COUNT, Model};
use serde::Serialize;

/// Passes over the tune queries.
const EPOCHS: usize = 4;
/// Queries per gradient step.
const BATCH: usize = 32;
/// AdaGrad step size.
const LEARNING_RATE: f32 = 0.05;
/// L2 pull of `u_t` toward 0.
const L2: f32 = 0.01;
/// Fewest pooled (query, candidate) pairs sharing a term for its weight to be learned.
pub const MIN_PAIRS: u32 = 20;
/// Bound of |u_t| (a weight moves at most ×e³ from its IDF).
const MAX_U: f32 = 3.0;
/// Softmax temperature as a share of the mean per-query spread (sd) of the pool scores.
const TEMPERATURE_SHARE: f32 = 0.5;
/// Seed offset of the batch order.
const ORDER_SEED: u64 = 0x5EED_7E4A_11B0_0C3D;

/// What term-weight learning did (metrics.json `learning.term_weights`).
#[derive(Debug, Clone, Serialize)]
pub struct TermWeights {
    /// Terms shared by enough pooled pairs to be learned.
    pub free_terms: usize,
    /// Of those, terms whose weight moved by more than 10 % from its IDF.
    pub moved_terms: usize,
    /// Tune queries with some truth in their pool (the loss's queries).
    pub queries: usize,
    /// Softmax temperature.
    pub temperature: f32,
    /// Mean loss over the first pass.
    pub loss_first_epoch: f64,
    /// Mean loss over the last pass.
    pub loss_last_epoch: f64,
    /// Tune recall@k (pooled) of the coordinate search run on the learned weights.
    pub inner_recall: f64,
    /// Served coverage@k of that search's result (NaN when not measured).
    pub served_coverage: f64,
}

/// The learned multipliers `exp(u_t)` per field and term, and what was done.
pub struct Fit {
    pub mult: [Vec<f32>; FIELD_COUNT],
    pub info: TermWeights,
}

/// One tune query of the loss.
struct Query<'a> {
    /// Query game (model index).
    a: usize,
    /// Pooled candidates (model indices).
    cand: &'a [u32],
    /// Year and prior part of each candidate's score (fixed by θ).
    offset: Vec<f32>,
    /// Positions of the truth in the pool.
    pos: Vec<usize>,
}

/// Flat indices of (field, term): field `f`'s terms start at `base[f]`.
struct Layout {
    base: [usize; FIELD_COUNT],
    total: usize,
}

thread_local! {
    /// w² of the query's terms at their flat index, zero elsewhere.
    static MARK: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Loss of one query, its scores, and (with `grad`) its gradient as (flat index, ∂L/∂u) pairs.
#[allow(clippy::too_many_arguments)]
fn query_loss(
    model: &Model,
    q: &Query,
    fields: &[usize],
    field_w: &[f32; FIELD_COUNT],
    lay: &Layout,
    w2: &[f32],
    free: &[bool],
    tau: f32,
    grad: bool,
) -> (f64, Vec<f32>, Vec<(u32, f32)>) {
    MARK.with_borrow_mut(|mark| {
        if mark.len() < lay.total {
            mark.resize(lay.total, 0.0);
        }
        let m = q.cand.len();
        let ga = &model.games[q.a];
        let nf = fields.len();
        let (mut cos, mut nc2, mut nq2) = (vec![0f32; nf * m], vec![0f32; nf * m], vec![0f32; nf]);
        let mut score = q.offset.clone();
        for (r, &fi) in fields.iter().enumerate() {
            let b0 = lay.base[fi];
            let mut s = 0f32;
            for &t in &ga.features[fi] {
                let i = b0 + t as usize;
                mark[i] = w2[i];
                s += w2[i];
            }
            nq2[r] = s;
            for (j, &c) in q.cand.iter().enumerate() {
                let (mut dot, mut n2) = (0f32, 0f32);
                for &t in &model.games[c as usize].features[fi] {
                    let i = b0 + t as usize;
                    dot += mark[i];
                    n2 += w2[i];
                }
                nc2[r * m + j] = n2;
                let d = (s * n2).sqrt();
                let x = if d > 0.0 { dot / d } else { 0.0 };
                cos[r * m + j] = x;
                score[j] += field_w[fi] * x;
            }
        }
        // Softmax over the pool; the target spreads evenly over the truth.
        let top = score.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f64> = score.iter().map(|&s| f64::from((s - top) / tau).exp()).collect();
        let z: f64 = e.iter().sum();
        let np = q.pos.len() as f64;
        let loss = z.ln() - q.pos.iter().map(|&j| f64::from((score[j] - top) / tau)).sum::<f64>() / np;
        let mut out = Vec::new();
        if grad {
            let mut g: Vec<f32> = e.iter().map(|&x| (x / z) as f32 / tau).collect();
            for &j in &q.pos {
                g[j] -= (1.0 / np) as f32 / tau;
            }
            for (r, &fi) in fields.iter().enumerate() {
                let (b0, wf, sq) = (lay.base[fi], field_w[fi], nq2[r]);
                if sq <= 0.0 {
                    continue;
                }
                let row = &cos[r * m..(r + 1) * m];
                let s_all: f32 = g.iter().zip(row).map(|(g, c)| g * wf * c).sum();
                for &t in &ga.features[fi] {
                    let i = b0 + t as usize;
                    if free[i] {
                        out.push((i as u32, -s_all * w2[i] / sq));
                    }
                }
                for (j, &c) in q.cand.iter().enumerate() {
                    let (x, n2) = (row[j], nc2[r * m + j]);
                    if x == 0.0 || n2 <= 0.0 {
                        continue; // nothing shared: no term of this candidate moves its cosine
                    }
                    let c1 = g[j] * wf * 2.0 / (sq * n2).sqrt();
                    let c2 = g[j] * wf * x / n2;
                    for &t in &model.games[c as usize].features[fi] {
                        let i = b0 + t as usize;
                        if free[i] {
                            let shared = if mark[i] > 0.0 { c1 } else { 0.0 };
                            out.push((i as u32, (shared - c2) * w2[i]));
                        }
                    }
                }
            }
        }
        for &fi in fields {
            for &t in &ga.features[fi] {
                mark[lay.base[fi] + t as usize] = 0.0;
            }
        }
        (loss, score, out)
    })
}

/// Learns the multipliers `exp(u_t)` of `idf` on the pools of `queries` ((pool, truth as model
/// indices)), `pooled[p]` being pool `p`'s query game, with the search's θ fixed.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    model: &Model,
    idf: &[Vec<f32>; FIELD_COUNT],
    pools: &Pools,
    pooled: &[usize],
    queries: &[(usize, Vec<u32>)],
    th: &Theta,
    priors: &Priors,
    seed: u64,
    threads: usize,
) -> Result<Fit> {
    let mut base = [0usize; FIELD_COUNT];
    let mut total = 0;
    for fi in 0..FIELD_COUNT {
        base[fi] = total;
        total += idf[fi].len();
    }
    let lay = Layout { base, total };
    let fields: Vec<usize> =
        pools.fields.iter().copied().filter(|&fi| th.field[fi] != 0.0 && !idf[fi].is_empty()).collect();
    let (prior, lut) = (prior_vec(priors, th), year_lut(th));
    let qs: Vec<Query> = queries
        .iter()
        .filter_map(|(p, truth)| {
            let (lo, hi) = (pools.offs[*p], pools.offs[*p + 1]);
            let cand = &pools.cand[lo..hi];
            let pos: Vec<usize> = (0..cand.len()).filter(|&j| truth.contains(&cand[j])).collect();
            if pos.is_empty() || pos.len() == cand.len() {
                return None;
            }
            let offset = cand
                .iter()
                .zip(&pools.dyear[lo..hi])
                .map(|(&b, &dy)| lut[dy as usize] + prior[b as usize])
                .collect();
            Some(Query { a: pooled[*p], cand, offset, pos })
        })
        .collect();
    // Free terms: shared by enough pooled pairs.
    let mut pairs = vec![0u32; total];
    let mut mark = vec![false; total];
    for q in &qs {
        for &fi in &fields {
            let ga = &model.games[q.a].features[fi];
            for &t in ga {
                mark[base[fi] + t as usize] = true;
            }
            for &c in q.cand {
                for &t in &model.games[c as usize].features[fi] {
                    let i = base[fi] + t as usize;
                    if mark[i] {
                        pairs[i] += 1;
                    }
                }
            }
            for &t in ga {
                mark[base[fi] + t as usize] = false;
            }
        }
    }
    let free: Vec<bool> = pairs.iter().map(|&n| n >= MIN_PAIRS).collect();
    let free_idx: Vec<usize> = (0..total).filter(|&i| free[i]).collect();
    let idf2: Vec<f32> = idf.iter().flat_map(|v| v.iter().map(|x| x * x)).collect();
    let mut w2 = idf2.clone();
    let mut u = vec![0f32; total];

    // The temperature: a share of the typical spread of a pool's scores at IDF.
    let spreads = par_map(qs.len(), threads, |i| {
        let (_, s, _) = query_loss(model, &qs[i], &fields, &th.field, &lay, &w2, &free, 1.0, false);
        let mean = s.iter().sum::<f32>() / s.len().max(1) as f32;
        (s.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / s.len().max(1) as f32).sqrt()
    })?;
    let spread = spreads.iter().sum::<f32>() / spreads.len().max(1) as f32;
    let tau = if spread > 0.0 { TEMPERATURE_SHARE * spread } else { 1.0 };

    let mut h = vec![0f32; total];
    let mut g = vec![0f32; total];
    let (mut first, mut last) = (f64::NAN, f64::NAN);
    for epoch in 0..EPOCHS {
        let mut order: Vec<(u64, usize)> = (0..qs.len())
            .map(|i| {
                (eval::split_hash(seed ^ ORDER_SEED ^ (epoch as u64).wrapping_mul(0x9E37_79B9), i as u32), i)
            })
            .collect();
        order.sort_unstable();
        let mut epoch_loss = 0.0;
        for batch in order.chunks(BATCH) {
            let per = par_map(batch.len(), threads, |i| {
                let (l, _, gr) =
                    query_loss(model, &qs[batch[i].1], &fields, &th.field, &lay, &w2, &free, tau, true);
                (l, gr)
            })?;
            for (l, gr) in per {
                epoch_loss += l;
                for (i, v) in gr {
                    g[i as usize] += v;
                }
            }
            let nb = batch.len() as f32;
            for &i in &free_idx {
                let gi = g[i] / nb + 2.0 * L2 * u[i];
                g[i] = 0.0;
                h[i] += gi * gi;
                if h[i] > 0.0 {
                    u[i] = (u[i] - LEARNING_RATE * gi / h[i].sqrt()).clamp(-MAX_U, MAX_U);
                    w2[i] = idf2[i] * (2.0 * u[i]).exp();
                }
            }
        }
        let mean = epoch_loss / qs.len().max(1) as f64;
        if epoch == 0 {
            first = mean;
        }
        last = mean;
        tracing::debug!("term weights: epoch {epoch}, mean loss {mean:.4} (τ {tau:.4})");
    }
    if tracing::enabled!(tracing::Level::DEBUG) {
        let mut moved: Vec<(f32, usize, usize)> = (0..FIELD_COUNT)
            .flat_map(|fi| (0..idf[fi].len()).map(move |t| (fi, t)))
            .map(|(fi, t)| (u[base[fi] + t], fi, t))
            .filter(|x| x.0 != 0.0)
            .collect();
        moved.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
        for (x, fi, t) in moved.into_iter().take(12) {
            let name = model.vocab[fi].get(t).map_or("", |v| v.name.as_str());
            tracing::debug!(
                "term weights: field {fi} term {t} {name:?} ×{:.2} ({} pairs)",
                x.exp(),
                pairs[base[fi] + t]
            );
        }
    }
    let mult: [Vec<f32>; FIELD_COUNT] =
        std::array::from_fn(|fi| u[base[fi]..base[fi] + idf[fi].len()].iter().map(|x| x.exp()).collect());
    Ok(Fit {
        mult,
        info: TermWeights {
            free_terms: free_idx.len(),
            moved_terms: free_idx.iter().filter(|&&i| u[i].abs() > 0.1f32.ln_1p()).count(),
            queries: qs.len(),
            temperature: tau,
            loss_first_epoch: first,
            loss_last_epoch: last,
            inner_recall: f64::NAN,
            served_coverage: f64::NAN,
        },
    })
}

/// `w · mult`, term by term.
pub fn scaled(w: &[Vec<f32>; FIELD_COUNT], mult: &[Vec<f32>; FIELD_COUNT]) -> [Vec<f32>; FIELD_COUNT] {
    std::array::from_fn(|fi| w[fi].iter().zip(&mult[fi]).map(|(a, b)| a * b).collect())
}
