//! `playalike generate`: a synthetic IGDB snapshot for machines without ../shared/data.
//!
//! The catalogue is made from latent "styles" (a genre/theme/perspective/keyword mix of an era)
//! with hidden sub-styles, franchises with sequels, and studios that specialise in a few styles.
//! `similar_games` follows that hidden structure, not the visible features: the tags show the
//! style only partly, each list follows series and studios only sometimes, leans towards famous
//! games, varies in length, and obscure games often have none (as on IGDB). A model trained on
//! it has something true to learn that is not a formula of the features. Two flavours: `igdb`
//! (every field) and `store` (tags and ratings only), so quality can be checked for transfer.
//! It uses IGDB's real genre, theme, mode, perspective and platform ids and names, and writes the
//! same layout as a `fetch` snapshot (`games.json.gz` + lookup tables), so the sandbox can serve
//! it. Linear in the catalogue's size (each list scores a bounded candidate sample).

use anyhow::{Context, Result};
use playalike_base::rng::SplitMix;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `playalike generate` writes (resolved from its flags by the CLI).
#[derive(Debug, Clone)]
pub struct Config {
    /// Snapshot directory to write (created; replaced atomically if it exists).
    pub out: PathBuf,
    /// Number of games. Range 50..=2000000.
    pub games: u32,
    /// Seed: the same seed and size give the same snapshot, byte for byte.
    pub seed: u64,
    /// What kind of catalogue: `igdb` (every IGDB field: dates, platforms, companies, series) or
    /// `store` (a store's tags only: genres, themes, user tags as keywords, modes, perspectives
    /// and ratings; lists of up to 12 similar games).
    pub flavor: Flavor,
    /// Print one JSON summary line instead of text.
    pub json: bool,
}

/// The kind of catalogue `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Every IGDB field, lists of up to 10.
    Igdb,
    /// Tags and ratings only (no dates, platforms, companies, series), lists of up to 12.
    Store,
}

impl Flavor {
    /// Seed salt: the two flavours draw different catalogues from one seed.
    fn salt(self) -> u64 {
        match self {
            Flavor::Igdb => 0,
            Flavor::Store => 0x57_04E0,
        }
    }
}

/// What `generate` wrote.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The snapshot directory.
    pub out: PathBuf,
    /// Games written.
    pub games: usize,
    /// Games with at least one similar game.
    pub with_similar: usize,
    /// Franchises (hidden in the `store` flavour: only titles show them).
    pub franchises: usize,
    /// The flavour written.
    pub flavor: Flavor,
}

/// Generates a snapshot synchronously (for tests).
#[cfg(test)]
pub fn generate_blocking(out: &Path, games: u32, seed: u64, flavor: Flavor) -> Result<Summary> {
    generate(&Config { out: out.to_path_buf(), games, seed, flavor, json: false })
}

/// Generates the snapshot described by `args`.
pub async fn execute(args: &Config) -> Result<Summary> {
    let args = args.clone();
    tokio::task::spawn_blocking(move || generate(&args)).await.context("while generating")?
}

