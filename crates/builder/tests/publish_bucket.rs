//! `playalike publish`, `rollback` and `status` against real buckets over real I/O: a
//! fake-gcs-server over HTTP (the production JSON API client, no mocks) and a `file://` folder.
//! The same table of behaviours runs against both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a panic is a test failure

mod gcs_emulator;

use gcs_emulator::{Emulator, http, model, model_file, output, playalike, show};
use std::path::Path;
use std::process::Command;

const BUCKET: &str = "playalike-test";
const KINDS: [Kind; 2] = [Kind::File, Kind::Gcs];

#[derive(Debug, Clone, Copy)]
enum Kind {
    File,
    Gcs,
}

/// One bucket under test.
struct Store {
    dir: tempfile::TempDir,
    emu: Option<Emulator>,
}

impl Store {
    fn new(kind: Kind) -> Store {
        let dir = tempfile::tempdir().expect("temp dir");
        let emu = match kind {
            Kind::File => None,
            Kind::Gcs => {
                let e = Emulator::start();
                e.create_bucket(BUCKET);
                Some(e)
            }
        };
        Store { dir, emu }
    }

    /// A scratch folder for model files (not the bucket).
    fn work(&self) -> &Path {
        self.dir.path()
    }

    fn url(&self) -> String {
        match &self.emu {
            Some(_) => format!("gs://{BUCKET}/site"),
            None => format!("file://{}", self.dir.path().join("bucket").display()),
        }
    }

    /// `playalike SUB --bucket URL` (and the emulator endpoint for gs://).
    fn cmd(&self, sub: &str) -> Command {
        let mut c = playalike();
        c.arg(sub).arg("--bucket").arg(self.url());
        if let Some(e) = &self.emu {
            c.env("PLAYALIKE_GCS_ENDPOINT", &e.endpoint);
        }
        c
    }

    fn publish(&self, seed: u32, extra: &[&str]) -> std::process::Output {
        let model = model_file(self.work(), seed);
        output(self.cmd("publish").arg("--model").arg(&model).args(extra))
    }

    /// An object's decoded bytes, None when absent.
    fn read(&self, name: &str) -> Option<Vec<u8>> {
        match &self.emu {
            Some(e) => e.download(BUCKET, &format!("site/{name}")),
            None => std::fs::read(self.dir.path().join("bucket").join(name)).ok(),
        }
    }

