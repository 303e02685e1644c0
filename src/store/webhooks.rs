//! Webhook deliveries already handled, so a help desk's retry (or a replayed request)
//! does not make a second decision. Entries expire; expired ones are pruned on write.

use super::Applied;
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
        let Some(bytes) = self.webhooks.get(delivery_key(key))? else {
            return Ok(None);
        };
        let d: Delivery = from_json(&bytes)?;
        Ok((d.expires_at > now).then_some(d))
    }

    /// Remember a delivery unless an unexpired one holds the key (then `Unchanged`, and the
    /// first delivery wins); prune a few expired entries on the way.
    pub(super) fn apply_record_delivery(
        &self,
        key: &str,
        delivery: &Delivery,
        now: i64,
    ) -> Result<Applied, StoreError> {
        self.prune_deliveries(now)?;
        let k = delivery_key(key);
        let new = to_json(delivery)?;
        loop {
            let old = self.webhooks.get(&k)?;
            if let Some(old) = &old {
                if from_json::<Delivery>(old).is_ok_and(|d| d.expires_at > now) {
                    return Ok(Applied::Unchanged);
                }
            }
            // INVARIANT: compare-and-swap, so two concurrent retries cannot both claim the key.
            if self
                .webhooks
                .compare_and_swap(&k, old, Some(new.clone()))?
                .is_ok()
            {
                self.webhooks
                    .insert(expiry_key(delivery.expires_at, key), &[])?;
                return Ok(Applied::Created);
            }
        }
    }

    /// Remove deliveries whose expiry has passed, oldest first, at most `PRUNE_PER_WRITE`.
    /// The expiry index sorts by time, so this reads only what it removes.
    fn prune_deliveries(&self, now: i64) -> Result<(), StoreError> {
        let end = expiry_key(now, "");
        let due: Vec<sled::IVec> = self
            .webhooks
            .range(EXPIRY.as_bytes().to_vec()..end)
            .keys()
            .take(PRUNE_PER_WRITE)
            .collect::<Result<_, _>>()?;
        for ek in due {
            let key = ek.get(EXPIRY.len() + 8..).unwrap_or_default();
            let dk = [DELIVERY.as_bytes(), key].concat();
            // Only drop the delivery if it has not been renewed with a later expiry.
            if let Some(v) = self.webhooks.get(&dk)? {
                if from_json::<Delivery>(&v).map_or(true, |d| d.expires_at <= now) {
                    self.webhooks.remove(&dk)?;
                }
            }
            self.webhooks.remove(ek)?;
        }
        Ok(())
    }
}

// One tree, two key spaces: `d/<key>` holds the delivery, `e/<expiry, big-endian><key>`
// orders them by expiry for pruning.
const DELIVERY: &str = "d/";
const EXPIRY: &str = "e/";

fn delivery_key(key: &str) -> Vec<u8> {
    [DELIVERY.as_bytes(), key.as_bytes()].concat()
}

fn expiry_key(expires_at: i64, key: &str) -> Vec<u8> {
    // Non-negative in practice (unix seconds); clamp so the byte order is the time order.
    let t = u64::try_from(expires_at).unwrap_or(0);
    [EXPIRY.as_bytes(), &t.to_be_bytes(), key.as_bytes()].concat()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::Command;

    fn record(store: &Store, key: &str, expires_at: i64, now: i64) -> Applied {
        let delivery = Delivery {
            decision_id: format!("d-{key}"),
            ticket_id: "T-1".into(),
            expires_at,
        };
        store
            .apply(Command::RecordDelivery {
                key: key.into(),
                delivery,
                now,
            })
            .unwrap()
    }

    #[test]
    fn a_delivery_is_remembered_until_it_expires_and_then_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(record(&store, "a", 100, 0), Applied::Created);
        assert_eq!(
            record(&store, "a", 110, 10),
            Applied::Unchanged,
            "first wins"
        );
        assert_eq!(store.delivery("a", 50).unwrap().unwrap().decision_id, "d-a");
        assert!(store.delivery("a", 100).unwrap().is_none(), "expired");
        // A later write prunes the expired delivery and its index entry.
        assert_eq!(record(&store, "b", 400, 200), Applied::Created);
        assert!(store.webhooks.get(delivery_key("a")).unwrap().is_none());
        assert_eq!(store.webhooks.len(), 2, "only b and its index entry remain");
        // An expired key can be claimed again.
        assert_eq!(record(&store, "b", 900, 500), Applied::Created);
        assert_eq!(store.delivery("b", 600).unwrap().unwrap().expires_at, 900);
    }
}
