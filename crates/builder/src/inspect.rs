//! `playalike inspect`, `explain` and `game`: looking inside a model blob from the command line.
//!
//! They call the same engine functions the JS API calls (`status`, `explain`, `game_view`; see
//! `crates/engine/src/wasm.rs`), so the CLI and the browser tell the same story. JSON output uses
//! camelCase keys like the JS objects and the bucket documents.

use crate::exit::{ExitCode, Stage};
use crate::query::load;
use anyhow::Result;
use playalike_engine::{Engine, FIELD_COUNT, Field, GameView, Reason, Status};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Flags of `playalike inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Model blob.
    #[arg(env = "PLAYALIKE_MODEL")]
    pub model: PathBuf,
    /// Top terms to list per vocabulary (by number of games using them).
    #[arg(long, env = "PLAYALIKE_INSPECT_TOP", default_value_t = 5)]
    pub top: usize,
    /// Print one JSON document on stdout (camelCase keys).
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

/// Flags of `playalike explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// Model blob.
    #[arg(long, env = "PLAYALIKE_MODEL")]
    pub model: PathBuf,
    /// The game liked (IGDB id).
    pub a: u32,
    /// The game recommended for it (IGDB id).
    pub b: u32,
    /// Print one JSON document on stdout (camelCase keys).
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

/// Flags of `playalike game`.
#[derive(Debug, Clone, clap::Args)]
pub struct GameArgs {
    /// Model blob.
    #[arg(long, env = "PLAYALIKE_MODEL")]
    pub model: PathBuf,
    /// IGDB game id.
    pub id: u32,
    /// Print one JSON document on stdout (camelCase keys, as the JS `game()` returns).
    #[arg(long, env = "PLAYALIKE_JSON")]
    pub json: bool,
}

/// One vocabulary term with the number of games carrying it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopTerm {
    /// IGDB id of the term.
    pub igdb_id: u32,
    /// Display name.
    pub name: String,
    /// Games carrying it (document frequency).
    pub games: usize,
}

/// One field's vocabulary.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vocabulary {
    /// IGDB field name.
    pub field: &'static str,
    /// Terms in the vocabulary.
    pub terms: usize,
    /// Terms carried by at least one game.
    pub used: usize,
    /// Whether the blob stores per-term weights for the field (else the engine uses IDF).
    pub stored_term_weights: bool,
    /// The most frequent terms, most frequent first.
    pub top: Vec<TopTerm>,
}

/// The scoring parameters, grouped as the formula reads.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameters {
    /// Weight of each field's cosine, in blob order (an array: IGDB field names such as
    /// `game_modes` are values here, not keys).
    pub field_weights: Vec<FieldWeight>,
    /// Release-year proximity.
    pub year: Year,
    /// Candidate priors and the curated bonus.
    pub priors: Priors,
}

/// One field's weight.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldWeight {
    /// IGDB field name.
    pub field: &'static str,
    /// Weight of its cosine.
    pub weight: f32,
}

/// Release-year proximity parameters.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Year {
    /// Weight.
    pub weight: f32,
    /// Years over which proximity decays by 1/e.
    pub scale: f32,
}

/// Prior weights.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Priors {
    /// Popularity prior weight.
    pub popularity: f32,
    /// Rating prior weight.
    pub rating: f32,
    /// Bonus for IGDB's curated similar games.
    pub curated: f32,
}

/// What `inspect --json` prints: the engine's `status()` plus vocabularies and parameters.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    /// Blob size in bytes.
    pub bytes: usize,
    /// The engine's status (the JS `status()` object), flattened.
    #[serde(flatten)]
    pub status: Status,
    /// Per field, its vocabulary.
    pub vocabulary: Vec<Vocabulary>,
    /// Scoring parameters.
    pub parameters: Parameters,
}

