//! The engine's error type: every way a blob or a query can be refused, as kinds a caller can match.

use thiserror::Error;

/// Everything the engine can refuse. Messages are written for the person reading them in a
/// browser console or a terminal: they name the problem and, where useful, the offending value.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the structure it announced.
    #[error("model blob is truncated: {0}")]
    Truncated(String),
    /// The input does not start with the playalike magic bytes.
    #[error("not a playalike model blob (bad magic bytes)")]
    BadMagic,
    /// The blob was written by a newer, incompatible format version.
    #[error(
        "model blob format {found_major}.{found_minor} is newer than this engine supports ({supported_major}.x); update playalike"
    )]
    UnsupportedVersion {
        /// Major version in the blob.
        found_major: u16,
        /// Minor version in the blob.
        found_minor: u16,
        /// Major version this engine reads.
        supported_major: u16,
    },
    /// The blob was written in an older, no longer readable format (0.x): rebuild the model.
    #[error(
        "model blob format {found_major}.{found_minor} is older than this engine reads ({supported_major}.x); rebuild the model with `playalike train`"
    )]
    ObsoleteVersion {
        /// Major version in the blob.
        found_major: u16,
        /// Minor version in the blob.
        found_minor: u16,
        /// Major version this engine reads.
        supported_major: u16,
    },
    /// The payload checksum does not match: the blob was corrupted in transit or on disk.
    #[error("model blob is corrupted: checksum {found:08x} does not match {expected:08x}")]
    ChecksumMismatch {
        /// Checksum recorded in the header.
        expected: u32,
        /// Checksum computed over the payload.
        found: u32,
    },
    /// The payload is well-checksummed but structurally invalid.
    #[error("model blob is malformed: {0}")]
    Malformed(String),
    /// Decoding the blob would take more memory than its size allows
    /// ([`crate::format::DECODE_MEMORY_FACTOR`] × its bytes): an inflated or forged blob.
    #[error(
        "model blob is refused: decoding it would need {needed} bytes of memory, more than the {limit} allowed for its size (inflated or forged counts)"
    )]
    TooLarge {
        /// Bytes the decoded parts would take, as far as the decoder got.
        needed: u64,
        /// Bytes allowed for a blob of this size.
        limit: u64,
    },
    /// A query named a game id the model does not hold.
    #[error("unknown game id {0}")]
    UnknownGame(u32),
    /// A query was invalid (bad option value).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The model could not be encoded (only the builder writes blobs).
    #[error("cannot encode model: {0}")]
    Encode(String),
}

impl Error {
    /// Every [`Error::code`], in declaration order: the values of `EngineErrorCode` in the npm
    /// package's `index.d.ts` (a test checks that they agree).
    pub const CODES: [&'static str; 10] = [
        "truncated",
        "bad_magic",
        "unsupported_version",
        "obsolete_version",
        "checksum_mismatch",
        "malformed",
        "too_large",
        "unknown_game",
        "invalid_query",
        "encode",
    ];

    /// A stable, machine-readable name of the kind of error (snake case), for callers that
    /// branch on it: the wasm package sets it as the thrown `Error`'s `code` property.
    pub fn code(&self) -> &'static str {
        let i = match self {
            Error::Truncated(_) => 0,
            Error::BadMagic => 1,
            Error::UnsupportedVersion { .. } => 2,
            Error::ObsoleteVersion { .. } => 3,
            Error::ChecksumMismatch { .. } => 4,
            Error::Malformed(_) => 5,
            Error::TooLarge { .. } => 6,
            Error::UnknownGame(_) => 7,
            Error::InvalidQuery(_) => 8,
            Error::Encode(_) => 9,
        };
        Error::CODES[i]
    }
}

/// Shorthand for results carrying the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
