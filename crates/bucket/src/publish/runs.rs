//! `runs.json`: the record of every `playalike run` attempt, success or failure, kept in the
//! bucket beside `versions.json` (docs/decisions/742-run-records-and-history-page.md).
//!
//! Each run appends one [`RunRecord`] after its stages: read `runs.json` with its generation, add
//! the record, keep the newest [`RUNS_KEPT`], write under that generation. A concurrent run that
//! wrote in between makes the write fail its precondition; the document is then read again and
//! the append retried, so no record is lost. Every record carries an `id`: a retry whose earlier
//! attempt landed after all finds its own record and stops.

use super::bucket::{Bucket, Target};
use super::{BucketConfig, layout};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The object name.
pub const RUNS: &str = "runs.json";
/// Records kept: the newest 100 (about three months of nightly runs, ~100 KB).
pub const RUNS_KEPT: usize = 100;
/// Largest `runs.json` read (100 records of ~1 KB; the cap leaves room for long metric lists).
pub const MAX_RUNS_DOC: u64 = 4 << 20;
/// Longest error text kept in a record (the whole text is in the run's own log).
pub const MAX_ERROR_CHARS: usize = 500;
/// Attempts at appending when other runs keep winning the race (each lost round means another
/// run's record landed, so this many concurrent runs always get through).
const ATTEMPTS: u32 = 12;

/// One attempt of `playalike run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    /// Unique per attempt (start time, process id and a hash), to recognise our own record.
    pub id: String,
    /// When the run started (RFC 3339, milliseconds).
    pub started_at: String,
    /// When it finished.
    pub finished_at: String,
    /// `published`, `unchanged` or `failed`.
    pub status: String,
    /// The last stage the run entered: `fetch`, `train`, `validate` or `publish` (`unchanged`
    /// stops after `validate`); for a failure, the stage that failed.
    pub stage_reached: String,
    /// The process exit code (0 on success).
    pub exit_code: i32,
    /// The error, when failed (shortened to [`MAX_ERROR_CHARS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Seconds per stage (`fetch`, `train`, `validate`, `publish`, `total`).
    #[serde(default)]
    pub durations: BTreeMap<String, f64>,
    /// The version published by this run (None unless `status` is `published`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The version live before the run, when it got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<u32>,
    /// Games in the new model, when it was trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub games: Option<u64>,
    /// The new model's blob size in bytes, when it was trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The new model's metrics (`recall@10`, `coverage@10`, …), when it was trained.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// The playalike version that ran.
    pub builder_version: String,
}

/// `runs.json`: the newest [`RUNS_KEPT`] run records, oldest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Runs {
    /// Document schema ([`layout::SCHEMA`]).
    pub schema: u32,
    /// The records, by start time.
    pub runs: Vec<RunRecord>,
}

