//! Putting the compacted copy of sled's files in place of the old ones, so that a crash at
//! any point leaves either the old store or the new one, never a mix.
//!
//! The copy is built in `DIR/compact.new`. Its state is told by a marker file in it:
//! - no marker: the copy is incomplete; the next open removes it, the old files stay;
//! - `READY`: the copy is complete and verified; the old sled files are being removed;
//! - `MOVING`: the old files are gone; the new ones are being moved up into `DIR`.
//!
//! Every step is a rename or a removal that can be repeated, so `recover` (run under the
//! directory lock at every open) finishes what a crash interrupted. Only sled's own files
//! (`conf`, `db`, `snap.*`, `blobs/`) are touched: the decision log stays where it is.

use crate::store::StoreError;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, Instant};

/// The folder the compacted copy is built in, inside the data directory.
pub const NEW: &str = "compact.new";
const READY: &str = "READY";
const MOVING: &str = "MOVING";

fn fail(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Compact(format!("{what} `{}`: {e}", path.display()))
}

/// Whether a name directly in the data directory is one of sled's files or folders.
fn is_sleds(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name == "db" || name == "conf" || name == "blobs" || name.starts_with("snap.")
}

/// Make a folder's entries (new, renamed, removed files) durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail("sync", dir, e))
}

/// The bytes sled's files take in `dir` (the decision log and anything else not counted).
pub fn sled_bytes(dir: &Path) -> Result<u64, StoreError> {
    fn size(path: &Path) -> std::io::Result<u64> {
        let meta = fs::symlink_metadata(path)?;
        if !meta.is_dir() {
            return Ok(meta.len());
        }
        let mut total = 0;
        for entry in fs::read_dir(path)? {
            total += size(&entry?.path())?;
        }
        Ok(total)
    }
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| fail("list", dir, e))? {
        let entry = entry.map_err(|e| fail("list", dir, e))?;
        if is_sleds(&entry.file_name()) {
            total += size(&entry.path()).map_err(|e| fail("measure", &entry.path(), e))?;
        }
    }
    Ok(total)
}

/// Wait until no process (this one included) holds sled's lock on `dir/db`: the lock
/// goes with sled's last thread, after which nothing writes to its files any more.
pub fn wait_closed(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join("db");
    let file = File::open(&path).map_err(|e| fail("open", &path, e))?;
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        match file.try_lock() {
            // Released when `file` is dropped, at once.
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Compact(format!(
                    "sled did not close `{}` within 30 s",
                    path.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail("lock", &path, e)),
        }
    }
}

/// Finish or undo a compaction a crash interrupted. Runs before sled opens `dir`, under
/// the directory lock.
pub fn recover(dir: &Path) -> Result<(), StoreError> {
    let new = dir.join(NEW);
    if !new.exists() {
        return Ok(());
    }
    if new.join(READY).exists() || new.join(MOVING).exists() {
        tracing::warn!("finishing a compaction that was cut short");
        return commit(dir);
    }
    discard(dir)
}

/// Remove an incomplete copy.
pub fn discard(dir: &Path) -> Result<(), StoreError> {
    let new = dir.join(NEW);
    match fs::remove_dir_all(&new) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(fail("remove", &new, e)),
        _ => sync_dir(dir),
    }
}

