//! Appending to the decision log. One writer at a time (the `writer` mutex): the audit
//! chain is a single sequence over decisions and outcomes. The index is updated only
//! after the bytes are written (and synced, when asked), so a reader never sees a record
//! that is not in the file.

use super::frame::{self, Header, Kind};
use super::index::FrameRef;
use super::{io, DecisionLog};
use crate::store::decision_record::StoredDecision;
use crate::store::StoreError;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// With relaxed durability, appends are synced at least this often while they continue.
pub const RELAXED_SYNC: Duration = Duration::from_millis(500);

/// The file is grown in steps of this many zero bytes ahead of the appends.
///
/// Why: an append that grows the file changes its size, so its `fdatasync` must commit
/// the ext4 journal as well as write the data; an append into space already written (the
/// zeros) changes no metadata the data needs, and its `fdatasync` writes the data alone.
/// Under load that made strict decisions 1.5 times faster (docs/performance.md). Space
/// from `fallocate` would not do: its extents are marked unwritten, and the first write
/// into them is a metadata change again. The price is one slower sync per step (the
/// zeros and the new size), at most a step of zeros on disk, and a recovery that must
/// tell a never-synced frame among zeros from an erased one (recover.rs).
const STEP: u64 = 1 << 20;
static ZEROS: [u8; STEP as usize] = [0; STEP as usize];

pub struct Writer {
    pub end: u64,
    pub seq: u64,
    pub hash: [u8; 32],
    /// The file's length: `end` and the zeros written ahead of it.
    ready: u64,
    buf: Vec<u8>,
    unsynced: bool,
    synced_at: Instant,
}

/// A decision to append: everything its frame needs but the link and the sequence
/// number, which only the writer can know.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub id: u128,
    /// The customer id's pseudonym (the index key; headers hold no customer ids).
    pub customer: String,
    pub ticket: String,
    /// The stored record, compressed.
    pub body: frame::StoredBody,
    /// The canonical audit form the link covers (`audit::decision_canonical`).
    pub form: Vec<u8>,
}

/// Where the chain and the file stood after an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// Hex.
    pub hash: String,
    /// The log's length after the append.
    pub end: u64,
}

impl Writer {
    /// `ready` is the file's length, at least `end`.
    pub fn new(end: u64, seq: u64, hash: [u8; 32], ready: u64) -> Writer {
        Writer {
            end,
            seq,
            hash,
            ready: ready.max(end),
            buf: Vec::new(),
            unsynced: false,
            synced_at: Instant::now(),
        }
    }

    pub fn sync(&mut self, file: &File) -> Result<(), StoreError> {
        if self.unsynced {
            file.sync_data().map_err(|e| io("sync", e))?;
            self.unsynced = false;
        }
        self.synced_at = Instant::now();
        Ok(())
    }

    /// Appends are waiting for a sync, and the last one is `RELAXED_SYNC` old.
    pub fn due(&self) -> bool {
        self.unsynced && self.synced_at.elapsed() >= RELAXED_SYNC
    }

    /// Write `self.buf` at the end; on success the end moves past it. On failure nothing
    /// moves: the next append overwrites whatever part was written.
    fn flush_buf(&mut self, file: &File, sync: bool) -> Result<(), StoreError> {
        self.grow(file)?;
        file.write_all_at(&self.buf, self.end)
            .map_err(|e| io("write", e))?;
        self.unsynced = true;
        if sync || self.synced_at.elapsed() >= RELAXED_SYNC {
            self.sync(file)?;
        }
        self.end += self.buf.len() as u64;
        Ok(())
    }

    /// Write zeros past the file's end until `buf` fits before it (see `STEP`). Zeros
    /// only ever go at or after `ready`, which is never before `end`: no record is
    /// overwritten. Not synced here: the append's own sync (or the next one) covers them,
    /// and a crash before that loses only zeros.
    fn grow(&mut self, file: &File) -> Result<(), StoreError> {
        let need = self.end + self.buf.len() as u64;
        while self.ready < need {
            file.write_all_at(&ZEROS, self.ready)
                .map_err(|e| io("grow", e))?;
            self.ready += STEP;
        }
        Ok(())
    }

