//! The model blob: the only code that writes or reads the on-disk/on-wire format.
//!
//! Layout (all fixed-width integers little-endian):
//! ```text
//! magic    8 bytes  b"PLAYALKE"
//! major    u16      incompatible changes bump this; readers refuse a newer major
//! minor    u16      compatible additions (new sections; readers ignore unknown ones)
//! length   u64      payload length in bytes
//! crc32    u32      CRC-32 (IEEE) of the payload
//! payload  length bytes:
//!   count  u32                    number of sections
//!   table  count × (tag [u8; 4], offset u32, length u32)   offsets from the payload start
//!   sections, in any order
//! ```
//! Format 1.1 writes the same sections as 1.0, the titles (`NAME`, `SLUG`, `COVR`, `ALTN`) last,
//! so that a reader fed as the bytes arrive ([`Stream`]) indexes the games while the titles are
//! still on their way; every 1.x reader reads both orders.
//! Sections of format 1.0 (n = number of games, sorted by id; "varints" are LEB128):
//! - `META`, `PARM`, `VOCB`: bincode (standard config) of [`Metadata`], [`Params`] and the ten
//!   vocabularies — small structured parts.
//! - `GAME`: varint n, then n varint id deltas (first id, then differences).
//! - `FLAG`: n bytes, bits: 1 cover present, 2 slug stored, 4 rating present, 8 game type present.
//! - `NAME`: n varint byte lengths, then the UTF-8 bytes of all titles (one region).
//! - `SLUG`: the same for the games whose slug is not `slugify(name)` (flag 2), in game order.
//! - `COVR`: the same for the games with a cover (flag 1).
//! - `ALTN`: n varint counts, then varint lengths of every alternative name, then their bytes.
//! - `YEAR`: n varints (0 = unknown). `RCNT`: n varint rating counts.
//! - `RATE`: f32 ratings of the games with flag 4, byte planes (all first bytes, then all
//!   second bytes, …: compresses far better than interleaved floats). `POPL`: n f32
//!   popularities, byte planes. `GTYP`: one byte per game with flag 8.
//! - `F000`..`F009`: per field, varint total count of terms; when non-zero, n varint counts,
//!   then each game's sorted term indices as varint deltas.
//! - `SIMI`: curated similar ids: varint total; when non-zero, n varint counts, then zigzag varint
//!   deltas (order preserved).
//!
//! The decoder never panics and never allocates from an unchecked count: every count is bounded
//! by the bytes left before anything is reserved, and every reservation is charged to a budget of
//! [`DECODE_MEMORY_FACTOR`] × the blob's size (+ [`DECODE_MEMORY_SLACK`]) before it is made, so
//! a blob whose counts inflate (a vocabulary of empty terms: 2 bytes on the wire, 32 in memory)
//! is refused with [`Error::TooLarge`] instead of decoded (docs/decisions/509-bounded-decoder.md).
//! Format 0.x blobs (bincode of the whole model) are refused with [`Error::ObsoleteVersion`]
//! (see docs/decisions/102-blob-format-1.md).

use crate::catalog::{Catalog, Csr, Strings, flag};
use crate::error::{Error, Result};
use crate::model::{FIELD_COUNT, Metadata, Model, Params, Term};

/// Magic bytes every blob starts with.
pub const MAGIC: [u8; 8] = *b"PLAYALKE";
/// Major format version written by this engine (and the only one it reads).
pub const FORMAT_MAJOR: u16 = 1;
/// Minor format version written by this engine.
pub const FORMAT_MINOR: u16 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 8 + 2 + 2 + 8 + 4;
/// Largest payload the decoder accepts (1 GiB), so a forged length cannot make it allocate.
pub const MAX_PAYLOAD: u64 = 1 << 30;
/// Largest blob the decoder accepts: the header and [`MAX_PAYLOAD`]. The npm package's loader
/// refuses larger downloads with it (`maxModelBytes()` in wasm, generated into pkg/limits.js).
pub const MAX_BLOB: u64 = HEADER_LEN as u64 + MAX_PAYLOAD;

/// Decoding a blob of `len` bytes holds at most `DECODE_MEMORY_FACTOR × len +
/// DECODE_MEMORY_SLACK` bytes on the heap (the input itself not counted), or refuses it with
/// [`Error::TooLarge`] before allocating (see docs/decisions/509-bounded-decoder.md).
pub const DECODE_MEMORY_FACTOR: usize = 4;
/// The fixed allowance on top of [`DECODE_MEMORY_FACTOR`] (small blobs, section table, metadata).
pub const DECODE_MEMORY_SLACK: usize = 64 << 10;

