//! Helpers shared by the `playalike run` suites (run_job.rs, run_records.rs): a bucket (an
//! emulated gs:// or a file:// folder) with a scratch folder, the commands pointed at it, a
//! generated snapshot for the sandbox, and the run's one-line JSON summary.
//! The test binary declares `mod gcs_emulator;` beside `mod run_support;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a different part

use crate::gcs_emulator::{Emulator, output, playalike, show};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The emulated bucket's name (each `Site` starts its own emulator).
pub const BUCKET: &str = "playalike-run";

/// A bucket (emulated gs:// or file://) and a scratch folder.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub emu: Option<Emulator>,
}

impl Site {
    pub fn new(gcs: bool) -> Site {
        let dir = tempfile::tempdir().expect("tmp");
        let emu = gcs.then(|| {
            let e = Emulator::start();
            e.create_bucket(BUCKET);
            e
        });
        Site { dir, emu }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn url(&self) -> String {
        match &self.emu {
            Some(_) => format!("gs://{BUCKET}/nightly"),
            None => format!("file://{}", self.path("bucket").display()),
        }
    }

    /// `playalike SUB --bucket URL` with the emulator endpoint for gs://.
    pub fn cmd(&self, sub: &str) -> Command {
        let mut c = playalike();
        c.arg(sub).arg("--bucket").arg(self.url());
        if let Some(e) = &self.emu {
            c.env("PLAYALIKE_GCS_ENDPOINT", &e.endpoint);
        }
        c
    }

    /// `playalike run` with snapshot and work folders (fast, deterministic training).
    pub fn run_cmd(&self, snapshot: &str, extra: &[&str]) -> Command {
        let mut c = self.cmd("run");
        c.arg("--snapshot").arg(self.path(snapshot)).arg("--work").arg(self.path("work"));
        c.args(extra).env("PLAYALIKE_NO_LEARN", "true");
        c
    }

    pub fn run(&self, snapshot: &str, extra: &[&str]) -> Output {
        output(&mut self.run_cmd(snapshot, extra))
    }

    /// A bucket object's bytes, if it exists.
    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        match &self.emu {
            Some(e) => e.download(BUCKET, &format!("nightly/{name}")),
            None => std::fs::read(self.path("bucket").join(name)).ok(),
        }
    }

    /// The live version, after checking that its blob decodes.
    pub fn live(&self) -> Option<u64> {
        let bytes = self.read("latest.json")?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("latest.json");
        let version = v["version"].as_u64().expect("version");
        let blob = self.read(v["url"].as_str().expect("url")).expect("live blob");
        playalike_engine::Engine::from_bytes(&blob).expect("live blob decodes");
        Some(version)
    }

    /// runs.json's records.
    pub fn runs(&self) -> Vec<serde_json::Value> {
        let bytes = self.read("runs.json").expect("runs.json exists");
        let doc: serde_json::Value = serde_json::from_slice(&bytes).expect("runs.json is JSON");
        assert_eq!(doc["schema"], 1);
        doc["runs"].as_array().expect("runs").clone()
    }
}

/// Generates a synthetic IGDB snapshot of `games` games into `dir` (the sandbox serves it).
pub fn generate(dir: &Path, games: u32) {
    let out = output(playalike().args(["generate", "--games", &games.to_string(), "--out"]).arg(dir));
    assert!(out.status.success(), "generate: {}", show(&out));
}

/// The one JSON line on stdout.
pub fn summary(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one summary line: {}", show(out));
    serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("summary is JSON ({e}): {}", show(out)))
}
