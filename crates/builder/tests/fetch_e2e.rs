//! `playalike fetch` against the IGDB sandbox over real HTTP: the real binary on both sides.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod fetch_support;

use fetch_support::*;
use serde_json::Value;

fn base_args<'a>(sbx: &'a Sandbox, out: &'a str, cache: &'a str) -> Vec<&'a str> {
    vec!["--igdb-url", &sbx.url, "--auth-url", &sbx.auth_url, "--out", out, "--token-cache", cache, "--json"]
}

#[test]
fn full_fetch_reproduces_the_sample_exactly_within_the_limits() {
    let sbx = Sandbox::start(&sample(), &[], &[]);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap");
    let cache = tmp.path().join("token.json");
    let (o, c) = (out.to_str().unwrap(), cache.to_str().unwrap());
    let mut args = base_args(&sbx, o, c);
    args.extend(["--where", "", "--include-adult"]);
    let r = fetch(&args, &[]);
    assert!(r.status.success(), "fetch failed: {}", stderr(&r));
    let s = summary(&r);
    assert_eq!(s["games"], 4000);
    assert_eq!(s["mode"], "full");
    assert_snapshot(&sample(), &out, |_| true);
    assert_within_limits(&sbx.stats());
    assert!(out.join("fetch-state.json").is_file());
    assert!(!tmp.path().join(".snap.fetch-partial").exists(), "the staging directory is left behind");
    // The token was cached (0600) and a second run reuses it: no new token.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let tokens_before = sbx.stats()["token_requests"].as_u64().unwrap();
    let r = fetch(&args, &[("PLAYALIKE_FETCH_TABLES", "genres")]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(summary(&r)["tokensFetched"], 0);
    assert_eq!(sbx.stats()["token_requests"].as_u64().unwrap(), tokens_before);
}

#[test]
fn faults_leave_the_snapshot_identical_and_the_limits_held() {
    let sbx = Sandbox::start(
        &sample(),
        &[
            "--fault-429",
            "0.10",
            "--fault-500",
            "0.05",
            "--fault-drop",
            "0.02",
            "--fault-truncate",
            "0.02",
            "--token-expire-after",
            "25",
            "--seed",
            "17",
        ],
        &[],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap");
    let cache = tmp.path().join("token.json");
    let (o, c) = (out.to_str().unwrap(), cache.to_str().unwrap());
    let mut args = base_args(&sbx, o, c);
    // Small pages so the 4k sample takes ~50 requests: enough for every fault to show up.
    args.extend(["--where", "", "--include-adult", "--page-size", "100", "--pages-per-request", "2"]);
    args.extend(["--backoff-ms", "50", "--timeout", "10"]);
    let r = fetch(&args, &[]);
    assert!(r.status.success(), "fetch failed: {}", stderr(&r));
    assert_snapshot(&sample(), &out, |_| true);
    let st = sbx.stats();
    assert_within_limits(&st);
    let f = &st["faults"];
    for k in ["too_many", "server_error", "dropped", "token_expiries"] {
        assert!(f[k].as_u64().unwrap() >= 1, "no {k} fault was injected: {st}");
    }
    assert!(summary(&r)["retries"].as_u64().unwrap() >= 3);
}

#[test]
fn a_killed_fetch_resumes_with_the_same_result() {
    let sbx = Sandbox::start(&sample(), &[], &[]);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap");
    let cache = tmp.path().join("token.json");
    let (o, c) = (out.to_str().unwrap(), cache.to_str().unwrap());
    let mut args = base_args(&sbx, o, c);
    // Default filter (no editions, no adult games), small pages.
    args.extend(["--page-size", "200", "--pages-per-request", "3"]);
    // 13 lookup tables are stored by the probe; 15 stops the run inside the games' slices.
    let r = fetch(&args, &[("PLAYALIKE_FETCH_FAIL_AFTER", "15")]);
    assert_eq!(r.status.code(), Some(99), "the failpoint should have stopped the run: {}", stderr(&r));
    assert!(!out.exists(), "a killed run must not leave a snapshot");
    assert!(tmp.path().join(".snap.fetch-partial/progress.json").is_file());
    let r = fetch(&args, &[]);
    assert!(r.status.success(), "resume failed: {}", stderr(&r));
    let s = summary(&r);
    assert!(s["resumedPages"].as_u64().unwrap() >= 1, "{s}");
    assert_snapshot(&sample(), &out, default_filter);
    // The resumed run did not start over: it sent fewer requests (retries aside; the killed
    // run's last second can cost the first resumed requests a 429) than a clean run.
    let resumed = s["requests"].as_u64().unwrap() - s["retries"].as_u64().unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let out2 = fresh.path().join("snap");
    let o2 = out2.to_str().unwrap();
    let mut args2 = base_args(&sbx, o2, c);
    args2.extend(["--page-size", "200", "--pages-per-request", "3"]);
    let r2 = fetch(&args2, &[]);
    assert!(r2.status.success(), "{}", stderr(&r2));
    let s2 = summary(&r2);
    let clean = s2["requests"].as_u64().unwrap() - s2["retries"].as_u64().unwrap();
    assert!(resumed < clean, "the resumed run sent {resumed} requests, a clean run {clean}");
    for name in table_names(&out2) {
        assert_same(&name, &table(&out2, &name).unwrap(), &table(&out, &name).unwrap());
    }
}

#[test]
fn since_last_fetches_only_changed_games_and_merges_them() {
    let sbx = Sandbox::start(&sample(), &["--allow-touch"], &[]);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap");
    let cache = tmp.path().join("token.json");
    let (o, c) = (out.to_str().unwrap(), cache.to_str().unwrap());
    let mut args = base_args(&sbx, o, c);
    args.extend(["--where", "", "--include-adult"]);
    let r = fetch(&args, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    let before = table(&out, "games").unwrap();
    let ids: Vec<u64> = before.keys().copied().step_by(997).take(4).collect();
    let body = serde_json::json!({"ids": ids, "set": {"name": "Changed"}}).to_string();
    let (status, answer) = http("POST", &format!("{}/_sandbox/touch", sbx.base), &[], &body);
    assert_eq!((status, answer.as_str()), (200, r#"{"touched":4}"#));
    args.push("--since-last");
    let r = fetch(&args, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    let s = summary(&r);
    assert_eq!(s["mode"], "since-last");
    assert_eq!(s["gamesFetched"], 4, "{s}");
    assert_eq!(s["games"], 4000);
    let after = table(&out, "games").unwrap();
    assert_eq!(after.len(), before.len());
    for (id, g) in &after {
        if ids.contains(id) {
            assert_eq!(g["name"], "Changed");
            assert!(g["updated_at"].as_u64() > before[id]["updated_at"].as_u64());
        } else {
            assert_eq!(g, &before[id], "game {id} changed without being touched");
        }
    }
    for name in ["genres", "platforms", "companies"] {
        assert_same(name, &table(&sample(), name).unwrap(), &table(&out, name).unwrap());
    }
}

#[test]
fn full_every_turns_a_since_last_fetch_into_a_full_one_when_due() {
    let sbx = Sandbox::start(&sample(), &[], &[]);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap");
    let cache = tmp.path().join("token.json");
    let (o, c) = (out.to_str().unwrap(), cache.to_str().unwrap());
    let args = base_args(&sbx, o, c);
    let r = fetch(&args, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    let state = |out: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(out.join("fetch-state.json")).unwrap()).unwrap()
    };
    let first = state(&out);
    assert_eq!(first["mode"], "full");
    let full_at = first["last_full"].as_u64().expect("a full fetch records when it started");

    // Recent enough: incremental, and the last full fetch is carried over.
    let mut inc = args.clone();
    inc.extend(["--since-last", "--full-every", "7"]);
    let r = fetch(&inc, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(summary(&r)["mode"], "since-last");
    assert_eq!(state(&out)["last_full"].as_u64(), Some(full_at));

    // Due (0 days): everything again, and the snapshot is complete.
    let mut due = args.clone();
    due.extend(["--since-last", "--full-every", "0"]);
    let r = fetch(&due, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    let s = summary(&r);
    assert_eq!(s["mode"], "full", "{s}");
    assert_eq!(s["gamesFetched"], s["games"], "{s}");
    assert!(state(&out)["last_full"].as_u64().unwrap() >= full_at);

    // --full-every without --since-last is a usage error.
    let mut bad = args.clone();
    bad.extend(["--full-every", "7"]);
    let r = fetch(&bad, &[]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
}

fn previous_snapshot(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("snap");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("games.jsonl"), "{\"id\": 1, \"name\": \"old\"}\n").unwrap();
    out
}

fn assert_untouched(out: &std::path::Path) {
    assert_eq!(std::fs::read_to_string(out.join("games.jsonl")).unwrap(), "{\"id\": 1, \"name\": \"old\"}\n");
    assert_eq!(table_names(out), vec!["games".to_string()]);
}

#[test]
fn wrong_credentials_exit_14_without_leaking_the_secret() {
    let sbx = Sandbox::start(
        &sample(),
        &["--require-client-id", "good-id"],
        &[("PLAYALIKE_SANDBOX_CLIENT_SECRET", "the-right-secret-123")],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    let cache = tmp.path().join("token.json");
    let (o, c) = (out.to_str().unwrap(), cache.to_str().unwrap());
    let args = base_args(&sbx, o, c);
    let secret = "wrong-secret-Zq9";
    let r = fetch(
        &args,
        &[("IGDB_CLIENT_ID", "good-id"), ("IGDB_CLIENT_SECRET", secret), ("PLAYALIKE_LOG", "trace")],
    );
    assert_eq!(r.status.code(), Some(14), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(err.contains("refused") && err.contains("invalid client secret"), "{err}");
    assert!(!err.contains(secret), "the secret leaked into stderr");
    assert_untouched(&out);
    assert!(!tmp.path().join(".snap.fetch-partial").exists(), "a refused login must write nothing");

    // The right secret works, and neither it nor the token appears in a trace-level log.
    let secret = "the-right-secret-123";
    let creds = tmp.path().join("igdb.env");
    std::fs::write(&creds, format!("IGDB_CLIENT_ID=good-id\nIGDB_CLIENT_SECRET={secret}\n")).unwrap();
    let mut args = base_args(&sbx, o, c);
    args.extend(["--credentials-file", creds.to_str().unwrap(), "--tables", "genres"]);
    let r = fetch(&args, &[("PLAYALIKE_LOG", "trace")]);
    assert!(r.status.success(), "{}", stderr(&r));
    let err = stderr(&r);
    let token: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let token = token["access_token"].as_str().unwrap();
    assert!(err.len() > 200, "expected trace logs");
    assert!(!err.contains(secret), "the secret leaked into stderr");
    assert!(!err.contains(token), "the access token leaked into stderr");
}

#[test]
fn missing_credentials_exit_14_and_point_at_the_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    let r = fetch(&["--out", out.to_str().unwrap()], &[]);
    assert_eq!(r.status.code(), Some(14), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(err.contains("IGDB_CLIENT_ID") && err.contains("--sandbox"), "{err}");
    assert_untouched(&out);
}

#[test]
fn an_unreachable_host_exits_10_and_keeps_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (api, auth) =
        (format!("http://127.0.0.1:{port}/v4"), format!("http://127.0.0.1:{port}/oauth2/token"));
    let r = fetch(
        &[
            "--igdb-url",
            &api,
            "--auth-url",
            &auth,
            "--out",
            out.to_str().unwrap(),
            "--max-retries",
            "1",
            "--backoff-ms",
            "10",
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(10), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(err.contains("could not connect") && err.contains(&auth), "{err}");
    assert_untouched(&out);
}

#[test]
fn a_malformed_answer_exits_10_names_the_request_and_keeps_the_snapshot() {
    let sbx = Sandbox::start(&sample(), &["--fault-malformed", "1"], &[]);
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    let cache = tmp.path().join("token.json");
    // Every answer is garbled: each request is asked again (an answer that is not JSON was
    // damaged on the way), then the run gives up naming the request.
    let mut args = base_args(&sbx, out.to_str().unwrap(), cache.to_str().unwrap());
    args.extend(["--max-retries", "2", "--backoff-ms", "10"]);
    let r = fetch(&args, &[]);
    assert_eq!(r.status.code(), Some(10), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(
        err.contains("malformed answer")
            && err.contains("/multiquery")
            && err.contains("gave up after 3 attempts")
            && err.contains("query "),
        "{err}"
    );
    assert_untouched(&out);
}

#[test]
fn fetch_from_the_embedded_sandbox_needs_no_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap");
    let r = fetch(
        &[
            "--sandbox",
            sample().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
            "--tables",
            "genres,themes",
        ],
        &[],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let s = summary(&r);
    assert_eq!(s["sandbox"], true);
    let want = table(&sample(), "games").unwrap().into_values().filter(default_filter).count();
    assert_eq!(s["games"].as_u64().unwrap() as usize, want);
    assert_eq!(table_names(&out), vec!["games", "genres", "themes"]);
}

fn hostile_args<'a>(h: &'a Hostile, out: &'a str) -> Vec<&'a str> {
    let (api, auth) = (Box::leak(h.url().into_boxed_str()), Box::leak(h.auth_url().into_boxed_str()));
    vec![
        "--igdb-url",
        api,
        "--auth-url",
        auth,
        "--out",
        out,
        "--where",
        "",
        "--tables",
        "genres",
        "--max-retries",
        "0",
        "--json",
    ]
}

#[test]
fn result_names_the_client_did_not_ask_for_exit_10_and_write_nothing_outside() {
    // The probe's answer carries every asked result, plus one named like a path.
    let h = Hostile::start(|req| {
        if req.path.ends_with("/oauth2/token") {
            return token_answer();
        }
        let mut items: Vec<String> = query_names(&req.body)
            .iter()
            .map(|n| {
                if n == "games-count" {
                    format!(r#"{{"name": "{n}", "count": 0}}"#)
                } else {
                    format!(r#"{{"name": "{n}", "result": []}}"#)
                }
            })
            .collect();
        items.push(r#"{"name": "../../escape", "result": [{"id": 1, "name": "x"}]}"#.to_string());
        (200, vec![], format!("[{}]", items.join(",")))
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    let r = fetch(&hostile_args(&h, out.to_str().unwrap()), &[]);
    assert_eq!(r.status.code(), Some(10), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(err.contains("\"../../escape\"") && err.contains("not asked for"), "{err}");
    assert_untouched(&out);
    let mut stray = vec![];
    let mut dirs = vec![tmp.path().to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.file_name().unwrap().to_string_lossy().contains("escape") {
                stray.push(p.clone());
            }
            if p.is_dir() {
                dirs.push(p);
            }
        }
    }
    assert!(stray.is_empty(), "files written from a hostile result name: {stray:?}");
}

#[test]
fn a_page_with_more_rows_than_its_limit_exits_10_and_keeps_the_snapshot() {
    // 5 games, pages of 2: the first page answers 3 rows. Before, the extra row ended the slice
    // and the games after it were silently dropped.
    let h = Hostile::start(|req| {
        if req.path.ends_with("/oauth2/token") {
            return token_answer();
        }
        let items: Vec<String> = query_names(&req.body)
            .iter()
            .map(|n| match n.as_str() {
                "games-count" => format!(r#"{{"name": "{n}", "count": 5}}"#),
                "games-max" => format!(r#"{{"name": "{n}", "result": [{{"id": 5}}]}}"#),
                "p0" => format!(r#"{{"name": "{n}", "result": [{{"id": 1}}, {{"id": 2}}, {{"id": 3}}]}}"#),
                _ => format!(r#"{{"name": "{n}", "result": []}}"#),
            })
            .collect();
        (200, vec![], format!("[{}]", items.join(",")))
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    let mut args = hostile_args(&h, out.to_str().unwrap());
    args.extend(["--page-size", "2"]);
    let r = fetch(&args, &[]);
    assert_eq!(r.status.code(), Some(10), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(err.contains("3 rows, more than its limit of 2"), "{err}");
    assert_untouched(&out);
}

#[test]
fn plain_http_to_a_remote_host_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    for (api, auth) in [
        ("http://api.igdb.example/v4", "https://id.twitch.example/oauth2/token"),
        ("https://api.igdb.example/v4", "http://id.twitch.example/oauth2/token"),
    ] {
        let r = fetch(&["--igdb-url", api, "--auth-url", auth, "--out", out.to_str().unwrap()], &[]);
        assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
        let err = stderr(&r);
        assert!(err.contains("https") && err.contains("example"), "{err}");
        assert_untouched(&out);
    }
}

#[test]
fn a_second_fetch_of_the_same_snapshot_exits_10_and_leaves_the_running_one_alone() {
    let sbx = Sandbox::start(&sample(), &[], &[]);
    let tmp = tempfile::tempdir().unwrap();
    let out = previous_snapshot(tmp.path());
    let cache = tmp.path().join("token.json");
    let mut args = base_args(&sbx, out.to_str().unwrap(), cache.to_str().unwrap());
    args.extend(["--tables", "genres"]);
    // A fetch that is running: its staging folder (another plan) and the lock it holds.
    let staging = tmp.path().join(".snap.fetch-partial");
    std::fs::create_dir_all(staging.join("parts")).unwrap();
    std::fs::write(staging.join("progress.json"), "{\"a\": \"running fetch\"}").unwrap();
    let lock = std::fs::File::create(tmp.path().join(".snap.fetch-lock")).unwrap();
    lock.try_lock().unwrap();
    let r = fetch(&args, &[]);
    assert_eq!(r.status.code(), Some(10), "{}", stderr(&r));
    let err = stderr(&r);
    assert!(err.contains("another fetch holds the lock on") && err.contains("snap"), "{err}");
    assert_eq!(std::fs::read_to_string(staging.join("progress.json")).unwrap(), "{\"a\": \"running fetch\"}");
    assert_untouched(&out);
    // Released (as when the holder exits or is killed), the next fetch runs.
    drop(lock);
    let r = fetch(&args, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(table(&out, "genres").is_some());
}
