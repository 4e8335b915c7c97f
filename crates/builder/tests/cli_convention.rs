//! One CLI convention (issue 17): every command answers `--json` with camelCase keys; progress
//! bars on a terminal only; every flag reads an environment variable and README's table is the
//! generated one; shell completions and a man page from clap.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_playalike"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PLAYALIKE_") || k == "RUST_LOG" || k == "NO_COLOR" {
            c.env_remove(k);
        }
    }
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The last stdout line as JSON, with every key camelCase.
fn camel_json(name: &str, o: &Output) -> Value {
    let out = ok(o);
    let line = out.lines().last().unwrap_or_else(|| panic!("{name}: no output"));
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {out}"));
    assert_camel(&v, name);
    v
}

/// Every object key in `v` is camelCase (no `_`, no `-`, starts lower-case). Metric maps
/// (`metrics`, `liveMetrics`) hold metric names (`recall@10`) and eval's `results` approach names
/// (`plan-onehot-cosine`): data, not keys (eval's figures inside `results` are checked).
fn assert_camel(v: &Value, path: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert!(
                    !k.contains('_') && !k.contains('-') && k.starts_with(|c: char| c.is_ascii_lowercase()),
                    "key {path}.{k} is not camelCase"
                );
                match (k.as_str(), x) {
                    (k, _) if k.ends_with("etrics") => {}
                    ("results", Value::Object(rows)) => {
                        rows.iter().for_each(|(name, y)| assert_camel(y, &format!("{path}.results.{name}")))
                    }
                    _ => assert_camel(x, &format!("{path}.{k}")),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_camel(x, path)),
        _ => {}
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn generate(dir: &Path, games: &str) -> PathBuf {
    let snap = dir.join("snap");
    let o = run(&["generate", "--out", s(&snap), "--games", games, "--seed", "3", "--json"]);
    camel_json("generate", &o);
    snap
}

#[test]
fn every_command_answers_json_in_camel_case() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let snap = generate(d, "1200");
    let model = d.join("m.bin");
    let at = ["--created-at", "2026-01-01T00:00:00Z"];
    let t = camel_json(
        "train",
        &run(&[&["train", "--snapshot", s(&snap), "--out", s(&model), "--json"][..], &at[..]].concat()),
    );
    assert!(t["metricsPath"].is_string(), "{t}");
    let e = camel_json("eval", &run(&["eval", "--snapshot", s(&snap), "--json"]));
    assert!(e["results"]["playalike"]["tailRecall"].is_number(), "{e}");
    assert!(e["trainSeconds"].is_number(), "{e}");
    // metrics.json is a file with its own (snake_case) keys, read by scripts: unchanged.
    let metrics: Value = serde_json::from_slice(&std::fs::read(d.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics["blob_bytes"].is_number() && metrics["evaluation"]["tail_recall"].is_number());

    let m = s(&model);
    camel_json("validate", &run(&["validate", "--model", m, "--min-games", "100", "--json"]));
    camel_json("recommend", &run(&["recommend", "--model", m, "--game", "1000", "--json"]));
    camel_json("search", &run(&["search", "--model", m, "the", "--json"]));
    camel_json("inspect", &run(&["inspect", m, "--json"]));
    let f = camel_json(
        "fetch",
        &run(&[
            "fetch",
            "--sandbox",
            s(&snap),
            "--out",
            s(&d.join("fetched")),
            "--tables",
            "genres",
            "--json",
        ]),
    );
    assert_eq!(f["gamesFetched"], 1200, "{f}");

    let bucket = format!("file://{}", d.join("bucket").display());
    let b = ["--bucket", bucket.as_str()];
    camel_json("publish", &run(&[&["publish", "--model", m, "--json"][..], &b[..]].concat()));
    camel_json("publish", &run(&[&["publish", "--model", m, "--json"][..], &b[..]].concat()));
    camel_json("status", &run(&[&["status", "--json"][..], &b[..]].concat()));
    camel_json("rollback", &run(&[&["rollback", "--previous", "--json"][..], &b[..]].concat()));
    let work = d.join("work");
    let r = camel_json(
        "run",
        &run(&[
            &["run", "--skip-fetch", "--snapshot", s(&snap), "--work", s(&work), "--dry-run", "--json"][..],
            &b[..],
        ]
        .concat()),
    );
    assert!(r.is_object(), "{r}");
}

#[test]
fn recommend_filters_read_their_environment_variables() {
    let dir = tempfile::tempdir().unwrap();
    let snap = generate(dir.path(), "300");
    let model = dir.path().join("m.bin");
    ok(&run(&["train", "--snapshot", s(&snap), "--out", s(&model), "--no-learn", "--report", "-"]));
    let m = s(&model);
    let flags = ok(&run(&["recommend", "--model", m, "--game", "1000", "--exclude", "1001,1002", "--json"]));
    let env = ok(&bin()
        .args(["recommend", "--json"])
        .env("PLAYALIKE_MODEL", m)
        .env("PLAYALIKE_RECOMMEND_GAME", "1000")
        .env("PLAYALIKE_RECOMMEND_EXCLUDE", "1001,1002")
        .output()
        .unwrap());
    assert_eq!(flags, env);
    let v: Value = serde_json::from_str(&env).unwrap();
    let ids: Vec<u64> = v["results"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert!(!ids.is_empty() && !ids.contains(&1001) && !ids.contains(&1002), "{ids:?}");
    // generate --json reads PLAYALIKE_JSON like every other command.
    let o = bin()
        .args(["generate", "--out", s(&dir.path().join("g")), "--games", "50"])
        .env("PLAYALIKE_JSON", "true")
        .output()
        .unwrap();
    assert!(serde_json::from_str::<Value>(ok(&o).trim()).is_ok());
}

#[test]
fn no_progress_bar_in_a_pipe() {
    // stderr is a pipe here: the long commands write no bar (no carriage returns, no escapes).
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    let model = dir.path().join("m.bin");
    let outs = [
        run(&["generate", "--out", s(&snap), "--games", "600"]),
        run(&["train", "--snapshot", s(&snap), "--out", s(&model), "--report", "-"]),
        run(&["recommend", "--model", s(&model), "--all", "--k", "3"]),
    ];
    for o in &outs {
        ok(o);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains('\r') && !err.contains('\x1b'), "stderr in a pipe: {err:?}");
    }
}

/// Runs `args` with stdin, stdout and stderr on a pseudo-terminal (util-linux `script`).
fn on_a_terminal(args: &[&str]) -> Option<String> {
    let exe = env!("CARGO_BIN_EXE_playalike");
    let cmd = std::iter::once(exe).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
    let o = Command::new("script").args(["-qec", &cmd, "/dev/null"]).env("TERM", "xterm").output().ok()?;
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn progress_is_drawn_on_a_terminal_and_not_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let Some(shown) = on_a_terminal(&["generate", "--out", s(&out), "--games", "20000"]) else {
        // `script` is part of util-linux, on every Linux this project builds on.
        panic!("this test needs util-linux `script` to run a command on a terminal");
    };
    assert!(shown.contains("generating"), "no bar on a terminal: {shown:?}");
    let quiet = on_a_terminal(&["-q", "generate", "--out", s(&out), "--games", "20000"]).unwrap();
    assert!(!quiet.contains("generating"), "a bar despite -q: {quiet:?}");
    assert!(quiet.contains("wrote 20000 games"), "{quiet:?}");
}

#[test]
fn readme_env_table_is_the_generated_one() {
    let table = ok(&run(&["env-table"]));
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let begin = "<!-- env-table: generated by scripts/readme-env.sh from the CLI flags; do not edit -->\n";
    let start = readme.find(begin).expect("README.md lacks the env-table markers") + begin.len();
    let end = start + readme[start..].find("<!-- /env-table -->").expect("no end marker");
    assert_eq!(readme[start..end], table, "README.md's table is out of date: run scripts/readme-env.sh");
    assert!(!table.contains('…'));
}

#[test]
fn completions_and_man_page_come_from_the_command_tree() {
    for shell in ["bash", "zsh", "fish"] {
        let c = ok(&run(&["completions", shell]));
        // fish names long flags without their dashes (`-l max-age`).
        for word in ["recommend", "inspect", "max-age", "json"] {
            assert!(c.contains(word), "{shell} completions lack {word}");
        }
        assert!(!c.contains("env-table"), "{shell} completions list the hidden command");
    }
    assert!(!run(&["completions", "tcsh"]).status.success());
    let man = ok(&run(&["man"]));
    assert!(man.contains(".TH playalike 1") && man.contains("recommend"), "{}", &man[..man.len().min(400)]);
    let dir = tempfile::tempdir().unwrap();
    ok(&run(&["man", "--dir", s(dir.path())]));
    let train = std::fs::read_to_string(dir.path().join("playalike-train.1")).unwrap();
    assert!(train.contains("\\-\\-snapshot"), "{train}");
}
