//! The decoder's memory bound (issue 16): decoding a blob never holds more than
//! [`format::DECODE_MEMORY_FACTOR`] × its size (+ [`format::DECODE_MEMORY_SLACK`]) on the heap,
//! or refuses it with [`Error::TooLarge`] before allocating. Measured with a counting allocator
//! (peak_alloc), so this file holds one test: the counter is process-wide.

#![cfg(not(target_arch = "wasm32"))] // a global allocator and files: native only
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod support;

use peak_alloc::PeakAlloc;
use playalike_engine::format::{self, HEADER_LEN};
use playalike_engine::{Error, Field, Game, Model, Term, synth};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Peak extra heap bytes while `f` runs, and its result.
fn peak_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let out = f();
    (ALLOC.peak_usage().saturating_sub(base), out)
}

fn bound(blob_len: usize) -> usize {
    format::DECODE_MEMORY_FACTOR * blob_len + format::DECODE_MEMORY_SLACK
}

fn tiny_model() -> Model {
    let mut m = Model::default();
    m.vocab[Field::Genres.index()] = vec![Term { igdb_id: 12, name: "Role-playing (RPG)".into() }];
    for (id, name) in [(1u32, "Alpha"), (2, "Beta"), (3, "Gamma")] {
        let mut g = Game { id, name: name.into(), slug: name.to_lowercase(), ..Game::default() };
        g.features[Field::Genres.index()] = vec![0];
        m.games.push(g);
    }
    m
}

/// `blob` with one section's body replaced, table and header re-laid out to match.
fn with_section(blob: &[u8], tag: &[u8; 4], body: &[u8]) -> Vec<u8> {
    support::reseal(&support::with_section(&blob[HEADER_LEN..], tag, body))
}

/// A VOCB section (bincode standard: varint lengths) whose keyword vocabulary holds `terms`
/// terms with id 0 and an empty name: 2 bytes each on the wire.
pub fn empty_terms_vocab(terms: u32) -> Vec<u8> {
    let mut v = vec![1u8]; // genres: one term, used by the games
    v.extend_from_slice(&[12, 0]);
    v.extend_from_slice(&[0; 4]); // themes .. player perspectives: empty
    v.push(0xfc); // keywords: u32 length follows
    v.extend_from_slice(&terms.to_le_bytes());
    v.resize(v.len() + 2 * terms as usize, 0);
    v.extend_from_slice(&[0; 4]); // franchises .. engines
    v
}

#[test]
fn decode_memory_is_bounded_by_the_blob_size() {
    // Valid blobs decode within the bound, and to the same catalogue as before.
    for n in [0usize, 3, 40, 5000] {
        let blob = if n == 3 {
            format::encode(&tiny_model()).unwrap()
        } else {
            format::encode(&synth::model(n, 9)).unwrap()
        };
        let (peak, out) = peak_of(|| format::decode_catalog(&blob).map(|_| ()));
        assert_eq!(out, Ok(()), "{n} games");
        eprintln!(
            "{n} games: {} bytes, decode peak {peak} ({:.2}x)",
            blob.len(),
            peak as f64 / blob.len() as f64
        );
        assert!(
            peak <= bound(blob.len()),
            "{n} games: peak {peak} > bound {} for {} bytes",
            bound(blob.len()),
            blob.len()
        );
    }
    // A real model too, when given (e.g. trained from the 4k IGDB sample): PLAYALIKE_DECODE_BLOB.
    if let Some(path) = std::env::var_os("PLAYALIKE_DECODE_BLOB") {
        let blob = std::fs::read(&path).unwrap();
        let (peak, out) = peak_of(|| format::decode_catalog(&blob).map(|_| ()));
        assert_eq!(out, Ok(()), "{path:?}");
        eprintln!(
            "{path:?}: {} bytes, decode peak {peak} ({:.2}x)",
            blob.len(),
            peak as f64 / blob.len() as f64
        );
        assert!(peak <= bound(blob.len()));
    }
    let golden = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/format-1.0.bin")).unwrap();
    let (peak, out) = peak_of(|| format::decode_catalog(&golden).map(|_| ()));
    assert_eq!(out, Ok(()));
    assert!(peak <= bound(golden.len()));

    // The helper is faithful: the untouched vocabulary gives back a decodable blob.
    let tiny = format::encode(&tiny_model()).unwrap();
    let one = with_section(&tiny, b"VOCB", &empty_terms_vocab(1));
    assert!(format::decode_catalog(&one).is_ok(), "{:?}", format::decode_catalog(&one).err());

    // Hostile: a million empty keyword terms (2 MB) would decode into ~32 MB of `Term`s.
    let hostile = with_section(&tiny, b"VOCB", &empty_terms_vocab(1_000_000));
    let (peak, out) = peak_of(|| format::decode_catalog(&hostile).map(|_| ()));
    eprintln!(
        "hostile: {} bytes, decode peak {peak} ({:.2}x)",
        hostile.len(),
        peak as f64 / hostile.len() as f64
    );
    assert!(matches!(out, Err(Error::TooLarge { .. })), "{out:?}");
    assert!(
        peak <= bound(hostile.len()),
        "peak {peak} > bound {} for {} bytes",
        bound(hostile.len()),
        hostile.len()
    );
    assert!(out.unwrap_err().to_string().contains("memory"));

    // Decoded as it arrives (format::Stream), a blob whose header claims far more than arrives
    // gets the memory of the bytes present, not of the claim: the hostile blob claiming 512 MiB
    // of payload, pushed in pieces, peaks within the bound of its size plus the stream's own copy
    // of the bytes (a growing buffer: at most twice them).
    let mut claims = hostile.clone();
    claims[12..20].copy_from_slice(&(512u64 << 20).to_le_bytes());
    let (peak, handed) = peak_of(|| {
        let mut stream = format::Stream::new();
        claims.chunks(64 << 10).any(|piece| stream.push(piece).is_some())
    });
    eprintln!("hostile, streamed with a 512 MiB claim: decode peak {peak}");
    assert!(!handed, "the inflated vocabulary is refused, not handed over");
    assert!(
        peak <= bound(claims.len()) + 2 * claims.len(),
        "peak {peak} > bound {} + the copy, for {} bytes",
        bound(claims.len()),
        claims.len()
    );
}
