//! Snapshot → [`Model`]: turns IGDB game objects (as the API returns them) into the engine's
//! catalogue, vocabularies and per-field feature lists. Parameters are left at their defaults;
//! `train` learns them.
//!
//! Field handling (documented in docs/decisions/301-features.md):
//! - categorical fields take ids (numbers) or expanded objects (`{"id": …, "name": …}`);
//! - `franchise` / `collection` (deprecated singular fields) merge into `franchises` / `collections`;
//! - companies come from `involved_companies` when those are expanded objects (`company` field),
//!   else from the `companies` lookup table's `developed` / `published` game lists;
//! - `game_type`, else the older `category`;
//! - rating = `total_rating`, else `aggregated_rating`, else `rating` (with the matching count);
//! - popularity = the `popularity_primitives` table when the snapshot has one (per popularity type,
//!   values scaled to the type's maximum, summed), else `follows + hypes + rating count`;
//! - cover = the `image_id` of an expanded cover object, or of a `covers` lookup table; a bare
//!   numeric cover id without a table is dropped (it does not form an image URL);
//! - `similar_games` keeps only ids present in the snapshot;
//! - `alternative_names` keeps the names of expanded objects (bare ids carry no text).

use crate::snapshot;
use anyhow::{Context, Result, bail};
use playalike_engine::{FIELD_COUNT, Field, Game, Model, Params, Term};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Lookup tables read from a snapshot when present.
const TABLES: [&str; 12] = [
    "genres",
    "themes",
    "platforms",
    "game_modes",
    "player_perspectives",
    "keywords",
    "franchises",
    "collections",
    "companies",
    "game_engines",
    "covers",
    "popularity_primitives",
];

/// A snapshot directory read into memory.
#[derive(Debug)]
pub struct Snapshot {
    /// Where it was read from.
    pub dir: PathBuf,
    /// The games table rows.
    pub games: Vec<Value>,
    /// Lookup tables present in the snapshot, by name.
    pub tables: BTreeMap<String, Vec<Value>>,
}

/// Reads a snapshot directory (games plus whichever lookup tables it has).
pub fn load(dir: &Path) -> Result<Snapshot> {
    let games = snapshot::read_games(dir)?;
    let mut tables = BTreeMap::new();
    for name in TABLES {
        if let Some(rows) = snapshot::read_named(dir, name)? {
            tables.insert(name.to_string(), rows);
        }
    }
    Ok(Snapshot { dir: dir.to_path_buf(), games, tables })
}

/// Choices made while building the model.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Fields to keep; the others stay empty.
    pub fields: Vec<Field>,
    /// Drop terms used by fewer games than this (a term only one game has can never be shared; it
    /// only dilutes that game's cosine).
    pub min_df: u32,
    /// Keep at most this many games (lowest ids first); `None` = all.
    pub max_games: Option<usize>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { fields: Field::ALL.to_vec(), min_df: 2, max_games: None }
    }
}

/// Counts of what the conversion kept and dropped.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BuildStats {
    /// Rows in the games table.
    pub rows: usize,
    /// Rows skipped (no usable id, or a duplicate id).
    pub skipped: usize,
    /// Games in the model.
    pub games: usize,
    /// Games with at least one in-set similar game.
    pub with_similar: usize,
    /// Vocabulary size per field name.
    pub vocab: BTreeMap<String, usize>,
    /// Where popularity came from.
    pub popularity_source: String,
}

fn as_id(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
        Value::Object(o) => o.get("id").and_then(as_id),
        _ => None,
    }
}

fn ids_of(v: Option<&Value>) -> Vec<u32> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(as_id).collect(),
        Some(other) => as_id(other).into_iter().collect(),
        None => Vec::new(),
    }
}