/// Summarizes a loaded model.
pub fn inspection(engine: &Engine, bytes: usize, top: usize) -> Inspection {
    let cat = engine.catalog();
    let params = engine.params();
    let vocabulary = Field::ALL
        .iter()
        .map(|&f| {
            let fi = f.index();
            let vocab = &cat.vocab[fi];
            let mut df = vec![0usize; vocab.len()];
            for i in 0..engine.len() {
                for &t in cat.features[fi].get(i) {
                    if let Some(d) = df.get_mut(t as usize) {
                        *d += 1;
                    }
                }
            }
            let mut order: Vec<usize> = (0..vocab.len()).filter(|&t| df[t] > 0).collect();
            let used = order.len();
            // Most games first; ties by IGDB id so the output is stable.
            order.sort_by_key(|&t| (std::cmp::Reverse(df[t]), vocab[t].igdb_id));
            Vocabulary {
                field: f.name(),
                terms: vocab.len(),
                used,
                stored_term_weights: !params.feature_weights[fi].is_empty(),
                top: order
                    .into_iter()
                    .take(top)
                    .map(|t| TopTerm { igdb_id: vocab[t].igdb_id, name: vocab[t].name.clone(), games: df[t] })
                    .collect(),
            }
        })
        .collect();
    let field_weights = Field::ALL
        .iter()
        .map(|f| FieldWeight { field: f.name(), weight: params.field_weights[f.index()] })
        .collect();
    Inspection {
        bytes,
        status: engine.status(),
        vocabulary,
        parameters: Parameters {
            field_weights,
            year: Year { weight: params.year_weight, scale: params.year_scale },
            priors: Priors {
                popularity: params.popularity_weight,
                rating: params.rating_weight,
                curated: params.curated_weight,
            },
        },
    }
}

fn write_inspection(out: &mut dyn Write, s: &Inspection) -> Result<()> {
    let st = &s.status;
    writeln!(out, "games           {}", st.games)?;
    writeln!(out, "format version  {}", st.format_version)?;
    writeln!(out, "model version   {}", st.model_version)?;
    writeln!(out, "created at      {}", st.created_at)?;
    writeln!(out, "source          {}", st.source)?;
    writeln!(out, "builder         {}", st.builder_version)?;
    writeln!(out, "size            {} bytes", s.bytes)?;
    writeln!(out, "\nmetrics")?;
    if st.metrics.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for (k, v) in &st.metrics {
        writeln!(out, "  {k:<24} {v:.4}")?;
    }
    writeln!(out, "\nvocabulary (terms, used by a game, term weights, top terms by games; #id = no name)")?;
    for v in &s.vocabulary {
        let top: Vec<String> = v
            .top
            .iter()
            .map(|t| {
                if t.name.is_empty() {
                    format!("#{} ({})", t.igdb_id, t.games)
                } else {
                    format!("{} ({})", t.name, t.games)
                }
            })
            .collect();
        let weights = if v.stored_term_weights { "stored" } else { "idf" };
        writeln!(out, "  {:<20} {:>7} {:>7}  {weights:<6}  {}", v.field, v.terms, v.used, top.join(", "))?;
    }
    let p = &s.parameters;
    writeln!(out, "\nparameters")?;
    for w in &p.field_weights {
        writeln!(out, "  {:<20} {:.4}", w.field, w.weight)?;
    }
    writeln!(out, "  {:<20} {:.4} (scale {:.2} years)", "year", p.year.weight, p.year.scale)?;
    writeln!(out, "  {:<20} {:.4}", "popularity prior", p.priors.popularity)?;
    writeln!(out, "  {:<20} {:.4}", "rating prior", p.priors.rating)?;
    writeln!(out, "  {:<20} {:.4}", "curated bonus", p.priors.curated)?;
    Ok(())
}

fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::new(std::io::stdout().lock())
}

/// Runs `playalike inspect`.
pub async fn inspect(args: InspectArgs) -> Result<()> {
    let bytes = std::fs::metadata(&args.model).map(|m| m.len() as usize).unwrap_or(0);
    let engine = load(&args.model)?;
    let s = inspection(&engine, bytes, args.top);
    let mut out = stdout();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&s)?)?;
    } else {
        write_inspection(&mut out, &s)?;
    }
    out.flush()?;
    Ok(())
}

/// A game named in an answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    /// IGDB id.
    pub id: u32,
    /// Title.
    pub name: String,
    /// Release year.
    pub year: Option<u16>,
}

/// What `explain --json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The liked game.
    pub a: Named,
    /// The recommended game.
    pub b: Named,
    /// The full score of `b` for `a` (shared features, year proximity, priors, curated bonus).
    pub score: f32,
    /// The shared features' part of the score (sum of `reasons`).
    pub shared: f32,
    /// The engine's `explain(a, b)`: `[{field, name, weight}]`, strongest first.
    pub reasons: Vec<Reason>,
}

