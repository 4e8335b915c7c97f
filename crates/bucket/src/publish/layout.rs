//! The bucket layout: object names, cache policies and the three JSON documents
//! (`models/vN/metadata.json`, `versions.json`, `latest.json`). Key names are camelCase and
//! stable: the web loader reads `latest.json` (docs/decisions/401-bucket-layout.md).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The pointer to the live version.
pub const LATEST: &str = "latest.json";
/// The history of published versions.
pub const VERSIONS: &str = "versions.json";
/// Prefix of all versioned objects.
pub const MODELS_PREFIX: &str = "models/";
/// Schema version of the three JSON documents (bumped on incompatible changes).
pub const SCHEMA: u32 = 1;

/// Largest `latest.json` or `metadata.json` read from a bucket (a few hundred bytes in practice).
pub const MAX_DOCUMENT: u64 = 1 << 20;
/// Largest `versions.json` read from a bucket (about 500 bytes a version: decades of nightly runs).
pub const MAX_HISTORY: u64 = 16 << 20;
/// Largest blob read from a bucket: the largest the engine decodes.
pub const MAX_BLOB: u64 = playalike_engine::format::MAX_BLOB;

/// Versioned objects never change once written: cache them for a year.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The pointer and the history change on publish and rollback: a visitor (or CDN) may keep them
/// a minute, then must revalidate (cheap: a 304 against the ETag).
pub const CACHE_POINTER: &str = "public, max-age=60, must-revalidate";

/// `models/v{N}/model.bin`.
pub fn blob_name(version: u32) -> String {
    format!("models/v{version}/model.bin")
}

/// `models/v{N}/metadata.json`.
pub fn metadata_name(version: u32) -> String {
    format!("models/v{version}/metadata.json")
}

/// The version number of a `models/v{N}/…` object name.
pub fn version_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(MODELS_PREFIX)?.strip_prefix('v')?;
    let (n, _) = rest.split_once('/')?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Parses `v3` or `3`.
pub fn parse_version(s: &str) -> Option<u32> {
    let n = s.strip_prefix('v').unwrap_or(s);
    n.parse().ok().filter(|v| *v > 0)
}

/// `models/v{N}/metadata.json`: everything about one published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionMetadata {
    /// Document schema ([`SCHEMA`]).
    pub schema: u32,
    /// The version number N.
    pub version: u32,
    /// When the model was trained (RFC 3339), from the blob.
    pub created_at: String,
    /// When this version was published (RFC 3339).
    pub published_at: String,
    /// Number of games in the model.
    pub games: usize,
    /// Training metrics, from the blob.
    pub metrics: BTreeMap<String, f64>,
    /// SHA-256 (lowercase hex) of the decoded blob bytes.
    pub checksum: String,
    /// Size in bytes of the decoded blob.
    pub size: u64,
    /// `identity` or `gzip`: how the blob is stored (`Content-Encoding`); HTTP clients decode
    /// gzip transparently, and `checksum`/`size` are always over the decoded bytes.
    pub encoding: String,
    /// Blob format version (`major.minor`) the blob was written with.
    pub format_version: String,
    /// Where the data came from, from the blob.
    pub source: String,
    /// Version of the builder that trained the blob.
    pub builder_version: String,
    /// Version of the builder that published it.
    pub publisher_version: String,
}

/// One entry of `versions.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The version number N.
    pub version: u32,
    /// When the model was trained.
    pub created_at: String,
    /// When it was published.
    pub published_at: String,
    /// SHA-256 (hex) of the decoded blob.
    pub checksum: String,
    /// Decoded blob size.
    pub size: u64,
    /// Number of games.
    pub games: usize,
    /// Training metrics.
    pub metrics: BTreeMap<String, f64>,
}

/// `versions.json`: every version ever published, oldest first. Retention deletes objects but
/// keeps the history (status marks deleted versions).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Versions {
    /// Document schema ([`SCHEMA`]).
    pub schema: u32,
    /// The entries, by increasing version.
    pub versions: Vec<HistoryEntry>,
}

