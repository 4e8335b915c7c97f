//! `history.html`: the bucket's version history as a picture. One static page (inline SVG, no
//! script, no external asset, a Content-Security-Policy that allows neither) with the quality of
//! the published versions (recall@10, coverage@10), their blob size, and the duration and outcome
//! of the recorded runs, and which version is live. Rewritten from `versions.json`, `runs.json` and
//! `latest.json` by every publish, rollback and run.
//! Also the small quality table and sparkline `status` prints.

use super::bucket::{Bucket, Target};
use super::layout::{self, HistoryEntry, Latest, Versions};
use super::runs::{self, RunRecord, Runs};
use anyhow::Context;
use playalike_base::html::esc;
use serde::Serialize;
use std::fmt::Write as _;

/// The object name.
pub const PAGE: &str = "history.html";
/// Largest `history.html` read back (only its generation is needed).
const MAX_PAGE: u64 = 8 << 20;
/// Versions drawn: the newest 60.
pub const PAGE_VERSIONS: usize = 60;
/// The recall metric drawn.
pub const RECALL: &str = "recall@10";
/// The coverage metric drawn.
pub const COVERAGE: &str = "coverage@10";
/// Attempts at writing the page when other writers keep changing it.
const ATTEMPTS: u32 = 5;

const BLUE: &str = "#3b6ea5";
const ORANGE: &str = "#e07000";
const RED: &str = "#c62828";
/// Colours of the run stages in the durations chart.
const STAGES: [(&str, &str); 4] =
    [("fetch", "#7aa6d6"), ("train", "#3b6ea5"), ("validate", "#e0a040"), ("publish", "#4c9a52")];

/// Unicode block sparkline of `values` (`·` for a missing one); empty input gives "".
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite = || values.iter().flatten().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, |a, v| a.min(*v));
    let hi = finite().fold(f64::NEG_INFINITY, |a, v| a.max(*v));
    values
        .iter()
        .map(|v| match v {
            Some(v) if v.is_finite() => {
                if hi - lo < 1e-12 {
                    BARS[3]
                } else {
                    let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                    BARS[i.min(7)]
                }
            }
            _ => '·',
        })
        .collect()
}

/// One version in `status`'s quality table.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityRow {
    /// The version.
    pub version: u32,
    /// When it was published.
    pub published_at: String,
    /// Its recall@10, when it has one.
    pub recall: Option<f64>,
    /// Its coverage@10, when it has one.
    pub coverage: Option<f64>,
    /// Decoded blob size in bytes.
    pub size: u64,
    /// Games.
    pub games: usize,
}

/// The quality of the last `n` versions, oldest first.
pub fn quality(versions: &Versions, n: usize) -> Vec<QualityRow> {
    let all = &versions.versions;
    all[all.len().saturating_sub(n)..]
        .iter()
        .map(|e| QualityRow {
            version: e.version,
            published_at: e.published_at.clone(),
            recall: e.metrics.get(RECALL).copied(),
            coverage: e.metrics.get(COVERAGE).copied(),
            size: e.size,
            games: e.games,
        })
        .collect()
}

/// `status`'s quality table of `rows` with a sparkline per column ("" when there are none).
pub fn quality_text(rows: &[QualityRow]) -> String {
    let mut s = String::new();
    if rows.is_empty() {
        return s;
    }
    let num = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into());
    let _ = writeln!(
        s,
        "quality of the last {} version{} (oldest first):",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        s,
        "  {:<8} {:<22} {:>10} {:>12} {:>10}",
        "version", "published", RECALL, COVERAGE, "size MB"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:<8} {:<22} {:>10} {:>12} {:>10.2}",
            format!("v{}", r.version),
            r.published_at,
            num(r.recall),
            num(r.coverage),
            megabytes(r.size)
        );
    }
    let recall: Vec<Option<f64>> = rows.iter().map(|r| r.recall).collect();
    let coverage: Vec<Option<f64>> = rows.iter().map(|r| r.coverage).collect();
    let size: Vec<Option<f64>> = rows.iter().map(|r| Some(r.size as f64)).collect();
    for (name, values) in [(RECALL, &recall), (COVERAGE, &coverage), ("size", &size)] {
        let _ = writeln!(s, "  {name:<12} {}", sparkline(values));
    }
    s
}

