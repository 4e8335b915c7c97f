//! The bucket: where published models live. One small object-store interface with two backends,
//! `file://DIR` (a local folder) and `gs://BUCKET/PREFIX` (Google Cloud Storage, JSON API).
//!
//! Both backends give the publisher the one primitive it needs to be safe against crashes and
//! concurrent publishers: a conditional write, `put(name, bytes, if_generation_match)`, where
//! generation 0 means "only if the object does not exist yet" (create-only, for versioned
//! objects) and any other value means "only if the object is still at the generation I read"
//! (compare-and-swap, for `versions.json` and `latest.json`). A lost race is the typed
//! [`StoreError::PreconditionFailed`].

mod file;
mod gcs;

use std::fmt;
use std::path::PathBuf;

/// Where the bucket is, parsed from `--bucket URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `file://DIR`: a local folder holding the same layout.
    File {
        /// The folder.
        dir: PathBuf,
    },
    /// `gs://BUCKET/PREFIX`: a Cloud Storage bucket and an optional object-name prefix.
    Gcs {
        /// Bucket name.
        bucket: String,
        /// Object-name prefix without leading or trailing `/` (may be empty).
        prefix: String,
    },
}

impl Target {
    /// Parses `file://DIR`, `gs://BUCKET[/PREFIX]`, or a plain path (taken as a folder).
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        if let Some(rest) = url.strip_prefix("gs://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid = (3..=222).contains(&bucket.len())
                && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
            if !valid {
                anyhow::bail!(
                    "`{url}` does not name a Cloud Storage bucket (expected gs://BUCKET[/PREFIX], bucket \
                     names are 3-222 characters of a-z, 0-9, '-', '_', '.')"
                );
            }
            let prefix = prefix.trim_matches('/').to_string();
            return Ok(Target::Gcs { bucket: bucket.to_string(), prefix });
        }
        if let Some(rest) = url.strip_prefix("file://") {
            if rest.is_empty() {
                anyhow::bail!("`{url}` names no folder (expected file://DIR)");
            }
            return Ok(Target::File { dir: PathBuf::from(rest) });
        }
        if url.contains("://") {
            anyhow::bail!("unsupported bucket URL `{url}` (expected gs://BUCKET[/PREFIX] or file://DIR)");
        }
        if url.is_empty() {
            anyhow::bail!("empty bucket URL (expected gs://BUCKET[/PREFIX] or file://DIR)");
        }
        Ok(Target::File { dir: PathBuf::from(url) })
    }

    /// True for `gs://`.
    pub fn is_gcs(&self) -> bool {
        matches!(self, Target::Gcs { .. })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::File { dir } => write!(f, "file://{}", dir.display()),
            Target::Gcs { bucket, prefix } if prefix.is_empty() => write!(f, "gs://{bucket}"),
            Target::Gcs { bucket, prefix } => write!(f, "gs://{bucket}/{prefix}"),
        }
    }
}

/// How to reach Cloud Storage. Ignored by `file://`.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// API endpoint for emulators (`http://127.0.0.1:4443`); `None` = production with ADC.
    pub endpoint: Option<String>,
    /// Public base URL objects are served from (`https://storage.googleapis.com` by default for
    /// gs://, the endpoint when one is given); used only to write absolute URLs into `latest.json`.
    pub public_url: Option<String>,
}

/// Content encoding of a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Stored as is.
    Identity,
    /// Stored gzip-compressed with `Content-Encoding: gzip`; readers get decoded bytes.
    Gzip,
}

impl Encoding {
    /// The name used in JSON files and HTTP headers.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
        }
    }
}

/// How to write one object.
#[derive(Debug, Clone)]
pub struct Put<'a> {
    /// Object name relative to the target (the prefix is added by the backend).
    pub name: &'a str,
    /// The (decoded) bytes.
    pub bytes: &'a [u8],
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Cache-Control`.
    pub cache_control: &'static str,
    /// Store compressed (gs:// only; `file://` always stores the bytes as they are, because a
    /// plain static server would not send the `Content-Encoding` header).
    pub encoding: Encoding,
    /// 0 = create only; otherwise the generation the object must still have.
    pub if_generation_match: i64,
}

/// Facts about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Object name relative to the target.
    pub name: String,
    /// Generation (a positive number that changes on every write).
    pub generation: i64,
    /// Stored size in bytes (compressed size when gzip-encoded).
    pub size: u64,
}

/// Failures a caller needs to tell apart; everything else is [`StoreError::Other`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the object changed (or appeared) since it was read.
    #[error(
        "another publisher won: {target}/{name} changed since it was read (precondition \
         ifGenerationMatch={expected} failed); nothing of ours was overwritten"
    )]
    PreconditionFailed {
        /// The bucket.
        target: String,
        /// The object.
        name: String,
        /// The generation we expected.
        expected: i64,
    },
    /// The credentials were refused (HTTP 401/403) or could not be found.
    #[error("access to {target} refused: {detail}")]
    Auth {
        /// The bucket.
        target: String,
        /// What the server or the credential lookup said.
        detail: String,
    },
    /// The bucket (or folder) does not exist.
    #[error("bucket {target} does not exist{hint}")]
    NoBucket {
        /// The bucket.
        target: String,
        /// How to create it.
        hint: String,
    },
    /// Any other failure (network, server error, I/O).
    #[error("{0}")]
    Other(String),
}

/// A connected bucket.
pub enum Bucket {
    /// `file://DIR`.
    File(file::FileStore),
    /// `gs://BUCKET/PREFIX`.
    Gcs(gcs::GcsStore),
}