fn num(o: &Value, key: &str) -> Option<f64> {
    o.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

/// Year (proleptic Gregorian, UTC) of a unix timestamp in seconds (clamped to chrono's range of
/// about ±262,000 years).
pub fn year_of_unix(ts: i64) -> i64 {
    use chrono::{DateTime, Datelike, Utc};
    let ts = ts.clamp(DateTime::<Utc>::MIN_UTC.timestamp(), DateTime::<Utc>::MAX_UTC.timestamp());
    DateTime::from_timestamp(ts, 0).map_or(1970, |d| i64::from(d.year()))
}

/// Builds the engine model from a snapshot, with default parameters and empty metadata.
pub fn build_model(snap: &Snapshot, opts: &BuildOptions) -> Result<(Model, BuildStats)> {
    let mut stats = BuildStats { rows: snap.games.len(), ..Default::default() };
    // Rows by id, deduplicated, lowest id first.
    let mut rows: BTreeMap<u32, &Value> = BTreeMap::new();
    for row in &snap.games {
        match row.get("id").and_then(as_id) {
            Some(id) if !rows.contains_key(&id) => {
                rows.insert(id, row);
            }
            _ => stats.skipped += 1,
        }
    }
    if let Some(max) = opts.max_games {
        while rows.len() > max {
            rows.pop_last();
        }
    }
    if rows.is_empty() {
        bail!("{}: the games table holds no game with an id", snap.dir.display());
    }
    let present: HashSet<u32> = rows.keys().copied().collect();

    // Display names from lookup tables (and from expanded objects inside games, below).
    let mut names: [HashMap<u32, String>; FIELD_COUNT] = Default::default();
    for f in Field::ALL {
        if let Some(table) = snap.tables.get(f.name()) {
            for t in table {
                if let (Some(id), Some(name)) =
                    (t.get("id").and_then(as_id), t.get("name").and_then(Value::as_str))
                {
                    names[f.index()].insert(id, name.to_string());
                }
            }
        }
    }
    // Companies by game, from the companies table's developed/published lists.
    let mut companies_by_game: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Some(table) = snap.tables.get("companies") {
        for c in table {
            let Some(cid) = c.get("id").and_then(as_id) else { continue };
            for key in ["developed", "published"] {
                for gid in ids_of(c.get(key)) {
                    companies_by_game.entry(gid).or_default().push(cid);
                }
            }
        }
    }
    let covers: HashMap<u32, String> = snap
        .tables
        .get("covers")
        .map(|t| {
            t.iter()
                .filter_map(|c| {
                    Some((c.get("id").and_then(as_id)?, c.get("image_id")?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let primitives = popularity_from_primitives(snap.tables.get("popularity_primitives"));
    stats.popularity_source = if primitives.is_some() {
        "popularity_primitives (per type scaled to its max, summed)".into()
    } else {
        "follows + hypes + rating count".into()
    };

    let enabled: [bool; FIELD_COUNT] = std::array::from_fn(|i| opts.fields.contains(&Field::ALL[i]));
    // Raw features (IGDB ids) per game per field.
    let mut games: Vec<Game> = Vec::with_capacity(rows.len());
    let mut raw: Vec<[Vec<u32>; FIELD_COUNT]> = Vec::with_capacity(rows.len());
    for (&id, row) in &rows {
        let mut feats: [Vec<u32>; FIELD_COUNT] = Default::default();
        for f in Field::ALL {
            if !enabled[f.index()] {
                continue;
            }
            let mut v = match f {
                Field::Companies => {
                    let inv = row.get("involved_companies");
                    let expanded: Vec<u32> = match inv {
                        Some(Value::Array(a)) => {
                            a.iter().filter_map(|ic| ic.get("company").and_then(as_id)).collect()
                        }
                        _ => Vec::new(),
                    };
                    if expanded.is_empty() {
                        companies_by_game.get(&id).cloned().unwrap_or_default()
                    } else {
                        expanded
                    }
                }
                Field::Franchises => {
                    let mut v = ids_of(row.get("franchises"));
                    v.extend(ids_of(row.get("franchise")));
                    v
                }
                Field::Collections => {
                    let mut v = ids_of(row.get("collections"));
                    v.extend(ids_of(row.get("collection")));
                    v
                }
                _ => ids_of(row.get(f.name())),
            };
            // Names of expanded objects.
            if let Some(Value::Array(a)) = row.get(f.name()) {
                for o in a {
                    if let (Some(tid), Some(n)) = (as_id(o), o.get("name").and_then(Value::as_str)) {
                        names[f.index()].entry(tid).or_insert_with(|| n.to_string());
                    }
                }
            }
            v.sort_unstable();
            v.dedup();
            feats[f.index()] = v;
        }
        raw.push(feats);

        let (rating, rating_count) = [
            ("total_rating", "total_rating_count"),
            ("aggregated_rating", "aggregated_rating_count"),
            ("rating", "rating_count"),
        ]
        .iter()
        .find_map(|(r, c)| num(row, r).map(|x| (x as f32, num(row, c).unwrap_or(0.0) as u32)))
        .map_or((None, 0), |(r, c)| (Some(r.clamp(0.0, 100.0)), c));
        let popularity = match &primitives {
            Some(p) => p.get(&id).copied().unwrap_or(0.0),
            None => {
                let count = num(row, "total_rating_count")
                    .or_else(|| {
                        Some(num(row, "rating_count")? + num(row, "aggregated_rating_count").unwrap_or(0.0))
                    })
                    .or_else(|| num(row, "aggregated_rating_count"))
                    .unwrap_or(0.0);
                (num(row, "follows").unwrap_or(0.0) + num(row, "hypes").unwrap_or(0.0) + count).max(0.0)
                    as f32
            }
        };
        let cover = match row.get("cover") {
            Some(Value::Object(o)) => o.get("image_id").and_then(Value::as_str).map(str::to_string),
            Some(v) => as_id(v).and_then(|c| covers.get(&c).cloned()),
            None => None,
        };
        let year = num(row, "first_release_date")
            .map(|ts| year_of_unix(ts as i64))
            .and_then(|y| u16::try_from(y).ok());
        let game_type = row
            .get("game_type")
            .and_then(as_id)
            .or_else(|| row.get("category").and_then(as_id))
            .and_then(|t| u8::try_from(t).ok());
        let alt_names = match row.get("alternative_names") {
            Some(Value::Array(a)) => {
                a.iter().filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_string)).collect()
            }
            _ => Vec::new(),
        };
        let mut similar: Vec<u32> = ids_of(row.get("similar_games"))
            .into_iter()
            .filter(|s| *s != id && present.contains(s))
            .collect();
        let mut seen = HashSet::new();
        similar.retain(|s| seen.insert(*s));
        games.push(Game {
            id,
            name: row.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            slug: row.get("slug").and_then(Value::as_str).unwrap_or_default().to_string(),
            alt_names,
            year,
            rating,
            rating_count,
            popularity: if popularity.is_finite() { popularity } else { 0.0 },
            cover,
            game_type,
            features: Default::default(),
            similar,
        });
    }

    // Vocabularies: terms used by at least min_df games, ordered by IGDB id.
    let mut vocab: [Vec<Term>; FIELD_COUNT] = Default::default();
    for f in Field::ALL {
        let fi = f.index();
        let mut df: BTreeMap<u32, u32> = BTreeMap::new();
        for r in &raw {
            for &t in &r[fi] {
                *df.entry(t).or_default() += 1;
            }
        }
        let kept: BTreeSet<u32> =
            df.into_iter().filter(|&(_, d)| d >= opts.min_df.max(1)).map(|(t, _)| t).collect();
        let index: HashMap<u32, u32> = kept.iter().enumerate().map(|(i, &t)| (t, i as u32)).collect();
        vocab[fi] = kept
            .iter()
            .map(|&t| Term { igdb_id: t, name: names[fi].get(&t).cloned().unwrap_or_default() })
            .collect();
        for (g, r) in games.iter_mut().zip(&raw) {
            // Raw ids are sorted, and index order follows id order, so the result is sorted.
            g.features[fi] = r[fi].iter().filter_map(|t| index.get(t).copied()).collect();
        }
        stats.vocab.insert(f.name().to_string(), vocab[fi].len());
    }
    stats.games = games.len();
    stats.with_similar = games.iter().filter(|g| !g.similar.is_empty()).count();
    let model = Model { metadata: Default::default(), params: Params::default(), vocab, games };
    Ok((model, stats))
}

/// Popularity per game id from an IGDB `popularity_primitives` table: each popularity type scaled
/// to its own maximum, then summed (types have different units: visits, follows, …).
fn popularity_from_primitives(table: Option<&Vec<Value>>) -> Option<HashMap<u32, f32>> {
    let table = table.filter(|t| !t.is_empty())?;
    let mut by_type: BTreeMap<u32, Vec<(u32, f64)>> = BTreeMap::new();
    for row in table {
        let (Some(gid), Some(v)) = (row.get("game_id").and_then(as_id), num(row, "value")) else { continue };
        let ty = row.get("popularity_type").and_then(as_id).unwrap_or(0);
        by_type.entry(ty).or_default().push((gid, v.max(0.0)));
    }
    let mut out: HashMap<u32, f32> = HashMap::new();
    for rows in by_type.values() {
        let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
        if max <= 0.0 {
            continue;
        }
        for &(gid, v) in rows {
            *out.entry(gid).or_default() += (1000.0 * v / max) as f32;
        }
    }
    Some(out)
}

/// Parses a comma-separated field list (`genres,themes,…` or `all`).
pub fn parse_fields(s: &str) -> Result<Vec<Field>> {
    if s.trim().is_empty() || s.trim() == "all" {
        return Ok(Field::ALL.to_vec());
    }
    s.split(',')
        .map(|name| {
            let name = name.trim();
            Field::from_name(name).or_else(|| (name == "engines").then_some(Field::Engines)).with_context(
                || {
                    format!(
                        "while reading --fields: unknown field {name:?} (known: {})",
                        Field::ALL.map(|f| f.name()).join(",")
                    )
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snap(games: Vec<Value>, tables: Vec<(&str, Vec<Value>)>) -> Snapshot {
        Snapshot {
            dir: PathBuf::from("mem"),
            games,
            tables: tables.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }

    #[test]
    fn converts_fields_and_merges_deprecated_ones() {
        let s = snap(
            vec![
                json!({"id": 1, "name": "A", "slug": "a", "genres": [5, 12], "collection": 7, "franchises": [3],
                       "first_release_date": 946684800, "total_rating": 80.0, "total_rating_count": 10,
                       "follows": 5, "hypes": 1, "category": 0, "similar_games": [2, 99, 1],
                       "cover": {"id": 4, "image_id": "co1"}, "alternative_names": [{"id": 1, "name": "Aa"}, 5]}),
                json!({"id": 2, "name": "B", "genres": [{"id": 5, "name": "Shooter"}], "collections": [7],
                       "franchise": 3, "aggregated_rating": 60.0, "game_type": 2, "cover": 77}),
                json!({"id": 2, "name": "dup"}),
                json!({"name": "no id"}),
            ],
            vec![
                ("genres", vec![json!({"id": 12, "name": "RPG"})]),
                ("companies", vec![json!({"id": 9, "developed": [1, 2]})]),
            ],
        );
        let (m, stats) = build_model(&s, &BuildOptions { min_df: 1, ..Default::default() }).unwrap();
        assert_eq!(stats.skipped, 2);
        assert_eq!(m.games.len(), 2);
        let g = &m.games[0];
        assert_eq!(g.year, Some(2000));
        assert_eq!(g.rating, Some(80.0));
        assert_eq!(g.popularity, 16.0);
        assert_eq!(g.similar, vec![2]);
        assert_eq!(g.cover.as_deref(), Some("co1"));
        assert_eq!(g.alt_names, vec!["Aa".to_string()]);
        assert_eq!(g.game_type, Some(0));
        assert_eq!(m.games[1].game_type, Some(2));
        assert_eq!(m.games[1].cover, None);
        assert_eq!(m.games[1].rating, Some(60.0));
        let genres = &m.vocab[Field::Genres.index()];
        assert_eq!(
            genres.iter().map(|t| (t.igdb_id, t.name.as_str())).collect::<Vec<_>>(),
            vec![(5, "Shooter"), (12, "RPG")]
        );
        for f in [Field::Collections, Field::Franchises, Field::Companies] {
            assert_eq!(m.games[0].features[f.index()], m.games[1].features[f.index()], "{f:?}");
            assert_eq!(m.games[0].features[f.index()].len(), 1, "{f:?}");
        }
        // min_df 2 drops the genre only game 1 has.
        let (m2, _) = build_model(&s, &BuildOptions::default()).unwrap();
        assert_eq!(m2.vocab[Field::Genres.index()].len(), 1);
        playalike_engine::Engine::from_model(m2).unwrap();
    }

    #[test]
    fn dates_before_1970_and_field_lists() {
        assert_eq!(year_of_unix(-1), 1969);
        assert_eq!(year_of_unix(951_782_400), 2000); // 2000-02-29
        assert_eq!(year_of_unix(i64::MAX), year_of_unix(i64::MAX - 1), "no overflow");
        assert_eq!(crate::train::rfc3339(951_782_400 + 3_723), "2000-02-29T01:02:03Z");
        assert_eq!(crate::train::rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(parse_fields("genres, keywords").unwrap(), vec![Field::Genres, Field::Keywords]);
        assert!(parse_fields("genres,nope").is_err());
    }
}
