//! `runs.json` and `history.html`: every `playalike run` attempt is recorded in the bucket,
//! failures included; `status` shows the recent runs and the quality of the last versions.
//! Against a fake-gcs-server over HTTP and a `file://` folder, with the real binary.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a panic is a test failure

mod gcs_emulator;
mod run_support;

use run_support::{BUCKET, Site, generate, summary};

use gcs_emulator::{output, show};
use std::process::Output;

fn codes(runs: &[serde_json::Value]) -> Vec<i64> {
    runs.iter().map(|r| r["exitCode"].as_i64().expect("exitCode")).collect()
}

#[test]
fn three_failed_runs_show_up_in_status_runs_json_and_history_html() {
    for gcs in [false, true] {
        let s = Site::new(gcs);
        generate(&s.path("igdb"), 300);
        let sandbox = s.path("igdb").display().to_string();
        let out = s.run("snapshot", &["--sandbox", &sandbox]);
        assert!(out.status.success(), "gcs={gcs}: {}", show(&out));
        assert_eq!(summary(&out)["version"], 1);

        // Three nights fail, each at another stage, each with its own exit code.
        let out = s.run("snapshot-none", &[]); // fetch: no IGDB credentials, no sandbox
        assert_eq!(out.status.code(), Some(14), "gcs={gcs}: {}", show(&out));
        std::fs::create_dir_all(s.path("empty")).expect("mkdir");
        let out = s.run("empty", &["--skip-fetch"]); // train: an empty snapshot
        assert_eq!(out.status.code(), Some(11), "gcs={gcs}: {}", show(&out));
        generate(&s.path("small"), 100);
        let small = s.path("small").display().to_string();
        let out = s.run("snapshot-small", &["--sandbox", &small]); // validate: far fewer games
        assert_eq!(out.status.code(), Some(12), "gcs={gcs}: {}", show(&out));
        assert!(summary(&out).get("recordError").is_none(), "recorded: {}", show(&out));

        let runs = s.runs();
        assert_eq!(codes(&runs), [0, 14, 11, 12], "gcs={gcs}: {runs:?}");
        let stages: Vec<&str> = runs.iter().map(|r| r["stageReached"].as_str().expect("stage")).collect();
        assert_eq!(stages, ["publish", "fetch", "train", "validate"]);
        let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().expect("status")).collect();
        assert_eq!(statuses, ["published", "failed", "failed", "failed"]);
        assert_eq!(runs[0]["version"], 1);
        assert!(runs[0]["metrics"]["recall@10"].as_f64().is_some(), "{:?}", runs[0]);
        assert!(runs[3]["error"].as_str().is_some_and(|e| e.contains("100 games")), "{:?}", runs[3]);
        assert!(runs.iter().all(|r| r["durations"]["total"].as_f64().is_some()));

        // status, as text: the failures, the streak, the quality table with its sparkline.
        let out = output(&mut s.cmd("status"));
        assert!(out.status.success(), "gcs={gcs}: {}", show(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("the last 3 runs FAILED"), "{text}");
        for (stage, code) in [("fetch", 14), ("train", 11), ("validate", 12)] {
            assert!(
                text.lines().any(|l| l.contains("FAILED")
                    && l.contains(&format!("at {stage}"))
                    && l.contains(&format!("exit {code}"))),
                "a line for the {stage} failure: {text}"
            );
        }
        assert!(text.contains("quality of the last 1 version") && text.contains("recall@10    ▄"), "{text}");

        // status --json: the same, camelCase.
        let out = output(s.cmd("status").arg("--json"));
        assert!(out.status.success(), "gcs={gcs}: {}", show(&out));
        let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
        assert_eq!(st["failedRunsInARow"], 3, "{st}");
        assert_eq!(codes(st["runs"].as_array().expect("runs")), [0, 14, 11, 12]);
        assert_eq!(st["runs"][1]["stageReached"], "fetch");
        assert_eq!(st["quality"][0]["version"], 1);
        assert!(st["quality"][0]["recall"].as_f64().is_some(), "{st}");

        // history.html: the pictures, the three failures marked, no script.
        let page = String::from_utf8(s.read("history.html").expect("history.html")).expect("UTF-8");
        assert_eq!(page.matches("<svg").count(), 3, "quality, size, runs");
        assert_eq!(page.matches("✕").count(), 3, "three failed runs marked");
        assert!(page.contains("The last 3 runs failed") && !page.contains("<script"));
        if let Some(e) = &s.emu {
            let o = e.object(BUCKET, "nightly/history.html").expect("object");
            assert_eq!(o["contentType"], "text/html; charset=utf-8");
            assert_eq!(o["cacheControl"], "public, max-age=60, must-revalidate");
        }

        // A run's record that cannot be written does not change the run's exit code, and says so.
        if !gcs {
            std::fs::write(s.path("bucket/runs.json"), b"{ not json").expect("break runs.json");
            let out = s.run("snapshot", &["--skip-fetch"]);
            assert_eq!(out.status.code(), Some(0), "the unchanged run still succeeds: {}", show(&out));
            let sum = summary(&out);
            assert_eq!(sum["status"], "unchanged");
            assert!(sum["recordError"].as_str().is_some_and(|e| e.contains("runs.json")), "{sum}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("WARN"), "{}", show(&out));
            let out = s.run("snapshot-none", &[]);
            assert_eq!(out.status.code(), Some(14), "a failure keeps its own code: {}", show(&out));
            // status still answers, and says why it shows no runs.
            let out = output(&mut s.cmd("status"));
            assert!(out.status.success(), "{}", show(&out));
            assert!(String::from_utf8_lossy(&out.stdout).contains("runs.json unreadable"), "{}", show(&out));
        }
    }
}

#[test]
fn concurrent_runs_lose_no_record() {
    for gcs in [false, true] {
        let s = Site::new(gcs);
        // Four runs fail at fetch (no credentials), read runs.json at the same generation (the
        // barrier), then all append: three lose the precondition and must re-read and retry.
        const N: usize = 4;
        let barrier = s.path("barrier");
        let children: Vec<_> = (0..N)
            .map(|_| {
                s.run_cmd("snapshot", &[])
                    .env("PLAYALIKE_FAILPOINT", format!("wait-runs-read:{}:{N}", barrier.display()))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn run")
            })
            .collect();
        let outs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
        for out in &outs {
            assert_eq!(out.status.code(), Some(14), "gcs={gcs}: {}", show(out));
            assert!(summary(out).get("recordError").is_none(), "gcs={gcs}: {}", show(out));
        }
        let runs = s.runs();
        assert_eq!(runs.len(), N, "gcs={gcs}: every record kept: {runs:?}");
        let mut ids: Vec<&str> = runs.iter().map(|r| r["id"].as_str().expect("id")).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), N, "distinct records");
        // history.html, written by each after its record, ends up with all of them.
        let page = String::from_utf8(s.read("history.html").expect("history.html")).expect("UTF-8");
        assert!(page.contains(&format!("{N} runs recorded")), "gcs={gcs}");
    }
}

