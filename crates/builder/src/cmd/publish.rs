//! `playalike publish`, `rollback` and `status`: the flags, resolved into the bucket crate's
//! configurations ([`playalike_bucket::publish`]), and what they print.

use crate::exit::{ExitCode, StageError};
use playalike_bucket::publish as lib;
use playalike_bucket::publish::{StatusSummary, ago, history};
pub use playalike_bucket::publish::{Summary, live_blob, runs};
use std::path::PathBuf;

/// Where the bucket is; shared by publish, rollback, status and run.
#[derive(Debug, Clone, clap::Args)]
pub struct BucketArgs {
    /// The bucket: `gs://BUCKET[/PREFIX]` (Cloud Storage) or `file://DIR` (a local folder).
    #[arg(long, env = "PLAYALIKE_BUCKET", default_value = "file://bucket")]
    pub bucket: String,
    /// Cloud Storage API endpoint, for emulators (no credentials are sent then). Also read from
    /// `STORAGE_EMULATOR_HOST`. Default: https://storage.googleapis.com with Application Default
    /// Credentials.
    #[arg(long, env = "PLAYALIKE_GCS_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Public base URL of the bucket root, for the absolute URL in latest.json (default for
    /// gs://: https://storage.googleapis.com/BUCKET; none for file://).
    #[arg(long, env = "PLAYALIKE_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl BucketArgs {
    /// The bucket's address these flags describe.
    pub fn config(&self) -> lib::BucketConfig {
        lib::BucketConfig {
            bucket: self.bucket.clone(),
            endpoint: self.endpoint.clone(),
            public_url: self.public_url.clone(),
        }
    }

    /// The bucket `--bucket` names.
    pub fn target(&self) -> anyhow::Result<lib::bucket::Target> {
        self.config().target()
    }
}

/// How a version is stored and how many are kept: flags of `publish` and `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Keep the newest K versions (and always the live one); delete older ones after the pointer
    /// moved. Default: keep everything. Range 1..
    #[arg(long, env = "PLAYALIKE_KEEP", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
    /// Store the blob gzip-encoded on gs:// (browsers decode it transparently). On by default;
    /// file:// always stores it plain.
    #[arg(long, env = "PLAYALIKE_GZIP", default_value_t = true, action = clap::ArgAction::Set)]
    pub gzip: bool,
}

/// Flags of `playalike publish`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The model blob to publish (written by `playalike train`).
    #[arg(long, env = "PLAYALIKE_MODEL", default_value = "model.bin")]
    pub model: PathBuf,
    #[command(flatten)]
    pub target: BucketArgs,
    #[command(flatten)]
    pub options: Options,
    /// Show what would be written, write nothing.
    #[arg(long, env = "PLAYALIKE_DRY_RUN")]
    pub dry_run: bool,
    /// Print one JSON line instead of text.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

impl Args {
    /// The publish configuration these flags describe.
    pub fn config(&self) -> lib::Config {
        lib::Config {
            model: self.model.clone(),
            target: self.target.config(),
            keep: self.options.keep,
            gzip: self.options.gzip,
            dry_run: self.dry_run,
            json: self.json,
        }
    }
}

/// Publishes as the flags describe.
pub async fn execute(args: &Args) -> anyhow::Result<Summary> {
    lib::execute(&args.config()).await
}

/// Runs `playalike publish`.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let s = execute(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    let verb = if s.dry_run { "would publish" } else { "published" };
    println!(
        "{verb} v{} to {} ({} games, {} bytes, sha256 {})",
        s.version, s.bucket, s.games, s.size, s.checksum
    );
    for w in &s.writes {
        let cond = if w.if_generation_match == 0 {
            "create only".to_string()
        } else {
            format!("if generation {}", w.if_generation_match)
        };
        println!(
            "  {} {} ({} bytes, {cond}, {})",
            if s.dry_run { "would write" } else { "wrote" },
            w.name,
            w.bytes,
            w.cache_control
        );
    }
    match s.previous {
        Some(p) => println!("latest.json: v{p} → v{}", s.version),
        None => println!("latest.json: (none) → v{}", s.version),
    }
    if !s.deleted.is_empty() {
        let list: Vec<String> = s.deleted.iter().map(|v| format!("v{v}")).collect();
        println!("retention deleted {}", list.join(", "));
    }
    if let Some(url) = &s.url {
        println!("blob: {url}");
    }
    Ok(())
}

/// Flags of `playalike rollback`.
#[derive(Debug, Clone, clap::Args)]
// `--version` is the flag name; it replaces clap's own version flag on this subcommand.
#[command(disable_version_flag = true)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["version", "previous"])))]
pub struct RollbackArgs {
    #[command(flatten)]
    pub target: BucketArgs,
    /// The version to make live (`v3` or `3`).
    #[arg(long, env = "PLAYALIKE_ROLLBACK_VERSION")]
    pub version: Option<String>,
    /// Make the newest complete version older than the live one live.
    #[arg(long, env = "PLAYALIKE_ROLLBACK_PREVIOUS")]
    pub previous: bool,
    /// Print one JSON line instead of text.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

impl RollbackArgs {
    /// The rollback configuration these flags describe.
    pub fn config(&self) -> lib::RollbackConfig {
        lib::RollbackConfig {
            target: self.target.config(),
            version: self.version.clone(),
            previous: self.previous,
            json: self.json,
        }
    }
}

/// Runs `playalike rollback`.
pub async fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let s = lib::execute_rollback(&args.config()).await?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!("rolled {} back: latest.json v{} → v{} (sha256 {})", s.bucket, s.from, s.to, s.checksum);
    }
    Ok(())
}

