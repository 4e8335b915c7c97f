//! A deterministic, seeded mutation fuzzer for the model blob decoder (the reliability campaign,
//! `scripts/reliability.sh`). No new dependency and no nightly toolchain: cargo-fuzz needs both,
//! and neither installs here offline (docs/decisions/601-reliability-campaign.md).
//!
//! ```text
//! fuzz_decode [--iters N] [--seconds S] [--seed S] [--repro SEED] BLOB...
//! ```
//!
//! The corpus is the blobs named on the command line plus small synthetic ones. Each input is a
//! corpus blob with 1–4 mutations (bit flips, byte overwrites, truncation, extension, splicing,
//! section-table edits, header length edits, varint edits inside a section, insertions and
//! deletions inside a section with the table fixed up, version edits), and in three of four
//! inputs the header's payload length and CRC-32 are recomputed afterwards, so the parser past
//! the checksum sees the damage. Every input goes to `Engine::from_bytes` under `catch_unwind`;
//! a blob that decodes is queried (status, game views, recommend with and without filters,
//! explain, search). Input `i` is derived from its own seed only, so `--repro SEED` rebuilds
//! exactly the input that failed.
//!
//! Before fuzzing, hostile blobs built to inflate (a vocabulary of 10 million empty terms, 20 MB)
//! are decoded under a counting allocator: each must be refused, or decode within the decoder's
//! stated bound (`format::DECODE_MEMORY_FACTOR` × its size + `DECODE_MEMORY_SLACK`).
//!
//! Output: progress and any panic on stderr, one JSON summary line on stdout. Exit 1 on any panic
//! or any hostile blob over the bound.
//! Size: `--iters`/`PLAYALIKE_FUZZ_ITERS` inputs (default 400000, about 80 s on one core here)
//! unless `--seconds`/`PLAYALIKE_FUZZ_SECONDS` (default 600, a guard for loaded machines) runs
//! out first; the summary says how many were tried. `PLAYALIKE_FUZZ_SEED` (default 1).

use playalike_engine::format::{self, HEADER_LEN};
use playalike_engine::synth::Rng;
use playalike_engine::{Engine, Error, Filters, RecommendQuery, synth};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::Instant;

/// Counts heap bytes (for the hostile blobs' decode peak).
#[global_allocator]
static ALLOC: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

/// `blob` with one section's body replaced, the table and header re-laid out to match.
fn with_section(blob: &[u8], tag: &[u8; 4], body: &[u8]) -> Option<Vec<u8>> {
    let payload = blob.get(HEADER_LEN..)?;
    let count = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    let mut sections = Vec::new();
    for i in 0..count {
        let e = payload.get(4 + 12 * i..16 + 12 * i)?;
        let off = u32::from_le_bytes(e[4..8].try_into().ok()?) as usize;
        let len = u32::from_le_bytes(e[8..12].try_into().ok()?) as usize;
        let t: [u8; 4] = e[..4].try_into().ok()?;
        sections.push((t, if &t == tag { body.to_vec() } else { payload.get(off..off + len)?.to_vec() }));
    }
    let mut out = (count as u32).to_le_bytes().to_vec();
    let mut at = 4 + 12 * count;
    for (t, b) in &sections {
        out.extend_from_slice(t);
        out.extend_from_slice(&u32::try_from(at).ok()?.to_le_bytes());
        out.extend_from_slice(&u32::try_from(b.len()).ok()?.to_le_bytes());
        at += b.len();
    }
    sections.iter().for_each(|s| out.extend_from_slice(&s.1));
    let mut blob = blob[..HEADER_LEN].to_vec();
    blob[12..20].copy_from_slice(&(out.len() as u64).to_le_bytes());
    blob[20..24].copy_from_slice(&crc32fast::hash(&out).to_le_bytes());
    blob.extend_from_slice(&out);
    Some(blob)
}