const RATING: u8 = 4;
const GAME_TYPE: u8 = 8;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<{ 1 << 26 }>()
}

// ---------------------------------------------------------------------------------------------
// Writing

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn planes(out: &mut Vec<u8>, vals: impl Iterator<Item = f32> + Clone) {
    for plane in 0..4 {
        out.extend(vals.clone().map(|v| v.to_le_bytes()[plane]));
    }
}

fn strings<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str> + Clone) {
    for s in items.clone() {
        varint(out, s.len() as u64);
    }
    for s in items {
        out.extend_from_slice(s.as_bytes());
    }
}

fn csr(out: &mut Vec<u8>, c: &Csr, n: usize, delta: impl Fn(Option<u32>, u32) -> u64) {
    varint(out, c.total() as u64);
    if c.total() == 0 {
        return;
    }
    for i in 0..n {
        varint(out, c.get(i).len() as u64);
    }
    for i in 0..n {
        let mut prev = None;
        for &v in c.get(i) {
            varint(out, delta(prev, v));
            prev = Some(v);
        }
    }
}

fn bin<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| Error::Encode(e.to_string()))
}

/// Encodes a model into a blob (format 1.0).
pub fn encode(model: &Model) -> Result<Vec<u8>> {
    encode_catalog(&Catalog::from_model(model)?)
}

/// Encodes a catalog into a blob (format 1.0).
pub fn encode_catalog(c: &Catalog) -> Result<Vec<u8>> {
    let n = c.len();
    let mut sections: Vec<([u8; 4], Vec<u8>)> =
        vec![(*b"META", bin(&c.metadata)?), (*b"PARM", bin(&c.params)?), (*b"VOCB", bin(&c.vocab)?)];
    let mut s = Vec::new();
    varint(&mut s, n as u64);
    let mut prev = 0u32;
    for &id in &c.ids {
        varint(&mut s, u64::from(id - prev));
        prev = id;
    }
    sections.push((*b"GAME", s));
    let flags: Vec<u8> = (0..n)
        .map(|i| {
            let mut f = c.flags[i] & (flag::COVER | flag::SLUG);
            if c.rating_of(i).is_some() {
                f |= RATING;
            }
            if c.game_type_of(i).is_some() {
                f |= GAME_TYPE;
            }
            f
        })
        .collect();
    let fl = &flags;
    let has = |bit: u8| (0..n).filter(move |&i| fl[i] & bit != 0);
    let mut s = Vec::new();
    c.year.iter().for_each(|&y| varint(&mut s, u64::from(y)));
    sections.push((*b"YEAR", s));
    let mut s = Vec::new();
    c.rating_count.iter().for_each(|&r| varint(&mut s, u64::from(r)));
    sections.push((*b"RCNT", s));
    let mut s = Vec::new();
    planes(&mut s, has(RATING).map(|i| c.rating[i]));
    sections.push((*b"RATE", s));
    let mut s = Vec::new();
    planes(&mut s, c.popularity.iter().copied());
    sections.push((*b"POPL", s));
    sections.push((*b"GTYP", has(GAME_TYPE).map(|i| c.game_type[i]).collect()));
    sections.push((*b"FLAG", flags.clone()));
    for (fi, f) in c.features.iter().enumerate() {
        let mut s = Vec::new();
        csr(&mut s, f, n, |prev, v| u64::from(prev.map_or(v, |p| v - p)));
        sections.push((*b"F000", s));
        if let Some(last) = sections.last_mut() {
            last.0[3] = b'0' + fi as u8;
        }
    }
    let mut s = Vec::new();
    csr(&mut s, &c.similar, n, |prev, v| zigzag(i64::from(v) - i64::from(prev.unwrap_or(0))));
    sections.push((*b"SIMI", s));
    // The titles last (format 1.1): a reader fed as the bytes arrive indexes the games meanwhile.
    let mut s = Vec::new();
    strings(&mut s, (0..n).map(|i| c.names.get(i)));
    sections.push((*b"NAME", s));
    let mut s = Vec::new();
    strings(&mut s, has(flag::SLUG).map(|i| c.slugs.get(i)));
    sections.push((*b"SLUG", s));
    let mut s = Vec::new();
    strings(&mut s, has(flag::COVER).map(|i| c.covers.get(i)));
    sections.push((*b"COVR", s));
    let mut s = Vec::new();
    for w in c.alt_offs.windows(2) {
        varint(&mut s, u64::from(w[1] - w[0]));
    }
    strings(&mut s, (0..c.alts.len()).map(|j| c.alts.get(j)));
    sections.push((*b"ALTN", s));

    let table_len = 4 + 12 * sections.len();
    let mut payload = Vec::with_capacity(table_len + sections.iter().map(|s| s.1.len()).sum::<usize>());
    payload.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    let mut at = table_len;
    for (tag, body) in &sections {
        let off = u32::try_from(at).map_err(|_| Error::Encode("blob exceeds 4 GiB".into()))?;
        payload.extend_from_slice(tag);
        payload.extend_from_slice(&off.to_le_bytes());
        payload.extend_from_slice(&(body.len() as u32).to_le_bytes());
        at += body.len();
    }
    for (_, body) in &sections {
        payload.extend_from_slice(body);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
    out.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The parsed fixed header of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Format major version.
    pub major: u16,
    /// Format minor version.
    pub minor: u16,
    /// Payload length.
    pub payload_len: u64,
    /// CRC-32 of the payload.
    pub crc32: u32,
}

fn read_array<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N]> {
    bytes
        .get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| Error::Truncated(format!("header needs {HEADER_LEN} bytes, got {}", bytes.len())))
}

