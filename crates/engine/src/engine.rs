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

use crate::catalog::{Catalog, Csr};
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
    search: OnceLock<SearchIndex>,
}

/// A query's scores, ready to be read game by game in one pass (no per-game array but `acc`).
struct Plan<'a> {
    /// Per game, the field cosines scored through postings, and the curated bonus (empty when
    /// no postings were walked).
    acc: Vec<f32>,
    /// Without `acc`: the curated bonus by game, sorted, and a bitmap of those games.
    extra: Vec<(usize, f32)>,
    flagged: Vec<u64>,
    /// Per game, its profile (empty when no field is scored by profiles).
    profile_of: &'a [u32],
    /// Per profile, its score.
    tab: Vec<f32>,
    /// Year proximity by `year - below` (saturating; entry 0 = unknown year).
    ytab: Vec<f32>,
    /// Sum of the seed weights (the prior counts once per seed).
    coef: f32,
    prior: &'a [f32],
    year: &'a [u16],
    below: u16,
}

impl Plan<'_> {
    /// The score of game `b`, per the formula on [`Params`].
    #[inline]
    fn score(&self, b: usize) -> f32 {
        let bonus = self.flagged_bonus(b).unwrap_or_else(|| self.acc.get(b).copied().unwrap_or(0.0));
        self.score_with_bonus(b, bonus)
    }

    /// The curated bonus of game `b` when it is flagged in the bitmap (no `acc`), else `None`.
    #[inline]
    fn flagged_bonus(&self, b: usize) -> Option<f32> {
        if self.flagged.get(b / 64).is_some_and(|w| w & (1 << (b % 64)) != 0) {
            Some(self.extra.binary_search_by_key(&b, |e| e.0).map_or(0.0, |i| self.extra[i].1))
        } else {
            None
        }
    }

    /// Every game's score, in one tight pass (kept apart from the selection's heap: together
    /// they ran out of registers).
    #[inline(never)]
    fn score_all(&self, n: usize) -> Vec<f32> {
        if !self.flagged.is_empty() || self.acc.len() != n || self.prior.len() != n || self.year.len() != n {
            return (0..n).map(|b| self.score(b)).collect();
        }
        let tab = |b: usize| {
            self.profile_of.get(b).map_or(0.0, |&i| self.tab.get(i as usize).copied().unwrap_or(0.0))
        };
        (self.acc.iter().zip(self.prior).zip(self.year).enumerate())
            .map(|(b, ((&bonus, &prior), &year))| self.combine(bonus, prior, year, tab(b)))
            .collect()
    }

    /// The score of game `b` with `bonus` as its postings-and-curated term.
    #[inline]
    fn score_with_bonus(&self, b: usize, bonus: f32) -> f32 {
        let get = |v: &[f32], i: usize| v.get(i).copied().unwrap_or(0.0);
        let year = self.year.get(b).copied().unwrap_or(0);
        let profile = self.profile_of.get(b).map_or(0.0, |&i| get(&self.tab, i as usize));
        self.combine(bonus, get(self.prior, b), year, profile)
    }

    /// The score of game `b` (no postings walked) from its prior, year and profile score, as
    /// the block walk reads them in block order: the same sum as [`Plan::score`].
    #[inline]
    fn score_parts(&self, b: usize, prior: f32, year: u16, profile: f32) -> f32 {
        self.combine(self.flagged_bonus(b).unwrap_or(0.0), prior, year, profile)
    }

    /// The formula's sum, in one fixed order (so every path rounds alike).
    #[inline]
    fn combine(&self, bonus: f32, prior: f32, year: u16, profile: f32) -> f32 {
        let y = usize::from(year.saturating_sub(self.below));
        bonus + self.coef * prior + self.ytab.get(y).copied().unwrap_or(0.0) + profile
    }
}

/// `Eq`/`Ord` for a heap entry from one comparison (its fields are floats: no derive).
macro_rules! ord_by {
    ($t:ty, |$a:ident, $b:ident| $cmp:expr) => {
        impl PartialEq for $t {
            fn eq(&self, o: &Self) -> bool {
                self.cmp(o) == Ordering::Equal
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for $t {
            fn cmp(&self, o: &Self) -> Ordering {
                let ($a, $b) = (self, o);
                $cmp
            }
        }
    };
}

/// Heap entry ordered so that the *worst* candidate is the greatest (heap top): lower score,
/// then higher index.
struct Worst(f32, usize);
ord_by!(Worst, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));

/// A block's score bound, whether every term of it is ≤ 0 (then every score in the block is
/// ≤ 0 exactly), the block's smallest game index, and the block. Ordered so that a max-heap
/// pops the highest bound first; among equal bounds, blocks that may hold positive scores, then
/// the lowest game index.
#[derive(Clone, Copy)]
struct Bound(f32, bool, u32, usize);
ord_by!(Bound, |a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)).then(b.3.cmp(&a.3)));

/// The kept candidates of a selection heap, best first (ties: lower index first).
fn best_first(heap: BinaryHeap<Worst>) -> Vec<(f32, usize)> {
    let mut v: Vec<(f32, usize)> = heap.into_iter().map(|w| (w.0, w.1)).collect();
    v.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    v
}

