//! `playalike fetch`: pulls the IGDB catalogue (games and the lookup tables the recommender
//! needs) into a snapshot directory, within IGDB's limits, resumably, and atomically.
//!
//! How a run goes:
//! 1. A probe: one multiquery asks for the number of matching games and the largest id, and for
//!    the first page of every lookup table (10 queries per request).
//! 2. The games' id space is cut into up to 4 slices, each walked by keyset paging
//!    (`where id > LAST & id < HI; sort id asc; limit 500; offset 0..4500` as 10 queries of
//!    one multiquery), in parallel; lookup tables whose first page was full continue the same way.
//! 3. Each answer is checked (a JSON array of named results, objects with integer ids in
//!    ascending order) and written to a part file in a staging directory, with a progress file
//!    that lets a killed run resume.
//! 4. The snapshot (`games.jsonl.gz` + `NAME.json.gz`, and `fetch-state.json`) is written to a
//!    temporary directory and renamed into place.
//!
//! `--since-last` asks only for rows with `updated_at >` the last complete run and merges them.

pub mod client;
pub mod store;

use crate::exit::{ExitCode, Stage};
use anyhow::{Context, Result, anyhow, bail};
use client::{ClientConfig, Credentials, Igdb, Secret};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store::{Cursor, PlanKey, Staging, State};

/// IGDB's API base.
pub const DEFAULT_IGDB_URL: &str = "https://api.igdb.com/v4";
/// Twitch's token endpoint.
pub const DEFAULT_AUTH_URL: &str = "https://id.twitch.tv/oauth2/token";
/// The lookup tables fetched by default.
pub const DEFAULT_TABLES: &str = "genres,themes,platforms,platform_families,game_modes,player_perspectives,\
keywords,franchises,collections,involved_companies,companies,game_engines,popularity_primitives";
/// Subtracted from a run's start to make the next `--since-last` bound (clock skew).
const SINCE_MARGIN_SECS: u64 = 600;
/// Most slices of the games' id space walked in parallel.
const MAX_SLICES: u64 = 4;
/// IGDB's maximum number of queries in one multiquery (the sandbox enforces the same).
pub const MAX_MULTI_QUERIES: usize = 10;
/// Test hook: exit abruptly (code 99) after this many committed page requests, as a kill would
/// (only with the `failpoints` feature).
pub const FAILPOINT_ENV: &str = "PLAYALIKE_FETCH_FAIL_AFTER";

/// What `playalike fetch` does (resolved from its flags by the CLI).
///
/// Credentials: IGDB_CLIENT_ID and IGDB_CLIENT_SECRET in the environment, or
/// --credentials-file (JSON or KEY=VALUE). Without credentials, use --sandbox DIR to fetch from a
/// local IGDB sandbox serving a snapshot directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// Snapshot directory to write (replaced atomically when the fetch is complete).
    pub out: PathBuf,
    /// IGDB API base URL.
    pub igdb_url: String,
    /// Twitch OAuth token endpoint.
    pub auth_url: String,
    /// Twitch client id (the secret comes from IGDB_CLIENT_SECRET or --credentials-file).
    pub client_id: Option<String>,
    /// File with client_id and client_secret (JSON, or KEY=VALUE lines); wins over the env.
    pub credentials_file: Option<PathBuf>,
    /// The URLs point at an embedded IGDB sandbox the caller started (placeholder credentials
    /// when none are set; no token cache unless given).
    pub sandbox: bool,
    /// Fetch only rows with updated_at after the last complete run, and merge them into the
    /// existing snapshot (a full fetch when there is no previous run).
    pub since_last: bool,
    /// With --since-last: fetch everything instead when the last full fetch is older than this
    /// many days (or unknown). Games IGDB deletes or merges only leave the snapshot on a full
    /// fetch; at IGDB's rate limits a full fetch of ~330k games takes under a minute.
    pub full_every: Option<u64>,
    /// Game fields to fetch (Apicalypse list, `*` for all).
    pub fields: String,
    /// Filter on games (Apicalypse `where`; empty for none). The default skips editions.
    pub where_: String,
    /// Keep games with the adult theme (42); by default they are filtered out.
    pub include_adult: bool,
    /// Lookup tables to fetch whole (comma-separated endpoints; empty for none).
    pub tables: String,
    /// State file (last run, rows per table). Default: fetch-state.json inside the snapshot.
    pub state_file: Option<PathBuf>,
    /// Token cache file (0600). Default: playalike/igdb-token.json in the user cache dir; not
    /// used with --sandbox unless given.
    pub token_cache: Option<PathBuf>,
    /// Requests per second, 1..=4 (IGDB's limit is 4).
    pub rate: u32,
    /// Requests open at once, 1..=8 (IGDB's limit is 8).
    pub max_open: u32,
    /// Rows per page, 1..=500 (IGDB's maximum is 500).
    pub page_size: u32,
    /// Pages per multiquery request, 1..=10 (IGDB's maximum is 10).
    pub pages_per_request: u32,
    /// Retries of one request (429, 5xx, timeouts, cut connections, answers that are not JSON), 0..=20.
    pub max_retries: u32,
    /// First retry delay in milliseconds (doubles per retry, capped at 10 s, with jitter).
    pub backoff_ms: u64,
    /// Timeout of one request, seconds.
    pub timeout: u64,
    /// Print one JSON summary line on stdout.
    pub json: bool,
}