    fn appended(&self) -> Appended {
        Appended {
            seq: self.seq,
            hash: hex::encode(self.hash),
            end: self.end,
        }
    }
}

/// `audit::link_canonical` over raw hashes: sha256(hex(prev) || "\n" || form).
fn link(prev: &[u8; 32], form: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(hex::encode(prev).as_bytes());
    h.update(b"\n");
    h.update(form);
    h.finalize().into()
}

impl DecisionLog {
    /// Append new decisions, each with its audit link, as one write; synced before this
    /// returns when `sync` is set. All or nothing: on error no decision is in the index.
    /// `after` runs before the next append can start (it records the head in sled).
    pub fn append_decisions(
        &self,
        items: &[NewDecision],
        sync: bool,
        after: impl FnOnce(&Appended) -> Result<(), StoreError>,
    ) -> Result<Appended, StoreError> {
        let mut w = self.lock_writer();
        let mut buf = std::mem::take(&mut w.buf);
        buf.clear();
        let (mut seq, mut hash) = (w.seq, w.hash);
        let mut headers = Vec::with_capacity(items.len());
        for it in items {
            seq += 1;
            hash = link(&hash, &it.form);
            let h = Header {
                kind: Kind::Decision,
                erased: false,
                lz4: false,
                body_len: 0,
                body_crc: 0,
                seq,
                id: it.id,
                hash,
                customer: it.customer.clone(),
                ticket: it.ticket.clone(),
            };
            let at = buf.len() as u64;
            headers.push((at, frame::encode_body(&h, &it.body, &mut buf)));
        }
        w.buf = buf;
        let start = w.end;
        w.flush_buf(&self.file, sync)?;
        w.seq = seq;
        w.hash = hash;
        let mut index = self.write_index();
        for (at, h) in headers {
            let body = start + at + h.size();
            index.add(&h, body);
        }
        drop(index);
        let appended = w.appended();
        after(&appended)?;
        Ok(appended)
    }

    /// Append a new version of decision `id`, made by `change` from the latest one, as
    /// an outcome (a new audit link over `form`) or a rewrite (no link). `change` returns
    /// the record, its customer key and, for an outcome, the form; `None` or an error
    /// from it writes nothing. `after` runs before the next append can start.
    pub fn append_version(
        &self,
        id: u128,
        kind: Kind,
        sync: bool,
        change: impl FnOnce(StoredDecision) -> Result<Option<Version>, StoreError>,
        after: impl FnOnce(&StoredDecision, &Appended) -> Result<(), StoreError>,
    ) -> Result<Option<StoredDecision>, StoreError> {
        let mut w = self.lock_writer();
        let loc = self
            .read_index()
            .by_id
            .get(&id)
            .copied()
            .ok_or_else(|| StoreError::NotFound(format!("no decision `{}`", ulid::Ulid(id))))?;
        let current = self.read_record(id, &loc)?;
        let Some(version) = change(current)? else {
            return Ok(None);
        };
        let body = crate::store::to_json(&version.record)?;
        let (seq, hash) = match (&version.form, kind.is_linked()) {
            (Some(form), true) => (w.seq + 1, link(&w.hash, form)),
            _ => (0, [0; 32]),
        };
        let h = Header {
            kind,
            erased: version.record.erased,
            lz4: false,
            body_len: 0,
            body_crc: 0,
            seq,
            id,
            hash,
            customer: version.customer,
            ticket: version.record.decision.ticket_id.clone(),
        };
        let mut buf = std::mem::take(&mut w.buf);
        buf.clear();
        let h = frame::encode(&h, &body, &mut buf);
        w.buf = buf;
        let start = w.end;
        w.flush_buf(&self.file, sync)?;
        if kind.is_linked() {
            w.seq = seq;
            w.hash = hash;
        }
        self.write_index().add(&h, start + h.size());
        after(&version.record, &w.appended())?;
        Ok(Some(version.record))
    }