    fn json(&self, name: &str) -> serde_json::Value {
        let bytes = self.read(name).unwrap_or_else(|| panic!("{name} missing"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The live version number.
    fn live(&self) -> u64 {
        self.json("latest.json")["version"].as_u64().expect("latest.json version")
    }

    /// Checks that latest.json names a complete version whose blob decodes and matches.
    fn assert_latest_complete(&self) -> u64 {
        let latest = self.json("latest.json");
        let v = latest["version"].as_u64().expect("version");
        let url = latest["url"].as_str().expect("url");
        assert_eq!(url, format!("models/v{v}/model.bin"));
        let blob = self.read(url).unwrap_or_else(|| panic!("latest.json names v{v} but {url} is missing"));
        assert_eq!(sha256_hex(&blob), latest["checksum"].as_str().expect("checksum"));
        assert_eq!(blob.len() as u64, latest["size"].as_u64().expect("size"));
        let engine = playalike_engine::Engine::from_bytes(&blob).expect("the live blob decodes");
        assert_eq!(u64::from(engine.model().metadata.model_version), v, "the blob carries its version");
        let meta = self.json(&format!("models/v{v}/metadata.json"));
        assert_eq!(meta["checksum"], latest["checksum"]);
        v
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The blob publish writes for `model(seed)` as version `v`: the same model, version stamped.
fn stamped(seed: u32, v: u32) -> Vec<u8> {
    let mut m = model(seed);
    m.metadata.model_version = v;
    playalike_engine::format::encode(&m).expect("encode")
}

#[test]
fn publish_reads_back_identical_and_moves_latest() {
    for kind in KINDS {
        let s = Store::new(kind);
        let out = s.publish(1, &[]);
        assert!(out.status.success(), "{kind:?} first publish: {}", show(&out));
        assert_eq!(s.read("models/v1/model.bin").as_deref(), Some(&stamped(1, 1)[..]), "{kind:?}");
        assert_eq!(s.assert_latest_complete(), 1);
        let meta = s.json("models/v1/metadata.json");
        assert_eq!(meta["version"], 1);
        assert_eq!(meta["games"], 5);
        assert_eq!(meta["source"], "test seed 1");
        assert_eq!(meta["createdAt"], "2026-11-28T02:00:00Z");
        assert_eq!(meta["metrics"]["recall@10"], 0.51);
        assert_eq!(meta["checksum"], sha256_hex(&stamped(1, 1)));

        let out = s.publish(2, &["--json"]);
        assert!(out.status.success(), "{kind:?} second publish: {}", show(&out));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
        assert_eq!(summary["version"], 2);
        assert_eq!(summary["previous"], 1);
        assert_eq!(s.assert_latest_complete(), 2);
        assert_eq!(s.read("models/v2/model.bin").as_deref(), Some(&stamped(2, 2)[..]));
        // v1 is untouched and the history holds both.
        assert_eq!(s.read("models/v1/model.bin").as_deref(), Some(&stamped(1, 1)[..]));
        let history = s.json("versions.json");
        let versions: Vec<u64> = history["versions"]
            .as_array()
            .expect("list")
            .iter()
            .map(|e| e["version"].as_u64().unwrap())
            .collect();
        assert_eq!(versions, [1, 2]);
        assert!(s.work().join("model-2.bin").is_file(), "the local model is kept");
    }
}

#[test]
fn publish_sets_cache_headers_and_gzip_on_gcs() {
    let s = Store::new(Kind::Gcs);
    let out = s.publish(1, &[]);
    assert!(out.status.success(), "{}", show(&out));
    let emu = s.emu.as_ref().expect("emulator");
    let blob = emu.object(BUCKET, "site/models/v1/model.bin").expect("blob");
    assert_eq!(blob["cacheControl"], "public, max-age=31536000, immutable");
    assert_eq!(blob["contentType"], "application/octet-stream");
    assert_eq!(blob["contentEncoding"], "gzip");
    let meta = emu.object(BUCKET, "site/models/v1/metadata.json").expect("metadata");
    assert_eq!(meta["cacheControl"], "public, max-age=31536000, immutable");
    assert_eq!(meta["contentType"], "application/json");
    for pointer in ["site/latest.json", "site/versions.json"] {
        let o = emu.object(BUCKET, pointer).expect("pointer");
        assert_eq!(o["cacheControl"], "public, max-age=60, must-revalidate", "{pointer}");
        assert_eq!(o["contentType"], "application/json", "{pointer}");
    }
    let latest = s.json("latest.json");
    assert_eq!(latest["encoding"], "gzip");
    assert_eq!(
        latest["absoluteUrl"],
        format!("{}/{BUCKET}/site/models/v1/model.bin", emu.endpoint),
        "absolute URL under the public base"
    );
    // Served over plain HTTP like a browser fetches it: decoded bytes match the checksum.
    let r = http("GET", latest["absoluteUrl"].as_str().expect("url"), None).expect("public GET");
    assert_eq!(r.status, 200);
    let body = if r.headers.get("content-encoding").is_some_and(|e| e == "gzip") {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&r.body[..]).read_to_end(&mut out).expect("gunzip");
        out
    } else {
        r.body
    };
    assert_eq!(sha256_hex(&body), latest["checksum"].as_str().expect("checksum"));

    // --gzip false stores the blob plain.
    let out = s.publish(2, &["--gzip", "false"]);
    assert!(out.status.success(), "{}", show(&out));
    let blob = emu.object(BUCKET, "site/models/v2/model.bin").expect("blob");
    assert!(blob.get("contentEncoding").is_none_or(|e| e.is_null() || e == ""), "{blob}");
    assert_eq!(s.json("latest.json")["encoding"], "identity");
}

#[test]
fn rollback_moves_the_pointer_back_and_status_shows_it() {
    for kind in KINDS {
        let s = Store::new(kind);
        for seed in 1..=3 {
            let out = s.publish(seed, &[]);
            assert!(out.status.success(), "{kind:?}: {}", show(&out));
        }
        assert_eq!(s.live(), 3);
        let out = output(s.cmd("rollback").arg("--previous"));
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert_eq!(s.assert_latest_complete(), 2);
        let out = output(s.cmd("rollback").args(["--version", "v1", "--json"]));
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!((summary["from"].as_u64(), summary["to"].as_u64()), (Some(2), Some(1)));
        assert_eq!(s.assert_latest_complete(), 1);
        // Nothing older than v1: --previous refuses and leaves the pointer alone.
        let out = output(s.cmd("rollback").arg("--previous"));
        assert_eq!(out.status.code(), Some(13), "{kind:?}: {}", show(&out));
        let out = output(s.cmd("rollback").args(["--version", "9"]));
        assert_eq!(out.status.code(), Some(13), "{kind:?}: {}", show(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no complete v9"), "{}", show(&out));
        assert_eq!(s.live(), 1);
        // Forward again.
        let out = output(s.cmd("rollback").args(["--version", "3"]));
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert_eq!(s.assert_latest_complete(), 3);

        let out = output(s.cmd("status").arg("--json"));
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(st["latest"]["version"], 3);
        assert_eq!(st["versions"].as_array().map(Vec::len), Some(3));
        assert_eq!(st["versions"][2]["live"], true);
        // Staleness is measured on the publish time (seconds ago), not on the data's date.
        assert!(st["ageSeconds"].as_i64().is_some_and(|a| (0..3600).contains(&a)), "{st}");
        assert!(st["dataAgeSeconds"].as_i64().is_some_and(|a| a > 3600), "{st}");
        let out = output(&mut s.cmd("status"));
        eprintln!("{}", show(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("live v3") && text.contains("recall@10"),
            "{}",
            show(&out)
        );
    }
}

/// `history.html` names the live version, and a rollback rewrites it: after rolling back from v3
/// to v1 the page says v1 is live, not v3.
#[test]
fn rollback_rewrites_history_html_naming_the_version_it_made_live() {
    for kind in KINDS {
        let s = Store::new(kind);
        for seed in 1..=3 {
            let out = s.publish(seed, &[]);
            assert!(out.status.success(), "{kind:?}: {}", show(&out));
        }
        let page = || String::from_utf8(s.read("history.html").expect("history.html")).expect("UTF-8");
        assert!(page().contains("Live: <b>v3</b>"), "{kind:?}: {}", page());
        let out = output(s.cmd("rollback").args(["--version", "1"]));
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        let p = page();
        assert!(p.contains("Live: <b>v1</b>") && !p.contains("Live: <b>v3</b>"), "{kind:?}: {p}");
        // The versions table marks v1, and only v1, as the live one.
        assert_eq!(p.matches("<td>v1 (live)").count(), 1, "{kind:?}: {p}");
        assert_eq!(p.matches("(live)").count(), 1, "{kind:?}: {p}");
        let out = output(s.cmd("rollback").arg("--previous"));
        assert_eq!(out.status.code(), Some(13), "nothing older than v1: {}", show(&out));
        assert!(page().contains("Live: <b>v1</b>"), "a refused rollback leaves the page alone");
        // A page that cannot be redrawn (runs.json does not parse) is a warning; the rollback stands.
        if let Kind::File = kind {
            std::fs::write(s.work().join("bucket/runs.json"), b"{ not json").expect("break runs.json");
            let out = output(s.cmd("rollback").args(["--version", "2"]));
            assert!(out.status.success(), "{}", show(&out));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("WARN") && err.contains("v2 is live, but history.html was not updated"),
                "{err}"
            );
            assert_eq!(s.assert_latest_complete(), 2);
        }
    }
}

/// `status --max-age HOURS --min-recall R`: the monitoring check. Exit 15 with the reason when the
/// live version was published too long ago, its recall@10 is too low, or nothing is live; exit 0
/// otherwise, however old the data the model was trained on.
#[test]
fn status_max_age_and_min_recall_exit_15_when_the_live_model_is_stale_or_weak() {
    let s = Store::new(Kind::File);
    let check = |args: &[&str]| output(s.cmd("status").args(args));
    let fails_with = |out: &std::process::Output, words: &[&str]| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(15), "{}", show(out));
        assert!(words.iter().all(|w| err.contains(w)), "{words:?} not in {}", show(out));
    };

    // No bucket at all: an error too (exit 13, the bucket cannot be read), never a pass.
    let out = check(&["--max-age", "26"]);
    assert_eq!(out.status.code(), Some(13), "{}", show(&out));
    // Nothing published: both checks fail; plain status still succeeds.
    std::fs::create_dir_all(s.work().join("bucket")).expect("bucket folder");
    fails_with(&check(&["--max-age", "26"]), &["unhealthy", "nothing is live"]);
    fails_with(&check(&["--min-recall", "0.1"]), &["nothing is live"]);
    assert!(check(&[]).status.success());

    // Freshly published (its data dates from 2026-11-28): healthy. recall@10 of seed 1 is 0.51.
    assert!(s.publish(1, &[]).status.success());
    let out = check(&["--max-age", "26", "--min-recall", "0.5", "--json"]);
    assert!(out.status.success(), "{}", show(&out));
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(st["healthy"], true, "{st}");
    assert_eq!(st["checks"].as_array().map(Vec::len), Some(2), "{st}");
    let out = check(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    for label in ["published    ", "data as of   2026-11-28T02:00:00Z", "recall@10"] {
        assert!(text.contains(label), "{label:?} not in {}", show(&out));
    }

    // Weak: recall@10 0.51 < 0.6. The JSON is still printed, then the exit code says it.
    let out = check(&["--min-recall", "0.6", "--json"]);
    fails_with(&out, &["recall@10 = 0.5100: below --min-recall 0.6"]);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!((st["healthy"].as_bool(), st["checks"][0]["ok"].as_bool()), (Some(false), Some(false)));
    // Also from the environment, like every flag.
    let out = output(s.cmd("status").env("PLAYALIKE_MIN_RECALL", "0.6"));
    fails_with(&out, &["below --min-recall 0.6"]);

    // Stale: the live version was published three days ago (the nightly job stopped).
    let path = s.work().join("bucket").join("latest.json");
    let mut latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("latest.json")).expect("JSON");
    let three_days_ago = chrono::Utc::now() - chrono::Duration::hours(72);
    latest["publishedAt"] = three_days_ago.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
    std::fs::write(&path, serde_json::to_vec(&latest).expect("JSON")).expect("write latest.json");
    fails_with(&check(&["--max-age", "26"]), &["older than --max-age 26 h", "(72.0 h ago)"]);
    assert!(check(&["--max-age", "73"]).status.success());
    let out = check(&["--max-age", "26", "--min-recall", "0.6"]);
    fails_with(&out, &["older than --max-age", "below --min-recall"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("check maxAge: FAILED"), "{}", show(&out));

    // Nonsense thresholds are usage errors, not a silent pass.
    assert_eq!(check(&["--max-age", "0"]).status.code(), Some(2));
    assert_eq!(check(&["--min-recall", "2"]).status.code(), Some(2));
}

#[test]
fn retention_deletes_old_versions_after_the_pointer_moved() {
    for kind in KINDS {
        let s = Store::new(kind);
        for seed in 1..=3 {
            assert!(s.publish(seed, &[]).status.success());
        }
        // Roll back to v1, then publish v4 keeping 2: v4 and v3 stay; v2 and v1 go. v1 is not
        // live any more once v4 is, so it may go.
        assert!(output(s.cmd("rollback").args(["--version", "1"])).status.success());
        let out = s.publish(4, &["--keep", "2", "--json"]);
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(summary["deleted"], serde_json::json!([1, 2]), "{kind:?}");
        for v in [1, 2] {
            assert!(s.read(&format!("models/v{v}/model.bin")).is_none(), "{kind:?} v{v} deleted");
            assert!(s.read(&format!("models/v{v}/metadata.json")).is_none(), "{kind:?} v{v} deleted");
        }
        for v in [3, 4] {
            assert!(s.read(&format!("models/v{v}/model.bin")).is_some(), "{kind:?} v{v} kept");
        }
        assert_eq!(s.assert_latest_complete(), 4);
        // The history keeps all four; status marks the deleted ones.
        let out = output(s.cmd("status").arg("--json"));
        let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let avail: Vec<bool> =
            st["versions"].as_array().expect("list").iter().map(|e| e["available"] == true).collect();
        assert_eq!(avail, [false, false, true, true]);
        // With keep 1 while v3 is live after a rollback: the live one stays.
        assert!(output(s.cmd("rollback").args(["--version", "3"])).status.success());
        let out = s.publish(5, &["--keep", "1", "--json"]);
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(summary["deleted"], serde_json::json!([3, 4]), "{kind:?}: v5 is live now");
        assert_eq!(s.assert_latest_complete(), 5);
    }
}

#[test]
fn two_racing_publishers_exactly_one_wins() {
    for kind in KINDS {
        let s = Store::new(kind);
        assert!(s.publish(1, &[]).status.success());
        // Both read the bucket state, wait for each other at the barrier, then write.
        let barrier = s.work().join("barrier");
        let children: Vec<_> = [2, 3]
            .into_iter()
            .map(|seed| {
                let model = model_file(s.work(), seed);
                s.cmd("publish")
                    .arg("--model")
                    .arg(model)
                    .env("PLAYALIKE_FAILPOINT", format!("wait-after-read:{}:2", barrier.display()))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn publisher")
            })
            .collect();
        let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
        let winners = outs.iter().filter(|o| o.status.success()).count();
        assert_eq!(winners, 1, "{kind:?}: exactly one wins\n{}\n{}", show(&outs[0]), show(&outs[1]));
        let loser = outs.iter().find(|o| !o.status.success()).expect("a loser");
        eprintln!("{kind:?} loser: {}", show(loser));
        assert_eq!(loser.status.code(), Some(13), "{}", show(loser));
        assert!(String::from_utf8_lossy(&loser.stderr).contains("another publisher won"), "{}", show(loser));
        assert_eq!(s.assert_latest_complete(), 2);
        // The loser's leftovers do not block the next publish.
        let out = s.publish(4, &[]);
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert!(s.assert_latest_complete() >= 3);
    }
}

#[test]
fn a_rollback_racing_a_publish_exactly_one_moves_the_pointer() {
    for kind in KINDS {
        let s = Store::new(kind);
        assert!(s.publish(1, &[]).status.success());
        assert!(s.publish(2, &[]).status.success());
        let barrier = s.work().join("barrier");
        let fp = format!("wait-after-read:{}:2", barrier.display());
        let model = model_file(s.work(), 3);
        let spawn = |c: &mut Command| {
            c.env("PLAYALIKE_FAILPOINT", &fp)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let publisher = spawn(s.cmd("publish").arg("--model").arg(&model));
        let rollback = spawn(s.cmd("rollback").arg("--previous"));
        let (p, r) =
            (publisher.wait_with_output().expect("wait"), rollback.wait_with_output().expect("wait"));
        // Both read latest.json at the same generation; only one conditional write of it wins.
        assert_ne!(p.status.success(), r.status.success(), "{kind:?}\n{}\n{}", show(&p), show(&r));
        let loser = if p.status.success() { &r } else { &p };
        assert_eq!(loser.status.code(), Some(13), "{}", show(loser));
        let err = String::from_utf8_lossy(&loser.stderr);
        assert!(err.contains("another publisher won") && err.contains("latest.json"), "{err}");
        let live = s.assert_latest_complete();
        assert_eq!(live, if p.status.success() { 3 } else { 1 }, "{kind:?}");
    }
}

#[test]
fn a_crash_at_any_step_leaves_latest_complete() {
    for kind in KINDS {
        let s = Store::new(kind);
        assert!(s.publish(1, &[]).status.success());
        let mut seed = 10;
        for (step, moved) in [
            ("after-blob", false),
            ("after-metadata", false),
            ("after-latest", true),
            ("after-versions", true),
        ] {
            seed += 1;
            let before = s.live();
            let model = model_file(s.work(), seed);
            let out = output(s.cmd("publish").arg("--model").arg(&model).env("PLAYALIKE_FAILPOINT", step));
            assert_eq!(out.status.code(), Some(86), "{kind:?} {step}: {}", show(&out));
            let live = s.assert_latest_complete();
            assert_eq!(live != before, moved, "{kind:?} {step}: pointer moved = {moved}");
            assert!(model.is_file(), "the local model is kept");
        }
        // After all those crashes a normal publish still works and lands above the leftovers.
        let out = s.publish(99, &["--keep", "1"]);
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert_eq!(s.assert_latest_complete(), 6, "{kind:?}: v2..v5 were taken by the crashed runs");
        // The history names the versions that were live (v4 crashed before recording itself;
        // the next publish recorded it), never the ones that were not (v2, v3).
        assert_eq!(history(&s), [1, 4, 5, 6], "{kind:?}");
    }
}

#[test]
fn dry_run_writes_nothing() {
    for kind in KINDS {
        let s = Store::new(kind);
        let out = s.publish(1, &["--dry-run"]);
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("would publish v1") && text.contains("models/v1/model.bin"), "{text}");
        assert!(s.read("latest.json").is_none(), "{kind:?}: nothing written");
        assert!(s.read("models/v1/model.bin").is_none(), "{kind:?}: nothing written");
    }
}

#[test]
fn a_model_that_does_not_decode_is_not_published() {
    for kind in KINDS {
        let s = Store::new(kind);
        let bad = s.work().join("bad.bin");
        let mut bytes = playalike_engine::format::encode(&model(1)).expect("encode");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&bad, &bytes).expect("write");
        let out = output(s.cmd("publish").arg("--model").arg(&bad));
        assert_eq!(out.status.code(), Some(13), "{kind:?}: {}", show(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("does not decode"), "{}", show(&out));
        assert!(s.read("latest.json").is_none());
        assert!(s.read("models/v1/model.bin").is_none());
    }
}

#[test]
fn missing_bucket_names_the_bucket_and_the_step() {
    // gs:// bucket that does not exist on the emulator.
    let emu = Emulator::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let model = model_file(tmp.path(), 1);
    let out = output(
        playalike()
            .args(["publish", "--bucket", "gs://no-such-bucket/p", "--model"])
            .arg(&model)
            .env("PLAYALIKE_GCS_ENDPOINT", &emu.endpoint),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("{}", show(&out));
    assert_eq!(out.status.code(), Some(13), "{}", show(&out));
    assert!(err.contains("gs://no-such-bucket/p") && err.contains("does not exist"), "{err}");
    assert!(
        err.contains("while reading what gs://") && err.contains("listing models/"),
        "names the step: {err}"
    );
    assert!(model.is_file());
    // file:// folder that does not exist: status and rollback do not create it.
    let missing = format!("file://{}", tmp.path().join("nope").display());
    for sub in [&["status"][..], &["rollback", "--previous"][..]] {
        let out = output(playalike().args(sub).args(["--bucket", &missing]));
        assert_eq!(out.status.code(), Some(13), "{}", show(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains(&missing), "{}", show(&out));
    }
}

#[test]
fn network_down_names_the_bucket_and_the_step() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = model_file(tmp.path(), 1);
    let closed = format!("http://127.0.0.1:{}", gcs_emulator::free_port());
    let out = output(
        playalike()
            .args(["publish", "--bucket", "gs://playalike-test", "--model"])
            .arg(&model)
            .env("PLAYALIKE_GCS_ENDPOINT", &closed),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("{}", show(&out));
    assert_eq!(out.status.code(), Some(13), "{}", show(&out));
    assert!(err.contains("could not connect") && err.contains("gs://playalike-test"), "{err}");
    assert!(
        err.contains("while reading what gs://") && err.contains("listing models/"),
        "names the step: {err}"
    );
    assert!(model.is_file());
}

/// A raw HTTP server on loopback: for each connection, reads the request head, then lets
/// `answer` write whatever it wants. Returns its base URL.
fn raw_server(answer: impl Fn(&mut std::net::TcpStream) + Send + 'static) -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            answer(&mut stream);
        }
    });
    format!("http://{addr}")
}

/// A server that refuses every request with the given status, like Cloud Storage does with bad
/// or insufficient credentials.
fn refusing_server(status: u16) -> String {
    raw_server(move |stream| {
        use std::io::Write;
        let body = format!(
            r#"{{"error":{{"code":{status},"message":"Invalid Credentials or permission denied"}}}}"#
        );
        let _ = write!(
            stream,
            "HTTP/1.1 {status} Refused\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    })
}

#[test]
fn refused_credentials_exit_with_the_auth_code() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = model_file(tmp.path(), 1);
    for status in [401, 403] {
        let endpoint = refusing_server(status);
        let out = output(
            playalike()
                .args(["publish", "--bucket", "gs://playalike-test", "--model"])
                .arg(&model)
                .env("PLAYALIKE_GCS_ENDPOINT", &endpoint),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        eprintln!("{}", show(&out));
        assert_eq!(out.status.code(), Some(14), "{}", show(&out));
        assert!(
            err.contains("access to gs://playalike-test refused") && err.contains(&format!("HTTP {status}")),
            "{err}"
        );
        let out = output(
            playalike()
                .args(["status", "--bucket", "gs://playalike-test"])
                .env("PLAYALIKE_GCS_ENDPOINT", &endpoint),
        );
        assert_eq!(out.status.code(), Some(14), "{}", show(&out));
    }
    assert!(model.is_file());
}

/// A proxy in front of `upstream` that forwards every request (one per connection) and, for
/// every other upload (the 1st, 3rd, …, `lose` of them), forwards it but closes the connection
/// instead of relaying the answer: the write happened and the client does not know. Returns the
/// proxy URL and a counter of the uploads whose answer was lost.
fn losing_proxy(upstream: &str, lose: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let lost = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = lost.clone();
    let mut uploads = 0;
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut client) = stream else { continue };
            // The request: headers, then Content-Length bytes of body.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i + 4);
                }
                match client.read(&mut chunk) {
                    Ok(0) | Err(_) => break None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let Some(head_end) = head_end else { continue };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < head_end + length {
                match client.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            // One request per connection: ask upstream to close, so its answer ends at EOF and
            // the client does not reuse this connection.
            let request = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
            let Ok(mut up) = std::net::TcpStream::connect(&upstream) else { continue };
            let _ = up.write_all(request.as_bytes());
            let _ = up.write_all(&buf[head_end..]);
            let mut answer = Vec::new();
            let _ = up.read_to_end(&mut answer);
            if head.starts_with("POST /upload/") {
                uploads += 1;
                if uploads % 2 == 1 && counter.load(Ordering::SeqCst) < lose {
                    counter.fetch_add(1, Ordering::SeqCst);
                    drop(client); // the answer is lost
                    continue;
                }
            }
            let _ = client.write_all(&answer);
        }
    });
    (format!("http://{addr}"), lost)
}

#[test]
fn an_upload_whose_answer_was_lost_is_retried_and_recognised() {
    let s = Store::new(Kind::Gcs);
    let emu = s.emu.as_ref().expect("emulator");
    // Each upload of the publish loses its first answer (blob, metadata, versions, latest): the
    // second attempt meets the precondition the first one's write broke.
    let (proxy, lost) = losing_proxy(&emu.endpoint, 4);
    let model = model_file(s.work(), 1);
    let out = output(
        playalike()
            .args(["publish", "--bucket", &s.url(), "--model"])
            .arg(&model)
            .env("PLAYALIKE_GCS_ENDPOINT", &proxy)
            .env("PLAYALIKE_LOG", "info"),
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(lost.load(std::sync::atomic::Ordering::SeqCst), 4, "four answers were lost");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("an earlier attempt had landed"), "the landed writes are recognised: {err}");
    assert_eq!(s.assert_latest_complete(), 1);
    // Each object carries the SHA-256 of its (decoded) bytes in its metadata.
    for name in ["models/v1/model.bin", "latest.json"] {
        let o = emu.object(BUCKET, &format!("site/{name}")).expect("object");
        let bytes = s.read(name).expect("bytes");
        assert_eq!(o["metadata"]["playalike-sha256"], sha256_hex(&bytes), "{name}");
    }
}

/// Starts `cmd` with a barrier failpoint at `step` (`wait-STEP:DIR:2`) and returns once the
/// child has reached it. No time limit: a child that exits before reaching the barrier fails the
/// test at once.
fn pause(step: &str, barrier: &Path, cmd: &mut Command) -> std::process::Child {
    let mut child = cmd
        .env("PLAYALIKE_FAILPOINT", format!("wait-{step}:{}:2", barrier.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    loop {
        if let Some(status) = child.try_wait().expect("poll child") {
            let out = child.wait_with_output().expect("wait");
            panic!("the child exited ({status}) before reaching {step}: {}", show(&out));
        }
        if std::fs::read_dir(barrier).map(|d| d.count()).unwrap_or(0) >= 1 {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Lets a child held by [`pause`] go on, and waits for it.
fn release(barrier: &Path, child: std::process::Child) -> std::process::Output {
    std::fs::write(barrier.join("release"), b"").expect("release the barrier");
    child.wait_with_output().expect("wait")
}

/// Runs `cmd` up to the barrier at `step`, runs `meanwhile`, then lets it finish.
fn paused_at(
    step: &str,
    barrier: &Path,
    cmd: &mut Command,
    meanwhile: impl FnOnce(),
) -> std::process::Output {
    let child = pause(step, barrier, cmd);
    meanwhile();
    release(barrier, child)
}

/// The version numbers versions.json names.
fn history(s: &Store) -> Vec<u64> {
    s.json("versions.json")["versions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["version"].as_u64().expect("version"))
        .collect()
}

#[test]
fn retention_never_deletes_what_a_concurrent_rollback_made_live() {
    for kind in KINDS {
        let s = Store::new(kind);
        for seed in 1..=3 {
            assert!(s.publish(seed, &[]).status.success());
        }
        // The publisher moved the pointer to v4 and is about to apply --keep 1 (from the state it
        // read before writing: v1..v3 doomed). A rollback to v2 lands in between.
        let model = model_file(s.work(), 4);
        let out = paused_at(
            "after-latest",
            &s.work().join("barrier"),
            s.cmd("publish").arg("--model").arg(&model).args(["--keep", "1", "--json"]),
            || {
                let r = output(s.cmd("rollback").args(["--version", "2"]));
                assert!(r.status.success(), "{kind:?} rollback: {}", show(&r));
            },
        );
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert_eq!(s.assert_latest_complete(), 2, "{kind:?}: the rolled-back-to version survives retention");
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let deleted = summary["deleted"].as_array().expect("deleted").clone();
        assert!(!deleted.contains(&serde_json::json!(2)), "{kind:?}: {summary}");
        assert!(!deleted.contains(&serde_json::json!(4)), "{kind:?}: v4 is its own fresh version: {summary}");
        assert!(s.read("models/v4/model.bin").is_some(), "{kind:?}");
    }
}

#[test]
fn a_publisher_that_loses_the_pointer_leaves_the_history_alone() {
    for kind in KINDS {
        let s = Store::new(kind);
        assert!(s.publish(1, &[]).status.success());
        assert!(s.publish(2, &[]).status.success());
        // The publisher has uploaded v3's objects; a rollback to v1 moves the pointer first.
        let model = model_file(s.work(), 3);
        let out = paused_at(
            "after-metadata",
            &s.work().join("barrier"),
            s.cmd("publish").arg("--model").arg(&model),
            || {
                let r = output(s.cmd("rollback").arg("--previous"));
                assert!(r.status.success(), "{kind:?} rollback: {}", show(&r));
            },
        );
        assert_eq!(out.status.code(), Some(13), "{kind:?}: {}", show(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("another publisher won"), "{}", show(&out));
        assert_eq!(s.assert_latest_complete(), 1, "{kind:?}");
        assert_eq!(history(&s), [1, 2], "{kind:?}: v3 was never live, so the history does not name it");
        // The next publish lands above the loser's leftovers and enters the history.
        let out = s.publish(4, &[]);
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert_eq!(s.assert_latest_complete(), 4);
        assert_eq!(history(&s), [1, 2, 4], "{kind:?}");
    }
}

/// A rollback records in versions.json what went live without being recorded: the version a
/// crashed publisher made live (it moves the pointer away from it) and its own target when that
/// was never live (a complete leftover of a publisher that crashed before the pointer).
#[test]
fn a_rollback_records_the_versions_the_history_lacks() {
    for kind in KINDS {
        let s = Store::new(kind);
        assert!(s.publish(1, &[]).status.success());
        for (seed, step) in [(2, "after-metadata"), (3, "after-latest")] {
            let model = model_file(s.work(), seed);
            let out = output(s.cmd("publish").arg("--model").arg(&model).env("PLAYALIKE_FAILPOINT", step));
            assert_eq!(out.status.code(), Some(86), "{kind:?} {step}: {}", show(&out));
        }
        // v3 is live but unrecorded; v2 is complete and was never live.
        assert_eq!(s.assert_latest_complete(), 3, "{kind:?}");
        assert_eq!(history(&s), [1], "{kind:?}");
        let out = output(s.cmd("rollback").args(["--version", "2"]));
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert_eq!(s.assert_latest_complete(), 2, "{kind:?}");
        assert_eq!(history(&s), [1, 2, 3], "{kind:?}: v3 was live before the rollback, v2 is live now");
        // Rolling back between recorded versions changes nothing more.
        let out = output(s.cmd("rollback").args(["--version", "3"]));
        assert!(out.status.success(), "{kind:?}: {}", show(&out));
        assert_eq!(history(&s), [1, 2, 3], "{kind:?}");
    }
}

#[test]
fn the_highest_possible_version_number_is_a_clear_error() {
    for kind in KINDS {
        let s = Store::new(kind);
        assert!(s.publish(1, &[]).status.success());
        // An object at v4294967295 (u32::MAX): there is no next number.
        let name = "models/v4294967295/model.bin";
        match &s.emu {
            Some(e) => {
                let url = format!(
                    "{}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name=site/{name}",
                    e.endpoint
                );
                let r = http("POST", &url, Some(b"junk".to_vec())).expect("upload");
                assert!(r.status < 300, "{}", String::from_utf8_lossy(&r.body));
            }
            None => {
                let path = s.work().join("bucket").join(name);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(&path, b"junk").expect("write");
            }
        }
        for extra in [&["--dry-run"][..], &[][..]] {
            let out = s.publish(2, extra);
            assert_eq!(out.status.code(), Some(13), "{kind:?} {extra:?}: {}", show(&out));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("v4294967295") && err.contains("no version number"), "{kind:?}: {err}");
        }
        assert_eq!(s.assert_latest_complete(), 1, "{kind:?}: nothing changed");
        assert_eq!(history(&s), [1]);
    }
}

#[test]
fn a_rollback_whose_target_retention_deleted_meanwhile_restores_it() {
    for kind in KINDS {
        let s = Store::new(kind);
        for seed in 1..=3 {
            assert!(s.publish(seed, &[]).status.success());
        }
        // A publisher has moved the pointer to v4 and is about to apply --keep 1.
        let model = model_file(s.work(), 4);
        let publisher = pause(
            "after-latest",
            &s.work().join("barrier-publish"),
            s.cmd("publish").arg("--model").arg(&model).args(["--keep", "1", "--json"]),
        );
        // A rollback to v2 reads the pointer (v4), checks v2's blob, and stops before moving it.
        let barrier = s.work().join("barrier-rollback");
        let rollback = pause("before-pointer", &barrier, s.cmd("rollback").args(["--version", "2"]));
        // Retention sees v4 live and deletes v1..v3; then the rollback points at v2.
        let p = release(&s.work().join("barrier-publish"), publisher);
        assert!(p.status.success(), "{kind:?}: {}", show(&p));
        let r = release(&barrier, rollback);
        assert!(r.status.success(), "{kind:?}: {}", show(&r));
        assert_eq!(s.assert_latest_complete(), 2, "{kind:?}: the live version is complete, not a 404");
        assert!(String::from_utf8_lossy(&r.stderr).contains("restored"), "{kind:?} says so: {}", show(&r));
    }
}

#[test]
fn oversized_bucket_documents_are_refused_before_they_are_read_whole() {
    for kind in KINDS {
        let s = Store::new(kind);
        assert!(s.publish(1, &[]).status.success());
        // latest.json padded to 2 MiB (still valid JSON): far beyond what a pointer needs.
        let mut big = s.read("latest.json").expect("latest.json");
        big.extend(std::iter::repeat_n(b' ', 2 << 20));
        match &s.emu {
            Some(e) => {
                let url = format!(
                    "{}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name=site/latest.json",
                    e.endpoint
                );
                let r = http("POST", &url, Some(big)).expect("upload");
                assert!(r.status < 300, "{}", String::from_utf8_lossy(&r.body));
            }
            None => std::fs::write(s.work().join("bucket/latest.json"), &big).expect("write"),
        }
        for sub in [&["publish", "--model"][..], &["rollback", "--version", "1"][..]] {
            let mut c = s.cmd(sub[0]);
            c.args(&sub[1..]);
            if sub[0] == "publish" {
                c.arg(model_file(s.work(), 2));
            }
            let out = output(&mut c);
            assert_eq!(out.status.code(), Some(13), "{kind:?} {sub:?}: {}", show(&out));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("latest.json") && err.contains("larger than"), "{kind:?} {sub:?}: {err}");
        }
        assert!(s.read("models/v2/model.bin").is_none(), "{kind:?}: nothing published");
    }
}

/// A server that answers every request with 200 and a body of `len` spaces (announced), like a
/// hostile or broken endpoint streaming far more than any answer needs.
fn flooding_server(len: usize) -> String {
    raw_server(move |stream| {
        use std::io::Write;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
        );
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        let spaces = vec![b' '; 1 << 20];
        let mut sent = 0;
        while sent < len {
            let n = spaces.len().min(len - sent);
            if stream.write_all(&spaces[..n]).is_err() {
                break; // the client stopped reading: what we want
            }
            sent += n;
        }
    })
}

#[test]
fn an_endpoint_flooding_its_answers_is_refused_before_they_are_read_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = model_file(tmp.path(), 1);
    let endpoint = flooding_server(64 << 20);
    let out = output(
        playalike()
            .args(["publish", "--bucket", "gs://playalike-test", "--model"])
            .arg(&model)
            .env("PLAYALIKE_GCS_ENDPOINT", &endpoint),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(13), "{}", show(&out));
    assert!(err.contains("listing") && err.contains("larger than"), "names the step and the cap: {err}");
}
