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
//!
//! Transcendental functions come from the `libm` crate, not the platform: native and wasm then
//! compute bit-identical scores (glibc's `expf` and Rust's wasm `expf` may differ in the last bit).
//!
//! Where things live (files under `engine/`):
//! - `query.rs`: the query and result types ([`RecommendQuery`], [`Filters`], [`Hit`],
//!   …) and how a query is compiled (seeds, exclusions, filters);
//! - `index.rs`: what [`Engine::from_bytes`] builds at load (term weights, postings or profiles per
//!   field, priors, the blocks of the profile walk);
//! - `score.rs`: the formula, readable ([`Engine::score`], the oracle);
//! - `plan.rs`: one query's scores, compiled (postings walked, profile scores, year table);
//! - `topk.rs`: the top-k selection, by a bounded heap or the pruned block walk;
//! - `recommend.rs`: the entry points [`Engine::recommend`], [`Engine::popular`], …;
//! - `explain.rs`: [`Engine::explain`];
//! - title search ([`Engine::search`]) lives in `search.rs` beside this file ([`crate::search`]).

mod explain;
mod index;
mod plan;
mod query;
mod recommend;
mod score;
mod topk;

pub use query::{Filters, GameView, Hit, Reason, RecommendQuery, ResultRow, SearchHit, Status};
pub use score::{idf_weight, log_popularity, quality_prior};

use crate::catalog::{Catalog, Csr};
use crate::error::{Error, Result};
use crate::model::{FIELD_COUNT, Field, Game, Metadata, Model, Params};
use crate::search::SearchIndex;
use index::FieldIndex;
use std::sync::OnceLock;
pub(crate) use topk::best_first_order;

/// A loaded, query-ready model.
#[derive(Debug)]
pub struct Engine {
    pub(crate) cat: Catalog,
    format_version: (u16, u16),
    /// The owned model, materialized on first use of [`Engine::model`]/[`Engine::games`].
    model: OnceLock<Model>,
    /// Per field, per term, the effective feature weight (learned or IDF).
    term_weight: [Vec<f32>; FIELD_COUNT],
    /// Per field, how candidates are reached (see [`FieldIndex`]).
    fields: [FieldIndex; FIELD_COUNT],
    /// Per game, its profile: the distinct combination of its terms in the fields scored by
    /// [`FieldIndex::Sets`] (empty when none is).
    profile_of: Vec<u32>,
    /// Number of profiles.
    profiles: usize,
    /// Blocks of at most [`BLOCK`] games of one profile, by descending prior: per block its
    /// games, its profile, and the largest and smallest prior among them — the bounds that let
    /// a query skip whole blocks (see [`Engine::top_by_profile`]). `prior_hi`/`prior_lo` are a
    /// block's first and last `block_prior`, kept apart so the bounds pass over ~45k blocks
    /// reads them contiguously.
    blocks: Csr,
    block_profile: Vec<u32>,
    prior_hi: Vec<f32>,
    prior_lo: Vec<f32>,
    /// Each game's prior and year in block order (parallel to `blocks.vals`): a walk reads them
    /// sequentially instead of at random game indices (cache misses were most of its time).
    block_prior: Vec<f32>,
    block_year: Vec<u16>,
    /// Per block, the range of its known years (`(0, 0)` when none) and whether some are unknown.
    block_years: Vec<(u16, u16, bool)>,
    /// Per block, its smallest game index.
    block_first: Vec<u32>,
    /// Per game, `popularity_weight · pop + rating_weight · quality`.
    prior: Vec<f32>,
    /// `ln(1 + max popularity)`.
    ln_max_pop: f32,
    /// Smallest known year (0 when none).
    year_lo: u16,
    /// Largest known year.
    year_hi: u16,
    /// The title index, built on first use (see [`Engine::prepare_search`]): ~60 % of the load
    /// at 333k games when it was built there, and not needed to recommend.
    pub(crate) search: OnceLock<SearchIndex>,
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

    /// Starts decoding a blob that arrives in pieces (see [`EngineStream`]).
    pub fn stream() -> EngineStream {
        EngineStream::default()
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
}

/// A model blob decoded as it downloads: [`EngineStream::push`] each piece as it arrives, then
/// [`EngineStream::finish`] once all are in. When the sections scoring reads are in (format 1.1
/// writes the titles last), `push` decodes and indexes the games, so that most of the load is
/// done while the titles still download; `finish` checks the whole blob (length and checksum)
/// and reads the titles. The outcome is [`Engine::from_bytes`]'s on the concatenated pieces, the
/// same engine or the same error, however they are cut (see [`crate::format::Stream`]).
#[derive(Default)]
pub struct EngineStream {
    stream: crate::format::Stream,
    early: Option<Engine>,
}

impl EngineStream {
    /// Appends the next piece of the blob (indexing the games once their sections are in).
    pub fn push(&mut self, piece: &[u8]) {
        if let Some((header, cat)) = self.stream.push(piece) {
            self.early = Some(Engine::index(cat, (header.major, header.minor), OnceLock::new()));
        }
    }

    /// The engine, once every piece is in; errors as [`Engine::from_bytes`] on the whole blob.
    pub fn finish(mut self) -> Result<Engine> {
        match self.early.take() {
            Some(mut engine) => {
                self.stream.finish_names(&mut engine.cat)?;
                Ok(engine)
            }
            None => Engine::from_bytes(self.stream.bytes()),
        }
    }
}
