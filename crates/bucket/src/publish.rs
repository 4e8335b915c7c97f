//! `playalike publish`, `rollback` and `status`: versioned, atomic publishing of model blobs to a
//! bucket (`gs://` or `file://`), and the pointer that says which version is live.
//!
//! The publish sequence (DESIGN.md, docs/decisions/401-bucket-layout.md):
//! 1. read `versions.json`, `latest.json` (keeping their generations) and the `models/` listing;
//!    the new version is N = the highest number seen anywhere + 1 (checked: no wrap-around);
//! 2. upload `models/vN/model.bin`, then `models/vN/metadata.json`, both create-only
//!    (`ifGenerationMatch=0`), immutable, cached for a year;
//! 3. rewrite `latest.json` under its generation: the only step visitors see;
//! 4. only then add vN to `versions.json`, under its generation (re-read and retried when it
//!    changed), so the history never names a version that was never live.
//!
//! A crash anywhere leaves `latest.json` naming the previous complete version (it only ever
//! changes in one atomic write, after everything it names exists). A concurrent publisher makes
//! one of the conditional writes fail with HTTP 412; the loser stops with "another publisher won"
//! (exit 13) having overwritten nothing. Retention (`--keep K`) runs only after the pointer moved,
//! from a fresh read of the bucket, and never deletes the version the pointer names at that
//! moment (a rollback may have landed meanwhile).

pub mod bucket;
pub mod history;
pub mod layout;
pub mod runs;

use crate::exit::{ExitCode, Stage, StageError};
use anyhow::Context;
use bucket::{Bucket, Connection, Encoding, Put, StoreError, Target};
use layout::{HistoryEntry, Latest, VersionMetadata, Versions};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Where the bucket is; shared by publish, rollback, status and run.
#[derive(Debug, Clone)]
pub struct BucketConfig {
    /// The bucket: `gs://BUCKET[/PREFIX]` (Cloud Storage) or `file://DIR` (a local folder).
    pub bucket: String,
    /// Cloud Storage API endpoint, for emulators (no credentials are sent then). Also read from
    /// `STORAGE_EMULATOR_HOST`. Default: https://storage.googleapis.com with Application Default
    /// Credentials.
    pub endpoint: Option<String>,
    /// Public base URL of the bucket root, for the absolute URL in latest.json (default for
    /// gs://: https://storage.googleapis.com/BUCKET; none for file://).
    pub public_url: Option<String>,
}

impl BucketConfig {
    /// The bucket `--bucket` names.
    pub fn target(&self) -> anyhow::Result<Target> {
        Target::parse(&self.bucket).context("while reading --bucket").stage(ExitCode::Usage)
    }

    fn connection(&self) -> Connection {
        Connection { endpoint: self.endpoint.clone(), public_url: self.public_url.clone() }
    }
}

/// What `playalike publish` does (resolved from its flags by the CLI).
#[derive(Debug, Clone)]
pub struct Config {
    /// The model blob to publish (written by `playalike train`).
    pub model: PathBuf,
    /// The bucket.
    pub target: BucketConfig,
    /// Keep the newest K versions (and always the live one); delete older ones after the pointer
    /// moved. Default: keep everything. Range 1..
    pub keep: Option<u32>,
    /// Store the blob gzip-encoded on gs:// (browsers decode it transparently). On by default;
    /// file:// always stores it plain.
    pub gzip: bool,
    /// Show what would be written, write nothing.
    pub dry_run: bool,
    /// Print one JSON line instead of text.
    pub json: bool,
}

/// One object written (or, with `--dry-run`, to be written).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Write {
    /// Object name.
    pub name: String,
    /// Decoded size.
    pub bytes: u64,
    /// The precondition: 0 = create only.
    pub if_generation_match: i64,
    /// `Cache-Control`.
    pub cache_control: &'static str,
}

/// What `publish` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The bucket.
    pub bucket: String,
    /// The new version.
    pub version: u32,
    /// The version live before (None on the first publish).
    pub previous: Option<u32>,
    /// SHA-256 of the published blob.
    pub checksum: String,
    /// Decoded blob size.
    pub size: u64,
    /// Games in the model.
    pub games: usize,
    /// Training metrics.
    pub metrics: BTreeMap<String, f64>,
    /// The objects written, in order.
    pub writes: Vec<Write>,
    /// Versions deleted by retention.
    pub deleted: Vec<u32>,
    /// Nothing was written.
    pub dry_run: bool,
    /// Absolute URL of the blob, when the bucket is served over HTTP.
    pub url: Option<String>,
}

/// Tags a bucket failure with its exit code (refused credentials → 14, else `code`), naming the
/// step.
pub(crate) fn tag_store_error(e: StoreError, step: &str, code: ExitCode) -> anyhow::Error {
    let code = if matches!(e, StoreError::Auth { .. }) { ExitCode::Auth } else { code };
    anyhow::Error::new(StageError { code, source: anyhow::Error::new(e).context(format!("while {step}")) })
}

/// Maps a bucket failure to an error tagged with its exit code, naming the step.
fn store<T>(r: Result<T, StoreError>, step: impl FnOnce() -> String) -> anyhow::Result<T> {
    r.map_err(|e| tag_store_error(e, &step(), ExitCode::Publish))
}

