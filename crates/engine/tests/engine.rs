//! Queries: the fast path equals the oracle, filters, diversity, explain, search, status.

#![cfg(not(target_arch = "wasm32"))] // proptest and files: native only
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use playalike_engine::{Engine, Field, Filters, Game, Model, RecommendQuery, Term, synth};
use proptest::prelude::*;

/// Asserts the fast path and the oracle agree: scores within 1e-5 position by position, and where
/// the ids differ, only because of a near-tie in the oracle's own scores.
fn assert_same(engine: &Engine, q: &RecommendQuery) {
    let fast = engine.recommend(q).unwrap();
    let exact = engine.recommend_exact(q).unwrap();
    assert_eq!(fast.len(), exact.len(), "{q:?}");
    let oracle_of = |id: u32| -> f32 {
        let b = engine.index_of(id).unwrap();
        let liked: f32 = q.liked.iter().map(|&(a, w)| w * engine.score(engine.index_of(a).unwrap(), b)).sum();
        liked - q.disliked.iter().map(|&a| engine.score(engine.index_of(a).unwrap(), b)).sum::<f32>()
    };
    for (f, e) in fast.iter().zip(&exact) {
        let tol = 1e-5 * (1.0 + e.score.abs());
        assert!((f.score - e.score).abs() <= tol, "score {} vs oracle {} for {q:?}", f.score, e.score);
        if f.id != e.id {
            assert!((oracle_of(f.id) - e.score).abs() <= tol, "id {} vs {} for {q:?}", f.id, e.id);
        }
    }
}

