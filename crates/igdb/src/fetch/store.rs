//! Where fetched rows go: a staging directory next to the snapshot (part files plus a progress
//! file, so a killed run resumes), then a complete new snapshot written to a temporary directory
//! and renamed into place (the previous snapshot stays until the new one is whole), and the
//! state file that `--since-last` reads.

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Name of the state file inside a snapshot (the default `--state-file`).
pub const STATE_FILE: &str = "fetch-state.json";

/// What defines a fetch: a staging directory made under another plan is not resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanKey {
    /// API base URL.
    pub igdb_url: String,
    /// Game fields.
    pub fields: String,
    /// The full `where` of games (without the keyset bounds).
    pub games_where: String,
    /// Lookup tables.
    pub tables: Vec<String>,
    /// `updated_at >` bound of an incremental run.
    pub since: Option<u64>,
    /// Rows per page.
    pub page_size: usize,
    /// Pages per request.
    pub pages: usize,
}

/// One keyset cursor: a table (or a slice of the games' id space) fetched in id order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cursor {
    /// Table (endpoint) name.
    pub table: String,
    /// Order of this cursor's rows within the table.
    pub order: usize,
    /// Last id received (`-1`: none yet).
    pub after: i64,
    /// Exclusive upper id bound (`None`: unbounded).
    pub hi: Option<u64>,
    /// No more rows.
    pub done: bool,
    /// Part files, in order.
    pub parts: Vec<String>,
    /// Rows received.
    pub rows: u64,
}

/// The progress file of a staging directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    /// The plan this progress belongs to.
    pub key: PlanKey,
    /// When the run (first attempt) started, Unix seconds.
    pub started_at: u64,
    /// Games matching the filter when the run started, and the largest id.
    pub games_count: Option<(u64, u64)>,
    /// Cursors by name (`games.3`, `genres`, …).
    pub cursors: BTreeMap<String, Cursor>,
}

/// A staging directory: `.{name}.fetch-partial/` beside the snapshot.
pub struct Staging {
    /// Its path.
    pub dir: PathBuf,
    /// Progress so far.
    pub progress: Progress,
    /// Pages fetched by an earlier, interrupted run (resumed).
    pub resumed_pages: u64,
}

/// `{parent}/.{name}{suffix}`: siblings of the snapshot, so renames stay on one filesystem.
pub fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let name = out.file_name().map_or_else(|| "snapshot".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}{suffix}"))
}

/// An exclusive advisory lock on `.{name}.fetch-lock` beside the snapshot; released when dropped
/// or when the process ends, however it ends (so a crash never leaves a stale lock).
#[derive(Debug)]
pub struct FetchLock {
    _file: std::fs::File,
}

/// Takes the fetch lock of the snapshot `out`, or fails at once if another process holds it.
pub fn lock(out: &Path) -> Result<FetchLock> {
    let path = sibling(out, ".fetch-lock");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("while opening the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(FetchLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another fetch holds the lock on {} ({}); wait for it to finish",
            out.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("while locking {}", path.display()))
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    playalike_base::fs::write_atomic(path, bytes, None)
        .with_context(|| format!("while writing {}", path.display()))
}

