//! The customer record the engine sees for a decision, built from typed parts: the
//! pushed record (or one derived from orders), the cached model prediction, the latest
//! NPS answer (service/nps.rs) and the goodwill ledger totals (service/ledger.rs).
//!
//! The engine reads one rule (docs/value.md): a pushed `predicted_value` wins; without
//! one, the cached model prediction is used as the record's `predicted_value`; a customer
//! with orders but no pushed record gets a record derived from their orders. Predictions
//! are read from the cache, never computed per request.
//!
//! Each merged value is computed once, typed, and written into both forms: the typed
//! record the engine reads, and the snapshot stored with the decision (the pushed strings
//! as they were, for replay). Nothing is formatted to a string and parsed back.

use crate::domain::customer::{CustomerRecord, CustomerRecordDto};
use crate::domain::FieldError;
use crate::money::{round_cents, saturate, Currency, Money};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A customer as one decision sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveCustomer {
    /// What the engine reads.
    pub record: CustomerRecord,
    /// The same record in the contract's form, stored with the decision
    /// (`customer_snapshot`) so it can be replayed under another policy version.
    pub snapshot: CustomerRecordDto,
}

impl EffectiveCustomer {
    /// Set `predicted_value` in both forms.
    fn set_predicted_value(&mut self, amount: Decimal) {
        let amount = round_cents(saturate(amount));
        self.record.predicted_value = Some(amount);
        self.snapshot.predicted_value = Some(Money::new(amount, self.record.currency).into());
    }

    /// Set the last NPS answer in both forms.
    fn set_nps(&mut self, score: u8, at: chrono::NaiveDate) {
        self.record.nps = Some((score, at));
        self.snapshot.nps = Some(crate::domain::customer::NpsDto {
            score: i64::from(score),
            at: at.to_string(),
        });
    }

    /// Set `goodwill_12m` in both forms.
    fn set_goodwill_12m(&mut self, amount: Decimal) {
        self.record.goodwill_12m = amount;
        self.snapshot.goodwill_12m = Some(Money::new(amount, self.record.currency).into());
    }

    /// Set `claims_90d` in both forms.
    fn set_claims_90d(&mut self, claims: u32) {
        self.record.claims_90d = claims;
        self.snapshot.claims_90d = Some(i64::from(claims));
    }
}

/// The customer as the engine sees them at `now`; `None` for a customer the store does
/// not know. The inner error is a stored record that no longer validates (a caller may
/// fail on it or leave the customer out).
pub fn effective_customer(
    store: &Store,
    policy: &crate::policy::compiled::CompiledPolicy,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Result<EffectiveCustomer, FieldError>>, StoreError> {
    let pushed = store.get_customer(id)?;
    let summary = super::order_history::get(store, id)?;
    // The stored form is the validated wire form (store/customer_codec.rs keeps its
    // strings exactly): it is parsed here, once, where it leaves the store.
    let (built, updated_at) = match (pushed, &summary) {
        (None, None) => return Ok(None),
        (Some(c), _) => (
            c.record.validate().map(|record| EffectiveCustomer {
                record,
                snapshot: c.record,
            }),
            c.updated_at,
        ),
        (None, Some(s)) => (derived(s), String::new()),
    };
    let mut customer = match built {
        Ok(c) => c,
        Err(e) => return Ok(Some(Err(e))),
    };
    if let Some(summary) = &summary {
        if customer.record.predicted_value.is_none()
            && customer.record.currency.as_str() == summary.summary.currency
        {
            if let Some(p) = &summary.prediction {
                customer.set_predicted_value(p.predicted_value);
            }
        }
    }
    if let Some((score, day)) = super::nps::latest(store, id)? {
        if customer.record.nps.is_none_or(|(_, pushed)| day >= pushed) {
            customer.set_nps(score, day);
        }
    }
    // The goodwill ledger: outcomes recorded since the desk last pushed the record
    // (service/ledger.rs says why only those).
    let since = DateTime::parse_from_rfc3339(&updated_at)
        .ok()
        .map(|t| t.with_timezone(&Utc));
    let currency = customer.record.currency;
    let t = super::ledger::totals(store, policy, id, currency.as_str(), since, now)?;
    if t.granted_12m > Decimal::ZERO {
        let pushed = customer.record.goodwill_12m;
        customer.set_goodwill_12m(saturate((pushed + t.granted_12m).round_dp(2)));
    }
    if t.claims_90d > 0 {
        let pushed = customer.record.claims_90d;
        customer.set_claims_90d(pushed.saturating_add(t.claims_90d));
    }
    Ok(Some(Ok(customer)))
}

/// The record derived from orders alone, for a customer the desk never pushed: typed
/// from the summary, and its stored form (`value::derived_record`).
fn derived(s: &super::order_history::OrderHistory) -> Result<EffectiveCustomer, FieldError> {
    let o = &s.summary;
    let currency: Currency = o
        .currency
        .parse()
        .map_err(|e: String| FieldError::new("currency", e))?;
    let lifetime_revenue = round_cents(saturate(o.net_revenue()));
    // As a pushed record: refunds above purchases give no negative revenue.
    if lifetime_revenue.is_sign_negative() && !lifetime_revenue.is_zero() {
        return Err(FieldError::new(
            "lifetime_revenue.amount",
            "must not be negative",
        ));
    }
    let record = CustomerRecord {
        currency,
        lifetime_revenue,
        orders: Some(o.purchases),
        first_order_at: o.first_purchase,
        last_order_at: o.last_purchase,
        predicted_value: None,
        revenue_12m: None,
        tier: None,
        peak_tier: None,
        referrals: 0,
        nps: None,
        goodwill_12m: Decimal::ZERO,
        claims_90d: 0,
    };
    Ok(EffectiveCustomer {
        record,
        snapshot: super::value::derived_record(s),
    })
}
