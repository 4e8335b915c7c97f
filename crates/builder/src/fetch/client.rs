//! The IGDB HTTP client: Twitch client-credentials auth with a 0600 token cache, a limiter that
//! holds IGDB's limits (at most N requests in any window of one second plus a margin, at most
//! M open), and bounded retries with exponential backoff and jitter.
//!
//! The client secret and the access token never enter a log line or an error: they live in
//! [`Secret`] (whose `Debug`/`Display` print `***`), the secret travels in the form body (not
//! the URL, so reqwest errors cannot show it), and the bearer header is marked sensitive.

use crate::exit::{ExitCode, Stage};
use crate::sandbox::SplitMix;
use anyhow::{Context, Result, anyhow, bail};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// A short, printable piece of an answer body, with the secret (if echoed) masked.
fn snippet(body: &[u8], secret: &Secret) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(300)]).replace(['\n', '\r'], " ");
    if secret.expose().is_empty() { s } else { s.replace(secret.expose(), "***") }
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
        // reqwest is built without a bundled crypto provider (no cmake, no OpenSSL): use ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("playalike/", env!("CARGO_PKG_VERSION")))
            .timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(10).min(cfg.timeout))
            .pool_max_idle_per_host(cfg.max_open);
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
                    let body = resp.bytes().await.unwrap_or_default();
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
                    resp.bytes().await.map(|b| (status, b))
                }
                Err(e) => Err(e),
            };
            self.limiter.done(ticket);
            let last = match outcome {
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
                Ok((status, b)) => {
                    return Err(anyhow!(
                        "POST {url}: IGDB answered HTTP {status}: {}",
                        snippet(&b, &self.creds.client_secret)
                    ));
                }
                Err(e) => describe(&e),
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

/// Writes `bytes` to `path` readable by the owner only (0600), atomically (temp + rename).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        {
            std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).with_context(|| format!("while creating {}", tmp.display()))?;
    f.write_all(bytes).with_context(|| format!("while writing {}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path).with_context(|| format!("while renaming {} into place", tmp.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