fn engine(n: usize, seed: u64) -> Engine {
    Engine::from_model(synth::model(n, seed)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// On random models and queries, the inverted index returns what brute force over `score` does.
    #[test]
    fn fast_path_equals_oracle(
        seed in 0u64..1000,
        n in 2usize..400,
        liked in proptest::collection::vec((any::<u32>(), -2.0f32..3.0), 1..4),
        disliked in proptest::collection::vec(any::<u32>(), 0..2),
        k in 1usize..30,
        cap in 0usize..3,
        year_min in proptest::option::of(1970u16..2030),
        min_rating in proptest::option::of(0f32..90.0),
        genre in proptest::option::of(0u32..50),
        learned in any::<bool>(),
    ) {
        let mut m = synth::model(n, seed);
        if learned {
            let mut rng = synth::Rng::new(seed);
            for f in Field::ALL {
                m.params.feature_weights[f.index()] = (0..m.vocab[f.index()].len()).map(|_| rng.unit() * 3.0).collect();
            }
            m.params.field_weights[Field::Platforms.index()] = 0.0;
        }
        let e = Engine::from_model(m).unwrap();
        let id = |x: u32| e.id_of(x as usize % e.len()).unwrap();
        let q = RecommendQuery {
            liked: liked.iter().map(|&(x, w)| (id(x), w)).collect(),
            disliked: disliked.iter().map(|&x| id(x)).collect(),
            k,
            max_per_franchise: cap,
            filters: Filters { year_min, min_rating, genres: genre.into_iter().collect(), ..Filters::default() },
        };
        assert_same(&e, &q);
    }
}

/// A catalogue like the 333k one: only genres and platforms (both scored by profiles, so no
/// postings are walked and queries take the pruned profile walk), few combinations; `flat`
/// makes every prior and year equal, so that ties abound.
fn profile_model(n: usize, seed: u64, flat: bool) -> Model {
    let mut m = synth::model(n, seed);
    for g in &mut m.games {
        for f in Field::ALL {
            let fi = f.index();
            g.features[fi] = match f {
                Field::Genres => g.features[fi].iter().map(|t| t % 4).collect(),
                Field::Platforms => g.features[fi].iter().map(|t| t % 3).collect(),
                _ => Vec::new(),
            };
            g.features[fi].sort_unstable();
            g.features[fi].dedup();
        }
        if flat {
            (g.popularity, g.year, g.rating) = (0.0, None, None);
        }
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// The pruned walk over profiles returns what brute force does, ties and filters included.
    #[test]
    fn profile_walk_equals_oracle(
        seed in 0u64..1000,
        n in 600usize..1500,
        flat in any::<bool>(),
        liked in proptest::collection::vec((any::<u32>(), -1.0f32..3.0), 1..3),
        disliked in proptest::collection::vec(any::<u32>(), 0..2),
        k in 1usize..40,
        cap in 0usize..3,
        genre in proptest::option::of(0u32..8),
        year_min in proptest::option::of(1970u16..2030),
    ) {
        let e = Engine::from_model(profile_model(n, seed, flat)).unwrap();
        let modes = e.field_modes();
        prop_assert_eq!((modes[Field::Genres.index()], modes[Field::Platforms.index()]), ("profiles", "profiles"));
        let id = |x: u32| e.id_of(x as usize % e.len()).unwrap();
        let q = RecommendQuery {
            liked: liked.iter().map(|&(x, w)| (id(x), w)).collect(),
            disliked: disliked.iter().map(|&x| id(x)).collect(),
            k,
            max_per_franchise: cap,
            filters: Filters { year_min, genres: genre.into_iter().collect(), ..Filters::default() },
        };
        assert_same(&e, &q);
    }
}

/// `recommend_each` (one block order per profile, one walk per profile and year) answers exactly what `recommend`
/// answers seed by seed: same ids, same scores to the bit, filters and curated lists included.
#[test]
fn recommend_each_equals_recommend_one_by_one() {
    for (seed, flat, k, filters) in [
        (1, false, 10, Filters::default()),
        (2, true, 5, Filters::default()),
        (3, false, 20, Filters { year_min: Some(1995), genres: vec![1, 3], ..Filters::default() }),
        (4, false, 10, Filters { exclude: vec![1, 3, 5, 7, 9], ..Filters::default() }),
    ] {
        let e = Engine::from_model(profile_model(900, seed, flat)).unwrap();
        let mut ids: Vec<u32> = (0..e.len()).map(|i| e.id_of(i).unwrap()).collect();
        ids.sort_by_key(|&id| (e.shared_key(id), id));
        let template = RecommendQuery { k, filters: filters.clone(), ..RecommendQuery::default() };
        let each = e.recommend_each(&ids, &template).unwrap();
        let shared = ids.windows(2).filter(|w| e.shared_key(w[0]) == e.shared_key(w[1])).count();
        assert!(shared > 100, "the test must exercise shared walks ({shared})");
        let key = |id: u32| e.shared_key(id).unwrap();
        let years =
            ids.windows(2).filter(|w| key(w[0]).0 == key(w[1]).0 && key(w[0]).1 != key(w[1]).1).count();
        assert!(flat || years > 20, "the test must exercise profiles walked for several years ({years})");
        for (&id, got) in ids.iter().zip(&each) {
            let want = e.recommend(&RecommendQuery { liked: vec![(id, 1.0)], ..template.clone() }).unwrap();
            assert_eq!(got, &want, "seed {id}, k {k}, {filters:?}");
        }
    }
    // A catalogue with postings fields takes the one-by-one path: still the same answers.
    let e = engine(300, 5);
    let ids: Vec<u32> = (0..e.len()).map(|i| e.id_of(i).unwrap()).collect();
    let each = e.recommend_each(&ids, &RecommendQuery::default()).unwrap();
    for (&id, got) in ids.iter().zip(&each) {
        assert_eq!(
            got,
            &e.recommend(&RecommendQuery { liked: vec![(id, 1.0)], ..Default::default() }).unwrap()
        );
    }
}

#[test]
fn fast_path_equals_oracle_at_10k() {
    let e = engine(10_000, 11);
    // Both ways of scoring a field are exercised: common fields by profiles, rare by postings.
    let modes = e.field_modes();
    assert!(modes.contains(&"profiles") && modes.contains(&"postings"), "{modes:?}");
    for seed in 0..20u32 {
        let id = e.id_of((seed as usize * 4_999) % e.len()).unwrap();
        assert_same(&e, &RecommendQuery { liked: vec![(id, 1.0)], k: 50, ..Default::default() });
    }
}

fn small() -> Engine {
    let mut m = Model::default();
    m.vocab[Field::Genres.index()] =
        vec![Term { igdb_id: 12, name: "RPG".into() }, Term { igdb_id: 5, name: "Shooter".into() }];
    m.vocab[Field::Platforms.index()] =
        vec![Term { igdb_id: 6, name: "PC".into() }, Term { igdb_id: 48, name: "PlayStation 4".into() }];
    m.vocab[Field::Franchises.index()] = vec![Term { igdb_id: 900, name: "Saga".into() }];
    // id, name, genres, platforms, franchise, year, rating, count, game type
    type Row<'a> = (u32, &'a str, &'a [u32], &'a [u32], bool, u16, Option<f32>, u32, u8);
    let rows: [Row; 7] = [
        (1, "Saga One", &[0], &[0], true, 2001, Some(80.0), 100, 0),
        (2, "Saga Two", &[0], &[0], true, 2003, Some(85.0), 50, 0),
        (3, "Saga Three", &[0], &[0, 1], true, 2005, Some(70.0), 5, 0),
        (4, "Lone Quest", &[0], &[1], false, 2004, None, 0, 0),
        (5, "Gunfight", &[1], &[0], false, 2004, Some(90.0), 300, 0),
        (6, "Saga One: Extra Chapter", &[0], &[0], true, 2002, Some(60.0), 3, 1),
        (7, "Quest Remake", &[0], &[1], false, 2020, Some(75.0), 20, 0),
    ];
    for (id, name, genres, platforms, fr, year, rating, count, gt) in rows {
        let mut g = Game {
            id,
            name: name.into(),
            slug: playalike_engine::text::slugify(name),
            year: Some(year),
            rating,
            rating_count: count,
            popularity: count as f32,
            game_type: Some(gt),
            ..Game::default()
        };
        g.features[Field::Genres.index()] = genres.to_vec();
        g.features[Field::Platforms.index()] = platforms.to_vec();
        if fr {
            g.features[Field::Franchises.index()] = vec![0];
        }
        m.games.push(g);
    }
    Engine::from_model(m).unwrap()
}

fn ids(e: &Engine, q: RecommendQuery) -> Vec<u32> {
    let fast: Vec<u32> = e.recommend(&q).unwrap().iter().map(|h| h.id).collect();
    let exact: Vec<u32> = e.recommend_exact(&q).unwrap().iter().map(|h| h.id).collect();
    assert_eq!(fast, exact);
    fast
}

#[test]
fn filters_table() {
    let e = small();
    let base = RecommendQuery { liked: vec![(1, 1.0)], k: 10, ..Default::default() };
    let with = |f: Filters| RecommendQuery { filters: f, ..base.clone() };
    let mut all = ids(&e, base.clone());
    all.sort_unstable();
    assert_eq!(all, [2, 3, 4, 5, 6, 7], "the seed is never returned");
    let cases: Vec<(Filters, Vec<u32>)> = vec![
        (Filters { platforms: vec![48], ..Default::default() }, vec![3, 4, 7]),
        (Filters { genres: vec![5], ..Default::default() }, vec![5]),
        (Filters { genres: vec![999], ..Default::default() }, vec![]),
        (Filters { year_min: Some(2004), year_max: Some(2005), ..Default::default() }, vec![3, 4, 5]),
        (Filters { min_rating: Some(80.0), ..Default::default() }, vec![2, 5]),
        (Filters { min_rating_count: Some(20), ..Default::default() }, vec![2, 5, 7]),
        (Filters { game_types: vec![1], ..Default::default() }, vec![6]),
        (Filters { exclude: vec![2, 3, 12345], ..Default::default() }, vec![4, 5, 6, 7]),
    ];
    for (f, want) in cases {
        let mut got = ids(&e, with(f.clone()));
        got.sort_unstable();
        assert_eq!(got, want, "{f:?}");
    }
}

#[test]
fn diversity_caps_a_franchise() {
    let e = small();
    let q = RecommendQuery { liked: vec![(1, 1.0)], k: 4, ..Default::default() };
    let plain = ids(&e, q.clone());
    assert_eq!(plain[..3].iter().filter(|&&id| [2, 3, 6].contains(&id)).count(), 3, "{plain:?}");
    let capped = ids(&e, RecommendQuery { max_per_franchise: 1, ..q });
    assert_eq!(capped.iter().filter(|&&id| [2, 3, 6].contains(&id)).count(), 1, "{capped:?}");
    assert_eq!(capped.len(), 4);
}

#[test]
fn disliked_seeds_push_similar_games_down() {
    let e = small();
    let liked = ids(&e, RecommendQuery { liked: vec![(4, 1.0)], k: 6, ..Default::default() });
    let with_dislike =
        ids(&e, RecommendQuery { liked: vec![(4, 1.0)], disliked: vec![1], k: 6, ..Default::default() });
    let pos = |v: &[u32], id| v.iter().position(|&x| x == id).unwrap();
    assert!(pos(&with_dislike, 2) > pos(&liked, 2), "{liked:?} {with_dislike:?}");
}

#[test]
fn bad_queries_are_refused() {
    let e = small();
    for q in [
        RecommendQuery { liked: vec![], ..Default::default() },
        RecommendQuery { liked: vec![(1, 1.0)], k: 0, ..Default::default() },
        RecommendQuery { liked: vec![(1, f32::NAN)], ..Default::default() },
        RecommendQuery { liked: vec![(999, 1.0)], ..Default::default() },
    ] {
        assert!(e.recommend(&q).is_err(), "{q:?}");
    }
}

#[test]
fn explain_names_shared_features() {
    let e = small();
    let reasons = e.explain(1, 2).unwrap();
    let names: Vec<&str> = reasons.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Saga", "RPG", "PC"]);
    assert!(reasons.windows(2).all(|w| w[0].weight >= w[1].weight));
    assert!(e.explain(1, 999).is_err());
}

#[test]
fn game_view_and_status() {
    let e = small();
    let g = e.game_view(3).unwrap();
    assert_eq!(g.name, "Saga Three");
    assert_eq!(g.slug, "saga-three");
    assert_eq!(g.platforms, ["PC", "PlayStation 4"]);
    assert_eq!(g.franchises, ["Saga"]);
    assert!(e.game_view(999).is_none());
    assert_eq!(e.game(3).unwrap().name, "Saga Three");
    let s = e.status();
    assert_eq!((s.games, s.format_version.as_str()), (7, "1.1"));
}

#[test]
fn search_table() {
    let e = small();
    let top = |q: &str| e.search(q, 5).iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(top(""), Vec::<u32>::new());
    assert_eq!(top("  !! "), Vec::<u32>::new());
    assert_eq!(top("xyzzy"), Vec::<u32>::new());
    assert_eq!(top("gunf"), [5]);
    assert_eq!(top("GUNFIGHT"), [5]);
    assert_eq!(top("gnufight"), [5], "one transposition");
    assert_eq!(top("gunfihgt"), [5]);
    assert_eq!(top("gunfigt"), [5], "one deletion");
    assert_eq!(top("gnufihgt"), Vec::<u32>::new(), "two typos");
    assert_eq!(top("saga thr"), [3]);
    assert_eq!(top("saga one extra"), [6]);
    assert_eq!(top("quest")[..2], [7, 4], "ties by popularity: 20 ratings before 0");
    assert_eq!(top("saga")[0], 1, "exact word, then popularity (Saga One has 100)");
    let scores: Vec<f32> = e.search("saga", 5).iter().map(|h| h.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]) && scores[0] <= 1.0);
}

