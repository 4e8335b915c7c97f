//! The human report of a training run: one self-contained HTML page.

use crate::train::Trained;
use anyhow::Result;

/// Renders the report.
pub fn html(t: &Trained, doc: &serde_json::Value) -> Result<String> {
    let _ = t;
    Ok(format!(
        "<!doctype html><meta charset=utf-8><title>playalike training report</title><pre>{}</pre>",
        esc(&serde_json::to_string_pretty(doc)?)
    ))
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
