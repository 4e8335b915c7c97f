//! The native engine from the command line, for the native-vs-wasm tests and the benchmark.
//!
//! ```text
//! query BLOB                 JSON-lines queries on stdin, one JSON result line each:
//!                              {"op":"recommend","liked":[[id,w]],"disliked":[],"k":10,"filters":{},"maxPerFranchise":0}
//!                              {"op":"search","text":"zel","k":10}
//!                              {"op":"popular","k":10,"filters":{}}
//!                              {"op":"sample","n":30}
//! query BLOB bench RUNS      native timings (load, recommend, search) as one JSON line
//! query --synth N SEED OUT   writes a synthetic model blob of N games
//! ```

use playalike_engine::{Engine, Filters, RecommendQuery, ResultRow, format, synth};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::time::Instant;

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
enum Query {
    #[serde(rename_all = "camelCase")]
    Recommend {
        liked: Vec<(u32, f32)>,
        #[serde(default)]
        disliked: Vec<u32>,
        #[serde(default)]
        k: Option<usize>,
        #[serde(default)]
        filters: Filters,
        #[serde(default)]
        max_per_franchise: usize,
    },
    Search {
        text: String,
        #[serde(default)]
        k: Option<usize>,
    },
    Popular {
        #[serde(default)]
        k: Option<usize>,
        #[serde(default)]
        filters: Filters,
    },
    /// `n` games spread over the catalogue (score 0), to pick query seeds.
    Sample { n: usize },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Answer<'a> {
    /// The wasm package's row shape ([`ResultRow`]), so the native-vs-wasm test compares like with like.
    Rows(Vec<ResultRow<'a>>),
    /// The engine's message and its [`playalike_engine::Error::code`], as the wasm package throws them.
    Error { error: String, code: &'static str },
}

fn answer<'a>(e: &'a Engine, q: Query) -> Answer<'a> {
    match q {
        Query::Recommend { liked, disliked, k, filters, max_per_franchise } => {
            let q = RecommendQuery { liked, disliked, k: k.unwrap_or(10), filters, max_per_franchise };
            match e.recommend(&q) {
                Ok(hits) => Answer::Rows(e.rows(hits.iter().map(|h| (h.id, h.score)))),
                Err(err) => Answer::Error { error: err.to_string(), code: err.code() },
            }
        }
        Query::Popular { k, filters } => match e.popular(k.unwrap_or(10), &filters) {
            Ok(hits) => Answer::Rows(e.rows(hits.iter().map(|h| (h.id, h.score)))),
            Err(err) => Answer::Error { error: err.to_string(), code: err.code() },
        },
        Query::Sample { n } => {
            let step = (e.len() / n.max(1)).max(1);
            Answer::Rows(e.rows((0..e.len()).step_by(step).take(n).filter_map(|i| Some((e.id_of(i)?, 0.0)))))
        }
        Query::Search { text, k } => {
            Answer::Rows(e.rows(e.search(&text, k.unwrap_or(10).min(1000)).iter().map(|h| (h.id, h.score))))
        }
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

fn bench(bytes: &[u8], runs: usize) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let mut loads = Vec::new();
    let mut engine = None;
    for _ in 0..5 {
        let t = Instant::now();
        engine = Some(Engine::from_bytes(bytes)?);
        loads.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let e = engine.ok_or("no engine")?;
    let mut rng = synth::Rng::new(1);
    let mut rec = Vec::with_capacity(runs);
    for _ in 0..runs {
        let id = e.id_of(rng.below(e.len() as u64) as usize).ok_or("empty model")?;
        let t = Instant::now();
        let hits = e.recommend(&RecommendQuery { liked: vec![(id, 1.0)], ..Default::default() })?;
        rec.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(hits);
    }
    // Keystrokes: every prefix of real titles (the title index built first, as a page does).
    let t = Instant::now();
    e.prepare_search();
    let index_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut keys = Vec::new();
    while keys.len() < runs {
        let name = e.name_of(rng.below(e.len() as u64) as usize).to_string();
        let mut typed = String::new();
        for c in name.chars().take(20) {
            typed.push(c);
            let t = Instant::now();
            std::hint::black_box(e.search(&typed, 10));
            keys.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(serde_json::json!({
        "games": e.len(),
        "loadMsP50": percentile(&mut loads, 0.5),
        "searchIndexMs": index_ms,
        "recommendMsP50": percentile(&mut rec, 0.5),
        "recommendMsP90": percentile(&mut rec, 0.9),
        "searchMsP50": percentile(&mut keys, 0.5),
        "searchMsP90": percentile(&mut keys, 0.9),
    }))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["--synth", n, seed, out] => {
            let blob = format::encode(&synth::model(n.parse()?, seed.parse()?))?;
            std::fs::write(out, blob)?;
        }
        [blob, "bench", runs] => {
            println!("{}", bench(&std::fs::read(blob)?, runs.parse()?)?);
        }
        [blob] => {
            let e = Engine::from_bytes(&std::fs::read(blob)?)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let a = match serde_json::from_str::<Query>(&line) {
                    Ok(q) => answer(&e, q),
                    Err(err) => Answer::Error { error: err.to_string(), code: "invalid_query" },
                };
                writeln!(out, "{}", serde_json::to_string(&a)?)?;
            }
        }
        _ => return Err("usage: query BLOB | query BLOB bench RUNS | query --synth N SEED OUT".into()),
    }
    Ok(())
}
