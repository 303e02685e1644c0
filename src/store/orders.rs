//! Orders and per-customer order summaries.
//!
//! Three trees, written together in one sled transaction per batch so they never
//! disagree after a crash:
//! - `orders`: order id → the order (idempotency: an id already stored is skipped);
//! - `order_days`: customer id, NUL, day → present when the customer bought that day
//!   (tells the summary in one lookup whether a purchase opens a new purchase day);
//! - `order_summaries`: customer id → summary and cached prediction;
//! - `customer_orders`: customer id, NUL, order id → present (finds a customer's orders
//!   for erasure without scanning every order).
//!
//! A new order costs three point reads and four writes, whatever the history; the
//! prediction is recomputed from the active model as the summary changes.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use crate::value::predict::{predict, Prediction};
use crate::value::summary::{is_refund, OrderFact, OrderSummary};
use crate::value::ValueModel;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

/// One order as ingested and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOrder {
    pub order_id: String,
    pub customer_id: String,
    pub at: DateTime<Utc>,
    /// Negative for a refund.
    pub amount: Decimal,
    pub currency: String,
}

/// A customer's summary with its cached prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSummary {
    pub summary: OrderSummary,
    #[serde(default)]
    pub prediction: Option<Prediction>,
}

impl StoredSummary {
    fn refreshed(summary: OrderSummary, model: Option<&ValueModel>) -> Self {
        let prediction = model.and_then(|m| predict(m, &summary));
        StoredSummary {
            summary,
            prediction,
        }
    }
}

fn day_key(customer_id: &str, day: NaiveDate) -> Vec<u8> {
    let mut k = Vec::with_capacity(customer_id.len() + 5);
    k.extend_from_slice(customer_id.as_bytes());
    k.push(0);
    k.extend_from_slice(&day.num_days_from_ce().to_be_bytes());
    k
}

fn index_key(customer_id: &str, order_id: &str) -> Vec<u8> {
    [customer_id.as_bytes(), &[0], order_id.as_bytes()].concat()
}

fn prefix(customer_id: &str) -> Vec<u8> {
    [customer_id.as_bytes(), &[0]].concat()
}

impl Store {
    pub fn get_order(&self, order_id: &str) -> Result<Option<StoredOrder>, StoreError> {
        self.orders
            .get(order_id.as_bytes())?
            .map(|v| from_json(&v))
            .transpose()
    }

    pub fn get_order_summary(
        &self,
        customer_id: &str,
    ) -> Result<Option<StoredSummary>, StoreError> {
        self.order_summaries
            .get(customer_id.as_bytes())?
            .map(|v| from_json(&v))
            .transpose()
    }

    /// Every summary, for a fit: memory grows with customers, never with orders.
    pub fn order_summaries(
        &self,
    ) -> impl Iterator<Item = Result<(String, StoredSummary), StoreError>> + '_ {
        self.order_summaries.iter().map(|item| {
            let (k, v) = item?;
            Ok((String::from_utf8_lossy(&k).into_owned(), from_json(&v)?))
        })
    }

    /// A customer's orders (refunds included), in order-id order: what a summary as of a
    /// past day is recounted from. One index scan and one point read per order.
    pub fn orders_of(&self, customer_id: &str) -> Result<Vec<StoredOrder>, StoreError> {
        let mut orders = Vec::new();
        for item in self.customer_orders.scan_prefix(prefix(customer_id)) {
            let (key, _) = item?;
            let Some(order_id) = key.get(customer_id.len() + 1..) else {
                continue;
            };
            if let Some(v) = self.orders.get(order_id)? {
                orders.push(from_json(&v)?);
            }
        }
        Ok(orders)
    }

    /// When a customer bought (refunds left out), oldest first: what retention is
    /// measured on ("did the customer order again after the decision?").
    pub fn purchase_times(&self, customer_id: &str) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let mut times: Vec<DateTime<Utc>> = self
            .orders_of(customer_id)?
            .into_iter()
            .filter(|o| !is_refund(o.amount))
            .map(|o| o.at)
            .collect();
        times.sort_unstable();
        Ok(times)
    }

    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Add orders; ids already stored are skipped. All or nothing per call.
    pub(super) fn apply_put_orders(&self, orders: &[StoredOrder]) -> Result<Applied, StoreError> {
        let model = self.active_value_model()?;
        let trees = (
            &self.orders,
            &self.order_days,
            &self.order_summaries,
            &self.customer_orders,
        );
        let result = trees.transaction(|(tx_orders, tx_days, tx_summaries, tx_index)| {
            let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
            let mut added = false;
            for o in orders {
                if tx_orders.get(o.order_id.as_bytes())?.is_some() {
                    continue;
                }
                let day = o.at.date_naive();
                let purchase = !is_refund(o.amount);
                let key = day_key(&o.customer_id, day);
                let day_seen = purchase && tx_days.get(&key)?.is_some();
                let mut summary = match tx_summaries.get(o.customer_id.as_bytes())? {
                    Some(v) => from_json::<StoredSummary>(&v).map_err(abort)?.summary,
                    None => OrderSummary::new(&o.currency),
                };
                summary.add(OrderFact {
                    day,
                    amount: o.amount,
                    day_seen,
                });
                let stored = StoredSummary::refreshed(summary, model.as_ref());
                tx_summaries.insert(o.customer_id.as_bytes(), to_json(&stored).map_err(abort)?)?;
                if purchase && !day_seen {
                    tx_days.insert(key, &[])?;
                }
                tx_orders.insert(o.order_id.as_bytes(), to_json(o).map_err(abort)?)?;
                tx_index.insert(index_key(&o.customer_id, &o.order_id), &[])?;
                added = true;
            }
            Ok(added)
        });
        match result {
            Ok(true) => Ok(Applied::Done),
            Ok(false) => Ok(Applied::Unchanged),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    /// Recompute every cached prediction from `model`. Each summary is replaced only if
    /// it is still the one read (compare-and-swap), so an order ingested meanwhile is never
    /// lost: its summary is read again and recomputed.
    pub(super) fn refresh_predictions(&self, model: &ValueModel) -> Result<(), StoreError> {
        for item in self.order_summaries.iter() {
            let (key, mut current) = item?;
            loop {
                let stored: StoredSummary = from_json(&current)?;
                let fresh = to_json(&StoredSummary::refreshed(stored.summary, Some(model)))?;
                match self
                    .order_summaries
                    .compare_and_swap(&key, Some(&current), Some(fresh))?
                {
                    Ok(()) => break,
                    Err(e) => match e.current {
                        Some(now) => current = now,
                        None => break,
                    },
                }
            }
        }
        Ok(())
    }

    /// Erase a customer's orders, purchase days and summary (right to erasure).
    pub(super) fn apply_erase_orders(&self, customer_id: &str) -> Result<Applied, StoreError> {
        let mut found = self
            .order_summaries
            .remove(customer_id.as_bytes())?
            .is_some();
        for item in self.customer_orders.scan_prefix(prefix(customer_id)) {
            let (key, _) = item?;
            if let Some(order_id) = key.get(customer_id.len() + 1..) {
                self.orders.remove(order_id)?;
            }
            self.customer_orders.remove(key)?;
            found = true;
        }
        for item in self.order_days.scan_prefix(prefix(customer_id)) {
            let (key, _) = item?;
            self.order_days.remove(key)?;
        }
        if !found {
            return Ok(Applied::Unchanged);
        }
        self.note_erasure()?;
        Ok(Applied::Done)
    }
}
