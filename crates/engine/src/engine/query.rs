//! The query types a caller builds and reads back ([`RecommendQuery`], [`Filters`], [`Hit`],
//! [`Reason`], [`GameView`], [`Status`], [`SearchHit`]), and how a query is compiled for the
//! engine ([`Prepared`]: seed indices, exclusions, filters as lookup tables).

use super::Engine;
use crate::error::{Error, Result};
use crate::model::Field;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Seed games the user likes, with weights (1.0 when unsure). Weights must be finite.
    pub liked: Vec<(u32, f32)>,
    /// Seed games the user dislikes; similar games are pushed down (each counts with weight −1).
    pub disliked: Vec<u32>,
    /// How many results. Range 1..=1000.
    pub k: usize,
    /// Candidate filters.
    pub filters: Filters,
    /// At most this many results sharing a franchise or collection (0 = no limit).
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

/// One result row as the npm package (`Hit` in `pkg/index.d.ts`) and the `query` tool return
/// it: a [`Hit`] or [`SearchHit`] with the game's title and year (see [`Engine::rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ResultRow<'a> {
    /// IGDB game id.
    pub id: u32,
    /// Title.
    pub name: &'a str,
    /// Year of first release.
    pub year: Option<u16>,
    /// Score, as in the hit.
    pub score: f32,
}

/// One reason why two games are similar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Field name (`genres`, `keywords`, …, or `similar_games`).
    pub field: String,
    /// Display name of the shared feature.
    pub name: String,
    /// Contribution to the score.
    pub weight: f32,
}

/// A game as shown to people: display names instead of vocabulary indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GameView {
    /// IGDB id.
    pub id: u32,
    /// Title.
    pub name: String,
    /// IGDB slug.
    pub slug: String,
    /// Year of first release.
    pub year: Option<u16>,
    /// Rating 0–100.
    pub rating: Option<f32>,
    /// Number of ratings.
    pub rating_count: u32,
    /// Popularity score.
    pub popularity: f32,
    /// IGDB cover image id.
    pub cover: Option<String>,
    /// IGDB game type (0 = main game).
    pub game_type: Option<u8>,
    /// Alternative titles.
    pub alt_names: Vec<String>,
    /// Genre names.
    pub genres: Vec<String>,
    /// Theme names.
    pub themes: Vec<String>,
    /// Platform names.
    pub platforms: Vec<String>,
    /// Game mode names.
    pub game_modes: Vec<String>,
    /// Player perspective names.
    pub player_perspectives: Vec<String>,
    /// Keyword names.
    pub keywords: Vec<String>,
    /// Franchise names.
    pub franchises: Vec<String>,
    /// Collection (series) names.
    pub collections: Vec<String>,
    /// Company names.
    pub companies: Vec<String>,
    /// Game engine names.
    pub engines: Vec<String>,
    /// IGDB's curated similar games (ids in the model).
    pub similar: Vec<u32>,
}

/// Facts about the loaded model, for status pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Blob format version, `major.minor`.
    pub format_version: String,
    /// Model version (`vN` in the bucket; 0 before publishing).
    pub model_version: u32,
    /// When the model was trained (RFC 3339).
    pub created_at: String,
    /// Number of games.
    pub games: usize,
    /// Where the data came from.
    pub source: String,
    /// Builder version that wrote the model.
    pub builder_version: String,
    /// Training metrics.
    pub metrics: BTreeMap<String, f64>,
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// IGDB game id.
    pub id: u32,
    /// Match quality in 0..=1 (1 = every word matched exactly, title starts with the query).
    pub score: f32,
}

/// A compiled query: seed indices with signed weights, excluded indices, compiled filters.
pub(super) struct Prepared {
    pub(super) seeds: Vec<(usize, f32)>,
    /// Sorted indices never returned (seeds and `filters.exclude`).
    pub(super) excluded: Vec<usize>,
    platforms: Option<Vec<bool>>,
    genres: Option<Vec<bool>>,
}

impl Engine {
    pub(super) fn prepare(&self, q: &RecommendQuery) -> Result<Prepared> {
        if q.liked.is_empty() {
            return Err(Error::InvalidQuery("at least one liked game is needed".into()));
        }
        if q.k == 0 || q.k > 1000 {
            return Err(Error::InvalidQuery(format!("k must be 1..=1000, got {}", q.k)));
        }
        let mut seeds = Vec::with_capacity(q.liked.len() + q.disliked.len());
        for &(id, w) in &q.liked {
            if !w.is_finite() {
                return Err(Error::InvalidQuery(format!("weight of game {id} is not a finite number")));
            }
            seeds.push((self.index_of(id)?, w));
        }
        for &id in &q.disliked {
            seeds.push((self.index_of(id)?, -1.0));
        }
        Ok(self.prepared(seeds, &q.filters))
    }

    /// Compiles `filters` for [`Engine::passes`]; the seeds are excluded as well.
    pub(super) fn prepared(&self, seeds: Vec<(usize, f32)>, filters: &Filters) -> Prepared {
        let mut excluded: Vec<usize> = seeds.iter().map(|s| s.0).collect();
        excluded.extend(filters.exclude.iter().filter_map(|&id| self.cat.index_of(id)));
        excluded.sort_unstable();
        excluded.dedup();
        let allow = |want: &[u32], f: Field| {
            (!want.is_empty())
                .then(|| self.cat.vocab[f.index()].iter().map(|t| want.contains(&t.igdb_id)).collect())
        };
        Prepared {
            seeds,
            excluded,
            platforms: allow(&filters.platforms, Field::Platforms),
            genres: allow(&filters.genres, Field::Genres),
        }
    }

    pub(super) fn passes(&self, b: usize, q: &Filters, p: &Prepared) -> bool {
        let c = &self.cat;
        let any = |allowed: &Option<Vec<bool>>, f: Field| match allowed {
            None => true,
            Some(ok) => c.features[f.index()].get(b).iter().any(|&t| ok.get(t as usize) == Some(&true)),
        };
        let year = c.year_of(b);
        let rating = c.rating_of(b);
        p.excluded.binary_search(&b).is_err()
            && any(&p.platforms, Field::Platforms)
            && any(&p.genres, Field::Genres)
            && q.year_min.is_none_or(|y| year.is_some_and(|gy| gy >= y))
            && q.year_max.is_none_or(|y| year.is_some_and(|gy| gy <= y))
            && q.min_rating.is_none_or(|r| rating.is_some_and(|gr| gr >= r))
            && q.min_rating_count.is_none_or(|m| c.rating_count.get(b).is_some_and(|&rc| rc >= m))
            && (q.game_types.is_empty() || c.game_type_of(b).is_some_and(|t| q.game_types.contains(&t)))
    }

    /// Result rows (id, title, year, score) for scored ids, in the given order; ids the model
    /// does not hold are left out.
    pub fn rows(&self, hits: impl IntoIterator<Item = (u32, f32)>) -> Vec<ResultRow<'_>> {
        hits.into_iter()
            .filter_map(|(id, score)| {
                let i = self.index_of(id).ok()?;
                Some(ResultRow { id, name: self.name_of(i), year: self.year_of(i), score })
            })
            .collect()
    }
}