/// Reads and checks the fixed header (magic, version, announced length); the payload may not
/// be there yet.
fn header(bytes: &[u8]) -> Result<Header> {
    if bytes.len() < MAGIC.len() {
        return Err(if MAGIC.starts_with(bytes) && !bytes.is_empty() {
            Error::Truncated(format!("{} bytes", bytes.len()))
        } else {
            Error::BadMagic
        });
    }
    if bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::BadMagic);
    }
    let major = u16::from_le_bytes(read_array(bytes, 8)?);
    let minor = u16::from_le_bytes(read_array(bytes, 10)?);
    if major > FORMAT_MAJOR {
        return Err(Error::UnsupportedVersion {
            found_major: major,
            found_minor: minor,
            supported_major: FORMAT_MAJOR,
        });
    }
    if major < FORMAT_MAJOR {
        return Err(Error::ObsoleteVersion {
            found_major: major,
            found_minor: minor,
            supported_major: FORMAT_MAJOR,
        });
    }
    let payload_len = u64::from_le_bytes(read_array(bytes, 12)?);
    let crc = u32::from_le_bytes(read_array(bytes, 20)?);
    if payload_len > MAX_PAYLOAD {
        return Err(Error::Malformed(format!("payload length {payload_len} exceeds the 1 GiB limit")));
    }
    Ok(Header { major, minor, payload_len, crc32: crc })
}

/// Reads and checks the header and the checksum; returns the header and the payload slice.
pub fn verify(bytes: &[u8]) -> Result<(Header, &[u8])> {
    let Header { major, minor, payload_len, crc32: crc } = header(bytes)?;
    let available = (bytes.len() - HEADER_LEN) as u64;
    if available < payload_len {
        return Err(Error::Truncated(format!("payload announces {payload_len} bytes, {available} present")));
    }
    if available > payload_len {
        return Err(Error::Malformed(format!(
            "{} trailing bytes after the payload",
            available - payload_len
        )));
    }
    let payload = &bytes[HEADER_LEN..];
    let found = crc32fast::hash(payload);
    if found != crc {
        return Err(Error::ChecksumMismatch { expected: crc, found });
    }
    Ok((Header { major, minor, payload_len, crc32: crc }, payload))
}

/// What decoding may still allocate: charged before each reservation, refused past the limit.
struct Budget {
    used: u64,
    limit: u64,
}

impl Budget {
    fn for_blob(len: usize) -> Budget {
        let limit = (DECODE_MEMORY_FACTOR as u64)
            .saturating_mul(len as u64)
            .saturating_add(DECODE_MEMORY_SLACK as u64);
        Budget { used: 0, limit }
    }

    /// Charges `count` values of `T` (saturating: a count that overflows is over any limit).
    fn charge<T>(&mut self, count: usize) -> Result<()> {
        self.bytes((count as u64).saturating_mul(std::mem::size_of::<T>() as u64))
    }

    fn bytes(&mut self, bytes: u64) -> Result<()> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(Error::TooLarge { needed: self.used, limit: self.limit });
        }
        Ok(())
    }

    /// Returns what a dropped temporary held.
    fn refund<T>(&mut self, count: usize) {
        self.used = self.used.saturating_sub((count as u64).saturating_mul(std::mem::size_of::<T>() as u64));
    }
}

