//! What every playalike builder crate shares and nothing else: the exit-code tags that let a
//! library error tell the `playalike` binary which exit code it deserves, the one atomic file
//! write and the one seeded generator.

pub mod exit;
pub mod fs;
pub mod rng;