/// Hostile blobs that inflate on decode, valid in every other respect (CRC included): a
/// vocabulary of `terms` terms with id 0 and an empty name (2 bytes each on the wire).
fn hostile_blobs() -> Vec<(String, Vec<u8>)> {
    // Three games without features: the vocabularies may then be anything, so the blob is valid.
    let m = playalike_engine::Model {
        games: (1..=3)
            .map(|id| playalike_engine::Game { id, name: format!("Game {id}"), ..Default::default() })
            .collect(),
        ..Default::default()
    };
    let Ok(base) = format::encode(&m) else { return Vec::new() };
    let mut out = Vec::new();
    for terms in [10_000_000u32, 100_000] {
        let mut v = vec![0u8; 5]; // genres .. player perspectives: empty
        v.push(0xfc); // keywords: a u32 length follows (bincode standard varint)
        v.extend_from_slice(&terms.to_le_bytes());
        v.resize(v.len() + 2 * terms as usize, 0);
        v.extend_from_slice(&[0; 4]); // franchises .. engines
        if let Some(b) = with_section(&base, b"VOCB", &v) {
            out.push((format!("{terms} empty vocabulary terms"), b));
        }
        // The same blob with a vocabulary of one term decodes: only the inflation is refused.
        let mut one = vec![0u8; 5];
        one.extend_from_slice(&[1, 0, 0]);
        one.extend_from_slice(&[0; 4]);
        if terms == 100_000
            && let Some(b) = with_section(&base, b"VOCB", &one)
        {
            out.push(("the same blob with 1 empty term (control)".into(), b));
        }
    }
    out
}

/// Decodes each hostile blob under the counting allocator: (summary, within the bound).
fn run_hostile() -> (Vec<serde_json::Value>, bool) {
    let mut all_ok = true;
    let mut rows = Vec::new();
    for (name, blob) in hostile_blobs() {
        let bound = format::DECODE_MEMORY_FACTOR * blob.len() + format::DECODE_MEMORY_SLACK;
        let base = ALLOC.current_usage();
        ALLOC.reset_peak_usage();
        let result = Engine::from_bytes(&blob).map(|e| e.len());
        let peak = ALLOC.peak_usage().saturating_sub(base);
        let ok = peak <= bound;
        all_ok &= ok;
        let outcome = match &result {
            Ok(n) => format!("decoded ({n} games)"),
            Err(e) => format!("refused: {}", kind(e)),
        };
        eprintln!(
            "fuzz_decode: hostile blob, {name}: {} bytes, {outcome}, decode peak {peak} bytes ({:.2}x; bound {bound}){}",
            blob.len(),
            peak as f64 / blob.len() as f64,
            if ok { "" } else { " OVER THE BOUND" }
        );
        rows.push(serde_json::json!({
            "name": name, "bytes": blob.len(), "outcome": outcome, "peakBytes": peak,
            "ratio": peak as f64 / blob.len() as f64, "bound": bound, "withinBound": ok,
        }));
    }
    (rows, all_ok)
}

/// The last panic's message and location (the hook stores it; the default hook would spam).
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// SplitMix64 finaliser: the seed of input `i` from the run's seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Interesting values for counts, offsets and lengths.
fn interesting(rng: &mut Rng, near: u64) -> u64 {
    const FIXED: [u64; 14] = [
        0,
        1,
        2,
        0x7f,
        0x80,
        0xff,
        0xffff,
        0x7fff_ffff,
        0xffff_ffff,
        0x1_0000_0000,
        1 << 30,
        (1 << 30) + 1,
        u64::MAX / 2,
        u64::MAX,
    ];
    match rng.below(4) {
        0 => near.wrapping_add(rng.below(5)).wrapping_sub(2),
        1 => rng.next_u64() >> rng.below(64),
        _ => FIXED[rng.below(FIXED.len() as u64) as usize],
    }
}

