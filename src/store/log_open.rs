//! What opening the store does with the decision log once sled is open, to repair what a
//! crash can leave:
//! - completes ledger entries for outcomes a crash left without one (the log is the
//!   record; the ledger in sled is derived from it);
//! - brings the head recorded in sled up to the log's end (never back: a log shorter than
//!   its recorded head is what `audit verify` reports).

use super::audit::{Head, HEAD};
use super::{Store, StoreError};

impl Store {
    pub(super) fn settle_log(&self) -> Result<(), StoreError> {
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

    /// Ledger entries for outcomes appended after `from` (where the recorded head says
    /// the ledger was complete).
    fn complete_ledger(&self, from: u64) -> Result<(), StoreError> {
        for d in self.log.outcomes_from(from) {
            self.ledger_from(&d?)?;
        }
        Ok(())
    }
}
