//! `playalike run`, the scheduled job, end to end with the real binary: a generated IGDB
//! snapshot served by the embedded sandbox → fetch → train → validate against the live model →
//! publish, into a fake-gcs-server bucket over HTTP and into a `file://` folder.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a panic is a test failure

mod gcs_emulator;
mod run_support;

use run_support::{Site, generate, summary};

use gcs_emulator::{output, playalike, show};

#[test]
fn run_publishes_then_reports_unchanged_then_refuses_a_worse_model() {
    for gcs in [false, true] {
        let s = Site::new(gcs);
        generate(&s.path("igdb"), 300);
        let sandbox = s.path("igdb").display().to_string();

        let out = s.run("snapshot", &["--sandbox", &sandbox]);
        assert!(out.status.success(), "gcs={gcs}: {}", show(&out));
        let sum = summary(&out);
        assert_eq!(sum["status"], "published");
        assert_eq!(sum["version"], 1);
        assert_eq!(sum["fetch"]["mode"], "full");
        assert_eq!(sum["validate"]["games"], 300);
        // PLAYALIKE_NO_LEARN (a train setting, read from the environment) reached the train stage.
        assert_eq!(sum["train"]["metrics"]["learned"], 0.0, "{sum}");
        for stage in ["fetch", "train", "validate", "publish", "total"] {
            assert!(sum["durations"][stage].as_f64().is_some(), "duration of {stage}");
        }
        assert_eq!(s.live(), Some(1));

        // Same data again: incremental fetch, same model → nothing published.
        let out = s.run("snapshot", &["--sandbox", &sandbox]);
        assert!(out.status.success(), "gcs={gcs}: {}", show(&out));
        let sum = summary(&out);
        assert_eq!(sum["status"], "unchanged", "{sum}");
        assert_eq!(sum["fetch"]["mode"], "since-last");
        assert!(s.read("models/v2/model.bin").is_none());

        // A much smaller catalogue fails the gate: exit 12, nothing published, v1 stays live.
        generate(&s.path("small"), 120);
        let small = s.path("small").display().to_string();
        let out = s.run("snapshot-small", &["--sandbox", &small]);
        assert_eq!(out.status.code(), Some(12), "gcs={gcs}: {}", show(&out));
        let sum = summary(&out);
        assert_eq!((sum["status"].as_str(), sum["failedStage"].as_str()), (Some("failed"), Some("validate")));
        assert_eq!(sum["exitCode"], 12);
        assert!(sum["error"].as_str().is_some_and(|e| e.contains("120 games")), "{sum}");
        assert_eq!(s.live(), Some(1));
        assert!(s.read("models/v2/model.bin").is_none());
        assert!(s.path("work/model.bin").is_file(), "the local model is kept for inspection");

        // A different catalogue of similar size passes and becomes v2; dry-run first.
        generate(&s.path("other"), 310);
        let other = s.path("other").display().to_string();
        let out = s.run("snapshot-other", &["--sandbox", &other, "--dry-run"]);
        assert!(out.status.success(), "gcs={gcs}: {}", show(&out));
        assert_eq!(summary(&out)["status"], "dry-run");
        assert_eq!(s.live(), Some(1));
        let out = s.run("snapshot-other", &["--sandbox", &other, "--skip-fetch", "--keep", "1"]);
        assert!(out.status.success(), "gcs={gcs}: {}", show(&out));
        let sum = summary(&out);
        assert_eq!(sum["version"], 2, "{sum}");
        assert_eq!(sum["publish"]["deleted"], serde_json::json!([1]));
        assert_eq!(s.live(), Some(2));
    }
}