fn leb128(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// The section table of a well-formed-enough blob: (entry position in the blob, offset, length).
fn table(b: &[u8]) -> Vec<(usize, usize, usize)> {
    let Some(count) = b.get(HEADER_LEN..HEADER_LEN + 4) else { return Vec::new() };
    let count = u32::from_le_bytes([count[0], count[1], count[2], count[3]]) as usize;
    let mut out = Vec::new();
    for i in 0..count.min(64) {
        let at = HEADER_LEN + 4 + 12 * i;
        let Some(e) = b.get(at..at + 12) else { break };
        let off = u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
        let len = u32::from_le_bytes([e[8], e[9], e[10], e[11]]) as usize;
        out.push((at, off, len));
    }
    out
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// A random section's byte range in the blob (absolute), when the table can be read.
fn section(b: &[u8], rng: &mut Rng) -> Option<(usize, usize, usize)> {
    let t = table(b);
    if t.is_empty() {
        return None;
    }
    let (at, off, len) = t[rng.below(t.len() as u64) as usize];
    let start = HEADER_LEN.checked_add(off)?;
    (start.checked_add(len)? <= b.len()).then_some((at, start, len))
}

/// Applies one mutation; returns its name. `fix` may be cleared by mutations of the header.
fn mutate(b: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut Rng, fix: &mut bool) -> &'static str {
    let pos = |rng: &mut Rng, len: usize| rng.below(len.max(1) as u64) as usize;
    match rng.below(12) {
        0 => {
            if !b.is_empty() {
                let p = pos(rng, b.len());
                b[p] ^= 1 << rng.below(8);
            }
            "bit-flip"
        }
        1 => {
            let n = 1 + rng.below(8) as usize;
            for _ in 0..n {
                if !b.is_empty() {
                    let p = pos(rng, b.len());
                    b[p] = [0, 0xff, 0x7f, 0x80, rng.below(256) as u8][rng.below(5) as usize];
                }
            }
            "byte-overwrite"
        }
        2 => {
            let keep = pos(rng, b.len());
            b.truncate(keep);
            "truncate"
        }
        3 => {
            let n = 1 + rng.below(64) as usize;
            b.extend((0..n).map(|_| rng.below(256) as u8));
            "extend"
        }
        4 => {
            // Splice: a range of another (or the same) corpus blob over a range of this one.
            let other = &corpus[rng.below(corpus.len() as u64) as usize];
            if !other.is_empty() && !b.is_empty() {
                let from = pos(rng, other.len());
                let n = (1 + rng.below(512) as usize).min(other.len() - from);
                let to = pos(rng, b.len());
                let end = (to + n).min(b.len());
                b.splice(to..end, other[from..from + n].iter().copied());
            }
            "splice"
        }
        5 | 6 => {
            // Section table edit.
            let t = table(b);
            if t.is_empty() {
                return "table-edit (no table)";
            }
            let (at, off, len) = t[rng.below(t.len() as u64) as usize];
            match rng.below(6) {
                0 => put_u32(b, at + 4, interesting(rng, off as u64) as u32),
                1 => put_u32(b, at + 8, interesting(rng, len as u64) as u32),
                2 => {
                    // Swap two entries (tags stay, bodies swap) or duplicate one's tag.
                    let (at2, _, _) = t[rng.below(t.len() as u64) as usize];
                    if rng.below(2) == 0 {
                        let e: Vec<u8> = b[at + 4..at + 12].to_vec();
                        let e2: Vec<u8> = b[at2 + 4..at2 + 12].to_vec();
                        b[at + 4..at + 12].copy_from_slice(&e2);
                        b[at2 + 4..at2 + 12].copy_from_slice(&e);
                    } else {
                        let tag: Vec<u8> = b[at2..at2 + 4].to_vec();
                        b[at..at + 4].copy_from_slice(&tag);
                    }
                }
                3 => b[at + rng.below(4) as usize] = rng.below(256) as u8,
                4 => put_u32(b, HEADER_LEN, interesting(rng, t.len() as u64) as u32),
                _ => {
                    // Overlapping sections: point this one into another's body.
                    let (_, off2, len2) = t[rng.below(t.len() as u64) as usize];
                    put_u32(b, at + 4, (off2 + pos(rng, len2)) as u32);
                }
            }
            "table-edit"
        }
        7 => {
            // Header length field: the fix-up must not undo it.
            *fix = false;
            if b.len() >= 20 {
                let v = interesting(rng, (b.len() - HEADER_LEN.min(b.len())) as u64);
                b[12..20].copy_from_slice(&v.to_le_bytes());
                if b.len() >= HEADER_LEN && rng.below(2) == 0 {
                    let crc = crc32fast::hash(b.get(HEADER_LEN..).unwrap_or(&[]));
                    b[20..24].copy_from_slice(&crc.to_le_bytes());
                }
            }
            "length-edit"
        }
        8 | 9 => {
            // A varint inside a section replaced by an interesting value (counts, lengths, deltas).
            let Some((_, start, len)) = section(b, rng) else { return "varint-edit (no table)" };
            if len == 0 {
                return "varint-edit (empty section)";
            }
            // Half the time near the section start, where its counts live.
            let span = if rng.below(2) == 0 { len.min(16) } else { len };
            let p = start + pos(rng, span);
            let old = (p..b.len()).take(10).take_while(|&i| b[i] & 0x80 != 0).count() + 1;
            let end = (p + old).min(b.len());
            let v = leb128(interesting(rng, u64::from(b[p] & 0x7f)));
            b.splice(p..end, v);
            "varint-edit"
        }
        10 => {
            // Insert or delete bytes inside a section, then fix the table so it stays consistent.
            let Some((at, start, len)) = section(b, rng) else { return "resize (no table)" };
            let p = start + pos(rng, len + 1);
            let delta: i64 = if rng.below(2) == 0 && len > 0 {
                let n = (1 + rng.below(16) as usize).min(start + len - p.min(start + len));
                b.drain(p..p + n);
                -(n as i64)
            } else {
                let n = 1 + rng.below(16) as usize;
                b.splice(p..p, (0..n).map(|_| rng.below(256) as u8));
                n as i64
            };
            put_u32(b, at + 8, (len as i64 + delta).max(0) as u32);
            for (at2, off2, _) in table(b) {
                if HEADER_LEN + off2 > start {
                    put_u32(b, at2 + 4, (off2 as i64 + delta).max(0) as u32);
                }
            }
            "section-resize"
        }
        _ => {
            // Format version.
            if b.len() >= 12 {
                let at = 8 + 2 * rng.below(2) as usize;
                let v = [0u16, 1, 2, 0xffff, rng.below(65536) as u16][rng.below(5) as usize];
                b[at..at + 2].copy_from_slice(&v.to_le_bytes());
            }
            "version-edit"
        }
    }
}

/// Recomputes the header's payload length and CRC-32 over what follows the header.
fn fix_header(b: &mut [u8]) {
    if b.len() < HEADER_LEN {
        return;
    }
    let len = (b.len() - HEADER_LEN) as u64;
    b[12..20].copy_from_slice(&len.to_le_bytes());
    let crc = crc32fast::hash(&b[HEADER_LEN..]);
    b[20..24].copy_from_slice(&crc.to_le_bytes());
}

/// Input `seed`: which corpus blob, which mutations, whether the header was fixed.
fn build_input(corpus: &[Vec<u8>], seed: u64) -> (Vec<u8>, Vec<&'static str>, bool) {
    let mut rng = Rng::new(seed);
    let mut b = corpus[rng.below(corpus.len() as u64) as usize].clone();
    let mut fix = rng.below(4) != 0;
    let n = 1 + rng.below(4) as usize;
    let ops = (0..n).map(|_| mutate(&mut b, corpus, &mut rng, &mut fix)).collect();
    if fix {
        fix_header(&mut b);
    }
    (b, ops, fix)
}

fn kind(e: &Error) -> &'static str {
    match e {
        Error::Truncated(_) => "Truncated",
        Error::BadMagic => "BadMagic",
        Error::UnsupportedVersion { .. } => "UnsupportedVersion",
        Error::ObsoleteVersion { .. } => "ObsoleteVersion",
        Error::ChecksumMismatch { .. } => "ChecksumMismatch",
        Error::Malformed(_) => "Malformed",
        Error::UnknownGame(_) => "UnknownGame",
        Error::InvalidQuery(_) => "InvalidQuery",
        Error::Encode(_) => "Encode",
        Error::TooLarge { .. } => "TooLarge",
        _ => "other",
    }
}