/// A bounds-checked cursor over one section.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn err(&self, msg: &str) -> Error {
        Error::Malformed(format!("section {}: {msg} at byte {}", self.what, self.pos))
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64> {
        // Most numbers (row lengths, deltas) fit in one byte.
        if let Some(&b) = self.buf.get(self.pos).filter(|&&b| b < 0x80) {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.varint_long()
    }

    fn varint_long(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("ends inside a number"));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(self.err("number overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("number overflows 64 bits"))
    }

    #[inline(always)]
    fn u32(&mut self) -> Result<u32> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.err("number exceeds 32 bits"))
    }

    /// A count of items that each take at least `min_bytes` bytes: bounded by what is left.
    #[inline(always)]
    fn count(&mut self, min_bytes: usize) -> Result<usize> {
        let v = self.varint()?;
        // (No division for the common case: it ran once per row of every column.)
        if v > self.left() as u64 || (min_bytes > 1 && v > (self.left() / min_bytes) as u64) {
            return Err(self.err(&format!("count {v} exceeds the bytes left")));
        }
        Ok(v as usize)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("too short"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn end(&self) -> Result<()> {
        if self.pos != self.buf.len() { Err(self.err("has unread bytes")) } else { Ok(()) }
    }

    /// `m` strings: m varint lengths, then the bytes.
    fn strings(&mut self, m: usize, budget: &mut Budget) -> Result<Strings> {
        let (offs, total) = self.offsets(m, budget, "string lengths exceed the section")?;
        let raw = self.take(total)?;
        budget.charge::<u8>(raw.len())?;
        let bytes = std::str::from_utf8(raw).map_err(|_| self.err("text is not UTF-8"))?;
        if offs.iter().any(|&o| !bytes.is_char_boundary(o as usize)) {
            return Err(self.err("a string boundary splits a character"));
        }
        Ok(Strings { bytes: bytes.to_string(), offs })
    }

    /// `n` varint counts, as `n + 1` offsets from 0, and their sum (`too_many` is the refusal
    /// when the sum passes 32 bits).
    fn offsets(&mut self, n: usize, budget: &mut Budget, too_many: &str) -> Result<(Vec<u32>, usize)> {
        if n > self.left() {
            return Err(self.err("more rows than bytes"));
        }
        budget.charge::<u32>(n + 1)?;
        let mut offs = Vec::with_capacity(n + 1);
        offs.push(0u32);
        let mut sum = 0usize;
        for _ in 0..n {
            // Checked: on wasm32 `usize` is 32 bits, and n counts of up to 1 GiB each could wrap.
            sum = sum.checked_add(self.count(1)?).ok_or_else(|| self.err(too_many))?;
            offs.push(u32::try_from(sum).map_err(|_| self.err(too_many))?);
        }
        Ok((offs, sum))
    }

    /// `m` f32 values stored as byte planes.
    fn planes(&mut self, m: usize, budget: &mut Budget) -> Result<Vec<f32>> {
        let raw = self.take(m.checked_mul(4).ok_or_else(|| self.err("too many numbers"))?)?;
        budget.charge::<f32>(m)?;
        Ok((0..m).map(|i| f32::from_le_bytes([raw[i], raw[m + i], raw[2 * m + i], raw[3 * m + i]])).collect())
    }

    fn csr(
        &mut self,
        n: usize,
        budget: &mut Budget,
        bad: &str,
        delta: impl Fn(Option<u32>, u64) -> Option<u32>,
    ) -> Result<Csr> {
        let total = self.count(1)?;
        if total == 0 {
            return Ok(Csr::default());
        }
        let (offs, sum) = self.offsets(n, budget, "too many values")?;
        if sum != total || total > self.left() {
            return Err(self.err("row lengths do not add up"));
        }
        budget.charge::<u32>(total)?;
        let mut vals = Vec::with_capacity(total);
        for w in offs.windows(2) {
            let mut prev = None;
            for _ in w[0]..w[1] {
                let d = self.varint()?;
                let v = delta(prev, d).ok_or_else(|| self.err(bad))?;
                vals.push(v);
                prev = Some(v);
            }
        }
        Ok(Csr { offs, vals })
    }
}

/// bincode's standard variable-length integer (what [`config`] writes for lengths and ids):
/// below 251 one byte, else a marker (251, 252, 253) and a 2-, 4- or 8-byte little-endian value.
fn bin_varint(r: &mut Reader<'_>, max_marker: u8) -> Result<u64> {
    let marker = r.take(1)?[0];
    let le = |b: &[u8]| b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x));
    match marker {
        0..=250 => Ok(u64::from(marker)),
        251..=253 if marker <= max_marker => {
            let width = 2usize << (marker - 251);
            Ok(le(r.take(width)?))
        }
        _ => Err(r.err("invalid integer marker")),
    }
}

