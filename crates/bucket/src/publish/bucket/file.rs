//! The `file://DIR` backend: the bucket layout in a local folder, with the same preconditions as
//! Cloud Storage.
//!
//! Writes go to a hidden temporary file beside the target, are synced, then renamed over it, so a
//! reader (or a static file server) never sees a half-written object. The generation of an object
//! is derived from its content (the first 63 bits of its SHA-256, never 0), so no sidecar file can
//! drift out of step with the data after a crash. Conditional writes hold an exclusive OS lock on
//! `DIR/.playalike.lock` while they compare and rename: two local publishers cannot both win, and
//! the OS drops the lock when a process dies, so a crash never leaves the folder locked.

use super::{ObjectInfo, Put, StoreError};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Component, Path, PathBuf};

const LOCK_FILE: &str = ".playalike.lock";

/// A local folder used as a bucket.
pub struct FileStore {
    dir: PathBuf,
    public_url: Option<String>,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Other(format!("{what} {}: {e}", path.display()))
}

/// The generation of a content: 63 bits of its SHA-256, never 0 (0 means "absent").
pub fn content_generation(bytes: &[u8]) -> i64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let g = (u64::from_be_bytes(first) >> 1) as i64;
    if g == 0 { 1 } else { g }
}

impl FileStore {
    /// Opens the folder; creates it when `create` is set, else a missing folder is
    /// [`StoreError::NoBucket`].
    pub fn open(dir: &Path, public_url: Option<String>, create: bool) -> Result<FileStore, StoreError> {
        let target = format!("file://{}", dir.display());
        if !dir.is_dir() {
            if !create {
                return Err(StoreError::NoBucket {
                    target,
                    hint: " (no such folder; publish creates it)".into(),
                });
            }
            fs::create_dir_all(dir).map_err(|e| io_err("could not create the bucket folder", dir, e))?;
        }
        Ok(FileStore {
            dir: dir.to_path_buf(),
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
        })
    }

    fn path_of(&self, name: &str) -> Result<PathBuf, StoreError> {
        let rel = Path::new(name);
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if name.is_empty() || !plain {
            return Err(StoreError::Other(format!("invalid object name `{name}`")));
        }
        Ok(self.dir.join(rel))
    }

    pub fn get(&self, name: &str, max: u64) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        use std::io::Read;
        let path = self.path_of(name)?;
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("could not read", &path, e)),
        };
        // Read at most one byte past the cap: the file may grow between a size check and the read.
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| io_err("could not read", &path, e))?;
        if bytes.len() as u64 > max {
            return Err(super::too_large(&format!("{}", path.display()), max));
        }
        let g = content_generation(&bytes);
        Ok(Some((bytes, g)))
    }

    pub fn stat(&self, name: &str) -> Result<Option<ObjectInfo>, StoreError> {
        Ok(self.get(name, super::super::layout::MAX_BLOB)?.map(|(bytes, generation)| ObjectInfo {
            name: name.to_string(),
            generation,
            size: bytes.len() as u64,
        }))
    }

    pub fn put(&self, put: &Put<'_>) -> Result<i64, StoreError> {
        let path = self.path_of(put.name)?;
        let lock_path = self.dir.join(LOCK_FILE);
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("could not open the lock file", &lock_path, e))?;
        lock.lock().map_err(|e| io_err("could not lock", &lock_path, e))?;
        // From here until `lock` drops, no other publisher can compare or rename.
        let current = self.stat(put.name)?.map(|i| i.generation).unwrap_or(0);
        if current != put.if_generation_match {
            return Err(StoreError::PreconditionFailed {
                target: format!("file://{}", self.dir.display()),
                name: put.name.to_string(),
                expected: put.if_generation_match,
            });
        }
        let parent = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent).map_err(|e| io_err("could not create", parent, e))?;
        playalike_base::fs::write_atomic(&path, put.bytes, None)
            .map_err(|e| io_err("could not write", &path, e))?;
        drop(lock);
        Ok(content_generation(put.bytes))
    }

    pub fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(dir) = stack.pop() {
            let entries = fs::read_dir(&dir).map_err(|e| io_err("could not list", &dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| io_err("could not list", &dir, e))?;
                let path = entry.path();
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue; // the lock file and temporary files
                }
                let kind = entry.file_type().map_err(|e| io_err("could not stat", &path, e))?;
                if kind.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(rel) = path.strip_prefix(&self.dir) else { continue };
                let name =
                    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                if name.starts_with(prefix) {
                    let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                    out.push(ObjectInfo { name, generation: 0, size });
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        let path = self.path_of(name)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("could not delete", &path, e)),
        }
        // Remove folders left empty (models/vN/), never the bucket folder itself.
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == self.dir || fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    pub fn public_url(&self, name: &str) -> Option<String> {
        self.public_url.as_ref().map(|base| format!("{base}/{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Encoding;
    use super::*;

    fn put<'a>(name: &'a str, bytes: &'a [u8], g: i64) -> Put<'a> {
        Put {
            name,
            bytes,
            content_type: "application/json",
            cache_control: "no-cache",
            encoding: Encoding::Identity,
            if_generation_match: g,
        }
    }

    #[test]
    fn create_only_and_compare_and_swap() {
        let tmp = tempfile::tempdir().unwrap();
        let s = FileStore::open(tmp.path(), None, false).unwrap();
        let g1 = s.put(&put("a/b.json", b"one", 0)).unwrap();
        assert_eq!(s.get("a/b.json", 100).unwrap(), Some((b"one".to_vec(), g1)));
        // Create-only refuses an existing object.
        assert!(matches!(s.put(&put("a/b.json", b"two", 0)), Err(StoreError::PreconditionFailed { .. })));
        // A stale generation loses; the current one wins.
        let g2 = s.put(&put("a/b.json", b"two", g1)).unwrap();
        assert_ne!(g1, g2);
        assert!(matches!(s.put(&put("a/b.json", b"three", g1)), Err(StoreError::PreconditionFailed { .. })));
        assert_eq!(s.get("a/b.json", 100).unwrap().unwrap().0, b"two");
        let names: Vec<_> = s.list("a/").unwrap().into_iter().map(|o| o.name).collect();
        assert_eq!(names, ["a/b.json"]);
        s.delete("a/b.json").unwrap();
        assert_eq!(s.get("a/b.json", 100).unwrap(), None);
        assert!(!tmp.path().join("a").exists(), "empty folders are removed");
        assert!(tmp.path().exists());
    }

    #[test]
    fn refuses_escaping_names_and_missing_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let s = FileStore::open(tmp.path(), None, false).unwrap();
        assert!(s.put(&put("../x", b"1", 0)).is_err());
        assert!(s.put(&put("/abs", b"1", 0)).is_err());
        let missing = tmp.path().join("nope");
        assert!(matches!(FileStore::open(&missing, None, false), Err(StoreError::NoBucket { .. })));
        assert!(FileStore::open(&missing, None, true).is_ok());
    }

    #[test]
    fn racing_threads_exactly_one_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let results: Vec<bool> = (0..8)
            .map(|i| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let s = FileStore::open(&dir, None, false).unwrap();
                    let body = format!("writer {i}");
                    s.put(&put("latest.json", body.as_bytes(), 0)).is_ok()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(results.iter().filter(|w| **w).count(), 1, "{results:?}");
    }
}
