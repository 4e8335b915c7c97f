//! The query entry points: [`Engine::recommend`] (and its brute-force oracle
//! [`Engine::recommend_exact`]), [`Engine::popular`], and the CLI's batch
//! [`Engine::recommend_each`].

use super::Engine;
#[cfg(not(target_arch = "wasm32"))]
use super::index::FieldIndex;
use super::query::{Filters, Hit, RecommendQuery};
#[cfg(not(target_arch = "wasm32"))]
use super::topk::{Bound, SHARED_FIRST_BLOCKS};
use crate::error::{Error, Result};

impl Engine {
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
                    cand.sort_by(super::topk::best_first_order);
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
}