/// The ten vocabularies, bincode (standard config) of `[Vec<Term>; FIELD_COUNT]`, read by hand
/// so that each term is charged to the budget before it is stored (bincode's own limit counts
/// string bytes only: an empty term is 2 bytes on the wire and a whole `Term` in memory).
fn vocabularies(bytes: &[u8], budget: &mut Budget) -> Result<[Vec<Term>; FIELD_COUNT]> {
    let mut r = Reader::new(bytes, "VOCB");
    let mut out: [Vec<Term>; FIELD_COUNT] = Default::default();
    for terms in &mut out {
        let len = bin_varint(&mut r, 253)?;
        // A term takes at least 2 bytes (an id and a name length).
        if len > (r.left() / 2) as u64 {
            return Err(r.err(&format!("{len} terms exceed the bytes left")));
        }
        let len = len as usize;
        budget.charge::<Term>(len)?;
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            let id = bin_varint(&mut r, 252)?;
            let igdb_id = u32::try_from(id).map_err(|_| r.err("term id exceeds 32 bits"))?;
            let name_len = bin_varint(&mut r, 253)?;
            let name_len = usize::try_from(name_len).map_err(|_| r.err("term name too long"))?;
            let raw = r.take(name_len)?;
            let name = std::str::from_utf8(raw).map_err(|_| r.err("term name is not UTF-8"))?;
            budget.charge::<u8>(name.len())?;
            v.push(Term { igdb_id, name: name.to_owned() });
        }
        *terms = v;
    }
    r.end()?;
    Ok(out)
}

fn unbin<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    let (v, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| Error::Malformed(format!("section {what}: {e}")))?;
    if used != bytes.len() {
        return Err(Error::Malformed(format!("section {what}: {} unread bytes", bytes.len() - used)));
    }
    Ok(v)
}

/// Where each section lies in the payload, from its table: (tag, start, end), in table order.
pub(crate) struct Table(Vec<([u8; 4], usize, usize)>);

impl Table {
    /// Reads the section table at the start of a payload of `payload_len` bytes, of which
    /// `head` holds the first ones (all of them, or at least the table: see [`Table::len_in`]).
    fn read(head: &[u8], payload_len: usize, budget: &mut Budget) -> Result<Table> {
        let mut table = Reader::new(head, "table");
        let count = u32::from_le_bytes(
            table.take(4)?.try_into().map_err(|_| Error::Malformed("section table".into()))?,
        ) as usize;
        if count > payload_len.saturating_sub(4) / 12 {
            return Err(Error::Malformed(format!("section table announces {count} sections")));
        }
        budget.charge::<([u8; 4], usize, usize)>(count)?;
        let mut sections = Vec::with_capacity(count);
        for _ in 0..count {
            let e = table.take(12)?;
            let tag = [e[0], e[1], e[2], e[3]];
            let off = u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
            let len = u32::from_le_bytes([e[8], e[9], e[10], e[11]]) as usize;
            let end = off.checked_add(len).filter(|&end| end <= payload_len).ok_or_else(|| {
                Error::Malformed(format!(
                    "section {} lies outside the payload",
                    String::from_utf8_lossy(&tag)
                ))
            })?;
            sections.push((tag, off, end));
        }
        Ok(Table(sections))
    }

    /// How many bytes of the payload the table takes, once its first 4 are known.
    fn len_in(head: &[u8]) -> Option<usize> {
        let count = u32::from_le_bytes(head.get(..4)?.try_into().ok()?) as usize;
        count.checked_mul(12)?.checked_add(4)
    }

    /// The bytes of section `tag` (the first with that tag), read from `payload`.
    fn get<'a>(&self, payload: &'a [u8], tag: &[u8; 4], what: &'static str) -> Result<Reader<'a>> {
        self.0
            .iter()
            .find(|s| &s.0 == tag)
            .and_then(|s| payload.get(s.1..s.2))
            .map(|body| Reader::new(body, what))
            .ok_or_else(|| Error::Malformed(format!("section {what} is missing")))
    }

    /// Where the sections named `tags` end: the payload bytes needed to read them all (`None`
    /// when one is missing).
    fn end_of(&self, tags: &[[u8; 4]]) -> Option<usize> {
        tags.iter()
            .map(|t| self.0.iter().find(|s| &s.0 == t).map(|s| s.2))
            .try_fold(0, |m, e| Some(m.max(e?)))
    }
}

