//! The IGDB HTTP client: Twitch client-credentials auth with a 0600 token cache, a limiter that
//! holds IGDB's limits (at most N requests in any window of one second plus a margin, at most
//! M open), and bounded retries with exponential backoff and jitter.
//!
//! The client secret and the access token never enter a log line or an error: they live in
//! [`Secret`] (whose `Debug`/`Display` print `***`), the secret travels in the form body (not
//! the URL, so reqwest errors cannot show it), and the bearer header is marked sensitive.

use crate::exit::{ExitCode, Stage};
use anyhow::{Context, Result, anyhow, bail};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Largest IGDB answer read by default, bytes after gunzip (10 pages of 500 full games are
/// about 15 MB).
pub const MAX_ANSWER_BYTES: usize = 128 << 20;
/// Largest token answer read, bytes (a real one is under 200).
pub const MAX_TOKEN_ANSWER_BYTES: usize = 64 << 10;

/// The retry jitter's generator (the workspace's one seeded RNG).
pub use playalike_base::rng::SplitMix;

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Twitch application credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The client id (not secret: IGDB wants it in every request header).
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
}

impl Credentials {
    /// Reads a credentials file: JSON (`{"client_id": ..., "client_secret": ...}`, keys also
    /// accepted as `IGDB_CLIENT_ID` / `IGDB_CLIENT_SECRET`) or `KEY=VALUE` lines with the same
    /// keys (`#` comments, optional quotes). The file's content never appears in an error.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("while reading the credentials file {}", path.display()))?;
        let mut id = None;
        let mut secret = None;
        let mut take = |k: &str, v: String| match k.trim().to_ascii_lowercase().as_str() {
            "client_id" | "igdb_client_id" => id = Some(v),
            "client_secret" | "igdb_client_secret" => secret = Some(v),
            _ => {}
        };
        if text.trim_start().starts_with('{') {
            let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|_| anyhow!("the credentials file {} is not valid JSON", path.display()))?;
            for (k, v) in v {
                if let Some(s) = v.as_str() {
                    take(&k, s.to_string());
                }
            }
        } else {
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let line = line.strip_prefix("export ").unwrap_or(line);
                if let Some((k, v)) = line.split_once('=') {
                    take(k, v.trim().trim_matches('"').trim_matches('\'').to_string());
                }
            }
        }
        match (id.filter(|s| !s.is_empty()), secret.filter(|s| !s.is_empty())) {
            (Some(client_id), Some(s)) => Ok(Self { client_id, client_secret: Secret(s) }),
            _ => bail!(
                "the credentials file {} lacks client_id and client_secret (JSON keys or KEY=VALUE lines)",
                path.display()
            ),
        }
    }
}

/// Settings of the client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API base, e.g. `https://api.igdb.com/v4`.
    pub igdb_url: String,
    /// Token endpoint, e.g. `https://id.twitch.tv/oauth2/token`.
    pub auth_url: String,
    /// Requests allowed per one-second window (1..=4).
    pub rps: u32,
    /// Requests open at once (1..=8).
    pub max_open: usize,
    /// Retries of one request after the first attempt.
    pub max_retries: u32,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// First backoff delay (doubles each retry, capped at 10 s, with jitter).
    pub backoff: Duration,
    /// Token cache file (`None`: no cache).
    pub token_cache: Option<PathBuf>,
    /// Largest API answer read, bytes, after gunzip ([`MAX_ANSWER_BYTES`] by default).
    pub max_answer_bytes: usize,
}

/// Counters of what the client did.
#[derive(Debug, Default)]
pub struct Counters {
    /// API requests sent (attempts).
    pub requests: AtomicU64,
    /// Attempts that were retries.
    pub retries: AtomicU64,
    /// Tokens fetched from the token endpoint.
    pub tokens_fetched: AtomicU64,
}

