//! kulanz's own lock on the data directory, beside sled's lock on its `db` file.
//!
//! Why a second lock: a compaction (store/compact) must close sled before it swaps sled's
//! files, and no other process may open the directory in between; sled's lock is gone by
//! then. An open store holds this lock (exclusive, `flock` on the directory) for its
//! lifetime and a compaction holds it from its first read to the end of the swap.

use super::StoreError;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// A held lock; clones share it, and it is released when the last clone is dropped.
#[derive(Clone)]
pub struct DirLock {
    /// Never read: holding the open directory is what holds the `flock`.
    _held: Arc<File>,
}

/// What a busy directory is reported as: the same words as sled's own lock, since the
/// remedy is the same.
pub(super) const IN_USE: &str =
    "the data directory is in use by another kulanz process (stop the server first)";

impl DirLock {
    /// Take the lock on `dir`, waiting up to a second: a store this process has just
    /// dropped may still be closing.
    pub fn take(dir: &Path) -> Result<DirLock, StoreError> {
        let failed = |reason: String| StoreError::Open {
            dir: dir.display().to_string(),
            reason,
        };
        let file = File::open(dir).map_err(|e| failed(e.to_string()))?;
        for _ in 0..20 {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(DirLock {
                        _held: Arc::new(file),
                    })
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(failed(e.to_string())),
            }
        }
        Err(failed(IN_USE.to_string()))
    }
}
