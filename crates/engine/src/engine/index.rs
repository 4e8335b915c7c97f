//! Index building at load ([`Engine::index`]): term weights, and per field how its cosine
//! reaches the candidates ([`FieldIndex`]: postings for rare terms, profiles for common ones),
//! the priors, and the blocks of the profile walk (decisions 101, 106, 107).

use super::Engine;
use super::score::{idf_weight, log_popularity, norm};
use crate::catalog::{Catalog, Csr};
use crate::model::{FIELD_COUNT, Model};
use std::sync::OnceLock;

/// Games per block of the profile walk.
pub(super) const BLOCK: usize = 128;

/// A field is scored by sets when a query would otherwise walk postings covering at least
/// `1 / SET_MODE_SHARE` of the catalogue (e.g. genres, platforms).
const SET_MODE_SHARE: f64 = 10.0;

/// How a field's cosine reaches the candidates.
#[derive(Debug, Default)]
pub(super) enum FieldIndex {
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

/// How many times each of `vocab_len` terms occurs in `vals`.
fn doc_freq(vals: &[u32], vocab_len: usize) -> Vec<u32> {
    let mut df = vec![0u32; vocab_len];
    for &t in vals {
        if let Some(d) = df.get_mut(t as usize) {
            *d += 1;
        }
    }
    df
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
    /// Indexes a catalog (already validated).
    pub(super) fn index(cat: Catalog, format_version: (u16, u16), model: OnceLock<Model>) -> Engine {
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
        // By volume, descending; ties keep field order. An insertion sort (at most FIELD_COUNT
        // items): the order of `sort_by`, without another instance of the standard sort in the
        // .wasm (decision 517).
        for i in 1..common.len() {
            let mut j = i;
            while j > 0 && common[j - 1].1.total_cmp(&common[j].1).is_lt() {
                common.swap(j - 1, j);
                j -= 1;
            }
        }
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
}
