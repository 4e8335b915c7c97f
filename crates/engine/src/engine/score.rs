//! The formula, readable: [`Engine::score`] is the oracle every faster path must agree with
//! (see [`crate::model::Params`]), and the priors and norms the other paths share.

use super::Engine;
use crate::model::FIELD_COUNT;
use std::cmp::Ordering;

/// The default weight of a term that `df` of a catalogue's `n` games carry (smoothed IDF,
/// `max(0, ln(n / (1 + df))) + 1`): what the engine uses when a model has no learned feature
/// weights. Exported so that training computes exactly the same figure.
pub fn idf_weight(n: usize, df: u32) -> f32 {
    libm::logf(n.max(1) as f32 / (1.0 + df as f32)).max(0.0) + 1.0
}

/// `ln(1 + popularity)`: a game's popularity prior is this over the catalogue's largest.
pub fn log_popularity(popularity: f32) -> f32 {
    libm::log1pf(popularity)
}

/// The quality prior in 0..=1 of a game rated `rating` (0–100) by `count` people: the rating,
/// damped when few people rated it (`None`: 0).
pub fn quality_prior(rating: Option<f32>, count: u32) -> f32 {
    match rating {
        Some(r) => (r / 100.0).clamp(0.0, 1.0) * (1.0 - libm::expf(-(count as f32) / 10.0)),
        None => 0.0,
    }
}

/// L2 norm of a feature set under term weights `tw`.
pub(super) fn norm(terms: &[u32], tw: &[f32]) -> f32 {
    let sq: f32 = terms.iter().map(|&t| tw.get(t as usize).copied().unwrap_or(0.0).powi(2)).sum();
    sq.sqrt()
}

/// `Σ tw[t]²` over the terms two sorted sets share.
fn shared_weight(a: &[u32], b: &[u32], tw: &[f32]) -> f32 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                dot += tw.get(a[i] as usize).copied().unwrap_or(0.0).powi(2);
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

impl Engine {
    /// Popularity prior of game `b` in 0..=1.
    pub(super) fn pop(&self, b: usize) -> f32 {
        let p = self.cat.popularity.get(b).copied().unwrap_or(0.0);
        if self.ln_max_pop > 0.0 { log_popularity(p) / self.ln_max_pop } else { 0.0 }
    }

    /// Quality prior of game `b` in 0..=1: rating, damped when few people rated.
    pub(super) fn quality(&self, b: usize) -> f32 {
        quality_prior(self.cat.rating_of(b), self.cat.rating_count.get(b).copied().unwrap_or(0))
    }

    /// L2 norm of game `g`'s weighted feature vector in field `fi`.
    pub(super) fn norm_of(&self, fi: usize, g: usize) -> f32 {
        norm(self.cat.features[fi].get(g), &self.term_weight[fi])
    }

    fn field_cos(&self, a: usize, b: usize, fi: usize) -> f32 {
        let (fa, fb) = (self.cat.features[fi].get(a), self.cat.features[fi].get(b));
        let denom = self.norm_of(fi, a) * self.norm_of(fi, b);
        if denom == 0.0 {
            return 0.0;
        }
        shared_weight(fa, fb, &self.term_weight[fi]) / denom
    }

    /// Similarity of candidate `b` to query `a` (internal indices), per the formula on
    /// [`Params`]. The readable oracle: [`Engine::recommend`] must agree with it.
    pub fn score(&self, a: usize, b: usize) -> f32 {
        let p = &self.cat.params;
        let mut s = 0.0;
        for fi in 0..FIELD_COUNT {
            if p.field_weights[fi] != 0.0 {
                s += p.field_weights[fi] * self.field_cos(a, b, fi);
            }
        }
        if let (Some(ya), Some(yb)) = (self.cat.year_of(a), self.cat.year_of(b)) {
            s += p.year_weight * libm::expf(-(f32::from(ya.abs_diff(yb)) / p.year_scale));
        }
        s += p.popularity_weight * self.pop(b) + p.rating_weight * self.quality(b);
        if p.curated_weight != 0.0
            && let Some(idb) = self.cat.ids.get(b)
            && self.cat.similar.get(a).contains(idb)
        {
            s += p.curated_weight;
        }
        s
    }
}
