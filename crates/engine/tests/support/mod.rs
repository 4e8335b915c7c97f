//! Blob surgery shared by the engine's integration tests: re-laying out sections and re-sealing
//! a payload with a valid header, so that a crafted body reaches the section decoder.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses its own subset

use playalike_engine::format;

/// Re-seals a payload with a valid header so that mutations reach the section decoder.
pub fn reseal(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&format::MAGIC);
    out.extend_from_slice(&format::FORMAT_MAJOR.to_le_bytes());
    out.extend_from_slice(&format::FORMAT_MINOR.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast_hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// CRC-32 (IEEE), bitwise: the test's own, independent of the engine's dependency.
pub fn crc32fast_hash(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A payload with one section's body replaced (the table re-laid out to match).
pub fn with_section(payload: &[u8], tag: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let count = u32::from_le_bytes(payload[..4].try_into().unwrap()) as usize;
    let mut sections: Vec<([u8; 4], Vec<u8>)> = (0..count)
        .map(|i| {
            let e = &payload[4 + 12 * i..16 + 12 * i];
            let off = u32::from_le_bytes(e[4..8].try_into().unwrap()) as usize;
            let len = u32::from_le_bytes(e[8..12].try_into().unwrap()) as usize;
            (e[..4].try_into().unwrap(), payload[off..off + len].to_vec())
        })
        .collect();
    sections.iter_mut().filter(|s| &s.0 == tag).for_each(|s| s.1 = body.to_vec());
    let mut out = (count as u32).to_le_bytes().to_vec();
    let mut at = 4 + 12 * count;
    for (t, b) in &sections {
        out.extend_from_slice(t);
        out.extend_from_slice(&(at as u32).to_le_bytes());
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        at += b.len();
    }
    sections.iter().for_each(|s| out.extend_from_slice(&s.1));
    out
}
