//! Title search: an index of folded title words (names and alternative names), built on first
//! search (or `Engine::prepare_search`).
//!
//! Each query word matches index words exactly (quality 3), as a prefix (2), or — for query
//! words of 4+ letters — with one typo, exactly (1.5) or as a prefix (1). The first letter must
//! be right for a typo match (that keeps the scan to one letter's words). A game matches when
//! every query word matches one of its words; its score is the sum of each word's best quality,
//! plus 0.5 when its title starts with a match of the first query word. Ties: popularity, then id.

use crate::catalog::{Catalog, Csr, Strings};
use crate::engine::{Engine, SearchHit};
use crate::text::{fold_words, fold_words_into, within_one_edit};
use hashbrown::hash_table::{Entry, HashTable};

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
    ///
    /// This runs once per loaded model, so it is built for speed (docs/decisions/106, 107): words are
    /// folded into a reused buffer, deduplicated in a hash table whose keys live in one arena,
    /// sorted by an 8-byte prefix key (full comparison only on ties), and the postings filled by
    /// a counting sort over per-game word lists.
    pub fn build(cat: &Catalog) -> SearchIndex {
        let n = cat.len();
        // Entries hold the word's first 8 bytes and its length beside its id: most words are
        // that short and compare without a visit to the arena (lookups were cache-miss bound).
        let mut table: HashTable<Slot> = HashTable::with_capacity(n / 3 + 16);
        // Unique words: bytes in `arena`, word `i` is `arena[ends[i - 1]..ends[i]]`.
        let mut arena: Vec<u8> = Vec::new();
        let mut ends: Vec<u32> = Vec::new();
        let mut hashes: Vec<u64> = Vec::new();
        // Per game, its word ids (a CSR by game, first the title's words).
        let mut occ: Vec<u32> = Vec::with_capacity(n * 4);
        let mut occ_offs: Vec<u32> = Vec::with_capacity(n + 1);
        occ_offs.push(0);
        let mut first_word = vec![NONE; n];
        let mut buf = Vec::new();
        let mut add = |w: &[u8], occ: &mut Vec<u32>| {
            let h = word_hash(w);
            let word = |id: u32| {
                let end = ends[id as usize] as usize;
                let start = if id == 0 { 0 } else { ends[id as usize - 1] as usize };
                &arena[start..end]
            };
            let head = prefix_key(w);
            let len = w.len() as u32;
            let eq = |s: &Slot| s.head == head && s.len == len && (len <= 8 || word(s.id) == w);
            let id = match table.entry(h, eq, |s| hashes[s.id as usize]) {
                Entry::Occupied(o) => o.get().id,
                Entry::Vacant(v) => {
                    let id = ends.len() as u32;
                    v.insert(Slot { head, len, id });
                    arena.extend_from_slice(w);
                    ends.push(arena.len() as u32);
                    hashes.push(h);
                    id
                }
            };
            occ.push(id);
            id
        };
        for (g, first) in first_word.iter_mut().enumerate() {
            let from = occ.len();
            fold_words_into(&mut buf, cat.names.get(g), |w| {
                let id = add(w, &mut occ);
                if *first == NONE {
                    *first = id;
                }
            });
            for alt in cat.alt_names(g) {
                fold_words_into(&mut buf, alt, |w| {
                    add(w, &mut occ);
                });
            }
            // A game lists each word once.
            let words = &mut occ[from..];
            words.sort_unstable();
            let mut kept = 0;
            for i in 0..words.len() {
                if i == 0 || words[i] != words[i - 1] {
                    words[kept] = words[i];
                    kept += 1;
                }
            }
            occ.truncate(from + kept);
            occ_offs.push(occ.len() as u32);
        }
        drop(table);
        drop(hashes);

        // Sort the words: by their first 8 bytes as a big-endian number, then in full.
        let count = ends.len();
        let word = |id: usize| {
            let start = if id == 0 { 0 } else { ends[id - 1] as usize };
            &arena[start..ends[id] as usize]
        };
        let key: Vec<u64> = (0..count).map(|id| prefix_key(word(id))).collect();
        let mut order: Vec<u32> = (0..count as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            key[a].cmp(&key[b]).then_with(|| word(a).cmp(word(b)))
        });
        drop(key);

        let mut rank = vec![0u32; count];
        let mut bytes = Vec::with_capacity(arena.len());
        let mut offs = Vec::with_capacity(count + 1);
        offs.push(0u32);
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
            bytes.extend_from_slice(word(id as usize));
            offs.push(bytes.len() as u32);
        }
        drop(order);
        // Every word is a run of whole characters of valid UTF-8 text.
        let words = Strings { bytes: String::from_utf8(bytes).unwrap_or_default(), offs };
        for f in &mut first_word {
            if *f != NONE {
                *f = rank[*f as usize];
            }
        }
        // Counting sort by word; games arrive in ascending order, so postings come out sorted.
        let mut p_offs = vec![0u32; count + 1];
        for w in &mut occ {
            *w = rank[*w as usize];
            p_offs[*w as usize + 1] += 1;
        }
        for i in 0..count {
            p_offs[i + 1] += p_offs[i];
        }
        let mut fill = p_offs.clone();
        let mut vals = vec![0u32; occ.len()];
        for g in 0..n {
            let (a, b) = (occ_offs[g] as usize, occ_offs[g + 1] as usize);
            for &w in &occ[a..b] {
                let slot = &mut fill[w as usize];
                vals[*slot as usize] = g as u32;
                *slot += 1;
            }
        }

        SearchIndex { words, postings: Csr { offs: p_offs, vals }, first_word }
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
        // Built as (quality, word) to share the engine's (score, index) sort (decision 517).
        let mut out: Vec<(f32, usize)> = Vec::new();
        let (lo, hi) = self.prefix_range(q);
        for w in lo..hi {
            out.push((if self.words.get(w) == q { 3.0 } else { 2.0 }, w));
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
                    out.push((1.5, w));
                } else if within_one_edit(qb, word, true) {
                    out.push((1.0, w));
                }
            }
        }
        out.sort_by(crate::engine::best_first_order);
        out.into_iter().map(|(quality, w)| (w, quality)).collect()
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
        let volume: Vec<usize> =
            per_word.iter().map(|m| m.iter().map(|&(w, _)| self.postings.get(w).len()).sum()).collect();
        let mut order: Vec<usize> = (0..words.len()).collect();
        // By volume, ties in word order: an insertion sort (at most MAX_WORDS items), the order of
        // `sort_by_key` without another instance of the standard sort in the .wasm (decision 517).
        for i in 1..order.len() {
            let mut j = i;
            while j > 0 && volume[order[j - 1]] > volume[order[j]] {
                order.swap(j - 1, j);
                j -= 1;
            }
        }
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

/// A title-index table entry: a word's first 8 bytes (see [`prefix_key`]), length and id.
struct Slot {
    head: u64,
    len: u32,
    id: u32,
}

/// A word's first 8 bytes as a big-endian number (zero-padded): orders like the bytes.
fn prefix_key(w: &[u8]) -> u64 {
    let mut k = [0u8; 8];
    let m = w.len().min(8);
    k[..m].copy_from_slice(&w[..m]);
    u64::from_be_bytes(k)
}

/// FxHash-style hash of a folded word, 8 bytes at a time: 64-bit multiplies only, which wasm
/// has natively (foldhash's 128-bit multiply is emulated there and made the index build 2x
/// slower). Good high bits (hashbrown's tag) and low bits (its bucket) for short words.
fn word_hash(w: &[u8]) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut h = w.len() as u64;
    let mut chunks = w.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        h = (h.rotate_left(26) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(26) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    h ^ (h >> 29)
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

impl Engine {
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
