//! The JS bridge under Node: `cargo test -p playalike-engine --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use playalike_engine::wasm::Recommender;
use playalike_engine::{Engine, RecommendQuery, format, synth};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn blob() -> Vec<u8> {
    format::encode(&synth::model(500, 9)).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap()
}

/// The thrown value's `message` and `code` (it must be a JS `Error`).
fn error_of(v: JsValue) -> (String, String) {
    let code = get(&v, "code").as_string().unwrap_or_default();
    (v.dyn_into::<js_sys::Error>().unwrap().message().into(), code)
}

#[wasm_bindgen_test]
fn recommend_returns_plain_objects_matching_the_engine() {
    let bytes = blob();
    let r = Recommender::from_bytes(&bytes).unwrap();
    let engine = Engine::from_bytes(&bytes).unwrap();
    let seed = engine.id_of(10).unwrap();
    let want =
        engine.recommend(&RecommendQuery { liked: vec![(seed, 1.0)], k: 5, ..Default::default() }).unwrap();
    let opts = js_sys::JSON::parse(r#"{"k": 5}"#).unwrap();
    let got = js_sys::Array::from(&r.recommend(JsValue::from(seed), opts).unwrap());
    assert_eq!(got.length(), 5);
    for (i, hit) in want.iter().enumerate() {
        let row = got.get(i as u32);
        assert_eq!(get(&row, "id").as_f64(), Some(f64::from(hit.id)));
        assert_eq!(get(&row, "score").as_f64(), Some(f64::from(hit.score)));
        let idx = engine.index_of(hit.id).unwrap();
        assert_eq!(get(&row, "name").as_string().as_deref(), Some(engine.name_of(idx)));
        assert!(get(&row, "year").is_null() == engine.year_of(idx).is_none());
    }
}

#[wasm_bindgen_test]
fn recommend_accepts_liked_and_disliked_and_options() {
    let bytes = blob();
    let r = Recommender::from_bytes(&bytes).unwrap();
    let q = js_sys::JSON::parse(r#"{"liked": [1, [3, 2.0], {"id": 5, "weight": 0.5}], "disliked": [7]}"#)
        .unwrap();
    let opts =
        js_sys::JSON::parse(r#"{"k": 3, "filters": {"yearMin": 2000}, "maxPerFranchise": 1}"#).unwrap();
    let got = js_sys::Array::from(&r.recommend(q, opts).unwrap());
    assert_eq!(got.length(), 3);
    for row in got.iter() {
        assert!(get(&row, "year").as_f64().unwrap() >= 2000.0);
        assert!(![1.0, 3.0, 5.0, 7.0].contains(&get(&row, "id").as_f64().unwrap()));
    }
}

#[wasm_bindgen_test]
fn errors_become_js_errors_with_the_engine_message_and_code() {
    let (msg, code) = error_of(Recommender::from_bytes(b"not a blob").err().unwrap());
    assert!(msg.contains("bad magic"), "{msg}");
    assert_eq!(code, "bad_magic");
    let mut truncated = blob();
    truncated.truncate(truncated.len() / 2);
    assert_eq!(error_of(Recommender::from_bytes(&truncated).err().unwrap()).1, "truncated");
    let mut newer = blob();
    newer[8..10].copy_from_slice(&(format::FORMAT_MAJOR + 1).to_le_bytes());
    assert_eq!(error_of(Recommender::from_bytes(&newer).err().unwrap()).1, "unsupported_version");
    let r = Recommender::from_bytes(&blob()).unwrap();
    let (msg, code) = error_of(r.recommend(JsValue::from(2), JsValue::UNDEFINED).err().unwrap());
    assert_eq!((msg.as_str(), code.as_str()), ("unknown game id 2", "unknown_game"));
    let (msg, code) = error_of(r.recommend(JsValue::from("x"), JsValue::UNDEFINED).err().unwrap());
    assert!(msg.contains("expects a game id"), "{msg}");
    assert_eq!(code, "invalid_query");
    let bad_k = js_sys::JSON::parse(r#"{"k": 0}"#).unwrap();
    let (msg, code) = error_of(r.recommend(JsValue::from(1), bad_k).err().unwrap());
    assert!(msg.contains("k must be"), "{msg}");
    assert_eq!(code, "invalid_query");
    assert_eq!(error_of(r.explain(1, 2).err().unwrap()).1, "unknown_game");
}

#[wasm_bindgen_test]
fn max_model_bytes_is_the_decoders_limit() {
    assert_eq!(
        playalike_engine::wasm::max_model_bytes(),
        (format::HEADER_LEN as u64 + format::MAX_PAYLOAD) as f64
    );
}

#[wasm_bindgen_test]
fn search_game_and_status() {
    let bytes = blob();
    let r = Recommender::from_bytes(&bytes).unwrap();
    let engine = Engine::from_bytes(&bytes).unwrap();
    let name = engine.name_of(42).to_string();
    let hits = js_sys::Array::from(&r.search(&name, JsValue::UNDEFINED).unwrap());
    assert!(hits.length() >= 1);
    assert!(hits.iter().any(|h| get(&h, "id").as_f64() == Some(f64::from(engine.id_of(42).unwrap()))));
    assert_eq!(js_sys::Array::from(&r.search("", JsValue::UNDEFINED).unwrap()).length(), 0);
    let game = r.game(engine.id_of(42).unwrap()).unwrap();
    assert_eq!(get(&game, "name").as_string(), Some(name));
    assert!(js_sys::Array::is_array(&get(&game, "genres")));
    assert!(r.game(2).unwrap().is_null());
    let status = r.status().unwrap();
    assert_eq!(get(&status, "games").as_f64(), Some(500.0));
    assert_eq!(get(&status, "formatVersion").as_string().as_deref(), Some("1.1"));
    assert_eq!(get(&get(&status, "metrics"), "recall@10").as_f64(), Some(0.25));
    assert_eq!(r.size(), 500);
}

#[wasm_bindgen_test]
fn undefined_option_values_count_as_absent() {
    let r = Recommender::from_bytes(&blob()).unwrap();
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"k".into(), &JsValue::from(4)).unwrap();
    js_sys::Reflect::set(&opts, &"filters".into(), &JsValue::UNDEFINED).unwrap();
    js_sys::Reflect::set(&opts, &"maxPerFranchise".into(), &JsValue::UNDEFINED).unwrap();
    let got = js_sys::Array::from(&r.recommend(JsValue::from(1), opts.into()).unwrap());
    assert_eq!(got.length(), 4);
}

/// `ModelDecoder` (decoding as the bytes arrive) gives `fromBytes`'s model or error, as JS sees
/// them, and refuses to be used after `finish`.
#[wasm_bindgen_test]
fn model_decoder_fed_in_pieces_answers_as_from_bytes() {
    use playalike_engine::wasm::ModelDecoder;
    let bytes = blob();
    let whole = Recommender::from_bytes(&bytes).unwrap();
    let mut d = ModelDecoder::new();
    for piece in bytes.chunks(997) {
        d.push(piece).unwrap();
    }
    let streamed = d.finish().unwrap();
    assert_eq!(streamed.size(), whole.size());
    let json = |v: JsValue| String::from(js_sys::JSON::stringify(&v).unwrap());
    assert_eq!(json(streamed.status().unwrap()), json(whole.status().unwrap()));
    let q = || whole.popular(JsValue::UNDEFINED).map(|v| get(&js_sys::Array::from(&v).get(0), "id")).unwrap();
    assert_eq!(
        json(streamed.recommend(q(), JsValue::UNDEFINED).unwrap()),
        json(whole.recommend(q(), JsValue::UNDEFINED).unwrap())
    );
    assert_eq!(error_of(d.finish().err().unwrap()).1, "invalid_query");
    assert_eq!(error_of(d.push(&[1]).err().unwrap()).1, "invalid_query");
    let mut damaged = bytes.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    let mut d = ModelDecoder::new();
    damaged.chunks(300).for_each(|p| d.push(p).unwrap());
    let (_, code) = error_of(d.finish().err().unwrap());
    assert_eq!(code, error_of(Recommender::from_bytes(&damaged).err().unwrap()).1);
    assert_eq!(code, "checksum_mismatch");
}
