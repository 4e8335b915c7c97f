//! Blob format: round trip and every refusal the decoder promises.

use playalike_engine::format::{self, HEADER_LEN};
use playalike_engine::{Error, Field, Game, Model, Term};

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
}