fn rfc3339_ms(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The text, cut to `max` characters (with an ellipsis when cut).
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl RunRecord {
    /// The record of a run from its JSON summary (the line `playalike run` prints: camelCase
    /// keys `status`, `failedStage`, `exitCode`, `error`, `durations`, `version`,
    /// `previousVersion`, `train.bytes`, `validate.games`, `validate.metrics`). Reading the
    /// documented summary, not the struct, keeps this module independent of `run`.
    pub fn from_summary(
        summary: &serde_json::Value,
        started: chrono::DateTime<chrono::Utc>,
        finished: chrono::DateTime<chrono::Utc>,
    ) -> RunRecord {
        let status = summary["status"].as_str().unwrap_or("failed").to_string();
        let stage_reached = match (summary["failedStage"].as_str(), status.as_str()) {
            (Some(stage), _) => stage,
            (None, "unchanged") => "validate",
            (None, "failed") => "start",
            (None, _) => "publish",
        }
        .to_string();
        let as_u32 = |v: &serde_json::Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
        let numbers = |v: &serde_json::Value| -> BTreeMap<String, f64> {
            v.as_object()
                .map(|o| o.iter().filter_map(|(k, x)| x.as_f64().map(|x| (k.clone(), x))).collect())
                .unwrap_or_default()
        };
        let started_at = rfc3339_ms(started);
        let id = {
            let nanos = started.timestamp_nanos_opt().unwrap_or_default();
            let seed = format!("{started_at} {} {nanos}", std::process::id());
            format!(
                "{}-{}-{}",
                started.format("%Y%m%dT%H%M%S%.3fZ"),
                std::process::id(),
                &layout::sha256_hex(seed.as_bytes())[..8]
            )
        };
        RunRecord {
            id,
            started_at,
            finished_at: rfc3339_ms(finished),
            version: if status == "published" { as_u32(&summary["version"]) } else { None },
            status,
            stage_reached,
            exit_code: summary["exitCode"].as_i64().and_then(|c| i32::try_from(c).ok()).unwrap_or(1),
            error: summary["error"].as_str().map(|e| shorten(e, MAX_ERROR_CHARS)),
            durations: numbers(&summary["durations"]),
            previous_version: as_u32(&summary["previousVersion"]),
            games: summary["validate"]["games"].as_u64(),
            size: summary["train"]["bytes"].as_u64(),
            metrics: numbers(&summary["validate"]["metrics"]),
            builder_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// True for a run that failed.
    pub fn failed(&self) -> bool {
        self.status == "failed"
    }
}

/// `runs` plus `record` (unless a record with its id is there), by start time, newest
/// [`RUNS_KEPT`] only.
pub fn with_record(runs: &Runs, record: &RunRecord, keep: usize) -> Runs {
    let mut doc = runs.clone();
    doc.schema = layout::SCHEMA;
    if !doc.runs.iter().any(|r| r.id == record.id) {
        doc.runs.push(record.clone());
    }
    // Stable: records of the same millisecond keep their order.
    doc.runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    let excess = doc.runs.len().saturating_sub(keep);
    doc.runs.drain(..excess);
    doc
}

/// Reads `runs.json`: the document and its generation (0 when absent).
pub async fn read(bucket: &Bucket, target: &Target) -> anyhow::Result<(Runs, i64)> {
    let got =
        bucket.get(RUNS, MAX_RUNS_DOC).await.with_context(|| format!("while reading {target}/{RUNS}"))?;
    let Some((bytes, generation)) = got else { return Ok((Runs::default(), 0)) };
    let runs = serde_json::from_slice(&bytes)
        .with_context(|| format!("while parsing {target}/{RUNS} (fix or delete it by hand)"))?;
    Ok((runs, generation))
}

/// Appends `record` to `runs.json` under a generation precondition, re-reading and retrying
/// when another run wrote it meanwhile.
pub async fn append(bucket: &Bucket, target: &Target, record: &RunRecord, keep: usize) -> anyhow::Result<()> {
    for attempt in 1..=ATTEMPTS {
        let (runs, generation) = read(bucket, target).await?;
        super::failpoint("runs-read").await; // the race tests hold concurrent runs here
        if runs.runs.iter().any(|r| r.id == record.id) {
            return Ok(()); // an earlier attempt landed after all
        }
        let doc = with_record(&runs, record, keep);
        let json = serde_json::to_vec_pretty(&doc).context("while writing runs.json")?;
        let written = bucket
            .put_if_unchanged(RUNS, &json, "application/json", generation)
            .await
            .with_context(|| format!("while writing {target}/{RUNS}"))?;
        if written {
            return Ok(());
        }
        tracing::debug!("{RUNS} changed since it was read (attempt {attempt}); re-reading it");
        // A little jitter so racing runs do not collide again in lockstep.
        let jitter = u64::from(std::process::id() % 7 + 1) * 5 * u64::from(attempt);
        tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
    }
    anyhow::bail!("{target}/{RUNS}: other runs kept changing it; gave up after {ATTEMPTS} attempts")
}

/// Records a finished run in the bucket: appends to `runs.json`, then rewrites `history.html`.
/// Returns the error instead of failing the run: the caller reports it and keeps its own exit
/// code (a run's outcome is the model's, not the record's).
pub async fn record(
    args: &BucketConfig,
    summary: &serde_json::Value,
    started: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<RunRecord> {
    let record = RunRecord::from_summary(summary, started, chrono::Utc::now());
    let target = args.target()?;
    // A local folder is created: the record of a first run that failed is worth keeping.
    let bucket = Bucket::open(&target, &args.connection(), true)
        .await
        .with_context(|| format!("while opening {target} to record the run"))?;
    append(&bucket, &target, &record, RUNS_KEPT).await?;
    super::history::write(&bucket, &target).await?;
    Ok(record)
}

/// The last `n` records, oldest first.
pub fn last(runs: &Runs, n: usize) -> &[RunRecord] {
    &runs.runs[runs.runs.len().saturating_sub(n)..]
}

/// How many of the newest records failed in a row (0 when the newest succeeded).
pub fn failed_in_a_row(runs: &Runs) -> usize {
    runs.runs.iter().rev().take_while(|r| r.failed()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn rec(id: &str, started: &str, status: &str) -> RunRecord {
        RunRecord {
            id: id.into(),
            started_at: started.into(),
            finished_at: started.into(),
            status: status.into(),
            stage_reached: "publish".into(),
            exit_code: 0,
            error: None,
            durations: BTreeMap::new(),
            version: None,
            previous_version: None,
            games: None,
            size: None,
            metrics: BTreeMap::new(),
            builder_version: "0".into(),
        }
    }

    #[test]
    fn a_record_from_a_failed_summary_names_the_stage_and_code() {
        let summary = serde_json::json!({
            "status": "failed", "failedStage": "train", "exitCode": 11,
            "error": "x".repeat(2000), "bucket": "file:///b", "previousVersion": null,
            "version": null, "durations": {"fetch": 1.5, "train": 0.25, "total": 2.0},
        });
        let r = RunRecord::from_summary(&summary, at("2026-12-02T01:00:00Z"), at("2026-12-02T01:00:02Z"));
        assert_eq!((r.status.as_str(), r.stage_reached.as_str(), r.exit_code), ("failed", "train", 11));
        assert_eq!(r.error.as_ref().map(|e| e.chars().count()), Some(MAX_ERROR_CHARS));
        assert_eq!(r.durations.get("fetch"), Some(&1.5));
        assert_eq!((r.version, r.games, r.size), (None, None, None));
        assert_eq!(r.started_at, "2026-12-02T01:00:00.000Z");
        assert!(r.id.starts_with("20261202T010000.000Z-"), "{}", r.id);
        assert!(r.failed());
    }

    #[test]
    fn a_record_from_a_published_summary_keeps_version_and_metrics() {
        let summary = serde_json::json!({
            "status": "published", "exitCode": 0, "version": 4, "previousVersion": 3,
            "train": {"bytes": 12345, "metrics": {"recall@10": 0.1}},
            "validate": {"games": 300, "metrics": {"recall@10": 0.4, "coverage@10": 0.6}},
            "durations": {"total": 9.0},
        });
        let now = at("2026-12-02T01:00:00Z");
        let r = RunRecord::from_summary(&summary, now, now);
        assert_eq!((r.stage_reached.as_str(), r.version, r.previous_version), ("publish", Some(4), Some(3)));
        assert_eq!((r.games, r.size), (Some(300), Some(12345)));
        assert_eq!(r.metrics.get("coverage@10"), Some(&0.6));
        let unchanged = serde_json::json!({"status": "unchanged", "exitCode": 0, "version": 3});
        let r = RunRecord::from_summary(&unchanged, now, now);
        assert_eq!((r.stage_reached.as_str(), r.version), ("validate", None), "version only when published");
        let v = serde_json::to_value(&r).unwrap();
        for key in ["startedAt", "finishedAt", "stageReached", "exitCode", "builderVersion"] {
            assert!(v.get(key).is_some(), "camelCase key {key}: {v}");
        }
    }

    #[test]
    fn appending_keeps_the_newest_in_order_and_is_idempotent() {
        let mut runs = Runs::default();
        for i in 0..7 {
            // Out of order on purpose: a slow run may finish after a later one started.
            let started = format!("2026-12-0{}T01:00:00.000Z", [3, 1, 2, 5, 4, 7, 6][i]);
            runs = with_record(&runs, &rec(&format!("r{i}"), &started, "failed"), 5);
        }
        let days: Vec<&str> = runs.runs.iter().map(|r| &r.started_at[8..10]).collect();
        assert_eq!(days, ["03", "04", "05", "06", "07"], "the newest 5, oldest first");
        let again = with_record(&runs, &runs.runs[2].clone(), 5);
        assert_eq!(again, runs, "a record already there is not added twice");
        assert_eq!(failed_in_a_row(&runs), 5);
        runs.runs[3].status = "published".into();
        assert_eq!(failed_in_a_row(&runs), 1);
        assert_eq!(last(&runs, 2).len(), 2);
        assert_eq!(last(&runs, 20).len(), 5);
    }
}
