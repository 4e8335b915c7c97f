//! The serving side: a decoded model, indexed for queries (`recommend`, `explain`, `search`, …).
//!
//! First version: exact brute-force scoring over the catalogue. The scoring formula is
//! documented on [`Params`]; [`Engine::score`] is the one place that computes it.

use crate::error::{Error, Result};
use crate::model::{FIELD_COUNT, Field, Game, Model, Params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Filters applied to recommendation candidates. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Filters {
    /// Keep games on at least one of these IGDB platform ids.
    pub platforms: Vec<u32>,
    /// Keep games with at least one of these IGDB genre ids.
    pub genres: Vec<u32>,
    /// Keep games released in or after this year.
    pub year_min: Option<u16>,
    /// Keep games released in or before this year.
    pub year_max: Option<u16>,
    /// Keep games rated at least this (0–100).
    pub min_rating: Option<f32>,
    /// Keep games with at least this many ratings.
    pub min_rating_count: Option<u32>,
    /// Keep games of these IGDB game types (0 = main game).
    pub game_types: Vec<u8>,
    /// Never return these ids.
    pub exclude: Vec<u32>,
}

/// A recommendation query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecommendQuery {
    /// Seed games the user likes, with weights (1.0 when unsure).
    pub liked: Vec<(u32, f32)>,
    /// Seed games the user dislikes; similar games are pushed down.
    pub disliked: Vec<u32>,
    /// How many results. Range 1..=1000.
    pub k: usize,
    /// Candidate filters.
    pub filters: Filters,
    /// At most this many results per franchise/collection (0 = no limit).
    pub max_per_franchise: usize,
}

impl Default for RecommendQuery {
    fn default() -> Self {
        RecommendQuery {
            liked: Vec::new(),
            disliked: Vec::new(),
            k: 10,
            filters: Filters::default(),
            max_per_franchise: 0,
        }
    }
}

/// One scored result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// IGDB game id.
    pub id: u32,
    /// Score (higher is better; comparable within one query only).
    pub score: f32,
}

/// One reason why two games are similar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Field name (`genres`, `keywords`, …, or `year`).
    pub field: String,
    /// Display name of the shared feature.
    pub name: String,
    /// Contribution to the score.
    pub weight: f32,
}

/// A loaded, query-ready model.
#[derive(Debug, Clone)]
pub struct Engine {
    model: Model,
    by_id: HashMap<u32, usize>,
    /// Per field, per term, the effective feature weight (learned or IDF).
    term_weight: [Vec<f32>; FIELD_COUNT],
    /// Per game, per field, the L2 norm of its weighted feature vector.
    norms: Vec<[f32; FIELD_COUNT]>,
    /// Per game, popularity prior in 0..=1.
    pop: Vec<f32>,
    /// Per game, quality prior in 0..=1.
    quality: Vec<f32>,
}

