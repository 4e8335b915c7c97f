//! `playalike run`: the scheduled job. fetch (incremental when a snapshot exists) → train →
//! validate against the live model → publish, then one JSON summary line on stdout.
//!
//! Each stage tags its failure with its exit code (10 fetch, 11 train, 12 validate, 13 publish,
//! 14 auth); a failed stage stops the job before anything is published, so the live model stays.
//! The summary line is printed on failure too (with `status: "failed"`, the stage and the error),
//! so a scheduler's log always ends with one machine-readable line.

use crate::exit::{ExitCode, Stage, code_of};
use crate::publish::{self, BucketArgs};
use anyhow::Context;
use playalike_bucket::gate::{self, Baseline};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Flags of `playalike run`. The stages' own flags are read from their environment variables
/// (`PLAYALIKE_FETCH_*`, `PLAYALIKE_SEED`, `PLAYALIKE_HOLDOUT`, …, `IGDB_CLIENT_ID`/`_SECRET`).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: BucketArgs,
    /// The snapshot directory: fetched into (incrementally when it already holds one), then
    /// trained from. Keep it between runs.
    #[arg(long, env = "PLAYALIKE_SNAPSHOT", default_value = "snapshot")]
    pub snapshot: PathBuf,
    /// Scratch directory for the new model, its metrics and report.
    #[arg(long, env = "PLAYALIKE_WORK", default_value = "work")]
    pub work: PathBuf,
    /// Fetch from an embedded IGDB sandbox serving this snapshot directory instead of IGDB (no
    /// credentials needed; the demo and tests).
    #[arg(long, env = "PLAYALIKE_FETCH_SANDBOX")]
    pub sandbox: Option<PathBuf>,
    /// Skip the fetch and train from the snapshot as it is.
    #[arg(long, env = "PLAYALIKE_SKIP_FETCH")]
    pub skip_fetch: bool,
    /// Fetch everything, not just what changed, when the last full fetch is older than this many
    /// days: games IGDB deleted or merged only leave the snapshot on a full fetch.
    #[arg(long, env = "PLAYALIKE_FULL_EVERY", value_name = "DAYS", default_value_t = 7)]
    pub full_every: u64,
    /// Gate: fewest games the model must hold (`validate` defaults to 1000).
    #[arg(long, env = "PLAYALIKE_MIN_GAMES", default_value_t = 1)]
    pub min_games: usize,
    #[command(flatten)]
    pub gate: crate::validate::GateArgs,
    #[command(flatten)]
    pub publish: publish::Options,
    /// Run every stage but publish nothing; the summary shows what would be published.
    #[arg(long, env = "PLAYALIKE_DRY_RUN")]
    pub dry_run: bool,
    /// Print JSON on stdout: the summary line always is JSON (the flag is taken, like every
    /// command's, so one convention works everywhere).
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

/// Seconds per stage.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Durations {
    /// Fetch.
    pub fetch: f64,
    /// Train.
    pub train: f64,
    /// Validate.
    pub validate: f64,
    /// Publish.
    pub publish: f64,
    /// Whole run.
    pub total: f64,
}

/// The job's summary: the one JSON line at the end.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `published`, `unchanged`, `dry-run` or `failed`.
    pub status: String,
    /// The stage that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_stage: Option<String>,
    /// The error, when failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Exit code.
    pub exit_code: i32,
    /// The bucket.
    pub bucket: String,
    /// The version live before the run.
    pub previous_version: Option<u32>,
    /// The version published (or that would be, with --dry-run).
    pub version: Option<u32>,
    /// Fetch: mode, games, games fetched, requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch: Option<serde_json::Value>,
    /// Train: blob bytes and metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train: Option<serde_json::Value>,
    /// Validate: the comparison with the live model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validate: Option<gate::Report>,
    /// Publish: what was written and deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish: Option<publish::Summary>,
    /// Seconds per stage.
    pub durations: Durations,
    /// Why this run could not be recorded in the bucket's runs.json (the exit code is the run's
    /// own regardless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_error: Option<String>,
}

