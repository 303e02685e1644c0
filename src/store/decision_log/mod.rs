//! The decision log: every decision, and every later version of it (with its outcome,
//! after erasure), appended as frames to one file beside sled, with the indexes in memory.
//!
//! Why not sled: a decision is written on every ticket view. In sled each decision cost
//! ~15 µs per key over five trees, more than the rest of the request together
//! (docs/performance.md); here a batch of decisions is one `pwrite` (and, with strict
//! durability, one `fdatasync`). The audit chain lives in the frames themselves: each
//! decision and outcome frame carries its sequence number and hash.
//!
//! Crash safety: frames are only ever appended (into zeros written ahead of them, so a
//! strict sync writes data without a journal commit: write.rs), except that erasure
//! zeroes superseded bodies in place after the redacted version is on disk. Opening scans the file, cuts
//! off a torn tail (a batch a crash cut short was never acknowledged with strict
//! durability), finishes a zeroing a crash interrupted, and rebuilds the indexes.

pub mod frame;
mod index;
mod recover;
mod write;

use super::decision_record::StoredDecision;
use super::StoreError;
use index::{Index, Loc};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use write::{Appended, NewDecision, Version};

/// The log's file name inside the data directory.
pub const FILE_NAME: &str = "decisions.kdlog";

/// An open decision log.
pub struct DecisionLog {
    path: PathBuf,
    /// Read with `pread` by any thread; written only under `writer`.
    file: File,
    writer: Mutex<write::Writer>,
    index: RwLock<Index>,
}

/// A link of the audit chain as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub seq: u64,
    pub kind: frame::Kind,
    pub id: u128,
    /// Hex, as the audit chain shows it.
    pub hash: String,
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Log(format!("{what}: {e}"))
}

