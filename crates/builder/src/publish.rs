//! `playalike publish`: not built yet (see the issue that owns it).

/// Flags of `playalike publish`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `playalike publish`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`playalike publish` is not built yet")
}

/// Flags of `playalike rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {}

/// Flags of `playalike status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {}

/// Runs `playalike rollback`.
pub async fn rollback(_args: RollbackArgs) -> anyhow::Result<()> {
    anyhow::bail!("`playalike rollback` is not built yet")
}

/// Runs `playalike status`.
pub async fn status(_args: StatusArgs) -> anyhow::Result<()> {
    anyhow::bail!("`playalike status` is not built yet")
}
