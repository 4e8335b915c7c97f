//! `playalike train`: not built yet (see the issue that owns it).

/// Flags of `playalike train`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `playalike train`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`playalike train` is not built yet")
}
