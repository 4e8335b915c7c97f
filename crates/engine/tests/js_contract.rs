//! The contract between the engine and the npm package's types, checked rather than copied:
//! the error codes pkg/index.d.ts declares are exactly the engine's [`Error::code`]s, and its
//! `ReasonField` lists exactly the fields `explain` names.

#![cfg(not(target_arch = "wasm32"))] // reads files
#![allow(clippy::unwrap_used)]

use playalike_engine::{Error, Field};

/// One value of every kind of [`Error`].
fn every_error() -> Vec<Error> {
    vec![
        Error::Truncated(String::new()),
        Error::BadMagic,
        Error::UnsupportedVersion { found_major: 2, found_minor: 0, supported_major: 1 },
        Error::ObsoleteVersion { found_major: 0, found_minor: 1, supported_major: 1 },
        Error::ChecksumMismatch { expected: 1, found: 2 },
        Error::Malformed(String::new()),
        Error::TooLarge { needed: 2, limit: 1 },
        Error::UnknownGame(7),
        Error::InvalidQuery(String::new()),
        Error::Encode(String::new()),
    ]
}

#[test]
fn every_kind_of_error_has_its_own_code() {
    let codes: Vec<&str> = every_error().iter().map(Error::code).collect();
    assert_eq!(codes, Error::CODES);
    for c in Error::CODES {
        assert!(c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{c} is not snake case");
    }
}

/// The string values of `export type NAME = 'a' | 'b' …;` in pkg/index.d.ts.
fn union_in_index_dts(name: &str) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pkg/index.d.ts");
    let dts = std::fs::read_to_string(path).unwrap();
    let head = format!("export type {name} =");
    let start = dts.find(&head).unwrap_or_else(|| panic!("{head} not in pkg/index.d.ts"));
    let union = &dts[start..start + dts[start..].find(';').unwrap()];
    union.split('\'').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn the_package_types_declare_exactly_the_engine_error_codes() {
    assert_eq!(
        union_in_index_dts("EngineErrorCode"),
        Error::CODES,
        "EngineErrorCode differs from Error::CODES"
    );
}

#[test]
fn the_package_types_declare_exactly_the_fields_explain_names() {
    let mut fields: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    fields.push("similar_games"); // the curated bonus (Engine::explain)
    assert_eq!(union_in_index_dts("ReasonField"), fields, "ReasonField differs from Field::name");
}
