//! `playalike generate`: the flags of the synthetic snapshot writer
//! ([`playalike_train::generate`]).

use anyhow::Result;
use playalike_train::generate::{self, Summary};
use std::path::PathBuf;

/// Flags of `playalike generate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Snapshot directory to write (created; replaced atomically if it exists).
    #[arg(long, env = "PLAYALIKE_GENERATE_OUT")]
    pub out: PathBuf,
    /// Number of games. Range 50..=2000000.
    #[arg(long, env = "PLAYALIKE_GENERATE_GAMES", default_value_t = 4000,
          value_parser = clap::value_parser!(u32).range(50..=2_000_000))]
    pub games: u32,
    /// Seed: the same seed and size give the same snapshot, byte for byte.
    #[arg(long, env = "PLAYALIKE_GENERATE_SEED", default_value_t = 1)]
    pub seed: u64,
    /// What kind of catalogue: `igdb` (every IGDB field: dates, platforms, companies, series) or
    /// `store` (a store's tags only: genres, themes, user tags as keywords, modes, perspectives
    /// and ratings; lists of up to 12 similar games).
    #[arg(long, env = "PLAYALIKE_GENERATE_FLAVOR", value_enum, default_value_t = Flavor::Igdb)]
    pub flavor: Flavor,
    /// Print one JSON summary line instead of text.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

/// The kind of catalogue `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flavor {
    /// Every IGDB field, lists of up to 10.
    Igdb,
    /// Tags and ratings only (no dates, platforms, companies, series), lists of up to 12.
    Store,
}

impl From<Flavor> for generate::Flavor {
    fn from(f: Flavor) -> Self {
        match f {
            Flavor::Igdb => generate::Flavor::Igdb,
            Flavor::Store => generate::Flavor::Store,
        }
    }
}

impl Args {
    /// The generator's configuration these flags describe.
    pub fn config(&self) -> generate::Config {
        generate::Config {
            out: self.out.clone(),
            games: self.games,
            seed: self.seed,
            flavor: self.flavor.into(),
            json: self.json,
        }
    }
}

/// Generates the snapshot the flags describe.
pub async fn execute(args: &Args) -> Result<Summary> {
    generate::execute(&args.config()).await
}

/// Runs `playalike generate`.
pub async fn run(args: Args) -> Result<()> {
    let s = execute(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!(
            "wrote {} games ({} with similar_games, {} franchises) to {}",
            s.games,
            s.with_similar,
            s.franchises,
            s.out.display()
        );
    }
    Ok(())
}
