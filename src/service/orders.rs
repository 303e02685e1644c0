//! Order ingestion, shared by `POST /v1/orders` and `kulanz import orders`: checks each
//! order against what is stored, then writes them in batches (service/order_history.rs).
//! Memory stays flat whatever the input size; a bad line is reported and skipped.
//!
//! Idempotency: an order id already stored with the same content is counted as a
//! duplicate and changes nothing; with different content it is rejected (`order_conflict`
//! for a single order), so a retried upload never counts an order twice.

use super::order_ids::ContentIds;
use super::order_parse::{parse_json, Columns};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::service::ndjson_lines::LineError;
use crate::service::ndjson_lines::{Line, LineSplitter};
use crate::store::orders::StoredOrder;
use crate::store::Store;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Orders per batch (one sled transaction each).
const BATCH: usize = 1000;
const MAX_LISTED_ERRORS: usize = 100;

/// What an order ingestion did.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct OrderSummaryReport {
    /// New orders stored.
    pub imported: u64,
    /// Orders already stored with the same content: skipped.
    pub duplicates: u64,
    pub rejected: u64,
    /// The first 100 rejected lines.
    pub errors: Vec<LineError>,
}

/// Why one order was not taken.
#[derive(Debug)]
pub enum Refusal {
    Invalid(FieldError),
    /// Same id, different content.
    Conflict(String),
}

/// Accumulates orders and writes them in batches.
pub struct OrderIngest<'a> {
    store: &'a Store,
    columns: Columns,
    batch: Vec<StoredOrder>,
    /// Within the current batch: order ids, and each customer's currency, since the store
    /// does not see the batch until it is written.
    batch_ids: HashMap<String, usize>,
    batch_currency: HashMap<String, String>,
    report: OrderSummaryReport,
    /// With `--order-column none`: the ids given so far from content and occurrence.
    content_ids: Option<ContentIds>,
    /// NDJSON: the line not yet ended and the lines seen so far.
    lines: LineSplitter,
}

impl<'a> OrderIngest<'a> {
    pub fn new(store: &'a Store, columns: Columns) -> Self {
        let content_ids = columns.ids_from_content().then(ContentIds::default);
        OrderIngest {
            store,
            columns,
            batch: Vec::with_capacity(BATCH),
            batch_ids: HashMap::new(),
            batch_currency: HashMap::new(),
            report: OrderSummaryReport::default(),
            content_ids,
            lines: LineSplitter::default(),
        }
    }

    /// Check one order and queue it; `Ok(false)` for a duplicate.
    pub fn offer(&mut self, o: StoredOrder) -> Result<Result<bool, Refusal>, AppError> {
        let existing = match self.batch_ids.get(&o.order_id) {
            Some(i) => self.batch.get(*i).cloned(),
            None => self.store.get_order(&o.order_id)?,
        };
        if let Some(old) = existing {
            if old == o {
                self.report.duplicates += 1;
                return Ok(Ok(false));
            }
            return Ok(Err(Refusal::Conflict(format!(
                "order `{}` is already recorded with different content",
                crate::money::truncate(&o.order_id)
            ))));
        }
        let currency = match self.batch_currency.get(&o.customer_id) {
            Some(c) => Some(c.clone()),
            None => self
                .store
                .get_order_summary(&o.customer_id)?
                .map(|s| s.summary.currency),
        };
        if let Some(c) = currency {
            if c != o.currency {
                return Ok(Err(Refusal::Invalid(FieldError::new(
                    "amount.currency",
                    format!(
                        "`{}` differs from this customer's order currency `{c}`",
                        o.currency
                    ),
                ))));
            }
        }
        self.batch_currency
            .insert(o.customer_id.clone(), o.currency.clone());
        self.batch_ids.insert(o.order_id.clone(), self.batch.len());
        self.batch.push(o);
        if self.batch.len() >= BATCH {
            self.write_batch()?;
        }
        Ok(Ok(true))
    }

    /// Take one parsed line (or its error), recording a refusal in the report.
    pub fn record(
        &mut self,
        line: u64,
        parsed: Result<StoredOrder, FieldError>,
    ) -> Result<(), AppError> {
        let outcome = match parsed {
            Ok(mut o) => {
                if let Some(ids) = &mut self.content_ids {
                    ids.assign(&mut o);
                }
                self.offer(o)?
            }
            Err(e) => Err(Refusal::Invalid(e)),
        };
        if let Err(refusal) = outcome {
            self.report.rejected += 1;
            if self.report.errors.len() < MAX_LISTED_ERRORS {
                let message = match refusal {
                    Refusal::Invalid(e) => e.to_string(),
                    Refusal::Conflict(m) => m,
                };
                self.report.errors.push(LineError { line, message });
            }
        }
        Ok(())
    }

    /// Take the next chunk of an NDJSON stream, wherever it splits lines.
    pub fn ndjson_bytes(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        // Out of `self` while it runs, so each line can be recorded on `self`.
        let mut lines = std::mem::take(&mut self.lines);
        let fed = lines.feed(chunk, |n, l| self.ndjson_line(n, l));
        self.lines = lines;
        fed
    }

    fn ndjson_line(&mut self, line: u64, bytes: Line<'_>) -> Result<(), AppError> {
        let parsed = bytes.and_then(|b| parse_json(&self.columns, b));
        self.record(line, parsed)
    }

    fn write_batch(&mut self) -> Result<(), AppError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let orders = std::mem::take(&mut self.batch);
        let n = orders.len() as u64;
        super::order_history::put_orders(self.store, &orders)?;
        self.report.imported += n;
        self.batch = Vec::with_capacity(BATCH);
        self.batch_ids.clear();
        self.batch_currency.clear();
        Ok(())
    }

    /// Write what is left. The caller flushes before acknowledging.
    pub fn finish(mut self) -> Result<OrderSummaryReport, AppError> {
        let mut lines = std::mem::take(&mut self.lines);
        lines.finish(|n, l| self.ndjson_line(n, l))?;
        self.write_batch()?;
        Ok(self.report)
    }
}
