//! `playalike sandbox`: serve a snapshot directory as a local IGDB (the server itself is the
//! `playalike-sandbox` crate).

use crate::exit::{ExitCode, Stage};
use anyhow::Result;
use playalike_sandbox::{Faults, SECRET_ENV, SandboxConfig, spawn};
use std::net::IpAddr;
use std::path::PathBuf;

/// Flags of `playalike sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Snapshot directory to serve (games.json[l][.gz] + NAME.json[.gz] lookup tables), e.g.
    /// ../shared/data/igdb-sample-4k.
    #[arg(long, env = "PLAYALIKE_SANDBOX_DATA")]
    pub data: PathBuf,
    /// Port to listen on; 0 picks a free one. The first stdout line is JSON with the URLs.
    #[arg(long, env = "PLAYALIKE_SANDBOX_PORT", default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, env = "PLAYALIKE_SANDBOX_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Accept only this client id at the token endpoint (the secret, if required, comes from
    /// the environment variable PLAYALIKE_SANDBOX_CLIENT_SECRET). Default: any id and secret.
    #[arg(long, env = "PLAYALIKE_SANDBOX_CLIENT_ID")]
    pub require_client_id: Option<String>,
    /// Lifetime of issued tokens, seconds (IGDB: about 60 days).
    #[arg(long, env = "PLAYALIKE_SANDBOX_TOKEN_TTL", default_value_t = 5_587_808)]
    pub token_ttl: u64,
    /// Requests per second allowed before answering 429 (IGDB: 4).
    #[arg(long, env = "PLAYALIKE_SANDBOX_RPS", default_value_t = 4)]
    pub rps: u32,
    /// Open requests allowed before answering 429 (IGDB: 8).
    #[arg(long, env = "PLAYALIKE_SANDBOX_MAX_OPEN", default_value_t = 8)]
    pub max_open: u32,
    /// Do not enforce the limits (still counted in the stats).
    #[arg(long, env = "PLAYALIKE_SANDBOX_NO_LIMITS")]
    pub no_limits: bool,
    /// Share of API requests answered 429 on purpose, 0..=1.
    #[arg(long, env = "PLAYALIKE_SANDBOX_FAULT_429", default_value_t = 0.0)]
    pub fault_429: f64,
    /// Share of API requests answered 500, 0..=1.
    #[arg(long, env = "PLAYALIKE_SANDBOX_FAULT_500", default_value_t = 0.0)]
    pub fault_500: f64,
    /// Share of API requests whose connection is dropped without an answer, 0..=1.
    #[arg(long, env = "PLAYALIKE_SANDBOX_FAULT_DROP", default_value_t = 0.0)]
    pub fault_drop: f64,
    /// Share of API answers cut short (connection closed mid-body), 0..=1.
    #[arg(long, env = "PLAYALIKE_SANDBOX_FAULT_TRUNCATE", default_value_t = 0.0)]
    pub fault_truncate: f64,
    /// Share of API answers that are 200 with a malformed JSON body, 0..=1.
    #[arg(long, env = "PLAYALIKE_SANDBOX_FAULT_MALFORMED", default_value_t = 0.0)]
    pub fault_malformed: f64,
    /// Share of API answers delayed by --slow-ms, 0..=1.
    #[arg(long, env = "PLAYALIKE_SANDBOX_FAULT_SLOW", default_value_t = 0.0)]
    pub fault_slow: f64,
    /// Delay of slow answers, milliseconds.
    #[arg(long, env = "PLAYALIKE_SANDBOX_SLOW_MS", default_value_t = 2000)]
    pub slow_ms: u64,
    /// Each token expires (401) after this many API requests.
    #[arg(long, env = "PLAYALIKE_SANDBOX_TOKEN_EXPIRE_AFTER")]
    pub token_expire_after: Option<u64>,
    /// Seed of the fault draws (same seed, same request order: same faults).
    #[arg(long, env = "PLAYALIKE_SANDBOX_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Enable `POST /_sandbox/touch` (sets fields and bumps `updated_at` on rows; for tests).
    #[arg(long, env = "PLAYALIKE_SANDBOX_ALLOW_TOUCH")]
    pub allow_touch: bool,
    /// Print JSON on stdout: the startup line (URLs, games) always is JSON (the flag is taken,
    /// like every command's, so one convention works everywhere).
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

impl Args {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Result<SandboxConfig> {
        for (name, r) in [
            ("--fault-429", self.fault_429),
            ("--fault-500", self.fault_500),
            ("--fault-drop", self.fault_drop),
            ("--fault-truncate", self.fault_truncate),
            ("--fault-malformed", self.fault_malformed),
            ("--fault-slow", self.fault_slow),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Err(anyhow::anyhow!("{name} must be between 0 and 1, got {r}"))
                    .stage(ExitCode::Usage);
            }
        }
        Ok(SandboxConfig {
            data: self.data.clone(),
            host: self.host,
            port: self.port,
            require_client_id: self.require_client_id.clone(),
            require_client_secret: std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()),
            token_ttl_secs: self.token_ttl,
            enforce_limits: !self.no_limits,
            rps: self.rps.max(1),
            max_open: self.max_open.max(1),
            faults: Faults {
                rate_429: self.fault_429,
                rate_500: self.fault_500,
                rate_drop: self.fault_drop,
                rate_truncate: self.fault_truncate,
                rate_malformed: self.fault_malformed,
                rate_slow: self.fault_slow,
                slow_ms: self.slow_ms,
                token_expire_after: self.token_expire_after,
                seed: self.seed,
            },
            allow_touch: self.allow_touch,
            ..SandboxConfig::new(&self.data)
        })
    }
}

/// Runs `playalike sandbox` until Ctrl-C or SIGTERM.
pub async fn run(args: Args) -> Result<()> {
    let handle = spawn(args.config()?).await?;
    let line = serde_json::json!({
        "url": handle.url(),
        "authUrl": handle.auth_url(),
        "statsUrl": format!("{}/_sandbox/stats", handle.base()),
        "games": handle.games(),
    });
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    tracing::info!("IGDB sandbox serving {} at {}", args.data.display(), handle.url());
    wait_for_signal().await;
    let s = handle.stats();
    tracing::info!(
        "sandbox stopping: {} API requests, max {} in one second, max {} open",
        s.requests,
        s.max_per_second,
        s.max_open
    );
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
