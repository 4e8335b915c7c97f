//! The bucket: `file://` and `gs://` stores, the object layout, publish / rollback / status, and
//! the release gate that decides whether a new model may replace the live one.

pub mod gate;
pub mod publish;

pub(crate) use playalike_base::exit;