impl Config {
    /// The flags' defaults with this output directory (for callers such as the `run` job and
    /// the demo; set `sandbox` to fetch from an embedded sandbox).
    #[allow(dead_code)] // called by the run job and the demo, merged from other branches
    pub fn with_out(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            igdb_url: DEFAULT_IGDB_URL.into(),
            auth_url: DEFAULT_AUTH_URL.into(),
            client_id: std::env::var("IGDB_CLIENT_ID").ok(),
            credentials_file: None,
            sandbox: false,
            since_last: false,
            full_every: None,
            fields: "*".into(),
            where_: "version_parent = null".into(),
            include_adult: false,
            tables: DEFAULT_TABLES.into(),
            state_file: None,
            token_cache: None,
            rate: 4,
            max_open: 8,
            page_size: 500,
            pages_per_request: 10,
            max_retries: 8,
            backoff_ms: 500,
            timeout: 60,
            json: false,
        }
    }
}

/// What a fetch did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The snapshot directory.
    pub out: PathBuf,
    /// `full` or `since-last`.
    pub mode: String,
    /// The `updated_at` bound of an incremental run.
    pub since: Option<u64>,
    /// Games in the snapshot.
    pub games: u64,
    /// Games received in this run (changed games for `since-last`).
    pub games_fetched: u64,
    /// Rows per lookup table in the snapshot.
    pub tables: BTreeMap<String, u64>,
    /// API requests sent, retries included.
    pub requests: u64,
    /// Retries.
    pub retries: u64,
    /// Tokens fetched from the token endpoint (0 when the cached one served).
    pub tokens_fetched: u64,
    /// Page requests an interrupted earlier run had already done.
    pub resumed_pages: u64,
    /// Wall time, seconds.
    pub elapsed_secs: f64,
    /// API fetched from.
    pub igdb_url: String,
    /// Fetched from the embedded sandbox.
    pub sandbox: bool,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Credentials from the file (if given) or the environment; `None` when neither has them.
fn credentials(args: &Config) -> Result<Option<Credentials>> {
    if let Some(path) = &args.credentials_file {
        return Credentials::from_file(path).map(Some).stage(ExitCode::Auth);
    }
    let secret = std::env::var("IGDB_CLIENT_SECRET").ok().filter(|s| !s.is_empty());
    match (args.client_id.clone().filter(|s| !s.is_empty()), secret) {
        (Some(client_id), Some(s)) => Ok(Some(Credentials { client_id, client_secret: Secret::new(s) })),
        (None, None) => Ok(None),
        (Some(_), None) => {
            Err(anyhow!("IGDB_CLIENT_ID is set but IGDB_CLIENT_SECRET is not")).stage(ExitCode::Auth)
        }
        (None, Some(_)) => {
            Err(anyhow!("IGDB_CLIENT_SECRET is set but IGDB_CLIENT_ID is not")).stage(ExitCode::Auth)
        }
    }
}

/// Whether `--full-every DAYS` asks for a full fetch now: the last full fetch is unknown or at
/// least DAYS days old. Without the flag, never.
fn full_fetch_due(full_every: Option<u64>, last_full: Option<u64>, now: u64) -> bool {
    match (full_every, last_full) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(days), Some(t)) => now.saturating_sub(t) >= days.saturating_mul(86_400),
    }
}