/// A group of a stage's flags as that stage's own subcommand resolves them when none is given:
/// from their environment variables, else their defaults, through the same definitions (value
/// parsers, ranges). No argument list is involved: `run`'s own flags set the rest of the stage's
/// configuration as typed values (docs/decisions/407-run-job-gate.md).
fn from_env<T: clap::Args + clap::FromArgMatches>(stage: &'static str, code: ExitCode) -> anyhow::Result<T> {
    let command = T::augment_args(clap::Command::new(stage).no_binary_name(true));
    command
        .try_get_matches_from(std::iter::empty::<std::ffi::OsString>())
        .and_then(|m| T::from_arg_matches(&m))
        .with_context(|| format!("while reading the {stage} settings from the environment"))
        .stage(code)
}

/// The fetch and train configurations of one run, resolved once before any stage starts.
struct Plan {
    /// None with `--skip-fetch`.
    fetch: Option<crate::fetch::Args>,
    train: crate::train::Args,
}

impl Plan {
    /// Resolves the stages' settings; a bad one fails its own stage (summary and exit code)
    /// before anything runs.
    fn new(args: &Args, summary: &mut Summary) -> anyhow::Result<Plan> {
        summary.failed_stage = Some("fetch".into());
        let fetch = if args.skip_fetch {
            None
        } else {
            // Incremental when the snapshot already holds games.
            let incremental = playalike_igdb::snapshot::find_table(&args.snapshot, "games").is_some();
            Some(crate::fetch::Args {
                out: args.snapshot.clone(),
                endpoint: from_env("fetch", ExitCode::Fetch)?,
                sandbox: args.sandbox.clone(),
                since_last: incremental,
                full_every: incremental.then_some(args.full_every),
                settings: from_env("fetch", ExitCode::Fetch)?,
                json: false,
            })
        };
        summary.failed_stage = Some("train".into());
        let train = crate::train::Args {
            snapshot: args.snapshot.clone(),
            out: args.work.join("model.bin"),
            settings: from_env("train", ExitCode::Train)?,
            json: false,
        };
        Ok(Plan { fetch, train })
    }
}

/// Runs the stages, filling `summary` as it goes (so a failure still reports what happened).
async fn execute_into(args: &Args, summary: &mut Summary) -> anyhow::Result<()> {
    let total = Instant::now();
    let target = args.target.target()?;
    summary.bucket = target.to_string();
    let result = stages(args, summary).await;
    summary.durations.total = total.elapsed().as_secs_f64();
    result
}

async fn stages(args: &Args, summary: &mut Summary) -> anyhow::Result<()> {
    let plan = Plan::new(args, summary)?;

    // 1. fetch
    summary.failed_stage = Some("fetch".into());
    let t = Instant::now();
    if let Some(fetch) = &plan.fetch {
        let done = crate::fetch::execute(fetch).await.stage(ExitCode::Fetch)?;
        tracing::info!(
            "stage fetch: {}, {} games ({} this run) in {} requests",
            done.mode,
            done.games,
            done.games_fetched,
            done.requests
        );
        summary.fetch = Some(serde_json::to_value(&done).context("while summarizing the fetch")?);
    } else {
        summary.fetch = Some(serde_json::json!({ "skipped": true }));
        tracing::info!("stage fetch: skipped");
    }
    summary.durations.fetch = t.elapsed().as_secs_f64();

    // 2. train
    summary.failed_stage = Some("train".into());
    let t = Instant::now();
    std::fs::create_dir_all(&args.work)
        .with_context(|| format!("while creating the work directory {}", args.work.display()))
        .stage(ExitCode::Train)?;
    let model_path = plan.train.out.clone();
    let trained = crate::train::execute(&plan.train).await.stage(ExitCode::Train)?;
    tracing::info!(
        "stage train: {} ({} bytes) in {:.1} s",
        trained.out.display(),
        trained.bytes,
        trained.seconds
    );
    summary.train = Some(serde_json::to_value(&trained).context("while summarizing the training")?);
    summary.durations.train = t.elapsed().as_secs_f64();

    // 3. validate against the live model
    summary.failed_stage = Some("validate".into());
    let t = Instant::now();
    let new_bytes = std::fs::read(&model_path)
        .with_context(|| format!("while reading the new model {}", model_path.display()))
        .stage(ExitCode::Validate)?;
    // Reading the live model is a bucket operation: a failure there is the bucket's (13), not
    // the gate refusing the model (12).
    summary.failed_stage = Some("publish".into());
    let live = publish::live_blob(&args.target.config(), ExitCode::Publish).await?;
    summary.failed_stage = Some("validate".into());
    summary.previous_version = live.as_ref().map(|l| l.version);
    let baseline = match live {
        Some(l) => Baseline::Live(l),
        None => Baseline::None { why: format!("nothing is published yet in {}", summary.bucket) },
    };
    let name = model_path.display().to_string();
    let report = gate::check(&name, Ok(&new_bytes), &baseline, &args.gate.config(args.min_games));
    summary.durations.validate = t.elapsed().as_secs_f64();
    tracing::info!("stage validate: {}", report.line());
    let verdict = report.enforce(&name);
    let unchanged = report.unchanged;
    summary.validate = Some(report);
    verdict?;
    if unchanged {
        summary.failed_stage = None;
        summary.status = "unchanged".into();
        summary.version = summary.previous_version;
        tracing::info!(
            "stage publish: skipped, the model is unchanged ({} stays live)",
            fmt_version(summary.version)
        );
        return Ok(());
    }

    // 4. publish
    summary.failed_stage = Some("publish".into());
    let t = Instant::now();
    let publish_args = publish::Args {
        model: model_path,
        target: args.target.clone(),
        options: args.publish.clone(),
        dry_run: args.dry_run,
        json: false,
    };
    let published = publish::execute(&publish_args).await.stage(ExitCode::Publish);
    summary.durations.publish = t.elapsed().as_secs_f64();
    let published = published?;
    let verb = if args.dry_run { "would publish" } else { "published" };
    tracing::info!(
        "stage publish: {verb} v{} (live before: {})",
        published.version,
        fmt_version(published.previous)
    );
    summary.version = Some(published.version);
    summary.status = if args.dry_run { "dry-run" } else { "published" }.into();
    summary.publish = Some(published);
    summary.failed_stage = None;
    Ok(())
}