/// `status`'s list of recent runs, newest last.
pub fn runs_text(runs: &[RunRecord], failed_in_a_row: usize, error: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(e) = error {
        let _ = writeln!(s, "runs: {} unreadable: {e}", runs::RUNS);
        return s;
    }
    if runs.is_empty() {
        let _ = writeln!(s, "runs: none recorded yet ({} is written by `playalike run`)", runs::RUNS);
        return s;
    }
    let streak = match failed_in_a_row {
        0 => String::new(),
        1 => "; the last run FAILED".to_string(),
        n => format!("; the last {n} runs FAILED"),
    };
    let _ = writeln!(s, "recent runs (newest last{streak}):");
    for r in runs {
        let total = r.durations.get("total").copied().unwrap_or(0.0);
        let what = match (&r.version, &r.error) {
            (Some(v), _) => format!("v{v}"),
            (None, Some(e)) => e.chars().take(100).collect(),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<24} {:<9} at {:<8} exit {:<3} {:>7.1} s  {what}",
            r.started_at,
            if r.failed() { "FAILED" } else { r.status.as_str() },
            r.stage_reached,
            r.exit_code,
            total
        );
    }
    s
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// A value axis holding every value with a margin (from 0 when `from_zero`; never below 0: the
/// quantities drawn are all non-negative).
fn axis(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::MAX, f64::MIN), |a, v| (a.0.min(v), a.1.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let lo = if from_zero { lo.min(0.0) } else { lo };
    let span = (hi - lo).max(hi.abs() * 0.1).max(1e-3);
    let lo = if from_zero { lo } else { (lo - span * 0.15).max(0.0) };
    (lo, hi + span * 0.15)
}

/// The frame of a chart: white box, axes, y labels at the ends and the middle, a title for the
/// screen reader.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    lo: f64,
    hi: f64,
}

impl Frame {
    fn new(w: f64, h: f64, lo: f64, hi: f64) -> Frame {
        Frame { w, h, left: 56.0, right: 16.0, top: 28.0, bottom: 40.0, lo, hi }
    }

    fn y(&self, v: f64) -> f64 {
        let span = (self.hi - self.lo).max(1e-12);
        self.h - self.bottom - (v - self.lo) / span * (self.h - self.top - self.bottom)
    }

    /// Centre of slot `i` of `n` along the x axis.
    fn x(&self, i: usize, n: usize) -> f64 {
        let slot = (self.w - self.left - self.right) / n.max(1) as f64;
        self.left + slot * (i as f64 + 0.5)
    }

    fn slot(&self, n: usize) -> f64 {
        (self.w - self.left - self.right) / n.max(1) as f64
    }

    fn open(&self, label: &str, unit: &str, digits: usize) -> String {
        let (w, h, l, b) = (self.w, self.h, self.left, self.h - self.bottom);
        let mut s = format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}' role='img' aria-label='{}'>\
             <rect width='100%' height='100%' fill='#fff'/>\
             <line x1='{l}' y1='{b}' x2='{}' y2='{b}' stroke='#999'/><line x1='{l}' y1='{}' x2='{l}' y2='{b}' stroke='#999'/>",
            esc(label),
            w - self.right,
            self.top
        );
        for v in [self.lo, (self.lo + self.hi) / 2.0, self.hi] {
            let y = self.y(v);
            let _ = write!(
                s,
                "<line x1='{l}' y1='{y:.1}' x2='{:.1}' y2='{y:.1}' stroke='#eee'/>\
                 <text x='{:.1}' y='{:.1}' font-size='11' text-anchor='end'>{v:.digits$}{unit}</text>",
                w - self.right,
                l - 4.0,
                y + 4.0
            );
        }
        s
    }

    /// x labels under the slots, thinned to about 15.
    fn x_labels(&self, labels: &[String]) -> String {
        let n = labels.len();
        let every = n.div_ceil(15).max(1);
        let mut s = String::new();
        for (i, label) in labels.iter().enumerate() {
            if i % every != 0 && i + 1 != n {
                continue;
            }
            let _ = write!(
                s,
                "<text x='{:.1}' y='{:.1}' font-size='11' text-anchor='middle'>{}</text>",
                self.x(i, n),
                self.h - self.bottom + 15.0,
                esc(label)
            );
        }
        s
    }
}

