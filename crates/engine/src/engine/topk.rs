//! Top-k selection: a bounded heap over every game ([`Engine::top`]), or the pruned block
//! walk over profiles ([`Engine::top_by_profile`]: blocks visited best bound first, stopping
//! when no block left can beat the k-th), and the per-franchise cap ([`Engine::select`]).

use super::Engine;
use super::plan::Plan;
use super::query::{Hit, Prepared, RecommendQuery};
use crate::model::Field;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
pub(super) struct Bound(f32, bool, u32, usize);
ord_by!(Bound, |a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)).then(b.3.cmp(&a.3)));

/// Best first: higher score, then lower index. A named function (not a closure) so that every sort
/// of (score, index) pairs shares one instantiation of the standard sort in the .wasm
/// (docs/decisions/517).
pub(crate) fn best_first_order(x: &(f32, usize), y: &(f32, usize)) -> Ordering {
    y.0.total_cmp(&x.0).then(x.1.cmp(&y.1))
}

/// The kept candidates of a selection heap, best first (ties: lower index first).
fn best_first(heap: BinaryHeap<Worst>) -> Vec<(f32, usize)> {
    let mut v: Vec<(f32, usize)> = heap.into_iter().map(|w| (w.0, w.1)).collect();
    v.sort_by(best_first_order);
    v
}

/// The blocks of one plan in visiting order (see [`Engine::block_order`]).
pub(super) struct BlockOrder {
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
    pub(super) fn rest(&self, e: &Engine, plan: &Plan<'_>, single: Option<u16>) -> Vec<Bound> {
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

/// Blocks taken first (by bound) in the profile walk, before a heap over the others.
const FIRST_BLOCKS: usize = 512;
/// The same for the order shared by a profile's years in [`Engine::recommend_each`] (its
/// bounds are looser, so walks go deeper).
#[cfg(not(target_arch = "wasm32"))]
pub(super) const SHARED_FIRST_BLOCKS: usize = 2048;

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

impl Engine {
    /// Keeps the best `k` passing games (respecting `max_per_franchise`), best first.
    /// `top(m)` gives the best `m` passing games, best first.
    pub(super) fn select(&self, q: &RecommendQuery, top: impl Fn(usize) -> Vec<(f32, usize)>) -> Vec<Hit> {
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
    pub(super) fn top(
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
    pub(super) fn top_by_profile(
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
    pub(super) fn block_bound(
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
    pub(super) fn block_order(&self, plan: &Plan<'_>, single: Option<u16>, first: usize) -> BlockOrder {
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
    pub(super) fn block_entry(
        &self,
        plan: &Plan<'_>,
        ymax: f32,
        bonus: f32,
        single: Option<u16>,
        bk: usize,
    ) -> Bound {
        let (bound, nonpositive) = self.block_bound(plan, ymax, bonus, single, bk);
        Bound(bound, nonpositive, self.block_first.get(bk).copied().unwrap_or(u32::MAX), bk)
    }

    /// Walks the blocks of `order`'s head (then, if the walk has not ended, `rest` calls `visit`
    /// on the other blocks best first until it returns false) and keeps the best `m` passing
    /// games. A block is skipped when `skip(block, k-th score)` says none of its games can beat
    /// the k-th (a tighter bound than the order's).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn walk_blocks(
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
}