/// Test hook: `PLAYALIKE_FAILPOINT=STEP` makes the process exit at once (code 86, no cleanup)
/// right after STEP (`after-blob`, `after-metadata`, `after-latest`, `after-versions`), as a
/// crash would. `PLAYALIKE_FAILPOINT=wait-STEP:DIR:N` makes the process, at STEP, drop a file in
/// DIR and wait until N files are there: a barrier. `after-read` (publish and rollback, after
/// reading the bucket state) makes concurrent publishers read the same state before either
/// writes; `before-pointer` holds a rollback after it checked its target and before it moves
/// the pointer, `runs-read` a run after it read runs.json (the race tests). Only with the
/// `failpoints` feature (the tests enable it; release builds do not read the variable).
pub(crate) async fn failpoint(step: &str) {
    if !cfg!(feature = "failpoints") {
        return;
    }
    let Ok(fp) = std::env::var("PLAYALIKE_FAILPOINT") else { return };
    if fp == step {
        eprintln!("failpoint {step}: exiting abruptly");
        std::process::exit(86);
    }
    if let Some(spec) = fp.strip_prefix(&format!("wait-{step}:")) {
        let Some((dir, n)) = spec.rsplit_once(':') else { return };
        let n: usize = n.parse().unwrap_or(2);
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{}", std::process::id())), b"");
        while std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(n) < n {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// What the bucket holds, read before any write.
struct State {
    /// `versions.json` and its generation (0 = absent).
    versions: Versions,
    versions_gen: i64,
    /// `latest.json` and its generation (0 = absent).
    latest: Option<Latest>,
    latest_gen: i64,
    /// Object names under `models/`, by version.
    objects: BTreeMap<u32, Vec<String>>,
}

impl State {
    /// The highest version number seen anywhere (history, pointer, objects, even orphans of a
    /// crashed publish), so a new version never collides with leftovers.
    fn highest(&self) -> u32 {
        let h = self.versions.versions.iter().map(|e| e.version).max().unwrap_or(0);
        let l = self.latest.as_ref().map(|l| l.version).unwrap_or(0);
        let o = self.objects.keys().next_back().copied().unwrap_or(0);
        h.max(l).max(o)
    }

    /// The entries `versions.json` lacks for the versions this state shows were live: the
    /// pointer's. A publisher that crashed between moving the pointer and recording the history
    /// left its (live) version out; the next one (or a rollback) puts it back.
    fn missing_live_entries(&self) -> Vec<HistoryEntry> {
        let Some(l) = &self.latest else { return Vec::new() };
        if self.versions.versions.iter().any(|e| e.version == l.version) {
            return Vec::new();
        }
        vec![HistoryEntry {
            version: l.version,
            created_at: l.created_at.clone(),
            published_at: l.published_at.clone(),
            checksum: l.checksum.clone(),
            size: l.size,
            games: l.games,
            metrics: l.metrics.clone(),
        }]
    }

    /// True when the version's blob and metadata both exist.
    fn complete(&self, version: u32) -> bool {
        self.objects.get(&version).is_some_and(|names| {
            names.contains(&layout::blob_name(version)) && names.contains(&layout::metadata_name(version))
        })
    }
}

/// N for a new version: the highest number seen anywhere + 1, checked (a stray
/// `models/v4294967295/` object leaves no number to take).
fn next_version(state: &State, target: &Target) -> anyhow::Result<u32> {
    let highest = state.highest();
    highest
        .checked_add(1)
        .with_context(|| {
            format!(
                "{target} already holds v{highest}, the highest version number possible: no version number \
                 is left for a new one (remove the stray objects under models/v{highest}/ by hand)"
            )
        })
        .stage(ExitCode::Publish)
}

async fn read_json<T: serde::de::DeserializeOwned>(
    bucket: &Bucket,
    target: &Target,
    name: &str,
) -> anyhow::Result<Option<(T, i64)>> {
    let max = if name == layout::VERSIONS { layout::MAX_HISTORY } else { layout::MAX_DOCUMENT };
    let got = store(bucket.get(name, max).await, || format!("reading {name} from {target}"))?;
    let Some((bytes, generation)) = got else { return Ok(None) };
    let doc = serde_json::from_slice(&bytes)
        .with_context(|| format!("while parsing {name} from {target} (fix or delete it by hand)"))
        .stage(ExitCode::Publish)?;
    Ok(Some((doc, generation)))
}

async fn read_state(bucket: &Bucket, target: &Target) -> anyhow::Result<State> {
    // List first: on a missing bucket the listing gives the clearest 404.
    let listed = store(bucket.list(layout::MODELS_PREFIX).await, || format!("reading what {target} holds"))?;
    let mut objects: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for o in listed {
        if let Some(v) = layout::version_of(&o.name) {
            objects.entry(v).or_default().push(o.name);
        }
    }
    let (versions, versions_gen) =
        read_json::<Versions>(bucket, target, layout::VERSIONS).await?.unwrap_or_default();
    let (latest, latest_gen) = match read_json::<Latest>(bucket, target, layout::LATEST).await? {
        Some((l, g)) => (Some(l), g),
        None => (None, 0),
    };
    Ok(State { versions, versions_gen, latest, latest_gen, objects })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Opens the bucket, tagging failures (credentials → exit 14).
async fn open(args: &BucketConfig, create: bool) -> anyhow::Result<(Target, Bucket)> {
    let target = args.target()?;
    let bucket =
        store(Bucket::open(&target, &args.connection(), create).await, || format!("opening {target}"))?;
    Ok((target, bucket))
}

/// The live model as latest.json names it.
#[derive(Debug, Clone)]
pub struct LiveBlob {
    /// The live version.
    pub version: u32,
    /// Its blob as downloaded (not yet checked); None when latest.json's `url` names another
    /// object than `models/vN/model.bin` (not downloaded: nothing but our own blob is read).
    pub bytes: Option<Vec<u8>>,
    /// The blob URL latest.json gives (what visitors' loaders download).
    pub url: String,
    /// The SHA-256 latest.json says the blob has: compare before trusting `bytes`.
    pub checksum: String,
}

/// The live version and its blob, downloaded through latest.json; None when nothing is
/// published yet (or a local bucket folder does not exist yet). Failures are tagged `code`
/// (the caller's stage), refused credentials 14.
pub async fn live_blob(args: &BucketConfig, code: ExitCode) -> anyhow::Result<Option<LiveBlob>> {
    let target = args.target()?;
    let bucket = match Bucket::open(&target, &args.connection(), false).await {
        Ok(b) => b,
        Err(StoreError::NoBucket { .. }) if !target.is_gcs() => return Ok(None),
        Err(e) => return Err(tag_store_error(e, &format!("opening {target}"), code)),
    };
    let latest = match bucket.get(layout::LATEST, layout::MAX_DOCUMENT).await {
        Ok(Some((bytes, _))) => bytes,
        Ok(None) => return Ok(None),
        Err(e) => return Err(tag_store_error(e, &format!("reading latest.json from {target}"), code)),
    };
    let latest: Latest = serde_json::from_slice(&latest)
        .with_context(|| format!("while parsing latest.json from {target}"))
        .stage(code)?;
    // The pointer must name its own blob; any other object is not downloaded (the gate reports
    // such a pointer as a broken live model).
    let expected = layout::blob_name(latest.version);
    let live = LiveBlob { version: latest.version, bytes: None, checksum: latest.checksum, url: latest.url };
    if live.url != expected {
        return Ok(Some(live));
    }
    match bucket.get(&expected, layout::MAX_BLOB).await {
        Ok(Some((bytes, _))) => Ok(Some(LiveBlob { bytes: Some(bytes), ..live })),
        Ok(None) => {
            Err(anyhow::anyhow!("latest.json of {target} names {expected}, which is missing")).stage(code)
        }
        Err(e) => Err(tag_store_error(e, &format!("downloading {expected} from {target}"), code)),
    }
}

/// Publishes the model as a new version. Writes nothing with `--dry-run`.
pub async fn execute(args: &Config) -> anyhow::Result<Summary> {
    let target = args.target.target()?;
    let path = &args.model;
    let original = std::fs::read(path)
        .with_context(|| format!("while reading the model {}", path.display()))
        .stage(ExitCode::Publish)?;
    let (_, mut catalog) = playalike_engine::format::decode_catalog(&original)
        .with_context(|| format!("the model {} does not decode; refusing to publish it", path.display()))
        .stage(ExitCode::Publish)?;

    let (bucket, state) = match Bucket::open(&target, &args.target.connection(), !args.dry_run).await {
        Ok(b) => {
            let state = read_state(&b, &target).await?;
            (Some(b), state)
        }
        // A dry run against a local folder that does not exist yet: it would be created empty.
        Err(StoreError::NoBucket { .. }) if args.dry_run && !target.is_gcs() => {
            let empty = State {
                versions: Versions::default(),
                versions_gen: 0,
                latest: None,
                latest_gen: 0,
                objects: BTreeMap::new(),
            };
            (None, empty)
        }
        Err(e) => return store(Err(e), || format!("opening {target}")),
    };
    failpoint("after-read").await;

    let version = next_version(&state, &target)?;
    // The version lives in the bucket's files *and* in the blob, so `status()` in the browser
    // reports it (docs/decisions/402-version-stamped-at-publish.md). Re-encode and check it.
    catalog.metadata.model_version = version;
    let blob = playalike_engine::format::encode_catalog(&catalog)
        .context("while stamping the version into the blob")
        .stage(ExitCode::Publish)?;
    let engine = playalike_engine::Engine::from_bytes(&blob)
        .context("the stamped blob does not decode; refusing to publish it")
        .stage(ExitCode::Publish)?;
    let published_at = now();
    let meta_model = engine.metadata();
    let encoding = if target.is_gcs() && args.gzip { Encoding::Gzip } else { Encoding::Identity };
    let meta = VersionMetadata {
        schema: layout::SCHEMA,
        version,
        created_at: if meta_model.created_at.is_empty() {
            published_at.clone()
        } else {
            meta_model.created_at.clone()
        },
        published_at: published_at.clone(),
        games: engine.len(),
        metrics: meta_model.metrics.clone(),
        checksum: layout::sha256_hex(&blob),
        size: blob.len() as u64,
        encoding: encoding.name().to_string(),
        format_version: format!(
            "{}.{}",
            playalike_engine::format::FORMAT_MAJOR,
            playalike_engine::format::FORMAT_MINOR
        ),
        source: meta_model.source.clone(),
        builder_version: meta_model.builder_version.clone(),
        publisher_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let meta_json = serde_json::to_vec_pretty(&meta).context("while writing metadata.json")?;
    // versions.json names only versions that were live: ours is added after the pointer moved
    // (with the live one the history may lack, see `missing_live_entries`).
    let mut new_entries = state.missing_live_entries();
    new_entries.push(HistoryEntry::of(&meta));
    let versions = with_entries(&state.versions, &new_entries);
    let versions_json = serde_json::to_vec_pretty(&versions).context("while writing versions.json")?;
    let blob_name = layout::blob_name(version);
    let absolute_url = bucket.as_ref().and_then(|b| b.public_url(&blob_name));
    let latest = Latest::pointing_at(&meta, absolute_url.clone(), &published_at);
    let latest_json = serde_json::to_vec_pretty(&latest).context("while writing latest.json")?;

    let meta_name = layout::metadata_name(version);
    let plan: Vec<(Put<'_>, &str)> = vec![
        (
            Put {
                name: &blob_name,
                bytes: &blob,
                content_type: "application/octet-stream",
                cache_control: layout::CACHE_IMMUTABLE,
                encoding,
                if_generation_match: 0,
            },
            "after-blob",
        ),
        (
            Put {
                name: &meta_name,
                bytes: &meta_json,
                content_type: "application/json",
                cache_control: layout::CACHE_IMMUTABLE,
                encoding: Encoding::Identity,
                if_generation_match: 0,
            },
            "after-metadata",
        ),
        (
            Put {
                name: layout::LATEST,
                bytes: &latest_json,
                content_type: "application/json",
                cache_control: layout::CACHE_POINTER,
                encoding: Encoding::Identity,
                if_generation_match: state.latest_gen,
            },
            "after-latest",
        ),
        (
            Put {
                name: layout::VERSIONS,
                bytes: &versions_json,
                content_type: "application/json",
                cache_control: layout::CACHE_POINTER,
                encoding: Encoding::Identity,
                if_generation_match: state.versions_gen,
            },
            "after-versions",
        ),
    ];
    let writes: Vec<Write> = plan
        .iter()
        .map(|(p, _)| Write {
            name: p.name.to_string(),
            bytes: p.bytes.len() as u64,
            if_generation_match: p.if_generation_match,
            cache_control: p.cache_control,
        })
        .collect();
    let mut summary = Summary {
        bucket: target.to_string(),
        version,
        previous: state.latest.as_ref().map(|l| l.version),
        checksum: meta.checksum.clone(),
        size: meta.size,
        games: meta.games,
        metrics: meta.metrics.clone(),
        writes,
        deleted: Vec::new(),
        dry_run: args.dry_run,
        url: absolute_url,
    };
    let Some(bucket) = bucket.filter(|_| !args.dry_run) else { return Ok(summary) };

    for (i, (put, fp)) in plan.iter().enumerate() {
        if put.name == layout::VERSIONS {
            // The pointer moved: v{version} is live. Record it, re-reading the history when
            // something else changed it since (a rollback does not, another publisher might).
            record_history(&bucket, &target, &state, &new_entries, version).await?;
            tracing::info!("wrote {}", put.name);
            failpoint(fp).await;
            continue;
        }
        store(bucket.put(put).await, || {
            format!(
                "publishing v{version} to {target}: uploading {} (step {} of {})",
                put.name,
                i + 1,
                plan.len()
            )
        })?;
        tracing::info!("wrote {} ({} bytes)", put.name, put.bytes.len());
        failpoint(fp).await;
    }

    if let Some(keep) = args.keep {
        summary.deleted = retention(&bucket, &target, version, keep as usize).await?;
    }
    // The picture of the history: v{version} is live and recorded whatever happens to it.
    if let Err(e) = history::write(&bucket, &target).await {
        tracing::warn!("v{version} is live, but {} was not updated: {e:#}", history::PAGE);
    }
    Ok(summary)
}

/// `history` plus `entries` (those it lacks), by increasing version.
fn with_entries(history: &Versions, entries: &[HistoryEntry]) -> Versions {
    let mut versions = history.clone();
    versions.schema = layout::SCHEMA;
    for e in entries {
        if !versions.versions.iter().any(|h| h.version == e.version) {
            versions.versions.push(e.clone());
        }
    }
    versions.versions.sort_by_key(|e| e.version);
    versions
}

/// Attempts at recording the history when other writers keep changing it.
const HISTORY_ATTEMPTS: u32 = 5;

/// Adds `entries` to `versions.json` under a generation precondition, after the pointer moved.
/// The first attempt uses the state read at the start; a lost race re-reads and tries again.
async fn record_history(
    bucket: &Bucket,
    target: &Target,
    state: &State,
    entries: &[HistoryEntry],
    version: u32,
) -> anyhow::Result<()> {
    let (mut history, mut generation) = (state.versions.clone(), state.versions_gen);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let doc = with_entries(&history, entries);
        if doc == history {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(&doc).context("while writing versions.json")?;
        let step = || {
            format!(
                "recording v{version} in {target}/versions.json (v{version} is live; the next publish \
                 records it if this fails)"
            )
        };
        match bucket.put_if_unchanged(layout::VERSIONS, &json, "application/json", generation).await {
            Ok(true) => return Ok(()),
            Ok(false) if attempt < HISTORY_ATTEMPTS => {
                tracing::warn!("versions.json changed since it was read; re-reading it");
                let (h, g) =
                    read_json::<Versions>(bucket, target, layout::VERSIONS).await?.unwrap_or_default();
                (history, generation) = (h, g);
            }
            Ok(false) => {
                let lost = StoreError::PreconditionFailed {
                    target: target.to_string(),
                    name: layout::VERSIONS.into(),
                    expected: generation,
                };
                return store(Err(lost), step);
            }
            Err(e) => return store(Err(e), step),
        }
    }
}

/// The versions retention deletes: every version with objects that is neither among the newest
/// `keep` published versions nor `protected` (ours, and the live one), and older than the newest
/// published version (a higher number may be another publisher's upload in flight).
fn doomed(state: &State, protected: &[u32], keep: usize) -> Vec<u32> {
    let published: BTreeSet<u32> = state.versions.versions.iter().map(|e| e.version).collect();
    let newest = published.iter().next_back().copied().into_iter().chain(protected.iter().copied()).max();
    let kept: BTreeSet<u32> =
        published.iter().rev().take(keep).copied().chain(protected.iter().copied()).collect();
    state.objects.keys().copied().filter(|v| !kept.contains(v) && newest.is_some_and(|n| *v < n)).collect()
}

/// Deletes old versions (`--keep`). Works from the bucket as it is *now*, not as it was when
/// the publish began: a rollback may have moved the pointer since. The pointer is read again
/// right before each version goes, and the version it names is never deleted
/// (docs/decisions/408-publish-hardening.md).
async fn retention(bucket: &Bucket, target: &Target, ours: u32, keep: usize) -> anyhow::Result<Vec<u32>> {
    let fresh = read_state(bucket, target).await?;
    let mut protected = vec![ours];
    protected.extend(fresh.latest.as_ref().map(|l| l.version));
    let mut deleted = Vec::new();
    for v in doomed(&fresh, &protected, keep) {
        // Re-read the pointer right before deleting: a rollback that landed since names v.
        let live = read_json::<Latest>(bucket, target, layout::LATEST).await?.map(|(l, _)| l.version);
        if live == Some(v) {
            tracing::warn!("retention: v{v} became live meanwhile (a rollback); keeping it");
            continue;
        }
        // The blob first: a version without its blob is incomplete and never chosen again.
        let mut names = fresh.objects.get(&v).cloned().unwrap_or_default();
        names.sort_by_key(|n| !n.ends_with("model.bin"));
        for name in names {
            store(bucket.delete(&name).await, || format!("deleting {name} from {target} (retention)"))?;
        }
        tracing::info!("retention: deleted v{v}");
        deleted.push(v);
    }
    Ok(deleted)
}

/// What `playalike rollback` does (resolved from its flags by the CLI).
#[derive(Debug, Clone)]
pub struct RollbackConfig {
    /// The bucket.
    pub target: BucketConfig,
    /// The version to make live (`v3` or `3`).
    pub version: Option<String>,
    /// Make the newest complete version older than the live one live.
    pub previous: bool,
    /// Print one JSON line instead of text.
    pub json: bool,
}

/// What `rollback` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackSummary {
    /// The bucket.
    pub bucket: String,
    /// The version live before.
    pub from: u32,
    /// The version live now.
    pub to: u32,
    /// Its checksum (verified against the downloaded blob).
    pub checksum: String,
}

/// Points `latest.json` at another complete version, after checking it decodes.
pub async fn execute_rollback(args: &RollbackConfig) -> anyhow::Result<RollbackSummary> {
    let (target, bucket) = open(&args.target, false).await?;
    let state = read_state(&bucket, &target).await?;
    failpoint("after-read").await;
    let Some(live) = state.latest.as_ref().map(|l| l.version) else {
        return Err(anyhow::anyhow!(
            "{target} has no latest.json: nothing was published yet, nothing to roll back"
        ))
        .stage(ExitCode::Publish);
    };
    let to = match (&args.version, args.previous) {
        (Some(v), _) => layout::parse_version(v)
            .with_context(|| format!("--version `{v}` is not a version (expected vN or N, N ≥ 1)"))
            .stage(ExitCode::Usage)?,
        (None, _) => state.objects.keys().rev().copied().find(|v| *v < live && state.complete(*v)).with_context(|| {
            format!("{target} holds no complete version older than the live v{live} (retention may have deleted them)")
        })
        .stage(ExitCode::Publish)?,
    };
    if !state.complete(to) {
        return Err(anyhow::anyhow!(
            "{target} has no complete v{to} (both {} and {} must exist)",
            layout::blob_name(to),
            layout::metadata_name(to)
        ))
        .stage(ExitCode::Publish);
    }
    let meta_name = layout::metadata_name(to);
    let (meta_bytes, _) = store(bucket.get(&meta_name, layout::MAX_DOCUMENT).await, || {
        format!("reading {meta_name} from {target}")
    })?
    .with_context(|| format!("{meta_name} vanished from {target}"))
    .stage(ExitCode::Publish)?;
    let meta: VersionMetadata = serde_json::from_slice(&meta_bytes)
        .with_context(|| format!("while parsing {meta_name} from {target}"))
        .stage(ExitCode::Publish)?;
    let blob_name = layout::blob_name(to);
    let (blob, _) = store(bucket.get(&blob_name, layout::MAX_BLOB).await, || {
        format!("downloading {blob_name} from {target}")
    })?
    .with_context(|| format!("{blob_name} vanished from {target}"))
    .stage(ExitCode::Publish)?;
    let checksum = layout::sha256_hex(&blob);
    if checksum != meta.checksum {
        return Err(anyhow::anyhow!(
            "{target}/{blob_name} has sha256 {checksum}, its metadata.json says {}; refusing to roll back to it",
            meta.checksum
        ))
        .stage(ExitCode::Publish);
    }
    playalike_engine::Engine::from_bytes(&blob)
        .with_context(|| format!("{target}/{blob_name} does not decode; refusing to roll back to it"))
        .stage(ExitCode::Publish)?;
    let latest = Latest::pointing_at(&meta, bucket.public_url(&blob_name), &now());
    let json = serde_json::to_vec_pretty(&latest).context("while writing latest.json")?;
    let put = Put {
        name: layout::LATEST,
        bytes: &json,
        content_type: "application/json",
        cache_control: layout::CACHE_POINTER,
        encoding: Encoding::Identity,
        if_generation_match: state.latest_gen,
    };
    failpoint("before-pointer").await;
    store(bucket.put(&put).await, || {
        format!("rolling {target} back from v{live} to v{to}: uploading latest.json")
    })?;
    // Retention (of a publisher that read the pointer before this write) may have deleted v{to}
    // after it was checked above: the pointer would name a 404. Put back what vanished, from the
    // verified bytes in hand (create-only, so nothing is overwritten).
    restore_if_deleted(&bucket, &target, to, &blob, &meta_bytes, &meta).await?;
    // versions.json names every version that went live. It may lack v{live} (its publisher
    // crashed before recording it: with the pointer moved away, no publish would put it back)
    // and v{to} (a complete version that was never live). Recording them is best-effort: the
    // rollback is done whatever happens to the history.
    let mut entries = state.missing_live_entries();
    entries.push(HistoryEntry::of(&meta));
    if let Err(e) = record_history(&bucket, &target, &state, &entries, to).await {
        tracing::warn!("v{to} is live, but {} was not updated: {e:#}", layout::VERSIONS);
    }
    // The picture names the live version: redraw it. Like after a publish, a page that cannot be
    // written is a warning: v{to} is live whatever happens to it.
    if let Err(e) = history::write(&bucket, &target).await {
        tracing::warn!("v{to} is live, but {} was not updated: {e:#}", history::PAGE);
    }
    Ok(RollbackSummary { bucket: target.to_string(), from: live, to, checksum })
}

/// Re-creates v{to}'s objects when they vanished after the rollback checked them.
async fn restore_if_deleted(
    bucket: &Bucket,
    target: &Target,
    to: u32,
    blob: &[u8],
    meta_bytes: &[u8],
    meta: &VersionMetadata,
) -> anyhow::Result<()> {
    let prefix = format!("{}v{to}/", layout::MODELS_PREFIX);
    let present: Vec<String> =
        store(bucket.list(&prefix).await, || format!("checking {target}/{prefix} after the rollback"))?
            .into_iter()
            .map(|o| o.name)
            .collect();
    let encoding = if target.is_gcs() && meta.encoding == Encoding::Gzip.name() {
        Encoding::Gzip
    } else {
        Encoding::Identity
    };
    let (blob_name, meta_name) = (layout::blob_name(to), layout::metadata_name(to));
    let objects = [
        (&blob_name, blob, "application/octet-stream", encoding),
        (&meta_name, meta_bytes, "application/json", Encoding::Identity),
    ];
    for (name, bytes, content_type, encoding) in objects {
        if present.contains(name) {
            continue;
        }
        tracing::warn!("{name} was deleted (by retention) while rolling back to v{to}; restored it");
        let put = Put {
            name,
            bytes,
            content_type,
            cache_control: layout::CACHE_IMMUTABLE,
            encoding,
            if_generation_match: 0,
        };
        match bucket.put(&put).await {
            // Someone else put it back first: immutable objects, so it holds the same bytes.
            Ok(_) | Err(StoreError::PreconditionFailed { .. }) => {}
            Err(e) => {
                return store(Err(e), || {
                    format!("restoring {name} in {target}: latest.json names v{to}, which is now incomplete")
                });
            }
        }
    }
    Ok(())
}

/// What `playalike status` checks (resolved from its flags by the CLI).
#[derive(Debug, Clone)]
pub struct StatusConfig {
    /// The bucket.
    pub target: BucketConfig,
    /// Exit 15 when the live version was published more than HOURS ago (or nothing is live):
    /// the check for an uptime monitor or a CI step after the nightly run. Positive; fractions
    /// allowed.
    pub max_age: Option<f64>,
    /// Exit 15 when the live model's recall@10 is below R, or it carries no recall@10 (or nothing
    /// is live). Range 0..=1.
    pub min_recall: Option<f64>,
    /// Exit 15 when more than N of the newest runs recorded in runs.json failed in a row (or
    /// runs.json cannot be read): the nightly job keeps failing while the last good model stays
    /// live. 0 = the newest run must not have failed.
    pub max_failed_runs: Option<u32>,
    /// Print one JSON line instead of text.
    pub json: bool,
}

/// The metric `--min-recall` reads.
pub const STATUS_RECALL: &str = "recall@10";

/// One version in `status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusEntry {
    /// The history entry.
    #[serde(flatten)]
    pub entry: HistoryEntry,
    /// Its objects are still in the bucket.
    pub available: bool,
    /// It is the live version.
    pub live: bool,
}

/// One check `status` was asked to make (`--max-age`, `--min-recall`, `--max-failed-runs`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCheck {
    /// `maxAge`, `minRecall` or `maxFailedRuns`.
    pub check: String,
    /// Passed.
    pub ok: bool,
    /// What was measured against what.
    pub detail: String,
}

/// What `status` found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSummary {
    /// The bucket.
    pub bucket: String,
    /// The pointer, None when nothing was published yet.
    pub latest: Option<Latest>,
    /// Seconds since the live version was published (`latest.publishedAt`): the model's
    /// staleness, what `--max-age` measures. None when unknown.
    pub age_seconds: Option<i64>,
    /// Seconds since the live model's `createdAt`: by default the newest record of the data it
    /// was trained on ("data as of"). None when unknown.
    pub data_age_seconds: Option<i64>,
    /// The checks asked for; empty without `--max-age` / `--min-recall` / `--max-failed-runs`.
    pub checks: Vec<StatusCheck>,
    /// False when a check failed (the command then exits 15).
    pub healthy: bool,
    /// History, oldest first.
    pub versions: Vec<StatusEntry>,
    /// The last runs recorded in runs.json, oldest first.
    pub runs: Vec<runs::RunRecord>,
    /// Why runs.json could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_error: Option<String>,
    /// How many of the newest recorded runs failed in a row.
    pub failed_runs_in_a_row: usize,
    /// recall@10, coverage@10 and size of the last versions, oldest first.
    pub quality: Vec<history::QualityRow>,
}

/// Runs and versions `status` shows.
const STATUS_RECENT: usize = 10;

fn seconds_since(rfc3339: &str, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| (now - t.with_timezone(&chrono::Utc)).num_seconds())
}

