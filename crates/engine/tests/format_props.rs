//! The decoder's property tests: mutated, truncated and random payloads are refused or decode
//! to a valid model, never panic. They run natively (cargo nextest) and in wasm32 under Node
//! (`cargo test -p playalike-engine --target wasm32-unknown-unknown`), where `usize` is 32 bits:
//! a count or offset sum that fits natively can wrap there.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod support;
use playalike_engine::format::{self, HEADER_LEN};
use playalike_engine::{Engine, Error, synth};
use proptest::prelude::*;
use support::reseal;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test;

fn sample_payload() -> Vec<u8> {
    static PAYLOAD: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PAYLOAD.get_or_init(|| format::encode(&synth::model(60, 3)).unwrap()[HEADER_LEN..].to_vec()).clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Mutated payloads with a valid checksum: the decoder returns Err or a valid model, never panics.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    fn mutated_payloads_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut p = sample_payload();
        for (at, v) in edits {
            let i = at % p.len();
            p[i] = v;
        }
        if let Ok(m) = format::decode(&reseal(&p)) {
            prop_assert!(Engine::from_model(m).is_ok());
        }
    }

    /// Truncated payloads (resealed) and truncated blobs are refused.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    fn truncated_input_is_refused(cut in any::<usize>()) {
        let p = sample_payload();
        let keep = cut % p.len();
        prop_assert!(format::decode(&reseal(&p[..keep])).is_err());
        let blob = reseal(&p);
        prop_assert!(format::decode(&blob[..keep.min(blob.len() - 1)]).is_err());
    }

    /// Random bytes after a valid header never panic.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    fn random_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = format::decode(&reseal(&bytes));
    }

    /// Words and varints near the 32-bit limits written anywhere (section offsets and lengths,
    /// counts, string lengths): sums of them wrap in a 32-bit `usize` unless checked. The
    /// engine's own load path (`Engine::from_bytes`, what wasm calls) refuses or serves them.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    fn large_counts_never_panic(
        edits in proptest::collection::vec(
            (any::<usize>(), prop_oneof![Just(u32::MAX), Just(u32::MAX / 2 + 1), Just(1u32 << 30), any::<u32>()], any::<bool>()),
            1..4,
        )
    ) {
        let mut p = sample_payload();
        for (at, value, varint) in edits {
            let bytes: Vec<u8> = if varint { leb128(value) } else { value.to_le_bytes().to_vec() };
            let i = at % p.len();
            let end = (i + bytes.len()).min(p.len());
            p[i..end].copy_from_slice(&bytes[..end - i]);
        }
        let blob = reseal(&p);
        let _ = format::decode(&blob);
        let _ = Engine::from_bytes(&blob);
    }
}

/// What a load gives, comparable: the catalogue (re-encoded: its unrated games hold NaN, which
/// equals nothing) and format version, or the error.
fn outcome(r: Result<Engine, Error>) -> Result<(Vec<u8>, String), Error> {
    r.map(|e| (format::encode_catalog(e.catalog()).unwrap(), e.status().format_version))
}

/// `blob` pushed into an [`Engine::stream`] in pieces cut at `cuts` (positions, any order).
fn streamed(blob: &[u8], cuts: &[usize]) -> Result<Engine, Error> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (blob.len() + 1)).collect();
    at.extend([0, blob.len()]);
    at.sort_unstable();
    let mut s = Engine::stream();
    for w in at.windows(2) {
        s.push(&blob[w[0]..w[1]]);
    }
    s.finish()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// A blob decoded as it arrives, however it is cut, gives what the one-shot decode gives:
    /// the same catalogue, or the same error, for intact, mutated (checksum valid or not),
    /// truncated and extended blobs.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    fn streamed_loads_equal_one_shot_loads(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        reseal_after in any::<bool>(),
        cut in proptest::option::of(any::<usize>()),
        extra in proptest::collection::vec(any::<u8>(), 0..3),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut p = sample_payload();
        for (at, v) in edits {
            let i = at % p.len();
            p[i] = v;
        }
        let mut blob = if reseal_after { reseal(&p) } else {
            let mut b = format::encode(&synth::model(60, 3)).unwrap();
            b[HEADER_LEN..].copy_from_slice(&p);
            b
        };
        if let Some(c) = cut {
            blob.truncate(c % (blob.len() + 1));
        }
        blob.extend_from_slice(&extra);
        let (streamed, whole) = (outcome(streamed(&blob, &cuts)), outcome(Engine::from_bytes(&blob)));
        prop_assert!(streamed == whole, "streamed {:?}, one-shot {:?}", streamed.map(|x| x.1), whole.map(|x| x.1));
    }
}

/// `v` as an unsigned LEB128 varint (the blob's per-game columns).
fn leb128(mut v: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
