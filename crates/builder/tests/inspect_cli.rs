//! `playalike inspect`, `explain`, `game`, the `--json` of `recommend`/`search`, and log output
//! (`-q`/`-v`, no colour in a pipe), end to end on the committed 60-game fixture.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_playalike"));
    for v in
        ["PLAYALIKE_LOG", "RUST_LOG", "NO_COLOR", "PLAYALIKE_JSON", "PLAYALIKE_FORMAT", "PLAYALIKE_MODEL"]
    {
        c.env_remove(v);
    }
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

fn train(dir: &Path, extra: &[&str]) -> (PathBuf, Output) {
    let out = dir.join("m.bin");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mini-snapshot");
    let mut args = vec![
        "train",
        "--snapshot",
        fixture.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--created-at",
        "2026-01-01T00:00:00Z",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    (out, o)
}

/// Every object key in `v` is camelCase (no `_`, no `-`, starts lower-case); `metrics` maps
/// hold metric names (`recall@10`), data rather than keys, and are skipped.
fn assert_camel(v: &Value, path: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert!(
                    !k.contains('_') && !k.contains('-') && k.starts_with(|c: char| c.is_ascii_lowercase()),
                    "key {path}.{k} is not camelCase"
                );
                if k != "metrics" {
                    assert_camel(x, &format!("{path}.{k}"));
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_camel(x, path)),
        _ => {}
    }
}

/// The first recommendation for game 4 (so `explain 4 B` has something to explain).
fn first_recommendation(m: &str) -> u64 {
    let v = json(&run(&["recommend", "--model", m, "--game", "4", "--k", "1", "--json"]));
    v["results"][0]["id"].as_u64().unwrap()
}