fn and(a: &str, b: &str) -> String {
    match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, _) => b.trim().to_string(),
        (_, true) => a.trim().to_string(),
        _ => format!("({}) & ({})", a.trim(), b.trim()),
    }
}

struct Job {
    client: Igdb,
    staging: Mutex<Staging>,
    fields: String,
    games_where: String,
    table_where: String,
    page_size: usize,
    pages: usize,
    committed: AtomicU64,
    fail_after: Option<u64>,
    bar: crate::progress::Progress,
}

/// One query of a multiquery, and the most rows its answer may hold.
pub struct PageQuery {
    /// The result name.
    pub name: String,
    /// The Apicalypse text.
    pub text: String,
    /// The query's `limit` (`None` for a count).
    pub limit: Option<usize>,
}

/// The query of one page of a table's slice `c`.
pub fn page_query(
    name: &str,
    table: &str,
    fields: &str,
    filter: &str,
    c: &Cursor,
    limit: usize,
    offset: usize,
) -> PageQuery {
    let mut w = format!("id > {}", c.after);
    if let Some(hi) = c.hi {
        w.push_str(&format!(" & id < {hi}"));
    }
    let w = and(&w, filter);
    let off = if offset > 0 { format!(" offset {offset};") } else { String::new() };
    PageQuery {
        name: name.to_string(),
        text: format!(
            "query {table} \"{name}\" {{ fields {fields}; where {w}; sort id asc; limit {limit};{off} }};"
        ),
        limit: Some(limit),
    }
}

/// Parsed multiquery answer: results by query name.
enum Answer {
    Rows(Vec<Value>),
    Count(u64),
}

fn describe_request(queries: &[PageQuery]) -> String {
    let first = queries.first().map_or("", |q| q.text.as_str());
    if queries.len() > 1 { format!("`{first}` (+{} more)", queries.len() - 1) } else { format!("`{first}`") }
}

impl Job {
    /// Sends one multiquery and checks the answer's shape.
    async fn multiquery(&self, queries: &[PageQuery]) -> Result<BTreeMap<String, Answer>> {
        let body: String = queries.iter().map(|q| q.text.as_str()).collect::<Vec<_>>().join("\n");
        let what = || {
            format!("while fetching {} from {}/multiquery", describe_request(queries), self.client.igdb_url())
        };
        let v = self.client.post("multiquery", &body).await.with_context(what)?;
        let Value::Array(items) = v else {
            return Err(anyhow!("malformed answer: not a JSON array")).with_context(what);
        };
        let mut out = BTreeMap::new();
        for item in items {
            let name = item.get("name").and_then(Value::as_str).map(str::to_string);
            let Some(name) = name else {
                return Err(anyhow!("malformed answer: a result without a name")).with_context(what);
            };
            // Names become cursors and part-file names: only the ones asked for, once each.
            let Some(asked) = queries.iter().find(|q| q.name == name) else {
                let shown: String = name.chars().take(80).collect();
                return Err(anyhow!("malformed answer: result {shown:?} was not asked for"))
                    .with_context(what);
            };
            if out.contains_key(&name) {
                return Err(anyhow!("malformed answer: result {name:?} comes twice")).with_context(what);
            }
            let ans = if let Some(n) = item.get("count").and_then(Value::as_u64) {
                Answer::Count(n)
            } else if let Some(Value::Array(rows)) = item.get("result") {
                if let Some(limit) = asked.limit.filter(|&l| rows.len() > l) {
                    return Err(anyhow!(
                        "malformed answer: result {name:?} holds {} rows, more than its limit of {limit}",
                        rows.len()
                    ))
                    .with_context(what);
                }
                for (i, r) in rows.iter().enumerate() {
                    if r.get("id").and_then(Value::as_u64).is_none() {
                        return Err(anyhow!(
                            "malformed answer: row {i} of result {name:?} has no integer id"
                        ))
                        .with_context(what);
                    }
                }
                Answer::Rows(rows.clone())
            } else {
                return Err(anyhow!("malformed answer: result {name:?} has neither `result` nor `count`"))
                    .with_context(what);
            };
            out.insert(name, ans);
        }
        for q in queries {
            if !out.contains_key(&q.name) {
                return Err(anyhow!("malformed answer: no result for query {:?}", q.name)).with_context(what);
            }
        }
        Ok(out)
    }

