//! `playalike run`: not built yet (see the issue that owns it).

/// Flags of `playalike run`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `playalike run`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`playalike run` is not built yet")
}
