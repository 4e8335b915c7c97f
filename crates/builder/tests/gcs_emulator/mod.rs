//! Test support shared by the publish_* and run_* tests: a fake-gcs-server on a free loopback
//! port (started per test, killed on drop), small model blobs, HTTP reads, and running the real
//! `playalike` binary.

#![allow(dead_code)] // each test binary uses a different part
#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a panic is a test failure

use playalike_engine::{FIELD_COUNT, Game, Metadata, Model, Term};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fake-gcs-server binary: `PLAYALIKE_FAKE_GCS` or `<repo>/.venv/bin/fake-gcs-server`.
pub fn emulator_binary() -> PathBuf {
    let path = std::env::var_os("PLAYALIKE_FAKE_GCS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/fake-gcs-server"));
    assert!(
        path.is_file(),
        "fake-gcs-server not found at {}: run ./scripts/setup.sh (it installs the GCS emulator into .venv), \
         or set PLAYALIKE_FAKE_GCS to the binary",
        path.display()
    );
    path
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("local addr").port()
}

/// A running fake-gcs-server; killed when dropped.
pub struct Emulator {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Emulator {
    /// Starts the emulator (in-memory backend) and waits until it answers.
    pub fn start() -> Emulator {
        let bin = emulator_binary();
        let port = free_port();
        let data = tempfile::tempdir().expect("temp dir");
        let child = Command::new(&bin)
            .args(["-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", &port.to_string()])
            .args(["-public-host", &format!("127.0.0.1:{port}")])
            .args(["-external-url", &format!("http://127.0.0.1:{port}")])
            .args(["-data", &data.path().display().to_string(), "-log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let mut emu = Emulator { child, endpoint: format!("http://127.0.0.1:{port}") };
        // Ready when it answers; no time limit, but a dead emulator fails the test at once.
        loop {
            if let Some(status) = emu.child.try_wait().expect("poll emulator") {
                panic!("fake-gcs-server exited before answering: {status}");
            }
            if http("GET", &format!("{}/storage/v1/b", emu.endpoint), None).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        emu
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, name: &str) {
        let body = format!("{{\"name\":\"{name}\"}}");
        let r = http("POST", &format!("{}/storage/v1/b", self.endpoint), Some(body.into_bytes()))
            .expect("create bucket");
        assert!(
            r.status < 300,
            "creating bucket {name}: HTTP {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }

    /// Object metadata (JSON API resource), None on 404.
    pub fn object(&self, bucket: &str, name: &str) -> Option<serde_json::Value> {
        let url = format!("{}/storage/v1/b/{bucket}/o/{}", self.endpoint, name.replace('/', "%2F"));
        let r = http("GET", &url, None).expect("object metadata");
        if r.status == 404 {
            return None;
        }
        assert_eq!(r.status, 200, "{url}: {}", String::from_utf8_lossy(&r.body));
        Some(serde_json::from_slice(&r.body).expect("object JSON"))
    }

    /// Object bytes as a client without gzip support receives them, None on 404.
    pub fn download(&self, bucket: &str, name: &str) -> Option<Vec<u8>> {
        let url = format!("{}/storage/v1/b/{bucket}/o/{}?alt=media", self.endpoint, name.replace('/', "%2F"));
        let r = http("GET", &url, None).expect("download");
        if r.status == 404 {
            return None;
        }
        assert_eq!(r.status, 200, "{url}");
        if r.headers.get("content-encoding").is_some_and(|e| e == "gzip") {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&r.body[..]).read_to_end(&mut out).expect("gunzip");
            return Some(out);
        }
        Some(r.body)
    }

    /// All object names in the bucket.
    pub fn names(&self, bucket: &str) -> Vec<String> {
        let r = http("GET", &format!("{}/storage/v1/b/{bucket}/o", self.endpoint), None).expect("list");
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("list JSON");
        let mut names: Vec<String> = v["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o["name"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// One HTTP request with reqwest on a throwaway runtime.
pub fn http(method: &str, url: &str, body: Option<Vec<u8>>) -> Result<Reply, String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = client.request(method, url);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = resp.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok(Reply { status, headers, body })
    })
}

/// A small valid model; `seed` changes its content (and so its checksum).
pub fn model(seed: u32) -> Model {
    let mut features: [Vec<u32>; FIELD_COUNT] = Default::default();
    features[0] = vec![0];
    let games = (0..5)
        .map(|i| Game {
            id: 100 * seed + i,
            name: format!("Game {seed}-{i}"),
            slug: format!("game-{seed}-{i}"),
            year: Some(2000 + i as u16),
            rating: Some(70.0),
            rating_count: 3,
            popularity: 1.0,
            features: features.clone(),
            ..Game::default()
        })
        .collect();
    let mut vocab: [Vec<Term>; FIELD_COUNT] = Default::default();
    vocab[0] = vec![Term { igdb_id: 12, name: "Role-playing (RPG)".into() }];
    Model {
        metadata: Metadata {
            model_version: 0,
            created_at: "2026-11-28T02:00:00Z".into(),
            source: format!("test seed {seed}"),
            builder_version: "0.1.0".into(),
            metrics: BTreeMap::from([("recall@10".to_string(), 0.5 + f64::from(seed) / 100.0)]),
        },
        games,
        vocab,
        ..Model::default()
    }
}

/// Writes `model(seed)` as a blob file in `dir`; returns its path.
pub fn model_file(dir: &Path, seed: u32) -> PathBuf {
    let path = dir.join(format!("model-{seed}.bin"));
    let bytes = playalike_engine::format::encode(&model(seed)).expect("encode");
    std::fs::write(&path, bytes).expect("write model");
    path
}

/// The `playalike` binary with a clean environment (no PLAYALIKE_* or emulator variables
/// leaking in from the caller).
pub fn playalike() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_playalike"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("PLAYALIKE_")
            || k == "STORAGE_EMULATOR_HOST"
            || k == "GOOGLE_APPLICATION_CREDENTIALS"
        {
            cmd.env_remove(&*k);
        }
    }
    cmd.env("PLAYALIKE_LOG", "warn");
    cmd
}

/// Runs a command to completion.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("run playalike")
}

/// stdout and stderr of a finished command, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
