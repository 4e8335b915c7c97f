//! The cold-start protocol on ../shared/data/igdb-sample-4k, measured by the real code.

#![allow(clippy::unwrap_used)]

mod data_support;

/// Quality on the real sample: skipped (by name, on stderr) where the sample is absent, a failure
/// in CI.
#[test]
fn eval_beats_the_baselines_with_coverage() {
    let Some(snap) =
        data_support::real_sample_or_skip("eval_sample4k::eval_beats_the_baselines_with_coverage")
    else {
        return;
    };
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_playalike"))
        .args(["eval", "--snapshot", snap.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["results"];
    let ours = r["playalike"]["recall"].as_f64().unwrap();
    let plan = r["plan-onehot-cosine"]["recall"].as_f64().unwrap();
    let tfidf = r["tfidf-cosine"]["recall"].as_f64().unwrap();
    assert_eq!(r["playalike"]["queries"], 637);
    // The plan's model reproduces the README's reference (0.103) within noise.
    assert!((plan - 0.103).abs() < 0.02, "plan baseline {plan}");
    assert!(ours > 0.35, "recall@10 {ours}");
    assert!(ours > 2.0 * tfidf, "recall@10 {ours} vs tf-idf {tfidf}");
    assert!(r["playalike"]["coverage"].as_f64().unwrap() >= 0.85);
    assert!(r["playalike"]["hit"].as_f64().unwrap() > 0.5);
}
