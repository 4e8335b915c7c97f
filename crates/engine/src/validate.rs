//! Structural checks on an owned [`Model`] and on [`Params`]: everything scoring relies on,
//! checked once at load. (The columnar form checks itself: `Catalog::validate`, which uses
//! `params` from here; this module does not depend on the catalogue.)

use crate::error::{Error, Result};
use crate::model::{FIELD_COUNT, Field, Model, Params, Term};
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

/// Parameters finite, year scale positive, learned feature weights one per vocabulary term.
pub(crate) fn params(p: &Params, vocab: &[Vec<Term>; FIELD_COUNT]) -> Result<()> {
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