/// The sections [`decode_core`] reads: all but the titles' (`NAME`, `SLUG`, `COVR`, `ALTN`, read
/// by [`decode_names`]), which format 1.1 writes last so that a reader fed as the bytes arrive
/// can index the games while the titles are still on their way ([`Stream`]).
const CORE_SECTIONS: [[u8; 4]; 11 + FIELD_COUNT] = [
    *b"META", *b"PARM", *b"VOCB", *b"GAME", *b"FLAG", *b"YEAR", *b"RCNT", *b"RATE", *b"POPL", *b"GTYP",
    *b"SIMI", *b"F000", *b"F001", *b"F002", *b"F003", *b"F004", *b"F005", *b"F006", *b"F007", *b"F008",
    *b"F009",
];

/// Decodes a blob into its columnar [`Catalog`] (what the engine serves from), checking magic,
/// version, length, checksum and structure.
pub fn decode_catalog(bytes: &[u8]) -> Result<(Header, Catalog)> {
    let (header, payload) = verify(bytes)?;
    let budget = &mut Budget::for_blob(bytes.len());
    let table = Table::read(payload, payload.len(), budget)?;
    let mut cat = decode_core(&table, payload, budget)?;
    cat.validate_core()?;
    decode_names(&table, payload, budget, &mut cat)?;
    cat.validate_names()?;
    Ok((header, cat))
}

/// Everything but the titles, slugs, covers and alternative names (left empty): the columns
/// scoring reads.
fn decode_core(table: &Table, payload: &[u8], budget: &mut Budget) -> Result<Catalog> {
    let get = |tag: &[u8; 4], what: &'static str| table.get(payload, tag, what);
    let raw = |tag: &[u8; 4], what: &'static str| get(tag, what).map(|r| r.buf);
    // META and PARM go through bincode, which grows its containers as it reads: charged at a
    // multiple of their size that covers that (a metrics map entry is >= 10 bytes on the wire and
    // under 80 in a B-tree; a `Vec<f32>` peaks at 3x while it doubles).
    let meta = raw(b"META", "META")?;
    budget.bytes((meta.len() as u64).saturating_mul(8))?;
    let metadata: Metadata = unbin(meta, "META")?;
    let parm = raw(b"PARM", "PARM")?;
    budget.bytes((parm.len() as u64).saturating_mul(3))?;
    let params: Params = unbin(parm, "PARM")?;
    let vocab = vocabularies(raw(b"VOCB", "VOCB")?, budget)?;

    let mut r = get(b"GAME", "GAME")?;
    let n = r.count(1)?;
    budget.charge::<u32>(n)?;
    let mut ids = Vec::with_capacity(n);
    let mut prev = 0u32;
    for i in 0..n {
        let d = r.u32()?;
        if i > 0 && d == 0 {
            return Err(r.err("game ids not strictly ascending"));
        }
        prev = prev.checked_add(d).ok_or_else(|| r.err("game id exceeds 32 bits"))?;
        ids.push(prev);
    }
    r.end()?;
    let flags_raw = raw(b"FLAG", "FLAG")?;
    if flags_raw.len() != n {
        return Err(Error::Malformed(format!("section FLAG: {} bytes for {n} games", flags_raw.len())));
    }
    let with = |bit: u8| flags_raw.iter().filter(|&&f| f & bit != 0).count();

    let mut r = get(b"YEAR", "YEAR")?;
    if n > r.left() {
        return Err(r.err("more games than bytes"));
    }
    budget.charge::<u16>(n)?;
    let mut year = Vec::with_capacity(n);
    for _ in 0..n {
        year.push(u16::try_from(r.varint()?).map_err(|_| r.err("year exceeds 16 bits"))?);
    }
    r.end()?;
    let mut r = get(b"RCNT", "RCNT")?;
    if n > r.left() {
        return Err(r.err("more games than bytes"));
    }
    budget.charge::<u32>(n)?;
    let mut rating_count = Vec::with_capacity(n);
    for _ in 0..n {
        rating_count.push(r.u32()?);
    }
    r.end()?;
    let mut r = get(b"RATE", "RATE")?;
    let rated = with(RATING);
    let some = r.planes(rated, budget)?;
    r.end()?;
    budget.charge::<f32>(n)?;
    let mut some = some.into_iter();
    let rating: Vec<f32> = flags_raw
        .iter()
        .map(|&f| if f & RATING != 0 { some.next().unwrap_or(f32::NAN) } else { f32::NAN })
        .collect();
    if flags_raw.iter().zip(&rating).any(|(&f, r)| f & RATING != 0 && r.is_nan()) {
        return Err(Error::Malformed("section RATE: a rating is not a number".into()));
    }
    budget.refund::<f32>(rated);
    let mut r = get(b"POPL", "POPL")?;
    let popularity = r.planes(n, budget)?;
    r.end()?;
    let gt = raw(b"GTYP", "GTYP")?;
    if gt.len() != with(GAME_TYPE) {
        return Err(Error::Malformed("section GTYP: wrong length".into()));
    }
    budget.charge::<u8>(n)?; // game types
    budget.charge::<u8>(n)?; // flags
    let mut gt = gt.iter();
    let game_type: Vec<u8> = flags_raw
        .iter()
        .map(|&f| if f & GAME_TYPE != 0 { gt.next().copied().unwrap_or(255) } else { 255 })
        .collect();

    let mut features: [Csr; FIELD_COUNT] = Default::default();
    const TAGS: [[u8; 4]; FIELD_COUNT] =
        [*b"F000", *b"F001", *b"F002", *b"F003", *b"F004", *b"F005", *b"F006", *b"F007", *b"F008", *b"F009"];
    const WHAT: [&str; FIELD_COUNT] =
        ["F000", "F001", "F002", "F003", "F004", "F005", "F006", "F007", "F008", "F009"];
    for fi in 0..FIELD_COUNT {
        let mut r = get(&TAGS[fi], WHAT[fi])?;
        // Each row strictly ascending and inside its vocabulary, checked here as the terms are
        // read (the catalogue's own validation relies on it).
        let vocab_len = u32::try_from(vocab[fi].len()).unwrap_or(u32::MAX);
        let what = "term not ascending or outside the vocabulary";
        features[fi] = r.csr(n, budget, what, |prev, d| {
            let d = u32::try_from(d).ok()?;
            let v = match prev {
                None => Some(d),
                Some(p) if d > 0 => p.checked_add(d),
                Some(_) => None,
            };
            v.filter(|&v| v < vocab_len)
        })?;
        r.end()?;
    }
    let mut r = get(b"SIMI", "SIMI")?;
    let similar = r.csr(n, budget, "similar-game index out of range", |prev, d| {
        let delta = ((d >> 1) as i64) ^ -((d & 1) as i64);
        u32::try_from(i64::from(prev.unwrap_or(0)).checked_add(delta)?).ok()
    })?;
    r.end()?;

    let flags = flags_raw.iter().map(|f| f & (flag::COVER | flag::SLUG)).collect();
    Ok(Catalog {
        metadata,
        params,
        vocab,
        ids,
        flags,
        year,
        rating,
        rating_count,
        popularity,
        game_type,
        features,
        similar,
        ..Catalog::default()
    })
}

