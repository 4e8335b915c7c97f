//! A local IGDB that speaks the real protocol, over a snapshot directory.
//!
//! It serves the Twitch token endpoint (`POST /oauth2/token`), `POST /v4/{endpoint}`,
//! `/v4/{endpoint}/count` and `/v4/multiquery` with the Apicalypse subset in [`apicalypse`],
//! checks `Client-ID` and `Authorization: Bearer`, and enforces IGDB's limits (429 above 4
//! requests in any one-second window or above 8 open requests). Fault injection (429, 500,
//! dropped connections, slow and truncated answers, malformed bodies, token expiry) makes it the
//! test bed of the fetch client; `GET /_sandbox/stats` shows what it saw and did.
//!
//! It is also the embedded default: [`spawn`] runs it inside the process (the `run` job and
//! `fetch --sandbox DIR` use it when no IGDB credentials are set). It depends on
//! `playalike-igdb` for the protocol's limits only.

pub mod apicalypse;
pub mod data;
mod server;

pub use server::{FaultStats, Faults, SandboxConfig, SandboxHandle, Stats, spawn};

/// Environment variable holding the client secret the sandbox requires (never a flag).
pub const SECRET_ENV: &str = "PLAYALIKE_SANDBOX_CLIENT_SECRET";

pub(crate) use playalike_igdb::{fetch, snapshot};
