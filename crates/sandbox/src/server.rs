//! The sandbox's HTTP server (hyper, HTTP/1.1): routing, auth, limits, fault injection, stats.
//!
//! hyper rather than axum: a dropped connection is a service error (hyper closes the socket
//! without an answer) and a truncated answer is a body that fails mid-stream; axum's infallible
//! handlers cannot express either.

use super::apicalypse::{self, Query};
use super::data::{Data, KNOWN_ENDPOINTS};
use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use playalike_base::rng::SplitMix;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Largest request body accepted (Apicalypse bodies are small).
const MAX_BODY: usize = 1 << 20;

/// What the sandbox serves and how it misbehaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Snapshot directory to serve.
    pub data: PathBuf,
    /// Listen address.
    pub host: IpAddr,
    /// Listen port (0 = any free port).
    pub port: u16,
    /// Client id the token endpoint requires (`None` = any).
    pub require_client_id: Option<String>,
    /// Client secret the token endpoint requires (`None` = any).
    pub require_client_secret: Option<String>,
    /// Lifetime of issued tokens, seconds.
    pub token_ttl_secs: u64,
    /// Answer 429 above the limits (they are counted either way).
    pub enforce_limits: bool,
    /// Requests allowed in any one-second window (IGDB: 4).
    pub rps: u32,
    /// Open requests allowed (IGDB: 8).
    pub max_open: u32,
    /// Fault injection.
    pub faults: Faults,
    /// Enable `POST /_sandbox/touch`.
    pub allow_touch: bool,
    /// A client must send a request's headers within this time, or the connection is closed.
    pub header_timeout: Duration,
    /// Connections served at once; more are closed at once (counted in the stats).
    pub max_connections: usize,
    /// Live tokens kept in all (the oldest go first); IGDB itself keeps 25 per client id.
    pub max_tokens: usize,
}

impl SandboxConfig {
    /// IGDB's behaviour over `data`, on a free loopback port, no faults.
    pub fn new(data: impl Into<PathBuf>) -> Self {
        Self {
            data: data.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            require_client_id: None,
            require_client_secret: None,
            token_ttl_secs: 5_587_808,
            enforce_limits: true,
            rps: 4,
            max_open: 8,
            faults: Faults::default(),
            allow_touch: false,
            header_timeout: Duration::from_secs(10),
            max_connections: 256,
            max_tokens: 10_000,
        }
    }
}

/// Fault injection rates (each 0..=1, drawn per API request from a seeded generator).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer 429.
    pub rate_429: f64,
    /// Answer 500.
    pub rate_500: f64,
    /// Close the connection without an answer.
    pub rate_drop: f64,
    /// Send the headers and part of the body, then close.
    pub rate_truncate: f64,
    /// Answer 200 with a body that is not JSON.
    pub rate_malformed: f64,
    /// Delay the answer by `slow_ms`.
    pub rate_slow: f64,
    /// Delay of slow answers.
    pub slow_ms: u64,
    /// Each token expires after this many API requests.
    pub token_expire_after: Option<u64>,
    /// Seed of the draws.
    pub seed: u64,
}

/// Faults the sandbox injected.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct FaultStats {
    /// Injected 429s.
    pub too_many: u64,
    /// Injected 500s.
    pub server_error: u64,
    /// Dropped connections.
    pub dropped: u64,
    /// Truncated bodies.
    pub truncated: u64,
    /// Malformed bodies.
    pub malformed: u64,
    /// Slow answers.
    pub slow: u64,
    /// Tokens expired after `token_expire_after` requests.
    pub token_expiries: u64,
}

