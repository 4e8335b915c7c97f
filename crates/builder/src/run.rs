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
use clap::Parser;
use playalike_engine::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// Gate: refuse a model with fewer games than this share of the live one's, 0..=1.
    #[arg(long, env = "PLAYALIKE_MIN_GAMES_RATIO", default_value_t = 0.9)]
    pub min_games_ratio: f64,
    /// Gate: refuse a model whose held-out recall@k is lower than the live one's by more than
    /// this (absolute), 0..=1.
    #[arg(long, env = "PLAYALIKE_MAX_RECALL_DROP", default_value_t = 0.02)]
    pub max_recall_drop: f64,
    /// Keep the newest K versions in the bucket (see `publish --keep`).
    #[arg(long, env = "PLAYALIKE_KEEP", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
    /// Store the blob gzip-encoded on gs:// (see `publish --gzip`).
    #[arg(long, env = "PLAYALIKE_GZIP", default_value_t = true, action = clap::ArgAction::Set)]
    pub gzip: bool,
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

/// What the gate compared.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// The live version (None on the first run).
    pub live_version: Option<u32>,
    /// Games in the live model.
    pub live_games: Option<usize>,
    /// Games in the new model.
    pub games: usize,
    /// The live model's metrics.
    pub live_metrics: BTreeMap<String, f64>,
    /// The new model's metrics.
    pub metrics: BTreeMap<String, f64>,
    /// The new model has the same content as the live one (nothing to publish).
    pub unchanged: bool,
    /// The checks run, each `name: verdict`.
    pub checks: Vec<String>,
    /// What is wrong with the live model, when its blob fails latest.json's checksum or does not
    /// decode: it was replaced without comparison (and a warning was logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_problem: Option<String>,
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
    pub validate: Option<Validation>,
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

#[derive(Parser)]
#[command(name = "fetch")]
struct FetchCli {
    #[command(flatten)]
    args: crate::fetch::Args,
}

#[derive(Parser)]
#[command(name = "train")]
struct TrainCli {
    #[command(flatten)]
    args: crate::train::Args,
}

/// Builds a stage's flags as its own subcommand would parse them: explicit values from `argv`,
/// everything else from its environment variables and defaults.
fn stage_args<P: Parser>(argv: Vec<std::ffi::OsString>, stage: &str, code: ExitCode) -> anyhow::Result<P> {
    P::try_parse_from(argv).with_context(|| format!("while reading the {stage} settings")).stage(code)
}

fn recall_key(metrics: &BTreeMap<String, f64>) -> Option<(&String, f64)> {
    metrics.iter().find(|(k, _)| k.starts_with("recall@")).map(|(k, v)| (k, *v))
}

/// Compares the new model with the live one. Refuses (exit 12) a model with no games, one that
/// shrank below `min_games_ratio` of the live one, or whose held-out recall dropped by more than
/// `max_recall_drop`. A live blob that fails latest.json's checksum or does not decode is broken
/// for every visitor already (their loaders verify the checksum): it is not compared against,
/// and the new model, which passed the checks that need no live model, replaces it, with a
/// warning and `liveProblem` in the summary (docs/decisions/408-publish-hardening.md).
fn gate(new_bytes: &[u8], live: Option<publish::LiveBlob>, args: &Args) -> anyhow::Result<Validation> {
    let new =
        Engine::from_bytes(new_bytes).context("the new model does not decode").stage(ExitCode::Validate)?;
    let mut v =
        Validation { games: new.len(), metrics: new.metadata().metrics.clone(), ..Validation::default() };
    v.checks.push("new model decodes: ok".into());
    if new.is_empty() {
        return Err(anyhow::anyhow!("the new model holds no games")).stage(ExitCode::Validate);
    }
    let Some(publish::LiveBlob { version: live_version, bytes: live_bytes, checksum, url }) = live else {
        v.checks.push("live model: none yet (first publish)".into());
        return Ok(v);
    };
    v.live_version = Some(live_version);
    let broken = |v: &mut Validation, problem: String| {
        tracing::warn!("{problem}; publishing the new model without comparing it with the live one");
        v.checks.push(format!("live model: BROKEN ({problem}), replaced without comparison"));
        v.live_problem = Some(problem);
    };
    let Some(live_bytes) = live_bytes else {
        let own = crate::publish::layout::blob_name(live_version);
        broken(
            &mut v,
            format!(
                "latest.json names `{url}` as the live v{live_version}'s blob, not {own} (visitors' loaders \
                 download the wrong object)"
            ),
        );
        return Ok(v);
    };
    let actual = crate::publish::layout::sha256_hex(&live_bytes);
    if !actual.eq_ignore_ascii_case(&checksum) {
        broken(
            &mut v,
            format!(
                "the live v{live_version}'s blob has sha256 {actual}, but latest.json's checksum is {checksum} \
                 (visitors' loaders refuse it)"
            ),
        );
        return Ok(v);
    }
    v.checks.push(format!("live model v{live_version} checksum: ok"));
    let live = match Engine::from_bytes(&live_bytes) {
        Ok(e) => e,
        Err(e) => {
            broken(&mut v, format!("the live v{live_version}'s blob does not decode ({e})"));
            return Ok(v);
        }
    };
    v.live_games = Some(live.len());
    v.live_metrics = live.metadata().metrics.clone();
    v.unchanged = same_content(new_bytes, &live_bytes);
    let floor = (live.len() as f64 * args.min_games_ratio).ceil() as usize;
    let verdict = if new.len() >= floor { "ok" } else { "REFUSED" };
    v.checks.push(format!(
        "games {} ≥ {floor} ({} × live {}): {verdict}",
        new.len(),
        args.min_games_ratio,
        live.len()
    ));
    if new.len() < floor {
        return Err(anyhow::anyhow!(
            "the new model has {} games, fewer than {floor} ({}% of the live v{live_version}'s {}); not publishing",
            new.len(),
            args.min_games_ratio * 100.0,
            live.len()
        ))
        .stage(ExitCode::Validate);
    }
    if let (Some((k, new_r)), Some((live_k, live_r))) = (recall_key(&v.metrics), recall_key(&v.live_metrics))
        && k == live_k
    {
        let ok = new_r + args.max_recall_drop >= live_r;
        let verdict = if ok { "ok" } else { "REFUSED" };
        v.checks.push(format!("{k} {new_r:.4} ≥ live {live_r:.4} − {}: {verdict}", args.max_recall_drop));
        if !ok {
            return Err(anyhow::anyhow!(
                "{k} fell from {live_r:.4} (live v{live_version}) to {new_r:.4}, more than the allowed {}; not publishing",
                args.max_recall_drop
            ))
            .stage(ExitCode::Validate);
        }
    } else {
        v.checks.push("recall: not comparable (missing in one of the models)".into());
    }
    Ok(v)
}

