//! The serving side: a decoded model, indexed for queries (`recommend`, `explain`, `search`, …).
//!
//! [`Engine::score`] is the readable oracle of the formula documented on [`Params`].
//! [`Engine::recommend`] computes the same numbers through an inverted index: for every seed
//! and field it walks the postings of the seed's terms and accumulates `weight · tw² / (‖a‖·‖b‖)`
//! into one dense array, then adds the year term (a per-query table indexed by year), the
//! candidate priors (precomputed at load) and the curated bonus, and keeps the top k with a
//! bounded heap. Only games that share a term with a seed are touched by the sparse part, and
//! the dense pass is a handful of flops per game. [`Engine::recommend_exact`] is the brute-force
//! form over [`Engine::score`]; a property test asserts both agree.

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::{FIELD_COUNT, Field, Game, Metadata, Model, Params};
use crate::search::SearchIndex;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::OnceLock;

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

/// A loaded, query-ready model.
#[derive(Debug)]
pub struct Engine {
    cat: Catalog,
    format_version: (u16, u16),
    /// The owned model, materialized on first use of [`Engine::model`]/[`Engine::games`].
    model: OnceLock<Model>,
    /// Per field, per term, the effective feature weight (learned or IDF).
    term_weight: [Vec<f32>; FIELD_COUNT],
    /// Per field, per game, the L2 norm of the weighted feature vector (empty: field unused).
    norm: [Vec<f32>; FIELD_COUNT],
    /// Per field, per game, 1/norm (0 where the norm is 0).
    inv_norm: [Vec<f32>; FIELD_COUNT],
    /// Per field, per term, the games holding it (ascending).
    postings: [crate::catalog::Csr; FIELD_COUNT],
    /// Per game, `popularity_weight · pop + rating_weight · quality`.
    prior: Vec<f32>,
    /// `ln(1 + max popularity)`.
    ln_max_pop: f32,
    /// Smallest known year (0 when none).
    year_lo: u16,
    /// Largest known year.
    year_hi: u16,
    search: SearchIndex,
}

/// A compiled query: seed indices with signed weights, excluded indices, compiled filters.
struct Prepared {
    seeds: Vec<(usize, f32)>,
    /// Sorted indices never returned (seeds and `filters.exclude`).
    excluded: Vec<usize>,
    platforms: Option<Vec<bool>>,
    genres: Option<Vec<bool>>,
}

