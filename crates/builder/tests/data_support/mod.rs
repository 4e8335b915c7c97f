//! Where the integration tests find IGDB data, on any machine (docs/decisions/741).
//!
//! - [`igdb_sample`]: tests that only need IGDB-shaped data. The shared 4k sample
//!   (`../shared/data/igdb-sample-4k`, or `$PLAYALIKE_DATA_DIR/igdb-sample-4k`) when present;
//!   otherwise the project's own catalogue from `playalike generate` (4000 games), dressed with a
//!   few editions and adult games so that the fetch filters have something to filter. Generated
//!   once per build of the binary and shared by every test process.
//! - [`real_sample_or_skip`]: tests that measure quality on the real sample. Without it they are
//!   skipped, by name and with the reason on stderr; in CI (`CI=true`) that is a failure instead.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared data folder: `PLAYALIKE_DATA_DIR`, else `../shared/data` beside the repository.
pub fn data_dir() -> PathBuf {
    std::env::var_os("PLAYALIKE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

/// The shared 4k sample, None when absent.
pub fn shared_sample() -> Option<PathBuf> {
    let d = data_dir().join("igdb-sample-4k");
    d.is_dir().then_some(d)
}

/// True when running in CI (`CI=true` or `CI=1`, as GitHub Actions and most CI services set).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The real 4k sample for a quality test named `test`. Absent: in CI a failure (nothing is skipped
/// silently there); elsewhere None, after one line on stderr naming the test and the reason (the
/// caller returns early).
pub fn real_sample_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(d) = shared_sample() {
        return Some(d);
    }
    let why = format!(
        "{} has no igdb-sample-4k (set PLAYALIKE_DATA_DIR to the shared data folder)",
        data_dir().display()
    );
    assert!(!in_ci(), "{test}: the real sample is required in CI (CI=true): {why}");
    eprintln!("SKIPPED {test}: it measures quality on the real IGDB sample, and {why}");
    None
}

/// Games of the stand-in that become editions of another game (`version_parent`).
pub const GENERATED_EDITIONS: u64 = 120;
/// Games of the stand-in that get IGDB's adult theme (42).
pub const GENERATED_ADULT: u64 = 80;

/// An IGDB-shaped 4000-game snapshot: the shared sample, or the generated stand-in.
pub fn igdb_sample() -> PathBuf {
    if let Some(d) = shared_sample() {
        return d;
    }
    // Keyed by the binary's build time: a rebuilt generator never serves a stale catalogue.
    let built = std::fs::metadata(env!("CARGO_BIN_EXE_playalike"))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("generated-igdb-4k-{built}"));
    if !dir.join("games.json.gz").is_file() {
        make_generated(&dir);
    }
    dir
}

/// Generates the stand-in into a private folder, then renames it into place: test processes
/// running at the same time each build their own and the first rename wins (a rename onto an
/// existing folder fails, and the loser uses the winner's identical copy).
fn make_generated(dir: &Path) {
    let parent = dir.parent().expect("CARGO_TARGET_TMPDIR has a parent");
    std::fs::create_dir_all(parent).expect("create CARGO_TARGET_TMPDIR");
    let scratch = tempfile::tempdir_in(parent).expect("scratch folder");
    let out = scratch.path().join("snap");
    let o = Command::new(env!("CARGO_BIN_EXE_playalike"))
        .args(["generate", "--games", "4000", "--seed", "1", "--out"])
        .arg(&out)
        .env("PLAYALIKE_LOG", "warn")
        .output()
        .expect("run playalike generate");
    assert!(o.status.success(), "playalike generate failed: {}", String::from_utf8_lossy(&o.stderr));
    dress(&out);
    eprintln!(
        "note: {} is absent; the IGDB-shaped tests use a catalogue from `playalike generate` in {}",
        data_dir().join("igdb-sample-4k").display(),
        dir.display()
    );
    if std::fs::rename(&out, dir).is_err() {
        assert!(
            dir.join("games.json.gz").is_file(),
            "could not move the generated catalogue to {}",
            dir.display()
        );
    }
}

/// Gives the generated catalogue what the real sample has and `generate` does not make: editions
/// (`version_parent`), adult games (theme 42, "Erotic") and no `keywords` table (the real sample
/// has none, so the sandbox answers that endpoint with an empty list).
fn dress(dir: &Path) {
    let games_path = dir.join("games.json.gz");
    let mut games: Vec<Value> = read_gz(&games_path);
    let n = games.len() as u64;
    assert!(n > 2 * (GENERATED_EDITIONS + GENERATED_ADULT), "the generated catalogue is too small");
    for (i, g) in games.iter_mut().enumerate() {
        let i = i as u64;
        let id = g["id"].as_u64().expect("generated games have ids");
        // Every 17th game (from the second) is an edition of the game before it; every 23rd
        // (from the fifth) that is not an edition is adult.
        if i % 17 == 1 && i / 17 < GENERATED_EDITIONS {
            g["version_parent"] = Value::from(id - 1);
            g["version_title"] = Value::from("Deluxe Edition");
        } else if i % 23 == 4 && i / 23 < GENERATED_ADULT {
            let themes = g["themes"].as_array_mut().expect("generated games have themes");
            themes.push(Value::from(42));
        }
    }
    write_gz(&games_path, &games);
    let themes_path = dir.join("themes.json.gz");
    let mut themes: Vec<Value> = read_gz(&themes_path);
    if !themes.iter().any(|t| t["id"] == 42) {
        themes.push(serde_json::json!({"id": 42, "name": "Erotic", "slug": "erotic"}));
    }
    write_gz(&themes_path, &themes);
    std::fs::remove_file(dir.join("keywords.json.gz")).expect("the generated catalogue has keywords");
}

fn read_gz(path: &Path) -> Vec<Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("open table"))
        .read_to_string(&mut text)
        .expect("read table");
    serde_json::from_str(&text).expect("a JSON array")
}

fn write_gz(path: &Path, rows: &[Value]) {
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).expect("create table"),
        flate2::Compression::fast(),
    );
    gz.write_all(serde_json::to_string(rows).expect("JSON").as_bytes()).expect("write table");
    gz.finish().expect("finish table");
}
