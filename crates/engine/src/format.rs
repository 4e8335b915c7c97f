//! The model blob: the only code that writes or reads the on-disk/on-wire format.
//!
//! Layout (all integers little-endian):
//! ```text
//! magic    8 bytes  b"PLAYALKE"
//! major    u16      incompatible changes bump this; readers refuse a newer major
//! minor    u16      compatible additions
//! length   u64      payload length in bytes
//! crc32    u32      CRC-32 (IEEE) of the payload
//! payload  length bytes
//! ```
//! Format 0.x (this first version) stores the payload as bincode (serde) of [`Model`]; the
//! packed, borrow-friendly section layout replaces it in format 1.

use crate::error::{Error, Result};
use crate::model::Model;

/// Magic bytes every blob starts with.
pub const MAGIC: [u8; 8] = *b"PLAYALKE";
/// Major format version written by this engine (and the newest it reads).
pub const FORMAT_MAJOR: u16 = 0;
/// Minor format version written by this engine.
pub const FORMAT_MINOR: u16 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 8 + 2 + 2 + 8 + 4;
/// Largest payload the decoder accepts (1 GiB), so a forged length cannot make it allocate.
pub const MAX_PAYLOAD: u64 = 1 << 30;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<{ 1 << 30 }>()
}

/// Encodes a model into a blob.
pub fn encode(model: &Model) -> Result<Vec<u8>> {
    let payload = bincode::serde::encode_to_vec(model, config()).map_err(|e| Error::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
    out.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

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

/// Reads and checks the header and the checksum; returns the header and the payload slice.
pub fn verify(bytes: &[u8]) -> Result<(Header, &[u8])> {
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
    let payload_len = u64::from_le_bytes(read_array(bytes, 12)?);
    let crc = u32::from_le_bytes(read_array(bytes, 20)?);
    if payload_len > MAX_PAYLOAD {
        return Err(Error::Malformed(format!("payload length {payload_len} exceeds the 1 GiB limit")));
    }
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

/// Decodes a blob into an owned [`Model`], checking magic, version, length and checksum.
pub fn decode(bytes: &[u8]) -> Result<Model> {
    let (_, payload) = verify(bytes)?;
    let (model, used): (Model, usize) =
        bincode::serde::decode_from_slice(payload, config()).map_err(|e| Error::Malformed(e.to_string()))?;
    if used != payload.len() {
        return Err(Error::Malformed(format!("{} unread payload bytes", payload.len() - used)));
    }
    crate::validate::validate(&model)?;
    Ok(model)
}
