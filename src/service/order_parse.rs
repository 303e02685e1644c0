//! Parsing one order from an NDJSON line or a CSV row, with configurable field names.
//!
//! The API's form is `{"order_id", "customer_id", "at", "amount": {"amount", "currency"}}`.
//! Imports from other systems may name the fields differently ([`Columns`]) and give the
//! amount as a plain decimal string with a separate currency field or a default currency.
//! Amounts are always decimal strings: a JSON number is refused, as everywhere in kulanz.

use crate::domain::customer::check_customer_id;
use crate::domain::{check_id, FieldError};
use crate::money::{parse_amount, truncate, Currency};
use crate::store::orders::StoredOrder;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

/// The field (JSON key or CSV column) names of an order.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Columns {
    /// Field holding the customer id.
    #[arg(long = "customer-column", default_value = "customer_id")]
    pub customer_id: String,
    /// Field holding the order id (orders are idempotent by it); `none` when the export has
    /// none: each line then gets an id from its content and occurrence (docs/value.md).
    #[arg(long = "order-column", default_value = "order_id")]
    pub order_id: String,
    /// Field holding the order time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or `YYYY-MM-DD`.
    #[arg(long = "at-column", default_value = "at")]
    pub at: String,
    /// Field holding the amount: a decimal string (negative for a refund) or a money object.
    #[arg(long = "amount-column", default_value = "amount")]
    pub amount: String,
    /// Field holding the currency when the amount is a plain decimal.
    #[arg(long = "currency-column", default_value = "currency")]
    pub currency: String,
    /// Currency of plain amounts when there is no currency field.
    #[arg(long = "default-currency")]
    pub default_currency: Option<String>,
}

/// The `--order-column` value of an export without order ids.
pub const NO_ORDER_COLUMN: &str = "none";

impl Columns {
    /// Whether order ids come from each line's content (`--order-column none`) rather than
    /// from a field.
    pub fn ids_from_content(&self) -> bool {
        self.order_id == NO_ORDER_COLUMN
    }
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            customer_id: "customer_id".into(),
            order_id: "order_id".into(),
            at: "at".into(),
            amount: "amount".into(),
            currency: "currency".into(),
            default_currency: None,
        }
    }
}

/// Parse an order time; dates without a time are midnight UTC.
pub fn parse_at(field: &str, s: &str) -> Result<DateTime<Utc>, FieldError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Some(t) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t.and_utc());
    }
    Err(FieldError::new(
        field,
        format!(
            "expected an RFC 3339 time or a date `YYYY-MM-DD`, got `{}`",
            truncate(s)
        ),
    ))
}

/// Build a checked order from its textual parts. With ids from content, `order_id` is
/// empty here and given by the ingestion, which counts occurrences.
fn order(
    cols: &Columns,
    order_id: String,
    customer_id: String,
    at: &str,
    amount: &str,
    currency: Option<String>,
) -> Result<StoredOrder, FieldError> {
    if !cols.ids_from_content() {
        check_id(&cols.order_id, &order_id)?;
    }
    check_customer_id(&cols.customer_id, &customer_id)?;
    let at = parse_at(&cols.at, at)?;
    let amount = parse_amount(amount).map_err(|e| FieldError::new(&cols.amount, e))?;
    let currency = currency
        .or_else(|| cols.default_currency.clone())
        .ok_or_else(|| FieldError::new(&cols.currency, "is required"))?;
    let currency: Currency = currency
        .parse()
        .map_err(|e: String| FieldError::new(&cols.currency, e))?;
    Ok(StoredOrder {
        order_id,
        customer_id,
        at,
        amount,
        currency: currency.to_string(),
    })
}

fn string(obj: &serde_json::Map<String, Value>, key: &str) -> Result<String, FieldError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(FieldError::new(key, "must be a string")),
        None => Err(FieldError::new(key, "is required")),
    }
}

/// Parse one JSON order (a whole body or an NDJSON line).
pub fn parse_json(cols: &Columns, bytes: &[u8]) -> Result<StoredOrder, FieldError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| FieldError::new("$", format!("not valid JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(FieldError::new("$", "expected a JSON object"));
    };
    let (amount, currency) = match obj.get(&cols.amount) {
        Some(Value::Object(m)) => {
            let dto: crate::money::MoneyDto = serde_json::from_value(Value::Object(m.clone()))
                .map_err(|e| FieldError::new(&cols.amount, e.to_string()))?;
            (dto.amount, Some(dto.currency))
        }
        Some(Value::String(s)) => (s.clone(), string(&obj, &cols.currency).ok()),
        Some(_) => {
            return Err(FieldError::new(
                &cols.amount,
                "must be a decimal string or {\"amount\", \"currency\"}, never a JSON number",
            ))
        }
        None => return Err(FieldError::new(&cols.amount, "is required")),
    };
    let order_id = if cols.ids_from_content() {
        String::new()
    } else {
        string(&obj, &cols.order_id)?
    };
    order(
        cols,
        order_id,
        string(&obj, &cols.customer_id)?,
        &string(&obj, &cols.at)?,
        &amount,
        currency,
    )
}