/// What the sandbox saw. `GET /_sandbox/stats` answers this as JSON.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Stats {
    /// API requests (`/v4/...`), every one, rejected or not.
    pub requests: u64,
    /// Token requests.
    pub token_requests: u64,
    /// API requests answered 200.
    pub ok: u64,
    /// The most API requests that arrived within any one-second window.
    pub max_per_second: u64,
    /// The most API requests open at once.
    pub max_open: u64,
    /// 429s caused by the limits (not injected ones).
    pub limited: u64,
    /// 401s.
    pub unauthorized: u64,
    /// 400s.
    pub bad_request: u64,
    /// 404s.
    pub not_found: u64,
    /// Injected faults.
    pub faults: FaultStats,
    /// API requests by endpoint (`multiquery`, `games`, `games/count`, …).
    pub endpoints: std::collections::BTreeMap<String, u64>,
    /// Connections closed unanswered because `max_connections` were open.
    #[serde(default)]
    pub connections_refused: u64,
}

struct TokenInfo {
    client_id: String,
    expires: Instant,
    uses: u64,
    /// Issue order (smaller = older).
    issued: u64,
}

/// IGDB keeps at most 25 live tokens per application; a new one deactivates the oldest.
const TOKENS_PER_CLIENT: usize = 25;

struct Shared {
    data: RwLock<Data>,
    cfg: SandboxConfig,
    stats: Mutex<Stats>,
    tokens: Mutex<HashMap<String, TokenInfo>>,
    faults_rng: Mutex<SplitMix>,
    token_rng: Mutex<SplitMix>,
    token_seq: std::sync::atomic::AtomicU64,
    open: AtomicUsize,
    arrivals: Mutex<VecDeque<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: tokio::sync::watch::Sender<bool>,
    games: usize,
}

impl SandboxHandle {
    /// `http://HOST:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The API base URL, `http://HOST:PORT/v4`.
    pub fn url(&self) -> String {
        format!("{}/v4", self.base())
    }
    /// The token endpoint, `http://HOST:PORT/oauth2/token`.
    pub fn auth_url(&self) -> String {
        format!("{}/oauth2/token", self.base())
    }
    /// Games served.
    pub fn games(&self) -> usize {
        self.games
    }
    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Loads the data directory and starts serving it on the tokio runtime of the caller.
pub async fn spawn(cfg: SandboxConfig) -> Result<SandboxHandle> {
    let dir = cfg.data.clone();
    let data = tokio::task::spawn_blocking(move || super::data::load_dir(&dir))
        .await
        .context("while loading the sandbox data")?
        .with_context(|| format!("while loading the sandbox data from {}", cfg.data.display()))?;
    let games = data.tables.get("games").map_or(0, |t| t.rows.len());
    let listener = tokio::net::TcpListener::bind((cfg.host, cfg.port))
        .await
        .with_context(|| format!("while binding the sandbox to {}:{}", cfg.host, cfg.port))?;
    let addr = listener.local_addr()?;
    let seed = cfg.faults.seed;
    let shared = Arc::new(Shared {
        data: RwLock::new(data),
        stats: Mutex::new(Stats::default()),
        tokens: Mutex::new(HashMap::new()),
        faults_rng: Mutex::new(SplitMix::new(seed)),
        token_rng: Mutex::new(SplitMix::from_entropy()),
        token_seq: std::sync::atomic::AtomicU64::new(0),
        open: AtomicUsize::new(0),
        arrivals: Mutex::new(VecDeque::new()),
        cfg,
    });
    let (tx, rx) = tokio::sync::watch::channel(false);
    let accept_shared = shared.clone();
    let connections = Arc::new(tokio::sync::Semaphore::new(shared.cfg.max_connections.max(1)));
    let header_timeout = shared.cfg.header_timeout;
    tokio::spawn(async move {
        let mut stop = rx.clone();
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                r = listener.accept() => {
                    let Ok((stream, _)) = r else { continue };
                    // Above the cap, close at once: a flood of idle connections cannot hold
                    // the server's memory or file descriptors.
                    let Ok(permit) = connections.clone().try_acquire_owned() else {
                        lock(&accept_shared.stats).connections_refused += 1;
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let shared = accept_shared.clone();
                    let mut stop = rx.clone();
                    tokio::spawn(async move {
                        let _permit = permit;
                        let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                        let conn = hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .header_read_timeout(header_timeout)
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                        tokio::select! {
                            _ = conn => {}
                            _ = stop.changed() => {}
                        }
                    });
                }
            }
        }
    });
    Ok(SandboxHandle { addr, shared, shutdown: tx, games })
}

