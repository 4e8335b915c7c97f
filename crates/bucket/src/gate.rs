//! The release gate: whether a new model may replace the one before it. `playalike validate` and
//! the validate stage of `playalike run` both call [`check`] with a [`Config`] and print the one
//! list of [`Check`]s it returns (docs/decisions/407-run-job-gate.md).
//!
//! The rules, in order:
//! 1. `decode`: the new blob decodes;
//! 2. `min_games`: it holds at least `min_games` games, and never none;
//! 3. `snapshot_games` (when the snapshot is known): at least 90 % of the snapshot's games;
//! 4. `recall_finite` (when the model has a recall@k): its recall is a number;
//! 5. the model it replaces, the [`Baseline`]:
//!    - none (first publish, or no `--previous`): said plainly, nothing compared;
//!    - the bucket's live model: its blob must match latest.json's SHA-256 and decode. When it
//!      does not, every visitor already gets a broken site: the new model replaces it without
//!      comparison, with a warning and [`Report::live_problem`] (decision 408);
//!    - a local file (`validate --previous`): one that cannot be read or decoded refuses;
//! 6. `games_vs_previous`: at least `min_games_ratio` of the previous model's games;
//! 7. `recall_vs_previous`: its recall@k at most `max_recall_drop` below the previous one's, when
//!    both models have the same recall@k; "not comparable" (and passing) otherwise.
//!
//! A model with the same content as the previous one (apart from the version stamp) is
//! [`Report::unchanged`]: `run` then publishes nothing.

use crate::exit::{ExitCode, Stage};
use crate::publish::{LiveBlob, layout};
use playalike_engine::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Share of the snapshot's games the model must hold (`validate --snapshot`).
pub const SNAPSHOT_SHARE: f64 = 0.9;

/// The gate's thresholds (resolved from `validate`'s or `run`'s flags by the CLI).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Fewest games the model must hold (absolute; a model with none is always refused).
    pub min_games: usize,
    /// Fewest games as a share of the previous model's, 0..=1.
    pub min_games_ratio: f64,
    /// Largest allowed drop of recall@k below the previous model's (absolute).
    pub max_recall_drop: f64,
    /// The snapshot the model was trained from and its game count: the model must hold at least
    /// [`SNAPSHOT_SHARE`] of them.
    pub snapshot_games: Option<(PathBuf, usize)>,
}

/// The model the new one would replace.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// Nothing to compare with: no live model yet, or no `--previous` given.
    None {
        /// Why, in words (e.g. "nothing is published yet in file://bucket").
        why: String,
    },
    /// The bucket's live model, read through latest.json (checksum not yet verified).
    Live(LiveBlob),
    /// A local model file the operator named: no pointer, so no checksum.
    File {
        /// Its path.
        path: PathBuf,
        /// Its bytes, or why they could not be read.
        bytes: Result<Vec<u8>, String>,
    },
}

impl Baseline {
    /// Reads a local previous model (a read error becomes a refusing check, not a failure).
    pub fn file(path: &Path) -> Baseline {
        let bytes = std::fs::read(path).map_err(|e| format!("while reading {}: {e}", path.display()));
        Baseline::File { path: path.to_path_buf(), bytes }
    }
}

/// One comparison the gate made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What was checked (`decode`, `min_games`, `recall_vs_previous`, …).
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// The figures compared, in words.
    pub detail: String,
}

/// What the gate compared and decided.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Whether every check passed (the model may be published).
    pub ok: bool,
    /// The live version compared against (None without a bucket or on the first publish).
    pub live_version: Option<u32>,
    /// Games in the previous model, when it was compared.
    pub live_games: Option<usize>,
    /// Games in the new model.
    pub games: usize,
    /// The previous model's metrics, when it was compared.
    pub live_metrics: BTreeMap<String, f64>,
    /// The new model's metrics.
    pub metrics: BTreeMap<String, f64>,
    /// The new model has the same content as the previous one (nothing to publish).
    pub unchanged: bool,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// What is wrong with the live model, when its blob fails latest.json's checksum, is not the
    /// object the pointer should name, or does not decode: it is replaced without comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_problem: Option<String>,
}

