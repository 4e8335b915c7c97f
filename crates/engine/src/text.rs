//! Text folding for search and slugs: lowercase, Latin diacritics removed, punctuation dropped.
//!
//! A small hand-written Latin fold (Latin-1 Supplement and Latin Extended-A, plus decomposed
//! combining marks) instead of a Unicode normalization crate: it covers the accented titles of
//! the IGDB catalogue and costs a few hundred bytes of wasm instead of tens of kilobytes of
//! tables (see docs/decisions/103-latin-fold.md). Other scripts (Japanese, Cyrillic, …) are kept
//! as lowercase letters, so they still match themselves.

/// Latin-1 Supplement U+00C0..=U+00FF folded to lowercase ASCII; `#` = multi-letter, ` ` = separator.
const LATIN1: &[u8; 64] = b"aaaaaa#ceeeeiiiidnooooo ouuuuy##aaaaaa#ceeeeiiiidnooooo ouuuuy#y";
/// Latin Extended-A U+0100..=U+017F folded to lowercase ASCII; `#` = multi-letter.
const LATIN_EXT_A: &[u8; 128] = b"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii##jjkkkllllllllllnnnnnnnnnoooooo##rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// What one input character folds to.
enum Folded {
    /// Letters (possibly several, e.g. `ß` → `ss`).
    Text(&'static str),
    /// One lowercase character.
    Char(char),
    /// A word separator.
    Sep,
    /// Nothing (apostrophes, combining marks): the word continues.
    Drop,
}

fn fold_char(c: char) -> Folded {
    match c {
        'a'..='z' | '0'..='9' => Folded::Char(c),
        'A'..='Z' => Folded::Char(c.to_ascii_lowercase()),
        '\'' | '\u{2019}' | '\u{02bc}' | '\u{2018}' | '`' => Folded::Drop,
        '\u{0300}'..='\u{036f}' => Folded::Drop,
        'Æ' | 'æ' => Folded::Text("ae"),
        'Þ' | 'þ' => Folded::Text("th"),
        'ß' => Folded::Text("ss"),
        'Ĳ' | 'ĳ' => Folded::Text("ij"),
        'Œ' | 'œ' => Folded::Text("oe"),
        '\u{00c0}'..='\u{00ff}' => match LATIN1[c as usize - 0xc0] {
            b' ' => Folded::Sep,
            b => Folded::Char(char::from(b)),
        },
        '\u{0100}'..='\u{017f}' => Folded::Char(char::from(LATIN_EXT_A[c as usize - 0x100])),
        c if c.is_alphanumeric() => {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => Folded::Char(l),
                _ => Folded::Char(c),
            }
        }
        _ => Folded::Sep,
    }
}

/// Folds `text` into its words: lowercase, Latin diacritics removed, apostrophes dropped,
/// any other punctuation or space separating words. Calls `word` once per non-empty word.
///
/// # Examples
/// ```
/// let mut words = Vec::new();
/// playalike_engine::text::fold_words("Pokémon: Let's Go, Pikachu!", |w| words.push(w.to_string()));
/// assert_eq!(words, ["pokemon", "lets", "go", "pikachu"]);
/// ```
pub fn fold_words(text: &str, mut word: impl FnMut(&str)) {
    fold_words_into(&mut Vec::new(), text, |w| {
        // Folded words are whole characters of `text` or ASCII letters: always UTF-8.
        if let Ok(w) = std::str::from_utf8(w) {
            word(w);
        }
    });
}

