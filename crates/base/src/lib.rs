//! What every playalike builder crate shares and nothing else: the exit-code tags that let a
//! library error tell the `playalike` binary which exit code it deserves, the one atomic file
//! write, the one seeded generator, HTML escaping and the progress bars.

pub mod exit;
pub mod fs;
pub mod html;
pub mod progress;
pub mod rng;