/// A game the model must hold (exit 2 otherwise, as `recommend --game` does).
fn known(engine: &Engine, id: u32) -> Result<usize> {
    engine.index_of(id).map_err(|_| anyhow::anyhow!("game {id} is not in the model")).stage(ExitCode::Usage)
}

fn named(engine: &Engine, i: usize, id: u32) -> Named {
    Named { id, name: engine.name_of(i).to_string(), year: engine.year_of(i) }
}

/// Runs `playalike explain`.
pub async fn explain(args: ExplainArgs) -> Result<()> {
    let engine = load(&args.model)?;
    let (ia, ib) = (known(&engine, args.a)?, known(&engine, args.b)?);
    let reasons = engine.explain(args.a, args.b).map_err(anyhow::Error::from).stage(ExitCode::Usage)?;
    let e = Explanation {
        a: named(&engine, ia, args.a),
        b: named(&engine, ib, args.b),
        score: engine.score(ia, ib),
        shared: reasons.iter().map(|r| r.weight).sum(),
        reasons,
    };
    let mut out = stdout();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&e)?)?;
    } else {
        let year = |n: &Named| n.year.map(|y| format!(" ({y})")).unwrap_or_default();
        writeln!(out, "{} [{}]{} → {} [{}]{}", e.a.name, e.a.id, year(&e.a), e.b.name, e.b.id, year(&e.b))?;
        writeln!(out, "score {:.4}, of which shared features {:.4}", e.score, e.shared)?;
        if e.reasons.is_empty() {
            writeln!(out, "no shared features")?;
        }
        for r in &e.reasons {
            let name = if r.name.is_empty() { "(no name in the model)" } else { &r.name };
            writeln!(out, "  {:>8.4}  {:<20} {name}", r.weight, r.field)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn write_game(out: &mut dyn Write, g: &GameView) -> Result<()> {
    let year = g.year.map(|y| format!(" ({y})")).unwrap_or_default();
    writeln!(out, "{}{year}", g.name)?;
    writeln!(out, "  {:<20} {}", "id", g.id)?;
    writeln!(out, "  {:<20} {}", "slug", g.slug)?;
    let rating =
        g.rating.map(|r| format!("{r:.1} ({} ratings)", g.rating_count)).unwrap_or_else(|| "-".into());
    writeln!(out, "  {:<20} {rating}", "rating")?;
    writeln!(out, "  {:<20} {:.2}", "popularity", g.popularity)?;
    if let Some(c) = &g.cover {
        writeln!(out, "  {:<20} {c}", "cover")?;
    }
    if let Some(t) = g.game_type {
        writeln!(out, "  {:<20} {t}", "game type")?;
    }
    let lists: [(&str, &[String]); FIELD_COUNT + 1] = [
        ("alternative names", &g.alt_names),
        ("genres", &g.genres),
        ("themes", &g.themes),
        ("platforms", &g.platforms),
        ("game modes", &g.game_modes),
        ("perspectives", &g.player_perspectives),
        ("keywords", &g.keywords),
        ("franchises", &g.franchises),
        ("collections", &g.collections),
        ("companies", &g.companies),
        ("engines", &g.engines),
    ];
    for (label, items) in lists {
        let named: Vec<&str> = items.iter().map(String::as_str).filter(|n| !n.is_empty()).collect();
        let unnamed = items.len() - named.len();
        let more = match (named.is_empty(), unnamed) {
            (_, 0) => String::new(),
            (true, n) => format!("{n} without a name in the model"),
            (false, n) => format!(", and {n} without a name"),
        };
        if !items.is_empty() {
            writeln!(out, "  {label:<20} {}{more}", named.join(", "))?;
        }
    }
    if !g.similar.is_empty() {
        let ids: Vec<String> = g.similar.iter().map(u32::to_string).collect();
        writeln!(out, "  {:<20} {}", "similar (IGDB)", ids.join(", "))?;
    }
    Ok(())
}

/// Runs `playalike game`.
pub async fn game(args: GameArgs) -> Result<()> {
    let engine = load(&args.model)?;
    let g = engine
        .game_view(args.id)
        .ok_or_else(|| anyhow::anyhow!("game {} is not in the model", args.id))
        .stage(ExitCode::Usage)?;
    let mut out = stdout();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&g)?)?;
    } else {
        write_game(&mut out, &g)?;
    }
    out.flush()?;
    Ok(())
}