/// Flags of `playalike status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: BucketArgs,
    /// Exit 15 when the live version was published more than HOURS ago (or nothing is live):
    /// the check for an uptime monitor or a CI step after the nightly run. Positive; fractions
    /// allowed.
    #[arg(long, env = "PLAYALIKE_MAX_AGE", value_name = "HOURS", value_parser = parse_max_age)]
    pub max_age: Option<f64>,
    /// Exit 15 when the live model's recall@10 is below R, or it carries no recall@10 (or nothing
    /// is live). Range 0..=1.
    #[arg(long, env = "PLAYALIKE_MIN_RECALL", value_name = "R", value_parser = parse_min_recall)]
    pub min_recall: Option<f64>,
    /// Exit 15 when more than N of the newest runs recorded in runs.json failed in a row (or
    /// runs.json cannot be read): the nightly job keeps failing while the last good model stays
    /// live. 0 = the newest run must not have failed.
    #[arg(long, env = "PLAYALIKE_MAX_FAILED_RUNS", value_name = "N", value_parser = parse_max_failed_runs)]
    pub max_failed_runs: Option<u32>,
    /// Print one JSON line instead of text.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

fn parse_max_age(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(h) if h.is_finite() && h > 0.0 => Ok(h),
        _ => Err(format!("{s:?} is not a positive number of hours")),
    }
}

fn parse_min_recall(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{s:?} is not a recall between 0 and 1")),
    }
}

fn parse_max_failed_runs(s: &str) -> Result<u32, String> {
    s.trim().parse::<u32>().map_err(|_| format!("{s:?} is not a number of runs (0 or more)"))
}

impl StatusArgs {
    /// The status configuration these flags describe.
    pub fn config(&self) -> lib::StatusConfig {
        lib::StatusConfig {
            target: self.target.config(),
            max_age: self.max_age,
            min_recall: self.min_recall,
            max_failed_runs: self.max_failed_runs,
            json: self.json,
        }
    }
}

/// Runs `playalike status`; exits 15 when a `--max-age` / `--min-recall` / `--max-failed-runs`
/// check fails (after printing the status, so the log shows why).
pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let s = lib::execute_status(&args.config()).await?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        print_status(&s);
    }
    let failed: Vec<&str> = s.checks.iter().filter(|c| !c.ok).map(|c| c.detail.as_str()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(anyhow::Error::new(StageError {
        code: ExitCode::Unhealthy,
        source: anyhow::anyhow!("{}: unhealthy: {}", s.bucket, failed.join("; ")),
    }))
}

fn print_status(s: &StatusSummary) {
    let Some(l) = &s.latest else {
        println!("{}: nothing published yet (no latest.json)", s.bucket);
        for c in &s.checks {
            println!("  check {}: FAILED ({})", c.check, c.detail);
        }
        print!("{}", history::runs_text(&s.runs, s.failed_runs_in_a_row, s.runs_error.as_deref()));
        return;
    };
    println!("{}: live v{} ({} games, {} bytes)", s.bucket, l.version, l.games, l.size);
    println!("  published    {}  ({})", l.published_at, ago(s.age_seconds));
    if l.updated_at != l.published_at {
        println!("  live since   {}  (pointer moved: publish or rollback)", l.updated_at);
    }
    println!(
        "  data as of   {}  ({}; the model's createdAt, by default its data's newest record)",
        l.created_at,
        ago(s.data_age_seconds)
    );
    println!("  blob {} sha256 {}", l.absolute_url.as_deref().unwrap_or(&l.url), l.checksum);
    for (k, v) in &l.metrics {
        println!("  {k} = {v:.4}");
    }
    for c in &s.checks {
        println!("  check {}: {} ({})", c.check, if c.ok { "ok" } else { "FAILED" }, c.detail);
    }
    println!("history:");
    for v in &s.versions {
        let mark = if v.live { "*" } else { " " };
        let gone = if v.available { "" } else { " (deleted)" };
        let metrics: Vec<String> = v.entry.metrics.iter().map(|(k, x)| format!("{k}={x:.3}")).collect();
        println!(
            " {mark} v{:<4} published {}  data as of {}  {} games  {}{gone}",
            v.entry.version,
            v.entry.published_at,
            v.entry.created_at,
            v.entry.games,
            metrics.join(" ")
        );
    }
    print!("{}", history::quality_text(&s.quality));
    print!("{}", history::runs_text(&s.runs, s.failed_runs_in_a_row, s.runs_error.as_deref()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_flags_reject_nonsense() {
        assert_eq!(parse_max_age("26"), Ok(26.0));
        assert_eq!(parse_max_age("0.5"), Ok(0.5));
        for bad in ["0", "-1", "NaN", "inf", "soon"] {
            assert!(parse_max_age(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_min_recall("0.3"), Ok(0.3));
        for bad in ["1.5", "-0.1", "NaN", "high"] {
            assert!(parse_min_recall(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_max_failed_runs("0"), Ok(0));
        assert_eq!(parse_max_failed_runs(" 3 "), Ok(3));
        for bad in ["-1", "1.5", "", "many"] {
            assert!(parse_max_failed_runs(bad).is_err(), "{bad}");
        }
    }
}