/// The blocks of one plan in visiting order (see [`Engine::block_order`]).
struct BlockOrder {
    /// The best ~[`FIRST_BLOCKS`] blocks, best first.
    head: Vec<Bound>,
    /// Blocks tied at the cut that did not fit in `head`.
    overflow: Vec<Bound>,
    /// Every block's bound, and the cut: blocks below it are not in `head`.
    bounds: Vec<f32>,
    cut: f32,
    ymax: f32,
    bonus: f32,
}

impl BlockOrder {
    /// The blocks not in `head`, unordered (the walk heaps them).
    fn rest(&self, e: &Engine, plan: &Plan<'_>, single: Option<u16>) -> Vec<Bound> {
        let mut rest = self.overflow.clone();
        rest.extend(
            self.bounds
                .iter()
                .enumerate()
                .filter(|(_, b)| b.total_cmp(&self.cut).is_lt())
                .map(|(bk, _)| e.block_entry(plan, self.ymax, self.bonus, single, bk)),
        );
        rest
    }
}

/// A compiled query: seed indices with signed weights, excluded indices, compiled filters.
struct Prepared {
    seeds: Vec<(usize, f32)>,
    /// Sorted indices never returned (seeds and `filters.exclude`).
    excluded: Vec<usize>,
    platforms: Option<Vec<bool>>,
    genres: Option<Vec<bool>>,
}

/// Games per block of the profile walk.
const BLOCK: usize = 128;
/// Blocks taken first (by bound) in the profile walk, before a heap over the others.
const FIRST_BLOCKS: usize = 512;
/// The same for the order shared by a profile's years in [`Engine::recommend_each`] (its
/// bounds are looser, so walks go deeper).
#[cfg(not(target_arch = "wasm32"))]
const SHARED_FIRST_BLOCKS: usize = 2048;

/// A field is scored by sets when a query would otherwise walk postings covering at least
/// `1 / SET_MODE_SHARE` of the catalogue (e.g. genres, platforms).
const SET_MODE_SHARE: f64 = 10.0;

/// How a field's cosine reaches the candidates.
#[derive(Debug, Default)]
enum FieldIndex {
    /// Weight 0 or no game has the field.
    #[default]
    Unused,
    /// Per term, the games holding it (ascending); per game, 1/norm (0 where the norm is 0).
    /// A query walks the postings of its seeds' terms: cheap for rare terms (keywords, series).
    Postings { postings: Csr, inv_norm: Vec<f32> },
    /// Scored by profile (see [`Engine::profile_of`]): per term, the profiles holding it; per
    /// profile, 1/norm. A query scores each profile once, then every game reads its profile's
    /// score: cheap when terms are common and their combinations few (genres, platforms), where
    /// postings would touch most of the catalogue.
    Sets { set_postings: Csr, inv_norm: Vec<f32> },
}

impl FieldIndex {
    /// Postings by counting sort (rows are visited in ascending order), and per row 1/norm.
    fn postings(feats: &Csr, n: usize, df: &[u32], tw: &[f32]) -> (Csr, Vec<f32>) {
        let mut offs = Vec::with_capacity(df.len() + 1);
        offs.push(0u32);
        let mut total = 0u32;
        for &d in df {
            total += d;
            offs.push(total);
        }
        let mut fill = offs.clone();
        let mut vals = vec![0u32; total as usize];
        let mut inv_norm = Vec::with_capacity(n);
        for g in 0..n {
            let terms = feats.get(g);
            for &t in terms {
                if let Some(slot) = fill.get_mut(t as usize)
                    && let Some(v) = vals.get_mut(*slot as usize)
                {
                    *v = g as u32;
                    *slot += 1;
                }
            }
            let x = norm(terms, tw);
            inv_norm.push(if x > 0.0 { 1.0 / x } else { 0.0 });
        }
        (Csr { offs, vals }, inv_norm)
    }
}

/// Distinct combinations ("profiles") of the games' term sets in `fields`: per game its profile
/// id, and per field each profile's terms. `None` when there are more than `limit`.
fn profiles(cat: &Catalog, fields: &[usize], limit: usize) -> Option<(Vec<u32>, Vec<Csr>)> {
    const SEP: u32 = u32::MAX;
    let n = cat.len();
    let mut table: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
    let mut keys = Csr { offs: vec![0], vals: Vec::new() };
    let mut hashes: Vec<u64> = Vec::new();
    let mut profile_of = Vec::with_capacity(n);
    let mut key: Vec<u32> = Vec::new();
    for g in 0..n {
        key.clear();
        for &fi in fields {
            key.extend_from_slice(cat.features[fi].get(g));
            key.push(SEP);
        }
        let h = terms_hash(&key);
        let id = match table.entry(h, |&s| keys.get(s as usize) == key, |&s| hashes[s as usize]) {
            hashbrown::hash_table::Entry::Occupied(o) => *o.get(),
            hashbrown::hash_table::Entry::Vacant(v) => {
                if hashes.len() >= limit {
                    return None;
                }
                let id = hashes.len() as u32;
                v.insert(id);
                keys.vals.extend_from_slice(&key);
                keys.offs.push(u32::try_from(keys.vals.len()).ok()?);
                hashes.push(h);
                id
            }
        };
        profile_of.push(id);
    }
    let per_field = (0..fields.len())
        .map(|k| {
            let rows = (0..hashes.len()).map(|s| keys.get(s).split(|&t| t == SEP).nth(k).unwrap_or(&[]));
            Csr::from_rows(rows).unwrap_or_default()
        })
        .collect();
    Some((profile_of, per_field))
}

