//! The scoring plan of one query ([`Plan`]): the seeds' postings walked into one array, one
//! score per profile, the year table and the curated bonus, read game by game in one pass.

use super::Engine;
use super::index::FieldIndex;
use crate::catalog::Csr;
use crate::model::FIELD_COUNT;

/// A query's scores, ready to be read game by game in one pass (no per-game array but `acc`).
pub(super) struct Plan<'a> {
    /// Per game, the field cosines scored through postings, and the curated bonus (empty when
    /// no postings were walked).
    pub(super) acc: Vec<f32>,
    /// Without `acc`: the curated bonus by game, sorted, and a bitmap of those games.
    pub(super) extra: Vec<(usize, f32)>,
    pub(super) flagged: Vec<u64>,
    /// Per game, its profile (empty when no field is scored by profiles).
    pub(super) profile_of: &'a [u32],
    /// Per profile, its score.
    pub(super) tab: Vec<f32>,
    /// Year proximity by `year - below` (saturating; entry 0 = unknown year).
    pub(super) ytab: Vec<f32>,
    /// Sum of the seed weights (the prior counts once per seed).
    pub(super) coef: f32,
    pub(super) prior: &'a [f32],
    pub(super) year: &'a [u16],
    pub(super) below: u16,
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
    pub(super) fn score_all(&self, n: usize) -> Vec<f32> {
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
    pub(super) fn score_with_bonus(&self, b: usize, bonus: f32) -> f32 {
        let get = |v: &[f32], i: usize| v.get(i).copied().unwrap_or(0.0);
        let year = self.year.get(b).copied().unwrap_or(0);
        let profile = self.profile_of.get(b).map_or(0.0, |&i| get(&self.tab, i as usize));
        self.combine(bonus, get(self.prior, b), year, profile)
    }

    /// The score of game `b` (no postings walked) from its prior, year and profile score, as
    /// the block walk reads them in block order: the same sum as [`Plan::score`].
    #[inline]
    pub(super) fn score_parts(&self, b: usize, prior: f32, year: u16, profile: f32) -> f32 {
        self.combine(self.flagged_bonus(b).unwrap_or(0.0), prior, year, profile)
    }

    /// The formula's sum, in one fixed order (so every path rounds alike).
    #[inline]
    fn combine(&self, bonus: f32, prior: f32, year: u16, profile: f32) -> f32 {
        let y = usize::from(year.saturating_sub(self.below));
        bonus + self.coef * prior + self.ytab.get(y).copied().unwrap_or(0.0) + profile
    }
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

impl Engine {
    /// Compiles the query's scores (see [`Plan`]): the seeds' postings walked into `acc`, the
    /// curated bonus added there, one table per field scored by term sets, the year table.
    pub(super) fn plan(&self, seeds: &[(usize, f32)]) -> Plan<'_> {
        self.plan_with(seeds, true)
    }

    /// [`Engine::plan`], with or without the seeds' curated bonus.
    pub(super) fn plan_with(&self, seeds: &[(usize, f32)], curated: bool) -> Plan<'_> {
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
    pub(super) fn curated_of(&self, a: usize) -> Vec<usize> {
        let mut sim: Vec<usize> =
            self.cat.similar.get(a).iter().filter_map(|&id| self.cat.index_of(id)).collect();
        sim.sort_unstable();
        sim.dedup();
        sim
    }

    /// Year proximity to the seeds: one entry per year of the catalogue's range, entry 0 (an
    /// unknown year) stays 0.
    pub(super) fn year_table(&self, seeds: &[(usize, f32)]) -> Vec<f32> {
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
}
