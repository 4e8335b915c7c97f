//! Title search: an index of folded title words (names and alternative names), built at load.
//!
//! Each query word matches index words exactly (quality 3), as a prefix (2), or — for query
//! words of 4+ letters — with one typo, exactly (1.5) or as a prefix (1). The first letter must
//! be right for a typo match (that keeps the scan to one letter's words). A game matches when
//! every query word matches one of its words; its score is the sum of each word's best quality,
//! plus 0.5 when its title starts with a match of the first query word. Ties: popularity, then id.

use crate::catalog::{Catalog, Csr, Strings};
use crate::text::{fold_words, within_one_edit};
use std::collections::HashMap;

/// At most this many query words are used.
const MAX_WORDS: usize = 12;
const NONE: u32 = u32::MAX;

/// The search index: sorted unique words, and per word the games whose titles hold it.
#[derive(Debug, Default)]
pub struct SearchIndex {
    words: Strings,
    postings: Csr,
    /// Per game, the word id of its title's first word (`NONE` when the title has none).
    first_word: Vec<u32>,
}

impl SearchIndex {
    /// Folds every title and alternative name of the catalogue into the index.
    pub fn build(cat: &Catalog) -> SearchIndex {
        let n = cat.len();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(n * 4);
        let mut first_word = vec![NONE; n];
        for (g, first) in first_word.iter_mut().enumerate() {
            let mut add = |w: &str| {
                let next = ids.len() as u32;
                let id = match ids.get(w) {
                    Some(&id) => id,
                    None => {
                        ids.insert(w.to_string(), next);
                        next
                    }
                };
                pairs.push((id, g as u32));
                id
            };
            fold_words(cat.names.get(g), |w| {
                let id = add(w);
                if *first == NONE {
                    *first = id;
                }
            });
            for alt in cat.alt_names(g) {
                fold_words(alt, |w| {
                    add(w);
                });
            }
        }
        // Sort the words; remap ids to ranks.
        let mut sorted: Vec<(String, u32)> = ids.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut rank = vec![0u32; sorted.len()];
        for (r, (_, id)) in sorted.iter().enumerate() {
            rank[*id as usize] = r as u32;
        }
        let mut words = Strings { bytes: String::new(), offs: vec![0] };
        for (w, _) in &sorted {
            words.bytes.push_str(w);
            words.offs.push(words.bytes.len() as u32);
        }
        drop(sorted);
        for f in &mut first_word {
            if *f != NONE {
                *f = rank[*f as usize];
            }
        }
        // Counting sort by word; games arrive in ascending order, so postings come out sorted.
        let mut offs = vec![0u32; rank.len() + 1];
        for p in &mut pairs {
            p.0 = rank[p.0 as usize];
            offs[p.0 as usize + 1] += 1;
        }
        for i in 0..rank.len() {
            offs[i + 1] += offs[i];
        }
        let mut fill = offs.clone();
        let mut vals = vec![NONE; pairs.len()];
        for &(w, g) in &pairs {
            let slot = &mut fill[w as usize];
            // Skip a repeated word of the same game (it was pushed just before).
            if *slot > offs[w as usize] && vals[*slot as usize - 1] == g {
                continue;
            }
            vals[*slot as usize] = g;
            *slot += 1;
        }
        // Compact away the slots left by repeated words.
        let mut compact = Vec::with_capacity(vals.len());
        let mut new_offs = Vec::with_capacity(offs.len());
        new_offs.push(0u32);
        for w in 0..rank.len() {
            compact.extend_from_slice(&vals[offs[w] as usize..fill[w] as usize]);
            new_offs.push(compact.len() as u32);
        }
        SearchIndex { words, postings: Csr { offs: new_offs, vals: compact }, first_word }
    }

    /// Index range of words starting with `prefix`.
    fn prefix_range(&self, prefix: &str) -> (usize, usize) {
        let count = self.words.len();
        let lo = partition(count, |i| self.words.get(i) < prefix);
        let hi = lo + partition(count - lo, |i| self.words.get(lo + i).starts_with(prefix));
        (lo, hi)
    }

    /// The index words a query word matches, with their quality, best first.
    fn matches(&self, q: &str) -> Vec<(usize, f32)> {
        let mut out: Vec<(usize, f32)> = Vec::new();
        let (lo, hi) = self.prefix_range(q);
        for w in lo..hi {
            out.push((w, if self.words.get(w) == q { 3.0 } else { 2.0 }));
        }
        if q.chars().count() >= 4 {
            let first_len = q.chars().next().map_or(0, char::len_utf8);
            let (flo, fhi) = self.prefix_range(&q[..first_len]);
            let qb = q.as_bytes();
            for w in flo..fhi {
                if (lo..hi).contains(&w) {
                    continue;
                }
                let word = self.words.get(w).as_bytes();
                if word.len() + 1 < qb.len() {
                    continue;
                }
                if within_one_edit(qb, word, false) {
                    out.push((w, 1.5));
                } else if within_one_edit(qb, word, true) {
                    out.push((w, 1.0));
                }
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Best `k` games for `text` as (index, score in 0..=1).
    pub fn search(&self, cat: &Catalog, text: &str, k: usize) -> Vec<(usize, f32)> {
        let mut words: Vec<String> = Vec::new();
        fold_words(text, |w| {
            if words.len() < MAX_WORDS {
                words.push(w.to_string());
            }
        });
        if words.is_empty() || k == 0 {
            return Vec::new();
        }
        let per_word: Vec<Vec<(usize, f32)>> = words.iter().map(|w| self.matches(w)).collect();
        // Process the most selective word first: it bounds the candidate set.
        let volume =
            |m: &Vec<(usize, f32)>| m.iter().map(|&(w, _)| self.postings.get(w).len()).sum::<usize>();
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by_key(|&i| volume(&per_word[i]));
        let n = cat.len();
        let mut mask = vec![0u16; n];
        let mut score = vec![0.0f32; n];
        let mut touched: Vec<u32> = Vec::new();
        for (step, &qi) in order.iter().enumerate() {
            let need: u16 = (1u16 << step) - 1;
            let bit = 1u16 << step;
            for &(w, quality) in &per_word[qi] {
                for &g in self.postings.get(w) {
                    let gi = g as usize;
                    if mask[gi] != need {
                        continue;
                    }
                    let bonus = if qi == 0 && self.first_word[gi] == w as u32 { 0.5 } else { 0.0 };
                    mask[gi] |= bit;
                    score[gi] += quality + bonus;
                    if step == 0 {
                        touched.push(g);
                    }
                }
            }
        }
        let full: u16 = ((1u32 << words.len()) - 1) as u16;
        let max = 3.0 * words.len() as f32 + 0.5;
        let mut hits: Vec<(usize, f32)> = touched
            .into_iter()
            .map(|g| g as usize)
            .filter(|&g| mask[g] == full)
            .map(|g| (g, score[g] / max))
            .collect();
        let pop = |g: usize| cat.popularity.get(g).copied().unwrap_or(0.0);
        let better = |a: &(usize, f32), b: &(usize, f32)| {
            b.1.total_cmp(&a.1).then(pop(b.0).total_cmp(&pop(a.0))).then(a.0.cmp(&b.0))
        };
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, better);
            hits.truncate(k);
        }
        hits.sort_by(better);
        hits
    }
}

/// Number of leading indices in `0..len` for which `pred` holds (pred must be monotone).
fn partition(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
