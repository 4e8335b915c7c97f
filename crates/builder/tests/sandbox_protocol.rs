//! The IGDB sandbox speaks IGDB's protocol: token endpoint, auth checks, Apicalypse, limits,
//! faults. Driven over raw HTTP/1.1 against the real `playalike sandbox` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod fetch_support;

use fetch_support::*;
use serde_json::Value;

fn api(sbx: &Sandbox, token: &str, path: &str, body: &str) -> (u16, String) {
    let auth = format!("Bearer {token}");
    http("POST", &format!("{}/{path}", sbx.url), &[("Client-ID", "me"), ("Authorization", &auth)], body)
}

#[test]
fn token_endpoint_checks_required_credentials() {
    let sbx = Sandbox::start(
        &sample(),
        &["--require-client-id", "me"],
        &[("PLAYALIKE_SANDBOX_CLIENT_SECRET", "s3")],
    );
    let post = |q: &str| http("POST", &format!("{}?{q}", sbx.auth_url), &[], "");
    assert_eq!(post("client_id=me&client_secret=s3&grant_type=client_credentials").0, 200);
    assert_eq!(post("client_id=other&client_secret=s3&grant_type=client_credentials").0, 400);
    assert_eq!(post("client_id=me&client_secret=nope&grant_type=client_credentials").0, 403);
    assert_eq!(post("client_id=me&client_secret=s3&grant_type=password").0, 400);
    // The form body works like the query string (the fetch client sends the secret there).
    let (status, body) = http(
        "POST",
        &sbx.auth_url,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "client_id=me&client_secret=s3&grant_type=client_credentials",
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["token_type"], "bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 86_400);
}

#[test]
fn api_answers_like_igdb() {
    let sbx = Sandbox::start(&sample(), &["--no-limits"], &[]);
    let tok = sbx.token("me", "x");
    let games = table(&sample(), "games").unwrap();

    // Auth: no token, a wrong token, a token of another client id.
    assert_eq!(http("POST", &format!("{}/games", sbx.url), &[], "fields id;").0, 401);
    assert_eq!(api(&sbx, "bogus", "games", "fields id;").0, 401);
    let auth = format!("Bearer {tok}");
    let other =
        http("POST", &format!("{}/games", sbx.url), &[("Client-ID", "x"), ("Authorization", &auth)], "");
    assert_eq!(other.0, 401);

    // Keyset page: ids ascending after the bound, the named fields only (plus id).
    let (status, body) =
        api(&sbx, &tok, "games", "fields name,genres; where id > 1000; sort id asc; limit 5;");
    assert_eq!(status, 200);
    let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
    let want: Vec<u64> = games.keys().copied().filter(|&i| i > 1000).take(5).collect();
    assert_eq!(rows.iter().map(|r| r["id"].as_u64().unwrap()).collect::<Vec<_>>(), want);
    for r in &rows {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert!(keys.iter().all(|k| ["id", "name", "genres"].contains(&k.as_str())), "{keys:?}");
    }
    // fields * gives the whole object; the default limit is 10; offset skips.
    let (_, body) = api(&sbx, &tok, "games", "fields *; sort id asc;");
    let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.len(), 10);
    assert_eq!(&rows[0], games.values().next().unwrap());
    let (_, body) = api(&sbx, &tok, "games", "fields id; sort id asc; limit 2; offset 3;");
    let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows[0]["id"].as_u64().unwrap(), *games.keys().nth(3).unwrap());

    // count, with null and list filters, against the data itself.
    let count = |w: &str| {
        let (s, b) = api(&sbx, &tok, "games/count", &format!("where {w};"));
        assert_eq!(s, 200, "{b}");
        serde_json::from_str::<Value>(&b).unwrap()["count"].as_u64().unwrap() as usize
    };
    assert_eq!(
        count("version_parent = null"),
        games.values().filter(|g| g.get("version_parent").is_none()).count()
    );
    let has = |g: &Value, f: &str, x: u64| {
        g.get(f).and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v == x))
    };
    assert_eq!(
        count("genres = (5,31)"),
        games.values().filter(|g| has(g, "genres", 5) || has(g, "genres", 31)).count()
    );
    assert_eq!(count("themes != (42)"), games.values().filter(|g| !has(g, "themes", 42)).count());

    // multiquery: rows and counts by name; at most 10 queries.
    let (s, b) = api(
        &sbx,
        &tok,
        "multiquery",
        "query games \"a\" { fields id; limit 2; }; query games/count \"n\" { };",
    );
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v[0]["name"], "a");
    assert_eq!(v[0]["result"].as_array().unwrap().len(), 2);
    assert_eq!(v[1]["count"].as_u64().unwrap() as usize, games.len());
    let eleven: String = (0..11).map(|i| format!("query games \"q{i}\" {{ fields id; }};")).collect();
    assert_eq!(api(&sbx, &tok, "multiquery", &eleven).0, 400);

    // limit above 500 and bad syntax are 400; an unknown endpoint is 404; a known endpoint
    // without a table is an empty list.
    assert_eq!(api(&sbx, &tok, "games", "fields id; limit 501;").0, 400);
    assert_eq!(api(&sbx, &tok, "games", "fields id; where id >> 3;").0, 400);
    assert_eq!(api(&sbx, &tok, "no_such_thing", "fields id;").0, 404);
    assert_eq!(api(&sbx, &tok, "keywords", "fields *;"), (200, "[]".to_string()));
    let st = sbx.stats();
    assert!(st["unauthorized"].as_u64().unwrap() >= 3 && st["bad_request"].as_u64().unwrap() >= 3, "{st}");
}

