//! Blob format: round trip, every refusal the decoder promises, the committed blob.

#![cfg(not(target_arch = "wasm32"))] // files: native only (the property tests are in format_props.rs)
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod support;
use playalike_engine::format::{self, HEADER_LEN};
use playalike_engine::{Engine, Error, Field, Game, Model, Term, synth};
use support::{reseal, with_section};

fn tiny_model() -> Model {
    let mut m = Model::default();
    m.vocab[Field::Genres.index()] = vec![
        Term { igdb_id: 12, name: "Role-playing (RPG)".into() },
        Term { igdb_id: 31, name: "Adventure".into() },
    ];
    for (id, name, genres) in [(1u32, "Alpha", vec![0u32]), (2, "Beta", vec![0, 1]), (3, "Gamma", vec![1])] {
        let mut g = Game { id, name: name.into(), slug: name.to_lowercase(), ..Game::default() };
        g.features[Field::Genres.index()] = genres;
        m.games.push(g);
    }
    m
}

#[test]
fn round_trip_is_identical() {
    let m = tiny_model();
    let blob = format::encode(&m).unwrap();
    assert_eq!(format::decode(&blob).unwrap(), m);
}

#[test]
fn round_trip_of_a_synthetic_catalogue_is_identical() {
    let mut m = synth::model(3000, 42);
    let blob = format::encode(&m).unwrap();
    m.games.sort_by_key(|g| g.id);
    let back = format::decode(&blob).unwrap();
    assert_eq!(back.games.len(), m.games.len());
    for (a, b) in back.games.iter().zip(&m.games) {
        assert_eq!(a, b);
    }
    assert_eq!(back, m);
}

#[test]
fn refusals_are_typed() {
    let blob = format::encode(&tiny_model()).unwrap();
    assert_eq!(format::decode(b"GIF89a...."), Err(Error::BadMagic));
    assert!(matches!(format::decode(&blob[..HEADER_LEN - 3]), Err(Error::Truncated(_))));
    assert!(matches!(format::decode(&blob[..blob.len() - 1]), Err(Error::Truncated(_))));
    let mut corrupt = blob.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x40;
    assert!(matches!(format::decode(&corrupt), Err(Error::ChecksumMismatch { .. })));
    let mut newer = blob.clone();
    newer[8] = 99;
    assert!(matches!(format::decode(&newer), Err(Error::UnsupportedVersion { found_major: 99, .. })));
    let mut trailing = blob.clone();
    trailing.push(0);
    assert!(matches!(format::decode(&trailing), Err(Error::Malformed(_))));
}

#[test]
fn reseal_matches_the_encoder() {
    let blob = format::encode(&tiny_model()).unwrap();
    assert_eq!(reseal(&blob[HEADER_LEN..]), blob);
}

/// The blob of format 0.1 (bincode of the whole model) is refused with the documented error.
#[test]
fn format_0_1_is_refused_as_obsolete() {
    let old = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/format-0.1.bin")).unwrap();
    assert_eq!(
        format::decode(&old),
        Err(Error::ObsoleteVersion { found_major: 0, found_minor: 1, supported_major: 1 })
    );
    assert!(Engine::from_bytes(&old).unwrap_err().to_string().contains("rebuild the model"));
}

/// The committed blobs of each 1.x writer keep decoding to the same content as the format
/// evolves (1.0: titles first; 1.1: titles last), and the current writer is byte-stable.
/// Regenerate the current one (only when its content must change) with `PLAYALIKE_WRITE_FIXTURES=1`.
#[test]
fn committed_1_x_blobs_still_decode() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    if std::env::var_os("PLAYALIKE_WRITE_FIXTURES").is_some() {
        let path = format!("{dir}/format-1.{}.bin", format::FORMAT_MINOR);
        std::fs::write(path, format::encode(&synth::model(40, 7)).unwrap()).unwrap();
    }
    for minor in 0..=format::FORMAT_MINOR {
        let blob = std::fs::read(format!("{dir}/format-1.{minor}.bin")).unwrap();
        let m = format::decode(&blob).unwrap();
        assert_eq!(m.games.len(), 40);
        assert_eq!(m.metadata.model_version, 7);
        assert_eq!(m.metadata.metrics.get("recall@10"), Some(&0.25));
        assert!(m.games.windows(2).all(|w| w[0].id < w[1].id));
        assert!(m.games.iter().any(|g| g.rating.is_some() && g.cover.is_some() && !g.features[0].is_empty()));
        if minor == format::FORMAT_MINOR {
            assert_eq!(format::encode(&m).unwrap(), blob, "the 1.{minor} writer is byte-stable");
        }
        let e = Engine::from_bytes(&blob).unwrap();
        assert_eq!(e.status().format_version, format!("1.{minor}"));
        assert_eq!(e.len(), 40);
    }
}