fn legend(items: &[(&str, &str)], x: f64, y: f64) -> String {
    let mut s = String::new();
    let mut x = x;
    for (name, colour) in items {
        let _ = write!(
            s,
            "<rect x='{x:.1}' y='{:.1}' width='10' height='10' fill='{colour}'/><text x='{:.1}' y='{y:.1}' font-size='12'>{}</text>",
            y - 9.0,
            x + 14.0,
            esc(name)
        );
        x += 24.0 + 7.0 * name.chars().count() as f64;
    }
    s
}

/// recall@10 and coverage@10 of each version: two lines with points.
pub fn quality_svg(entries: &[&HistoryEntry]) -> String {
    let series: [(&str, &str); 2] = [(RECALL, BLUE), (COVERAGE, ORANGE)];
    let values = entries.iter().flat_map(|e| series.iter().filter_map(|(k, _)| e.metrics.get(*k).copied()));
    let (lo, hi) = axis(values, false);
    // Both are shares: the axis never needs to go past 1.
    let f = Frame::new(720.0, 260.0, lo, hi.min(1.0).max(lo + 1e-3));
    let mut s = f.open("recall@10 and coverage@10 of each published version", "", 2);
    let n = entries.len();
    for (key, colour) in series {
        let points: Vec<(f64, f64, f64)> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                e.metrics.get(key).filter(|v| v.is_finite()).map(|v| (f.x(i, n), f.y(*v), *v))
            })
            .collect();
        let path: Vec<String> = points.iter().map(|(x, y, _)| format!("{x:.1},{y:.1}")).collect();
        if points.len() > 1 {
            let _ = write!(
                s,
                "<polyline points='{}' fill='none' stroke='{colour}' stroke-width='2'/>",
                path.join(" ")
            );
        }
        for (x, y, v) in &points {
            let _ = write!(
                s,
                "<circle cx='{x:.1}' cy='{y:.1}' r='3.5' fill='{colour}'><title>{} {v:.4}</title></circle>",
                esc(key)
            );
        }
    }
    let labels: Vec<String> = entries.iter().map(|e| format!("v{}", e.version)).collect();
    s.push_str(&f.x_labels(&labels));
    s.push_str(&legend(&series, f.left + 8.0, 16.0));
    s.push_str("</svg>");
    s
}

/// The decoded blob size of each version, as bars.
pub fn size_svg(entries: &[&HistoryEntry]) -> String {
    let (lo, hi) = axis(entries.iter().map(|e| megabytes(e.size)), true);
    let f = Frame::new(720.0, 200.0, lo, hi);
    let mut s = f.open("blob size of each published version in megabytes", " MB", 1);
    let n = entries.len();
    let bw = (f.slot(n) * 0.7).max(1.0);
    for (i, e) in entries.iter().enumerate() {
        let y = f.y(megabytes(e.size));
        let _ = write!(
            s,
            "<rect x='{:.1}' y='{y:.1}' width='{bw:.1}' height='{:.1}' fill='{BLUE}'><title>v{} {} bytes</title></rect>",
            f.x(i, n) - bw / 2.0,
            (f.y(lo) - y).max(0.0),
            e.version,
            e.size
        );
    }
    let labels: Vec<String> = entries.iter().map(|e| format!("v{}", e.version)).collect();
    s.push_str(&f.x_labels(&labels));
    s.push_str("</svg>");
    s
}

