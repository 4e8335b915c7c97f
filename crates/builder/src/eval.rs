//! `playalike eval`: not built yet (see the issue that owns it).

/// Flags of `playalike eval`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `playalike eval`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`playalike eval` is not built yet")
}