type Resp = Response<BoxBody<Bytes, std::io::Error>>;

fn full(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()).map_err(|never| match never {}).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    r
}

fn igdb_error(status: StatusCode, title: &str, cause: &str) -> Resp {
    let body = serde_json::json!([{"title": title, "status": status.as_u16(), "cause": cause}]);
    full(status, body.to_string())
}

/// A body that sends part of the answer, waits for hyper to flush it, then fails, so hyper
/// closes the connection with fewer bytes than Content-Length promised.
struct Truncated(Option<Bytes>, Pin<Box<tokio::time::Sleep>>);

impl Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(b) = self.0.take() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        match self.1.as_mut().poll(cx) {
            Poll::Ready(()) => {
                Poll::Ready(Some(Err(std::io::Error::other("answer truncated by fault injection"))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, std::io::Error> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if let Some(rest) = path.strip_prefix("/v4/") {
        return api(shared, rest.trim_end_matches('/').to_string(), req).await;
    }
    match (method, path.as_str()) {
        (Method::POST, "/oauth2/token") => {
            let query = req.uri().query().unwrap_or("").to_string();
            match read_body(req).await {
                Ok(body) => Ok(token(&shared, &query, &body)),
                Err((status, e)) => {
                    Ok(full(status, serde_json::json!({"status": status.as_u16(), "message": e}).to_string()))
                }
            }
        }
        (Method::GET, "/_sandbox/stats") => {
            let s = lock(&shared.stats).clone();
            Ok(full(StatusCode::OK, serde_json::to_string(&s).unwrap_or_default()))
        }
        (Method::POST, "/_sandbox/touch") if shared.cfg.allow_touch => match read_body(req).await {
            Ok(body) => Ok(touch(&shared, &body)),
            Err((status, e)) => Ok(igdb_error(status, "Bad touch", &e)),
        },
        _ => Ok(full(StatusCode::NOT_FOUND, r#"{"message":"no Route matched with those values"}"#)),
    }
}

async fn read_body(req: Request<Incoming>) -> Result<String, (StatusCode, String)> {
    let (parts, body) = req.into_parts();
    read_capped(&parts.headers, body, MAX_BODY).await
}

async fn read_capped<B>(
    headers: &header::HeaderMap,
    body: B,
    cap: usize,
) -> Result<String, (StatusCode, String)>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large =
        || (StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is larger than {cap} bytes"));
    if headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok()) > Some(cap) {
        return Err(too_large());
    }
    // A chunked body has no Content-Length: stop reading at the cap instead of buffering it all.
    let b = match http_body_util::Limited::new(body, cap).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(e) => return Err((StatusCode::BAD_REQUEST, format!("could not read the request body: {e}"))),
    };
    String::from_utf8(b.to_vec()).map_err(|_| (StatusCode::BAD_REQUEST, "body is not UTF-8".into()))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or(""), 16) {
                Ok(v) => {
                    out.push(v);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form_params(query: &str, body: &str) -> HashMap<String, String> {
    query
        .split('&')
        .chain(body.split('&'))
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((percent_decode(k), percent_decode(v.trim())))
        })
        .collect()
}

fn token(shared: &Shared, query: &str, body: &str) -> Resp {
    lock(&shared.stats).token_requests += 1;
    let p = form_params(query, body);
    let twitch = |status: StatusCode, msg: &str| {
        full(status, serde_json::json!({"status": status.as_u16(), "message": msg}).to_string())
    };
    if p.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return twitch(StatusCode::BAD_REQUEST, "invalid grant type");
    }
    let Some(id) = p.get("client_id").filter(|s| !s.is_empty()) else {
        return twitch(StatusCode::BAD_REQUEST, "missing client id");
    };
    if shared.cfg.require_client_id.as_ref().is_some_and(|want| want != id) {
        return twitch(StatusCode::BAD_REQUEST, "invalid client");
    }
    let secret = p.get("client_secret").map(String::as_str).unwrap_or("");
    if secret.is_empty() {
        return twitch(StatusCode::BAD_REQUEST, "missing client secret");
    }
    if shared.cfg.require_client_secret.as_deref().is_some_and(|want| want != secret) {
        return twitch(StatusCode::FORBIDDEN, "invalid client secret");
    }
    let tok = {
        let mut r = lock(&shared.token_rng);
        format!("sbx{:016x}{:014x}", r.next_u64(), r.next_u64() >> 8)
    };
    let ttl = shared.cfg.token_ttl_secs;
    let now = Instant::now();
    let issued = shared.token_seq.fetch_add(1, Ordering::SeqCst);
    {
        // Bounded: expired tokens go, a client keeps its 25 newest, and all clients together
        // keep at most `max_tokens` (the oldest go first).
        let mut tokens = lock(&shared.tokens);
        tokens.retain(|_, t| t.expires > now);
        let mut mine: Vec<(u64, String)> =
            tokens.iter().filter(|(_, t)| t.client_id == *id).map(|(k, t)| (t.issued, k.clone())).collect();
        if mine.len() >= TOKENS_PER_CLIENT {
            mine.sort_unstable();
            for (_, k) in &mine[..=mine.len() - TOKENS_PER_CLIENT] {
                tokens.remove(k);
            }
        }
        while tokens.len() >= shared.cfg.max_tokens.max(1) {
            let Some(oldest) = tokens.iter().min_by_key(|(_, t)| t.issued).map(|(k, _)| k.clone()) else {
                break;
            };
            tokens.remove(&oldest);
        }
        tokens.insert(
            tok.clone(),
            TokenInfo {
                client_id: id.clone(),
                expires: now + Duration::from_secs(ttl).min(Duration::from_secs(100 * 365 * 86_400)),
                uses: 0,
                issued,
            },
        );
    }
    full(
        StatusCode::OK,
        serde_json::json!({"access_token": tok, "expires_in": ttl, "token_type": "bearer"}).to_string(),
    )
}

fn touch(shared: &Shared, body: &str) -> Resp {
    #[derive(serde::Deserialize)]
    struct Touch {
        #[serde(default = "games")]
        endpoint: String,
        ids: Vec<u64>,
        #[serde(default)]
        set: serde_json::Map<String, serde_json::Value>,
    }
    fn games() -> String {
        "games".into()
    }
    let t: Touch = match serde_json::from_str(body) {
        Ok(t) => t,
        Err(e) => return igdb_error(StatusCode::BAD_REQUEST, "Bad touch", &e.to_string()),
    };
    let mut data = shared.data.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    let n = data.tables.get_mut(&t.endpoint).map_or(0, |tab| tab.touch(&t.ids, &t.set, unix_now()));
    full(StatusCode::OK, serde_json::json!({"touched": n}).to_string())
}

enum Fault {
    None,
    Drop,
    TooMany,
    ServerError,
    Truncate,
    Malformed,
}

async fn api(shared: Arc<Shared>, rest: String, req: Request<Incoming>) -> Result<Resp, std::io::Error> {
    // Arrival and open counts first: every request counts, rejected or not.
    let now = Instant::now();
    let in_window = {
        let mut a = lock(&shared.arrivals);
        while a.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            a.pop_front();
        }
        a.push_back(now);
        a.len() as u64
    };
    let open = shared.open.fetch_add(1, Ordering::SeqCst) as u64 + 1;
    let _guard = OpenGuard(shared.clone());
    {
        let mut s = lock(&shared.stats);
        s.requests += 1;
        s.max_per_second = s.max_per_second.max(in_window);
        s.max_open = s.max_open.max(open);
        *s.endpoints.entry(rest.clone()).or_default() += 1;
    }
    tracing::debug!(endpoint = %rest, in_window, open, "API request");
    let cfg = &shared.cfg;
    if cfg.enforce_limits && (in_window > u64::from(cfg.rps) || open > u64::from(cfg.max_open)) {
        lock(&shared.stats).limited += 1;
        return Ok(full(StatusCode::TOO_MANY_REQUESTS, r#"{"message":"Too Many Requests"}"#));
    }
    if let Err(msg) = authorize(&shared, &req) {
        lock(&shared.stats).unauthorized += 1;
        return Ok(full(StatusCode::UNAUTHORIZED, serde_json::json!({"message": msg}).to_string()));
    }
    let (fault, slow) = {
        let f = &cfg.faults;
        let mut r = lock(&shared.faults_rng);
        let x = r.next_f64();
        let slow = r.next_f64() < f.rate_slow;
        let mut acc = 0.0;
        let mut pick = Fault::None;
        for (rate, kind) in [
            (f.rate_drop, Fault::Drop),
            (f.rate_429, Fault::TooMany),
            (f.rate_500, Fault::ServerError),
            (f.rate_truncate, Fault::Truncate),
            (f.rate_malformed, Fault::Malformed),
        ] {
            acc += rate;
            if x < acc {
                pick = kind;
                break;
            }
        }
        (pick, slow)
    };
    let body = match read_body(req).await {
        Ok(b) => b,
        Err((status, e)) => {
            lock(&shared.stats).bad_request += 1;
            return Ok(igdb_error(status, status.canonical_reason().unwrap_or("Bad Request"), &e));
        }
    };
    if slow {
        lock(&shared.stats).faults.slow += 1;
        tokio::time::sleep(Duration::from_millis(cfg.faults.slow_ms)).await;
    }
    match fault {
        Fault::Drop => {
            lock(&shared.stats).faults.dropped += 1;
            return Err(std::io::Error::other("connection dropped by fault injection"));
        }
        Fault::TooMany => {
            lock(&shared.stats).faults.too_many += 1;
            return Ok(full(StatusCode::TOO_MANY_REQUESTS, r#"{"message":"Too Many Requests"}"#));
        }
        Fault::ServerError => {
            lock(&shared.stats).faults.server_error += 1;
            return Ok(full(StatusCode::INTERNAL_SERVER_ERROR, r#"{"message":"Internal Server Error"}"#));
        }
        Fault::Malformed => {
            lock(&shared.stats).faults.malformed += 1;
            return Ok(full(StatusCode::OK, r#"[{"id": 1, "name": "cut here"#));
        }
        Fault::Truncate | Fault::None => {}
    }
    let exec_shared = shared.clone();
    let (status, text) = tokio::task::spawn_blocking(move || execute(&exec_shared, &rest, &body))
        .await
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, format!("sandbox task failed: {e}")));
    {
        let mut s = lock(&shared.stats);
        match status {
            StatusCode::OK => s.ok += 1,
            StatusCode::BAD_REQUEST => s.bad_request += 1,
            StatusCode::NOT_FOUND => s.not_found += 1,
            _ => {}
        }
    }
    if matches!(fault, Fault::Truncate) && status == StatusCode::OK {
        lock(&shared.stats).faults.truncated += 1;
        let bytes = Bytes::from(text);
        let len = bytes.len();
        let part = bytes.slice(..len / 2);
        let mut r = Response::new(BoxBody::new(Truncated(
            Some(part),
            Box::pin(tokio::time::sleep(Duration::from_millis(50))),
        )));
        r.headers_mut().insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
        r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
        return Ok(r);
    }
    Ok(full(status, text))
}

fn authorize(shared: &Shared, req: &Request<Incoming>) -> Result<(), &'static str> {
    const MSG: &str = "Authorization Failure. Have you tried: https://api-docs.igdb.com/#authentication";
    let client_id = req.headers().get("client-id").and_then(|v| v.to_str().ok()).ok_or(MSG)?;
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .ok_or(MSG)?;
    let mut tokens = lock(&shared.tokens);
    let Some(t) = tokens.get_mut(bearer) else { return Err(MSG) };
    if t.client_id != client_id || Instant::now() >= t.expires {
        return Err(MSG);
    }
    t.uses += 1;
    if shared.cfg.faults.token_expire_after.is_some_and(|n| t.uses > n) {
        tokens.remove(bearer);
        drop(tokens);
        lock(&shared.stats).faults.token_expiries += 1;
        return Err(MSG);
    }
    Ok(())
}

fn run_query(data: &Data, endpoint: &str, count: bool, q: &Query) -> Result<String, (StatusCode, String)> {
    if !KNOWN_ENDPOINTS.contains(&endpoint) {
        return Err((StatusCode::NOT_FOUND, format!("unknown endpoint {endpoint:?}")));
    }
    let table = data.tables.get(endpoint);
    if count {
        let n = table.map_or(0, |t| t.count(q.filter.as_ref()));
        return Ok(serde_json::json!({"count": n}).to_string());
    }
    let rows = table.map(|t| t.select(q)).unwrap_or_default();
    let mut out = String::with_capacity(rows.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r);
    }
    out.push(']');
    Ok(out)
}

fn execute(shared: &Shared, rest: &str, body: &str) -> (StatusCode, String) {
    let data = shared.data.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let bad = |cause: String| {
        let body = serde_json::json!([{"title": "Syntax Error", "status": 400, "cause": cause}]);
        (StatusCode::BAD_REQUEST, body.to_string())
    };
    if rest.ends_with(".pb") {
        return bad("protobuf answers are not supported by the sandbox; use JSON".into());
    }
    if rest == "multiquery" {
        let queries = match apicalypse::parse_multi(body) {
            Ok(q) => q,
            Err(e) => return bad(e),
        };
        let mut out = String::from("[");
        for (i, nq) in queries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let name = serde_json::to_string(&nq.name).unwrap_or_default();
            match run_query(&data, &nq.endpoint, nq.count, &nq.query) {
                Ok(r) if nq.count => {
                    // `{"count": N}` → `{"name": ..., "count": N}`
                    out.push_str(&format!("{{\"name\":{name},{}", r.trim_start_matches('{')));
                }
                Ok(r) => out.push_str(&format!("{{\"name\":{name},\"result\":{r}}}")),
                Err((_, e)) => return bad(format!("query {name}: {e}")),
            }
        }
        out.push(']');
        return (StatusCode::OK, out);
    }
    let (endpoint, count) = match rest.strip_suffix("/count") {
        Some(e) => (e, true),
        None => (rest, false),
    };
    let q = match apicalypse::parse(body) {
        Ok(q) => q,
        Err(e) => return bad(e),
    };
    match run_query(&data, endpoint, count, &q) {
        Ok(r) => (StatusCode::OK, r),
        Err((StatusCode::NOT_FOUND, _)) => {
            (StatusCode::NOT_FOUND, r#"{"message":"no Route matched with those values"}"#.into())
        }
        Err((_, e)) => bad(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn tiny_data() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("games.json"), r#"[{"id": 1, "name": "a"}]"#).unwrap();
        d
    }

    /// One request over a fresh connection; status 0 when the server closed it unanswered.
    async fn raw(addr: SocketAddr, req: &str) -> u16 {
        let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { return 0 };
        if s.write_all(req.as_bytes()).await.is_err() {
            return 0;
        }
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        let text = String::from_utf8_lossy(&buf);
        text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
    }

    const STATS: &str = "GET /_sandbox/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_finishes_its_headers_is_closed() {
        let d = tiny_data();
        let mut cfg = SandboxConfig::new(d.path());
        cfg.header_timeout = Duration::from_millis(200);
        let sbx = spawn(cfg).await.unwrap();
        let mut s = tokio::net::TcpStream::connect(sbx.addr).await.unwrap();
        s.write_all(b"POST /v4/games HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let mut buf = Vec::new();
        // Paused clock: the hour passes at once, unless the server closes the connection first.
        let r = tokio::time::timeout(Duration::from_secs(3600), s.read_to_end(&mut buf)).await;
        assert!(r.is_ok(), "the server kept a connection with unfinished headers open");
    }

    #[tokio::test]
    async fn connections_above_the_cap_are_closed_unanswered() {
        let d = tiny_data();
        let mut cfg = SandboxConfig::new(d.path());
        cfg.max_connections = 2;
        cfg.header_timeout = Duration::from_secs(3600);
        let sbx = spawn(cfg).await.unwrap();
        let idle1 = tokio::net::TcpStream::connect(sbx.addr).await.unwrap();
        let _idle2 = tokio::net::TcpStream::connect(sbx.addr).await.unwrap();
        assert_eq!(raw(sbx.addr, STATS).await, 0, "a third connection was served");
        assert_eq!(sbx.stats().connections_refused, 1);
        // Once the server has seen one close, a new connection is served again.
        drop(idle1);
        let mut status = 0;
        for _ in 0..500 {
            status = raw(sbx.addr, STATS).await;
            if status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(status, 200);
    }

    #[tokio::test]
    async fn the_token_map_is_bounded() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let d = tiny_data();
        let mut cfg = SandboxConfig::new(d.path());
        cfg.max_tokens = 3;
        let sbx = spawn(cfg).await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut last = String::new();
        for i in 0..6 {
            let url =
                format!("{}?client_id=c{i}&client_secret=s&grant_type=client_credentials", sbx.auth_url());
            let v: serde_json::Value = http.post(url).send().await.unwrap().json().await.unwrap();
            last = v["access_token"].as_str().unwrap().to_string();
        }
        assert_eq!(lock(&sbx.shared.tokens).len(), 3);
        // The newest token still works.
        let r = http
            .post(format!("{}/games", sbx.url()))
            .header("Client-ID", "c5")
            .header("Authorization", format!("Bearer {last}"))
            .body("fields id;")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    #[tokio::test]
    async fn a_streamed_body_is_cut_at_the_cap() {
        use std::sync::atomic::AtomicUsize;
        // 64 frames of 64 KiB, no Content-Length (as a chunked upload): the reader must stop
        // pulling soon after the cap instead of buffering all 4 MiB.
        let pulled = Arc::new(AtomicUsize::new(0));
        let body = Frames { left: 64, pulled: pulled.clone() };
        let err = read_capped(&header::HeaderMap::new(), body, 1 << 20).await.unwrap_err();
        assert_eq!(err.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", err.1);
        assert!(err.1.contains("larger than 1048576 bytes"), "{}", err.1);
        assert!(pulled.load(Ordering::SeqCst) <= 17, "{} frames read", pulled.load(Ordering::SeqCst));
    }

    /// A body of `left` frames of 64 KiB with no size hint, counting the frames read.
    struct Frames {
        left: usize,
        pulled: Arc<std::sync::atomic::AtomicUsize>,
    }
    impl Body for Frames {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut TaskContext<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            if self.left == 0 {
                return Poll::Ready(None);
            }
            self.left -= 1;
            self.pulled.fetch_add(1, Ordering::SeqCst);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 64 * 1024])))))
        }
    }

    #[test]
    fn percent_decoding_and_params() {
        let p = form_params("client_id=a%20b&grant_type=client_credentials", "client_secret=x%2By+z");
        assert_eq!(p["client_id"], "a b");
        assert_eq!(p["client_secret"], "x+y z");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