/// The `--max-age` and `--min-recall` verdicts on the live pointer.
fn status_checks(
    latest: Option<&Latest>,
    age_seconds: Option<i64>,
    max_age: Option<f64>,
    min_recall: Option<f64>,
) -> Vec<StatusCheck> {
    let mut checks = Vec::new();
    if let Some(hours) = max_age {
        let (ok, detail) = match (latest, age_seconds) {
            (None, _) => (false, "nothing is live (no latest.json)".to_string()),
            (Some(l), None) => (
                false,
                format!("the live v{} has no readable publish time ({:?})", l.version, l.published_at),
            ),
            (Some(l), Some(age)) => {
                let age_h = age as f64 / 3600.0;
                let ok = age_h <= hours;
                let verb = if ok { "within" } else { "older than" };
                (
                    ok,
                    format!(
                        "live v{} published {} ({age_h:.1} h ago): {verb} --max-age {hours} h",
                        l.version, l.published_at
                    ),
                )
            }
        };
        checks.push(StatusCheck { check: "maxAge".into(), ok, detail });
    }
    if let Some(min) = min_recall {
        let (ok, detail) = match latest {
            None => (false, "nothing is live (no latest.json)".to_string()),
            Some(l) => match l.metrics.get(STATUS_RECALL) {
                Some(r) if r.is_finite() => {
                    let ok = *r >= min;
                    let verb = if ok { "at or above" } else { "below" };
                    (ok, format!("live v{} {STATUS_RECALL} = {r:.4}: {verb} --min-recall {min}", l.version))
                }
                _ => (
                    false,
                    format!(
                        "live v{} carries no {STATUS_RECALL} (metrics: {})",
                        l.version,
                        if l.metrics.is_empty() {
                            "none".to_string()
                        } else {
                            l.metrics.keys().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ),
                ),
            },
        };
        checks.push(StatusCheck { check: "minRecall".into(), ok, detail });
    }
    checks
}

/// The `--max-failed-runs` verdict on runs.json: `failed` of the newest records failed in a row;
/// `error` is why runs.json could not be read (then the check fails: unknown is never a pass).
fn runs_check(failed: usize, error: Option<&str>, max_failed_runs: Option<u32>) -> Option<StatusCheck> {
    let max = max_failed_runs?;
    let (ok, detail) = match error {
        Some(e) => (false, format!("{} unreadable: {e}", runs::RUNS)),
        None => {
            let ok = u64::try_from(failed).is_ok_and(|f| f <= u64::from(max));
            let verb = if ok { "within" } else { "more than" };
            let runs = if failed == 1 { "run" } else { "runs" };
            (
                ok,
                format!(
                    "the newest {failed} recorded {runs} failed in a row: {verb} --max-failed-runs {max}"
                ),
            )
        }
    };
    Some(StatusCheck { check: "maxFailedRuns".into(), ok, detail })
}

/// Reads the live version, its metrics and the history, and makes the checks asked for.
pub async fn execute_status(args: &StatusConfig) -> anyhow::Result<StatusSummary> {
    let (target, bucket) = open(&args.target, false).await?;
    let state = read_state(&bucket, &target).await?;
    let now = chrono::Utc::now();
    let live = state.latest.as_ref().map(|l| l.version);
    let age_seconds = state.latest.as_ref().and_then(|l| seconds_since(&l.published_at, now));
    let data_age_seconds = state.latest.as_ref().and_then(|l| seconds_since(&l.created_at, now));
    let mut checks = status_checks(state.latest.as_ref(), age_seconds, args.max_age, args.min_recall);
    let versions = state
        .versions
        .versions
        .iter()
        .map(|e| StatusEntry {
            entry: e.clone(),
            available: state.complete(e.version),
            live: Some(e.version) == live,
        })
        .collect();
    let (runs, runs_error) = match runs::read(&bucket, &target).await {
        Ok((r, _)) => (r, None),
        Err(e) => (runs::Runs::default(), Some(format!("{e:#}"))),
    };
    let failed_runs_in_a_row = runs::failed_in_a_row(&runs);
    checks.extend(runs_check(failed_runs_in_a_row, runs_error.as_deref(), args.max_failed_runs));
    let healthy = checks.iter().all(|c| c.ok);
    Ok(StatusSummary {
        bucket: target.to_string(),
        latest: state.latest,
        age_seconds,
        data_age_seconds,
        checks,
        healthy,
        versions,
        runs: runs::last(&runs, STATUS_RECENT).to_vec(),
        runs_error,
        failed_runs_in_a_row,
        quality: history::quality(&state.versions, STATUS_RECENT),
    })
}

/// An age in words: `90 s`, `12 min`, `5 h`, `3 days`.
pub fn human_age(secs: i64) -> String {
    match secs {
        s if s < 0 => "in the future (clock skew?)".to_string(),
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// `… ago`, or `age unknown`.
pub fn ago(secs: Option<i64>) -> String {
    match secs {
        Some(s) if s < 0 => human_age(s),
        Some(s) => format!("{} ago", human_age(s)),
        None => "age unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(published: &[u32], with_objects: &[u32]) -> State {
        let entry = |v: u32| HistoryEntry {
            version: v,
            created_at: String::new(),
            published_at: String::new(),
            checksum: String::new(),
            size: 0,
            games: 0,
            metrics: BTreeMap::new(),
        };
        State {
            versions: Versions { schema: 1, versions: published.iter().map(|v| entry(*v)).collect() },
            versions_gen: 1,
            latest: None,
            latest_gen: 1,
            objects: with_objects
                .iter()
                .map(|v| (*v, vec![layout::blob_name(*v), layout::metadata_name(*v)]))
                .collect(),
        }
    }

    #[test]
    fn retention_keeps_newest_and_live() {
        // published, objects, live, keep → deleted
        type Case<'a> = (&'a [u32], &'a [u32], u32, usize, &'a [u32]);
        let cases: &[Case<'_>] = &[
            // published, objects, live, keep → deleted
            (&[1, 2, 3, 4, 5], &[1, 2, 3, 4, 5], 5, 2, &[1, 2, 3]),
            (&[1, 2, 3, 4, 5], &[1, 2, 3, 4, 5], 1, 2, &[2, 3]), // rolled back to v1: live stays
            (&[1, 2], &[1, 2], 2, 5, &[]),
            (&[1, 3], &[1, 2, 3], 3, 1, &[1, 2]), // v2 is an orphan of a crashed publish
            (&[1, 2], &[1, 2, 3], 2, 1, &[1]),    // v3 may be in flight: left alone
        ];
        for (published, objects, live, keep, want) in cases {
            let s = state(published, objects);
            assert_eq!(
                doomed(&s, &[*live], *keep),
                *want,
                "{published:?} {objects:?} live {live} keep {keep}"
            );
        }
    }

    #[test]
    fn highest_counts_orphans() {
        let mut s = state(&[1, 2], &[1, 2, 3]);
        assert_eq!(s.highest(), 3);
        s.objects.clear();
        assert_eq!(s.highest(), 2);
        assert!(!s.complete(1));
    }

    fn latest(published_at: &str, metrics: &[(&str, f64)]) -> Latest {
        Latest::pointing_at(
            &VersionMetadata {
                schema: layout::SCHEMA,
                version: 7,
                created_at: "2023-07-09T00:00:00Z".into(),
                published_at: published_at.into(),
                games: 3,
                metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                checksum: "00".into(),
                size: 1,
                encoding: "identity".into(),
                format_version: "1.0".into(),
                source: "test".into(),
                builder_version: "0".into(),
                publisher_version: "0".into(),
            },
            None,
            published_at,
        )
    }

    #[test]
    fn status_checks_measure_the_publish_time_and_recall_at_10() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().to_utc();
        let l = latest("2026-12-01T00:00:00Z", &[("recall@10", 0.40), ("recall@20", 0.9)]);
        let age = seconds_since(&l.published_at, now);
        assert_eq!(age, Some(12 * 3600));
        // Data from 2023 does not make a model published 12 h ago stale.
        let c = status_checks(Some(&l), age, Some(26.0), Some(0.35));
        assert!(c.iter().all(|c| c.ok), "{c:?}");
        let c = status_checks(Some(&l), age, Some(11.5), Some(0.45));
        assert_eq!(
            c.iter().map(|c| (c.check.as_str(), c.ok)).collect::<Vec<_>>(),
            [("maxAge", false), ("minRecall", false)]
        );
        assert!(c[0].detail.contains("older than --max-age 11.5 h"), "{}", c[0].detail);
        assert!(c[1].detail.contains("0.4000: below --min-recall 0.45"), "{}", c[1].detail);
        // Unknown is a failure, never a pass: no recall@10, no publish time, nothing live.
        let c = status_checks(Some(&latest("x", &[("recall@20", 0.9)])), None, Some(26.0), Some(0.1));
        assert!(c.iter().all(|c| !c.ok), "{c:?}");
        assert!(c[1].detail.contains("no recall@10 (metrics: recall@20)"), "{}", c[1].detail);
        let c = status_checks(None, None, Some(26.0), Some(0.1));
        assert!(c.iter().all(|c| !c.ok && c.detail.contains("nothing is live")), "{c:?}");
        assert!(status_checks(Some(&l), age, None, None).is_empty());
    }

    #[test]
    fn the_failed_runs_check_counts_the_streak_and_fails_on_an_unreadable_runs_json() {
        assert!(runs_check(5, None, None).is_none(), "not asked for");
        let c = runs_check(0, None, Some(0)).unwrap();
        assert!(c.ok && c.check == "maxFailedRuns", "{c:?}");
        let c = runs_check(2, None, Some(2)).unwrap();
        assert!(c.ok && c.detail.contains("newest 2 recorded runs failed in a row: within"), "{c:?}");
        let c = runs_check(3, None, Some(2)).unwrap();
        assert!(!c.ok && c.detail.contains("more than --max-failed-runs 2"), "{c:?}");
        let c = runs_check(1, None, Some(0)).unwrap();
        assert!(!c.ok && c.detail.contains("newest 1 recorded run failed"), "{c:?}");
        let c = runs_check(0, Some("while parsing runs.json"), Some(5)).unwrap();
        assert!(!c.ok && c.detail == "runs.json unreadable: while parsing runs.json", "{c:?}");
    }

    #[test]
    fn version_numbers_are_checked() {
        let target = Target::parse("file:///tmp/x").unwrap();
        assert_eq!(next_version(&state(&[1, 2], &[1, 2, 3]), &target).unwrap(), 4);
        let full = state(&[1], &[1, u32::MAX]);
        let err = next_version(&full, &target).unwrap_err();
        assert_eq!(crate::exit::code_of(&err), ExitCode::Publish);
        assert!(format!("{err:#}").contains("v4294967295"), "{err:#}");
    }

    #[test]
    fn history_gains_only_live_versions() {
        let mut s = state(&[1, 2], &[1, 2, 3]);
        assert!(s.missing_live_entries().is_empty(), "no pointer: nothing to add");
        let meta = |v: u32| VersionMetadata {
            schema: 1,
            version: v,
            created_at: String::new(),
            published_at: String::new(),
            games: 1,
            metrics: BTreeMap::new(),
            checksum: format!("c{v}"),
            size: 1,
            encoding: "identity".into(),
            format_version: "1.0".into(),
            source: String::new(),
            builder_version: String::new(),
            publisher_version: String::new(),
        };
        s.latest = Some(Latest::pointing_at(&meta(2), None, ""));
        assert!(s.missing_live_entries().is_empty(), "the live v2 is recorded already");
        // v3 went live but its publisher crashed before recording it.
        s.latest = Some(Latest::pointing_at(&meta(3), None, ""));
        let missing = s.missing_live_entries();
        assert_eq!(missing.iter().map(|e| (e.version, e.checksum.as_str())).collect::<Vec<_>>(), [(3, "c3")]);
        let mut entries = missing;
        entries.push(HistoryEntry::of(&meta(4)));
        let h = with_entries(&s.versions, &entries);
        assert_eq!(h.versions.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(with_entries(&h, &entries), h, "adding twice changes nothing");
    }

    #[test]
    fn human_ages() {
        assert_eq!(human_age(30), "30 s");
        assert_eq!(human_age(600), "10 min");
        assert_eq!(human_age(10_800), "3 h");
        assert_eq!(human_age(3 * 86_400), "3 days");
    }
}