/// True when two blobs hold the same model apart from the version stamped at publish time.
fn same_content(a: &[u8], b: &[u8]) -> bool {
    let unstamped = |bytes: &[u8]| {
        let (_, mut c) = playalike_engine::format::decode_catalog(bytes).ok()?;
        c.metadata.model_version = 0;
        playalike_engine::format::encode_catalog(&c).ok()
    };
    matches!((unstamped(a), unstamped(b)), (Some(x), Some(y)) if x == y)
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
    let os = |s: &str| std::ffi::OsString::from(s);

    // 1. fetch
    summary.failed_stage = Some("fetch".into());
    let t = Instant::now();
    if args.skip_fetch {
        summary.fetch = Some(serde_json::json!({ "skipped": true }));
    } else {
        let incremental = playalike_igdb::snapshot::find_table(&args.snapshot, "games").is_some();
        let mut argv = vec![os("fetch"), os("--out"), args.snapshot.clone().into_os_string()];
        if incremental {
            argv.extend([os("--since-last"), os("--full-every"), os(&args.full_every.to_string())]);
        }
        if let Some(dir) = &args.sandbox {
            argv.extend([os("--sandbox"), dir.clone().into_os_string()]);
        }
        let fetch: FetchCli = stage_args(argv, "fetch", ExitCode::Fetch)?;
        let done = crate::fetch::execute(&fetch.args).await.stage(ExitCode::Fetch)?;
        summary.fetch = Some(serde_json::to_value(&done).context("while summarizing the fetch")?);
    }
    summary.durations.fetch = t.elapsed().as_secs_f64();

    // 2. train
    summary.failed_stage = Some("train".into());
    let t = Instant::now();
    std::fs::create_dir_all(&args.work)
        .with_context(|| format!("while creating the work directory {}", args.work.display()))
        .stage(ExitCode::Train)?;
    let model_path = args.work.join("model.bin");
    let argv = vec![
        os("train"),
        os("--snapshot"),
        args.snapshot.clone().into_os_string(),
        os("--out"),
        model_path.clone().into_os_string(),
    ];
    let train: TrainCli = stage_args(argv, "train", ExitCode::Train)?;
    let trained = crate::train::execute(&train.args).await.stage(ExitCode::Train)?;
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
    let validation = gate(&new_bytes, live, args);
    summary.durations.validate = t.elapsed().as_secs_f64();
    let validation = validation?;
    let unchanged = validation.unchanged;
    summary.validate = Some(validation);
    if unchanged {
        summary.failed_stage = None;
        summary.status = "unchanged".into();
        summary.version = summary.previous_version;
        return Ok(());
    }

    // 4. publish
    summary.failed_stage = Some("publish".into());
    let t = Instant::now();
    let publish_args = publish::Args {
        model: model_path,
        target: args.target.clone(),
        keep: args.keep,
        gzip: args.gzip,
        dry_run: args.dry_run,
        json: false,
    };
    let published = publish::execute(&publish_args).await.stage(ExitCode::Publish);
    summary.durations.publish = t.elapsed().as_secs_f64();
    let published = published?;
    summary.version = Some(published.version);
    summary.status = if args.dry_run { "dry-run" } else { "published" }.into();
    summary.publish = Some(published);
    summary.failed_stage = None;
    Ok(())
}

