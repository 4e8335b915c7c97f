//! The fetch client's page queries parse in the sandbox's Apicalypse parser (moved here from the
//! fetch module's tests: the igdb crate does not depend on the sandbox).

use playalike_igdb::fetch::page_query;
use playalike_igdb::fetch::store::Cursor;

#[test]
fn page_queries_parse_in_the_sandbox() {
    let c = Cursor {
        table: "games".into(),
        order: 0,
        after: 41,
        hi: Some(99),
        done: false,
        parts: vec![],
        rows: 0,
    };
    let q = page_query("p3", "games", "*", "version_parent = null", &c, 500, 1500);
    let parsed = playalike_sandbox::apicalypse::parse_multi(&q.text).unwrap();
    let f = parsed[0].query.filter.as_ref().unwrap();
    assert_eq!(f.id_bounds(), (42, 98));
    assert_eq!((parsed[0].query.limit, parsed[0].query.offset), (500, 1500));
}