/// The limiter: a semaphore for open requests and a sliding window of request stamps.
///
/// A sender waits until the N-th most recent stamp is more than one second (plus a margin) old
/// and the latest is 1/N of that old (even pacing), then stamps its send time; when the answer
/// is in, the stamp moves to the completion time (capped), which is never before the server saw
/// the request. So no one-second window at the server holds more than N arrivals, however late
/// a task wakes up or a connection is made.
struct Limiter {
    open: Arc<tokio::sync::Semaphore>,
    /// Recent requests: (ticket, stamp). A stamp is the send time, moved to the completion time
    /// (capped at send + [`ARRIVAL_BOUND`]) when the answer is in.
    window: std::sync::Mutex<(u64, VecDeque<(u64, tokio::time::Instant)>)>,
    per_window: usize,
    span: Duration,
}

/// Added to the one-second window, for clock and network jitter.
const WINDOW_MARGIN: Duration = Duration::from_millis(50);
/// How late after our send stamp a request is assumed to reach the server at most. A request
/// that completes sooner is stamped with its completion time, which is never earlier than its
/// arrival: a late arrival (a new connection on a loaded machine took > 120 ms) then cannot
/// squeeze five arrivals into one second.
const ARRIVAL_BOUND: Duration = Duration::from_millis(300);