/// The workspace's seeded SplitMix64, with the draws the generator needs.
struct Rng(SplitMix);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        self.0.next_f64()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const GENRES: &[(u32, &str)] = &[
    (2, "Point-and-click"),
    (4, "Fighting"),
    (5, "Shooter"),
    (7, "Music"),
    (8, "Platform"),
    (9, "Puzzle"),
    (10, "Racing"),
    (11, "Real Time Strategy (RTS)"),
    (12, "Role-playing (RPG)"),
    (13, "Simulator"),
    (14, "Sport"),
    (15, "Strategy"),
    (16, "Turn-based strategy (TBS)"),
    (24, "Tactical"),
    (25, "Hack and slash/Beat 'em up"),
    (26, "Quiz/Trivia"),
    (30, "Pinball"),
    (31, "Adventure"),
    (32, "Indie"),
    (33, "Arcade"),
    (34, "Visual Novel"),
    (35, "Card & Board Game"),
    (36, "MOBA"),
];
const THEMES: &[(u32, &str)] = &[
    (1, "Action"),
    (17, "Fantasy"),
    (18, "Science fiction"),
    (19, "Horror"),
    (20, "Thriller"),
    (21, "Survival"),
    (22, "Historical"),
    (23, "Stealth"),
    (27, "Comedy"),
    (28, "Business"),
    (31, "Drama"),
    (32, "Non-fiction"),
    (33, "Sandbox"),
    (34, "Educational"),
    (35, "Kids"),
    (38, "Open world"),
    (39, "Warfare"),
    (40, "Party"),
    (41, "4X (explore, expand, exploit, and exterminate)"),
    (43, "Mystery"),
    (44, "Romance"),
];
const MODES: &[(u32, &str)] = &[
    (1, "Single player"),
    (2, "Multiplayer"),
    (3, "Co-operative"),
    (4, "Split screen"),
    (5, "Massively Multiplayer Online (MMO)"),
    (6, "Battle Royale"),
];
const PERSPECTIVES: &[(u32, &str)] = &[
    (1, "First person"),
    (2, "Third person"),
    (3, "Bird view / Isometric"),
    (4, "Side view"),
    (5, "Text"),
    (7, "Virtual Reality"),
];
/// Platforms by era: (first year, last year, IGDB id, name).
const PLATFORMS: &[(u16, u16, u32, &str)] = &[
    (1983, 1995, 18, "Nintendo Entertainment System"),
    (1990, 1998, 19, "Super Nintendo Entertainment System"),
    (1988, 1997, 29, "Sega Mega Drive/Genesis"),
    (1989, 2001, 33, "Game Boy"),
    (1985, 1996, 16, "Amiga"),
    (1985, 1999, 13, "DOS"),
    (1994, 2005, 7, "PlayStation"),
    (1996, 2002, 4, "Nintendo 64"),
    (2000, 2013, 8, "PlayStation 2"),
    (2001, 2008, 11, "Xbox"),
    (2001, 2007, 21, "Nintendo GameCube"),
    (2001, 2008, 24, "Game Boy Advance"),
    (1998, 2002, 23, "Dreamcast"),
    (1995, 2026, 6, "PC (Microsoft Windows)"),
    (2000, 2026, 14, "Mac"),
    (2006, 2016, 9, "PlayStation 3"),
    (2005, 2016, 12, "Xbox 360"),
    (2006, 2013, 5, "Wii"),
    (2004, 2013, 20, "Nintendo DS"),
    (2004, 2014, 38, "PlayStation Portable"),
    (2008, 2026, 39, "iOS"),
    (2009, 2026, 34, "Android"),
    (2011, 2019, 37, "Nintendo 3DS"),
    (2013, 2024, 48, "PlayStation 4"),
    (2013, 2024, 49, "Xbox One"),
    (2017, 2026, 130, "Nintendo Switch"),
    (2020, 2026, 167, "PlayStation 5"),
    (2020, 2026, 169, "Xbox Series X|S"),
    (2012, 2026, 3, "Linux"),
];
const KEYWORDS: &[&str] = &[
    "dungeon crawling",
    "boss fight",
    "crafting",
    "permadeath",
    "procedural generation",
    "loot",
    "stealth kills",
    "parkour",
    "time travel",
    "magic",
    "dragons",
    "zombies",
    "space travel",
    "mechs",
    "pirates",
    "ninjas",
    "samurai",
    "vampires",
    "robots",
    "aliens",
    "post-apocalyptic",
    "cyberpunk",
    "steampunk",
    "medieval",
    "world war ii",
    "detective",
    "heist",
    "racing cars",
    "motorcycles",
    "football",
    "basketball",
    "skateboarding",
    "martial arts",
    "gun customization",
    "cover system",
    "bullet time",
    "metroidvania",
    "roguelike",
    "deck building",
    "base building",
    "city building",
    "farming",
    "fishing",
    "cooking",
    "dating",
    "multiple endings",
    "moral choices",
    "voice acting",
    "pixel art",
    "hand-drawn",
    "cel shading",
    "local co-op",
    "online pvp",
    "leaderboards",
    "speedrun",
    "achievements",
    "level editor",
    "open world exploration",
    "day/night cycle",
    "weather",
    "survival horror",
    "jump scares",
    "puzzle solving",
    "riddles",
    "physics",
    "gravity",
    "tower defense",
    "resource management",
    "diplomacy",
    "naval combat",
    "air combat",
    "tanks",
    "sniping",
    "swordplay",
    "archery",
    "monster taming",
    "pets",
    "character customization",
    "skill tree",
    "party system",
    "turn-based combat",
    "real-time combat",
    "rhythm",
    "dancing",
    "karaoke",
    "trivia",
    "card battles",
    "chess",
    "board game",
    "pinball tables",
    "arcade port",
    "remake",
    "sequel",
    "prequel",
    "reboot",
    "female protagonist",
    "silent protagonist",
    "anthropomorphism",
    "talking animals",
    "underwater",
    "islands",
    "desert",
    "snow",
    "jungle",
];
const ADJECTIVES: &[&str] = &[
    "Crimson",
    "Silent",
    "Broken",
    "Eternal",
    "Hollow",
    "Iron",
    "Neon",
    "Shadow",
    "Golden",
    "Frozen",
    "Savage",
    "Lost",
    "Burning",
    "Wild",
    "Forgotten",
    "Final",
    "Hidden",
    "Black",
    "Crystal",
    "Storm",
    "Last",
    "Rogue",
    "Fallen",
    "Sacred",
    "Steel",
    "Dark",
    "Bright",
    "Ancient",
    "Electric",
    "Velvet",
    "Lunar",
    "Solar",
    "Phantom",
    "Scarlet",
    "Emerald",
    "Obsidian",
    "Radiant",
    "Wicked",
    "Sunken",
    "Légendaire",
];
const NOUNS: &[&str] = &[
    "Abyss",
    "Kingdom",
    "Frontier",
    "Legacy",
    "Odyssey",
    "Protocol",
    "Horizon",
    "Requiem",
    "Citadel",
    "Dominion",
    "Saga",
    "Chronicles",
    "Tactics",
    "Rally",
    "Arena",
    "Drift",
    "Echoes",
    "Empire",
    "Quest",
    "Knights",
    "Raiders",
    "Legends",
    "Siege",
    "Uprising",
    "Voyage",
    "Outpost",
    "Harbor",
    "Circuit",
    "Paradox",
    "Covenant",
    "Exodus",
    "Mirage",
    "Pulse",
    "Nexus",
    "Vanguard",
    "Wardens",
    "Tides",
    "Hunters",
    "Blades",
    "Skies",
    "Über",
    "Café",
];
const SUBTITLES: &[&str] = &[
    "Rebirth",
    "Reckoning",
    "Origins",
    "Revelations",
    "Awakening",
    "Resurrection",
    "Ascension",
    "Aftermath",
    "Redemption",
    "Genesis",
    "Dawn of Ash",
    "The Lost Crown",
    "Heart of Winter",
    "Blood Moon",
    "Dead Reckoning",
    "Second Sun",
];
const STUDIO_WORDS: &[&str] = &[
    "Northwind",
    "Bluefire",
    "Paperkite",
    "Ironclad",
    "Moonpie",
    "Redshift",
    "Ninefold",
    "Lantern",
    "Copperhead",
    "Starling",
    "Quartz",
    "Halcyon",
    "Marrow",
    "Tinderbox",
    "Pebble",
    "Oakridge",
];
const STUDIO_KINDS: &[&str] = &["Studios", "Games", "Interactive", "Entertainment", "Works", "Digital"];

