//! `playalike`: the builder CLI. It owns flags, their resolution into the library crates'
//! configurations, orchestration and output only: fetching lives in `playalike-igdb`, the
//! sandbox in `playalike-sandbox`, training in `playalike-train`, publishing and the gate in
//! `playalike-bucket`, and the model format and scoring in `playalike-engine`.

mod cli_docs;
mod cmd;
mod inspect;
mod query;
mod run;

use clap::{Parser, Subcommand};
use cmd::{eval, fetch, generate, publish, sandbox, train, validate};
use playalike_base::{exit, progress};
use playalike_train::par;

const EXIT_CODES: &str = "\
Exit codes:
  0   success
  1   unexpected failure
  2   bad flags or configuration (also: unknown game id, missing or corrupt model file)
  10  fetch from IGDB failed
  11  training or evaluation failed
  12  validation gate refused the model
  13  publishing failed (nothing was changed, or another publisher won)
  14  authentication failed (IGDB or bucket credentials)
  15  status check failed (live model older than --max-age, below --min-recall, or none;
      more than --max-failed-runs runs failed in a row)";

/// playalike: game recommendations that run in the browser.
///
/// The builder fetches the catalogue from IGDB, trains a model, checks it and publishes one
/// compact blob to a bucket; the wasm engine answers queries from that blob.
#[derive(Debug, Parser)]
#[command(name = "playalike", version, after_help = EXIT_CODES, propagate_version = true)]
struct Cli {
    /// Log only errors (overrides PLAYALIKE_LOG / RUST_LOG).
    #[arg(short, long, global = true, env = "PLAYALIKE_QUIET", conflicts_with = "verbose")]
    quiet: bool,
    /// Log more: -v debug, -vv trace (overrides PLAYALIKE_LOG / RUST_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch the game catalogue from IGDB into a snapshot directory.
    Fetch(fetch::Args),
    /// Write a synthetic IGDB snapshot (for machines without real data).
    Generate(generate::Args),
    /// Serve a snapshot directory as a local IGDB-compatible API (tests, demo).
    Sandbox(sandbox::Args),
    /// Train a model blob from a snapshot.
    Train(train::Args),
    /// Evaluate the model on the cold-start split, with baselines.
    Eval(eval::Args),
    /// The gate before publishing: decode, size floor, quality vs the previous model.
    Validate(validate::Args),
    /// Recommend games with the native engine.
    Recommend(query::RecommendArgs),
    /// Search titles with the native engine.
    Search(query::SearchArgs),
    /// Summarize a model blob: games, versions, metrics, vocabularies, parameters.
    Inspect(inspect::InspectArgs),
    /// Why game B is recommended for game A: shared features and their contributions.
    Explain(inspect::ExplainArgs),
    /// One game of a model, with display names (as the JS `game()` returns it).
    Game(inspect::GameArgs),
    /// Publish a model to the bucket as a new version.
    Publish(publish::Args),
    /// Point the bucket's latest.json back at an earlier version.
    Rollback(publish::RollbackArgs),
    /// Show the bucket's live version, history and metrics.
    Status(publish::StatusArgs),
    /// The scheduled job: fetch → train → validate → publish, one JSON summary line.
    Run(run::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(cli_docs::CompletionsArgs),
    /// Print the man page (roff) on stdout, e.g. `playalike man > playalike.1`.
    Man(cli_docs::ManArgs),
    /// Print the README's environment-variable table, generated from the flags (for
    /// scripts/readme-env.sh and its test).
    #[command(hide = true)]
    EnvTable,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.quiet, cli.verbose);
    progress::set_quiet(cli.quiet);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(dispatch(cli.command)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                return std::process::ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(exit::code_of(&e) as u8)
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Fetch(a) => fetch::run(a).await,
        Command::Generate(a) => generate::run(a).await,
        Command::Sandbox(a) => sandbox::run(a).await,
        Command::Train(a) => train::run(a).await,
        Command::Eval(a) => eval::run(a).await,
        Command::Validate(a) => validate::run(a).await,
        Command::Recommend(a) => query::recommend(a).await,
        Command::Search(a) => query::search(a).await,
        Command::Inspect(a) => inspect::inspect(a).await,
        Command::Explain(a) => inspect::explain(a).await,
        Command::Game(a) => inspect::game(a).await,
        Command::Publish(a) => publish::run(a).await,
        Command::Rollback(a) => publish::rollback(a).await,
        Command::Status(a) => publish::status(a).await,
        Command::Run(a) => run::run(a).await,
        Command::Completions(a) => cli_docs::completions(a, <Cli as clap::CommandFactory>::command()),
        Command::Man(a) => cli_docs::man(a, <Cli as clap::CommandFactory>::command()),
        Command::EnvTable => cli_docs::env_table(<Cli as clap::CommandFactory>::command()),
    }
}

/// Logs go to stderr (stdout is for results). The level: `-q` (errors only) or `-v`/`-vv`
/// (debug/trace) when given, else `PLAYALIKE_LOG`, else `RUST_LOG`, else `info`. Colour only
/// when stderr is a terminal and `NO_COLOR` is unset or empty (<https://no-color.org>).
fn init_tracing(quiet: bool, verbose: u8) {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let flag = match (quiet, verbose) {
        (true, _) => Some("error"),
        (false, 0) => None,
        (false, 1) => Some("debug"),
        (false, _) => Some("trace"),
    };
    let filter = match flag {
        Some(level) => EnvFilter::new(level),
        None => EnvFilter::try_from_env("PLAYALIKE_LOG")
            .or_else(|_| EnvFilter::try_from_default_env())
            .unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = use_colour(std::io::IsTerminal::is_terminal(&std::io::stderr()), no_color);
    // Log lines go through the progress helper's writer (a drawn bar is lifted while a line is
    // written); its layer turns `progress` events into the bar's stage, whatever the log level.
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(|| progress::StderrWriter)
        .with_ansi(ansi)
        .with_target(false);
    tracing_subscriber::registry()
        .with(tracing_subscriber::Layer::with_filter(fmt, filter))
        .with(progress::layer())
        .init();
}

/// Colour on a terminal only, and never when `NO_COLOR` is set to a non-empty value.
fn use_colour(stderr_is_terminal: bool, no_color: bool) -> bool {
    stderr_is_terminal && !no_color
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