    fn filter_of(&self, table: &str) -> &str {
        if table == "games" { &self.games_where } else { &self.table_where }
    }

    fn fields_of(&self, table: &str) -> &str {
        if table == "games" { &self.fields } else { "*" }
    }

    /// Records the rows of one request for a cursor: part file, then progress.
    fn commit(&self, cursor_name: &str, rows: Vec<Value>, full: bool, what: &str) -> Result<()> {
        let mut st = self.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
        let c = st.progress.cursors.get(cursor_name).cloned().ok_or_else(|| anyhow!("unknown cursor"))?;
        let mut last = c.after;
        for r in &rows {
            let id = r.get("id").and_then(Value::as_u64).unwrap_or(0) as i64;
            if id <= last || c.hi.is_some_and(|hi| id as u64 >= hi) {
                bail!("malformed answer to {what}: id {id} is out of order or outside the requested range");
            }
            last = id;
        }
        let mut c = c;
        if !rows.is_empty() {
            let part = st.write_part(cursor_name, c.parts.len(), &rows)?;
            c.parts.push(part);
        }
        c.rows += rows.len() as u64;
        c.after = last;
        c.done = !full;
        st.progress.cursors.insert(cursor_name.to_string(), c);
        st.save()?;
        drop(st);
        self.bar.inc(1);
        let n = self.committed.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_after.is_some_and(|f| n >= f) {
            eprintln!("{FAILPOINT_ENV}={n}: exiting as if killed");
            std::process::exit(99);
        }
        Ok(())
    }

    /// Walks one cursor to its end, 10 pages per request.
    async fn walk(self: Arc<Self>, cursor_name: String) -> Result<()> {
        loop {
            let c = {
                let st = self.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
                st.progress.cursors.get(&cursor_name).cloned().ok_or_else(|| anyhow!("unknown cursor"))?
            };
            if c.done {
                return Ok(());
            }
            let queries: Vec<PageQuery> = (0..self.pages)
                .map(|j| {
                    page_query(
                        &format!("p{j}"),
                        &c.table,
                        self.fields_of(&c.table),
                        self.filter_of(&c.table),
                        &c,
                        self.page_size,
                        j * self.page_size,
                    )
                })
                .collect();
            let mut answers = self.multiquery(&queries).await?;
            let mut rows = Vec::new();
            let mut full = true;
            for q in &queries {
                match answers.remove(&q.name) {
                    Some(Answer::Rows(r)) => {
                        full = r.len() == self.page_size;
                        rows.extend(r);
                        if !full {
                            break;
                        }
                    }
                    _ => bail!(
                        "malformed answer to {}: result {:?} is a count",
                        describe_request(&queries),
                        q.name
                    ),
                }
            }
            tracing::debug!("{cursor_name}: {} rows after id {}", rows.len(), c.after);
            self.commit(&cursor_name, rows, full, &describe_request(&queries))?;
        }
    }