/// Found by the reliability fuzzer (scripts/reliability.sh): string lengths whose sum overflows
/// 64 bits (a huge varint after a small one, checksum valid) made the decoder panic on an integer
/// overflow in checked builds (and wrap in release builds). It must be refused as malformed.
#[test]
fn string_lengths_that_overflow_are_refused() {
    let blob = format::encode(&tiny_model()).unwrap();
    let payload = &blob[HEADER_LEN..];
    let mut names = vec![5u8];
    names.extend_from_slice(&[0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // u64::MAX - 2
    names.push(5);
    names.extend_from_slice(b"AlphaBetaGamma");
    let bad = reseal(&with_section(payload, b"NAME", &names));
    assert!(matches!(format::decode(&bad), Err(Error::Malformed(_))), "{:?}", format::decode(&bad));
    // The helper itself is faithful: the untouched NAME section gives back the original blob.
    let same =
        with_section(payload, b"NAME", &[5, 4, 5].into_iter().chain(*b"AlphaBetaGamma").collect::<Vec<u8>>());
    assert_eq!(reseal(&same), blob);
}

/// Each game's terms must be strictly ascending and inside their field's vocabulary: checked by
/// the decoder as it reads them (the catalogue's validation relies on it), so a resealed blob
/// that breaks either is refused, naming the section.
#[test]
fn feature_terms_out_of_order_or_outside_the_vocabulary_are_refused() {
    let blob = format::encode(&tiny_model()).unwrap();
    let payload = &blob[HEADER_LEN..];
    let tag = format!("F{:03}", Field::Genres.index());
    let tag: [u8; 4] = tag.as_bytes().try_into().unwrap();
    // 4 terms; rows of 1, 2 and 1; then each row's deltas.
    let section = |deltas: [u8; 4]| [&[4u8, 1, 2, 1][..], &deltas[..]].concat();
    assert_eq!(reseal(&with_section(payload, &tag, &section([0, 0, 1, 1]))), blob, "the helper is faithful");
    for (deltas, what) in [([0, 0, 1, 2], "term 2 of a vocabulary of 2"), ([0, 1, 0, 1], "a repeated term")] {
        let bad = reseal(&with_section(payload, &tag, &section(deltas)));
        match format::decode(&bad) {
            Err(Error::Malformed(m)) => {
                assert!(m.contains("F000") && m.contains("outside the vocabulary"), "{what}: {m}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// The vocabulary section is read by hand (to charge each term to the decode budget): it must
/// read every integer width bincode writes, and long names, exactly as bincode did.
#[test]
fn vocabulary_ids_and_names_of_every_width_round_trip() {
    let mut m = tiny_model();
    m.vocab[Field::Keywords.index()] = [0u32, 250, 251, 65_535, 65_536, u32::MAX]
        .into_iter()
        .enumerate()
        .map(|(i, igdb_id)| Term { igdb_id, name: "é".repeat(i * 70) })
        .collect();
    let blob = format::encode(&m).unwrap();
    assert_eq!(format::decode(&blob).unwrap(), m);
}

/// Format 1.1 writes the titles last: a blob pushed piece by piece has its games decoded and
/// indexed before its titles are in, and the engine it gives equals the one-shot decode's, for
/// 1.1 blobs and for the committed 1.0 blob (titles first: indexed at the end).
#[test]
fn a_blob_streamed_in_pieces_is_indexed_before_its_titles_arrive() {
    let blob = format::encode(&synth::model(3000, 42)).unwrap();
    let payload = &blob[HEADER_LEN..];
    let count = u32::from_le_bytes(payload[..4].try_into().unwrap()) as usize;
    let name_at = (0..count)
        .find(|&i| &payload[4 + 12 * i..8 + 12 * i] == b"NAME")
        .map(|i| u32::from_le_bytes(payload[8 + 12 * i..12 + 12 * i].try_into().unwrap()) as usize)
        .unwrap();
    assert!(name_at > payload.len() / 2, "the titles come after the scoring sections");
    for piece in [1usize, 100, 4096, blob.len()] {
        let mut stream = format::Stream::new();
        let mut early_at = None;
        for (i, chunk) in blob.chunks(piece).enumerate() {
            if stream.push(chunk).is_some() {
                assert!(early_at.is_none(), "the early part is handed over once");
                early_at = Some((i + 1) * piece);
            }
        }
        let at = early_at.unwrap();
        assert!(at.min(blob.len()) <= HEADER_LEN + name_at + piece, "pieces of {piece}: early part at {at}");
        let mut s = Engine::stream();
        blob.chunks(piece).for_each(|c| s.push(c));
        let streamed = s.finish().unwrap();
        let whole = Engine::from_bytes(&blob).unwrap();
        let same = |a: &Engine, b: &Engine| {
            format::encode_catalog(a.catalog()).unwrap() == format::encode_catalog(b.catalog()).unwrap()
        };
        assert!(same(&streamed, &whole), "pieces of {piece}");
        assert_eq!(streamed.status().format_version, "1.1");
        assert_eq!(streamed.search("Game", 5), whole.search("Game", 5));
    }
    let golden = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/format-1.0.bin")).unwrap();
    let mut s = Engine::stream();
    golden.chunks(100).for_each(|c| s.push(c));
    let (streamed, whole) = (s.finish().unwrap(), Engine::from_bytes(&golden).unwrap());
    assert_eq!(
        format::encode_catalog(streamed.catalog()).unwrap(),
        format::encode_catalog(whole.catalog()).unwrap()
    );
    assert_eq!(streamed.status().format_version, "1.0");
}