impl Report {
    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }

    /// `Ok` when the model passed, else the refusal (exit code 12) naming `model` and every
    /// failed check.
    pub fn enforce(&self, model: &str) -> anyhow::Result<()> {
        if self.ok {
            return Ok(());
        }
        let reasons: Vec<String> = self.failed().map(|c| format!("{}: {}", c.name, c.detail)).collect();
        Err(anyhow::anyhow!("validation refused {model}: {}", reasons.join("; "))).stage(ExitCode::Validate)
    }

    /// One line for a log: the verdict and the checks that decided it.
    pub fn line(&self) -> String {
        let verdict = match (self.ok, self.unchanged) {
            (false, _) => "refused",
            (true, true) => "accepted, unchanged",
            (true, false) => "accepted",
        };
        let failed: Vec<&str> = self.failed().map(|c| c.name.as_str()).collect();
        let against = match self.live_version {
            Some(v) => format!("live v{v}"),
            None if self.live_games.is_some() => "the previous model".into(),
            None => "no previous model".into(),
        };
        let mut s =
            format!("{verdict}: {} games, {} checks against {against}", self.games, self.checks.len());
        if !failed.is_empty() {
            s.push_str(&format!(", failed: {}", failed.join(", ")));
        }
        if let Some(p) = &self.live_problem {
            s.push_str(&format!(", live model broken: {p}"));
        }
        s
    }
}

/// The recall@k key of a model's metrics (the first `recall@…`), with its value.
fn recall_of(metrics: &BTreeMap<String, f64>) -> Option<(&str, f64)> {
    metrics.iter().find(|(k, _)| k.starts_with("recall@")).map(|(k, v)| (k.as_str(), *v))
}

/// Runs every check on the new blob (`new`: its bytes, or why they could not be read; `name`:
/// how to call it in the checks). Never fails: a refusal is `ok: false` (see
/// [`Report::enforce`]).
pub fn check(name: &str, new: Result<&[u8], String>, baseline: &Baseline, config: &Config) -> Report {
    let mut r = Report::default();
    run_checks(&mut r, name, new, baseline, config);
    r.ok = r.checks.iter().all(|c| c.ok);
    r
}

/// Fills `r`'s checks and figures, stopping where nothing further can be compared; [`check`]
/// derives the verdict from them.
fn run_checks(r: &mut Report, name: &str, new: Result<&[u8], String>, baseline: &Baseline, config: &Config) {
    let push = |r: &mut Report, name: &str, ok: bool, detail: String| {
        r.checks.push(Check { name: name.into(), ok, detail });
    };
    let decoded = new.and_then(|bytes| {
        Engine::from_bytes(bytes).map(|e| (e, bytes)).map_err(|e| format!("while decoding {name}: {e}"))
    });
    let (new, new_bytes) = match decoded {
        Ok(d) => d,
        Err(e) => {
            push(r, "decode", false, e);
            return;
        }
    };
    push(r, "decode", true, format!("{name} decodes ({} games)", new.len()));
    r.games = new.len();
    r.metrics = new.metadata().metrics.clone();

    let floor = config.min_games.max(1);
    push(r, "min_games", new.len() >= floor, format!("{} games, floor {}", new.len(), config.min_games));
    if let Some((dir, rows)) = &config.snapshot_games {
        let need = (*rows as f64 * SNAPSHOT_SHARE).ceil() as usize;
        push(
            r,
            "snapshot_games",
            new.len() >= need,
            format!("{} games of {rows} in {} (need ≥ {need})", new.len(), dir.display()),
        );
    }
    if let Some((k, v)) = recall_of(&r.metrics) {
        let detail = format!("{k} = {v}");
        push(r, "recall_finite", v.is_finite(), detail);
    }

    let (prev, prev_bytes, what) = match baseline {
        Baseline::None { why } => {
            push(r, "previous", true, format!("no comparable model: {why}; games and recall not compared"));
            return;
        }
        Baseline::File { path, bytes } => {
            let loaded = bytes.as_ref().map_err(Clone::clone).and_then(|b| {
                Engine::from_bytes(b)
                    .map(|e| (e, b))
                    .map_err(|e| format!("while decoding {}: {e}", path.display()))
            });
            match loaded {
                Ok((e, b)) => {
                    push(r, "previous", true, format!("{} decodes ({} games)", path.display(), e.len()));
                    (e, b.as_slice(), "previous".to_string())
                }
                Err(e) => {
                    push(r, "previous", false, format!("cannot compare: {e}"));
                    return;
                }
            }
        }
        Baseline::Live(live) => {
            r.live_version = Some(live.version);
            match verify_live(live) {
                Ok((e, b)) => {
                    push(
                        r,
                        "previous",
                        true,
                        format!("live v{}'s blob matches latest.json's checksum and decodes", live.version),
                    );
                    (e, b, format!("live v{}", live.version))
                }
                Err(problem) => {
                    tracing::warn!(
                        "{problem}; publishing the new model without comparing it with the live one"
                    );
                    push(
                        r,
                        "previous",
                        true,
                        format!("live model BROKEN ({problem}): replaced without comparison"),
                    );
                    r.live_problem = Some(problem);
                    return;
                }
            }
        }
    };
    r.live_games = Some(prev.len());
    r.live_metrics = prev.metadata().metrics.clone();
    r.unchanged = same_content(new_bytes, prev_bytes);

    let floor = (prev.len() as f64 * config.min_games_ratio).ceil() as usize;
    push(
        r,
        "games_vs_previous",
        new.len() >= floor,
        format!(
            "{} games, floor {floor} ({} × the {} games of {what})",
            new.len(),
            config.min_games_ratio,
            prev.len()
        ),
    );
    let (ok, detail) = match (recall_of(&r.metrics), recall_of(&r.live_metrics)) {
        (Some((k, n)), Some((pk, o))) if k == pk => (
            n + config.max_recall_drop >= o,
            format!("{k} {n:.4} vs {what} {o:.4} (largest drop allowed {})", config.max_recall_drop),
        ),
        (Some((k, _)), Some((pk, _))) => {
            (true, format!("not comparable: the new model has {k}, {what} has {pk}"))
        }
        (None, _) => (true, "not comparable: the new model has no recall@k (no ground truth)".to_string()),
        (_, None) => (true, format!("not comparable: {what} has no recall@k")),
    };
    push(r, "recall_vs_previous", ok, detail);
}

