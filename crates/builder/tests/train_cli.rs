//! `playalike train`, `validate`, `recommend`, `search` end to end on a committed 60-game fixture
//! (a neighbourhood of igdb-sample-4k: IGDB data, similar_games kept).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_playalike"))
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mini-snapshot")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).env_remove("PLAYALIKE_LOG").output().unwrap()
}

fn train(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let o = run(&[
        "train",
        "--snapshot",
        fixture().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--created-at",
        "2026-01-01T00:00:00Z",
        "--json",
    ]);
    assert!(o.status.success(), "train failed: {}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn train_is_reproducible_and_writes_metrics_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let a = train(dir.path(), "a.bin");
    let b = train(dir.path(), "b.bin");
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(ba.len() > 1000);
    assert_eq!(ba, bb, "same snapshot and flags must give the same bytes");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["metrics"]["games"], 60.0);
    let r = m["metrics"]["recall@10"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&r), "recall {r}");
    assert_eq!(m["created_at"], "2026-01-01T00:00:00Z");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("recall@10") && html.starts_with("<!doctype html>"));
    // Pictures, inline and without script: at least the published weights.
    assert!(
        html.contains("<svg") && html.contains("aria-label='the published weights'"),
        "no weights picture"
    );
    assert!(!html.contains("<script"), "the report must not need a script");
    // No temporary file left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn validate_accepts_and_refuses_with_exit_12() {
    let dir = tempfile::tempdir().unwrap();
    let m = train(dir.path(), "m.bin");
    let ms = m.to_str().unwrap();
    let ok = run(&["validate", "--model", ms, "--previous", ms, "--min-games", "50"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("recall_vs_previous"));

    let floor = run(&["validate", "--model", ms, "--min-games", "61", "--json"]);
    assert_eq!(floor.status.code(), Some(12));
    let s: serde_json::Value = serde_json::from_slice(&floor.stdout).unwrap();
    assert_eq!(s["ok"], false);
    assert!(String::from_utf8_lossy(&floor.stderr).contains("min_games"));

    // A drop larger than the tolerance (a negative tolerance demands a gain).
    let drop =
        run(&["validate", "--model", ms, "--previous", ms, "--min-games", "50", "--tolerance", "-0.5"]);
    assert_eq!(drop.status.code(), Some(12));
    assert!(String::from_utf8_lossy(&drop.stderr).contains("recall_vs_previous"));

    let bad = dir.path().join("bad.bin");
    let mut bytes = std::fs::read(&m).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&bad, bytes).unwrap();
    let corrupt = run(&["validate", "--model", bad.to_str().unwrap(), "--min-games", "1"]);
    assert_eq!(corrupt.status.code(), Some(12));
    assert!(String::from_utf8_lossy(&corrupt.stderr).contains("decode"));
}

#[test]
fn query_cli_recommends_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let m = train(dir.path(), "q.bin");
    let ms = m.to_str().unwrap();
    let o = run(&["recommend", "--model", ms, "--game", "4", "--k", "5", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(|r| r["id"] != 4));

    let table = run(&["recommend", "--model", ms, "--game", "4", "--k", "3"]);
    assert_eq!(String::from_utf8_lossy(&table.stdout).lines().count(), 3);

    let all = run(&["recommend", "--model", ms, "--all", "--k", "4", "--threads", "2"]);
    assert!(all.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&all.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 60);
    assert!(lines.windows(2).all(|w| w[0]["id"].as_u64() < w[1]["id"].as_u64()));
    assert!(lines.iter().all(|l| l["recommendations"].as_array().unwrap().len() == 4));

    let unknown = run(&["recommend", "--model", ms, "--game", "999999999"]);
    assert_eq!(unknown.status.code(), Some(2));

    let s = run(&["search", "--model", ms, "thief", "--format", "jsonl"]);
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&s.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], 4);
}
