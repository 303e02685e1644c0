//! Customers' order summaries and cached predictions: computed here with the value
//! models (pure), stored by the store as it is told (store/orders.rs).
//!
//! A write of orders reads each customer's stored summary, adds the new orders, predicts
//! with the active model and sends the results in one `Command::PutOrders`, naming what
//! they were computed from. If another write came first, applying it answers
//! `StoreError::Stale` and this computes again from the store as it now is (in cluster
//! mode, a command's apply returns once this replica applied everything before it).
//! A new model's predictions are written after it, in batches (`refresh_predictions`).

use crate::store::orders::{
    PredictionChange, PredictionRecord, StoredOrder, StoredSummary, SummaryChange, SummaryRecord,
};
use crate::store::{Command, Store, StoreError};
use crate::value::predict::{predict, Prediction};
use crate::value::summary::{is_refund, OrderFact, OrderSummary};
use crate::value::ValueModel;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, HashSet};

/// Attempts of one write of orders when other writes keep coming first.
const ATTEMPTS: usize = 20;
/// Customers per `PutPredictions`.
const PREDICTIONS_PER_COMMAND: usize = 500;

/// A customer's order summary with the active model's cached prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderHistory {
    pub summary: OrderSummary,
    /// Absent until a model is fitted, or when it cannot speak for this customer.
    pub prediction: Option<Prediction>,
}

impl From<StoredSummary> for OrderHistory {
    fn from(s: StoredSummary) -> Self {
        OrderHistory {
            summary: summary_of(s.summary),
            prediction: s.prediction.map(prediction_of),
        }
    }
}

fn summary_of(r: SummaryRecord) -> OrderSummary {
    OrderSummary {
        currency: r.currency,
        first_purchase: r.first_purchase,
        last_purchase: r.last_purchase,
        purchase_days: r.purchase_days,
        purchases: r.purchases,
        refunds: r.refunds,
        revenue: r.revenue,
        refunded: r.refunded,
        first_day_spend: r.first_day_spend,
    }
}

fn record_of(s: &OrderSummary) -> SummaryRecord {
    SummaryRecord {
        currency: s.currency.clone(),
        first_purchase: s.first_purchase,
        last_purchase: s.last_purchase,
        purchase_days: s.purchase_days,
        purchases: s.purchases,
        refunds: s.refunds,
        revenue: s.revenue,
        refunded: s.refunded,
        first_day_spend: s.first_day_spend,
    }
}

fn prediction_of(r: PredictionRecord) -> Prediction {
    Prediction {
        model_version: r.model_version,
        as_of: r.as_of,
        p_alive: r.p_alive,
        expected_purchases: r.expected_purchases,
        horizon_months: r.horizon_months,
        expected_spend: r.expected_spend,
        predicted_value: r.predicted_value,
    }
}

fn prediction_record(p: Prediction) -> PredictionRecord {
    PredictionRecord {
        model_version: p.model_version,
        as_of: p.as_of,
        p_alive: p.p_alive,
        expected_purchases: p.expected_purchases,
        horizon_months: p.horizon_months,
        expected_spend: p.expected_spend,
        predicted_value: p.predicted_value,
    }
}

/// A customer's order history, if they have orders.
pub fn get(store: &Store, customer_id: &str) -> Result<Option<OrderHistory>, StoreError> {
    Ok(store
        .get_order_summary(customer_id)?
        .map(OrderHistory::from))
}

/// Every customer's order history, for a fit: memory grows with customers, never with
/// orders.
pub fn all(store: &Store) -> impl Iterator<Item = Result<(String, OrderHistory), StoreError>> + '_ {
    store
        .order_summaries()
        .map(|item| item.map(|(id, s)| (id, OrderHistory::from(s))))
}