/// The titles, slugs, covers and alternative names of a catalogue [`decode_core`] read.
fn decode_names(table: &Table, payload: &[u8], budget: &mut Budget, cat: &mut Catalog) -> Result<()> {
    let get = |tag: &[u8; 4], what: &'static str| table.get(payload, tag, what);
    let n = cat.len();
    let flags_raw = &cat.flags;
    let with = |bit: u8| flags_raw.iter().filter(|&&f| f & bit != 0).count();
    let mut r = get(b"NAME", "NAME")?;
    let names = r.strings(n, budget)?;
    r.end()?;
    // Slugs and covers: stored only for flagged games; spread back to one entry per game.
    let spread = |tag: &[u8; 4], what: &'static str, bit: u8, budget: &mut Budget| -> Result<Strings> {
        let mut r = get(tag, what)?;
        let m = with(bit);
        let some = r.strings(m, budget)?;
        r.end()?;
        // The same bytes; per game an offset pair, empty for the games without the flag.
        budget.charge::<u32>(n + 1)?;
        let mut offs = Vec::with_capacity(n + 1);
        offs.push(0);
        let mut end = some.offs.iter().skip(1);
        let mut at = 0;
        for &f in flags_raw {
            if f & bit != 0 {
                at = end.next().copied().ok_or_else(|| r.err("fewer strings than flagged games"))?;
            }
            offs.push(at);
        }
        budget.refund::<u32>(m + 1);
        Ok(Strings { bytes: some.bytes, offs })
    };
    let slugs = spread(b"SLUG", "SLUG", flag::SLUG, budget)?;
    let covers = spread(b"COVR", "COVR", flag::COVER, budget)?;

    let mut r = get(b"ALTN", "ALTN")?;
    let (alt_offs, total) = r.offsets(n, budget, "too many names")?;
    let alts = r.strings(total, budget)?;
    r.end()?;

    cat.names = names;
    cat.slugs = slugs;
    cat.covers = covers;
    cat.alt_offs = alt_offs;
    cat.alts = alts;
    Ok(())
}