impl Engine {
    /// Decodes a blob and indexes it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine> {
        Engine::from_model(crate::format::decode(bytes)?)
    }

    /// Indexes an owned model (used by training to evaluate parameters without encoding).
    pub fn from_model(mut model: Model) -> Result<Engine> {
        crate::validate::validate(&model)?;
        model.games.sort_by_key(|g| g.id);
        let by_id = model.games.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
        let n = model.games.len().max(1) as f32;
        let term_weight: [Vec<f32>; FIELD_COUNT] = std::array::from_fn(|fi| {
            let learned = &model.params.feature_weights[fi];
            if !learned.is_empty() {
                return learned.clone();
            }
            let mut df = vec![0u32; model.vocab[fi].len()];
            for g in &model.games {
                for &t in &g.features[fi] {
                    df[t as usize] += 1;
                }
            }
            df.iter().map(|&d| (n / (1.0 + d as f32)).ln().max(0.0) + 1.0).collect()
        });
        let norms = model
            .games
            .iter()
            .map(|g| {
                std::array::from_fn(|fi| {
                    g.features[fi].iter().map(|&t| term_weight[fi][t as usize].powi(2)).sum::<f32>().sqrt()
                })
            })
            .collect();
        let max_pop = model.games.iter().map(|g| g.popularity).fold(0.0f32, f32::max);
        let pop = model
            .games
            .iter()
            .map(|g| if max_pop > 0.0 { g.popularity.ln_1p() / max_pop.ln_1p() } else { 0.0 })
            .collect();
        let quality = model
            .games
            .iter()
            .map(|g| match g.rating {
                Some(r) => (r / 100.0).clamp(0.0, 1.0) * (1.0 - (-(g.rating_count as f32) / 10.0).exp()),
                None => 0.0,
            })
            .collect();
        Ok(Engine { model, by_id, term_weight, norms, pop, quality })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The scoring parameters.
    pub fn params(&self) -> &Params {
        &self.model.params
    }

    /// Number of games.
    pub fn len(&self) -> usize {
        self.model.games.len()
    }

    /// Whether the model holds no games.
    pub fn is_empty(&self) -> bool {
        self.model.games.is_empty()
    }

    /// Internal index of a game id.
    pub fn index_of(&self, id: u32) -> Result<usize> {
        self.by_id.get(&id).copied().ok_or(Error::UnknownGame(id))
    }

    /// A game by id.
    pub fn game(&self, id: u32) -> Option<&Game> {
        self.by_id.get(&id).map(|&i| &self.model.games[i])
    }

    /// Games in internal (id) order.
    pub fn games(&self) -> &[Game] {
        &self.model.games
    }

    fn field_cos(&self, a: usize, b: usize, fi: usize) -> f32 {
        let (fa, fb) = (&self.model.games[a].features[fi], &self.model.games[b].features[fi]);
        let denom = self.norms[a][fi] * self.norms[b][fi];
        if denom == 0.0 {
            return 0.0;
        }
        let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
        while i < fa.len() && j < fb.len() {
            match fa[i].cmp(&fb[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += self.term_weight[fi][fa[i] as usize].powi(2);
                    i += 1;
                    j += 1;
                }
            }
        }
        dot / denom
    }

    /// Similarity of candidate `b` to query `a` (internal indices), per the formula on [`Params`].
    pub fn score(&self, a: usize, b: usize) -> f32 {
        let p = &self.model.params;
        let mut s = 0.0;
        for fi in 0..FIELD_COUNT {
            if p.field_weights[fi] != 0.0 {
                s += p.field_weights[fi] * self.field_cos(a, b, fi);
            }
        }
        let (ga, gb) = (&self.model.games[a], &self.model.games[b]);
        if let (Some(ya), Some(yb)) = (ga.year, gb.year) {
            s += p.year_weight * (-(f32::from(ya.abs_diff(yb)) / p.year_scale)).exp();
        }
        s += p.popularity_weight * self.pop[b] + p.rating_weight * self.quality[b];
        if p.curated_weight != 0.0 && ga.similar.contains(&gb.id) {
            s += p.curated_weight;
        }
        s
    }

    fn passes(&self, g: &Game, f: &Filters) -> bool {
        let any = |want: &[u32], field: Field| {
            want.is_empty()
                || g.features[field.index()]
                    .iter()
                    .any(|&t| want.contains(&self.model.vocab[field.index()][t as usize].igdb_id))
        };
        any(&f.platforms, Field::Platforms)
            && any(&f.genres, Field::Genres)
            && f.year_min.is_none_or(|y| g.year.is_some_and(|gy| gy >= y))
            && f.year_max.is_none_or(|y| g.year.is_some_and(|gy| gy <= y))
            && f.min_rating.is_none_or(|r| g.rating.is_some_and(|gr| gr >= r))
            && f.min_rating_count.is_none_or(|c| g.rating_count >= c)
            && (f.game_types.is_empty() || g.game_type.is_some_and(|t| f.game_types.contains(&t)))
            && !f.exclude.contains(&g.id)
    }

    /// Top-k recommendations for the query, best first. Seeds never appear in the results.
    pub fn recommend(&self, q: &RecommendQuery) -> Result<Vec<Hit>> {
        if q.liked.is_empty() {
            return Err(Error::InvalidQuery("at least one liked game is needed".into()));
        }
        if q.k == 0 || q.k > 1000 {
            return Err(Error::InvalidQuery(format!("k must be 1..=1000, got {}", q.k)));
        }
        let liked: Vec<(usize, f32)> =
            q.liked.iter().map(|&(id, w)| Ok((self.index_of(id)?, w))).collect::<Result<_>>()?;
        let disliked: Vec<usize> = q.disliked.iter().map(|&id| self.index_of(id)).collect::<Result<_>>()?;
        let mut hits: Vec<Hit> = Vec::new();
        for (b, g) in self.model.games.iter().enumerate() {
            if liked.iter().any(|&(a, _)| a == b) || disliked.contains(&b) || !self.passes(g, &q.filters) {
                continue;
            }
            let mut s: f32 = liked.iter().map(|&(a, w)| w * self.score(a, b)).sum();
            s -= disliked.iter().map(|&a| self.score(a, b)).sum::<f32>();
            hits.push(Hit { id: g.id, score: s });
        }
        hits.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.id.cmp(&y.id)));
        hits.truncate(q.k);
        Ok(hits)
    }

    /// The shared features that make `b` similar to `a`, strongest first, as display names.
    pub fn explain(&self, a: u32, b: u32) -> Result<Vec<Reason>> {
        let (ia, ib) = (self.index_of(a)?, self.index_of(b)?);
        let p = &self.model.params;
        let mut out = Vec::new();
        for f in Field::ALL {
            let fi = f.index();
            let denom = self.norms[ia][fi] * self.norms[ib][fi];
            if denom == 0.0 || p.field_weights[fi] == 0.0 {
                continue;
            }
            for t in &self.model.games[ia].features[fi] {
                if self.model.games[ib].features[fi].binary_search(t).is_ok() {
                    let term = &self.model.vocab[fi][*t as usize];
                    out.push(Reason {
                        field: f.name().to_string(),
                        name: term.name.clone(),
                        weight: p.field_weights[fi] * self.term_weight[fi][*t as usize].powi(2) / denom,
                    });
                }
            }
        }
        out.sort_by(|x, y| y.weight.total_cmp(&x.weight));
        Ok(out)
    }
}