/// A latent style: what games of one kind share.
struct Style {
    genres: Vec<u32>,
    themes: Vec<u32>,
    perspective: u32,
    modes: Vec<u32>,
    keywords: Vec<u32>,
    era: u16,
    /// Two other styles curators often cross into (a shooter's list names some action RPGs).
    related: [usize; 2],
}

/// Hidden sub-styles per style: what a curator feels and the tags show only partly.
const SUBSTYLES: usize = 4;

fn gen_style(rng: &mut Rng, styles: usize) -> Style {
    let mut genres: BTreeSet<u32> = BTreeSet::new();
    for _ in 0..1 + rng.below(2) {
        genres.insert(rng.pick(GENRES).0);
    }
    if rng.chance(0.25) {
        genres.insert(32); // indie
    }
    let mut themes: BTreeSet<u32> = BTreeSet::new();
    for _ in 0..1 + rng.below(3) {
        themes.insert(rng.pick(THEMES).0);
    }
    let mut modes: BTreeSet<u32> = [1].into_iter().collect();
    if rng.chance(0.5) {
        modes.insert(rng.pick(&MODES[1..]).0);
    }
    let mut keywords: BTreeSet<u32> = BTreeSet::new();
    while keywords.len() < 8 + SUBSTYLES {
        keywords.insert(rng.below(KEYWORDS.len()) as u32 + 1);
    }
    Style {
        genres: genres.into_iter().collect(),
        themes: themes.into_iter().collect(),
        perspective: rng.pick(PERSPECTIVES).0,
        modes: modes.into_iter().collect(),
        keywords: keywords.into_iter().collect(),
        era: 1985 + rng.below(40) as u16,
        related: [rng.below(styles), rng.below(styles)],
    }
}

