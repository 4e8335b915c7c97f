//! `playalike fetch`: the flags, resolved into the fetch's configuration
//! ([`playalike_igdb::fetch::Config`]); with `--sandbox DIR` the CLI starts the embedded sandbox
//! and points the fetch at it.

use crate::exit::{ExitCode, Stage};
use anyhow::{Context, Result};
pub use playalike_igdb::fetch::Summary;
use playalike_igdb::fetch::{DEFAULT_AUTH_URL, DEFAULT_IGDB_URL, DEFAULT_TABLES};
use std::path::PathBuf;

/// Flags of `playalike fetch`.
///
/// Credentials: IGDB_CLIENT_ID and IGDB_CLIENT_SECRET in the environment, or
/// --credentials-file (JSON or KEY=VALUE). Without credentials, use --sandbox DIR to fetch from a
/// local IGDB sandbox serving a snapshot directory.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Snapshot directory to write (replaced atomically when the fetch is complete).
    #[arg(long, env = "PLAYALIKE_SNAPSHOT", default_value = "snapshot")]
    pub out: PathBuf,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Fetch from an embedded IGDB sandbox serving this snapshot directory (no credentials or
    /// network needed), through the same HTTP client and limits.
    #[arg(long, env = "PLAYALIKE_FETCH_SANDBOX", conflicts_with_all = ["igdb_url", "auth_url"])]
    pub sandbox: Option<PathBuf>,
    /// Fetch only rows with updated_at after the last complete run, and merge them into the
    /// existing snapshot (a full fetch when there is no previous run).
    #[arg(long, env = "PLAYALIKE_SINCE_LAST")]
    pub since_last: bool,
    /// With --since-last: fetch everything instead when the last full fetch is older than this
    /// many days (or unknown). Games IGDB deletes or merges only leave the snapshot on a full
    /// fetch; at IGDB's rate limits a full fetch of ~330k games takes under a minute.
    #[arg(long, env = "PLAYALIKE_FULL_EVERY", value_name = "DAYS", requires = "since_last")]
    pub full_every: Option<u64>,
    #[command(flatten)]
    pub settings: Settings,
    /// Print one JSON summary line on stdout.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

/// Where IGDB and its token endpoint are, and the credentials: flags of `fetch`, read by `run`
/// from their environment variables.
#[derive(Debug, Clone, clap::Args)]
pub struct Endpoint {
    /// IGDB API base URL.
    #[arg(long, env = "PLAYALIKE_IGDB_URL", default_value = DEFAULT_IGDB_URL)]
    pub igdb_url: String,
    /// Twitch OAuth token endpoint.
    #[arg(long, env = "PLAYALIKE_AUTH_URL", default_value = DEFAULT_AUTH_URL)]
    pub auth_url: String,
    /// Twitch client id (the secret comes from IGDB_CLIENT_SECRET or --credentials-file).
    #[arg(long, env = "IGDB_CLIENT_ID")]
    pub client_id: Option<String>,
    /// File with client_id and client_secret (JSON, or KEY=VALUE lines); wins over the env.
    #[arg(long, env = "PLAYALIKE_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,
}

/// What to fetch and how fast: flags of `fetch`, read by `run` from their environment variables.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Game fields to fetch (Apicalypse list, `*` for all).
    #[arg(long, env = "PLAYALIKE_FETCH_FIELDS", default_value = "*")]
    pub fields: String,
    /// Filter on games (Apicalypse `where`; empty for none). The default skips editions.
    #[arg(long = "where", env = "PLAYALIKE_FETCH_WHERE", default_value = "version_parent = null")]
    pub where_: String,
    /// Keep games with the adult theme (42); by default they are filtered out.
    #[arg(long, env = "PLAYALIKE_INCLUDE_ADULT")]
    pub include_adult: bool,
    /// Lookup tables to fetch whole (comma-separated endpoints; empty for none).
    #[arg(long, env = "PLAYALIKE_FETCH_TABLES", default_value = DEFAULT_TABLES)]
    pub tables: String,
    /// State file (last run, rows per table). Default: fetch-state.json inside the snapshot.
    #[arg(long, env = "PLAYALIKE_STATE_FILE")]
    pub state_file: Option<PathBuf>,
    /// Token cache file (0600). Default: playalike/igdb-token.json in the user cache dir; not
    /// used with --sandbox unless given.
    #[arg(long, env = "PLAYALIKE_TOKEN_CACHE")]
    pub token_cache: Option<PathBuf>,
    /// Requests per second, 1..=4 (IGDB's limit is 4).
    #[arg(long, env = "PLAYALIKE_FETCH_RATE", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=4))]
    pub rate: u32,
    /// Requests open at once, 1..=8 (IGDB's limit is 8).
    #[arg(long, env = "PLAYALIKE_FETCH_MAX_OPEN", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=8))]
    pub max_open: u32,
    /// Rows per page, 1..=500 (IGDB's maximum is 500).
    #[arg(long, env = "PLAYALIKE_FETCH_PAGE_SIZE", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=500))]
    pub page_size: u32,
    /// Pages per multiquery request, 1..=10 (IGDB's maximum is 10).
    #[arg(long, env = "PLAYALIKE_FETCH_PAGES", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub pages_per_request: u32,
    /// Retries of one request (429, 5xx, timeouts, cut connections, answers that are not JSON), 0..=20.
    #[arg(long, env = "PLAYALIKE_FETCH_RETRIES", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(0..=20))]
    pub max_retries: u32,
    /// First retry delay in milliseconds (doubles per retry, capped at 10 s, with jitter).
    #[arg(long, env = "PLAYALIKE_FETCH_BACKOFF_MS", default_value_t = 500)]
    pub backoff_ms: u64,
    /// Timeout of one request, seconds.
    #[arg(long, env = "PLAYALIKE_FETCH_TIMEOUT", default_value_t = 60)]
    pub timeout: u64,
}