/// The live blob, checked against its pointer: the bytes and the decoded model, or what is wrong.
fn verify_live(live: &LiveBlob) -> Result<(Engine, &[u8]), String> {
    let version = live.version;
    let Some(bytes) = &live.bytes else {
        let own = layout::blob_name(version);
        return Err(format!(
            "latest.json names `{}` as the live v{version}'s blob, not {own} (visitors' loaders download the wrong object)",
            live.url
        ));
    };
    let actual = layout::sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(&live.checksum) {
        return Err(format!(
            "the live v{version}'s blob has sha256 {actual}, but latest.json's checksum is {} (visitors' loaders refuse it)",
            live.checksum
        ));
    }
    match Engine::from_bytes(bytes) {
        Ok(e) => Ok((e, bytes)),
        Err(e) => Err(format!("the live v{version}'s blob does not decode ({e})")),
    }
}

/// True when two blobs hold the same model apart from the version stamped at publish time.
pub fn same_content(a: &[u8], b: &[u8]) -> bool {
    let unstamped = |bytes: &[u8]| {
        let (_, mut c) = playalike_engine::format::decode_catalog(bytes).ok()?;
        c.metadata.model_version = 0;
        playalike_engine::format::encode_catalog(&c).ok()
    };
    matches!((unstamped(a), unstamped(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is a test failure
    use super::*;
    use crate::exit::code_of;
    use playalike_engine::{FIELD_COUNT, Game, Metadata, Model, Term};

    fn blob_with(games: u32, metrics: &[(&str, f64)], version: u32) -> Vec<u8> {
        let mut features: [Vec<u32>; FIELD_COUNT] = Default::default();
        features[0] = vec![0];
        let mut vocab: [Vec<Term>; FIELD_COUNT] = Default::default();
        vocab[0] = vec![Term { igdb_id: 1, name: "Action".into() }];
        let model = Model {
            metadata: Metadata {
                model_version: version,
                metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
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

    fn blob(games: u32, recall: f64, version: u32) -> Vec<u8> {
        blob_with(games, &[("recall@10", recall)], version)
    }

    /// `run`'s defaults.
    fn config() -> Config {
        Config { min_games: 1, min_games_ratio: 0.9, max_recall_drop: 0.02, snapshot_games: None }
    }

    fn live(version: u32, bytes: Vec<u8>) -> Baseline {
        let checksum = layout::sha256_hex(&bytes);
        Baseline::Live(LiveBlob { version, bytes: Some(bytes), checksum, url: layout::blob_name(version) })
    }

    fn first() -> Baseline {
        Baseline::None { why: "nothing is published yet".into() }
    }

    fn gate(new: &[u8], baseline: &Baseline, c: &Config) -> Report {
        check("new.bin", Ok(new), baseline, c)
    }

    fn failed(r: &Report) -> Vec<&str> {
        r.failed().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn accepts_a_model_as_good_as_the_live_one() {
        let r = gate(&blob(100, 0.30, 0), &live(3, blob(95, 0.31, 3)), &config());
        assert!(r.ok, "{r:?}");
        assert_eq!((r.live_version, r.live_games, r.games), (Some(3), Some(95), 100));
        assert!(!r.unchanged);
        assert!(r.enforce("new.bin").is_ok());
        let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["decode", "min_games", "recall_finite", "previous", "games_vs_previous", "recall_vs_previous"]
        );
    }

    #[test]
    fn each_refusal_names_its_check_and_exits_12() {
        let c = config();
        let cases: [(&str, Report); 6] = [
            ("decode", check("new.bin", Ok(b"garbage"), &first(), &c)),
            ("decode", check("new.bin", Err("while reading new.bin: gone".into()), &first(), &c)),
            ("min_games", gate(&blob(100, 0.3, 0), &first(), &Config { min_games: 101, ..c.clone() })),
            ("games_vs_previous", gate(&blob(80, 0.30, 0), &live(1, blob(100, 0.30, 1)), &c)),
            ("recall_vs_previous", gate(&blob(100, 0.20, 0), &live(1, blob(100, 0.30, 1)), &c)),
            (
                "snapshot_games",
                gate(
                    &blob(80, 0.3, 0),
                    &first(),
                    &Config { snapshot_games: Some(("snap".into(), 100)), ..c.clone() },
                ),
            ),
        ];
        for (name, r) in cases {
            assert!(!r.ok, "{name}: {r:?}");
            assert_eq!(failed(&r), [name], "{r:?}");
            let e = r.enforce("new.bin").unwrap_err();
            assert_eq!(code_of(&e), ExitCode::Validate);
            assert!(format!("{e:#}").contains(&format!("validation refused new.bin: {name}: ")), "{e:#}");
        }
        // A drop within the allowance and a shrink above the ratio pass.
        assert!(gate(&blob(95, 0.29, 0), &live(1, blob(100, 0.30, 1)), &c).ok);
        // Two failures are both named.
        let r = gate(&blob(80, 0.20, 0), &live(1, blob(100, 0.30, 1)), &c);
        assert_eq!(failed(&r), ["games_vs_previous", "recall_vs_previous"]);
        let msg = format!("{:#}", r.enforce("m").unwrap_err());
        assert!(
            msg.contains("80 games, floor 90") && msg.contains("recall@10 0.2000 vs live v1 0.3000"),
            "{msg}"
        );
    }

    #[test]
    fn a_model_without_games_is_refused_even_with_a_zero_floor() {
        let r = gate(&blob(0, 0.3, 0), &first(), &Config { min_games: 0, ..config() });
        assert_eq!(failed(&r), ["min_games"], "{r:?}");
    }

    #[test]
    fn a_nan_recall_is_refused() {
        let r = gate(&blob(10, f64::NAN, 0), &first(), &config());
        assert_eq!(failed(&r), ["recall_finite"], "{r:?}");
    }

    #[test]
    fn first_publish_says_there_is_nothing_to_compare() {
        let r = gate(&blob(10, 0.3, 0), &first(), &config());
        assert!(r.ok, "{r:?}");
        assert_eq!((r.live_version, r.live_games), (None, None));
        let prev = r.checks.iter().find(|c| c.name == "previous").unwrap();
        assert!(prev.detail.contains("no comparable model: nothing is published yet"), "{prev:?}");
        assert!(!r.checks.iter().any(|c| c.name == "recall_vs_previous"));
    }

    #[test]
    fn a_live_blob_failing_its_checksum_is_replaced_without_comparison() {
        // The live blob is a much bigger, better model, but not what latest.json's checksum
        // says: comparing with it would refuse the new model; the report says why it did not.
        let Baseline::Live(mut l) = live(3, blob(1000, 0.9, 3)) else { unreachable!() };
        l.checksum = "00".repeat(32);
        let r = gate(&blob(100, 0.30, 0), &Baseline::Live(l), &config());
        assert!(r.ok, "{r:?}");
        let p = r.live_problem.as_deref().unwrap();
        assert!(p.contains("checksum") && p.contains("v3"), "{p}");
        assert!(r.checks.iter().any(|c| c.detail.contains("BROKEN")), "{r:?}");
        assert_eq!((r.live_version, r.live_games), (Some(3), None));
        assert!(!r.unchanged);
        assert!(r.line().contains("live model broken"), "{}", r.line());
    }

    #[test]
    fn a_live_blob_that_does_not_decode_is_replaced_without_comparison() {
        let r = gate(&blob(100, 0.30, 0), &live(4, b"garbage".to_vec()), &config());
        assert!(r.ok, "{r:?}");
        assert!(r.live_problem.as_deref().is_some_and(|p| p.contains("v4") && p.contains("does not decode")));
        // A pointer whose url names another object: nothing was downloaded.
        let Baseline::Live(mut l) = live(6, blob(100, 0.30, 6)) else { unreachable!() };
        (l.bytes, l.url) = (None, "latest.json".into());
        let r = gate(&blob(100, 0.30, 0), &Baseline::Live(l), &config());
        assert!(r.ok);
        assert!(
            r.live_problem
                .as_deref()
                .is_some_and(|p| p.contains("`latest.json`") && p.contains("models/v6/"))
        );
    }

    #[test]
    fn a_previous_file_that_cannot_be_read_or_decoded_refuses() {
        let bad = Baseline::File { path: "prev.bin".into(), bytes: Ok(b"garbage".to_vec()) };
        let r = gate(&blob(100, 0.30, 0), &bad, &config());
        assert_eq!(failed(&r), ["previous"], "{r:?}");
        assert_eq!(r.live_problem, None);
        let r = gate(&blob(100, 0.30, 0), &Baseline::file(Path::new("/no/such/prev.bin")), &config());
        assert_eq!(failed(&r), ["previous"], "{r:?}");
        // A sound file is compared like the live model.
        let good = Baseline::File { path: "prev.bin".into(), bytes: Ok(blob(200, 0.3, 0)) };
        let r = gate(&blob(100, 0.30, 0), &good, &config());
        assert_eq!(failed(&r), ["games_vs_previous"], "{r:?}");
        assert_eq!(r.live_version, None);
    }

    #[test]
    fn recall_not_comparable_is_said_and_passes() {
        let c = config();
        // The new model has no recall (holdout 0), the live one has.
        let r = gate(&blob_with(100, &[], 0), &live(1, blob(100, 0.9, 1)), &c);
        assert!(r.ok, "{r:?}");
        let rc = r.checks.iter().find(|c| c.name == "recall_vs_previous").unwrap();
        assert!(rc.detail.starts_with("not comparable: the new model has no recall@k"), "{rc:?}");
        // Different k.
        let r = gate(&blob_with(100, &[("recall@20", 0.1)], 0), &live(1, blob(100, 0.9, 1)), &c);
        assert!(r.ok);
        let rc = r.checks.iter().find(|c| c.name == "recall_vs_previous").unwrap();
        assert!(rc.detail.contains("recall@20") && rc.detail.contains("recall@10"), "{rc:?}");
        // The live one has none.
        let r = gate(&blob(100, 0.1, 0), &live(1, blob_with(100, &[], 1)), &c);
        assert!(r.ok);
        assert!(r.checks.iter().any(|c| c.detail == "not comparable: live v1 has no recall@k"), "{r:?}");
    }

    #[test]
    fn the_same_content_is_unchanged() {
        let r = gate(&blob(100, 0.30, 0), &live(5, blob(100, 0.30, 5)), &config());
        assert!(r.ok && r.unchanged, "{r:?}");
        assert_eq!(r.live_problem, None);
        assert!(r.line().starts_with("accepted, unchanged"), "{}", r.line());
    }

    #[test]
    fn same_content_ignores_the_version_stamp() {
        assert!(same_content(&blob(10, 0.3, 0), &blob(10, 0.3, 7)));
        assert!(!same_content(&blob(10, 0.3, 0), &blob(11, 0.3, 0)));
        assert!(!same_content(b"x", b"x"));
    }
}
