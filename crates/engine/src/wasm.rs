//! The JavaScript bridge (wasm32 only): the `Recommender` class of the npm package.
//!
//! Converts plain JS objects to engine queries and results back to plain objects (camelCase
//! keys, `null` for absent values), and forwards. Every failure becomes a JS `Error` carrying the
//! engine's message and its [`Error::code`] as a `code` property, through [`into_error`];
//! nothing here unwraps or panics.

use crate::engine::{Engine, EngineStream, Filters, RecommendQuery};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// The one place a JS `Error` is made: `message`, and `code` (a value of `EngineErrorCode` in
/// pkg/index.d.ts). Not generic, so the .wasm holds it once.
fn js_error(message: &str, code: &str) -> JsValue {
    let err: JsValue = JsError::new(message).into();
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err
}

/// An engine error as a JS `Error` with the engine's message and [`Error::code`].
fn into_error(e: Error) -> JsValue {
    js_error(&e.to_string(), e.code())
}

/// An invalid argument from JS (options, ids, seeds): code `invalid_query`, like the engine's
/// [`Error::InvalidQuery`].
fn invalid(message: &str) -> JsValue {
    js_error(message, "invalid_query")
}

/// A failed conversion of an answer to JS (not expected for the engine's types).
fn not_converted(e: serde_wasm_bindgen::Error) -> JsValue {
    invalid(&e.to_string())
}

/// Plain JS objects out: objects (not `Map`s) for maps, `null` for `None`.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(not_converted)
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SearchOptions {
    k: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RecommendOptions {
    // Options (not defaults) so that `undefined` values are accepted like absent keys.
    k: Option<usize>,
    filters: Option<Filters>,
    max_per_franchise: Option<usize>,
}

fn options<T: for<'de> Deserialize<'de> + Default>(v: JsValue) -> Result<T, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    // A JSON round trip drops `undefined` values, which serde would otherwise see as present.
    let clean = js_sys::JSON::stringify(&v)
        .and_then(|s| js_sys::JSON::parse(&String::from(s)))
        .map_err(|_| invalid("invalid options: not a plain object"))?;
    serde_wasm_bindgen::from_value(clean).map_err(|e| invalid(&format!("invalid options: {e}")))
}

fn game_id(v: &JsValue) -> Result<u32, JsValue> {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x) => Ok(x as u32),
        _ => Err(invalid(&format!("invalid game id {v:?}: expected a whole number"))),
    }
}

/// A liked seed: `id`, `[id, weight]` or `{id, weight}`.
fn liked_seed(v: &JsValue) -> Result<(u32, f32), JsValue> {
    if v.as_f64().is_some() {
        return Ok((game_id(v)?, 1.0));
    }
    if js_sys::Array::is_array(v) {
        let a = js_sys::Array::from(v);
        let w = a.get(1).as_f64().unwrap_or(1.0);
        return Ok((game_id(&a.get(0))?, w as f32));
    }
    let id = js_sys::Reflect::get(v, &"id".into()).map_err(|_| invalid("invalid seed"))?;
    let w = js_sys::Reflect::get(v, &"weight".into()).ok().and_then(|w| w.as_f64()).unwrap_or(1.0);
    Ok((game_id(&id)?, w as f32))
}

fn list(v: &JsValue) -> Vec<JsValue> {
    if js_sys::Array::is_array(v) { js_sys::Array::from(v).iter().collect() } else { Vec::new() }
}

/// Liked seeds with weights, and disliked ids.
type Seeds = (Vec<(u32, f32)>, Vec<u32>);