/// Queries a decoded engine the way the page and the CLI do; errors are fine, panics are not.
fn exercise(e: &Engine, rng: &mut Rng) -> usize {
    let mut answers = 0;
    let st = e.status();
    answers += st.games;
    let n = e.len();
    let mut ids: Vec<u32> = [0, n.saturating_sub(1), rng.below(n.max(1) as u64) as usize]
        .iter()
        .filter_map(|&i| e.id_of(i))
        .collect();
    ids.push(rng.below(1 << 20) as u32); // probably absent
    for &id in &ids {
        if let Some(v) = e.game_view(id) {
            answers += v.name.len() + v.genres.len();
        }
        for filters in [
            Filters::default(),
            Filters {
                platforms: vec![6],
                year_min: Some(2000),
                min_rating: Some(50.0),
                game_types: vec![0],
                ..Filters::default()
            },
        ] {
            let q = RecommendQuery {
                liked: vec![(id, 1.0)],
                k: 10,
                filters,
                max_per_franchise: 2,
                ..Default::default()
            };
            if let Ok(hits) = e.recommend(&q) {
                answers += hits.len();
                if let Some(h) = hits.first() {
                    answers += e.explain(id, h.id).map_or(0, |r| r.len());
                }
            }
        }
    }
    if ids.len() >= 2 {
        let q = RecommendQuery {
            liked: vec![(ids[0], 1.0), (ids[1], 0.5)],
            disliked: vec![ids[ids.len() - 1]],
            ..Default::default()
        };
        answers += e.recommend(&q).map_or(0, |h| h.len());
    }
    if let Some(&id) = ids.first()
        && let Ok(i) = e.index_of(id)
    {
        let name: String = e.name_of(i).chars().take(6).collect();
        answers += e.search(&name, 10).len();
    }
    answers += e.search("the wi", 10).len() + e.search("zzz 9", 5).len();
    answers
}

