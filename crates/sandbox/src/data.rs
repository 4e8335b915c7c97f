//! The sandbox's tables: each one loaded once from a snapshot directory, kept as compact JSON
//! text sorted by id (cheap in memory at 333k games, and `fields *` answers are a concatenation),
//! parsed only when a filter, a projection or a sort needs fields other than `id`.

use super::apicalypse::{Expr, Query};
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// IGDB endpoints the sandbox knows. Those without a table in the data directory answer `[]`
/// (IGDB answers `[]` when nothing matches); any other endpoint answers 404, as IGDB does.
pub const KNOWN_ENDPOINTS: &[&str] = &[
    "age_ratings",
    "alternative_names",
    "artworks",
    "collections",
    "companies",
    "covers",
    "external_games",
    "franchises",
    "game_engines",
    "game_modes",
    "game_types",
    "game_versions",
    "games",
    "genres",
    "involved_companies",
    "keywords",
    "language_supports",
    "multiplayer_modes",
    "platform_families",
    "platforms",
    "player_perspectives",
    "popularity_primitives",
    "popularity_types",
    "release_dates",
    "screenshots",
    "themes",
    "websites",
];

/// One row: its id and its compact JSON text.
#[derive(Debug, Clone)]
pub struct Row {
    /// The `id` field.
    pub id: u64,
    /// The object as compact JSON.
    pub raw: Box<str>,
}

impl Row {
    fn parse(&self) -> Map<String, Value> {
        match serde_json::from_str(&self.raw) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// A table sorted by id.
#[derive(Debug, Default)]
pub struct Table {
    /// Rows, ascending id, ids unique.
    pub rows: Vec<Row>,
}

/// All tables of a data directory, by endpoint name.
#[derive(Debug, Default)]
pub struct Data {
    /// Tables by endpoint.
    pub tables: BTreeMap<String, Table>,
}

fn row_of(v: Value, what: &str) -> Result<Row> {
    let id = v
        .get("id")
        .and_then(Value::as_u64)
        .with_context(|| format!("{what}: object without an integer id"))?;
    Ok(Row { id, raw: serde_json::to_string(&v)?.into_boxed_str() })
}

fn finish(mut rows: Vec<Row>, what: &str) -> Result<Table> {
    rows.sort_by_key(|r| r.id);
    if let Some(w) = rows.windows(2).find(|w| w[0].id == w[1].id) {
        bail!("{what}: id {} appears twice", w[0].id);
    }
    Ok(Table { rows })
}

/// Loads one table file (`.json[l][.gz]`).
pub fn load_table(path: &Path) -> Result<Table> {
    let what = path.display().to_string();
    let name = path.to_string_lossy();
    if name.ends_with(".jsonl") || name.ends_with(".jsonl.gz") {
        // Streamed line by line: at 333k games this keeps the load's peak near the final size.
        let file = std::fs::File::open(path).with_context(|| format!("while opening {what}"))?;
        let reader: Box<dyn std::io::Read> =
            if name.ends_with(".gz") { Box::new(flate2::read::GzDecoder::new(file)) } else { Box::new(file) };
        let mut rows = Vec::new();
        for (no, line) in std::io::BufReader::with_capacity(1 << 20, reader).lines().enumerate() {
            let line = line.with_context(|| format!("while reading {what}"))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line)
                .with_context(|| format!("while parsing {what} line {}", no + 1))?;
            rows.push(row_of(v, &format!("{what} line {}", no + 1))?);
        }
        finish(rows, &what)
    } else {
        let rows = crate::snapshot::read_table(path)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| row_of(v, &format!("{what} row {i}")))
            .collect::<Result<Vec<_>>>()?;
        finish(rows, &what)
    }
}

/// Loads every `NAME.json[l][.gz]` of a snapshot directory whose NAME is a known endpoint.
pub fn load_dir(dir: &Path) -> Result<Data> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut data = Data::default();
    for ep in KNOWN_ENDPOINTS {
        if let Some(p) = crate::snapshot::find_table(dir, ep) {
            data.tables.insert((*ep).to_string(), load_table(&p)?);
        }
    }
    if !data.tables.contains_key("games") {
        bail!("{} holds no games.json[l][.gz]: not a snapshot directory", dir.display());
    }
    Ok(data)
}

fn sort_key(v: Option<&Value>) -> (u8, f64, String) {
    match v {
        Some(Value::Number(n)) => (0, n.as_f64().unwrap_or(0.0), String::new()),
        Some(Value::String(s)) => (1, 0.0, s.clone()),
        Some(Value::Bool(b)) => (0, f64::from(u8::from(*b)), String::new()),
        _ => (2, 0.0, String::new()),
    }
}

fn project(row: &Row, parsed: Option<Map<String, Value>>, q: &Query) -> String {
    if q.fields.is_none() && q.exclude.is_empty() {
        return row.raw.to_string();
    }
    let mut m = parsed.unwrap_or_else(|| row.parse());
    if let Some(fields) = &q.fields {
        let keep: Vec<&str> = fields.iter().map(|f| f.split('.').next().unwrap_or(f)).collect();
        m.retain(|k, _| k == "id" || keep.contains(&k.as_str()));
    }
    for x in &q.exclude {
        if x != "id" {
            m.remove(x);
        }
    }
    serde_json::to_string(&Value::Object(m)).unwrap_or_else(|_| "{}".into())
}

impl Table {
    fn range(&self, filter: Option<&Expr>) -> &[Row] {
        let (lo, hi) = filter.map_or((0, u64::MAX), Expr::id_bounds);
        if lo > hi {
            return &[];
        }
        let a = self.rows.partition_point(|r| r.id < lo);
        let b = self.rows.partition_point(|r| r.id <= hi);
        &self.rows[a..b.max(a)]
    }