/// The active value model, if a fit has succeeded.
pub fn active_model(store: &Store) -> Result<Option<ValueModel>, StoreError> {
    store
        .active_value_model()?
        .map(|doc| serde_json::from_value(doc).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// When a customer bought (refunds left out), oldest first: what retention is measured
/// on ("did the customer order again after the decision?").
pub fn purchase_times(store: &Store, customer_id: &str) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let mut times: Vec<DateTime<Utc>> = store
        .orders_of(customer_id)?
        .into_iter()
        .filter(|o| !is_refund(o.amount))
        .map(|o| o.at)
        .collect();
    times.sort_unstable();
    Ok(times)
}

/// Store `orders` (ids already stored are skipped) with their customers' summaries and
/// predictions; all or nothing.
pub fn put_orders(store: &Store, orders: &[StoredOrder]) -> Result<(), StoreError> {
    let mut attempt = 1;
    loop {
        match store.apply(plan(store, orders)?) {
            Err(StoreError::Stale(why)) if attempt < ATTEMPTS => {
                tracing::debug!(%why, attempt, "orders computed from an older state, again");
                attempt += 1;
            }
            other => return other.map(|_| ()),
        }
    }
}

/// One customer's summary as this write changes it.
struct Change {
    base: Option<SummaryRecord>,
    summary: OrderSummary,
    new_days: Vec<NaiveDate>,
}

/// The command that stores `orders`, computed from the store as it is now.
fn plan(store: &Store, orders: &[StoredOrder]) -> Result<Command, StoreError> {
    let model = active_model(store)?;
    let mut changes: BTreeMap<&str, Change> = BTreeMap::new();
    let mut ids = HashSet::new();
    let mut new = Vec::with_capacity(orders.len());
    for o in orders {
        if !ids.insert(o.order_id.as_str()) || store.get_order(&o.order_id)?.is_some() {
            continue;
        }
        let change = match changes.entry(o.customer_id.as_str()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let base = store.get_order_summary(&o.customer_id)?.map(|s| s.summary);
                let summary = match &base {
                    Some(b) => summary_of(b.clone()),
                    None => OrderSummary::new(&o.currency),
                };
                e.insert(Change {
                    base,
                    summary,
                    new_days: Vec::new(),
                })
            }
        };
        let day = o.at.date_naive();
        let purchase = !is_refund(o.amount);
        let day_seen = purchase
            && (change.new_days.contains(&day) || store.has_purchase_day(&o.customer_id, day)?);
        change.summary.add(OrderFact {
            day,
            amount: o.amount,
            day_seen,
        });
        if purchase && !day_seen {
            change.new_days.push(day);
        }
        new.push(o.clone());
    }
    let summaries = changes
        .into_iter()
        .map(|(customer_id, c)| SummaryChange {
            customer_id: customer_id.to_string(),
            base: c.base,
            summary: StoredSummary {
                summary: record_of(&c.summary),
                prediction: model
                    .as_ref()
                    .and_then(|m| predict(m, &c.summary))
                    .map(prediction_record),
            },
            new_days: c.new_days,
        })
        .collect();
    Ok(Command::PutOrders {
        orders: new,
        summaries,
        model_version: model.map(|m| m.version),
    })
}

/// Write `model`'s prediction for every stored summary, in batches. A summary changed
/// meanwhile is left as it is (the write that changed it predicted with this model).
pub fn refresh_predictions(store: &Store, model: &ValueModel) -> Result<(), StoreError> {
    let mut batch = Vec::with_capacity(PREDICTIONS_PER_COMMAND);
    let send = |batch: Vec<PredictionChange>| -> Result<(), StoreError> {
        store
            .apply(Command::PutPredictions {
                model_version: model.version,
                predictions: batch,
            })
            .map(|_| ())
    };
    for item in store.order_summaries() {
        let (customer_id, s) = item?;
        let prediction = predict(model, &summary_of(s.summary.clone())).map(prediction_record);
        batch.push(PredictionChange {
            customer_id,
            base: s.summary,
            prediction,
        });
        if batch.len() >= PREDICTIONS_PER_COMMAND {
            send(std::mem::replace(
                &mut batch,
                Vec::with_capacity(PREDICTIONS_PER_COMMAND),
            ))?;
        }
    }
    if !batch.is_empty() {
        send(batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: &str, day: &str, amount: &str) -> StoredOrder {
        StoredOrder {
            order_id: id.into(),
            customer_id: "c-1".into(),
            at: format!("{day}T10:00:00Z").parse().unwrap(),
            amount: amount.parse().unwrap(),
            currency: "EUR".into(),
        }
    }

    #[test]
    fn a_write_computed_before_another_is_refused_whole_and_computed_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        put_orders(&store, &[order("o-1", "2026-01-10", "50.00")]).unwrap();
        // Computed now, applied after another order of the same customer.
        let early = plan(&store, &[order("o-2", "2026-01-17", "30.00")]).unwrap();
        put_orders(&store, &[order("o-3", "2026-01-17", "10.00")]).unwrap();
        assert!(matches!(store.apply(early), Err(StoreError::Stale(_))));
        assert!(store.get_order("o-2").unwrap().is_none());
        // The same write through `put_orders` reads the store again.
        put_orders(&store, &[order("o-2", "2026-01-17", "30.00")]).unwrap();
        let s = get(&store, "c-1").unwrap().unwrap().summary;
        assert_eq!((s.purchases, s.purchase_days), (3, 2));
        assert_eq!(s.mean_repeat_spend(), Some("40.00".parse().unwrap()));
    }
}