impl Args {
    /// The fetch's configuration these flags describe (the URLs are the sandbox's, when the
    /// caller started one: see [`execute`]).
    pub fn config(&self) -> playalike_igdb::fetch::Config {
        let (e, s) = (&self.endpoint, &self.settings);
        playalike_igdb::fetch::Config {
            out: self.out.clone(),
            igdb_url: e.igdb_url.clone(),
            auth_url: e.auth_url.clone(),
            client_id: e.client_id.clone(),
            credentials_file: e.credentials_file.clone(),
            sandbox: self.sandbox.is_some(),
            since_last: self.since_last,
            full_every: self.full_every,
            fields: s.fields.clone(),
            where_: s.where_.clone(),
            include_adult: s.include_adult,
            tables: s.tables.clone(),
            state_file: s.state_file.clone(),
            token_cache: s.token_cache.clone(),
            rate: s.rate,
            max_open: s.max_open,
            page_size: s.page_size,
            pages_per_request: s.pages_per_request,
            max_retries: s.max_retries,
            backoff_ms: s.backoff_ms,
            timeout: s.timeout,
            json: self.json,
        }
    }
}

/// Runs a fetch and returns what it did: starts the embedded sandbox first when `--sandbox` asks
/// for it, and stops it after.
pub async fn execute(args: &Args) -> Result<Summary> {
    let mut config = args.config();
    let sandbox = match &args.sandbox {
        Some(dir) => Some(
            playalike_sandbox::spawn(playalike_sandbox::SandboxConfig::new(dir))
                .await
                .context("while starting the embedded IGDB sandbox")
                .stage(ExitCode::Fetch)?,
        ),
        None => None,
    };
    if let Some(h) = &sandbox {
        (config.igdb_url, config.auth_url) = (h.url(), h.auth_url());
    }
    let done = playalike_igdb::fetch::execute(&config).await;
    drop(sandbox);
    done
}

/// Runs `playalike fetch` and prints its summary.
pub async fn run(args: Args) -> Result<()> {
    let s = execute(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!(
            "fetched {} games ({} this run, {}) and {} lookup tables into {} with {} requests ({} retries) in {:.1} s",
            s.games,
            s.games_fetched,
            s.mode,
            s.tables.len(),
            s.out.display(),
            s.requests,
            s.retries,
            s.elapsed_secs
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_out_matches_the_cli_defaults() {
        use clap::Parser;
        use playalike_igdb::fetch::Config;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let cli = Cli::try_parse_from(["x", "--out", "snap"]).unwrap();
        let mine = Config::with_out("snap");
        assert_eq!(
            format!("{:?}", Config { client_id: None, ..cli.args.config() }),
            format!("{:?}", Config { client_id: None, ..mine })
        );
    }
}
