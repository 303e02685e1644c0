//! Compaction: rewriting sled's files so that erased records are gone from the disk, not
//! only from the answers.
//!
//! Why: sled is log-structured. A removed or replaced value stays in the segments of its
//! `db` file until sled's own garbage collection happens to rewrite that segment, which
//! may be never. Erasure (store/customers.rs) removes the records and counts itself in
//! `meta`; a compaction copies every live entry into a fresh sled in
//! `DIR/compact.new`, checks the copy entry by entry, and swaps it in (swap.rs). The
//! decision log needs none of this: erasure zeroes its superseded frames in place.
//!
//! Offline only: it holds the data directory's lock throughout, so the server must be
//! stopped (`kulanz store compact`), or it runs while the server starts
//! (`startup.rs`, when erasures are waiting). Online compaction would need every handle
//! to the store to follow a swap of the `sled::Db` under it (docs/operations.md).

pub mod swap;

use super::dir_lock::DirLock;
use super::{Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Key in `meta`: erasures since the last compaction (u64, big-endian). Not copied, so a
/// compacted store has none.
const ERASURES_PENDING: &[u8] = b"erasures_pending";

/// What a compaction did.
#[derive(Debug, Clone, Serialize)]
pub struct Compacted {
    /// Erasures the compaction made final.
    pub erasures: u64,
    pub trees: usize,
    pub entries: u64,
    /// Sled's files before and after (the decision log is not counted: it is not rewritten).
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub millis: u64,
}

/// Per tree: entries and a CRC-32 over every key and value in key order.
type Digest = BTreeMap<Vec<u8>, (u64, u32)>;

fn add(h: &mut crc32fast::Hasher, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

impl Store {
    /// An erasure removed something: sled's files hold it until the next compaction.
    pub(super) fn note_erasure(&self) -> Result<(), StoreError> {
        self.meta.update_and_fetch(ERASURES_PENDING, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            Some(n.saturating_add(1).to_be_bytes().to_vec())
        })?;
        Ok(())
    }

    /// Erasures since the last compaction.
    pub fn erasures_pending(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(ERASURES_PENDING)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Copy every entry (but the erasure count) into a new sled at `to`; the digest of
    /// what was copied.
    fn copy_into(&self, to: &Path) -> Result<Digest, StoreError> {
        let new = sled::Config::new()
            .path(to)
            .mode(sled::Mode::HighThroughput)
            .create_new(true)
            .open()?;
        let mut digest = Digest::new();
        for name in self.db.tree_names() {
            let (from, into) = (self.db.open_tree(&name)?, new.open_tree(&name)?);
            let (mut n, mut h) = (0u64, crc32fast::Hasher::new());
            for item in from.iter() {
                let (k, v) = item?;
                if name.as_ref() == b"meta" && k.as_ref() == ERASURES_PENDING {
                    continue;
                }
                add(&mut h, &k);
                add(&mut h, &v);
                into.insert(k, v)?;
                n += 1;
            }
            digest.insert(name.to_vec(), (n, h.finalize()));
        }
        new.flush()?;
        Ok(digest)
    }
}

/// Read the copy at `dir` back and compare it with what was copied.
fn verify(dir: &Path, expected: &Digest) -> Result<(), StoreError> {
    let db = sled::Config::new().path(dir).open()?;
    let mut found = Digest::new();
    for name in db.tree_names() {
        let (mut n, mut h) = (0u64, crc32fast::Hasher::new());
        for item in db.open_tree(&name)?.iter() {
            let (k, v) = item?;
            add(&mut h, &k);
            add(&mut h, &v);
            n += 1;
        }
        found.insert(name.to_vec(), (n, h.finalize()));
    }
    drop(db);
    swap::wait_closed(dir)?;
    if &found != expected {
        return Err(StoreError::Compact(
            "the copy does not read back as written; the store is unchanged".into(),
        ));
    }
    Ok(())
}

/// Rewrite the sled files of the store in `dir` so that they hold only live entries.
/// The store must not be open anywhere (the directory lock tells). A failure before the
/// swap leaves the old files as they were; a crash during it is finished at the next open.
pub fn compact(dir: &Path) -> Result<Compacted, StoreError> {
    let started = Instant::now();
    let lock = DirLock::take(dir)?;
    // Before sled opens them: opening can grow the files.
    let bytes_before = swap::sled_bytes(dir)?;
    // Through the store's own open: a damaged directory is refused, not copied half.
    let store = Store::open_locked(dir, lock.clone())?;
    let erasures = store.erasures_pending()?;
    let copy_dir = dir.join(swap::NEW);
    let copied = store.copy_into(&copy_dir);
    drop(store);
    let done = copied.and_then(|digest| {
        swap::wait_closed(&copy_dir)?;
        swap::wait_closed(dir)?;
        verify(&copy_dir, &digest)?;
        Ok(digest)
    });
    let digest = match done {
        Ok(d) => d,
        Err(e) => {
            // Best effort: the next open removes an incomplete copy anyway.
            let _ = swap::discard(dir);
            return Err(e);
        }
    };
    swap::commit(dir)?;
    drop(lock);
    Ok(Compacted {
        erasures,
        trees: digest.values().filter(|(n, _)| *n > 0).count(),
        entries: digest.values().map(|(n, _)| n).sum(),
        bytes_before,
        bytes_after: swap::sled_bytes(dir)?,
        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}