#[test]
fn runs_json_keeps_the_newest_hundred() {
    let s = Site::new(false);
    // 100 old records already there.
    let old: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            serde_json::json!({
                "id": format!("old-{i}"), "startedAt": format!("2026-01-01T00:{:02}:{:02}.000Z", i / 60, i % 60),
                "finishedAt": "2026-01-01T01:00:00.000Z", "status": "failed", "stageReached": "fetch",
                "exitCode": 10, "durations": {"total": 1.0}, "metrics": {}, "builderVersion": "0.0.1"
            })
        })
        .collect();
    std::fs::create_dir_all(s.path("bucket")).expect("mkdir");
    let doc = serde_json::json!({ "schema": 1, "runs": old });
    std::fs::write(s.path("bucket/runs.json"), serde_json::to_vec(&doc).expect("JSON")).expect("seed");
    let out = s.run("snapshot", &[]);
    assert_eq!(out.status.code(), Some(14), "{}", show(&out));
    let runs = s.runs();
    assert_eq!(runs.len(), 100, "bounded");
    assert_eq!(runs[0]["id"], "old-1", "the oldest went");
    assert_eq!(runs[99]["exitCode"], 14, "ours is the newest");
    assert_ne!(runs[99]["id"], "old-99");
}

/// `status --max-failed-runs N`: exit 15 when more than N of the newest recorded runs failed in a
/// row, or when runs.json cannot be read; the other checks' style (status printed first, the
/// reason on stderr, also from the environment).
#[test]
fn status_max_failed_runs_exits_15_when_the_nightly_runs_keep_failing() {
    let s = Site::new(false);
    let record = |id: &str, started: &str, status: &str| {
        serde_json::json!({
            "id": id, "startedAt": started, "finishedAt": started, "status": status,
            "stageReached": if status == "failed" { "fetch" } else { "publish" },
            "exitCode": if status == "failed" { 10 } else { 0 }, "durations": {"total": 1.0},
            "metrics": {}, "builderVersion": "0.0.1"
        })
    };
    let seed = |runs: &[serde_json::Value]| {
        let doc = serde_json::json!({ "schema": 1, "runs": runs });
        std::fs::write(s.path("bucket/runs.json"), serde_json::to_vec(&doc).expect("JSON")).expect("seed");
    };
    let check = |args: &[&str]| output(s.cmd("status").args(args));
    let fails_with = |out: &Output, words: &[&str]| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(15), "{}", show(out));
        assert!(words.iter().all(|w| err.contains(w)), "{words:?} not in {}", show(out));
    };

    // No run recorded yet: nothing failed, healthy (--max-age covers a job that never runs).
    std::fs::create_dir_all(s.path("bucket")).expect("bucket folder");
    let out = check(&["--max-failed-runs", "0", "--json"]);
    assert!(out.status.success(), "{}", show(&out));
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        (st["healthy"].as_bool(), st["checks"][0]["check"].as_str()),
        (Some(true), Some("maxFailedRuns"))
    );

    // One success, then two failures.
    let published = record("a", "2026-01-01T01:00:00.000Z", "published");
    seed(&[
        published.clone(),
        record("b", "2026-01-02T01:00:00.000Z", "failed"),
        record("c", "2026-01-03T01:00:00.000Z", "failed"),
    ]);
    assert!(check(&["--max-failed-runs", "2"]).status.success());
    let out = check(&["--max-failed-runs", "1", "--json"]);
    fails_with(
        &out,
        &["unhealthy", "the newest 2 recorded runs failed in a row: more than --max-failed-runs 1"],
    );
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the JSON is still printed");
    assert_eq!((st["healthy"].as_bool(), st["checks"][0]["ok"].as_bool()), (Some(false), Some(false)));
    assert_eq!(st["failedRunsInARow"], 2);
    // Also from the environment; the text output names the failed check.
    let out = output(s.cmd("status").env("PLAYALIKE_MAX_FAILED_RUNS", "1"));
    fails_with(&out, &["more than --max-failed-runs 1"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("check maxFailedRuns: FAILED"), "{}", show(&out));

    // A real run that fails (no IGDB credentials) adds a third failure.
    let out = s.run("snapshot", &[]);
    assert_eq!(out.status.code(), Some(14), "{}", show(&out));
    fails_with(&check(&["--max-failed-runs", "2"]), &["the newest 3 recorded runs failed in a row"]);
    assert!(check(&["--max-failed-runs", "3"]).status.success());

    // The newest run succeeded: the streak is over, whatever failed before.
    let mut runs = s.runs();
    runs.push(record("d", "2099-01-01T01:00:00.000Z", "published"));
    seed(&runs);
    assert!(check(&["--max-failed-runs", "0"]).status.success());

    // runs.json that cannot be read fails the check with its reason (plain status still answers).
    std::fs::write(s.path("bucket/runs.json"), b"{ not json").expect("break runs.json");
    fails_with(&check(&["--max-failed-runs", "5"]), &["runs.json unreadable", "while parsing"]);
    assert!(check(&[]).status.success());

    // Nonsense is a usage error, not a silent pass.
    for bad in ["-1", "1.5", "many"] {
        assert_eq!(check(&["--max-failed-runs", bad]).status.code(), Some(2), "{bad}");
    }
}