/// Mark the copy in `dir/compact.new` complete (its files must be closed and synced),
/// then put it in place of the old sled files.
pub fn commit(dir: &Path) -> Result<(), StoreError> {
    let new = dir.join(NEW);
    let (ready, moving) = (new.join(READY), new.join(MOVING));
    if !moving.exists() {
        if !ready.exists() {
            sync_dir(&new)?;
            if new.join("blobs").exists() {
                sync_dir(&new.join("blobs"))?;
            }
            File::create(&ready)
                .and_then(|f| f.sync_all())
                .map_err(|e| fail("create", &ready, e))?;
            sync_dir(&new)?;
        }
        // INVARIANT: from here on the copy is the store; the old files only go.
        for entry in fs::read_dir(dir).map_err(|e| fail("list", dir, e))? {
            let entry = entry.map_err(|e| fail("list", dir, e))?;
            if !is_sleds(&entry.file_name()) {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(|e| fail("remove", &path, e))?;
        }
        sync_dir(dir)?;
        fs::rename(&ready, &moving).map_err(|e| fail("rename", &ready, e))?;
        sync_dir(&new)?;
    }
    for entry in fs::read_dir(&new).map_err(|e| fail("list", &new, e))? {
        let entry = entry.map_err(|e| fail("list", &new, e))?;
        let name = entry.file_name();
        if is_sleds(&name) {
            fs::rename(entry.path(), dir.join(&name))
                .map_err(|e| fail("move", &entry.path(), e))?;
        }
    }
    sync_dir(dir)?;
    fs::remove_file(&moving).map_err(|e| fail("remove", &moving, e))?;
    fs::remove_dir(&new).map_err(|e| fail("remove", &new, e))?;
    sync_dir(dir)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A data directory with old sled files, the decision log, and a copy in the making
    /// whose files say `new`.
    fn half_done(marker: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in ["db", "conf", "snap.0000000000000AB0", "decisions.kdlog"] {
            fs::write(d.join(name), b"old").unwrap();
        }
        fs::create_dir(d.join("blobs")).unwrap();
        fs::write(d.join("blobs").join("7"), b"old").unwrap();
        let new = d.join(NEW);
        fs::create_dir_all(new.join("blobs")).unwrap();
        for name in ["db", "conf", "snap.0000000000000C00"] {
            fs::write(new.join(name), b"new").unwrap();
        }
        if let Some(m) = marker {
            fs::write(new.join(m), b"").unwrap();
        }
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_incomplete_copy_is_removed_and_the_old_files_stay() {
        let dir = half_done(None);
        recover(dir.path()).unwrap();
        assert_eq!(
            names(dir.path()),
            [
                "blobs",
                "conf",
                "db",
                "decisions.kdlog",
                "snap.0000000000000AB0"
            ]
        );
        assert_eq!(fs::read(dir.path().join("db")).unwrap(), b"old");
        assert_eq!(
            fs::read(dir.path().join("blobs").join("7")).unwrap(),
            b"old"
        );
    }

    #[test]
    fn a_ready_copy_replaces_the_old_files_and_the_log_stays() {
        let dir = half_done(Some(READY));
        // A crash while the old files were being removed.
        fs::remove_file(dir.path().join("conf")).unwrap();
        recover(dir.path()).unwrap();
        let d = dir.path();
        assert_eq!(
            names(d),
            [
                "blobs",
                "conf",
                "db",
                "decisions.kdlog",
                "snap.0000000000000C00"
            ]
        );
        assert_eq!(fs::read(d.join("db")).unwrap(), b"new");
        assert_eq!(fs::read(d.join("conf")).unwrap(), b"new");
        assert!(names(&d.join("blobs")).is_empty());
        assert_eq!(fs::read(d.join("decisions.kdlog")).unwrap(), b"old");
    }

    #[test]
    fn a_move_cut_short_is_finished() {
        let dir = half_done(Some(MOVING));
        let d = dir.path();
        // The old files are gone and the `db` was already moved up when the crash came.
        for name in ["conf", "snap.0000000000000AB0"] {
            fs::remove_file(d.join(name)).unwrap();
        }
        fs::remove_dir_all(d.join("blobs")).unwrap();
        fs::rename(d.join(NEW).join("db"), d.join("db")).unwrap();
        recover(d).unwrap();
        assert_eq!(
            names(d),
            [
                "blobs",
                "conf",
                "db",
                "decisions.kdlog",
                "snap.0000000000000C00"
            ]
        );
        assert_eq!(fs::read(d.join("db")).unwrap(), b"new");
        assert_eq!(fs::read(d.join("snap.0000000000000C00")).unwrap(), b"new");
    }

    #[test]
    fn sled_bytes_counts_sleds_files_only() {
        let dir = half_done(None);
        // db, conf, snap, blobs/7: three bytes each; the log and the copy are not counted.
        assert_eq!(sled_bytes(dir.path()).unwrap(), 12);
    }
}
