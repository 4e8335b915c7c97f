//! Documents generated from the clap command tree: shell completions (`playalike completions
//! SHELL`), the man page (`playalike man`) and the README's environment-variable table (the
//! hidden `playalike env-table`, written into README.md by scripts/readme-env.sh and checked by
//! tests/cli_docs.rs), so none of them can drift from the flags.

use anyhow::Result;
use clap::{Arg, Command};
use std::collections::BTreeMap;
use std::io::Write;

/// Flags of `playalike completions`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `playalike man`.
#[derive(Debug, Clone, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (playalike.1, playalike-train.1 and so on) into this directory
    /// instead of printing the main page.
    #[arg(long, env = "PLAYALIKE_MAN_DIR")]
    pub dir: Option<std::path::PathBuf>,
}

/// Variables read from the environment only (secrets are never flags), and those whose flag has
/// no natural environment form (`-v`, a count).
const ENV_ONLY: &[(&str, &str, &str)] = &[
    (
        "IGDB_CLIENT_SECRET",
        "fetch, run",
        "Twitch app secret (with `IGDB_CLIENT_ID`, or `--credentials-file`)",
    ),
    (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "validate --live, publish, rollback, status, run",
        "service-account file for gs:// (else gcloud user credentials or the metadata server)",
    ),
    (
        "STORAGE_EMULATOR_HOST",
        "validate --live, publish, rollback, status, run",
        "talk to a Cloud Storage emulator instead of Google (no auth)",
    ),
    ("PLAYALIKE_SANDBOX_CLIENT_SECRET", "sandbox", "the client secret the sandbox requires (else any)"),
    (
        "PLAYALIKE_LOG",
        "all",
        "log level, e.g. `debug` (the environment form of `-v`/`-vv`; `-q`/`-v` override it)",
    ),
    ("RUST_LOG", "all", "log level when `PLAYALIKE_LOG` is unset"),
    (
        "NO_COLOR",
        "all",
        "set (non-empty): never colour log lines (they are coloured only on a terminal anyway)",
    ),
    ("PLAYALIKE_FETCH_FAIL_AFTER", "fetch", "tests only: exit as if killed after this many committed pages"),
    ("PLAYALIKE_FAILPOINT", "publish", "tests only: fail at a named step of publishing"),
];

/// Prints the completion script for `args.shell`.
pub fn completions(args: CompletionsArgs, cmd: Command) -> Result<()> {
    // clap_complete offers hidden subcommands too (`env-table` is for a script, not a user).
    let mut cmd = without_hidden_subcommands(&cmd);
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "playalike", &mut out);
    out.flush()?;
    Ok(())
}

/// `cmd` with its arguments and visible subcommands only.
fn without_hidden_subcommands(cmd: &Command) -> Command {
    let base = Command::new("playalike").version(env!("CARGO_PKG_VERSION"));
    let base = cmd.get_arguments().fold(base, |c, a| c.arg(a.clone()));
    cmd.get_subcommands().filter(|s| !s.is_hide_set()).fold(base, |c, s| c.subcommand(s.clone()))
}