/// Runs the job and returns its summary (an error names the failed stage by its exit code).
/// `run` itself uses [`execute_into`] so that it can report a failed run's partial summary.
#[allow(dead_code)] // the subcommand convention's entry point, for callers other than `run`
pub async fn execute(args: &Args) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    execute_into(args, &mut summary).await?;
    Ok(summary)
}

/// Runs `playalike run`: the job, then one JSON summary line on stdout (also on failure).
pub async fn run(args: Args) -> anyhow::Result<()> {
    let started = chrono::Utc::now();
    let mut summary = Summary::default();
    let result = execute_into(&args, &mut summary).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use playalike_engine::{FIELD_COUNT, Game, Metadata, Model, Term};

    fn blob(games: u32, recall: f64, version: u32) -> Vec<u8> {
        let mut features: [Vec<u32>; FIELD_COUNT] = Default::default();
        features[0] = vec![0];
        let mut vocab: [Vec<Term>; FIELD_COUNT] = Default::default();
        vocab[0] = vec![Term { igdb_id: 1, name: "Action".into() }];
        let model = Model {
            metadata: Metadata {
                model_version: version,
                metrics: BTreeMap::from([("recall@10".to_string(), recall)]),
                ..Metadata::default()
            },
            games: (1..=games)
                .map(|id| Game { id, name: format!("G{id}"), features: features.clone(), ..Game::default() })
                .collect(),
            vocab,
            ..Model::default()
        };
        playalike_engine::format::encode(&model).unwrap()
    }

    fn args() -> Args {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            a: Args,
        }
        Cli::try_parse_from(["run"]).unwrap().a
    }

    #[test]
    fn gate_decisions() {
        let a = args();
        // (new games, new recall, live games, live recall) → accepted?
        let cases = [
            (100, 0.30, None, true),
            (100, 0.30, Some((100, 0.30)), true),
            (95, 0.30, Some((100, 0.30)), true),
            (80, 0.30, Some((100, 0.30)), false),
            (100, 0.29, Some((100, 0.30)), true),
            (100, 0.20, Some((100, 0.30)), false),
        ];
        for (games, recall, live, ok) in cases {
            let live = live.map(|(g, r)| live_blob(3, blob(g, r, 3)));
            let got = gate(&blob(games, recall, 0), live, &a);
            assert_eq!(got.is_ok(), ok, "{games} {recall} {got:?}");
            if let Err(e) = got {
                assert_eq!(code_of(&e), ExitCode::Validate);
            }
        }
        assert!(gate(b"garbage", None, &a).is_err());
    }

    fn live_blob(version: u32, bytes: Vec<u8>) -> publish::LiveBlob {
        let checksum = crate::publish::layout::sha256_hex(&bytes);
        let url = crate::publish::layout::blob_name(version);
        publish::LiveBlob { version, bytes: Some(bytes), checksum, url }
    }

    #[test]
    fn gate_reports_a_broken_live_model_and_replaces_it() {
        let a = args();
        let new = blob(100, 0.30, 0);
        // The live blob is a much bigger, better model, but not what latest.json's checksum says:
        // it is not compared against (which would refuse the new model), and the report says why.
        let mut live = live_blob(3, blob(1000, 0.9, 3));
        live.checksum = "00".repeat(32);
        let v = gate(&new, Some(live), &a).expect("replaced");
        assert!(
            v.live_problem.as_deref().is_some_and(|p| p.contains("checksum") && p.contains("v3")),
            "{v:?}"
        );
        assert!(v.checks.iter().any(|c| c.contains("BROKEN")), "{v:?}");
        assert!(!v.unchanged);
        // A live blob that matches its checksum but does not decode.
        let v = gate(&new, Some(live_blob(4, b"garbage".to_vec())), &a).expect("replaced");
        assert!(v.live_problem.as_deref().is_some_and(|p| p.contains("does not decode")), "{v:?}");
        // A pointer whose url names another object: nothing was downloaded.
        let mut live = live_blob(6, blob(100, 0.30, 6));
        (live.bytes, live.url) = (None, "latest.json".into());
        let v = gate(&new, Some(live), &a).expect("replaced");
        assert!(v.live_problem.as_deref().is_some_and(|p| p.contains("`latest.json`")), "{v:?}");
        // A sound live model is compared as before, with no problem reported.
        let v = gate(&new, Some(live_blob(5, blob(100, 0.30, 5))), &a).expect("accepted");
        assert_eq!(v.live_problem, None);
        assert!(v.unchanged);
    }

    #[test]
    fn same_content_ignores_the_version_stamp() {
        assert!(same_content(&blob(10, 0.3, 0), &blob(10, 0.3, 7)));
        assert!(!same_content(&blob(10, 0.3, 0), &blob(11, 0.3, 0)));
        assert!(!same_content(b"x", b"x"));
    }
}
