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

mod row;

/// A snapshot directory read into memory: its games as typed rows holding only what the features
/// use (streamed from the file, never held as JSON values), and its lookup tables.
#[derive(Debug)]
pub struct Snapshot {
    /// Where it was read from.
    pub dir: PathBuf,
    /// Rows in the games table.
    rows: usize,
    /// Rows skipped (no usable id, or a duplicate id).
    skipped: usize,
    /// The games with an id, first row per id, in file order.
    games: Vec<Parsed>,
    /// Lookup tables present in the snapshot, by name.
    pub tables: BTreeMap<String, Vec<Value>>,
    /// The newest `updated_at` (an integer) of any games row: the blob's default `created_at`.
    pub newest_updated_at: Option<i64>,
    /// The fields read from the games (the [`BuildOptions::fields`] given to [`load`]).
    enabled: [bool; FIELD_COUNT],
}

/// One game row reduced to the model's columns; what needs the lookup tables waits for them.
#[derive(Debug)]
struct Parsed {
    /// The game, `features` empty, `similar` as listed (unfiltered), `popularity` from the row.
    game: Game,
    /// Raw features (IGDB ids) per enabled field, sorted and unique; companies from expanded
    /// `involved_companies` only (unsorted, the companies table fills them in later).
    raw: [Vec<u32>; FIELD_COUNT],
    /// Names of expanded objects in the enabled fields: (field index, term id, name), in order.
    names: Vec<(usize, u32, String)>,
    /// A `cover` given as an id (looked up in the `covers` table).
    cover_id: Option<u32>,
}

/// Reads a snapshot directory: streams the games table row by row into [`Parsed`] games (only the
/// fields `opts` enables), then reads whichever lookup tables it has.
pub fn load(dir: &Path, opts: &BuildOptions) -> Result<Snapshot> {
    let enabled: [bool; FIELD_COUNT] = std::array::from_fn(|i| opts.fields.contains(&Field::ALL[i]));
    let (mut rows, mut skipped) = (0usize, 0usize);
    let mut seen: HashSet<u32> = HashSet::new();
    let mut games = Vec::new();
    let mut newest_updated_at = None;
    snapshot::for_each_game(dir, |r: row::Row| {
        rows += 1;
        newest_updated_at = newest_updated_at.max(r.updated_at.1);
        match r.id.id {
            Some(id) if seen.insert(id) => games.push(parse(id, r, &enabled)),
            _ => skipped += 1,
        }
    })?;
    let mut tables = BTreeMap::new();
    for name in TABLES {
        if let Some(rows) = snapshot::read_named(dir, name)? {
            tables.insert(name.to_string(), rows);
        }
    }
    Ok(Snapshot { dir: dir.to_path_buf(), rows, skipped, games, tables, newest_updated_at, enabled })
}