impl Staging {
    /// Opens the staging directory for `out`: resumes it when its plan equals `key`, else
    /// starts afresh.
    pub fn open(out: &Path, key: PlanKey, now: u64) -> Result<Self> {
        let dir = sibling(out, ".fetch-partial");
        let pfile = dir.join("progress.json");
        if let Ok(text) = std::fs::read_to_string(&pfile) {
            if let Ok(p) = serde_json::from_str::<Progress>(&text)
                && p.key == key
            {
                {
                    let resumed_pages = p.cursors.values().map(|c| c.parts.len() as u64).sum();
                    tracing::info!(
                        "resuming an interrupted fetch from {} ({resumed_pages} pages already there)",
                        dir.display()
                    );
                    return Ok(Self { dir, progress: p, resumed_pages });
                }
            }
            tracing::info!("discarding {}: it belongs to a different fetch", dir.display());
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("while clearing {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir.join("parts"))
            .with_context(|| format!("while creating {}", dir.display()))?;
        let s = Self {
            dir,
            progress: Progress { key, started_at: now, games_count: None, cursors: BTreeMap::new() },
            resumed_pages: 0,
        };
        s.save()?;
        Ok(s)
    }

    /// Writes the progress file (atomically).
    pub fn save(&self) -> Result<()> {
        write_atomic(&self.dir.join("progress.json"), &serde_json::to_vec(&self.progress)?)
    }

    /// Writes one fetched page set as a part file; returns its name.
    pub fn write_part(&self, cursor: &str, seq: usize, rows: &[Value]) -> Result<String> {
        let name = format!("{cursor}-{seq:05}.jsonl");
        let path = self.dir.join("parts").join(&name);
        let mut buf = Vec::with_capacity(rows.len() * 256);
        for r in rows {
            serde_json::to_writer(&mut buf, r)?;
            buf.push(b'\n');
        }
        write_atomic(&path, &buf)?;
        Ok(name)
    }

    /// The part files of a table, in id order.
    fn parts_of(&self, table: &str) -> Vec<PathBuf> {
        let mut cs: Vec<&Cursor> = self.progress.cursors.values().filter(|c| c.table == table).collect();
        cs.sort_by_key(|c| c.order);
        cs.iter().flat_map(|c| c.parts.iter().map(|p| self.dir.join("parts").join(p))).collect()
    }
}

/// The state file: what the last complete fetch did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Format of this file.
    pub version: u32,
    /// Lower bound for the next `--since-last` (`updated_at >` this), Unix seconds: the start
    /// of the last complete run minus a margin for clock skew.
    pub last_run: u64,
    /// When the last run finished, Unix seconds.
    pub finished_at: u64,
    /// API it fetched from.
    pub igdb_url: String,
    /// `full` or `since-last`.
    pub mode: String,
    /// When the last full fetch started, Unix seconds (None in state files written before this
    /// field existed). `--full-every` compares against it.
    #[serde(default)]
    pub last_full: Option<u64>,
    /// Rows and largest id per table, in the snapshot.
    pub tables: BTreeMap<String, TableState>,
}

/// One table in the state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableState {
    /// Rows in the snapshot.
    pub rows: u64,
    /// Largest id.
    pub last_id: u64,
}

