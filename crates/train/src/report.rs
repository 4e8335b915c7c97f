//! The human report of a training run: one self-contained HTML page (no scripts, no external
//! assets) with the metrics, the learned parameters and example recommendation lists explained
//! by `Engine::explain`.

use crate::train::Trained;
use anyhow::{Context, Result};
use playalike_engine::{Engine, RecommendQuery};
use std::fmt::Write;

/// Escapes text for HTML.
pub use playalike_base::html::esc;

/// An inline SVG scatter (no script) of every parameter vector the search evaluated fully:
/// pooled coverage@10 across, tune recall@10 up; the chosen one in orange.
pub fn tradeoff_svg(points: &[(f64, f64)], chosen: Option<(f64, f64)>) -> String {
    let (w, ht, m) = (560.0, 300.0, 44.0);
    let finite = || points.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1) = finite().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (mut y0, mut y1) = finite().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let (xs, ys) = ((x1 - x0).max(1e-3), (y1 - y0).max(1e-3));
    let px = |x: f64| m + (x - x0) / xs * (w - 2.0 * m);
    let py = |y: f64| ht - m - (y - y0) / ys * (ht - 2.0 * m);
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{ht}' role='img' aria-label='recall against coverage of the evaluated parameter vectors'>\
         <rect width='100%' height='100%' fill='#fff'/>\
         <line x1='{m}' y1='{b}' x2='{r}' y2='{b}' stroke='#999'/><line x1='{m}' y1='{m}' x2='{m}' y2='{b}' stroke='#999'/>\
         <text x='{cx}' y='{ty}' text-anchor='middle' font-size='12'>pooled coverage@10 ({x0:.3} – {x1:.3})</text>\
         <text x='12' y='{cy}' font-size='12' transform='rotate(-90 12 {cy})' text-anchor='middle'>tune recall@10 ({y0:.3} – {y1:.3})</text>",
        b = ht - m,
        r = w - m,
        cx = w / 2.0,
        ty = ht - 10.0,
        cy = ht / 2.0
    );
    for p in finite() {
        let _ = write!(
            s,
            "<circle cx='{:.1}' cy='{:.1}' r='2.5' fill='#3b6ea5' fill-opacity='.5'/>",
            px(p.0),
            py(p.1)
        );
    }
    if let Some(c) = chosen.filter(|c| c.0.is_finite() && c.1.is_finite()) {
        let _ = write!(
            s,
            "<circle cx='{:.1}' cy='{:.1}' r='6' fill='none' stroke='#e07000' stroke-width='2.5'/>\
             <text x='{:.1}' y='{:.1}' font-size='12' fill='#e07000'>chosen ({:.3}, {:.3})</text>",
            px(c.0),
            py(c.1),
            px(c.0) + 9.0,
            py(c.1) - 8.0,
            c.0,
            c.1
        );
    }
    s.push_str("</svg>");
    s
}

/// An inline SVG bar chart of the field weights and the scalar weights.
pub fn weights_svg(p: &playalike_engine::Params) -> String {
    let mut rows: Vec<(String, f32)> = playalike_engine::Field::ALL
        .iter()
        .map(|f| (f.name().to_string(), p.field_weights[f.index()]))
        .collect();
    rows.push(("release year".into(), p.year_weight));
    rows.push(("popularity prior".into(), p.popularity_weight));
    rows.push(("rating prior".into(), p.rating_weight));
    let max = rows.iter().map(|r| r.1).fold(0.0f32, f32::max).max(1e-6);
    let (w, row) = (560.0f32, 20.0f32);
    let ht = row * rows.len() as f32 + 10.0;
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{ht}' role='img' aria-label='the published weights'><rect width='100%' height='100%' fill='#fff'/>"
    );
    for (i, (name, v)) in rows.iter().enumerate() {
        let y = 5.0 + row * i as f32;
        let bw = v / max * (w - 220.0);
        let _ = write!(
            s,
            "<text x='150' y='{:.1}' font-size='12' text-anchor='end'>{}</text><rect x='160' y='{:.1}' width='{bw:.1}' height='{:.1}' fill='#3b6ea5'/><text x='{:.1}' y='{:.1}' font-size='11'>{v:.3}</text>",
            y + 14.0,
            esc(name),
            y + 3.0,
            row - 6.0,
            165.0 + bw,
            y + 14.0
        );
    }
    s.push_str("</svg>");
    s
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
    if !t.learned.tradeoff.is_empty() {
        h.push_str("<h2>The trade-off the trainer chose from</h2>");
        h.push_str(&tradeoff_svg(&t.learned.tradeoff, t.learned.tradeoff_chosen));
    }
    h.push_str("<h2>Field weights</h2>");
    h.push_str(&weights_svg(&t.model.params));
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