#[test]
fn a_failed_stage_publishes_nothing_and_names_itself() {
    let s = Site::new(true);
    // fetch without IGDB credentials and without a sandbox: auth failure (14).
    let out = s.run("snapshot", &[]);
    assert_eq!(out.status.code(), Some(14), "{}", show(&out));
    let sum = summary(&out);
    assert_eq!(sum["failedStage"], "fetch");
    assert!(sum["error"].as_str().is_some_and(|e| e.contains("IGDB_CLIENT_ID")), "{sum}");
    // train from an empty snapshot folder: training failure (11).
    std::fs::create_dir_all(s.path("empty")).expect("mkdir");
    let out = s.run("empty", &["--skip-fetch"]);
    assert_eq!(out.status.code(), Some(11), "{}", show(&out));
    assert_eq!(summary(&out)["failedStage"], "train");
    // publish to a bucket that does not exist: exit 13 from the publish stage, naming the bucket
    // (reading latest.json cannot tell a missing bucket from an empty one on every server).
    generate(&s.path("igdb"), 100);
    let mut c = playalike();
    c.args(["run", "--bucket", "gs://no-such-bucket", "--skip-fetch", "--snapshot"]).arg(s.path("igdb"));
    c.arg("--work").arg(s.path("work"));
    c.env("PLAYALIKE_GCS_ENDPOINT", &s.emu.as_ref().expect("emu").endpoint).env("PLAYALIKE_NO_LEARN", "true");
    let out = output(&mut c);
    assert_eq!(out.status.code(), Some(13), "{}", show(&out));
    let sum = summary(&out);
    assert_eq!(sum["failedStage"], "publish");
    assert!(
        sum["error"]
            .as_str()
            .is_some_and(|e| e.contains("gs://no-such-bucket") && e.contains("does not exist"))
    );
    assert!(s.read("latest.json").is_none(), "nothing was published anywhere");
}

#[test]
fn a_live_blob_that_does_not_match_its_checksum_is_reported_and_replaced() {
    let s = Site::new(false);
    generate(&s.path("igdb"), 200);
    let sandbox = s.path("igdb").display().to_string();
    let out = s.run("snapshot", &["--sandbox", &sandbox]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(s.live(), Some(1));
    // Someone swaps the live blob for another one (here: the same model without its version
    // stamp). latest.json's checksum no longer matches what visitors download.
    let swapped = std::fs::read(s.path("work/model.bin")).expect("work model");
    std::fs::write(s.path("bucket/models/v1/model.bin"), &swapped).expect("swap");
    // The same snapshot again: the gate must not compare against (or call "unchanged") a live
    // blob that fails its checksum. It publishes a verified v2 and says loudly why.
    let out = s.run("snapshot", &["--skip-fetch"]);
    assert!(out.status.success(), "{}", show(&out));
    let sum = summary(&out);
    assert_eq!(sum["status"], "published", "{sum}");
    assert_eq!(sum["version"], 2, "{sum}");
    let problem = sum["validate"]["liveProblem"].as_str().unwrap_or_default();
    assert!(problem.contains("checksum") && problem.contains("v1"), "{sum}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WARN") && err.contains("checksum"), "a warning on stderr: {}", show(&out));
    assert_eq!(s.live(), Some(2));
    // A live blob that does not decode (and fails its checksum) is reported the same way.
    std::fs::write(s.path("bucket/models/v2/model.bin"), b"not a model").expect("break");
    generate(&s.path("other"), 210);
    let other = s.path("other").display().to_string();
    let out = s.run("snapshot-other", &["--sandbox", &other]);
    assert!(out.status.success(), "{}", show(&out));
    let sum = summary(&out);
    assert_eq!(sum["version"], 3, "{sum}");
    assert!(sum["validate"]["liveProblem"].as_str().is_some_and(|p| p.contains("v2")), "{sum}");
    assert_eq!(s.live(), Some(3));
}

#[test]
fn a_pointer_naming_another_object_than_its_blob_is_reported_and_replaced() {
    let s = Site::new(false);
    generate(&s.path("igdb"), 150);
    let sandbox = s.path("igdb").display().to_string();
    let out = s.run("snapshot", &["--sandbox", &sandbox]);
    assert!(out.status.success(), "{}", show(&out));
    // latest.json's url points at another object of the bucket (here latest.json itself): the
    // gate must not read it as the live model; visitors get the wrong object, so the site is
    // broken and a verified new version replaces it, loudly.
    let path = s.path("bucket/latest.json");
    let mut latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("latest.json")).expect("JSON");
    latest["url"] = "latest.json".into();
    std::fs::write(&path, serde_json::to_vec(&latest).expect("JSON")).expect("write");
    let out = s.run("snapshot", &["--skip-fetch"]);
    assert!(out.status.success(), "{}", show(&out));
    let sum = summary(&out);
    assert_eq!(sum["version"], 2, "{sum}");
    let problem = sum["validate"]["liveProblem"].as_str().unwrap_or_default();
    assert!(problem.contains("`latest.json`") && problem.contains("models/v1/model.bin"), "{sum}");
    assert_eq!(s.live(), Some(2));
}

