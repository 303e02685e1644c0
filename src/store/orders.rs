//! Orders and per-customer order summaries.
//!
//! Four trees, written together in one sled transaction per batch so they never
//! disagree after a crash:
//! - `orders`: order id → the order;
//! - `order_days`: customer id, NUL, day → present when the customer bought that day
//!   (tells the service in one lookup whether a purchase opens a new purchase day);
//! - `order_summaries`: customer id → summary and cached prediction;
//! - `customer_orders`: customer id, NUL, order id → present (finds a customer's orders
//!   for erasure without scanning every order).
//!
//! The store computes nothing here: the service (service/order_history.rs) reads the
//! summaries, adds the new orders and predicts with the active value model, and the
//! command carries the results. Each command also names what they were computed from
//! (every summary before, the model version), and applying it checks that against the
//! store: a write in between makes it `StoreError::Stale`, and the service computes again.
//! So applying stays deterministic (a replica replaying the log never recomputes a
//! prediction in floating point), and no concurrent order is lost.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
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

/// A customer's order history reduced to counts and sums, as stored (the value
/// model's `OrderSummary` in the store's terms; docs/value.md gives the rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRecord {
    pub currency: String,
    pub first_purchase: Option<NaiveDate>,
    pub last_purchase: Option<NaiveDate>,
    pub purchase_days: u32,
    pub purchases: u32,
    pub refunds: u32,
    pub revenue: Decimal,
    pub refunded: Decimal,
    pub first_day_spend: Decimal,
}

/// A cached prediction, as stored (the value model's `Prediction` in the store's terms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    pub model_version: u64,
    pub as_of: NaiveDate,
    pub p_alive: f64,
    pub expected_purchases: f64,
    pub horizon_months: u32,
    pub expected_spend: Decimal,
    pub predicted_value: Decimal,
}

/// A customer's summary with its cached prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSummary {
    pub summary: SummaryRecord,
    #[serde(default)]
    pub prediction: Option<PredictionRecord>,
}

/// One customer's part of `Command::PutOrders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryChange {
    pub customer_id: String,
    /// The summary `summary` was computed from; `None`: the customer had none.
    pub base: Option<SummaryRecord>,
    /// The summary with the command's orders added, and its prediction.
    pub summary: StoredSummary,
    /// The purchase days these orders add.
    pub new_days: Vec<NaiveDate>,
}

/// One customer's part of `Command::PutPredictions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionChange {
    pub customer_id: String,
    /// The summary the prediction was made from: written only if it is still stored.
    pub base: SummaryRecord,
    pub prediction: Option<PredictionRecord>,
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

    /// Whether the customer has a purchase on `day` stored.
    pub fn has_purchase_day(&self, customer_id: &str, day: NaiveDate) -> Result<bool, StoreError> {
        Ok(self.order_days.contains_key(day_key(customer_id, day))?)
    }

    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Add new orders with their customers' summaries, all or nothing; `Stale` (nothing
    /// written) if the active model is not `model_version`, a summary is not its change's
    /// `base`, or an order id is stored already.
    pub(super) fn apply_put_orders(
        &self,
        orders: &[StoredOrder],
        summaries: &[SummaryChange],
        model_version: Option<u64>,
    ) -> Result<Applied, StoreError> {
        let trees = (
            &self.orders,
            &self.order_days,
            &self.order_summaries,
            &self.customer_orders,
            &self.meta,
        );
        let result = trees.transaction(|(tx_orders, tx_days, tx_summaries, tx_index, tx_meta)| {
            let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
            let stale = |why: String| abort(StoreError::Stale(why));
            let active = tx_meta.get(super::models::ACTIVE)?;
            if super::models::version_of(active.as_deref()) != model_version {
                return Err(stale("the active value model changed".into()));
            }
            for c in summaries {
                let stored = match tx_summaries.get(c.customer_id.as_bytes())? {
                    Some(v) => Some(from_json::<StoredSummary>(&v).map_err(abort)?.summary),
                    None => None,
                };
                if stored != c.base {
                    return Err(stale(format!(
                        "customer `{}` has new orders",
                        c.customer_id
                    )));
                }
                tx_summaries.insert(
                    c.customer_id.as_bytes(),
                    to_json(&c.summary).map_err(abort)?,
                )?;
                for day in &c.new_days {
                    tx_days.insert(day_key(&c.customer_id, *day), &[])?;
                }
            }
            for o in orders {
                if tx_orders.get(o.order_id.as_bytes())?.is_some() {
                    return Err(stale(format!("order `{}` is stored already", o.order_id)));
                }
                tx_orders.insert(o.order_id.as_bytes(), to_json(o).map_err(abort)?)?;
                tx_index.insert(index_key(&o.customer_id, &o.order_id), &[])?;
            }
            Ok(!orders.is_empty())
        });
        match result {
            Ok(true) => Ok(Applied::Done),
            Ok(false) => Ok(Applied::Unchanged),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    /// Write predictions of model `model_version`, each only if its customer's summary is
    /// still its `base` (otherwise a `PutOrders` made with this model wrote a newer one).
    /// Nothing is written once another model is active.
    pub(super) fn apply_put_predictions(
        &self,
        model_version: u64,
        predictions: &[PredictionChange],
    ) -> Result<Applied, StoreError> {
        let trees = (&self.order_summaries, &self.meta);
        let result = trees.transaction(|(tx_summaries, tx_meta)| {
            let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
            let active = tx_meta.get(super::models::ACTIVE)?;
            if super::models::version_of(active.as_deref()) != Some(model_version) {
                return Ok(false);
            }
            let mut written = false;
            for p in predictions {
                let Some(v) = tx_summaries.get(p.customer_id.as_bytes())? else {
                    continue;
                };
                let mut stored: StoredSummary = from_json(&v).map_err(abort)?;
                if stored.summary != p.base || stored.prediction == p.prediction {
                    continue;
                }
                stored.prediction = p.prediction.clone();
                tx_summaries.insert(p.customer_id.as_bytes(), to_json(&stored).map_err(abort)?)?;
                written = true;
            }
            Ok(written)
        });
        match result {
            Ok(true) => Ok(Applied::Done),
            Ok(false) => Ok(Applied::Unchanged),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
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
