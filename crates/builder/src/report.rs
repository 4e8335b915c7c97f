//! The human report of a training run: one self-contained HTML page (no scripts, no external
//! assets) with the metrics, the learned parameters and example recommendation lists explained
//! by `Engine::explain`.

use crate::train::Trained;
use anyhow::{Context, Result};
use playalike_engine::{Engine, RecommendQuery};
use std::fmt::Write;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Renders the report.
pub fn html(t: &Trained, doc: &serde_json::Value) -> Result<String> {
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=en><meta charset=utf-8><title>playalike training report</title>");
    h.push_str(
        "<style>body{font:15px system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}\
         table{border-collapse:collapse}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:left}\
         .hit{color:#087f23;font-weight:600}.why{color:#666;font-size:90%}</style>",
    );
    let meta = &t.model.metadata;
    let _ = write!(
        h,
        "<h1>playalike model</h1><p>{} games · source {} · created {} · builder {}</p>",
        t.model.games.len(),
        esc(&meta.source),
        esc(&meta.created_at),
        esc(&meta.builder_version)
    );
    h.push_str("<h2>Quality on the cold-start split</h2><table><tr><th>metric<th>value");
    for (k, v) in &meta.metrics {
        let _ = write!(h, "<tr><td>{}<td>{v:.4}", esc(k));
    }
    h.push_str("</table>");
    let _ = write!(h, "<p>Learning: {}</p>", esc(&t.learned.note));
    h.push_str("<h2>Parameters</h2><pre>");
    h.push_str(&esc(&serde_json::to_string_pretty(&doc["params"])?));
    h.push_str("</pre>");

    // Examples: held-out games when there are some (green = in IGDB's own similar list), else the
    // most popular games.
    let engine = Engine::from_model(t.model.clone()).context("while indexing the model for examples")?;
    let mut examples: Vec<u32> = t.split.held_out.iter().copied().take(5).collect();
    if examples.is_empty() {
        let mut g: Vec<(f32, u32)> = t.model.games.iter().map(|g| (g.popularity, g.id)).collect();
        g.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        examples = g.into_iter().take(5).map(|x| x.1).collect();
    }
    h.push_str(
        "<h2>Examples</h2><p>The served model (IGDB's curated lists blended in); green: in the game's \
         own IGDB similar_games list.</p>",
    );
    for id in examples {
        let Some(game) = engine.game(id) else { continue };
        let truth = t.split.truth.get(&id);
        let _ = write!(h, "<h3>{} ({})</h3><table>", esc(&game.name), id);
        let q = RecommendQuery { liked: vec![(id, 1.0)], k: 8, ..Default::default() };
        for hit in engine.recommend(&q)? {
            let name = engine.game(hit.id).map(|g| g.name.clone()).unwrap_or_default();
            let why: Vec<String> = engine
                .explain(id, hit.id)?
                .into_iter()
                .take(4)
                .map(|r| format!("{}: {}", r.field, if r.name.is_empty() { "?".into() } else { r.name }))
                .collect();
            let class = if truth.is_some_and(|tr| tr.contains(&hit.id)) { " class=hit" } else { "" };
            let _ = write!(
                h,
                "<tr><td{class}>{}<td>{:.3}<td class=why>{}",
                esc(&name),
                hit.score,
                esc(&why.join(" · "))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>metrics.json</h2><pre>");
    h.push_str(&esc(&serde_json::to_string_pretty(doc)?));
    h.push_str("</pre></html>\n");
    Ok(h)
}
