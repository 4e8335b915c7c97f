//! Structural checks on a decoded [`Model`]: everything scoring relies on, checked once at load.

use crate::catalog::{Catalog, Csr};
use crate::error::{Error, Result};
use crate::model::{FIELD_COUNT, Field, Model, Params};
use std::collections::HashSet;

/// Checks that ids are unique, feature indices are in range and sorted, and parameters finite.
pub fn validate(model: &Model) -> Result<()> {
    let mut ids = HashSet::with_capacity(model.games.len());
    for g in &model.games {
        if !ids.insert(g.id) {
            return Err(Error::Malformed(format!("game id {} appears twice", g.id)));
        }
        for f in Field::ALL {
            let list = &g.features[f.index()];
            let vocab_len = model.vocab[f.index()].len();
            if list.windows(2).any(|w| w[0] >= w[1]) {
                return Err(Error::Malformed(format!(
                    "game {}: {} features not sorted and unique",
                    g.id,
                    f.name()
                )));
            }
            if let Some(&bad) = list.iter().find(|&&t| t as usize >= vocab_len) {
                return Err(Error::Malformed(format!(
                    "game {}: {} term {bad} outside vocabulary of {vocab_len}",
                    g.id,
                    f.name()
                )));
            }
        }
        if g.rating.is_some_and(|r| !r.is_finite()) || !g.popularity.is_finite() || g.popularity < 0.0 {
            return Err(Error::Malformed(format!("game {}: rating or popularity not a finite number", g.id)));
        }
    }
    params(&model.params, &model.vocab)
}

/// The same checks on a decoded [`Catalog`], plus column lengths and id order.
pub fn catalog(c: &Catalog) -> Result<()> {
    let n = c.ids.len();
    if c.ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::Malformed("game ids not strictly ascending".into()));
    }
    let lens = [
        ("names", c.names.len()),
        ("slugs", c.slugs.len()),
        ("covers", c.covers.len()),
        ("flags", c.flags.len()),
        ("years", c.year.len()),
        ("ratings", c.rating.len()),
        ("rating counts", c.rating_count.len()),
        ("popularity", c.popularity.len()),
        ("game types", c.game_type.len()),
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
        if x.vals.is_empty() {
            continue; // an empty column (most of them at 333k) has nothing to check per game
        }
        let vocab_len = c.vocab[fi].len();
        for i in 0..n {
            let list = x.get(i);
            if list.windows(2).any(|w| w[0] >= w[1]) || list.last().is_some_and(|&t| t as usize >= vocab_len)
            {
                return Err(Error::Malformed(format!(
                    "game {}: {} features not sorted, unique and inside the vocabulary of {vocab_len}",
                    c.ids[i],
                    f.name()
                )));
            }
        }
    }
    if !csr_ok(&c.similar) {
        return Err(Error::Malformed("similar-game offsets inconsistent".into()));
    }
    if c.rating.iter().any(|r| r.is_infinite()) || c.popularity.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return Err(Error::Malformed("a rating or popularity is not a finite number".into()));
    }
    params(&c.params, &c.vocab)
}

fn params(p: &Params, vocab: &[Vec<crate::model::Term>; FIELD_COUNT]) -> Result<()> {
    let scalars = [p.year_weight, p.year_scale, p.popularity_weight, p.rating_weight, p.curated_weight];
    if p.field_weights.iter().chain(scalars.iter()).any(|w| !w.is_finite()) || p.year_scale <= 0.0 {
        return Err(Error::Malformed("parameters hold a non-finite weight or a year scale ≤ 0".into()));
    }
    for (i, (fw, vocab)) in p.feature_weights.iter().zip(vocab).enumerate() {
        if !fw.is_empty() && fw.len() != vocab.len() {
            return Err(Error::Malformed(format!(
                "{} feature weights: {} for a vocabulary of {}",
                Field::ALL[i].name(),
                fw.len(),
                vocab.len()
            )));
        }
        if fw.iter().any(|w| !w.is_finite()) {
            return Err(Error::Malformed(format!("{} feature weights not finite", Field::ALL[i].name())));
        }
    }
    Ok(())
}