/// A run stopped from outside (SIGTERM, what a scheduler's timeout sends before it kills) while
/// it publishes: the attempt is still recorded in runs.json as a failure naming the signal and
/// the stage, its summary line is printed, and nothing is published.
#[cfg(unix)]
#[test]
fn a_run_stopped_by_sigterm_is_recorded_and_publishes_nothing() {
    use std::process::{Command, Stdio};
    for gcs in [false, true] {
        let s = Site::new(gcs);
        generate(&s.path("igdb"), 300);
        let sandbox = s.path("igdb").display().to_string();
        // The run holds after publishing has read the bucket (a barrier nobody else joins).
        let barrier = s.path("barrier");
        let mut child = s
            .run_cmd("snapshot", &["--sandbox", &sandbox])
            .env("PLAYALIKE_FAILPOINT", format!("wait-after-read:{}:2", barrier.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn run");
        while std::fs::read_dir(&barrier).map(|d| d.count()).unwrap_or(0) < 1 {
            if child.try_wait().expect("try_wait").is_some() {
                panic!(
                    "gcs={gcs}: the run ended before publishing: {}",
                    show(&child.wait_with_output().expect("out"))
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(1), "gcs={gcs}: {}", show(&out));
        let sum = summary(&out);
        assert_eq!(sum["status"], "failed", "{sum}");
        assert_eq!(sum["failedStage"], "publish", "{sum}");
        let error = sum["error"].as_str().unwrap_or_default();
        assert!(error.contains("stopped by SIGTERM during the publish stage"), "gcs={gcs}: {sum}");
        let runs = s.runs();
        assert_eq!(codes(&runs), vec![1], "gcs={gcs}: the attempt is recorded: {runs:?}");
        assert!(s.read("latest.json").is_none(), "gcs={gcs}: nothing was published");
    }
}