struct Gen {
    id: u32,
    name: String,
    style: usize,
    substyle: usize,
    franchise: Option<u32>,
    company: u32,
    year: u16,
    genres: Vec<u32>,
    themes: Vec<u32>,
    keywords: Vec<u32>,
    quality: f64,
    popularity: f64,
    game_type: u8,
}

fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'é' | 'è' | 'ê' => 'e',
            'ü' => 'u',
            'á' | 'à' => 'a',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Sorted-list intersection size.
fn shared(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => (i, j, n) = (i + 1, j + 1, n + 1),
        }
    }
    n
}

/// The observable tags of a game: the style's and its sub-style's keywords, each only partly,
/// plus noise drawn with a skew towards a few very common tags (as users tag on stores).
fn gen_keywords(rng: &mut Rng, st: &Style, substyle: usize, flavor: Flavor) -> Vec<u32> {
    let (core, sub, noise) = match flavor {
        Flavor::Igdb => (0.55, 0.5, 1 + rng.below(2)),
        Flavor::Store => (0.45, 0.4, 2 + rng.below(6)),
    };
    let mut k: BTreeSet<u32> =
        st.keywords[SUBSTYLES..].iter().copied().filter(|_| rng.chance(core)).collect();
    if rng.chance(sub) {
        k.insert(st.keywords[substyle]);
    }
    for _ in 0..noise {
        // Squaring a uniform skews the pick to the first (common) keywords.
        let u = rng.unit();
        k.insert(((u * u) * KEYWORDS.len() as f64) as u32 + 1);
    }
    k.into_iter().collect()
}