/// `out[b] += c · inv[b]` for each `b` of a posting list: the hot loop of a query through
/// postings, kept in its own function so its pointers stay in registers (as a closure's inner
/// loop they were reloaded from the stack on every posting).
#[inline(never)]
fn scatter(out: &mut [f32], inv: &[f32], list: &[u32], c: f32) {
    let n = out.len().min(inv.len());
    let (out, inv) = (&mut out[..n], &inv[..n]);
    for &b in list {
        if let (Some(x), Some(&i)) = (out.get_mut(b as usize), inv.get(b as usize)) {
            *x += c * i;
        }
    }
}

/// A value with about `want` (at least, unless all are lower) of `values` at or above it, from
/// a 256-bucket histogram (no sort: the walk only needs the values split in two, any split
/// keeps the order, and a sort routine per type costs kilobytes of wasm).
fn cut_for(values: &[f32], want: usize) -> f32 {
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return f32::NEG_INFINITY;
    }
    let scale = 255.0 / (hi - lo);
    let bucket = |v: f32| (((v - lo) * scale) as usize).min(255);
    let mut hist = [0usize; 256];
    for &v in values {
        hist[bucket(v)] += 1;
    }
    let mut seen = 0;
    for k in (0..256).rev() {
        seen += hist[k];
        if seen >= want {
            return lo + k as f32 / scale;
        }
    }
    f32::NEG_INFINITY
}

/// How many times each of `vocab_len` terms occurs in `vals`.
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

fn doc_freq(vals: &[u32], vocab_len: usize) -> Vec<u32> {
    let mut df = vec![0u32; vocab_len];
    for &t in vals {
        if let Some(d) = df.get_mut(t as usize) {
            *d += 1;
        }
    }
    df
}