/// A blob read as its bytes arrive: once the sections scoring reads are all in (format 1.1 writes
/// the titles last), [`Stream::push`] decodes and checks them and hands that catalogue (titles
/// empty) over, once, so that its games can be indexed while the titles still download;
/// [`Stream::finish_names`] then checks the whole blob (length, checksum) and reads the titles.
///
/// Whatever the bytes and however they are cut, the outcome is [`decode_catalog`]'s on the whole
/// blob: the same catalogue, or the same error. Nothing is trusted before the checksum: the
/// early part is the same bounded, checked decoding, and its result is only used once the whole
/// blob has passed; on any doubt (a bad header or table, a section missing, a decoding error)
/// the stream stops reading early and the whole blob is decoded at the end instead, which
/// reports the error exactly as a one-shot decode does. The bytes are kept as they arrive (a
/// header's claimed length reserves nothing), and the early part's memory is allowed by the
/// bytes present ([`DECODE_MEMORY_FACTOR`] × them), never by a claimed length.
#[derive(Default)]
pub struct Stream {
    bytes: Vec<u8>,
    /// The table, read once the payload's first bytes are in, and the budget it was charged to.
    table: Option<(Table, Budget)>,
    /// `Some(false)`: the early part was handed over; `Some(true)`: reading early gave up.
    early_done: Option<bool>,
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// The bytes pushed so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends the next bytes. Returns the header and the catalogue without titles (checked by
    /// [`Catalog::validate_core`]) the first time every section it needs is in, else `None`.
    pub fn push(&mut self, chunk: &[u8]) -> Option<(Header, Catalog)> {
        self.bytes.extend_from_slice(chunk);
        if self.early_done.is_some() {
            return None;
        }
        match self.early() {
            Ok(Some(found)) => {
                self.early_done = Some(false);
                Some(found)
            }
            Ok(None) => None,
            Err(_) => {
                // Reported by the whole blob's decode at the end, exactly as one-shot.
                self.early_done = Some(true);
                self.table = None;
                None
            }
        }
    }

    /// The scoring part, once its sections are in (`Ok(None)`: not yet).
    fn early(&mut self) -> Result<Option<(Header, Catalog)>> {
        if self.bytes.len() < HEADER_LEN {
            return Ok(None);
        }
        let head = header(&self.bytes)?;
        let payload_len =
            usize::try_from(head.payload_len).map_err(|_| Error::Malformed("payload length".into()))?;
        let payload = &self.bytes[HEADER_LEN..];
        if payload.len() > payload_len {
            return Err(Error::Malformed("trailing bytes".into()));
        }
        if self.table.is_none() {
            match payload.get(..4).and_then(|_| Table::len_in(payload)) {
                Some(len) if len <= payload.len() => {
                    // Memory is allowed by the bytes present, never by a length a header claims.
                    let mut budget = Budget::for_blob(self.bytes.len());
                    let table = Table::read(payload, payload_len, &mut budget)?;
                    self.table = Some((table, budget));
                }
                Some(len) if len > payload_len => return Err(Error::Malformed("section table".into())),
                _ => return Ok(None),
            }
        }
        let Some((table, budget)) = self.table.as_mut() else { return Ok(None) };
        let end =
            table.end_of(&CORE_SECTIONS).ok_or_else(|| Error::Malformed("a section is missing".into()))?;
        if payload.len() < end {
            return Ok(None);
        }
        // Bounded by what has arrived (a smaller allowance than the whole blob's: what it refuses
        // the whole blob's decode at the end decides, as one-shot does).
        budget.limit = Budget::for_blob(self.bytes.len()).limit;
        let cat = decode_core(table, payload, budget)?;
        cat.validate_core()?;
        Ok(Some((head, cat)))
    }

    /// Once every byte is in: checks the whole blob as [`verify`] does and reads the titles into
    /// `cat`, the catalogue [`Stream::push`] handed over. Errors are [`decode_catalog`]'s on the
    /// whole blob. Only for a stream whose `push` returned a catalogue.
    pub fn finish_names(&mut self, cat: &mut Catalog) -> Result<()> {
        let whole = || decode_catalog(&self.bytes).err();
        let (_, payload) = verify(&self.bytes)?;
        let Some((table, budget)) = self.table.as_mut() else {
            return Err(whole().unwrap_or_else(|| Error::Malformed("blob read without its table".into())));
        };
        // The whole blob is in: the one-shot decode's allowance.
        budget.limit = Budget::for_blob(self.bytes.len()).limit;
        if let Err(e) = decode_names(table, payload, budget, cat).and_then(|()| cat.validate_names()) {
            return Err(whole().unwrap_or(e));
        }
        Ok(())
    }
}

/// Decodes a blob into an owned [`Model`], checking magic, version, length and checksum.
pub fn decode(bytes: &[u8]) -> Result<Model> {
    Ok(decode_catalog(bytes)?.1.to_model())
}
