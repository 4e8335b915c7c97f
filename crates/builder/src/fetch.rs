//! `playalike fetch`: not built yet (see the issue that owns it).

/// Flags of `playalike fetch`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `playalike fetch`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`playalike fetch` is not built yet")
}