/// A sent request's place in the limiter's window.
struct Ticket {
    id: u64,
    sent: tokio::time::Instant,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

fn lock_window<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Limiter {
    fn new(rps: u32, max_open: usize) -> Self {
        Self {
            open: Arc::new(tokio::sync::Semaphore::new(max_open.max(1))),
            window: std::sync::Mutex::new((0, VecDeque::new())),
            per_window: rps.max(1) as usize,
            span: Duration::from_secs(1) + WINDOW_MARGIN,
        }
    }

    /// Waits for an open slot and a place in the window.
    async fn acquire(&self) -> Result<Ticket> {
        let permit =
            self.open.clone().acquire_owned().await.context("while waiting for an open-request slot")?;
        loop {
            let at = {
                let mut g = lock_window(&self.window);
                let now = tokio::time::Instant::now();
                let mut stamps: Vec<tokio::time::Instant> = g.1.iter().map(|e| e.1).collect();
                stamps.sort_unstable_by(|a, b| b.cmp(a));
                let mut at = now;
                if let Some(latest) = stamps.first() {
                    at = at.max(*latest + self.span / self.per_window as u32);
                }
                if let Some(nth) = stamps.get(self.per_window - 1) {
                    at = at.max(*nth + self.span);
                }
                if at <= now {
                    g.0 += 1;
                    let id = g.0;
                    g.1.push_back((id, now));
                    while g.1.len() > 4 * self.per_window + 8 {
                        g.1.pop_front();
                    }
                    return Ok(Ticket { id, sent: now, _permit: permit });
                }
                at
            };
            // Stamps only move later, so after waking the check runs again.
            tokio::time::sleep_until(at).await;
        }
    }

    /// The answer (or failure) of a ticket's request is in.
    fn done(&self, t: Ticket) {
        let now = tokio::time::Instant::now();
        let stamp = now.min(t.sent + ARRIVAL_BOUND).max(t.sent);
        let mut g = lock_window(&self.window);
        if let Some(e) = g.1.iter_mut().find(|e| e.0 == t.id) {
            e.1 = stamp;
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CachedToken {
    client_id: String,
    auth_url: String,
    access_token: String,
    expires_at: u64,
}

struct TokenState {
    generation: u64,
    token: Option<Secret>,
}

/// The IGDB client.
pub struct Igdb {
    http: reqwest::Client,
    cfg: ClientConfig,
    creds: Credentials,
    token: tokio::sync::Mutex<TokenState>,
    limiter: Limiter,
    rng: std::sync::Mutex<SplitMix>,
    /// What it did.
    pub counters: Counters,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).is_some_and(|h| {
        h == "localhost"
            || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            || h.trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// Longest snippet of an answer body in an error, bytes.
const SNIPPET_BYTES: usize = 300;

/// A short, printable piece of an answer body, with the secret (if echoed) masked. Masks
/// first, then cuts (at a char boundary): cutting first could leave the start of a secret that
/// straddles the cut unmasked. The body is already bounded by the read cap.
fn snippet(body: &[u8], secret: &Secret) -> String {
    let mut s = String::from_utf8_lossy(body).into_owned();
    if !secret.expose().is_empty() {
        s = s.replace(secret.expose(), "***");
    }
    let mut end = s.len().min(SNIPPET_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.replace(['\n', '\r'], " ")
}

/// Why an answer could not be read.
enum ReadError {
    /// The transport failed (retryable).
    Http(reqwest::Error),
    /// The answer is larger than the cap (not retried: asking again gives the same).
    TooLarge(usize),
}

/// Reads an answer's body, after gunzip, refusing more than `cap` bytes.
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ReadError::TooLarge(cap));
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Http)? {
        if buf.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge(cap));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Plain http only to this machine: the secret, the token and the data travel over https.
pub fn require_https(url: &str, what: &str) -> Result<()> {
    let u = reqwest::Url::parse(url).map_err(|e| anyhow!("{what} {url:?} is not a URL: {e}"))?;
    match u.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => {
            bail!("{what} {url} must use https (plain http is allowed only for 127.0.0.1, localhost and ::1)")
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "transport error"
    };
    // Walk the source chain for the root cause (e.g. "connection refused"), never the URL.
    let mut root = String::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        root = s.to_string();
        src = s.source();
    }
    if root.is_empty() { kind.to_string() } else { format!("{kind} ({root})") }
}

impl Igdb {
    /// A client; no request is made yet.
    pub fn new(cfg: ClientConfig, creds: Credentials) -> Result<Self> {
        require_https(&cfg.igdb_url, "the IGDB URL")?;
        require_https(&cfg.auth_url, "the token endpoint")?;
        // reqwest is built without a bundled crypto provider (no cmake, no OpenSSL): use ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("playalike/", env!("CARGO_PKG_VERSION")))
            .timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(10).min(cfg.timeout))
            .pool_max_idle_per_host(cfg.max_open)
            // Never follow a redirect: a 307 from the token endpoint would re-POST the client
            // secret to wherever it points. A 3xx is an error that names its status.
            .redirect(reqwest::redirect::Policy::none());
        if is_loopback(&cfg.igdb_url) && is_loopback(&cfg.auth_url) {
            b = b.no_proxy();
        }
        let http = b.build().context("while building the HTTP client")?;
        Ok(Self {
            http,
            limiter: Limiter::new(cfg.rps, cfg.max_open),
            cfg,
            creds,
            token: tokio::sync::Mutex::new(TokenState { generation: 0, token: None }),
            rng: std::sync::Mutex::new(SplitMix::from_entropy()),
            counters: Counters::default(),
        })
    }

    /// The API base URL.
    pub fn igdb_url(&self) -> &str {
        &self.cfg.igdb_url
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.cfg.backoff.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
        let capped = base.min(10.0);
        let jitter = self.rng.lock().map(|mut r| r.next_f64()).unwrap_or(0.5);
        Duration::from_secs_f64(capped * (0.5 + 0.5 * jitter))
    }

    fn read_cache(&self) -> Option<Secret> {
        let path = self.cfg.token_cache.as_ref()?;
        let text = std::fs::read_to_string(path).ok()?;
        let c: CachedToken = serde_json::from_str(&text).ok()?;
        (c.client_id == self.creds.client_id
            && c.auth_url == self.cfg.auth_url
            && c.expires_at > unix_now() + 60)
            .then_some(Secret(c.access_token))
    }

    fn write_cache(&self, token: &Secret, expires_in: u64) {
        let Some(path) = self.cfg.token_cache.as_ref() else { return };
        let c = CachedToken {
            client_id: self.creds.client_id.clone(),
            auth_url: self.cfg.auth_url.clone(),
            access_token: token.expose().to_string(),
            expires_at: unix_now() + expires_in,
        };
        if let Err(e) = write_private(path, &serde_json::to_vec(&c).unwrap_or_default()) {
            tracing::warn!("could not write the token cache {}: {e:#}", path.display());
        }
    }

    /// Asks the token endpoint for a new token (retrying network failures and 5xx).
    async fn fetch_token(&self) -> Result<Secret> {
        #[derive(Deserialize)]
        struct TokenAnswer {
            access_token: String,
            #[serde(default)]
            expires_in: u64,
        }
        let form = [
            ("client_id", self.creds.client_id.as_str()),
            ("client_secret", self.creds.client_secret.expose()),
            ("grant_type", "client_credentials"),
        ];
        let mut attempt = 0;
        loop {
            let r = self.http.post(&self.cfg.auth_url).form(&form).send().await;
            let last = match r {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_redirection() {
                        bail!(
                            "the token endpoint {} answered HTTP {status} (a redirect); credential \
                             requests never follow redirects: check --auth-url",
                            self.cfg.auth_url
                        );
                    }
                    let body = match read_capped(resp, MAX_TOKEN_ANSWER_BYTES).await {
                        Ok(b) => b,
                        Err(ReadError::TooLarge(cap)) => bail!(
                            "the token endpoint {} answered {status} with a body larger than {cap} bytes",
                            self.cfg.auth_url
                        ),
                        Err(ReadError::Http(_)) => Vec::new(),
                    };
                    if status.is_success() {
                        let t: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
                            anyhow!(
                                "the token endpoint {} answered {status} with no access_token",
                                self.cfg.auth_url
                            )
                        })?;
                        let tok = Secret(t.access_token);
                        self.counters.tokens_fetched.fetch_add(1, Ordering::Relaxed);
                        self.write_cache(&tok, if t.expires_in == 0 { 3600 } else { t.expires_in });
                        return Ok(tok);
                    }
                    if matches!(status.as_u16(), 400 | 401 | 403) {
                        return Err(anyhow!(
                            "the token endpoint {} refused client id {:?}: HTTP {status}: {}; check \
                             IGDB_CLIENT_ID / IGDB_CLIENT_SECRET or the credentials file",
                            self.cfg.auth_url,
                            self.creds.client_id,
                            snippet(&body, &self.creds.client_secret)
                        ))
                        .stage(ExitCode::Auth);
                    }
                    format!("HTTP {status}: {}", snippet(&body, &self.creds.client_secret))
                }
                Err(e) => describe(&e),
            };
            attempt += 1;
            if attempt > self.cfg.max_retries {
                bail!(
                    "could not get a token from {} after {attempt} attempts; last: {last}",
                    self.cfg.auth_url
                );
            }
            tracing::warn!("token request failed ({last}); retry {attempt}/{}", self.cfg.max_retries);
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    /// The current token (from memory, the cache or the token endpoint) and its generation.
    async fn current_token(&self) -> Result<(u64, Secret)> {
        let mut st = self.token.lock().await;
        if st.token.is_none() {
            let tok = match self.read_cache() {
                Some(t) => {
                    tracing::debug!("using the cached IGDB token");
                    t
                }
                None => self.fetch_token().await?,
            };
            st.token = Some(tok);
            st.generation += 1;
        }
        let tok = st.token.clone().ok_or_else(|| anyhow!("no token"))?;
        Ok((st.generation, tok))
    }

    /// Replaces the token of generation `seen` (a 401 said it is dead); concurrent callers that
    /// saw the same generation share one refresh.
    async fn refresh(&self, seen: u64) -> Result<()> {
        let mut st = self.token.lock().await;
        if st.generation == seen {
            tracing::info!("IGDB answered 401: getting a new token");
            st.token = Some(self.fetch_token().await?);
            st.generation += 1;
        }
        Ok(())
    }

    /// Makes sure a token is at hand (fails early on bad credentials).
    pub async fn authenticate(&self) -> Result<()> {
        self.current_token().await.map(|_| ())
    }

    /// `POST {igdb_url}/{endpoint}` with an Apicalypse body; the answer, parsed as JSON, on 2xx.
    /// Retries 429, 5xx, timeouts, cut connections and 2xx answers that are not JSON with
    /// backoff; a 401 gets one new token.
    pub async fn post(&self, endpoint: &str, body: &str) -> Result<serde_json::Value> {
        let url = format!("{}/{}", self.cfg.igdb_url.trim_end_matches('/'), endpoint);
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            let (generation, tok) = self.current_token().await?;
            let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", tok.expose()))
                .map_err(|_| anyhow!("the token endpoint gave a token that is not a valid header value"))
                .stage(ExitCode::Auth)?;
            auth.set_sensitive(true);
            let ticket = self.limiter.acquire().await?;
            tracing::trace!("POST {url} (attempt {attempt})");
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 0 {
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
            }
            let sent = self
                .http
                .post(&url)
                .header("Client-ID", &self.creds.client_id)
                .header(reqwest::header::AUTHORIZATION, auth)
                .header(reqwest::header::ACCEPT, "application/json")
                .header(reqwest::header::CONTENT_TYPE, "text/plain")
                .body(body.to_string())
                .send()
                .await;
            let outcome = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    read_capped(resp, self.cfg.max_answer_bytes).await.map(|b| (status, b))
                }
                Err(e) => Err(ReadError::Http(e)),
            };
            self.limiter.done(ticket);
            let last = match outcome {
                Err(ReadError::TooLarge(cap)) => {
                    bail!("POST {url}: the answer is larger than {cap} bytes (after gunzip)")
                }
                // A 2xx whose body is not JSON was cut or garbled on the way: queries are
                // reads, so ask again (a well-formed answer of the wrong shape is the caller's).
                Ok((status, b)) if status.is_success() => match serde_json::from_slice(&b) {
                    Ok(v) => return Ok(v),
                    Err(e) => format!("malformed answer (not JSON: {e}; {} bytes)", b.len()),
                },
                Ok((StatusCode::UNAUTHORIZED, b)) => {
                    if refreshed {
                        return Err(anyhow!(
                            "POST {url}: IGDB answered 401 again with a fresh token ({}); check the client id",
                            snippet(&b, &self.creds.client_secret)
                        ))
                        .stage(ExitCode::Auth);
                    }
                    self.refresh(generation).await?;
                    refreshed = true;
                    continue;
                }
                Ok((status, b)) if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
                    format!("HTTP {status}: {}", snippet(&b, &self.creds.client_secret))
                }
                Ok((status, _)) if status.is_redirection() => {
                    bail!("POST {url}: IGDB answered HTTP {status} (a redirect); redirects are not followed")
                }
                Ok((status, b)) => {
                    return Err(anyhow!(
                        "POST {url}: IGDB answered HTTP {status}: {}",
                        snippet(&b, &self.creds.client_secret)
                    ));
                }
                Err(ReadError::Http(e)) => describe(&e),
            };
            attempt += 1;
            if attempt > self.cfg.max_retries {
                bail!("POST {url}: gave up after {attempt} attempts; last: {last}");
            }
            tracing::debug!("POST {url}: {last}; retry {attempt}/{}", self.cfg.max_retries);
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }
}