#[test]
fn search_folds_diacritics_and_alt_names() {
    let mut m = Model::default();
    for (id, name, alt) in [(1u32, "Pokémon Red", ""), (2, "Ōkami", "大神"), (3, "Final Fantasy VII", "FF7")]
    {
        m.games.push(Game {
            id,
            name: name.into(),
            slug: playalike_engine::text::slugify(name),
            alt_names: if alt.is_empty() { vec![] } else { vec![alt.into()] },
            ..Game::default()
        });
    }
    let e = Engine::from_model(m).unwrap();
    let top = |q: &str| e.search(q, 5).iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(top("pokemon"), [1]);
    assert_eq!(top("POKÉ"), [1]);
    assert_eq!(top("okami"), [2]);
    assert_eq!(top("大神"), [2]);
    assert_eq!(top("ff7"), [3]);
    assert_eq!(top("final fantasy vii"), [3]);
}

#[test]
fn popular_ranks_by_popularity_and_rating_and_respects_filters() {
    let e = small();
    let ids = |k: usize, f: Filters| e.popular(k, &f).unwrap().iter().map(|h| h.id).collect::<Vec<_>>();
    // pop + quality: Gunfight (most rated, 90) first; the unrated, unknown Lone Quest last.
    assert_eq!(ids(10, Filters::default()), [5, 1, 2, 7, 3, 6, 4]);
    assert_eq!(ids(2, Filters::default()), [5, 1]);
    assert_eq!(ids(10, Filters { platforms: vec![48], ..Default::default() }), [7, 3, 4]);
    assert_eq!(
        ids(10, Filters { game_types: vec![0], exclude: vec![5], ..Default::default() }),
        [1, 2, 7, 3, 4]
    );
    let hits = e.popular(7, &Filters::default()).unwrap();
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
    assert!(e.popular(0, &Filters::default()).is_err());
    assert!(e.popular(1001, &Filters::default()).is_err());
}