#[test]
fn validate_live_runs_the_run_gate_against_the_bucket() {
    let s = Site::new(false);
    // Nothing published yet: said plainly, accepted.
    generate(&s.path("igdb"), 150);
    let sandbox = s.path("igdb").display().to_string();
    let out = s.run("snapshot", &["--sandbox", &sandbox, "--dry-run"]);
    assert!(out.status.success(), "{}", show(&out));
    let model = s.path("work/model.bin");
    let validate = |model: &std::path::Path| {
        let mut c = s.cmd("validate");
        c.arg("--live").arg("--model").arg(model).args(["--min-games", "1", "--json"]);
        output(&mut c)
    };
    let out = validate(&model);
    assert!(out.status.success(), "{}", show(&out));
    let v = summary(&out);
    assert!(v["checks"][3]["detail"].as_str().is_some_and(|d| d.contains("no comparable model")), "{v}");
    // Published: the same model is accepted and unchanged, compared with live v1.
    let out = s.run("snapshot", &["--skip-fetch"]);
    assert!(out.status.success(), "{}", show(&out));
    let out = validate(&model);
    assert!(out.status.success(), "{}", show(&out));
    let v = summary(&out);
    assert_eq!((v["liveVersion"].as_u64(), v["unchanged"].as_bool()), (Some(1), Some(true)), "{v}");
    // A much smaller model is refused with 12, by the same check `run` refuses it with.
    generate(&s.path("small"), 60);
    let mut c = playalike();
    c.args(["train", "--snapshot"]).arg(s.path("small")).arg("--out").arg(s.path("small.bin"));
    assert!(output(c.env("PLAYALIKE_NO_LEARN", "true")).status.success());
    let out = validate(&s.path("small.bin"));
    assert_eq!(out.status.code(), Some(12), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("games_vs_previous: 60 games"), "{}", show(&out));
}

#[test]
fn stage_settings_come_from_their_environment_variables_before_anything_runs() {
    let s = Site::new(false);
    generate(&s.path("igdb"), 100);
    let sandbox = s.path("igdb").display().to_string();
    // A fetch setting out of its range fails the fetch stage (10) before anything is fetched.
    let out = output(s.run_cmd("snapshot", &["--sandbox", &sandbox]).env("PLAYALIKE_FETCH_RATE", "9"));
    assert_eq!(out.status.code(), Some(10), "{}", show(&out));
    let sum = summary(&out);
    assert_eq!(sum["failedStage"], "fetch");
    assert!(sum["error"].as_str().is_some_and(|e| e.contains("fetch settings") && e.contains("9")), "{sum}");
    // A bad train setting fails the train stage (11), also before the fetch ran.
    let out = output(s.run_cmd("snapshot", &["--sandbox", &sandbox]).env("PLAYALIKE_SEED", "x"));
    assert_eq!(out.status.code(), Some(11), "{}", show(&out));
    let sum = summary(&out);
    assert_eq!(sum["failedStage"], "train");
    assert!(sum["error"].as_str().is_some_and(|e| e.contains("train settings")), "{sum}");
    assert!(!s.path("snapshot").exists(), "nothing was fetched");
    // Fetch settings apply: one page of 20 rows per request takes more requests than the default.
    let out = output(
        s.run_cmd("snapshot", &["--sandbox", &sandbox, "--dry-run"])
            .env("PLAYALIKE_FETCH_PAGES", "1")
            .env("PLAYALIKE_FETCH_PAGE_SIZE", "20"),
    );
    assert!(out.status.success(), "{}", show(&out));
    let requests = summary(&out)["fetch"]["requests"].as_u64().unwrap();
    assert!(requests >= 100 / 20, "{requests} requests");
}
