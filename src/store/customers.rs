//! Customer value records, keyed by customer id; erasure of everything about a customer.

use super::customer_codec::{decode, encode};
use super::Applied;
use super::{Store, StoreError};

pub use super::customer_codec::StoredCustomer;

impl Store {
    pub fn get_customer(&self, id: &str) -> Result<Option<StoredCustomer>, StoreError> {
        self.customers
            .get(id.as_bytes())?
            .map(|v| decode(&v).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    pub fn customer_count(&self) -> usize {
        self.customers.len()
    }

    pub(super) fn apply_put_customer(
        &self,
        id: &str,
        c: &StoredCustomer,
    ) -> Result<Applied, StoreError> {
        let old = self.customers.insert(id.as_bytes(), encode(c))?;
        Ok(if old.is_some() {
            Applied::Done
        } else {
            Applied::Created
        })
    }

    /// Plain inserts in order, not one sled batch: `apply_batch` takes sled's
    /// process-wide concurrency lock and measured 1.2x slower on the 1M-record import
    /// (docs/performance.md). A failure part-way leaves the records before it written;
    /// every record is whole, and importing the same records again replaces them.
    pub(super) fn apply_put_customers(
        &self,
        items: &[(String, StoredCustomer)],
    ) -> Result<Applied, StoreError> {
        for (id, c) in items {
            self.customers.insert(id.as_bytes(), encode(c))?;
        }
        Ok(Applied::Done)
    }

    /// Erasure: past decisions get a pseudonym in place of the id first, then the record
    /// goes; a retried erasure after a crash finishes the job.
    pub(super) fn apply_delete_customer(&self, id: &str) -> Result<Applied, StoreError> {
        let rewritten = self.pseudonymise_decisions(id)?;
        self.idempotency_forget(id)?;
        // Ledger and NPS answers are personal data too.
        let ledger = self.erase_ledger(id)?;
        let nps = self.erase_nps(id)?;
        self.apply_forget_at_risk_pushes(&[id.to_string()])?;
        let removed = self.customers.remove(id.as_bytes())?.is_some();
        if !(removed || rewritten > 0 || ledger > 0 || nps) {
            return Ok(Applied::Unchanged);
        }
        // sled keeps the removed values in its files until a compaction (store/compact).
        self.note_erasure()?;
        Ok(Applied::Done)
    }
}