impl Engine {
    /// Decodes a blob and indexes it.
    ///
    /// # Examples
    /// ```
    /// # use playalike_engine::{Engine, Model, Game, format};
    /// let mut model = Model::default();
    /// model.games.push(Game { id: 1, name: "Alpha".into(), slug: "alpha".into(), ..Game::default() });
    /// let blob = format::encode(&model)?;
    /// let engine = Engine::from_bytes(&blob)?;
    /// assert_eq!(engine.len(), 1);
    /// # Ok::<(), playalike_engine::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine> {
        let (header, cat) = crate::format::decode_catalog(bytes)?;
        Ok(Engine::index(cat, (header.major, header.minor), OnceLock::new()))
    }

    /// Indexes an owned model (used by training to evaluate parameters without encoding).
    pub fn from_model(mut model: Model) -> Result<Engine> {
        let cat = Catalog::from_model(&model)?;
        model.games.sort_by_key(|g| g.id);
        Ok(Engine::index(
            cat,
            (crate::format::FORMAT_MAJOR, crate::format::FORMAT_MINOR),
            OnceLock::from(model),
        ))
    }

    /// Indexes a catalog (already validated).
    fn index(cat: Catalog, format_version: (u16, u16), model: OnceLock<Model>) -> Engine {
        let n = cat.len();
        let nf = n.max(1) as f32;
        let mut postings: [crate::catalog::Csr; FIELD_COUNT] = Default::default();
        let mut term_weight: [Vec<f32>; FIELD_COUNT] = Default::default();
        let mut norm: [Vec<f32>; FIELD_COUNT] = Default::default();
        let mut inv_norm: [Vec<f32>; FIELD_COUNT] = Default::default();
        for fi in 0..FIELD_COUNT {
            let feats = &cat.features[fi];
            let vocab_len = cat.vocab[fi].len();
            // Postings by counting sort: games are visited in ascending order.
            let mut df = vec![0u32; vocab_len];
            for &t in &feats.vals {
                df[t as usize] += 1;
            }
            let learned = &cat.params.feature_weights[fi];
            term_weight[fi] = if learned.is_empty() {
                df.iter().map(|&d| (nf / (1.0 + d as f32)).ln().max(0.0) + 1.0).collect()
            } else {
                learned.clone()
            };
            if feats.vals.is_empty() {
                continue;
            }
            let mut offs = Vec::with_capacity(vocab_len + 1);
            offs.push(0u32);
            let mut total = 0u32;
            for &d in &df {
                total += d;
                offs.push(total);
            }
            let mut fill = offs.clone();
            let mut vals = vec![0u32; feats.vals.len()];
            let tw = &term_weight[fi];
            let mut nrm = Vec::with_capacity(n);
            for g in 0..n {
                let mut sq = 0.0f32;
                for &t in feats.get(g) {
                    let slot = &mut fill[t as usize];
                    vals[*slot as usize] = g as u32;
                    *slot += 1;
                    sq += tw[t as usize].powi(2);
                }
                nrm.push(sq.sqrt());
            }
            inv_norm[fi] = nrm.iter().map(|&x| if x > 0.0 { 1.0 / x } else { 0.0 }).collect();
            norm[fi] = nrm;
            postings[fi] = crate::catalog::Csr { offs, vals };
        }
        let max_pop = cat.popularity.iter().copied().fold(0.0f32, f32::max);
        let years = cat.year.iter().copied().filter(|&y| y != 0);
        let year_lo = years.clone().min().unwrap_or(0);
        let year_hi = years.max().unwrap_or(0);
        let search = SearchIndex::build(&cat);
        let mut e = Engine {
            cat,
            format_version,
            model,
            term_weight,
            norm,
            inv_norm,
            postings,
            prior: Vec::new(),
            ln_max_pop: max_pop.ln_1p(),
            year_lo,
            year_hi,
            search,
        };
        let p = &e.cat.params;
        e.prior = (0..n).map(|b| p.popularity_weight * e.pop(b) + p.rating_weight * e.quality(b)).collect();
        e
    }

    /// The underlying model. Materialized from the columns on first call when the engine was
    /// loaded from bytes (costs memory: the wasm layer never calls it).
    pub fn model(&self) -> &Model {
        self.model.get_or_init(|| self.cat.to_model())
    }

    /// The columnar catalog the engine serves from.
    pub fn catalog(&self) -> &Catalog {
        &self.cat
    }

    /// The scoring parameters.
    pub fn params(&self) -> &Params {
        &self.cat.params
    }

    /// The model's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.cat.metadata
    }

    /// Number of games.
    pub fn len(&self) -> usize {
        self.cat.len()
    }

    /// Whether the model holds no games.
    pub fn is_empty(&self) -> bool {
        self.cat.is_empty()
    }

    /// Internal index of a game id.
    pub fn index_of(&self, id: u32) -> Result<usize> {
        self.cat.index_of(id).ok_or(Error::UnknownGame(id))
    }

    /// IGDB id of internal index `i`.
    pub fn id_of(&self, i: usize) -> Option<u32> {
        self.cat.ids.get(i).copied()
    }

    /// Title of internal index `i` (empty when out of range).
    pub fn name_of(&self, i: usize) -> &str {
        self.cat.names.get(i)
    }

    /// Release year of internal index `i`.
    pub fn year_of(&self, i: usize) -> Option<u16> {
        self.cat.year_of(i)
    }

    /// A game by id (materializes the owned model; see [`Engine::model`]).
    pub fn game(&self, id: u32) -> Option<&Game> {
        let i = self.cat.index_of(id)?;
        self.model().games.get(i)
    }

    /// Games in internal (id) order (materializes the owned model; see [`Engine::model`]).
    pub fn games(&self) -> &[Game] {
        &self.model().games
    }

    /// A game for display, straight from the columns.
    pub fn game_view(&self, id: u32) -> Option<GameView> {
        let i = self.cat.index_of(id)?;
        let c = &self.cat;
        let names = |f: Field| -> Vec<String> {
            c.features[f.index()]
                .get(i)
                .iter()
                .filter_map(|&t| c.vocab[f.index()].get(t as usize))
                .map(|t| t.name.clone())
                .collect()
        };
        Some(GameView {
            id,
            name: c.names.get(i).to_string(),
            slug: c.slug(i),
            year: c.year_of(i),
            rating: c.rating_of(i),
            rating_count: c.rating_count.get(i).copied().unwrap_or(0),
            popularity: c.popularity.get(i).copied().unwrap_or(0.0),
            cover: c.cover(i).map(str::to_string),
            game_type: c.game_type_of(i),
            alt_names: c.alt_names(i).map(str::to_string).collect(),
            genres: names(Field::Genres),
            themes: names(Field::Themes),
            platforms: names(Field::Platforms),
            game_modes: names(Field::GameModes),
            player_perspectives: names(Field::PlayerPerspectives),
            keywords: names(Field::Keywords),
            franchises: names(Field::Franchises),
            collections: names(Field::Collections),
            companies: names(Field::Companies),
            engines: names(Field::Engines),
            similar: c.similar.get(i).to_vec(),
        })
    }

    /// Facts about the model.
    pub fn status(&self) -> Status {
        let m = &self.cat.metadata;
        Status {
            format_version: format!("{}.{}", self.format_version.0, self.format_version.1),
            model_version: m.model_version,
            created_at: m.created_at.clone(),
            games: self.len(),
            source: m.source.clone(),
            builder_version: m.builder_version.clone(),
            metrics: m.metrics.clone(),
        }
    }

    /// Popularity prior of game `b` in 0..=1.
    fn pop(&self, b: usize) -> f32 {
        let p = self.cat.popularity.get(b).copied().unwrap_or(0.0);
        if self.ln_max_pop > 0.0 { p.ln_1p() / self.ln_max_pop } else { 0.0 }
    }

    /// Quality prior of game `b` in 0..=1: rating, damped when few people rated.
    fn quality(&self, b: usize) -> f32 {
        match self.cat.rating_of(b) {
            Some(r) => {
                let count = self.cat.rating_count.get(b).copied().unwrap_or(0);
                (r / 100.0).clamp(0.0, 1.0) * (1.0 - (-(count as f32) / 10.0).exp())
            }
            None => 0.0,
        }
    }

    fn norm_of(&self, fi: usize, g: usize) -> f32 {
        self.norm[fi].get(g).copied().unwrap_or(0.0)
    }

    fn field_cos(&self, a: usize, b: usize, fi: usize) -> f32 {
        let (fa, fb) = (self.cat.features[fi].get(a), self.cat.features[fi].get(b));
        let denom = self.norm_of(fi, a) * self.norm_of(fi, b);
        if denom == 0.0 {
            return 0.0;
        }
        let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
        while i < fa.len() && j < fb.len() {
            match fa[i].cmp(&fb[j]) {
                Ordering::Less => i += 1,
                Ordering::Greater => j += 1,
                Ordering::Equal => {
                    dot += self.term_weight[fi][fa[i] as usize].powi(2);
                    i += 1;
                    j += 1;
                }
            }
        }
        dot / denom
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
            s += p.year_weight * (-(f32::from(ya.abs_diff(yb)) / p.year_scale)).exp();
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

    fn prepare(&self, q: &RecommendQuery) -> Result<Prepared> {
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
        let mut excluded: Vec<usize> = seeds.iter().map(|s| s.0).collect();
        excluded.extend(q.filters.exclude.iter().filter_map(|&id| self.cat.index_of(id)));
        excluded.sort_unstable();
        excluded.dedup();
        let allow = |want: &[u32], f: Field| {
            (!want.is_empty())
                .then(|| self.cat.vocab[f.index()].iter().map(|t| want.contains(&t.igdb_id)).collect())
        };
        Ok(Prepared {
            seeds,
            excluded,
            platforms: allow(&q.filters.platforms, Field::Platforms),
            genres: allow(&q.filters.genres, Field::Genres),
        })
    }

    fn passes(&self, b: usize, q: &Filters, p: &Prepared) -> bool {
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

    /// The query's score for every game, through the inverted index.
    fn dense_scores(&self, seeds: &[(usize, f32)]) -> Vec<f32> {
        let n = self.len();
        let p = &self.cat.params;
        let mut acc = vec![0.0f32; n];
        for &(a, w) in seeds {
            for fi in 0..FIELD_COUNT {
                let fw = p.field_weights[fi];
                let na = self.norm_of(fi, a);
                if fw == 0.0 || na == 0.0 {
                    continue;
                }
                let base = w * fw / na;
                let inv = &self.inv_norm[fi];
                let tw = &self.term_weight[fi];
                for &t in self.cat.features[fi].get(a) {
                    let c = base * tw[t as usize] * tw[t as usize];
                    if c == 0.0 {
                        continue;
                    }
                    for &b in self.postings[fi].get(t as usize) {
                        acc[b as usize] += c * inv[b as usize];
                    }
                }
            }
        }
        // Year proximity: one table entry per year of the catalogue's range.
        let span = usize::from(self.year_hi.saturating_sub(self.year_lo)) + 1;
        let mut ytab = vec![0.0f32; span];
        if p.year_weight != 0.0 && self.year_hi != 0 {
            for &(a, w) in seeds {
                if let Some(ya) = self.cat.year_of(a) {
                    for (k, slot) in ytab.iter_mut().enumerate() {
                        let y = self.year_lo + k as u16;
                        *slot += w * (p.year_weight * (-(f32::from(ya.abs_diff(y)) / p.year_scale)).exp());
                    }
                }
            }
        }
        let coef: f32 = seeds.iter().map(|s| s.1).sum();
        for ((s, &pr), &y) in acc.iter_mut().zip(&self.prior).zip(&self.cat.year) {
            *s += coef * pr;
            if y != 0 {
                *s += ytab[usize::from(y - self.year_lo)];
            }
        }
        if p.curated_weight != 0.0 {
            for &(a, w) in seeds {
                let mut sim: Vec<usize> =
                    self.cat.similar.get(a).iter().filter_map(|&id| self.cat.index_of(id)).collect();
                sim.sort_unstable();
                sim.dedup();
                for b in sim {
                    acc[b] += w * p.curated_weight;
                }
            }
        }
        acc
    }

    /// Top-k recommendations for the query, best first (ties: lower id first). Seeds never
    /// appear in the results. Exact: equal (within float rounding) to [`Engine::recommend_exact`].
    ///
    /// # Examples
    /// ```
    /// # use playalike_engine::{Engine, Field, Game, Model, RecommendQuery, Term};
    /// let mut m = Model::default();
    /// m.vocab[Field::Genres.index()] = vec![Term { igdb_id: 12, name: "RPG".into() }, Term { igdb_id: 5, name: "Shooter".into() }];
    /// for (id, g) in [(1, 0), (2, 0), (3, 1)] {
    ///     let mut game = Game { id, name: format!("Game {id}"), ..Game::default() };
    ///     game.features[Field::Genres.index()] = vec![g];
    ///     m.games.push(game);
    /// }
    /// let engine = Engine::from_model(m)?;
    /// let hits = engine.recommend(&RecommendQuery { liked: vec![(1, 1.0)], k: 1, ..Default::default() })?;
    /// assert_eq!(hits[0].id, 2);
    /// # Ok::<(), playalike_engine::Error>(())
    /// ```
    pub fn recommend(&self, q: &RecommendQuery) -> Result<Vec<Hit>> {
        let p = self.prepare(q)?;
        let scores = self.dense_scores(&p.seeds);
        Ok(self.select(&scores, q, &p))
    }

    /// The same as [`Engine::recommend`], by brute force over [`Engine::score`] (the oracle;
    /// slow: for tests and benchmarks).
    pub fn recommend_exact(&self, q: &RecommendQuery) -> Result<Vec<Hit>> {
        let p = self.prepare(q)?;
        let scores: Vec<f32> =
            (0..self.len()).map(|b| p.seeds.iter().map(|&(a, w)| w * self.score(a, b)).sum()).collect();
        Ok(self.select(&scores, q, &p))
    }

    /// Keeps the best `k` passing games (respecting `max_per_franchise`), best first.
    fn select(&self, scores: &[f32], q: &RecommendQuery, p: &Prepared) -> Vec<Hit> {
        let cap = q.max_per_franchise;
        let n = scores.len();
        let mut want = if cap == 0 { q.k } else { q.k.saturating_mul(4).saturating_add(32) };
        loop {
            let top = self.top(scores, want.min(n), q, p);
            let exhausted = top.len() < want.min(n) || want >= n;
            let picked = if cap == 0 { top } else { self.diversify(top, q.k, cap) };
            if picked.len() >= q.k || exhausted {
                return picked
                    .into_iter()
                    .take(q.k)
                    .filter_map(|(s, b)| Some(Hit { id: self.id_of(b)?, score: s }))
                    .collect();
            }
            want = n;
        }
    }

    /// The best `m` passing games as (score, index), best first, by a bounded heap.
    fn top(&self, scores: &[f32], m: usize, q: &RecommendQuery, p: &Prepared) -> Vec<(f32, usize)> {
        /// Heap entry ordered so that the *worst* candidate is the greatest (heap top).
        struct Worst(f32, usize);
        impl PartialEq for Worst {
            fn eq(&self, o: &Self) -> bool {
                self.cmp(o) == Ordering::Equal
            }
        }
        impl Eq for Worst {}
        impl PartialOrd for Worst {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Worst {
            fn cmp(&self, o: &Self) -> Ordering {
                o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
            }
        }
        if m == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(m + 1);
        for (b, &s) in scores.iter().enumerate() {
            // Ascending index order: a later equal score never beats the kept one.
            if heap.len() == m && heap.peek().is_some_and(|w| s <= w.0) {
                continue;
            }
            if !self.passes(b, &q.filters, p) {
                continue;
            }
            heap.push(Worst(s, b));
            if heap.len() > m {
                heap.pop();
            }
        }
        let mut v: Vec<(f32, usize)> = heap.into_iter().map(|w| (w.0, w.1)).collect();
        v.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        v
    }

    /// Greedy: keep candidates in order unless a franchise/collection already has `cap` results.
    fn diversify(&self, ranked: Vec<(f32, usize)>, k: usize, cap: usize) -> Vec<(f32, usize)> {
        let mut counts: std::collections::HashMap<(usize, u32), usize> = Default::default();
        let groups = [Field::Franchises.index(), Field::Collections.index()];
        let mut out = Vec::with_capacity(k);
        for (s, b) in ranked {
            let keys = || {
                groups.iter().flat_map(move |&fi| self.cat.features[fi].get(b).iter().map(move |&t| (fi, t)))
            };
            if keys().any(|key| counts.get(&key).is_some_and(|&c| c >= cap)) {
                continue;
            }
            for key in keys() {
                *counts.entry(key).or_insert(0) += 1;
            }
            out.push((s, b));
            if out.len() == k {
                break;
            }
        }
        out
    }

    /// The shared features that make `b` similar to `a`, strongest first, as display names.
    pub fn explain(&self, a: u32, b: u32) -> Result<Vec<Reason>> {
        let (ia, ib) = (self.index_of(a)?, self.index_of(b)?);
        let p = &self.cat.params;
        let mut out = Vec::new();
        for f in Field::ALL {
            let fi = f.index();
            let denom = self.norm_of(fi, ia) * self.norm_of(fi, ib);
            if denom == 0.0 || p.field_weights[fi] == 0.0 {
                continue;
            }
            let fb = self.cat.features[fi].get(ib);
            for t in self.cat.features[fi].get(ia) {
                if fb.binary_search(t).is_ok()
                    && let Some(term) = self.cat.vocab[fi].get(*t as usize)
                {
                    out.push(Reason {
                        field: f.name().to_string(),
                        name: term.name.clone(),
                        weight: p.field_weights[fi] * self.term_weight[fi][*t as usize].powi(2) / denom,
                    });
                }
            }
        }
        if p.curated_weight != 0.0 && self.cat.similar.get(ia).contains(&b) {
            out.push(Reason {
                field: "similar_games".into(),
                name: "IGDB lists it as similar".into(),
                weight: p.curated_weight,
            });
        }
        out.sort_by(|x, y| y.weight.total_cmp(&x.weight));
        Ok(out)
    }

    /// Title search as you type: case, diacritics and punctuation folded, every query word
    /// matching a title word exactly, as a prefix, or with one typo (words of 4+ letters), also
    /// through alternative names. Best first; ties by popularity. Empty or unknown text → empty.
    pub fn search(&self, text: &str, k: usize) -> Vec<SearchHit> {
        self.search
            .search(&self.cat, text, k)
            .into_iter()
            .filter_map(|(b, score)| Some(SearchHit { id: self.id_of(b)?, score }))
            .collect()
    }
}
