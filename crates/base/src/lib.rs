//! What every playalike builder crate shares and nothing else: the exit-code tags that let a
//! library error tell the `playalike` binary which exit code it deserves.

pub mod exit;