/// A query: `id`, `[ids…]` or `{liked: [...], disliked: [...]}`.
fn seeds(v: &JsValue) -> Result<Seeds, JsValue> {
    if v.as_f64().is_some() {
        return Ok((vec![(game_id(v)?, 1.0)], Vec::new()));
    }
    if js_sys::Array::is_array(v) {
        return Ok((list(v).iter().map(liked_seed).collect::<Result<_, _>>()?, Vec::new()));
    }
    if v.is_object() {
        let get = |k: &str| js_sys::Reflect::get(v, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let liked = list(&get("liked")).iter().map(liked_seed).collect::<Result<_, _>>()?;
        let disliked = list(&get("disliked")).iter().map(game_id).collect::<Result<_, _>>()?;
        return Ok((liked, disliked));
    }
    Err(invalid("recommend expects a game id, an array of ids, or {liked, disliked}"))
}

/// The largest model blob the engine reads, in bytes (`format::MAX_BLOB`): scripts/build-wasm.sh
/// writes it into pkg/limits.js, which the loader uses to refuse larger downloads early.
#[wasm_bindgen(js_name = maxModelBytes)]
pub fn max_model_bytes() -> f64 {
    crate::format::MAX_BLOB as f64
}

/// A model blob decoded as it downloads (`new ModelDecoder()`, `push(piece)` for each piece as it
/// arrives, then `finish()`): the games are indexed as soon as the pieces scoring needs are in,
/// while the titles still download. `finish()` gives what `Recommender.fromBytes` gives on the
/// whole blob, the same model or the same error; it checks the blob's own length and checksum,
/// so a caller checks the download's SHA-256 before calling it, as before `fromBytes`.
#[wasm_bindgen]
pub struct ModelDecoder {
    stream: Option<EngineStream>,
}

#[wasm_bindgen]
impl ModelDecoder {
    /// An empty decoder.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)] // a JS constructor
    pub fn new() -> ModelDecoder {
        ModelDecoder { stream: Some(Engine::stream()) }
    }

    /// The next piece of the blob (copied; indexes the games once their sections are in).
    pub fn push(&mut self, piece: &[u8]) -> Result<(), JsValue> {
        match self.stream.as_mut() {
            Some(s) => {
                s.push(piece);
                Ok(())
            }
            None => Err(invalid("ModelDecoder: push after finish")),
        }
    }

    /// The model, once every piece is in (throws as `fromBytes` would on the whole blob).
    pub fn finish(&mut self) -> Result<Recommender, JsValue> {
        let stream = self.stream.take().ok_or_else(|| invalid("ModelDecoder: finish called twice"))?;
        stream.finish().map(|engine| Recommender { engine }).map_err(into_error)
    }
}

/// A loaded model, ready to answer queries.
#[wasm_bindgen]
pub struct Recommender {
    engine: Engine,
}

#[wasm_bindgen]
impl Recommender {
    /// Decodes and indexes a model blob (throws on a corrupt, truncated or unsupported blob).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<Recommender, JsValue> {
        Engine::from_bytes(bytes).map(|engine| Recommender { engine }).map_err(into_error)
    }

    /// Number of games in the model.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.engine.len()
    }

    /// Builds the title index now (else the first `search` does): at 333k games it is a third
    /// of the load, so `fromBytes` leaves it for later and a page calls this when idle.
    #[wasm_bindgen(js_name = prepareSearch)]
    pub fn prepare_search(&self) {
        self.engine.prepare_search();
    }

    /// Title search as you type: `[{id, name, year, score}]`, best first.
    pub fn search(&self, text: &str, options: JsValue) -> Result<JsValue, JsValue> {
        let o: SearchOptions = self::options(options)?;
        let hits = self.engine.search(text, o.k.unwrap_or(10).min(1000));
        to_js(&self.engine.rows(hits.iter().map(|h| (h.id, h.score))))
    }

    /// Recommendations for `id | ids | {liked, disliked}`: `[{id, name, year, score}]`, best first.
    pub fn recommend(&self, query: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
        let (liked, disliked) = seeds(&query)?;
        let o: RecommendOptions = self::options(options)?;
        let q = RecommendQuery {
            liked,
            disliked,
            k: o.k.unwrap_or(10),
            filters: o.filters.unwrap_or_default(),
            max_per_franchise: o.max_per_franchise.unwrap_or(0),
        };
        let hits = self.engine.recommend(&q).map_err(into_error)?;
        to_js(&self.engine.rows(hits.iter().map(|h| (h.id, h.score))))
    }

    /// Where a visitor could start: the catalogue's most popular and best-rated games passing
    /// `filters`, `{k, filters}` as for `recommend`: `[{id, name, year, score}]`, best first.
    pub fn popular(&self, options: JsValue) -> Result<JsValue, JsValue> {
        let o: RecommendOptions = self::options(options)?;
        let hits =
            self.engine.popular(o.k.unwrap_or(10), &o.filters.unwrap_or_default()).map_err(into_error)?;
        to_js(&self.engine.rows(hits.iter().map(|h| (h.id, h.score))))
    }

    /// Why `b` is similar to `a`: `[{field, name, weight}]`, strongest first.
    pub fn explain(&self, a: u32, b: u32) -> Result<JsValue, JsValue> {
        to_js(&self.engine.explain(a, b).map_err(into_error)?)
    }

    /// One game with display names (`null` for an unknown id).
    pub fn game(&self, id: u32) -> Result<JsValue, JsValue> {
        match self.engine.game_view(id) {
            Some(g) => to_js(&g),
            None => Ok(JsValue::NULL),
        }
    }

    /// `{formatVersion, modelVersion, createdAt, games, source, builderVersion, metrics}`.
    pub fn status(&self) -> Result<JsValue, JsValue> {
        to_js(&self.engine.status())
    }
}