    /// Erasure of one customer: append `redact`ed versions of every decision about them
    /// (those `redact` returns `None` for are left), make them durable, then zero every
    /// earlier frame about the customer in place, so the original bytes are gone from the
    /// file. Returns how many decisions were rewritten.
    pub fn erase_customer(
        &self,
        pseudonym: &str,
        redact: impl Fn(StoredDecision) -> Option<StoredDecision>,
    ) -> Result<usize, StoreError> {
        let frames: Vec<FrameRef> = self
            .read_index()
            .by_customer
            .get(pseudonym)
            .cloned()
            .unwrap_or_default();
        let mut ids: Vec<u128> = frames.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut n = 0;
        for id in ids {
            let rewritten = self.append_version(
                id,
                Kind::Rewrite,
                false,
                |d| {
                    Ok(redact(d).map(|record| Version {
                        record,
                        customer: pseudonym.to_string(),
                        form: None,
                    }))
                },
                |_, _| Ok(()),
            )?;
            n += usize::from(rewritten.is_some());
        }
        let mut w = self.lock_writer();
        // INVARIANT: the redacted versions are on disk before any original is zeroed, so
        // a crash in between leaves every decision readable (recover.rs finishes the job).
        w.sync(&self.file)?;
        for f in &frames {
            self.file
                .write_all_at(&vec![0u8; f.len as usize], f.body)
                .map_err(|e| io("erase", e))?;
        }
        w.unsynced = true;
        w.sync(&self.file)?;
        // Only the frames zeroed here: a decision about the same id made meanwhile (an
        // ordinary one, under the real id) stays findable for the next erasure.
        let zeroed: std::collections::HashSet<u64> = frames.iter().map(|f| f.body).collect();
        let mut index = self.write_index();
        if let Some(left) = index.by_customer.get_mut(pseudonym) {
            left.retain(|f| !zeroed.contains(&f.body));
            if left.is_empty() {
                index.by_customer.remove(pseudonym);
            }
        }
        Ok(n)
    }
}

/// A new version of a record, for `append_version`.
pub struct Version {
    pub record: StoredDecision,
    /// The customer id's pseudonym.
    pub customer: String,
    /// The canonical form an outcome's link covers.
    pub form: Option<Vec<u8>>,
}

impl DecisionLog {
    /// Append frames exactly as given, links included (moving decisions over from an
    /// earlier store keeps their hashes, so a chain broken there stays broken here).
    pub fn append_frames(&self, frames: &[(Header, Vec<u8>)]) -> Result<(), StoreError> {
        let mut w = self.lock_writer();
        let mut buf = std::mem::take(&mut w.buf);
        buf.clear();
        let mut written = Vec::with_capacity(frames.len());
        for (h, body) in frames {
            let at = buf.len() as u64;
            written.push((at, frame::encode(h, body, &mut buf)));
        }
        w.buf = buf;
        let start = w.end;
        w.flush_buf(&self.file, false)?;
        let mut index = self.write_index();
        for (at, h) in written {
            index.add(&h, start + at + h.size());
            if h.kind.is_linked() {
                w.seq = h.seq;
                w.hash = h.hash;
            }
        }
        Ok(())
    }

    /// Empty the log: a cluster replica about to restore a snapshot over a store the
    /// cluster's log has left behind (store/replica.rs `wipe_replica`).
    pub fn reset(&self) -> Result<(), StoreError> {
        let mut w = self.lock_writer();
        self.file.set_len(0).map_err(|e| io("empty", e))?;
        self.file.sync_all().map_err(|e| io("sync", e))?;
        *w = Writer::new(0, 0, [0; 32], 0);
        *self.write_index() = super::index::Index::default();
        Ok(())
    }
}