/// `latest.json`: the pointer the web loader reads first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Latest {
    /// Document schema ([`SCHEMA`]).
    pub schema: u32,
    /// The live version number N.
    pub version: u32,
    /// The blob, relative to `latest.json`: `models/vN/model.bin`.
    pub url: String,
    /// The blob's absolute URL when the bucket is served over HTTP (gs://, or `--public-url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute_url: Option<String>,
    /// The version's metadata, relative to `latest.json`.
    pub metadata_url: String,
    /// SHA-256 (hex) of the decoded blob: verify after download; cache key.
    pub checksum: String,
    /// Decoded blob size in bytes (use it as the progress total: with gzip the HTTP
    /// `Content-Length` is the compressed size).
    pub size: u64,
    /// `identity` or `gzip` (informative; browsers decode `Content-Encoding` themselves).
    pub encoding: String,
    /// Blob format version, `major.minor`.
    pub format_version: String,
    /// When the model was trained.
    pub created_at: String,
    /// When the version was published.
    pub published_at: String,
    /// When the pointer last moved (publish or rollback).
    pub updated_at: String,
    /// Number of games.
    pub games: usize,
    /// Training metrics.
    pub metrics: BTreeMap<String, f64>,
}

impl Latest {
    /// The pointer to `meta`'s version.
    pub fn pointing_at(meta: &VersionMetadata, absolute_url: Option<String>, updated_at: &str) -> Latest {
        Latest {
            schema: SCHEMA,
            version: meta.version,
            url: blob_name(meta.version),
            absolute_url,
            metadata_url: metadata_name(meta.version),
            checksum: meta.checksum.clone(),
            size: meta.size,
            encoding: meta.encoding.clone(),
            format_version: meta.format_version.clone(),
            created_at: meta.created_at.clone(),
            published_at: meta.published_at.clone(),
            updated_at: updated_at.to_string(),
            games: meta.games,
            metrics: meta.metrics.clone(),
        }
    }
}

impl HistoryEntry {
    /// The history entry of `meta`'s version.
    pub fn of(meta: &VersionMetadata) -> HistoryEntry {
        HistoryEntry {
            version: meta.version,
            created_at: meta.created_at.clone(),
            published_at: meta.published_at.clone(),
            checksum: meta.checksum.clone(),
            size: meta.size,
            games: meta.games,
            metrics: meta.metrics.clone(),
        }
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_from_names() {
        let cases = [
            ("models/v1/model.bin", Some(1)),
            ("models/v12/metadata.json", Some(12)),
            ("models/v0/model.bin", None),
            ("models/v01/model.bin", None),
            ("models/vx/model.bin", None),
            ("models/v3", None),
            ("latest.json", None),
        ];
        for (name, want) in cases {
            assert_eq!(version_of(name), want, "{name}");
        }
        assert_eq!(parse_version("v7"), Some(7));
        assert_eq!(parse_version("7"), Some(7));
        assert_eq!(parse_version("v0"), None);
        assert_eq!(parse_version("seven"), None);
    }

    #[test]
    fn sha256_is_hex_of_the_digest() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn latest_json_keys_are_stable() {
        let meta = VersionMetadata {
            schema: SCHEMA,
            version: 3,
            created_at: "2026-01-01T00:00:00Z".into(),
            published_at: "2026-01-01T01:00:00Z".into(),
            games: 10,
            metrics: BTreeMap::from([("recall@10".to_string(), 0.5)]),
            checksum: "ab".into(),
            size: 99,
            encoding: "gzip".into(),
            format_version: "0.1".into(),
            source: "test".into(),
            builder_version: "0.1.0".into(),
            publisher_version: "0.1.0".into(),
        };
        let latest = Latest::pointing_at(&meta, None, "2026-01-01T01:00:00Z");
        let v = serde_json::to_value(&latest).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "checksum",
                "createdAt",
                "encoding",
                "formatVersion",
                "games",
                "metadataUrl",
                "metrics",
                "publishedAt",
                "schema",
                "size",
                "updatedAt",
                "url",
                "version"
            ]
        );
        assert_eq!(v["url"], "models/v3/model.bin");
    }
}