impl DecisionLog {
    /// Open (or create) the log in the data directory `dir`.
    pub fn open(dir: &Path) -> Result<DecisionLog, StoreError> {
        let path = dir.join(FILE_NAME);
        let created = !path.exists();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("open", e))?;
        if created {
            // The new file's directory entry must survive a crash like its contents.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io("sync the data directory", e))?;
        }
        let found = recover::scan(&file, &path)?;
        let log = DecisionLog {
            path,
            file,
            writer: Mutex::new(write::Writer::new(
                found.end, found.seq, found.hash, found.size,
            )),
            index: RwLock::new(found.index),
        };
        Ok(log)
    }

    /// How many decisions the log holds.
    pub fn len(&self) -> usize {
        self.read_index().by_id.len()
    }

    /// Whether decision `id` is in the log.
    pub fn contains(&self, id: u128) -> bool {
        self.read_index().by_id.contains_key(&id)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The latest version of a decision.
    pub fn get(&self, id: u128) -> Result<Option<StoredDecision>, StoreError> {
        let loc = self.read_index().by_id.get(&id).copied();
        loc.map(|l| self.read_current(id, &l)).transpose()
    }

    /// The latest decision for a ticket.
    pub fn ticket_decision(&self, ticket: &str) -> Option<u128> {
        self.read_index().by_ticket.get(ticket).copied()
    }

    /// The latest decision about a customer, by the customer id's pseudonym.
    pub fn latest_for_customer(&self, pseudonym: &str) -> Option<u128> {
        self.read_index().latest_for_customer(pseudonym)
    }

    /// The latest version of every decision with an id in `start..end`, oldest first,
    /// read in chunks so the index is never held while records are read.
    pub fn range(&self, start: u128, end: u128) -> Range<'_> {
        self.range_as(start, end)
    }

    /// `range`, each record read as `T`: a view of the fields a caller needs, which skips
    /// the rest of the record instead of building it (a report over every decision).
    pub fn range_as<T>(&self, start: u128, end: u128) -> Range<'_, T> {
        Range {
            log: self,
            next: Some(start),
            end,
            chunk: std::collections::VecDeque::new(),
            read_as: std::marker::PhantomData,
        }
    }

    /// Every frame's header in log order (with its body, for the backup), up to the end
    /// as it is now. `f` returns `false` to stop early.
    pub fn for_each_frame(
        &self,
        mut f: impl FnMut(&frame::Header, frame::Body, &[u8]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let end = self.lock_writer().end;
        let file = File::open(&self.path).map_err(|e| io("open for reading", e))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, std::io::Read::take(file, end));
        let mut body = Vec::new();
        loop {
            match frame::read(&mut r, &mut body).map_err(|e| io("read", e))? {
                frame::Next::End => return Ok(()),
                frame::Next::Frame(h, state) => {
                    if !f(&h, state, &body)? {
                        return Ok(());
                    }
                }
                frame::Next::Torn(why) => {
                    return Err(StoreError::Corrupt(format!("the decision log: {why}")))
                }
            }
        }
    }

    /// The log's length in bytes.
    pub fn end(&self) -> u64 {
        self.lock_writer().end
    }

    /// The latest version of every decision whose outcome frame starts at or after
    /// `from` and is not erased (opening completes their ledger entries).
    pub fn outcomes_from(&self, from: u64) -> Vec<Result<StoredDecision, StoreError>> {
        let locs: Vec<(u128, Loc)> = self
            .read_index()
            .by_id
            .iter()
            .filter(|(_, l)| l.kind == frame::Kind::Outcome && !l.erased && l.body >= from)
            .map(|(k, l)| (*k, *l))
            .collect();
        locs.iter()
            .map(|(id, l)| self.read_current(*id, l))
            .collect()
    }

    /// The last link of the chain: its sequence number and hash (hex).
    pub fn head(&self) -> (u64, String) {
        let w = self.lock_writer();
        (w.seq, hex::encode(w.hash))
    }

    /// Make every append so far durable.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.lock_writer().sync(&self.file)
    }

    /// With relaxed durability, appends sync themselves when the last sync is 500 ms
    /// old; this thread covers the appends after which none came. It ends with the log.
    pub fn start_syncer(log: &std::sync::Arc<DecisionLog>) {
        let weak = std::sync::Arc::downgrade(log);
        let spawned = std::thread::Builder::new()
            .name("decision-log-sync".into())
            .spawn(move || loop {
                std::thread::sleep(write::RELAXED_SYNC);
                let Some(log) = weak.upgrade() else { return };
                let mut w = log.lock_writer();
                if w.due() {
                    if let Err(e) = w.sync(&log.file) {
                        tracing::error!(error = %e, "decision log: background sync failed");
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "decision log: no background sync thread");
        }
    }

    /// `read_record` for a location taken from the index before the read: if erasure
    /// superseded and zeroed that version meanwhile, read the version that replaced it.
    fn read_current<T: serde::de::DeserializeOwned>(
        &self,
        id: u128,
        loc: &Loc,
    ) -> Result<T, StoreError> {
        match self.read_record(id, loc) {
            Ok(d) => Ok(d),
            Err(e) => match self.read_index().by_id.get(&id).copied() {
                Some(now) if now != *loc => self.read_record(id, &now),
                _ => Err(e),
            },
        }
    }

    fn read_record<T: serde::de::DeserializeOwned>(
        &self,
        id: u128,
        loc: &Loc,
    ) -> Result<T, StoreError> {
        let mut buf = vec![0u8; loc.len as usize];
        self.file
            .read_exact_at(&mut buf, loc.body)
            .map_err(|e| io("read", e))?;
        let damaged = |why: &str| {
            StoreError::Corrupt(format!(
                "decision `{}`: its record in the log is damaged ({why})",
                ulid::Ulid(id)
            ))
        };
        if crc32fast::hash(&buf) != loc.crc {
            return Err(damaged("checksum"));
        }
        if !loc.lz4 {
            return super::from_json(&buf);
        }
        let json =
            lz4_flex::decompress_size_prepended(&buf).map_err(|e| damaged(&e.to_string()))?;
        super::from_json(&json)
    }

    fn read_index(&self) -> RwLockReadGuard<'_, Index> {
        // A poisoned lock means a writer panicked between whole updates of the index:
        // each update is one insert or push, so what it holds is still consistent.
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_index(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_writer(&self) -> MutexGuard<'_, write::Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for DecisionLog {
    fn drop(&mut self) {
        // Relaxed durability leaves the last appends to this (or the 500 ms timer).
        let _ = self.sync();
    }
}

/// `DecisionLog::range`.
pub struct Range<'a, T = StoredDecision> {
    log: &'a DecisionLog,
    /// The next id to look from; `None` once the range is exhausted.
    next: Option<u128>,
    end: u128,
    chunk: std::collections::VecDeque<(u128, Loc)>,
    read_as: std::marker::PhantomData<fn() -> T>,
}

/// Ids taken from the index at a time: bounded memory, few lock acquisitions.
const CHUNK: usize = 512;

impl<T: serde::de::DeserializeOwned> Iterator for Range<'_, T> {
    type Item = Result<T, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.chunk.is_empty() {
            let from = self.next?;
            if from >= self.end {
                return None;
            }
            let index = self.log.read_index();
            self.chunk.extend(
                index
                    .by_id
                    .range(from..self.end)
                    .take(CHUNK)
                    .map(|(k, l)| (*k, *l)),
            );
            self.next = match self.chunk.back() {
                Some((last, _)) if self.chunk.len() == CHUNK => last.checked_add(1),
                _ => None,
            };
        }
        let (id, loc) = self.chunk.pop_front()?;
        Some(self.log.read_current(id, &loc))
    }
}