fn generate(args: &Config) -> Result<Summary> {
    let mut rng = Rng(SplitMix::new(args.seed ^ 0x5EED_0F91_A7C3 ^ args.flavor.salt()));
    let flavor = args.flavor;
    let n = args.games as usize;
    let n_styles = (n / 60).clamp(8, 400);
    let styles: Vec<Style> = (0..n_styles).map(|_| gen_style(&mut rng, n_styles)).collect();
    let companies: Vec<(String, Vec<usize>)> = (0..(n / 40).clamp(10, 5000))
        .map(|i| {
            let name = format!(
                "{} {}{}",
                STUDIO_WORDS[i % STUDIO_WORDS.len()],
                STUDIO_KINDS[(i / STUDIO_WORDS.len()) % STUDIO_KINDS.len()],
                if i >= STUDIO_WORDS.len() * STUDIO_KINDS.len() { format!(" {}", i) } else { String::new() }
            );
            (name, (0..2 + rng.below(2)).map(|_| rng.below(styles.len())).collect())
        })
        .collect();

    let mut games: Vec<Gen> = Vec::with_capacity(n);
    let mut franchises: Vec<(u32, String)> = Vec::new();
    let mut used_names = std::collections::HashSet::new();
    let mut next_id = 1000u32;
    // Two steps per game: drawing it, then its rows; writing the files is the last stage.
    let progress = crate::progress::bar(2 * n as u64, "generating");
    progress.stage("games");
    while games.len() < n {
        progress.set_position(games.len() as u64);
        let company = rng.below(companies.len());
        let style = *rng.pick(&companies[company].1);
        let mut attempt = 0u32;
        let base = loop {
            attempt += 1;
            let mut name = match rng.below(4) {
                0 => format!("{} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
                1 => format!("The {} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
                2 => format!("{} of the {} {}", rng.pick(NOUNS), rng.pick(ADJECTIVES), rng.pick(NOUNS)),
                _ => format!("{} {} {}", rng.pick(ADJECTIVES), rng.pick(ADJECTIVES), rng.pick(NOUNS)),
            };
            // Large catalogues run out of word pairs, as real ones do: a numbered edition.
            if attempt > 8 {
                name = format!("{name} {}", games.len());
            }
            if used_names.insert(name.clone()) {
                break name;
            }
        };
        let entries = if rng.chance(0.3) { 2 + rng.below(6) } else { 1 };
        let franchise = (entries > 1).then(|| {
            franchises.push((franchises.len() as u32 + 1, base.clone()));
            franchises.len() as u32
        });
        let start = styles[style].era.saturating_add_signed(rng.below(9) as i16 - 4);
        let quality = 70.0 + 10.0 * rng.normal();
        // Heavy-tailed fame (log-normal): a few famous series, a long tail nobody follows.
        let fame = (1.6 * rng.normal() + 3.0).exp();
        let substyle = rng.below(SUBSTYLES);
        for e in 0..entries.min(n - games.len()) {
            let name = match e {
                0 => base.clone(),
                1 => format!("{base} 2"),
                2 if rng.chance(0.5) => format!("{base} III"),
                _ => format!("{base}: {}", rng.pick(SUBTITLES)),
            };
            let st = &styles[style];
            // A sequel usually keeps its sub-style, sometimes drifts.
            let sub = if rng.chance(0.8) { substyle } else { rng.below(SUBSTYLES) };
            let mut genres = st.genres.clone();
            let mut themes = st.themes.clone();
            if flavor == Flavor::Store || rng.chance(0.3) {
                // Catalogues disagree on the fringes: a genre or theme added or dropped.
                if rng.chance(0.5) {
                    genres.push(rng.pick(GENRES).0);
                } else if genres.len() > 1 {
                    genres.remove(rng.below(genres.len()));
                }
                if rng.chance(0.4) {
                    themes.push(rng.pick(THEMES).0);
                }
                genres.sort_unstable();
                genres.dedup();
                themes.sort_unstable();
                themes.dedup();
            }
            games.push(Gen {
                id: next_id,
                name,
                style,
                substyle: sub,
                franchise,
                company: company as u32 + 1,
                year: (start + 2 * e as u16 + rng.below(2) as u16).min(2026),
                genres,
                themes,
                keywords: gen_keywords(&mut rng, st, sub, flavor),
                quality: (quality + 5.0 * rng.normal()).clamp(20.0, 99.0),
                popularity: fame * (0.3 + 1.4 * rng.unit()) * if e == 0 { 1.0 } else { 0.7 },
                game_type: if e > 0 && rng.chance(0.1) { 9 } else { 0 },
            });
            next_id += 1 + rng.below(40) as u32;
        }
    }

    let truth = Truth::new(&games, &styles);
    let mut rows = Vec::with_capacity(n);
    let mut involved = Vec::with_capacity(n);
    let mut with_similar = 0;
    progress.stage("rows");
    for (i, g) in games.iter().enumerate() {
        if i % 1024 == 0 {
            progress.set_position((n + i) as u64);
        }
        let st = &styles[g.style];
        let similar = truth.list(&mut rng, i, flavor);
        with_similar += usize::from(!similar.is_empty());
        let platforms: Vec<u32> = PLATFORMS
            .iter()
            .filter(|p| p.0 <= g.year && g.year <= p.1 && rng.chance(0.45))
            .map(|p| p.2)
            .collect();
        let released = i64::from(g.year - 1970) * 31_556_952 + rng.below(31_000_000) as i64;
        let follows = g.popularity.round() as u64;
        let rating_count = (g.popularity / 20.0).round() as u64;
        let mut row = json!({
            "id": g.id,
            "name": g.name,
            "slug": slugify(&g.name),
            "genres": g.genres,
            "themes": g.themes,
            "game_modes": st.modes,
            "player_perspectives": [st.perspective],
            "keywords": g.keywords,
            "similar_games": similar,
            "updated_at": 1_700_000_000 + i as u64,
            "url": format!("https://www.igdb.com/games/{}", slugify(&g.name)),
        });
        if flavor == Flavor::Igdb {
            involved.push(json!({"id": g.id, "company": g.company, "developer": true, "publisher": rng.chance(0.5), "game": g.id}));
            row["category"] = json!(g.game_type);
            row["game_type"] = json!(g.game_type);
            row["first_release_date"] = json!(released);
            row["platforms"] = json!(if platforms.is_empty() { vec![6] } else { platforms });
            row["involved_companies"] = json!([g.id]);
            row["follows"] = json!(follows);
            row["hypes"] = json!(rng.below(50));
            if let Some(f) = g.franchise {
                row["franchises"] = json!([f]);
                row["collections"] = json!([f]);
            }
        }
        if rating_count > 0 {
            row["total_rating"] = json!(g.quality);
            row["total_rating_count"] = json!(rating_count);
        }
        rows.push(row);
    }

    let table = |xs: &[(u32, &str)]| -> Vec<Value> {
        xs.iter().map(|(id, name)| json!({"id": id, "name": name, "slug": slugify(name)})).collect()
    };
    let platforms: Vec<(u32, &str)> = PLATFORMS.iter().map(|p| (p.2, p.3)).collect();
    let keywords: Vec<Value> = KEYWORDS
        .iter()
        .enumerate()
        .map(|(i, k)| json!({"id": i + 1, "name": k, "slug": slugify(k)}))
        .collect();
    let franchise_rows: Vec<Value> =
        franchises.iter().map(|(id, name)| json!({"id": id, "name": name, "slug": slugify(name)})).collect();
    let company_rows: Vec<Value> = companies
        .iter()
        .enumerate()
        .map(|(i, (name, _))| json!({"id": i + 1, "name": name, "slug": slugify(name)}))
        .collect();

    let mut tables: Vec<(&str, Vec<Value>)> = vec![
        ("games", rows),
        ("genres", table(GENRES)),
        ("themes", table(THEMES)),
        ("game_modes", table(MODES)),
        ("player_perspectives", table(PERSPECTIVES)),
        ("keywords", keywords),
    ];
    if flavor == Flavor::Igdb {
        tables.extend([
            ("platforms", table(&platforms)),
            ("franchises", franchise_rows.clone()),
            ("collections", franchise_rows),
            ("companies", company_rows),
            ("involved_companies", involved),
        ]);
    }
    progress.set_position(2 * n as u64);
    progress.stage("writing the snapshot");
    write_snapshot(&args.out, &tables)?;
    progress.finish();
    Ok(Summary { out: args.out.clone(), games: n, with_similar, franchises: franchises.len(), flavor })
}

/// The hidden truth: what a curator would list as similar. It follows the latent style and
/// sub-style (which the tags show only partly), series and studios only sometimes, era, and it
/// leans towards famous games; list lengths vary and obscure games often have no list, as on
/// IGDB. Each game scores a bounded candidate sample (own style, related styles, its series and
/// studio, famous games), so generating is linear in the catalogue's size.
struct Truth<'a> {
    games: &'a [Gen],
    styles: &'a [Style],
    by_style: Vec<Vec<usize>>,
    by_franchise: std::collections::HashMap<u32, Vec<usize>>,
    by_company: std::collections::HashMap<u32, Vec<usize>>,
    /// The most famous games (top 1 %), candidates of everyone's list.
    famous: Vec<usize>,
    /// ln(1 + popularity) / its maximum, per game.
    fame: Vec<f64>,
    /// Popularity percentile per game (0 = least).
    pct: Vec<f64>,
}

impl<'a> Truth<'a> {
    fn new(games: &'a [Gen], styles: &'a [Style]) -> Truth<'a> {
        let mut by_style = vec![Vec::new(); styles.len()];
        let mut by_franchise: std::collections::HashMap<u32, Vec<usize>> = Default::default();
        let mut by_company: std::collections::HashMap<u32, Vec<usize>> = Default::default();
        for (i, g) in games.iter().enumerate() {
            by_style[g.style].push(i);
            if let Some(f) = g.franchise {
                by_franchise.entry(f).or_default().push(i);
            }
            by_company.entry(g.company).or_default().push(i);
        }
        let mut order: Vec<usize> = (0..games.len()).collect();
        order.sort_by(|&a, &b| games[b].popularity.total_cmp(&games[a].popularity).then(a.cmp(&b)));
        let mut pct = vec![0.0; games.len()];
        for (r, &i) in order.iter().enumerate() {
            pct[i] = 1.0 - r as f64 / games.len().max(1) as f64;
        }
        let famous = order[..(games.len() / 100).clamp(10, 3000).min(games.len())].to_vec();
        let max = games.iter().map(|g| g.popularity.ln_1p()).fold(0.0, f64::max).max(1e-9);
        let fame = games.iter().map(|g| g.popularity.ln_1p() / max).collect();
        Truth { games, styles, by_style, by_franchise, by_company, famous, fame, pct }
    }

    fn list(&self, rng: &mut Rng, a: usize, flavor: Flavor) -> Vec<u32> {
        // Obscure games often have no list at all; famous ones nearly always do.
        if !rng.chance(0.35 + 0.6 * self.pct[a]) {
            return Vec::new();
        }
        let ga = &self.games[a];
        let mut cands: Vec<usize> = Vec::with_capacity(128);
        let sample = |rng: &mut Rng, from: &[usize], m: usize, cands: &mut Vec<usize>| {
            if from.len() <= m {
                cands.extend_from_slice(from);
            } else {
                cands.extend((0..m).map(|_| from[rng.below(from.len())]));
            }
        };
        sample(rng, &self.by_style[ga.style], 70, &mut cands);
        for &r in &self.styles[ga.style].related {
            sample(rng, &self.by_style[r], 12, &mut cands);
        }
        if let Some(f) = ga.franchise {
            sample(rng, &self.by_franchise[&f], 12, &mut cands);
        }
        sample(rng, &self.by_company[&ga.company], 10, &mut cands);
        sample(rng, &self.famous, 12, &mut cands);
        cands.sort_unstable();
        cands.dedup();
        // How much this curator cares about each cue: lists follow series, studios and tags only
        // partly, and differently from game to game.
        let w_series = if rng.chance(0.7) { 2.2 } else { 0.3 };
        let w_studio = 0.8 * rng.unit();
        let w_tags = 0.12 + 0.2 * rng.unit();
        let mut scored: Vec<(f64, u32)> = cands
            .into_iter()
            .filter(|&b| b != a)
            .map(|b| {
                let gb = &self.games[b];
                let same_style = gb.style == ga.style;
                let related = self.styles[ga.style].related.contains(&gb.style);
                let s = 1.4 * f64::from(u8::from(same_style))
                    + 1.0 * f64::from(u8::from(same_style && gb.substyle == ga.substyle))
                    + 0.5 * f64::from(u8::from(related))
                    + w_series * f64::from(u8::from(gb.franchise.is_some() && gb.franchise == ga.franchise))
                    + w_studio * f64::from(u8::from(gb.company == ga.company))
                    + w_tags * shared(&gb.keywords, &ga.keywords).min(5) as f64
                    - 0.06 * f64::from(ga.year.abs_diff(gb.year)).min(20.0)
                    + 1.6 * self.fame[b]
                    + 0.8 * rng.normal();
                (s, gb.id)
            })
            .collect();
        let most = match flavor {
            Flavor::Igdb => 10,
            Flavor::Store => 12,
        };
        let keep = if rng.chance(0.6) { most } else { 3 + rng.below(most - 2) };
        if keep < scored.len() {
            scored.select_nth_unstable_by(keep - 1, |x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            scored.truncate(keep);
        }
        let mut ids: Vec<u32> = scored.into_iter().map(|(_, id)| id).collect();
        ids.sort_unstable();
        ids
    }
}

/// Writes tables as `NAME.json.gz` into a temporary sibling directory, then swaps it into place.
fn write_snapshot(out: &Path, tables: &[(&str, Vec<Value>)]) -> Result<()> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("while creating {}", parent.display()))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "snapshot".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("while creating {}", tmp.display()))?;
    for (table, rows) in tables {
        let path = tmp.join(format!("{table}.json.gz"));
        let file =
            std::fs::File::create(&path).with_context(|| format!("while creating {}", path.display()))?;
        // serde_json writes in small pieces: buffer them before the compressor, which is slow on
        // tiny writes (most of the time at 333k games went there).
        let gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::new(6));
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, gz);
        serde_json::to_writer(&mut buf, rows).with_context(|| format!("while writing {}", path.display()))?;
        buf.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|gz| gz.finish())
            .and_then(|mut w| w.flush())
            .with_context(|| format!("while writing {}", path.display()))?;
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(out, &old).with_context(|| format!("while moving aside {}", out.display()))?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("while moving the snapshot to {}", out.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_to(dir: &Path, games: u32, seed: u64) -> Summary {
        generate(&Config { out: dir.to_path_buf(), games, seed, flavor: Flavor::Igdb, json: false }).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_and_sane_content() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        let s = gen_to(&a, 300, 7);
        gen_to(&b, 300, 7);
        assert_eq!(s.games, 300);
        for table in ["games", "genres", "keywords", "franchises"] {
            let read = |d: &Path| std::fs::read(d.join(format!("{table}.json.gz"))).unwrap();
            assert_eq!(read(&a), read(&b), "{table} differs between two runs with one seed");
        }
        let games = crate::snapshot::read_games(&a).unwrap();
        assert_eq!(games.len(), 300);
        let ids: BTreeSet<u64> = games.iter().filter_map(|g| g["id"].as_u64()).collect();
        assert_eq!(ids.len(), 300, "ids must be unique");
        // Truth refers only to games in the set and never to the game itself.
        for g in &games {
            for s in g["similar_games"].as_array().unwrap() {
                let s = s.as_u64().unwrap();
                assert!(ids.contains(&s) && Some(s) != g["id"].as_u64());
            }
        }
        // Obscure games often have no list (as on IGDB), famous ones nearly always.
        assert!(s.with_similar > 150 && s.with_similar < 300 && s.franchises > 10, "{s:?}");
    }

    #[test]
    fn similar_games_share_style_more_often_than_chance() {
        let t = tempfile::tempdir().unwrap();
        gen_to(t.path().join("s").as_path(), 600, 3);
        let games = crate::snapshot::read_games(&t.path().join("s")).unwrap();
        let genres = |g: &Value| g["genres"].clone();
        let by_id: std::collections::HashMap<u64, &Value> =
            games.iter().map(|g| (g["id"].as_u64().unwrap(), g)).collect();
        let (mut same, mut total) = (0, 0);
        for g in &games {
            for s in g["similar_games"].as_array().unwrap() {
                total += 1;
                same += usize::from(genres(by_id[&s.as_u64().unwrap()]) == genres(g));
            }
        }
        assert!(same * 2 > total, "only {same} of {total} similar pairs share genres");
    }
}