    /// The probe: games count and largest id (when not known yet), and the first page of every
    /// table without a cursor yet. Creates the cursors.
    async fn probe(self: &Arc<Self>, tables: &[String]) -> Result<()> {
        let (need_games, missing): (bool, Vec<String>) = {
            let st = self.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
            (
                !st.progress.cursors.values().any(|c| c.table == "games"),
                tables.iter().filter(|t| !st.progress.cursors.contains_key(t.as_str())).cloned().collect(),
            )
        };
        let mut queries = Vec::new();
        if need_games {
            queries.push(PageQuery {
                name: "games-count".into(),
                text: format!(
                    "query games/count \"games-count\" {{ where {}; }};",
                    self.filter_or_all("games")
                ),
                limit: None,
            });
            queries.push(PageQuery {
                name: "games-max".into(),
                text: format!(
                    "query games \"games-max\" {{ fields id; where {}; sort id desc; limit 1; }};",
                    self.filter_or_all("games")
                ),
                limit: Some(1),
            });
        }
        let fresh = Cursor {
            table: String::new(),
            order: 0,
            after: -1,
            hi: None,
            done: false,
            parts: vec![],
            rows: 0,
        };
        for t in &missing {
            let c = Cursor { table: t.clone(), ..fresh.clone() };
            queries.push(page_query(t, t, "*", self.filter_of(t), &c, self.page_size, 0));
        }
        let mut set = tokio::task::JoinSet::new();
        for chunk in queries.chunks(client_max_queries()) {
            let job = self.clone();
            let chunk: Vec<PageQuery> = chunk
                .iter()
                .map(|q| PageQuery { name: q.name.clone(), text: q.text.clone(), limit: q.limit })
                .collect();
            set.spawn(async move { job.multiquery(&chunk).await.map(|a| (a, describe_request(&chunk))) });
        }
        while let Some(r) = set.join_next().await {
            let (mut answers, what) = r.context("while probing")??;
            // The games' slices first (count and largest id come in the same request), so a
            // kill at any later point leaves progress that resumes with them.
            if let (Some(count), Some(max)) = (answers.remove("games-count"), answers.remove("games-max")) {
                let (Answer::Count(count), Answer::Rows(max)) = (count, max) else {
                    bail!("malformed answer to {what}: games-count or games-max has the wrong shape");
                };
                let max = max.first().and_then(|v| v.get("id")).and_then(Value::as_u64).unwrap_or(0);
                self.plan_games(count, max)?;
            }
            for (name, ans) in answers {
                match (name.as_str(), ans) {
                    (t, Answer::Rows(rows)) => {
                        let full = rows.len() == self.page_size;
                        {
                            let mut st = self.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
                            st.progress
                                .cursors
                                .insert(t.to_string(), Cursor { table: t.to_string(), ..fresh.clone() });
                        }
                        self.commit(t, rows, full, &what)?;
                    }
                    (t, Answer::Count(_)) => bail!("malformed answer to {what}: result {t:?} is a count"),
                }
            }
        }
        Ok(())
    }

    /// Cuts the games' id space `0..=max` into slices, one cursor each.
    fn plan_games(&self, count: u64, max: u64) -> Result<()> {
        let mut st = self.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
        st.progress.games_count = Some((count, max));
        let per_request = (self.page_size * self.pages) as u64;
        // Up to 4 slices walked in parallel: at ~3.6 requests/s each may take 1.1 s per request
        // before latency, not the limit, sets the pace. Each slice wastes up to one part-empty
        // request at its end (8 slices cost 3 more requests than 4 on the 333k catalogue).
        let slices = count.div_ceil(per_request * 2).clamp(1, MAX_SLICES);
        let width = (max + 1).div_ceil(slices).max(1);
        for k in 0..slices {
            let lo = k * width;
            let hi = if k + 1 == slices { None } else { Some((k + 1) * width) };
            let c = Cursor {
                table: "games".into(),
                order: k as usize,
                after: lo as i64 - 1,
                hi,
                done: count == 0,
                parts: vec![],
                rows: 0,
            };
            st.progress.cursors.insert(format!("games.{k:02}"), c);
        }
        st.save()?;
        self.bar.inc_length(count.div_ceil(per_request) + slices);
        Ok(())
    }

    fn filter_or_all(&self, table: &str) -> String {
        let f = self.filter_of(table);
        if f.is_empty() { "id > -1".into() } else { f.to_string() }
    }
}

fn client_max_queries() -> usize {
    MAX_MULTI_QUERIES
}