#[test]
fn inspect_explain_and_game() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(dir.path(), &["--json"]);
    let m = model.to_str().unwrap();

    // inspect --json: the engine's status plus vocabularies and parameters.
    let v = json(&run(&["inspect", m, "--json", "--top", "3"]));
    assert_camel(&v, "inspect");
    assert_eq!(v["games"], 60);
    let format =
        format!("{}.{}", playalike_engine::format::FORMAT_MAJOR, playalike_engine::format::FORMAT_MINOR);
    assert_eq!(v["formatVersion"], format.as_str());
    assert_eq!(v["createdAt"], "2026-01-01T00:00:00Z");
    assert_eq!(v["modelVersion"], 0);
    assert_eq!(v["bytes"].as_u64().unwrap(), std::fs::metadata(&model).unwrap().len());
    assert!(v["metrics"]["recall@10"].is_number(), "{}", v["metrics"]);
    let vocab = v["vocabulary"].as_array().unwrap();
    assert_eq!(vocab.len(), 10);
    let genres = vocab.iter().find(|f| f["field"] == "genres").unwrap();
    let top = genres["top"].as_array().unwrap();
    assert!(!top.is_empty() && top.len() <= 3);
    let counts: Vec<u64> = top.iter().map(|t| t["games"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "top terms not by games: {counts:?}");
    assert!(counts[0] <= 60 && counts[0] > 0);
    assert!(genres["used"].as_u64().unwrap() <= genres["terms"].as_u64().unwrap());
    let weights = v["parameters"]["fieldWeights"].as_array().unwrap();
    assert_eq!(weights.len(), 10);
    assert!(weights.iter().any(|w| w["field"] == "keywords" && w["weight"].is_number()));
    assert!(v["parameters"]["year"]["scale"].as_f64().unwrap() > 0.0);
    assert!(v["parameters"]["priors"]["curated"].is_number());

    // The text form names the same facts, and the model flag reads PLAYALIKE_MODEL.
    let t = bin().args(["inspect"]).env("PLAYALIKE_MODEL", m).output().unwrap();
    assert!(t.status.success(), "{}", stderr(&t));
    let text = stdout(&t);
    assert!(text.contains("games           60"), "{text}");
    assert!(text.contains(&format!("format version  {format}")) && text.contains("recall@10"), "{text}");
    assert!(text.contains(top[0]["name"].as_str().unwrap()), "{text}");

    // explain: the engine's reasons, strongest first, and their sum within the full score.
    let b = first_recommendation(m);
    let bs = b.to_string();
    let e = json(&run(&["explain", "--model", m, "4", &bs, "--json"]));
    assert_camel(&e, "explain");
    assert_eq!(e["a"]["id"], 4);
    assert_eq!(e["b"]["id"], b);
    let reasons = e["reasons"].as_array().unwrap();
    assert!(!reasons.is_empty(), "the top recommendation shares nothing: {e}");
    let w: Vec<f64> = reasons.iter().map(|r| r["weight"].as_f64().unwrap()).collect();
    assert!(w.windows(2).all(|p| p[0] >= p[1]), "{w:?}");
    let (shared, score) = (e["shared"].as_f64().unwrap(), e["score"].as_f64().unwrap());
    assert!((shared - w.iter().sum::<f64>()).abs() < 1e-3, "{shared} vs {w:?}");
    assert!(shared > 0.0 && shared <= score + 1e-3, "shared {shared} score {score}");
    let et = run(&["explain", "--model", m, "4", &bs]);
    assert!(et.status.success());
    assert!(stdout(&et).contains(reasons[0]["name"].as_str().unwrap()), "{}", stdout(&et));

    // game: the JS game() object.
    let g = json(&run(&["game", "--model", m, "4", "--json"]));
    assert_camel(&g, "game");
    assert_eq!(g["id"], 4);
    let name = g["name"].as_str().unwrap();
    assert!(name.to_lowercase().contains("thief"), "{name}");
    assert!(g["genres"].is_array() && g["ratingCount"].is_number() && g["similar"].is_array());
    let gt = run(&["game", "--model", m, "4"]);
    assert!(stdout(&gt).starts_with(name), "{}", stdout(&gt));
    // The fixture's lookup tables lack some names: counted, never printed as empty items.
    assert!(!stdout(&gt).contains(", ,") && !stdout(&gt).contains(" , "), "{}", stdout(&gt));

    // Unknown ids: exit 2, a clear message, nothing on stdout.
    for args in [
        vec!["game", "--model", m, "999999999"],
        vec!["explain", "--model", m, "4", "999999999"],
        vec!["explain", "--model", m, "999999999", "4", "--json"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("game 999999999 is not in the model"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn unusable_model_files_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(dir.path(), &["--json"]);
    let bytes = std::fs::read(&model).unwrap();

    let corrupt = dir.path().join("corrupt.bin");
    let mut c = bytes.clone();
    let last = c.len() - 1;
    c[last] ^= 0xff;
    std::fs::write(&corrupt, c).unwrap();
    let truncated = dir.path().join("truncated.bin");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let foreign = dir.path().join("foreign.bin");
    std::fs::write(&foreign, b"not a model at all, just text").unwrap();
    let missing = dir.path().join("missing.bin");

    for (file, reason) in [
        (&corrupt, "corrupted"),
        (&truncated, "truncated"),
        (&foreign, "not a playalike model"),
        (&missing, "while reading model"),
    ] {
        let f = file.to_str().unwrap();
        for args in [
            vec!["inspect", f],
            vec!["inspect", f, "--json"],
            vec!["game", "--model", f, "4"],
            vec!["explain", "--model", f, "4", "5"],
            vec!["search", "--model", f, "thief"],
        ] {
            let o = run(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(reason), "{args:?}: {}", stderr(&o));
            assert!(!stderr(&o).contains("panicked"));
            assert!(o.stdout.is_empty());
        }
    }
}

#[test]
fn recommend_and_search_take_json_and_format_still_works_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(dir.path(), &["--json"]);
    let m = model.to_str().unwrap();

    let new = run(&["recommend", "--model", m, "--game", "4", "--k", "5", "--json"]);
    let old = run(&["recommend", "--model", m, "--game", "4", "--k", "5", "--format", "json"]);
    assert_eq!(json(&new)["results"].as_array().unwrap().len(), 5);
    assert_eq!(new.stdout, old.stdout, "--json and --format json must print the same");
    assert!(!stderr(&new).contains("deprecated"), "{}", stderr(&new));
    let warning: Vec<&str> =
        std::str::from_utf8(&old.stderr).unwrap().lines().filter(|l| l.contains("deprecated")).collect();
    assert_eq!(warning.len(), 1, "{}", stderr(&old));
    assert!(warning[0].contains("--json"));
    // The env var form of each.
    let env_json = bin()
        .args(["recommend", "--model", m, "--game", "4", "--k", "5"])
        .env("PLAYALIKE_JSON", "true")
        .output()
        .unwrap();
    assert_eq!(env_json.stdout, new.stdout);
    let env_format =
        bin().args(["search", "--model", m, "thief"]).env("PLAYALIKE_FORMAT", "jsonl").output().unwrap();
    assert!(stderr(&env_format).contains("deprecated"));
    let first: Value = serde_json::from_str(stdout(&env_format).lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], 4);

    let s = json(&run(&["search", "--model", m, "thief", "--json"]));
    assert_eq!(s["query"]["text"], "thief");
    assert_eq!(s["results"][0]["id"], 4);
    // Table stays the default.
    let table = run(&["search", "--model", m, "thief", "--k", "2"]);
    assert!(serde_json::from_slice::<Value>(&table.stdout).is_err());
    assert!(stdout(&table).lines().count() <= 2 && stdout(&table).contains(" 4 "), "{}", stdout(&table));
    // The help marks --format deprecated.
    let help = stdout(&run(&["recommend", "--help"]));
    assert!(help.contains("Deprecated: use"), "{help}");
    assert!(help.contains("--json"), "{help}");
}

/// `publish` to a local bucket logs each object it writes at info level.
fn publish(model: &Path, bucket: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let url = format!("file://{}", bucket.display());
    let mut c = bin();
    c.args(["publish", "--model", model.to_str().unwrap(), "--bucket", &url]).args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "publish failed: {}", stderr(&o));
    o
}

