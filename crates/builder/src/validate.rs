//! `playalike validate`: not built yet (see the issue that owns it).

/// Flags of `playalike validate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `playalike validate`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`playalike validate` is not built yet")
}
