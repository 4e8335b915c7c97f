//! Snapshot directories: `games.json[l][.gz]` plus lookup tables `NAME.json[.gz]`, IGDB objects
//! exactly as the API returns them. Reading lives here; `fetch` writes them.

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Finds `NAME.json`, `NAME.jsonl`, `NAME.json.gz` or `NAME.jsonl.gz` in `dir`.
pub fn find_table(dir: &Path, name: &str) -> Option<PathBuf> {
    ["json", "jsonl", "json.gz", "jsonl.gz"]
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .find(|p| p.is_file())
}

/// Reads a table as a list of JSON objects (a JSON array, or one object per line).
pub fn read_table(path: &Path) -> Result<Vec<Value>> {
    let file = std::fs::File::open(path).with_context(|| format!("while opening {}", path.display()))?;
    let name = path.to_string_lossy();
    let reader: Box<dyn Read> =
        if name.ends_with(".gz") { Box::new(GzDecoder::new(file)) } else { Box::new(file) };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let is_lines = name.ends_with(".jsonl") || name.ends_with(".jsonl.gz");
    let rows = if is_lines {
        let mut rows = Vec::new();
        let mut line = String::new();
        let mut no = 0usize;
        loop {
            line.clear();
            no += 1;
            if reader.read_line(&mut line).with_context(|| format!("while reading {}", path.display()))? == 0
            {
                break;
            }
            if line.trim().is_empty() {
                continue;
            }
            rows.push(
                serde_json::from_str(&line)
                    .with_context(|| format!("while parsing {} line {no}", path.display()))?,
            );
        }
        rows
    } else {
        let v: Value =
            serde_json::from_reader(reader).with_context(|| format!("while parsing {}", path.display()))?;
        match v {
            Value::Array(rows) => rows,
            _ => bail!("{} is not a JSON array of objects", path.display()),
        }
    };
    Ok(rows)
}

/// Reads a named table from a snapshot directory; `Ok(None)` when the snapshot lacks it.
pub fn read_named(dir: &Path, name: &str) -> Result<Option<Vec<Value>>> {
    find_table(dir, name).map(|p| read_table(&p)).transpose()
}

/// Reads the games of a snapshot; an error when there is no games table.
pub fn read_games(dir: &Path) -> Result<Vec<Value>> {
    match read_named(dir, "games")? {
        Some(g) => Ok(g),
        None => bail!("{} holds no games.json[l][.gz]: not a snapshot directory", dir.display()),
    }
}

/// Streams a table's rows (a JSON array, or one object per line) into `each`, one at a time,
/// without holding the table: each row is deserialized straight into `T`. Syntax errors are the
/// ones [`read_table`] gives (same wording, file and line); a `T` should accept any JSON value
/// (see [`Skip`]) so that a row of an unexpected shape is the caller's to judge, as it is for
/// [`read_table`]'s `Value` rows.
pub fn for_each_row<T: DeserializeOwned>(path: &Path, mut each: impl FnMut(T)) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("while opening {}", path.display()))?;
    let name = path.to_string_lossy();
    let reader: Box<dyn Read> =
        if name.ends_with(".gz") { Box::new(GzDecoder::new(file)) } else { Box::new(file) };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    if name.ends_with(".jsonl") || name.ends_with(".jsonl.gz") {
        let mut line = String::new();
        let mut no = 0usize;
        loop {
            line.clear();
            no += 1;
            if reader.read_line(&mut line).with_context(|| format!("while reading {}", path.display()))? == 0
            {
                break;
            }
            if line.trim().is_empty() {
                continue;
            }
            each(
                serde_json::from_str(&line)
                    .with_context(|| format!("while parsing {} line {no}", path.display()))?,
            );
        }
        return Ok(());
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    let is_array = (&mut de)
        .deserialize_any(Rows { each: &mut each, row: std::marker::PhantomData })
        .and_then(|a| de.end().map(|()| a))
        .with_context(|| format!("while parsing {}", path.display()))?;
    if !is_array {
        bail!("{} is not a JSON array of objects", path.display());
    }
    Ok(())
}

/// Streams the games of a snapshot into `each` (see [`for_each_row`]); an error when there is no
/// games table.
pub fn for_each_game<T: DeserializeOwned>(dir: &Path, each: impl FnMut(T)) -> Result<()> {
    match find_table(dir, "games") {
        Some(p) => for_each_row(&p, each),
        None => bail!("{} holds no games.json[l][.gz]: not a snapshot directory", dir.display()),
    }
}

/// The top level of a table file: an array whose elements go to `each` (`true`), or any other
/// value, read to its end so that its syntax errors are reported as for a `Value` (`false`).
struct Rows<'a, T, F> {
    each: &'a mut F,
    row: std::marker::PhantomData<T>,
}

impl<'de, T: DeserializeOwned, F: FnMut(T)> Visitor<'de> for Rows<'_, T, F> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(row) = seq.next_element::<T>()? {
            (self.each)(row);
        }
        Ok(true)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        SkipVisitor.visit_map(map).map(|_| false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// Any JSON value, read and dropped. Unlike `serde::de::IgnoredAny` it goes through
/// `deserialize_any`, so serde_json checks it exactly as it checks a `Value` (string escapes and
/// UTF-8, number range): a snapshot a typed reader accepts is one the `Value` reader accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
}
