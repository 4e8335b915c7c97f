//! `playalike sandbox`: not built yet (see the issue that owns it).

/// Flags of `playalike sandbox`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `playalike sandbox`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`playalike sandbox` is not built yet")
}