#[test]
fn logs_in_a_pipe_carry_no_colour_and_follow_q_and_v() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(dir.path(), &["--json"]);
    let bucket = dir.path().join("bucket");

    // Default level: info lines, and no escape byte although stderr is a pipe.
    let o = publish(&model, &bucket, &[], &[]);
    let err = stderr(&o);
    assert!(err.contains("INFO") && err.contains("wrote"), "publish logged nothing at info: {err}");
    assert!(!o.stderr.contains(&0x1b), "ANSI escape in piped logs: {err:?}");
    // NO_COLOR set: the same.
    let n = publish(&model, &bucket, &[], &[("NO_COLOR", "1")]);
    assert!(stderr(&n).contains("INFO") && !n.stderr.contains(&0x1b), "{}", stderr(&n));

    // -q: errors only; a global flag, before or after the subcommand.
    let q = publish(&model, &bucket, &["-q"], &[]);
    assert!(q.stderr.is_empty(), "{}", stderr(&q));
    let before = run(&["-q", "search", "--model", model.to_str().unwrap(), "thief", "--format", "json"]);
    assert!(before.status.success(), "{}", stderr(&before));
    assert!(before.stderr.is_empty(), "-q must silence the deprecation warning too: {}", stderr(&before));
    // -v: at least info (debug) lines, and still no colour.
    let v = publish(&model, &bucket, &["-v"], &[]);
    assert!(stderr(&v).contains("INFO") && !v.stderr.contains(&0x1b), "{}", stderr(&v));
    // -q and -v together are refused as bad flags.
    assert_eq!(run(&["-q", "-v", "inspect", model.to_str().unwrap()]).status.code(), Some(2));

    // Without flags, RUST_LOG still sets the level, and -q/-v override it.
    let r = publish(&model, &bucket, &[], &[("RUST_LOG", "error")]);
    assert!(r.stderr.is_empty(), "{}", stderr(&r));
    let r = publish(&model, &bucket, &["-v"], &[("RUST_LOG", "error")]);
    assert!(stderr(&r).contains("INFO"), "{}", stderr(&r));
    let r = publish(&model, &bucket, &["-q"], &[("RUST_LOG", "info")]);
    assert!(r.stderr.is_empty(), "{}", stderr(&r));
}

/// On a terminal (a pty from util-linux `script`), logs are coloured unless `NO_COLOR` is set.
/// Skipped, by name, where `script` is missing.
#[test]
fn logs_on_a_terminal_are_coloured_unless_no_color() {
    if Command::new("script").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!(
            "SKIPPED inspect_cli::logs_on_a_terminal_are_coloured_unless_no_color: no util-linux `script`"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(dir.path(), &["--json"]);
    let on_pty = |bucket: &str, no_color: Option<&str>| -> Vec<u8> {
        let cmd = format!(
            "'{}' publish --model '{}' --bucket 'file://{}'",
            env!("CARGO_BIN_EXE_playalike"),
            model.display(),
            dir.path().join(bucket).display()
        );
        let mut s = Command::new("script");
        s.args(["-qec", &cmd, "/dev/null"]);
        for v in ["PLAYALIKE_LOG", "RUST_LOG", "NO_COLOR", "PLAYALIKE_JSON"] {
            s.env_remove(v);
        }
        if let Some(v) = no_color {
            s.env("NO_COLOR", v);
        }
        let o = s.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let coloured = on_pty("b1", None);
    assert!(String::from_utf8_lossy(&coloured).contains("INFO"));
    assert!(coloured.contains(&0x1b), "no colour on a terminal: {:?}", String::from_utf8_lossy(&coloured));
    let plain = on_pty("b2", Some("1"));
    assert!(String::from_utf8_lossy(&plain).contains("INFO"));
    assert!(!plain.contains(&0x1b), "colour despite NO_COLOR: {:?}", String::from_utf8_lossy(&plain));
}
