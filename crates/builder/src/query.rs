//! `playalike recommend` and `playalike search`: not built yet (train issue).

/// Flags of `playalike recommend`.
#[derive(Debug, clap::Args)]
pub struct RecommendArgs {}

/// Flags of `playalike search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {}

/// Runs `playalike recommend`.
pub async fn recommend(_args: RecommendArgs) -> anyhow::Result<()> {
    anyhow::bail!("`playalike recommend` is not built yet")
}

/// Runs `playalike search`.
pub async fn search(_args: SearchArgs) -> anyhow::Result<()> {
    anyhow::bail!("`playalike search` is not built yet")
}