/// L2 norm of a feature set under term weights `tw`.
fn norm(terms: &[u32], tw: &[f32]) -> f32 {
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

/// FxHash-style hash of a term list (64-bit multiplies only: native in wasm too).
fn terms_hash(terms: &[u32]) -> u64 {
    let mut h = terms.len() as u64;
    for &t in terms {
        h = (h.rotate_left(26) ^ u64::from(t)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }
    h ^ (h >> 29)
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
        let mut term_weight: [Vec<f32>; FIELD_COUNT] = Default::default();
        let mut fields: [FieldIndex; FIELD_COUNT] = Default::default();
        let mut common = Vec::new();
        for fi in 0..FIELD_COUNT {
            let feats = &cat.features[fi];
            let vocab_len = cat.vocab[fi].len();
            let df = doc_freq(&feats.vals, vocab_len);
            let learned = &cat.params.feature_weights[fi];
            term_weight[fi] = if learned.is_empty() {
                df.iter().map(|&d| idf_weight(n, d)).collect()
            } else {
                learned.clone()
            };
            if feats.vals.is_empty() || cat.params.field_weights[fi] == 0.0 {
                continue;
            }
            // A field whose terms are common (a query would walk a large share of the catalogue
            // through its postings) is scored by profiles instead, when they are few.
            let volume: f64 = df.iter().map(|&d| f64::from(d) * f64::from(d)).sum::<f64>() / n.max(1) as f64;
            if volume * SET_MODE_SHARE >= n as f64 {
                common.push((fi, volume, df));
            } else {
                let (postings, inv_norm) = FieldIndex::postings(feats, n, &df, &term_weight[fi]);
                fields[fi] = FieldIndex::Postings { postings, inv_norm };
            }
        }
        // One group of common fields shares the profiles: all of them when their combinations
        // stay few, else greedily the most common ones that do (the rest use postings).
        common.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (common, common_df): (Vec<usize>, Vec<Vec<u32>>) = common.into_iter().map(|c| (c.0, c.2)).unzip();
        let limit = n / 4 + 16;
        let mut group = Vec::new();
        let mut found = profiles(&cat, &common, limit);
        if found.is_some() {
            group.clone_from(&common);
        } else {
            for &fi in &common {
                let mut more = group.clone();
                more.push(fi);
                if let Some(r) = profiles(&cat, &more, limit) {
                    group = more;
                    found = Some(r);
                }
            }
        }
        let (profile_of, per_field) = found.unwrap_or_default();
        let count = profile_of.iter().map(|&p| p as usize + 1).max().unwrap_or(0);
        for (&fi, terms) in group.iter().zip(&per_field) {
            let df = doc_freq(&terms.vals, cat.vocab[fi].len());
            let (set_postings, inv_norm) = FieldIndex::postings(terms, count, &df, &term_weight[fi]);
            fields[fi] = FieldIndex::Sets { set_postings, inv_norm };
        }
        for (&fi, df) in common.iter().zip(&common_df).filter(|(fi, _)| !group.contains(*fi)) {
            let (postings, inv_norm) = FieldIndex::postings(&cat.features[fi], n, df, &term_weight[fi]);
            fields[fi] = FieldIndex::Postings { postings, inv_norm };
        }
        let max_pop = cat.popularity.iter().copied().fold(0.0f32, f32::max);
        let years = cat.year.iter().copied().filter(|&y| y != 0);
        let year_lo = years.clone().min().unwrap_or(0);
        let year_hi = years.max().unwrap_or(0);
        let mut e = Engine {
            cat,
            format_version,
            model,
            term_weight,
            fields,
            profile_of,
            profiles: count,
            blocks: Csr::default(),
            block_profile: Vec::new(),
            block_years: Vec::new(),
            block_first: Vec::new(),
            prior_hi: Vec::new(),
            prior_lo: Vec::new(),
            block_prior: Vec::new(),
            block_year: Vec::new(),
            prior: Vec::new(),
            ln_max_pop: log_popularity(max_pop),
            year_lo,
            year_hi,
            search: OnceLock::new(),
        };
        let p = &e.cat.params;
        e.prior = (0..n).map(|b| p.popularity_weight * e.pop(b) + p.rating_weight * e.quality(b)).collect();
        if e.profiles > 0 {
            // Games by profile (a counting sort), then by descending prior within each profile,
            // cut into blocks: a popular profile (PC + Adventure: ~20k games at 333k) becomes
            // many blocks whose bounds fall with their priors.
            let mut offs = vec![0u32; e.profiles + 1];
            for &pi in &e.profile_of {
                offs[pi as usize + 1] += 1;
            }
            for i in 0..e.profiles {
                offs[i + 1] += offs[i];
            }
            let mut fill = offs.clone();
            let mut games = vec![0u32; e.profile_of.len()];
            for (b, &pi) in e.profile_of.iter().enumerate() {
                games[fill[pi as usize] as usize] = b as u32;
                fill[pi as usize] += 1;
            }
            let mut blocks = Csr { offs: vec![0], vals: Vec::with_capacity(games.len()) };
            for pi in 0..e.profiles {
                let members = &mut games[offs[pi] as usize..offs[pi + 1] as usize];
                members.sort_by(|&x, &y| e.prior[y as usize].total_cmp(&e.prior[x as usize]).then(x.cmp(&y)));
                for chunk in members.chunks(BLOCK) {
                    blocks.vals.extend_from_slice(chunk);
                    blocks.offs.push(blocks.vals.len() as u32);
                    e.block_profile.push(pi as u32);
                    // Sorted descending: the first prior is the largest, the last the smallest.
                    e.prior_hi.push(e.prior[chunk[0] as usize]);
                    e.prior_lo.push(e.prior[chunk[chunk.len() - 1] as usize]);
                    e.block_prior.extend(chunk.iter().map(|&b| e.prior[b as usize]));
                    let from = e.block_year.len();
                    e.block_year
                        .extend(chunk.iter().map(|&b| e.cat.year.get(b as usize).copied().unwrap_or(0)));
                    let years = &e.block_year[from..];
                    let known = years.iter().copied().filter(|&y| y != 0);
                    e.block_first.push(chunk.iter().copied().min().unwrap_or(u32::MAX));
                    e.block_years.push((
                        known.clone().min().unwrap_or(0),
                        known.max().unwrap_or(0),
                        years.contains(&0),
                    ));
                }
            }
            e.blocks = blocks;
        }
        e
    }

    /// How each field is scored: `"unused"`, `"postings"` or `"profiles"` (for tests and the
    /// benchmark's notes).
    #[doc(hidden)]
    pub fn field_modes(&self) -> [&'static str; FIELD_COUNT] {
        self.fields.each_ref().map(|f| match f {
            FieldIndex::Unused => "unused",
            FieldIndex::Postings { .. } => "postings",
            FieldIndex::Sets { .. } => "profiles",
        })
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
        if self.ln_max_pop > 0.0 { log_popularity(p) / self.ln_max_pop } else { 0.0 }
    }

    /// Quality prior of game `b` in 0..=1: rating, damped when few people rated.
    fn quality(&self, b: usize) -> f32 {
        quality_prior(self.cat.rating_of(b), self.cat.rating_count.get(b).copied().unwrap_or(0))
    }

    /// L2 norm of game `g`'s weighted feature vector in field `fi`.
    fn norm_of(&self, fi: usize, g: usize) -> f32 {
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
        Ok(self.prepared(seeds, &q.filters))
    }

    /// Compiles `filters` for [`Engine::passes`]; the seeds are excluded as well.
    fn prepared(&self, seeds: Vec<(usize, f32)>, filters: &Filters) -> Prepared {
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

    /// Where a visitor with nothing typed yet could start: the `k` games passing `filters` with
    /// the highest `pop + quality` (each in 0..=1: the popularity prior, and the rating damped
    /// when few people rated; the same two priors recommendations use, with equal weights, so
    /// the list does not depend on how the learner weighted them). Best first; ties by index.
    /// `k` must be 1..=1000.
    pub fn popular(&self, k: usize, filters: &Filters) -> Result<Vec<Hit>> {
        if k == 0 || k > 1000 {
            return Err(Error::InvalidQuery(format!("k must be 1..=1000, got {k}")));
        }
        let q = RecommendQuery { k, filters: filters.clone(), ..Default::default() };
        let p = self.prepared(Vec::new(), filters);
        Ok(self.select(&q, |m| self.top(self.len(), m, &q, &p, |b| self.pop(b) + self.quality(b))))
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

    /// Compiles the query's scores (see [`Plan`]): the seeds' postings walked into `acc`, the
    /// curated bonus added there, one table per field scored by term sets, the year table.
    fn plan(&self, seeds: &[(usize, f32)]) -> Plan<'_> {
        self.plan_with(seeds, true)
    }

    /// [`Engine::plan`], with or without the seeds' curated bonus.
    fn plan_with(&self, seeds: &[(usize, f32)], curated: bool) -> Plan<'_> {
        let n = self.len();
        let p = &self.cat.params;
        // Allocated only when a field scored by postings has something to walk.
        let mut acc: Vec<f32> = Vec::new();
        let mut tab = vec![0.0f32; self.profiles];
        for fi in 0..FIELD_COUNT {
            let fw = p.field_weights[fi];
            let tw = &self.term_weight[fi];
            // The postings of the seeds' terms, into `out`, each hit scaled by `inv[hit]`.
            let walk = |postings: &Csr, inv: &[f32], out: &mut [f32]| {
                for &(a, w) in seeds {
                    let na = self.norm_of(fi, a);
                    if na == 0.0 {
                        continue;
                    }
                    let base = w * fw / na;
                    for &t in self.cat.features[fi].get(a) {
                        let c = base * tw[t as usize] * tw[t as usize];
                        if c == 0.0 {
                            continue;
                        }
                        scatter(out, inv, postings.get(t as usize), c);
                    }
                }
            };
            match &self.fields[fi] {
                FieldIndex::Unused => {}
                FieldIndex::Postings { postings, inv_norm } => {
                    if seeds.iter().any(|&(a, _)| !self.cat.features[fi].get(a).is_empty()) {
                        acc.resize(n, 0.0);
                        walk(postings, inv_norm, &mut acc);
                    }
                }
                // Each profile's cosines with the seeds; then one lookup per game.
                FieldIndex::Sets { set_postings, inv_norm } => walk(set_postings, inv_norm, &mut tab),
            }
        }
        // The curated bonus: into `acc` when there is one, else a short sorted list (most
        // queries at 333k walk no postings) flagged in a bitmap the selection pass tests.
        let mut extra: Vec<(usize, f32)> = Vec::new();
        if curated && p.curated_weight != 0.0 {
            for &(a, w) in seeds {
                for b in self.curated_of(a) {
                    if let Some(x) = acc.get_mut(b) {
                        *x += w * p.curated_weight;
                    } else {
                        match extra.binary_search_by_key(&b, |e| e.0) {
                            Ok(i) => extra[i].1 += w * p.curated_weight,
                            Err(i) => extra.insert(i, (b, w * p.curated_weight)),
                        }
                    }
                }
            }
        }
        let mut flagged = Vec::new();
        if !extra.is_empty() {
            flagged = vec![0u64; n.div_ceil(64)];
            for &(b, _) in &extra {
                flagged[b / 64] |= 1 << (b % 64);
            }
        }
        let ytab = self.year_table(seeds);
        Plan {
            acc,
            extra,
            flagged,
            profile_of: &self.profile_of,
            tab,
            ytab,
            coef: seeds.iter().map(|s| s.1).sum(),
            prior: &self.prior,
            year: &self.cat.year,
            // Known years index the table from 1 (`year_lo` ≥ 1 when any is known); 0 stays 0.
            below: self.year_lo.saturating_sub(1),
        }
    }

    /// The indices of game `a`'s curated similar games (IGDB's `similar_games` in the
    /// catalogue), sorted and unique.
    fn curated_of(&self, a: usize) -> Vec<usize> {
        let mut sim: Vec<usize> =
            self.cat.similar.get(a).iter().filter_map(|&id| self.cat.index_of(id)).collect();
        sim.sort_unstable();
        sim.dedup();
        sim
    }

    /// Year proximity to the seeds: one entry per year of the catalogue's range, entry 0 (an
    /// unknown year) stays 0.
    fn year_table(&self, seeds: &[(usize, f32)]) -> Vec<f32> {
        let p = &self.cat.params;
        let span = usize::from(self.year_hi.saturating_sub(self.year_lo)) + 2;
        let mut ytab = vec![0.0f32; span];
        if p.year_weight != 0.0 && self.year_hi != 0 {
            for &(a, w) in seeds {
                if let Some(ya) = self.cat.year_of(a) {
                    for (k, slot) in ytab.iter_mut().enumerate().skip(1) {
                        let y = self.year_lo + (k - 1) as u16;
                        *slot +=
                            w * (p.year_weight * libm::expf(-(f32::from(ya.abs_diff(y)) / p.year_scale)));
                    }
                }
            }
        }
        ytab
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
        let plan = self.plan(&p.seeds);
        if plan.acc.is_empty() && self.profiles > 0 {
            return Ok(self.select(q, |m| self.top_by_profile(&plan, m, q, &p)));
        }
        let scores = plan.score_all(self.len());
        Ok(self.select(q, |m| self.top(scores.len(), m, q, &p, |b| scores[b])))
    }

    /// The same as [`Engine::recommend`], by brute force over [`Engine::score`] (the oracle;
    /// slow: for tests and benchmarks).
    pub fn recommend_exact(&self, q: &RecommendQuery) -> Result<Vec<Hit>> {
        let p = self.prepare(q)?;
        let scores: Vec<f32> =
            (0..self.len()).map(|b| p.seeds.iter().map(|&(a, w)| w * self.score(a, b)).sum()).collect();
        Ok(self.select(q, |m| self.top(scores.len(), m, q, &p, |b| scores[b])))
    }

    /// Recommendations for each id liked alone (weight 1), with `template`'s `k`, filters,
    /// disliked games and `max_per_franchise` (its liked list is ignored): for each id, exactly
    /// what [`Engine::recommend`] returns. When every field is scored by profiles and there is
    /// no per-franchise cap and no disliked game, seeds with the same profile share its scores
    /// and one block order (by bounds that hold for all their years), and seeds with the same
    /// profile and year share one walk (their queries differ only in the seed itself and its
    /// curated list, merged in afterwards): at 333k games ~39k orders and ~80k walks for 333k
    /// seeds (`playalike recommend --all`). Callers wanting that sharing pass ids sorted by
    /// [`Engine::shared_key`].
    #[cfg(not(target_arch = "wasm32"))] // a batch job of the CLI: kept out of the .wasm
    pub fn recommend_each(&self, ids: &[u32], template: &RecommendQuery) -> Result<Vec<Vec<Hit>>> {
        let single = |id: u32| RecommendQuery { liked: vec![(id, 1.0)], ..template.clone() };
        let shareable = template.max_per_franchise == 0
            && template.disliked.is_empty()
            && self.profiles > 0
            && !self.fields.iter().any(|f| matches!(f, FieldIndex::Postings { .. }));
        if !shareable {
            return ids.iter().map(|&id| self.recommend(&single(id))).collect();
        }
        let cw = self.cat.params.curated_weight;
        let curated = |a: usize| if cw == 0.0 { Vec::new() } else { self.curated_of(a) };
        let mut out: Vec<Vec<Hit>> = Vec::with_capacity(ids.len());
        let mut i = 0;
        while i < ids.len() {
            // A run of ids with the same profile shares the profile scores and the blocks'
            // order; within it, a run with the same year shares one walk.
            let key = self.shared_key(ids[i]);
            let mut j = i + 1;
            while j < ids.len() && key.is_some() && self.shared_key(ids[j]).map(|k| k.0) == key.map(|k| k.0) {
                j += 1;
            }
            let group: Vec<(u32, usize)> =
                ids[i..j].iter().map(|&id| Ok((id, self.index_of(id)?))).collect::<Result<_>>()?;
            i = j;
            let (first_id, first) = group[0];
            let mut prep = self.prepare(&single(first_id))?;
            // The walk excludes only the filter's ids; each seed drops itself below.
            prep.excluded.retain(|&x| x != first || template.filters.exclude.contains(&first_id));
            let mut plan = self.plan_with(&prep.seeds, false);
            let runs: Vec<&[(u32, usize)]> =
                group.chunk_by(|x, y| self.cat.year_of(x.1) == self.cat.year_of(y.1)).collect();
            let ytabs: Vec<Vec<f32>> = runs.iter().map(|run| self.year_table(&[(run[0].1, 1.0)])).collect();
            // Several years: one order by bounds that hold for all of them (the largest year
            // term), and each year's walk skips the blocks its own bound rules out.
            let shared = (runs.len() > 1).then(|| {
                let ymax = ytabs.iter().flatten().copied().fold(0.0f32, f32::max);
                plan.ytab = vec![ymax];
                self.block_order(&plan, None, SHARED_FIRST_BLOCKS)
            });
            let rest = std::cell::OnceCell::new();
            for (run, ytab) in runs.iter().zip(ytabs) {
                let year = self.cat.year_of(run[0].1);
                plan.ytab = ytab;
                let curs: Vec<Vec<usize>> = run.iter().map(|&(_, a)| curated(a)).collect();
                let widest = curs.iter().map(Vec::len).max().unwrap_or(0);
                let m = template.k.saturating_add(1 + widest).min(self.len());
                let base = if m == 0 {
                    Vec::new()
                } else if let Some(order) = &shared {
                    let ymax = plan.ytab.iter().copied().fold(0.0f32, f32::max);
                    let skip = |bk: usize, kth: f32| self.block_bound(&plan, ymax, 0.0, year, bk).0 < kth;
                    // The other blocks, sorted once for all the profile's years.
                    let rest = |visit: &mut dyn FnMut(&Bound) -> bool| {
                        let sorted = rest.get_or_init(|| {
                            let mut v = order.rest(self, &plan, None);
                            v.sort_unstable_by(|a, b| b.cmp(a));
                            v
                        });
                        for bd in sorted {
                            if !visit(bd) {
                                break;
                            }
                        }
                    };
                    self.walk_blocks(&plan, order, rest, m, &single(first_id), &prep, skip)
                } else {
                    self.top_by_profile(&plan, m, &single(run[0].0), &prep)
                };
                for (&(id, a), cur) in run.iter().zip(curs) {
                    // Validates k like `recommend` does, and gives this seed's exclusions.
                    let own = self.prepare(&single(id))?;
                    let mut cand: Vec<(f32, usize)> = base
                        .iter()
                        .copied()
                        .filter(|&(_, b)| b != a && cur.binary_search(&b).is_err())
                        .collect();
                    for &b in &cur {
                        if b != a && self.passes(b, &template.filters, &own) {
                            cand.push((plan.score_with_bonus(b, cw), b));
                        }
                    }
                    cand.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
                    cand.truncate(template.k);
                    out.push(
                        cand.into_iter()
                            .filter_map(|(s, b)| Some(Hit { id: self.id_of(b)?, score: s }))
                            .collect(),
                    );
                }
            }
        }
        Ok(out)
    }

    /// The key [`Engine::recommend_each`] groups seeds by: their profile and year (`None` when
    /// nothing is shared). Seeds of one profile share its scores and the blocks' order, seeds
    /// of one profile and year share one walk; pass ids sorted by this key.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn shared_key(&self, id: u32) -> Option<(u32, u16)> {
        let i = self.cat.index_of(id)?;
        let profile = *self.profile_of.get(i)?;
        Some((profile, self.cat.year.get(i).copied().unwrap_or(0)))
    }

    /// Keeps the best `k` passing games (respecting `max_per_franchise`), best first.
    /// `top(m)` gives the best `m` passing games, best first.
    fn select(&self, q: &RecommendQuery, top: impl Fn(usize) -> Vec<(f32, usize)>) -> Vec<Hit> {
        let cap = q.max_per_franchise;
        let n = self.len();
        let mut want = if cap == 0 { q.k } else { q.k.saturating_mul(4).saturating_add(32) };
        loop {
            let top = top(want.min(n));
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
    fn top(
        &self,
        n: usize,
        m: usize,
        q: &RecommendQuery,
        p: &Prepared,
        score: impl Fn(usize) -> f32,
    ) -> Vec<(f32, usize)> {
        if m == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(m + 1);
        // The score to beat once the heap is full (kept in a local: the hot loop is one compare).
        let mut bar = f32::NEG_INFINITY;
        let mut full = false;
        for b in 0..n {
            let s = score(b);
            // Ascending index order: a later equal score never beats the kept one.
            if full && s <= bar {
                continue;
            }
            if !self.passes(b, &q.filters, p) {
                continue;
            }
            heap.push(Worst(s, b));
            if heap.len() > m {
                heap.pop();
            }
            if heap.len() == m {
                full = true;
                bar = heap.peek().map_or(f32::NEG_INFINITY, |w| w.0);
            }
        }
        best_first(heap)
    }

    /// [`Engine::top`] when every game's score is `tab[profile] + coef · prior + year + bonus`
    /// (no postings walked): blocks of a profile's games are visited best bound first (the profile's
    /// score plus the largest prior, year and bonus terms any of the block's games can add), and the walk stops when the best
    /// remaining bound cannot beat the k-th result. Exact: a skipped game cannot score above the
    /// k-th (the bounds are padded against float rounding), and ties are broken by index as in
    /// the sequential pass. At 333k most queries score a few thousand games instead of all.
    fn top_by_profile(
        &self,
        plan: &Plan<'_>,
        m: usize,
        q: &RecommendQuery,
        p: &Prepared,
    ) -> Vec<(f32, usize)> {
        if m == 0 {
            return Vec::new();
        }
        // With one seed of positive weight the year term falls with the distance to its year:
        // a block's best is at the year of its range closest to the seed's.
        let single = match p.seeds.as_slice() {
            [(a, w)] if *w > 0.0 => self.cat.year_of(*a),
            _ => None,
        };
        let order = self.block_order(plan, single, FIRST_BLOCKS);
        let rest = |visit: &mut dyn FnMut(&Bound) -> bool| {
            let mut queue = BinaryHeap::from(order.rest(self, plan, single));
            while let Some(bd) = queue.pop() {
                if !visit(&bd) {
                    break;
                }
            }
        };
        self.walk_blocks(plan, &order, rest, m, q, p, |_, _| false)
    }

    /// A bound on the score of the games of a block (padded against rounding) from its
    /// profile `pi`, its largest or smallest prior `pr` (by the sign of the seeds' weight), its
    /// years `(lo, hi, some unknown)`, and whether every term of it is ≤ 0. The year term: the
    /// seed's year clamped to the block's range when there is one seed (`single`), else `ymax`.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    #[allow(clippy::too_many_arguments)]
    fn bound_of(
        plan: &Plan<'_>,
        ymax: f32,
        bonus: f32,
        single: Option<u16>,
        pi: u32,
        pr: f32,
        (lo, hi, unknown): (u16, u16, bool),
    ) -> (f32, bool) {
        let t = plan.tab.get(pi as usize).copied().unwrap_or(0.0);
        let pr = plan.coef * pr;
        let y = match single {
            Some(ya) if lo != 0 => {
                let y = ya.clamp(lo, hi);
                let t = plan.ytab.get(usize::from(y.saturating_sub(plan.below))).copied().unwrap_or(ymax);
                if unknown { t.max(0.0) } else { t }
            }
            Some(_) if unknown => 0.0,
            _ => ymax,
        };
        let b = t + pr + y + bonus;
        (b + b.abs() * 1e-5 + 1e-6, t <= 0.0 && pr <= 0.0 && y <= 0.0 && bonus <= 0.0)
    }

    /// Block `bk`'s bound, see [`Engine::bound_of`].
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn block_bound(
        &self,
        plan: &Plan<'_>,
        ymax: f32,
        bonus: f32,
        single: Option<u16>,
        bk: usize,
    ) -> (f32, bool) {
        let pr = if plan.coef >= 0.0 { &self.prior_hi } else { &self.prior_lo };
        let (pi, pr, years) = (self.block_profile[bk], pr[bk], self.block_years[bk]);
        Engine::bound_of(plan, ymax, bonus, single, pi, pr, years)
    }

    /// The blocks in visiting order for `plan`: the ~`first` best bounds, sorted; the others
    /// only on demand ([`BlockOrder::rest`]).
    fn block_order(&self, plan: &Plan<'_>, single: Option<u16>, first: usize) -> BlockOrder {
        let ymax = plan.ytab.iter().copied().fold(0.0f32, f32::max);
        let bonus = plan.extra.iter().map(|e| e.1).fold(0.0f32, f32::max);
        // One pass over the blocks' columns (the hot loop of a query at 333k: ~45k blocks).
        let pr = if plan.coef >= 0.0 { &self.prior_hi } else { &self.prior_lo };
        let bounds: Vec<f32> = (self.block_profile.iter().zip(pr).zip(&self.block_years))
            .map(|((&pi, &pr), &years)| Engine::bound_of(plan, ymax, bonus, single, pi, pr, years).0)
            .collect();
        // The blocks at or above the FIRST_BLOCKS-th largest bound, sorted, come first: almost
        // every query ends among them. Only if not, the others, best first through a heap.
        // (Splitting by bound value keeps the global order: all of the first precede the rest.)
        let cut = if bounds.len() > first { cut_for(&bounds, first) } else { f32::NEG_INFINITY };
        let mut head: Vec<Bound> = bounds
            .iter()
            .enumerate()
            .filter(|(_, b)| b.total_cmp(&cut).is_ge())
            .map(|(bk, _)| self.block_entry(plan, ymax, bonus, single, bk))
            .collect();
        // Many equal bounds at the cut (a seed without features: everything ties at 0) make the
        // head large: keep its first `first` by the full order, the others go to the heap.
        let overflow = if head.len() > first {
            head.select_nth_unstable_by(first - 1, |a, b| b.cmp(a));
            head.split_off(first)
        } else {
            Vec::new()
        };
        head.sort_unstable_by(|a, b| b.cmp(a));
        BlockOrder { head, overflow, bounds, cut, ymax, bonus }
    }

    /// Block `bk` as a heap entry.
    #[inline]
    fn block_entry(&self, plan: &Plan<'_>, ymax: f32, bonus: f32, single: Option<u16>, bk: usize) -> Bound {
        let (bound, nonpositive) = self.block_bound(plan, ymax, bonus, single, bk);
        Bound(bound, nonpositive, self.block_first.get(bk).copied().unwrap_or(u32::MAX), bk)
    }

    /// Walks the blocks of `order`'s head (then, if the walk has not ended, `rest` calls `visit`
    /// on the other blocks best first until it returns false) and keeps the best `m` passing
    /// games. A block is skipped when `skip(block, k-th score)` says none of its games can beat
    /// the k-th (a tighter bound than the order's).
    #[allow(clippy::too_many_arguments)]
    fn walk_blocks(
        &self,
        plan: &Plan<'_>,
        order: &BlockOrder,
        rest: impl FnOnce(&mut dyn FnMut(&Bound) -> bool),
        m: usize,
        q: &RecommendQuery,
        p: &Prepared,
        skip: impl Fn(usize, f32) -> bool,
    ) -> Vec<(f32, usize)> {
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(m + 1);
        // Visits one block; false when nothing left (in descending bound order) can beat the
        // k-th: all bounds below it, or (everything scoring ≤ 0, as for a seed without
        // features) the k-th scores ≥ 0 and the blocks left start past its index (ties go to
        // the lower index).
        let mut visit = |&Bound(bound, nonpositive, first, bk): &Bound| -> bool {
            if let Some(w) = heap.peek().filter(|_| heap.len() == m) {
                if bound < w.0 || (nonpositive && (w.0 > 0.0 || (w.0 == 0.0 && first as usize > w.1))) {
                    return false;
                }
                if skip(bk, w.0) {
                    return true;
                }
            }
            let (a, z) = (self.blocks.offs[bk] as usize, self.blocks.offs[bk + 1] as usize);
            let profile = plan.tab.get(self.block_profile[bk] as usize).copied().unwrap_or(0.0);
            for j in a..z {
                let b = self.blocks.vals[j] as usize;
                let s = plan.score_parts(b, self.block_prior[j], self.block_year[j], profile);
                if heap.len() == m && heap.peek().is_some_and(|w| Worst(s, b) >= *w) {
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
            true
        };
        if order.head.iter().all(&mut visit) {
            rest(&mut visit);
        }
        best_first(heap)
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

    /// Builds the title index now if it is not built yet (the first [`Engine::search`] does it
    /// otherwise): a page calls it once the first recommendations are shown.
    pub fn prepare_search(&self) -> &SearchIndex {
        self.search.get_or_init(|| SearchIndex::build(&self.cat))
    }

    /// Title search as you type: case, diacritics and punctuation folded, every query word
    /// matching a title word exactly, as a prefix, or with one typo (words of 4+ letters), also
    /// through alternative names. Best first; ties by popularity. Empty or unknown text → empty.
    pub fn search(&self, text: &str, k: usize) -> Vec<SearchHit> {
        self.prepare_search()
            .search(&self.cat, text, k)
            .into_iter()
            .filter_map(|(b, score)| Some(SearchHit { id: self.id_of(b)?, score }))
            .collect()
    }
}