/// Runs a fetch and returns what it did.
pub async fn execute(args: &Config) -> Result<Summary> {
    let started = Instant::now();
    let now = unix_now();
    let tables: Vec<String> = args
        .tables
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty() && t != "games")
        .collect();
    if let Some(bad) = tables.iter().find(|t| !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
        return Err(anyhow!("--tables: {bad:?} is not an endpoint name")).stage(ExitCode::Usage);
    }
    let is_default = args.igdb_url == DEFAULT_IGDB_URL;
    // The embedded sandbox, when the caller started one for us.
    let sandbox = args.sandbox;
    let (igdb_url, auth_url) = (args.igdb_url.trim_end_matches('/').to_string(), args.auth_url.clone());
    let creds = match credentials(args)? {
        Some(c) => c,
        None if sandbox || !is_default => {
            tracing::info!("no IGDB credentials set: using placeholder ones (fine for a sandbox)");
            Credentials { client_id: "playalike-sandbox".into(), client_secret: Secret::new("sandbox") }
        }
        None => {
            return Err(anyhow!(
                "no IGDB credentials: set IGDB_CLIENT_ID and IGDB_CLIENT_SECRET (a Twitch application, \
                 https://api-docs.igdb.com/#account-creation) or --credentials-file FILE; to work \
                 without IGDB, fetch from the embedded sandbox: `playalike fetch --sandbox \
                 ../shared/data/igdb-sample-4k --out {}`",
                args.out.display()
            ))
            .stage(ExitCode::Auth);
        }
    };
    let token_cache = match (&args.token_cache, sandbox) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => dirs::cache_dir().map(|d| d.join("playalike").join("igdb-token.json")),
    };
    // Plain http only to this machine: a usage error, before any request.
    client::require_https(&igdb_url, "the IGDB URL").stage(ExitCode::Usage)?;
    client::require_https(&auth_url, "the token endpoint").stage(ExitCode::Usage)?;
    let client = Igdb::new(
        ClientConfig {
            igdb_url: igdb_url.clone(),
            auth_url,
            rps: args.rate,
            max_open: args.max_open as usize,
            max_retries: args.max_retries,
            timeout: Duration::from_secs(args.timeout.max(1)),
            backoff: Duration::from_millis(args.backoff_ms),
            token_cache,
            max_answer_bytes: client::MAX_ANSWER_BYTES,
        },
        creds,
    )?;

    // Credentials first: a wrong secret must fail before anything is written.
    client.authenticate().await.context("while authenticating with IGDB").stage(ExitCode::Fetch)?;

    // Incremental?
    let state_path = args.state_file.clone().unwrap_or_else(|| args.out.join(store::STATE_FILE));
    let previous = if args.since_last { State::read(&state_path).stage(ExitCode::Fetch)? } else { None };
    let last_full = previous.as_ref().and_then(|s| s.last_full);
    let since = if args.since_last {
        match previous {
            Some(_) if full_fetch_due(args.full_every, last_full, now) => {
                tracing::info!(
                    "--full-every {} days: the last full fetch was {}; fetching everything",
                    args.full_every.unwrap_or(0),
                    last_full.map_or("never recorded".to_string(), |t| format!(
                        "{:.1} days ago",
                        now.saturating_sub(t) as f64 / 86_400.0
                    ))
                );
                None
            }
            Some(s) if crate::snapshot::find_table(&args.out, "games").is_some() => Some(s.last_run),
            _ => {
                tracing::warn!(
                    "--since-last: no previous complete fetch at {} (state {}); fetching everything",
                    args.out.display(),
                    state_path.display()
                );
                None
            }
        }
    } else {
        None
    };
    let mut games_where = args.where_.trim().to_string();
    if !args.include_adult {
        games_where = and(&games_where, "themes != (42)");
    }
    let since_clause = since.map(|t| format!("updated_at > {t}")).unwrap_or_default();
    let games_where = and(&games_where, &since_clause);
    let key = PlanKey {
        igdb_url: igdb_url.clone(),
        fields: args.fields.trim().to_string(),
        games_where: games_where.clone(),
        tables: tables.clone(),
        since,
        page_size: args.page_size as usize,
        pages: args.pages_per_request as usize,
    };
    // One fetch per snapshot at a time: a second one must not take over the staging folder of
    // a running one. Held until this function returns; the OS drops it if the process dies.
    let _lock = store::lock(&args.out).stage(ExitCode::Fetch)?;
    let staging = Staging::open(&args.out, key, now).stage(ExitCode::Fetch)?;
    let resumed_pages = staging.resumed_pages;
    let run_started = staging.progress.started_at;
    let bar = crate::progress::bar(tables.len() as u64, "fetching (requests)");
    let job = Arc::new(Job {
        client,
        staging: Mutex::new(staging),
        fields: args.fields.trim().to_string(),
        games_where,
        table_where: since_clause,
        page_size: args.page_size as usize,
        pages: args.pages_per_request as usize,
        committed: AtomicU64::new(0),
        fail_after: if cfg!(feature = "failpoints") {
            std::env::var(FAILPOINT_ENV).ok().and_then(|v| v.parse().ok())
        } else {
            None
        },
        bar,
    });
    tracing::info!(
        "fetching from {igdb_url}{}: games where `{}`, {} lookup tables",
        since.map(|t| format!(" (changes since {t})")).unwrap_or_default(),
        if job.games_where.is_empty() { "(all)" } else { &job.games_where },
        tables.len()
    );
    job.probe(&tables).await.stage(ExitCode::Fetch)?;
    let cursors: Vec<String> = {
        let st = job.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
        st.progress.cursors.iter().filter(|(_, c)| !c.done).map(|(k, _)| k.clone()).collect()
    };
    let mut set = tokio::task::JoinSet::new();
    for c in cursors {
        set.spawn(job.clone().walk(c));
    }
    let progress_log = {
        let job = job.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                tracing::info!(
                    "{} requests sent, {} page sets stored",
                    job.client.counters.requests.load(Ordering::Relaxed),
                    job.committed.load(Ordering::Relaxed)
                );
            }
        })
    };
    let mut failure = None;
    while let Some(r) = set.join_next().await {
        let r = r.map_err(anyhow::Error::from).and_then(|x| x);
        if let Err(e) = r
            && failure.is_none()
        {
            {
                failure = Some(e);
                set.abort_all();
            }
        }
    }
    progress_log.abort();
    job.bar.finish();
    if let Some(e) = failure {
        return Err(e.context(format!(
            "fetch incomplete: progress kept in {}; run again to resume",
            store::sibling(&args.out, ".fetch-partial").display()
        )))
        .stage(ExitCode::Fetch);
    }
    let games_fetched: u64 = {
        let st = job.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
        st.progress.cursors.values().filter(|c| c.table == "games").map(|c| c.rows).sum()
    };
    let mut state = State {
        version: 1,
        last_run: run_started.saturating_sub(SINCE_MARGIN_SECS),
        finished_at: unix_now(),
        igdb_url: igdb_url.clone(),
        mode: if since.is_some() { "since-last" } else { "full" }.into(),
        last_full: if since.is_some() { last_full } else { Some(run_started) },
        tables: BTreeMap::new(),
    };
    let inside = args.state_file.is_none();
    {
        let st = job.staging.lock().map_err(|_| anyhow!("staging lock poisoned"))?;
        let (out, tables, merge) = (args.out.clone(), tables.clone(), since.is_some());
        tokio::task::block_in_place(|| store::assemble(&st, &out, &tables, merge, &mut state, inside))
            .with_context(|| format!("while writing the snapshot {}", args.out.display()))
            .stage(ExitCode::Fetch)?;
        let _ = std::fs::remove_dir_all(&st.dir);
    }
    if let Some(p) = &args.state_file {
        store::write_state(p, &state).stage(ExitCode::Fetch)?;
    }
    let c = &job.client.counters;
    Ok(Summary {
        out: args.out.clone(),
        mode: state.mode.clone(),
        since,
        games: state.tables.get("games").map_or(0, |t| t.rows),
        games_fetched,
        tables: state
            .tables
            .iter()
            .filter(|(k, _)| *k != "games")
            .map(|(k, v)| (k.clone(), v.rows))
            .collect(),
        requests: c.requests.load(Ordering::Relaxed),
        retries: c.retries.load(Ordering::Relaxed),
        tokens_fetched: c.tokens_fetched.load(Ordering::Relaxed),
        resumed_pages,
        elapsed_secs: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        igdb_url,
        sandbox,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_fetch_is_due_when_the_last_one_is_old_or_unknown() {
        let day = 86_400;
        let now = 100 * day;
        assert!(!full_fetch_due(None, None, now), "without --full-every, never");
        assert!(!full_fetch_due(None, Some(0), now));
        assert!(full_fetch_due(Some(7), None, now), "unknown (an older state file): due");
        assert!(!full_fetch_due(Some(7), Some(now - 6 * day), now));
        assert!(full_fetch_due(Some(7), Some(now - 7 * day), now));
        assert!(full_fetch_due(Some(0), Some(now), now), "0 days: every time");
        assert!(!full_fetch_due(Some(u64::MAX), Some(0), now), "no overflow");
    }

    #[test]
    fn where_clauses_compose() {
        assert_eq!(and("", "themes != (42)"), "themes != (42)");
        assert_eq!(and("a = 1 | b = 2", "c = 3"), "(a = 1 | b = 2) & (c = 3)");
        assert_eq!(and("x = 1", " "), "x = 1");
    }
}
