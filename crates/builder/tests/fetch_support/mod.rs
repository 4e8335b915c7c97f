//! Helpers shared by the fetch and sandbox integration tests: the real `playalike` binary, a
//! sandbox it serves on a free loopback port, a tiny HTTP/1.1 client, snapshot comparison.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_playalike");

#[path = "../data_support/mod.rs"]
mod data_support;

/// The IGDB-shaped 4k sample: `../shared/data/igdb-sample-4k` (or under `PLAYALIKE_DATA_DIR`),
/// else the generated stand-in (see `data_support`).
pub fn sample() -> PathBuf {
    data_support::igdb_sample()
}

/// A `playalike sandbox` process; killed on drop.
pub struct Sandbox {
    child: Child,
    pub url: String,
    pub auth_url: String,
    pub base: String,
}

impl Sandbox {
    pub fn start(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(["sandbox", "--data"]).arg(data).args(["--port", "0"]).args(extra);
        cmd.env_remove("PLAYALIKE_SANDBOX_CLIENT_SECRET").env("PLAYALIKE_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child =
            cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start the sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the sandbox URL line");
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("sandbox said {line:?}: {e}"));
        let url = v["url"].as_str().unwrap().to_string();
        let base = url.trim_end_matches("/v4").to_string();
        Self { child, auth_url: v["authUrl"].as_str().unwrap().to_string(), url, base }
    }

    pub fn stats(&self) -> Value {
        let (status, body) = http("GET", &format!("{}/_sandbox/stats", self.base), &[], "");
        assert_eq!(status, 200);
        serde_json::from_str(&body).unwrap()
    }