impl Bucket {
    /// Connects to the target. For `file://`, `create` makes the folder when it is missing
    /// (publish does; rollback and status do not). For gs://, finds credentials (unless an
    /// emulator endpoint is set) but makes no request yet.
    pub async fn open(target: &Target, conn: &Connection, create: bool) -> Result<Bucket, StoreError> {
        match target {
            Target::File { dir } => {
                Ok(Bucket::File(file::FileStore::open(dir, conn.public_url.clone(), create)?))
            }
            Target::Gcs { bucket, prefix } => {
                Ok(Bucket::Gcs(gcs::GcsStore::open(bucket, prefix, conn).await?))
            }
        }
    }

    /// Reads an object: `None` when it does not exist, else its decoded bytes and generation.
    /// An object larger than `max` bytes (stored, or decoded) is an error, found before it is
    /// read whole: nothing from the bucket is trusted with memory.
    pub async fn get(&self, name: &str, max: u64) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        match self {
            Bucket::File(s) => s.get(name, max),
            Bucket::Gcs(s) => s.get(name, max).await,
        }
    }

    /// Writes an object under a generation precondition; returns the new generation.
    pub async fn put(&self, put: &Put<'_>) -> Result<i64, StoreError> {
        match self {
            Bucket::File(s) => s.put(put),
            Bucket::Gcs(s) => s.put(put).await,
        }
    }

    /// Writes a small document kept like the pointer (plain, `layout::CACHE_POINTER`) if it still
    /// has `generation` (0: if it does not exist yet). `Ok(false)`: another writer changed it
    /// since it was read; the caller re-reads and tries again.
    pub async fn put_if_unchanged(
        &self,
        name: &str,
        bytes: &[u8],
        content_type: &'static str,
        generation: i64,
    ) -> Result<bool, StoreError> {
        let put = Put {
            name,
            bytes,
            content_type,
            cache_control: super::layout::CACHE_POINTER,
            encoding: Encoding::Identity,
            if_generation_match: generation,
        };
        match self.put(&put).await {
            Ok(_) => Ok(true),
            Err(StoreError::PreconditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Lists objects whose name starts with `prefix` (relative to the target).
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        match self {
            Bucket::File(s) => s.list(prefix),
            Bucket::Gcs(s) => s.list(prefix).await,
        }
    }

    /// Deletes an object (no error when it is already gone).
    pub async fn delete(&self, name: &str) -> Result<(), StoreError> {
        match self {
            Bucket::File(s) => s.delete(name),
            Bucket::Gcs(s) => s.delete(name).await,
        }
    }

    /// The absolute public URL of an object, when the bucket is served over HTTP.
    pub fn public_url(&self, name: &str) -> Option<String> {
        match self {
            Bucket::File(s) => s.public_url(name),
            Bucket::Gcs(s) => Some(s.public_url(name)),
        }
    }
}

/// Gzip-compresses bytes (best compression: written once, downloaded many times).
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .map_err(|e| StoreError::Other(format!("gzip failed: {e}")))
}

/// Decodes gzip bytes, refusing output larger than `max` bytes (a small gzip bomb can inflate
/// to gigabytes).
pub fn gunzip(bytes: &[u8], max: u64) -> Result<Vec<u8>, StoreError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| StoreError::Other(format!("gunzip failed: {e}")))?;
    if out.len() as u64 > max {
        return Err(too_large("the gzip-decoded object", max));
    }
    Ok(out)
}

/// The error for something read from the bucket over its size cap (the caller's context names
/// the step).
pub fn too_large(what: &str, max: u64) -> StoreError {
    StoreError::Other(format!("{what}: larger than the {max} bytes allowed; refusing to read it"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let cases: &[(&str, Option<Target>)] = &[
            ("gs://my-bucket", Some(Target::Gcs { bucket: "my-bucket".into(), prefix: String::new() })),
            ("gs://my-bucket/", Some(Target::Gcs { bucket: "my-bucket".into(), prefix: String::new() })),
            ("gs://b12/a/b/", Some(Target::Gcs { bucket: "b12".into(), prefix: "a/b".into() })),
            ("file:///tmp/x", Some(Target::File { dir: "/tmp/x".into() })),
            ("file://rel/dir", Some(Target::File { dir: "rel/dir".into() })),
            ("some/dir", Some(Target::File { dir: "some/dir".into() })),
            ("gs://", None),
            ("gs://UPPER", None),
            ("gs://ab", None),
            ("s3://bucket", None),
            ("file://", None),
            ("", None),
        ];
        for (url, want) in cases {
            match (Target::parse(url), want) {
                (Ok(got), Some(want)) => assert_eq!(&got, want, "{url}"),
                (Err(_), None) => {}
                (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn displays_targets() {
        assert_eq!(Target::parse("gs://b12/p/").unwrap().to_string(), "gs://b12/p");
        assert_eq!(Target::parse("gs://b12").unwrap().to_string(), "gs://b12");
        assert_eq!(Target::parse("file:///tmp/x").unwrap().to_string(), "file:///tmp/x");
    }

    #[test]
    fn gzip_round_trips() {
        let data = b"hello hello hello hello".repeat(10);
        let z = gzip(&data).unwrap();
        assert!(z.len() < data.len());
        assert_eq!(gunzip(&z, data.len() as u64).unwrap(), data);
        assert!(gunzip(b"not gzip", 1000).is_err());
    }

    #[test]
    fn gunzip_output_is_capped() {
        // 64 MiB of zeros compress to about 64 KiB: a small bomb.
        let bomb = gzip(&vec![0u8; 64 << 20]).unwrap();
        assert!(bomb.len() < 1 << 20);
        let err = gunzip(&bomb, 1 << 20).expect_err("over the cap");
        assert!(err.to_string().contains("larger than the 1048576 bytes allowed"), "{err}");
        assert_eq!(gunzip(&bomb, 64 << 20).map(|b| b.len()).ok(), Some(64 << 20));
    }
}
