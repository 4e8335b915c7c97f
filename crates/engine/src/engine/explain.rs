//! Explanations: the shared features that make one game similar to another.

use super::Engine;
use super::query::Reason;
use crate::error::Result;
use crate::model::Field;

impl Engine {
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
        // Strongest first, ties in the order found: sorted as (weight, position) pairs with the
        // engine's (score, index) comparator, so the .wasm holds no separate sort for `Reason`s
        // (decision 517).
        let mut order: Vec<(f32, usize)> = out.iter().enumerate().map(|(i, r)| (r.weight, i)).collect();
        order.sort_by(super::topk::best_first_order);
        let mut slots: Vec<Option<Reason>> = out.into_iter().map(Some).collect();
        Ok(order.into_iter().filter_map(|(_, i)| slots.get_mut(i).and_then(Option::take)).collect())
    }
}