    fn matches(row: &Row, filter: Option<&Expr>) -> (bool, Option<Map<String, Value>>) {
        match filter {
            None => (true, None),
            Some(f) if f.only_id() => {
                let mut m = Map::new();
                m.insert("id".into(), Value::from(row.id));
                (f.eval(&m), None)
            }
            Some(f) => {
                let m = row.parse();
                (f.eval(&m), Some(m))
            }
        }
    }

    /// Runs a query; returns the JSON text of each matching row, in order.
    pub fn select(&self, q: &Query) -> Vec<String> {
        let filter = q.filter.as_ref();
        let rows = self.range(filter);
        let want = q.offset + q.limit;
        let by_id = match &q.sort {
            None => Some(true),
            Some((f, asc)) if f == "id" => Some(*asc),
            Some(_) => None,
        };
        if let Some(asc) = by_id {
            let mut out = Vec::new();
            let mut seen = 0;
            let iter: Box<dyn Iterator<Item = &Row>> =
                if asc { Box::new(rows.iter()) } else { Box::new(rows.iter().rev()) };
            for r in iter {
                let (ok, parsed) = Self::matches(r, filter);
                if ok {
                    seen += 1;
                    if seen > q.offset {
                        out.push(project(r, parsed, q));
                    }
                    if seen >= want {
                        break;
                    }
                }
            }
            return out;
        }
        match &q.sort {
            None => Vec::new(),
            Some((f, asc)) => {
                let mut hits: Vec<(&Row, Map<String, Value>)> = rows
                    .iter()
                    .filter_map(|r| {
                        let m = r.parse();
                        filter.is_none_or(|e| e.eval(&m)).then_some((r, m))
                    })
                    .collect();
                hits.sort_by(|a, b| {
                    let o = sort_key(a.1.get(f.as_str()))
                        .partial_cmp(&sort_key(b.1.get(f.as_str())))
                        .unwrap_or(std::cmp::Ordering::Equal);
                    let o = if *asc { o } else { o.reverse() };
                    o.then(a.0.id.cmp(&b.0.id))
                });
                hits.into_iter().skip(q.offset).take(q.limit).map(|(r, m)| project(r, Some(m), q)).collect()
            }
        }
    }

    /// Counts matching rows.
    pub fn count(&self, filter: Option<&Expr>) -> usize {
        self.range(filter).iter().filter(|r| Self::matches(r, filter).0).count()
    }

    /// Sets `fields` (and `updated_at` = `now`) on the rows with these ids; returns how many.
    pub fn touch(&mut self, ids: &[u64], fields: &Map<String, Value>, now: u64) -> usize {
        let mut n = 0;
        for id in ids {
            if let Ok(i) = self.rows.binary_search_by_key(id, |r| r.id) {
                let mut m = self.rows[i].parse();
                for (k, v) in fields {
                    if k != "id" {
                        m.insert(k.clone(), v.clone());
                    }
                }
                m.insert("updated_at".into(), Value::from(now));
                if let Ok(s) = serde_json::to_string(&Value::Object(m)) {
                    self.rows[i].raw = s.into_boxed_str();
                    n += 1;
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::super::apicalypse::parse;
    use super::*;
    use serde_json::json;

    fn table() -> Table {
        let rows = (1..=20u64)
            .map(|i| {
                let vp = if i % 5 == 0 { json!(1) } else { Value::Null };
                row_of(
                    json!({"id": i * 3, "name": format!("g{i}"), "rating": 100 - i, "version_parent": vp}),
                    "t",
                )
                .unwrap()
            })
            .collect();
        finish(rows, "t").unwrap()
    }

    fn ids(rows: &[String]) -> Vec<u64> {
        rows.iter().map(|r| serde_json::from_str::<Value>(r).unwrap()["id"].as_u64().unwrap()).collect()
    }

    #[test]
    fn keyset_paging_visits_every_row_once() {
        let t = table();
        let mut last = 0;
        let mut all = vec![];
        loop {
            let page =
                t.select(&parse(&format!("fields *; where id > {last}; sort id asc; limit 7;")).unwrap());
            if page.is_empty() {
                break;
            }
            let got = ids(&page);
            last = *got.last().unwrap();
            all.extend(got);
        }
        assert_eq!(all, (1..=20).map(|i| i * 3).collect::<Vec<_>>());
    }

    #[test]
    fn filters_offsets_sorts_and_projects() {
        let t = table();
        let q = parse("fields name; where version_parent = null & id > 10; sort id asc; limit 3; offset 1;")
            .unwrap();
        assert_eq!(ids(&t.select(&q)), vec![18, 21, 24]);
        let page = t.select(&q);
        let v: Value = serde_json::from_str(&page[0]).unwrap();
        assert_eq!(v, json!({"id": 18, "name": "g6"}));
        let q = parse("fields id; sort rating desc; limit 2;").unwrap();
        assert_eq!(ids(&t.select(&q)), vec![3, 6]);
        let q = parse("fields id; sort id desc; limit 1;").unwrap();
        assert_eq!(ids(&t.select(&q)), vec![60]);
        assert_eq!(t.count(parse("where version_parent != null;").unwrap().filter.as_ref()), 4);
        assert_eq!(t.count(None), 20);
    }

    #[test]
    fn touch_sets_fields_and_updated_at() {
        let mut t = table();
        let mut f = Map::new();
        f.insert("name".into(), json!("new"));
        assert_eq!(t.touch(&[3, 4, 6], &f, 99), 2);
        let q = parse("fields name,updated_at; where updated_at > 50; limit 10;").unwrap();
        assert_eq!(ids(&t.select(&q)), vec![3, 6]);
    }
}