struct Opts {
    iters: u64,
    seconds: f64,
    seed: u64,
    repro: Option<u64>,
    blobs: Vec<String>,
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        iters: env_num("PLAYALIKE_FUZZ_ITERS", 400_000),
        seconds: env_num("PLAYALIKE_FUZZ_SECONDS", 600.0),
        seed: env_num("PLAYALIKE_FUZZ_SEED", 1),
        repro: None,
        blobs: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num =
            |what: &str| -> Result<String, String> { args.next().ok_or(format!("{what} needs a value")) };
        match a.as_str() {
            "--iters" => o.iters = num("--iters")?.parse().map_err(|e| format!("--iters: {e}"))?,
            "--seconds" => o.seconds = num("--seconds")?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => o.seed = num("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--repro" => o.repro = Some(num("--repro")?.parse().map_err(|e| format!("--repro: {e}"))?),
            "-h" | "--help" => {
                return Err(
                    "usage: fuzz_decode [--iters N] [--seconds S] [--seed S] [--repro SEED] BLOB...".into()
                );
            }
            _ => o.blobs.push(a),
        }
    }
    Ok(o)
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz_decode: {e}");
            std::process::exit(2);
        }
    };
    // The corpus: the blobs given (committed test blobs, a trained 4k model) and synthetic ones.
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut names = Vec::new();
    for path in &opts.blobs {
        match std::fs::read(path) {
            Ok(b) => {
                names.push(format!("{path} ({} bytes)", b.len()));
                corpus.push(b);
            }
            Err(e) => {
                eprintln!("fuzz_decode: cannot read {path}: {e}");
                std::process::exit(2);
            }
        }
    }
    for (n, seed) in [(3usize, 7u64), (40, 8), (300, 9)] {
        match format::encode(&synth::model(n, seed)) {
            Ok(b) => {
                names.push(format!("synthetic {n} games ({} bytes)", b.len()));
                corpus.push(b);
            }
            Err(e) => {
                eprintln!("fuzz_decode: encoding a synthetic model failed: {e}");
                std::process::exit(1);
            }
        }
    }
    // Sanity: the unmutated corpus decodes (an old-format blob is kept as a seed but says so).
    let mut decodable = 0;
    for (b, name) in corpus.iter().zip(names.iter_mut()) {
        match Engine::from_bytes(b) {
            Ok(_) => decodable += 1,
            Err(e) => {
                eprintln!("fuzz_decode: corpus blob {name} does not decode ({e}); kept as a seed");
                name.push_str(&format!(", refused as is: {}", kind(&e)));
            }
        }
    }
    if decodable == 0 {
        eprintln!("fuzz_decode: no corpus blob decodes; the campaign would test nothing");
        std::process::exit(1);
    }

    let (hostile, hostile_ok) = if opts.repro.is_none() { run_hostile() } else { (Vec::new(), true) };

    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = info.to_string();
        }
    }));

    let seeds: Box<dyn Iterator<Item = u64>> = match opts.repro {
        Some(s) => Box::new(std::iter::once(s)),
        None => Box::new((0..opts.iters).map(|i| mix(opts.seed.wrapping_mul(0x1_0000_0001) ^ i))),
    };
    let started = Instant::now();
    let mut tried = 0u64;
    let mut ok = 0u64;
    let mut fixed_inputs = 0u64;
    let mut answers = 0usize;
    let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
    let mut errors_fixed: BTreeMap<&str, u64> = BTreeMap::new();
    let mut ops_count: BTreeMap<&str, u64> = BTreeMap::new();
    let mut panics: Vec<(u64, String, Vec<&str>)> = Vec::new();
    for seed in seeds {
        if opts.repro.is_none() && started.elapsed().as_secs_f64() >= opts.seconds {
            break;
        }
        let (input, ops, fixed) = build_input(&corpus, seed);
        tried += 1;
        fixed_inputs += u64::from(fixed);
        for op in &ops {
            *ops_count.entry(op).or_default() += 1;
        }
        let mut rng = Rng::new(seed ^ 0x5eed);
        let outcome = catch_unwind(AssertUnwindSafe(|| match Engine::from_bytes(&input) {
            Ok(e) => Ok(exercise(&e, &mut rng)),
            Err(e) => Err(kind(&e)),
        }));
        match outcome {
            Ok(Ok(n)) => {
                ok += 1;
                answers += n;
            }
            Ok(Err(k)) => {
                *errors.entry(k).or_default() += 1;
                if fixed {
                    *errors_fixed.entry(k).or_default() += 1;
                }
            }
            Err(_) => {
                let msg = LAST_PANIC.lock().map(|m| m.clone()).unwrap_or_default();
                eprintln!(
                    "fuzz_decode: PANIC on input seed {seed} ({} bytes, mutations {ops:?}, header fixed: {fixed}): {msg}\n  reproduce: cargo run -p playalike-engine --example fuzz_decode -- --repro {seed} {}",
                    input.len(),
                    opts.blobs.join(" ")
                );
                if opts.repro.is_some()
                    && let Err(e) = std::fs::write("fuzz-repro.bin", &input)
                {
                    eprintln!("fuzz_decode: could not write fuzz-repro.bin: {e}");
                }
                panics.push((seed, msg, ops.clone()));
            }
        }
        if opts.repro.is_some() {
            eprintln!(
                "fuzz_decode: input {seed}: {} bytes, mutations {ops:?}, header fixed: {fixed}",
                input.len()
            );
        } else if tried.is_multiple_of(20_000) {
            eprintln!(
                "fuzz_decode: {tried} inputs, {ok} decoded, {} panics, {:.0} s",
                panics.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "seed": opts.seed,
        "corpus": names,
        "tried": tried,
        "headerFixed": fixed_inputs,
        "decoded": ok,
        "errors": errors,
        "errorsWithHeaderFixed": errors_fixed,
        "mutations": ops_count,
        "answers": answers,
        "panics": panics.len(),
        "panicSeeds": panics.iter().map(|p| p.0).collect::<Vec<_>>(),
        "panicMessages": panics.iter().map(|p| p.1.clone()).collect::<Vec<_>>(),
        "seconds": secs,
        "profile": if cfg!(debug_assertions) { "dev (overflow checks on)" } else { "release" },
        "hostile": hostile,
        "hostileWithinBound": hostile_ok,
    });
    println!("{summary}");
    eprintln!("fuzz_decode: {tried} inputs in {secs:.1} s, {ok} decoded, {} panics", panics.len());
    if !panics.is_empty() || !hostile_ok {
        std::process::exit(1);
    }
}
