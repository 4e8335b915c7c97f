//! A deterministic synthetic catalogue, for tests and benchmarks where real data is absent.
//!
//! Shapes follow IGDB loosely: a few dense fields (genres, platforms), long-tailed keywords,
//! companies and franchises, accented and multi-word titles, optional ratings and years.

use crate::model::{FIELD_COUNT, Field, Game, Metadata, Model, Params, Term};

/// SplitMix64: tiny, deterministic, good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in 0..1.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Long-tailed index in `0..n` (small values far more likely).
    pub fn skewed(&mut self, n: u64) -> u64 {
        let u = self.unit();
        ((u * u * u) * n as f32) as u64 % n.max(1)
    }
}

const SYLLABLES: [&str; 24] = [
    "zel", "da", "mar", "io", "kart", "pok", "é", "mon", "star", "war", "dark", "souls", "fin", "al", "fan",
    "ta", "sy", "hal", "o", "me", "tro", "id", "bör", "ge",
];

fn word(rng: &mut Rng) -> String {
    let mut w = String::new();
    for _ in 0..1 + rng.below(3) {
        w.push_str(SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]);
    }
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => w,
    }
}

/// A synthetic model of `n` games (ids 1, 3, 5, … so that absent ids exist), deterministic in `seed`.
pub fn model(n: usize, seed: u64) -> Model {
    let mut rng = Rng::new(seed);
    let sizes = |f: Field| -> usize {
        match f {
            Field::Genres => 23,
            Field::Themes => 22,
            Field::Platforms => 120,
            Field::GameModes => 6,
            Field::PlayerPerspectives => 7,
            Field::Keywords => 20 + n / 4,
            Field::Franchises => 5 + n / 60,
            Field::Collections => 5 + n / 30,
            Field::Companies => 10 + n / 15,
            Field::Engines => 5 + n / 200,
        }
    };
    let mut m = Model {
        metadata: Metadata {
            model_version: 7,
            created_at: "2026-11-29T08:00:00Z".into(),
            source: format!("synthetic:{n}:{seed}"),
            builder_version: "synth".into(),
            metrics: [("recall@10".to_string(), 0.25)].into_iter().collect(),
        },
        params: Params::default(),
        ..Model::default()
    };
    for f in Field::ALL {
        m.vocab[f.index()] = (0..sizes(f))
            .map(|t| Term { igdb_id: (t as u32) * 2 + 1, name: format!("{} {}", f.name(), t) })
            .collect();
    }
    // How many terms a game has per field, at most.
    let per: [u64; FIELD_COUNT] = [3, 3, 4, 2, 2, 8, 1, 1, 3, 1];
    // Chance that a game has the field at all, in percent.
    let density: [u64; FIELD_COUNT] = [90, 50, 95, 60, 50, 40, 25, 35, 50, 15];
    for i in 0..n {
        let id = (i as u32) * 2 + 1;
        let name: Vec<String> = (0..1 + rng.below(4)).map(|_| word(&mut rng)).collect();
        let name = name.join(if rng.below(4) == 0 { ": " } else { " " });
        let mut g = Game {
            id,
            slug: crate::text::slugify(&name),
            name,
            year: (rng.below(10) != 0).then(|| 1975 + rng.below(51) as u16),
            rating: (rng.below(3) == 0).then(|| 20.0 + rng.below(800) as f32 / 10.0),
            popularity: (rng.unit() * 10.0).exp() - 1.0,
            cover: (rng.below(2) == 0).then(|| format!("co{:x}", rng.next_u64() & 0xffff)),
            game_type: (rng.below(8) != 0).then(|| if rng.below(4) == 0 { rng.below(14) as u8 } else { 0 }),
            ..Game::default()
        };
        g.rating_count = if g.rating.is_some() { rng.below(500) as u32 } else { 0 };
        if rng.below(20) == 0 {
            g.slug.push_str("-2");
        }
        if rng.below(20) == 0 {
            g.alt_names.push(word(&mut rng));
        }
        for f in Field::ALL {
            let fi = f.index();
            if rng.below(100) >= density[fi] {
                continue;
            }
            let size = m.vocab[fi].len() as u64;
            let mut t: Vec<u32> = (0..1 + rng.below(per[fi])).map(|_| rng.skewed(size) as u32).collect();
            t.sort_unstable();
            t.dedup();
            g.features[fi] = t;
        }
        if rng.below(5) == 0 && n > 1 {
            g.similar = (0..1 + rng.below(4)).map(|_| (rng.below(n as u64) as u32) * 2 + 1).collect();
        }
        m.games.push(g);
    }
    m
}
