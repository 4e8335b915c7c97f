//! The model as plain owned data: what the builder fills in and the encoder writes.
//!
//! This is the contract between training (crates/builder) and serving (this crate): the trainer
//! builds a [`Model`], [`crate::format::encode`] writes it, and [`crate::Engine`] serves it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The sparse categorical fields a game is described by, in blob order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum Field {
    /// IGDB `genres`.
    Genres = 0,
    /// IGDB `themes`.
    Themes = 1,
    /// IGDB `platforms`.
    Platforms = 2,
    /// IGDB `game_modes`.
    GameModes = 3,
    /// IGDB `player_perspectives`.
    PlayerPerspectives = 4,
    /// IGDB `keywords`.
    Keywords = 5,
    /// IGDB `franchises` (and the deprecated `franchise`).
    Franchises = 6,
    /// IGDB `collections` (and the deprecated `collection`).
    Collections = 7,
    /// Developers and publishers (IGDB `involved_companies` resolved to companies).
    Companies = 8,
    /// IGDB `game_engines`.
    Engines = 9,
}

/// Number of [`Field`]s.
pub const FIELD_COUNT: usize = 10;

impl Field {
    /// All fields, in blob order.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::Genres,
        Field::Themes,
        Field::Platforms,
        Field::GameModes,
        Field::PlayerPerspectives,
        Field::Keywords,
        Field::Franchises,
        Field::Collections,
        Field::Companies,
        Field::Engines,
    ];

    /// Position of the field in per-field arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The IGDB name of the field (also its lookup table's name in a snapshot).
    pub fn name(self) -> &'static str {
        match self {
            Field::Genres => "genres",
            Field::Themes => "themes",
            Field::Platforms => "platforms",
            Field::GameModes => "game_modes",
            Field::PlayerPerspectives => "player_perspectives",
            Field::Keywords => "keywords",
            Field::Franchises => "franchises",
            Field::Collections => "collections",
            Field::Companies => "companies",
            Field::Engines => "game_engines",
        }
    }

    /// Parses an IGDB field name (as [`Field::name`] returns it).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One vocabulary entry: an IGDB id of a genre, platform, keyword, … and its display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The IGDB id (e.g. genre 12 = "Role-playing (RPG)").
    pub igdb_id: u32,
    /// Display name, used by `explain` and game cards. Empty when the lookup table lacked it.
    pub name: String,
}

/// One game of the catalogue.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Game {
    /// IGDB game id.
    pub id: u32,
    /// Title.
    pub name: String,
    /// IGDB slug (URL name).
    pub slug: String,
    /// Alternative titles (translations, abbreviations) for search.
    pub alt_names: Vec<String>,
    /// Year of first release.
    pub year: Option<u16>,
    /// IGDB rating 0–100 (total_rating, else aggregated_rating, else rating).
    pub rating: Option<f32>,
    /// Number of ratings behind `rating`.
    pub rating_count: u32,
    /// Popularity, a non-negative score (higher = more popular); the builder decides its source.
    pub popularity: f32,
    /// IGDB cover image id (`https://images.igdb.com/igdb/image/upload/t_cover_big/{cover}.jpg`).
    pub cover: Option<String>,
    /// IGDB `game_type` (0 main game, 1 DLC, 2 expansion, …; older dumps' `category`).
    pub game_type: Option<u8>,
    /// Per field ([`Field::index`]), indices into that field's vocabulary, sorted ascending, unique.
    pub features: [Vec<u32>; FIELD_COUNT],
    /// IGDB's own curated `similar_games`, as game ids present in the model (may be empty).
    pub similar: Vec<u32>,
}

/// Scoring parameters: what training learns. `Default` gives a model that already recommends well.
///
/// The similarity of candidate `b` to query `a` is
/// `Σ_field field_weights[f] · cos_f(a, b) + year_weight · exp(-|Δyear| / year_scale)
///  + popularity_weight · pop(b) + rating_weight · quality(b) + curated_weight · [b ∈ a.similar]`
/// where `cos_f` is the cosine between the two games' feature sets in field `f`, each feature
/// weighted by `feature_weights[f][term]` (IDF when not learned), and `pop`/`quality` are in 0..=1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Weight of each field's cosine, by [`Field::index`]. Range 0..=10.
    pub field_weights: [f32; FIELD_COUNT],
    /// Per field, per vocabulary term, the feature weight. Empty inner vector = use IDF.
    pub feature_weights: [Vec<f32>; FIELD_COUNT],
    /// Weight of release-year proximity. Range 0..=10.
    pub year_weight: f32,
    /// Years over which proximity decays by 1/e. Range 0.5..=50.
    pub year_scale: f32,
    /// Weight of the candidate's popularity prior. Range 0..=10.
    pub popularity_weight: f32,
    /// Weight of the candidate's rating (quality) prior. Range 0..=10.
    pub rating_weight: f32,
    /// Bonus for candidates in the query game's curated IGDB `similar_games`. Range 0..=10.
    pub curated_weight: f32,
}

impl Default for Params {
    fn default() -> Self {
        let mut field_weights = [0.0; FIELD_COUNT];
        for f in Field::ALL {
            field_weights[f.index()] = match f {
                Field::Genres => 1.0,
                Field::Themes => 1.0,
                Field::Platforms => 0.5,
                Field::GameModes => 0.3,
                Field::PlayerPerspectives => 0.3,
                Field::Keywords => 1.5,
                Field::Franchises => 2.0,
                Field::Collections => 2.0,
                Field::Companies => 1.0,
                Field::Engines => 0.3,
            };
        }
        Params {
            field_weights,
            feature_weights: Default::default(),
            year_weight: 0.5,
            year_scale: 5.0,
            popularity_weight: 0.3,
            rating_weight: 0.1,
            curated_weight: 1.0,
        }
    }
}

/// Facts about the model shown by `status()`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metadata {
    /// Model version (`vN` in the bucket); 0 before publishing assigns one.
    pub model_version: u32,
    /// When the model was trained, RFC 3339 UTC.
    pub created_at: String,
    /// Where the data came from (e.g. `igdb:https://api.igdb.com/v4` or a snapshot path).
    pub source: String,
    /// Version of the builder that wrote the blob.
    pub builder_version: String,
    /// Training metrics (recall@10, coverage@10, …), name → value.
    pub metrics: BTreeMap<String, f64>,
}

/// A complete model: catalogue, vocabularies, parameters and metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Model {
    /// Descriptive metadata.
    pub metadata: Metadata,
    /// Scoring parameters.
    pub params: Params,
    /// Per field ([`Field::index`]), the vocabulary; games' features index into it.
    pub vocab: [Vec<Term>; FIELD_COUNT],
    /// The games, in any order (the encoder sorts them by id).
    pub games: Vec<Game>,
}
