//! The goodwill ledger: one entry per recorded outcome, keyed by customer id, NUL,
//! decision ULID, so a customer's entries are one prefix scan in time order.
//!
//! Entries are written in the outcome's own transaction (store/decisions.rs), so an
//! outcome is never on disk without its ledger entry. The service layer sums them into
//! the record the engine sees (service/ledger.rs).

use super::{from_json, Store, StoreError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What one outcome added to a customer's goodwill history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub decision_id: String,
    /// When the outcome was recorded.
    pub at: DateTime<Utc>,
    /// The gesture granted (`none` when nothing was): it still counts as a claim.
    pub gesture: String,
    /// Amount granted; zero when nothing was.
    pub amount: Decimal,
    /// The decision's currency.
    pub currency: String,
}

/// `customer id, NUL, decision ULID bytes`: the key of an entry.
pub(super) fn ledger_key(customer_id: &str, decision_key: &[u8; 16]) -> Vec<u8> {
    let mut k = prefix(customer_id);
    k.extend_from_slice(decision_key);
    k
}

fn prefix(customer_id: &str) -> Vec<u8> {
    let mut k = customer_id.as_bytes().to_vec();
    k.push(0);
    k
}

impl Store {
    /// Every ledger entry of a customer, oldest decision first.
    pub fn ledger_entries(&self, customer_id: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.ledger
            .scan_prefix(prefix(customer_id))
            .map(|item| from_json(&item?.1))
            .collect()
    }

    /// How many entries a customer's ledger holds: its version for an outcome recorded
    /// "only if the ledger is still as I checked it" (`Command::RecordOutcome`). Entries
    /// are only ever added (one per outcome) or erased with the customer.
    pub fn ledger_len(&self, customer_id: &str) -> Result<u64, StoreError> {
        let mut n = 0u64;
        for item in self.ledger.scan_prefix(prefix(customer_id)).keys() {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// Every ledger entry with its customer id, grouped by customer (key order).
    pub fn all_ledger_entries(
        &self,
    ) -> impl Iterator<Item = Result<(String, LedgerEntry), StoreError>> + '_ {
        self.ledger.iter().map(|item| {
            let (k, v) = item?;
            // The key ends in NUL and the 16 ULID bytes.
            let id = k
                .len()
                .checked_sub(17)
                .and_then(|n| k.get(..n))
                .ok_or_else(|| StoreError::Corrupt("ledger key".to_string()))?;
            Ok((String::from_utf8_lossy(id).into_owned(), from_json(&v)?))
        })
    }

    /// Erasure: the customer's ledger goes with their record.
    pub(super) fn erase_ledger(&self, customer_id: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.ledger.scan_prefix(prefix(customer_id)) {
            let (k, _) = item?;
            self.ledger.remove(k)?;
            n += 1;
        }
        Ok(n)
    }
}

impl Store {
    /// The id of the latest decision about a customer (ULIDs sort by time).
    pub fn latest_decision_id(&self, customer_id: &str) -> Result<Option<String>, StoreError> {
        let alias = self.pseudonymise(customer_id)?;
        Ok(self
            .log
            .latest_for_customer(&alias)
            .map(|id| ulid::Ulid(id).to_string()))
    }

    /// Every customer id with a pushed record or an order history, sorted, deduplicated.
    pub fn known_customer_ids(&self) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        for tree in [&self.customers, &self.order_summaries] {
            for k in tree.iter().keys() {
                ids.insert(String::from_utf8_lossy(&k?).into_owned());
            }
        }
        Ok(ids)
    }
}
