//! Telling a damaged data directory from a new one. sled 0.34 treats an unreadable log as
//! a torn write and opens what it could read: garbage over `db` opens as an empty store.
//! A marker written and flushed when the store is created makes that an error instead.

use super::StoreError;
use std::path::Path;

/// Key in the `meta` tree; present in every store this version has opened.
pub(super) const MARKER: &[u8] = b"store_created";

/// Whether `dir` already holds a sled log with content (looked at before opening).
pub fn has_log(dir: &Path) -> bool {
    std::fs::metadata(dir.join("db")).is_ok_and(|m| m.len() > 0)
}

/// After opening: a store with a log but neither the marker nor any record lost its
/// contents; a new store gets the marker, flushed at once so a later crash keeps it.
pub fn check(
    dir: &Path,
    had_log: bool,
    db: &sled::Db,
    meta: &sled::Tree,
    trees: &[&sled::Tree],
) -> Result<(), StoreError> {
    if meta.contains_key(MARKER)? {
        return Ok(());
    }
    // INVARIANT: every kulanz store that was ever used holds a record (a key, a policy),
    // so a store from before the marker existed is recognised by its contents.
    let empty = meta.is_empty() && trees.iter().all(|t| t.is_empty());
    if had_log && empty {
        return Err(StoreError::Open {
            dir: dir.display().to_string(),
            reason: "the data directory is damaged: sled found its log but no readable \
                     record (restore it from a backup, or move it away to start empty)"
                .to_string(),
        });
    }
    meta.insert(MARKER, chrono::Utc::now().to_rfc3339().as_bytes())?;
    db.flush()?;
    Ok(())
}