/// Each run's duration, stacked by stage; a failed run is outlined red and marked with its exit
/// code.
pub fn runs_svg(runs: &[RunRecord]) -> String {
    let stage = |r: &RunRecord, k: &str| r.durations.get(k).copied().filter(|v| v.is_finite() && *v > 0.0);
    let total = |r: &RunRecord| {
        let sum: f64 = STAGES.iter().filter_map(|(k, _)| stage(r, k)).sum();
        r.durations.get("total").copied().filter(|t| t.is_finite()).unwrap_or(0.0).max(sum)
    };
    let (lo, hi) = axis(runs.iter().map(total), true);
    let f = Frame::new(720.0, 240.0, lo, hi);
    let mut s =
        f.open("duration of each recorded run in seconds, by stage; failed runs outlined red", " s", 0);
    let n = runs.len();
    let bw = (f.slot(n) * 0.7).max(1.0);
    for (i, r) in runs.iter().enumerate() {
        let x = f.x(i, n) - bw / 2.0;
        let mut acc = 0.0;
        for (k, colour) in STAGES {
            let Some(d) = stage(r, k) else { continue };
            let (y0, y1) = (f.y(acc), f.y(acc + d));
            let _ = write!(
                s,
                "<rect x='{x:.1}' y='{y1:.1}' width='{bw:.1}' height='{:.1}' fill='{colour}'><title>{} {k} {d:.1} s</title></rect>",
                (y0 - y1).max(0.0),
                esc(&r.started_at)
            );
            acc += d;
        }
        if r.failed() {
            let top = f.y(total(r));
            let _ = write!(
                s,
                "<rect x='{x:.1}' y='{top:.1}' width='{bw:.1}' height='{:.1}' fill='none' stroke='{RED}' stroke-width='2'/>\
                 <text x='{:.1}' y='{:.1}' font-size='11' fill='{RED}' text-anchor='middle'>✕{}</text>",
                (f.y(lo) - top).max(2.0),
                f.x(i, n),
                top - 4.0,
                r.exit_code
            );
        }
    }
    // `MM-DD hh:mm` of the start (UTC).
    let labels: Vec<String> =
        runs.iter().map(|r| r.started_at.get(5..16).unwrap_or("?").replace('T', " ")).collect();
    s.push_str(&f.x_labels(&labels));
    let mut items: Vec<(&str, &str)> = STAGES.to_vec();
    items.push(("failed (exit code)", RED));
    s.push_str(&legend(&items, f.left + 8.0, 16.0));
    s.push_str("</svg>");
    s
}

fn metric(e: &HistoryEntry, k: &str) -> String {
    e.metrics.get(k).map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into())
}