/// Prints the man page, or writes one page per command into `--dir`.
pub fn man(args: ManArgs, cmd: Command) -> Result<()> {
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(cmd, &dir)?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Prints the README's environment table.
pub fn env_table(cmd: Command) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(table(&cmd).as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The commands whose flag reads one variable with the same meaning: the flag, its help, and
/// each command with its default.
struct Group {
    flag: String,
    help: String,
    commands: Vec<(String, Option<String>)>,
}

fn flag_of(a: &Arg) -> String {
    match (a.get_short(), a.get_long()) {
        (Some(s), Some(l)) => format!("-{s}, --{l}"),
        (None, Some(l)) => format!("--{l}"),
        (Some(s), None) => format!("-{s}"),
        (None, None) => a
            .get_value_names()
            .and_then(|v| v.first())
            .map_or_else(|| a.get_id().as_str().to_uppercase(), |v| v.as_str().to_string()),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn collect(cmd: &Command) -> BTreeMap<String, Vec<Group>> {
    let globals: Vec<&Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).collect();
    let mut rows: BTreeMap<String, Vec<Group>> = BTreeMap::new();
    for a in &globals {
        if let Some(env) = a.get_env() {
            let help = one_line(&a.get_help().map(|h| h.to_string()).unwrap_or_default());
            let g = Group { flag: flag_of(a), help, commands: vec![("all".into(), None)] };
            rows.entry(env.to_string_lossy().into_owned()).or_default().push(g);
        }
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        for a in sub.get_arguments().filter(|a| !a.is_global_set()) {
            let Some(env) = a.get_env() else { continue };
            let defaults = a.get_default_values();
            let default = (!defaults.is_empty()).then(|| {
                defaults.iter().map(|d| d.to_string_lossy().into_owned()).collect::<Vec<_>>().join(",")
            });
            let (flag, help) =
                (flag_of(a), one_line(&a.get_help().map(|h| h.to_string()).unwrap_or_default()));
            let groups = rows.entry(env.to_string_lossy().into_owned()).or_default();
            let entry = (sub.get_name().to_string(), default);
            match groups.iter_mut().find(|g| g.flag == flag && g.help == help) {
                Some(g) => g.commands.push(entry),
                None => groups.push(Group { flag, help, commands: vec![entry] }),
            }
        }
    }
    rows
}

fn defaults_of(g: &Group) -> String {
    let mut ds: Vec<&str> = g.commands.iter().filter_map(|(_, d)| d.as_deref()).collect();
    ds.dedup();
    match ds.as_slice() {
        [] => String::new(),
        [d] if g.commands.iter().all(|(_, x)| x.is_some()) => format!(" (default `{d}`)"),
        _ => {
            let each: Vec<String> =
                g.commands.iter().filter_map(|(c, d)| d.as_ref().map(|d| format!("{c} `{d}`"))).collect();
            format!(" (default: {})", each.join(", "))
        }
    }
}

/// The Markdown table of every environment variable `playalike` reads: one row per variable;
/// where commands give its flag different meanings, each meaning with its commands.
pub fn table(cmd: &Command) -> String {
    let mut s = String::from("| variable | used by | flag: meaning |\n|---|---|---|\n");
    for (env, groups) in collect(cmd) {
        let used: Vec<&str> =
            groups.iter().flat_map(|g| g.commands.iter().map(|(c, _)| c.as_str())).collect();
        let meaning: Vec<String> = match groups.as_slice() {
            [g] => vec![format!("`{}`: {}{}", g.flag, g.help, defaults_of(g))],
            _ => groups
                .iter()
                .map(|g| {
                    let cs: Vec<&str> = g.commands.iter().map(|(c, _)| c.as_str()).collect();
                    format!("{}: `{}`: {}{}", cs.join(", "), g.flag, g.help, defaults_of(g))
                })
                .collect(),
        };
        s.push_str(&format!("| `{env}` | {} | {} |\n", used.join(", "), meaning.join("<br>")));
    }
    for (env, used, what) in ENV_ONLY {
        s.push_str(&format!("| `{env}` | {used} | (no flag) {what} |\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn all_args(cmd: &Command, out: &mut Vec<(String, Arg)>) {
        for a in cmd.get_arguments() {
            out.push((cmd.get_name().to_string(), a.clone()));
        }
        for s in cmd.get_subcommands() {
            all_args(s, out);
        }
    }

    #[test]
    fn every_flag_reads_an_environment_variable() {
        let mut args = Vec::new();
        all_args(&crate::Cli::command(), &mut args);
        let missing: Vec<String> = args
            .iter()
            .filter(|(_, a)| a.get_long().is_some() && a.get_env().is_none())
            // -v counts; PLAYALIKE_LOG is its environment form (docs/decisions/752).
            .filter(|(_, a)| !["help", "version", "verbose"].contains(&a.get_id().as_str()))
            .map(|(c, a)| format!("{c} --{}", a.get_long().unwrap_or_default()))
            .collect();
        assert!(missing.is_empty(), "flags without an environment variable: {missing:?}");
    }

    #[test]
    fn the_table_lists_every_variable_once_without_ellipses() {
        let t = table(&crate::Cli::command());
        for env in ["PLAYALIKE_JSON", "PLAYALIKE_RECOMMEND_PLATFORM", "PLAYALIKE_QUIET", "IGDB_CLIENT_SECRET"]
        {
            assert_eq!(t.matches(&format!("| `{env}` |")).count(), 1, "{env} in\n{t}");
        }
        assert!(!t.contains('…'), "{t}");
    }
}
