//! Snapshot directories: `games.json[l][.gz]` plus lookup tables `NAME.json[.gz]`, IGDB objects
//! exactly as the API returns them. Reading lives here; `fetch` writes them.

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
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