/// Renders the page; `live` is the pointer (`latest.json`), None when nothing is live.
pub fn render(versions: &Versions, runs: &Runs, live: Option<&Latest>, bucket: &str, now: &str) -> String {
    let all = &versions.versions;
    let entries: Vec<&HistoryEntry> = all[all.len().saturating_sub(PAGE_VERSIONS)..].iter().collect();
    let mut h = String::new();
    h.push_str(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\
         <meta name=viewport content=\"width=device-width,initial-scale=1\"><title>playalike version history</title>\
         <style>body{font:15px system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}\
         table{border-collapse:collapse}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:left}\
         svg{max-width:100%;height:auto}.failed{color:#c62828;font-weight:600}.note{color:#666}</style>",
    );
    let failing = runs::failed_in_a_row(runs);
    let _ = write!(
        h,
        "<h1>playalike version history</h1><p>{} · {} version{} published · {} run{} recorded · page written {}</p>",
        esc(bucket),
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        runs.runs.len(),
        if runs.runs.len() == 1 { "" } else { "s" },
        esc(now)
    );
    match live {
        Some(l) => {
            let _ = write!(
                h,
                "<p>Live: <b>v{}</b> (published {}; pointer last moved {}, by a publish or a rollback)</p>",
                l.version,
                esc(&l.published_at),
                esc(&l.updated_at)
            );
        }
        None => h.push_str("<p class=note>Nothing is live (no latest.json).</p>"),
    }
    if failing > 0 {
        let _ = write!(
            h,
            "<p class=failed>The last {failing} run{} failed; the live model is unchanged since.</p>",
            if failing == 1 { "" } else { "s" }
        );
    }
    h.push_str("<h2>Quality of each version</h2>");
    if entries.is_empty() {
        h.push_str("<p class=note>Nothing published yet.</p>");
    } else {
        let _ = write!(
            h,
            "<p class=note>Held-out {RECALL} and {COVERAGE} as measured at training (the newest {} versions).</p>",
            entries.len()
        );
        h.push_str(&quality_svg(&entries));
        h.push_str("<h2>Blob size</h2>");
        h.push_str(&size_svg(&entries));
    }
    h.push_str("<h2>Runs</h2>");
    if runs.runs.is_empty() {
        h.push_str("<p class=note>No run recorded yet (<code>playalike run</code> records each attempt in runs.json).</p>");
    } else {
        let _ = write!(
            h,
            "<p class=note>Duration of each of the last {} attempts of <code>playalike run</code>, by stage.</p>",
            runs.runs.len()
        );
        h.push_str(&runs_svg(&runs.runs));
        h.push_str(
            "<table><tr><th>started<th>outcome<th>stage reached<th>exit<th>seconds<th>version<th>error",
        );
        for r in runs.runs.iter().rev() {
            let class = if r.failed() { " class=failed" } else { "" };
            let _ = write!(
                h,
                "<tr><td>{}<td{class}>{}<td>{}<td>{}<td>{:.1}<td>{}<td class=note>{}",
                esc(&r.started_at),
                esc(&r.status),
                esc(&r.stage_reached),
                r.exit_code,
                r.durations.get("total").copied().unwrap_or(0.0),
                r.version.map(|v| format!("v{v}")).unwrap_or_default(),
                esc(r.error.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>");
    }
    if !entries.is_empty() {
        let _ = write!(
            h,
            "<h2>Versions</h2><table><tr><th>version<th>published<th>data as of<th>games<th>bytes<th>{RECALL}<th>{COVERAGE}"
        );
        for e in entries.iter().rev() {
            let _ = write!(
                h,
                "<tr><td>v{}{}<td>{}<td>{}<td>{}<td>{}<td>{}<td>{}",
                e.version,
                if live.is_some_and(|l| l.version == e.version) { " (live)" } else { "" },
                esc(&e.published_at),
                esc(&e.created_at),
                e.games,
                e.size,
                metric(e, RECALL),
                metric(e, COVERAGE)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</html>\n");
    h
}

/// Rewrites `history.html` from the bucket's `versions.json`, `runs.json` and `latest.json`. The page's
/// generation is read *before* its sources, and the write is conditional on it: a writer that
/// read older sources than a concurrent one loses, re-reads and renders again, so the last page
/// written includes every record written before it.
pub async fn write(bucket: &Bucket, target: &Target) -> anyhow::Result<()> {
    for _ in 0..ATTEMPTS {
        let generation = match bucket.get(PAGE, MAX_PAGE).await {
            Ok(got) => got.map(|(_, g)| g).unwrap_or(0),
            Err(e) => return Err(anyhow::Error::new(e).context(format!("while reading {target}/{PAGE}"))),
        };
        let versions: Versions = match bucket.get(layout::VERSIONS, layout::MAX_HISTORY).await {
            Ok(Some((bytes, _))) => serde_json::from_slice(&bytes)
                .with_context(|| format!("while parsing {target}/{} for {PAGE}", layout::VERSIONS))?,
            Ok(None) => Versions::default(),
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("while reading {target}/versions.json")));
            }
        };
        let (runs, _) = runs::read(bucket, target).await?;
        let live: Option<Latest> = match bucket.get(layout::LATEST, layout::MAX_DOCUMENT).await {
            Ok(Some((bytes, _))) => Some(
                serde_json::from_slice(&bytes)
                    .with_context(|| format!("while parsing {target}/{} for {PAGE}", layout::LATEST))?,
            ),
            Ok(None) => None,
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("while reading {target}/{}", layout::LATEST))
                );
            }
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let html = render(&versions, &runs, live.as_ref(), &target.to_string(), &now);
        let written = bucket
            .put_if_unchanged(PAGE, html.as_bytes(), "text/html; charset=utf-8", generation)
            .await
            .with_context(|| format!("while writing {target}/{PAGE}"))?;
        if written {
            return Ok(());
        }
        tracing::debug!("{PAGE} changed since it was read; rendering it again");
    }
    anyhow::bail!("{target}/{PAGE}: other writers kept changing it; gave up after {ATTEMPTS} attempts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn entry(v: u32, recall: f64) -> HistoryEntry {
        HistoryEntry {
            version: v,
            created_at: "2026-11-01T00:00:00Z".into(),
            published_at: format!("2026-11-{:02}T01:00:00Z", v % 28 + 1),
            checksum: "00".into(),
            size: 1_000_000 + u64::from(v) * 20_000,
            games: 4000,
            metrics: BTreeMap::from([
                (RECALL.to_string(), recall),
                (COVERAGE.to_string(), 0.5 + recall / 2.0),
            ]),
        }
    }

    fn run(i: u32, failed: bool) -> RunRecord {
        let summary = if failed {
            serde_json::json!({"status": "failed", "failedStage": "fetch", "exitCode": 10, "error": "<boom>",
                               "durations": {"fetch": 3.0, "total": 3.0}})
        } else {
            serde_json::json!({"status": "published", "exitCode": 0, "version": i,
                               "durations": {"fetch": 4.0, "train": 20.0, "validate": 1.0, "publish": 2.0, "total": 27.0}})
        };
        let t = chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{:02}T00:00:00Z", i % 28 + 1))
            .unwrap()
            .to_utc();
        RunRecord::from_summary(&summary, t, t)
    }

    /// latest.json pointing at `v`, moved there on 2026-12-01 09:00.
    fn pointer(v: u32) -> Latest {
        let e = entry(v, 0.3);
        serde_json::from_value(serde_json::json!({
            "schema": 1, "version": v, "url": layout::blob_name(v), "metadataUrl": layout::metadata_name(v),
            "checksum": e.checksum, "size": e.size, "encoding": "identity", "formatVersion": "1.0",
            "createdAt": e.created_at, "publishedAt": e.published_at, "updatedAt": "2026-12-01T09:00:00Z",
            "games": e.games, "metrics": e.metrics,
        }))
        .unwrap()
    }

    #[test]
    fn sparklines_span_the_blocks() {
        assert_eq!(sparkline(&[Some(0.1), Some(0.2), Some(0.3), None, Some(0.8)]), "▁▂▃·█");
        assert_eq!(sparkline(&[Some(1.0), Some(1.0)]), "▄▄");
        assert_eq!(sparkline(&[]), "");
        assert_eq!(sparkline(&[None, Some(f64::NAN)]), "··");
    }

    #[test]
    fn the_page_draws_every_version_and_run_without_script() {
        for n in [1u32, 7, 80] {
            let versions = Versions {
                schema: 1,
                versions: (1..=n).map(|v| entry(v, 0.3 + f64::from(v % 5) / 100.0)).collect(),
            };
            let runs = Runs { schema: 1, runs: (1..=n.min(30)).map(|i| run(i, i % 4 == 1)).collect() };
            // Rolled back: an older version than the newest is live.
            let live = pointer(n.div_ceil(2));
            let html = render(&versions, &runs, Some(&live), "gs://b/<p>", "2026-12-02T00:00:00Z");
            let shown = n.min(PAGE_VERSIONS as u32);
            // Three pictures: quality, size, runs.
            assert_eq!(html.matches("<svg").count(), 3, "n={n}");
            // Quality: one point per version and metric; size: one bar per version.
            assert_eq!(html.matches("<title>recall@10 ").count(), shown as usize, "n={n}");
            assert_eq!(html.matches("<title>coverage@10 ").count(), shown as usize, "n={n}");
            assert_eq!(html.matches(" bytes</title></rect>").count(), shown as usize, "n={n}");
            assert!(html.contains(&format!(">v{n}<")), "the newest version is labelled (n={n})");
            assert!(!html.contains("<script") && !html.contains("javascript:"), "no script");
            assert!(html.contains("default-src 'none'"), "the CSP forbids everything else");
            assert!(html.contains("gs://b/&lt;p&gt;") && html.contains("&lt;boom&gt;"), "escaped");
            let failed = runs.runs.iter().filter(|r| r.failed()).count();
            assert_eq!(html.matches("✕10</text>").count(), failed, "each failed run is marked (n={n})");
            let v = live.version;
            assert!(html.contains(&format!("Live: <b>v{v}</b>")), "the live version is named (n={n})");
            assert!(html.contains("pointer last moved 2026-12-01T09:00:00Z"), "n={n}");
            let marked = if v + PAGE_VERSIONS as u32 > n { 1 } else { 0 }; // in the table?
            assert_eq!(html.matches("(live)").count(), marked, "n={n}");
            assert_eq!(html.matches(&format!("<td>v{v} (live)<td>")).count(), marked, "n={n}");
        }
        let empty = render(&Versions::default(), &Runs::default(), None, "file:///b", "now");
        assert!(empty.contains("Nothing published yet") && empty.contains("No run recorded yet"));
        assert!(empty.contains("Nothing is live") && !empty.contains("(live)"));
    }

    #[test]
    fn quality_rows_take_the_newest() {
        let versions = Versions { schema: 1, versions: (1..=12).map(|v| entry(v, 0.3)).collect() };
        let rows = quality(&versions, 10);
        assert_eq!(rows.iter().map(|r| r.version).collect::<Vec<_>>(), (3..=12).collect::<Vec<_>>());
        assert_eq!(rows[0].recall, Some(0.3));
        assert_eq!(rows[0].coverage, Some(0.65));
    }
}
