//! The columnar, load-once form of a model: one array per game attribute, strings in one region.
//!
//! This is what the blob decodes into and what the [`crate::Engine`] serves from. Compared to
//! `Vec<Game>` it needs no per-game allocations: at 333k games a `Vec<Game>` costs ~100 MB in
//! wasm (ten `Vec` headers per game), the columns ~30 MB. [`Catalog::from_model`] and
//! [`Catalog::to_model`] convert to and from the owned [`Model`] the trainer works with.

use crate::error::{Error, Result};
use crate::model::{FIELD_COUNT, Field, Game, Metadata, Model, Params, Term};

/// Many strings in one region: string `i` is `bytes[offs[i]..offs[i + 1]]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Strings {
    pub(crate) bytes: String,
    pub(crate) offs: Vec<u32>,
}

impl Strings {
    /// Builds from an iterator of strings.
    pub fn collect<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Strings> {
        let mut s = Strings { bytes: String::new(), offs: vec![0] };
        for item in items {
            s.push(item)?;
        }
        Ok(s)
    }

    pub(crate) fn push(&mut self, item: &str) -> Result<()> {
        if self.offs.is_empty() {
            self.offs.push(0);
        }
        self.bytes.push_str(item);
        let end = u32::try_from(self.bytes.len())
            .map_err(|_| Error::Encode("string region exceeds 4 GiB".into()))?;
        self.offs.push(end);
        Ok(())
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.offs.len().saturating_sub(1)
    }

    /// Whether there are no strings.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// String `i` (empty when out of range).
    pub fn get(&self, i: usize) -> &str {
        match (self.offs.get(i), self.offs.get(i + 1)) {
            (Some(&a), Some(&b)) => self.bytes.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }
}

/// Compressed sparse rows: row `i` is `vals[offs[i]..offs[i + 1]]`. Empty `vals` may come with
/// empty `offs` (a field no game uses costs nothing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csr {
    pub(crate) offs: Vec<u32>,
    pub(crate) vals: Vec<u32>,
}

impl Csr {
    /// Row `i` (empty when out of range).
    #[inline]
    pub fn get(&self, i: usize) -> &[u32] {
        if self.vals.is_empty() {
            return &[];
        }
        match (self.offs.get(i), self.offs.get(i + 1)) {
            (Some(&a), Some(&b)) => self.vals.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Builds from rows.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a [u32]>) -> Result<Csr> {
        let mut c = Csr { offs: vec![0], vals: Vec::new() };
        for r in rows {
            c.vals.extend_from_slice(r);
            c.offs.push(
                u32::try_from(c.vals.len()).map_err(|_| Error::Encode("more than 2^32 entries".into()))?,
            );
        }
        if c.vals.is_empty() {
            c.offs = Vec::new();
        }
        Ok(c)
    }

    /// Total number of values.
    pub fn total(&self) -> usize {
        self.vals.len()
    }
}

/// Per-game flag bits in [`Catalog::flags`].
pub(crate) mod flag {
    /// The game has a cover image id.
    pub const COVER: u8 = 1;
    /// The slug is not `slugify(name)` and is stored.
    pub const SLUG: u8 = 2;
}

/// A model in columns; games sorted by id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    /// Descriptive metadata.
    pub metadata: Metadata,
    /// Scoring parameters.
    pub params: Params,
    /// Per field, the vocabulary.
    pub vocab: [Vec<Term>; FIELD_COUNT],
    /// IGDB ids, strictly ascending.
    pub ids: Vec<u32>,
    /// Titles.
    pub names: Strings,
    /// Slugs that differ from `slugify(name)` (empty otherwise; see `flags`).
    pub slugs: Strings,
    /// Per game, [`flag`] bits.
    pub(crate) flags: Vec<u8>,
    /// Per game, its alternative names as a range of `alts`.
    pub alt_offs: Vec<u32>,
    /// All alternative names.
    pub alts: Strings,
    /// Release year, 0 = unknown.
    pub year: Vec<u16>,
    /// Rating 0–100, NaN = none.
    pub rating: Vec<f32>,
    /// Rating counts.
    pub rating_count: Vec<u32>,
    /// Popularity (≥ 0).
    pub popularity: Vec<f32>,
    /// Cover image ids (empty when none; see `flags`).
    pub covers: Strings,
    /// IGDB game type, 255 = none.
    pub game_type: Vec<u8>,
    /// Per field, each game's sorted term indices.
    pub features: [Csr; FIELD_COUNT],
    /// Each game's curated similar game ids.
    pub similar: Csr,
}

