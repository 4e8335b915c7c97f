//! The decoder's property tests: mutated, truncated and random payloads are refused or decode
//! to a valid model, never panic. They run natively (cargo nextest) and in wasm32 under Node
//! (`cargo test -p playalike-engine --target wasm32-unknown-unknown`), where `usize` is 32 bits:
//! a count or offset sum that fits natively can wrap there.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod support;
use playalike_engine::format::{self, HEADER_LEN};
use playalike_engine::{Engine, synth};
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