/// Where each needed column is in a CSV header.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    /// `None` with ids from content.
    order_id: Option<usize>,
    customer_id: usize,
    at: usize,
    amount: usize,
    currency: Option<usize>,
}

impl CsvLayout {
    /// Find the columns; a missing one is named.
    pub fn new(cols: &Columns, header: &csv::StringRecord) -> Result<Self, String> {
        let find = |name: &str| header.iter().position(|h| h.trim() == name);
        let need = |name: &str| find(name).ok_or_else(|| format!("missing column `{name}`"));
        let currency = find(&cols.currency);
        if currency.is_none() && cols.default_currency.is_none() {
            return Err(format!(
                "missing column `{}` (or pass --default-currency)",
                cols.currency
            ));
        }
        let order_id = if cols.ids_from_content() {
            None
        } else {
            Some(find(&cols.order_id).ok_or_else(|| {
                format!(
                    "missing column `{}` (or pass --order-column {NO_ORDER_COLUMN} to derive ids from each line's content)",
                    cols.order_id
                )
            })?)
        };
        Ok(CsvLayout {
            order_id,
            customer_id: need(&cols.customer_id)?,
            at: need(&cols.at)?,
            amount: need(&cols.amount)?,
            currency,
        })
    }

    /// Parse one row.
    pub fn parse(
        &self,
        cols: &Columns,
        row: &csv::StringRecord,
    ) -> Result<StoredOrder, FieldError> {
        let cell = |i: usize| row.get(i).map(str::trim).unwrap_or("").to_string();
        order(
            cols,
            self.order_id.map(cell).unwrap_or_default(),
            cell(self.customer_id),
            &cell(self.at),
            &cell(self.amount),
            self.currency.map(cell).filter(|c| !c.is_empty()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_form_and_a_renamed_flat_form_both_parse() {
        let api = parse_json(
            &Columns::default(),
            br#"{"order_id":"o1","customer_id":"c1","at":"2026-01-02T10:00:00Z","amount":{"amount":"12.50","currency":"EUR"}}"#,
        )
        .unwrap();
        assert_eq!(api.amount.to_string(), "12.50");
        let cols = Columns {
            customer_id: "client".into(),
            amount: "total".into(),
            default_currency: Some("EUR".into()),
            ..Columns::default()
        };
        let flat = parse_json(
            &cols,
            br#"{"order_id":"o2","client":"c1","at":"2026-01-02","total":"-3.00"}"#,
        )
        .unwrap();
        assert_eq!(flat.amount.to_string(), "-3.00");
        assert_eq!(flat.currency, "EUR");
    }

    #[test]
    fn numbers_and_bad_times_are_refused_by_field() {
        let cols = Columns::default();
        let e = parse_json(
            &cols,
            br#"{"order_id":"o","customer_id":"c","at":"2026-01-02","amount":12.5}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "amount");
        let e = parse_json(&cols, br#"{"order_id":"o","customer_id":"c","at":"yesterday","amount":{"amount":"1.00","currency":"EUR"}}"#)
            .unwrap_err();
        assert_eq!(e.field, "at");
    }

    #[test]
    fn csv_rows_use_the_configured_columns() {
        let cols = Columns {
            at: "date".into(),
            default_currency: Some("USD".into()),
            ..Columns::default()
        };
        let header = csv::StringRecord::from(vec!["customer_id", "order_id", "date", "amount"]);
        let layout = CsvLayout::new(&cols, &header).unwrap();
        let row = csv::StringRecord::from(vec!["c1", "o1", "2026-03-04 12:00:00", "9.99"]);
        let o = layout.parse(&cols, &row).unwrap();
        assert_eq!(
            (o.currency.as_str(), o.at.to_rfc3339().as_str()),
            ("USD", "2026-03-04T12:00:00+00:00")
        );
        let no_currency = CsvLayout::new(&Columns::default(), &header).unwrap_err();
        assert!(
            no_currency.starts_with("missing column `currency`"),
            "{no_currency}"
        );
    }
}