impl Catalog {
    /// Number of games.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no games.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Game index of an IGDB id.
    pub fn index_of(&self, id: u32) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// The slug of game `i`.
    pub fn slug(&self, i: usize) -> String {
        if self.flags.get(i).is_some_and(|f| f & flag::SLUG != 0) {
            self.slugs.get(i).to_string()
        } else {
            crate::text::slugify(self.names.get(i))
        }
    }

    /// The cover id of game `i`.
    pub fn cover(&self, i: usize) -> Option<&str> {
        self.flags.get(i).is_some_and(|f| f & flag::COVER != 0).then(|| self.covers.get(i))
    }

    /// The alternative names of game `i`.
    pub fn alt_names(&self, i: usize) -> impl Iterator<Item = &str> {
        let (a, b) = match (self.alt_offs.get(i), self.alt_offs.get(i + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        };
        (a..b).map(|j| self.alts.get(j))
    }

    /// Year of game `i`, if known.
    pub fn year_of(&self, i: usize) -> Option<u16> {
        self.year.get(i).copied().filter(|&y| y != 0)
    }

    /// Rating of game `i`, if any.
    pub fn rating_of(&self, i: usize) -> Option<f32> {
        self.rating.get(i).copied().filter(|r| !r.is_nan())
    }

    /// Game type of game `i`, if known.
    pub fn game_type_of(&self, i: usize) -> Option<u8> {
        self.game_type.get(i).copied().filter(|&t| t != 255)
    }

    /// The checks of [`crate::validate::validate`] on the columns, plus column lengths and id
    /// order (the decoder calls it on every blob): [`Catalog::validate_core`], then
    /// [`Catalog::validate_names`]. That each game's terms are strictly ascending and inside
    /// their vocabulary is checked by the decoder as it reads them
    /// ([`crate::format::decode_catalog`]), not again here: a once-per-term pass at 333k games.
    pub fn validate(&self) -> Result<()> {
        self.validate_core()?;
        self.validate_names()
    }

    /// The titles, slugs, covers and alternative names: one entry per game.
    pub fn validate_names(&self) -> Result<()> {
        let c = self;
        let n = c.ids.len();
        let lens = [
            ("names", c.names.len()),
            ("slugs", c.slugs.len()),
            ("covers", c.covers.len()),
            ("alternative name offsets", c.alt_offs.len().saturating_sub(1)),
        ];
        if let Some((name, len)) = lens.iter().find(|(_, len)| *len != n) {
            return Err(Error::Malformed(format!("{name}: {len} entries for {n} games")));
        }
        if c.alt_offs.last().is_some_and(|&e| e as usize != c.alts.len())
            || c.alt_offs.windows(2).any(|w| w[0] > w[1])
        {
            return Err(Error::Malformed("alternative name offsets inconsistent".into()));
        }
        Ok(())
    }

    /// Everything scoring reads (what the engine indexes): ids, column lengths, feature and
    /// similar-game offsets, finite numbers, parameters.
    pub fn validate_core(&self) -> Result<()> {
        let c = self;
        let n = c.ids.len();
        if c.ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::Malformed("game ids not strictly ascending".into()));
        }
        let lens = [
            ("flags", c.flags.len()),
            ("years", c.year.len()),
            ("ratings", c.rating.len()),
            ("rating counts", c.rating_count.len()),
            ("popularity", c.popularity.len()),
            ("game types", c.game_type.len()),
        ];
        if let Some((name, len)) = lens.iter().find(|(_, len)| *len != n) {
            return Err(Error::Malformed(format!("{name}: {len} entries for {n} games")));
        }
        let csr_ok = |x: &Csr| {
            x.vals.is_empty() && x.offs.is_empty()
                || (x.offs.len() == n + 1
                    && x.offs.first() == Some(&0)
                    && x.offs.last().is_some_and(|&e| e as usize == x.vals.len())
                    && x.offs.windows(2).all(|w| w[0] <= w[1]))
        };
        for f in Field::ALL {
            let fi = f.index();
            let x = &c.features[fi];
            if !csr_ok(x) {
                return Err(Error::Malformed(format!("{} feature offsets inconsistent", f.name())));
            }
        }
        if !csr_ok(&c.similar) {
            return Err(Error::Malformed("similar-game offsets inconsistent".into()));
        }
        if c.rating.iter().any(|r| r.is_infinite()) || c.popularity.iter().any(|p| !p.is_finite() || *p < 0.0)
        {
            return Err(Error::Malformed("a rating or popularity is not a finite number".into()));
        }
        crate::validate::params(&c.params, &c.vocab)
    }

    /// Converts an owned model (games in any order; validated first).
    pub fn from_model(model: &Model) -> Result<Catalog> {
        crate::validate::validate(model)?;
        let mut order: Vec<&Game> = model.games.iter().collect();
        order.sort_by_key(|g| g.id);
        let mut c = Catalog {
            metadata: model.metadata.clone(),
            params: model.params.clone(),
            vocab: model.vocab.clone(),
            ids: order.iter().map(|g| g.id).collect(),
            names: Strings::collect(order.iter().map(|g| g.name.as_str()))?,
            alt_offs: vec![0],
            ..Catalog::default()
        };
        c.slugs.offs.push(0);
        c.covers.offs.push(0);
        c.alts.offs.push(0);
        for g in &order {
            if g.year == Some(0) {
                return Err(Error::Encode(format!("game {}: year 0 is not representable", g.id)));
            }
            if g.game_type == Some(255) {
                return Err(Error::Encode(format!("game {}: game type 255 is not representable", g.id)));
            }
            let mut f = 0;
            if g.cover.is_some() {
                f |= flag::COVER;
            }
            if g.slug != crate::text::slugify(&g.name) {
                f |= flag::SLUG;
                c.slugs.push(&g.slug)?;
            } else {
                c.slugs.push("")?;
            }
            c.flags.push(f);
            c.covers.push(g.cover.as_deref().unwrap_or(""))?;
            for a in &g.alt_names {
                c.alts.push(a)?;
            }
            c.alt_offs.push(
                u32::try_from(c.alts.len())
                    .map_err(|_| Error::Encode("too many alternative names".into()))?,
            );
            c.year.push(g.year.unwrap_or(0));
            c.rating.push(g.rating.unwrap_or(f32::NAN));
            c.rating_count.push(g.rating_count);
            c.popularity.push(g.popularity);
            c.game_type.push(g.game_type.unwrap_or(255));
        }
        for fi in 0..FIELD_COUNT {
            c.features[fi] = Csr::from_rows(order.iter().map(|g| g.features[fi].as_slice()))?;
        }
        c.similar = Csr::from_rows(order.iter().map(|g| g.similar.as_slice()))?;
        Ok(c)
    }

    /// Game `i` as an owned [`Game`].
    pub fn game(&self, i: usize) -> Game {
        Game {
            id: self.ids.get(i).copied().unwrap_or(0),
            name: self.names.get(i).to_string(),
            slug: self.slug(i),
            alt_names: self.alt_names(i).map(str::to_string).collect(),
            year: self.year_of(i),
            rating: self.rating_of(i),
            rating_count: self.rating_count.get(i).copied().unwrap_or(0),
            popularity: self.popularity.get(i).copied().unwrap_or(0.0),
            cover: self.cover(i).map(str::to_string),
            game_type: self.game_type_of(i),
            features: std::array::from_fn(|fi| self.features[fi].get(i).to_vec()),
            similar: self.similar.get(i).to_vec(),
        }
    }

    /// Converts back to an owned model (games sorted by id).
    pub fn to_model(&self) -> Model {
        Model {
            metadata: self.metadata.clone(),
            params: self.params.clone(),
            vocab: self.vocab.clone(),
            games: (0..self.len()).map(|i| self.game(i)).collect(),
        }
    }
}
