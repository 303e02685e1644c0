//! What opening the store does with the decision log once sled is open:
//! - moves decisions an earlier version kept in sled (trees `decisions`, `audit`,
//!   `by_customer`, `tickets`) into the log, keeping their audit hashes, exactly once;
//! - completes ledger entries for outcomes a crash left without one (the log is the
//!   record; the ledger in sled is derived from it);
//! - brings the head recorded in sled up to the log's end (never back: a log shorter than
//!   its recorded head is what `audit verify` reports).

use super::audit::{self, AuditEntry, Head, HEAD};
use super::decision_log::frame::{Header, Kind};
use super::decisions::StoredDecision;
use super::{from_json, Store, StoreError};

/// Set in `meta` once the decisions of the sled trees are in the log, before the trees
/// are cleared: a move cut short is started again, a finished one never repeated.
pub(super) const MOVED: &[u8] = b"decisions_in_log";

/// Frames appended to the log at a time while moving.
const MOVE_BATCH: usize = 1000;

impl Store {
    pub(super) fn settle_log(&self) -> Result<(), StoreError> {
        if self.meta.contains_key(MOVED)? {
            self.clear_legacy_trees()?;
        } else {
            if !self.log.is_empty() {
                // A move a crash cut short: nothing else writes the log before `MOVED`.
                self.log.reset()?;
            }
            self.move_legacy_decisions()?;
        }
        let head = self.recorded_head()?;
        self.complete_ledger(head.log_end)?;
        let (seq, hash) = self.log.head();
        let log_end = self.log.end();
        let same = seq == head.seq && hash == head.hash;
        if seq > head.seq || (same && head.log_end < log_end) {
            self.meta
                .insert(HEAD, super::to_json(&Head { seq, hash, log_end })?)?;
        }
        Ok(())
    }

    /// Copy every decision and audit link of the sled trees into the log (in chain
    /// order, hashes as stored), sync it, mark the move done, then clear the trees.
    /// Also what a restore runs after copying a backup's trees in.
    pub(super) fn move_legacy_decisions(&self) -> Result<usize, StoreError> {
        let key = self.pseudonym_key()?;
        let mut moved = std::collections::HashSet::new();
        let mut frames: Vec<(Header, Vec<u8>)> = Vec::new();
        let frame = |kind: Kind, seq: u64, hash: [u8; 32], bytes: Vec<u8>| {
            let d: StoredDecision = from_json(&bytes)?;
            let id = ulid::Ulid::from_string(&d.decision.decision_id)
                .map_err(|e| StoreError::Corrupt(format!("decision id: {e}")))?;
            Ok::<_, StoreError>((
                Header {
                    kind,
                    erased: d.erased,
                    lz4: false,
                    body_len: 0,
                    body_crc: 0,
                    seq,
                    id: id.0,
                    hash,
                    customer: audit::customer_key(&key, &d),
                    ticket: d.decision.ticket_id.clone(),
                },
                bytes,
            ))
        };
        for item in self.audit.iter() {
            let (_, v) = item?;
            let e: AuditEntry = from_json(&v)?;
            let Ok(id) = ulid::Ulid::from_string(&e.decision_id) else {
                continue;
            };
            let Some(bytes) = self.decisions.get(id.to_bytes())? else {
                // A link whose record is gone: `audit verify` reports the break it leaves.
                continue;
            };
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&e.hash, &mut hash)
                .map_err(|err| StoreError::Corrupt(format!("audit entry {}: {err}", e.seq)))?;
            let kind = Kind::from_label(&e.kind).unwrap_or(Kind::Decision);
            frames.push(frame(kind, e.seq, hash, bytes.to_vec())?);
            moved.insert(id.0);
            if frames.len() >= MOVE_BATCH {
                self.log.append_frames(&frames)?;
                frames.clear();
            }
        }
        // Records no link covers (none should exist) are kept, as rewrites.
        for item in self.decisions.iter() {
            let (k, v) = item?;
            let id = <[u8; 16]>::try_from(k.as_ref())
                .map(u128::from_be_bytes)
                .ok();
            if id.is_some_and(|id| !moved.contains(&id)) {
                frames.push(frame(Kind::Rewrite, 0, [0; 32], v.to_vec())?);
            }
        }
        self.log.append_frames(&frames)?;
        self.log.sync()?;
        let n = self.log.len();
        // INVARIANT: the log is complete and synced before the mark; the trees are
        // cleared only after it, so every decision is always in one of the two.
        self.meta.insert(MOVED, &b"1"[..])?;
        self.db.flush()?;
        if n > 0 {
            tracing::info!(
                decisions = n,
                "moved decisions from sled into the decision log"
            );
        }
        self.clear_legacy_trees()?;
        Ok(n)
    }

    fn clear_legacy_trees(&self) -> Result<(), StoreError> {
        let trees = [
            &self.decisions,
            &self.audit,
            &self.by_customer,
            &self.tickets,
        ];
        if trees.iter().any(|t| !t.is_empty()) {
            for t in trees {
                t.clear()?;
            }
            self.db.flush()?;
        }
        Ok(())
    }

    /// Ledger entries for outcomes appended after `from` (where the recorded head says
    /// the ledger was complete).
    fn complete_ledger(&self, from: u64) -> Result<(), StoreError> {
        for d in self.log.outcomes_from(from) {
            self.ledger_from(&d?)?;
        }
        Ok(())
    }
}