/// A version for a log line.
fn fmt_version(v: Option<u32>) -> String {
    v.map_or_else(|| "none".into(), |v| format!("v{v}"))
}

/// Runs the job and returns its summary (an error names the failed stage by its exit code).
/// `run` itself uses [`execute_into`] so that it can report a failed run's partial summary.
#[allow(dead_code)] // the subcommand convention's entry point, for callers other than `run`
pub async fn execute(args: &Args) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    execute_into(args, &mut summary).await?;
    Ok(summary)
}

/// Resolves when the process is asked to stop: SIGTERM (what schedulers send before they kill a
/// job) or SIGINT (Ctrl-C), with the signal's name. Never resolves where no handler can be set.
async fn stop_requested() -> &'static str {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        "SIGINT"
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                name = interrupt => name,
            };
        }
    }
    interrupt.await
}

/// Runs `playalike run`: the job, then one JSON summary line on stdout (also on failure).
pub async fn run(args: Args) -> anyhow::Result<()> {
    let started = chrono::Utc::now();
    let mut summary = Summary::default();
    // A job stopped from outside (a scheduler's timeout sends SIGTERM before it kills) ends like a
    // failed stage: the stage in progress is dropped at its next await, which publishing survives
    // as it survives a crash there (decision 408), and the attempt is still recorded below.
    let stopped = tokio::select! {
        r = execute_into(&args, &mut summary) => Ok(r),
        signal = stop_requested() => Err(signal),
    };
    let result = stopped.unwrap_or_else(|signal| {
        let stage = summary.failed_stage.clone().unwrap_or_else(|| "setup".into());
        tracing::warn!("stopped by {signal} during the {stage} stage; recording the attempt");
        Err(anyhow::anyhow!("stopped by {signal} during the {stage} stage"))
    });
    if let Err(e) = &result {
        summary.status = "failed".into();
        summary.error = Some(format!("{e:#}"));
        summary.exit_code = code_of(e) as i32;
    } else {
        summary.failed_stage = None;
    }
    // Every attempt goes into the bucket's runs.json and history.html, success or failure. A
    // record that cannot be written is a warning and `recordError`, never a change of the exit
    // code (docs/decisions/742-run-records-and-history-page.md). A dry run writes nothing.
    if !args.dry_run && !summary.bucket.is_empty() {
        let json = serde_json::to_value(&summary).unwrap_or_default();
        if let Err(e) = crate::publish::runs::record(&args.target.config(), &json, started).await {
            tracing::warn!("this run was not recorded in the bucket's runs.json: {e:#}");
            summary.record_error = Some(format!("{e:#}"));
        }
    }
    println!("{}", serde_json::to_string(&summary)?);
    result
}