    /// A token from the sandbox's token endpoint.
    pub fn token(&self, id: &str, secret: &str) -> String {
        let (status, body) = http(
            "POST",
            &format!("{}?client_id={id}&client_secret={secret}&grant_type=client_credentials", self.auth_url),
            &[],
            "",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["access_token"].as_str().unwrap().to_string()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection: (status, body). Status 0 when the server
/// closed the connection without an answer.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let (status, _, body) = http_raw(method, url, headers, body);
    (status, body)
}

/// Like [`http`], also returning the Content-Length header (to spot truncated answers).
pub fn http_raw(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Option<usize>, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = TcpStream::connect(host).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return (0, None, String::new()) };
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let len = head.lines().find_map(|l| {
        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
    });
    (status, len, body.to_string())
}

/// Runs `playalike fetch` with no IGDB credentials in the environment unless given.
pub fn fetch(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("fetch").args(args);
    for k in
        ["IGDB_CLIENT_ID", "IGDB_CLIENT_SECRET", "PLAYALIKE_FETCH_FAIL_AFTER", "PLAYALIKE_CREDENTIALS_FILE"]
    {
        cmd.env_remove(k);
    }
    cmd.env("PLAYALIKE_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run playalike fetch")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn summary(o: &Output) -> Value {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out.lines().last().unwrap_or_else(|| panic!("no stdout; stderr: {}", stderr(o)));
    serde_json::from_str(line).unwrap()
}

/// Reads a snapshot table (json or jsonl, gz or not) as id → object.
pub fn table(dir: &Path, name: &str) -> Option<BTreeMap<u64, Value>> {
    let path = ["json", "jsonl", "json.gz", "jsonl.gz"]
        .iter()
        .map(|e| dir.join(format!("{name}.{e}")))
        .find(|p| p.is_file())?;
    let f = std::fs::File::open(&path).unwrap();
    let mut text = String::new();
    if path.to_string_lossy().ends_with(".gz") {
        flate2::read::GzDecoder::new(f).read_to_string(&mut text).unwrap();
    } else {
        BufReader::new(f).read_to_string(&mut text).unwrap();
    }
    let rows: Vec<Value> = if path.to_string_lossy().contains(".jsonl") {
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    Some(rows.into_iter().map(|r| (r["id"].as_u64().unwrap(), r)).collect())
}

/// Table names of a snapshot directory.
pub fn table_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            (n.ends_with(".json.gz")
                || n.ends_with(".jsonl.gz")
                || n.ends_with(".json")
                || n.ends_with(".jsonl"))
            .then(|| n.split('.').next().unwrap().to_string())
        })
        .filter(|n| n != "fetch-state")
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Asserts two id → object maps are equal, naming the first difference.
pub fn assert_same(name: &str, want: &BTreeMap<u64, Value>, got: &BTreeMap<u64, Value>) {
    assert_eq!(want.len(), got.len(), "{name}: {} rows expected, {} fetched", want.len(), got.len());
    for (id, w) in want {
        let g = got.get(id).unwrap_or_else(|| panic!("{name}: id {id} missing"));
        assert_eq!(w, g, "{name}: id {id} differs");
    }
}

/// Asserts the fetched snapshot holds every table of `data` exactly (games filtered by `keep`),
/// and that tables the data lacks came back empty.
pub fn assert_snapshot(data: &Path, out: &Path, keep: impl Fn(&Value) -> bool) {
    for name in table_names(data) {
        let mut want = table(data, &name).unwrap();
        if name == "games" {
            want.retain(|_, g| keep(g));
        }
        let got = table(out, &name).unwrap_or_else(|| panic!("{name} missing from {}", out.display()));
        assert_same(&name, &want, &got);
    }
    let have = table_names(data);
    for name in table_names(out) {
        if !have.contains(&name) {
            assert!(
                table(out, &name).unwrap().is_empty(),
                "{name} should be empty: the sandbox has no such table"
            );
        }
    }
}

/// The default filter of `fetch`: no editions, no adult theme.
pub fn default_filter(g: &Value) -> bool {
    g.get("version_parent").is_none_or(Value::is_null)
        && !g.get("themes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x == 42))
}

/// Asserts the sandbox never saw IGDB's limits exceeded.
pub fn assert_within_limits(stats: &Value) {
    assert!(stats["max_per_second"].as_u64().unwrap() <= 4, "more than 4 requests in a second: {stats}");
    assert!(stats["max_open"].as_u64().unwrap() <= 8, "more than 8 open requests: {stats}");
    assert_eq!(
        stats["limited"].as_u64().unwrap(),
        0,
        "the sandbox had to refuse requests over the limits: {stats}"
    );
}

/// One request a [`Hostile`] server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: String,
}

/// A scripted HTTP/1.1 server for answers the sandbox would never give: `answer(request)`
/// returns (status, extra headers, body); every request is recorded. Stops on drop.
pub struct Hostile {
    pub base: String,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub type Answer = (u16, Vec<(String, String)>, String);

impl Hostile {
    pub fn start(answer: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Self {
        use std::sync::{Arc, Mutex, atomic::AtomicBool, atomic::Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2, answer) = (seen.clone(), stop.clone(), Arc::new(answer));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let (seen, answer) = (seen2.clone(), answer.clone());
                std::thread::spawn(move || {
                    let mut r = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let path = parts.next().unwrap_or("").to_string();
                    let mut len = 0usize;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len];
                    let _ = r.read_exact(&mut body);
                    let req = Seen { method, path, body: String::from_utf8_lossy(&body).into_owned() };
                    seen.lock().unwrap().push(req.clone());
                    let (status, headers, body) = answer(&req);
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\nContent-Type: application/json\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&body);
                    let _ = conn.write_all(out.as_bytes());
                    let _ = conn.flush();
                });
            }
        });
        Self { base, seen, stop }
    }

    pub fn url(&self) -> String {
        format!("{}/v4", self.base)
    }

    pub fn auth_url(&self) -> String {
        format!("{}/oauth2/token", self.base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

/// The names of the queries of a multiquery body, in order.
pub fn query_names(body: &str) -> Vec<String> {
    body.split("query ").skip(1).filter_map(|q| q.split('"').nth(1).map(str::to_string)).collect()
}

/// A token answer.
pub fn token_answer() -> Answer {
    (200, vec![], r#"{"access_token": "tok", "expires_in": 3600, "token_type": "bearer"}"#.to_string())
}
