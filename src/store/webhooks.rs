//! Webhook deliveries already handled, so a help desk's retry (or a replayed request)
//! does not make a second decision. Entries expire; expired ones are pruned on write.

use super::command::Applied;
use super::{from_json, to_json, Store, StoreError};
use serde::{Deserialize, Serialize};

/// How many expired entries one write removes at most, so pruning never stalls a request.
const PRUNE_PER_WRITE: usize = 64;

/// A handled delivery: the decision it produced and when the record may be forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub decision_id: String,
    pub ticket_id: String,
    /// Unix seconds after which a delivery with this key is treated as new.
    pub expires_at: i64,
}

impl Store {
    /// The unexpired delivery stored under `key` (a hash of the delivery id or signature).
    pub fn delivery(&self, key: &str, now: i64) -> Result<Option<Delivery>, StoreError> {
        let Some(bytes) = self.webhooks.get(key.as_bytes())? else {
            return Ok(None);
        };
        let d: Delivery = from_json(&bytes)?;
        Ok((d.expires_at > now).then_some(d))
    }

    pub fn delivery_count(&self) -> usize {
        self.webhooks.len()
    }

    /// Remember a delivery unless an unexpired one holds the key (then `Unchanged`, and the
    /// first delivery wins); prune a few expired entries on the way.
    pub(super) fn apply_record_delivery(
        &self,
        key: &str,
        delivery: &Delivery,
        now: i64,
    ) -> Result<Applied, StoreError> {
        let expired: Vec<sled::IVec> = self
            .webhooks
            .iter()
            .filter_map(Result::ok)
            .filter(|(k, v)| {
                k.as_ref() != key.as_bytes()
                    && from_json::<Delivery>(v).map_or(true, |d| d.expires_at <= now)
            })
            .take(PRUNE_PER_WRITE)
            .map(|(k, _)| k)
            .collect();
        for k in expired {
            self.webhooks.remove(k)?;
        }
        let new = to_json(delivery)?;
        loop {
            let old = self.webhooks.get(key.as_bytes())?;
            if let Some(old) = &old {
                if from_json::<Delivery>(old).is_ok_and(|d| d.expires_at > now) {
                    return Ok(Applied::Unchanged);
                }
            }
            // INVARIANT: compare-and-swap, so two concurrent retries cannot both claim the key.
            if self
                .webhooks
                .compare_and_swap(key.as_bytes(), old, Some(new.clone()))?
                .is_ok()
            {
                return Ok(Applied::Created);
            }
        }
    }
}
