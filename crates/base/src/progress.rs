//! Progress on stderr for the commands that can run for more than a couple of seconds (`fetch`,
//! `recommend --all`, `generate`, `train`, `eval`): the one helper they all use.
//!
//! A bar is drawn only when stderr is a terminal and `-q` was not given; otherwise it is an
//! [`indicatif::ProgressBar::hidden`] that costs nothing. stdout (the `--json` output) is never
//! written to, and a bar is cleared when its work is done, before the command prints its result.
//!
//! Code that does not own a bar (the learner) reports its stage with a tracing event of target
//! [`TARGET`], e.g. `tracing::trace!(target: "progress", "search round {n}")`: the [`layer`]
//! puts its message on the bar being drawn, whatever the log level. Log lines are written
//! through [`StderrWriter`], which lifts the bar while the line is written, so they never tear it.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The tracing target whose events name the current stage of the bar being drawn.
pub const TARGET: &str = "progress";

static QUIET: AtomicBool = AtomicBool::new(false);
/// The bar being drawn (at most one at a time), for stage events and log lines.
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// `-q`: no bars at all. Called once by `main`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether bars are drawn: stderr is a terminal and `-q` was not given.
pub fn visible() -> bool {
    shown(QUIET.load(Ordering::Relaxed), std::io::stderr().is_terminal())
}

fn shown(quiet: bool, stderr_is_terminal: bool) -> bool {
    !quiet && stderr_is_terminal
}

/// A drawn bar; clears itself (and stops being the current one) when dropped.
pub struct Progress {
    bar: ProgressBar,
    /// Whether this bar is the current one (drawn bars only).
    current: bool,
}

impl Progress {
    /// Advances by `n` steps.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Moves to step `pos`.
    pub fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }

    /// Adds `n` steps to the length.
    pub fn inc_length(&self, n: u64) {
        self.bar.inc_length(n);
    }

    /// Names the stage being worked on.
    pub fn stage(&self, msg: impl Into<std::borrow::Cow<'static, str>>) {
        self.bar.set_message(msg);
    }

    /// Clears the bar (also done when it is dropped).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        if self.current
            && let Ok(mut c) = CURRENT.lock()
        {
            *c = None;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn start(bar: ProgressBar, template: &str, what: &str) -> Progress {
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what.to_string());
    let mut current = false;
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut c) = CURRENT.lock() {
            *c = Some(bar.clone());
            current = true;
        }
    }
    Progress { bar, current }
}

/// A bar of `len` steps (more may be added) labelled `what`, e.g. `bar(n, "recommending")`.
pub fn bar(len: u64, what: &str) -> Progress {
    let b = if visible() { ProgressBar::new(len) } else { ProgressBar::hidden() };
    start(b, "{spinner} {prefix} [{bar:30}] {pos}/{len} {msg} {elapsed} elapsed, ~{eta} left", what)
}

/// A spinner for work of unknown length whose stages are named by [`Progress::stage`] or by
/// tracing events of target [`TARGET`].
pub fn stages(what: &str) -> Progress {
    let b = if visible() { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    start(b, "{spinner} {prefix}: {msg} ({elapsed})", what)
}

/// The tracing layer that turns events of target [`TARGET`] into the current bar's message.
pub fn layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    StageLayer.with_filter(tracing_subscriber::filter::filter_fn(|m| m.target() == TARGET))
}

struct StageLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StageLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let Ok(current) = CURRENT.lock() else { return };
        let Some(bar) = current.as_ref() else { return };
        let mut msg = Message(String::new());
        event.record(&mut msg);
        bar.set_message(msg.0);
    }
}

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// stderr for log lines: the bar being drawn is lifted while a line is written.
pub struct StderrWriter;

impl Write for StderrWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = CURRENT.lock().ok().and_then(|c| c.clone());
        match bar {
            Some(b) => b.suspend(|| std::io::stderr().write_all(buf)).map(|()| buf.len()),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_only_on_a_terminal_and_never_when_quiet() {
        assert!(shown(false, true));
        assert!(!shown(false, false));
        assert!(!shown(true, true));
    }
}
