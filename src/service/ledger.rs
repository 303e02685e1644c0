//! The goodwill ledger as the guards see it: outcomes recorded after the desk last
//! pushed the customer's record are added to the pushed `goodwill_12m` and `claims_90d`.
//!
//! Rule (docs/closing-the-loop.md): with `updated_at` the time of the last push,
//! - `goodwill_12m` = pushed + Σ cost granted (amount × the gesture's `cost_factor` in the
//!   active policy, as the goodwill guard measures it) in outcomes recorded after `updated_at`
//!   (at or after, to the second) and within 365 days (same currency as the record only);
//! - `claims_90d` = pushed + the number of outcomes (granted or not) recorded after
//!   `updated_at` and within 90 days.
//!
//! Counting only entries after the push keeps a desk that already counts our grants in
//! its own figures from having them counted twice.

use crate::policy::compiled::CompiledPolicy;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

/// What the ledger adds to a record at `now`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LedgerTotals {
    pub granted_12m: Decimal,
    pub claims_90d: u32,
}

/// Sum a customer's ledger entries recorded after `since` (none: all) as of `now`.
pub fn totals(
    store: &Store,
    policy: &CompiledPolicy,
    customer_id: &str,
    currency: &str,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<LedgerTotals, StoreError> {
    let mut t = LedgerTotals::default();
    for e in store.ledger_entries(customer_id)? {
        if since.is_some_and(|s| e.at < s) || e.at > now {
            continue;
        }
        if e.at > now - Duration::days(365) && e.currency == currency {
            // A gesture no longer in the policy counts at face value.
            let factor = policy
                .gestures
                .iter()
                .find(|g| g.id == e.gesture)
                .map_or(Decimal::ONE, |g| g.cost_factor);
            t.granted_12m += e.amount * factor;
        }
        if e.at > now - Duration::days(90) {
            t.claims_90d = t.claims_90d.saturating_add(1);
        }
    }
    Ok(t)
}