#[test]
fn limits_answer_429_above_4_per_second_and_8_open() {
    // Rate: a burst of 7 requests; at most 4 in a second get through.
    let sbx = Sandbox::start(&sample(), &[], &[]);
    let tok = sbx.token("me", "x");
    let codes: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..7).map(|_| s.spawn(|| api(&sbx, &tok, "genres", "fields id;").0)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(codes.iter().filter(|&&c| c == 200).count() <= 4, "{codes:?}");
    assert!(codes.contains(&429), "{codes:?}");
    let st = sbx.stats();
    assert!(st["max_per_second"].as_u64().unwrap() >= 5 && st["limited"].as_u64().unwrap() >= 3, "{st}");
    drop(sbx);

    // Open requests: 10 slow ones at once (rate limit raised); at most 8 are served.
    let sbx = Sandbox::start(&sample(), &["--rps", "100", "--fault-slow", "1", "--slow-ms", "1500"], &[]);
    let tok = sbx.token("me", "x");
    let codes: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..10).map(|_| s.spawn(|| api(&sbx, &tok, "genres", "fields id;").0)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(codes.iter().filter(|&&c| c == 200).count() <= 8, "{codes:?}");
    assert!(codes.contains(&429), "{codes:?}");
    assert!(sbx.stats()["max_open"].as_u64().unwrap() >= 9);
}

#[test]
fn faults_drop_truncate_and_expire_tokens() {
    let sbx = Sandbox::start(&sample(), &["--no-limits", "--fault-drop", "1"], &[]);
    let tok = sbx.token("me", "x");
    assert_eq!(api(&sbx, &tok, "genres", "fields *;").0, 0, "the connection should close without an answer");
    assert_eq!(sbx.stats()["faults"]["dropped"], 1);
    drop(sbx);

    let sbx = Sandbox::start(&sample(), &["--no-limits", "--fault-truncate", "1"], &[]);
    let tok = sbx.token("me", "x");
    let auth = format!("Bearer {tok}");
    let (status, len, body) = http_raw(
        "POST",
        &format!("{}/genres", sbx.url),
        &[("Client-ID", "me"), ("Authorization", &auth)],
        "fields *; limit 50;",
    );
    assert_eq!(status, 200);
    assert!(body.len() < len.unwrap(), "{} bytes of {:?}", body.len(), len);
    drop(sbx);

    let sbx = Sandbox::start(&sample(), &["--no-limits", "--token-expire-after", "2"], &[]);
    let tok = sbx.token("me", "x");
    let codes: Vec<u16> = (0..3).map(|_| api(&sbx, &tok, "genres", "fields id;").0).collect();
    assert_eq!(codes, vec![200, 200, 401]);
    assert_eq!(api(&sbx, &sbx.token("me", "x"), "genres", "fields id;").0, 200);
    assert_eq!(sbx.stats()["faults"]["token_expiries"], 1);
}

#[test]
fn hostile_queries_answer_400_and_the_server_lives_on() {
    let sbx = Sandbox::start(&sample(), &["--no-limits"], &[]);
    let tok = sbx.token("me", "x");
    // These overflowed the parser's stack and aborted the whole server.
    let deep = [
        format!("fields id; where {}id = 1;", "!".repeat(100_000)),
        format!("fields id; where {}id = 1;", "(".repeat(100_000)),
        format!("fields id; where genres = {}5;", "[".repeat(100_000)),
    ];
    for body in &deep {
        let (status, answer) = api(&sbx, &tok, "games", body);
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains("nested deeper than"), "{answer}");
        let (status, answer) = api(&sbx, &tok, "multiquery", &format!("query games \"a\" {{ {body} }};"));
        assert_eq!(status, 400, "{answer}");
    }
    // A backslash before a multibyte character panicked on a char boundary (500).
    let (status, answer) = api(&sbx, &tok, "games", "fields id; where name = \"\\é\";");
    assert_eq!((status, answer.as_str()), (200, "[]"));
    // Still serving.
    assert_eq!(api(&sbx, &tok, "games", "fields id; limit 1;").0, 200);
}

#[test]
fn a_client_keeps_at_most_25_live_tokens_like_igdb() {
    let sbx = Sandbox::start(&sample(), &["--no-limits"], &[]);
    let toks: Vec<String> = (0..26).map(|_| sbx.token("me", "x")).collect();
    // The 26th token deactivates the oldest; the others, and other clients' tokens, live on.
    let other = sbx.token("you", "x");
    let auth = format!("Bearer {other}");
    let theirs =
        http("POST", &format!("{}/genres", sbx.url), &[("Client-ID", "you"), ("Authorization", &auth)], "");
    assert_eq!(api(&sbx, &toks[0], "genres", "fields id;").0, 401);
    assert_eq!(api(&sbx, &toks[1], "genres", "fields id;").0, 200);
    assert_eq!(api(&sbx, &toks[25], "genres", "fields id;").0, 200);
    assert_eq!(theirs.0, 200);
}
