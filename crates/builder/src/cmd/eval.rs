//! `playalike eval`: the flags, resolved into the evaluation's configuration
//! ([`playalike_train::eval`]).

use super::train::CommonArgs;
use anyhow::Result;
pub use playalike_train::eval::Summary;
use std::path::PathBuf;

/// Flags of `playalike eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Snapshot directory.
    #[arg(long, env = "PLAYALIKE_SNAPSHOT")]
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Skip the baselines.
    #[arg(long, env = "PLAYALIKE_NO_BASELINES")]
    pub no_baselines: bool,
    /// Print one JSON line instead of a table.
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

impl Args {
    /// The evaluation's configuration these flags describe.
    pub fn config(&self) -> playalike_train::eval::Config {
        playalike_train::eval::Config {
            snapshot: self.snapshot.clone(),
            common: self.common.config(),
            no_baselines: self.no_baselines,
            json: self.json,
        }
    }
}

/// Evaluates as the flags describe.
pub async fn execute(args: &Args) -> Result<Summary> {
    playalike_train::eval::execute(&args.config()).await
}

/// Runs `playalike eval` and prints the figures.
pub async fn run(args: Args) -> Result<()> {
    let s = execute(&args).await?;
    if args.json {
        let mut v = serde_json::to_value(&s)?;
        // `Evaluation` keeps its snake_case field names in metrics.json (a file scripts read);
        // on stdout its keys are camelCase like every command's.
        if let Some(rows) = v.get_mut("results").and_then(|r| r.as_object_mut()) {
            rows.values_mut().for_each(camel_keys);
        }
        println!("{v}");
        return Ok(());
    }
    let k = args.common.k;
    println!("cold-start split: seed {}, holdout {}, snapshot {}", s.seed, s.holdout, s.snapshot.display());
    println!(
        "{:<22} {:>9} {:>7} {:>10} {:>11} {:>8}",
        "approach",
        format!("recall@{k}"),
        format!("hit@{k}"),
        format!("genre@{k}"),
        format!("coverage@{k}"),
        "queries"
    );
    for (name, e) in &s.results {
        println!(
            "{name:<22} {:>9.4} {:>7.4} {:>10.4} {:>11.4} {:>8}",
            e.recall, e.hit, e.genre_agreement, e.coverage, e.queries
        );
    }
    println!("playalike training: {:.2} s", s.train_seconds);
    Ok(())
}

/// Renames the keys of one JSON object (not of the objects inside it) from snake_case to camelCase.
fn camel_keys(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        let old = std::mem::take(o);
        for (k, x) in old {
            let mut key = String::with_capacity(k.len());
            let mut up = false;
            for c in k.chars() {
                match c {
                    '_' => up = true,
                    c if up => {
                        key.extend(c.to_uppercase());
                        up = false;
                    }
                    c => key.push(c),
                }
            }
            o.insert(key, x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_keys_renames_one_level() {
        let mut v = serde_json::json!({"tail_recall": 1, "k": 2, "x": {"a_b": 3}});
        camel_keys(&mut v);
        assert_eq!(v, serde_json::json!({"tailRecall": 1, "k": 2, "x": {"a_b": 3}}));
    }
}