/// One row with an id → [`Parsed`], as the `Value` reading read it (decision 301).
fn parse(id: u32, r: row::Row, enabled: &[bool; FIELD_COUNT]) -> Parsed {
    let row::Row {
        name, slug, alternative_names, fields, franchise, collection, mut involved_companies, ..
    } = r;
    let mut raw: [Vec<u32>; FIELD_COUNT] = Default::default();
    let mut names = Vec::new();
    for (fi, list) in fields.into_iter().enumerate() {
        if !enabled[fi] {
            continue;
        }
        let mut v = match Field::ALL[fi] {
            Field::Companies => std::mem::take(&mut involved_companies.companies),
            Field::Franchises => [&list.ids[..], &franchise.ids[..]].concat(),
            Field::Collections => [&list.ids[..], &collection.ids[..]].concat(),
            _ => list.ids,
        };
        // Names of expanded objects.
        if list.is_array {
            names.extend(list.named.into_iter().map(|(tid, n)| (fi, tid, n)));
        }
        if Field::ALL[fi] != Field::Companies {
            v.sort_unstable();
            v.dedup();
        }
        raw[fi] = v;
    }
    let num = |n: row::Num| n.0.filter(|x| x.is_finite());
    let (rating, rating_count) = [
        (r.total_rating, r.total_rating_count),
        (r.aggregated_rating, r.aggregated_rating_count),
        (r.rating, r.rating_count),
    ]
    .iter()
    .find_map(|&(x, c)| num(x).map(|x| (x as f32, num(c).unwrap_or(0.0) as u32)))
    .map_or((None, 0), |(x, c)| (Some(x.clamp(0.0, 100.0)), c));
    let count = num(r.total_rating_count)
        .or_else(|| Some(num(r.rating_count)? + num(r.aggregated_rating_count).unwrap_or(0.0)))
        .or_else(|| num(r.aggregated_rating_count))
        .unwrap_or(0.0);
    let popularity = (num(r.follows).unwrap_or(0.0) + num(r.hypes).unwrap_or(0.0) + count).max(0.0) as f32;
    let (cover, cover_id) = match r.cover {
        Some(c) if c.is_object => (c.image_id, None),
        Some(c) => (None, c.id),
        None => (None, None),
    };
    let year =
        num(r.first_release_date).map(|ts| year_of_unix(ts as i64)).and_then(|y| u16::try_from(y).ok());
    let game_type = r.game_type.id.or(r.category.id).and_then(|t| u8::try_from(t).ok());
    Parsed {
        game: Game {
            id,
            name: name.0.unwrap_or_default(),
            slug: slug.0.unwrap_or_default(),
            alt_names: if alternative_names.is_array { alternative_names.names } else { Vec::new() },
            year,
            rating,
            rating_count,
            popularity,
            cover,
            game_type,
            features: Default::default(),
            similar: r.similar_games.ids,
        },
        raw,
        names,
        cover_id,
    }
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

/// Builds the engine model from a snapshot, with default parameters and empty metadata. `opts`
/// must be the options the snapshot was [`load`]ed with (the games hold only those fields).
pub fn build_model(snap: Snapshot, opts: &BuildOptions) -> Result<(Model, BuildStats)> {
    let Snapshot { dir, rows: n_rows, skipped, games: mut rows, tables, enabled: loaded, .. } = snap;
    let enabled: [bool; FIELD_COUNT] = std::array::from_fn(|i| opts.fields.contains(&Field::ALL[i]));
    anyhow::ensure!(enabled == loaded, "build_model: the snapshot was loaded for other fields");
    let mut stats = BuildStats { rows: n_rows, skipped, ..Default::default() };
    // Games by id (first row per id, already), lowest id first.
    rows.sort_unstable_by_key(|p| p.game.id);
    if let Some(max) = opts.max_games {
        rows.truncate(max);
    }
    if rows.is_empty() {
        bail!("{}: the games table holds no game with an id", dir.display());
    }
    let present: HashSet<u32> = rows.iter().map(|p| p.game.id).collect();

    // Display names from lookup tables (and from expanded objects inside games, below).
    let mut names: [HashMap<u32, String>; FIELD_COUNT] = Default::default();
    for f in Field::ALL {
        if let Some(table) = tables.get(f.name()) {
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
    if let Some(table) = tables.get("companies") {
        for c in table {
            let Some(cid) = c.get("id").and_then(as_id) else { continue };
            for key in ["developed", "published"] {
                for gid in ids_of(c.get(key)) {
                    companies_by_game.entry(gid).or_default().push(cid);
                }
            }
        }
    }
    let covers: HashMap<u32, String> = tables
        .get("covers")
        .map(|t| {
            t.iter()
                .filter_map(|c| {
                    Some((c.get("id").and_then(as_id)?, c.get("image_id")?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let primitives = popularity_from_primitives(tables.get("popularity_primitives"));
    stats.popularity_source = if primitives.is_some() {
        "popularity_primitives (per type scaled to its max, summed)".into()
    } else {
        "follows + hypes + rating count".into()
    };

    // Raw features (IGDB ids) per game per field.
    let mut games: Vec<Game> = Vec::with_capacity(rows.len());
    let mut raw: Vec<[Vec<u32>; FIELD_COUNT]> = Vec::with_capacity(rows.len());
    for p in rows {
        let Parsed { mut game, raw: mut feats, names: expanded, cover_id } = p;
        let id = game.id;
        let ci = Field::Companies.index();
        if enabled[ci] {
            if feats[ci].is_empty() {
                feats[ci] = companies_by_game.get(&id).cloned().unwrap_or_default();
            }
            feats[ci].sort_unstable();
            feats[ci].dedup();
        }
        for (fi, tid, n) in expanded {
            names[fi].entry(tid).or_insert(n);
        }
        raw.push(feats);
        if let Some(p) = &primitives {
            game.popularity = p.get(&id).copied().unwrap_or(0.0);
        }
        if !game.popularity.is_finite() {
            game.popularity = 0.0;
        }
        if let Some(c) = cover_id {
            game.cover = covers.get(&c).cloned();
        }
        let mut seen = HashSet::new();
        game.similar.retain(|s| *s != id && present.contains(s) && seen.insert(*s));
        games.push(game);
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

    /// A snapshot directory with these games (as `games.json`) and tables.
    fn snap(games: Vec<Value>, tables: Vec<(&str, Vec<Value>)>) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("games.json"), Value::Array(games).to_string()).unwrap();
        for (name, rows) in tables {
            std::fs::write(t.path().join(format!("{name}.json")), Value::Array(rows).to_string()).unwrap();
        }
        t
    }

    fn build(dir: &tempfile::TempDir, opts: &BuildOptions) -> Result<(Model, BuildStats)> {
        build_model(load(dir.path(), opts)?, opts)
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
        let (m, stats) = build(&s, &BuildOptions { min_df: 1, ..Default::default() }).unwrap();
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
        let (m2, _) = build(&s, &BuildOptions::default()).unwrap();
        assert_eq!(m2.vocab[Field::Genres.index()].len(), 1);
        playalike_engine::Engine::from_model(m2).unwrap();
    }

    #[test]
    fn rows_of_any_shape_read_as_the_value_reading_read_them() {
        let s = snap(
            vec![
                // A key given twice keeps the last value; an id may be an object (nested too).
                json!({"id": {"id": {"id": 3}}, "name": "first", "genres": [1.5, -2, "7", null, {"id": 8}, 8, 4294967296u64],
                       "cover": {"id": 5}, "game_type": 300, "category": 1, "alternative_names": [{"name": "x"}, "y", {"id": 2}],
                       "first_release_date": "2000", "total_rating": "90", "rating": 150.0, "rating_count": 3.7,
                       "follows": -50, "similar_games": {"id": 4}, "companies": [{"id": 6, "name": "Six"}],
                       "involved_companies": [{"company": {"id": 6}}, 9, {"company": 6}]}),
                json!(5),
                json!([{"id": 9}]),
                json!({"id": 1.0}),
                json!({"id": -1, "updated_at": 50}),
                json!({"id": "4", "updated_at": 99.5}),
                json!({"updated_at": 18446744073709551615u64}),
                json!({"id": 4, "genres": 8, "franchise": {"id": 2}, "franchises": [2, 2], "cover": 77,
                       "involved_companies": 6, "hypes": 1e300}),
            ],
            vec![("covers", vec![json!({"id": 77, "image_id": "c77"})])],
        );
        // The raw text keeps the duplicate key that a `Value` cannot hold.
        let games = std::fs::read_to_string(s.path().join("games.json")).unwrap();
        std::fs::write(
            s.path().join("games.json"),
            games.replacen("\"name\":\"first\"", "\"name\":\"first\",\"name\":\"last\"", 1),
        )
        .unwrap();
        let opts = BuildOptions { min_df: 1, ..Default::default() };
        let loaded = load(s.path(), &opts).unwrap();
        assert_eq!(loaded.newest_updated_at, Some(50), "any row's integer updated_at counts");
        let (m, stats) = build_model(loaded, &opts).unwrap();
        assert_eq!((stats.rows, stats.skipped), (8, 6));
        assert_eq!(m.games.iter().map(|g| g.id).collect::<Vec<_>>(), vec![3, 4]);
        let (a, b) = (&m.games[0], &m.games[1]);
        assert_eq!(a.name, "last");
        let genres = |g: &Game| {
            g.features[Field::Genres.index()]
                .iter()
                .map(|&t| m.vocab[Field::Genres.index()][t as usize].igdb_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(genres(a), vec![8]);
        assert_eq!(genres(b), vec![8]);
        assert_eq!((a.cover.as_deref(), b.cover.as_deref()), (None, Some("c77")));
        assert_eq!(a.game_type, None, "game_type 300 is an id, which does not fit a u8");
        assert_eq!(a.alt_names, vec!["x".to_string()]);
        assert_eq!((a.year, a.rating, a.rating_count), (None, Some(100.0), 3));
        assert_eq!(a.popularity, 0.0, "follows -50 + rating count 3 clamps at 0");
        assert_eq!(b.popularity, 0.0, "1e300 is infinite as an f32: 0");
        assert_eq!(a.similar, vec![4], "a lone object is one id");
        let companies = &m.vocab[Field::Companies.index()];
        assert_eq!(
            companies.iter().map(|t| (t.igdb_id, t.name.as_str())).collect::<Vec<_>>(),
            vec![(6, "Six")]
        );
        assert_eq!(a.features[Field::Companies.index()], vec![0]);
        assert!(b.features[Field::Companies.index()].is_empty(), "bare involved_companies carry no company");
        let fr = Field::Franchises.index();
        assert_eq!(b.features[fr].len(), 1);
    }

    #[test]
    fn malformed_snapshots_give_the_file_and_place() {
        let t = tempfile::tempdir().unwrap();
        let err = |files: &[(&str, &[u8])]| {
            for e in std::fs::read_dir(t.path()).unwrap() {
                std::fs::remove_file(e.unwrap().path()).unwrap();
            }
            for (name, text) in files {
                std::fs::write(t.path().join(name), text).unwrap();
            }
            let opts = BuildOptions::default();
            format!("{:#}", load(t.path(), &opts).and_then(|s| build_model(s, &opts)).unwrap_err())
        };
        assert!(err(&[]).contains("holds no games.json[l][.gz]: not a snapshot directory"));
        let e = err(&[("games.json", b"{\"id\": 1}")]);
        assert!(e.ends_with("games.json is not a JSON array of objects"), "{e}");
        // Syntax errors, also in fields the model does not use, are the ones a `Value` gives.
        for text in [
            &b"[{\"id\": 1}, {\"id\": 2,}]"[..],
            b"[{\"id\": 1}] x",
            b"{\"id\": 1",
            b"[{\"id\": 1, \"summary\": \"\\ud800\"}]",
            b"[{\"id\": 1, \"summary\": \"\xff\"}]",
            b"[{\"id\": 1, \"extra\": [1e999]}]",
            b"[{\"id\": 1, \"name\": \"a\x01\"}]",
        ] {
            let value = serde_json::from_reader::<_, Value>(text).unwrap_err().to_string();
            let e = err(&[("games.json", text)]);
            assert!(e.contains("games.json") && e.ends_with(&value), "{e} / {value}");
        }
        let e = err(&[("games.jsonl", b"{\"id\": 1}\n\n{\"id\": 2\n")]);
        assert!(e.contains("games.jsonl line 3"), "{e}");
        let e = err(&[("games.json", b"[5, {}]")]);
        assert!(e.contains("the games table holds no game with an id"), "{e}");
        let e = err(&[("games.json", b"[{\"id\": 1}]"), ("genres.json", b"[")]);
        assert!(e.contains("genres.json"), "{e}");
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