impl State {
    /// Reads a state file; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(t) => Ok(Some(
                serde_json::from_str(&t)
                    .with_context(|| format!("while parsing the state file {}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("while reading the state file {}", path.display())),
        }
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: u64,
}

/// Rows of a table in a snapshot as (id, compact JSON), any layout `snapshot.rs` reads.
fn read_base(dir: &Path, table: &str) -> Result<BTreeMap<u64, Box<str>>> {
    let mut m = BTreeMap::new();
    if let Some(rows) = crate::snapshot::read_named(dir, table)? {
        for v in rows {
            let id = v.get("id").and_then(Value::as_u64).with_context(|| {
                format!("while merging into {}: a {table} row has no integer id", dir.display())
            })?;
            m.insert(id, serde_json::to_string(&v)?.into_boxed_str());
        }
    }
    Ok(m)
}

struct TableWriter {
    enc: GzEncoder<BufWriter<std::fs::File>>,
    lines: bool,
    n: u64,
    last: Option<u64>,
    path: PathBuf,
}

impl TableWriter {
    fn create(dir: &Path, table: &str) -> Result<Self> {
        let lines = table == "games";
        let path = dir.join(if lines { format!("{table}.jsonl.gz") } else { format!("{table}.json.gz") });
        let f = std::fs::File::create(&path).with_context(|| format!("while creating {}", path.display()))?;
        let mut enc = GzEncoder::new(BufWriter::with_capacity(1 << 20, f), Compression::fast());
        if !lines {
            enc.write_all(b"[")?;
        }
        Ok(Self { enc, lines, n: 0, last: None, path })
    }
    fn row(&mut self, id: u64, json: &str) -> Result<()> {
        if self.last.is_some_and(|l| l >= id) {
            bail!(
                "{}: rows out of id order or duplicated (id {id} after {:?})",
                self.path.display(),
                self.last
            );
        }
        if !self.lines {
            self.enc.write_all(if self.n > 0 { b",\n" } else { b"\n" })?;
        }
        self.enc.write_all(json.trim_end().as_bytes())?;
        if self.lines {
            self.enc.write_all(b"\n")?;
        }
        self.n += 1;
        self.last = Some(id);
        Ok(())
    }
    fn copy(&mut self, json: &str) -> Result<()> {
        if !self.lines {
            self.enc.write_all(if self.n > 0 { b",\n" } else { b"\n" })?;
        }
        self.enc.write_all(json.trim_end().as_bytes())?;
        if self.lines {
            self.enc.write_all(b"\n")?;
        }
        self.n += 1;
        Ok(())
    }
    fn finish(mut self) -> Result<TableState> {
        if !self.lines {
            self.enc.write_all(b"\n]\n")?;
        }
        let mut w = self.enc.finish().with_context(|| format!("while finishing {}", self.path.display()))?;
        w.flush().with_context(|| format!("while writing {}", self.path.display()))?;
        Ok(TableState { rows: self.n, last_id: self.last.unwrap_or(0) })
    }
}

/// Builds the new snapshot from the staging directory (merged into the previous snapshot at
/// `out` when `merge`), writes `state` into it when `state_inside`, and renames it into place.
pub fn assemble(
    staging: &Staging,
    out: &Path,
    tables: &[String],
    merge: bool,
    state: &mut State,
    state_inside: bool,
) -> Result<()> {
    let tmp = sibling(out, &format!(".tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp).with_context(|| format!("while creating {}", tmp.display()))?;
    let result = (|| -> Result<()> {
        let all: Vec<String> = std::iter::once("games".to_string()).chain(tables.iter().cloned()).collect();
        for table in &all {
            let mut w = TableWriter::create(&tmp, table)?;
            let parts = staging.parts_of(table);
            if merge {
                let mut base = read_base(out, table)?;
                for p in &parts {
                    for line in read_lines(p)? {
                        let id = serde_json::from_str::<IdOnly>(&line)
                            .with_context(|| format!("while reading {}", p.display()))?
                            .id;
                        base.insert(id, line.into_boxed_str());
                    }
                }
                for (id, json) in &base {
                    w.row(*id, json)?;
                }
            } else {
                // Rows were checked when stored (integer ids, ascending within each cursor,
                // inside its slice; slices are disjoint and in order): copy them as they are.
                for p in &parts {
                    for line in read_lines(p)? {
                        w.copy(&line)?;
                    }
                }
                w.last = staging
                    .progress
                    .cursors
                    .values()
                    .filter(|c| c.table == *table && c.rows > 0)
                    .map(|c| c.after.max(0) as u64)
                    .max();
            }
            state.tables.insert(table.clone(), w.finish()?);
        }
        if merge {
            // Keep what the previous snapshot had beyond the fetched tables.
            for entry in std::fs::read_dir(out).with_context(|| format!("while listing {}", out.display()))? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let stem = name.split('.').next().unwrap_or("");
                if entry.file_type()?.is_file() && !all.iter().any(|t| t == stem) && name != STATE_FILE {
                    std::fs::copy(entry.path(), tmp.join(&name))
                        .with_context(|| format!("while copying {}", entry.path().display()))?;
                }
            }
        }
        if state_inside {
            write_atomic(&tmp.join(STATE_FILE), &serde_json::to_vec_pretty(&state)?)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    swap_into_place(&tmp, out)
}

fn read_lines(p: &Path) -> Result<Vec<String>> {
    let f = std::fs::File::open(p).with_context(|| format!("while opening {}", p.display()))?;
    std::io::BufReader::new(f)
        .lines()
        .filter(|l| l.as_ref().map_or(true, |s| !s.trim().is_empty()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("while reading {}", p.display()))
}

/// Renames `tmp` to `out`, moving a previous `out` aside first and deleting it after.
fn swap_into_place(tmp: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        let old = sibling(out, &format!(".old-{}", std::process::id()));
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        std::fs::rename(out, &old)
            .with_context(|| format!("while moving the previous {} aside", out.display()))?;
        if let Err(e) = std::fs::rename(tmp, out) {
            let _ = std::fs::rename(&old, out);
            return Err(e).with_context(|| format!("while renaming the new snapshot to {}", out.display()));
        }
        std::fs::remove_dir_all(&old).with_context(|| format!("while removing {}", old.display()))?;
    } else {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(tmp, out)
            .with_context(|| format!("while renaming the new snapshot to {}", out.display()))?;
    }
    Ok(())
}

/// Writes a state file somewhere else than inside the snapshot.
pub fn write_state(path: &Path, state: &State) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    write_atomic(path, &serde_json::to_vec_pretty(state)?)
}
