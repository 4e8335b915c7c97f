//! `playalike validate`: the gate before publishing.
//!
//! Refuses (exit code 12) when the new blob does not decode, holds fewer games than the floor,
//! covers too little of the snapshot it came from, or its recall@10 (from the blob's metrics)
//! dropped more than the tolerance below the previous model's. Prints every comparison it made.

use crate::exit::{ExitCode, Stage};
use anyhow::{Context, Result};
use playalike_engine::Engine;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What `playalike validate` checks (resolved from its flags by the CLI).
#[derive(Debug, Clone)]
pub struct Args {
    /// The new model blob.
    pub model: PathBuf,
    /// The model currently published, to compare quality against.
    pub previous: Option<PathBuf>,
    /// Fewest games the model must hold.
    pub min_games: usize,
    /// Largest allowed drop of recall@10 below the previous model's (absolute).
    pub tolerance: f64,
    /// The snapshot the model was trained from: the model must hold at least 90 % of its games.
    pub snapshot: Option<PathBuf>,
    /// The games in that snapshot (read by the caller).
    pub snapshot_games: Option<usize>,
    /// Print one JSON line instead of text.
    pub json: bool,
}

/// One comparison the gate made.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// The figures compared.
    pub detail: String,
}

/// What `validate` compared.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The new model.
    pub model: PathBuf,
    /// The previous model, when given.
    pub previous: Option<PathBuf>,
    /// Whether every check passed.
    pub ok: bool,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Summary {
    /// The checks that failed.
    pub fn failed(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }
}

fn load(path: &Path) -> Result<Engine> {
    let bytes = std::fs::read(path).with_context(|| format!("while reading {}", path.display()))?;
    Engine::from_bytes(&bytes).with_context(|| format!("while decoding {}", path.display()))
}

const RECALL: &str = "recall@10";

/// Runs every check; never fails on a refusal (see [`Summary::ok`]), only on bad flags.
pub fn check(args: &Args) -> Result<Summary> {
    let mut checks = Vec::new();
    let mut push =
        |name: &str, ok: bool, detail: String| checks.push(Check { name: name.into(), ok, detail });
    let new = match load(&args.model) {
        Ok(e) => {
            push("decode", true, format!("{} decodes ({} games)", args.model.display(), e.len()));
            Some(e)
        }
        Err(e) => {
            push("decode", false, format!("{e:#}"));
            None
        }
    };
    if let Some(new) = &new {
        push(
            "min_games",
            new.len() >= args.min_games,
            format!("{} games, floor {}", new.len(), args.min_games),
        );
        if let (Some(dir), Some(rows)) = (&args.snapshot, args.snapshot_games) {
            let need = (rows as f64 * 0.9).ceil() as usize;
            push(
                "snapshot_games",
                new.len() >= need,
                format!("{} games of {} in {} (need ≥ {need})", new.len(), rows, dir.display()),
            );
        }
        let new_recall = new.model().metadata.metrics.get(RECALL).copied();
        if let Some(r) = new_recall {
            push("recall_finite", r.is_finite(), format!("{RECALL} = {r}"));
        }
        if let Some(prev_path) = &args.previous {
            match load(prev_path) {
                Err(e) => push("previous", false, format!("cannot compare: {e:#}")),
                Ok(prev) => {
                    let old = prev.model().metadata.metrics.get(RECALL).copied();
                    match (new_recall, old) {
                        (Some(n), Some(o)) => push(
                            "recall_vs_previous",
                            n >= o - args.tolerance,
                            format!("{RECALL} {n:.4} vs previous {o:.4} (tolerance {})", args.tolerance),
                        ),
                        (None, Some(o)) => push(
                            "recall_vs_previous",
                            true,
                            format!(
                                "new model has no {RECALL} (no ground truth); previous {o:.4}: not compared"
                            ),
                        ),
                        (_, None) => push(
                            "recall_vs_previous",
                            true,
                            format!("previous model has no {RECALL}: not compared"),
                        ),
                    }
                    push(
                        "games_vs_previous",
                        true,
                        format!("{} games vs previous {}", new.len(), prev.len()),
                    );
                }
            }
        }
    }
    let ok = checks.iter().all(|c| c.ok);
    Ok(Summary { model: args.model.clone(), previous: args.previous.clone(), ok, checks })
}

/// Runs the gate; a refusal is an error tagged with exit code 12.
pub async fn execute(args: &Args) -> Result<Summary> {
    let s = check(args).stage(ExitCode::Usage)?;
    if !s.ok {
        let reasons: Vec<String> = s.failed().iter().map(|c| format!("{}: {}", c.name, c.detail)).collect();
        return Err(anyhow::anyhow!("validation refused {}: {}", args.model.display(), reasons.join("; ")))
            .stage(ExitCode::Validate);
    }
    Ok(s)
}