/// [`fold_words`] on bytes, with a caller-owned scratch buffer (no allocation per call once it
/// has grown): the words passed to `word` are valid UTF-8. ASCII, almost all of the catalogue's
/// text, takes a byte-wise fast path; the search index build calls this for every title.
pub fn fold_words_into(buf: &mut Vec<u8>, text: &str, mut word: impl FnMut(&[u8])) {
    buf.clear();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            i += 1;
            match b {
                b'a'..=b'z' | b'0'..=b'9' => buf.push(b),
                b'A'..=b'Z' => buf.push(b | 0x20),
                b'\'' | b'`' => {}
                _ => {
                    if !buf.is_empty() {
                        word(buf);
                        buf.clear();
                    }
                }
            }
            continue;
        }
        let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else { break };
        i += c.len_utf8();
        match fold_char(c) {
            Folded::Text(t) => buf.extend_from_slice(t.as_bytes()),
            Folded::Char(l) => buf.extend_from_slice(l.encode_utf8(&mut [0; 4]).as_bytes()),
            Folded::Drop => {}
            Folded::Sep => {
                if !buf.is_empty() {
                    word(buf);
                    buf.clear();
                }
            }
        }
    }
    if !buf.is_empty() {
        word(buf);
        buf.clear();
    }
}

/// The folded words of `text` joined by single spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::new();
    fold_words(text, |w| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    });
    out
}

/// IGDB's slug of a name: ASCII letters and digits lowercased, every other run of characters
/// (accented letters included, as IGDB does) becomes one `-`, no leading or trailing `-`.
///
/// # Examples
/// ```
/// assert_eq!(playalike_engine::text::slugify("Baldur's Gate II: Shadows of Amn"), "baldur-s-gate-ii-shadows-of-amn");
/// assert_eq!(playalike_engine::text::slugify("Pokémon Blue"), "pok-mon-blue");
/// ```
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// Whether `a` and `b` are within one edit (insertion, deletion, substitution or transposition of
/// neighbours). With `prefix`, whether `a` is within one edit of some prefix of `b`.
pub fn within_one_edit(a: &[u8], b: &[u8], prefix: bool) -> bool {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[common..], &b[common..]);
    let tail_ok = |x: &[u8], y: &[u8]| if prefix { y.starts_with(x) } else { x == y };
    if a.is_empty() {
        return prefix || b.len() <= 1;
    }
    // a[0] != b[0] here (or b is empty).
    if b.is_empty() {
        return a.len() == 1;
    }
    tail_ok(&a[1..], &b[1..]) // substitution
        || tail_ok(&a[1..], b) // a has an extra letter
        || tail_ok(a, &b[1..]) // a lacks a letter
        || (a.len() >= 2 && b.len() >= 2 && a[0] == b[1] && a[1] == b[0] && tail_ok(&a[2..], &b[2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_table() {
        for (input, want) in [
            ("The Legend of Zelda: Breath of the Wild", "the legend of zelda breath of the wild"),
            ("Brütal Legend", "brutal legend"),
            ("Ōkami", "okami"),
            ("Pokémon", "pokemon"),
            ("Pokémon", "pokemon"), // decomposed é
            ("Baldur’s Gate", "baldurs gate"),
            ("Half-Life 2", "half life 2"),
            ("Straße Œuvre Æon Łódź", "strasse oeuvre aeon lodz"),
            ("  ...  ", ""),
            ("ファイナルファンタジー VII", "ファイナルファンタジー vii"),
            ("ÀÉÎÕÜ×Ç", "aeiou c"),
        ] {
            assert_eq!(fold(input), want, "{input}");
        }
    }

    #[test]
    fn slugify_matches_igdb() {
        assert_eq!(slugify("Ōkami"), "kami");
        assert_eq!(slugify("He-162 Volksjäger: Tour of Duty"), "he-162-volksj-ger-tour-of-duty");
        assert_eq!(slugify("  --  "), "");
    }

    #[test]
    fn one_edit_table() {
        for (a, b, prefix, want) in [
            ("zelda", "zelda", false, true),
            ("zelad", "zelda", false, true),
            ("zeldaa", "zelda", false, true),
            ("zeda", "zelda", false, true),
            ("zelba", "zelda", false, true),
            ("zlbda", "zelda", false, false),
            ("zeld", "zeldas", false, false),
            ("zeld", "zeldas", true, true),
            ("zedl", "zeldas", true, true),
            ("zxld", "zeldas", true, true),
            ("zxxd", "zeldas", true, false),
            ("mraio", "mario", false, true),
        ] {
            assert_eq!(within_one_edit(a.as_bytes(), b.as_bytes(), prefix), want, "{a} {b} {prefix}");
        }
    }
}