/// Writes `bytes` to `path` readable by the owner only (0600), atomically, creating its folder
/// (0700) when missing.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    playalike_base::fs::write_atomic(path, bytes, Some(0o600))
        .with_context(|| format!("while writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    type Seen = Arc<std::sync::Mutex<Vec<String>>>;

    /// A local HTTP server answering each request with `answer(path)` (raw head and body bytes)
    /// and recording the requests it saw.
    async fn canned(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> (String, Seen) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let seen: Seen = Arc::default();
        let (seen2, answer) = (seen.clone(), Arc::new(answer));
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let (seen, answer) = (seen2.clone(), answer.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let text = String::from_utf8_lossy(&buf).into_owned();
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if body.len() >= len {
                                break;
                            }
                        }
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let path = text.split(' ').nth(1).unwrap_or("").to_string();
                    seen.lock().unwrap().push(text);
                    let _ = s.write_all(&answer(&path)).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        (base, seen)
    }

    fn answer(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn token_json() -> Vec<u8> {
        answer("200 OK", "Content-Type: application/json\r\n", br#"{"access_token":"t","expires_in":3600}"#)
    }

    fn config(base: &str, cap: usize) -> ClientConfig {
        ClientConfig {
            igdb_url: format!("{base}/v4"),
            auth_url: format!("{base}/oauth2/token"),
            rps: 4,
            max_open: 8,
            max_retries: 0,
            timeout: Duration::from_secs(30),
            backoff: Duration::from_millis(1),
            token_cache: None,
            max_answer_bytes: cap,
        }
    }

    fn creds() -> Credentials {
        Credentials { client_id: "id".into(), client_secret: Secret::new("the-client-secret-42") }
    }

    fn big_json(bytes: usize) -> Vec<u8> {
        let mut v = b"[".to_vec();
        while v.len() < bytes {
            v.extend_from_slice(b"0,");
        }
        v.extend_from_slice(b"0]");
        v
    }

    #[tokio::test]
    async fn answers_above_the_cap_are_refused_plain_or_gzipped() {
        use std::io::Write;
        let plain = big_json(2 << 20);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&big_json(8 << 20)).unwrap();
        let gz = gz.finish().unwrap();
        assert!(gz.len() < 1 << 20, "the gzipped answer itself is under the cap");
        let (base, _) = canned(move |path| match path {
            "/oauth2/token" => token_json(),
            "/v4/plain" => answer("200 OK", "Content-Type: application/json\r\n", &plain),
            _ => answer("200 OK", "Content-Type: application/json\r\nContent-Encoding: gzip\r\n", &gz),
        })
        .await;
        let c = Igdb::new(config(&base, 1 << 20), creds()).unwrap();
        for endpoint in ["plain", "gzipped"] {
            let e = format!("{:#}", c.post(endpoint, "fields id;").await.unwrap_err());
            assert!(e.contains("larger than 1048576 bytes"), "{endpoint}: {e}");
        }
        // One attempt each: a too-large answer is not retried.
        assert_eq!(c.counters.requests.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_token_answer_above_its_cap_is_refused() {
        let mut body = br#"{"access_token":"t","expires_in":3600,"pad":""#.to_vec();
        body.extend(std::iter::repeat_n(b'x', 1 << 20));
        body.extend_from_slice(br#""}"#);
        let (base, _) = canned(move |_| answer("200 OK", "Content-Type: application/json\r\n", &body)).await;
        let c = Igdb::new(config(&base, 1 << 30), creds()).unwrap();
        let e = format!("{:#}", c.authenticate().await.unwrap_err());
        assert!(e.contains("larger than") && e.contains("token"), "{e}");
    }

    #[tokio::test]
    async fn a_redirect_from_the_token_endpoint_is_not_followed() {
        let (elsewhere, stolen) = canned(|_| token_json()).await;
        let to = format!("Location: {elsewhere}/steal\r\n");
        let (base, _) = canned(move |_| answer("307 Temporary Redirect", &to, b"")).await;
        let c = Igdb::new(config(&base, 1 << 20), creds()).unwrap();
        let e = format!("{:#}", c.authenticate().await.unwrap_err());
        assert!(e.contains("307"), "{e}");
        assert!(!e.contains("the-client-secret-42"), "{e}");
        assert!(stolen.lock().unwrap().is_empty(), "the secret was re-posted to the redirect target");
        // And an API answer's redirect is an error too, naming the status.
        let (api, _) = canned(move |path| match path {
            "/oauth2/token" => token_json(),
            _ => answer("302 Found", "Location: http://127.0.0.1:9/elsewhere\r\n", b""),
        })
        .await;
        let c = Igdb::new(config(&api, 1 << 20), creds()).unwrap();
        let e = format!("{:#}", c.post("games", "fields id;").await.unwrap_err());
        assert!(e.contains("302"), "{e}");
    }

    #[test]
    fn snippet_masks_the_secret_before_it_cuts() {
        let s = Secret::new("hunter2-secret");
        // The secret straddles byte 300: cutting first left "hunte" unmasked.
        let body = format!("{}hunter2-secret and more", "x".repeat(295));
        let out = snippet(body.as_bytes(), &s);
        assert!(!out.contains("hunte"), "{out}");
        assert_eq!(&out[295..298], "***");
        assert!(out.len() <= 300);
        // Cut at a char boundary: no replacement character from a split "é".
        let body = format!("a{}", "é".repeat(400));
        let out = snippet(body.as_bytes(), &s);
        assert!(!out.contains('\u{FFFD}') && out.len() <= 300 && out.len() >= 299, "{out}");
    }

    #[test]
    fn plain_http_only_to_loopback_hosts() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cases = [
            ("https://api.igdb.com/v4", "https://id.twitch.tv/oauth2/token", true),
            ("http://127.0.0.1:9/v4", "http://localhost:9/oauth2/token", true),
            ("http://[::1]:9/v4", "http://127.0.0.1:9/t", true),
            ("http://api.igdb.com/v4", "https://id.twitch.tv/oauth2/token", false),
            ("https://api.igdb.com/v4", "http://id.twitch.tv/oauth2/token", false),
            ("http://localhost.example.com/v4", "https://id.twitch.tv/t", false),
            ("ftp://127.0.0.1/v4", "https://id.twitch.tv/t", false),
        ];
        for (api, auth, ok) in cases {
            let cfg = ClientConfig {
                igdb_url: api.into(),
                auth_url: auth.into(),
                ..config("http://127.0.0.1:9", 1)
            };
            match Igdb::new(cfg, creds()) {
                Ok(_) => assert!(ok, "{api} {auth} was accepted"),
                Err(e) => {
                    let e = format!("{e:#}");
                    assert!(!ok, "{api} {auth}: {e}");
                    assert!(e.contains("https"), "{e}");
                }
            }
        }
    }

    #[test]
    fn splitmix_is_reproducible_and_spread() {
        let a: Vec<u64> = (0..4).scan(SplitMix::new(3), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..4).scan(SplitMix::new(3), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        let mut r = SplitMix::new(9);
        let hits = (0..10_000).filter(|_| r.next_f64() < 0.1).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }

    #[test]
    fn secret_never_prints() {
        let c = Credentials { client_id: "id".into(), client_secret: Secret::new("hunter2") };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(snippet(b"bad secret hunter2 here", &c.client_secret), "bad secret *** here");
    }

    #[test]
    fn credentials_files_json_and_key_value() {
        let d = tempfile::tempdir().unwrap();
        let j = d.path().join("c.json");
        std::fs::write(&j, r#"{"client_id": "abc", "client_secret": "s3"}"#).unwrap();
        let c = Credentials::from_file(&j).unwrap();
        assert_eq!((c.client_id.as_str(), c.client_secret.expose()), ("abc", "s3"));
        let k = d.path().join("c.env");
        std::fs::write(&k, "# igdb\nexport IGDB_CLIENT_ID=\"xyz\"\nIGDB_CLIENT_SECRET=q w\n").unwrap();
        let c = Credentials::from_file(&k).unwrap();
        assert_eq!((c.client_id.as_str(), c.client_secret.expose()), ("xyz", "q w"));
        std::fs::write(&k, "IGDB_CLIENT_ID=only-id-and-a-secretish-value\n").unwrap();
        let e = format!("{:#}", Credentials::from_file(&k).unwrap_err());
        assert!(e.contains("lacks") && !e.contains("secretish"), "{e}");
        std::fs::write(&j, "{\"client_secret\": \"topsecret\",").unwrap();
        let e = format!("{:#}", Credentials::from_file(&j).unwrap_err());
        assert!(!e.contains("topsecret"), "{e}");
    }

    #[test]
    fn private_files_are_0600() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/token.json");
        write_private(&p, b"{}").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_never_puts_more_than_n_sends_in_a_window() {
        let l = Arc::new(Limiter::new(4, 8));
        let start = tokio::time::Instant::now();
        let mut tasks = vec![];
        for _ in 0..20 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                let t = l.acquire().await.unwrap();
                let sent = tokio::time::Instant::now();
                tokio::time::sleep(Duration::from_millis(30)).await;
                l.done(t);
                sent
            }));
        }
        let mut times = vec![];
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        for w in times.windows(5) {
            assert!(w[4].duration_since(w[0]) >= Duration::from_secs(1), "5 sends within a second");
        }
        // And it is not needlessly slow: 20 sends take about 4 windows.
        assert!(times[19].duration_since(start) < Duration::from_secs(7));
    }
}
