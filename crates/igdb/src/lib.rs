//! The IGDB side of playalike: the protocol's limits, the API client (tokens, rate limits,
//! retries, bounded reads), the fetch into a snapshot directory (staging, resume, incremental
//! runs) and the snapshot files' readers.

pub mod fetch;
pub mod snapshot;

pub(crate) use playalike_base::{exit, progress};
